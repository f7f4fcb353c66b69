//! The gateway: configuration, database connections, the schema engine, the
//! HTTP server and the CLI commands. `main.rs` only parses the command line
//! and calls [`run`].

pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod domains;
pub mod engine;
pub mod error;
pub mod policy;
pub mod reads;
pub mod seed;
pub mod server;
pub mod web;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::net::TcpListener;

use crate::config::{Cli, Command, Config};
use crate::server::{AppState, MountedDomain};
use crate::web::GraphiqlAssets;

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
        Command::Schema { out_dir, check } => {
            let mut stale = Vec::new();
            for domain in erd::domain_names() {
                let path = out_dir.join(sdl_path(domain));
                let sdl = domain_sdl(domain)?;
                if check {
                    if std::fs::read_to_string(&path).ok().as_deref() != Some(sdl.as_str()) {
                        stale.push(path.display().to_string());
                    }
                } else {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    std::fs::write(&path, sdl)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("wrote {}", path.display());
                }
            }
            if !stale.is_empty() {
                bail!(
                    "SDL differs from the built schema: {} (run `gateway schema`)",
                    stale.join(", ")
                );
            }
            Ok(())
        }
        Command::Erd { domain } => {
            let model = erd::load(&domain)?;
            print!("{}", erd::to_mermaid(&model));
            Ok(())
        }
        Command::Seed {
            domain,
            org_units,
            instances_per_unit,
            seed,
        } => {
            let options = seed::SeedOptions {
                org_units,
                instances_per_unit,
                seed,
            };
            let report = seed::run(&cli.config, &domain, &options).await?;
            for (table, rows) in &report.tables {
                println!("{table:<30} {rows:>10}");
            }
            let seconds = report.elapsed.as_secs_f64();
            println!(
                "{} rows in {seconds:.1} s ({:.0} rows/s)",
                report.total(),
                report.total() as f64 / seconds.max(1e-3)
            );
            Ok(())
        }
        Command::Token {
            domain,
            sub,
            tenant,
            roles,
            ttl,
        } => {
            let token =
                auth::issue_token(&cli.config, &domain, &sub, tenant.as_deref(), &roles, ttl)?;
            println!("{token}");
            Ok(())
        }
    }
}

/// Where a domain's SDL is checked in, relative to the repository root.
pub fn sdl_path(domain: &str) -> std::path::PathBuf {
    if domain == "iaso" {
        Path::new("schema.graphql").to_path_buf()
    } else {
        Path::new("schemas").join(format!("{domain}.graphql"))
    }
}

/// A domain's SDL, built without a database.
pub fn domain_sdl(domain: &str) -> anyhow::Result<String> {
    let erd_model = erd::load(domain)?;
    let mut model = engine::Model::build(&erd_model).map_err(anyhow::Error::msg)?;
    domains::shape(domain, &mut model).map_err(anyhow::Error::msg)?;
    let model = Arc::new(model);
    let hooks = Arc::new(domains::hooks(domain, &model));
    let policy = policy::Policy::load(&model).map_err(anyhow::Error::msg)?;
    let schema = engine::build(model, &erd_model, &policy, hooks, engine::Limits::default())?;
    Ok(schema.sdl())
}

/// Connects and prepares every mounted domain. On the embedded SQLite
/// default, pending migrations are applied; on PostgreSQL, migrations are an
/// explicit step and a pending one stops the start.
pub async fn prepare(config: &Config) -> anyhow::Result<AppState> {
    let limits = config.limits();
    let auth = Arc::new(auth::load_keys(config)?);
    let mut domains = Vec::new();
    for name in config.mounted_domains()? {
        let (db, statements) = db::connect_counted(config, name).await?;
        let reads = db::reads(config, name, &db, statements.clone())?;
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
        if config.demo_data_enabled() && demo::load_if_empty(name, &db).await? {
            tracing::info!(domain = name, "loaded the demo data");
        }
        let erd_model = erd::load(name)?;
        let mut model = engine::Model::build(&erd_model).map_err(anyhow::Error::msg)?;
        domains::shape(name, &mut model).map_err(anyhow::Error::msg)?;
        let model = Arc::new(model);
        let hooks = Arc::new(domains::hooks(name, &model));
        let policy = policy::Policy::load(&model).map_err(anyhow::Error::msg)?;
        let scopes = Arc::new(policy::ScopeCache::new(
            &model,
            &policy,
            std::time::Duration::from_secs(config.scope_cache_seconds),
        ));
        let schema = engine::build(model.clone(), &erd_model, &policy, hooks, limits)
            .with_context(|| format!("building the {name} schema"))?;
        domains.push(MountedDomain {
            name,
            db,
            reads,
            model,
            schema,
            policy,
            scopes,
            statements,
            plain_lists: Default::default(),
        });
    }
    let graphiql = match &config.graphiql_assets {
        Some(_) => GraphiqlAssets::Local {
            base: "/assets".into(),
        },
        None => GraphiqlAssets::Cdn,
    };
    Ok(AppState {
        domains: Arc::new(domains),
        limits,
        graphiql: Arc::new(graphiql),
        auth,
        lockout: Arc::default(),
    })
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let state = prepare(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let names: Vec<&str> = state.domains.iter().map(|d| d.name).collect();
    tracing::info!(listen = %config.listen, domains = ?names, "gateway listening; GraphiQL at /graphiql");
    axum::serve(
        listener,
        server::router(state, config.graphiql_assets.clone())
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(server::shutdown_signal())
    .await
    .context("serving HTTP")
}
