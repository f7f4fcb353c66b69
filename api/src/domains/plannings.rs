//! Iaso's planning rules. A planning's team is in its project, so is the
//! type of its root org unit, and a published planning has both dates (in
//! order). An assignment goes to exactly one of a user or a team, for an
//! org unit inside its planning's root subtree. (A planning's forms are a
//! many-to-many link the API does not write; `(planning, org_unit)` is kept
//! unique among live assignments by a partial unique index.)

use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, InputValue, TypeRef};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Statement};

use crate::domains::tree::{integer_key, placeholder};
use crate::domains::{facts, named, touches};
use crate::engine::mutation::{arg, db_and_writer, nodes, written};
use crate::engine::pagination::{Window, parse_order};
use crate::engine::schema::{Limits, request};
use crate::engine::sql::{self, ListSpec};
use crate::engine::value::key_text;
use crate::engine::write::{self, Hook, HookFuture, Hooks, Item, Op, WriteContext, Written};
use crate::engine::{Map, Model};
use crate::error::{ApiError, ApiResult};

pub struct PlanningRules;

pub struct AssignmentRules;

/// A yes/no column of `row`; null (an unknown path, say) is no.
fn flag(row: &QueryResult, name: &str) -> ApiResult<bool> {
    // SQLite answers a comparison with an integer.
    match row.try_get::<Option<bool>>("", name) {
        Ok(b) => Ok(b.unwrap_or(false)),
        Err(_) => row
            .try_get::<Option<i64>>("", name)
            .map(|n| n.is_some_and(|n| n != 0))
            .map_err(ApiError::internal),
    }
}

const PLANNING: &str = "SELECT \
     (t.id IS NOT NULL AND t.project_id = p.project_id) AS team_in_project, \
     EXISTS (SELECT 1 FROM org_unit o JOIN org_unit_type_projects tp \
       ON tp.org_unit_type_id = o.org_unit_type_id AND tp.project_id = p.project_id \
       WHERE o.id = p.org_unit_id) AS root_type_in_project, \
     (p.published_at IS NULL OR (p.started_at IS NOT NULL AND p.ended_at IS NOT NULL)) AS dated, \
     (p.started_at IS NULL OR p.ended_at IS NULL OR p.started_at <= p.ended_at) AS ordered \
     FROM planning p LEFT JOIN team t ON t.id = p.team_id WHERE p.id = {key}";

impl Hook for PlanningRules {
    fn after_write<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        _model: &'a Model,
        _entity: usize,
        op: Op,
        key: &'a GqlValue,
        input: &'a IndexMap<Name, GqlValue>,
    ) -> HookFuture<'a> {
        Box::pin(async move {
            let fields = [
                "teamId",
                "projectId",
                "orgUnitId",
                "publishedAt",
                "startedAt",
                "endedAt",
            ];
            if !touches(op, input, &fields) {
                return Ok(());
            }
            let row = facts(tx, PLANNING, integer_key(key, "a planning")?).await?;
            if !flag(&row, "team_in_project")? {
                return Err(ApiError::bad_field(
                    named(input, &["teamId", "projectId"]),
                    "a planning's team is in the planning's project",
                ));
            }
            if !flag(&row, "root_type_in_project")? {
                return Err(ApiError::bad_field(
                    named(input, &["orgUnitId", "projectId"]),
                    "the type of a planning's root org unit must be one of the project's",
                ));
            }
            if !flag(&row, "dated")? {
                return Err(ApiError::bad_field(
                    named(input, &["publishedAt", "startedAt", "endedAt"]),
                    "a published planning needs both `startedAt` and `endedAt`",
                ));
            }
            if !flag(&row, "ordered")? {
                return Err(ApiError::bad_field(
                    named(input, &["endedAt", "startedAt"]),
                    "a planning ends on or after the day it starts",
                ));
            }
            Ok(())
        })
    }
}

/// The unit is the root or below it: its path is the root's, or starts with
/// the root's and a dot (paths are ids from the top, joined by dots).
const ASSIGNMENTS: &str = "SELECT CAST(a.id AS BIGINT) AS id, \
     ((a.user_id IS NULL) <> (a.team_id IS NULL)) AS one_assignee, \
     (o.path = r.path OR substr(o.path, 1, length(r.path) + 1) = r.path || '.') AS in_subtree \
     FROM assignment a JOIN planning p ON p.id = a.planning_id \
     JOIN org_unit r ON r.id = p.org_unit_id JOIN org_unit o ON o.id = a.org_unit_id \
     WHERE a.id IN ({keys})";

/// Checks written assignments in one statement; the first that breaks a
/// rule is refused, its field named under its item's path.
async fn check_assignments(tx: &DatabaseTransaction, written: &[Written<'_>]) -> ApiResult<()> {
    let written: Vec<(i64, &Written<'_>)> = written
        .iter()
        .map(|w| integer_key(w.key, "an assignment").map(|id| (id, w)))
        .collect::<ApiResult<_>>()?;
    if written.is_empty() {
        return Ok(());
    }
    let backend = tx.get_database_backend();
    let keys: Vec<String> = (1..=written.len())
        .map(|n| placeholder(backend, n))
        .collect();
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            ASSIGNMENTS.replace("{keys}", &keys.join(", ")),
            written.iter().map(|(id, _)| (*id).into()),
        ))
        .await?;
    let mut found: Map<i64, (bool, bool)> = Map::default();
    for row in &rows {
        let id: i64 = row.try_get("", "id").map_err(ApiError::internal)?;
        found.insert(id, (flag(row, "one_assignee")?, flag(row, "in_subtree")?));
    }
    for (id, w) in written {
        let field = |names: &[&'static str]| match w.path {
            "" => named(w.input, names).to_owned(),
            path => format!("{path}.{}", named(w.input, names)),
        };
        let (one_assignee, in_subtree) = found
            .get(&id)
            .copied()
            .ok_or_else(|| ApiError::internal("a written assignment is gone"))?;
        if !one_assignee {
            return Err(ApiError::bad_field(
                field(&["userId", "teamId"]),
                "an assignment goes to exactly one of `userId` or `teamId`",
            ));
        }
        if !in_subtree {
            return Err(ApiError::bad_field(
                field(&["orgUnitId", "planningId"]),
                "an assignment's org unit is inside its planning's root subtree",
            ));
        }
    }
    Ok(())
}

impl Hook for AssignmentRules {
    fn after_write<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        _model: &'a Model,
        _entity: usize,
        op: Op,
        key: &'a GqlValue,
        input: &'a IndexMap<Name, GqlValue>,
    ) -> HookFuture<'a> {
        Box::pin(async move {
            if !touches(op, input, &["userId", "teamId", "planningId", "orgUnitId"]) {
                return Ok(());
            }
            check_assignments(
                tx,
                &[Written {
                    key,
                    path: "",
                    input,
                }],
            )
            .await
        })
    }

    /// An assignment's rules read only its own row, its planning and two
    /// units: a batch is written together and checked in one statement.
    fn batched(&self) -> bool {
        true
    }

    fn after_batch<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        _model: &'a Model,
        _entity: usize,
        op: Op,
        written: &'a [Written<'a>],
    ) -> HookFuture<'a> {
        Box::pin(async move {
            match op {
                Op::Create | Op::Upsert => check_assignments(tx, written).await,
                Op::Update | Op::Delete | Op::Restore => Ok(()),
            }
        })
    }
}

/// How many pages of a batch limit's units `assignOrgUnits` looks through
/// for units not yet assigned.
const SCANNED_PAGES: usize = 10;

/// `assignOrgUnits`: Iaso's bulk assignment. Every org unit below
/// `parentId` (of `orgUnitTypeId`, when given) that the planning does not
/// assign yet gets an assignment to the team or user, in one batch: the
/// caller's read scope chooses the units, and the batch is written as
/// `createAssignments` writes one (permissions, references, the rules
/// above, at most the batch limit of units, all or nothing). An area with
/// more units than [`SCANNED_PAGES`] batches is refused, however few of
/// them are new.
pub fn assign_field(model: &Arc<Model>, hooks: &Arc<Hooks>, limits: Limits) -> Option<Field> {
    let assignment = model.entity_index("Assignment")?;
    let unit = model.entity_index("OrgUnit")?;
    let (m, h) = (model.clone(), hooks.clone());
    let field = Field::new(
        "assignOrgUnits",
        TypeRef::named_nn_list_nn("Assignment"),
        move |ctx| {
            let (m, h) = (m.clone(), h.clone());
            FieldFuture::new(async move {
                let (db, writer, access) = db_and_writer(&ctx, &m, assignment)?;
                let get = |name: &str| arg(&ctx, name).filter(|v| !matches!(v, GqlValue::Null));
                let (planning, parent) = (get("planningId"), get("parentId"));
                let reader = &request(&ctx)?.reader;
                let info = &m.entities[unit];
                let column = |name: &str| {
                    info.column_index(name)
                        .ok_or_else(|| ApiError::internal(format!("OrgUnit has no {name}")))
                };
                let (id, path) = (column("id")?, column("path")?);
                let read = |filter: GqlValue, entity: usize, columns: Vec<usize>| {
                    let info = &m.entities[entity];
                    Ok::<_, ApiError>(ListSpec {
                        filter: Some(filter),
                        include_deleted: false,
                        terms: parse_order(info, None)?,
                        window: Window {
                            backward: false,
                            limit: u64::try_from(limits.max_batch).unwrap_or(u64::MAX),
                            after: None,
                            before: None,
                        },
                        projection: Arc::new(columns),
                    })
                };
                // The parent, as the caller may read it.
                let parents = sql::fetch_page(
                    reader,
                    &m,
                    unit,
                    &read(json_value(serde_json::json!({ "id": { "eq": parent } }))?, unit, vec![id, path])?,
                )
                .await?;
                let Some(root) = parents.rows.first() else {
                    return Err(ApiError::bad_field("parentId", "no such org unit").into());
                };
                let GqlValue::String(root_path) = root.get(path) else {
                    return Err(ApiError::bad_field("parentId", "this org unit has no path").into());
                };
                let mut below = serde_json::json!({ "path": { "startsWith": format!("{root_path}.") } });
                if let Some(kind) = get("orgUnitTypeId") {
                    below["orgUnitTypeId"] = serde_json::json!({ "eq": kind.into_json().unwrap_or_default() });
                }
                let unit_of = m.entities[assignment]
                    .column_index("org_unit_id")
                    .ok_or_else(|| ApiError::internal("Assignment has no org_unit_id"))?;
                let json = |v: &GqlValue| v.clone().into_json().unwrap_or_default();
                let too_many = || {
                    ApiError::bad_field(
                        "parentId",
                        format!("more than {} org units to assign: assign a smaller area", limits.max_batch),
                    )
                };
                // The units below, a batch limit at a time in key order,
                // less those the planning already assigns: more than a
                // batch of new ones is refused, and so is an area whose
                // units take more than `SCANNED_PAGES` pages to look
                // through.
                let mut ids: Vec<GqlValue> = Vec::new();
                let mut after: Option<GqlValue> = None;
                let mut pages = 0;
                loop {
                    pages += 1;
                    let mut filter = below.clone();
                    if let Some(last) = &after {
                        filter["id"] = serde_json::json!({ "gt": json(last) });
                    }
                    let page = sql::fetch_page(reader, &m, unit, &read(json_value(filter)?, unit, vec![id])?).await?;
                    let found: Vec<GqlValue> = page.rows.iter().map(|r| r.get(id).clone()).collect();
                    let taken: std::collections::HashSet<String> = if found.is_empty() {
                        Default::default()
                    } else {
                        let filter = json_value(serde_json::json!({
                            "planningId": { "eq": planning.as_ref().map(json) },
                            "orgUnitId": { "in": found.iter().map(json).collect::<Vec<_>>() },
                        }))?;
                        let spec = read(filter, assignment, vec![unit_of])?;
                        sql::fetch_page(reader, &m, assignment, &spec)
                            .await?
                            .rows
                            .iter()
                            .map(|r| key_text(r.get(unit_of)))
                            .collect()
                    };
                    after = found.last().cloned();
                    ids.extend(found.into_iter().filter(|u| !taken.contains(&key_text(u))));
                    if ids.len() > limits.max_batch {
                        return Err(too_many().into());
                    }
                    if !page.has_next {
                        break;
                    }
                    if pages == SCANNED_PAGES {
                        let most = SCANNED_PAGES.saturating_mul(limits.max_batch);
                        return Err(ApiError::bad_field(
                            "parentId",
                            format!("more than {most} org units below it to look through: assign a smaller area"),
                        )
                        .into());
                    }
                }
                let items: Vec<Item> = ids
                    .into_iter()
                    .enumerate()
                    .map(|(i, unit)| {
                        let mut input = async_graphql::indexmap::IndexMap::new();
                        for name in ["planningId", "teamId", "userId"] {
                            if let Some(value) = get(name) {
                                input.insert(Name::new(name), value);
                            }
                        }
                        input.insert(Name::new("orgUnitId"), unit);
                        Item {
                            path: format!("units[{i}]"),
                            input,
                            key: Vec::new(),
                            expected_updated_at: None,
                        }
                    })
                    .collect();
                if items.is_empty() {
                    return Ok(Some(nodes(Vec::new())));
                }
                let wctx = WriteContext {
                    model: &m,
                    access: &access,
                    hooks: &h,
                    writer: &writer,
                    max_batch: limits.max_batch,
                };
                let keys = write::insert(&db, &wctx, assignment, items, None).await?;
                let rows = written(&ctx, &m, &limits, assignment, keys, true).await?;
                Ok(Some(nodes(rows)))
            })
        },
    )
    .argument(InputValue::new("planningId", TypeRef::named_nn(TypeRef::INT)))
    .argument(
        InputValue::new("parentId", TypeRef::named_nn(TypeRef::INT))
            .description("The units below this one (itself excluded) are assigned."),
    )
    .argument(
        InputValue::new("orgUnitTypeId", TypeRef::named(TypeRef::INT))
            .description("Only units of this type; every type when absent."),
    )
    .argument(InputValue::new("teamId", TypeRef::named(TypeRef::INT)))
    .argument(InputValue::new("userId", TypeRef::named(TypeRef::INT)))
    .description(
        "Assigns every org unit below `parentId` (of `orgUnitTypeId`, when given) that the planning does not assign yet to the team or the user, in one batch; returns the assignments made.",
    );
    Some(field)
}

fn json_value(json: serde_json::Value) -> ApiResult<GqlValue> {
    GqlValue::from_json(json).map_err(ApiError::internal)
}
