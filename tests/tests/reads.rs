//! The pool reads go through on PostgreSQL: a connection comes back as it
//! is after a statement that ran to its end (its own error included), and
//! is closed, not reused, after one that was interrupted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gateway::reads::Reads;
use gateway_tests::{Backend, TestDb};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The one value of a one-row, one-column (`v`) statement.
async fn value<T: sea_orm::TryGetable>(reads: &Reads, sql: &str) -> T {
    let backend = reads.get_database_backend();
    let row = reads
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "v").unwrap()
}

async fn backend_pid(reads: &Reads) -> i32 {
    value(reads, "SELECT pg_backend_pid() AS v").await
}

#[tokio::test]
async fn a_read_connection_is_reused_after_a_finished_statement_and_closed_after_an_interrupted_one()
 {
    let Some(mut test) = TestDb::new(Backend::Postgres, &["iaso"]) else {
        return;
    };
    // One connection: every statement below runs on the same one, unless
    // it was replaced.
    test.config.db_max_connections = 1;
    let db = test.connect("iaso").await;
    let statements = Arc::new(AtomicU64::new(0));
    let reads = gateway::db::reads(&test.config, "iaso", &db, statements.clone()).unwrap();
    assert!(matches!(reads, Reads::Postgres(_)));

    let first = backend_pid(&reads).await;
    assert_eq!(
        backend_pid(&reads).await,
        first,
        "a finished read keeps its connection"
    );

    // The server's own error ends the statement: the connection stays.
    let failed = reads
        .query_all_raw(Statement::from_string(DbBackend::Postgres, "SELECT 1 / 0"))
        .await;
    assert!(failed.is_err());
    assert_eq!(
        backend_pid(&reads).await,
        first,
        "a statement's error keeps the connection"
    );

    // A statement dropped before its reply: its connection may still
    // receive that reply, and must not serve the next statement.
    let interrupted = tokio::time::timeout(
        Duration::from_millis(200),
        reads.query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_sleep(2)",
        )),
    )
    .await;
    assert!(interrupted.is_err(), "the sleep outlived its timeout");
    let second = backend_pid(&reads).await;
    assert_ne!(second, first, "an interrupted connection was reused");
    assert_eq!(backend_pid(&reads).await, second);

    // Every statement counted, the interrupted one included.
    assert_eq!(statements.load(Ordering::SeqCst), 7);
    // The search path is the domain's schema.
    let schema: String = value(&reads, "SELECT current_schema() AS v").await;
    assert_eq!(schema, format!("{}iaso", test.config.pg_schema_prefix));
}

#[tokio::test]
async fn sqlite_reads_share_the_domain_pool() {
    let test = TestDb::new(Backend::Sqlite, &["iaso"]).unwrap();
    let db = test.connect("iaso").await;
    let reads = gateway::db::reads(&test.config, "iaso", &db, Arc::default()).unwrap();
    assert!(matches!(reads, Reads::Shared(_)));
    let n: i32 = value(&reads, "SELECT 41 + 1 AS v").await;
    assert_eq!(n, 42);
}
