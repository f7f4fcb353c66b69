//! The migrations build, on SQLite and on PostgreSQL, exactly the schema the
//! model describes: every table, column, nullability, foreign key and unique
//! key. A model change without a new migration fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use erd::RelationKind;
use gateway_tests::{Backend, TestDb, on_both_backends, rows};
use sea_orm::DatabaseConnection;
use serde_json::Value;

/// What the database says it has.
#[derive(Debug, Default)]
struct LiveSchema {
    /// table → column → nullable
    columns: BTreeMap<String, BTreeMap<String, bool>>,
    /// (table, column, referenced table)
    foreign_keys: BTreeSet<(String, String, String)>,
    /// (table, columns) of unique indexes and primary keys
    unique: BTreeSet<(String, Vec<String>)>,
    /// (table, columns) of every index
    indexes: BTreeSet<(String, Vec<String>)>,
}

/// A number from a PRAGMA row, however the driver typed it.
fn number(row: &Value, key: &str) -> i64 {
    match &row[key] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn text(row: &Value, key: &str) -> String {
    match &row[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn live_schema(db: &DatabaseConnection, backend: Backend) -> LiveSchema {
    let mut live = LiveSchema::default();
    match backend {
        Backend::Sqlite => {
            let tables = rows(
                db,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .await;
            for t in tables {
                let table = text(&t, "name");
                let mut pk = Vec::new();
                // Numbers as text: the driver cannot type PRAGMA numbers.
                let info = rows(
                    db,
                    &format!("SELECT name, \"notnull\" || '' AS \"notnull\", pk || '' AS pk FROM pragma_table_info('{table}')"),
                )
                .await;
                for c in info {
                    let name = text(&c, "name");
                    let notnull = number(&c, "notnull") == 1;
                    let in_pk = number(&c, "pk");
                    if in_pk > 0 {
                        pk.push((in_pk, name.clone()));
                    }
                    // SQLite reports an INTEGER PRIMARY KEY as nullable.
                    live.columns
                        .entry(table.clone())
                        .or_default()
                        .insert(name, !notnull && in_pk == 0);
                }
                pk.sort();
                if !pk.is_empty() {
                    live.unique
                        .insert((table.clone(), pk.into_iter().map(|(_, n)| n).collect()));
                }
                for fk in rows(db, &format!("PRAGMA foreign_key_list(\"{table}\")")).await {
                    live.foreign_keys.insert((
                        table.clone(),
                        text(&fk, "from"),
                        text(&fk, "table"),
                    ));
                }
                for index in rows(db, &format!("SELECT name, \"unique\" || '' AS \"unique\" FROM pragma_index_list('{table}')")).await {
                    let name = text(&index, "name");
                    let cols: Vec<String> = rows(db, &format!("PRAGMA index_info(\"{name}\")"))
                        .await
                        .iter()
                        .map(|c| text(c, "name"))
                        .collect();
                    if number(&index, "unique") == 1 {
                        live.unique.insert((table.clone(), cols.clone()));
                    }
                    live.indexes.insert((table.clone(), cols));
                }
            }
        }
        Backend::Postgres => {
            for c in rows(
                db,
                "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()",
            )
            .await
            {
                live.columns
                    .entry(text(&c, "table_name"))
                    .or_default()
                    .insert(text(&c, "column_name"), text(&c, "is_nullable") == "YES");
            }
            for fk in rows(
                db,
                "SELECT cl.relname AS tbl, a.attname AS col, f.relname AS ftbl
                 FROM pg_constraint c
                 JOIN pg_class cl ON cl.oid = c.conrelid
                 JOIN pg_namespace n ON n.oid = cl.relnamespace
                 JOIN pg_class f ON f.oid = c.confrelid
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                 WHERE c.contype = 'f' AND n.nspname = current_schema()",
            )
            .await
            {
                live.foreign_keys
                    .insert((text(&fk, "tbl"), text(&fk, "col"), text(&fk, "ftbl")));
            }
            for index in rows(
                db,
                "SELECT t.relname AS tbl, ix.indisunique AS uniq,
                        array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS cols
                 FROM pg_index ix
                 JOIN pg_class t ON t.oid = ix.indrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
                 WHERE n.nspname = current_schema()",
            )
            .await
            {
                let cols: Vec<String> = text(&index, "cols").split(',').map(str::to_string).collect();
                if index["uniq"].as_bool() == Some(true) {
                    live.unique.insert((text(&index, "tbl"), cols.clone()));
                }
                live.indexes.insert((text(&index, "tbl"), cols));
            }
        }
    }
    live
}

/// Compares one migrated domain with its model; returns what was checked.
async fn assert_domain_matches_model(
    db: &DatabaseConnection,
    backend: Backend,
    name: &str,
) -> (usize, usize, usize) {
    let model = erd::load(name).unwrap();
    let live = live_schema(db, backend).await;
    let mut problems = Vec::new();
    let (mut tables, mut fks, mut uniques) = (0, 0, 0);
    for entity in &model.entities {
        let Some(columns) = live.columns.get(&entity.table) else {
            problems.push(format!("table {} is missing", entity.table));
            continue;
        };
        tables += 1;
        let expected: BTreeSet<&str> = entity.columns.iter().map(|c| c.name.as_str()).collect();
        let actual: BTreeSet<&str> = columns.keys().map(String::as_str).collect();
        if expected != actual {
            problems.push(format!(
                "{}: columns {actual:?}, model {expected:?}",
                entity.table
            ));
        }
        for column in &entity.columns {
            let pk = entity.primary_key.contains(&column.name);
            if let Some(&nullable) = columns.get(&column.name)
                && !pk
                && nullable != column.nullable
            {
                problems.push(format!(
                    "{}.{}: nullable {nullable}, model {}",
                    entity.table, column.name, column.nullable
                ));
            }
        }
        for relation in &entity.relations {
            if let RelationKind::BelongsTo {
                column,
                enforced: true,
                ..
            } = &relation.kind
            {
                let target = &model.entity(&relation.target).unwrap().table;
                fks += 1;
                if !live.foreign_keys.contains(&(
                    entity.table.clone(),
                    column.clone(),
                    target.clone(),
                )) {
                    problems.push(format!(
                        "FK {}.{column} → {target} is missing",
                        entity.table
                    ));
                }
            }
        }
        let mut expected_unique = vec![entity.primary_key.clone()];
        expected_unique.extend(
            entity
                .indexes
                .iter()
                .filter(|i| i.unique)
                .map(|i| i.columns.clone()),
        );
        for cols in expected_unique {
            uniques += 1;
            if !live.unique.contains(&(entity.table.clone(), cols.clone())) {
                problems.push(format!(
                    "unique key {}({}) is missing",
                    entity.table,
                    cols.join(", ")
                ));
            }
        }
        for index in entity.indexes.iter().filter(|i| !i.unique) {
            if !live
                .indexes
                .contains(&(entity.table.clone(), index.columns.clone()))
            {
                problems.push(format!(
                    "index {}({}) is missing",
                    entity.table,
                    index.columns.join(", ")
                ));
            }
        }
    }
    let served: BTreeSet<&str> = model.entities.iter().map(|e| e.table.as_str()).collect();
    for table in live.columns.keys() {
        if !served.contains(table.as_str()) && table != "seaql_migrations" {
            problems.push(format!("table {table} is not in the model"));
        }
    }
    assert!(
        problems.is_empty(),
        "{name} on {backend:?}:\n{}",
        problems.join("\n")
    );
    (tables, fks, uniques)
}

async fn every_domain_migrates_to_its_model(backend: Backend) {
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    for name in erd::domain_names() {
        let db = test.migrated(name).await;
        let (tables, fks, uniques) = assert_domain_matches_model(&db, backend, name).await;
        println!(
            "{name} on {backend:?}: {tables} tables, {fks} foreign keys, {uniques} unique keys match the model"
        );
        assert!(tables > 0 && fks > 0);
    }
}

async fn migrating_twice_is_a_no_op(backend: Backend) {
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    for name in erd::domain_names() {
        let db = test.migrated(name).await;
        assert_eq!(migration::pending(&db, name).await.unwrap(), 0);
        let before = rows(&db, "SELECT version FROM seaql_migrations").await;
        migration::up(&db, name).await.unwrap();
        let after = rows(&db, "SELECT version FROM seaql_migrations").await;
        assert_eq!(before, after, "{name}");
        assert_eq!(after.len(), migration::count(name), "{name}");
    }
}

/// Subtree queries are prefix queries on `org_unit.path`, and uploads look
/// instances up by uuid: both are served by an index.
async fn path_and_uuid_are_indexed(backend: Backend) {
    let Some(test) = TestDb::new(backend, &[]) else {
        return;
    };
    let db = test.migrated("iaso").await;
    let live = live_schema(&db, backend).await;
    assert!(
        live.unique
            .contains(&("instance".into(), vec!["uuid".into()]))
    );
    assert!(
        live.unique
            .contains(&("org_unit".into(), vec!["path".into()]))
    );
    let plan: Vec<String> = match backend {
        Backend::Sqlite => rows(
            &db,
            "EXPLAIN QUERY PLAN SELECT id FROM org_unit WHERE path GLOB '1.2.*'",
        )
        .await
        .iter()
        .map(|r| text(r, "detail"))
        .collect(),
        Backend::Postgres => {
            let defs = rows(&db, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'org_unit'").await;
            assert!(
                defs.iter()
                    .any(|d| text(d, "indexdef").contains("text_pattern_ops")),
                "no pattern index on org_unit.path: {defs:?}"
            );
            // The planner would scan an empty table: ask what it does when
            // it cannot.
            let mut plan = Vec::new();
            let tx_sql = "SET enable_seqscan = off";
            rows(&db, tx_sql).await;
            for r in rows(
                &db,
                "EXPLAIN SELECT id FROM org_unit WHERE path LIKE '1.2.%'",
            )
            .await
            {
                plan.push(text(&r, "QUERY PLAN"));
            }
            rows(&db, "RESET enable_seqscan").await;
            plan
        }
    };
    assert!(
        plan.iter().any(|line| line.contains("idx_org_unit_path")),
        "subtree query plan does not use the path index: {plan:?}"
    );
}

/// Every prefix-indexed column of the model (a materialised path) is in
/// byte order on PostgreSQL, so that one index serves a subtree page's
/// range and its order: the plan reads the range from the path index and
/// does not sort. (SQLite compares text bytewise whatever the schema.)
#[tokio::test]
async fn paths_are_in_byte_order_on_postgres() {
    let Some(test) = TestDb::new(Backend::Postgres, &[]) else {
        return;
    };
    let mut checked = 0;
    for name in erd::domain_names() {
        let db = test.migrated(name).await;
        let model = erd::load(name).unwrap();
        for entity in &model.entities {
            for index in entity.indexes.iter().filter(|i| i.prefix) {
                let collation = rows(
                    &db,
                    &format!(
                        "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{}' AND column_name = '{}'",
                        entity.table, index.columns[0]
                    ),
                )
                .await;
                assert_eq!(
                    text(&collation[0], "collation_name"),
                    "C",
                    "{name}: {}.{}",
                    entity.table,
                    index.columns[0]
                );
                checked += 1;
            }
        }
        if name == "iaso" {
            rows(&db, "SET enable_seqscan = off").await;
            let plan: Vec<String> = rows(
                &db,
                "EXPLAIN SELECT id FROM org_unit WHERE path LIKE '1.2.%' ORDER BY path LIMIT 100",
            )
            .await
            .iter()
            .map(|r| text(r, "QUERY PLAN"))
            .collect();
            rows(&db, "RESET enable_seqscan").await;
            assert!(
                plan.iter().any(|l| l
                    .contains("Index Cond: ((path >= '1.2.'::text) AND (path < '1.2/'::text))")),
                "the subtree is not read as an index range: {plan:#?}"
            );
            assert!(
                !plan
                    .iter()
                    .any(|l| l.trim_start().starts_with("->  Sort") || l.starts_with("Sort")),
                "a subtree page is sorted: {plan:#?}"
            );
        }
    }
    assert_eq!(checked, 2, "org_unit.path and team.path");
}

on_both_backends!(
    every_domain_migrates_to_its_model,
    migrating_twice_is_a_no_op,
    path_and_uuid_are_indexed
);
