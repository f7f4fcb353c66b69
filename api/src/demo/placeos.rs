//! PlaceOS demo data: two authorities (avalon.example and borduria.example),
//! each with three users and its own zone tree (org, region, building,
//! levels) and meeting-room systems; one driver repository with drivers of
//! every kind; modules, settings at each encryption level, metadata and a
//! trigger.
//!
//! Zones and systems carry no authority column: each authority's rows are
//! kept apart by its own zone tree, and every system lists only zones of
//! one tree. Ids are strings in PlaceOS's style, `<kind>-<10 characters>`,
//! with AV or BD telling the authority apart.

use entity::placeos::sea_orm_active_enums::{DriverRole, EncryptionLevel};
use entity::placeos::{
    authority, control_system, driver, metadata, module, repository, setting, trigger,
    trigger_instance, user, zone,
};
use entity::types::StringList;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use serde_json::json;

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
    avalon(txn).await?;
    borduria(txn).await?;
    insert_trigger(txn).await?;
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
    module.insert(txn).await?;
    Ok(())
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

/// Metadata on a zone or a system (`parent_id` names either).
async fn insert_metadata(
    txn: &DatabaseTransaction,
    id: &str,
    parent: &str,
    keyword: &str,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    metadata::ActiveModel {
        id: Set(id.into()),
        keyword: Set(keyword.into()),
        description: Set(None),
        details: Set(Some(details.to_string())),
        editors: Set(None),
        parent_id: Set(Some(parent.into())),
        schema_id: Set(None),
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
    // The building's network switch, managed over SSH outside any system.
    insert_module(txn, switch, &SWITCH, Connection::Ip("10.10.0.2", 22)).await?;
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
    )
    .await?;
    insert_metadata(
        txn,
        "metadata-AV00000002",
        boardroom,
        "bookings",
        json!({ "min_booking_minutes": 15, "max_booking_minutes": 240 }),
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
