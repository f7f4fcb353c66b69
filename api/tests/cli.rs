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
        assert!(
            stdout.contains(&format!("{domain}: 1 migration(s) applied")),
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
