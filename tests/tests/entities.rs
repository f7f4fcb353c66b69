//! The generated SeaORM entities work against the migrated schema, the same
//! on SQLite and PostgreSQL: every column type round-trips, relations and
//! many-to-many paths resolve, and the database enforces keys and enums.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use entity::iaso::{
    account, data_source, form, group, group_org_units, instance, org_unit, org_unit_type, project,
    sea_orm_active_enums as iaso_enums, source_version,
};
use entity::types::StringList;
use gateway_tests::{Backend, TestDb, on_both_backends};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait, NotSet, Set,
};
use serde_json::json;

/// A country with one region, in its own account and source.
struct Pyramid {
    account: account::Model,
    project: project::Model,
    version: source_version::Model,
    country: org_unit::Model,
    region: org_unit::Model,
}

async fn pyramid(db: &DatabaseConnection) -> Pyramid {
    let now = Utc::now();
    let account = account::ActiveModel {
        id: NotSet,
        name: Set("Ministry of Health".into()),
        created_at: Set(now),
        updated_at: Set(now),
        default_version_id: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    let project = project::ActiveModel {
        id: NotSet,
        name: Set("Polio".into()),
        app_id: Set(Some("org.health.polio".into())),
        needs_authentication: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        external_token: Set(Some(uuid::Uuid::new_v4())),
        min_version: Set(Some(3)),
        account_id: Set(account.id),
    }
    .insert(db)
    .await
    .unwrap();
    let source = data_source::ActiveModel {
        id: NotSet,
        name: Set("DHIS2".into()),
        read_only: Set(false),
        description: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        credentials_id: Set(None),
        default_version_id: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    let version = source_version::ActiveModel {
        id: NotSet,
        number: Set(1),
        description: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        data_source_id: Set(source.id),
    }
    .insert(db)
    .await
    .unwrap();
    let country_type = org_unit_type::ActiveModel {
        id: NotSet,
        name: Set("Country".into()),
        short_name: Set(Some("CTRY".into())),
        created_at: Set(now),
        updated_at: Set(now),
        category: Set(Some(iaso_enums::OrgUnitTypeCategory::Country)),
        depth: Set(Some(0)),
        reference_form_id: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    let unit = |name: &str, parent: Option<i32>| org_unit::ActiveModel {
        id: NotSet,
        name: Set(name.into()),
        uuid: Set(Some(uuid::Uuid::new_v4().to_string())),
        custom: Set(false),
        validated: Set(true),
        validation_status: Set(iaso_enums::ValidationStatus::Valid),
        path: Set(None),
        aliases: Set(Some(StringList(vec!["Alias One".into(), "Deux".into()]))),
        sub_source: Set(None),
        source_ref: Set(Some(format!("ref-{name}"))),
        geom: Set(Some(
            json!({"type": "MultiPolygon", "coordinates": [[[[1.0, 2.0], [3.0, 4.0], [5.0, 2.0], [1.0, 2.0]]]]}),
        )),
        simplified_geom: Set(None),
        catchment: Set(None),
        geom_ref: Set(None),
        gps_source: Set(None),
        location: Set(Some(json!({"type": "Point", "coordinates": [4.35, 50.85]}))),
        created_at: Set(now),
        updated_at: Set(now),
        creator_id: Set(None),
        version_id: Set(version.id),
        parent_id: Set(parent),
        org_unit_type_id: Set(Some(country_type.id)),
        reference_instance_id: Set(None),
    };
    let country = unit("Belgium", None).insert(db).await.unwrap();
    let region = unit("Brussels", Some(country.id)).insert(db).await.unwrap();
    Pyramid {
        account,
        project,
        version,
        country,
        region,
    }
}

async fn iaso_columns_and_relations_round_trip(backend: Backend) {
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    let db = test.migrated("iaso").await;
    let p = pyramid(&db).await;

    // Every column type comes back as it went in.
    let read = org_unit::Entity::find_by_id(p.region.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, p.region);
    assert_eq!(
        read.aliases,
        Some(StringList(vec!["Alias One".into(), "Deux".into()]))
    );
    assert_eq!(
        read.location.as_ref().unwrap()["coordinates"][0],
        json!(4.35)
    );

    // Belongs-to, has-many and many-to-many through the generated relations.
    // OrgUnit relates to itself twice (parent, children), so it has no
    // `Related<Self>`: the relation enum gives each path.
    let parent = p
        .region
        .find_linked(Via(org_unit::Relation::Parent))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parent.id, p.country.id);
    let children = p
        .country
        .find_linked(Via(org_unit::Relation::Children))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(
        children.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![p.region.id]
    );
    let version = p
        .region
        .find_related(source_version::Entity)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(version.id, p.version.id);

    let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 30, 0).unwrap();
    let g = group::ActiveModel {
        id: NotSet,
        name: Set("Urban".into()),
        source_ref: Set(None),
        domain: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        source_version_id: Set(p.version.id),
    }
    .insert(&db)
    .await
    .unwrap();
    for unit in [&p.country, &p.region] {
        group_org_units::ActiveModel {
            group_id: Set(g.id),
            org_unit_id: Set(unit.id),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    let members = g.find_related(org_unit::Entity).all(&db).await.unwrap();
    assert_eq!(members.len(), 2);
    let groups = p
        .region
        .find_linked(org_unit::GroupsLink)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(
        groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        vec!["Urban"]
    );

    // Decimal, JSON, timestamps with time zone, enums.
    let f = form::ActiveModel {
        id: NotSet,
        deleted_at: Set(None),
        form_id: Set(Some("household_survey".into())),
        created_at: Set(now),
        updated_at: Set(now),
        name: Set("Household survey".into()),
        device_field: Set(None),
        location_field: Set(None),
        correlation_field: Set(None),
        correlatable: Set(false),
        possible_fields: Set(Some(
            json!([{"name": "age", "label": "Age", "type": "integer"}]),
        )),
        period_type: Set(Some(iaso_enums::PeriodType::QuarterNov)),
        single_per_period: Set(true),
        periods_before_allowed: Set(1),
        periods_after_allowed: Set(0),
        derived: Set(false),
        uuid: Set(uuid::Uuid::new_v4()),
        label_keys: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    let submitted = instance::ActiveModel {
        id: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
        uuid: Set(Some(uuid::Uuid::new_v4().to_string())),
        export_id: Set(None),
        correlation_id: Set(Some(9_007_199_254_740_993)),
        name: Set(None),
        file: Set(Some("instances/abc.xml".into())),
        file_name: Set(Some("abc.xml".into())),
        location: Set(None),
        json: Set(Some(json!({"age": 42}))),
        accuracy: Set(Some(Decimal::new(1250, 2))),
        period: Set(Some("2026Q4".into())),
        last_export_success_at: Set(None),
        deleted: Set(false),
        to_export: Set(false),
        source_created_at: Set(Some(now)),
        source_updated_at: Set(None),
        created_by_id: Set(None),
        last_modified_by_id: Set(None),
        org_unit_id: Set(Some(p.region.id)),
        form_id: Set(f.id),
        project_id: Set(p.project.id),
        device_id: Set(None),
        entity_id: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    let read = instance::Entity::find_by_id(submitted.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.accuracy, Some(Decimal::new(1250, 2)));
    assert_eq!(read.created_at, now);
    assert_eq!(read.correlation_id, Some(9_007_199_254_740_993));
    let read_form = form::Entity::find_by_id(f.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read_form, f);
    assert_eq!(p.account.name, "Ministry of Health");
}

/// One of OrgUnit's relations to itself, as a typed path.
struct Via(org_unit::Relation);

impl sea_orm::Linked for Via {
    type FromEntity = org_unit::Entity;
    type ToEntity = org_unit::Entity;

    fn link(&self) -> Vec<sea_orm::RelationDef> {
        use sea_orm::RelationTrait;
        vec![self.0.def()]
    }
}

async fn the_database_enforces_keys_and_enums(backend: Backend) {
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    let db = test.migrated("iaso").await;
    let p = pyramid(&db).await;

    // A foreign key that points nowhere.
    let mut orphan: org_unit::ActiveModel = p.region.clone().into();
    orphan.id = NotSet;
    orphan.uuid = Set(None);
    orphan.version_id = Set(999_999);
    assert!(
        orphan.insert(&db).await.is_err(),
        "an org unit in a missing version was stored"
    );

    // A duplicate unique key.
    let mut twin: org_unit::ActiveModel = p.region.clone().into();
    twin.id = NotSet;
    assert!(
        twin.insert(&db).await.is_err(),
        "a duplicate org unit uuid was stored"
    );

    // A value outside the enum.
    let bad = db
        .execute_unprepared(&format!(
            "UPDATE org_unit SET validation_status = 'MAYBE' WHERE id = {}",
            p.region.id
        ))
        .await;
    assert!(bad.is_err(), "an unknown validation status was stored");
    let kept = org_unit::Entity::find_by_id(p.region.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.validation_status, iaso_enums::ValidationStatus::Valid);
}

async fn secrets_are_never_serialized(backend: Backend) {
    use entity::opentalk::{room as rooms, tariff as tariffs, tenant as tenants, user as users};
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    let db = test.migrated("opentalk").await;
    let now = Utc::now();
    let tenant = tenants::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        created_at: Set(now),
        oidc_tenant_id: Set("acme".into()),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    let tariff = tariffs::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        created_at: Set(now),
        disabled_features: Set(Some(StringList(vec!["recording".into()]))),
        disabled_modules: Set(None),
        name: Set("basic".into()),
        quotas: Set(json!({"max_storage": 1024, "room_time_limit_secs": 3600, "room_participant_limit": 20})),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    let user = users::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        tariff_id: Set(tariff.id),
        tenant_id: Set(tenant.id),
        avatar_url: Set(None),
        conference_theme: Set("dark".into()),
        dashboard_theme: Set("light".into()),
        disabled_since: Set(None),
        display_name: Set("Ada".into()),
        email: Set("ada@example.org".into()),
        firstname: Set(Some("Ada".into())),
        id_serial: Set(Some(1)),
        id_token_exp: Set(None),
        language: Set("en".into()),
        lastname: Set(None),
        oidc_sub: Set("sub-1".into()),
        phone: Set(None),
        tariff_status: Set(Some(
            entity::opentalk::sea_orm_active_enums::TariffStatus::Paid,
        )),
        title: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    let room = rooms::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        created_by: Set(user.id),
        tenant_id: Set(tenant.id),
        created_at: Set(now),
        e2e_encryption: Set(true),
        id_serial: Set(None),
        password: Set(Some("hunter2".into())),
        waiting_room: Set(false),
    }
    .insert(&db)
    .await
    .unwrap();
    assert_eq!(room.password.as_deref(), Some("hunter2"));
    let serialized = serde_json::to_value(&room).unwrap();
    assert!(
        serialized.get("password").is_none(),
        "the room password was serialized: {serialized}"
    );
    let secret_names: Vec<String> = rooms::SECRET_COLUMNS
        .iter()
        .map(|c| sea_orm::IdenStatic::as_str(c).to_string())
        .collect();
    assert_eq!(secret_names, vec!["password"]);
    let read = users::Entity::find_by_id(user.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, user);
}

async fn chat_ids_wider_than_32_bits(backend: Backend) {
    use entity::gans::{credit, gans, user};
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    let db = test.migrated("gans").await;
    let id = 5_000_000_000_i64;
    let sender = user::ActiveModel {
        user_id: Set(id),
        user_username: Set(Some("goose_fan".into())),
    }
    .insert(&db)
    .await
    .unwrap();
    let credit = credit::ActiveModel {
        credit_id: NotSet,
        start_price: Set(10),
        end_time: Set(None),
        amount_of_stickers: Set(1),
        allowed_duration: Set(60),
    }
    .insert(&db)
    .await
    .unwrap();
    let sticker = gans::ActiveModel {
        gans_id: NotSet,
        user_id: Set(sender.user_id),
        credit_id: Set(Some(credit.credit_id)),
        date: Set(Utc::now()),
    }
    .insert(&db)
    .await
    .unwrap();
    let sent = sender.find_related(gans::Entity).all(&db).await.unwrap();
    assert_eq!(sent, vec![sticker]);
}

on_both_backends!(
    iaso_columns_and_relations_round_trip,
    the_database_enforces_keys_and_enums,
    secrets_are_never_serialized,
    chat_ids_wider_than_32_bits,
);
