//! The embedded demo data set: a small, realistic and fully deterministic
//! set of rows per domain, loaded into a fresh database so that a new
//! gateway has something to serve.
//!
//! Every domain's data has two tenants (two Iaso accounts, two OpenTalk
//! tenants, two PlaceOS authorities, two telemetry customers), kept apart
//! row by row, so that tenant isolation can be seen and tested on it.
//!
//! Nothing here is random: ids that the database does not number are fixed
//! UUIDs or strings, and every timestamp is a fixed instant around
//! [`REFERENCE_DAY`], the day the data set pretends to be "today".

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait};
use uuid::Uuid;

mod gans;
mod iaso;
mod opentalk;
mod placeos;
mod telemetry;

/// The password of every demo account that can `login` (Iaso, telemetry
/// and PlaceOS users; the README lists them). Public on purpose: demo data
/// is for trying the gateway, never for production.
pub const DEMO_PASSWORD: &str = "gateway-demo";

/// The argon2id hash of [`DEMO_PASSWORD`], computed once per process.
pub(crate) fn demo_password_hash() -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash.clone());
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(DEMO_PASSWORD.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?
        .to_string();
    Ok(HASH.get_or_init(|| hash).clone())
}

/// The day the demo data treats as "today" (year, month, day): instances,
/// plannings, events and credits are placed around it.
pub const REFERENCE_DAY: (i32, u32, u32) = (2026, 11, 21);

/// Loads the demo data set of `domain` into `db` if the domain's database is empty
/// (no row in its first table, e.g. `account` for iaso). Returns true if it loaded.
pub async fn load_if_empty(domain: &str, db: &DatabaseConnection) -> anyhow::Result<bool> {
    // All or nothing: a failure anywhere rolls the whole domain back when
    // `txn` is dropped without a commit.
    let txn = db.begin().await.context("starting the demo transaction")?;
    let loaded = match domain {
        "iaso" => {
            if is_empty::<entity::iaso::account::Entity>(&txn).await? {
                iaso::load(&txn).await?;
                true
            } else {
                false
            }
        }
        "opentalk" => {
            if is_empty::<entity::opentalk::tenant::Entity>(&txn).await? {
                opentalk::load(&txn).await?;
                true
            } else {
                false
            }
        }
        "placeos" => {
            if is_empty::<entity::placeos::authority::Entity>(&txn).await? {
                placeos::load(&txn).await?;
                true
            } else {
                false
            }
        }
        "telemetry" => {
            if is_empty::<entity::telemetry::customer::Entity>(&txn).await? {
                telemetry::load(&txn).await?;
                true
            } else {
                false
            }
        }
        "gans" => {
            if is_empty::<entity::gans::user::Entity>(&txn).await? {
                gans::load(&txn).await?;
                true
            } else {
                false
            }
        }
        other => bail!("unknown domain `{other}`: there is no demo data set for it"),
    };
    txn.commit()
        .await
        .with_context(|| format!("committing the {domain} demo data"))?;
    Ok(loaded)
}

/// Whether the table of `E` has no row.
async fn is_empty<E: EntityTrait>(txn: &DatabaseTransaction) -> anyhow::Result<bool> {
    let first = E::find()
        .one(txn)
        .await
        .context("checking whether the database is empty")?;
    Ok(first.is_none())
}

/// A fixed instant, in UTC.
fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> anyhow::Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .with_context(|| format!("invalid demo time {year}-{month}-{day} {hour}:{minute}"))
}

/// A fixed calendar day.
fn day(year: i32, month: u32, day: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
        .with_context(|| format!("invalid demo date {year}-{month}-{day}"))
}

/// A fixed, readable UUID: `de300000-0000-KKKK-0000-NNNNNNNNNNNN`, where
/// `kind` tells what it identifies (each domain numbers its own kinds) and `n`
/// which one. Unique as long as each (kind, n) pair is used once.
fn demo_uuid(kind: u16, n: u32) -> Uuid {
    const PREFIX: u128 = 0xde30_0000_0000_0000_0000_0000_0000_0000;
    Uuid::from_u128(PREFIX | (u128::from(kind) << 64) | u128::from(n))
}
