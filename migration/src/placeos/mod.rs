//! Migrations of the `placeos` domain, oldest first. A migration that has
//! landed is never edited; a change of the model gets a new one here.

use sea_orm_migration::prelude::*;

mod m20261121_000001_placeos_initial;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261121_000001_placeos_initial::Migration)]
    }
}
