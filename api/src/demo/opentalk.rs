//! OpenTalk demo data: two tenants ("avalon" with three users, "borduria"
//! with two), two tariffs, rooms, events with invites, a favourite, room
//! invite codes, a SIP dial-in and a group per tenant.
//!
//! Also, per tenant: an email invite, a shared folder, training report
//! parameters, an asset in a room and a legal vote's module resource; for
//! "avalon", whose tariff allows streaming and recording, a streaming
//! target and a recording, and two exceptions to its weekly series. Shared
//! by both tenants: the controller's access rules (casbin) and its
//! maintenance jobs with their runs and logs.
//!
//! Every row of a tenant refers only to that tenant's users and rooms.

use chrono::{DateTime, Duration, Utc};
use entity::opentalk::sea_orm_active_enums::{
    EmailInviteRole, EventExceptionKind, EventInviteStatus, InviteRole, JobStatus, JobType,
    LogLevel, StreamingKind, TariffStatus,
};
use entity::opentalk::{
    asset, casbin_rule, event, event_email_invite, event_exception, event_favorite, event_invite,
    event_shared_folder, event_training_participation_report_parameter_set, external_tariff, group,
    invite, job, job_execution, job_execution_log, module_resource, room, room_asset,
    room_streaming_target, sip_config, tariff, tenant, user, user_group,
};
use entity::types::StringList;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{at, demo_uuid};

// UUID kinds (see `demo_uuid`).
const UUID_TENANT: u16 = 0x2001;
const UUID_TARIFF: u16 = 0x2002;
const UUID_USER: u16 = 0x2003;
const UUID_OIDC_SUB: u16 = 0x2004;
const UUID_ROOM: u16 = 0x2005;
const UUID_EVENT: u16 = 0x2006;
const UUID_EVENT_INVITE: u16 = 0x2007;
const UUID_INVITE_CODE: u16 = 0x2008;
const UUID_GROUP: u16 = 0x2009;
const UUID_ASSET: u16 = 0x200a;
const UUID_EVENT_EXCEPTION: u16 = 0x200b;
const UUID_MODULE_RESOURCE: u16 = 0x200c;
const UUID_STREAMING_TARGET: u16 = 0x200d;

/// The numbers behind the fixed ids, one sequence per kind of row.
#[derive(Default)]
struct Serials {
    user: u32,
    room: u32,
    event: u32,
    event_invite: u32,
    invite: u32,
    group: u32,
    asset: u32,
    event_exception: u32,
    module_resource: u32,
    streaming_target: u32,
}

fn serial(counter: &mut u32) -> u32 {
    *counter += 1;
    *counter
}

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let tariffs = insert_tariffs(txn).await?;
    let mut serials = Serials::default();
    insert_casbin_rule(txn, "p", &["role::administrator", "/*", ALL_METHODS]).await?;
    avalon(txn, &tariffs, &mut serials).await?;
    borduria(txn, &tariffs, &mut serials).await?;
    insert_jobs(txn).await?;
    Ok(())
}

struct Tariffs {
    starter: Uuid,
    business: Uuid,
}

/// A small and a large tariff, each known to the identity provider under an
/// external id.
async fn insert_tariffs(txn: &DatabaseTransaction) -> anyhow::Result<Tariffs> {
    let created = at(2026, 1, 4, 9, 0)?;
    let specs = [
        (
            "Starter",
            json!({
                "max_storage": 5_368_709_120_u64,
                "room_time_limit_secs": 3_600,
                "room_participant_limit": 10,
            }),
            vec!["recording", "streaming"],
            vec!["call_in"],
            "starter-2026",
        ),
        (
            "Business",
            json!({
                "max_storage": 107_374_182_400_u64,
                "room_time_limit_secs": 86_400,
                "room_participant_limit": 200,
            }),
            vec![],
            vec![],
            "business-2026",
        ),
    ];
    let mut ids = Vec::new();
    for (n, (name, quotas, modules, features, external_id)) in (1u32..).zip(specs) {
        let id = demo_uuid(UUID_TARIFF, n);
        tariff::ActiveModel {
            id: Set(id),
            created_at: Set(created),
            disabled_features: Set(Some(strings(&features))),
            disabled_modules: Set(Some(strings(&modules))),
            name: Set(name.into()),
            quotas: Set(quotas),
            updated_at: Set(created),
        }
        .insert(txn)
        .await?;
        external_tariff::ActiveModel {
            external_id: Set(external_id.into()),
            tariff_id: Set(id),
        }
        .insert(txn)
        .await?;
        ids.push(id);
    }
    match ids.as_slice() {
        &[starter, business] => Ok(Tariffs { starter, business }),
        _ => anyhow::bail!("expected two tariffs"),
    }
}

fn strings(items: &[&str]) -> StringList {
    StringList(items.iter().map(|s| s.to_string()).collect())
}

/// One tenant being loaded.
struct Tenant {
    id: Uuid,
    created: DateTime<Utc>,
}

async fn insert_tenant(
    txn: &DatabaseTransaction,
    n: u32,
    oidc_tenant_id: &str,
    created: DateTime<Utc>,
) -> anyhow::Result<Tenant> {
    let id = demo_uuid(UUID_TENANT, n);
    tenant::ActiveModel {
        id: Set(id),
        created_at: Set(created),
        oidc_tenant_id: Set(oidc_tenant_id.into()),
        updated_at: Set(created),
    }
    .insert(txn)
    .await?;
    Ok(Tenant { id, created })
}

/// A user of `tenant`: (first name, last name, email domain, language).
struct Person {
    first: &'static str,
    last: &'static str,
    domain: &'static str,
    language: &'static str,
    tariff: Uuid,
    tariff_status: TariffStatus,
}

async fn insert_user(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    person: Person,
    serials: &mut Serials,
) -> anyhow::Result<user::Model> {
    let n = serial(&mut serials.user);
    let user = user::ActiveModel {
        id: Set(demo_uuid(UUID_USER, n)),
        tariff_id: Set(person.tariff),
        tenant_id: Set(tenant.id),
        avatar_url: Set(None),
        conference_theme: Set("default".into()),
        dashboard_theme: Set("system".into()),
        disabled_since: Set(None),
        display_name: Set(format!("{} {}", person.first, person.last)),
        email: Set(format!(
            "{}.{}@{}",
            person.first.to_lowercase(),
            person.last.to_lowercase(),
            person.domain
        )),
        firstname: Set(Some(person.first.into())),
        id_serial: Set(Some(i64::from(n))),
        id_token_exp: Set(None),
        language: Set(person.language.into()),
        lastname: Set(Some(person.last.into())),
        // The identity provider's subject: a Keycloak-style UUID.
        oidc_sub: Set(demo_uuid(UUID_OIDC_SUB, n).to_string()),
        phone: Set(None),
        tariff_status: Set(Some(person.tariff_status)),
        title: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(user)
}

/// A room of `tenant` created by `owner`; `password` makes it a protected
/// room with a waiting room.
async fn insert_room(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    owner: &user::Model,
    password: Option<&str>,
    created: DateTime<Utc>,
    serials: &mut Serials,
) -> anyhow::Result<room::Model> {
    let n = serial(&mut serials.room);
    let room = room::ActiveModel {
        id: Set(demo_uuid(UUID_ROOM, n)),
        created_by: Set(owner.id),
        tenant_id: Set(tenant.id),
        created_at: Set(created),
        e2e_encryption: Set(false),
        id_serial: Set(Some(i64::from(n))),
        password: Set(password.map(String::from)),
        waiting_room: Set(password.is_some()),
    }
    .insert(txn)
    .await?;
    Ok(room)
}

/// When an event happens: timed (start, end, time zone), a recurring series
/// (start of the first occurrence, its duration, the end of the series), all
/// day, or not bound to a time at all.
enum When {
    Timed(DateTime<Utc>, DateTime<Utc>, &'static str),
    Weekly {
        first: DateTime<Utc>,
        minutes: i64,
        count: u32,
        tz: &'static str,
    },
    AllDay(DateTime<Utc>),
    TimeIndependent,
}

/// An event in a room of its own, created by `creator`, with its invites.
async fn insert_event(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    creator: &user::Model,
    title: &str,
    when: When,
    invites: &[(&user::Model, EventInviteStatus)],
    serials: &mut Serials,
) -> anyhow::Result<event::Model> {
    let created = tenant.created + Duration::days(30);
    let room = insert_room(txn, tenant, creator, None, created, serials).await?;
    let n = serial(&mut serials.event);
    let mut event = event::ActiveModel {
        id: Set(demo_uuid(UUID_EVENT, n)),
        created_by: Set(creator.id),
        room: Set(room.id),
        tenant_id: Set(tenant.id),
        updated_by: Set(creator.id),
        created_at: Set(created),
        description: Set(None),
        duration_secs: Set(None),
        ends_at: Set(None),
        ends_at_tz: Set(None),
        id_serial: Set(Some(i64::from(n))),
        is_adhoc: Set(false),
        is_all_day: Set(false),
        is_recurring: Set(false),
        is_time_independent: Set(false),
        recurrence_pattern: Set(None),
        revision: Set(0),
        show_meeting_details: Set(true),
        starts_at: Set(None),
        starts_at_tz: Set(None),
        title: Set(title.into()),
        updated_at: Set(created),
    };
    match when {
        When::Timed(starts, ends, tz) => {
            event.starts_at = Set(Some(starts));
            event.starts_at_tz = Set(Some(tz.into()));
            event.ends_at = Set(Some(ends));
            event.ends_at_tz = Set(Some(tz.into()));
        }
        When::Weekly {
            first,
            minutes,
            count,
            tz,
        } => {
            // As OpenTalk stores a series: `duration_secs` is one
            // occurrence, `ends_at` the end of the last one.
            let last_end =
                first + Duration::weeks(i64::from(count) - 1) + Duration::minutes(minutes);
            event.is_recurring = Set(true);
            event.recurrence_pattern = Set(Some(format!("RRULE:FREQ=WEEKLY;COUNT={count}")));
            event.duration_secs = Set(Some(i32::try_from(minutes * 60)?));
            event.starts_at = Set(Some(first));
            event.starts_at_tz = Set(Some(tz.into()));
            event.ends_at = Set(Some(last_end));
            event.ends_at_tz = Set(Some(tz.into()));
        }
        When::AllDay(midnight) => {
            // All-day events run from 00:00 to 00:00 the next day.
            event.is_all_day = Set(true);
            event.starts_at = Set(Some(midnight));
            event.starts_at_tz = Set(Some("UTC".into()));
            event.ends_at = Set(Some(midnight + Duration::days(1)));
            event.ends_at_tz = Set(Some("UTC".into()));
        }
        When::TimeIndependent => {
            event.is_time_independent = Set(true);
        }
    }
    let event = event.insert(txn).await?;
    for (invitee, status) in invites {
        let n = serial(&mut serials.event_invite);
        event_invite::ActiveModel {
            id: Set(demo_uuid(UUID_EVENT_INVITE, n)),
            created_by: Set(creator.id),
            event_id: Set(event.id),
            invitee: Set(invitee.id),
            created_at: Set(created + Duration::minutes(5)),
            role: Set(InviteRole::User),
            status: Set(*status),
        }
        .insert(txn)
        .await?;
    }
    Ok(event)
}

/// A room invite code; `expiration` in the past with `active` false is a
/// code that has run out.
async fn insert_invite_code(
    txn: &DatabaseTransaction,
    room: Uuid,
    by: &user::Model,
    expiration: DateTime<Utc>,
    active: bool,
    created: DateTime<Utc>,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let n = serial(&mut serials.invite);
    invite::ActiveModel {
        id: Set(demo_uuid(UUID_INVITE_CODE, n)),
        created_by: Set(by.id),
        room: Set(room),
        updated_by: Set(by.id),
        active: Set(active),
        created_at: Set(created),
        expiration: Set(Some(expiration)),
        id_serial: Set(Some(i64::from(n))),
        updated_at: Set(created),
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn insert_group(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    name: &str,
    members: &[&user::Model],
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let n = serial(&mut serials.group);
    let group = group::ActiveModel {
        id: Set(demo_uuid(UUID_GROUP, n)),
        tenant_id: Set(tenant.id),
        id_serial: Set(Some(i64::from(n))),
        name: Set(name.into()),
    }
    .insert(txn)
    .await?;
    for member in members {
        user_group::ActiveModel {
            group_id: Set(group.id),
            user_id: Set(member.id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

async fn favorite(
    txn: &DatabaseTransaction,
    event: &event::Model,
    user: &user::Model,
) -> anyhow::Result<()> {
    event_favorite::ActiveModel {
        event_id: Set(event.id),
        user_id: Set(user.id),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Every HTTP method, as the access rules list them.
const ALL_METHODS: &str = "GET|POST|PUT|PATCH|DELETE";

/// An access rule: `ptype` "p" (subject, resource, methods) or "g" (subject,
/// role), as the controller's authorization layer stores them.
async fn insert_casbin_rule(
    txn: &DatabaseTransaction,
    ptype: &str,
    values: &[&str],
) -> anyhow::Result<()> {
    let value = |i: usize| values.get(i).map(|v| v.to_string());
    casbin_rule::ActiveModel {
        ptype: Set(ptype.into()),
        v0: Set(value(0)),
        v1: Set(value(1)),
        v2: Set(value(2)),
        v3: Set(value(3)),
        v4: Set(value(4)),
        v5: Set(value(5)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The owner's full access to a room of theirs.
async fn owns_room(
    txn: &DatabaseTransaction,
    owner: &user::Model,
    room: &room::Model,
) -> anyhow::Result<()> {
    insert_casbin_rule(
        txn,
        "p",
        &[
            &format!("user::{}", owner.id),
            &format!("/rooms/{}", room.id),
            "GET|PUT|DELETE",
        ],
    )
    .await
}

/// One occurrence of a recurring event moved (`Some((starts, ends,
/// title))`) or cancelled (`None`); `occurrence` is its original start.
async fn insert_event_exception(
    txn: &DatabaseTransaction,
    event: &event::Model,
    occurrence: DateTime<Utc>,
    moved: Option<(DateTime<Utc>, DateTime<Utc>, &str)>,
    created: DateTime<Utc>,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let n = serial(&mut serials.event_exception);
    let tz = event.starts_at_tz.clone().unwrap_or_else(|| "UTC".into());
    let mut exception = event_exception::ActiveModel {
        id: Set(demo_uuid(UUID_EVENT_EXCEPTION, n)),
        created_by: Set(event.created_by),
        event_id: Set(event.id),
        created_at: Set(created),
        description: Set(None),
        ends_at: Set(None),
        ends_at_tz: Set(None),
        exception_date: Set(occurrence),
        exception_date_tz: Set(tz.clone()),
        is_all_day: Set(None),
        kind: Set(EventExceptionKind::Cancelled),
        starts_at: Set(None),
        starts_at_tz: Set(None),
        title: Set(None),
    };
    if let Some((starts, ends, title)) = moved {
        exception.kind = Set(EventExceptionKind::Modified);
        exception.starts_at = Set(Some(starts));
        exception.starts_at_tz = Set(Some(tz.clone()));
        exception.ends_at = Set(Some(ends));
        exception.ends_at_tz = Set(Some(tz));
        exception.is_all_day = Set(Some(false));
        exception.title = Set(Some(title.into()));
    }
    exception.insert(txn).await?;
    Ok(())
}

/// An invite to someone outside the tenant, by email.
async fn invite_by_email(
    txn: &DatabaseTransaction,
    event: &event::Model,
    email: &str,
    role: EmailInviteRole,
) -> anyhow::Result<()> {
    event_email_invite::ActiveModel {
        email: Set(email.into()),
        event_id: Set(event.id),
        created_by: Set(event.created_by),
        created_at: Set(event.created_at + Duration::minutes(10)),
        role: Set(role),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The event's folder on the tenant's file cloud, with a read-only and a
/// read-write share, each behind a password.
async fn insert_shared_folder(
    txn: &DatabaseTransaction,
    event: &event::Model,
    cloud: &str,
    shares: (&str, &str),
    passwords: (&str, &str),
) -> anyhow::Result<()> {
    let (read_share, write_share) = shares;
    let (read_password, write_password) = passwords;
    let created = event.created_at + Duration::minutes(1);
    let day = event
        .starts_at
        .map(|s| s.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "undated".into());
    event_shared_folder::ActiveModel {
        event_id: Set(event.id),
        created_at: Set(created),
        path: Set(format!("opentalk/{day} {}", event.title)),
        read_password: Set(Some(read_password.into())),
        read_share_id: Set(read_share.into()),
        read_url: Set(format!("https://{cloud}/s/{read_share}")),
        updated_at: Set(created),
        write_password: Set(Some(write_password.into())),
        write_share_id: Set(write_share.into()),
        write_url: Set(format!("https://{cloud}/s/{write_share}")),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Turns the training participation report on for `event`: participants
/// confirm their presence at random checkpoints, the first within
/// (`first_after`, `first_after + first_within`) seconds, the next ones
/// every `every_after` plus up to `every_within` seconds.
async fn report_participation(
    txn: &DatabaseTransaction,
    event: &event::Model,
    (first_after, first_within): (i64, i64),
    (every_after, every_within): (i64, i64),
) -> anyhow::Result<()> {
    event_training_participation_report_parameter_set::ActiveModel {
        event_id: Set(event.id),
        checkpoint_interval_after: Set(every_after),
        checkpoint_interval_within: Set(every_within),
        initial_checkpoint_delay_after: Set(first_after),
        initial_checkpoint_delay_within: Set(first_within),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// A file a module stored in the room of `event` (a recording, a PDF of the
/// meeting notes or of the whiteboard), in the event's tenant.
async fn insert_asset(
    txn: &DatabaseTransaction,
    event: &event::Model,
    (namespace, kind): (&str, &str),
    filename: &str,
    size: i64,
    created: DateTime<Utc>,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let n = serial(&mut serials.asset);
    let id = demo_uuid(UUID_ASSET, n);
    asset::ActiveModel {
        id: Set(id),
        tenant_id: Set(event.tenant_id),
        created_at: Set(created),
        filename: Set(filename.into()),
        kind: Set(Some(kind.into())),
        namespace: Set(Some(namespace.into())),
        size: Set(Some(size)),
        updated_at: Set(created),
    }
    .insert(txn)
    .await?;
    room_asset::ActiveModel {
        asset_id: Set(id),
        room_id: Set(event.room),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// A legal vote held in the room of `event`, as the legal-vote module keeps
/// it.
async fn insert_vote(
    txn: &DatabaseTransaction,
    event: &event::Model,
    by: &user::Model,
    data: Value,
    created: DateTime<Utc>,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let n = serial(&mut serials.module_resource);
    module_resource::ActiveModel {
        id: Set(demo_uuid(UUID_MODULE_RESOURCE, n)),
        created_by: Set(by.id),
        room_id: Set(event.room),
        tenant_id: Set(event.tenant_id),
        created_at: Set(created),
        data: Set(data),
        namespace: Set("legal_vote".into()),
        tag: Set(Some("protocol".into())),
        updated_at: Set(created),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The controller's maintenance jobs, with their last runs and what they
/// logged.
async fn insert_jobs(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    // Each run: (status, started, seconds it took, logs), each log:
    // (level, seconds after the start, message).
    type Log = (LogLevel, i64, &'static str);
    type Run = (JobStatus, DateTime<Utc>, i64, Vec<Log>);
    // (kind, name, parameters, cron schedule, timeout in seconds, runs).
    type Job = (JobType, &'static str, Value, &'static str, i32, Vec<Run>);
    let jobs: [Job; 3] = [
        (
            JobType::EventCleanup,
            "Event cleanup",
            json!({ "days_since_last_occurrence": 30, "fail_on_shared_folder_deletion_error": false }),
            "0 3 * * *",
            3_600,
            vec![
                (
                    JobStatus::Succeeded,
                    at(2026, 11, 20, 3, 0)?,
                    14,
                    vec![(
                        LogLevel::Info,
                        14,
                        "Deleted 0 events whose last occurrence is more than 30 days ago",
                    )],
                ),
                (
                    JobStatus::Failed,
                    at(2026, 11, 21, 3, 0)?,
                    31,
                    vec![
                        (
                            LogLevel::Warn,
                            29,
                            "Could not delete the shared folder of a deleted event: 503 Service Unavailable",
                        ),
                        (
                            LogLevel::Error,
                            31,
                            "Job failed: 1 shared folder could not be deleted",
                        ),
                    ],
                ),
            ],
        ),
        (
            JobType::SelfCheck,
            "Self check",
            json!({}),
            "0 * * * *",
            60,
            vec![(
                JobStatus::Succeeded,
                at(2026, 11, 21, 9, 0)?,
                2,
                vec![(
                    LogLevel::Info,
                    2,
                    "Database, storage and identity provider reachable",
                )],
            )],
        ),
        (
            JobType::InviteCleanup,
            "Invite cleanup",
            json!({ "days_since_expiry": 30 }),
            "30 3 * * *",
            1_800,
            vec![],
        ),
    ];
    for (kind, name, parameters, recurrence, timeout, runs) in jobs {
        let job = job::ActiveModel {
            kind: Set(kind),
            name: Set(name.into()),
            parameters: Set(Some(parameters)),
            recurrence: Set(Some(recurrence.into())),
            timeout_secs: Set(Some(timeout)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        for (status, started, seconds, logs) in runs {
            let execution = job_execution::ActiveModel {
                job_id: Set(job.id),
                ended_at: Set(Some(started + Duration::seconds(seconds))),
                job_status: Set(status),
                started_at: Set(started),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            for (level, after, message) in logs {
                job_execution_log::ActiveModel {
                    execution_id: Set(execution.id),
                    log_level: Set(level),
                    log_message: Set(message.into()),
                    logged_at: Set(started + Duration::seconds(after)),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
    }
    Ok(())
}

/// What the legal-vote module stores for a closed roll-call vote: its
/// question, who could vote and the (yes, no, abstain) tally.
fn legal_vote(
    name: &str,
    voters: &[&user::Model],
    (yes, no, abstain): (u32, u32, u32),
    started: DateTime<Utc>,
) -> Value {
    let voters: Vec<String> = voters.iter().map(|u| u.id.to_string()).collect();
    json!({
        "name": name,
        "kind": "roll_call",
        "enable_abstain": true,
        "duration": 300,
        "allowed_participants": voters,
        "start_time": started.to_rfc3339(),
        "votes": { "yes": yes, "no": no, "abstain": abstain },
        "result": if yes > no { "accepted" } else { "rejected" },
    })
}

/// A live stream of the room of `event` to the tenant's streaming server.
async fn insert_streaming_target(
    txn: &DatabaseTransaction,
    event: &event::Model,
    name: &str,
    (endpoint, public_url): (&str, &str),
    key: &str,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let n = serial(&mut serials.streaming_target);
    room_streaming_target::ActiveModel {
        id: Set(demo_uuid(UUID_STREAMING_TARGET, n)),
        room_id: Set(event.room),
        kind: Set(StreamingKind::Custom),
        name: Set(name.into()),
        public_url: Set(Some(public_url.into())),
        streaming_endpoint: Set(endpoint.into()),
        streaming_key: Set(key.into()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Tenant "avalon": three users on the business tariff, a protected
/// personal room with SIP dial-in, a weekly series, a one-off meeting and an
/// all-day offsite.
async fn avalon(
    txn: &DatabaseTransaction,
    tariffs: &Tariffs,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let tenant = insert_tenant(txn, 1, "avalon", at(2026, 1, 12, 8, 0)?).await?;
    let person = |first, last| Person {
        first,
        last,
        domain: "avalon.example",
        language: "en-US",
        tariff: tariffs.business,
        tariff_status: TariffStatus::Paid,
    };
    let alice = insert_user(txn, &tenant, person("Alice", "Moreau"), serials).await?;
    let ben = insert_user(txn, &tenant, person("Ben", "Okoye"), serials).await?;
    let chloe = insert_user(txn, &tenant, person("Chloe", "Durand"), serials).await?;

    let personal = insert_room(
        txn,
        &tenant,
        &alice,
        Some("tide-k4r9-51"),
        tenant.created + Duration::days(1),
        serials,
    )
    .await?;
    // Dial-in numbers: ten digits each, as OpenTalk generates them.
    sip_config::ActiveModel {
        room: Set(personal.id),
        enable_lobby: Set(true),
        password: Set("4820175396".into()),
        sip_id: Set("0712345680".into()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    insert_invite_code(
        txn,
        personal.id,
        &alice,
        at(2026, 12, 31, 23, 0)?,
        true,
        at(2026, 11, 2, 10, 0)?,
        serials,
    )
    .await?;
    owns_room(txn, &alice, &personal).await?;
    insert_casbin_rule(
        txn,
        "g",
        &[&format!("user::{}", alice.id), "role::administrator"],
    )
    .await?;

    // 09:30 in Berlin (UTC+1 in winter), five Mondays from 23 November.
    let sync = insert_event(
        txn,
        &tenant,
        &alice,
        "Weekly team sync",
        When::Weekly {
            first: at(2026, 11, 23, 8, 30)?,
            minutes: 30,
            count: 5,
            tz: "Europe/Berlin",
        },
        &[
            (&ben, EventInviteStatus::Accepted),
            (&chloe, EventInviteStatus::Pending),
        ],
        serials,
    )
    .await?;
    favorite(txn, &sync, &ben).await?;
    // The second Monday moved an hour later, the last one (21 December)
    // cancelled for the holidays.
    insert_event_exception(
        txn,
        &sync,
        at(2026, 11, 30, 8, 30)?,
        Some((
            at(2026, 11, 30, 9, 30)?,
            at(2026, 11, 30, 10, 0)?,
            "Weekly team sync (moved to 10:30)",
        )),
        at(2026, 11, 25, 16, 0)?,
        serials,
    )
    .await?;
    insert_event_exception(
        txn,
        &sync,
        at(2026, 12, 21, 8, 30)?,
        None,
        at(2026, 11, 27, 11, 0)?,
        serials,
    )
    .await?;
    insert_asset(
        txn,
        &sync,
        ("whiteboard", "pdf"),
        "whiteboard_2026-11-23.pdf",
        284_611,
        at(2026, 11, 23, 9, 1)?,
        serials,
    )
    .await?;
    let review = insert_event(
        txn,
        &tenant,
        &ben,
        "Quarterly review",
        When::Timed(
            at(2026, 11, 26, 13, 0)?,
            at(2026, 11, 26, 15, 0)?,
            "Europe/Berlin",
        ),
        &[
            (&alice, EventInviteStatus::Accepted),
            (&chloe, EventInviteStatus::Declined),
        ],
        serials,
    )
    .await?;
    invite_by_email(
        txn,
        &review,
        "j.weber@auditors.example",
        EmailInviteRole::Guest,
    )
    .await?;
    insert_shared_folder(
        txn,
        &review,
        "cloud.avalon.example",
        ("Xk7pQ2mRt9LwZa4", "Hn3vB8cYe5JsFd1"),
        ("demo-read-7Qm2", "demo-write-9Tz4"),
    )
    .await?;
    insert_streaming_target(
        txn,
        &review,
        "Company live stream",
        (
            "rtmp://stream.avalon.example/live",
            "https://stream.avalon.example/quarterly-review",
        ),
        "demo-stream-key-avalon-q4",
        serials,
    )
    .await?;
    insert_asset(
        txn,
        &review,
        ("recording", "recording"),
        "recording_2026-11-26_13-00-00-UTC.webm",
        412_338_176,
        at(2026, 11, 26, 15, 2)?,
        serials,
    )
    .await?;
    insert_vote(
        txn,
        &review,
        &ben,
        legal_vote(
            "Approve the 2027 budget",
            &[&alice, &ben],
            (2, 0, 0),
            at(2026, 11, 26, 14, 20)?,
        ),
        at(2026, 11, 26, 14, 25)?,
        serials,
    )
    .await?;
    // An invite code for the review room that has already run out.
    insert_invite_code(
        txn,
        review.room,
        &ben,
        at(2026, 11, 1, 0, 0)?,
        false,
        at(2026, 10, 20, 9, 0)?,
        serials,
    )
    .await?;
    let offsite = insert_event(
        txn,
        &tenant,
        &chloe,
        "Company offsite",
        When::AllDay(at(2026, 12, 4, 0, 0)?),
        &[
            (&alice, EventInviteStatus::Pending),
            (&ben, EventInviteStatus::Accepted),
        ],
        serials,
    )
    .await?;
    // The offsite's safety training: presence checked 10 to 20 minutes in,
    // then every 30 to 40 minutes.
    report_participation(txn, &offsite, (600, 600), (1_800, 600)).await?;
    insert_group(txn, &tenant, "Engineering", &[&alice, &ben], serials).await?;
    Ok(())
}

/// Tenant "borduria": two users on the starter tariff (one downgraded), a
/// protected personal room, a timed briefing and a time-independent event.
async fn borduria(
    txn: &DatabaseTransaction,
    tariffs: &Tariffs,
    serials: &mut Serials,
) -> anyhow::Result<()> {
    let tenant = insert_tenant(txn, 2, "borduria", at(2026, 2, 3, 8, 0)?).await?;
    let person = |first, last, tariff_status| Person {
        first,
        last,
        domain: "borduria.example",
        language: "de-DE",
        tariff: tariffs.starter,
        tariff_status,
    };
    let dora = insert_user(
        txn,
        &tenant,
        person("Dora", "Kral", TariffStatus::Default),
        serials,
    )
    .await?;
    let emil = insert_user(
        txn,
        &tenant,
        person("Emil", "Varga", TariffStatus::Downgraded),
        serials,
    )
    .await?;

    let personal = insert_room(
        txn,
        &tenant,
        &dora,
        Some("szohod-77-blue"),
        tenant.created + Duration::days(1),
        serials,
    )
    .await?;
    insert_invite_code(
        txn,
        personal.id,
        &dora,
        at(2026, 12, 15, 12, 0)?,
        true,
        at(2026, 11, 16, 8, 0)?,
        serials,
    )
    .await?;
    owns_room(txn, &dora, &personal).await?;

    // 08:00 in Budapest (UTC+1 in winter).
    let briefing = insert_event(
        txn,
        &tenant,
        &dora,
        "Dispatch briefing",
        When::Timed(
            at(2026, 11, 24, 7, 0)?,
            at(2026, 11, 24, 7, 30)?,
            "Europe/Budapest",
        ),
        &[(&emil, EventInviteStatus::Pending)],
        serials,
    )
    .await?;
    favorite(txn, &briefing, &dora).await?;
    invite_by_email(
        txn,
        &briefing,
        "leitstelle@rail.borduria.example",
        EmailInviteRole::Moderator,
    )
    .await?;
    insert_shared_folder(
        txn,
        &briefing,
        "cloud.borduria.example",
        ("Qe4rT6yU8iO0pA2", "Zs1xC3vB5nM7kJ9"),
        ("demo-read-4Lk8", "demo-write-2Wq6"),
    )
    .await?;
    // A mandatory briefing: presence checked 2 to 7 minutes in, then every
    // 10 to 15 minutes.
    report_participation(txn, &briefing, (120, 300), (600, 300)).await?;
    // The starter tariff has no recording: the meeting notes are the record.
    insert_asset(
        txn,
        &briefing,
        ("meeting_notes", "pdf"),
        "meeting_notes_2026-11-24.pdf",
        96_512,
        at(2026, 11, 24, 7, 32)?,
        serials,
    )
    .await?;
    insert_vote(
        txn,
        &briefing,
        &dora,
        legal_vote(
            "Adopt the winter dispatch rota",
            &[&dora, &emil],
            (1, 0, 1),
            at(2026, 11, 24, 7, 20)?,
        ),
        at(2026, 11, 24, 7, 25)?,
        serials,
    )
    .await?;
    insert_event(
        txn,
        &tenant,
        &emil,
        "Open questions on the winter timetable",
        When::TimeIndependent,
        &[(&dora, EventInviteStatus::Accepted)],
        serials,
    )
    .await?;
    // The dispatchers' weekly stand-up, two Fridays at 07:45 Budapest time;
    // the second one is cancelled.
    let standup = insert_event(
        txn,
        &tenant,
        &emil,
        "Dispatch stand-up",
        When::Weekly {
            first: at(2026, 11, 27, 6, 45)?,
            minutes: 15,
            count: 2,
            tz: "Europe/Budapest",
        },
        &[(&dora, EventInviteStatus::Accepted)],
        serials,
    )
    .await?;
    insert_event_exception(
        txn,
        &standup,
        at(2026, 12, 4, 6, 45)?,
        None,
        at(2026, 11, 28, 9, 0)?,
        serials,
    )
    .await?;
    // Dial-in for the personal room, and the briefing streamed to the
    // control rooms.
    sip_config::ActiveModel {
        room: Set(personal.id),
        enable_lobby: Set(false),
        password: Set("3917460285".into()),
        sip_id: Set("0798765432".into()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    insert_streaming_target(
        txn,
        &briefing,
        "Control room stream",
        (
            "rtmp://stream.borduria.example/live",
            "https://stream.borduria.example/dispatch-briefing",
        ),
        "demo-stream-key-borduria-db",
        serials,
    )
    .await?;
    insert_group(txn, &tenant, "Operations", &[&dora, &emil], serials).await?;
    Ok(())
}
