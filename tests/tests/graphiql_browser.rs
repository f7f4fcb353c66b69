//! The GraphiQL page works in a real browser, with its assets served locally:
//! headless Chromium opens the page, runs `{ __typename }` through GraphiQL's
//! editor and execute button, and no request leaves the server's host.
//!
//! Needs `/usr/bin/chromium` and `node`; skipped without them unless
//! `GATEWAY_TEST_REQUIRE_BROWSER=1` (then their absence fails). The GraphiQL
//! files come from `GATEWAY_TEST_GRAPHIQL_ASSETS`, else from
//! `./data/graphiql-assets` when complete, else `cargo xtask graphiql-assets`
//! installs them into a temporary folder. `tests/browser/node_modules` is
//! installed with npm when missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gateway::web::GRAPHIQL_ASSET_FILES;
use gateway_tests::{Backend, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The Node script's own timeout is 30 s; this only catches a hung process.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// The query the browser runs, and a text its result must contain: data
/// from the demo pyramid, through a relation.
const QUERY: &str = "{ orgUnits(first: 1, filter: { parentId: { isNull: true } }) { totalCount nodes { name children { totalCount } } } }";
const EXPECTED: &str = "\"totalCount\": 2";

#[tokio::test]
async fn graphiql_runs_a_query_in_headless_chromium_with_local_assets() {
    if !browser_available() {
        return;
    }
    let root = workspace_root();
    ensure_playwright(&root);
    let (_scratch, assets) = graphiql_assets(&root);

    // The real gateway, on the embedded SQLite default with its demo data,
    // serving GraphiQL's files itself.
    let app = TestApp::spawn_with(Backend::Sqlite, &["iaso"], |config| {
        config.graphiql_assets = Some(assets.clone());
        config.demo_data = Some(true);
    })
    .await
    .unwrap();
    let url = format!("{}/iaso/graphiql", app.base);

    let started = Instant::now();
    let (success, stdout, stderr) = run_script(&root, &url, QUERY, EXPECTED).await;
    eprintln!(
        "graphiql.mjs took {:.1} s\nstdout:\n{stdout}\nstderr:\n{stderr}",
        started.elapsed().as_secs_f64()
    );
    assert!(success, "the browser check failed:\n{stderr}");
    assert!(stdout.contains(EXPECTED), "no {EXPECTED} in:\n{stdout}");
}

/// Whether Chromium and Node are installed; with
/// `GATEWAY_TEST_REQUIRE_BROWSER=1`, their absence is a failure.
fn browser_available() -> bool {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(CHROMIUM);
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("node");
    }
    if missing.is_empty() {
        return true;
    }
    let required = std::env::var("GATEWAY_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "GATEWAY_TEST_REQUIRE_BROWSER=1 but {} missing: the browser test must not be skipped",
        missing.join(" and ")
    );
    eprintln!(
        "{} missing: skipping the GraphiQL browser test",
        missing.join(" and ")
    );
    false
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `npm install` in tests/browser, unless playwright-core is there.
fn ensure_playwright(root: &Path) {
    let dir = root.join("tests/browser");
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["install", "--no-package-lock", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("running npm");
    assert!(status.success(), "npm install in {} failed", dir.display());
}

/// The folder holding the GraphiQL files, and the temporary folder to keep
/// alive if they were installed for this test.
fn graphiql_assets(root: &Path) -> (Option<tempfile::TempDir>, PathBuf) {
    let complete = |dir: &Path| GRAPHIQL_ASSET_FILES.iter().all(|f| dir.join(f).is_file());
    if let Ok(dir) = std::env::var("GATEWAY_TEST_GRAPHIQL_ASSETS") {
        let dir = PathBuf::from(dir);
        assert!(
            complete(&dir),
            "GATEWAY_TEST_GRAPHIQL_ASSETS={} lacks some of {GRAPHIQL_ASSET_FILES:?}: run `cargo xtask graphiql-assets --dir {}`",
            dir.display(),
            dir.display()
        );
        return (None, dir);
    }
    let installed = root.join("data/graphiql-assets");
    if complete(&installed) {
        return (None, installed);
    }
    let scratch = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "-q", "-p", "xtask", "--", "graphiql-assets", "--dir"])
        .arg(scratch.path())
        .current_dir(root)
        .status()
        .expect("running cargo xtask graphiql-assets");
    assert!(status.success(), "cargo xtask graphiql-assets failed");
    let dir = scratch.path().to_path_buf();
    assert!(complete(&dir), "the xtask did not install every file");
    (Some(scratch), dir)
}

/// Runs tests/browser/graphiql.mjs on `url`: (success, stdout, stderr).
/// Polls instead of blocking, so the server on this runtime keeps answering.
async fn run_script(root: &Path, url: &str, query: &str, expected: &str) -> (bool, String, String) {
    let out = tempfile::tempdir().unwrap();
    let stdout_path = out.path().join("stdout");
    let stderr_path = out.path().join("stderr");
    let mut child = Command::new("node")
        .arg(root.join("tests/browser/graphiql.mjs"))
        .arg(url)
        .arg(query)
        .arg(expected)
        .env(
            "GRAPHIQL_AUTHORIZATION",
            format!("Bearer {}", gateway_tests::operator_token("iaso")),
        )
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("running node");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let mut stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!(
            "\nnode did not finish within {} s and was killed",
            SCRIPT_TIMEOUT.as_secs()
        ));
    }
    (status.is_some_and(|s| s.success()), stdout, stderr)
}
