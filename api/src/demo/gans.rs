//! Gans demo data: four chat users, three credits (one expired, one active,
//! one not started yet), the goose stickers sent under them, and the
//! warnings two of those stickers earned.
//!
//! "Active" is relative to the reference day (2026-11-21): the active
//! credit was started on 15 November for 30 days, so it runs until
//! 15 December 2026 and reads as expired after that.

use chrono::{DateTime, Duration, Utc};
use entity::gans::{credit, gans, user, warning};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

use super::at;

/// The chat users: the platform's own (large) user ids and their usernames,
/// if they have one.
const USERS: [(i64, Option<&str>); 4] = [
    (5_000_000_001, Some("goose_fan")),
    (5_000_000_002, Some("marta_k")),
    (5_000_000_003, None),
    (5_000_000_004, Some("honk_honk")),
];

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    for (user_id, username) in USERS {
        user::ActiveModel {
            user_id: Set(user_id),
            user_username: Set(username.map(String::from)),
        }
        .insert(txn)
        .await?;
    }
    let [goose_fan, marta, anonymous, honk] = USERS.map(|(id, _)| id);

    // Expired: one sticker per user for an hour on 14 November.
    let expired_start = at(2026, 11, 14, 18, 0)?;
    let expired = insert_credit(txn, 50, 1, 60, Some(expired_start)).await?;
    // Active: five stickers per user over 30 days from 15 November.
    let active_start = at(2026, 11, 15, 12, 0)?;
    let active = insert_credit(txn, 200, 5, 30 * 24 * 60, Some(active_start)).await?;
    // Registered but not started: no end time yet.
    insert_credit(txn, 80, 1, 60, None).await?;

    insert_sticker(
        txn,
        goose_fan,
        Some(&expired),
        expired_start + Duration::minutes(5),
    )
    .await?;
    insert_sticker(
        txn,
        marta,
        Some(&expired),
        expired_start + Duration::minutes(41),
    )
    .await?;
    // goose_fan's second sticker under a one-sticker credit: over the limit.
    let over_limit = insert_sticker(
        txn,
        goose_fan,
        Some(&expired),
        expired_start + Duration::minutes(52),
    )
    .await?;
    insert_warning(txn, &over_limit, "more stickers than the credit allows").await?;

    // Between the two credits, no credit was active.
    let uncovered = insert_sticker(txn, anonymous, None, at(2026, 11, 15, 9, 30)?).await?;
    insert_warning(txn, &uncovered, "sticker sent while no credit was active").await?;

    for (user_id, minutes) in [
        (goose_fan, 15),
        (marta, 60 * 26),
        (honk, 60 * 50),
        (goose_fan, 60 * 98),
    ] {
        insert_sticker(
            txn,
            user_id,
            Some(&active),
            active_start + Duration::minutes(minutes),
        )
        .await?;
    }
    Ok(())
}

/// A credit; a `started` one ends `allowed_duration` minutes later.
async fn insert_credit(
    txn: &DatabaseTransaction,
    start_price: i32,
    amount_of_stickers: i32,
    allowed_duration: i32,
    started: Option<DateTime<Utc>>,
) -> anyhow::Result<credit::Model> {
    let end_time = started.map(|s| s + Duration::minutes(i64::from(allowed_duration)));
    Ok(credit::ActiveModel {
        start_price: Set(start_price),
        end_time: Set(end_time),
        amount_of_stickers: Set(amount_of_stickers),
        allowed_duration: Set(allowed_duration),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

async fn insert_sticker(
    txn: &DatabaseTransaction,
    user_id: i64,
    credit: Option<&credit::Model>,
    date: DateTime<Utc>,
) -> anyhow::Result<gans::Model> {
    Ok(gans::ActiveModel {
        user_id: Set(user_id),
        credit_id: Set(credit.map(|c| c.credit_id)),
        date: Set(date),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// The warning a sticker earned, dated when it was sent.
async fn insert_warning(
    txn: &DatabaseTransaction,
    sticker: &gans::Model,
    reason: &str,
) -> anyhow::Result<()> {
    warning::ActiveModel {
        gans_id: Set(sticker.gans_id),
        user_id: Set(sticker.user_id),
        date_format: Set(sticker.date),
        reason: Set(Some(reason.into())),
    }
    .insert(txn)
    .await?;
    Ok(())
}
