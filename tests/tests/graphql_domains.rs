//! Every entity and relation of every domain, on the demo data, on SQLite
//! and PostgreSQL: counts, paging both ways, ordering, filters, and each
//! relation checked against its keys. Generated from the model, so a new
//! entity is covered without a new test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway::engine::Model;
use gateway::engine::model::{EntityInfo, RelKind, Scalar};
use gateway_tests::{Backend, TestApp, rows};
use serde_json::{Value, json};

fn pk_fields(entity: &EntityInfo) -> String {
    entity
        .pk
        .iter()
        .map(|&c| entity.columns[c].gql.clone())
        .collect::<Vec<_>>()
        .join(" ")
}

fn pk_of(entity: &EntityInfo, node: &Value) -> Value {
    Value::Array(
        entity
            .pk
            .iter()
            .map(|&c| node[&entity.columns[c].gql].clone())
            .collect(),
    )
}

/// A column whose values order the same way in Rust and in SQL, nullable
/// ones first (they exercise the cursors' null handling).
fn ordered_column(entity: &EntityInfo) -> Option<usize> {
    let candidates: Vec<(usize, bool)> = entity
        .public_columns()
        .filter(|(i, c)| {
            !entity.pk.contains(i)
                && matches!(c.scalar, Scalar::Int | Scalar::DateTime | Scalar::Date)
        })
        .map(|(i, c)| (i, c.nullable))
        .collect();
    candidates
        .iter()
        .find(|(_, nullable)| *nullable)
        .or(candidates.first())
        .map(|(i, _)| *i)
}

/// Every row of a list in pages of two, forward and then backward.
async fn page_both_ways(
    app: &TestApp,
    domain: &str,
    list: &str,
    entity: &EntityInfo,
    order_arg: &str,
) -> (Vec<Value>, Vec<Value>) {
    let pk = pk_fields(entity);
    let page = format!(
        "query($first: Int, $after: String, $last: Int, $before: String) {{ {list}({order_arg}, first: $first, after: $after, last: $last, before: $before) {{ nodes {{ {pk} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
    );
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(domain, &page, json!({ "first": 2, "after": after }))
            .await;
        forward.extend(
            data[list]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| pk_of(entity, n)),
        );
        if data[list]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data[list]["pageInfo"]["endCursor"].clone();
    }
    let mut backward: Vec<Value> = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = app
            .data(domain, &page, json!({ "last": 2, "before": before }))
            .await;
        let got: Vec<Value> = data[list]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| pk_of(entity, n))
            .collect();
        backward.splice(0..0, got);
        if data[list]["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = data[list]["pageInfo"]["startCursor"].clone();
    }
    (forward, backward)
}

/// The SQL condition, on alias `t`, that hides soft-deleted rows.
/// The rows the operator's token lists: not soft-deleted, and for PlaceOS
/// settings, not above the Admin level (NeverDisplay is never shown).
fn visible(entity: &EntityInfo) -> String {
    let level = match entity.column_index("encryption_level") {
        Some(_) => " AND t.\"encryption_level\" <= 2",
        None => "",
    };
    let deleted = match entity.soft_delete {
        Some(c) if entity.columns[c].scalar == Scalar::Boolean => {
            format!(" AND t.\"{}\" = false", entity.columns[c].name)
        }
        Some(c) => format!(" AND t.\"{}\" IS NULL", entity.columns[c].name),
        None => String::new(),
    };
    format!("{deleted}{level}")
}

fn as_key(value: &Value) -> String {
    value.to_string()
}

async fn check_domain(backend: Backend, domain: &str) {
    let Some(app) = TestApp::spawn_with_demo(backend, &[domain]).await else {
        return;
    };
    let erd_model = erd::load(domain).unwrap();
    let model = Model::build(&erd_model).unwrap();
    // Polymorphic links (PlaceOS metadata's parent_id) may name a row of
    // another entity: their belongs-to is then null.
    let unenforced: Vec<(String, String)> = erd_model
        .entities
        .iter()
        .flat_map(|e| e.relations.iter().map(move |r| (e, r)))
        .filter(|(_, r)| {
            matches!(
                r.kind,
                erd::RelationKind::BelongsTo {
                    enforced: false,
                    ..
                }
            )
        })
        .map(|(e, r)| {
            (
                e.name.clone(),
                heck::ToLowerCamelCase::to_lower_camel_case(r.name.as_str()),
            )
        })
        .collect();
    let mut probes = 0;
    let mut empty = Vec::new();
    for entity in model.entities.iter().filter(|e| e.exposed) {
        let list = &entity.list_field;
        let pk = pk_fields(entity);
        let order = ordered_column(entity);
        let order_field = order
            .map(|c| entity.columns[c].gql.clone())
            .unwrap_or_default();

        // Everything, in key order, against the table's own count.
        let all = app
            .data(
                domain,
                &format!(
                    "{{ {list}(first: 10000) {{ totalCount nodes {{ {pk} {order_field} }} }} }}"
                ),
                json!({}),
            )
            .await;
        let nodes = all[list]["nodes"].as_array().unwrap().clone();
        let sql_count = rows(
            app.db(domain),
            &format!(
                "SELECT COUNT(*) || '' AS n FROM \"{}\" t WHERE 1 = 1{}",
                entity.table,
                visible(entity)
            ),
        )
        .await[0]["n"]
            .as_str()
            .unwrap()
            .parse::<usize>()
            .unwrap();
        assert_eq!(
            all[list]["totalCount"].as_u64().unwrap() as usize,
            sql_count,
            "{domain}.{list} totalCount"
        );
        assert_eq!(nodes.len(), sql_count, "{domain}.{list} nodes");
        probes += 2;
        if nodes.is_empty() {
            empty.push(entity.name.clone());
            continue;
        }
        let keys: Vec<Value> = nodes.iter().map(|n| pk_of(entity, n)).collect();

        // Pages of two, forward then backward, give the same rows in order.
        let page = format!(
            "query($first: Int, $after: String, $last: Int, $before: String) {{ {list}(first: $first, after: $after, last: $last, before: $before) {{ nodes {{ {pk} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
        );
        let mut forward = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app
                .data(domain, &page, json!({ "first": 2, "after": after }))
                .await;
            forward.extend(
                data[list]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| pk_of(entity, n)),
            );
            probes += 1;
            if data[list]["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = data[list]["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(forward, keys, "{domain}.{list} paged forward");
        let mut backward: Vec<Value> = Vec::new();
        let mut before = Value::Null;
        loop {
            let data = app
                .data(domain, &page, json!({ "last": 2, "before": before }))
                .await;
            let got: Vec<Value> = data[list]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| pk_of(entity, n))
                .collect();
            backward.splice(0..0, got);
            probes += 1;
            if data[list]["pageInfo"]["hasPreviousPage"] != true {
                break;
            }
            before = data[list]["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(backward, keys, "{domain}.{list} paged backward");

        // Ordering by a column, descending, nulls first (nulls are the
        // largest value); paging by it both ways; and equality filters.
        if let Some(c) = order {
            let column = &entity.columns[c];
            let field = &column.order_name;
            let data = app
                .data(
                    domain,
                    &format!("{{ {list}(first: 10000, orderBy: [{{ field: {field}, direction: DESC }}]) {{ nodes {{ {pk} {order_field} }} }} }}"),
                    json!({}),
                )
                .await;
            let values: Vec<Value> = data[list]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n[&column.gql].clone())
                .collect();
            let mut expected = values.clone();
            expected.sort_by(|a, b| match (a, b) {
                (Value::Null, Value::Null) => std::cmp::Ordering::Equal,
                (Value::Null, _) => std::cmp::Ordering::Less,
                (_, Value::Null) => std::cmp::Ordering::Greater,
                (Value::Number(x), Value::Number(y)) => {
                    y.as_f64().unwrap().total_cmp(&x.as_f64().unwrap())
                }
                (x, y) => y.as_str().cmp(&x.as_str()),
            });
            assert_eq!(values, expected, "{domain}.{list} ordered by {field} DESC");
            probes += 1;
            for direction in ["ASC", "DESC"] {
                let order_arg = format!("orderBy: [{{ field: {field}, direction: {direction} }}]");
                let whole = app
                    .data(
                        domain,
                        &format!("{{ {list}(first: 10000, {order_arg}) {{ nodes {{ {pk} }} }} }}"),
                        json!({}),
                    )
                    .await;
                let ordered: Vec<Value> = whole[list]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| pk_of(entity, n))
                    .collect();
                let (forward, backward) =
                    page_both_ways(&app, domain, list, entity, &order_arg).await;
                assert_eq!(
                    forward, ordered,
                    "{domain}.{list} paged forward by {field} {direction}"
                );
                assert_eq!(
                    backward, ordered,
                    "{domain}.{list} paged backward by {field} {direction}"
                );
                probes += 2;
            }
            if let Some(v) = nodes
                .iter()
                .map(|n| n[&column.gql].clone())
                .find(|v| !v.is_null())
            {
                let matching = nodes.iter().filter(|n| n[&column.gql] == v).count();
                let data = app
                    .data(domain, &format!("query($v: {}) {{ {list}(filter: {{ {order_field}: {{ eq: $v }} }}) {{ totalCount }} }}", column.scalar.type_name(&model)), json!({ "v": v }))
                    .await;
                assert_eq!(
                    data[list]["totalCount"].as_u64().unwrap() as usize,
                    matching,
                    "{domain}.{list} filter {order_field} eq {v}"
                );
                probes += 1;
            }
        }

        // Each relation against the keys it follows.
        for relation in &entity.relations {
            let target = &model.entities[relation.target];
            let target_pk = pk_fields(target);
            let rel = &relation.gql;
            match &relation.kind {
                RelKind::BelongsTo { column } => {
                    let fk = &entity.columns[*column].gql;
                    let data = app
                        .data(domain, &format!("{{ {list}(first: 10000) {{ nodes {{ {fk} {rel} {{ {target_pk} }} }} }} }}"), json!({}))
                        .await;
                    for node in data[list]["nodes"].as_array().unwrap() {
                        if node[fk].is_null() {
                            assert!(node[rel].is_null(), "{domain}.{}.{rel}", entity.name);
                        } else if node[rel].is_null() {
                            assert!(
                                unenforced.contains(&(entity.name.clone(), rel.clone())),
                                "{domain}.{}.{rel} is null for key {}",
                                entity.name,
                                node[fk]
                            );
                        } else {
                            let target_key = target
                                .single_pk()
                                .map(|c| target.columns[c].gql.clone())
                                .unwrap();
                            assert_eq!(
                                as_key(&node[rel][&target_key]),
                                as_key(&node[fk]),
                                "{domain}.{}.{rel}",
                                entity.name
                            );
                        }
                    }
                }
                RelKind::HasOne { .. } => {
                    app.data(domain, &format!("{{ {list}(first: 10000) {{ nodes {{ {pk} {rel} {{ {target_pk} }} }} }} }}"), json!({}))
                        .await;
                }
                RelKind::HasMany { column } => {
                    let total = children_total(&app, domain, list, &pk, rel, &target_pk).await;
                    let fk = &target.columns[*column].name;
                    // Keys of this owner only: PlaceOS metadata's parent_id
                    // names zones and systems alike.
                    let owner_pk = &entity.columns[entity.single_pk().unwrap()].name;
                    let sql = format!(
                        "SELECT COUNT(*) || '' AS n FROM \"{}\" t WHERE \"{fk}\" IN (SELECT \"{owner_pk}\" FROM \"{}\"){}",
                        target.table,
                        entity.table,
                        visible(target)
                    );
                    let expected: usize = rows(app.db(domain), &sql).await[0]["n"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert_eq!(total, expected, "{domain}.{}.{rel}", entity.name);
                }
                RelKind::ManyToMany { junction, .. } => {
                    let total = children_total(&app, domain, list, &pk, rel, &target_pk).await;
                    let RelKind::ManyToMany { to, .. } = &relation.kind else {
                        unreachable!()
                    };
                    let target_pk = &target.columns[target.single_pk().unwrap()].name;
                    let sql = format!(
                        "SELECT COUNT(*) || '' AS n FROM \"{junction}\" j JOIN \"{}\" t ON t.\"{target_pk}\" = j.\"{to}\" WHERE 1 = 1{}",
                        target.table,
                        visible(target)
                    );
                    let expected: usize = rows(app.db(domain), &sql).await[0]["n"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert_eq!(total, expected, "{domain}.{}.{rel}", entity.name);
                }
            }
            probes += 1;
        }
    }
    println!(
        "{domain} on {backend:?}: {probes} probes over {} entities ({} without demo rows: {empty:?})",
        model.entities.iter().filter(|e| e.exposed).count(),
        empty.len()
    );
}

/// The related rows of every parent, summed; each parent's `totalCount`
/// must match the rows it lists.
async fn children_total(
    app: &TestApp,
    domain: &str,
    list: &str,
    pk: &str,
    rel: &str,
    target_pk: &str,
) -> usize {
    let data = app
        .data(domain, &format!("{{ {list}(first: 10000) {{ nodes {{ {pk} {rel}(first: 10000) {{ totalCount nodes {{ {target_pk} }} }} }} }} }}"), json!({}))
        .await;
    let mut total = 0;
    for node in data[list]["nodes"].as_array().unwrap() {
        let count = node[rel]["totalCount"].as_u64().unwrap() as usize;
        assert_eq!(
            count,
            node[rel]["nodes"].as_array().unwrap().len(),
            "{domain}.{list}.{rel}"
        );
        total += count;
    }
    total
}

macro_rules! domain_tests {
    ($($domain:ident),*) => {
        $(
            mod $domain {
                #[tokio::test]
                async fn sqlite() {
                    super::check_domain(gateway_tests::Backend::Sqlite, stringify!($domain)).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::check_domain(gateway_tests::Backend::Postgres, stringify!($domain)).await;
                }
            }
        )*
    };
}

domain_tests!(iaso, opentalk, placeos, telemetry, gans);

/// The checked-in SDL is the built schema's: `gateway schema` rewrites it.
#[test]
fn checked_in_sdl_matches_the_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for domain in erd::domain_names() {
        let path = root.join(gateway::sdl_path(domain));
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == gateway::domain_sdl(domain).unwrap(),
            "{} differs from the built schema: run `cargo run -- schema`",
            path.display()
        );
    }
}

/// No secret column appears in any type or filter of any schema.
#[test]
fn secrets_are_absent_from_every_schema() {
    let mut checked = 0;
    for domain in erd::load_all().unwrap() {
        let sdl = gateway::domain_sdl(&domain.name).unwrap();
        let model = Model::build(&domain).unwrap();
        for entity in model.entities.iter().filter(|e| e.exposed) {
            for block in [
                format!("type {} {{", entity.name),
                format!("input {}Filter {{", entity.name),
            ] {
                let start = sdl
                    .find(&block)
                    .unwrap_or_else(|| panic!("{block} missing"));
                let body = &sdl[start..start + sdl[start..].find('}').unwrap()];
                for column in entity.columns.iter().filter(|c| c.secret) {
                    checked += 1;
                    assert!(
                        !body
                            .lines()
                            .any(|l| l.trim_start().starts_with(&format!("{}:", column.gql))),
                        "{}: {block} exposes secret {}",
                        domain.name,
                        column.gql
                    );
                }
            }
        }
    }
    println!("{checked} secret column placements checked");
    assert!(checked >= 40);
}
