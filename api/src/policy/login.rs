//! Local accounts: the `login(username, password)` mutation, for the
//! embedded default and deployments without an identity provider.
//!
//! The password is checked against the account's argon2id hash (a missing
//! account costs the same hash, so timing tells nothing). The token it
//! returns is what `gateway token` would mint: subject the account's key,
//! tenant from the policy's `[login] tenant` path, roles from the account's
//! `roles` column and role flags. Roles that lift tenant isolation
//! (`all_tenants`) are never taken from the `roles` column: a tenant's
//! admin, who may edit it, cannot make anyone the platform's operator.
//!
//! Repeated failures for one account from one source slow down (each
//! failure answers after a growing delay) and then lock that pair out for
//! a while, even with the right password.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_graphql::Value as GqlValue;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, QueryResult};

use super::{Policy, reaches};
use crate::auth::AuthKeys;
use crate::engine::model::Model;
use crate::engine::schema::request;
use crate::engine::value::{key_text, read};
use crate::error::{ApiError, ApiResult};

/// Failures (within [`WINDOW`]) that lock an account and source out.
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered, and how long a lockout lasts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The delay added per failure so far, before a failure is answered.
const STEP_DELAY: Duration = Duration::from_millis(200);
/// The lifetime of the tokens `login` issues.
pub const TOKEN_TTL: u64 = 3600;

#[derive(Debug)]
struct Attempts {
    failures: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// Failed logins by (domain, account, source), shared by every request.
#[derive(Debug, Default)]
pub struct Lockout {
    entries: Mutex<HashMap<(String, String, String), Attempts>>,
}

type Key = (String, String, String);

impl Lockout {
    /// Refuses while the pair is locked out.
    fn check(&self, key: &Key) -> ApiResult<()> {
        let mut entries = self.entries.lock().map_err(|_| ApiError::Internal)?;
        let now = Instant::now();
        if let Some(a) = entries.get(key) {
            if let Some(until) = a.locked_until
                && until > now
            {
                return Err(ApiError::RateLimited(format!(
                    "too many failed logins: try again in {} s",
                    Ord::max((until - now).as_secs(), 1)
                )));
            }
            if now.duration_since(a.since) > WINDOW {
                entries.remove(key);
            }
        }
        // Keep the map small: forget what no longer counts.
        if entries.len() > 10_000 {
            entries.retain(|_, a| {
                now.duration_since(a.since) <= WINDOW || a.locked_until.is_some_and(|u| u > now)
            });
        }
        Ok(())
    }

    /// Records a failure; returns how long to wait before answering.
    fn failed(&self, key: Key) -> Duration {
        let Ok(mut entries) = self.entries.lock() else {
            return STEP_DELAY;
        };
        let now = Instant::now();
        let a = entries.entry(key).or_insert(Attempts {
            failures: 0,
            since: now,
            locked_until: None,
        });
        a.failures += 1;
        if a.failures >= MAX_FAILURES {
            a.locked_until = Some(now + WINDOW);
        }
        STEP_DELAY * Ord::min(a.failures, MAX_FAILURES)
    }

    fn succeeded(&self, key: &Key) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

/// What `login` needs from the server, attached to each request.
#[derive(Clone)]
pub struct LoginContext {
    pub keys: Arc<AuthKeys>,
    pub lockout: Arc<Lockout>,
    /// The client's address: failures count per account and source.
    pub source: String,
}

/// A hash to verify against when the account does not exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::from_b64("Z2F0ZXdheWR1bW15c2FsdA").ok();
        salt.and_then(|s| {
            argon2::Argon2::default()
                .hash_password(b"no such account", &s)
                .ok()
                .map(|h| h.to_string())
        })
        .unwrap_or_default()
    })
}

fn verify(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn text(value: &GqlValue) -> Option<String> {
    match value {
        GqlValue::Null => None,
        GqlValue::String(s) => Some(s.clone()),
        other => Some(key_text(other)),
    }
}

/// Adds `login` and its payload type when the policy has local accounts.
pub fn register(
    model: &Arc<Model>,
    policy: &Arc<Policy>,
    mutation: Object,
    builder: async_graphql::dynamic::SchemaBuilder,
) -> (Object, async_graphql::dynamic::SchemaBuilder) {
    if policy.login.is_none() {
        return (mutation, builder);
    }
    let payload = Object::new("LoginPayload")
        .description("A signed token for `Authorization: Bearer <token>`.")
        .field(string_field(
            "token",
            TypeRef::named_nn(TypeRef::STRING),
            |p| Some(p.token.clone()),
        ))
        .field(string_field(
            "subject",
            TypeRef::named_nn(TypeRef::STRING),
            |p| Some(p.subject.clone()),
        ))
        .field(string_field(
            "tenant",
            TypeRef::named(TypeRef::STRING),
            |p| p.tenant.clone(),
        ))
        .field(Field::new(
            "roles",
            TypeRef::named_nn_list_nn(TypeRef::STRING),
            |ctx| {
                FieldFuture::new(async move {
                    let p = payload_of(&ctx)?;
                    Ok(Some(FieldValue::list(
                        p.roles.iter().map(|r| FieldValue::value(r.clone())),
                    )))
                })
            },
        ))
        .field(Field::new(
            "expiresIn",
            TypeRef::named_nn(TypeRef::INT),
            |ctx| {
                FieldFuture::new(async move {
                    payload_of(&ctx)?;
                    Ok(Some(FieldValue::value(TOKEN_TTL as i64)))
                })
            },
        ));
    let (m, p) = (model.clone(), policy.clone());
    let field = Field::new("login", TypeRef::named_nn("LoginPayload"), move |ctx| {
        let (m, p) = (m.clone(), p.clone());
        FieldFuture::new(async move {
            let username = ctx.args.try_get("username")?.string()?.to_string();
            let password = ctx.args.try_get("password")?.string()?.to_string();
            let login = ctx
                .data::<LoginContext>()
                .map_err(|_| ApiError::internal("login context missing"))?;
            let payload = login_once(&ctx, &m, &p, login, &username, &password).await?;
            Ok(Some(FieldValue::owned_any(payload)))
        })
    })
    .argument(InputValue::new("username", TypeRef::named_nn(TypeRef::STRING)))
    .argument(InputValue::new("password", TypeRef::named_nn(TypeRef::STRING)))
    .description(
        "Checks a local account's password and returns a token. Repeated failures slow down, then lock the account out from this address for 15 minutes.",
    );
    (mutation.field(field), builder.register(payload))
}

struct Payload {
    token: String,
    subject: String,
    tenant: Option<String>,
    roles: Vec<String>,
}

fn payload_of<'a>(ctx: &async_graphql::dynamic::ResolverContext<'a>) -> ApiResult<&'a Payload> {
    ctx.parent_value
        .downcast_ref::<Payload>()
        .ok_or_else(|| ApiError::internal("unexpected parent value"))
}

fn string_field(name: &str, ty: TypeRef, get: fn(&Payload) -> Option<String>) -> Field {
    Field::new(name, ty, move |ctx| {
        FieldFuture::new(async move { Ok(get(payload_of(&ctx)?).map(FieldValue::value)) })
    })
}

async fn login_once(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    model: &Model,
    policy: &Policy,
    login: &LoginContext,
    username: &str,
    password: &str,
) -> ApiResult<Payload> {
    let Some(spec) = &policy.login else {
        return Err(ApiError::internal("login without a [login] policy"));
    };
    let key: Key = (
        policy.domain.clone(),
        username.trim().to_lowercase(),
        login.source.clone(),
    );
    login.lockout.check(&key)?;
    let db = &request(ctx)?.db;
    let info = &model.entities[spec.entity];
    let pk = info
        .single_pk()
        .ok_or_else(|| ApiError::internal("login entity without a single key"))?;
    let mut columns = vec![pk, spec.password];
    columns.extend(spec.active);
    columns.extend(spec.inactive);
    columns.extend(spec.roles);
    columns.extend(spec.flags.iter().map(|(c, _)| *c));
    let mut select = Query::select();
    for &c in &columns {
        select.column(Alias::new(&info.columns[c].name));
    }
    select
        .from(Alias::new(&info.table))
        .and_where(Expr::col(Alias::new(&info.columns[spec.username].name)).eq(username.trim()))
        .limit(2);
    let rows = db.query_all(&select).await?;
    let row: Option<&QueryResult> = match rows.as_slice() {
        [one] => Some(one),
        _ => None,
    };
    let get = |row: &QueryResult, c: usize| {
        read(row, info.columns[c].name.as_str(), &info.columns[c], model)
    };
    let hash = match row {
        Some(r) => get(r, spec.password)?,
        None => GqlValue::Null,
    };
    let hash = text(&hash).unwrap_or_else(|| dummy_hash().to_string());
    // Hashing is slow on purpose: off the async workers.
    let (h, pw) = (hash, password.to_string());
    let matches = tokio::task::spawn_blocking(move || verify(&h, &pw))
        .await
        .map_err(ApiError::internal)?;
    let usable = match (row, matches) {
        (Some(r), true) => {
            let flag = |c: Option<usize>| -> ApiResult<Option<bool>> {
                c.map(|c| get(r, c).map(|v| matches!(v, GqlValue::Boolean(true))))
                    .transpose()
            };
            flag(spec.active)?.unwrap_or(true) && !flag(spec.inactive)?.unwrap_or(false)
        }
        _ => false,
    };
    let Some(row) = row.filter(|_| usable) else {
        let delay = login.lockout.failed(key);
        tokio::time::sleep(delay).await;
        return Err(ApiError::Unauthenticated(
            "wrong username or password, or the account is disabled".into(),
        ));
    };
    login.lockout.succeeded(&key);

    let subject_value = get(row, pk)?;
    let subject = key_text(&subject_value);
    let mut roles: Vec<String> = Vec::new();
    if let Some(c) = spec.roles
        && let GqlValue::List(items) = get(row, c)?
    {
        for item in items {
            if let GqlValue::String(role) = item
                && policy.roles.get(&role).is_some_and(|r| !r.all_tenants)
                && !roles.contains(&role)
            {
                roles.push(role);
            }
        }
    }
    let mut flagged = false;
    for (c, role) in &spec.flags {
        if matches!(get(row, *c)?, GqlValue::Boolean(true)) && !roles.contains(role) {
            roles.push(role.clone());
            flagged = true;
        }
    }
    if !flagged {
        for role in &spec.default_roles {
            if !roles.contains(role) {
                roles.push(role.clone());
            }
        }
    }
    let tenant = match (&spec.tenant, &policy.tenant) {
        (Some(path), Some(tenant_key)) => {
            let t = &model.entities[tenant_key.entity];
            let key_col = &t.columns[tenant_key.column];
            let value =
                crate::engine::value::to_sql(&info.columns[pk], model, &subject_value, "id")?;
            let mut select = Query::select();
            select
                .column((Alias::new("__t"), Alias::new(&key_col.name)))
                .from_as(Alias::new(&t.table), Alias::new("__t"))
                .cond_where(reaches(model, tenant_key.entity, "__t", path, pk, &value))
                .limit(1);
            match db.query_one(&select).await? {
                Some(r) => text(&read(&r, key_col.name.as_str(), key_col, model)?),
                None => None,
            }
        }
        _ => None,
    };
    let keys = login
        .keys
        .domain(&policy.domain)
        .ok_or_else(|| ApiError::internal("no keys for the domain"))?;
    let token = keys
        .issue(&subject, tenant.as_deref(), &roles, TOKEN_TTL)
        .map_err(|e| ApiError::Forbidden(format!("{e:#}")))?;
    Ok(Payload {
        token,
        subject,
        tenant,
        roles,
    })
}
