//! The HTTP server: the router the tests reuse, and graceful shutdown.
//!
//! Each domain is mounted at `/<domain>/graphql` with GraphiQL at
//! `/<domain>/graphiql`; the default domain (iaso when mounted) is also at
//! `/graphql` and `/graphiql`; `/` links every domain.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::{Response as GqlResponse, ServerError, Value as GqlValue};
use async_graphql_axum::GraphQLRequest;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{AuthKeys, Principal};
use crate::engine::plain::PlainNodes;
use crate::engine::{Limits, Model, RequestContext};
use crate::policy::Access;
use crate::policy::login::LoginContext;
use crate::web::{GraphiqlAssets, graphiql_html, landing_html};

/// One mounted domain: its database, model and schema.
#[derive(Clone)]
pub struct MountedDomain {
    pub name: &'static str,
    pub db: DatabaseConnection,
    /// Where reads go ([`crate::reads`]).
    pub reads: crate::reads::Reads,
    pub model: Arc<Model>,
    pub schema: async_graphql::dynamic::Schema,
    /// Who may read and write what (`api/policies/<domain>.toml`).
    pub policy: Arc<crate::policy::Policy>,
    /// The policy's scope lookups, kept across requests.
    pub scopes: Arc<crate::policy::ScopeCache>,
    /// SQL statements run on this domain's pool since start.
    pub statements: Arc<AtomicU64>,
    /// `nodes` lists answered from their rows without the executor.
    pub plain_lists: Arc<AtomicU64>,
}

impl MountedDomain {
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
pub struct AppState {
    pub domains: Arc<Vec<MountedDomain>>,
    pub limits: Limits,
    pub graphiql: Arc<GraphiqlAssets>,
    /// Every mounted domain's JWT keys, loaded once at startup.
    pub auth: Arc<AuthKeys>,
    /// Failed logins, by account and source.
    pub lockout: Arc<crate::policy::login::Lockout>,
}

impl AppState {
    pub fn domain(&self, name: &str) -> Option<&MountedDomain> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The domain served at `/graphql`: iaso when mounted, else the first.
    pub fn default_domain(&self) -> Option<&MountedDomain> {
        self.domain("iaso").or_else(|| self.domains.first())
    }
}

/// Largest request body accepted, in bytes.
const BODY_LIMIT: usize = 2 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState, assets_dir: Option<std::path::PathBuf>) -> Router {
    let mut router = Router::new()
        .route("/", get(landing))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/graphql", get(default_graphql).post(default_graphql))
        .route("/graphiql", get(default_graphiql))
        .route(
            "/{domain}/graphql",
            get(domain_graphql).post(domain_graphql),
        )
        .route("/{domain}/graphiql", get(domain_graphiql));
    if let Some(dir) = assets_dir {
        router = router.nest_service("/assets", tower_http::services::ServeDir::new(dir));
    }
    router
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        // The backstop: a panic becomes a 500, never a dropped connection.
        .layer(CatchPanicLayer::new())
}

/// An executed request, with the plain lists its JSON is written with.
pub struct Executed {
    pub response: GqlResponse,
    plain_nodes: Arc<PlainNodes>,
}

impl IntoResponse for Executed {
    /// The response as async-graphql-axum writes it (content type, cache
    /// control, headers the resolvers set), its plain lists spliced in.
    fn into_response(self) -> Response {
        let body = match self.plain_nodes.write_response(&self.response) {
            Ok(body) => body,
            Err(error) => {
                let error =
                    crate::error::ApiError::internal(format!("writing a response: {error}"));
                let body = json!({ "errors": [{ "message": error.message(), "extensions": { "code": error.code() } }] });
                return (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
            }
        };
        let mut answer = Response::new(axum::body::Body::from(body));
        let headers = answer.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/graphql-response+json"),
        );
        if self.response.is_ok()
            && let Some(cache_control) = self.response.cache_control.value()
            && let Ok(value) = HeaderValue::from_str(&cache_control)
        {
            headers.insert(header::CACHE_CONTROL, value);
        }
        headers.extend(self.response.http_headers);
        answer
    }
}

/// Runs one GraphQL request against a domain, with loaders of its own, as
/// `principal`: its access bounds every statement, and its subject is
/// recorded in audit columns.
pub async fn execute(
    domain: &MountedDomain,
    limits: &Limits,
    request: async_graphql::Request,
    principal: Principal,
) -> Executed {
    let access = Arc::new(Access::new(
        domain.policy.clone(),
        domain.scopes.clone(),
        &domain.model,
        principal.clone(),
        domain.db.get_database_backend(),
    ));
    let mut context = RequestContext::new(
        domain.db.clone(),
        domain.reads.clone(),
        domain.model.clone(),
        access,
    );
    context.writer.subject = principal.subject.clone();
    let plain_nodes = Arc::new(PlainNodes::counted_by(domain.plain_lists.clone()));
    context.plain_nodes = plain_nodes.clone();
    let request = request.data(principal);
    let request = request.data(context);
    // Unconstrained: tokio's cooperative budget would otherwise force
    // resolvers to yield mid-pass and split the loaders' batches. The
    // request still yields at every database round trip.
    let mut response = tokio::task::unconstrained(domain.schema.execute(request)).await;
    code_errors(&mut response, limits);
    Executed {
        response,
        plain_nodes,
    }
}

/// Gives every error a code. Limit errors say which limit; parse and
/// validation errors are the client's.
fn code_errors(response: &mut GqlResponse, limits: &Limits) {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = match error.message.as_str() {
            "Query is nested too deep." => {
                error.message = format!(
                    "the query is nested deeper than the limit of {}",
                    limits.max_depth
                );
                "TOO_COMPLEX"
            }
            "Query is too complex." => {
                error.message = format!(
                    "the query selects more fields than the limit of {}",
                    limits.max_complexity
                );
                "TOO_COMPLEX"
            }
            _ => "BAD_USER_INPUT",
        };
        set_code(error, code);
    }
}

fn set_code(error: &mut ServerError, code: &str) {
    let mut ext = error.extensions.take().unwrap_or_default();
    ext.set("code", GqlValue::String(code.to_string()));
    error.extensions = Some(ext);
}

/// Authenticates the request (a refused token executes nothing), then runs
/// it with its [`crate::auth::Principal`] attached.
async fn run(
    state: &AppState,
    domain: Option<&MountedDomain>,
    source: SocketAddr,
    headers: &HeaderMap,
    request: GraphQLRequest,
) -> Response {
    match domain {
        Some(d) => match state.auth.authenticate(d.name, headers) {
            Ok(principal) => {
                let login = LoginContext {
                    keys: state.auth.clone(),
                    lockout: state.lockout.clone(),
                    source: source.ip().to_string(),
                };
                let request = request.into_inner().data(login);
                execute(d, &state.limits, request, principal).await.into_response()
            }
            Err(error) => crate::auth::rejection(d.name, &error),
        },
        None => (StatusCode::NOT_FOUND, Json(json!({ "errors": [{ "message": "no such domain", "extensions": { "code": "NOT_FOUND" } }] })))
            .into_response(),
    }
}

async fn domain_graphql(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    run(&state, state.domain(&domain), source, &headers, request).await
}

async fn default_graphql(
    State(state): State<AppState>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    run(&state, state.default_domain(), source, &headers, request).await
}

fn graphiql_page(state: &AppState, domain: Option<&MountedDomain>, endpoint: String) -> Response {
    match domain {
        Some(d) => Html(graphiql_html(
            &format!("{} · GraphiQL", d.name),
            &endpoint,
            &state.graphiql,
        ))
        .into_response(),
        None => (StatusCode::NOT_FOUND, "no such domain").into_response(),
    }
}

async fn domain_graphiql(State(state): State<AppState>, Path(domain): Path<String>) -> Response {
    graphiql_page(&state, state.domain(&domain), format!("/{domain}/graphql"))
}

async fn default_graphiql(State(state): State<AppState>) -> Response {
    graphiql_page(&state, state.default_domain(), "/graphql".to_string())
}

/// A line about each domain, for the landing page.
pub fn description(domain: &str) -> &'static str {
    match domain {
        "iaso" => {
            "Geo-referenced data collection: org units, forms, submissions, teams and plannings"
        }
        "opentalk" => "Video conferencing: tenants, rooms, events and invites",
        "placeos" => "Building automation: zones, systems, modules, drivers and settings",
        "telemetry" => "IoT device monitoring: devices and their events",
        "gans" => "Chat moderation bot: credits, stickers and warnings",
        _ => "",
    }
}

async fn landing(State(state): State<AppState>) -> Html<String> {
    let mut domains: Vec<(&str, &str)> = state
        .domains
        .iter()
        .map(|d| (d.name, description(d.name)))
        .collect();
    // The default domain first: the page says `/graphql` serves it.
    if let Some(default) = state.default_domain() {
        domains.sort_by_key(|(name, _)| *name != default.name);
    }
    Html(landing_html(&domains))
}

/// Prometheus text exposition: the SQL statements each domain has run.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = String::from(
        "# HELP gateway_sql_statements_total SQL statements run, per domain.\n# TYPE gateway_sql_statements_total counter\n",
    );
    for domain in state.domains.iter() {
        body.push_str(&format!(
            "gateway_sql_statements_total{{domain=\"{}\"}} {}\n",
            domain.name,
            domain.statement_count()
        ));
    }
    body.push_str(
        "# HELP gateway_plain_node_lists_total Connection `nodes` lists of columns only, answered from their rows without the per-field executor, per domain.\n# TYPE gateway_plain_node_lists_total counter\n",
    );
    for domain in state.domains.iter() {
        body.push_str(&format!(
            "gateway_plain_node_lists_total{{domain=\"{}\"}} {}\n",
            domain.name,
            domain.plain_lists.load(Ordering::Relaxed)
        ));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// Every mounted domain's database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let mut failing = Vec::new();
    for domain in state.domains.iter() {
        if let Err(error) = domain.db.ping().await {
            tracing::warn!(domain = domain.name, %error, "database not ready");
            failing.push(domain.name);
        }
    }
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "domains": failing })),
        )
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
