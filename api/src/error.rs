//! One error type for the API, each variant with a stable code that clients
//! read in `extensions.code`. Internal errors are logged and never shown.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql turns
//! any `Display` error into a message without a code, so the only way into
//! a GraphQL error is the conversion below, which always sets the code.

use async_graphql::ErrorExtensions;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The request is wrong: a bad argument, an unknown cursor, a page too
    /// large. `field` names the offending input where there is one.
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    Unauthenticated(String),
    Forbidden(String),
    NotFound(String),
    Conflict {
        message: String,
        field: Option<String>,
    },
    UpgradeRequired(String),
    /// Too many attempts (failed logins): try again later.
    RateLimited(String),
    /// The query exceeds a limit (depth, complexity); the message states it.
    TooComplex(String),
    /// Something failed on the server. The detail was logged where it
    /// happened; the client sees a generic message.
    Internal,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict { .. } => "CONFLICT",
            Self::UpgradeRequired(_) => "UPGRADE_REQUIRED",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::TooComplex(_) => "TOO_COMPLEX",
            Self::Internal => "INTERNAL",
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// Logs `error` and returns the opaque internal error.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::Internal
    }

    /// The message clients see.
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput { message, .. } | Self::Conflict { message, .. } => message.clone(),
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::UpgradeRequired(m)
            | Self::RateLimited(m)
            | Self::TooComplex(m) => m.clone(),
            Self::Internal => "internal error".to_string(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::BadUserInput { field, .. } | Self::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::internal(error)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let field = error.field().map(str::to_string);
        async_graphql::Error::new(error.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
        })
    }
}

/// The GraphQL result of a resolver.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn extensions(error: ApiError) -> (String, serde_json::Value) {
        let e: async_graphql::Error = error.into();
        let ext = serde_json::to_value(e.extensions.unwrap()).unwrap();
        (e.message, ext)
    }

    #[test]
    fn bad_user_input_names_its_field() {
        let (message, ext) = extensions(ApiError::bad_field("first", "too large"));
        assert_eq!(message, "too large");
        assert_eq!(
            ext,
            serde_json::json!({"code": "BAD_USER_INPUT", "field": "first"})
        );
        let (_, ext) = extensions(ApiError::bad_input("no"));
        assert_eq!(ext, serde_json::json!({"code": "BAD_USER_INPUT"}));
    }

    #[test]
    fn each_variant_has_its_code() {
        let cases = [
            (ApiError::Unauthenticated("x".into()), "UNAUTHENTICATED"),
            (ApiError::Forbidden("x".into()), "FORBIDDEN"),
            (ApiError::NotFound("x".into()), "NOT_FOUND"),
            (
                ApiError::Conflict {
                    message: "x".into(),
                    field: Some("uuid".into()),
                },
                "CONFLICT",
            ),
            (ApiError::UpgradeRequired("x".into()), "UPGRADE_REQUIRED"),
            (ApiError::TooComplex("x".into()), "TOO_COMPLEX"),
        ];
        for (error, code) in cases {
            let (_, ext) = extensions(error);
            assert_eq!(ext["code"], code);
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let error: ApiError =
            sea_orm::DbErr::Custom("password authentication failed for user x".into()).into();
        let (message, ext) = extensions(error);
        assert_eq!(message, "internal error");
        assert_eq!(ext, serde_json::json!({"code": "INTERNAL"}));
    }
}
