//! The Iaso data set: one ministry of health (account 1) with a routine
//! project and a campaign project, one data source with one version (the
//! default of both), a five-level pyramid of org units, 10 forms with their
//! versions, about `instances_per_unit` submissions per health facility over
//! 12 monthly periods, users in four roles, devices, campaign teams and one
//! published micro-planning with its assignments.
//!
//! The pyramid for `n` units: 1 country, about n^0.2 regions (at most 10),
//! n^0.4 districts, n^0.6 health areas and the rest health facilities;
//! 100,000 units give 10 regions, 100 districts, 1,000 health areas and
//! 98,889 facilities. Each parent gets a random share of the level below
//! (at least one child). Ids are numbered level by level from 1, children
//! of one parent contiguous, and `path` is the parent's path, `.`, the id.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sea_orm::prelude::Decimal;
use sea_orm::sea_query::{Expr, Query, Value};
use serde_json::json;
use uuid::Uuid;

use super::{SeedOptions, Writer, rng};

/// Tables whose ids the seed assigns (their PostgreSQL sequences are moved
/// past them afterwards).
pub(super) const TABLES_WITH_IDS: &[&str] = &[
    "data_source",
    "source_version",
    "account",
    "project",
    "org_unit_type",
    "user",
    "org_unit",
    "form",
    "form_version",
    "group_set",
    "group",
    "profile",
    "device",
    "device_ownership",
    "team",
    "planning",
    "assignment",
    "instance",
];

// PRNG streams, one per purpose (see `super::rng`).
const STREAM_PYRAMID: u64 = 1;
const STREAM_USERS: u64 = 2;
const STREAM_GROUPS: u64 = 3;
const STREAM_DEVICES: u64 = 4;
const STREAM_ASSIGNMENTS: u64 = 5;
const STREAM_INSTANCES: u64 = 6;
const STREAM_FORMS: u64 = 7;

const ACCOUNT: i32 = 1;
const ROUTINE_PROJECT: i32 = 1;
const CAMPAIGN_PROJECT: i32 = 2;
const SOURCE: i32 = 1;
const VERSION: i32 = 1;

/// Org-unit types: (name, short name, category, depth). Ids are 1.. in this
/// order; the pyramid's level `l` has type `l + 1`.
const UNIT_TYPES: [(&str, &str, Option<&str>, i16); 5] = [
    ("Country", "CTRY", Some("COUNTRY"), 0),
    ("Region", "REG", Some("REGION"), 1),
    ("District", "DIST", Some("DISTRICT"), 2),
    // Iaso's category enum has no health-area value.
    ("Health area", "HA", None, 3),
    ("Health facility", "HF", Some("HF"), 4),
];
const LEVEL_HEALTH_AREA: usize = 3;
const LEVEL_HF: usize = 4;

/// The monthly periods submissions are spread over.
const PERIODS: [&str; 12] = [
    "202511", "202512", "202601", "202602", "202603", "202604", "202605", "202606", "202607",
    "202608", "202609", "202610",
];

struct FormSpec {
    slug: &'static str,
    name: &'static str,
    period_type: Option<&'static str>,
    single_per_period: bool,
    /// Relative share of the submissions.
    weight: u32,
    campaign: bool,
    versions: u32,
    /// Also filled in at health-area level.
    health_areas: bool,
    fields: &'static [(&'static str, &'static str, &'static str)],
}

const FORMS: [FormSpec; 10] = [
    FormSpec {
        slug: "monthly_activity",
        name: "Monthly Activity Report",
        period_type: Some("MONTH"),
        single_per_period: true,
        weight: 30,
        campaign: false,
        versions: 4,
        health_areas: false,
        fields: &[
            ("consultations", "Outpatient consultations", "integer"),
            ("deliveries", "Assisted deliveries", "integer"),
            ("referrals", "Referrals", "integer"),
            ("remarks", "Remarks", "text"),
        ],
    },
    FormSpec {
        slug: "stock_report",
        name: "Essential Medicines Stock",
        period_type: Some("MONTH"),
        single_per_period: true,
        weight: 15,
        campaign: false,
        versions: 3,
        health_areas: false,
        fields: &[
            ("act_doses", "ACT doses in stock", "integer"),
            ("ors_sachets", "ORS sachets in stock", "integer"),
            ("stock_out", "Any stock-out this month?", "select_one"),
        ],
    },
    FormSpec {
        slug: "malaria_cases",
        name: "Malaria Case Register",
        period_type: Some("WEEK"),
        single_per_period: false,
        weight: 12,
        campaign: false,
        versions: 2,
        health_areas: false,
        fields: &[
            ("tested", "Suspected cases tested", "integer"),
            ("positive", "Confirmed cases", "integer"),
            ("treated", "Cases treated", "integer"),
        ],
    },
    FormSpec {
        slug: "nutrition_screening",
        name: "Nutrition Screening (MUAC)",
        period_type: Some("MONTH"),
        single_per_period: false,
        weight: 8,
        campaign: false,
        versions: 2,
        health_areas: true,
        fields: &[
            ("screened", "Children screened", "integer"),
            ("sam", "Severe acute malnutrition", "integer"),
            ("mam", "Moderate acute malnutrition", "integer"),
        ],
    },
    FormSpec {
        slug: "facility_assessment",
        name: "Health Facility Assessment",
        period_type: Some("YEAR"),
        single_per_period: true,
        weight: 4,
        campaign: false,
        versions: 3,
        health_areas: false,
        fields: &[
            ("water", "Running water", "select_one"),
            ("power", "Electricity", "select_one"),
            ("staff", "Qualified staff", "integer"),
            ("photo", "Photo of the facility", "image"),
        ],
    },
    FormSpec {
        slug: "workforce_census",
        name: "Health Workforce Census",
        period_type: Some("QUARTER"),
        single_per_period: true,
        weight: 4,
        campaign: false,
        versions: 2,
        health_areas: false,
        fields: &[
            ("nurses", "Nurses", "integer"),
            ("midwives", "Midwives", "integer"),
            ("chws", "Community health workers", "integer"),
        ],
    },
    FormSpec {
        slug: "community_feedback",
        name: "Community Feedback",
        period_type: None,
        single_per_period: false,
        weight: 4,
        campaign: false,
        versions: 1,
        health_areas: true,
        fields: &[
            ("satisfied", "Satisfied with the service?", "select_one"),
            ("comment", "Comment", "text"),
        ],
    },
    FormSpec {
        slug: "vaccination_tally",
        name: "Vaccination Tally Sheet",
        period_type: Some("DAY"),
        single_per_period: false,
        weight: 12,
        campaign: true,
        versions: 3,
        health_areas: false,
        fields: &[
            ("under_one", "Children under 1 vaccinated", "integer"),
            ("one_to_five", "Children 1 to 5 vaccinated", "integer"),
            ("vials_used", "Vials used", "integer"),
        ],
    },
    FormSpec {
        slug: "polio_monitoring",
        name: "Polio Campaign Monitoring",
        period_type: None,
        single_per_period: false,
        weight: 7,
        campaign: true,
        versions: 2,
        health_areas: true,
        fields: &[
            ("houses_visited", "Houses visited", "integer"),
            ("children_missed", "Children missed", "integer"),
            ("finger_marked", "Finger marked", "integer"),
        ],
    },
    FormSpec {
        slug: "cold_chain",
        name: "Cold Chain Equipment Inventory",
        period_type: Some("QUARTER"),
        single_per_period: true,
        weight: 4,
        campaign: true,
        versions: 2,
        health_areas: false,
        fields: &[
            ("fridges", "Working fridges", "integer"),
            ("temperature", "Fridge temperature", "decimal"),
        ],
    },
];

const SYLLABLES: [&str; 32] = [
    "ka", "lo", "mba", "ti", "ra", "ne", "so", "ba", "du", "ki", "ma", "zi", "wa", "go", "le",
    "mu", "sa", "nya", "ko", "ta", "bu", "di", "fa", "ga", "ho", "ja", "ke", "lu", "mo", "ndo",
    "pe", "ru",
];
const FIRST_NAMES: [&str; 16] = [
    "Amina", "Kofi", "Fatou", "Ibrahim", "Grace", "Moussa", "Aïcha", "Samuel", "Mariam", "Joseph",
    "Esther", "Ousmane", "Ruth", "Daniel", "Awa", "Patrick",
];
const LAST_NAMES: [&str; 16] = [
    "Diallo", "Mensah", "Traoré", "Okoro", "Kamara", "Banda", "Ndiaye", "Mwangi", "Keita", "Sow",
    "Phiri", "Boateng", "Touré", "Kabila", "Moyo", "Sangaré",
];
/// Facility kinds with their share in percent.
const FACILITY_KINDS: [(&str, u32); 4] = [
    ("Health Post", 45),
    ("Health Centre", 40),
    ("Dispensary", 10),
    ("District Hospital", 5),
];

/// What a seed of a given size looks like, fixed before anything is written.
pub(super) struct Plan {
    options: SeedOptions,
    /// Units per level: country, regions, districts, health areas, facilities.
    levels: [usize; 5],
    agents: usize,
    devices: usize,
}

/// A generated org unit.
struct Unit {
    id: i32,
    parent: Option<i32>,
    level: usize,
    name: String,
    path: String,
    status: &'static str,
    custom: bool,
    uuid: Option<String>,
    source_ref: String,
    aliases: Option<Vec<String>>,
    lon: f64,
    lat: f64,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    /// Index of its region (0 for the country).
    region: usize,
    /// Index of its district (0 above district level).
    district: usize,
    kind: &'static str,
}

/// What submissions need of a facility.
#[derive(Clone, Copy)]
struct Facility {
    id: i32,
    lon: f64,
    lat: f64,
    district: usize,
}

/// A form as the submissions see it.
#[derive(Clone)]
struct FormInfo {
    id: i32,
    project: i32,
    weight: u32,
    latest_version: String,
    health_areas: bool,
}

impl Plan {
    pub(super) fn new(options: &SeedOptions) -> anyhow::Result<Self> {
        let n = options.org_units as f64;
        if options.org_units < 20 {
            bail!("--org-units must be at least 20 for a five-level pyramid");
        }
        if options.org_units > i32::MAX as u64 / 2 {
            bail!("--org-units is too large");
        }
        let regions = (n.powf(0.2).round() as usize).clamp(1, 10);
        let districts = (n.powf(0.4).round() as usize).max(regions);
        let areas = (n.powf(0.6).round() as usize).max(districts);
        let upper = 1 + regions + districts + areas;
        let facilities = (options.org_units as usize).saturating_sub(upper);
        if facilities < areas {
            bail!("--org-units is too small for a five-level pyramid");
        }
        let instances = facilities as u64 * u64::from(options.instances_per_unit);
        if instances > i32::MAX as u64 / 2 {
            bail!("too many instances for 32-bit ids");
        }
        Ok(Self {
            options: options.clone(),
            levels: [1, regions, districts, areas, facilities],
            agents: (facilities / 200).max(2),
            devices: (facilities / 100).max(2),
        })
    }

    /// Roughly how many rows the seed writes, for the progress bar.
    pub(super) fn estimated_rows(&self) -> u64 {
        let units: usize = self.levels.iter().sum();
        let facilities = self.levels[LEVEL_HF] as u64;
        units as u64
            + facilities * u64::from(self.options.instances_per_unit)
            + facilities * 2
            + self.agents as u64 * 5
            + self.devices as u64 * 3
    }

    pub(super) async fn write(&self, w: &mut Writer<'_>) -> anyhow::Result<()> {
        let seed = self.options.seed;
        let start = at(2024, 1, 15)?;

        // The source, its version, the account and its projects.
        w.insert(
            "data_source",
            &[
                "id",
                "name",
                "read_only",
                "description",
                "created_at",
                "updated_at",
            ],
            std::iter::once(vec![
                SOURCE.into(),
                format!("Master Facility List (seed {seed})").into(),
                false.into(),
                "The national health facility registry".into(),
                start.into(),
                start.into(),
            ]),
        )
        .await?;
        w.insert(
            "source_version",
            &[
                "id",
                "number",
                "description",
                "created_at",
                "updated_at",
                "data_source_id",
            ],
            std::iter::once(vec![
                VERSION.into(),
                1.into(),
                "Validated pyramid".into(),
                start.into(),
                start.into(),
                SOURCE.into(),
            ]),
        )
        .await?;
        let mut update = Query::update();
        update
            .table("data_source")
            .value("default_version_id", VERSION)
            .and_where(sea_orm::sea_query::ExprTrait::eq(Expr::col("id"), SOURCE));
        w.execute(w.backend().build(&update)).await?;
        w.insert(
            "account",
            &[
                "id",
                "name",
                "created_at",
                "updated_at",
                "default_version_id",
            ],
            std::iter::once(vec![
                ACCOUNT.into(),
                format!("Ministry of Health (seed {seed})").into(),
                start.into(),
                start.into(),
                VERSION.into(),
            ]),
        )
        .await?;
        w.insert(
            "project",
            &[
                "id",
                "name",
                "app_id",
                "needs_authentication",
                "created_at",
                "updated_at",
                "min_version",
                "account_id",
            ],
            [
                (
                    ROUTINE_PROJECT,
                    "Routine Health Information",
                    "org.seeded.rhis",
                ),
                (
                    CAMPAIGN_PROJECT,
                    "Immunisation Campaigns",
                    "org.seeded.campaigns",
                ),
            ]
            .into_iter()
            .map(move |(id, name, app)| {
                vec![
                    id.into(),
                    name.into(),
                    format!("{app}.s{seed}").into(),
                    true.into(),
                    start.into(),
                    start.into(),
                    Value::Int(Some(120)),
                    ACCOUNT.into(),
                ]
            }),
        )
        .await?;
        w.insert(
            "data_source_projects",
            &["data_source_id", "project_id"],
            [ROUTINE_PROJECT, CAMPAIGN_PROJECT]
                .into_iter()
                .map(|p| vec![SOURCE.into(), p.into()]),
        )
        .await?;

        // Org-unit types.
        w.insert(
            "org_unit_type",
            &[
                "id",
                "name",
                "short_name",
                "created_at",
                "updated_at",
                "category",
                "depth",
            ],
            UNIT_TYPES.iter().zip(1..).map(
                move |(&(name, short, category, depth), id): (_, i32)| {
                    vec![
                        id.into(),
                        name.into(),
                        short.into(),
                        start.into(),
                        start.into(),
                        Value::String(category.map(String::from)),
                        depth.into(),
                    ]
                },
            ),
        )
        .await?;
        w.insert(
            "org_unit_type_projects",
            &["org_unit_type_id", "project_id"],
            (1..=UNIT_TYPES.len() as i32).flat_map(|t| {
                [ROUTINE_PROJECT, CAMPAIGN_PROJECT]
                    .into_iter()
                    .map(move |p| vec![t.into(), p.into()])
            }),
        )
        .await?;
        w.insert(
            "org_unit_type_sub_unit_types",
            &["from_org_unit_type_id", "to_org_unit_type_id"],
            (1..UNIT_TYPES.len() as i32).map(|t| vec![t.into(), (t + 1).into()]),
        )
        .await?;

        // The pyramid, in memory first.
        let units = self.pyramid(start)?;
        let regions: Vec<(i32, String)> = units
            .iter()
            .filter(|u| u.level == 1)
            .map(|u| (u.id, u.name.clone()))
            .collect();
        let districts: Vec<(i32, usize)> = units
            .iter()
            .filter(|u| u.level == 2)
            .map(|u| (u.id, u.region))
            .collect();
        let facilities: Vec<Facility> = units
            .iter()
            .filter(|u| u.level == LEVEL_HF)
            .map(|u| Facility {
                id: u.id,
                lon: u.lon,
                lat: u.lat,
                district: u.district,
            })
            .collect();
        let health_areas: Vec<Facility> = units
            .iter()
            .filter(|u| u.level == LEVEL_HEALTH_AREA)
            .map(|u| Facility {
                id: u.id,
                lon: u.lon,
                lat: u.lat,
                district: u.district,
            })
            .collect();
        let hf_kinds: Vec<(i32, &'static str, usize)> = units
            .iter()
            .filter(|u| u.level == LEVEL_HF)
            .map(|u| (u.id, u.kind, u.region))
            .collect();

        // Users: an administrator, data managers, a supervisor per region
        // and field agents, each with a profile in the account.
        let users = self.users(&regions, start)?;
        let user_count = users.len();
        let first_supervisor = 1 + MANAGERS as i32 + 1;
        let first_agent = first_supervisor + regions.len() as i32;
        w.insert(
            "user",
            &[
                "id",
                "username",
                "email",
                "first_name",
                "last_name",
                "is_active",
                "is_superuser",
                "password",
                "last_login",
                "created_at",
                "updated_at",
            ],
            users.into_iter(),
        )
        .await?;
        // Agent `k` works in district `k % districts` and carries device
        // `k % devices`.
        let agent_district = |k: usize| districts[k % districts.len()];

        // Write the org units (custom ones were created by an agent).
        let agents = self.agents;
        w.insert(
            "org_unit",
            &[
                "id",
                "name",
                "uuid",
                "custom",
                "validated",
                "validation_status",
                "path",
                "aliases",
                "source_ref",
                "gps_source",
                "location",
                "created_at",
                "updated_at",
                "creator_id",
                "version_id",
                "parent_id",
                "org_unit_type_id",
            ],
            units.into_iter().map(move |u| {
                let creator = u
                    .custom
                    .then(|| first_agent + (u.id as usize % agents) as i32);
                vec![
                    u.id.into(),
                    u.name.into(),
                    Value::String(u.uuid),
                    u.custom.into(),
                    (u.status == "VALID").into(),
                    u.status.into(),
                    u.path.into(),
                    Value::Json(u.aliases.map(|a| Box::new(json!(a)))),
                    u.source_ref.into(),
                    if u.custom { "mobile" } else { "dhis2" }.into(),
                    Value::Json(Some(Box::new(point(u.lon, u.lat)))),
                    u.created.into(),
                    u.updated.into(),
                    Value::Int(creator),
                    VERSION.into(),
                    Value::Int(u.parent),
                    ((u.level + 1) as i32).into(),
                ]
            }),
        )
        .await?;

        // Forms and their versions.
        let forms = self.forms(w, start).await?;

        // Groups and group sets.
        self.groups(w, start, hf_kinds).await?;

        // Profiles and what they see.
        w.insert(
            "profile",
            &["id", "language", "home_page", "user_id", "account_id"],
            (1..=user_count as i32).map(|id| {
                vec![
                    id.into(),
                    if id % 3 == 0 { "en" } else { "fr" }.into(),
                    Value::String(None),
                    id.into(),
                    ACCOUNT.into(),
                ]
            }),
        )
        .await?;
        w.insert(
            "account_users",
            &["account_id", "user_id"],
            (1..=user_count as i32).map(|id| vec![ACCOUNT.into(), id.into()]),
        )
        .await?;
        let supervisors: Vec<Vec<Value>> = regions
            .iter()
            .enumerate()
            .map(|(r, (region, _))| vec![(first_supervisor + r as i32).into(), (*region).into()])
            .collect();
        let agent_units: Vec<Vec<Value>> = (0..self.agents)
            .map(|k| vec![(first_agent + k as i32).into(), agent_district(k).0.into()])
            .collect();
        w.insert(
            "profile_org_units",
            &["profile_id", "org_unit_id"],
            supervisors.into_iter().chain(agent_units),
        )
        .await?;
        w.insert(
            "profile_projects",
            &["profile_id", "project_id"],
            (0..self.agents).map(move |k| {
                let project = if k % 3 == 0 {
                    CAMPAIGN_PROJECT
                } else {
                    ROUTINE_PROJECT
                };
                vec![(first_agent + k as i32).into(), project.into()]
            }),
        )
        .await?;

        // Devices, each owned by an agent.
        let mut device_rng = rng(seed, STREAM_DEVICES);
        let devices: Vec<Vec<Value>> = (1..=self.devices as i32)
            .map(|id| {
                let created = start + Duration::days(device_rng.random_range(0..600));
                vec![
                    id.into(),
                    format!(
                        "35{:013}",
                        device_rng.random_range(0..10_000_000_000_000u64)
                    )
                    .into(),
                    device_rng.random_bool(0.02).into(),
                    created.into(),
                    created.into(),
                ]
            })
            .collect();
        w.insert(
            "device",
            &["id", "imei", "test_device", "created_at", "updated_at"],
            devices.into_iter(),
        )
        .await?;
        w.insert(
            "device_projects",
            &["device_id", "project_id"],
            (1..=self.devices as i32).flat_map(|d| {
                let mut rows = vec![vec![d.into(), ROUTINE_PROJECT.into()]];
                if d % 4 == 0 {
                    rows.push(vec![d.into(), CAMPAIGN_PROJECT.into()]);
                }
                rows
            }),
        )
        .await?;
        let owned_from = at(2025, 1, 6)?;
        w.insert(
            "device_ownership",
            &[
                "id",
                "start",
                "created_at",
                "updated_at",
                "user_id",
                "device_id",
                "project_id",
            ],
            (1..=self.devices as i32).map(move |d| {
                vec![
                    d.into(),
                    owned_from.into(),
                    owned_from.into(),
                    owned_from.into(),
                    (first_agent + ((d - 1) as usize % agents) as i32).into(),
                    d.into(),
                    ROUTINE_PROJECT.into(),
                ]
            }),
        )
        .await?;

        // Campaign teams: a team of teams, and a team of users per region.
        let team_rows: Vec<Vec<Value>> = std::iter::once(vec![
            1.into(),
            "National campaign coordination".into(),
            "1".into(),
            "TEAM_OF_TEAMS".into(),
            start.into(),
            start.into(),
            2.into(),
            2.into(),
            CAMPAIGN_PROJECT.into(),
            Value::Int(None),
        ])
        .chain(regions.iter().enumerate().map(|(r, (_, name))| {
            let id = 2 + r as i32;
            vec![
                id.into(),
                format!("{name} vaccination team").into(),
                format!("1.{id}").into(),
                "TEAM_OF_USERS".into(),
                start.into(),
                start.into(),
                (first_supervisor + r as i32).into(),
                2.into(),
                CAMPAIGN_PROJECT.into(),
                1.into(),
            ]
        }))
        .collect();
        w.insert(
            "team",
            &[
                "id",
                "name",
                "path",
                "type",
                "created_at",
                "updated_at",
                "manager_id",
                "created_by_id",
                "project_id",
                "parent_id",
            ],
            team_rows.into_iter(),
        )
        .await?;
        let members: Vec<Vec<Value>> = (0..self.agents)
            .map(|k| {
                let region = agent_district(k).1;
                vec![(2 + region as i32).into(), (first_agent + k as i32).into()]
            })
            .collect();
        w.insert("team_users", &["team_id", "user_id"], members.into_iter())
            .await?;

        // One published planning over the first region, for its team.
        let (first_region, first_region_name) = regions
            .first()
            .cloned()
            .context("the pyramid has no region")?;
        w.insert(
            "planning",
            &[
                "id",
                "name",
                "description",
                "started_at",
                "ended_at",
                "published_at",
                "created_at",
                "updated_at",
                "created_by_id",
                "project_id",
                "team_id",
                "org_unit_id",
            ],
            std::iter::once(vec![
                1.into(),
                format!("Polio round 1: {first_region_name}").into(),
                "House-to-house vaccination, all facilities of the region".into(),
                date(2026, 3, 2)?.into(),
                date(2026, 3, 8)?.into(),
                at(2026, 2, 20)?.into(),
                at(2026, 2, 10)?.into(),
                at(2026, 2, 20)?.into(),
                2.into(),
                CAMPAIGN_PROJECT.into(),
                2.into(),
                first_region.into(),
            ]),
        )
        .await?;
        w.insert(
            "planning_forms",
            &["planning_id", "form_id"],
            forms
                .iter()
                .filter(|f| f.project == CAMPAIGN_PROJECT)
                .map(|f| vec![1.into(), f.id.into()])
                .collect::<Vec<_>>()
                .into_iter(),
        )
        .await?;
        let region_agents: Vec<i32> = (0..self.agents)
            .filter(|&k| agent_district(k).1 == 0)
            .map(|k| first_agent + k as i32)
            .collect();
        let district_region: Vec<usize> = districts.iter().map(|d| d.1).collect();
        let mut assignment_rng = rng(seed, STREAM_ASSIGNMENTS);
        let assigned_at = at(2026, 2, 21)?;
        let assignments: Vec<Vec<Value>> = facilities
            .iter()
            .filter(|f| district_region[f.district] == 0)
            .zip(1..)
            .map(|(f, id): (_, i32)| {
                let to_team = region_agents.is_empty() || assignment_rng.random_bool(0.1);
                let user = (!to_team)
                    .then(|| region_agents[assignment_rng.random_range(0..region_agents.len())]);
                vec![
                    id.into(),
                    assigned_at.into(),
                    assigned_at.into(),
                    Value::Int(user),
                    2.into(),
                    1.into(),
                    f.id.into(),
                    Value::Int(to_team.then_some(2)),
                ]
            })
            .collect();
        w.insert(
            "assignment",
            &[
                "id",
                "created_at",
                "updated_at",
                "user_id",
                "created_by_id",
                "planning_id",
                "org_unit_id",
                "team_id",
            ],
            assignments.into_iter(),
        )
        .await?;

        // Submissions.
        let instances = Instances::new(
            rng(seed, STREAM_INSTANCES),
            facilities,
            health_areas,
            forms,
            self.options.instances_per_unit,
            first_agent,
            self.agents,
            self.devices,
            districts.len(),
        )?;
        w.insert("instance", INSTANCE_COLUMNS, instances).await?;
        Ok(())
    }

    /// Every org unit, level by level.
    fn pyramid(&self, start: DateTime<Utc>) -> anyhow::Result<Vec<Unit>> {
        let mut rng = rng(self.options.seed, STREAM_PYRAMID);
        let total: usize = self.levels.iter().sum();
        let mut units: Vec<Unit> = Vec::with_capacity(total);
        let country = place_name(&mut rng);
        units.push(Unit {
            id: 1,
            parent: None,
            level: 0,
            name: format!("Republic of {country}"),
            path: "1".into(),
            status: "VALID",
            custom: false,
            uuid: None,
            source_ref: source_ref(&mut rng),
            aliases: Some(vec![country]),
            lon: 15.0,
            lat: 5.0,
            created: start,
            updated: start,
            region: 0,
            district: 0,
            kind: "",
        });
        let recent = at(2026, 1, 1)?;
        // Parents of the current level: a range of `units`.
        let mut parents = 0..1;
        for level in 1..self.levels.len() {
            let shares = split(self.levels[level], parents.len(), &mut rng);
            let radius = [0.0, 3.0, 0.8, 0.2, 0.05][level];
            let first = units.len();
            let mut district = 0;
            for (p, share) in parents.clone().zip(shares) {
                let (parent_id, parent_path, plon, plat, region, parent_district) = {
                    let parent = &units[p];
                    (
                        parent.id,
                        parent.path.clone(),
                        parent.lon,
                        parent.lat,
                        parent.region,
                        parent.district,
                    )
                };
                for _ in 0..share {
                    let id = units.len() as i32 + 1;
                    let (status, custom) = match level {
                        1 | 2 => ("VALID", false),
                        LEVEL_HEALTH_AREA => (
                            if rng.random_bool(0.03) {
                                "NEW"
                            } else {
                                "VALID"
                            },
                            false,
                        ),
                        _ => match rng.random_range(0..100) {
                            0..8 => ("NEW", rng.random_bool(0.5)),
                            8..12 => ("REJECTED", false),
                            _ => ("VALID", false),
                        },
                    };
                    let place = place_name(&mut rng);
                    let kind = if level == LEVEL_HF {
                        pick_weighted(&mut rng, &FACILITY_KINDS)
                    } else {
                        ""
                    };
                    let name = match level {
                        1 => format!("{place} Region"),
                        2 => format!("{place} District"),
                        LEVEL_HEALTH_AREA => format!("{place} Health Area"),
                        _ => format!("{place} {kind}"),
                    };
                    let aliases = rng.random_bool(0.05).then(|| vec![place.clone()]);
                    let created = if custom {
                        recent + Duration::minutes(rng.random_range(0..60 * 24 * 290))
                    } else if level <= 2 {
                        start + Duration::hours(level as i64)
                    } else {
                        start + Duration::minutes(rng.random_range(0..60 * 24 * 700))
                    };
                    let updated = created + Duration::minutes(rng.random_range(0..60 * 24 * 30));
                    let uuid = custom.then(|| unique_uuid(&mut rng, id as u64).to_string());
                    let lon = round5(plon + rng.random_range(-radius..radius));
                    let lat = round5(plat + rng.random_range(-radius..radius));
                    let (region, this_district) = match level {
                        1 => (id as usize - 2, 0),
                        2 => {
                            district += 1;
                            (region, district - 1)
                        }
                        _ => (region, parent_district),
                    };
                    units.push(Unit {
                        id,
                        parent: Some(parent_id),
                        level,
                        name,
                        path: format!("{parent_path}.{id}"),
                        status,
                        custom,
                        uuid,
                        source_ref: source_ref(&mut rng),
                        aliases,
                        lon,
                        lat,
                        created,
                        updated,
                        region,
                        district: this_district,
                        kind,
                    });
                }
            }
            parents = first..units.len();
        }
        Ok(units)
    }

    fn users(
        &self,
        regions: &[(i32, String)],
        start: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Vec<Value>>> {
        let mut rng = rng(self.options.seed, STREAM_USERS);
        let mut usernames: Vec<(String, bool)> = vec![("admin".into(), true)];
        usernames.extend((1..=MANAGERS).map(|m| (format!("manager{m}"), false)));
        usernames.extend((1..=regions.len()).map(|r| (format!("supervisor{r:02}"), false)));
        usernames.extend((1..=self.agents).map(|a| (format!("agent{a:04}"), false)));
        let last_login = at(2026, 10, 1)?;
        Ok(usernames
            .into_iter()
            .zip(1..)
            .map(|((username, superuser), id): (_, i32)| {
                let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
                let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
                let login = last_login + Duration::minutes(rng.random_range(0..60 * 24 * 50));
                vec![
                    id.into(),
                    username.clone().into(),
                    format!("{username}@moh.example").into(),
                    first.into(),
                    last.into(),
                    true.into(),
                    superuser.into(),
                    // Django's "unusable password" marker.
                    "!".into(),
                    login.into(),
                    start.into(),
                    start.into(),
                ]
            })
            .collect())
    }

    async fn forms(
        &self,
        w: &mut Writer<'_>,
        start: DateTime<Utc>,
    ) -> anyhow::Result<Vec<FormInfo>> {
        let mut rng = rng(self.options.seed, STREAM_FORMS);
        let mut forms = Vec::new();
        let mut form_rows = Vec::new();
        let mut version_rows = Vec::new();
        let mut version_id = 0;
        for (spec, id) in FORMS.iter().zip(1..) {
            let fields: Vec<_> = spec
                .fields
                .iter()
                .map(|(name, label, kind)| json!({"name": name, "label": label, "type": kind}))
                .collect();
            let uuid = unique_uuid(&mut rng, id as u64);
            let created = start + Duration::days(rng.random_range(0..60));
            let mut latest = String::new();
            let mut when = created;
            for v in 0..spec.versions {
                version_id += 1;
                when += Duration::days(rng.random_range(20..120));
                latest = format!("{}{:02}", when.format("%Y%m%d"), v + 1);
                // Each version knows one more question than the one before.
                let known = (spec.fields.len() + 1 + v as usize)
                    .saturating_sub(spec.versions as usize)
                    .max(1);
                version_rows.push(vec![
                    Value::Int(Some(version_id)),
                    format!("forms/{}/{latest}.xml", spec.slug).into(),
                    latest.clone().into(),
                    Value::Json(Some(Box::new(json!({
                        "possible_fields": fields[..known.min(fields.len())]
                    })))),
                    when.into(),
                    when.into(),
                    id.into(),
                ]);
            }
            form_rows.push(vec![
                id.into(),
                spec.slug.into(),
                when.into(),
                created.into(),
                spec.name.into(),
                Value::Json(Some(Box::new(json!(fields)))),
                Value::String(spec.period_type.map(String::from)),
                spec.single_per_period.into(),
                if spec.period_type.is_some() { 3 } else { 0 }.into(),
                if spec.period_type.is_some() { 1 } else { 0 }.into(),
                false.into(),
                uuid.into(),
            ]);
            forms.push(FormInfo {
                id,
                project: if spec.campaign {
                    CAMPAIGN_PROJECT
                } else {
                    ROUTINE_PROJECT
                },
                weight: spec.weight,
                latest_version: latest,
                health_areas: spec.health_areas,
            });
        }
        w.insert(
            "form",
            &[
                "id",
                "form_id",
                "updated_at",
                "created_at",
                "name",
                "possible_fields",
                "period_type",
                "single_per_period",
                "periods_before_allowed",
                "periods_after_allowed",
                "derived",
                "uuid",
            ],
            form_rows.into_iter(),
        )
        .await?;
        w.insert(
            "form_version",
            &[
                "id",
                "file",
                "version_id",
                "form_descriptor",
                "created_at",
                "updated_at",
                "form_id",
            ],
            version_rows.into_iter(),
        )
        .await?;
        let project_forms: Vec<Vec<Value>> = forms
            .iter()
            .flat_map(|f| {
                let mut rows = vec![vec![f.project.into(), f.id.into()]];
                // The assessment is also used by the campaign project.
                if f.id == 5 {
                    rows.push(vec![CAMPAIGN_PROJECT.into(), f.id.into()]);
                }
                rows
            })
            .collect();
        w.insert(
            "project_forms",
            &["project_id", "form_id"],
            project_forms.into_iter(),
        )
        .await?;
        let form_types: Vec<Vec<Value>> = forms
            .iter()
            .flat_map(|f| {
                let mut rows = vec![vec![f.id.into(), ((LEVEL_HF + 1) as i32).into()]];
                if f.health_areas {
                    rows.push(vec![f.id.into(), ((LEVEL_HEALTH_AREA + 1) as i32).into()]);
                }
                rows
            })
            .collect();
        w.insert(
            "form_org_unit_types",
            &["form_id", "org_unit_type_id"],
            form_types.into_iter(),
        )
        .await?;
        Ok(forms)
    }

    async fn groups(
        &self,
        w: &mut Writer<'_>,
        start: DateTime<Utc>,
        facilities: Vec<(i32, &'static str, usize)>,
    ) -> anyhow::Result<()> {
        w.insert(
            "group_set",
            &[
                "id",
                "name",
                "created_at",
                "updated_at",
                "group_belonging",
                "source_version_id",
            ],
            [(1, "Ownership", "SINGLE"), (2, "Setting", "MULTIPLE")]
                .into_iter()
                .map(move |(id, name, belonging): (i32, _, _)| {
                    vec![
                        id.into(),
                        name.into(),
                        start.into(),
                        start.into(),
                        belonging.into(),
                        VERSION.into(),
                    ]
                }),
        )
        .await?;
        const GROUPS: [(&str, Option<i32>); 7] = [
            ("Public", Some(1)),
            ("Private", Some(1)),
            ("Faith-based", Some(1)),
            ("Urban", Some(2)),
            ("Rural", Some(2)),
            ("Hard to reach", Some(2)),
            ("Reference hospitals", None),
        ];
        w.insert(
            "group",
            &[
                "id",
                "name",
                "source_ref",
                "created_at",
                "updated_at",
                "source_version_id",
            ],
            GROUPS
                .iter()
                .zip(1..)
                .map(move |(&(name, _), id): (_, i32)| {
                    vec![
                        id.into(),
                        name.into(),
                        format!("grp{id:08}").into(),
                        start.into(),
                        start.into(),
                        VERSION.into(),
                    ]
                }),
        )
        .await?;
        w.insert(
            "group_set_groups",
            &["group_set_id", "group_id"],
            GROUPS
                .iter()
                .zip(1..)
                .filter_map(|(&(_, set), id): (_, i32)| set.map(|s| vec![s.into(), id.into()])),
        )
        .await?;
        let mut rng = rng(self.options.seed, STREAM_GROUPS);
        let members: Vec<Vec<Value>> = facilities
            .into_iter()
            .flat_map(|(id, kind, _)| {
                let ownership = match rng.random_range(0..10) {
                    0..7 => 1,
                    7..9 => 2,
                    _ => 3,
                };
                let setting = if rng.random_bool(0.3) { 4 } else { 5 };
                let mut groups = vec![ownership, setting];
                if rng.random_bool(0.08) {
                    groups.push(6);
                }
                if kind == "District Hospital" {
                    groups.push(7);
                }
                groups
                    .into_iter()
                    .map(move |g: i32| vec![g.into(), id.into()])
            })
            .collect();
        w.insert(
            "group_org_units",
            &["group_id", "org_unit_id"],
            members.into_iter(),
        )
        .await?;
        Ok(())
    }
}

/// Data managers (users 2..).
const MANAGERS: usize = 4;

const INSTANCE_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "uuid",
    "file_name",
    "location",
    "json",
    "accuracy",
    "period",
    "last_export_success_at",
    "deleted",
    "to_export",
    "source_created_at",
    "created_by_id",
    "last_modified_by_id",
    "org_unit_id",
    "form_id",
    "project_id",
    "device_id",
];

/// The submissions. Each unit's count, period and upload time are drawn
/// first (about `per_unit` per facility, a tenth of that per health area for
/// the forms filled in there); they are then numbered in upload order, as a
/// live server would, and the rest of each row is generated lazily.
struct Instances {
    rng: ChaCha8Rng,
    units: Vec<(Facility, bool)>,
    forms: Vec<FormInfo>,
    area_forms: Vec<FormInfo>,
    first_agent: i32,
    agents: usize,
    devices: usize,
    districts: usize,
    /// (upload time in seconds since the epoch, unit index, period index),
    /// in upload order.
    planned: std::vec::IntoIter<(i64, u32, u8)>,
    next_id: i32,
}

impl Instances {
    #[allow(clippy::too_many_arguments)] // every table the instances point at, plus the PRNG
    fn new(
        mut rng: ChaCha8Rng,
        facilities: Vec<Facility>,
        health_areas: Vec<Facility>,
        forms: Vec<FormInfo>,
        per_unit: u32,
        first_agent: i32,
        agents: usize,
        devices: usize,
        districts: usize,
    ) -> anyhow::Result<Self> {
        let months = PERIODS
            .iter()
            .map(|p| {
                let year: i32 = p[..4].parse()?;
                let month: u32 = p[4..].parse()?;
                Ok(at(year, month, 1)?.timestamp())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let area_forms = forms.iter().filter(|f| f.health_areas).cloned().collect();
        let mut units: Vec<(Facility, bool)> = facilities.into_iter().map(|f| (f, false)).collect();
        units.extend(health_areas.into_iter().map(|f| (f, true)));
        let mut planned = Vec::with_capacity(units.len() * per_unit as usize);
        for (index, &(_, area)) in units.iter().enumerate() {
            let mean = if area { per_unit / 10 } else { per_unit };
            let low = mean / 2;
            for _ in 0..rng.random_range(low..=mean + low) {
                let month = rng.random_range(0..months.len());
                let uploaded = months[month] + rng.random_range(0..27 * 86_400);
                planned.push((uploaded, index as u32, month as u8));
            }
        }
        planned.sort_unstable();
        Ok(Self {
            rng,
            units,
            forms,
            area_forms,
            first_agent,
            agents,
            devices,
            districts,
            planned: planned.into_iter(),
            next_id: 1,
        })
    }
}

impl Iterator for Instances {
    type Item = Vec<Value>;

    fn next(&mut self) -> Option<Vec<Value>> {
        let (uploaded, unit, month) = self.planned.next()?;
        let (unit, area) = *self.units.get(unit as usize)?;
        let month = usize::from(month);
        let id = self.next_id;
        self.next_id += 1;
        let rng = &mut self.rng;
        let forms = if area { &self.area_forms } else { &self.forms };
        let form = pick_form(rng, forms)?;
        let created = DateTime::<Utc>::from_timestamp(uploaded, 0)?;
        let device_time = created - Duration::seconds(rng.random_range(0..3 * 86_400));
        let updated = created + Duration::seconds(rng.random_range(0..2 * 86_400));
        let uuid = unique_uuid(rng, id as u64).to_string();
        // An agent of the unit's district files it (agent k works in
        // district k % districts), with the agent's device.
        let district = unit.district;
        let agent = if district < self.agents {
            let here = (self.agents - district).div_ceil(self.districts.max(1));
            district + self.districts * rng.random_range(0..here)
        } else {
            rng.random_range(0..self.agents)
        };
        let device = (agent % self.devices) as i32 + 1;
        let exported = rng.random_bool(0.25).then(|| updated + Duration::hours(6));
        let answers = json!({
            "_version": form.latest_version,
            "visits": rng.random_range(0..400),
            "referrals": rng.random_range(0..20),
            "stock_out": rng.random_bool(0.1),
        });
        Some(vec![
            id.into(),
            created.into(),
            updated.into(),
            uuid.clone().into(),
            format!("{uuid}.xml").into(),
            Value::Json(Some(Box::new(point(
                round5(unit.lon + rng.random_range(-0.002..0.002)),
                round5(unit.lat + rng.random_range(-0.002..0.002)),
            )))),
            Value::Json(Some(Box::new(answers))),
            Decimal::new(rng.random_range(300..5000), 2).into(),
            PERIODS[month].into(),
            Value::ChronoDateTimeUtc(exported),
            rng.random_bool(0.01).into(),
            false.into(),
            device_time.into(),
            (self.first_agent + agent as i32).into(),
            (self.first_agent + agent as i32).into(),
            unit.id.into(),
            form.id.into(),
            form.project.into(),
            device.into(),
        ])
    }
}

fn pick_form<'a>(rng: &mut ChaCha8Rng, forms: &'a [FormInfo]) -> Option<&'a FormInfo> {
    let total: u32 = forms.iter().map(|f| f.weight).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for form in forms {
        if roll < form.weight {
            return Some(form);
        }
        roll -= form.weight;
    }
    forms.last()
}

/// Splits `children` among `parents`, each getting at least one, in random
/// shares.
fn split(children: usize, parents: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    if parents == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (0..parents).map(|_| rng.random_range(0.5..1.5)).collect();
    let sum: f64 = weights.iter().sum();
    let spare = children.saturating_sub(parents);
    let mut shares: Vec<usize> = weights
        .iter()
        .map(|w| 1 + (spare as f64 * w / sum).floor() as usize)
        .collect();
    let mut given: usize = shares.iter().sum();
    let mut i = 0;
    while given < children {
        shares[i % parents] += 1;
        given += 1;
        i += 1;
    }
    shares
}

fn pick_weighted(rng: &mut ChaCha8Rng, choices: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = choices.iter().map(|c| c.1).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for &(name, weight) in choices {
        if roll < weight {
            return name;
        }
        roll -= weight;
    }
    choices.last().map(|c| c.0).unwrap_or_default()
}

/// A made-up place name of two or three syllables.
fn place_name(rng: &mut ChaCha8Rng) -> String {
    let count = rng.random_range(2..=3);
    let mut name = String::new();
    for _ in 0..count {
        name.push_str(SYLLABLES[rng.random_range(0..SYLLABLES.len())]);
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name,
    }
}

/// A DHIS2-style identifier: a letter and ten letters or digits.
fn source_ref(rng: &mut ChaCha8Rng) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(11);
    out.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    for _ in 0..10 {
        out.push(ALNUM[rng.random_range(0..ALNUM.len())] as char);
    }
    out
}

/// A random-looking version-4 UUID whose last 48 bits are `n`, so that no
/// two `n` ever collide.
fn unique_uuid(rng: &mut ChaCha8Rng, n: u64) -> Uuid {
    let mut bytes: [u8; 16] = rng.random();
    bytes[10..].copy_from_slice(&n.to_be_bytes()[2..]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn point(lon: f64, lat: f64) -> serde_json::Value {
    json!({"type": "Point", "coordinates": [lon, lat]})
}

fn round5(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

fn at(year: i32, month: u32, day: u32) -> anyhow::Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, month, day, 8, 0, 0)
        .single()
        .with_context(|| format!("invalid seed date {year}-{month}-{day}"))
}

fn date(year: i32, month: u32, day: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
        .with_context(|| format!("invalid seed date {year}-{month}-{day}"))
}
