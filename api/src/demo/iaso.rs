//! Iaso demo data: two ministries of health (accounts 1 and 2), each with
//! its own data source, org-unit pyramid, projects, forms, submissions,
//! users, teams and a micro-planning.
//!
//! Per account: 1 country, 3 regions, 6 districts and 18 health facilities
//! (28 org units); 4 forms with 2 versions each; 3 monthly reports per
//! facility for 202609 to 202611 plus a duplicate, a deleted duplicate, 6
//! assessments, 5 campaign tallies and 3 household visits (70 instances); 3
//! users; 3 teams; 1 planning with 5 assignments; 1 entity type with 2
//! entities.
//!
//! Also per account, so that every entity has rows: the data source's DHIS2
//! credentials, the tablet's owners and GPS positions, a population record
//! type with 3 records, a workflow with 3 versions, 2 NFC cards with their
//! log, 2 group sets, 2 duplicate searches with their links, 3 background
//! tasks, a GeoPackage import, a DHIS2 mapping with 2 export requests,
//! photos of the assessments, 2 instance locks, 2 pages, a comment with its
//! reply and a user-import CSV. Shared by both accounts: 3 account feature
//! flags and 2 matching algorithms.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use entity::iaso::sea_orm_active_enums::{
    GroupBelonging, OrgUnitTypeCategory, PeriodType, StorageOperationType, StorageStatus,
    StorageStatusReason, StorageType, TaskStatus, TeamType, Transport, ValidationStatus,
    WorkflowVersionStatus,
};
use entity::iaso::{
    account, account_feature_flag, account_feature_flags, account_users, algorithm_run, assignment,
    bulk_create_user_csv_file, comment_iaso, data_source, data_source_projects, device,
    device_ownership, device_position, device_projects, entity as iaso_entity, entity_type,
    export_log, export_request, export_status, export_status_export_logs, external_credentials,
    feature_flag, form, form_org_unit_types, form_version, group, group_org_units, group_set,
    group_set_groups, import_gpkg, instance, instance_file, instance_lock, link, mapping,
    mapping_version, matching_algorithm, matching_algorithm_projects, org_unit, org_unit_type,
    org_unit_type_projects, org_unit_type_sub_unit_types, page, page_users, planning,
    planning_forms, profile, profile_org_units, profile_projects, project, project_feature_flags,
    project_forms, record, record_type, record_type_projects, source_version, storage_device,
    storage_log_entry, storage_log_entry_instances, task, team, team_users, user, workflow,
    workflow_change, workflow_followup, workflow_followup_forms, workflow_version,
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
const UUID_DEVICE_POSITION: u16 = 0x1006;
const UUID_STORAGE_LOG_ENTRY: u16 = 0x1007;
const UUID_POWERBI: u16 = 0x1008;

/// The monthly reporting periods the submissions cover.
const PERIODS: [&str; 3] = ["202609", "202610", "202611"];

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
    /// The heads of the two registered households.
    households: [&'static str; 2],
    /// Estimated population of the first region and of its two districts.
    population: [i64; 3],
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
        households: ["Grace Adeyemi", "Samuel Osei"],
        population: [684_200, 402_900, 281_300],
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
        households: ["Ilona Szabo", "Petr Novak"],
        population: [512_700, 296_400, 216_300],
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

/// The reference form of the "Household" entity type: filled in at each
/// visit of a registered household during the campaign.
const HOUSEHOLD_VISIT: FormSpec = FormSpec {
    slug: "household_visit",
    name: "Household vaccination visit",
    period_type: None,
    single_per_period: false,
    periods_before_allowed: 0,
    fields: &[
        ("household_head", "Name of the head of household", "text"),
        ("children_under_5", "Children under 5 years", "integer"),
        (
            "children_vaccinated",
            "Children vaccinated at this visit",
            "integer",
        ),
        (
            "nfc_card",
            "Was the household NFC card scanned?",
            "select_one",
        ),
    ],
    v1_fields: 3,
    projects: &[1],
    org_unit_types: &[OrgUnitTypeCategory::Hf],
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
    /// The DHIS2 credentials the data source syncs with.
    credentials_id: i32,
    opened: DateTime<Utc>,
}

impl Account {
    /// The account's DHIS2 server.
    fn dhis2_url(&self) -> String {
        format!("https://dhis2.{}", self.spec.email_domain)
    }
}

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    // Both accounts first, so that they get ids 1 and 2.
    let mut accounts = Vec::new();
    for spec in &ACCOUNTS {
        accounts.push(insert_account(txn, spec).await?);
    }
    let flags = insert_feature_flags(txn).await?;
    insert_account_feature_flags(txn).await?;
    let algorithms = insert_matching_algorithms(txn).await?;
    for (number, (spec, account)) in (0u32..).zip(ACCOUNTS.iter().zip(accounts)) {
        load_account(txn, spec, account, number, &flags, &algorithms)
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
    algorithms: &Algorithms,
) -> anyhow::Result<()> {
    let acc = insert_source(txn, spec, account, number).await?;
    enable_account_feature_flags(txn, &acc).await?;
    let projects = insert_projects(txn, &acc, flags).await?;
    let types = insert_org_unit_types(txn, &acc, &projects).await?;
    let staff = insert_staff(txn, &acc).await?;
    let pyramid = insert_pyramid(txn, &acc, &types, &staff).await?;
    insert_profiles(txn, &acc, &staff, &pyramid, &projects).await?;
    let groups = insert_groups(txn, &acc, &pyramid).await?;
    insert_group_sets(txn, &acc, &groups).await?;
    insert_records(txn, &acc, &projects, &pyramid).await?;
    let forms = insert_forms(txn, &acc, &projects, &types).await?;
    let device = insert_device(txn, &acc, &projects).await?;
    insert_device_history(txn, &acc, &device, &projects, &staff, &pyramid).await?;
    let submissions = Submissions {
        acc: &acc,
        projects: &projects,
        forms: &forms,
        staff: &staff,
        device_id: device.id,
    };
    let mut seq = 0u32;
    let submitted = submissions.insert_all(txn, &pyramid, &mut seq).await?;
    let teams = insert_teams(txn, &acc, &projects[1], &staff).await?;
    insert_planning(txn, &projects[1], &teams, &forms, &staff, &pyramid).await?;
    let households = insert_entities(txn, &acc, &forms.household).await?;
    let visits = submissions
        .insert_household_visits(txn, &pyramid, &households, &mut seq)
        .await?;
    insert_storage(txn, &acc, &staff, &pyramid, &households, &visits).await?;
    insert_workflow(txn, &households, &forms.household).await?;
    insert_matching(txn, &acc, algorithms, &projects[0], &staff, &pyramid).await?;
    let gpkg = insert_gpkg_import(txn, &acc, &projects[0]).await?;
    insert_tasks(txn, &acc, &staff, &gpkg).await?;
    insert_dhis2_exports(txn, &acc, &forms, &staff, &pyramid, &submitted).await?;
    insert_attachments_and_locks(txn, &staff, &pyramid, &submitted).await?;
    insert_pages(txn, &acc, &staff).await?;
    insert_comments(txn, &acc, &staff, &pyramid).await?;
    insert_user_import(txn, &acc, &staff).await?;
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

/// The account-wide feature flags, by code: (code, name, enabled for the
/// second account too).
const ACCOUNT_FEATURE_FLAGS: [(&str, &str, bool); 3] = [
    (
        "ALLOW_SHAPE_EDITION",
        "Allow editing org unit shapes",
        false,
    ),
    ("SHOW_PAGES", "Show the embedded pages (dashboards)", true),
    (
        "SHOW_DHIS2_LINK",
        "Show a link to DHIS2 on org units",
        false,
    ),
];

async fn insert_account_feature_flags(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let created = at(2026, 1, 2, 9, 0)?;
    for (code, name, _) in ACCOUNT_FEATURE_FLAGS {
        account_feature_flag::ActiveModel {
            name: Set(name.into()),
            code: Set(code.into()),
            created_at: Set(created),
            updated_at: Set(created),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// The first account uses every account feature flag, the second only the
/// pages.
async fn enable_account_feature_flags(
    txn: &DatabaseTransaction,
    acc: &Account,
) -> anyhow::Result<()> {
    for (code, _, both) in ACCOUNT_FEATURE_FLAGS {
        if acc.number == 0 || both {
            account_feature_flags::ActiveModel {
                account_id: Set(acc.id),
                account_feature_flag_id: Set(code.into()),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// The matching algorithms every account can run to link org units.
struct Algorithms {
    namesim: i32,
    namesimgeo: i32,
}

async fn insert_matching_algorithms(txn: &DatabaseTransaction) -> anyhow::Result<Algorithms> {
    let created = at(2026, 1, 2, 9, 0)?;
    let algorithm = |name: &str, description: &str| matching_algorithm::ActiveModel {
        name: Set(name.into()),
        description: Set(Some(description.into())),
        created_at: Set(created),
        ..Default::default()
    };
    Ok(Algorithms {
        namesim: algorithm(
            "namesim",
            "Links units of the two versions whose names are similar, under the same parent",
        )
        .insert(txn)
        .await?
        .id,
        namesimgeo: algorithm(
            "namesimgeo",
            "Name similarity, restricted to units less than 5 km apart",
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
    // Iaso logs in to DHIS2 with these, so it keeps the password itself:
    // a secret, which the API never shows.
    let credentials = external_credentials::ActiveModel {
        name: Set(format!("{} DHIS2", spec.country)),
        login: Set(Some("iaso_sync".into())),
        password: Set(Some(format!("demo-{}-dhis2-not-a-real-password", spec.key))),
        url: Set(Some(format!("https://dhis2.{}", spec.email_domain))),
        account_id: Set(account.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let source = data_source::ActiveModel {
        name: Set(spec.source.into()),
        read_only: Set(false),
        description: Set(Some(format!("Health facility pyramid of {}", spec.country))),
        created_at: Set(opened),
        updated_at: Set(opened),
        credentials_id: Set(Some(credentials.id)),
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
        credentials_id: credentials.id,
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
        password: Set(super::demo_password_hash()?),
        roles: Set(Some(StringList(vec![role.to_string()]))),
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
/// only the first region, in the account's two projects.
async fn insert_profiles(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
    pyramid: &Pyramid,
    projects: &[project::Model; 2],
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
            for project in projects {
                profile_projects::ActiveModel {
                    profile_id: Set(profile.id),
                    project_id: Set(project.id),
                }
                .insert(txn)
                .await?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The pyramid
// ---------------------------------------------------------------------------

/// The account's org units.
struct Pyramid {
    country: org_unit::Model,
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
    Ok(Pyramid { country, regions })
}

/// The account's two groups.
struct Groups {
    hospitals: i32,
    sentinel_sites: i32,
}

/// Two groups of the account's version: the district hospitals and a few
/// malaria sentinel sites.
async fn insert_groups(
    txn: &DatabaseTransaction,
    acc: &Account,
    pyramid: &Pyramid,
) -> anyhow::Result<Groups> {
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
    let mut groups = Vec::new();
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
        groups.push(group.id);
    }
    match groups.as_slice() {
        &[hospitals, sentinel_sites] => Ok(Groups {
            hospitals,
            sentinel_sites,
        }),
        _ => anyhow::bail!("expected 2 groups"),
    }
}

/// A facility-level group set (a unit is in one level at most) and a
/// surveillance group set (a unit may be in several networks), in the
/// groups' version.
async fn insert_group_sets(
    txn: &DatabaseTransaction,
    acc: &Account,
    groups: &Groups,
) -> anyhow::Result<()> {
    let created = acc.opened + Duration::days(1);
    for (n, (name, belonging, members)) in (1u32..).zip([
        ("Facility level", GroupBelonging::Single, groups.hospitals),
        (
            "Surveillance networks",
            GroupBelonging::Multiple,
            groups.sentinel_sites,
        ),
    ]) {
        let group_set = group_set::ActiveModel {
            name: Set(name.into()),
            source_ref: Set(Some(format!("{}gst{n:06}", acc.spec.code))),
            created_at: Set(created),
            updated_at: Set(created),
            group_belonging: Set(belonging),
            source_version_id: Set(acc.version_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        group_set_groups::ActiveModel {
            group_set_id: Set(group_set.id),
            group_id: Set(members),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// A population record type, used by both projects, with the estimates of
/// the first region and its districts.
async fn insert_records(
    txn: &DatabaseTransaction,
    acc: &Account,
    projects: &[project::Model; 2],
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    let created = acc.opened + Duration::days(20);
    let record_type = record_type::ActiveModel {
        name: Set("Population estimate 2026".into()),
        description: Set(Some(format!(
            "Projected total population, from the national statistics office of {}",
            acc.spec.country
        ))),
        created_at: Set(created),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for project in projects {
        record_type_projects::ActiveModel {
            record_type_id: Set(record_type.id),
            project_id: Set(project.id),
        }
        .insert(txn)
        .await?;
    }
    let region = pyramid.first_region()?;
    let units = std::iter::once(&region.unit).chain(region.districts.iter().map(|d| &d.unit));
    for (unit, population) in units.zip(acc.spec.population) {
        record::ActiveModel {
            value: Set(Decimal::from(population)),
            created_at: Set(created),
            version_id: Set(acc.version_id),
            org_unit_id: Set(unit.id),
            record_type_id: Set(record_type.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Forms and submissions
// ---------------------------------------------------------------------------

struct Forms {
    monthly: form::Model,
    /// The id of the monthly report's latest version, which the DHIS2
    /// mapping follows.
    monthly_version: i32,
    assessment: form::Model,
    tally: form::Model,
    household: form::Model,
}

async fn insert_forms(
    txn: &DatabaseTransaction,
    acc: &Account,
    projects: &[project::Model; 2],
    types: &OrgUnitTypes,
) -> anyhow::Result<Forms> {
    let (monthly, monthly_version) =
        insert_form(txn, acc, &MONTHLY_REPORT, 1, projects, types).await?;
    Ok(Forms {
        monthly,
        monthly_version,
        assessment: insert_form(txn, acc, &FACILITY_ASSESSMENT, 2, projects, types)
            .await?
            .0,
        tally: insert_form(txn, acc, &CAMPAIGN_TALLY, 3, projects, types)
            .await?
            .0,
        household: insert_form(txn, acc, &HOUSEHOLD_VISIT, 4, projects, types)
            .await?
            .0,
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

/// One form with its two versions, linked to its projects and org unit
/// types; also returns the id of its latest version.
async fn insert_form(
    txn: &DatabaseTransaction,
    acc: &Account,
    spec: &FormSpec,
    n: u32,
    projects: &[project::Model; 2],
    types: &OrgUnitTypes,
) -> anyhow::Result<(form::Model, i32)> {
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
    let mut latest_version = None;
    for (((version_id, _), created), fields) in
        FORM_VERSIONS.iter().zip(version_times).zip(version_fields)
    {
        let version = form_version::ActiveModel {
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
        latest_version = Some(version.id);
    }
    let latest_version = latest_version.context("no form version")?;
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
    Ok((form, latest_version))
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

/// A point `(dlon, dlat)` (in 1e-4 degrees) away from the GeoJSON point
/// `location`.
fn near(location: Option<&Value>, dlon: i32, dlat: i32) -> anyhow::Result<Value> {
    let coordinates = location
        .and_then(|l| l["coordinates"].as_array())
        .context("a unit without a location")?;
    let e4 = |c: Option<&Value>| -> anyhow::Result<i32> {
        let degrees = c.and_then(Value::as_f64).context("a bad coordinate")?;
        Ok((degrees * 10_000.0).round() as i32)
    };
    Ok(point(
        e4(coordinates.first())? + dlon,
        e4(coordinates.get(1))? + dlat,
    ))
}

/// Who has had the tablet (the data manager set it up, then handed it to
/// the field agent) and three GPS positions it sent during the campaign.
async fn insert_device_history(
    txn: &DatabaseTransaction,
    acc: &Account,
    device: &device::Model,
    projects: &[project::Model; 2],
    staff: &Staff,
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    let handed_over = device.created_at + Duration::days(45);
    for (user, start, end) in [
        (&staff.manager, device.created_at, Some(handed_over)),
        (&staff.agent, handed_over, None),
    ] {
        device_ownership::ActiveModel {
            start: Set(Some(start)),
            end: Set(end),
            created_at: Set(start),
            updated_at: Set(end.unwrap_or(start)),
            user_id: Set(Some(user.id)),
            device_id: Set(device.id),
            project_id: Set(Some(projects[0].id)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    // Driving to the first district's hospital, then on foot between its
    // facilities.
    let district = pyramid
        .first_region()?
        .districts
        .first()
        .context("no district")?;
    let stops = [
        (Transport::Car, 125, (9, 40), (-180, 95)),
        (Transport::Foot, 48, (11, 5), (12, -7)),
        (Transport::Foot, 61, (13, 20), (-9, 15)),
    ];
    for ((n, facility), (transport, accuracy, (hour, minute), (dlon, dlat))) in
        (1u32..).zip(&district.facilities).zip(stops)
    {
        let captured = at(2026, 11, 20, hour, minute)?;
        // Uploaded when the tablet found a connection, that evening.
        let uploaded = at(2026, 11, 20, 18, 30)?;
        device_position::ActiveModel {
            uuid: Set(demo_uuid(UUID_DEVICE_POSITION, acc.number * 100 + n)),
            location: Set(near(facility.location.as_ref(), dlon, dlat)?),
            transport: Set(transport),
            accuracy: Set(Decimal::new(accuracy, 1)),
            captured_at: Set(captured),
            created_at: Set(uploaded),
            updated_at: Set(uploaded),
            device_id: Set(device.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
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
    /// The registered household it is about, if any.
    entity_id: Option<i32>,
}

/// The submissions later rows refer to.
struct Submitted {
    /// The September reports of the first district's facilities, in
    /// facility order: exported to DHIS2.
    september: Vec<instance::Model>,
    /// The facility assessments, in hospital order.
    assessments: Vec<instance::Model>,
}

/// The household visits: each household's registration, then a follow-up
/// visit to the first one.
struct Visits {
    registrations: Vec<instance::Model>,
    follow_up: instance::Model,
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

    async fn insert_all(
        &self,
        txn: &DatabaseTransaction,
        pyramid: &Pyramid,
        seq: &mut u32,
    ) -> anyhow::Result<Submitted> {
        let [routine, campaign] = self.projects;
        let mut submitted = Submitted {
            september: Vec::new(),
            assessments: Vec::new(),
        };

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
                    entity_id: None,
                };
                let inserted = self.insert(txn, &sub, seq).await?;
                if p == 0 && index < 3 {
                    submitted.september.push(inserted);
                }
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
            entity_id: None,
        };
        self.insert(txn, &duplicate, seq).await?;
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
            entity_id: None,
        };
        self.insert(txn, &deleted, seq).await?;

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
                entity_id: None,
            };
            submitted
                .assessments
                .push(self.insert(txn, &sub, seq).await?);
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
                entity_id: None,
            };
            self.insert(txn, &sub, seq).await?;
        }
        Ok(submitted)
    }

    /// Each household's registration visit, in June at the first
    /// district's hospital and health centre, and a follow-up visit of the
    /// first household during the November round; each becomes the
    /// household's attributes (its reference instance) when it registers it.
    async fn insert_household_visits(
        &self,
        txn: &DatabaseTransaction,
        pyramid: &Pyramid,
        households: &Households,
        seq: &mut u32,
    ) -> anyhow::Result<Visits> {
        let campaign = &self.projects[1];
        let first_district = pyramid
            .first_region()?
            .districts
            .first()
            .context("no district")?;
        let mut registrations = Vec::new();
        for ((n, household), (head, unit)) in (0i64..).zip(&households.entities).zip(
            self.acc
                .spec
                .households
                .iter()
                .zip(&first_district.facilities),
        ) {
            let sub = Submission {
                form: &self.forms.household,
                project: campaign,
                unit,
                period: None,
                answers: household_answers(head, 2 + n, 0, true),
                received: household.created_at,
                by: &self.staff.agent,
                device_id: Some(self.device_id),
                exported: false,
                deleted: false,
                entity_id: Some(household.id),
            };
            let registration = self.insert(txn, &sub, seq).await?;
            let mut entity = household.clone().into_active_model();
            entity.attributes_id = Set(Some(registration.id));
            entity.update(txn).await?;
            registrations.push(registration);
        }
        let (household, head, unit) = households
            .entities
            .first()
            .zip(self.acc.spec.households.first())
            .zip(first_district.facilities.first())
            .map(|((h, head), unit)| (h, head, unit))
            .context("no household")?;
        let sub = Submission {
            form: &self.forms.household,
            project: campaign,
            unit,
            period: None,
            answers: household_answers(head, 2, 2, true),
            received: at(2026, 11, 10, 11, 30)?,
            by: &self.staff.agent,
            device_id: Some(self.device_id),
            exported: false,
            deleted: false,
            entity_id: Some(household.id),
        };
        let follow_up = self.insert(txn, &sub, seq).await?;
        Ok(Visits {
            registrations,
            follow_up,
        })
    }

    async fn insert(
        &self,
        txn: &DatabaseTransaction,
        sub: &Submission<'_>,
        seq: &mut u32,
    ) -> anyhow::Result<instance::Model> {
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
        let instance = instance::ActiveModel {
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
            entity_id: Set(sub.entity_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(instance)
    }
}

fn household_answers(head: &str, children: i64, vaccinated: i64, card_scanned: bool) -> Value {
    json!({
        "household_head": head,
        "children_under_5": children,
        "children_vaccinated": vaccinated,
        "nfc_card": if card_scanned { "yes" } else { "no" },
    })
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

/// The "Household" entity type and its two registered households.
struct Households {
    entity_type: entity_type::Model,
    entities: Vec<iaso_entity::Model>,
}

/// A "Household" entity type, registered with the household visit form,
/// with two registered households.
async fn insert_entities(
    txn: &DatabaseTransaction,
    acc: &Account,
    reference_form: &form::Model,
) -> anyhow::Result<Households> {
    let created = at(2026, 6, 1, 9, 0)?;
    let entity_type = entity_type::ActiveModel {
        name: Set("Household".into()),
        created_at: Set(created),
        updated_at: Set(created),
        is_active: Set(true),
        fields_list_view: Set(Some(StringList(vec![
            "household_head".into(),
            "children_under_5".into(),
        ]))),
        fields_detail_info_view: Set(Some(StringList(vec![
            "household_head".into(),
            "children_under_5".into(),
            "children_vaccinated".into(),
        ]))),
        reference_form_id: Set(Some(reference_form.id)),
        account_id: Set(acc.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut entities = Vec::new();
    for n in 1..=2u32 {
        let registered = created + Duration::days(i64::from(n) * 3);
        let entity = iaso_entity::ActiveModel {
            deleted_at: Set(None),
            name: Set(Some(format!("Household {:03}", n))),
            uuid: Set(demo_uuid(UUID_ENTITY, acc.number * 100 + n)),
            created_at: Set(registered),
            updated_at: Set(registered),
            entity_type_id: Set(entity_type.id),
            // Set once the registration visit is in.
            attributes_id: Set(None),
            account_id: Set(acc.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        entities.push(entity);
    }
    Ok(Households {
        entity_type,
        entities,
    })
}

// ---------------------------------------------------------------------------
// Storage devices and workflows
// ---------------------------------------------------------------------------

/// Why the second household's card was blacklisted.
const LOST_CARD: &str = "Reported lost by the household during the November round";

/// An NFC card per household (the second one lost and blacklisted), and
/// the log the tablet uploaded: each card written at registration, the
/// first updated at the follow-up visit, the second blacklisted.
async fn insert_storage(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
    pyramid: &Pyramid,
    households: &Households,
    visits: &Visits,
) -> anyhow::Result<()> {
    let blacklisted = at(2026, 11, 12, 10, 0)?;
    let first_district = pyramid
        .first_region()?
        .districts
        .first()
        .context("no district")?;
    let mut cards = Vec::new();
    for ((n, household), (registration, facility)) in (1u32..)
        .zip(&households.entities)
        .zip(visits.registrations.iter().zip(&first_district.facilities))
    {
        let lost = n == 2;
        let card = storage_device::ActiveModel {
            customer_chosen_id: Set(format!("{}-HH-{n:04}", acc.spec.code)),
            r#type: Set(StorageType::Nfc),
            status: Set(if lost {
                StorageStatus::Blacklisted
            } else {
                StorageStatus::Ok
            }),
            status_reason: Set(lost.then_some(StorageStatusReason::Lost)),
            status_comment: Set(lost.then(|| LOST_CARD.to_string())),
            status_updated_at: Set(lost.then_some(blacklisted)),
            created_at: Set(registration.created_at),
            updated_at: Set(if lost {
                blacklisted
            } else {
                registration.created_at
            }),
            account_id: Set(acc.id),
            org_unit_id: Set(Some(facility.id)),
            entity_id: Set(Some(household.id)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        cards.push((card, household, registration, facility));
    }

    // (card, operation, performed by, when, the submissions written).
    let mut entries = Vec::new();
    for (card, household, registration, facility) in &cards {
        entries.push((
            card,
            *household,
            *facility,
            StorageOperationType::WriteProfile,
            &staff.agent,
            registration
                .source_created_at
                .unwrap_or(registration.created_at),
            vec![registration.id],
        ));
    }
    let ((first, household, _, facility), (second, lost_household, _, lost_facility)) = cards
        .first()
        .zip(cards.get(1))
        .context("expected 2 cards")?;
    entries.push((
        first,
        *household,
        *facility,
        StorageOperationType::WriteRecord,
        &staff.agent,
        visits
            .follow_up
            .source_created_at
            .unwrap_or(visits.follow_up.created_at),
        vec![visits.follow_up.id],
    ));
    entries.push((
        second,
        *lost_household,
        *lost_facility,
        StorageOperationType::ChangeStatus,
        &staff.manager,
        blacklisted,
        vec![],
    ));
    for (n, (card, household, facility, operation, by, performed, instances)) in
        (1u32..).zip(entries)
    {
        let status_change = operation == StorageOperationType::ChangeStatus;
        // The tablet chooses the id, so that a retried upload is a no-op.
        let id = demo_uuid(UUID_STORAGE_LOG_ENTRY, acc.number * 100 + n);
        storage_log_entry::ActiveModel {
            id: Set(id),
            operation_type: Set(operation),
            performed_at: Set(performed),
            status: Set(status_change.then_some(card.status)),
            status_reason: Set(card.status_reason.filter(|_| status_change)),
            status_comment: Set(card.status_comment.clone().filter(|_| status_change)),
            performed_by_id: Set(Some(by.id)),
            device_id: Set(card.id),
            org_unit_id: Set(Some(facility.id)),
            entity_id: Set(Some(household.id)),
        }
        .insert(txn)
        .await?;
        for instance_id in instances {
            storage_log_entry_instances::ActiveModel {
                storage_log_entry_id: Set(id),
                instance_id: Set(instance_id),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// The households' workflow: a first version, unpublished when the
/// November round's version was published, and a draft of the next one.
/// Each later version asks for a revisit when children were missed.
async fn insert_workflow(
    txn: &DatabaseTransaction,
    households: &Households,
    household_form: &form::Model,
) -> anyhow::Result<()> {
    let created = households.entity_type.created_at + Duration::days(1);
    let published = at(2026, 10, 20, 10, 0)?;
    let drafted = at(2026, 11, 19, 15, 0)?;
    let workflow = workflow::ActiveModel {
        deleted_at: Set(None),
        created_at: Set(created),
        updated_at: Set(drafted),
        entity_type_id: Set(households.entity_type.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let missed_children =
        json!({ ">": [{ "var": "children_under_5" }, { "var": "children_vaccinated" }] });
    let no_card = json!({ "==": [{ "var": "nfc_card" }, "no"] });
    // (name, status, created, updated, follow-up condition).
    let versions = [
        (
            "Version 1",
            WorkflowVersionStatus::Unpublished,
            created,
            published,
            None,
        ),
        (
            "Version 2 - November round",
            WorkflowVersionStatus::Published,
            published - Duration::days(2),
            published,
            Some(missed_children),
        ),
        (
            "Version 3 - card checks",
            WorkflowVersionStatus::Draft,
            drafted,
            drafted,
            Some(no_card),
        ),
    ];
    for (name, status, created, updated, condition) in versions {
        let version = workflow_version::ActiveModel {
            deleted_at: Set(None),
            name: Set(name.into()),
            status: Set(status),
            created_at: Set(created),
            updated_at: Set(updated),
            workflow_id: Set(workflow.id),
            reference_form_id: Set(household_form.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if let Some(condition) = condition {
            let followup = workflow_followup::ActiveModel {
                order: Set(1),
                condition: Set(condition),
                created_at: Set(created),
                updated_at: Set(created),
                workflow_version_id: Set(version.id),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            workflow_followup_forms::ActiveModel {
                workflow_followup_id: Set(followup.id),
                form_id: Set(household_form.id),
            }
            .insert(txn)
            .await?;
        }
        if status == WorkflowVersionStatus::Published {
            // A revisit updates the household's vaccination count.
            workflow_change::ActiveModel {
                mapping: Set(json!({ "children_vaccinated": "children_vaccinated" })),
                created_at: Set(created),
                updated_at: Set(created),
                form_id: Set(household_form.id),
                workflow_version_id: Set(version.id),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Matching, imports and background tasks
// ---------------------------------------------------------------------------

/// Two duplicate searches over the account's version (both sides of each
/// run are the one version), each with the link it found: the rejected
/// facility, confirmed as a duplicate of its district's health centre, and
/// the facility created in the field, still to be checked.
async fn insert_matching(
    txn: &DatabaseTransaction,
    acc: &Account,
    algorithms: &Algorithms,
    routine: &project::Model,
    staff: &Staff,
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    for matching_algorithm_id in [algorithms.namesim, algorithms.namesimgeo] {
        matching_algorithm_projects::ActiveModel {
            matching_algorithm_id: Set(matching_algorithm_id),
            project_id: Set(routine.id),
        }
        .insert(txn)
        .await?;
    }
    let (region, district, _) = REJECTED_FACILITY;
    let rejected_twin = pyramid.facility((region, district, 1))?;
    let (region, district, _) = NEW_FACILITY;
    let new_twin = pyramid.facility((region, district, 1))?;
    let rejected_at = at(2026, 3, 9, 14, 0)?;
    // (algorithm, launcher, started, minutes, source, destination, score,
    // validated by).
    let runs = [
        (
            algorithms.namesim,
            &staff.admin,
            at(2026, 3, 5, 10, 0)?,
            6,
            pyramid.facility(REJECTED_FACILITY)?,
            rejected_twin,
            91,
            Some(&staff.manager),
        ),
        (
            algorithms.namesimgeo,
            &staff.manager,
            at(2026, 11, 19, 9, 0)?,
            4,
            pyramid.facility(NEW_FACILITY)?,
            new_twin,
            78,
            None,
        ),
    ];
    for (algorithm_id, launcher, started, minutes, source, destination, score, validator) in runs {
        let ended = started + Duration::minutes(minutes);
        let run = algorithm_run::ActiveModel {
            created_at: Set(started),
            ended_at: Set(Some(ended)),
            result: Set(Some(json!({ "compared": 28, "links": 1 }))),
            finished: Set(true),
            launcher_id: Set(Some(launcher.id)),
            algorithm_id: Set(algorithm_id),
            version_1_id: Set(acc.version_id),
            version_2_id: Set(acc.version_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        link::ActiveModel {
            validated: Set(validator.is_some()),
            validation_date: Set(validator.map(|_| rejected_at)),
            similarity_score: Set(Some(score)),
            created_at: Set(ended),
            updated_at: Set(validator.map_or(ended, |_| rejected_at)),
            validator_id: Set(validator.map(|v| v.id)),
            destination_id: Set(destination.id),
            source_id: Set(source.id),
            algorithm_run_id: Set(Some(run.id)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// The GeoPackage the pyramid was imported from, the day before the units
/// were created.
async fn insert_gpkg_import(
    txn: &DatabaseTransaction,
    acc: &Account,
    routine: &project::Model,
) -> anyhow::Result<import_gpkg::Model> {
    let uploaded = acc.opened + Duration::days(1) - Duration::minutes(25);
    Ok(import_gpkg::ActiveModel {
        created_at: Set(uploaded),
        updated_at: Set(uploaded),
        file: Set(format!("gpkg/{}_pyramid_2026.gpkg", acc.spec.key)),
        version_number: Set(Some(1)),
        description: Set(Some(format!(
            "Initial pyramid, from the {}",
            acc.spec.source
        ))),
        project_id: Set(Some(routine.id)),
        data_source_id: Set(acc.data_source_id),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// The GeoPackage import (done), a failed DHIS2 import (the credentials
/// had expired) and a push of the pyramid to DHIS2 still running "today".
async fn insert_tasks(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
    gpkg: &import_gpkg::Model,
) -> anyhow::Result<()> {
    let imported = acc.opened + Duration::days(1);
    let failed = at(2026, 11, 10, 14, 0)?;
    let running = at(2026, 11, 21, 9, 10)?;
    let dhis2 = acc.dhis2_url();
    let tasks = [
        (
            "import_gpkg_task",
            TaskStatus::Success,
            &staff.admin,
            gpkg.created_at,
            Some(imported),
            (28, 28),
            Some("28 org units imported"),
            json!({ "import_gpkg_id": gpkg.id }),
            Some(json!({ "message": "28 org units imported into version 1" })),
        ),
        (
            "dhis2_ou_importer",
            TaskStatus::Errored,
            &staff.admin,
            failed,
            Some(failed + Duration::minutes(2)),
            (0, 0),
            None,
            json!({ "credentials_id": acc.credentials_id, "source_version_number": 2 }),
            Some(json!({
                "message": format!("DHIS2 answered 401 Unauthorized for {dhis2}/api/organisationUnits")
            })),
        ),
        (
            "dhis2_ou_exporter",
            TaskStatus::Running,
            &staff.manager,
            running,
            None,
            (12, 28),
            Some("12 of 28 org units sent to DHIS2"),
            json!({ "credentials_id": acc.credentials_id, "source_version_id": acc.version_id }),
            None,
        ),
    ];
    for (name, status, launcher, created, ended, (progress, end), message, params, result) in tasks
    {
        task::ActiveModel {
            created_at: Set(created),
            started_at: Set(Some(created + Duration::minutes(1))),
            ended_at: Set(ended),
            progress_value: Set(progress),
            end_value: Set(end),
            result: Set(result),
            status: Set(status),
            name: Set(name.into()),
            params: Set(Some(params)),
            queue_answer: Set(None),
            progress_message: Set(message.map(String::from)),
            should_be_killed: Set(false),
            launcher_id: Set(Some(launcher.id)),
            account_id: Set(acc.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// DHIS2 exports, attachments and locks
// ---------------------------------------------------------------------------

/// The monthly report's questions and the DHIS2 data elements they feed.
const DATA_ELEMENTS: [(&str, &str); 4] = [
    ("opd_consultations", "INTEGER"),
    ("malaria_confirmed", "INTEGER"),
    ("act_stock_out", "BOOLEAN"),
    ("anc1_visits", "INTEGER"),
];

/// The monthly report's aggregate mapping to DHIS2, and the export of the
/// first district's first two September reports, one request each: the
/// first needed a retry after a server error.
async fn insert_dhis2_exports(
    txn: &DatabaseTransaction,
    acc: &Account,
    forms: &Forms,
    staff: &Staff,
    pyramid: &Pyramid,
    submitted: &Submitted,
) -> anyhow::Result<()> {
    let code = acc.spec.code;
    let mapped = forms.monthly.updated_at + Duration::days(1);
    let mapping = mapping::ActiveModel {
        name: Set(Some(format!("{} to DHIS2", forms.monthly.name))),
        mapping_type: Set("AGGREGATE".into()),
        created_at: Set(mapped),
        updated_at: Set(mapped),
        data_source_id: Set(acc.data_source_id),
        form_id: Set(Some(forms.monthly.id)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let question_mappings: serde_json::Map<String, Value> = (1u32..)
        .zip(DATA_ELEMENTS)
        .map(|(n, (question, value_type))| {
            (
                question.to_string(),
                json!({ "id": format!("{code}de{n:06}"), "valueType": value_type }),
            )
        })
        .collect();
    let mapping_version = mapping_version::ActiveModel {
        name: Set(LATEST_FORM_VERSION.into()),
        json: Set(json!({
            "data_set_id": format!("{code}ds000001"),
            "question_mappings": question_mappings,
        })),
        created_at: Set(mapped),
        updated_at: Set(mapped),
        form_version_id: Set(forms.monthly_version),
        mapping_id: Set(mapping.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;

    let first_district = pyramid
        .first_region()?
        .districts
        .first()
        .context("no district")?;
    let url = format!("{}/api/dataValueSets", acc.dhis2_url());
    for (n, (report, facility)) in (0u32..).zip(
        submitted
            .september
            .iter()
            .zip(&first_district.facilities)
            .take(2),
    ) {
        let retried = n == 0;
        let ended = report
            .last_export_success_at
            .context("an unexported September report")?;
        let started = ended - Duration::minutes(2);
        let request = export_request::ActiveModel {
            params: Set(Some(json!({
                "form_ids": [forms.monthly.id],
                "period": report.period,
                "org_unit_ids": [facility.id],
            }))),
            result: Set(Some(json!({ "exported": 1, "errored": 0 }))),
            finished: Set(true),
            status: Set("EXPORTED".into()),
            instance_count: Set(1),
            exported_count: Set(1),
            errored_count: Set(0),
            last_error_message: Set(None),
            continue_on_error: Set(false),
            queued_at: Set(Some(started - Duration::minutes(1))),
            started_at: Set(Some(started)),
            ended_at: Set(Some(ended)),
            launcher_id: Set(Some(staff.manager.id)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let status = export_status::ActiveModel {
            status: Set("EXPORTED".into()),
            last_error_message: Set(retried.then(|| "HTTP 500 from DHIS2, retried".to_string())),
            created_at: Set(started),
            export_request_id: Set(request.id),
            instance_id: Set(report.id),
            mapping_version_id: Set(mapping_version.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;

        let sent = data_value_set(code, report, facility)?;
        let mut attempts = Vec::new();
        if retried {
            attempts.push((
                started,
                500,
                json!({
                    "status": "ERROR",
                    "httpStatusCode": 500,
                    "message": "Internal Server Error",
                }),
            ));
        }
        attempts.push((
            ended,
            200,
            json!({
                "status": "SUCCESS",
                "importCount": { "imported": DATA_ELEMENTS.len(), "updated": 0, "ignored": 0, "deleted": 0 },
            }),
        ));
        for (at_time, http_status, received) in attempts {
            let log = export_log::ActiveModel {
                sent: Set(Some(sent.clone())),
                received: Set(Some(received)),
                created_at: Set(at_time),
                http_status: Set(Some(http_status)),
                url: Set(Some(url.clone())),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            export_status_export_logs::ActiveModel {
                export_status_id: Set(status.id),
                export_log_id: Set(log.id),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// The DHIS2 data value set a monthly report is sent as.
fn data_value_set(
    code: &str,
    report: &instance::Model,
    facility: &org_unit::Model,
) -> anyhow::Result<Value> {
    let answers = report.json.as_ref().context("a report without answers")?;
    let values: Vec<Value> = (1u32..)
        .zip(DATA_ELEMENTS)
        .map(|(n, (question, value_type))| {
            let answer = &answers[question];
            let value = match (value_type, answer.as_str()) {
                ("BOOLEAN", Some(yes_no)) => json!(yes_no == "yes"),
                _ => answer.clone(),
            };
            json!({ "dataElement": format!("{code}de{n:06}"), "value": value })
        })
        .collect();
    Ok(json!({
        "dataSet": format!("{code}ds000001"),
        "period": report.period,
        "orgUnit": facility.source_ref,
        "dataValues": values,
    }))
}

/// The photos of the first two assessments (the first retaken, its first
/// photo deleted), and two locks on exported September reports: one still
/// held at the country level, one lifted for a correction.
async fn insert_attachments_and_locks(
    txn: &DatabaseTransaction,
    staff: &Staff,
    pyramid: &Pyramid,
    submitted: &Submitted,
) -> anyhow::Result<()> {
    for (n, assessment) in (0u32..).zip(submitted.assessments.iter().take(2)) {
        let photo = assessment
            .json
            .as_ref()
            .and_then(|answers| answers["photo_front"].as_str())
            .context("an assessment without a photo")?;
        let uuid = assessment
            .uuid
            .as_deref()
            .context("an instance without a uuid")?;
        let mut photos = vec![(photo.to_string(), false)];
        if n == 0 {
            photos.insert(0, (photo.replace("_1330", "_1328"), true));
        }
        for (name, deleted) in photos {
            instance_file::ActiveModel {
                created_at: Set(assessment.created_at),
                updated_at: Set(if deleted {
                    assessment.created_at + Duration::days(2)
                } else {
                    assessment.created_at
                }),
                file: Set(format!("instancefiles/{uuid}/{name}")),
                name: Set(Some(name)),
                deleted: Set(deleted),
                instance_id: Set(assessment.id),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }

    let region = pyramid.first_region()?;
    let locks = [
        (&pyramid.country, None),
        (&region.unit, Some((&staff.admin, at(2026, 10, 2, 9, 0)?))),
    ];
    for (report, (top, unlocked)) in submitted.september.iter().zip(locks) {
        let exported = report
            .last_export_success_at
            .context("an unexported September report")?;
        instance_lock::ActiveModel {
            locked_at: Set(exported + Duration::hours(1)),
            unlocked_at: Set(unlocked.map(|(_, when)| when)),
            locked_by_id: Set(staff.manager.id),
            unlocked_by_id: Set(unlocked.map(|(by, _)| by.id)),
            instance_id: Set(report.id),
            top_org_unit_id: Set(top.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Pages, comments and user imports
// ---------------------------------------------------------------------------

/// A Power BI dashboard for the admin and the data manager, and a public
/// data-entry guide for the field agent.
async fn insert_pages(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
) -> anyhow::Result<()> {
    let spec = acc.spec;
    let created = acc.opened + Duration::days(30);
    let dashboard = page::ActiveModel {
        name: Set("Malaria dashboard".into()),
        content: Set(None),
        needs_authentication: Set(true),
        slug: Set(format!("{}-malaria-dashboard", spec.key)),
        created_at: Set(created),
        updated_at: Set(created),
        r#type: Set("POWERBI".into()),
        powerbi_group_id: Set(Some(
            demo_uuid(UUID_POWERBI, acc.number * 10 + 1).to_string(),
        )),
        powerbi_report_id: Set(Some(
            demo_uuid(UUID_POWERBI, acc.number * 10 + 2).to_string(),
        )),
        powerbi_filters: Set(Some(json!([{
            "$schema": "http://powerbi.com/product/schema#basic",
            "target": { "table": "org_units", "column": "country" },
            "operator": "In",
            "values": [spec.country],
        }]))),
        account_id: Set(acc.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let guide = page::ActiveModel {
        name: Set("Data entry guide".into()),
        content: Set(Some(format!(
            "<h1>Data entry guide</h1><p>Send the monthly report of your facility before the 10th \
             of the next month. Contact {} {} for any question.</p>",
            spec.people[1].0, spec.people[1].1
        ))),
        needs_authentication: Set(false),
        slug: Set(format!("{}-data-entry-guide", spec.key)),
        created_at: Set(created),
        updated_at: Set(created + Duration::days(7)),
        r#type: Set("TEXT".into()),
        powerbi_group_id: Set(None),
        powerbi_report_id: Set(None),
        powerbi_filters: Set(None),
        account_id: Set(acc.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for (page, user) in [
        (&dashboard, &staff.admin),
        (&dashboard, &staff.manager),
        (&guide, &staff.agent),
    ] {
        page_users::ActiveModel {
            page_id: Set(page.id),
            user_id: Set(user.id),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// The data manager's question on the facility created in the field, and
/// the field agent's reply.
async fn insert_comments(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
    pyramid: &Pyramid,
) -> anyhow::Result<()> {
    let facility = pyramid.facility(NEW_FACILITY)?;
    let thread = [
        (
            &staff.manager,
            at(2026, 8, 21, 9, 12)?,
            format!(
                "{} is 300 m from where the district team placed it: can you confirm the \
                 location on your next visit?",
                facility.name
            ),
        ),
        (
            &staff.agent,
            at(2026, 8, 25, 16, 40)?,
            "Confirmed: the post moved to the new building next to the market.".to_string(),
        ),
    ];
    let mut parent: Option<i32> = None;
    for (n, (user, submitted, text)) in (1u32..).zip(thread) {
        let comment = comment_iaso::ActiveModel {
            object_pk: Set(facility.id.to_string()),
            user_name: Set(Some(format!(
                "{} {}",
                user.first_name.as_deref().unwrap_or_default(),
                user.last_name.as_deref().unwrap_or_default()
            ))),
            user_email: Set(user.email.clone()),
            user_url: Set(None),
            comment: Set(text),
            submit_date: Set(submitted),
            ip_address: Set(Some(format!("198.51.100.{}", acc.number * 10 + n))),
            is_public: Set(true),
            is_removed: Set(false),
            user_id: Set(Some(user.id)),
            parent_id: Set(parent),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        parent = Some(comment.id);
    }
    Ok(())
}

/// The CSV the admin created the account's users from.
async fn insert_user_import(
    txn: &DatabaseTransaction,
    acc: &Account,
    staff: &Staff,
) -> anyhow::Result<()> {
    let uploaded = acc.opened + Duration::days(2) - Duration::minutes(10);
    bulk_create_user_csv_file::ActiveModel {
        file: Set(format!("bulk_create_users/{}_users.csv", acc.spec.key)),
        created_at: Set(uploaded),
        created_by_id: Set(Some(staff.admin.id)),
        account_id: Set(acc.id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
