//! Materialised paths: a tree stored as `path` = the ids from the root,
//! joined by dots (`1.12.345`). Subtrees are prefix queries; moving a node
//! rewrites the paths of its whole subtree in one statement.

use std::future::Future;
use std::pin::Pin;

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};

use crate::engine::Model;
use crate::engine::write::{Hook, Op};
use crate::error::{ApiError, ApiResult};

pub struct MaterializedPath {
    pub parent: &'static str,
    pub path: &'static str,
}

impl Hook for MaterializedPath {
    fn after_write<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        model: &'a Model,
        entity: usize,
        op: Op,
        key: &'a GqlValue,
        input: &'a IndexMap<Name, GqlValue>,
    ) -> Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>> {
        Box::pin(async move {
            let info = &model.entities[entity];
            let parent_field = info
                .columns
                .iter()
                .find(|c| c.name == self.parent)
                .map(|c| c.gql.clone())
                .unwrap_or_default();
            let moved = input.contains_key(parent_field.as_str());
            let relevant = match op {
                Op::Create | Op::Upsert => true,
                Op::Update => moved,
                Op::Delete | Op::Restore => false,
            };
            if !relevant {
                return Ok(());
            }
            let id = integer_key(key, "a tree node")?;
            self.place(tx, &info.table, id, &parent_field).await
        })
    }
}

impl MaterializedPath {
    /// Sets the node's path from its parent's, refusing cycles, and moves
    /// its subtree with it.
    async fn place(
        &self,
        tx: &DatabaseTransaction,
        table: &str,
        id: i64,
        parent_field: &str,
    ) -> ApiResult<()> {
        let backend = tx.get_database_backend();
        let (parent, path) = (self.parent, self.path);
        let node = tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT \"{path}\" AS path, \"{parent}\" AS parent FROM \"{table}\" WHERE id = {}", placeholder(backend, 1)),
                [id.into()],
            ))
            .await?
            .ok_or_else(|| ApiError::internal("the written node is gone"))?;
        let old: Option<String> = node.try_get("", "path").map_err(ApiError::internal)?;
        let parent_id: Option<i64> = node
            .try_get::<Option<i32>>("", "parent")
            .map(|p| p.map(i64::from))
            .map_err(ApiError::internal)?;
        let parent_path = match parent_id {
            None => None,
            Some(p) => {
                let row = tx
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        format!(
                            "SELECT \"{path}\" AS path FROM \"{table}\" WHERE id = {}",
                            placeholder(backend, 1)
                        ),
                        [p.into()],
                    ))
                    .await?
                    .ok_or_else(|| {
                        ApiError::bad_field(
                            parent_field,
                            format!("`{parent_field}`: no such parent"),
                        )
                    })?;
                let parent_path: Option<String> =
                    row.try_get("", "path").map_err(ApiError::internal)?;
                Some(parent_path.unwrap_or_else(|| p.to_string()))
            }
        };
        // A node cannot move under itself or its own subtree.
        if let (Some(old), Some(parent_path)) = (&old, &parent_path)
            && (parent_path == old || parent_path.starts_with(&format!("{old}.")))
        {
            return Err(ApiError::bad_field(
                parent_field,
                format!("`{parent_field}`: moving {id} under {parent_path} would make a cycle"),
            ));
        }
        let new = match parent_path {
            Some(p) => format!("{p}.{id}"),
            None => id.to_string(),
        };
        if old.as_deref() == Some(new.as_str()) {
            return Ok(());
        }
        match old {
            None => {
                tx.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "UPDATE \"{table}\" SET \"{path}\" = {} WHERE id = {}",
                        placeholder(backend, 1),
                        placeholder(backend, 2)
                    ),
                    [new.into(), id.into()],
                ))
                .await?;
            }
            Some(old) => {
                // The node and every descendant, in one statement: the old
                // prefix is replaced by the new one. Paths hold digits and
                // dots only, so the patterns need no escaping.
                let subtree = match backend {
                    DbBackend::Postgres => {
                        format!("\"{path}\" LIKE {} || '.%'", placeholder(backend, 4))
                    }
                    _ => format!("\"{path}\" GLOB {} || '.*'", placeholder(backend, 4)),
                };
                tx.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "UPDATE \"{table}\" SET \"{path}\" = {} || substr(\"{path}\", {}) WHERE \"{path}\" = {} OR {subtree}",
                        placeholder(backend, 1),
                        placeholder(backend, 2),
                        placeholder(backend, 3),
                    ),
                    // substr() takes a 32-bit position on PostgreSQL.
                    [
                        new.into(),
                        i32::try_from(old.len() + 1).map_err(ApiError::internal)?.into(),
                        old.clone().into(),
                        old.into(),
                    ],
                ))
                .await?;
            }
        }
        Ok(())
    }
}

/// The integer key of a written row that a hook works on.
pub(crate) fn integer_key(key: &GqlValue, what: &str) -> ApiResult<i64> {
    match key {
        GqlValue::Number(n) => n.as_i64(),
        _ => None,
    }
    .ok_or_else(|| ApiError::internal(format!("{what} needs an integer key")))
}

pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}
