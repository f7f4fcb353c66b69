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

    /// Largest number of pooled database connections per domain (on
    /// PostgreSQL, of each of its two pools: reads, and writes).
    #[arg(
        long,
        env = "GATEWAY_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds a pooled database connection may stay unused before it is
    /// closed (on PostgreSQL; the write pool keeps one): a burst's
    /// connections do not hold the server's connection slots for ever.
    #[arg(
        long,
        env = "GATEWAY_DB_IDLE_SECONDS",
        default_value_t = 600,
        global = true
    )]
    pub db_idle_seconds: u64,

    /// Serve GraphiQL from this folder (filled by `cargo xtask
    /// graphiql-assets`) instead of a CDN, for air-gapped deployments.
    #[arg(long, env = "GATEWAY_GRAPHIQL_ASSETS", global = true)]
    pub graphiql_assets: Option<PathBuf>,

    /// Load the demo data set into empty databases. Defaults to on for the
    /// embedded SQLite databases and off on PostgreSQL.
    #[arg(long, env = "GATEWAY_DEMO_DATA", global = true)]
    pub demo_data: Option<bool>,

    /// Deepest nesting of a query.
    #[arg(long, env = "GATEWAY_MAX_DEPTH", default_value_t = 10, global = true)]
    pub max_depth: usize,

    /// Most fields a query may select, counting every nested field.
    #[arg(
        long,
        env = "GATEWAY_MAX_COMPLEXITY",
        default_value_t = 1000,
        global = true
    )]
    pub max_complexity: usize,

    /// Rows of a page when a list is given neither `first` nor `last`.
    #[arg(
        long,
        env = "GATEWAY_DEFAULT_PAGE_SIZE",
        default_value_t = 100,
        global = true
    )]
    pub default_page_size: u64,

    /// Most items a batch mutation (`createOrgUnits`, ...) takes.
    #[arg(
        long,
        env = "GATEWAY_MAX_BATCH_SIZE",
        default_value_t = 1000,
        global = true
    )]
    pub max_batch_size: usize,

    /// Largest `first` or `last` a list accepts.
    #[arg(
        long,
        env = "GATEWAY_MAX_PAGE_SIZE",
        default_value_t = 10_000,
        global = true
    )]
    pub max_page_size: u64,

    /// Seconds a caller's row-scope lookups (Iaso's org-unit roots, the
    /// account's versions and projects) are kept across requests. A write
    /// through this gateway to a table they read drops them at once; a
    /// change made elsewhere shows within this time. 0 reads them once per
    /// request.
    #[arg(
        long,
        env = "GATEWAY_SCOPE_CACHE_SECONDS",
        default_value_t = 5,
        global = true
    )]
    pub scope_cache_seconds: u64,

    /// Log JSON lines instead of text. `RUST_LOG` sets the filter
    /// (`RUST_LOG=sqlx::query=debug` logs every SQL statement).
    #[arg(long, env = "GATEWAY_LOG_JSON", global = true)]
    pub log_json: bool,

    // Authentication: JWT keys, algorithms and claims (`GATEWAY_JWT_*`,
    // `GATEWAY_AUTH_CONFIG`), documented in `auth/config.rs`.
    #[command(flatten)]
    pub jwt: crate::auth::JwtConfig,
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
    /// Write each domain's GraphQL SDL: iaso to `schema.graphql`, the
    /// others to `schemas/<domain>.graphql`.
    Schema {
        /// The folder to write into.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        /// Write nothing; fail if a file differs from the built schema.
        #[arg(long)]
        check: bool,
    },
    /// Print a domain's live model as a mermaid erDiagram.
    Erd {
        /// The domain, e.g. `iaso`.
        domain: String,
    },
    /// Fill a domain's empty database with a large, realistic and
    /// deterministic data set, migrating it first: `gateway seed --domain
    /// iaso --org-units 100000` (about 10 submissions per facility).
    Seed {
        /// The domain; only `iaso` has a generator.
        #[arg(long, default_value = "iaso")]
        domain: String,
        /// Org units in the pyramid, all levels together (at least 20).
        #[arg(long, default_value_t = 1000)]
        org_units: u64,
        /// Average submissions per health facility.
        #[arg(long, default_value_t = 10)]
        instances_per_unit: u32,
        /// The PRNG seed: the same seed gives the same rows.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print a JWT for a domain, signed with the configured (or generated)
    /// secret: `gateway token --domain iaso --sub 42 --tenant 1 --roles
    /// admin,viewer --ttl 3600`. Only the token is printed.
    Token {
        /// The domain the token is for (its `aud` claim), e.g. `iaso`.
        #[arg(long)]
        domain: String,
        /// The subject: the user's id.
        #[arg(long)]
        sub: String,
        /// The user's tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// The user's roles, comma-separated.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Lifetime in seconds: `exp` is now + ttl.
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
        ttl: u64,
    },
}

impl Config {
    /// The query limits.
    pub fn limits(&self) -> crate::engine::Limits {
        crate::engine::Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            page: crate::engine::pagination::PageLimits {
                default_size: self.default_page_size,
                max_size: self.max_page_size,
            },
            max_batch: self.max_batch_size,
        }
    }

    /// Whether empty databases get the demo data.
    pub fn demo_data_enabled(&self) -> bool {
        self.demo_data.unwrap_or(self.database_url.is_none())
    }

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
