//! Test support: a gateway on its own database, per test.
//!
//! Each test gets a fresh namespace: a temporary folder of SQLite files, or
//! a unique PostgreSQL schema prefix (`t<random>_iaso`, ...) dropped when the
//! test ends. PostgreSQL tests run when `GATEWAY_TEST_DATABASE_URL` is set;
//! with `GATEWAY_TEST_REQUIRE_POSTGRES=1` (as CI sets it) a missing URL fails
//! them instead of skipping them.

// Test support: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fixtures;

use std::net::SocketAddr;
use std::path::PathBuf;

use gateway::config::Config;
use gateway::server::AppState;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, FromQueryResult, Statement,
};
use secrecy::SecretString;
use serde_json::Value;
use tempfile::TempDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use, if any.
pub fn postgres_url() -> Option<String> {
    match std::env::var("GATEWAY_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required = std::env::var("GATEWAY_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "GATEWAY_TEST_REQUIRE_POSTGRES=1 but GATEWAY_TEST_DATABASE_URL is not set: PostgreSQL tests must not be skipped"
            );
            eprintln!("GATEWAY_TEST_DATABASE_URL is not set: skipping a PostgreSQL test");
            None
        }
    }
}

/// The JWT secret of every test gateway (PostgreSQL refuses to start
/// without a key). Tests that need other keys set `config.jwt` in
/// [`TestApp::spawn_with`].
pub const TEST_JWT_SECRET: &str = "gateway-tests-jwt-secret-do-not-use-elsewhere";

/// The role of a domain that reaches every row: what tests use unless they
/// test authorization itself (each domain's policy, `api/policies/`).
pub fn operator_role(domain: &str) -> &'static str {
    match domain {
        "telemetry" => "superuser",
        "gans" => "admin",
        _ => "root",
    }
}

/// A token for `domain` signed with [`TEST_JWT_SECRET`], valid for an hour:
/// `sub` and `tenant` only where given.
pub fn token(domain: &str, sub: Option<&str>, tenant: Option<&str>, roles: &[&str]) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let mut claims = serde_json::json!({ "aud": domain, "exp": exp, "roles": roles });
    if let Some(sub) = sub {
        claims["sub"] = sub.into();
    }
    if let Some(tenant) = tenant {
        claims["tenant"] = tenant.into();
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

/// The operator's token of `domain` (no subject, every tenant).
pub fn operator_token(domain: &str) -> String {
    token(domain, None, None, &[operator_role(domain)])
}

/// A database namespace of its own, removed when dropped.
pub struct TestDb {
    pub backend: Backend,
    pub config: Config,
    _dir: TempDir,
    schemas: Vec<String>,
}

impl TestDb {
    /// `None` when the backend is PostgreSQL and no server is configured.
    pub fn new(backend: Backend, domains: &[&str]) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        // Every default as `gateway` itself has it, then this test's own
        // namespace and settings.
        let mut config = <gateway::config::Cli as clap::Parser>::parse_from(["gateway"]).config;
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = dir.path().join("data");
        config.database_url = None;
        config.pg_schema_prefix = String::new();
        config.domains = domains.iter().map(|d| d.to_string()).collect();
        config.db_max_connections = 5;
        config.demo_data = Some(false);
        config.jwt.secret = Some(SecretString::from(TEST_JWT_SECRET));
        let mut schemas = Vec::new();
        if backend == Backend::Postgres {
            let url = postgres_url()?;
            let prefix = format!("t{}_", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            schemas = erd::domain_names()
                .map(|d| format!("{prefix}{d}"))
                .collect();
            config.database_url = Some(SecretString::from(url));
            config.pg_schema_prefix = prefix;
        }
        Some(Self {
            backend,
            config,
            _dir: dir,
            schemas,
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.config.data_dir.clone()
    }

    /// A connection to one domain's namespace (creating it if needed).
    pub async fn connect(&self, domain: &str) -> DatabaseConnection {
        gateway::db::connect(&self.config, domain).await.unwrap()
    }

    /// Connects and applies every migration of `domain`.
    pub async fn migrated(&self, domain: &str) -> DatabaseConnection {
        let db = self.connect(domain).await;
        migration::up(&db, domain).await.unwrap();
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(url) = self
            .config
            .database_url
            .as_ref()
            .map(|u| secrecy::ExposeSecret::expose_secret(u).to_string())
        else {
            return;
        };
        let schemas = std::mem::take(&mut self.schemas);
        // Drop runs inside the test's runtime: clean up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(db) = Database::connect(url).await {
                    for schema in schemas {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                            ))
                            .await;
                    }
                    let _ = db.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A gateway serving HTTP on an ephemeral port, on its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
}

impl TestApp {
    /// Starts the gateway with `domains` mounted; `None` where the backend
    /// is not available (see [`postgres_url`]).
    pub async fn spawn(backend: Backend, domains: &[&str]) -> Option<Self> {
        Self::spawn_with(backend, domains, |_| {}).await
    }

    /// Starts the gateway with the demo data loaded.
    pub async fn spawn_with_demo(backend: Backend, domains: &[&str]) -> Option<Self> {
        Self::spawn_with(backend, domains, |c| c.demo_data = Some(true)).await
    }

    /// Starts the gateway after `configure` has adjusted its configuration.
    pub async fn spawn_with(
        backend: Backend,
        domains: &[&str],
        configure: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        // Server-side logs (internal errors) in the test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let mut db = TestDb::new(backend, domains)?;
        configure(&mut db.config);
        for domain in domains {
            db.migrated(domain).await;
        }
        let state = gateway::prepare(&db.config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = gateway::server::router(state.clone(), db.config.graphiql_assets.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Some(Self {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            state,
            db,
        })
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Posts a GraphQL request to `/<domain>/graphql` as the domain's
    /// operator ([`operator_token`]); returns the whole response body
    /// (`data` and `errors`).
    pub async fn graphql(&self, domain: &str, query: &str, variables: Value) -> Value {
        self.graphql_as(domain, Some(&operator_token(domain)), query, variables)
            .await
    }

    /// Posts a GraphQL request with `token`, or anonymously.
    pub async fn graphql_as(
        &self,
        domain: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = self
            .client
            .post(format!("{}/{domain}/graphql", self.base))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// As [`Self::graphql`], the response body as sent (keys in order).
    pub async fn graphql_text(&self, domain: &str, query: &str, variables: Value) -> String {
        self.client
            .post(format!("{}/{domain}/graphql", self.base))
            .bearer_auth(operator_token(domain))
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A counter of `GET /metrics`, for one domain.
    pub async fn metric(&self, name: &str, domain: &str) -> u64 {
        let (status, body) = self.get("/metrics").await;
        assert_eq!(status, 200);
        let prefix = format!("{name}{{domain=\"{domain}\"}} ");
        body.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{body}"))
            .parse()
            .unwrap()
    }

    /// Posts a GraphQL request to `/<domain>/graphql` with extra headers;
    /// returns the HTTP status and the whole response body.
    pub async fn graphql_with_headers(
        &self,
        domain: &str,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/{domain}/graphql", self.base))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// As [`Self::graphql`], failing the test on any GraphQL error.
    pub async fn data(&self, domain: &str, query: &str, variables: Value) -> Value {
        let body = self.graphql(domain, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "query failed: {body:#}\n{query}"
        );
        body["data"].clone()
    }

    /// SQL statements the domain's pool has run so far.
    pub fn statements(&self, domain: &str) -> u64 {
        self.state.domain(domain).unwrap().statement_count()
    }

    /// The domain's pool.
    pub fn db(&self, domain: &str) -> &DatabaseConnection {
        &self.state.domain(domain).unwrap().db
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.get(path).await;
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }
}

/// Runs `SQL` and returns the rows as JSON objects, for assertions on the
/// database itself.
pub async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Value> {
    let backend = db.get_database_backend();
    let results = db
        .query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap();
    results
        .iter()
        .map(|row| sea_orm::JsonValue::from_query_result(row, "").unwrap())
        .collect()
}

/// The number of rows in a domain's `table`.
pub async fn count(app: &TestApp, domain: &str, table: &str) -> usize {
    rows(
        app.db(domain),
        &format!("SELECT COUNT(*) || '' AS n FROM \"{table}\""),
    )
    .await[0]["n"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The backend of a connection, as a [`Backend`].
pub fn backend_of(db: &DatabaseConnection) -> Backend {
    match db.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// Declares one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await;
                }
            }
        )*
    };
}
