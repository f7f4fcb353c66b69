//! The demo data set loads into a fresh database, once: the counts below are
//! what `api/src/demo/` writes, and a second load changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use gateway_tests::{Backend, TestDb, on_both_backends, rows};
use sea_orm::DatabaseConnection;
use serde_json::Value;

/// A number from a row, however the driver typed it.
fn number(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let result = rows(
        db,
        &format!("SELECT CAST(COUNT(*) AS TEXT) AS n FROM \"{table}\""),
    )
    .await;
    number(&result[0]["n"])
}

async fn counts(db: &DatabaseConnection, tables: &[&str]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for table in tables {
        counts.insert(table.to_string(), count(db, table).await);
    }
    counts
}

/// Migrates a fresh `domain`, loads the demo data, checks the row counts,
/// lets `check` look at the data, then loads again and checks that nothing
/// changed.
async fn load_twice<F, Fut>(backend: Backend, domain: &str, expected: &[(&str, i64)], check: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(test) = TestDb::new(backend, &[domain]) else {
        return;
    };
    let db = test.migrated(domain).await;
    let tables: Vec<&str> = expected.iter().map(|(t, _)| *t).collect();
    let expected: BTreeMap<String, i64> =
        expected.iter().map(|(t, n)| (t.to_string(), *n)).collect();

    assert!(
        gateway::demo::load_if_empty(domain, &db).await.unwrap(),
        "{domain}: a fresh database gets the demo data"
    );
    assert_eq!(
        counts(&db, &tables).await,
        expected,
        "{domain}: rows after loading"
    );
    check(db.clone()).await;

    assert!(
        !gateway::demo::load_if_empty(domain, &db).await.unwrap(),
        "{domain}: a loaded database is not loaded again"
    );
    assert_eq!(
        counts(&db, &tables).await,
        expected,
        "{domain}: rows after a second load"
    );
}

const IASO: &[(&str, i64)] = &[
    ("account", 2),
    ("account_feature_flag", 3),
    ("account_feature_flags", 4),
    ("account_users", 6),
    ("algorithm_run", 4),
    ("assignment", 10),
    ("bulk_create_user_csv_file", 2),
    ("comment_iaso", 4),
    ("data_source", 2),
    ("data_source_projects", 4),
    ("device", 2),
    ("device_ownership", 4),
    ("device_position", 6),
    ("device_projects", 4),
    ("entity", 4),
    ("entity_type", 2),
    ("export_log", 6),
    ("export_request", 4),
    ("export_status", 4),
    ("export_status_export_logs", 6),
    ("external_credentials", 2),
    ("feature_flag", 4),
    ("form", 8),
    ("form_org_unit_types", 10),
    ("form_version", 16),
    ("group", 4),
    ("group_org_units", 18),
    ("group_set", 4),
    ("group_set_groups", 4),
    ("import_gpkg", 2),
    ("instance", 140),
    ("instance_file", 6),
    ("instance_lock", 4),
    ("link", 4),
    ("mapping", 2),
    ("mapping_version", 2),
    ("matching_algorithm", 2),
    ("matching_algorithm_projects", 4),
    ("org_unit", 56),
    ("org_unit_type", 8),
    ("org_unit_type_projects", 16),
    ("org_unit_type_sub_unit_types", 6),
    ("page", 4),
    ("page_users", 6),
    ("planning", 2),
    ("planning_forms", 4),
    ("profile", 6),
    ("profile_org_units", 2),
    ("profile_projects", 4),
    ("project", 4),
    ("project_feature_flags", 9),
    ("project_forms", 10),
    ("record", 6),
    ("record_type", 2),
    ("record_type_projects", 4),
    ("source_version", 2),
    ("storage_device", 4),
    ("storage_log_entry", 8),
    ("storage_log_entry_instances", 6),
    ("task", 6),
    ("team", 6),
    ("team_users", 4),
    ("user", 6),
    ("workflow", 2),
    ("workflow_change", 2),
    ("workflow_followup", 4),
    ("workflow_followup_forms", 4),
    ("workflow_version", 6),
];

async fn iaso(backend: Backend) {
    load_twice(backend, "iaso", IASO, |db| async move {
        let accounts = rows(&db, "SELECT id, name, default_version_id FROM account ORDER BY id").await;
        let ids: Vec<i64> = accounts.iter().map(|a| number(&a["id"])).collect();
        assert_eq!(ids, vec![1, 2]);
        assert!(accounts.iter().all(|a| !a["default_version_id"].is_null()));

        // Every path is the parent's path plus the unit's own id.
        let units = rows(
            &db,
            "SELECT o.id, o.path, o.parent_id, p.path AS parent_path \
             FROM org_unit o LEFT JOIN org_unit p ON p.id = o.parent_id",
        )
        .await;
        for unit in &units {
            let id = number(&unit["id"]);
            let path = unit["path"].as_str().unwrap();
            assert!(path.ends_with(&id.to_string()), "{unit}");
            match unit["parent_path"].as_str() {
                Some(parent) => assert_eq!(path, format!("{parent}.{id}"), "{unit}"),
                None => {
                    assert!(unit["parent_id"].is_null(), "{unit}");
                    assert_eq!(path, id.to_string());
                }
            }
        }
        let roots = units.iter().filter(|u| u["parent_id"].is_null()).count();
        assert_eq!(roots, 2, "one country per account");

        // Team paths follow the same rule.
        let teams = rows(
            &db,
            "SELECT t.id, t.path, p.path AS parent_path FROM team t LEFT JOIN team p ON p.id = t.parent_id",
        )
        .await;
        for team in &teams {
            let id = number(&team["id"]);
            let expected = match team["parent_path"].as_str() {
                Some(parent) => format!("{parent}.{id}"),
                None => id.to_string(),
            };
            assert_eq!(team["path"].as_str(), Some(expected.as_str()), "{team}");
        }

        // An account's instances stay in its own projects and pyramid.
        let crossed = rows(
            &db,
            "SELECT i.id FROM instance i \
             JOIN project p ON p.id = i.project_id \
             JOIN org_unit o ON o.id = i.org_unit_id \
             JOIN source_version v ON v.id = o.version_id \
             JOIN account a ON a.default_version_id = v.id \
             WHERE a.id <> p.account_id",
        )
        .await;
        assert!(crossed.is_empty(), "instances across accounts: {crossed:?}");

        // Each assignment has exactly one of user or team, inside the
        // planning's root.
        let assignments = rows(
            &db,
            "SELECT a.user_id, a.team_id, o.path, r.path AS root_path FROM assignment a \
             JOIN planning pl ON pl.id = a.planning_id \
             JOIN org_unit o ON o.id = a.org_unit_id \
             JOIN org_unit r ON r.id = pl.org_unit_id",
        )
        .await;
        for a in &assignments {
            assert!(a["user_id"].is_null() != a["team_id"].is_null(), "{a}");
            let root = a["root_path"].as_str().unwrap();
            assert!(a["path"].as_str().unwrap().starts_with(&format!("{root}.")), "{a}");
        }

        let deleted = rows(&db, "SELECT id FROM instance WHERE deleted = true").await;
        assert_eq!(deleted.len(), 2);

        // The rows added for the other entities stay in their account too.
        for sql in [
            // A card, its household and its facility are of one account.
            "SELECT d.id FROM storage_device d JOIN account a ON a.id = d.account_id \
             JOIN entity e ON e.id = d.entity_id JOIN org_unit o ON o.id = d.org_unit_id \
             WHERE e.account_id <> a.id OR o.version_id <> a.default_version_id",
            "SELECT l.operation_type FROM storage_log_entry l \
             JOIN storage_device d ON d.id = l.device_id JOIN account a ON a.id = d.account_id \
             JOIN entity e ON e.id = l.entity_id JOIN org_unit o ON o.id = l.org_unit_id \
             WHERE e.account_id <> a.id OR o.version_id <> a.default_version_id",
            // What a log entry wrote to a card is about the card's household.
            "SELECT j.instance_id FROM storage_log_entry_instances j \
             JOIN storage_log_entry l ON l.id = j.storage_log_entry_id \
             JOIN instance i ON i.id = j.instance_id \
             WHERE i.entity_id IS NULL OR i.entity_id <> l.entity_id",
            // Tasks are launched by users of their account.
            "SELECT t.id FROM task t LEFT JOIN account_users au \
             ON au.user_id = t.launcher_id AND au.account_id = t.account_id \
             WHERE au.user_id IS NULL",
            // Links join units of the versions their run compared.
            "SELECT l.id FROM link l JOIN algorithm_run r ON r.id = l.algorithm_run_id \
             JOIN org_unit s ON s.id = l.source_id JOIN org_unit d ON d.id = l.destination_id \
             WHERE s.version_id <> r.version_1_id OR d.version_id <> r.version_2_id",
            // A lock's instance is inside the lock's top org unit.
            "SELECT k.id FROM instance_lock k JOIN instance i ON i.id = k.instance_id \
             JOIN org_unit o ON o.id = i.org_unit_id JOIN org_unit t ON t.id = k.top_org_unit_id \
             WHERE o.path NOT LIKE t.path || '.%'",
            // At most one published version per workflow.
            "SELECT workflow_id FROM workflow_version WHERE status = 'PUBLISHED' \
             GROUP BY workflow_id HAVING COUNT(*) > 1",
        ] {
            assert!(rows(&db, sql).await.is_empty(), "{sql}");
        }
        let published = rows(&db, "SELECT id FROM workflow_version WHERE status = 'PUBLISHED'").await;
        assert_eq!(published.len(), 2, "one published version per account");
        let replies = rows(&db, "SELECT id FROM comment_iaso WHERE parent_id IS NOT NULL").await;
        assert_eq!(replies.len(), 2, "a reply per account");
    })
    .await;
}

const OPENTALK: &[(&str, i64)] = &[
    ("assets", 3),
    ("casbin_rule", 4),
    ("event_email_invites", 2),
    ("event_exceptions", 3),
    ("event_favorites", 2),
    ("event_invites", 9),
    ("event_shared_folders", 2),
    ("event_training_participation_report_parameter_sets", 2),
    ("events", 6),
    ("external_tariffs", 2),
    ("groups", 2),
    ("invites", 3),
    ("job_execution_logs", 4),
    ("job_executions", 3),
    ("jobs", 3),
    ("module_resources", 2),
    ("room_assets", 3),
    ("room_streaming_targets", 2),
    ("rooms", 8),
    ("sip_configs", 2),
    ("tariffs", 2),
    ("tenants", 2),
    ("user_groups", 4),
    ("users", 5),
];

async fn opentalk(backend: Backend) {
    load_twice(backend, "opentalk", OPENTALK, |db| async move {
        // No row of one tenant points at a user or room of the other.
        for sql in [
            "SELECT r.id FROM rooms r JOIN users u ON u.id = r.created_by WHERE u.tenant_id <> r.tenant_id",
            "SELECT e.id FROM events e JOIN rooms r ON r.id = e.room WHERE r.tenant_id <> e.tenant_id",
            "SELECT e.id FROM events e JOIN users u ON u.id = e.created_by WHERE u.tenant_id <> e.tenant_id",
            "SELECT i.id FROM event_invites i JOIN events e ON e.id = i.event_id \
             JOIN users u ON u.id = i.invitee WHERE u.tenant_id <> e.tenant_id",
            "SELECT g.id FROM user_groups ug JOIN groups g ON g.id = ug.group_id \
             JOIN users u ON u.id = ug.user_id WHERE u.tenant_id <> g.tenant_id",
            "SELECT a.id FROM assets a JOIN room_assets ra ON ra.asset_id = a.id \
             JOIN rooms r ON r.id = ra.room_id WHERE r.tenant_id <> a.tenant_id",
            "SELECT m.id FROM module_resources m JOIN rooms r ON r.id = m.room_id \
             JOIN users u ON u.id = m.created_by \
             WHERE r.tenant_id <> m.tenant_id OR u.tenant_id <> m.tenant_id",
            "SELECT x.id FROM event_exceptions x JOIN events e ON e.id = x.event_id \
             WHERE x.created_by <> e.created_by OR e.is_recurring = false",
        ] {
            assert!(rows(&db, sql).await.is_empty(), "{sql}");
        }
        // Each event has a room of its own.
        let rooms = rows(&db, "SELECT DISTINCT room FROM events").await;
        assert_eq!(rooms.len(), 6);
        let recurring = rows(
            &db,
            "SELECT recurrence_pattern FROM events WHERE is_recurring = true ORDER BY recurrence_pattern",
        )
        .await;
        assert_eq!(recurring.len(), 2);
        assert_eq!(recurring[0]["recurrence_pattern"], "RRULE:FREQ=WEEKLY;COUNT=2");
        assert_eq!(recurring[1]["recurrence_pattern"], "RRULE:FREQ=WEEKLY;COUNT=5");
        let all_day = rows(&db, "SELECT id FROM events WHERE is_all_day = true").await;
        assert_eq!(all_day.len(), 1);
        let sip = rows(
            &db,
            "SELECT id FROM sip_configs WHERE LENGTH(sip_id) = 10 AND LENGTH(password) = 10",
        )
        .await;
        assert_eq!(sip.len(), 2, "a dial-in per tenant");
        let kinds = rows(&db, "SELECT DISTINCT kind FROM event_exceptions").await;
        assert_eq!(kinds.len(), 2, "a modified and a cancelled occurrence");
        let statuses = rows(&db, "SELECT DISTINCT status FROM event_invites").await;
        assert!(statuses.len() >= 3, "{statuses:?}");
    })
    .await;
}

const PLACEOS: &[(&str, i64)] = &[
    ("api_key", 2),
    ("authority", 2),
    ("broker", 2),
    ("control_system", 3),
    ("doorkeeper_application", 3),
    ("driver", 4),
    ("edge", 1),
    ("json_schema", 3),
    ("ldap_schema", 2),
    ("metadata", 3),
    ("module", 7),
    ("oauth_authentication", 2),
    ("repository", 1),
    ("settings", 7),
    ("statistics", 1),
    ("trigger_instance", 1),
    ("triggers", 1),
    ("user", 6),
    ("version", 3),
    ("zone", 9),
];

/// A JSON column, stored as text on SQLite and as jsonb on PostgreSQL.
fn json_column(value: &Value) -> Value {
    match value {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    }
}

fn strings(value: &Value) -> Vec<String> {
    json_column(value)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn placeos(backend: Backend) {
    load_twice(backend, "placeos", PLACEOS, |db| async move {
        let zones = rows(&db, "SELECT id, parent_id, tags FROM zone").await;
        let parent: BTreeMap<String, Option<String>> = zones
            .iter()
            .map(|z| {
                (
                    z["id"].as_str().unwrap().to_string(),
                    z["parent_id"].as_str().map(String::from),
                )
            })
            .collect();
        let roots: Vec<_> = zones.iter().filter(|z| z["parent_id"].is_null()).collect();
        assert_eq!(roots.len(), 2, "one org zone per authority");
        for root in roots {
            assert_eq!(strings(&root["tags"]), vec!["org"]);
        }

        // A system's zones run down one tree: org, region, building, level.
        let systems = rows(&db, "SELECT id, zones, modules FROM control_system").await;
        for system in &systems {
            let zones = strings(&system["zones"]);
            assert_eq!(zones.len(), 4, "{system}");
            assert_eq!(parent[&zones[0]], None, "{system}");
            for pair in zones.windows(2) {
                assert_eq!(
                    parent[&pair[1]].as_deref(),
                    Some(pair[0].as_str()),
                    "{system}"
                );
            }
        }

        // Logic modules run in a system and are in its module list.
        let logic = rows(
            &db,
            "SELECT id, control_system_id FROM module WHERE role = 99",
        )
        .await;
        assert_eq!(logic.len(), 3);
        for module in &logic {
            let system = systems
                .iter()
                .find(|s| s["id"] == module["control_system_id"])
                .expect("a logic module's system");
            assert!(
                strings(&system["modules"]).contains(&module["id"].as_str().unwrap().to_string())
            );
        }
        // Device (and SSH) modules have an ip and a valid port.
        let devices = rows(&db, "SELECT id FROM module WHERE role = 1").await;
        assert_eq!(devices.len(), 2);
        let unreachable = rows(
            &db,
            "SELECT id FROM module WHERE role IN (0, 1) \
             AND (ip IS NULL OR port IS NULL OR port NOT BETWEEN 1 AND 65535)",
        )
        .await;
        assert!(unreachable.is_empty(), "{unreachable:?}");

        // Settings at every encryption level.
        let levels = rows(&db, "SELECT DISTINCT encryption_level FROM settings").await;
        assert_eq!(levels.len(), 4);

        // One LDAP directory and one OAuth provider per authority.
        let sign_in = rows(
            &db,
            "SELECT a.id FROM authority a \
             WHERE (SELECT COUNT(*) FROM ldap_schema l WHERE l.authority_id = a.id) <> 1 \
             OR (SELECT COUNT(*) FROM oauth_authentication o WHERE o.authority_id = a.id) <> 1",
        )
        .await;
        assert!(sign_in.is_empty(), "{sign_in:?}");
        // An API key is in its user's authority.
        let foreign_keys = rows(
            &db,
            "SELECT k.id FROM api_key k JOIN \"user\" u ON u.id = k.user_id \
             WHERE u.authority_id IS NULL OR u.authority_id <> k.authority_id",
        )
        .await;
        assert!(foreign_keys.is_empty(), "{foreign_keys:?}");
        // Every metadata document names its schema; one module runs on an edge.
        let unchecked = rows(&db, "SELECT id FROM metadata WHERE schema_id IS NULL").await;
        assert!(unchecked.is_empty(), "{unchecked:?}");
        let on_edge = rows(&db, "SELECT id FROM module WHERE edge_id IS NOT NULL").await;
        assert_eq!(on_edge.len(), 1);
    })
    .await;
}

const TELEMETRY: &[(&str, i64)] = &[
    ("customer", 2),
    ("customerdevice", 5),
    ("device", 3),
    ("deviceevent", 15),
    ("devicesupplier", 1),
    ("identifier", 4),
    ("logdata", 12),
    ("logtype", 3),
    ("sensordata", 24),
    ("sensortype", 2),
    ("settingdata", 5),
    ("user", 4),
    ("visualizationtype", 4),
];

async fn telemetry(backend: Backend) {
    load_twice(backend, "telemetry", TELEMETRY, |db| async move {
        let superusers = rows(
            &db,
            "SELECT customer_id FROM \"user\" WHERE is_superuser = true",
        )
        .await;
        assert_eq!(superusers.len(), 1);
        assert!(superusers[0]["customer_id"].is_null());
        let labels = rows(&db, "SELECT label FROM visualizationtype ORDER BY label").await;
        let labels: Vec<&str> = labels
            .iter()
            .map(|l| l["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels, vec!["bar", "default", "line", "scatter"]);
    })
    .await;
}

const GANS: &[(&str, i64)] = &[("credit", 3), ("gans", 8), ("user", 4), ("warning", 2)];

async fn gans(backend: Backend) {
    load_twice(backend, "gans", GANS, |db| async move {
        let unused = rows(&db, "SELECT credit_id FROM credit WHERE end_time IS NULL").await;
        assert_eq!(unused.len(), 1);
        let without_credit = rows(&db, "SELECT gans_id FROM gans WHERE credit_id IS NULL").await;
        assert_eq!(without_credit.len(), 1);
        // A warning is about a sticker of the same user.
        let mismatched = rows(
            &db,
            "SELECT w.gans_id FROM warning w JOIN gans g ON g.gans_id = w.gans_id WHERE g.user_id <> w.user_id",
        )
        .await;
        assert!(mismatched.is_empty());
    })
    .await;
}

async fn unknown_domain(backend: Backend) {
    let Some(test) = TestDb::new(backend, &["gans"]) else {
        return;
    };
    let db = test.migrated("gans").await;
    assert!(gateway::demo::load_if_empty("nope", &db).await.is_err());
}

on_both_backends!(iaso, opentalk, placeos, telemetry, gans, unknown_domain);
