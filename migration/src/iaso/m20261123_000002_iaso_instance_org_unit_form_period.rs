//! `instance (org_unit_id, form_id, period)`: the submissions of a subtree
//! for one form and period are found by probing each org unit of the
//! subtree, which the index on `org_unit_id` alone answered by reading
//! every submission of the unit (about ten per health facility, of any
//! form and period). The new index leads with `org_unit_id`, so it also
//! serves that foreign key, and the old one goes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NEW: &str = "idx_instance_org_unit_id_form_id_period";
const OLD: &str = "idx_instance_org_unit_id";

fn index(name: &str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table("instance").if_not_exists();
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(NEW, &["org_unit_id", "form_id", "period"]))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OLD)
                    .table("instance")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index(OLD, &["org_unit_id"])).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(NEW)
                    .table("instance")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
