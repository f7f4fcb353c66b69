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

/// Read connections left unused for the idle time are closed: a burst's
/// connections do not keep the server's connection slots afterwards, and
/// the next read opens a new one.
#[tokio::test]
async fn idle_read_connections_are_closed() {
    let Some(mut test) = TestDb::new(Backend::Postgres, &["iaso"]) else {
        return;
    };
    test.config.db_max_connections = 3;
    test.config.db_idle_seconds = 1;
    let db = test.connect("iaso").await;
    let reads = gateway::db::reads(&test.config, "iaso", &db, Arc::default()).unwrap();
    let Reads::Postgres(pool) = &reads else {
        panic!("PostgreSQL reads have a pool of their own");
    };
    // Three statements at once hold three connections.
    let slow = "SELECT pg_backend_pid() AS v FROM pg_sleep(0.3)";
    let (a, b, c) = tokio::join!(
        value::<i32>(&reads, slow),
        value::<i32>(&reads, slow),
        value::<i32>(&reads, slow)
    );
    let pids = [a, b, c];
    assert!(a != b && b != c && a != c, "{pids:?}");
    let alive = || async {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT COUNT(*) AS v FROM pg_stat_activity WHERE pid IN ({a}, {b}, {c})"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "v").unwrap()
    };
    assert_eq!(alive().await, 3, "closed before their idle time");
    assert_eq!(pool.size(), 3);

    let started = std::time::Instant::now();
    while (alive().await, pool.size()) != (0, 0) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "after 10 s, {} of the connections are open on the server, {} in the pool",
            alive().await,
            pool.size()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed_after = started.elapsed();
    assert!(
        closed_after >= Duration::from_millis(500),
        "closed {closed_after:?} after their last use, under the idle time"
    );
    // Reads go on, on a new connection.
    let next = backend_pid(&reads).await;
    assert!(!pids.contains(&next));
}
