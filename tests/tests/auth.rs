//! Authentication: bearer JWTs verified per domain over HTTP, on both
//! backends. A refused token gets `UNAUTHENTICATED` and runs nothing; a
//! request without a token is anonymous.
//!
//! The key pairs are test-only files in `tests/keys/` (see its README).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway::auth::Principal;
use gateway_tests::{Backend, TEST_JWT_SECRET, TestApp, TestDb, on_both_backends};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};

const IASO_QUERY: &str = "{ orgUnits(first: 1) { totalCount } }";
const GANS_QUERY: &str = "{ credits { totalCount } }";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("keys")
        .join(name)
}

/// A private key of `tests/keys/` for `alg`.
fn private_key(name: &str, alg: Algorithm) -> EncodingKey {
    let pem = std::fs::read(key_path(name)).unwrap();
    match alg.family() {
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(&pem).unwrap(),
        AlgorithmFamily::Ec => EncodingKey::from_ec_pem(&pem).unwrap(),
        AlgorithmFamily::Ed => EncodingKey::from_ed_pem(&pem).unwrap(),
        AlgorithmFamily::Hmac => EncodingKey::from_secret(&pem),
    }
}

/// Valid claims for `aud`, good for ten minutes.
fn claims(aud: &str) -> Value {
    json!({
        "sub": "42",
        "tenant": "1",
        "roles": ["admin"],
        "aud": aud,
        "iat": now(),
        "exp": now() + 600,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs(alg: Algorithm, secret: &str, claims: &Value) -> String {
    sign(
        alg,
        &EncodingKey::from_secret(secret.as_bytes()),
        None,
        claims,
    )
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// An unsigned token, crafted by hand: `alg: none` and no signature.
fn alg_none(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

/// Sends `query` with `Authorization: <authorization>`.
async fn send(app: &TestApp, domain: &str, query: &str, authorization: &str) -> (u16, Value) {
    app.graphql_with_headers(
        domain,
        query,
        json!({}),
        &[("Authorization", authorization)],
    )
    .await
}

/// The request passes and returns data.
async fn assert_accepted(app: &TestApp, domain: &str, query: &str, authorization: &str) {
    let (status, body) = send(app, domain, query, authorization).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    let data = body["data"].as_object().unwrap();
    let count = data.values().next().unwrap()["totalCount"].clone();
    assert!(count.is_number(), "{body:#}");
}

/// The request is refused with `UNAUTHENTICATED`, a message containing
/// `needle`, and no SQL run.
async fn assert_refused(
    app: &TestApp,
    domain: &str,
    query: &str,
    authorization: &str,
    needle: &str,
) {
    let before = app.statements(domain);
    let (status, body) = send(app, domain, query, authorization).await;
    assert_eq!(status, 401, "{authorization}: {body:#}");
    assert!(body.get("data").is_none(), "{body:#}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body:#}");
    assert_eq!(
        errors[0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body:#}"
    );
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "{authorization}: `{message}` does not say `{needle}`"
    );
    assert_eq!(app.statements(domain), before, "a refused request ran SQL");
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn hs256_tokens_are_verified(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let valid = hs(Algorithm::HS256, TEST_JWT_SECRET, &claims("iaso"));
    assert_accepted(&app, "iaso", IASO_QUERY, &bearer(&valid)).await;
    // The scheme is case-insensitive.
    assert_accepted(&app, "iaso", IASO_QUERY, &format!("bearer {valid}")).await;
    // No header: anonymous, and there is no policy yet.
    let body = app.data("iaso", IASO_QUERY, json!({})).await;
    assert!(body["orgUnits"]["totalCount"].is_number());
    // Within the leeway (30 s), an expired token still passes.
    let just_expired = hs(
        Algorithm::HS256,
        TEST_JWT_SECRET,
        &with(claims("iaso"), "exp", json!(now() - 10)),
    );
    assert_accepted(&app, "iaso", IASO_QUERY, &bearer(&just_expired)).await;
    // What `gateway token` signs verifies.
    let issued = app
        .state
        .auth
        .domain("iaso")
        .unwrap()
        .issue("7", Some("2"), &["viewer".to_string()], 60)
        .unwrap();
    assert_accepted(&app, "iaso", IASO_QUERY, &bearer(&issued)).await;

    let refused: Vec<(String, &str)> = vec![
        (
            hs(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(claims("iaso"), "exp", json!(now() - 120)),
            ),
            "expired",
        ),
        (
            hs(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(claims("iaso"), "nbf", json!(now() + 600)),
            ),
            "not valid yet",
        ),
        (
            hs(
                Algorithm::HS256,
                "another-secret-another-secret-another",
                &claims("iaso"),
            ),
            "signature",
        ),
        (
            hs(Algorithm::HS256, TEST_JWT_SECRET, &claims("opentalk")),
            "not addressed to domain `iaso`",
        ),
        (
            hs(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(claims("iaso"), "aud", json!(["opentalk", "gans"])),
            ),
            "not addressed to domain `iaso`",
        ),
        (
            hs(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &without(claims("iaso"), "aud"),
            ),
            "no `aud` claim",
        ),
        (
            hs(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &without(claims("iaso"), "exp"),
            ),
            "no `exp` claim",
        ),
        (
            hs(Algorithm::HS512, TEST_JWT_SECRET, &claims("iaso")),
            "HS512 are not accepted",
        ),
        (
            sign(
                Algorithm::RS256,
                &private_key("rsa-private.pem", Algorithm::RS256),
                None,
                &claims("iaso"),
            ),
            "RS256 are not accepted",
        ),
        (alg_none(&claims("iaso")), "`none` are not accepted"),
        (
            format!(
                "{}.{}.",
                b64(&json!({"alg": "HS256", "typ": "JWT"})),
                b64(&claims("iaso"))
            ),
            "signature",
        ),
        ("not-a-jwt".to_string(), "malformed"),
        ("a.b.c".to_string(), "malformed"),
        (format!("{}.!!!.abc", b64(&json!({"alg": "HS256"}))), ""),
    ];
    for (token, needle) in &refused {
        assert_refused(&app, "iaso", IASO_QUERY, &bearer(token), needle).await;
    }
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", valid.as_str()] {
        assert_refused(&app, "iaso", IASO_QUERY, header, "Bearer <token>").await;
    }

    // The default endpoint checks the same way.
    let default = |authorization: String| {
        app.client
            .post(format!("{}/graphql", app.base))
            .header("Authorization", authorization)
            .json(&json!({ "query": IASO_QUERY }))
            .send()
    };
    let response = default(bearer(&refused[0].0)).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let response = default(bearer(&valid)).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["data"]["orgUnits"]["totalCount"].is_number(),
        "{body:#}"
    );
}

/// RS256, ES256 and EdDSA with a PEM public key: the gateway verifies
/// them and can sign none.
async fn pem_public_keys_verify(backend: Backend) {
    let cases = [
        (
            "rsa-public.pem",
            "rsa-private.pem",
            "rsa-other-private.pem",
            Algorithm::RS256,
        ),
        (
            "ec-public.pem",
            "ec-private.pem",
            "ec-other-private.pem",
            Algorithm::ES256,
        ),
        (
            "ed25519-public.pem",
            "ed25519-private.pem",
            "ed25519-other-private.pem",
            Algorithm::EdDSA,
        ),
    ];
    for (public, private, other, alg) in cases {
        let Some(app) = TestApp::spawn_with(backend, &["gans"], |c| {
            c.jwt.secret = None;
            c.jwt.public_key = Some(key_path(public));
        })
        .await
        else {
            return;
        };
        let valid = sign(alg, &private_key(private, alg), None, &claims("gans"));
        assert_accepted(&app, "gans", GANS_QUERY, &bearer(&valid)).await;
        // A key id is ignored when no key has ids.
        let with_kid = sign(alg, &private_key(private, alg), Some("k1"), &claims("gans"));
        assert_accepted(&app, "gans", GANS_QUERY, &bearer(&with_kid)).await;

        let forged = sign(alg, &private_key(other, alg), None, &claims("gans"));
        assert_refused(&app, "gans", GANS_QUERY, &bearer(&forged), "signature").await;
        let expired = sign(
            alg,
            &private_key(private, alg),
            None,
            &with(claims("gans"), "exp", json!(now() - 120)),
        );
        assert_refused(&app, "gans", GANS_QUERY, &bearer(&expired), "expired").await;
        let wrong_aud = sign(alg, &private_key(private, alg), None, &claims("iaso"));
        assert_refused(
            &app,
            "gans",
            GANS_QUERY,
            &bearer(&wrong_aud),
            "not addressed to domain `gans`",
        )
        .await;
        // Algorithm confusion: HS256 keyed with the public key's bytes.
        let public_pem = std::fs::read_to_string(key_path(public)).unwrap();
        let confused = hs(Algorithm::HS256, &public_pem, &claims("gans"));
        assert_refused(
            &app,
            "gans",
            GANS_QUERY,
            &bearer(&confused),
            "HS256 are not accepted",
        )
        .await;
        let hs256 = hs(Algorithm::HS256, TEST_JWT_SECRET, &claims("gans"));
        assert_refused(&app, "gans", GANS_QUERY, &bearer(&hs256), "not accepted").await;
        assert_refused(
            &app,
            "gans",
            GANS_QUERY,
            &bearer(&alg_none(&claims("gans"))),
            "none",
        )
        .await;
        if alg == Algorithm::RS256 {
            // Same key, an algorithm not configured.
            let rs512 = sign(
                Algorithm::RS512,
                &private_key(private, Algorithm::RS512),
                None,
                &claims("gans"),
            );
            assert_refused(&app, "gans", GANS_QUERY, &bearer(&rs512), "RS512").await;
        }
        // Public keys cannot sign.
        let error = app
            .state
            .auth
            .domain("gans")
            .unwrap()
            .issue("1", None, &[], 60)
            .unwrap_err();
        assert!(error.to_string().contains("only public keys"), "{error}");
    }
}

/// A JWKS with two keys: the token's `kid` picks one.
async fn jwks_selects_the_key_by_kid(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for (file, alg, kid) in [
        ("rsa-private.pem", Algorithm::RS256, "rsa-1"),
        ("ec-private.pem", Algorithm::ES256, "ec-1"),
    ] {
        let mut jwk = Jwk::from_encoding_key(&private_key(file, alg), alg).unwrap();
        jwk.common.key_id = Some(kid.to_string());
        keys.push(jwk);
    }
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::to_vec(&JwkSet { keys }).unwrap()).unwrap();
    let Some(app) = TestApp::spawn_with(backend, &["gans"], |c| {
        c.jwt.secret = None;
        c.jwt.jwks = Some(jwks.clone());
    })
    .await
    else {
        return;
    };
    let rsa = private_key("rsa-private.pem", Algorithm::RS256);
    let ec = private_key("ec-private.pem", Algorithm::ES256);
    let c = claims("gans");
    for token in [
        sign(Algorithm::RS256, &rsa, Some("rsa-1"), &c),
        sign(Algorithm::ES256, &ec, Some("ec-1"), &c),
        // Without a kid, every key of the algorithm is tried.
        sign(Algorithm::RS256, &rsa, None, &c),
    ] {
        assert_accepted(&app, "gans", GANS_QUERY, &bearer(&token)).await;
    }
    let other_rsa = private_key("rsa-other-private.pem", Algorithm::RS256);
    let other_ec = private_key("ec-other-private.pem", Algorithm::ES256);
    for (token, needle) in [
        (
            sign(Algorithm::RS256, &rsa, Some("nope"), &c),
            "no key has the id `nope`",
        ),
        // The kid names a key of another algorithm.
        (
            sign(Algorithm::RS256, &rsa, Some("ec-1"), &c),
            "no key has the id `ec-1`",
        ),
        (
            sign(Algorithm::RS256, &other_rsa, Some("rsa-1"), &c),
            "signature",
        ),
        (
            sign(Algorithm::ES256, &other_ec, Some("ec-1"), &c),
            "signature",
        ),
        (sign(Algorithm::ES256, &other_ec, None, &c), "signature"),
        (
            hs(Algorithm::HS256, TEST_JWT_SECRET, &c),
            "HS256 are not accepted",
        ),
    ] {
        assert_refused(&app, "gans", GANS_QUERY, &bearer(&token), needle).await;
    }
}

/// `GATEWAY_AUTH_CONFIG` gives gans a secret and an issuer of its own;
/// iaso keeps the shared secret.
async fn per_domain_overrides(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let gans_secret = "gans-only-secret-gans-only-secret-gans";
    let file = dir.path().join("auth.toml");
    std::fs::write(
        &file,
        format!(
            "[domains.gans]\nsecret = \"{gans_secret}\"\nissuer = \"https://gans.test\"\n\
             roles_claim = \"realm_access.roles\"\n"
        ),
    )
    .unwrap();
    let Some(app) = TestApp::spawn_with(backend, &["iaso", "gans"], |c| {
        c.jwt.auth_config = Some(file.clone());
    })
    .await
    else {
        return;
    };
    let gans = with(claims("gans"), "iss", json!("https://gans.test"));
    assert_accepted(
        &app,
        "gans",
        GANS_QUERY,
        &bearer(&hs(Algorithm::HS256, gans_secret, &gans)),
    )
    .await;
    assert_refused(
        &app,
        "gans",
        GANS_QUERY,
        &bearer(&hs(Algorithm::HS256, TEST_JWT_SECRET, &gans)),
        "signature",
    )
    .await;
    assert_refused(
        &app,
        "gans",
        GANS_QUERY,
        &bearer(&hs(Algorithm::HS256, gans_secret, &claims("gans"))),
        "no `iss` claim",
    )
    .await;
    assert_refused(
        &app,
        "gans",
        GANS_QUERY,
        &bearer(&hs(
            Algorithm::HS256,
            gans_secret,
            &with(claims("gans"), "iss", json!("https://evil.test")),
        )),
        "issuer",
    )
    .await;
    // iaso: the shared secret, no issuer required.
    assert_accepted(
        &app,
        "iaso",
        IASO_QUERY,
        &bearer(&hs(Algorithm::HS256, TEST_JWT_SECRET, &claims("iaso"))),
    )
    .await;
    assert_refused(
        &app,
        "iaso",
        IASO_QUERY,
        &bearer(&hs(Algorithm::HS256, gans_secret, &claims("iaso"))),
        "signature",
    )
    .await;
    // gans reads its roles where its file says.
    let token = hs(
        Algorithm::HS256,
        gans_secret,
        &with(gans, "realm_access", json!({ "roles": ["moderator"] })),
    );
    let principal = app
        .state
        .auth
        .authenticate("gans", &authorization(&bearer(&token)))
        .unwrap();
    assert_eq!(principal.roles, ["moderator"]);
}

on_both_backends!(
    hs256_tokens_are_verified,
    pem_public_keys_verify,
    jwks_selects_the_key_by_kid,
    per_domain_overrides,
);

fn authorization(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_str(value).unwrap());
    headers
}

#[test]
fn claims_become_the_principal() {
    let mut db = TestDb::new(Backend::Sqlite, &["iaso"]).unwrap();
    db.config.jwt.tenant_claim = "org".into();
    let keys = gateway::auth::load_keys(&db.config).unwrap();
    let principal = |claims: Value| {
        keys.authenticate(
            "iaso",
            &authorization(&bearer(&hs(Algorithm::HS256, TEST_JWT_SECRET, &claims))),
        )
    };
    assert_eq!(
        principal(with(
            with(claims("iaso"), "org", json!(7)),
            "roles",
            json!(" admin, viewer ,"),
        ))
        .unwrap(),
        Principal {
            subject: Some("42".into()),
            tenant: Some("7".into()),
            roles: vec!["admin".into(), "viewer".into()],
            anonymous: false,
        }
    );
    let bare = principal(without(without(claims("iaso"), "sub"), "roles")).unwrap();
    assert_eq!(
        bare,
        Principal {
            subject: None,
            tenant: None,
            roles: vec![],
            anonymous: false,
        }
    );
    for bad in [json!({"admin": true}), json!([1, 2])] {
        let error = principal(with(claims("iaso"), "roles", bad)).unwrap_err();
        assert_eq!(error.code(), "UNAUTHENTICATED");
    }
    assert_eq!(
        keys.authenticate("iaso", &HeaderMap::new()).unwrap(),
        Principal::anonymous()
    );
    let mut two = authorization("Bearer a.b.c");
    two.append("authorization", HeaderValue::from_static("Bearer d.e.f"));
    assert!(keys.authenticate("iaso", &two).is_err());
}

/// The embedded default without a key: a secret generated once, private,
/// and reused by later starts.
#[test]
fn the_embedded_default_generates_and_keeps_a_secret() {
    let mut db = TestDb::new(Backend::Sqlite, &["iaso", "gans"]).unwrap();
    db.config.jwt.secret = None;
    let first = gateway::auth::load_keys(&db.config).unwrap();
    let path = db.data_dir().join(gateway::auth::GENERATED_SECRET_FILE);
    let secret = std::fs::read_to_string(&path).unwrap();
    assert!(secret.len() >= 43, "{secret}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = first
        .domain("iaso")
        .unwrap()
        .issue("42", Some("1"), &[], 60)
        .unwrap();
    let second = gateway::auth::load_keys(&db.config).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
    let principal = second
        .authenticate("iaso", &authorization(&bearer(&token)))
        .unwrap();
    assert_eq!(principal.subject.as_deref(), Some("42"));
    // One secret for every domain, each token for its own.
    assert!(
        second
            .authenticate("gans", &authorization(&bearer(&token)))
            .is_err()
    );
}

#[tokio::test]
async fn postgres_without_a_key_refuses_to_start() {
    let mut db = TestDb::new(Backend::Sqlite, &["iaso"]).unwrap();
    db.config.jwt.secret = None;
    // Never reached: the keys are checked before any connection.
    db.config.database_url = Some(SecretString::from("postgres://nobody@127.0.0.1:1/none"));
    let error = gateway::prepare(&db.config).await.err().unwrap();
    let message = format!("{error:#}");
    assert!(
        message.contains("no JWT key for domain `iaso`"),
        "{message}"
    );
    assert!(!db.data_dir().join("jwt-secret").exists());
}

#[test]
fn bad_key_configuration_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    type Configure = Box<dyn Fn(&mut gateway::config::Config)>;
    let cases: Vec<(Configure, &str)> = vec![
        (
            Box::new(|c| c.jwt.algorithms = vec!["none".into()]),
            "unknown JWT algorithm `none`",
        ),
        (
            Box::new(|c| c.jwt.algorithms = vec!["RS256".into()]),
            "none of the configured algorithms",
        ),
        (
            Box::new(|c| {
                c.jwt.secret = None;
                c.jwt.public_key = Some(key_path("README.md"));
            }),
            "not a PEM public key",
        ),
        (
            Box::new(|c| {
                c.jwt.secret = None;
                c.jwt.jwks = Some(key_path("rsa-public.pem"));
            }),
            "not JSON",
        ),
        (
            {
                let file = dir.path().join("auth.toml");
                std::fs::write(&file, "[domains.nope]\nsecret = \"x\"\n").unwrap();
                Box::new(move |c| c.jwt.auth_config = Some(file.clone()))
            },
            "unknown domain `nope` in GATEWAY_AUTH_CONFIG",
        ),
    ];
    for (configure, needle) in cases {
        let mut db = TestDb::new(Backend::Sqlite, &["iaso"]).unwrap();
        configure(&mut db.config);
        let error = gateway::auth::load_keys(&db.config).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains(needle), "{message}");
    }
}
