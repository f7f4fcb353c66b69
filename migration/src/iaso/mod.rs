//! Migrations of the `iaso` domain, oldest first. A migration that has
//! landed is never edited; a change of the model gets a new one here.

use sea_orm_migration::prelude::*;

mod m20261121_000001_iaso_initial;
mod m20261122_000001_iaso_user_roles;
mod m20261123_000001_iaso_path_byte_order;
mod m20261123_000002_iaso_instance_org_unit_form_period;
mod m20261124_000001_iaso_org_unit_version_path;
mod m20261125_000001_iaso_assignment_unique;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_iaso_initial::Migration),
            Box::new(m20261122_000001_iaso_user_roles::Migration),
            Box::new(m20261123_000001_iaso_path_byte_order::Migration),
            Box::new(m20261123_000002_iaso_instance_org_unit_form_period::Migration),
            Box::new(m20261124_000001_iaso_org_unit_version_path::Migration),
            Box::new(m20261125_000001_iaso_assignment_unique::Migration),
        ]
    }
}
