//! The gateway's configuration: flags, each with a `GATEWAY_*` variable.
//! The doc comments are the `--help`; `.env.example` lists the same names.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "GraphQL API gateway over relational domain models"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "GATEWAY_LISTEN",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub listen: SocketAddr,

    /// Folder of the embedded SQLite databases (one file per domain) and of
    /// stored files.
    #[arg(
        long,
        env = "GATEWAY_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL URL. When set, it replaces SQLite for every domain; each
    /// domain lives in its own schema.
    #[arg(
        long,
        env = "GATEWAY_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<SecretString>,

    /// Prefix of the PostgreSQL schema names: domain `iaso` lives in schema
    /// `<prefix>iaso`.
    #[arg(
        long,
        env = "GATEWAY_PG_SCHEMA_PREFIX",
        default_value = "",
        global = true
    )]
    pub pg_schema_prefix: String,

    /// Domains to mount, comma-separated. All of them by default.
    #[arg(long, env = "GATEWAY_DOMAINS", value_delimiter = ',', global = true)]
    pub domains: Vec<String>,

    /// Largest number of pooled database connections per domain.
    #[arg(
        long,
        env = "GATEWAY_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// Log JSON lines instead of text. `RUST_LOG` sets the filter
    /// (`RUST_LOG=sqlx::query=debug` logs every SQL statement).
    #[arg(long, env = "GATEWAY_LOG_JSON", global = true)]
    pub log_json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default). On the embedded SQLite default, pending
    /// migrations are applied first; on PostgreSQL, run `migrate` first.
    Serve,
    /// Apply pending migrations, of every mounted domain or of one.
    Migrate {
        /// Only this domain.
        domain: Option<String>,
    },
    /// Print a domain's live model as a mermaid erDiagram.
    Erd {
        /// The domain, e.g. `iaso`.
        domain: String,
    },
}

impl Config {
    /// The mounted domains, in the order the gateway knows them, after
    /// checking every requested name.
    pub fn mounted_domains(&self) -> anyhow::Result<Vec<&'static str>> {
        let known: Vec<&'static str> = erd::domain_names().collect();
        if let Some(unknown) = self.domains.iter().find(|d| !known.contains(&d.as_str())) {
            anyhow::bail!(
                "unknown domain `{unknown}` in GATEWAY_DOMAINS; known: {}",
                known.join(", ")
            );
        }
        Ok(known
            .into_iter()
            .filter(|d| self.domains.is_empty() || self.domains.iter().any(|m| m == d))
            .collect())
    }
}
