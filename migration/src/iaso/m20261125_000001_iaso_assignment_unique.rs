//! An org unit is assigned at most once per planning: `(planning_id,
//! org_unit_id)` is unique among assignments that are not soft-deleted
//! (a partial unique index, on PostgreSQL and SQLite alike). Live
//! duplicates written before this migration are soft-deleted first, the
//! oldest (lowest id) kept; their `deleted_at` is their own `updated_at`,
//! which keeps the column in the format each backend already stores.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "uq_assignment_planning_id_org_unit_id_live";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE assignment SET deleted_at = updated_at \
                 WHERE deleted_at IS NULL AND EXISTS (SELECT 1 FROM assignment b \
                 WHERE b.planning_id = assignment.planning_id \
                 AND b.org_unit_id = assignment.org_unit_id \
                 AND b.deleted_at IS NULL AND b.id < assignment.id)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("assignment")
                    .col("planning_id")
                    .col("org_unit_id")
                    .unique()
                    .and_where(Expr::col("deleted_at").is_null())
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table("assignment")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
