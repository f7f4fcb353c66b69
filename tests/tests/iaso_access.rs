#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Iaso's access rules on the demo data, through HTTP: a profile's org
//! units restrict what its user sees, `iaso_org_units_read` alone is
//! read-only, a read-only data source refuses writes, secrets cannot be
//! filtered on, and `login` checks passwords and locks out repeated
//! failures.

use gateway::demo::DEMO_PASSWORD;
use gateway_tests::{Backend, TestApp, on_both_backends, rows, token};
use serde_json::{Value, json};

async fn login(app: &TestApp, domain: &str, username: &str, password: &str) -> Value {
    app.graphql_as(
        domain,
        None,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token subject tenant roles expiresIn } }",
        json!({ "u": username, "p": password }),
    )
    .await
}

/// The token of account 1's admin (demo data).
async fn account_admin(app: &TestApp) -> String {
    let body = login(app, "iaso", "avalon.admin", DEMO_PASSWORD).await;
    assert_eq!(body["data"]["login"]["tenant"], "1", "{body}");
    body["data"]["login"]["token"].as_str().unwrap().to_string()
}

/// The ids of an account's source versions, as SQL.
fn account_versions(account: i64) -> String {
    format!(
        "SELECT sv.id FROM source_version sv WHERE sv.data_source_id IN \
         (SELECT j.data_source_id FROM data_source_projects j JOIN project p ON p.id = j.project_id \
         WHERE p.account_id = {account})"
    )
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

async fn data_as(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let body = app.graphql_as("iaso", Some(token), query, vars).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// The ids of the org units (or instances) a query lists.
fn ids(data: &Value, list: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = data[list]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

async fn profile_org_units_restrict_the_pyramid(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["iaso"]).await else {
        return;
    };
    let body = login(&app, "iaso", "avalon.agent", DEMO_PASSWORD).await;
    assert!(body.get("errors").is_none(), "{body}");
    let agent = body["data"]["login"]["token"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["login"]["tenant"], "1");
    assert_eq!(body["data"]["login"]["roles"], json!(["agent"]));
    let agent_id = body["data"]["login"]["subject"]
        .as_str()
        .unwrap()
        .to_string();

    // The agent's root, as the operator sees it.
    let root = app
        .data(
            "iaso",
            "query($u: String!) { users(filter: { username: { eq: $u } }) { nodes { id } } }",
            json!({ "u": "avalon.agent" }),
        )
        .await;
    assert_eq!(root["users"]["nodes"][0]["id"].to_string(), agent_id);
    let profile = app
        .data(
            "iaso",
            "query($u: Int!) { profiles(filter: { userId: { eq: $u } }) { nodes { orgUnits { nodes { id path parentId } } } } }",
            json!({ "u": agent_id.parse::<i64>().unwrap() }),
        )
        .await;
    let region = profile["profiles"]["nodes"][0]["orgUnits"]["nodes"][0].clone();
    let path = region["path"].as_str().unwrap().to_string();
    let under = json!({ "or": [ { "path": { "eq": path } }, { "path": { "startsWith": format!("{path}.") } } ] });

    let all_units = app
        .data(
            "iaso",
            "{ orgUnits(first: 10000) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    let expected_units = app
        .data(
            "iaso",
            "query($f: OrgUnitFilter) { orgUnits(first: 10000, filter: $f) { totalCount nodes { id } } }",
            json!({ "f": under }),
        )
        .await;
    let seen = data_as(
        &app,
        &agent,
        "{ orgUnits(first: 10000) { totalCount nodes { id path } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids(&seen, "orgUnits"), ids(&expected_units, "orgUnits"));
    assert_eq!(
        seen["orgUnits"]["totalCount"],
        expected_units["orgUnits"]["totalCount"]
    );
    assert!(ids(&seen, "orgUnits").len() < ids(&all_units, "orgUnits").len());
    // Above the root: not there, by id or through the parent relation.
    let parent = region["parentId"].as_i64().unwrap();
    let above = data_as(
        &app,
        &agent,
        "query($id: Int!) { orgUnit(id: $id) { id } }",
        json!({ "id": parent }),
    )
    .await;
    assert!(above["orgUnit"].is_null(), "{above}");
    let region_seen = data_as(
        &app,
        &agent,
        "query($id: Int!) { orgUnit(id: $id) { id parent { id } } }",
        json!({ "id": region["id"] }),
    )
    .await;
    assert_eq!(region_seen["orgUnit"]["id"], region["id"]);
    assert!(region_seen["orgUnit"]["parent"].is_null(), "{region_seen}");
    // The same when the parent and its own parent are joined into the
    // statement of a page of children.
    let chain = "query($id: Int!) { orgUnit(id: $id) { children(first: 1) { nodes { parent { id parent { id } } } } } }";
    let parent_of = |data: &Value| data["orgUnit"]["children"]["nodes"][0]["parent"].clone();
    let joined = data_as(&app, &agent, chain, json!({ "id": region["id"] })).await;
    assert_eq!(parent_of(&joined)["id"], region["id"], "{joined}");
    assert!(parent_of(&joined)["parent"].is_null(), "{joined}");
    let operator = app.data("iaso", chain, json!({ "id": region["id"] })).await;
    assert_eq!(parent_of(&operator)["parent"]["id"], parent, "{operator}");

    // Submissions: only those of the subtree.
    let inst_filter = json!({ "orgUnit": under });
    let expected_instances = app
        .data(
            "iaso",
            "query($f: InstanceFilter) { instances(first: 10000, filter: $f) { totalCount nodes { id } } }",
            json!({ "f": inst_filter }),
        )
        .await;
    let all_instances = app
        .data(
            "iaso",
            "{ instances(first: 10000) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    let seen = data_as(
        &app,
        &agent,
        "{ instances(first: 10000) { totalCount nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ids(&seen, "instances"),
        ids(&expected_instances, "instances")
    );
    assert!(!ids(&seen, "instances").is_empty());
    assert!(ids(&seen, "instances").len() < ids(&all_instances, "instances").len());

    // A superuser of the account sees the whole pyramid, but submissions
    // stay restricted to its profile's subtrees.
    let superuser = token("iaso", Some(&agent_id), Some("1"), &["superuser"]);
    let account_units = app
        .data(
            "iaso",
            "{ orgUnits(first: 10000, filter: { version: { dataSource: { name: { startsWith: \"\" } } } }) { totalCount } }",
            json!({}),
        )
        .await;
    let seen = data_as(
        &app,
        &superuser,
        "{ orgUnits(first: 10000) { totalCount } instances(first: 10000) { totalCount } }",
        json!({}),
    )
    .await;
    assert!(
        seen["orgUnits"]["totalCount"].as_u64().unwrap()
            > expected_units["orgUnits"]["totalCount"].as_u64().unwrap()
    );
    assert!(
        seen["orgUnits"]["totalCount"].as_u64().unwrap()
            < account_units["orgUnits"]["totalCount"].as_u64().unwrap()
    );
    assert_eq!(
        seen["instances"]["totalCount"],
        expected_instances["instances"]["totalCount"]
    );

    // Writing outside the subtree: the parent is out of reach.
    let agent_writer = token(
        "iaso",
        Some(&agent_id),
        Some("1"),
        &["agent", "iaso_org_units"],
    );
    let body = app
        .graphql_as(
            "iaso",
            Some(&agent_writer),
            "mutation($p: Int!, $v: Int!) { createOrgUnit(input: { name: \"Outside\", parentId: $p, versionId: $v }) { id } }",
            json!({ "p": parent, "v": 1 }),
        )
        .await;
    assert!(
        matches!(code(&body), "BAD_USER_INPUT" | "FORBIDDEN"),
        "{body}"
    );
    let after = app
        .data(
            "iaso",
            "{ orgUnits(first: 10000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        after["orgUnits"]["totalCount"],
        all_units["orgUnits"]["totalCount"]
    );
}

async fn read_only_permission_and_read_only_sources(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["iaso"]).await else {
        return;
    };
    let reader = token("iaso", None, Some("1"), &["iaso_org_units_read"]);
    let writer = token(
        "iaso",
        None,
        Some("1"),
        &["iaso_org_units", "iaso_write_sources"],
    );
    let unit = data_as(&app, &reader, "{ orgUnits(first: 1, orderBy: [{ field: ID }]) { nodes { id name version { dataSource { id } } } } }", json!({})).await;
    let unit = unit["orgUnits"]["nodes"][0].clone();
    let id = unit["id"].clone();
    let rename =
        "mutation($id: Int!, $n: String!) { updateOrgUnit(id: $id, input: { name: $n }) { name } }";
    // Read, but not write.
    let body = app
        .graphql_as(
            "iaso",
            Some(&reader),
            rename,
            json!({ "id": id, "n": "Renamed" }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("iaso_org_units")
    );
    let body = app
        .graphql_as(
            "iaso",
            Some(&writer),
            rename,
            json!({ "id": id, "n": "Renamed" }),
        )
        .await;
    assert_eq!(body["data"]["updateOrgUnit"]["name"], "Renamed", "{body}");

    // The data source turns read-only: its org units refuse every write.
    let source = unit["version"]["dataSource"]["id"].clone();
    let freeze = "mutation($id: Int!, $ro: Boolean!) { updateDataSource(id: $id, input: { readOnly: $ro }) { readOnly } }";
    data_as(&app, &writer, freeze, json!({ "id": source, "ro": true })).await;
    let body = app
        .graphql_as(
            "iaso",
            Some(&writer),
            rename,
            json!({ "id": id, "n": "Again" }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    let body = app
        .graphql_as(
            "iaso",
            Some(&writer),
            "mutation($id: Int!) { deleteOrgUnit(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let still = data_as(
        &app,
        &reader,
        "query($id: Int!) { orgUnit(id: $id) { name } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(still["orgUnit"]["name"], "Renamed");
    data_as(&app, &writer, freeze, json!({ "id": source, "ro": false })).await;
    let body = app
        .graphql_as(
            "iaso",
            Some(&writer),
            rename,
            json!({ "id": id, "n": "Again" }),
        )
        .await;
    assert_eq!(body["data"]["updateOrgUnit"]["name"], "Again", "{body}");

    // Secrets: not a filter, not a field.
    for query in [
        "{ users(filter: { password: { eq: \"x\" } }) { totalCount } }",
        "{ externalCredentialsList(filter: { password: { startsWith: \"d\" } }) { totalCount } }",
        "{ users { nodes { password } } }",
    ] {
        let body = app.graphql("iaso", query, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{query}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
}

async fn login_and_lockout(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["iaso", "telemetry", "placeos"]).await
    else {
        return;
    };
    // A good password gives a working token.
    let body = login(&app, "iaso", "borduria.admin", DEMO_PASSWORD).await;
    let admin = body["data"]["login"]["token"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["login"]["tenant"], "2");
    assert_eq!(body["data"]["login"]["expiresIn"], 3600);
    let seen = data_as(
        &app,
        &admin,
        "{ accounts { nodes { id } } projects { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(seen["accounts"]["nodes"], json!([{ "id": 2 }]));

    // Five failures, each refused alike (unknown accounts too) ...
    for (i, (user, password)) in [
        ("avalon.manager", "wrong"),
        ("avalon.manager", ""),
        ("nobody", "wrong"),
        ("avalon.manager", "gateway-dem0"),
        ("avalon.manager", "GATEWAY-DEMO"),
        ("avalon.manager", "wrong again"),
    ]
    .iter()
    .enumerate()
    {
        let body = login(&app, "iaso", user, password).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "attempt {i}: {body}");
        assert!(body["data"].is_null());
    }
    // ... lock the account out from this address, even with its password.
    let body = login(&app, "iaso", "avalon.manager", DEMO_PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("try again")
    );
    // Other accounts are not locked.
    let body = login(&app, "iaso", "avalon.admin", DEMO_PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");

    // Telemetry and PlaceOS accounts log in with their role flags.
    let body = login(
        &app,
        "telemetry",
        "h.vale@avalonwater.example",
        DEMO_PASSWORD,
    )
    .await;
    assert_eq!(
        body["data"]["login"]["roles"],
        json!(["customer"]),
        "{body}"
    );
    assert!(body["data"]["login"]["tenant"].is_string());
    let body = login(&app, "telemetry", "ops@telemetry.example", DEMO_PASSWORD).await;
    assert_eq!(
        body["data"]["login"]["roles"],
        json!(["superuser"]),
        "{body}"
    );
    let placeos_admin = app
        .data(
            "placeos",
            "{ users(filter: { sysAdmin: { eq: true } }, first: 1) { nodes { email authorityId } } }",
            json!({}),
        )
        .await;
    let user = &placeos_admin["users"]["nodes"][0];
    let body = login(
        &app,
        "placeos",
        user["email"].as_str().unwrap(),
        DEMO_PASSWORD,
    )
    .await;
    assert_eq!(body["data"]["login"]["roles"], json!(["admin"]), "{body}");
    assert_eq!(body["data"]["login"]["tenant"], user["authorityId"]);
}

/// A root list of org units, whose account is four steps away
/// (`version.dataSource.projects.account`), reads the account's versions
/// once per request and then lists exactly the rows of the nested scope.
/// With more versions than it lists, it keeps the nested scope and stops
/// reading them.
async fn account_scope_is_resolved_once_per_request(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["iaso"]).await else {
        return;
    };
    let admin = account_admin(&app).await;
    let db = app.db("iaso");
    let expected: Vec<i64> = rows(
        db,
        &format!(
            "SELECT id FROM org_unit WHERE version_id IN ({}) ORDER BY id",
            account_versions(1)
        ),
    )
    .await
    .iter()
    .map(|r| r["id"].as_i64().unwrap())
    .collect();
    let all = rows(db, "SELECT id FROM org_unit").await.len();
    assert!(!expected.is_empty() && expected.len() < all, "{all}");

    let query = "{ orgUnits(first: 1000, orderBy: [{ field: NAME }]) { totalCount nodes { id } } }";
    let mut costs = Vec::new();
    let list = |seen: Value, costs: &mut Vec<u64>, cost: u64| {
        assert_eq!(ids(&seen, "orgUnits"), expected);
        assert_eq!(seen["orgUnits"]["totalCount"], json!(expected.len()));
        costs.push(cost);
    };
    for _ in 0..2 {
        let before = app.statements("iaso");
        let seen = data_as(&app, &admin, query, json!({})).await;
        list(seen, &mut costs, app.statements("iaso") - before);
    }
    // The profile's org-unit roots, the account's versions, page, count:
    // the page and the count share one read of the versions, and the next
    // request finds both lookups kept from the first.
    assert_eq!(costs, [4, 2], "statements per request");

    // 101 more versions for the account: too many to list.
    let source = rows(
        db,
        "SELECT j.data_source_id AS d FROM data_source_projects j JOIN project p ON p.id = j.project_id WHERE p.account_id = 1 ORDER BY 1",
    )
    .await[0]["d"]
        .as_i64()
        .unwrap();
    let inputs: Vec<Value> = (0..101)
        .map(|i| json!({ "number": 5000 + i, "dataSourceId": source }))
        .collect();
    let made = app
        .data(
            "iaso",
            "mutation($i: [CreateSourceVersionInput!]!) { createSourceVersions(inputs: $i) { id } }",
            json!({ "i": inputs }),
        )
        .await;
    assert_eq!(made["createSourceVersions"].as_array().unwrap().len(), 101);
    costs.clear();
    for _ in 0..2 {
        let before = app.statements("iaso");
        let seen = data_as(&app, &admin, query, json!({})).await;
        list(seen, &mut costs, app.statements("iaso") - before);
    }
    // Writing versions dropped the kept versions (not the roots): the
    // first request finds them too many and keeps the nested scope; the
    // next ones do not read them again.
    assert_eq!(
        costs,
        [3, 2],
        "statements per request with 101 more versions"
    );

    // Two steps away (`project.account`): submissions are scoped by the
    // account's project ids, read once for the page and the count.
    let expected: Vec<i64> = rows(
        db,
        "SELECT id FROM instance WHERE NOT deleted AND project_id IN \
         (SELECT id FROM project WHERE account_id = 1) ORDER BY id",
    )
    .await
    .iter()
    .map(|r| r["id"].as_i64().unwrap())
    .collect();
    let all = rows(db, "SELECT id FROM instance WHERE NOT deleted")
        .await
        .len();
    assert!(!expected.is_empty() && expected.len() < all, "{all}");
    let before = app.statements("iaso");
    let seen = data_as(
        &app,
        &admin,
        "{ instances(first: 1000) { totalCount nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        app.statements("iaso") - before,
        3,
        "projects, page, count (the roots were kept)"
    );
    assert_eq!(ids(&seen, "instances"), expected);
    assert_eq!(seen["instances"]["totalCount"], json!(expected.len()));
}

/// Rows joined into a page's statement keep to the caller's account, by
/// the account's keys read once and kept: an instance of account 1 that
/// names a unit of account 2 (inconsistent data, as a faulty import could
/// leave) reads its unit as null, and so does a unit's parent of the
/// other account; every other unit and parent is the database's own.
async fn joined_rows_keep_to_the_account(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["iaso"]).await else {
        return;
    };
    let admin = account_admin(&app).await;
    let db = app.db("iaso");
    let units_of = |account: i64| {
        format!(
            "SELECT o.id FROM org_unit o WHERE o.version_id IN ({})",
            account_versions(account)
        )
    };
    let foreign = rows(db, &format!("{} ORDER BY o.id LIMIT 1", units_of(2))).await[0]["id"]
        .as_i64()
        .unwrap();
    let ours = "SELECT i.id, i.org_unit_id FROM instance i JOIN project p ON p.id = i.project_id \
        WHERE p.account_id = 1 AND NOT i.deleted AND i.org_unit_id IS NOT NULL ORDER BY i.id";
    let instances = rows(db, ours).await;
    assert!(instances.len() > 2, "{instances:?}");
    // One instance names the other account's unit; the unit of another
    // has its parent there.
    let strayed = instances[0]["id"].as_i64().unwrap();
    let orphaned = instances[1]["org_unit_id"].as_i64().unwrap();
    rows(
        db,
        &format!("UPDATE instance SET org_unit_id = {foreign} WHERE id = {strayed}"),
    )
    .await;
    rows(
        db,
        &format!("UPDATE org_unit SET parent_id = {foreign} WHERE id = {orphaned}"),
    )
    .await;
    let account_units: std::collections::HashSet<i64> = rows(db, &units_of(1))
        .await
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let parents: std::collections::HashMap<i64, Option<i64>> =
        rows(db, "SELECT id, parent_id FROM org_unit")
            .await
            .iter()
            .map(|r| (r["id"].as_i64().unwrap(), r["parent_id"].as_i64()))
            .collect();
    let expected: std::collections::HashMap<i64, Option<i64>> = rows(db, ours)
        .await
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r["org_unit_id"].as_i64()))
        .collect();

    // Every instance of the account, with its unit and the unit's parent
    // as the account may see them.
    let check = |nodes: Vec<&Value>| {
        let mut seen = 0;
        for node in nodes {
            let id = node["id"].as_i64().unwrap();
            let unit = &node["orgUnit"];
            let Some(&Some(named)) = expected.get(&id) else {
                assert!(unit.is_null(), "{node}");
                continue;
            };
            seen += 1;
            if !account_units.contains(&named) {
                assert_eq!(id, strayed);
                assert!(unit.is_null(), "another account's unit: {node}");
                continue;
            }
            assert_eq!(unit["id"], named, "{node}");
            match parents[&named] {
                Some(p) if account_units.contains(&p) => {
                    assert_eq!(unit["parent"]["id"], p, "{node}")
                }
                Some(p) => {
                    assert_eq!(p, foreign);
                    assert!(unit["parent"].is_null(), "another account's parent: {node}");
                }
                None => assert!(unit["parent"].is_null(), "{node}"),
            }
        }
        assert_eq!(seen, expected.len(), "every instance of the account");
    };

    // Paged under their forms.
    let query = "{ forms(first: 100) { nodes { instances(first: 1000) { nodes { id orgUnit { id parent { id } } } } } } }";
    let mut costs = Vec::new();
    for _ in 0..2 {
        let before = app.statements("iaso");
        let data = data_as(&app, &admin, query, json!({})).await;
        costs.push(app.statements("iaso") - before);
        check(
            data["forms"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| f["instances"]["nodes"].as_array().unwrap())
                .collect(),
        );
    }
    // The profile's roots, the forms, the account's projects (instances)
    // and versions (units), then the instances with their units and the
    // units' parents joined; the next request finds the lookups kept.
    assert_eq!(costs, [5, 2], "statements per request");

    // A root list: its page, then the units with their parents joined.
    let before = app.statements("iaso");
    let data = data_as(
        &app,
        &admin,
        "{ instances(first: 1000) { nodes { id orgUnit { id parent { id } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(app.statements("iaso") - before, 2, "two statements");
    check(
        data["instances"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .collect(),
    );
}

/// An agent's org-unit roots are read once and kept across requests until
/// a write through the gateway changes a table they come from: its root
/// moved under another unit, it sees its subtree at the new paths on its
/// very next request. With `GATEWAY_SCOPE_CACHE_SECONDS=0` every request
/// reads them again.
async fn scope_lookups_are_kept_until_a_write_changes_them(backend: Backend) {
    for seconds in [60, 0] {
        let Some(app) = TestApp::spawn_with(backend, &["iaso"], |c| {
            c.demo_data = Some(true);
            c.scope_cache_seconds = seconds;
        })
        .await
        else {
            return;
        };
        let body = login(&app, "iaso", "avalon.agent", DEMO_PASSWORD).await;
        let agent = body["data"]["login"]["token"].as_str().unwrap().to_string();
        let agent_id: i64 = body["data"]["login"]["subject"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let profile = app
            .data(
                "iaso",
                "query($u: Int!) { profiles(filter: { userId: { eq: $u } }) { nodes { orgUnits { nodes { id path versionId } } } } }",
                json!({ "u": agent_id }),
            )
            .await;
        let root = profile["profiles"]["nodes"][0]["orgUnits"]["nodes"][0].clone();
        let path = root["path"].as_str().unwrap().to_string();

        let query = "{ orgUnits(first: 10000) { totalCount nodes { id path } } }";
        let mut costs = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let before = app.statements("iaso");
            let data = data_as(&app, &agent, query, json!({})).await;
            costs.push(app.statements("iaso") - before);
            seen.push(ids(&data, "orgUnits"));
        }
        assert!(!seen[0].is_empty());
        assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
        // Roots, versions, page, count; then page and count.
        let expected = if seconds == 0 { [4, 4, 4] } else { [4, 2, 2] };
        assert_eq!(costs, expected, "{seconds} s: statements per request");

        // The root moves under a unit outside its subtree: every path
        // below it is rewritten.
        let others = app
            .data(
                "iaso",
                "query($v: Int!) { orgUnits(first: 10000, filter: { versionId: { eq: $v } }) { nodes { id path } } }",
                json!({ "v": root["versionId"] }),
            )
            .await;
        let outside = others["orgUnits"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| {
                let p = u["path"].as_str().unwrap();
                p != path
                    && !p.starts_with(&format!("{path}."))
                    && !path.starts_with(&format!("{p}."))
            })
            .unwrap()
            .clone();
        let moved = app
            .data(
                "iaso",
                "mutation($id: Int!, $to: Int!) { updateOrgUnit(id: $id, input: { parentId: $to }) { path } }",
                json!({ "id": root["id"], "to": outside["id"] }),
            )
            .await;
        let new_path = moved["updateOrgUnit"]["path"].as_str().unwrap();
        assert_ne!(new_path, path);

        let before = app.statements("iaso");
        let data = data_as(&app, &agent, query, json!({})).await;
        // The roots are read again; the versions were kept.
        let expected = if seconds == 0 { 4 } else { 3 };
        assert_eq!(app.statements("iaso") - before, expected, "{seconds} s");
        assert_eq!(
            ids(&data, "orgUnits"),
            seen[0],
            "{seconds} s: the subtree after the move"
        );
        for unit in data["orgUnits"]["nodes"].as_array().unwrap() {
            let p = unit["path"].as_str().unwrap();
            assert!(
                p == new_path || p.starts_with(&format!("{new_path}.")),
                "{p}"
            );
        }
    }
}

/// A mobile upload of submissions, as the account's admin (who is recorded
/// as their creator and last modifier): its statements do not grow with the
/// batch, and every row lands once.
async fn an_upload_costs_the_same_statements_whatever_its_size(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &["iaso"], |c| {
        c.demo_data = Some(true);
        c.scope_cache_seconds = 60;
    })
    .await
    else {
        return;
    };
    let admin = account_admin(&app).await;
    let found = rows(
        app.db("iaso"),
        &format!(
            "SELECT i.form_id AS form, i.project_id AS project, i.org_unit_id AS unit FROM instance i \
             JOIN org_unit o ON o.id = i.org_unit_id WHERE o.version_id IN ({}) ORDER BY i.id LIMIT 1",
            account_versions(1)
        ),
    )
    .await;
    let (form, project, unit) = (&found[0]["form"], &found[0]["project"], &found[0]["unit"]);
    let upload = "mutation($i: [CreateInstanceInput!]!) { createInstances(inputs: $i) { id createdBy { id } } }";
    // The first upload also reads the caller's scope, kept a minute here.
    let mut costs = Vec::new();
    for n in [1, 5, 50] {
        let inputs: Vec<Value> = (0..n)
            .map(|i| json!({ "uuid": format!("upload-{n}-{i}"), "formId": form, "projectId": project, "orgUnitId": unit, "period": "202611" }))
            .collect();
        let before = app.statements("iaso");
        let data = data_as(&app, &admin, upload, json!({ "i": inputs })).await;
        costs.push(app.statements("iaso") - before);
        let created = data["createInstances"].as_array().unwrap();
        assert_eq!(created.len(), n);
        assert!(created.iter().all(|c| !c["createdBy"]["id"].is_null()));
        let stored = rows(
            app.db("iaso"),
            &format!("SELECT COUNT(*) || '' AS n FROM instance WHERE uuid LIKE 'upload-{n}-%'"),
        )
        .await;
        assert_eq!(stored[0]["n"], n.to_string());
    }
    // One key check per referenced entity (the user, for both audit
    // columns; the unit, the form, the project), the INSERT, the scope
    // check of the written rows; then the payload: the rows and their
    // creator.
    println!("{backend:?}: uploads of 1, 5 and 50 cost {costs:?} statements");
    assert_eq!(costs[1..], [8, 8], "statements per upload of 5 and 50");
}

on_both_backends!(
    an_upload_costs_the_same_statements_whatever_its_size,
    scope_lookups_are_kept_until_a_write_changes_them,
    account_scope_is_resolved_once_per_request,
    joined_rows_keep_to_the_account,
    profile_org_units_restrict_the_pyramid,
    read_only_permission_and_read_only_sources,
    login_and_lockout
);
