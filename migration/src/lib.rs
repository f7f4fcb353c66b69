//! One sea-orm migrator per domain. Each domain lives in its own namespace:
//! a SQLite file, or a PostgreSQL schema, so every migrator keeps its own
//! `seaql_migrations` table beside its tables.

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{DatabaseConnection, DbErr};

pub mod gans;
pub mod iaso;
pub mod opentalk;
pub mod placeos;
pub mod telemetry;

/// Applies every pending migration of `domain`. Running it again is a no-op.
pub async fn up(db: &DatabaseConnection, domain: &str) -> Result<(), DbErr> {
    match domain {
        "iaso" => iaso::Migrator::up(db, None).await,
        "opentalk" => opentalk::Migrator::up(db, None).await,
        "placeos" => placeos::Migrator::up(db, None).await,
        "telemetry" => telemetry::Migrator::up(db, None).await,
        "gans" => gans::Migrator::up(db, None).await,
        other => Err(DbErr::Custom(format!("unknown domain `{other}`"))),
    }
}

/// The number of migrations of `domain` not yet applied.
pub async fn pending(db: &DatabaseConnection, domain: &str) -> Result<usize, DbErr> {
    let pending = match domain {
        "iaso" => iaso::Migrator::get_pending_migrations(db).await?,
        "opentalk" => opentalk::Migrator::get_pending_migrations(db).await?,
        "placeos" => placeos::Migrator::get_pending_migrations(db).await?,
        "telemetry" => telemetry::Migrator::get_pending_migrations(db).await?,
        "gans" => gans::Migrator::get_pending_migrations(db).await?,
        other => return Err(DbErr::Custom(format!("unknown domain `{other}`"))),
    };
    Ok(pending.len())
}

/// The number of migrations `domain` has.
pub fn count(domain: &str) -> usize {
    match domain {
        "iaso" => iaso::Migrator::migrations().len(),
        "opentalk" => opentalk::Migrator::migrations().len(),
        "placeos" => placeos::Migrator::migrations().len(),
        "telemetry" => telemetry::Migrator::migrations().len(),
        "gans" => gans::Migrator::migrations().len(),
        _ => 0,
    }
}
