//! The server answers health and readiness over HTTP, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_tests::{Backend, TestApp, on_both_backends};
use serde_json::json;

async fn health_and_readiness(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso", "gans"]).await else {
        return;
    };
    assert_eq!(app.get("/healthz").await, (200, "ok".to_string()));
    assert_eq!(
        app.get_json("/readyz").await,
        (200, json!({ "status": "ready" }))
    );
    let (status, _) = app.get("/no/such/page").await;
    assert_eq!(status, 404);

    // Statements are counted per domain, and a query moves the counter.
    let before = app.statements("gans");
    app.data("gans", "{ credits { totalCount } }", json!({}))
        .await;
    assert_eq!(app.statements("gans"), before + 1);
    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!(
            "gateway_sql_statements_total{{domain=\"gans\"}} {}",
            before + 1
        )),
        "{metrics}"
    );
}

on_both_backends!(health_and_readiness);
