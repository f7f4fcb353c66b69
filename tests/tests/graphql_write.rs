//! The write engine over HTTP, on SQLite and PostgreSQL: create, update,
//! delete and upsert in every domain; batches are all or nothing; each
//! error has its code and field; soft delete and restore; optimistic
//! concurrency; write-only secrets; the org-unit tree kept on re-parenting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use gateway_tests::fixtures::{Tree, iaso_tree};
use gateway_tests::{Backend, TestApp, count, on_both_backends, rows};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn error(body: &Value) -> &Value {
    assert!(body["errors"].is_array(), "expected an error: {body}");
    &body["errors"][0]
}

fn assert_error(body: &Value, code: &str, field: Option<&str>) {
    let e = error(body);
    assert_eq!(e["extensions"]["code"], code, "{body}");
    if let Some(field) = field {
        assert_eq!(e["extensions"]["field"], field, "{body}");
    }
    let message = e["message"].as_str().unwrap();
    for leak in [
        "duplicate key",
        "UNIQUE constraint",
        "FOREIGN KEY",
        "violates",
        "SQLSTATE",
        "sqlx",
    ] {
        assert!(
            !message.contains(leak),
            "a database message leaked: {message}"
        );
    }
}

async fn iaso_crud(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 2, 2, 1).await;

    // Create, returning relations in the payload.
    let data = app
        .data(
            "iaso",
            "mutation($v: Int!, $p: Int!) { createOrgUnit(input: { name: \"Clinic\", versionId: $v, parentId: $p, aliases: [\"A\", \"B\"], location: { type: \"Point\", coordinates: [4.3, 50.8] } }) { id name path validationStatus aliases location parent { name } version { number } } }",
            json!({ "v": tree.version, "p": tree.regions[0] }),
        )
        .await;
    let unit = &data["createOrgUnit"];
    assert_eq!(
        unit["validationStatus"], "NEW",
        "the column default applies"
    );
    assert_eq!(unit["parent"]["name"], "Region 00");
    assert_eq!(unit["aliases"], json!(["A", "B"]));
    assert_eq!(unit["location"]["coordinates"], json!([4.3, 50.8]));
    let id = unit["id"].as_i64().unwrap();
    assert!(
        unit["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!(".{}.{id}", tree.regions[0]))
    );

    // Update sets only what is given; an explicit null clears.
    let data = app
        .data("iaso", "mutation($id: Int!) { updateOrgUnit(id: $id, input: { name: \"Clinic 2\", aliases: null }) { name aliases validationStatus } }", json!({ "id": id }))
        .await;
    assert_eq!(
        data["updateOrgUnit"],
        json!({ "name": "Clinic 2", "aliases": null, "validationStatus": "NEW" })
    );

    // Upsert on the instance uuid: a retried upload changes nothing twice.
    let upsert = "mutation($f: Int!, $p: Int!, $o: Int!, $period: String!) { upsertInstance(input: { uuid: \"dev-1\", formId: $f, projectId: $p, orgUnitId: $o, period: $period }, onConflict: UUID) { id period } }";
    let before = count(&app, "iaso", "instance").await;
    let first = app
        .data(
            "iaso",
            upsert,
            json!({ "f": tree.form, "p": tree.project, "o": id, "period": "202611" }),
        )
        .await;
    let again = app
        .data(
            "iaso",
            upsert,
            json!({ "f": tree.form, "p": tree.project, "o": id, "period": "202612" }),
        )
        .await;
    assert_eq!(first["upsertInstance"]["id"], again["upsertInstance"]["id"]);
    assert_eq!(again["upsertInstance"]["period"], "202612");
    assert_eq!(
        count(&app, "iaso", "instance").await,
        before + 1,
        "the retried upsert created a duplicate"
    );

    // A batch is written by one multi-row INSERT: key checks, the INSERT
    // and the read-back of the payload cost the same whatever its size, and
    // each item gets its own row back, in order.
    let batch = "mutation($i: [CreateInstanceInput!]!) { createInstances(inputs: $i) { id uuid period orgUnit { name } form { name } } }";
    let mut costs = Vec::new();
    for n in [10, 40] {
        let inputs: Vec<Value> = (0..n)
            .map(|i| json!({ "uuid": format!("b{n}-{i}"), "formId": tree.form, "projectId": tree.project, "orgUnitId": id, "period": format!("2026{:02}", i % 12 + 1) }))
            .collect();
        let before = app.statements("iaso");
        let data = app.data("iaso", batch, json!({ "i": inputs })).await;
        costs.push(app.statements("iaso") - before);
        let created = data["createInstances"].as_array().unwrap();
        assert_eq!(created.len(), n);
        for (i, row) in created.iter().enumerate() {
            assert_eq!(row["uuid"], format!("b{n}-{i}"), "item {i} got another row");
            assert_eq!(row["period"], format!("2026{:02}", i % 12 + 1));
        }
        assert_eq!(created[n - 1]["form"]["name"], "Census");
    }
    println!("{backend:?}: batches of 10 and 40 instances cost {costs:?} statements");
    assert_eq!(
        costs[0], costs[1],
        "the statements grew with the batch: {costs:?}"
    );

    // A retried batch upsert finds its rows: no duplicate, the same keys.
    let upsert_batch = "mutation($i: [CreateInstanceInput!]!) { upsertInstances(inputs: $i, onConflict: UUID) { id uuid period } }";
    let inputs: Vec<Value> = (0..20)
        .map(|i| json!({ "uuid": format!("u-{i}"), "formId": tree.form, "projectId": tree.project, "orgUnitId": id, "period": "202601" }))
        .collect();
    let first = app.data("iaso", upsert_batch, json!({ "i": inputs })).await;
    let stored = count(&app, "iaso", "instance").await;
    let retried: Vec<Value> = inputs
        .iter()
        .rev()
        .map(|i| {
            let mut i = i.clone();
            i["period"] = json!("202602");
            i
        })
        .collect();
    let again = app
        .data("iaso", upsert_batch, json!({ "i": retried }))
        .await;
    assert_eq!(
        count(&app, "iaso", "instance").await,
        stored,
        "the retried batch created rows"
    );
    for i in 0..20 {
        let a = &first["upsertInstances"][i];
        let b = &again["upsertInstances"][19 - i];
        assert_eq!((&a["id"], &a["uuid"]), (&b["id"], &b["uuid"]));
        assert_eq!(b["period"], "202602");
    }

    // Delete for good (org units have no soft delete) returns the row.
    let data = app
        .data(
            "iaso",
            "mutation($id: Int!) { deleteOrgUnit(id: $id) { id name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["deleteOrgUnit"]["name"], "Clinic 2");
    let body = app
        .graphql(
            "iaso",
            "mutation($id: Int!) { deleteOrgUnit(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_error(&body, "NOT_FOUND", None);
}

async fn soft_delete_and_restore(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 1, 1, 2).await;
    let forms = "{ forms { totalCount } all: forms(includeDeleted: true) { totalCount } }";
    assert_eq!(
        app.data("iaso", forms, json!({})).await,
        json!({ "forms": { "totalCount": 1 }, "all": { "totalCount": 1 } })
    );
    let deleted = app
        .data(
            "iaso",
            "mutation($id: Int!) { deleteForm(id: $id) { id deletedAt } }",
            json!({ "id": tree.form }),
        )
        .await;
    assert!(deleted["deleteForm"]["deletedAt"].is_string());
    assert_eq!(
        app.data("iaso", forms, json!({})).await,
        json!({ "forms": { "totalCount": 0 }, "all": { "totalCount": 1 } })
    );
    // Deleting again finds nothing to delete; updating a deleted row neither.
    let body = app
        .graphql(
            "iaso",
            "mutation($id: Int!) { deleteForm(id: $id) { id } }",
            json!({ "id": tree.form }),
        )
        .await;
    assert_error(&body, "NOT_FOUND", None);
    let body = app
        .graphql(
            "iaso",
            "mutation($id: Int!) { updateForm(id: $id, input: { name: \"x\" }) { id } }",
            json!({ "id": tree.form }),
        )
        .await;
    assert_error(&body, "NOT_FOUND", None);
    let restored = app
        .data(
            "iaso",
            "mutation($id: Int!) { restoreForm(id: $id) { id deletedAt } }",
            json!({ "id": tree.form }),
        )
        .await;
    assert_eq!(restored["restoreForm"]["deletedAt"], Value::Null);
    assert_eq!(
        app.data("iaso", forms, json!({})).await["forms"]["totalCount"],
        1
    );

    // Instance's soft delete is a flag; relations hide deleted rows too.
    let instances = "{ orgUnits(filter: { orgUnitType: { name: { eq: \"District\" } } }) { nodes { instances { totalCount } all: instances(includeDeleted: true) { totalCount } } } }";
    let first_id = rows(app.db("iaso"), "SELECT MIN(id) || '' AS id FROM instance").await[0]["id"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    app.data(
        "iaso",
        "mutation($id: Int!) { deleteInstance(id: $id) { id deleted } }",
        json!({ "id": first_id }),
    )
    .await;
    let data = app.data("iaso", instances, json!({})).await;
    assert_eq!(data["orgUnits"]["nodes"][0]["instances"]["totalCount"], 1);
    assert_eq!(data["orgUnits"]["nodes"][0]["all"]["totalCount"], 2);
}

async fn batches_are_all_or_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso", "opentalk"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 1, 1, 0).await;
    let before = count(&app, "iaso", "org_unit").await;
    let body = app
        .graphql(
            "iaso",
            "mutation($v: Int!) { createOrgUnits(inputs: [{ name: \"a\", versionId: $v }, { name: \"b\", versionId: $v }, { name: \"c\", versionId: 999999 }]) { id } }",
            json!({ "v": tree.version }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("inputs[2].versionId"));
    assert_eq!(
        count(&app, "iaso", "org_unit").await,
        before,
        "a failed batch wrote rows"
    );
    // A location that is not a GeoJSON object is refused, naming its item.
    for location in [
        json!({ "coordinates": [1, 2] }),
        json!([1, 2]),
        json!("POINT (1 2)"),
    ] {
        let body = app
            .graphql(
                "iaso",
                "mutation($v: Int!, $l: GeoJSON) { createOrgUnits(inputs: [{ name: \"a\", versionId: $v }, { name: \"b\", versionId: $v, location: $l }]) { id } }",
                json!({ "v": tree.version, "l": location }),
            )
            .await;
        assert_error(&body, "BAD_USER_INPUT", Some("inputs[1].location"));
        assert!(
            error(&body)["message"]
                .as_str()
                .unwrap()
                .contains("GeoJSON"),
            "{body}"
        );
    }
    assert_eq!(count(&app, "iaso", "org_unit").await, before);

    // A unique key taken inside the batch itself: CONFLICT, nothing written.
    let tenants = count(&app, "opentalk", "tenants").await;
    let body = app
        .graphql("opentalk", "mutation { createTenants(inputs: [{ oidcTenantId: \"acme\" }, { oidcTenantId: \"globex\" }, { oidcTenantId: \"acme\" }]) { id } }", json!({}))
        .await;
    assert_error(&body, "CONFLICT", Some("inputs[2].oidcTenantId"));
    assert_eq!(count(&app, "opentalk", "tenants").await, tenants);

    // Batches have a size limit.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({ "name": format!("u{i}"), "versionId": tree.version }))
        .collect();
    let body = app
        .graphql(
            "iaso",
            "mutation($i: [CreateOrgUnitInput!]!) { createOrgUnits(inputs: $i) { id } }",
            json!({ "i": many }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", None);
    assert!(error(&body)["message"].as_str().unwrap().contains("1000"));
}

async fn each_error_class(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso", "opentalk", "telemetry"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 1, 1, 0).await;
    // Types and enum values are checked by the schema.
    let body = app
        .graphql(
            "iaso",
            "mutation { createOrgUnit(input: { name: \"x\", versionId: \"one\" }) { id } }",
            json!({}),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", None);
    let body = app.graphql("iaso", "mutation($v: Int!) { createOrgUnit(input: { name: \"x\", versionId: $v, validationStatus: MAYBE }) { id } }", json!({ "v": tree.version })).await;
    assert_error(&body, "BAD_USER_INPUT", None);
    let body = app
        .graphql(
            "opentalk",
            "mutation { createTenant(input: { id: \"not-a-uuid\", oidcTenantId: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", None);
    // A foreign key pointing nowhere.
    let body = app
        .graphql(
            "iaso",
            "mutation { createOrgUnit(input: { name: \"x\", versionId: 424242 }) { id } }",
            json!({}),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("input.versionId"));
    // A unique key taken.
    app.data(
        "opentalk",
        "mutation { createTenant(input: { oidcTenantId: \"initech\" }) { id } }",
        json!({}),
    )
    .await;
    let body = app
        .graphql(
            "opentalk",
            "mutation { createTenant(input: { oidcTenantId: \"initech\" }) { id } }",
            json!({}),
        )
        .await;
    assert_error(&body, "CONFLICT", Some("input.oidcTenantId"));
    let body = app
        .graphql(
            "telemetry",
            "mutation { createDeviceSuppliers(inputs: [{ name: \"Acme\" }]) { id } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = app
        .graphql(
            "telemetry",
            "mutation { createDeviceSupplier(input: { name: \"Acme\" }) { id } }",
            json!({}),
        )
        .await;
    assert_error(&body, "CONFLICT", Some("input.name"));
    // Not null: clearing a required column.
    let body = app
        .graphql(
            "iaso",
            "mutation($id: Int!) { updateOrgUnit(id: $id, input: { name: null }) { id } }",
            json!({ "id": tree.country }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("input.name"));
    // Server-owned columns are not inputs.
    let body = app.graphql("iaso", "mutation($id: Int!) { updateOrgUnit(id: $id, input: { createdAt: \"2020-01-01T00:00:00Z\" }) { id } }", json!({ "id": tree.country })).await;
    assert_error(&body, "BAD_USER_INPUT", None);
}

async fn stale_updates_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 1, 1, 0).await;
    let read = app
        .data(
            "iaso",
            "query($id: Int!) { orgUnit(id: $id) { updatedAt } }",
            json!({ "id": tree.country }),
        )
        .await;
    let seen = read["orgUnit"]["updatedAt"].clone();
    let update = "mutation($id: Int!, $at: DateTime, $name: String!) { updateOrgUnit(id: $id, input: { name: $name }, expectedUpdatedAt: $at) { name updatedAt } }";
    // The first editor saves with what it read...
    let first = app
        .data(
            "iaso",
            update,
            json!({ "id": tree.country, "at": seen, "name": "First" }),
        )
        .await;
    assert_eq!(first["updateOrgUnit"]["name"], "First");
    // ...the second, holding the same stale value, is refused.
    let body = app
        .graphql(
            "iaso",
            update,
            json!({ "id": tree.country, "at": seen, "name": "Second" }),
        )
        .await;
    assert_error(&body, "CONFLICT", Some("expectedUpdatedAt"));
    let now = app
        .data(
            "iaso",
            "query($id: Int!) { orgUnit(id: $id) { name } }",
            json!({ "id": tree.country }),
        )
        .await;
    assert_eq!(now["orgUnit"]["name"], "First");
    // With the fresh value it goes through.
    let fresh = first["updateOrgUnit"]["updatedAt"].clone();
    let third = app
        .data(
            "iaso",
            update,
            json!({ "id": tree.country, "at": fresh, "name": "Third" }),
        )
        .await;
    assert_eq!(third["updateOrgUnit"]["name"], "Third");
}

async fn secrets_are_write_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso", "opentalk"]).await else {
        return;
    };
    let data = app
        .data("iaso", "mutation { createUser(input: { username: \"ada\", password: \"correct horse battery staple\" }) { id username } }", json!({}))
        .await;
    assert_eq!(data["createUser"]["username"], "ada");
    // Not in the payload type, not readable, and stored as an argon2 hash.
    let body = app
        .graphql("iaso", "{ users { nodes { password } } }", json!({}))
        .await;
    assert_error(&body, "BAD_USER_INPUT", None);
    let stored = rows(
        app.db("iaso"),
        "SELECT password FROM \"user\" WHERE username = 'ada'",
    )
    .await;
    let hash = stored[0]["password"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("correct horse"));
    // A secret that is not a login password is stored as given, and still
    // never read: a room's password.
    let tenant = app
        .data(
            "opentalk",
            "mutation { createTenant(input: { oidcTenantId: \"t\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(tenant["createTenant"]["id"].is_string());
    let body = app
        .graphql("opentalk", "{ rooms { nodes { password } } }", json!({}))
        .await;
    assert_error(&body, "BAD_USER_INPUT", None);
}

async fn every_domain_creates_updates_upserts_deletes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["opentalk", "placeos", "telemetry", "gans"]).await
    else {
        return;
    };
    // opentalk: tenants (uuid keys made by the server, unique OIDC id).
    let t = app
        .data(
            "opentalk",
            "mutation { createTenant(input: { oidcTenantId: \"a\" }) { id oidcTenantId } }",
            json!({}),
        )
        .await;
    let id = t["createTenant"]["id"].clone();
    let u = app.data("opentalk", "mutation($id: UUID!) { updateTenant(id: $id, input: { oidcTenantId: \"b\" }) { oidcTenantId } }", json!({ "id": id })).await;
    assert_eq!(u["updateTenant"]["oidcTenantId"], "b");
    let up = app.data("opentalk", "mutation { upsertTenant(input: { oidcTenantId: \"b\" }, onConflict: OIDC_TENANT_ID) { id } }", json!({})).await;
    assert_eq!(up["upsertTenant"]["id"], id);
    let d = app
        .data(
            "opentalk",
            "mutation($id: UUID!) { deleteTenant(id: $id) { oidcTenantId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(d["deleteTenant"]["oidcTenantId"], "b");

    // placeos: zones with string ids, given or generated; a tree by parent.
    let z = app.data("placeos", "mutation { createZone(input: { id: \"zone-org\", name: \"Org\", tags: [\"org\"] }) { id tags } }", json!({})).await;
    assert_eq!(z["createZone"]["tags"], json!(["org"]));
    let child = app.data("placeos", "mutation { createZone(input: { name: \"Building\", parentId: \"zone-org\", tags: [\"building\"] }) { id parent { name } } }", json!({})).await;
    assert_eq!(child["createZone"]["parent"]["name"], "Org");
    assert!(
        child["createZone"]["id"]
            .as_str()
            .unwrap()
            .starts_with("zone-")
    );
    let up = app.data("placeos", "mutation { upsertZone(input: { id: \"zone-org\", name: \"Organisation\" }) { id name tags } }", json!({})).await;
    assert_eq!(
        up["upsertZone"],
        json!({ "id": "zone-org", "name": "Organisation", "tags": ["org"] })
    );
    let body = app
        .graphql(
            "placeos",
            "mutation { deleteZone(id: \"zone-org\") { id } }",
            json!({}),
        )
        .await;
    assert!(
        body.get("errors").is_none(),
        "a nullable parent key is set to null: {body}"
    );

    // telemetry: suppliers, upserted on their unique name.
    let s = app.data("telemetry", "mutation { upsertDeviceSuppliers(inputs: [{ name: \"Acme\" }, { name: \"Globex\" }], onConflict: NAME) { id name } }", json!({})).await;
    assert_eq!(s["upsertDeviceSuppliers"].as_array().unwrap().len(), 2);
    let again = app.data("telemetry", "mutation { upsertDeviceSuppliers(inputs: [{ name: \"Acme\" }], onConflict: NAME) { id } }", json!({})).await;
    assert_eq!(
        again["upsertDeviceSuppliers"][0]["id"],
        s["upsertDeviceSuppliers"][0]["id"]
    );
    assert_eq!(count(&app, "telemetry", "devicesupplier").await, 2);
    let globex = s["upsertDeviceSuppliers"][1]["id"].clone();
    let renamed = app.data("telemetry", "mutation($id: Int!) { updateDeviceSupplier(id: $id, input: { name: \"Globex Corp\" }) { name } }", json!({ "id": globex })).await;
    assert_eq!(renamed["updateDeviceSupplier"]["name"], "Globex Corp");
    let gone = app
        .data(
            "telemetry",
            "mutation($id: Int!) { deleteDeviceSupplier(id: $id) { name } }",
            json!({ "id": globex }),
        )
        .await;
    assert_eq!(gone["deleteDeviceSupplier"]["name"], "Globex Corp");
    assert_eq!(count(&app, "telemetry", "devicesupplier").await, 1);

    // gans: chat users keyed by the platform's 64-bit id; credits.
    let user = app.data("gans", "mutation { upsertUser(input: { userId: \"5000000001\", userUsername: \"goose\" }) { userId userUsername } }", json!({})).await;
    assert_eq!(user["upsertUser"]["userId"], "5000000001");
    let credit = app.data("gans", "mutation { createCredit(input: { startPrice: 5 }) { creditId amountOfStickers allowedDuration } }", json!({})).await;
    assert_eq!(credit["createCredit"]["amountOfStickers"], 1);
    assert_eq!(credit["createCredit"]["allowedDuration"], 60);
    let id = credit["createCredit"]["creditId"].clone();
    let updated = app.data("gans", "mutation($id: Int!) { updateCredit(creditId: $id, input: { amountOfStickers: 3 }) { amountOfStickers } }", json!({ "id": id })).await;
    assert_eq!(updated["updateCredit"]["amountOfStickers"], 3);
    let deleted = app
        .data(
            "gans",
            "mutation($id: Int!) { deleteCredit(creditId: $id) { creditId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["deleteCredit"]["creditId"], id);
}

/// Moving a subtree rewrites every descendant's path in one statement: the
/// move costs the same for 1000 descendants as for 10.
async fn reparenting_rewrites_the_subtree_in_constant_statements(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let big = iaso_tree(app.db("iaso"), 1, 1000, 0).await;
    let small = iaso_tree(app.db("iaso"), 1, 10, 0).await;
    let target = iaso_tree(app.db("iaso"), 0, 0, 0).await;
    let reparent = "mutation($id: Int!, $to: Int!) { updateOrgUnit(id: $id, input: { parentId: $to }) { id path } }";
    let mut costs = Vec::new();
    for region in [small.regions[0], big.regions[0]] {
        let before = app.statements("iaso");
        let data = app
            .data(
                "iaso",
                reparent,
                json!({ "id": region, "to": target.country }),
            )
            .await;
        costs.push(app.statements("iaso") - before);
        assert_eq!(
            data["updateOrgUnit"]["path"],
            format!("{}.{region}", target.country)
        );
    }
    println!("{backend:?}: re-parenting 10 and 1000 descendants cost {costs:?} statements");
    assert_eq!(costs[0], costs[1], "the cost grew with the subtree");

    // Every path below the target is its parent's path plus its own id.
    let check = rows(
        app.db("iaso"),
        "SELECT COUNT(*) || '' AS n FROM org_unit c JOIN org_unit p ON p.id = c.parent_id WHERE c.path <> p.path || '.' || c.id",
    )
    .await;
    assert_eq!(check[0]["n"], "0", "some paths are wrong");
    let moved = rows(
        app.db("iaso"),
        &format!(
            "SELECT COUNT(*) || '' AS n FROM org_unit WHERE path LIKE '{}.%'",
            target.country
        ),
    )
    .await;
    assert_eq!(moved[0]["n"], (2 + 1000 + 10).to_string());

    // A cycle is refused, and nothing changes.
    let body = app
        .graphql(
            "iaso",
            reparent,
            json!({ "id": target.country, "to": big.districts[0][0] }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("parentId"));
    let root = app
        .data(
            "iaso",
            "query($id: Int!) { orgUnit(id: $id) { path parentId } }",
            json!({ "id": target.country }),
        )
        .await;
    assert_eq!(
        root["orgUnit"],
        json!({ "path": target.country.to_string(), "parentId": null })
    );
}

/// Audit columns record the authenticated writer; without one, a row that
/// must record it cannot be written. Lengths are checked before SQL.
async fn audit_columns_and_lengths(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["opentalk"]).await else {
        return;
    };
    let setup = app
        .data(
            "opentalk",
            "mutation { createTenant(input: { oidcTenantId: \"acme\" }) { id }
                        createTariff(input: { name: \"basic\", quotas: { max_storage: 10 } }) { id } }",
            json!({}),
        )
        .await;
    let user = app
        .data(
            "opentalk",
            "mutation($t: UUID!, $tariff: UUID!) { createUser(input: { tenantId: $t, tariffId: $tariff, conferenceTheme: \"dark\", dashboardTheme: \"dark\", displayName: \"Ada\", email: \"ada@example.org\", language: \"en\", oidcSub: \"ada\" }) { id } }",
            json!({ "t": setup["createTenant"]["id"], "tariff": setup["createTariff"]["id"] }),
        )
        .await;
    let user_id = user["createUser"]["id"].as_str().unwrap().to_string();
    let room = "mutation($t: UUID!) { createRoom(input: { tenantId: $t, password: \"s3cret\" }) { id createdBy { displayName } } }";
    let vars = json!({ "t": setup["createTenant"]["id"] });
    // Anonymous: nobody to record as the room's creator.
    let body = app.graphql("opentalk", room, vars.clone()).await;
    assert_error(&body, "UNAUTHENTICATED", None);
    // Authenticated: the token's subject is the creator, not an input.
    let token = gateway_tests::token("opentalk", Some(&user_id), Some("acme"), &["user"]);
    let bearer = format!("Bearer {token}");
    let (status, body) = app
        .graphql_with_headers("opentalk", room, vars, &[("authorization", &bearer)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["createRoom"]["createdBy"]["displayName"], "Ada",
        "{body}"
    );
    let room_id = body["data"]["createRoom"]["id"].clone();
    // SIP ids and passwords hold at most 10 characters.
    let sip = "mutation($r: UUID!, $id: String!) { createSipConfig(input: { roomId: $r, sipId: $id, password: \"0123456789\" }) { sipId } }";
    let (_, body) = app
        .graphql_with_headers(
            "opentalk",
            sip,
            json!({ "r": room_id, "id": "01234567890" }),
            &[("authorization", &bearer)],
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("input.sipId"));
    let (_, body) = app
        .graphql_with_headers(
            "opentalk",
            sip,
            json!({ "r": room_id, "id": "0123456789" }),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(
        body["data"]["createSipConfig"]["sipId"], "0123456789",
        "{body}"
    );
}

/// Teams keep their materialised path the same way org units do.
async fn team_paths_follow_their_parents(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 0, 0, 0).await;
    let create = "mutation($p: Int!, $parent: Int) { createTeam(input: { name: \"t\", projectId: $p, parentId: $parent, type: TEAM_OF_TEAMS }) { id path } }";
    let root = app
        .data("iaso", create, json!({ "p": tree.project, "parent": null }))
        .await["createTeam"]
        .clone();
    let child = app
        .data(
            "iaso",
            create,
            json!({ "p": tree.project, "parent": root["id"] }),
        )
        .await["createTeam"]
        .clone();
    let grandchild = app
        .data(
            "iaso",
            create,
            json!({ "p": tree.project, "parent": child["id"] }),
        )
        .await["createTeam"]
        .clone();
    assert_eq!(root["path"], root["id"].to_string());
    assert_eq!(
        grandchild["path"],
        format!("{}.{}.{}", root["id"], child["id"], grandchild["id"])
    );
    // Move the child (and its subtree) to the top.
    let moved = app
        .data(
            "iaso",
            "mutation($id: Int!) { updateTeam(id: $id, input: { parentId: null }) { path } }",
            json!({ "id": child["id"] }),
        )
        .await;
    assert_eq!(moved["updateTeam"]["path"], child["id"].to_string());
    let below = app
        .data(
            "iaso",
            "query($id: Int!) { team(id: $id) { path } }",
            json!({ "id": grandchild["id"] }),
        )
        .await;
    assert_eq!(
        below["team"]["path"],
        format!("{}.{}", child["id"], grandchild["id"])
    );
    // Under its own descendant: refused.
    let body = app.graphql("iaso", "mutation($id: Int!, $to: Int!) { updateTeam(id: $id, input: { parentId: $to }) { path } }", json!({ "id": child["id"], "to": grandchild["id"] })).await;
    assert_error(&body, "BAD_USER_INPUT", Some("parentId"));

    // A parent is a team of teams in the same project, and a team has
    // users or sub-teams, never both: each refusal writes nothing.
    let teams = count(&app, "iaso", "team").await;
    let of_users = app
        .data(
            "iaso",
            "mutation($p: Int!) { createTeam(input: { name: \"u\", projectId: $p, type: TEAM_OF_USERS }) { id } }",
            json!({ "p": tree.project }),
        )
        .await["createTeam"]["id"]
        .clone();
    let body = app
        .graphql(
            "iaso",
            create,
            json!({ "p": tree.project, "parent": of_users }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("parentId"));
    let other = iaso_tree(app.db("iaso"), 0, 0, 0).await;
    let body = app
        .graphql(
            "iaso",
            create,
            json!({ "p": other.project, "parent": root["id"] }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("projectId"));
    let body = app
        .graphql(
            "iaso",
            "mutation($id: Int!) { updateTeam(id: $id, input: { type: TEAM_OF_USERS }) { id } }",
            json!({ "id": child["id"] }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("type"));
    assert_eq!(count(&app, "iaso", "team").await, teams + 1);
    let kept = app
        .data(
            "iaso",
            "query($id: Int!) { team(id: $id) { type } }",
            json!({ "id": child["id"] }),
        )
        .await;
    assert_eq!(kept["team"]["type"], "TEAM_OF_TEAMS");
}

/// Writes that arrive together all land: each reads (the references it
/// checks) before it writes, and on SQLite a transaction that began as a
/// reader cannot become a writer once another has written since.
async fn concurrent_writes_all_land(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let tree = iaso_tree(app.db("iaso"), 2, 2, 1).await;
    let before = count(&app, "iaso", "org_unit").await;
    let writes = (0..24).map(|i| {
        app.graphql(
            "iaso",
            "mutation($n: String!, $v: Int!, $p: Int!) { createOrgUnit(input: { name: $n, versionId: $v, parentId: $p }) { id path } }",
            json!({ "n": format!("Clinic {i}"), "v": tree.version, "p": tree.regions[i % 2] }),
        )
    });
    let answers = async_graphql::futures_util::future::join_all(writes).await;
    let failed: Vec<&Value> = answers.iter().filter(|a| a["errors"].is_array()).collect();
    assert!(
        failed.is_empty(),
        "{} of 24 writes failed, the first: {}",
        failed.len(),
        failed[0]
    );
    assert_eq!(count(&app, "iaso", "org_unit").await, before + 24);
}

/// A pyramid of two regions of `districts` districts whose region type is
/// its project's (the country's is not): where plannings may be rooted.
async fn planning_area(app: &TestApp, districts: usize) -> Tree {
    let db = app.db("iaso");
    let tree = iaso_tree(db, 2, districts, 0).await;
    db.execute_unprepared(&format!(
        "INSERT INTO org_unit_type_projects (org_unit_type_id, project_id) VALUES ({}, {})",
        tree.region_type, tree.project
    ))
    .await
    .unwrap();
    tree
}

/// A new team of users in `project`; its id.
async fn team_of_users(app: &TestApp, project: i32) -> Value {
    app.data(
        "iaso",
        "mutation($p: Int!) { createTeam(input: { name: \"field\", projectId: $p, type: TEAM_OF_USERS }) { id } }",
        json!({ "p": project }),
    )
    .await["createTeam"]["id"]
    .clone()
}

/// Iaso's planning rules: a planning's team and root type are its
/// project's, publishing needs both dates; an assignment has one assignee,
/// inside the planning's area, once per org unit. Each refusal writes
/// nothing.
async fn planning_rules_hold(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &["iaso"]).await else {
        return;
    };
    let tree = planning_area(&app, 7).await;
    let other = iaso_tree(app.db("iaso"), 1, 0, 0).await;
    let ours = team_of_users(&app, tree.project).await;
    let theirs = team_of_users(&app, other.project).await;

    let create = "mutation($in: CreatePlanningInput!) { createPlanning(input: $in) { id } }";
    let planning = |team: &Value, root: i32, extra: Value| {
        let mut input = json!({ "name": "Vaccination", "projectId": tree.project, "teamId": team, "orgUnitId": root });
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        json!({ "in": input })
    };
    let id = app
        .data("iaso", create, planning(&ours, tree.regions[0], json!({})))
        .await["createPlanning"]["id"]
        .clone();
    let plannings = count(&app, "iaso", "planning").await;
    for (variables, field) in [
        (planning(&theirs, tree.regions[0], json!({})), "teamId"),
        (planning(&ours, tree.country, json!({})), "orgUnitId"),
        (
            planning(
                &ours,
                tree.regions[0],
                json!({ "publishedAt": "2026-11-22T08:00:00Z", "startedAt": "2026-12-01" }),
            ),
            "publishedAt",
        ),
        (
            planning(
                &ours,
                tree.regions[0],
                json!({ "startedAt": "2026-12-31", "endedAt": "2026-12-01" }),
            ),
            "endedAt",
        ),
    ] {
        let body = app.graphql("iaso", create, variables).await;
        assert_error(&body, "BAD_USER_INPUT", Some(field));
    }
    assert_eq!(count(&app, "iaso", "planning").await, plannings);
    // Publishing an undated planning is refused and leaves it unpublished;
    // with both dates it is published.
    let publish = "mutation($id: Int!, $in: UpdatePlanningInput!) { updatePlanning(id: $id, input: $in) { publishedAt } }";
    let body = app
        .graphql(
            "iaso",
            publish,
            json!({ "id": id, "in": { "publishedAt": "2026-11-22T08:00:00Z" } }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("publishedAt"));
    let published = app
        .data(
            "iaso",
            publish,
            json!({ "id": id, "in": { "publishedAt": "2026-11-22T08:00:00Z", "startedAt": "2026-12-01", "endedAt": "2026-12-31" } }),
        )
        .await;
    assert!(
        published["updatePlanning"]["publishedAt"].is_string(),
        "{published}"
    );

    // Assignments: one assignee, inside the root's subtree, once per unit.
    let assign = "mutation($in: CreateAssignmentInput!) { createAssignment(input: $in) { id } }";
    let inside = tree.districts[0][0];
    let first = app
        .data(
            "iaso",
            assign,
            json!({ "in": { "planningId": id, "orgUnitId": inside, "teamId": ours } }),
        )
        .await["createAssignment"]["id"]
        .clone();
    let assignments = count(&app, "iaso", "assignment").await;
    for (input, code, field) in [
        (
            json!({ "planningId": id, "orgUnitId": tree.regions[0] }),
            "BAD_USER_INPUT",
            Some("userId"),
        ),
        (
            json!({ "planningId": id, "orgUnitId": tree.districts[1][0], "teamId": ours }),
            "BAD_USER_INPUT",
            Some("orgUnitId"),
        ),
        (
            json!({ "planningId": id, "orgUnitId": tree.country, "teamId": ours }),
            "BAD_USER_INPUT",
            Some("orgUnitId"),
        ),
        (
            // The unique key (planning, unit) names its first column on
            // both backends.
            json!({ "planningId": id, "orgUnitId": inside, "teamId": ours }),
            "CONFLICT",
            Some("input.planningId"),
        ),
    ] {
        let body = app.graphql("iaso", assign, json!({ "in": input })).await;
        assert_error(&body, code, field);
    }
    assert_eq!(count(&app, "iaso", "assignment").await, assignments);
    // The root itself is in its subtree; a deleted assignment frees its unit.
    app.data(
        "iaso",
        assign,
        json!({ "in": { "planningId": id, "orgUnitId": tree.regions[0], "teamId": ours } }),
    )
    .await;
    app.data(
        "iaso",
        "mutation($id: Int!) { deleteAssignment(id: $id) { id } }",
        json!({ "id": first }),
    )
    .await;
    app.data(
        "iaso",
        assign,
        json!({ "in": { "planningId": id, "orgUnitId": inside, "teamId": ours } }),
    )
    .await;
    assert_eq!(count(&app, "iaso", "assignment").await, assignments + 2);

    // A batch is written together and checked in one statement: two and
    // three assignments cost the same statements; a unit outside the area
    // is named by its item, and nothing of its batch is kept.
    let batch =
        "mutation($in: [CreateAssignmentInput!]!) { createAssignments(inputs: $in) { id } }";
    let items = |units: &[i32]| json!({ "in": units.iter().map(|u| json!({ "planningId": id, "orgUnitId": u, "teamId": ours })).collect::<Vec<_>>() });
    let mut costs = Vec::new();
    for units in [&tree.districts[0][1..3], &tree.districts[0][3..6]] {
        let before = app.statements("iaso");
        let made = app.data("iaso", batch, items(units)).await;
        costs.push(app.statements("iaso") - before);
        assert_eq!(
            made["createAssignments"].as_array().unwrap().len(),
            units.len()
        );
    }
    assert_eq!(costs[0], costs[1], "statements for 2 and 3 assignments");
    let assignments = count(&app, "iaso", "assignment").await;
    let body = app
        .graphql(
            "iaso",
            batch,
            items(&[tree.districts[0][6], tree.districts[1][1]]),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("inputs[1].orgUnitId"));
    assert_eq!(count(&app, "iaso", "assignment").await, assignments);
}

/// An app taking batches of at most `batch`, a planning area of two
/// regions of `districts` districts each, a team of users and a planning of
/// the first region for it: the app, the area, the team and the planning.
async fn bulk_planning(
    backend: Backend,
    batch: usize,
    districts: usize,
) -> Option<(TestApp, Tree, Value, Value)> {
    let app = TestApp::spawn_with(backend, &["iaso"], |c| c.max_batch_size = batch).await?;
    let tree = planning_area(&app, districts).await;
    let team = team_of_users(&app, tree.project).await;
    let planning = app
        .data(
            "iaso",
            "mutation($p: Int!, $t: Int!, $root: Int!) { createPlanning(input: { name: \"Bednets\", projectId: $p, teamId: $t, orgUnitId: $root }) { id } }",
            json!({ "p": tree.project, "t": team, "root": tree.regions[0] }),
        )
        .await["createPlanning"]["id"]
        .clone();
    Some((app, tree, team, planning))
}

/// Assigns `unit` in `planning` to `team`, one assignment.
async fn assign(app: &TestApp, planning: &Value, unit: i32, team: &Value) {
    app.data(
        "iaso",
        "mutation($in: CreateAssignmentInput!) { createAssignment(input: $in) { id } }",
        json!({ "in": { "planningId": planning, "orgUnitId": unit, "teamId": team } }),
    )
    .await;
}

const ASSIGN_BULK: &str = "mutation($p: Int!, $parent: Int!, $type: Int, $t: Int) { assignOrgUnits(planningId: $p, parentId: $parent, orgUnitTypeId: $type, teamId: $t) { orgUnitId teamId } }";

/// `assignOrgUnits` assigns every unit of a type below a parent that the
/// planning does not assign yet, in one batch, under the same rules.
async fn org_units_are_assigned_in_bulk(backend: Backend) {
    // Batches of at most four: a region has five districts, one of them
    // already assigned, so four are new and fit; the country's ten do not.
    let Some((app, tree, team, planning)) = bulk_planning(backend, 4, 5).await else {
        return;
    };
    assign(&app, &planning, tree.districts[0][0], &team).await;
    let bulk = ASSIGN_BULK;
    let args = |parent: i32, kind: i32| json!({ "p": planning, "parent": parent, "type": kind, "t": team });
    let assignments = count(&app, "iaso", "assignment").await;
    let body = app
        .graphql("iaso", bulk, args(tree.country, tree.district_type))
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("parentId"));
    assert_eq!(count(&app, "iaso", "assignment").await, assignments);
    // Five districts below, one assigned: the four others are made, though
    // the five are more than a batch.
    let made = app
        .data("iaso", bulk, args(tree.regions[0], tree.district_type))
        .await;
    let units: BTreeSet<i64> = made["assignOrgUnits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["orgUnitId"].as_i64().unwrap())
        .collect();
    let expected: BTreeSet<i64> = tree.districts[0][1..]
        .iter()
        .map(|&d| i64::from(d))
        .collect();
    assert_eq!(units, expected, "the four districts not yet assigned");
    let assignments = count(&app, "iaso", "assignment").await;
    assert_eq!(assignments, 5);
    // Again: nothing left to assign.
    let again = app
        .data("iaso", bulk, args(tree.regions[0], tree.district_type))
        .await;
    assert_eq!(again["assignOrgUnits"], json!([]));
    // The country's regions: the second is outside the planning's area, so
    // the batch is refused naming it, and the first's assignment is not
    // kept either.
    let body = app
        .graphql("iaso", bulk, args(tree.country, tree.region_type))
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("units[1].orgUnitId"));
    assert_eq!(count(&app, "iaso", "assignment").await, assignments);
}

/// `assignOrgUnits` looks through at most ten batches of an area's units
/// for new ones: a larger area is refused, naming the limit it passed,
/// even when only one of its units is new, and nothing is written.
async fn a_bulk_assignment_looks_through_ten_batches_at_most(backend: Backend) {
    // Batches of one: a region of twelve districts takes twelve.
    let Some((app, tree, team, planning)) = bulk_planning(backend, 1, 12).await else {
        return;
    };
    // Eleven of the twelve assigned already.
    for &district in &tree.districts[0][..11] {
        assign(&app, &planning, district, &team).await;
    }
    let assignments = count(&app, "iaso", "assignment").await;
    assert_eq!(assignments, 11);
    let body = app
        .graphql(
            "iaso",
            ASSIGN_BULK,
            json!({ "p": planning, "parent": tree.regions[0], "type": tree.district_type, "t": team }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", Some("parentId"));
    assert_eq!(
        error(&body)["message"],
        "more than 10 org units below it to look through: assign a smaller area"
    );
    assert_eq!(count(&app, "iaso", "assignment").await, assignments);
}

on_both_backends!(
    concurrent_writes_all_land,
    a_bulk_assignment_looks_through_ten_batches_at_most,
    team_paths_follow_their_parents,
    planning_rules_hold,
    org_units_are_assigned_in_bulk,
    audit_columns_and_lengths,
    iaso_crud,
    soft_delete_and_restore,
    batches_are_all_or_nothing,
    each_error_class,
    stale_updates_are_refused,
    secrets_are_write_only,
    every_domain_creates_updates_upserts_deletes,
    reparenting_rewrites_the_subtree_in_constant_statements,
);

/// A write's transaction whose start is dropped half-way (its client left,
/// its request timed out) leaves no connection inside a transaction: the
/// next statement on that connection runs on its own, not inside a
/// transaction nobody will end.
#[tokio::test]
async fn a_transaction_start_dropped_half_way_leaves_no_transaction_open() {
    use std::future::Future as _;
    use std::task::Poll;
    let Some(mut test) = gateway_tests::TestDb::new(Backend::Postgres, &["iaso"]) else {
        return;
    };
    // One connection, whose state another one watches.
    test.config.db_max_connections = 1;
    let db = test.connect("iaso").await;
    let watcher = test.connect("iaso").await;
    let one = |db: &sea_orm::DatabaseConnection, sql: String| {
        let db = db.clone();
        async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql,
            ))
            .await
            .unwrap()
            .unwrap()
        }
    };
    let pid: i32 = one(&db, "SELECT pg_backend_pid() AS v".into())
        .await
        .try_get("", "v")
        .unwrap();
    for polls in 1..=6 {
        {
            let mut begin = std::pin::pin!(gateway::engine::write::begin_write(&db));
            for _ in 0..polls {
                let ready =
                    std::future::poll_fn(|cx| Poll::Ready(begin.as_mut().poll(cx).is_ready()))
                        .await;
                if ready {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let state: String = one(
            &watcher,
            format!("SELECT state AS v FROM pg_stat_activity WHERE pid = {pid}"),
        )
        .await
        .try_get("", "v")
        .unwrap();
        assert_eq!(
            state, "idle",
            "dropped after {polls} polls, the start left its connection so"
        );
    }
    // Still the same connection: the watch was on the right one.
    let still: i32 = one(&db, "SELECT pg_backend_pid() AS v".into())
        .await
        .try_get("", "v")
        .unwrap();
    assert_eq!(still, pid);
}
