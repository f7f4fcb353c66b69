//! Database connections. Each domain has its own namespace: a SQLite file
//! `<data dir>/<domain>.sqlite` by default, or the PostgreSQL schema
//! `<prefix><domain>` when a PostgreSQL URL is configured.

use std::time::Duration;

use anyhow::{Context, bail};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::reads::{PgReads, Reads};

/// Where a domain's data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    SqliteFile(std::path::PathBuf),
    PostgresSchema(String),
}

pub fn location(config: &Config, domain: &str) -> anyhow::Result<Location> {
    if config.database_url.is_some() {
        let schema = format!("{}{domain}", config.pg_schema_prefix);
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !schema.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            bail!(
                "`{schema}` is not a usable schema name: GATEWAY_PG_SCHEMA_PREFIX takes lowercase letters, digits and `_`"
            );
        }
        Ok(Location::PostgresSchema(schema))
    } else {
        Ok(Location::SqliteFile(
            config.data_dir.join(format!("{domain}.sqlite")),
        ))
    }
}

/// Opens the pool of one domain, with a counter of the SQL statements it
/// runs (tests assert it; `RUST_LOG=sqlx::query=debug` logs them).
pub async fn connect_counted(
    config: &Config,
    domain: &str,
) -> anyhow::Result<(
    DatabaseConnection,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
)> {
    let mut db = connect(config, domain).await?;
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = counter.clone();
    db.set_metric_callback(move |_| {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    Ok((db, counter))
}

/// The configured PostgreSQL URL (empty when none is).
fn postgres_url(config: &Config) -> String {
    config
        .database_url
        .as_ref()
        .map(|u| u.expose_secret().to_string())
        .unwrap_or_default()
}

/// The pool a domain's reads go through: on PostgreSQL one of their own
/// ([`crate::reads`]), of the same size as `db`'s; on SQLite `db` itself.
pub fn reads(
    config: &Config,
    domain: &str,
    db: &DatabaseConnection,
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> anyhow::Result<Reads> {
    match location(config, domain)? {
        Location::SqliteFile(_) => Ok(Reads::Shared(db.clone())),
        Location::PostgresSchema(schema) => {
            let url = postgres_url(config);
            let pool = PgReads::new(
                &url,
                &schema,
                usize::try_from(config.db_max_connections).unwrap_or(usize::MAX),
                Duration::from_secs(10),
                idle(config),
                statements,
            )
            .context("GATEWAY_DATABASE_URL")?;
            Ok(Reads::Postgres(std::sync::Arc::new(pool)))
        }
    }
}

/// How long a pooled connection may stay unused (at least a second).
fn idle(config: &Config) -> Duration {
    Duration::from_secs(config.db_idle_seconds.max(1))
}

/// Opens the pool of one domain, creating its SQLite file or PostgreSQL
/// schema when missing.
pub async fn connect(config: &Config, domain: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = match location(config, domain)? {
        Location::SqliteFile(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating data dir {}", dir.display()))?;
            }
            ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()))
        }
        Location::PostgresSchema(schema) => {
            let url = postgres_url(config);
            let admin = Database::connect(
                ConnectOptions::new(url.clone())
                    .sqlx_logging(false)
                    .to_owned(),
            )
            .await
            .context("connecting to PostgreSQL (GATEWAY_DATABASE_URL)")?;
            admin
                .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await
                .with_context(|| format!("creating schema {schema}"))?;
            admin.close().await.ok();
            let mut options = ConnectOptions::new(url);
            options.set_schema_search_path(schema);
            options
        }
    };
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // A connection used in the last seconds is handed out as it is:
        // pinging on every checkout cost a round trip per statement (the
        // pool pings every connection when it comes back anyway). One idle
        // longer may have been dropped by the server or a proxy: ping it.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .idle_timeout(idle(config))
        // Statements are logged at debug, under `sqlx::query`.
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug);
    Database::connect(options)
        .await
        .with_context(|| format!("connecting the `{domain}` database"))
}
