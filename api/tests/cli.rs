//! The `gateway` binary as operators and scripts use it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn gateway(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .env("GATEWAY_DATA_DIR", data_dir)
        .env_remove("GATEWAY_DATABASE_URL")
        .env_remove("GATEWAY_DOMAINS")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn help_documents_every_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = gateway(&["--help"], dir.path());
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../.env.example")).unwrap();
    for var in [
        "GATEWAY_LISTEN",
        "GATEWAY_DATA_DIR",
        "GATEWAY_DATABASE_URL",
        "GATEWAY_DOMAINS",
        "GATEWAY_PG_SCHEMA_PREFIX",
    ] {
        assert!(help.contains(var), "--help does not mention {var}");
        assert!(example.contains(var), ".env.example does not mention {var}");
    }
    for command in ["serve", "migrate", "schema", "erd"] {
        assert!(help.contains(command), "--help does not list `{command}`");
    }
}

#[test]
fn migrate_creates_one_sqlite_file_per_domain_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = gateway(&["migrate"], dir.path());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8(first.stdout).unwrap();
    for domain in erd::domain_names() {
        let applied = migration::count(domain);
        assert!(
            stdout.contains(&format!("{domain}: {applied} migration(s) applied")),
            "{stdout}"
        );
        assert!(dir.path().join(format!("{domain}.sqlite")).exists());
    }
    let again = gateway(&["migrate", "gans"], dir.path());
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        "gans: 0 migration(s) applied\n"
    );
}

#[test]
fn erd_prints_the_live_model_as_mermaid() {
    let dir = tempfile::tempdir().unwrap();
    let out = gateway(&["erd", "iaso"], dir.path());
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let diagram = erd::mermaid::parse("gateway erd iaso", &text).unwrap();
    let model = erd::load("iaso").unwrap();
    assert_eq!(diagram.entities.len(), model.entities.len());
    assert!(text.contains("    OrgUnit }o--o| OrgUnit : parent\n"));
    assert!(
        text.contains("text password \"secret\""),
        "secrets are marked in the printed model"
    );
}

#[test]
fn unknown_domains_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = gateway(&["erd", "nope"], dir.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("unknown domain `nope`"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["migrate"])
        .env("GATEWAY_DATA_DIR", dir.path())
        .env("GATEWAY_DOMAINS", "iaso,nope")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("unknown domain `nope` in GATEWAY_DOMAINS")
    );
}

#[test]
fn token_prints_a_jwt_signed_with_the_generated_secret() {
    use base64::Engine;

    let dir = tempfile::tempdir().unwrap();
    let token = |extra: &[&str]| {
        let mut args = vec![
            "token",
            "--domain",
            "iaso",
            "--sub",
            "42",
            "--tenant",
            "1",
            "--roles",
            "admin,viewer",
            "--ttl",
            "60",
        ];
        args.extend_from_slice(extra);
        let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
        command
            .args(&args)
            .env("GATEWAY_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn");
        for (name, _) in std::env::vars() {
            if name.starts_with("GATEWAY_JWT_")
                || name == "GATEWAY_AUTH_CONFIG"
                || name == "GATEWAY_DATABASE_URL"
                || name == "GATEWAY_DOMAINS"
            {
                command.env_remove(name);
            }
        }
        command.output().unwrap()
    };
    let first = token(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8(first.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(stdout.ends_with('\n'));
    let first_token = lines[0];
    assert_eq!(first_token.split('.').count(), 3, "{first_token}");

    // The secret: generated once, private, reused by the next run.
    let path = dir.path().join("jwt-secret");
    let secret = std::fs::read_to_string(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "jwt-secret mode {mode:o}");
    }
    let second = token(&[]);
    assert!(second.status.success());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
    let second_token = String::from_utf8(second.stdout).unwrap();

    let key = jsonwebtoken::DecodingKey::from_secret(secret.trim().as_bytes());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["iaso"]);
    for token in [first_token, second_token.trim()] {
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "HS256");
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["aud"], "iaso");
        assert_eq!(claims["sub"], "42");
        assert_eq!(claims["tenant"], "1");
        assert_eq!(claims["roles"], serde_json::json!(["admin", "viewer"]));
        let iat = claims["iat"].as_u64().unwrap();
        assert_eq!(claims["exp"].as_u64().unwrap(), iat + 60);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(iat.abs_diff(now) < 60, "iat {iat}, now {now}");
        assert!(claims.get("iss").is_none());
    }

    // With an issuer configured, tokens carry it.
    let with_issuer = token(&["--jwt-issuer", "https://sso.test"]);
    assert!(with_issuer.status.success());
    let issued = String::from_utf8(with_issuer.stdout).unwrap();
    validation.set_issuer(&["https://sso.test"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(issued.trim(), &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["iss"], "https://sso.test");

    // Refusals are clear errors, never panics, and print no token.
    for (args, needle) in [
        (
            vec!["token", "--domain", "nope", "--sub", "1"],
            "unknown domain `nope`",
        ),
        (
            vec![
                "token",
                "--domain",
                "iaso",
                "--sub",
                "1",
                "--jwt-public-key",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/keys/rsa-public.pem"),
            ],
            "only public keys",
        ),
        (
            vec![
                "token",
                "--domain",
                "iaso",
                "--sub",
                "1",
                "--database-url",
                "postgres://nobody@127.0.0.1:1/none",
            ],
            "no JWT key for domain `iaso`",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(&args)
            .env("GATEWAY_DATA_DIR", dir.path())
            .env_remove("GATEWAY_JWT_SECRET")
            .env_remove("GATEWAY_DATABASE_URL")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
