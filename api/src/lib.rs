//! The gateway: configuration, database connections, the HTTP server and the
//! CLI commands. `main.rs` only parses the command line and calls [`run`].

pub mod config;
pub mod db;
pub mod server;

use anyhow::{Context, bail};
use tokio::net::TcpListener;

use crate::config::{Cli, Command, Config};
use crate::server::{AppState, MountedDomain};

/// Runs one CLI command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate { domain } => {
            let domains = match domain {
                Some(d) => {
                    if !erd::domain_names().any(|known| known == d) {
                        bail!("unknown domain `{d}`");
                    }
                    vec![d]
                }
                None => cli
                    .config
                    .mounted_domains()?
                    .into_iter()
                    .map(String::from)
                    .collect(),
            };
            for domain in domains {
                let db = db::connect(&cli.config, &domain).await?;
                let pending = migration::pending(&db, &domain).await?;
                migration::up(&db, &domain)
                    .await
                    .with_context(|| format!("migrating {domain}"))?;
                tracing::info!(domain, applied = pending, "migrated");
                println!("{domain}: {pending} migration(s) applied");
            }
            Ok(())
        }
        Command::Erd { domain } => {
            let model = erd::load(&domain)?;
            print!("{}", erd::to_mermaid(&model));
            Ok(())
        }
    }
}

/// Connects and prepares every mounted domain. On the embedded SQLite
/// default, pending migrations are applied; on PostgreSQL, migrations are an
/// explicit step and a pending one stops the start.
pub async fn prepare(config: &Config) -> anyhow::Result<AppState> {
    let mut domains = Vec::new();
    for name in config.mounted_domains()? {
        let db = db::connect(config, name).await?;
        let pending = migration::pending(&db, name).await?;
        if pending > 0 {
            if config.database_url.is_some() {
                bail!("{name}: {pending} migration(s) pending: run `gateway migrate` first");
            }
            migration::up(&db, name)
                .await
                .with_context(|| format!("migrating {name}"))?;
            tracing::info!(
                domain = name,
                applied = pending,
                "migrated the embedded database"
            );
        }
        domains.push(MountedDomain { name, db });
    }
    Ok(AppState {
        domains: std::sync::Arc::new(domains),
    })
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let state = prepare(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let names: Vec<&str> = state.domains.iter().map(|d| d.name).collect();
    tracing::info!(listen = %config.listen, domains = ?names, "gateway listening");
    axum::serve(listener, server::router(state))
        .with_graceful_shutdown(server::shutdown_signal())
        .await
        .context("serving HTTP")
}
