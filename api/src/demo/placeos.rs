//! PlaceOS demo data: two authorities (avalon.example and borduria.example),
//! each with three users, its own zone tree (org, region, building, levels)
//! and meeting-room systems, its own sign-in (an LDAP directory, an OAuth
//! provider and the backoffice's OAuth application), an API key and an MQTT
//! broker; one driver repository with drivers of every kind; modules (one
//! of them run by an on-site edge node), settings at each encryption level,
//! metadata checked against JSON schemas, and a trigger; and the cluster's
//! service versions and a statistics snapshot.
//!
//! Zones and systems carry no authority column: each authority's rows are
//! kept apart by its own zone tree, and every system lists only zones of
//! one tree. Ids are strings in PlaceOS's style, `<kind>-<10 characters>`,
//! with AV or BD telling the authority apart.
//!
//! Secret columns (passwords, secrets, certificates) are write-only through
//! the API; they hold fake values here, marked `demo`.

use entity::placeos::sea_orm_active_enums::{DriverRole, EncryptionLevel};
use entity::placeos::{
    api_key, authority, broker, control_system, doorkeeper_application, driver, edge, json_schema,
    ldap_schema, metadata, module, oauth_authentication, repository, setting, statistic, trigger,
    trigger_instance, user, version, zone,
};
use entity::types::StringList;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use serde_json::json;

use super::at;

/// The driver repository every authority builds from.
const REPOSITORY: &str = "repo-0000000001";
const COMMIT: &str = "3f9a1c2e7b";

struct DriverSpec {
    id: &'static str,
    name: &'static str,
    role: DriverRole,
    file_name: &'static str,
    default_port: Option<i32>,
    default_uri: Option<&'static str>,
}

const SWITCH: DriverSpec = DriverSpec {
    id: "driver-0000000001",
    name: "Cisco Catalyst switch",
    role: DriverRole::Ssh,
    file_name: "drivers/cisco/switch/snooping_catalyst.cr",
    default_port: Some(22),
    default_uri: None,
};

const DISPLAY: DriverSpec = DriverSpec {
    id: "driver-0000000002",
    name: "Samsung MD series display",
    role: DriverRole::Device,
    file_name: "drivers/samsung/displays/md_series.cr",
    default_port: Some(1515),
    default_uri: None,
};

const CALENDAR: DriverSpec = DriverSpec {
    id: "driver-0000000003",
    name: "Microsoft Graph calendar",
    role: DriverRole::Service,
    file_name: "drivers/place/calendar.cr",
    default_port: None,
    default_uri: Some("https://graph.microsoft.com/"),
};

const ROOM_LOGIC: DriverSpec = DriverSpec {
    id: "driver-0000000004",
    name: "Meeting room logic",
    role: DriverRole::Logic,
    file_name: "drivers/place/meeting_room_logic.cr",
    default_port: None,
    default_uri: None,
};

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    insert_repository_and_drivers(txn).await?;
    insert_json_schemas(txn).await?;
    avalon(txn).await?;
    borduria(txn).await?;
    insert_trigger(txn).await?;
    insert_cluster_status(txn).await?;
    Ok(())
}

fn list(items: &[&str]) -> StringList {
    StringList(items.iter().map(|s| s.to_string()).collect())
}

async fn insert_repository_and_drivers(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    repository::ActiveModel {
        id: Set(REPOSITORY.into()),
        name: Set("PlaceOS Drivers".into()),
        description: Set(Some("The public PlaceOS driver collection".into())),
        folder_name: Set(Some("drivers".into())),
        uri: Set(Some("https://github.com/placeos/drivers".into())),
        commit_hash: Set(Some(COMMIT.into())),
        branch: Set(Some("master".into())),
        username: Set(None),
        password: Set(None),
        key: Set(None),
    }
    .insert(txn)
    .await?;
    for spec in [&SWITCH, &DISPLAY, &CALENDAR, &ROOM_LOGIC] {
        driver::ActiveModel {
            id: Set(spec.id.into()),
            name: Set(spec.name.into()),
            description: Set(None),
            json_schema: Set(None),
            default_uri: Set(spec.default_uri.map(String::from)),
            default_port: Set(spec.default_port),
            role: Set(spec.role),
            file_name: Set(Some(spec.file_name.into())),
            commit: Set(Some(COMMIT.into())),
            compilation_output: Set(None),
            module_name: Set(Some(spec.name.replace(' ', ""))),
            ignore_connected: Set(Some(false)),
            repository_id: Set(Some(REPOSITORY.into())),
        }
        .insert(txn)
        .await?;
    }
    // The driver's own defaults: the lowest level of the settings chain.
    insert_setting(
        txn,
        "settings-0000000001",
        EncryptionLevel::NeverDisplay,
        "ssh_password: \"!\"\nenable_password: \"!\"\n",
        Owner::Driver(SWITCH.id),
    )
    .await?;
    Ok(())
}

/// The JSON schemas that metadata documents are checked against, one per
/// metadata keyword. Shared by every authority.
const MAP_REGIONS_SCHEMA: &str = "json-schema-0000000001";
const BOOKINGS_SCHEMA: &str = "json-schema-0000000002";
const OPENING_HOURS_SCHEMA: &str = "json-schema-0000000003";

async fn insert_json_schemas(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    const DRAFT: &str = "http://json-schema.org/draft-07/schema#";
    // HH:MM-HH:MM, or closed.
    let hours = json!({
        "type": "string",
        "pattern": "^([0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]|closed)$",
    });
    for (id, name, description, schema) in [
        (
            MAP_REGIONS_SCHEMA,
            "Map regions",
            "The bookable areas drawn on a level's floor plan",
            json!({
                "$schema": DRAFT,
                "type": "object",
                "required": ["areas"],
                "properties": {
                    "areas": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "name"],
                            "properties": {
                                "id": { "type": "string" },
                                "name": { "type": "string" },
                            },
                        },
                    },
                },
            }),
        ),
        (
            BOOKINGS_SCHEMA,
            "Booking limits",
            "The shortest and longest booking a room accepts, in minutes",
            json!({
                "$schema": DRAFT,
                "type": "object",
                "properties": {
                    "min_booking_minutes": { "type": "integer", "minimum": 5 },
                    "max_booking_minutes": { "type": "integer", "maximum": 1440 },
                },
            }),
        ),
        (
            OPENING_HOURS_SCHEMA,
            "Opening hours",
            "When a building is open, as HH:MM-HH:MM or closed",
            json!({
                "$schema": DRAFT,
                "type": "object",
                "properties": { "weekdays": hours, "weekend": hours },
                "additionalProperties": false,
            }),
        ),
    ] {
        json_schema::ActiveModel {
            id: Set(id.into()),
            name: Set(name.into()),
            description: Set(Some(description.into())),
            schema: Set(Some(schema.to_string())),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

async fn insert_authority(
    txn: &DatabaseTransaction,
    id: &str,
    name: &str,
    domain: &str,
) -> anyhow::Result<()> {
    authority::ActiveModel {
        id: Set(id.into()),
        name: Set(name.into()),
        description: Set(None),
        domain: Set(domain.into()),
        login_url: Set(Some("/login?continue={{url}}".into())),
        logout_url: Set(Some("/auth/logout".into())),
        internals: Set(Some(json!({}))),
        config: Set(Some(
            json!({ "theme": "light", "timezone": "Europe/Berlin" }),
        )),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Which of the authority's three users: an administrator, a support
/// engineer or an ordinary member of staff.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    SysAdmin,
    Support,
    Staff,
}

async fn insert_user(
    txn: &DatabaseTransaction,
    id: &str,
    authority_id: &str,
    (first, last): (&str, &str),
    domain: &str,
    role: Role,
) -> anyhow::Result<()> {
    user::ActiveModel {
        id: Set(id.into()),
        nickname: Set(Some(first.into())),
        email: Set(format!(
            "{}.{}@{domain}",
            first.to_lowercase(),
            last.to_lowercase()
        )),
        login_name: Set(Some(first.to_lowercase())),
        last_name: Set(Some(last.into())),
        deleted: Set(Some(false)),
        password_digest: Set(Some(super::demo_password_hash()?)),
        sys_admin: Set(Some(role == Role::SysAdmin)),
        support: Set(Some(role == Role::Support)),
        authority_id: Set(Some(authority_id.into())),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn insert_zone(
    txn: &DatabaseTransaction,
    id: &str,
    name: &str,
    tag: &str,
    parent: Option<&str>,
) -> anyhow::Result<()> {
    zone::ActiveModel {
        id: Set(id.into()),
        name: Set(name.into()),
        description: Set(None),
        tags: Set(Some(list(&[tag]))),
        location: Set(None),
        display_name: Set(Some(name.into())),
        code: Set(None),
        r#type: Set(None),
        count: Set(None),
        capacity: Set(None),
        map_id: Set((tag == "level").then(|| format!("maps/{id}.svg"))),
        parent_id: Set(parent.map(String::from)),
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn insert_system(
    txn: &DatabaseTransaction,
    id: &str,
    name: &str,
    capacity: i32,
    zones: &[&str],
    modules: &[&str],
) -> anyhow::Result<()> {
    let email = format!("{}@rooms.example", name.to_lowercase().replace(' ', "."));
    control_system::ActiveModel {
        id: Set(id.into()),
        name: Set(name.into()),
        description: Set(None),
        features: Set(Some("vidconf".into())),
        email: Set(Some(email)),
        bookable: Set(Some(true)),
        display_name: Set(Some(name.into())),
        code: Set(None),
        r#type: Set(Some("meeting_room".into())),
        capacity: Set(Some(capacity)),
        map_id: Set(None),
        images: Set(None),
        timezone: Set(Some("Europe/Berlin".into())),
        support_url: Set(None),
        // Each module appended to the system bumped its version.
        version: Set(Some(i32::try_from(modules.len())?)),
        installed_ui_devices: Set(Some(1)),
        zones: Set(Some(list(zones))),
        modules: Set(Some(list(modules))),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// How a module reaches what it drives.
enum Connection<'a> {
    /// A device module: IP address and port.
    Ip(&'a str, i32),
    /// A service module: a URI.
    Uri(&'a str),
    /// A logic module: the system it runs in.
    Logic(&'a str),
}

/// A module of `driver`, which gives it its name and role.
async fn insert_module(
    txn: &DatabaseTransaction,
    id: &str,
    driver: &DriverSpec,
    connection: Connection<'_>,
) -> anyhow::Result<()> {
    module_model(id, driver, connection).insert(txn).await?;
    Ok(())
}

/// The row [`insert_module`] writes, for a caller that sets more of it.
fn module_model(id: &str, driver: &DriverSpec, connection: Connection<'_>) -> module::ActiveModel {
    let mut module = module::ActiveModel {
        id: Set(id.into()),
        ip: Set(None),
        port: Set(None),
        tls: Set(Some(false)),
        udp: Set(Some(false)),
        makebreak: Set(Some(false)),
        uri: Set(None),
        name: Set(Some(driver.name.into())),
        custom_name: Set(None),
        role: Set(Some(driver.role)),
        connected: Set(Some(true)),
        running: Set(Some(true)),
        notes: Set(None),
        ignore_connected: Set(Some(false)),
        ignore_startstop: Set(Some(false)),
        control_system_id: Set(None),
        driver_id: Set(Some(driver.id.into())),
        edge_id: Set(None),
    };
    match connection {
        Connection::Ip(ip, port) => {
            module.ip = Set(Some(ip.into()));
            module.port = Set(Some(port));
        }
        Connection::Uri(uri) => {
            module.uri = Set(Some(uri.into()));
            module.tls = Set(Some(true));
        }
        Connection::Logic(system) => module.control_system_id = Set(Some(system.into())),
    }
    module
}

/// What a settings row belongs to.
enum Owner<'a> {
    System(&'a str),
    Module(&'a str),
    Zone(&'a str),
    Driver(&'a str),
}

/// A settings document (YAML, as PlaceOS stores it); `keys` lists its
/// top-level keys.
async fn insert_setting(
    txn: &DatabaseTransaction,
    id: &str,
    level: EncryptionLevel,
    yaml: &str,
    owner: Owner<'_>,
) -> anyhow::Result<()> {
    let keys: Vec<&str> = yaml
        .lines()
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.split_once(':').map(|(key, _)| key))
        .collect();
    let mut setting = setting::ActiveModel {
        id: Set(id.into()),
        encryption_level: Set(level),
        settings_string: Set(Some(yaml.into())),
        keys: Set(Some(list(&keys))),
        driver_id: Set(None),
        control_system_id: Set(None),
        module_id: Set(None),
        zone_id: Set(None),
    };
    match owner {
        Owner::System(id) => setting.control_system_id = Set(Some(id.into())),
        Owner::Module(id) => setting.module_id = Set(Some(id.into())),
        Owner::Zone(id) => setting.zone_id = Set(Some(id.into())),
        Owner::Driver(id) => setting.driver_id = Set(Some(id.into())),
    }
    setting.insert(txn).await?;
    Ok(())
}

/// Metadata on a zone or a system (`parent_id` names either), whose
/// `details` follow `schema` when there is one.
async fn insert_metadata(
    txn: &DatabaseTransaction,
    id: &str,
    parent: &str,
    keyword: &str,
    details: serde_json::Value,
    schema: Option<&str>,
) -> anyhow::Result<()> {
    metadata::ActiveModel {
        id: Set(id.into()),
        keyword: Set(keyword.into()),
        description: Set(None),
        details: Set(Some(details.to_string())),
        editors: Set(None),
        parent_id: Set(Some(parent.into())),
        schema_id: Set(schema.map(String::from)),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// An OAuth application an authority's front ends sign in through, owned by
/// the authority (`owner_id`): first-party, so users are not asked to
/// authorise it.
fn application(
    id: &str,
    authority: &str,
    name: &str,
    redirect_uri: &str,
    secret: &str,
) -> doorkeeper_application::ActiveModel {
    doorkeeper_application::ActiveModel {
        id: Set(id.into()),
        name: Set(Some(name.into())),
        secret: Set(Some(secret.into())),
        scopes: Set(Some("public".into())),
        owner_id: Set(Some(authority.into())),
        redirect_uri: Set(Some(redirect_uri.into())),
        skip_authorisation: Set(Some(true)),
        confidential: Set(Some(false)),
        revoked_at: Set(None),
    }
}

/// An API key of `user`, in the user's own authority.
async fn insert_api_key(
    txn: &DatabaseTransaction,
    id: &str,
    (user, authority): (&str, &str),
    name: &str,
    description: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    api_key::ActiveModel {
        id: Set(id.into()),
        name: Set(name.into()),
        description: Set(Some(description.into())),
        scopes: Set(Some(json!(["public"]).to_string())),
        user_id: Set(user.into()),
        authority_id: Set(authority.into()),
        created_at: Set(created),
        updated_at: Set(created),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// How a broker's MQTT client proves who it is.
enum BrokerAuth<'a> {
    /// A username and password.
    UserPassword(&'a str, &'a str),
    /// A client certificate (PEM).
    Certificate(&'a str),
}

/// An MQTT broker that PlaceOS publishes module state to. Values matching
/// its filters (email addresses) are hashed with its `secret` first.
async fn insert_broker(
    txn: &DatabaseTransaction,
    id: &str,
    name: &str,
    host: &str,
    auth: BrokerAuth<'_>,
    secret: &str,
) -> anyhow::Result<()> {
    let mut broker = broker::ActiveModel {
        id: Set(id.into()),
        auth_type: Set(None),
        name: Set(Some(name.into())),
        description: Set(Some(
            "Module state for the building dashboards, over MQTT with TLS".into(),
        )),
        host: Set(Some(host.into())),
        port: Set(Some(8883)),
        tls: Set(Some(true)),
        username: Set(None),
        password: Set(None),
        certificate: Set(None),
        secret: Set(Some(secret.into())),
        filters: Set(Some(json!([r"[\w.+-]+@[\w-]+\.[\w.-]+"]).to_string())),
    };
    match auth {
        BrokerAuth::UserPassword(username, password) => {
            broker.auth_type = Set(Some("user_password".into()));
            broker.username = Set(Some(username.into()));
            broker.password = Set(Some(password.into()));
        }
        BrokerAuth::Certificate(pem) => {
            broker.auth_type = Set(Some("certificate".into()));
            broker.certificate = Set(Some(pem.into()));
        }
    }
    broker.insert(txn).await?;
    Ok(())
}

/// How Avalon's staff sign in: the company's Active Directory and
/// Microsoft 365 (Entra ID) single sign-on.
async fn avalon_sign_in(txn: &DatabaseTransaction, authority: &str) -> anyhow::Result<()> {
    ldap_schema::ActiveModel {
        id: Set("ldap-AV00000001".into()),
        name: Set(Some("Avalon Active Directory".into())),
        port: Set(Some(636)),
        auth_method: Set(Some("ssl".into())),
        uid: Set(Some("sAMAccountName".into())),
        host: Set(Some("dc01.avalon.example".into())),
        base: Set(Some("DC=avalon,DC=example".into())),
        bind_dn: Set(Some(
            "CN=PlaceOS Service,OU=Service Accounts,DC=avalon,DC=example".into(),
        )),
        password: Set(Some("demo-bind-AV-q4Rw8tK2pX7m".into())),
        filter: Set(Some(
            "(&(objectClass=user)(memberOf=CN=PlaceOS Users,OU=Groups,DC=avalon,DC=example))"
                .into(),
        )),
        authority_id: Set(Some(authority.into())),
    }
    .insert(txn)
    .await?;
    let entra = "https://login.microsoftonline.com/avalon.example/oauth2/v2.0";
    oauth_authentication::ActiveModel {
        id: Set("oauth-AV00000001".into()),
        name: Set(Some("Avalon Microsoft 365".into())),
        client_id: Set(Some("7c1e2a94-5b3d-4f8e-9a61-0d2c4b7e8f13".into())),
        client_secret: Set(Some("demo-entra-AV-Qx8.z3Lm9Vt2Rk6Wp1Hs".into())),
        info_mappings: Set(Some(
            json!({
                "email": "mail",
                "login_name": "userPrincipalName",
                "name": "displayName",
                "first_name": "givenName",
                "last_name": "surname",
            })
            .to_string(),
        )),
        authorize_paramas: Set(Some(json!({ "prompt": "select_account" }).to_string())),
        ensure_matching: Set(None),
        simple: Set(None),
        authorize_url: Set(Some(format!("{entra}/authorize"))),
        token_method: Set(Some("post".into())),
        auth_scheme: Set(Some("request_body".into())),
        token_url: Set(Some(format!("{entra}/token"))),
        scope: Set(Some("openid profile email offline_access User.Read".into())),
        raw_info_url: Set(Some("https://graph.microsoft.com/v1.0/me".into())),
        authority_id: Set(Some(authority.into())),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// How Borduria's staff sign in: the railway's OpenLDAP directory and
/// Google Workspace, restricted to its own domain.
async fn borduria_sign_in(txn: &DatabaseTransaction, authority: &str) -> anyhow::Result<()> {
    ldap_schema::ActiveModel {
        id: Set("ldap-BD00000001".into()),
        name: Set(Some("Borduria Rail directory".into())),
        port: Set(Some(389)),
        auth_method: Set(Some("tls".into())),
        uid: Set(Some("uid".into())),
        host: Set(Some("ldap.borduria.example".into())),
        base: Set(Some("ou=people,dc=borduria,dc=example".into())),
        bind_dn: Set(Some("cn=placeos,ou=services,dc=borduria,dc=example".into())),
        password: Set(Some("demo-bind-BD-n7Vc2Lq9Ht4s".into())),
        filter: Set(Some("(objectClass=inetOrgPerson)".into())),
        authority_id: Set(Some(authority.into())),
    }
    .insert(txn)
    .await?;
    oauth_authentication::ActiveModel {
        id: Set("oauth-BD00000001".into()),
        name: Set(Some("Borduria Google Workspace".into())),
        client_id: Set(Some(
            "104683927155-demo7borduria3placeos.apps.googleusercontent.com".into(),
        )),
        client_secret: Set(Some("demo-google-BD-m2Xk9cL4tH8nR1vQ".into())),
        info_mappings: Set(Some(
            json!({
                "email": "email",
                "login_name": "email",
                "name": "name",
                "first_name": "given_name",
                "last_name": "family_name",
            })
            .to_string(),
        )),
        authorize_paramas: Set(Some(
            json!({ "hd": "borduria.example", "prompt": "select_account" }).to_string(),
        )),
        // Google names the account's Workspace domain in `hd`.
        ensure_matching: Set(Some(json!({ "hd": ["borduria.example"] }).to_string())),
        simple: Set(None),
        authorize_url: Set(Some("https://accounts.google.com/o/oauth2/v2/auth".into())),
        token_method: Set(Some("post".into())),
        auth_scheme: Set(Some("request_body".into())),
        token_url: Set(Some("https://oauth2.googleapis.com/token".into())),
        scope: Set(Some("openid email profile".into())),
        raw_info_url: Set(Some(
            "https://openidconnect.googleapis.com/v1/userinfo".into(),
        )),
        authority_id: Set(Some(authority.into())),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// avalon.example: Harbour House with two levels, a boardroom and a huddle
/// room.
async fn avalon(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let authority = "authority-AV00000001";
    let domain = "avalon.example";
    insert_authority(txn, authority, "Avalon Holdings", domain).await?;
    for (id, person, role) in [
        ("user-AV00000001", ("Nora", "Quist"), Role::SysAdmin),
        ("user-AV00000002", ("Omar", "Haddad"), Role::Support),
        ("user-AV00000003", ("Pia", "Lund"), Role::Staff),
    ] {
        insert_user(txn, id, authority, person, domain, role).await?;
    }
    avalon_sign_in(txn, authority).await?;
    application(
        "app-AV00000001",
        authority,
        "backoffice",
        "https://avalon.example/backoffice/oauth-resp.html",
        "demo-app-AV-9fK3xQ7mW2vB5nL8tR4pZ6cY",
    )
    .insert(txn)
    .await?;
    // The lobby kiosk's own application, retired when the kiosks moved to
    // the backoffice's.
    let mut kiosk = application(
        "app-AV00000002",
        authority,
        "Lobby kiosk",
        "https://avalon.example/kiosk/oauth-resp.html",
        "demo-app-AV-2Lp8sD5kV1qN7wX4bT9mR3hJ",
    );
    kiosk.revoked_at = Set(Some(at(2026, 10, 30, 17, 0)?));
    kiosk.insert(txn).await?;
    insert_api_key(
        txn,
        "api-key-AV00000001",
        ("user-AV00000001", authority),
        "Workplace app sync",
        "Nightly sync of rooms and zones into the Avalon workplace app",
        at(2026, 9, 14, 10, 30)?,
    )
    .await?;
    insert_broker(
        txn,
        "broker-AV00000001",
        "Harbour House MQTT",
        "mqtt.avalon.example",
        BrokerAuth::UserPassword("placeos-source", "demo-mqtt-AV-7Hq2Lw9xVb4N"),
        "demo-filter-AV-k3P9sT6wQ1zR",
    )
    .await?;

    let (org, region, building) = ("zone-AV00000001", "zone-AV00000002", "zone-AV00000003");
    let (level1, level2) = ("zone-AV00000004", "zone-AV00000005");
    insert_zone(txn, org, "Avalon Holdings", "org", None).await?;
    insert_zone(txn, region, "Avalon North", "region", Some(org)).await?;
    insert_zone(txn, building, "Harbour House", "building", Some(region)).await?;
    insert_zone(
        txn,
        level1,
        "Harbour House Level 1",
        "level",
        Some(building),
    )
    .await?;
    insert_zone(
        txn,
        level2,
        "Harbour House Level 2",
        "level",
        Some(building),
    )
    .await?;

    let boardroom = "sys-AV00000001";
    let huddle = "sys-AV00000002";
    let (display, calendar, switch) = ("mod-AV00000001", "mod-AV00000002", "mod-AV00000003");
    let (boardroom_logic, huddle_logic) = ("mod-AV00000004", "mod-AV00000005");
    // The building's edge node: modules it runs talk to their devices from
    // inside Harbour House's network.
    let edge = "edge-AV00000001";
    edge::ActiveModel {
        id: Set(edge.into()),
        name: Set(Some("Harbour House edge".into())),
        description: Set(Some(
            "Edge node in Harbour House's comms room, next to the building network".into(),
        )),
        secret: Set(Some("demo-edge-AV-H4t9Qm2Xw7Lp3Vn8".into())),
    }
    .insert(txn)
    .await?;
    // Systems first: logic modules point at them.
    insert_system(
        txn,
        boardroom,
        "Harbour Boardroom",
        16,
        &[org, region, building, level1],
        &[display, calendar, boardroom_logic],
    )
    .await?;
    insert_system(
        txn,
        huddle,
        "Harbour Huddle 2A",
        4,
        &[org, region, building, level2],
        &[calendar, huddle_logic],
    )
    .await?;
    insert_module(txn, display, &DISPLAY, Connection::Ip("10.10.1.21", 1515)).await?;
    insert_module(
        txn,
        calendar,
        &CALENDAR,
        Connection::Uri("https://graph.microsoft.com/v1.0"),
    )
    .await?;
    // The building's network switch, managed over SSH outside any system,
    // from the edge node.
    let mut on_edge = module_model(switch, &SWITCH, Connection::Ip("10.10.0.2", 22));
    on_edge.edge_id = Set(Some(edge.into()));
    on_edge.insert(txn).await?;
    insert_module(
        txn,
        boardroom_logic,
        &ROOM_LOGIC,
        Connection::Logic(boardroom),
    )
    .await?;
    insert_module(txn, huddle_logic, &ROOM_LOGIC, Connection::Logic(huddle)).await?;

    insert_setting(
        txn,
        "settings-AV00000001",
        EncryptionLevel::None,
        "room_name: Harbour Boardroom\njoin_modes:\n  - single\n  - divided\n",
        Owner::System(boardroom),
    )
    .await?;
    insert_setting(
        txn,
        "settings-AV00000002",
        EncryptionLevel::Admin,
        "client_id: 0f6c2d4e-demo\nclient_secret: \"!\"\ntenant: avalon.example\n",
        Owner::Module(calendar),
    )
    .await?;
    insert_setting(
        txn,
        "settings-AV00000003",
        EncryptionLevel::Support,
        "network_vlan: 120\nsupport_contact: facilities@avalon.example\n",
        Owner::Zone(building),
    )
    .await?;
    insert_setting(
        txn,
        "settings-AV00000004",
        EncryptionLevel::None,
        "timezone: Europe/Berlin\n",
        Owner::Zone(org),
    )
    .await?;

    insert_metadata(
        txn,
        "metadata-AV00000001",
        level1,
        "map_regions",
        json!({ "areas": [{ "id": "area-boardroom", "name": "Harbour Boardroom" }] }),
        Some(MAP_REGIONS_SCHEMA),
    )
    .await?;
    insert_metadata(
        txn,
        "metadata-AV00000002",
        boardroom,
        "bookings",
        json!({ "min_booking_minutes": 15, "max_booking_minutes": 240 }),
        Some(BOOKINGS_SCHEMA),
    )
    .await?;
    Ok(())
}

/// borduria.example: the Szohod depot with one level and one training room.
async fn borduria(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let authority = "authority-BD00000001";
    let domain = "borduria.example";
    insert_authority(txn, authority, "Borduria Rail", domain).await?;
    for (id, person, role) in [
        ("user-BD00000001", ("Radu", "Sorin"), Role::SysAdmin),
        ("user-BD00000002", ("Sasha", "Petrov"), Role::Support),
        ("user-BD00000003", ("Tibor", "Kis"), Role::Staff),
    ] {
        insert_user(txn, id, authority, person, domain, role).await?;
    }
    borduria_sign_in(txn, authority).await?;
    application(
        "app-BD00000001",
        authority,
        "backoffice",
        "https://borduria.example/backoffice/oauth-resp.html",
        "demo-app-BD-6tH1wR8nC3vM9kQ2zL5xP7bF",
    )
    .insert(txn)
    .await?;
    insert_api_key(
        txn,
        "api-key-BD00000001",
        ("user-BD00000001", authority),
        "Depot signage",
        "Reads the training room's bookings for the depot's lobby screen",
        at(2026, 10, 6, 8, 15)?,
    )
    .await?;
    insert_broker(
        txn,
        "broker-BD00000001",
        "Szohod depot MQTT",
        "mqtt.borduria.example",
        BrokerAuth::Certificate(concat!(
            "-----BEGIN CERTIFICATE-----\n",
            "MIIBdemoBorduriaPlaceOSBrokerClientNotARealCertificate==\n",
            "-----END CERTIFICATE-----\n",
        )),
        "demo-filter-BD-p6Yf3Nw8Jc1T",
    )
    .await?;

    let (org, region, building) = ("zone-BD00000001", "zone-BD00000002", "zone-BD00000003");
    let level = "zone-BD00000004";
    insert_zone(txn, org, "Borduria Rail", "org", None).await?;
    insert_zone(txn, region, "Szohod", "region", Some(org)).await?;
    insert_zone(
        txn,
        building,
        "Szohod Central Depot",
        "building",
        Some(region),
    )
    .await?;
    insert_zone(txn, level, "Depot Ground Floor", "level", Some(building)).await?;

    let training = "sys-BD00000001";
    let (display, logic) = ("mod-BD00000001", "mod-BD00000002");
    insert_system(
        txn,
        training,
        "Depot Training Room",
        24,
        &[org, region, building, level],
        &[display, logic],
    )
    .await?;
    insert_module(
        txn,
        display,
        &DISPLAY,
        Connection::Ip("192.168.40.11", 1515),
    )
    .await?;
    insert_module(txn, logic, &ROOM_LOGIC, Connection::Logic(training)).await?;

    insert_setting(
        txn,
        "settings-BD00000001",
        EncryptionLevel::None,
        "room_name: Depot Training Room\n",
        Owner::System(training),
    )
    .await?;
    insert_setting(
        txn,
        "settings-BD00000002",
        EncryptionLevel::Support,
        "display_input: HDMI1\n",
        Owner::Module(display),
    )
    .await?;
    insert_metadata(
        txn,
        "metadata-BD00000001",
        building,
        "opening_hours",
        json!({ "weekdays": "06:00-22:00", "weekend": "closed" }),
        Some(OPENING_HOURS_SCHEMA),
    )
    .await?;
    Ok(())
}

/// "Turn the display off when the room empties", bound to Avalon's
/// boardroom.
async fn insert_trigger(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let trigger = "trigger-AV00000001";
    let boardroom = "sys-AV00000001";
    trigger::ActiveModel {
        id: Set(trigger.into()),
        name: Set("Display off when the room is empty".into()),
        description: Set(Some(
            "Powers the display down ten minutes after the last person leaves".into(),
        )),
        actions: Set(Some(json!({
            "functions": [{ "mod": "Display_1", "method": "power", "args": { "state": false } }],
            "mailers": [],
        }))),
        conditions: Set(Some(json!({
            "comparisons": [{
                "left": { "mod": "Bookings_1", "status": "people_count" },
                "operator": "equal",
                "right": 0,
            }],
            "time_dependents": [],
        }))),
        debounce_period: Set(Some(600)),
        important: Set(Some(false)),
        enable_webhook: Set(Some(false)),
        zone_id: Set(None),
        control_system_id: Set(Some(boardroom.into())),
    }
    .insert(txn)
    .await?;
    trigger_instance::ActiveModel {
        id: Set("trig-AV00000001".into()),
        enabled: Set(Some(true)),
        triggered: Set(Some(false)),
        important: Set(Some(false)),
        exec_method: Set(None),
        webhook_secret: Set(Some("!".into())),
        trigger_count: Set(Some(7)),
        trigger_id: Set(Some(trigger.into())),
        control_system_id: Set(Some(boardroom.into())),
        zone_id: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The cluster's state as its services report it: the version of each
/// service and a statistics snapshot.
async fn insert_cluster_status(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    const PLATFORM: &str = "placeos-1.2611.0";
    for (id, service, commit, release, built) in [
        (
            "version-0000000001",
            "rest-api",
            "8d41f0c",
            "1.58.2",
            "2026-11-03T09:12:44Z",
        ),
        (
            "version-0000000002",
            "core",
            "c27e9ab",
            "4.15.1",
            "2026-11-03T09:20:07Z",
        ),
        (
            "version-0000000003",
            "triggers",
            "51b3d6e",
            "1.11.0",
            "2026-11-03T09:16:31Z",
        ),
    ] {
        version::ActiveModel {
            id: Set(id.into()),
            service: Set(Some(service.into())),
            commit: Set(Some(commit.into())),
            version: Set(Some(release.into())),
            build_time: Set(Some(built.into())),
            platform_version: Set(Some(PLATFORM.into())),
        }
        .insert(txn)
        .await?;
    }
    // Every module connected, the one trigger not firing, a touch panel
    // (`installed_ui_devices`) on each of the three systems, and two core
    // nodes.
    statistic::ActiveModel {
        id: Set("statistics-0000000001".into()),
        modules_disconnected: Set(Some(0)),
        triggers_active: Set(Some(0)),
        websocket_connections: Set(Some(5)),
        fixed_connections: Set(Some(3)),
        core_nodes_online: Set(Some(2)),
    }
    .insert(txn)
    .await?;
    Ok(())
}
