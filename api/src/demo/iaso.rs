//! Iaso demo data: two ministries of health (accounts 1 and 2), each with
//! its own data source, org-unit pyramid, projects, forms, submissions,
//! users, teams and a micro-planning.
//!
//! Per account: 1 country, 3 regions, 6 districts and 18 health facilities
//! (28 org units); 3 forms with 2 versions each; 3 monthly reports per
//! facility for 202609 to 202611 plus a duplicate, a deleted duplicate, 6
//! assessments and 5 campaign tallies (67 instances); 3 users; 3 teams; 1
//! planning with 5 assignments; 1 entity type with 2 entities.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use entity::iaso::sea_orm_active_enums::{
    OrgUnitTypeCategory, PeriodType, TeamType, ValidationStatus,
};
use entity::iaso::{
    account, account_users, assignment, data_source, data_source_projects, device, device_projects,
    entity as iaso_entity, entity_type, feature_flag, form, form_org_unit_types, form_version,
    group, group_org_units, instance, org_unit, org_unit_type, org_unit_type_projects,
    org_unit_type_sub_unit_types, planning, planning_forms, profile, profile_org_units, project,
    project_feature_flags, project_forms, source_version, team, team_users, user,
};
use entity::types::StringList;
use sea_orm::prelude::Decimal;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, IntoActiveModel, Set};
use serde_json::{Value, json};

use super::{at, day, demo_uuid};

// UUID kinds (see `demo_uuid`).
const UUID_PROJECT_TOKEN: u16 = 0x1001;
const UUID_FORM: u16 = 0x1002;
const UUID_ORG_UNIT: u16 = 0x1003;
const UUID_INSTANCE: u16 = 0x1004;
const UUID_ENTITY: u16 = 0x1005;

/// The monthly reporting periods the submissions cover.
const PERIODS: [&str; 3] = ["202609", "202610", "202611"];

/// Django's "unusable password" marker: the demo users cannot log in with a
/// password until one is set (no password hasher is linked into the gateway).
const UNUSABLE_PASSWORD: &str = "!";

/// The form versions every form has, oldest first: (version_id, day created).
const FORM_VERSIONS: [(&str, (i32, u32, u32)); 2] = [
    ("2026010101", (2026, 1, 12)),
    (LATEST_FORM_VERSION, (2026, 3, 2)),
];

/// The version every demo submission was filled in with.
const LATEST_FORM_VERSION: &str = "2026030101";

// ---------------------------------------------------------------------------
// What each account looks like
// ---------------------------------------------------------------------------

struct AccountSpec {
    /// Lowercase key: prefixes usernames and form ids.
    key: &'static str,
    /// Two capital letters: prefixes the DHIS2-style source refs.
    code: &'static str,
    name: &'static str,
    source: &'static str,
    country: &'static str,
    country_aliases: &'static [&'static str],
    /// The routine-reporting project and the campaign project.
    projects: [ProjectSpec; 2],
    regions: [RegionSpec; 3],
    /// South-west corner of the country, in 1e-4 degrees (longitude, latitude).
    origin: (i32, i32),
    /// The admin, the data manager and the field agent, in that order.
    people: [(&'static str, &'static str); 3],
    language: &'static str,
    email_domain: &'static str,
    imei: &'static str,
    /// When the account was opened (year, month, day).
    opened: (i32, u32, u32),
}

struct ProjectSpec {
    name: &'static str,
    app_id: &'static str,
    needs_authentication: bool,
}

struct RegionSpec {
    name: &'static str,
    districts: [(&'static str, &'static [&'static str]); 2],
}

static ACCOUNTS: [AccountSpec; 2] = [
    AccountSpec {
        key: "avalon",
        code: "AV",
        name: "Republic of Avalon",
        source: "Avalon Health Facility Registry",
        country: "Avalon",
        country_aliases: &["Republic of Avalon", "RA"],
        projects: [
            ProjectSpec {
                name: "Routine Health Information",
                app_id: "org.avalon.health",
                needs_authentication: true,
            },
            ProjectSpec {
                name: "Polio Campaign",
                app_id: "org.avalon.polio",
                needs_authentication: true,
            },
        ],
        regions: [
            RegionSpec {
                name: "Northmarch",
                districts: [("Brightwater", &["Bright Water"]), ("Highfield", &[])],
            },
            RegionSpec {
                name: "Eastvale",
                districts: [
                    ("Stonebridge", &[]),
                    ("Millford", &["Mill Ford", "Milford"]),
                ],
            },
            RegionSpec {
                name: "Southshore",
                districts: [("Saltmere", &[]), ("Coralbay", &[])],
            },
        ],
        origin: (102_000, 52_000),
        people: [("Amara", "Okafor"), ("Tomas", "Reyes"), ("Lina", "Mbeki")],
        language: "en",
        email_domain: "health.avalon.example",
        imei: "358240051111110",
        opened: (2026, 1, 5),
    },
    AccountSpec {
        key: "borduria",
        code: "BD",
        name: "Borduria",
        source: "Borduria Master Facility List",
        country: "Borduria",
        country_aliases: &["Bordurie"],
        projects: [
            ProjectSpec {
                name: "Health Facility Survey",
                app_id: "org.borduria.hfs",
                // The survey app is used anonymously on shared tablets.
                needs_authentication: false,
            },
            ProjectSpec {
                name: "Measles Immunisation",
                app_id: "org.borduria.epi",
                needs_authentication: true,
            },
        ],
        regions: [
            RegionSpec {
                name: "Szohod",
                districts: [("Szohod City", &["Szohôd"]), ("Dolnik", &[])],
            },
            RegionSpec {
                name: "Tcherkov",
                districts: [("Tcherkov Upper", &[]), ("Vrana", &[])],
            },
            RegionSpec {
                name: "Klowa",
                districts: [("Klowa Lakes", &["Klow"]), ("Brest-Kalin", &[])],
            },
        ],
        origin: (203_000, 452_000),
        people: [("Milos", "Kurvi"), ("Vera", "Tasz"), ("Jan", "Brodny")],
        language: "fr",
        email_domain: "sante.borduria.example",
        imei: "358240052222220",
        opened: (2026, 2, 2),
    },
];

/// The three facilities of each district, by kind.
const FACILITY_KINDS: [&str; 3] = ["District Hospital", "Health Centre", "Health Post"];

/// (region, district, facility) of the unit created in the field by the
/// agent and still awaiting validation, and of the one the validators
/// rejected. Every other unit is VALID.
const NEW_FACILITY: (usize, usize, usize) = (0, 1, 2);
const REJECTED_FACILITY: (usize, usize, usize) = (2, 0, 2);

/// A question of a form: (name, label, type).
type Field = (&'static str, &'static str, &'static str);

struct FormSpec {
    slug: &'static str,
    name: &'static str,
    period_type: Option<PeriodType>,
    single_per_period: bool,
    periods_before_allowed: i32,
    /// Questions, oldest first; the first version has the first `v1_fields`.
    fields: &'static [Field],
    v1_fields: usize,
    /// Indexes into the account's projects.
    projects: &'static [usize],
    org_unit_types: &'static [OrgUnitTypeCategory],
    location_field: Option<&'static str>,
}

const MONTHLY_REPORT: FormSpec = FormSpec {
    slug: "monthly_report",
    name: "Monthly facility report",
    period_type: Some(PeriodType::Month),
    single_per_period: true,
    periods_before_allowed: 3,
    fields: &[
        ("opd_consultations", "Outpatient consultations", "integer"),
        ("malaria_confirmed", "Confirmed malaria cases", "integer"),
        (
            "act_stock_out",
            "Stock-out of ACT during the month?",
            "select_one",
        ),
        ("anc1_visits", "First antenatal care visits", "integer"),
    ],
    v1_fields: 3,
    projects: &[0],
    org_unit_types: &[OrgUnitTypeCategory::Hf],
    location_field: None,
};

const FACILITY_ASSESSMENT: FormSpec = FormSpec {
    slug: "facility_assessment",
    name: "Health facility assessment",
    period_type: None,
    single_per_period: false,
    periods_before_allowed: 0,
    fields: &[
        ("gps", "Location of the main entrance", "geopoint"),
        (
            "has_electricity",
            "Is the facility connected to electricity?",
            "select_one",
        ),
        ("has_water", "Is there running water?", "select_one"),
        ("staff_count", "Number of clinical staff", "integer"),
        ("photo_front", "Photo of the facility", "image"),
    ],
    v1_fields: 4,
    projects: &[0, 1],
    org_unit_types: &[OrgUnitTypeCategory::Hf],
    location_field: Some("gps"),
};

const CAMPAIGN_TALLY: FormSpec = FormSpec {
    slug: "campaign_tally",
    name: "Vaccination campaign tally sheet",
    period_type: None,
    single_per_period: false,
    periods_before_allowed: 0,
    fields: &[
        (
            "children_vaccinated",
            "Children vaccinated (0-59 months)",
            "integer",
        ),
        ("doses_used", "Doses used", "integer"),
        ("refusals", "Refusals", "integer"),
        ("team_code", "Team code", "text"),
    ],
    v1_fields: 3,
    projects: &[1],
    org_unit_types: &[OrgUnitTypeCategory::District, OrgUnitTypeCategory::Hf],
    location_field: None,
};

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

/// One account being loaded: its spec and the ids every table hangs on.
struct Account {
    spec: &'static AccountSpec,
    id: i32,
    /// 0 or 1: keeps the two accounts' UUIDs apart.
    number: u32,
    version_id: i32,
    data_source_id: i32,
    opened: DateTime<Utc>,
}

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    // Both accounts first, so that they get ids 1 and 2.
    let mut accounts = Vec::new();
    for spec in &ACCOUNTS {
        accounts.push(insert_account(txn, spec).await?);
    }
    let flags = insert_feature_flags(txn).await?;
    for (number, (spec, account)) in (0u32..).zip(ACCOUNTS.iter().zip(accounts)) {
        load_account(txn, spec, account, number, &flags)
            .await
            .with_context(|| format!("loading the demo account {}", spec.name))?;
    }
    Ok(())
}

/// Everything that belongs to one account.
async fn load_account(
    txn: &DatabaseTransaction,
    spec: &'static AccountSpec,
    account: account::Model,
    number: u32,
    flags: &FeatureFlags,
) -> anyhow::Result<()> {
    let acc = insert_source(txn, spec, account, number).await?;
    let projects = insert_projects(txn, &acc, flags).await?;
    let types = insert_org_unit_types(txn, &acc, &projects).await?;
    let staff = insert_staff(txn, &acc).await?;
    let pyramid = insert_pyramid(txn, &acc, &types, &staff).await?;
    insert_profiles(txn, &acc, &staff, &pyramid).await?;
    insert_groups(txn, &acc, &pyramid).await?;
    let forms = insert_forms(txn, &acc, &projects, &types).await?;
    let device = insert_device(txn, &acc, &projects).await?;
    let submissions = Submissions {
        acc: &acc,
        projects: &projects,
        forms: &forms,
        staff: &staff,
        device_id: device.id,
    };
    submissions.insert_all(txn, &pyramid).await?;
    let teams = insert_teams(txn, &acc, &projects[1], &staff).await?;
    insert_planning(txn, &projects[1], &teams, &forms, &staff, &pyramid).await?;
    insert_entities(txn, &acc).await?;
    Ok(())
}

async fn insert_account(
    txn: &DatabaseTransaction,
    spec: &AccountSpec,
) -> anyhow::Result<account::Model> {
    let (y, m, d) = spec.opened;
    let opened = at(y, m, d, 8, 0)?;
    let account = account::ActiveModel {
        name: Set(spec.name.into()),
        created_at: Set(opened),
        updated_at: Set(opened),
        // Set once the source version exists.
        default_version_id: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(account)
}

/// The global feature flags the demo projects use.
struct FeatureFlags {
    require_authentication: i32,
    take_gps_on_form: i32,
    planning: i32,
    limit_ou_download_to_roots: i32,
}

async fn insert_feature_flags(txn: &DatabaseTransaction) -> anyhow::Result<FeatureFlags> {
    let created = at(2026, 1, 2, 9, 0)?;
    let flag = |code: &str, name: &str| feature_flag::ActiveModel {
        code: Set(code.into()),
        name: Set(name.into()),
        description: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
        ..Default::default()
    };
    Ok(FeatureFlags {
        require_authentication: flag("REQUIRE_AUTHENTICATION", "Require authentication")
            .insert(txn)
            .await?
            .id,
        take_gps_on_form: flag("TAKE_GPS_ON_FORM", "Take GPS on form")
            .insert(txn)
            .await?
            .id,
        planning: flag("PLANNING", "Planning").insert(txn).await?.id,
        limit_ou_download_to_roots: flag(
            "LIMIT_OU_DOWNLOAD_TO_ROOTS",
            "Limit the org unit download to the user's roots",
        )
        .insert(txn)
        .await?
        .id,
    })
}

/// The account's data source and its version 1, which becomes the default
/// version of both the source and the account.
async fn insert_source(
    txn: &DatabaseTransaction,
    spec: &'static AccountSpec,
    account: account::Model,
    number: u32,
) -> anyhow::Result<Account> {
    let opened = account.created_at;
    let source = data_source::ActiveModel {
        name: Set(spec.source.into()),
        read_only: Set(false),
        description: Set(Some(format!("Health facility pyramid of {}", spec.country))),
        created_at: Set(opened),
        updated_at: Set(opened),
        credentials_id: Set(None),
        default_version_id: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let version = source_version::ActiveModel {
        number: Set(1),
        description: Set(Some("Initial import".into())),
        created_at: Set(opened),
        updated_at: Set(opened),
        data_source_id: Set(source.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let data_source_id = source.id;
    let mut source = source.into_active_model();
    source.default_version_id = Set(Some(version.id));
    source.update(txn).await?;
    let account_id = account.id;
    let mut account = account.into_active_model();
    account.default_version_id = Set(Some(version.id));
    account.update(txn).await?;
    Ok(Account {
        spec,
        id: account_id,
        number,
        version_id: version.id,
        data_source_id,
        opened,
    })
}

/// The routine-reporting project (0) and the campaign project (1), both
/// reading the account's data source.
async fn insert_projects(
    txn: &DatabaseTransaction,
    acc: &Account,
    flags: &FeatureFlags,
) -> anyhow::Result<[project::Model; 2]> {
    let mut projects = Vec::new();
    for (i, spec) in (0u32..).zip(&acc.spec.projects) {
        let project = project::ActiveModel {
            name: Set(spec.name.into()),
            app_id: Set(Some(spec.app_id.into())),
            needs_authentication: Set(spec.needs_authentication),
            created_at: Set(acc.opened),
            updated_at: Set(acc.opened),
            external_token: Set(Some(demo_uuid(UUID_PROJECT_TOKEN, acc.number * 10 + i))),
            min_version: Set(Some(3)),
            account_id: Set(acc.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        data_source_projects::ActiveModel {
            data_source_id: Set(acc.data_source_id),
            project_id: Set(project.id),
        }
        .insert(txn)
        .await?;
        let mut project_flags = Vec::new();
        if spec.needs_authentication {
            project_flags.push(flags.require_authentication);
        }
        if i == 0 {
            project_flags.push(flags.take_gps_on_form);
        } else {
            project_flags.extend([flags.planning, flags.limit_ou_download_to_roots]);
        }
        for feature_flag_id in project_flags {
            project_feature_flags::ActiveModel {
                project_id: Set(project.id),
                feature_flag_id: Set(feature_flag_id),
            }
            .insert(txn)
            .await?;
        }
        projects.push(project);
    }
    <[project::Model; 2]>::try_from(projects).map_err(|_| anyhow::anyhow!("expected 2 projects"))
}

/// The account's four org unit types, by category.
struct OrgUnitTypes {
    country: i32,
    region: i32,
    district: i32,
    hf: i32,
}

impl OrgUnitTypes {
    fn id(&self, category: OrgUnitTypeCategory) -> i32 {
        match category {
            OrgUnitTypeCategory::Country => self.country,
            OrgUnitTypeCategory::Region => self.region,
            OrgUnitTypeCategory::District => self.district,
            OrgUnitTypeCategory::Hf => self.hf,
        }
    }
}

/// COUNTRY, REGION, DISTRICT and HF at depths 0 to 3, each the sub-unit type
/// of the one above, all in both projects.
async fn insert_org_unit_types(
    txn: &DatabaseTransaction,
    acc: &Account,
    projects: &[project::Model; 2],
) -> anyhow::Result<OrgUnitTypes> {
    let mut ids = Vec::new();
    for (depth, (name, short_name, category)) in (0i16..).zip([
        ("Country", "CTRY", OrgUnitTypeCategory::Country),
        ("Region", "REG", OrgUnitTypeCategory::Region),
        ("District", "DIST", OrgUnitTypeCategory::District),
        ("Health facility", "HF", OrgUnitTypeCategory::Hf),
    ]) {
        let unit_type = org_unit_type::ActiveModel {
            name: Set(name.into()),
            short_name: Set(Some(short_name.into())),
            created_at: Set(acc.opened),
            updated_at: Set(acc.opened),
            category: Set(Some(category)),
            depth: Set(Some(depth)),
            reference_form_id: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        for project in projects {
            org_unit_type_projects::ActiveModel {
                org_unit_type_id: Set(unit_type.id),
                project_id: Set(project.id),
            }
            .insert(txn)
            .await?;
        }
        if let Some(&parent_type) = ids.last() {
            org_unit_type_sub_unit_types::ActiveModel {
                from_org_unit_type_id: Set(parent_type),
                to_org_unit_type_id: Set(unit_type.id),
            }
            .insert(txn)
            .await?;
        }
        ids.push(unit_type.id);
    }
    match ids.as_slice() {
        &[country, region, district, hf] => Ok(OrgUnitTypes {
            country,
            region,
            district,
            hf,
        }),
        _ => anyhow::bail!("expected 4 org unit types"),
    }
}

/// The account's three users.
struct Staff {
    admin: user::Model,
    manager: user::Model,
    /// The field agent, restricted to the first region.
    agent: user::Model,
}

async fn insert_staff(txn: &DatabaseTransaction, acc: &Account) -> anyhow::Result<Staff> {
    let [admin, manager, agent] = acc.spec.people;
    Ok(Staff {
        admin: insert_user(txn, acc, "admin", admin, at(2026, 11, 20, 16, 5)?).await?,
        manager: insert_user(txn, acc, "manager", manager, at(2026, 11, 19, 9, 40)?).await?,
        agent: insert_user(txn, acc, "agent", agent, at(2026, 11, 18, 7, 15)?).await?,
    })
}

/// A user of the account, named `<account key>.<role>`.
async fn insert_user(
    txn: &DatabaseTransaction,
    acc: &Account,
    role: &str,
    (first, last): (&str, &str),
    last_login: DateTime<Utc>,
) -> anyhow::Result<user::Model> {
    let spec = acc.spec;
    let joined = acc.opened + Duration::days(2);
    let user = user::ActiveModel {
        username: Set(format!("{}.{role}", spec.key)),
        email: Set(Some(format!(
            "{}.{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            spec.email_domain
        ))),
        first_name: Set(Some(first.into())),
        last_name: Set(Some(last.into())),
        is_active: Set(true),
        is_superuser: Set(false),
        password: Set(UNUSABLE_PASSWORD.into()),
        last_login: Set(Some(last_login)),
        created_at: Set(joined),
        updated_at: Set(joined),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    account_users::ActiveModel {
        account_id: Set(acc.id),
        user_id: Set(user.id),
    }
    .insert(txn)
    .await?;
    Ok(user)
}

/// One profile per user, linking it to the account; the field agent sees
/// only the first region.
async fn insert_profiles(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    let people = [
        (&staff.admin, Some("/dashboard/orgunits/list"), Some(1)),
        (
            &staff.manager,
            Some("/dashboard/forms/submissions"),
            Some(2),
        ),
        (&staff.agent, None, None),
    ];
    for (user, home_page, dhis2_number) in people {
        let profile = profile::ActiveModel {
            external_user_id: Set(None),
            language: Set(Some(acc.spec.language.into())),
            dhis2_id: Set(dhis2_number.map(|n| format!("{}usr{n:06}", acc.spec.code))),
            home_page: Set(home_page.map(String::from)),
            user_id: Set(user.id),
            account_id: Set(acc.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if user.id == staff.agent.id {
            profile_org_units::ActiveModel {
                profile_id: Set(profile.id),
                org_unit_id: Set(pyramid.first_region()?.unit.id),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The pyramid
// ---------------------------------------------------------------------------

/// The account's org units below the country.
struct Pyramid {
    regions: Vec<Region>,
}

struct Region {
    unit: org_unit::Model,
    districts: Vec<District>,
}

struct District {
    unit: org_unit::Model,
    facilities: Vec<org_unit::Model>,
}

impl Pyramid {
    fn first_region(&self) -> anyhow::Result<&Region> {
        self.regions.first().context("the pyramid has no region")
    }

    /// The facility at (region, district, facility).
    fn facility(&self, position: (usize, usize, usize)) -> anyhow::Result<&org_unit::Model> {
        self.facilities()
            .find(|(p, _)| *p == position)
            .map(|(_, unit)| unit)
            .with_context(|| format!("no facility at {position:?}"))
    }

    /// Every health facility with its (region, district, facility) position.
    fn facilities(&self) -> impl Iterator<Item = ((usize, usize, usize), &org_unit::Model)> {
        self.regions.iter().enumerate().flat_map(|(r, region)| {
            region
                .districts
                .iter()
                .enumerate()
                .flat_map(move |(d, district)| {
                    district
                        .facilities
                        .iter()
                        .enumerate()
                        .map(move |(f, facility)| ((r, d, f), facility))
                })
        })
    }
}

/// 1e-4 degrees to degrees.
fn degrees(e4: i32) -> f64 {
    f64::from(e4) / 10_000.0
}

/// A GeoJSON point (longitude, latitude), in 1e-4 degrees.
fn point(lon: i32, lat: i32) -> Value {
    json!({ "type": "Point", "coordinates": [degrees(lon), degrees(lat)] })
}

/// A GeoJSON MultiPolygon holding one rectangle, in 1e-4 degrees.
fn rectangle(west: i32, south: i32, east: i32, north: i32) -> Value {
    let corner = |lon, lat| json!([degrees(lon), degrees(lat)]);
    json!({
        "type": "MultiPolygon",
        "coordinates": [[[
            corner(west, south),
            corner(east, south),
            corner(east, north),
            corner(west, north),
            corner(west, south),
        ]]]
    })
}

/// An org unit as imported from the registry: VALID, with a source ref.
fn imported_unit(
    acc: &Account,
    name: String,
    org_unit_type_id: i32,
    source_ref: String,
) -> org_unit::ActiveModel {
    let imported = acc.opened + Duration::days(1);
    org_unit::ActiveModel {
        name: Set(name),
        custom: Set(false),
        validated: Set(true),
        validation_status: Set(ValidationStatus::Valid),
        source_ref: Set(Some(source_ref)),
        created_at: Set(imported),
        updated_at: Set(imported),
        version_id: Set(acc.version_id),
        org_unit_type_id: Set(Some(org_unit_type_id)),
        ..Default::default()
    }
}

/// Inserts `unit` under `parent`, then sets its materialised path, which
/// ends with its own id and so is known only once the row exists.
async fn insert_unit(
    txn: &DatabaseTransaction,
    mut unit: org_unit::ActiveModel,
    parent: Option<&org_unit::Model>,
) -> anyhow::Result<org_unit::Model> {
    unit.parent_id = Set(parent.map(|p| p.id));
    let inserted = unit.insert(txn).await?;
    let path = match parent {
        Some(parent) => {
            let parent_path = parent.path.as_deref().context("a parent without a path")?;
            format!("{parent_path}.{}", inserted.id)
        }
        None => inserted.id.to_string(),
    };
    let mut unit = inserted.into_active_model();
    unit.path = Set(Some(path));
    Ok(unit.update(txn).await?)
}

/// 1 country, 3 regions, 2 districts per region, 3 facilities per district,
/// laid out on a grid inside the country's rectangle.
async fn insert_pyramid(
    txn: &DatabaseTransaction,
    acc: &Account,
    types: &OrgUnitTypes,
    staff: &Staff,
) -> anyhow::Result<Pyramid> {
    let spec = acc.spec;
    let (x0, y0) = spec.origin;
    let mut refs = 0u32;
    let mut next_ref = || {
        refs += 1;
        format!("{}{refs:09}", spec.code)
    };

    let mut country = imported_unit(acc, spec.country.into(), types.country, next_ref());
    country.aliases = Set(Some(StringList(
        spec.country_aliases.iter().map(|a| a.to_string()).collect(),
    )));
    country.geom = Set(Some(rectangle(x0, y0, x0 + 30_000, y0 + 20_000)));
    let country = insert_unit(txn, country, None).await?;

    let mut regions = Vec::new();
    for (r, region_spec) in (0i32..).zip(&spec.regions) {
        let west = x0 + r * 10_000;
        let mut region = imported_unit(acc, region_spec.name.into(), types.region, next_ref());
        region.geom = Set(Some(rectangle(west, y0, west + 10_000, y0 + 20_000)));
        let region = insert_unit(txn, region, Some(&country)).await?;

        let mut districts = Vec::new();
        for (d, (district_name, aliases)) in (0i32..).zip(region_spec.districts) {
            let mut district = imported_unit(acc, district_name.into(), types.district, next_ref());
            if !aliases.is_empty() {
                district.aliases = Set(Some(StringList(
                    aliases.iter().map(|a| a.to_string()).collect(),
                )));
            }
            let district = insert_unit(txn, district, Some(&region)).await?;

            let mut facilities = Vec::new();
            for (f, kind) in (0i32..).zip(FACILITY_KINDS) {
                let position = (r as usize, d as usize, f as usize);
                // Spread the facilities over the district's half of the
                // region, with a little deterministic jitter.
                let lon = west + 2_500 + f * 2_500 + (d * 311 + f * 97) % 700;
                let lat = y0 + d * 10_000 + 3_000 + f * 1_700 + (r * 193) % 500;
                let name = format!("{district_name} {kind}");
                let mut facility = imported_unit(acc, name, types.hf, next_ref());
                facility.location = Set(Some(point(lon, lat)));
                facility.gps_source = Set(Some("registry".into()));
                if position == NEW_FACILITY {
                    // Created on a phone by the field agent: no registry
                    // ref yet, a device-made uuid, awaiting validation.
                    facility.custom = Set(true);
                    facility.validated = Set(false);
                    facility.validation_status = Set(ValidationStatus::New);
                    facility.source_ref = Set(None);
                    facility.gps_source = Set(Some("mobile".into()));
                    facility.uuid = Set(Some(
                        demo_uuid(UUID_ORG_UNIT, acc.number * 1_000 + 1).to_string(),
                    ));
                    facility.creator_id = Set(Some(staff.agent.id));
                    // Before its first monthly report.
                    let created = at(2026, 8, 20, 11, 20)?;
                    facility.created_at = Set(created);
                    facility.updated_at = Set(created);
                } else if position == REJECTED_FACILITY {
                    facility.validated = Set(false);
                    facility.validation_status = Set(ValidationStatus::Rejected);
                    facility.updated_at = Set(at(2026, 3, 9, 14, 0)?);
                }
                facilities.push(insert_unit(txn, facility, Some(&district)).await?);
            }
            districts.push(District {
                unit: district,
                facilities,
            });
        }
        regions.push(Region {
            unit: region,
            districts,
        });
    }
    Ok(Pyramid { regions })
}

/// Two groups of the account's version: the district hospitals and a few
/// malaria sentinel sites.
async fn insert_groups(
    txn: &DatabaseTransaction,
    acc: &Account,
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    let hospitals: Vec<i32> = pyramid
        .facilities()
        .filter(|((_, _, f), _)| *f == 0)
        .map(|(_, unit)| unit.id)
        .collect();
    // The health centre of each region's first district.
    let sentinel_sites: Vec<i32> = pyramid
        .facilities()
        .filter(|((_, d, f), _)| *d == 0 && *f == 1)
        .map(|(_, unit)| unit.id)
        .collect();
    let created = acc.opened + Duration::days(1);
    for (n, (name, members)) in (1u32..).zip([
        ("District hospitals", hospitals),
        ("Malaria sentinel sites", sentinel_sites),
    ]) {
        let group = group::ActiveModel {
            name: Set(name.into()),
            source_ref: Set(Some(format!("{}grp{n:06}", acc.spec.code))),
            domain: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
            source_version_id: Set(acc.version_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        for org_unit_id in members {
            group_org_units::ActiveModel {
                group_id: Set(group.id),
                org_unit_id: Set(org_unit_id),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Forms and submissions
// ---------------------------------------------------------------------------

struct Forms {
    monthly: form::Model,
    assessment: form::Model,
    tally: form::Model,
}

async fn insert_forms(
    txn: &DatabaseTransaction,
    acc: &Account,
    projects: &[project::Model; 2],
    types: &OrgUnitTypes,
) -> anyhow::Result<Forms> {
    Ok(Forms {
        monthly: insert_form(txn, acc, &MONTHLY_REPORT, 1, projects, types).await?,
        assessment: insert_form(txn, acc, &FACILITY_ASSESSMENT, 2, projects, types).await?,
        tally: insert_form(txn, acc, &CAMPAIGN_TALLY, 3, projects, types).await?,
    })
}

/// `{name, label, type}` of each field, as Iaso lists a form's questions.
fn possible_fields(fields: &[Field]) -> Value {
    fields
        .iter()
        .map(|(name, label, kind)| json!({ "name": name, "label": label, "type": kind }))
        .collect()
}

/// The XForm's JSON descriptor, as pyxform writes it (reduced to the
/// questions).
fn form_descriptor(form_id: &str, title: &str, version_id: &str, fields: &[Field]) -> Value {
    let children: Vec<Value> = fields
        .iter()
        .map(|(name, label, kind)| json!({ "name": name, "label": label, "type": kind }))
        .collect();
    json!({
        "name": "data",
        "id_string": form_id,
        "title": title,
        "version": version_id,
        "type": "survey",
        "children": children,
    })
}

/// One form with its two versions, linked to its projects and org unit types.
async fn insert_form(
    txn: &DatabaseTransaction,
    acc: &Account,
    spec: &FormSpec,
    n: u32,
    projects: &[project::Model; 2],
    types: &OrgUnitTypes,
) -> anyhow::Result<form::Model> {
    let form_id = format!("{}_{}", acc.spec.key, spec.slug);
    let mut version_times = Vec::new();
    for (_, (y, m, d)) in FORM_VERSIONS {
        version_times.push(at(y, m, d, 10, 0)?);
    }
    let first = version_times.first().copied().context("no form version")?;
    let latest = version_times.last().copied().context("no form version")?;
    let form = form::ActiveModel {
        deleted_at: Set(None),
        form_id: Set(Some(form_id.clone())),
        created_at: Set(first),
        updated_at: Set(latest),
        name: Set(spec.name.into()),
        device_field: Set(Some("deviceid".into())),
        location_field: Set(spec.location_field.map(String::from)),
        correlation_field: Set(None),
        correlatable: Set(false),
        // The union of every version's questions, oldest first: the last
        // version has them all.
        possible_fields: Set(Some(possible_fields(spec.fields))),
        period_type: Set(spec.period_type),
        single_per_period: Set(spec.single_per_period),
        periods_before_allowed: Set(spec.periods_before_allowed),
        periods_after_allowed: Set(0),
        derived: Set(false),
        uuid: Set(demo_uuid(UUID_FORM, acc.number * 100 + n)),
        label_keys: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    // The first version has the first `v1_fields` questions, the second all.
    let first_fields = spec
        .fields
        .get(..spec.v1_fields)
        .context("a form's first version has more fields than the form")?;
    let version_fields = [first_fields, spec.fields];
    for (((version_id, _), created), fields) in
        FORM_VERSIONS.iter().zip(version_times).zip(version_fields)
    {
        form_version::ActiveModel {
            file: Set(Some(format!("forms/{form_id}/{version_id}.xml"))),
            xls_file: Set(Some(format!("forms/{form_id}/{version_id}.xlsx"))),
            form_descriptor: Set(Some(form_descriptor(
                &form_id, spec.name, version_id, fields,
            ))),
            version_id: Set((*version_id).into()),
            created_at: Set(created),
            updated_at: Set(created),
            start_period: Set(None),
            end_period: Set(None),
            form_id: Set(form.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    for &p in spec.projects {
        let project = projects.get(p).context("a form in an unknown project")?;
        project_forms::ActiveModel {
            project_id: Set(project.id),
            form_id: Set(form.id),
        }
        .insert(txn)
        .await?;
    }
    for &category in spec.org_unit_types {
        form_org_unit_types::ActiveModel {
            form_id: Set(form.id),
            org_unit_type_id: Set(types.id(category)),
        }
        .insert(txn)
        .await?;
    }
    Ok(form)
}

/// The account's one tablet, used in both projects.
async fn insert_device(
    txn: &DatabaseTransaction,
    acc: &Account,
    projects: &[project::Model; 2],
) -> anyhow::Result<device::Model> {
    let registered = acc.opened + Duration::days(15);
    let device = device::ActiveModel {
        imei: Set(Some(acc.spec.imei.into())),
        test_device: Set(false),
        created_at: Set(registered),
        updated_at: Set(registered),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for project in projects {
        device_projects::ActiveModel {
            device_id: Set(device.id),
            project_id: Set(project.id),
        }
        .insert(txn)
        .await?;
    }
    Ok(device)
}

/// What the submissions of one account share.
struct Submissions<'a> {
    acc: &'a Account,
    projects: &'a [project::Model; 2],
    forms: &'a Forms,
    staff: &'a Staff,
    device_id: i32,
}

/// One submission to insert.
struct Submission<'a> {
    form: &'a form::Model,
    project: &'a project::Model,
    unit: &'a org_unit::Model,
    period: Option<&'static str>,
    answers: Value,
    /// When the server received it.
    received: DateTime<Utc>,
    by: &'a user::Model,
    /// The tablet it came from; none for data entered on the web.
    device_id: Option<i32>,
    exported: bool,
    deleted: bool,
}

impl Submissions<'_> {
    /// The field agent submits from the tablet in the first region; the
    /// data manager enters the other regions' reports on the web.
    fn author(&self, region: usize) -> (&user::Model, Option<i32>) {
        if region == 0 {
            (&self.staff.agent, Some(self.device_id))
        } else {
            (&self.staff.manager, None)
        }
    }

    async fn insert_all(&self, txn: &DatabaseTransaction, pyramid: &Pyramid) -> anyhow::Result<()> {
        let mut seq = 0u32;
        let [routine, campaign] = self.projects;

        // Three monthly reports per facility.
        for (index, ((r, _, _), facility)) in (0i64..).zip(pyramid.facilities()) {
            for (p, period) in (0i64..).zip(PERIODS) {
                let month = 9 + u32::try_from(p)?;
                let received = at(
                    2026,
                    month,
                    10 + (index % 7) as u32,
                    8 + (index % 9) as u32,
                    (index * 7 % 60) as u32,
                )?;
                let (by, device_id) = self.author(r);
                let sub = Submission {
                    form: &self.forms.monthly,
                    project: routine,
                    unit: facility,
                    period: Some(period),
                    answers: monthly_answers(index, p),
                    received,
                    by,
                    device_id,
                    // September's reports went out to DHIS2 already.
                    exported: p == 0,
                    deleted: false,
                };
                self.insert(txn, &sub, &mut seq).await?;
            }
        }

        let region0 = pyramid.first_region()?;
        let first_district = region0.districts.first().context("no district")?;
        let second_region_hospital = pyramid.facility((1, 0, 0))?;
        let agent_health_centre = pyramid.facility((0, 0, 1))?;

        // A second, live report for the same facility and month: the
        // monthly form is single-per-period, so both show as DUPLICATED.
        let duplicate = Submission {
            form: &self.forms.monthly,
            project: routine,
            unit: second_region_hospital,
            period: Some("202611"),
            // Facility 6 is the second region's first hospital.
            answers: monthly_answers(6, 2),
            received: at(2026, 11, 18, 15, 42)?,
            by: &self.staff.manager,
            device_id: None,
            exported: false,
            deleted: false,
        };
        self.insert(txn, &duplicate, &mut seq).await?;
        // A duplicate the data manager has already soft-deleted.
        let deleted = Submission {
            form: &self.forms.monthly,
            project: routine,
            unit: agent_health_centre,
            period: Some("202610"),
            answers: monthly_answers(1, 1),
            received: at(2026, 10, 16, 9, 5)?,
            by: &self.staff.agent,
            device_id: Some(self.device_id),
            exported: false,
            deleted: true,
        };
        self.insert(txn, &deleted, &mut seq).await?;

        // One assessment per district hospital, in June.
        for (index, ((r, _, _), hospital)) in
            (0i64..).zip(pyramid.facilities().filter(|((_, _, f), _)| *f == 0))
        {
            let (by, device_id) = self.author(r);
            let sub = Submission {
                form: &self.forms.assessment,
                project: routine,
                unit: hospital,
                period: None,
                answers: assessment_answers(index, hospital),
                received: at(2026, 6, 3 + index as u32 * 2, 13, 30)?,
                by,
                device_id,
                exported: false,
                deleted: false,
            };
            self.insert(txn, &sub, &mut seq).await?;
        }

        // Campaign tallies for the planned area: the first region's
        // districts and the first district's facilities.
        let tallied = region0
            .districts
            .iter()
            .map(|district| &district.unit)
            .chain(first_district.facilities.iter());
        for (index, unit) in (0i64..).zip(tallied) {
            let sub = Submission {
                form: &self.forms.tally,
                project: campaign,
                unit,
                period: None,
                answers: tally_answers(index),
                received: at(2026, 11, 5 + index as u32 * 2, 17, 10)?,
                by: &self.staff.agent,
                device_id: Some(self.device_id),
                exported: false,
                deleted: false,
            };
            self.insert(txn, &sub, &mut seq).await?;
        }
        Ok(())
    }

    async fn insert(
        &self,
        txn: &DatabaseTransaction,
        sub: &Submission<'_>,
        seq: &mut u32,
    ) -> anyhow::Result<()> {
        *seq += 1;
        let uuid = demo_uuid(UUID_INSTANCE, self.acc.number * 100_000 + *seq).to_string();
        let mut answers = sub.answers.clone();
        if let Value::Object(fields) = &mut answers {
            // What ODK Collect adds to every submission.
            fields.insert("_version".into(), json!(LATEST_FORM_VERSION));
            fields.insert("instanceID".into(), json!(format!("uuid:{uuid}")));
        }
        // Filled in on the device a little before the upload.
        let filled = sub.received - Duration::minutes(25);
        let accuracy = sub
            .unit
            .location
            .as_ref()
            .map(|_| Decimal::new(35 + i64::from(*seq % 60), 1));
        instance::ActiveModel {
            created_at: Set(sub.received),
            updated_at: Set(sub.received),
            uuid: Set(Some(uuid.clone())),
            export_id: Set(None),
            correlation_id: Set(None),
            name: Set(Some(sub.form.name.clone())),
            file: Set(Some(format!("instances/{uuid}.xml"))),
            file_name: Set(Some(format!("{uuid}.xml"))),
            location: Set(sub.unit.location.clone()),
            json: Set(Some(answers)),
            accuracy: Set(accuracy),
            period: Set(sub.period.map(String::from)),
            last_export_success_at: Set(sub.exported.then(|| sub.received + Duration::days(3))),
            deleted: Set(sub.deleted),
            to_export: Set(false),
            source_created_at: Set(Some(filled)),
            source_updated_at: Set(Some(filled)),
            created_by_id: Set(Some(sub.by.id)),
            last_modified_by_id: Set(Some(if sub.deleted {
                self.staff.manager.id
            } else {
                sub.by.id
            })),
            org_unit_id: Set(Some(sub.unit.id)),
            form_id: Set(sub.form.id),
            project_id: Set(sub.project.id),
            device_id: Set(sub.device_id),
            entity_id: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(())
    }
}

fn monthly_answers(facility: i64, period: i64) -> Value {
    let opd = 180 + (facility * 37 + period * 23) % 140;
    let malaria = opd * (10 + (facility * 7 + period * 3) % 25) / 100;
    json!({
        "opd_consultations": opd,
        "malaria_confirmed": malaria,
        "act_stock_out": if (facility + period) % 5 == 0 { "yes" } else { "no" },
        "anc1_visits": 12 + (facility * 5 + period * 11) % 30,
    })
}

fn assessment_answers(index: i64, facility: &org_unit::Model) -> Value {
    // ODK geopoints are "latitude longitude altitude accuracy".
    let gps = facility
        .location
        .as_ref()
        .and_then(|l| l["coordinates"].as_array())
        .and_then(|c| Some(format!("{} {} 0 5", c.get(1)?, c.first()?)));
    json!({
        "gps": gps,
        "has_electricity": if index % 3 == 2 { "no" } else { "yes" },
        "has_water": if index % 4 == 3 { "no" } else { "yes" },
        "staff_count": 6 + index * 3 % 11,
        "photo_front": format!("IMG_202606{:02}_1330.jpg", 3 + index * 2),
    })
}

fn tally_answers(index: i64) -> Value {
    let children = 140 + index * 53 % 120;
    json!({
        "children_vaccinated": children,
        // Multi-dose vials: a little wastage.
        "doses_used": children + 4 + index % 6,
        "refusals": index * 3 % 7,
        "team_code": if index % 2 == 0 { "N1" } else { "S1" },
    })
}

// ---------------------------------------------------------------------------
// Teams, planning and entities
// ---------------------------------------------------------------------------

struct Teams {
    supervisors: team::Model,
    north: team::Model,
    south: team::Model,
}

/// Inserts a team, then sets its materialised path ("<parent path>.<id>").
async fn insert_team(
    txn: &DatabaseTransaction,
    team: team::ActiveModel,
    parent: Option<&team::Model>,
) -> anyhow::Result<team::Model> {
    let mut team = team;
    team.parent_id = Set(parent.map(|p| p.id));
    let inserted = team.insert(txn).await?;
    let path = match parent {
        Some(parent) => {
            let parent_path = parent
                .path
                .as_deref()
                .context("a parent team without a path")?;
            format!("{parent_path}.{}", inserted.id)
        }
        None => inserted.id.to_string(),
    };
    let mut team = inserted.into_active_model();
    team.path = Set(Some(path));
    Ok(team.update(txn).await?)
}

/// The campaign's supervisors (a team of teams) and its two vaccination
/// teams, all in the campaign project.
async fn insert_teams(
    txn: &DatabaseTransaction,
    acc: &Account,
    campaign: &project::Model,
    staff: &Staff,
) -> anyhow::Result<Teams> {
    let created = at(2026, 10, 20, 10, 0)?;
    let team = |name: String,
                kind: TeamType,
                manager: &user::Model|
     -> anyhow::Result<team::ActiveModel> {
        Ok(team::ActiveModel {
            deleted_at: Set(None),
            name: Set(name),
            description: Set(None),
            r#type: Set(Some(kind)),
            created_at: Set(created),
            updated_at: Set(created),
            manager_id: Set(Some(manager.id)),
            created_by_id: Set(Some(staff.admin.id)),
            project_id: Set(campaign.id),
            ..Default::default()
        })
    };
    let country = acc.spec.country;
    let supervisors = insert_team(
        txn,
        team(
            format!("{country} campaign supervisors"),
            TeamType::TeamOfTeams,
            &staff.manager,
        )?,
        None,
    )
    .await?;
    let north = insert_team(
        txn,
        team(
            format!("{country} vaccination team North"),
            TeamType::TeamOfUsers,
            &staff.manager,
        )?,
        Some(&supervisors),
    )
    .await?;
    let south = insert_team(
        txn,
        team(
            format!("{country} vaccination team South"),
            TeamType::TeamOfUsers,
            &staff.manager,
        )?,
        Some(&supervisors),
    )
    .await?;
    for (team, user) in [(&north, &staff.agent), (&south, &staff.manager)] {
        team_users::ActiveModel {
            team_id: Set(team.id),
            user_id: Set(user.id),
        }
        .insert(txn)
        .await?;
    }
    Ok(Teams {
        supervisors,
        north,
        south,
    })
}

/// A published campaign planning over the first region, with its districts
/// assigned to the two teams and the first district's facilities to the
/// field agent.
async fn insert_planning(
    txn: &DatabaseTransaction,
    campaign: &project::Model,
    teams: &Teams,
    forms: &Forms,
    staff: &Staff,
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    let region = pyramid.first_region()?;
    let created = at(2026, 10, 25, 14, 0)?;
    let planning = planning::ActiveModel {
        deleted_at: Set(None),
        name: Set(format!("{} round 1 - {}", campaign.name, region.unit.name)),
        description: Set(Some(format!(
            "House-to-house vaccination round in {}",
            region.unit.name
        ))),
        started_at: Set(Some(day(2026, 11, 2)?)),
        ended_at: Set(Some(day(2026, 11, 30)?)),
        published_at: Set(Some(at(2026, 10, 28, 9, 0)?)),
        created_at: Set(created),
        updated_at: Set(created),
        created_by_id: Set(Some(staff.admin.id)),
        project_id: Set(campaign.id),
        team_id: Set(teams.supervisors.id),
        org_unit_id: Set(region.unit.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for form in [&forms.assessment, &forms.tally] {
        planning_forms::ActiveModel {
            planning_id: Set(planning.id),
            form_id: Set(form.id),
        }
        .insert(txn)
        .await?;
    }

    // Exactly one of user or team per assignment.
    let mut assignments: Vec<(i32, Option<i32>, Option<i32>)> = Vec::new();
    for (district, team) in region.districts.iter().zip([&teams.north, &teams.south]) {
        assignments.push((district.unit.id, None, Some(team.id)));
    }
    let first_district = region.districts.first().context("no district")?;
    for facility in &first_district.facilities {
        assignments.push((facility.id, Some(staff.agent.id), None));
    }
    let assigned = at(2026, 10, 27, 11, 0)?;
    for (org_unit_id, user_id, team_id) in assignments {
        assignment::ActiveModel {
            deleted_at: Set(None),
            created_at: Set(assigned),
            updated_at: Set(assigned),
            user_id: Set(user_id),
            created_by_id: Set(Some(staff.manager.id)),
            planning_id: Set(planning.id),
            org_unit_id: Set(org_unit_id),
            team_id: Set(team_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// A "Household" entity type with two registered households.
async fn insert_entities(txn: &DatabaseTransaction, acc: &Account) -> anyhow::Result<()> {
    let created = at(2026, 6, 1, 9, 0)?;
    let entity_type = entity_type::ActiveModel {
        name: Set("Household".into()),
        created_at: Set(created),
        updated_at: Set(created),
        is_active: Set(true),
        fields_list_view: Set(None),
        fields_detail_info_view: Set(None),
        reference_form_id: Set(None),
        account_id: Set(acc.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for n in 1..=2u32 {
        let registered = created + Duration::days(i64::from(n) * 3);
        iaso_entity::ActiveModel {
            deleted_at: Set(None),
            name: Set(Some(format!("Household {:03}", n))),
            uuid: Set(demo_uuid(UUID_ENTITY, acc.number * 100 + n)),
            created_at: Set(registered),
            updated_at: Set(registered),
            entity_type_id: Set(entity_type.id),
            attributes_id: Set(None),
            account_id: Set(acc.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}
