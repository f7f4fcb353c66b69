//! Materialised paths in byte order on PostgreSQL: `org_unit.path` and
//! `team.path` take the `C` collation.
//!
//! A path (`1.2.12`) is a machine key: a subtree is the range of paths that
//! start with its root's path and a dot. Under a linguistic collation
//! PostgreSQL can serve `path LIKE '1.2.%'` only from the
//! `text_pattern_ops` index, whose order is not the column's, so a subtree
//! page ordered by path walked the plain `path` index from its first entry
//! and filtered every entry before the subtree (on the benchmark's 100,000
//! units, ~20,000 index entries for the second region's first page). In
//! byte order the plain index serves both the prefix range and the order,
//! and such a page reads only its own rows. SQLite compares text bytewise
//! already: nothing to do there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PATHS: &[&str] = &["org_unit", "team"];

async fn collate(manager: &SchemaManager<'_>, collation: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in PATHS {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE \"{table}\" ALTER COLUMN \"path\" TYPE text COLLATE {collation}"
            ))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        collate(manager, "\"C\"").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        collate(manager, "\"default\"").await
    }
}
