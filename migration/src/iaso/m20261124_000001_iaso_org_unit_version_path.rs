//! `org_unit (version_id, path)`: every org-unit read the gateway makes for
//! an account carries its versions (`version_id = 1`), and a subtree is a
//! range of paths. With `version_id` and `path` in one index, a subtree's
//! page ordered by path reads only its own entries, and its `totalCount` is
//! an index-only scan (on the benchmark's 100,000 units, the 13,651 units of
//! a region: 71 index pages, where the `path` index needed a bitmap scan of
//! 368 heap pages to check `version_id`). Paths are in byte order (the
//! previous migration), so the plain index serves `LIKE '1.2.%'`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_org_unit_version_id_path";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("org_unit")
                    .col("version_id")
                    .col("path")
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
                    .table("org_unit")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
