//! The read engine over HTTP, on SQLite and PostgreSQL: paging both ways,
//! filters, relations of every kind, limits, and what a query costs in SQL
//! statements.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_tests::fixtures::{Tree, iaso_tree};
use gateway_tests::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn app_with_tree(backend: Backend) -> Option<(TestApp, Tree)> {
    let app = TestApp::spawn(backend, &["iaso"]).await?;
    let tree = iaso_tree(app.db("iaso"), 12, 6, 3).await;
    Some((app, tree))
}

fn names(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

const NESTED: &str = "query($n: Int!) {
  orgUnits(first: 50) {
    nodes {
      name
      parent { name }
      orgUnitType { name }
      children(first: $n) { totalCount nodes { name } }
      instances(first: 3) { nodes { uuid form { name } } }
    }
  }
}";

/// One statement per relation level plus the root page and the counts
/// (a page's belongs-to relations in the page's statement), whatever the
/// page sizes: 50 parents cost what 1 parent costs.
async fn nested_query_costs_one_statement_per_level(backend: Backend) {
    let Some((app, tree)) = app_with_tree(backend).await else {
        return;
    };
    let mut costs = Vec::new();
    for n in [5, 50] {
        let before = app.statements("iaso");
        let data = app.data("iaso", NESTED, json!({ "n": n })).await;
        costs.push(app.statements("iaso") - before);

        let nodes = data["orgUnits"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 50);
        let country = &nodes[0];
        assert_eq!(country["parent"], Value::Null);
        assert_eq!(country["children"]["totalCount"], 12);
        assert_eq!(
            country["children"]["nodes"].as_array().unwrap().len(),
            n.min(12)
        );
        let region = &nodes[1];
        assert_eq!(region["name"], "Region 00");
        assert_eq!(region["parent"]["name"], "Country");
        assert_eq!(region["orgUnitType"]["name"], "Region");
        assert_eq!(region["children"]["totalCount"], 6);
        assert_eq!(names(&region["children"]["nodes"]).len(), n.min(6));
        let district = nodes
            .iter()
            .find(|u| u["orgUnitType"]["name"] == "District")
            .unwrap();
        let instances = district["instances"]["nodes"].as_array().unwrap();
        assert_eq!(instances.len(), 3);
        assert!(instances.iter().all(|i| i["form"]["name"] == "Census"));
        assert!(tree.instances > 0);
    }
    println!(
        "{backend:?}: the nested query costs {costs:?} statements for children(first: 5) and (first: 50)"
    );
    // root page, parent, orgUnitType, children page, children count,
    // instances page with their form joined in.
    assert_eq!(costs, vec![6, 6]);
}

const CHAIN: &str = "query($n: Int!) {
  forms {
    nodes {
      instances(first: $n, orderBy: [{ field: UUID }]) {
        nodes {
          uuid
          orgUnit {
            name
            orgUnitType { name }
            parent { name orgUnitType { name } parent { name parent { name } } }
            region: parent { id }
          }
        }
      }
    }
  }
}";

/// Belongs-to relations under rows are read in those rows' statement, and
/// so are theirs: forms, then their instances with the units, the units'
/// type and parent and the parent's type (four joins, the most one
/// statement takes), then, at the same time, the grandparents (with the
/// country's absent parent joined) and the units' parent once more, under
/// another name. Four statements whatever the page size, where one per
/// relation would take eight; every answer as the tree has it.
async fn belongs_to_relations_join_the_statement_of_their_rows(backend: Backend) {
    let Some((app, tree)) = app_with_tree(backend).await else {
        return;
    };
    let mut costs = Vec::new();
    for n in [5, 50] {
        let before = app.statements("iaso");
        let data = app.data("iaso", CHAIN, json!({ "n": n })).await;
        costs.push(app.statements("iaso") - before);
        let nodes = data["forms"]["nodes"][0]["instances"]["nodes"]
            .as_array()
            .unwrap();
        assert_eq!(nodes.len(), n);
        for node in nodes {
            // inst-<region>-<district>-<i>
            let uuid = node["uuid"].as_str().unwrap();
            let parts: Vec<usize> = uuid
                .trim_start_matches("inst-")
                .split('-')
                .map(|p| p.parse().unwrap())
                .collect();
            let (r, d) = (parts[0], parts[1]);
            let unit = &node["orgUnit"];
            assert_eq!(unit["name"], format!("District {r}-{d}"), "{node}");
            assert_eq!(unit["orgUnitType"]["name"], "District");
            assert_eq!(unit["parent"]["name"], format!("Region {r:02}"));
            assert_eq!(unit["parent"]["orgUnitType"]["name"], "Region");
            assert_eq!(unit["parent"]["parent"]["name"], "Country");
            assert_eq!(unit["parent"]["parent"]["parent"], Value::Null);
            assert_eq!(unit["region"]["id"], tree.regions[r]);
        }
    }
    assert_eq!(
        costs,
        vec![4, 4],
        "statements for instances(first: 5) and (first: 50)"
    );
}

async fn pages_forward_and_backward(backend: Backend) {
    let Some((app, _)) = app_with_tree(backend).await else {
        return;
    };
    let query = "query($first: Int, $after: String, $last: Int, $before: String) {
      orgUnits(filter: { orgUnitType: { name: { eq: \"District\" } } }, orderBy: [{ field: NAME, direction: DESC }],
               first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { name } }
      }
    }";
    let mut expected: Vec<String> = (0..12)
        .flat_map(|r| (0..6).map(move |d| format!("District {r}-{d}")))
        .collect();
    expected.sort();
    expected.reverse();

    let mut forward = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let data = app
            .data("iaso", query, json!({ "first": 5, "after": after }))
            .await;
        let conn = &data["orgUnits"];
        assert_eq!(conn["totalCount"], 72);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 0);
        forward.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_string()),
        );
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 15);
    assert_eq!(forward, expected);

    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = app
            .data("iaso", query, json!({ "last": 7, "before": before }))
            .await;
        let conn = &data["orgUnits"];
        let page: Vec<String> = conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_string())
            .collect();
        backward.splice(0..0, page);
        if conn["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = conn["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, expected);

    // A window between two cursors.
    let all = app.data("iaso", query, json!({ "first": 72 })).await;
    let edges = all["orgUnits"]["edges"].as_array().unwrap();
    let between = app
        .data(
            "iaso",
            query,
            json!({ "first": 100, "after": edges[9]["cursor"], "before": edges[15]["cursor"] }),
        )
        .await;
    assert_eq!(
        names(
            &between["orgUnits"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone())
                .collect()
        ),
        expected[10..15].to_vec()
    );
}

async fn count(app: &TestApp, list: &str, filter: &str) -> i64 {
    let data = app
        .data(
            "iaso",
            &format!("{{ {list}(filter: {filter}) {{ totalCount }} }}"),
            json!({}),
        )
        .await;
    data[list]["totalCount"].as_i64().unwrap()
}

/// The org units matching `filter`, passed as a variable.
async fn count_units(app: &TestApp, filter: serde_json::Value) -> serde_json::Value {
    let data = app
        .data(
            "iaso",
            "query($f: OrgUnitFilter) { orgUnits(filter: $f) { totalCount } }",
            json!({ "f": filter }),
        )
        .await;
    data["orgUnits"]["totalCount"].clone()
}

async fn filters(backend: Backend) {
    let Some((app, tree)) = app_with_tree(backend).await else {
        return;
    };
    let cases = [
        ("orgUnits", r#"{ name: { startsWith: "District 1-" } }"#, 6),
        ("orgUnits", r#"{ name: { endsWith: "-5" } }"#, 12),
        (
            "orgUnits",
            r#"{ name: { contains: "region 0", caseInsensitive: true } }"#,
            10,
        ),
        ("orgUnits", r#"{ name: { contains: "region 0" } }"#, 0),
        ("orgUnits", r#"{ name: { ilike: "region 1_" } }"#, 2),
        (
            "orgUnits",
            r#"{ name: { eq: "REGION 05", caseInsensitive: true } }"#,
            1,
        ),
        (
            "orgUnits",
            r#"{ name: { in: ["Region 00", "Region 01", "Nowhere"] } }"#,
            2,
        ),
        ("orgUnits", r#"{ name: { in: [] } }"#, 0),
        ("orgUnits", r#"{ validationStatus: { eq: NEW } }"#, 3),
        ("orgUnits", r#"{ validationStatus: { notIn: [NEW] } }"#, 82),
        (
            "orgUnits",
            r#"{ not: { validationStatus: { eq: VALID } } }"#,
            3,
        ),
        (
            "orgUnits",
            r#"{ or: [{ name: { eq: "Region 00" } }, { name: { eq: "Country" } }] }"#,
            2,
        ),
        (
            "orgUnits",
            r#"{ and: [{ name: { startsWith: "Region" } }, { validationStatus: { eq: VALID } }] }"#,
            9,
        ),
        ("orgUnits", r#"{ parentId: { isNull: true } }"#, 1),
        ("orgUnits", r#"{ path: { startsWith: "PATH" } }"#, 0),
        (
            "orgUnits",
            r#"{ createdAt: { gte: "2026-10-05T00:00:00Z" } }"#,
            9,
        ),
        (
            "orgUnits",
            r#"{ createdAt: { lt: "2026-10-05T00:00:00+02:00" } }"#,
            76,
        ),
        (
            "orgUnits",
            r#"{ parent: { name: { eq: "Region 02" } } }"#,
            6,
        ),
        (
            "orgUnits",
            r#"{ orgUnitType: { name: { eq: "Region" } }, name: { gt: "Region 09" } }"#,
            2,
        ),
        (
            "instances",
            r#"{ orgUnit: { name: { startsWith: "District 2-" } } }"#,
            18,
        ),
        (
            "instances",
            r#"{ orgUnit: { parent: { name: { eq: "Region 02" } } } }"#,
            18,
        ),
        (
            "instances",
            r#"{ period: { eq: "202610" }, orgUnit: { parent: { name: { eq: "Region 02" } } } }"#,
            6,
        ),
        (
            "instances",
            r#"{ uuid: { in: ["inst-0-0-0", "inst-11-5-2"] } }"#,
            2,
        ),
    ];
    for (list, filter, expected) in cases {
        assert_eq!(
            count(&app, list, filter).await,
            expected,
            "{list}(filter: {filter})"
        );
    }
    // The subtree of a region is a prefix query on the path.
    let region = tree.regions[4];
    let data = app
        .data(
            "iaso",
            &format!("{{ orgUnit(id: {region}) {{ path }} }}"),
            json!({}),
        )
        .await;
    let path = data["orgUnit"]["path"].as_str().unwrap().to_string();
    assert_eq!(
        count(
            &app,
            "orgUnits",
            &format!(r#"{{ path: {{ startsWith: "{path}." }} }}"#)
        )
        .await,
        6
    );
}

async fn relations_of_every_kind(backend: Backend) {
    let Some((app, tree)) = app_with_tree(backend).await else {
        return;
    };
    let data = app
        .data(
            "iaso",
            "query($id: Int!) {
              orgUnit(id: $id) {
                name
                groups { totalCount nodes { name orgUnits(orderBy: [{ field: NAME }]) { totalCount nodes { name } } } }
                children(orderBy: [{ field: NAME, direction: DESC }], first: 2) { totalCount nodes { name parent { name } } }
                version { number dataSource { name } orgUnits(filter: { orgUnitType: { name: { eq: \"Region\" } } }) { totalCount } }
              }
              missing: orgUnit(id: -1) { name }
            }",
            json!({ "id": tree.regions[1] }),
        )
        .await;
    let unit = &data["orgUnit"];
    assert_eq!(unit["name"], "Region 01");
    assert_eq!(unit["groups"]["totalCount"], 1);
    let group = &unit["groups"]["nodes"][0];
    assert_eq!(group["name"], "Urban");
    assert_eq!(group["orgUnits"]["totalCount"], 3);
    assert_eq!(
        names(&group["orgUnits"]["nodes"]),
        vec!["Region 00", "Region 01", "Region 02"]
    );
    assert_eq!(unit["children"]["totalCount"], 6);
    assert_eq!(
        names(&unit["children"]["nodes"]),
        vec!["District 1-5", "District 1-4"]
    );
    assert_eq!(unit["children"]["nodes"][0]["parent"]["name"], "Region 01");
    assert_eq!(unit["version"]["number"], 1);
    assert_eq!(unit["version"]["orgUnits"]["totalCount"], 12);
    assert_eq!(data["missing"], Value::Null);

    // The reverse many-to-many, and a has-many under many parents.
    let data = app
        .data(
            "iaso",
            "{ groups { nodes { name orgUnits(first: 1) { totalCount } } }
               forms { nodes { name instances(filter: { period: { eq: \"202609\" } }) { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["groups"]["nodes"][0]["orgUnits"]["totalCount"], 3);
    assert_eq!(
        data["forms"]["nodes"][0]["instances"]["totalCount"],
        12 * 6 * 2
    );
}

async fn limits_refuse_before_any_sql(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &["iaso"], |c| c.default_page_size = 10).await
    else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 3, 3, 0).await;
    // The default page size applies when no size is given.
    let data = app
        .data(
            "iaso",
            "{ orgUnits { totalCount nodes { id } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["orgUnits"]["nodes"].as_array().unwrap().len(), 10);
    assert_eq!(data["orgUnits"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["orgUnits"]["totalCount"], 13);
    assert!(tree.country > 0);

    let before = app.statements("iaso");
    let too_big = app
        .graphql(
            "iaso",
            "{ orgUnits(first: 10001) { nodes { id } } }",
            json!({}),
        )
        .await;
    let error = &too_big["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "first");
    assert!(
        error["message"].as_str().unwrap().contains("10000"),
        "{error}"
    );

    let deep = "{ orgUnits { nodes { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } }";
    let error = &app.graphql("iaso", deep, json!({})).await["errors"][0];
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");
    assert!(
        error["message"].as_str().unwrap().contains("limit of 10"),
        "{error}"
    );

    let wide: String = (0..1001).map(|i| format!("a{i}: name ")).collect();
    let error = &app
        .graphql(
            "iaso",
            &format!("{{ orgUnits {{ nodes {{ {wide} }} }} }}"),
            json!({}),
        )
        .await["errors"][0];
    assert_eq!(error["extensions"]["code"], "TOO_COMPLEX");
    assert!(
        error["message"].as_str().unwrap().contains("limit of 1000"),
        "{error}"
    );

    let bad_cursor = &app
        .graphql(
            "iaso",
            "{ orgUnits(after: \"nope\") { nodes { id } } }",
            json!({}),
        )
        .await["errors"][0];
    assert_eq!(bad_cursor["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(app.statements("iaso"), before, "a refused query ran SQL");
}

/// A keyset cursor names a position, not an offset: rows inserted before
/// it do not shift the next page.
async fn cursors_are_stable_under_inserts(backend: Backend) {
    let Some((app, tree)) = app_with_tree(backend).await else {
        return;
    };
    let query = "query($after: String) {
      orgUnits(filter: { orgUnitType: { name: { eq: \"District\" } } }, orderBy: [{ field: NAME }], first: 5, after: $after) {
        nodes { name } pageInfo { endCursor }
      }
    }";
    let first = app.data("iaso", query, json!({ "after": null })).await;
    assert_eq!(
        names(&first["orgUnits"]["nodes"]),
        vec![
            "District 0-0",
            "District 0-1",
            "District 0-2",
            "District 0-3",
            "District 0-4"
        ]
    );
    // Someone adds districts that sort before the cursor.
    let fresh = iaso_tree(app.db("iaso"), 1, 3, 0).await;
    assert!(fresh.districts[0].len() == 3 && tree.regions.len() == 12);
    let next = app
        .data(
            "iaso",
            query,
            json!({ "after": first["orgUnits"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        names(&next["orgUnits"]["nodes"]),
        vec![
            "District 0-5",
            "District 1-0",
            "District 1-1",
            "District 1-2",
            "District 1-3"
        ]
    );
}

async fn bad_input_gets_a_coded_error(backend: Backend) {
    let Some((app, _)) = app_with_tree(backend).await else {
        return;
    };
    for (query, code) in [
        (
            "{ orgUnits(filter: { nope: { eq: 1 } }) { totalCount } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ orgUnits(filter: { createdAt: { gt: \"yesterday\" } }) { totalCount } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ orgUnits(orderBy: [{ field: GEOM }]) { totalCount } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ orgUnits(first: 1, last: 1) { nodes { id } } }",
            "BAD_USER_INPUT",
        ),
        (
            "{ users(filter: { password: { eq: \"x\" } }) { totalCount } }",
            "BAD_USER_INPUT",
        ),
        ("{ orgUnits { nodes { id } ", "BAD_USER_INPUT"),
    ] {
        let body = app.graphql("iaso", query, json!({})).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], code, "{query}: {body}");
        let message = error["message"].as_str().unwrap();
        assert!(
            !message.contains("SELECT") && !message.contains("sqlx"),
            "{message}"
        );
    }
}

/// Text filters take any text: quotes, LIKE wildcards and SQL fragments
/// match literally, on both backends.
async fn text_filters_match_literally(backend: Backend) {
    let Some((app, tree)) = app_with_tree(backend).await else {
        return;
    };
    for name in ["O'Brien Clinic", "50% _off\\ clinic"] {
        app.data(
            "iaso",
            "mutation($n: String!, $v: Int!) { createOrgUnit(input: { name: $n, versionId: $v }) { id } }",
            json!({ "n": name, "v": tree.version }),
        )
        .await;
    }
    let cases = [
        (json!({ "name": { "startsWith": "O'Br" } }), 1),
        (
            json!({ "name": { "contains": "'brien", "caseInsensitive": true } }),
            1,
        ),
        (json!({ "name": { "startsWith": "x' OR '1'='1" } }), 0),
        (json!({ "name": { "contains": "' OR 1=1 --" } }), 0),
        (json!({ "name": { "startsWith": "50% _" } }), 1),
        (json!({ "name": { "startsWith": "50%" } }), 1),
        (json!({ "name": { "contains": "% _off\\" } }), 1),
        (json!({ "name": { "contains": "_" } }), 1),
        (
            json!({ "name": { "endsWith": "CLINIC", "caseInsensitive": true } }),
            2,
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            count_units(&app, filter.clone()).await,
            expected,
            "{filter}"
        );
    }
    let body = app
        .graphql(
            "iaso",
            "query($f: OrgUnitFilter) { orgUnits(filter: $f) { totalCount } }",
            json!({ "f": { "name": { "contains": "a\u{0}b" } } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}

/// `startsWith` on a materialised path (read as a range of keys) selects
/// exactly the paths that start with the text: every proper prefix of
/// every path, with and without the trailing dot, and texts no path has.
async fn path_prefixes_select_exactly_their_subtrees(backend: Backend) {
    let Some((app, _tree)) = app_with_tree(backend).await else {
        return;
    };
    let data = app
        .data(
            "iaso",
            "{ orgUnits(first: 1000) { totalCount nodes { path } } }",
            json!({}),
        )
        .await;
    let paths: Vec<String> = data["orgUnits"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(data["orgUnits"]["totalCount"], paths.len());
    assert!(paths.len() > 20, "{paths:?}");
    let mut prefixes: std::collections::BTreeSet<String> = paths
        .iter()
        .flat_map(|p| (0..=p.len()).map(move |n| p[..n].to_string()))
        .collect();
    for odd in [
        "'",
        "1' OR '1'='1",
        "%",
        "_",
        "\\",
        "1.\u{10ffff}",
        "\u{10ffff}",
        "/",
    ] {
        prefixes.insert(odd.to_string());
    }
    let mut nonempty = 0;
    for prefix in &prefixes {
        let expected = paths
            .iter()
            .filter(|p| p.starts_with(prefix.as_str()))
            .count();
        nonempty += usize::from(expected > 0 && expected < paths.len());
        assert_eq!(
            count_units(&app, json!({ "path": { "startsWith": prefix } })).await,
            expected,
            "{prefix:?}"
        );
    }
    assert!(
        nonempty > 10,
        "{nonempty} proper subtrees among {prefixes:?}"
    );
}

/// What every `nodes` below selects: columns through a fragment, an inline
/// fragment, aliases, a repeated key and `__typename`, and belongs-to
/// relations (two levels deep).
const PLAIN_SELECTION: &str = "...unit __typename label: name id ... on OrgUnit { path aliases } parent { id n: name parent { id } __typename } orgUnitType { name depth } id";
const UNIT_FRAGMENT: &str = "fragment unit on OrgUnit { id name uuid validationStatus location validated createdAt updatedAt parentId orgUnitTypeId }";

/// Removes `,"<key>":null` and `,"<key>":{...}` (a flat object) from a body.
fn strip_key(body: &str, key: &str) -> String {
    let needle = format!(",\"{key}\":");
    let mut out = body.to_string();
    while let Some(start) = out.find(&needle) {
        let rest = &out[start + needle.len()..];
        let len = if rest.starts_with("null") {
            4
        } else {
            rest.find('}').unwrap() + 1
        };
        out.replace_range(start..start + needle.len() + len, "");
    }
    out
}

/// A `nodes` list of columns and prefetched single relations is answered
/// from its rows without the per-field executor: the body is byte for byte
/// what the executor writes for the same selection (which it takes when a
/// connection is also selected), for a root page and for prefetched child
/// pages, and the metric counts the lists answered that way. JSON columns
/// (written from their text on the plain path, from their value by the
/// executor) hold numbers in several spellings, escapes and nesting.
async fn plain_node_lists_answer_as_the_executor_does(backend: Backend) {
    use sea_orm::ConnectionTrait as _;
    let Some((app, _tree)) = app_with_tree(backend).await else {
        return;
    };
    let db = app.db("iaso");
    for (rest, location, aliases) in [
        (
            0,
            r#"{"type": "Point", "coordinates": [29.3640, -1.50, 1e2, 12345678901234567890, 0.1]}"#,
            r#"["Kin\"dia", "é\u00e9\n", ""]"#,
        ),
        (
            1,
            // Not GeoJSON (no `type`): written as stored by both paths.
            r#"{"z": {"b": [true, null, {"c": -0.0}]}, "a": 1.5e300, "m": "x\/y"}"#,
            "[]",
        ),
    ] {
        db.execute_unprepared(&format!(
            "UPDATE org_unit SET location = '{location}', aliases = '{aliases}' WHERE id % 3 = {rest}"
        ))
        .await
        .unwrap();
    }
    let root = |extra: &str| {
        format!(
            "{{ orgUnits(first: 40, orderBy: [{{ field: PATH }}]) {{ totalCount nodes {{ {PLAIN_SELECTION} {extra} }} }} }} {UNIT_FRAGMENT}"
        )
    };
    let nested = |extra: &str| {
        format!(
            "{{ orgUnits(first: 8, orderBy: [{{ field: PATH }}]) {{ nodes {{ id kids: children(first: 4, orderBy: [{{ field: NAME, direction: DESC }}]) {{ pageInfo {{ hasNextPage }} nodes {{ {PLAIN_SELECTION} {extra} }} }} }} }} }} {UNIT_FRAGMENT}"
        )
    };
    // Pages under the rows that ask only for `nodes`: the rows' list holds
    // them, one list in all.
    let pages_inside = |extra: &str| {
        format!(
            "{{ orgUnits(first: 8, orderBy: [{{ field: PATH }}]) {{ nodes {{ id kids: children(first: 4, orderBy: [{{ field: NAME, direction: DESC }}]) {{ nodes {{ {PLAIN_SELECTION} {extra} }} }} }} }} }} {UNIT_FRAGMENT}"
        )
    };
    // A connection inside the rows: the executor answers those lists.
    let connection = "zz: children(first: 1) { totalCount }";
    for (query, plain_lists) in [
        (&root as &dyn Fn(&str) -> String, 1),
        (&nested, 8),
        (&pages_inside, 1),
    ] {
        let before = app.metric("gateway_plain_node_lists_total", "iaso").await;
        let plain = app.graphql_text("iaso", &query(""), json!({})).await;
        // Again: the text's parse is now cached, and must be read as well.
        let again = app.graphql_text("iaso", &query(""), json!({})).await;
        assert_eq!(plain, again);
        let after = app.metric("gateway_plain_node_lists_total", "iaso").await;
        assert_eq!(after - before, 2 * plain_lists, "{plain}");
        let executed = app
            .graphql_text("iaso", &query(connection), json!({}))
            .await;
        assert_eq!(
            app.metric("gateway_plain_node_lists_total", "iaso").await,
            after,
            "a selection with a connection takes the executor"
        );
        assert!(executed.contains("\"zz\":{\"totalCount\":"), "{executed}");
        assert!(!plain.contains("errors"), "{plain}");
        assert!(!executed.contains("errors"), "{executed}");
        assert_eq!(plain, strip_key(&executed, "zz"));
        assert!(plain.contains("\"__typename\":\"OrgUnit\""), "{plain}");
        assert!(plain.contains("\"validationStatus\":\"VALID\""), "{plain}");
        assert!(
            plain.contains("\"orgUnitType\":{\"name\":\"District\""),
            "{plain}"
        );
        assert!(plain.contains("\"n\":\"Country\""), "{plain}");
        // The JSON columns, compact, as the executor writes their values.
        // (PostgreSQL's jsonb keeps `1e2` as 100, SQLite's text as 1e2.)
        assert!(
            plain.contains("\"location\":{\"type\":\"Point\",\"coordinates\":[29.364,-1.5,100")
                && plain.contains(",12345678901234567890,0.1]}"),
            "{plain}"
        );
        assert!(
            plain.contains("\"aliases\":[\"Kin\\\"dia\",\"éé\\n\",\"\"]"),
            "{plain}"
        );
        assert!(plain.contains("\"a\":1.5e+300"), "{plain}");
        assert!(plain.contains("\"aliases\":[]"), "{plain}");
    }
    // A relation's key given twice: the executor merges both selections,
    // and so the list is left to it.
    let before = app.metric("gateway_plain_node_lists_total", "iaso").await;
    let twice = app
        .graphql_text(
            "iaso",
            "{ orgUnits(first: 3, orderBy: [{ field: PATH }]) { nodes { id parent { id } parent { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        app.metric("gateway_plain_node_lists_total", "iaso").await,
        before,
        "{twice}"
    );
    assert!(twice.contains("\"parent\":{\"id\":"), "{twice}");
    assert!(twice.contains(",\"name\":"), "{twice}");
    // A connection given twice, under rows the executor answers or at the
    // root: the executor merges both `nodes` selections, so neither is a
    // plain list (the first one's placeholder would win the merge).
    for (query, rows) in [
        (
            "{ orgUnits(first: 3, orderBy: [{ field: PATH }]) { nodes { id kids: children(first: 2) { totalCount nodes { id } } kids: children(first: 2) { nodes { name } } } } }",
            "/data/orgUnits/nodes/0/kids/nodes",
        ),
        (
            "{ a: orgUnits(first: 3) { nodes { id } } ...more } fragment more on Query { a: orgUnits(first: 3) { nodes { name } } }",
            "/data/a/nodes",
        ),
        (
            "{ orgUnits(first: 3) { nodes { id } nodes { name } } }",
            "/data/orgUnits/nodes",
        ),
    ] {
        let merged = app.graphql_text("iaso", query, json!({})).await;
        assert_eq!(
            app.metric("gateway_plain_node_lists_total", "iaso").await,
            before,
            "{merged}"
        );
        let answer: Value = serde_json::from_str(&merged).unwrap();
        let rows = answer.pointer(rows).and_then(|r| r.as_array()).unwrap();
        assert!(rows.len() >= 2, "{merged}");
        for row in rows {
            assert!(
                row.get("id").is_some() && row.get("name").is_some(),
                "{merged}"
            );
        }
        assert!(answer.get("errors").is_none(), "{merged}");
    }
}

on_both_backends!(
    belongs_to_relations_join_the_statement_of_their_rows,
    plain_node_lists_answer_as_the_executor_does,
    text_filters_match_literally,
    path_prefixes_select_exactly_their_subtrees,
    nested_query_costs_one_statement_per_level,
    pages_forward_and_backward,
    filters,
    relations_of_every_kind,
    limits_refuse_before_any_sql,
    cursors_are_stable_under_inserts,
    bad_input_gets_a_coded_error,
);

/// A column whose stored type is not the one the model reads is refused
/// with a coded error, even when the result's first row holds null there:
/// the rows after the first are read without checking each value's type,
/// so the first row checks its columns' types, not its values'.
#[tokio::test]
async fn a_column_of_another_type_is_refused_even_behind_a_null() {
    use sea_orm::ConnectionTrait as _;
    let Some((app, _)) = app_with_tree(Backend::Postgres).await else {
        return;
    };
    let db = app.db("iaso");
    // The first org unit by id keeps a null; every other gets a text, then
    // the column becomes bytes (the same bytes: read as text, they would
    // pass for it).
    for sql in [
        "UPDATE org_unit SET source_ref = 'ref-' || id WHERE id > (SELECT MIN(id) FROM org_unit)",
        "UPDATE org_unit SET source_ref = NULL WHERE id = (SELECT MIN(id) FROM org_unit)",
        "ALTER TABLE org_unit ALTER COLUMN source_ref TYPE bytea USING convert_to(source_ref, 'UTF8')",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    let response = app
        .graphql(
            "iaso",
            "{ orgUnits(first: 5, orderBy: [{ field: ID }]) { nodes { id sourceRef } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "INTERNAL",
        "{response}"
    );
    assert_eq!(response["errors"][0]["message"], "internal error");
    assert_eq!(response["data"], Value::Null, "{response}");
}
