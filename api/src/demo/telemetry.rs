//! Telemetry demo data: one supplier and its three device models with the
//! identifiers that recognise them; the lookup tables; two customers with
//! their devices and users, plus an operator superuser; and a short,
//! append-only event history per device with sensor, log and setting data.

use chrono::{DateTime, Duration, Utc};
use entity::telemetry::{
    customer, customer_device, device, device_event, device_supplier, identifier, log_data,
    log_type, sensor_data, sensor_type, setting_data, user, visualization_type,
};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use serde_json::json;

use super::at;

pub(super) async fn load(txn: &DatabaseTransaction) -> anyhow::Result<()> {
    // Customers first: the domain counts as loaded once one exists.
    let avalon = insert_customer(txn, "Avalon Water Works", "AV-204981736", 2).await?;
    let borduria = insert_customer(txn, "Borduria Rail", "BD-55102947", 1).await?;
    let lookups = insert_lookups(txn).await?;
    let models = insert_device_models(txn).await?;

    insert_user(
        txn,
        "ops@telemetry.example",
        ("Quinn", "Operator"),
        None,
        true,
    )
    .await?;
    insert_user(
        txn,
        "h.vale@avalonwater.example",
        ("Hana", "Vale"),
        Some(avalon.id),
        false,
    )
    .await?;
    insert_user(
        txn,
        "i.brook@avalonwater.example",
        ("Ivo", "Brook"),
        Some(avalon.id),
        false,
    )
    .await?;
    insert_user(
        txn,
        "k.marek@borduriarail.example",
        ("Karel", "Marek"),
        Some(borduria.id),
        false,
    )
    .await?;

    // (customer, model, serial number, registration code, name, network ip)
    let devices = [
        (
            avalon.id,
            Kind::Climate,
            "TH200-000731",
            "R7K2-0731",
            "Pump house 1 climate",
            "10.20.0.31",
        ),
        (
            avalon.id,
            Kind::Air,
            "PM10-004410",
            "R7K2-4410",
            "Reservoir air quality",
            "10.20.0.44",
        ),
        (
            avalon.id,
            Kind::Gateway,
            "GW1-120045",
            "R7K2-0045",
            "Treatment plant gateway",
            "10.20.0.1",
        ),
        (
            borduria.id,
            Kind::Climate,
            "TH200-000982",
            "B3X9-0982",
            "Depot server room",
            "172.16.8.12",
        ),
        (
            borduria.id,
            Kind::Gateway,
            "GW1-120311",
            "B3X9-0311",
            "Szohod yard gateway",
            "172.16.8.1",
        ),
    ];
    for (index, (customer_id, kind, serial, code, name, ip)) in (0i64..).zip(devices) {
        let unit = customer_device::ActiveModel {
            network_ip: Set(Some(ip.into())),
            registration_code: Set(Some(code.into())),
            serial_number: Set(serial.into()),
            name: Set(Some(name.into())),
            device_id: Set(models.id(kind)),
            customer_id: Set(customer_id),
            // The Borduria server-room sensor is installed but not yet watched.
            monitoring: Set(serial != "TH200-000982"),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        insert_history(txn, &unit, kind, index, &lookups).await?;
    }
    Ok(())
}

async fn insert_customer(
    txn: &DatabaseTransaction,
    name: &str,
    vat_id: &str,
    contract_level: i32,
) -> anyhow::Result<customer::Model> {
    Ok(customer::ActiveModel {
        name: Set(name.into()),
        vat_id: Set(Some(vat_id.into())),
        contract_level: Set(Some(contract_level)),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// The ids of the lookup rows the events use.
struct Lookups {
    timeseries: i32,
    singular: i32,
    line: i32,
    bar: i32,
    error: i32,
    debug: i32,
    build: i32,
}

async fn insert_lookups(txn: &DatabaseTransaction) -> anyhow::Result<Lookups> {
    let sensor = |label: &str| sensor_type::ActiveModel {
        label: Set(label.into()),
        ..Default::default()
    };
    let timeseries = sensor("timeseries").insert(txn).await?.id;
    let singular = sensor("singular").insert(txn).await?.id;

    let mut visualizations = Vec::new();
    for label in ["default", "scatter", "line", "bar"] {
        let row = visualization_type::ActiveModel {
            label: Set(label.into()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        visualizations.push(row.id);
    }
    let (line, bar) = match visualizations.as_slice() {
        &[_, _, line, bar] => (line, bar),
        _ => anyhow::bail!("expected four visualization types"),
    };

    let log = |label: &str| log_type::ActiveModel {
        label: Set(label.into()),
        ..Default::default()
    };
    Ok(Lookups {
        timeseries,
        singular,
        line,
        bar,
        error: log("error").insert(txn).await?.id,
        debug: log("debug").insert(txn).await?.id,
        build: log("build").insert(txn).await?.id,
    })
}

/// The three device models.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Climate,
    Air,
    Gateway,
}

struct DeviceModels {
    climate: i32,
    air: i32,
    gateway: i32,
}

impl DeviceModels {
    fn id(&self, kind: Kind) -> i32 {
        match kind {
            Kind::Climate => self.climate,
            Kind::Air => self.air,
            Kind::Gateway => self.gateway,
        }
    }
}

/// One supplier, three models, and the expressions that map the type
/// strings devices report to a model.
async fn insert_device_models(txn: &DatabaseTransaction) -> anyhow::Result<DeviceModels> {
    let supplier = device_supplier::ActiveModel {
        name: Set("Northwind Sensors GmbH".into()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut ids = Vec::new();
    for (name, expressions) in [
        (
            "TH-200 climate sensor",
            &["^TH-?200(-[A-Z0-9]+)?$", "^THERMO200$"][..],
        ),
        ("PM-10 air quality monitor", &["^PM-?10(\\.[0-9]+)?$"][..]),
        ("GW-1 edge gateway", &["^GW1-[0-9]{6}$"][..]),
    ] {
        let model = device::ActiveModel {
            name: Set(name.into()),
            supplier_id: Set(supplier.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        for expression in expressions {
            identifier::ActiveModel {
                device_id: Set(model.id),
                expression: Set((*expression).into()),
            }
            .insert(txn)
            .await?;
        }
        ids.push(model.id);
    }
    match ids.as_slice() {
        &[climate, air, gateway] => Ok(DeviceModels {
            climate,
            air,
            gateway,
        }),
        _ => anyhow::bail!("expected three device models"),
    }
}

async fn insert_user(
    txn: &DatabaseTransaction,
    email: &str,
    (first, last): (&str, &str),
    customer_id: Option<i32>,
    is_superuser: bool,
) -> anyhow::Result<()> {
    user::ActiveModel {
        email: Set(email.into()),
        is_active: Set(true),
        is_superuser: Set(is_superuser),
        first_name: Set(Some(first.into())),
        last_name: Set(Some(last.into())),
        customer_id: Set(customer_id),
        hashed_password: Set(super::demo_password_hash()?),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Three hourly reports per device on the reference morning: readings, the
/// first one with the device's settings and a boot log, and for gateways an
/// error on the last one.
async fn insert_history(
    txn: &DatabaseTransaction,
    unit: &customer_device::Model,
    kind: Kind,
    index: i64,
    lookups: &Lookups,
) -> anyhow::Result<()> {
    let is_gateway = kind == Kind::Gateway;
    let first = at(2026, 11, 21, 3, 0)? + Duration::minutes(index * 7);
    for hour in 0..3i64 {
        let recorded: DateTime<Utc> = first + Duration::hours(hour);
        let event = device_event::ActiveModel {
            time_recorded: Set(recorded),
            customer_device_id: Set(unit.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        match kind {
            Kind::Gateway => {
                let rssi = json!(-61 - index - hour);
                sensor(
                    txn,
                    &event,
                    lookups.singular,
                    None,
                    ("uplink_rssi", "dBm"),
                    rssi,
                )
                .await?;
            }
            Kind::Climate | Kind::Air => {
                // Five-minute samples over the past quarter hour, in tenths.
                let (label, unit, base) = match kind {
                    Kind::Climate => ("temperature", "°C", 180 + index * 9 + hour * 3),
                    _ => ("pm10", "µg/m³", 142 + hour * 17),
                };
                let samples: Vec<serde_json::Value> = (0..3i64)
                    .map(|i| {
                        let t = recorded - Duration::minutes(10 - 5 * i);
                        json!({ "t": t.to_rfc3339(), "v": (base + i) as f64 / 10.0 })
                    })
                    .collect();
                let series = json!(samples);
                sensor(
                    txn,
                    &event,
                    lookups.timeseries,
                    Some(lookups.line),
                    (label, unit),
                    series,
                )
                .await?;
                let battery = json!(97 - hour - index);
                sensor(
                    txn,
                    &event,
                    lookups.singular,
                    Some(lookups.bar),
                    ("battery", "%"),
                    battery,
                )
                .await?;
            }
        }
        if hour == 0 {
            log(
                txn,
                event.id,
                lookups.build,
                "firmware",
                json!({ "version": "2.4.1", "build": "20261102.3" }),
            )
            .await?;
            log(
                txn,
                event.id,
                lookups.debug,
                "boot",
                json!({ "message": "boot complete", "uptime_s": 12 }),
            )
            .await?;
            setting_data::ActiveModel {
                data: Set(json!({ "report_interval_s": 3600, "sample_interval_s": 300 })),
                label: Set(Some("reporting".into())),
                event_id: Set(event.id),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        if is_gateway && hour == 2 {
            log(
                txn,
                event.id,
                lookups.error,
                "uplink",
                json!({ "message": "LTE uplink lost, fell back to Wi-Fi", "code": "E_UPLINK_LOST" }),
            )
            .await?;
        }
    }
    Ok(())
}

/// A sensor reading of `event`, labelled (label, unit).
async fn sensor(
    txn: &DatabaseTransaction,
    event: &device_event::Model,
    sensor_type_id: i32,
    visualization_type_id: Option<i32>,
    (label, unit): (&str, &str),
    data: serde_json::Value,
) -> anyhow::Result<()> {
    sensor_data::ActiveModel {
        data: Set(data),
        label: Set(Some(label.into())),
        unit: Set(Some(unit.into())),
        event_id: Set(event.id),
        sensor_type_id: Set(sensor_type_id),
        visualization_type_id: Set(visualization_type_id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn log(
    txn: &DatabaseTransaction,
    event_id: i32,
    log_type_id: i32,
    label: &str,
    data: serde_json::Value,
) -> anyhow::Result<()> {
    log_data::ActiveModel {
        data: Set(data),
        label: Set(Some(label.into())),
        event_id: Set(event_id),
        log_type_id: Set(log_type_id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
