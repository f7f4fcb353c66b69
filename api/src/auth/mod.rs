//! Authentication: who sends a request.
//!
//! A request with `Authorization: Bearer <token>` carries a JWT, verified
//! against the domain's keys ([`load_keys`], once at startup): signature and
//! algorithm, `exp` and `nbf` (with a leeway), `aud` (the domain's name) and
//! `iss` when configured. A token that fails any check is refused with
//! `UNAUTHENTICATED`, never treated as anonymous; a request without the
//! header is anonymous. The result is a [`Principal`], attached to the
//! GraphQL request for resolvers and policies (`ctx.data::<Principal>()`).
//!
//! `gateway token` signs tokens with the configured (or, on the embedded
//! SQLite default, generated) secret: see [`issue_token`].

mod config;
mod jwt;

use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub use config::{AuthKeys, GENERATED_SECRET_FILE, JwtConfig, load_keys, load_keys_for};
pub use jwt::DomainKeys;

use crate::error::ApiError;

/// Who sends a request: the verified token's claims, or nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// The subject claim (`sub` by default).
    pub subject: Option<String>,
    /// The tenant claim (`tenant` by default).
    pub tenant: Option<String>,
    /// The roles claim (`roles` by default).
    pub roles: Vec<String>,
    /// No token was sent.
    pub anonymous: bool,
}

impl Principal {
    /// A request without a token.
    pub fn anonymous() -> Self {
        Self {
            anonymous: true,
            ..Self::default()
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

impl AuthKeys {
    /// The principal of a request to `domain`, from its headers: anonymous
    /// without an `Authorization` header, else the verified bearer token's.
    pub fn authenticate(&self, domain: &str, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(Principal::anonymous());
        };
        if values.next().is_some() {
            return Err(ApiError::Unauthenticated(
                "more than one Authorization header".into(),
            ));
        }
        let token = bearer_token(value)?;
        let Some(keys) = self.domain(domain) else {
            return Err(ApiError::internal(format!(
                "no JWT keys loaded for domain `{domain}`"
            )));
        };
        keys.verify(token)
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(value: &HeaderValue) -> Result<&str, ApiError> {
    let refused =
        || ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into());
    let value = value.to_str().map_err(|_| refused())?.trim();
    let (scheme, token) = value.split_once(' ').ok_or_else(refused)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(refused());
    }
    Ok(token)
}

/// The HTTP answer to a refused token: 401 with a `WWW-Authenticate`
/// challenge, and a GraphQL body with one `UNAUTHENTICATED` error.
pub fn rejection(domain: &str, error: &ApiError) -> Response {
    let message = error.message();
    tracing::info!(domain, reason = %message, "refused a request's token");
    let body = json!({
        "errors": [{ "message": message, "extensions": { "code": error.code() } }]
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    if matches!(error, ApiError::Unauthenticated(_)) {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    } else {
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    }
    response
}

/// `gateway token`: a token for `domain`, signed with its secret (see
/// [`DomainKeys::issue`]). Refuses unknown domains and domains configured
/// with public keys only.
pub fn issue_token(
    config: &crate::config::Config,
    domain: &str,
    subject: &str,
    tenant: Option<&str>,
    roles: &[String],
    ttl: u64,
) -> anyhow::Result<String> {
    let Some(domain) = erd::domain_names().find(|d| *d == domain) else {
        anyhow::bail!(
            "unknown domain `{domain}`; known: {}",
            erd::domain_names().collect::<Vec<_>>().join(", ")
        );
    };
    let keys = load_keys_for(config, &[domain])?;
    let Some(keys) = keys.domain(domain) else {
        anyhow::bail!("no JWT keys for domain `{domain}`");
    };
    keys.issue(subject, tenant, roles, ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers_are_parsed_strictly() {
        let ok = HeaderValue::from_static("Bearer abc.def.ghi");
        assert_eq!(bearer_token(&ok).unwrap(), "abc.def.ghi");
        let lower = HeaderValue::from_static("bearer  abc");
        assert_eq!(bearer_token(&lower).unwrap(), "abc");
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "abc.def.ghi"] {
            let value = HeaderValue::from_static(bad);
            assert!(
                matches!(bearer_token(&value), Err(ApiError::Unauthenticated(_))),
                "{bad}"
            );
        }
    }
}
