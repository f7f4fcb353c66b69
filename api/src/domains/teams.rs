//! Iaso's team rules: a team's parent is a team of teams in the same
//! project, and a team has users or sub-teams, never both. (Cycles are
//! refused by the materialised path.)

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use sea_orm::DatabaseTransaction;

use crate::domains::tree::integer_key;
use crate::domains::{facts, named, touches};
use crate::engine::Model;
use crate::engine::write::{Hook, HookFuture, Op};
use crate::error::{ApiError, ApiResult};

pub struct TeamRules;

/// What the rules need of a written team, read inside its transaction.
struct Placed {
    kind: String,
    has_parent: bool,
    parent_kind: Option<String>,
    same_project: bool,
    sub_teams: i64,
    users: i64,
}

impl Hook for TeamRules {
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
            if !touches(op, input, &["parentId", "type", "projectId"]) {
                return Ok(());
            }
            let team = placed(tx, integer_key(key, "a team")?).await?;
            // Errors name the field the client gave, else `parentId` (as
            // the path's own errors do).
            let field = |name: &'static str| named(input, &[name, "parentId"]);
            if team.has_parent && team.parent_kind.as_deref() != Some("TEAM_OF_TEAMS") {
                return Err(ApiError::bad_field(
                    field("parentId"),
                    "a team's parent must be a TEAM_OF_TEAMS",
                ));
            }
            if team.has_parent && !team.same_project {
                return Err(ApiError::bad_field(
                    field("projectId"),
                    "a sub-team is in its parent's project",
                ));
            }
            if team.kind == "TEAM_OF_USERS" && team.sub_teams > 0 {
                return Err(ApiError::bad_field(
                    field("type"),
                    "a TEAM_OF_USERS has no sub-teams: this team has some",
                ));
            }
            if team.kind == "TEAM_OF_TEAMS" && team.users > 0 {
                return Err(ApiError::bad_field(
                    field("type"),
                    "a TEAM_OF_TEAMS has no users: this team has some",
                ));
            }
            Ok(())
        })
    }
}

async fn placed(tx: &DatabaseTransaction, id: i64) -> ApiResult<Placed> {
    let row = facts(
        tx,
        "SELECT t.\"type\" AS kind, t.parent_id IS NOT NULL AS has_parent, p.\"type\" AS parent_kind, \
         (p.id IS NULL OR p.project_id = t.project_id) AS same_project, \
         (SELECT COUNT(*) FROM team c WHERE c.parent_id = t.id AND c.deleted_at IS NULL) AS sub_teams, \
         (SELECT COUNT(*) FROM team_users u WHERE u.team_id = t.id) AS users \
         FROM team t LEFT JOIN team p ON p.id = t.parent_id WHERE t.id = {key}",
        id,
    )
    .await?;
    let get = |e: sea_orm::DbErr| ApiError::internal(e);
    Ok(Placed {
        kind: row.try_get("", "kind").map_err(get)?,
        has_parent: row.try_get("", "has_parent").map_err(get)?,
        parent_kind: row.try_get("", "parent_kind").map_err(get)?,
        same_project: row.try_get("", "same_project").map_err(get)?,
        sub_teams: row.try_get("", "sub_teams").map_err(get)?,
        users: row.try_get("", "users").map_err(get)?,
    })
}
