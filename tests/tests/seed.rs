//! `gateway seed`: a small generated Iaso data set, on both backends: row
//! counts, the pyramid's materialised paths, determinism, and that the
//! gateway serves what was generated.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use gateway::seed::{SeedOptions, SeedReport, seed_iaso};
use gateway_tests::{Backend, TestApp, TestDb, on_both_backends, rows};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

const ORG_UNITS: u64 = 200;

fn options(seed: u64) -> SeedOptions {
    SeedOptions {
        org_units: ORG_UNITS,
        instances_per_unit: 10,
        seed,
    }
}

/// A count read as text (SQLite gives untyped expressions no JSON type).
fn n(value: &Value) -> u64 {
    value.as_str().unwrap().parse().unwrap()
}

async fn count(db: &DatabaseConnection, table: &str) -> u64 {
    let found = rows(
        db,
        &format!("SELECT CAST(COUNT(*) AS TEXT) AS n FROM \"{table}\""),
    )
    .await;
    n(&found[0]["n"])
}

/// Every unit's (id, name, path), by id, and every submission's identity.
async fn fingerprint(db: &DatabaseConnection) -> (Vec<Value>, Vec<Value>) {
    (
        rows(
            db,
            "SELECT id, name, path, validation_status FROM org_unit ORDER BY id",
        )
        .await,
        rows(
            db,
            "SELECT id, uuid, org_unit_id, form_id, period FROM instance ORDER BY id",
        )
        .await,
    )
}

async fn seeded(backend: Backend, seed: u64) -> Option<(TestDb, DatabaseConnection, SeedReport)> {
    let db = TestDb::new(backend, &["iaso"])?;
    let conn = db.migrated("iaso").await;
    let report = seed_iaso(&conn, &options(seed)).await.unwrap();
    Some((db, conn, report))
}

async fn seed_writes_the_reported_rows_and_a_consistent_pyramid(backend: Backend) {
    let Some((_db, conn, report)) = seeded(backend, 7).await else {
        return;
    };
    for &(table, written) in &report.tables {
        assert_eq!(count(&conn, table).await, written, "rows of {table}");
    }
    assert_eq!(count(&conn, "org_unit").await, ORG_UNITS);
    assert_eq!(count(&conn, "account").await, 1);
    assert_eq!(count(&conn, "project").await, 2);
    assert_eq!(count(&conn, "form").await, 10);
    assert_eq!(count(&conn, "org_unit_type").await, 5);
    for table in [
        "form_version",
        "group",
        "group_org_units",
        "device",
        "team",
        "team_users",
        "planning",
        "assignment",
        "user",
        "profile",
    ] {
        assert!(count(&conn, table).await > 0, "{table} is empty");
    }

    // The account's and the source's default version is the one version.
    let defaults = rows(
        &conn,
        "SELECT a.default_version_id AS a, d.default_version_id AS d, v.id AS v \
         FROM account a, data_source d, source_version v",
    )
    .await;
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["a"], defaults[0]["v"]);
    assert_eq!(defaults[0]["d"], defaults[0]["v"]);

    // Levels: one country, then each type under the one above it.
    let levels = rows(
        &conn,
        "SELECT t.depth AS depth, t.category AS category, CAST(COUNT(*) AS TEXT) AS n \
         FROM org_unit u JOIN org_unit_type t ON t.id = u.org_unit_type_id \
         GROUP BY t.depth, t.category ORDER BY t.depth",
    )
    .await;
    let counts: Vec<u64> = levels.iter().map(|l| n(&l["n"])).collect();
    assert_eq!(levels.len(), 5, "{levels:?}");
    assert_eq!(counts[0], 1);
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]),
        "the pyramid widens downwards: {counts:?}"
    );
    assert_eq!(levels[3]["category"], Value::Null, "health areas");
    assert_eq!(levels[4]["category"], json!("HF"));
    let facilities = counts[4];
    let wrong_level = rows(
        &conn,
        "SELECT c.id AS id FROM org_unit c JOIN org_unit p ON p.id = c.parent_id \
         JOIN org_unit_type ct ON ct.id = c.org_unit_type_id \
         JOIN org_unit_type pt ON pt.id = p.org_unit_type_id \
         WHERE ct.depth <> pt.depth + 1",
    )
    .await;
    assert!(wrong_level.is_empty(), "{wrong_level:?}");

    // Every path is the parent's path, a dot and the unit's id.
    let units = rows(
        &conn,
        "SELECT c.id AS id, c.path AS path, p.path AS parent_path \
         FROM org_unit c LEFT JOIN org_unit p ON p.id = c.parent_id ORDER BY c.id",
    )
    .await;
    let mut roots = 0;
    for unit in &units {
        let id = unit["id"].as_i64().unwrap();
        let path = unit["path"].as_str().unwrap();
        match unit["parent_path"].as_str() {
            Some(parent) => assert_eq!(path, format!("{parent}.{id}")),
            None => {
                roots += 1;
                assert_eq!(path, id.to_string());
            }
        }
    }
    assert_eq!(roots, 1);

    // Mostly valid units, some new or rejected.
    let statuses: HashMap<String, u64> = rows(
        &conn,
        "SELECT validation_status AS s, CAST(COUNT(*) AS TEXT) AS n FROM org_unit GROUP BY validation_status",
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r["s"].as_str().unwrap().to_string(),
            n(&r["n"]),
        )
    })
    .collect();
    assert!(statuses["VALID"] > ORG_UNITS * 3 / 4, "{statuses:?}");
    assert!(
        statuses.get("NEW").copied().unwrap_or(0) > 0,
        "{statuses:?}"
    );

    // About ten submissions per facility, over twelve monthly periods, with
    // unique uuids, filed against facilities and health areas only.
    let instances = count(&conn, "instance").await;
    assert!(
        instances >= facilities * 5 && instances <= facilities * 16,
        "{instances} instances for {facilities} facilities"
    );
    let periods = rows(
        &conn,
        "SELECT CAST(COUNT(DISTINCT period) AS TEXT) AS n FROM instance",
    )
    .await;
    assert_eq!(n(&periods[0]["n"]), 12);
    let uuids = rows(
        &conn,
        "SELECT CAST(COUNT(DISTINCT uuid) AS TEXT) AS n FROM instance",
    )
    .await;
    assert_eq!(n(&uuids[0]["n"]), instances);
    let misplaced = rows(
        &conn,
        "SELECT CAST(COUNT(*) AS TEXT) AS n FROM instance i JOIN org_unit u ON u.id = i.org_unit_id \
         JOIN org_unit_type t ON t.id = u.org_unit_type_id WHERE t.depth < 3",
    )
    .await;
    assert_eq!(n(&misplaced[0]["n"]), 0);

    // Assignments stay inside the planning's root and name a user or a
    // team, never both.
    let bad_assignments = rows(
        &conn,
        "SELECT a.id AS id FROM assignment a JOIN planning p ON p.id = a.planning_id \
         JOIN org_unit root ON root.id = p.org_unit_id JOIN org_unit u ON u.id = a.org_unit_id \
         WHERE u.path NOT LIKE root.path || '.%' \
            OR (a.user_id IS NULL) = (a.team_id IS NULL)",
    )
    .await;
    assert!(bad_assignments.is_empty(), "{bad_assignments:?}");

    // Seeding twice is refused: a seed is reproducible into an empty
    // database only.
    let again = seed_iaso(&conn, &options(7)).await;
    assert!(again.is_err());
    assert_eq!(count(&conn, "org_unit").await, ORG_UNITS);
}

async fn seed_is_deterministic(backend: Backend) {
    let Some((_a, first, _)) = seeded(backend, 42).await else {
        return;
    };
    let Some((_b, second, _)) = seeded(backend, 42).await else {
        return;
    };
    let Some((_c, other, _)) = seeded(backend, 43).await else {
        return;
    };
    let (units, instances) = fingerprint(&first).await;
    assert_eq!(units.len() as u64, ORG_UNITS);
    assert_eq!(
        (units.clone(), instances.clone()),
        fingerprint(&second).await
    );
    let (other_units, _) = fingerprint(&other).await;
    assert_ne!(units, other_units, "another seed gives other names");
}

async fn seeded_data_is_served(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let db = app.db("iaso");
    seed_iaso(db, &options(3)).await.unwrap();
    let districts = n(&rows(
        db,
        "SELECT CAST(COUNT(*) AS TEXT) AS n FROM org_unit u \
         JOIN org_unit_type t ON t.id = u.org_unit_type_id WHERE t.category = 'DISTRICT'",
    )
    .await[0]["n"]);
    // Lists hide soft-deleted submissions.
    let instances = n(&rows(
        db,
        "SELECT CAST(COUNT(*) AS TEXT) AS n FROM instance WHERE deleted = false",
    )
    .await[0]["n"]);
    let data = app
        .data(
            "iaso",
            r#"{
                all: orgUnits { totalCount }
                submissions: instances(first: 1) { totalCount }
                districts: orgUnits(
                    first: 3
                    filter: { orgUnitType: { category: { eq: DISTRICT } } }
                    orderBy: [{ field: PATH }]
                ) {
                    totalCount
                    nodes {
                        id name path validationStatus
                        parent { id path orgUnitType { name } }
                        version { number dataSource { name } }
                        children(first: 2, orderBy: [{ field: NAME }]) {
                            totalCount
                            nodes { path }
                        }
                    }
                }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["all"]["totalCount"], json!(ORG_UNITS));
    assert_eq!(data["submissions"]["totalCount"], json!(instances));
    assert_eq!(data["districts"]["totalCount"], json!(districts));
    let nodes = data["districts"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for node in nodes {
        let path = node["path"].as_str().unwrap();
        let parent = &node["parent"];
        assert_eq!(
            path,
            format!("{}.{}", parent["path"].as_str().unwrap(), node["id"])
        );
        assert_eq!(parent["orgUnitType"]["name"], json!("Region"));
        assert_eq!(node["version"]["number"], json!(1));
        assert!(node["children"]["totalCount"].as_u64().unwrap() >= 1);
        for child in node["children"]["nodes"].as_array().unwrap() {
            assert!(
                child["path"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{path}."))
            );
        }
    }
}

on_both_backends!(
    seed_writes_the_reported_rows_and_a_consistent_pyramid,
    seed_is_deterministic,
    seeded_data_is_served,
);
