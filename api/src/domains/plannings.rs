//! Iaso's planning rules. A planning's team is in its project, so is the
//! type of its root org unit, and a published planning has both dates (in
//! order). An assignment goes to exactly one of a user or a team, for an
//! org unit inside its planning's root subtree. (A planning's forms are a
//! many-to-many link the API does not write; `(planning, org_unit)` is kept
//! unique among live assignments by a partial unique index.)

use std::future::Future;
use std::pin::Pin;

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Statement};

use crate::domains::tree::{integer_key, placeholder};
use crate::engine::Model;
use crate::engine::write::{Hook, Op};
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
    ) -> Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>> {
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
const ASSIGNMENT: &str = "SELECT \
     ((a.user_id IS NULL) <> (a.team_id IS NULL)) AS one_assignee, \
     (o.path = r.path OR substr(o.path, 1, length(r.path) + 1) = r.path || '.') AS in_subtree \
     FROM assignment a JOIN planning p ON p.id = a.planning_id \
     JOIN org_unit r ON r.id = p.org_unit_id JOIN org_unit o ON o.id = a.org_unit_id \
     WHERE a.id = {key}";

impl Hook for AssignmentRules {
    fn after_write<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        _model: &'a Model,
        _entity: usize,
        op: Op,
        key: &'a GqlValue,
        input: &'a IndexMap<Name, GqlValue>,
    ) -> Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>> {
        Box::pin(async move {
            let fields = ["userId", "teamId", "planningId", "orgUnitId"];
            if !touches(op, input, &fields) {
                return Ok(());
            }
            let row = facts(tx, ASSIGNMENT, integer_key(key, "an assignment")?).await?;
            if !flag(&row, "one_assignee")? {
                return Err(ApiError::bad_field(
                    named(input, &["userId", "teamId"]),
                    "an assignment goes to exactly one of `userId` or `teamId`",
                ));
            }
            if !flag(&row, "in_subtree")? {
                return Err(ApiError::bad_field(
                    named(input, &["orgUnitId", "planningId"]),
                    "an assignment's org unit is inside its planning's root subtree",
                ));
            }
            Ok(())
        })
    }
}
