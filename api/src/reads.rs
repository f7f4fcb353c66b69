//! The connections reads go through.
//!
//! On PostgreSQL, reads have a pool of their own. sqlx's pool tests every
//! connection that comes back to it with a round trip (`Sync`, then
//! waiting for `ReadyForQuery`) before anyone may take it again: each read
//! statement cost two round trips, and PostgreSQL woke up twice for it.
//! Here a connection whose statement ran to its end goes back as it is.
//! One whose statement was interrupted (its request timed out, or its
//! client left) may still have replies in flight: it is closed instead of
//! reused. One left idle for [`IDLE_BEFORE_PING`] is pinged before reuse,
//! as the write pool does on checkout, and one older than [`MAX_LIFETIME`]
//! is replaced. One left unused for the configured idle time is closed
//! ([`reap_idle`]), as sqlx's pool does for writes: a burst of requests
//! does not keep its connections open for ever. Writes, transactions and
//! migrations stay on sea-orm's pool. On SQLite, reads use sea-orm's pool:
//! its connections are in process, and the test costs no round trip.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use futures_util::TryStreamExt as _;
use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, Postgres};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;

/// A connection idle this long is pinged before it is used again: the
/// server or a proxy may have dropped it.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// A connection this old is closed instead of reused, as sqlx's pool
/// does by default: a server process does not grow for ever.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Where a domain's reads go.
#[derive(Clone)]
pub enum Reads {
    /// sea-orm's pool (SQLite).
    Shared(DatabaseConnection),
    /// A PostgreSQL pool without the round trip on release.
    Postgres(Arc<PgReads>),
}

pub struct PgReads {
    pool: managed::Pool<Manager>,
    /// Statements run, shared with the write pool's counter.
    statements: Arc<AtomicU64>,
}

/// How the pool makes and checks its connections.
pub struct Manager {
    options: PgConnectOptions,
}

/// A pooled connection, and whether a statement on it is unfinished.
pub struct Conn {
    raw: PgConnection,
    in_flight: bool,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Conn, sqlx::Error> {
        Ok(Conn {
            raw: PgConnection::connect_with(&self.options).await?,
            in_flight: false,
        })
    }

    async fn recycle(&self, conn: &mut Conn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if conn.in_flight {
            return Err(RecycleError::message("a statement on it was interrupted"));
        }
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("past its lifetime"));
        }
        if metrics.last_used() >= IDLE_BEFORE_PING {
            conn.raw.ping().await?;
        }
        Ok(())
    }
}

impl PgReads {
    /// A pool of at most `size` connections to `url`, reading `schema`.
    /// Statements are logged like the write pool's, at debug under
    /// `sqlx::query`.
    pub fn new(
        url: &str,
        schema: &str,
        size: usize,
        timeout: Duration,
        idle: Duration,
        statements: Arc<AtomicU64>,
    ) -> anyhow::Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        let options = options
            .options([("search_path", format!("\"{schema}\""))])
            .log_statements(log::LevelFilter::Debug);
        let pool = managed::Pool::builder(Manager { options })
            .max_size(size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()?;
        reap_idle(pool.weak(), idle);
        Ok(Self { pool, statements })
    }

    /// How many connections the pool holds now, in use or not.
    pub fn size(&self) -> usize {
        self.pool.status().size
    }

    /// A connection for one statement, counted, and marked as running it
    /// until [`Conn::settle`] sees how the statement ended.
    async fn checkout(&self) -> Result<managed::Object<Manager>, DbErr> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        self.statements.fetch_add(1, Ordering::SeqCst);
        conn.in_flight = true;
        Ok(conn)
    }

    async fn fetch_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.checkout().await?;
        let result = query(&stmt.sql, stmt.values).fetch_all(&mut conn.raw).await;
        conn.settle(&result);
        result
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(|error| DbErr::Query(RuntimeErr::SqlxError(error.into())))
    }

    async fn for_each_row<E: From<DbErr>>(
        &self,
        stmt: Statement,
        mut each: impl FnMut(QueryResult) -> Result<(), E> + Send,
    ) -> Result<(), E> {
        let mut conn = self.checkout().await?;
        let ended = {
            let mut rows = query(&stmt.sql, stmt.values).fetch(&mut conn.raw);
            loop {
                match rows.try_next().await {
                    // On an error of `each`, rows may still be coming: the
                    // connection is left unsettled, and closed on return.
                    Ok(Some(row)) => each(QueryResult::from(row))?,
                    Ok(None) => break Ok(()),
                    Err(error) => break Err(error),
                }
            }
        };
        conn.settle(&ended);
        ended.map_err(|error| DbErr::Query(RuntimeErr::SqlxError(error.into())).into())
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut conn = self.checkout().await?;
        let result = query(&stmt.sql, stmt.values).execute(&mut conn.raw).await;
        conn.settle(&result);
        result
            .map(ExecResult::from)
            .map_err(|error| DbErr::Exec(RuntimeErr::SqlxError(error.into())))
    }
}

impl Conn {
    /// The server's error for a statement leaves the connection ready for
    /// the next one; any other error may not.
    fn settle<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.in_flight = matches!(result, Err(e) if !matches!(e, sqlx::Error::Database(_)));
    }
}

/// `sql` with its parameters bound, as a prepared statement.
fn query(sql: &str, values: Option<Values>) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    sqlx::query_with(
        sqlx::AssertSqlSafe(sql),
        SqlxValues(values.unwrap_or(Values(Vec::new()))),
    )
}

/// Closes, for as long as the pool exists, the connections left unused
/// for `idle` or longer, looking every half of it. Outside a runtime
/// (nothing to run the task) connections are only replaced past their
/// lifetime.
fn reap_idle(pool: managed::WeakPool<Manager>, idle: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no runtime: idle read connections stay open");
        return;
    };
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(idle / 2);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(pool) = pool.upgrade() else {
                return;
            };
            let idle_ones = pool.retain(|_, metrics| metrics.last_used() < idle).removed;
            drop(pool);
            for conn in idle_ones {
                // Says goodbye to the server (`Terminate`); an error only
                // means the connection was gone already.
                conn.raw.close().await.ok();
            }
        }
    });
}

fn pool_error(error: managed::PoolError<sqlx::Error>) -> DbErr {
    match error {
        managed::PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        managed::PoolError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        managed::PoolError::Backend(error) => DbErr::Conn(RuntimeErr::SqlxError(error.into())),
        other => DbErr::Conn(RuntimeErr::Internal(other.to_string())),
    }
}

impl Reads {
    /// Runs `stmt` and hands each row to `each`. On PostgreSQL a row is
    /// handed over as soon as it arrives, so reading it into values
    /// overlaps the server's work on the rows after it (a 5,000-row page
    /// arrives over milliseconds). The first error of `each` stops it.
    pub async fn for_each_row<E: From<DbErr>>(
        &self,
        stmt: Statement,
        mut each: impl FnMut(QueryResult) -> Result<(), E> + Send,
    ) -> Result<(), E> {
        match self {
            Self::Shared(db) => db.query_all_raw(stmt).await?.into_iter().try_for_each(each),
            Self::Postgres(pg) => pg.for_each_row(stmt, &mut each).await,
        }
    }
}

#[async_trait]
impl ConnectionTrait for Reads {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Shared(db) => db.get_database_backend(),
            Self::Postgres(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Shared(db) => db.execute_raw(stmt).await,
            Self::Postgres(pg) => pg.execute(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Shared(db) => db.execute_unprepared(sql).await,
            Self::Postgres(pg) => {
                pg.execute(Statement::from_string(DbBackend::Postgres, sql))
                    .await
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Shared(db) => db.query_one_raw(stmt).await,
            Self::Postgres(pg) => Ok(pg.fetch_all(stmt).await?.into_iter().next()),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Shared(db) => db.query_all_raw(stmt).await,
            Self::Postgres(pg) => pg.fetch_all(stmt).await,
        }
    }
}
