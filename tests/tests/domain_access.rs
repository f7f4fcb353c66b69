#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Each domain's own access rules on the demo data, through HTTP: Iaso's
//! column permissions and the roles `login` will not issue, OpenTalk's
//! "events I created or am invited to", PlaceOS's setting levels and
//! telemetry's superuser-only catalogue.

use std::collections::BTreeSet;

use gateway::demo::DEMO_PASSWORD;
use gateway_tests::{Backend, TestApp, count, on_both_backends, rows, token};
use serde_json::{Value, json};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn id_set(rows: &[Value], field: &str) -> BTreeSet<String> {
    rows.iter()
        .map(|r| match &r[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn nodes(body: &Value) -> &[Value] {
    body["nodes"].as_array().unwrap()
}

async fn iaso_columns_and_issued_roles(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["iaso"]).await else {
        return;
    };
    let agent = app
        .data(
            "iaso",
            "{ users(filter: { username: { eq: \"avalon.agent\" } }) { nodes { id } } profiles(filter: { user: { username: { eq: \"avalon.agent\" } } }) { nodes { id } } }",
            json!({}),
        )
        .await;
    let user_id = agent["users"]["nodes"][0]["id"].clone();
    let profile_id = agent["profiles"]["nodes"][0]["id"].clone();
    let manager = token("iaso", None, Some("1"), &["manager"]);
    let admin = token("iaso", None, Some("1"), &["admin"]);

    // A manager of users edits a profile's language, not whose it is.
    let language =
        "mutation($id: Int!) { updateProfile(id: $id, input: { language: \"pt\" }) { language } }";
    let body = app
        .graphql_as(
            "iaso",
            Some(&manager),
            language,
            json!({ "id": profile_id }),
        )
        .await;
    assert_eq!(body["data"]["updateProfile"]["language"], "pt", "{body}");
    let owner = "mutation($id: Int!, $u: Int!) { updateProfile(id: $id, input: { userId: $u }) { userId } }";
    let body = app
        .graphql_as(
            "iaso",
            Some(&manager),
            owner,
            json!({ "id": profile_id, "u": 1 }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("input.userId"),
        "{body}"
    );

    // An admin sets roles, but cannot make a superuser (the platform's
    // operator only), and `login` never issues a role that crosses
    // tenants, whatever the column says.
    let superuser =
        "mutation($id: Int!) { updateUser(id: $id, input: { isSuperuser: true }) { id } }";
    let body = app
        .graphql_as("iaso", Some(&admin), superuser, json!({ "id": user_id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let roles = "mutation($id: Int!) { updateUser(id: $id, input: { roles: [\"root\", \"viewer\"] }) { roles } }";
    let body = app
        .graphql_as("iaso", Some(&admin), roles, json!({ "id": user_id }))
        .await;
    assert_eq!(
        body["data"]["updateUser"]["roles"],
        json!(["root", "viewer"]),
        "{body}"
    );
    let body = app
        .graphql_as(
            "iaso",
            None,
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { roles } }",
            json!({ "u": "avalon.agent", "p": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["login"]["roles"], json!(["viewer"]), "{body}");
    // A submission records its author from the token's numeric subject,
    // inside the author's subtree only.
    let place = app
        .data(
            "iaso",
            "{ profiles(filter: { user: { username: { eq: \"avalon.agent\" } } }) { nodes { orgUnits { nodes { id parentId } } } } projects(filter: { accountId: { eq: 1 } }, first: 1) { nodes { id forms(first: 1) { nodes { id } } } } }",
            json!({}),
        )
        .await;
    let region = &place["profiles"]["nodes"][0]["orgUnits"]["nodes"][0];
    let project = &place["projects"]["nodes"][0];
    let author = token("iaso", Some(&user_id.to_string()), Some("1"), &["agent"]);
    let submit = "mutation($ou: Int!, $p: Int!, $f: Int!) { createInstance(input: { orgUnitId: $ou, projectId: $p, formId: $f, period: \"202611\" }) { createdBy { username } lastModifiedBy { username } } }";
    let vars = |ou: &Value| json!({ "ou": ou, "p": project["id"], "f": project["forms"]["nodes"][0]["id"] });
    let body = app
        .graphql_as("iaso", Some(&author), submit, vars(&region["id"]))
        .await;
    assert_eq!(
        body["data"]["createInstance"]["createdBy"]["username"], "avalon.agent",
        "{body}"
    );
    assert_eq!(
        body["data"]["createInstance"]["lastModifiedBy"]["username"],
        "avalon.agent"
    );
    let body = app
        .graphql_as("iaso", Some(&author), submit, vars(&region["parentId"]))
        .await;
    assert!(
        matches!(code(&body), "BAD_USER_INPUT" | "FORBIDDEN"),
        "{body}"
    );

    // A manager may not write users at all.
    let body = app
        .graphql_as("iaso", Some(&manager), roles, json!({ "id": user_id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
}

async fn opentalk_events_are_their_creators_and_invitees(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["opentalk"]).await else {
        return;
    };
    let users = app
        .data(
            "opentalk",
            "{ users(filter: { tenant: { oidcTenantId: { eq: \"avalon\" } } }) { nodes { id } } }",
            json!({}),
        )
        .await;
    // Withdraw one invite, so that its invitee no longer sees that event.
    let invites = app
        .data(
            "opentalk",
            "{ eventInvites(filter: { event: { tenant: { oidcTenantId: { eq: \"avalon\" } } } }) { nodes { id invitee { id } event { createdBy { id } } } } }",
            json!({}),
        )
        .await;
    let withdrawn = invites["eventInvites"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invitee"]["id"] != i["event"]["createdBy"]["id"])
        .unwrap()
        .clone();
    app.data(
        "opentalk",
        "mutation($id: UUID!) { deleteEventInvite(id: $id) { id } }",
        json!({ "id": withdrawn["id"] }),
    )
    .await;
    let tenant_events = app
        .data(
            "opentalk",
            "{ events(filter: { tenant: { oidcTenantId: { eq: \"avalon\" } } }) { nodes { id createdBy { id } eventInvites { nodes { invitee { id } } } } } }",
            json!({}),
        )
        .await;
    let events = tenant_events["events"]["nodes"].as_array().unwrap().clone();
    let all = id_set(nodes(&tenant_events["events"]), "id");
    let mut narrower = 0;
    for user in users["users"]["nodes"].as_array().unwrap() {
        let id = user["id"].as_str().unwrap();
        let expected: BTreeSet<String> = events
            .iter()
            .filter(|e| {
                e["createdBy"]["id"] == id
                    || e["eventInvites"]["nodes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["invitee"]["id"] == id)
            })
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect();
        let as_user = token("opentalk", Some(id), Some("avalon"), &["user"]);
        let body = app
            .graphql_as(
                "opentalk",
                Some(&as_user),
                "{ events { totalCount nodes { id } } }",
                json!({}),
            )
            .await;
        let seen = id_set(nodes(&body["data"]["events"]), "id");
        assert_eq!(seen, expected, "{id}: {body}");
        assert_eq!(body["data"]["events"]["totalCount"], expected.len());
        if seen.len() < all.len() {
            narrower += 1;
        }
        // The tenant's admin sees every event of the tenant.
        let as_admin = token("opentalk", Some(id), Some("avalon"), &["admin"]);
        let body = app
            .graphql_as(
                "opentalk",
                Some(&as_admin),
                "{ events { nodes { id } } }",
                json!({}),
            )
            .await;
        assert_eq!(id_set(nodes(&body["data"]["events"]), "id"), all);
    }
    assert!(
        narrower > 0,
        "no user sees fewer events than the tenant has"
    );

    // Only the creator edits an event; an invitee who sees it cannot.
    let event = &events[0];
    let creator = event["createdBy"]["id"].as_str().unwrap();
    let invitee = event["eventInvites"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invitee"]["id"].as_str().unwrap())
        .find(|i| *i != creator)
        .unwrap();
    let rename =
        "mutation($id: UUID!) { updateEvent(id: $id, input: { title: \"Renamed\" }) { title } }";
    let as_invitee = token("opentalk", Some(invitee), Some("avalon"), &["user"]);
    let seen = app
        .graphql_as(
            "opentalk",
            Some(&as_invitee),
            "query($id: UUID!) { event(id: $id) { id } }",
            json!({ "id": event["id"] }),
        )
        .await;
    assert_eq!(seen["data"]["event"]["id"], event["id"], "{seen}");
    let body = app
        .graphql_as(
            "opentalk",
            Some(&as_invitee),
            rename,
            json!({ "id": event["id"] }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let as_creator = token("opentalk", Some(creator), Some("avalon"), &["user"]);
    let body = app
        .graphql_as(
            "opentalk",
            Some(&as_creator),
            rename,
            json!({ "id": event["id"] }),
        )
        .await;
    assert_eq!(body["data"]["updateEvent"]["title"], "Renamed", "{body}");
}

async fn placeos_settings_by_level(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["placeos"]).await else {
        return;
    };
    let authority = "authority-AV00000001";
    for (role, level) in [("user", 0), ("support", 1), ("admin", 2), ("root", 2)] {
        let caller = token("placeos", None, Some(authority), &[role]);
        let body = app
            .graphql_as(
                "placeos",
                Some(&caller),
                "{ settings(first: 1000) { totalCount nodes { id } } }",
                json!({}),
            )
            .await;
        let seen = id_set(nodes(&body["data"]["settings"]), "id");
        let expected = id_set(
            &rows(
                app.db("placeos"),
                &format!("SELECT id FROM settings WHERE encryption_level <= {level}"),
            )
            .await,
            "id",
        );
        assert_eq!(seen, expected, "{role}: {body}");
        assert_eq!(body["data"]["settings"]["totalCount"], expected.len());
        // Through a relation too.
        let body = app
            .graphql_as(
                "placeos",
                Some(&caller),
                "{ drivers(first: 1000) { nodes { settings(first: 1000) { nodes { encryptionLevel } } } } }",
                json!({}),
            )
            .await;
        let levels = ["NONE", "SUPPORT", "ADMIN", "NEVER_DISPLAY"];
        for driver in body["data"]["drivers"]["nodes"].as_array().unwrap() {
            for s in driver["settings"]["nodes"].as_array().unwrap() {
                let l = levels
                    .iter()
                    .position(|x| *x == s["encryptionLevel"])
                    .unwrap();
                assert!(l <= level, "{role} read a level-{l} setting: {body}");
            }
        }
    }
    let never = rows(
        app.db("placeos"),
        "SELECT id FROM settings WHERE encryption_level = 3",
    )
    .await;
    assert!(!never.is_empty(), "the demo has a NeverDisplay setting");
}

/// The demo's telemetry devices, read with `also` (more root fields): the
/// first by id (`mine`), one of another customer (`theirs`), and a token of
/// `mine`'s customer.
struct Telemetry {
    found: Value,
    mine: Value,
    theirs: Value,
    customer: String,
}

async fn telemetry_devices(app: &TestApp, also: &str) -> Telemetry {
    let found = app
        .data(
            "telemetry",
            &format!("{{ customerDevices(orderBy: [{{ field: ID }}]) {{ nodes {{ id customerId }} }} {also} }}"),
            json!({}),
        )
        .await;
    let nodes = found["customerDevices"]["nodes"].as_array().unwrap();
    let mine = nodes[0].clone();
    let theirs = nodes
        .iter()
        .find(|d| d["customerId"] != mine["customerId"])
        .unwrap()
        .clone();
    let customer = token(
        "telemetry",
        None,
        Some(&mine["customerId"].to_string()),
        &["customer"],
    );
    Telemetry {
        found,
        mine,
        theirs,
        customer,
    }
}

async fn telemetry_catalogue_is_the_superusers(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["telemetry"]).await else {
        return;
    };
    let Telemetry {
        found: devices,
        mine,
        theirs,
        customer,
    } = telemetry_devices(&app, "deviceSuppliers(first: 1) { nodes { id } }").await;
    let supplier = devices["deviceSuppliers"]["nodes"][0]["id"].clone();
    let create_model =
        "mutation($s: Int!) { createDevice(input: { name: \"Probe\", supplierId: $s }) { name } }";
    let body = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            create_model,
            json!({ "s": supplier }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let superuser = token("telemetry", None, None, &["superuser"]);
    let body = app
        .graphql_as(
            "telemetry",
            Some(&superuser),
            create_model,
            json!({ "s": supplier }),
        )
        .await;
    assert_eq!(body["data"]["createDevice"]["name"], "Probe", "{body}");

    // Events go to the customer's own devices only.
    let post = "mutation($d: Int!) { createDeviceEvent(input: { timeRecorded: \"2026-11-21T10:00:00Z\", customerDeviceId: $d }) { id } }";
    let body = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            post,
            json!({ "d": mine["id"] }),
        )
        .await;
    assert!(
        body["data"]["createDeviceEvent"]["id"].is_number(),
        "{body}"
    );
    let before = count(&app, "telemetry", "deviceevent").await;
    let body = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            post,
            json!({ "d": theirs["id"] }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.customerDeviceId"
    );
    assert_eq!(count(&app, "telemetry", "deviceevent").await, before);
}

/// Telemetry's events and their data are only appended: a customer posts
/// them, and nobody, not even a superuser, changes or removes them.
async fn telemetry_events_are_only_appended(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["telemetry"]).await else {
        return;
    };
    let Telemetry {
        found,
        mine: device,
        customer,
        ..
    } = telemetry_devices(&app, "sensorTypes(first: 1) { nodes { id } }").await;
    let post = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            "mutation($d: Int!) { createDeviceEvent(input: { timeRecorded: \"2026-11-21T10:00:00Z\", customerDeviceId: $d }) { id } }",
            json!({ "d": device["id"] }),
        )
        .await;
    let event = post["data"]["createDeviceEvent"]["id"].clone();
    assert!(event.is_number(), "{post}");
    let data = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            "mutation($e: Int!, $t: Int!) { createSensorData(input: { eventId: $e, sensorTypeId: $t, data: { celsius: 21.5 } }) { id } }",
            json!({ "e": event, "t": found["sensorTypes"]["nodes"][0]["id"] }),
        )
        .await;
    let sensor = data["data"]["createSensorData"]["id"].clone();
    assert!(sensor.is_number(), "{data}");

    let superuser = token("telemetry", None, None, &["superuser"]);
    let changes = [
        (
            "mutation($id: Int!) { updateDeviceEvent(id: $id, input: { timeRecorded: \"2020-01-01T00:00:00Z\" }) { id } }",
            &event,
        ),
        (
            "mutation($id: Int!) { deleteDeviceEvent(id: $id) { id } }",
            &event,
        ),
        (
            "mutation($id: Int!) { updateSensorData(id: $id, input: { label: \"changed\" }) { id } }",
            &sensor,
        ),
        (
            "mutation($id: Int!) { deleteSensorData(id: $id) { id } }",
            &sensor,
        ),
    ];
    // The schema offers no such mutation: the request fails validation,
    // before any resolver runs, for every caller.
    for who in [&customer, &superuser] {
        for (change, id) in &changes {
            let body = app
                .graphql_as("telemetry", Some(who), change, json!({ "id": id }))
                .await;
            assert!(body["data"].is_null(), "{change}: {body}");
            assert_eq!(code(&body), "BAD_USER_INPUT", "{change}: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("Unknown field"), "{change}: {message}");
        }
    }
    let mutations = app
        .data(
            "telemetry",
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
        )
        .await;
    let names: BTreeSet<&str> = mutations["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for entity in ["DeviceEvent", "SensorData", "LogData", "SettingData"] {
        assert!(
            names.contains(format!("create{entity}").as_str()),
            "{names:?}"
        );
        for verb in ["update", "upsert", "delete", "restore"] {
            assert!(
                !names
                    .iter()
                    .any(|n| n.starts_with(&format!("{verb}{entity}"))),
                "{verb}{entity} is offered: {names:?}"
            );
        }
    }
    // Devices are not append-only: they keep their updates.
    assert!(names.contains("updateCustomerDevice"), "{names:?}");
    let stored = rows(
        app.db("telemetry"),
        &format!(
            "SELECT (SELECT COUNT(*) FROM deviceevent WHERE id = {event} AND time_recorded > '2026-01-01') || '/' || \
             (SELECT COUNT(*) FROM sensordata WHERE id = {sensor} AND label IS NULL) AS n"
        ),
    )
    .await;
    assert_eq!(stored[0]["n"], "1/1", "an event or its data changed");
}

/// An event is posted with its sensor, log and setting data in one
/// transaction: the data name their event, a bad data row writes nothing,
/// and the statements do not grow with the data.
async fn telemetry_events_are_posted_with_their_data(backend: Backend) {
    let Some(app) = TestApp::spawn_with_demo(backend, &["telemetry"]).await else {
        return;
    };
    let Telemetry {
        found,
        mine,
        theirs,
        customer,
    } = telemetry_devices(
        &app,
        "sensorTypes(first: 1) { nodes { id } } logTypes(first: 1) { nodes { id } }",
    )
    .await;
    let sensor_type = found["sensorTypes"]["nodes"][0]["id"].clone();
    let log_type = found["logTypes"]["nodes"][0]["id"].clone();
    let post = "mutation($i: [CreateDeviceEventInput!]!) { createDeviceEvents(inputs: $i) { id sensorData(orderBy: [{ field: ID }]) { nodes { label eventId } } logData { totalCount } settingData { nodes { label } } } }";
    let event = |device: &Value, labels: &[String]| {
        json!({
            "timeRecorded": "2026-11-21T10:00:00Z",
            "customerDeviceId": device["id"],
            "sensorData": labels.iter().map(|l| json!({ "label": l, "sensorTypeId": sensor_type, "data": { "celsius": 20 } })).collect::<Vec<_>>(),
            "logData": [{ "logTypeId": log_type, "data": { "line": "boot" } }],
            "settingData": [{ "label": "interval", "data": 60 }],
        })
    };
    let labels =
        |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();

    // Two events in one request: each gets its own data, in order. (The
    // first request also reads the caller's scope.)
    let mut costs = Vec::new();
    for n in [1, 2, 20] {
        let inputs = json!([event(&mine, &labels("a", 1)), event(&mine, &labels("b", n))]);
        let before = app.statements("telemetry");
        let body = app
            .graphql_as("telemetry", Some(&customer), post, json!({ "i": inputs }))
            .await;
        costs.push(app.statements("telemetry") - before);
        let created = body["data"]["createDeviceEvents"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        for (event, expected) in created.iter().zip([labels("a", 1), labels("b", n)]) {
            let data = event["sensorData"]["nodes"].as_array().unwrap();
            let got: Vec<&str> = data.iter().map(|d| d["label"].as_str().unwrap()).collect();
            assert_eq!(got, expected);
            assert!(data.iter().all(|d| d["eventId"] == event["id"]));
            assert_eq!(event["logData"]["totalCount"], 1);
            assert_eq!(event["settingData"]["nodes"][0]["label"], "interval");
        }
    }
    println!("{backend:?}: events with 1, 2 and 20 sensor rows cost {costs:?} statements");
    assert_eq!(costs[1], costs[2], "statements grew with the nested rows");

    // A bad data row, or another customer's device: nothing is written.
    let tables = ["deviceevent", "sensordata", "logdata", "settingdata"];
    let mut before = Vec::new();
    for t in tables {
        before.push(count(&app, "telemetry", t).await);
    }
    let mut bad = event(&mine, &labels("c", 3));
    bad["sensorData"][1]["sensorTypeId"] = json!(999_999);
    let body = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            post,
            json!({ "i": [event(&mine, &labels("d", 1)), bad] }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "inputs[1].sensorData[1].sensorTypeId"
    );
    let body = app
        .graphql_as(
            "telemetry",
            Some(&customer),
            post,
            json!({ "i": [event(&theirs, &labels("e", 1))] }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "inputs[0].customerDeviceId"
    );
    let mut after = Vec::new();
    for t in tables {
        after.push(count(&app, "telemetry", t).await);
    }
    assert_eq!(before, after, "a refused post wrote rows");
}

on_both_backends!(
    telemetry_events_are_posted_with_their_data,
    telemetry_events_are_only_appended,
    iaso_columns_and_issued_roles,
    opentalk_events_are_their_creators_and_invitees,
    placeos_settings_by_level,
    telemetry_catalogue_is_the_superusers
);
