//! OpenTalk demo data: two tenants ("avalon" with three users, "borduria"
//! with two), two tariffs, rooms, events with invites, a favourite, room
//! invite codes, a SIP dial-in and a group per tenant.
//!
//! Every row of a tenant refers only to that tenant's users and rooms.

use chrono::{DateTime, Duration, Utc};
use entity::opentalk::sea_orm_active_enums::{EventInviteStatus, InviteRole, TariffStatus};
use entity::opentalk::{
    event, event_favorite, event_invite, external_tariff, group, invite, room, sip_config, tariff,
    tenant, user, user_group,
};
use entity::types::StringList;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use serde_json::json;
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

/// The numbers behind the fixed ids, one sequence per kind of row.
#[derive(Default)]
struct Serials {
    user: u32,
    room: u32,
    event: u32,
    event_invite: u32,
    invite: u32,
    group: u32,
}

fn serial(counter: &mut u32) -> u32 {
    *counter += 1;
    *counter
}

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let tariffs = insert_tariffs(txn).await?;
    let mut serials = Serials::default();
    avalon(txn, &tariffs, &mut serials).await?;
    borduria(txn, &tariffs, &mut serials).await?;
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
    insert_event(
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
    insert_group(txn, &tenant, "Operations", &[&dora, &emil], serials).await?;
    Ok(())
}
