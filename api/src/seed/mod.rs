//! `gateway seed`: a large, realistic and deterministic data set, for
//! benchmarks and for trying the gateway at scale.
//!
//! Rows are generated in memory from a seeded PRNG (ChaCha8, from the
//! `rand_chacha` crate, one independent stream per table so that adding rows
//! to one table never changes another's) and written with multi-row
//! `INSERT`s built with sea-query, each under SQLite's 32766-parameter
//! limit, inside one transaction. Statements are built on a blocking thread
//! while the previous one runs, so that generation and the database overlap.
//!
//! Ids are assigned here, not by the database, so that a seed gives the same
//! ids, paths and names on SQLite and PostgreSQL; on PostgreSQL the id
//! sequences are moved past them afterwards.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sea_orm::sea_query::{Expr, Query, Value};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};

use crate::config::Config;

mod iaso;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    /// Org units in the pyramid (all levels together).
    pub org_units: u64,
    /// Average submissions per lowest-level org unit.
    pub instances_per_unit: u32,
    /// The PRNG seed: the same seed gives the same rows.
    pub seed: u64,
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    /// Rows written per table, in the order they were written.
    pub tables: Vec<(&'static str, u64)>,
    pub elapsed: Duration,
}

impl SeedReport {
    /// Rows written into `table` (0 when none).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, n)| n)
            .sum()
    }

    /// Rows written in all.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Migrates `domain`'s database and fills it. The database must hold no data
/// yet: a seed is reproducible only into an empty one.
pub async fn run(
    config: &Config,
    domain: &str,
    options: &SeedOptions,
) -> anyhow::Result<SeedReport> {
    if domain != "iaso" {
        bail!("there is no data generator for `{domain}`: only `iaso` has one");
    }
    let db = crate::db::connect(config, domain).await?;
    let pending = migration::pending(&db, domain).await?;
    migration::up(&db, domain)
        .await
        .with_context(|| format!("migrating {domain}"))?;
    if pending > 0 {
        tracing::info!(domain, applied = pending, "migrated");
    }
    let report = seed_iaso(&db, options).await;
    db.close().await.ok();
    report
}

/// Fills an already migrated, empty Iaso database.
pub async fn seed_iaso(
    db: &DatabaseConnection,
    options: &SeedOptions,
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let existing = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM account",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if existing > 0 {
        bail!(
            "the iaso database already holds {existing} account(s): `seed` writes into an empty \
             database only (use a fresh GATEWAY_DATA_DIR, or GATEWAY_PG_SCHEMA_PREFIX on PostgreSQL)"
        );
    }
    let plan = iaso::Plan::new(options)?;
    let txn = db.begin().await.context("starting the seed transaction")?;
    let mut writer = Writer::new(&txn, plan.estimated_rows());
    plan.write(&mut writer).await?;
    let tables = std::mem::take(&mut writer.tables);
    writer.finish();
    if db.get_database_backend() == DbBackend::Postgres {
        // Ids were given explicitly: move each sequence past them.
        for table in iaso::TABLES_WITH_IDS {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), \
                 COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
            ))
            .await
            .with_context(|| format!("resetting the id sequence of {table}"))?;
        }
    }
    txn.commit().await.context("committing the seed")?;
    // Fresh statistics, so that the planner knows the tables' sizes (only
    // this domain's tables: a bare ANALYZE would visit every schema). On
    // PostgreSQL also VACUUM, as autovacuum would soon after a bulk load:
    // it marks the new pages all-visible, so counts can be index-only from
    // the first request, and no reader pays for setting hint bits, nor
    // competes with autovacuum's own pass over a million new rows.
    let maintenance = if db.get_database_backend() == DbBackend::Postgres {
        "VACUUM (ANALYZE)"
    } else {
        "ANALYZE"
    };
    let mut analyzed: Vec<&str> = tables.iter().map(|(t, _)| *t).collect();
    analyzed.dedup();
    for table in analyzed {
        db.execute_unprepared(&format!("{maintenance} \"{table}\""))
            .await
            .with_context(|| format!("analyzing {table}"))?;
    }
    let report = SeedReport {
        tables,
        elapsed: started.elapsed(),
    };
    tracing::info!(
        rows = report.total(),
        seconds = report.elapsed.as_secs_f64(),
        "seeded"
    );
    Ok(report)
}

/// A fresh PRNG for one purpose: the seed's stream number `stream`.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Values per statement: under SQLite's limit of 32766 bound parameters.
const MAX_PARAMS: usize = 32_000;

/// Writes rows in large multi-row `INSERT`s and reports progress.
pub(crate) struct Writer<'a> {
    txn: &'a DatabaseTransaction,
    backend: DbBackend,
    progress: Progress,
    tables: Vec<(&'static str, u64)>,
}

impl<'a> Writer<'a> {
    fn new(txn: &'a DatabaseTransaction, estimated_rows: u64) -> Self {
        Self {
            txn,
            backend: txn.get_database_backend(),
            progress: Progress::new(estimated_rows),
            tables: Vec::new(),
        }
    }

    /// Inserts every row of `rows` (one value per column, in `columns`'
    /// order) into `table`. Statements are built on a blocking thread while
    /// the previous one runs.
    pub(crate) async fn insert<I>(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        rows: I,
    ) -> anyhow::Result<u64>
    where
        I: Iterator<Item = Vec<Value>> + Send + 'static,
    {
        let per_statement = (MAX_PARAMS / columns.len().max(1)).max(1);
        let backend = self.backend;
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<anyhow::Result<(Statement, u64)>>(2);
        let producer = tokio::task::spawn_blocking(move || {
            let mut rows = rows.peekable();
            while rows.peek().is_some() {
                let built =
                    build_insert(backend, table, columns, rows.by_ref().take(per_statement));
                let failed = built.is_err();
                if sender.blocking_send(built).is_err() || failed {
                    // The writer stopped (it failed), or building did.
                    break;
                }
            }
        });
        self.progress.table(table);
        let mut written = 0;
        while let Some(built) = receiver.recv().await {
            let (statement, count) = built?;
            self.txn
                .execute_raw(statement)
                .await
                .with_context(|| format!("inserting into {table}"))?;
            written += count;
            self.progress.advance(table, count);
        }
        producer
            .await
            .with_context(|| format!("generating the rows of {table}"))?;
        self.tables.push((table, written));
        Ok(written)
    }

    /// Runs one statement as is (an `UPDATE` closing a reference cycle).
    pub(crate) async fn execute(&self, statement: Statement) -> anyhow::Result<()> {
        self.txn.execute_raw(statement).await?;
        Ok(())
    }

    pub(crate) fn backend(&self) -> DbBackend {
        self.backend
    }

    fn finish(self) {
        self.progress.finish();
    }
}

fn build_insert(
    backend: DbBackend,
    table: &'static str,
    columns: &'static [&'static str],
    rows: impl Iterator<Item = Vec<Value>>,
) -> anyhow::Result<(Statement, u64)> {
    let mut insert = Query::insert();
    insert.into_table(table).columns(columns.iter().copied());
    let mut count = 0;
    for row in rows {
        insert
            .values(row.into_iter().map(Expr::Value))
            .with_context(|| format!("a row of {table}"))?;
        count += 1;
    }
    Ok((backend.build(&insert), count))
}

/// A progress bar on a terminal; otherwise a log line every few seconds.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_log: Instant,
    done: u64,
    total: u64,
}

const LOG_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/~{human_len} rows, {per_sec} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            started: now,
            last_log: now,
            done: 0,
            total,
        }
    }

    fn table(&mut self, table: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(table.to_string());
        }
    }

    fn advance(&mut self, table: &str, rows: u64) {
        self.done += rows;
        if self.done > self.total {
            self.total = self.done;
            if let Some(bar) = &self.bar {
                bar.set_length(self.total);
            }
        }
        match &self.bar {
            Some(bar) => bar.inc(rows),
            None if self.last_log.elapsed() >= LOG_EVERY => {
                self.last_log = Instant::now();
                let seconds = self.started.elapsed().as_secs_f64();
                tracing::info!(
                    table,
                    rows = self.done,
                    of_about = self.total,
                    rows_per_second = (self.done as f64 / seconds.max(1e-3)).round(),
                    "seeding"
                );
            }
            None => {}
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
