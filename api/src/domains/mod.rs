//! Domain extensions: the behaviour of each domain that no generic engine
//! derives: hooks that run inside write transactions, and the rows a create
//! carries with it.

pub mod iaso;
pub mod plannings;
pub mod teams;
pub mod tree;

use std::sync::Arc;

use async_graphql::dynamic::Field;
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Statement};

use crate::domains::tree::placeholder;
use crate::engine::Model;
use crate::engine::model::RelKind;
use crate::engine::schema::Limits;
use crate::engine::write::{Hooks, Op};
use crate::error::{ApiError, ApiResult};

/// The write hooks of a domain, by entity index.
pub fn hooks(domain: &str, model: &Model) -> Hooks {
    match domain {
        "iaso" => iaso::hooks(model),
        _ => Hooks::new(),
    }
}

// What the rule hooks share.

/// Whether a write may break a rule that reads `fields`.
pub(crate) fn touches(op: Op, input: &IndexMap<Name, GqlValue>, fields: &[&str]) -> bool {
    match op {
        Op::Create | Op::Upsert => true,
        Op::Update => fields.iter().any(|f| input.contains_key(*f)),
        Op::Delete | Op::Restore => false,
    }
}

/// The error's field: the first of `fields` the client gave, else the first.
pub(crate) fn named<'a>(input: &IndexMap<Name, GqlValue>, fields: &[&'a str]) -> &'a str {
    fields
        .iter()
        .find(|f| input.contains_key(**f))
        .or(fields.first())
        .copied()
        .unwrap_or_default()
}

/// The one row of `sql`, whose only parameter is the written row's key.
pub(crate) async fn facts(tx: &DatabaseTransaction, sql: &str, id: i64) -> ApiResult<QueryResult> {
    let backend = tx.get_database_backend();
    tx.query_one_raw(Statement::from_sql_and_values(
        backend,
        sql.replace("{key}", &placeholder(backend, 1)),
        [id.into()],
    ))
    .await?
    .ok_or_else(|| ApiError::internal("the written row is gone"))
}

/// A domain's mutations beyond the generated ones.
pub fn mutation_fields(
    domain: &str,
    model: &Arc<Model>,
    hooks: &Arc<Hooks>,
    limits: Limits,
) -> Vec<Field> {
    match domain {
        // Iaso's bulk assignment of a planning's area.
        "iaso" => plannings::assign_field(model, hooks, limits)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// Has-many relations whose rows are created with their parent, in one
/// transaction: `(entity, [relation fields])`.
fn nested_creates(domain: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match domain {
        // A device's event is posted with its sensor, log and setting data.
        "telemetry" => &[("DeviceEvent", &["sensorData", "logData", "settingData"])],
        _ => &[],
    }
}

/// Applies a domain's choices to its model: which creates carry rows of
/// their has-many relations. A name the model lacks is an error.
pub fn shape(domain: &str, model: &mut Model) -> Result<(), String> {
    for (entity, relations) in nested_creates(domain) {
        let index = model
            .entity_index(entity)
            .ok_or_else(|| format!("{domain}: nested creates: no entity {entity}"))?;
        for relation in *relations {
            let info = &model.entities[index];
            let r = info
                .relations
                .iter()
                .position(|r| r.gql == *relation && matches!(r.kind, RelKind::HasMany { .. }))
                .ok_or_else(|| {
                    format!("{domain}: nested creates: {entity} has no has-many `{relation}`")
                })?;
            model.entities[index].nested.push(r);
        }
    }
    Ok(())
}

/// Registers `hook` for the entity named `entity`, if the model has it.
fn add(hooks: &mut Hooks, model: &Model, entity: &str, hook: Arc<dyn crate::engine::write::Hook>) {
    if let Some(index) = model.entity_index(entity) {
        hooks.entry(index).or_default().push(hook);
    }
}
