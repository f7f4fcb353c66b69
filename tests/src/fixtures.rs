//! Data sets for tests, written through the generated entities so that they
//! are the same on SQLite and PostgreSQL.

use chrono::{TimeZone, Utc};
use entity::iaso::sea_orm_active_enums::{OrgUnitTypeCategory, ValidationStatus};
use entity::iaso::{
    account, data_source, form, group, group_org_units, instance, org_unit, org_unit_type, project,
    source_version,
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, NotSet, Set};

/// The ids of an Iaso pyramid made by [`iaso_tree`].
#[derive(Debug, Clone)]
pub struct Tree {
    pub account: i32,
    pub project: i32,
    pub version: i32,
    pub form: i32,
    pub country: i32,
    pub regions: Vec<i32>,
    /// Per region, its districts.
    pub districts: Vec<Vec<i32>>,
    pub region_type: i32,
    pub district_type: i32,
    pub group: i32,
    pub instances: usize,
}

fn ts(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day.clamp(1, 28), 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// One account with a pyramid: a country, `regions` regions named
/// `Region 00`.., each with `districts` districts named `District r-d`, and
/// `instances` submissions per district (uuid `inst-r-d-i`, periods
/// alternating 202609/202610). The first three regions are in group
/// `Urban`. Every unit has its materialised `path`.
pub async fn iaso_tree(
    db: &DatabaseConnection,
    regions: usize,
    districts: usize,
    instances: usize,
) -> Tree {
    let now = ts(1);
    let account = account::ActiveModel {
        id: NotSet,
        name: Set(format!("Account {}", uuid::Uuid::new_v4().simple())),
        created_at: Set(now),
        updated_at: Set(now),
        default_version_id: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    let project = project::ActiveModel {
        id: NotSet,
        name: Set("Survey".into()),
        app_id: Set(None),
        needs_authentication: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        external_token: Set(None),
        min_version: Set(None),
        account_id: Set(account.id),
    }
    .insert(db)
    .await
    .unwrap();
    let source = data_source::ActiveModel {
        id: NotSet,
        name: Set(format!("Source {}", account.id)),
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
    let unit_type =
        |name: &str, category: OrgUnitTypeCategory, depth: i16| org_unit_type::ActiveModel {
            id: NotSet,
            name: Set(name.into()),
            short_name: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            category: Set(Some(category)),
            depth: Set(Some(depth)),
            reference_form_id: Set(None),
        };
    let country_type = unit_type("Country", OrgUnitTypeCategory::Country, 0)
        .insert(db)
        .await
        .unwrap();
    let region_type = unit_type("Region", OrgUnitTypeCategory::Region, 1)
        .insert(db)
        .await
        .unwrap();
    let district_type = unit_type("District", OrgUnitTypeCategory::District, 2)
        .insert(db)
        .await
        .unwrap();
    let census = form::ActiveModel {
        id: NotSet,
        deleted_at: Set(None),
        form_id: Set(Some("census".into())),
        created_at: Set(now),
        updated_at: Set(now),
        name: Set("Census".into()),
        device_field: Set(None),
        location_field: Set(None),
        correlation_field: Set(None),
        correlatable: Set(false),
        possible_fields: Set(None),
        period_type: Set(None),
        single_per_period: Set(false),
        periods_before_allowed: Set(0),
        periods_after_allowed: Set(0),
        derived: Set(false),
        uuid: Set(uuid::Uuid::new_v4()),
        label_keys: Set(None),
    }
    .insert(db)
    .await
    .unwrap();

    let unit =
        |name: String, parent: Option<i32>, type_id: i32, status: ValidationStatus, day: u32| {
            org_unit::ActiveModel {
                id: NotSet,
                name: Set(name),
                uuid: Set(None),
                custom: Set(false),
                validated: Set(true),
                validation_status: Set(status),
                path: Set(None),
                aliases: Set(None),
                sub_source: Set(None),
                source_ref: Set(None),
                geom: Set(None),
                simplified_geom: Set(None),
                catchment: Set(None),
                geom_ref: Set(None),
                gps_source: Set(None),
                location: Set(None),
                created_at: Set(ts(day)),
                updated_at: Set(ts(day)),
                creator_id: Set(None),
                version_id: Set(version.id),
                parent_id: Set(parent),
                org_unit_type_id: Set(Some(type_id)),
                reference_instance_id: Set(None),
            }
        };
    let with_path = |model: org_unit::Model, path: String| {
        let mut active: org_unit::ActiveModel = model.into();
        active.path = Set(Some(path));
        active
    };
    let country = unit(
        "Country".into(),
        None,
        country_type.id,
        ValidationStatus::Valid,
        1,
    )
    .insert(db)
    .await
    .unwrap();
    let country_path = country.id.to_string();
    with_path(country.clone(), country_path.clone())
        .update(db)
        .await
        .unwrap();

    let mut region_ids = Vec::new();
    let mut district_ids = Vec::new();
    let mut instance_rows = Vec::new();
    for r in 0..regions {
        let status = if r % 4 == 3 {
            ValidationStatus::New
        } else {
            ValidationStatus::Valid
        };
        let region = unit(
            format!("Region {r:02}"),
            Some(country.id),
            region_type.id,
            status,
            2 + r as u32,
        )
        .insert(db)
        .await
        .unwrap();
        let region_path = format!("{country_path}.{}", region.id);
        region_ids.push(region.id);
        with_path(region, region_path.clone())
            .update(db)
            .await
            .unwrap();
        let mut ids = Vec::new();
        for d in 0..districts {
            let district = unit(
                format!("District {r}-{d}"),
                region_ids.last().copied(),
                district_type.id,
                ValidationStatus::Valid,
                3,
            )
            .insert(db)
            .await
            .unwrap();
            ids.push(district.id);
            let path = format!("{region_path}.{}", district.id);
            let district_id = district.id;
            with_path(district, path).update(db).await.unwrap();
            for i in 0..instances {
                instance_rows.push(instance::ActiveModel {
                    id: NotSet,
                    created_at: Set(ts(10 + i as u32)),
                    updated_at: Set(ts(10 + i as u32)),
                    uuid: Set(Some(format!("inst-{r}-{d}-{i}"))),
                    export_id: Set(None),
                    correlation_id: Set(None),
                    name: Set(None),
                    file: Set(None),
                    file_name: Set(None),
                    location: Set(None),
                    json: Set(None),
                    accuracy: Set(None),
                    period: Set(Some(if i % 2 == 0 { "202609" } else { "202610" }.into())),
                    last_export_success_at: Set(None),
                    deleted: Set(false),
                    to_export: Set(false),
                    source_created_at: Set(None),
                    source_updated_at: Set(None),
                    created_by_id: Set(None),
                    last_modified_by_id: Set(None),
                    org_unit_id: Set(Some(district_id)),
                    form_id: Set(census.id),
                    project_id: Set(project.id),
                    device_id: Set(None),
                    entity_id: Set(None),
                });
            }
        }
        district_ids.push(ids);
    }
    let instance_count = instance_rows.len();
    for chunk in instance_rows.chunks(200) {
        instance::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    let urban = group::ActiveModel {
        id: NotSet,
        name: Set("Urban".into()),
        source_ref: Set(None),
        domain: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        source_version_id: Set(version.id),
    }
    .insert(db)
    .await
    .unwrap();
    for &region in region_ids.iter().take(3) {
        group_org_units::ActiveModel {
            group_id: Set(urban.id),
            org_unit_id: Set(region),
        }
        .insert(db)
        .await
        .unwrap();
    }
    Tree {
        account: account.id,
        project: project.id,
        version: version.id,
        form: census.id,
        country: country.id,
        regions: region_ids,
        districts: district_ids,
        region_type: region_type.id,
        district_type: district_type.id,
        group: urban.id,
        instances: instance_count,
    }
}
