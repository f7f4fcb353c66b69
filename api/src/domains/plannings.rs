//! Iaso's planning rules. A planning's team is in its project, so is the
//! type of its root org unit, and a published planning has both dates (in
//! order). An assignment goes to exactly one of a user or a team, for an
//! org unit inside its planning's root subtree. (A planning's forms are a
//! many-to-many link the API does not write; `(planning, org_unit)` is kept
//! unique among live assignments by a partial unique index.)

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Statement};

use crate::domains::tree::{integer_key, placeholder};
use crate::engine::Map;
use crate::engine::Model;
use crate::engine::write::{Hook, HookFuture, Op, Written};
use crate::error::{ApiError, ApiResult};

pub struct PlanningRules;

pub struct AssignmentRules;

/// Whether a write may break a rule that reads `fields`.
fn touches(op: Op, input: &IndexMap<Name, GqlValue>, fields: &[&str]) -> bool {
    match op {
        Op::Create | Op::Upsert => true,
        Op::Update => fields.iter().any(|f| input.contains_key(*f)),
        Op::Delete | Op::Restore => false,
    }
}

/// The error's field: the first of `fields` the client gave, else the first.
fn named<'a>(input: &IndexMap<Name, GqlValue>, fields: &[&'a str]) -> &'a str {
    fields
        .iter()
        .find(|f| input.contains_key(**f))
        .or(fields.first())
        .copied()
        .unwrap_or_default()
}

/// The one row of `sql`, whose only parameter is the written row's key.
async fn facts(tx: &DatabaseTransaction, sql: &str, id: i64) -> ApiResult<QueryResult> {
    let backend = tx.get_database_backend();
    tx.query_one_raw(Statement::from_sql_and_values(
        backend,
        sql.replace("{key}", &placeholder(backend, 1)),
        [id.into()],
    ))
    .await?
    .ok_or_else(|| ApiError::internal("the written row is gone"))
}

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
