//! Plain pages: a connection's `nodes` whose selection is only columns (and
//! `__typename`) is answered as one prepared value.
//!
//! async-graphql's dynamic executor resolves every field of every row on
//! its own: a boxed future, an argument map, an output check and a clone
//! per field, which for a 5,000-row page of eight columns is 40,000 field
//! resolutions and most of the request's CPU. When a connection's rows are
//! already in memory (a root page, or a prefetched child page) and a `nodes`
//! selection asks for nothing but columns, the connection's resolver builds
//! that list's value directly from the rows and leaves it under the field's
//! response path; [`PlainNodesExtension`] answers the `nodes` field with it
//! and the executor never descends into the rows. Any other selection
//! (a relation, a connection, `edges`) takes the executor's path.
//!
//! The value is what the executor would produce: response keys (aliases)
//! in selection order with fragments flattened (the schema has no
//! interfaces or unions, so every valid fragment inside a row applies, and
//! `@skip`/`@include` are removed before execution), the first of repeated
//! keys kept, enum columns as enum values.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, QueryPathNode, SelectionField, ServerResult, Value as GqlValue};

use crate::engine::model::{Member, Model, Scalar};
use crate::engine::schema::RequestContext;
use crate::engine::sql::Row;

/// What one row of a plain selection answers, per response key.
enum Cell {
    Typename,
    Column { index: usize, is_enum: bool },
}

/// Prepared `nodes` values of one request, by response path.
#[derive(Default)]
pub struct PlainNodes {
    any: AtomicBool,
    values: Mutex<HashMap<String, GqlValue>>,
    /// Counts the lists answered this way (the domain's metric).
    served: Option<Arc<AtomicU64>>,
}

impl PlainNodes {
    pub fn counted_by(served: Arc<AtomicU64>) -> Self {
        Self {
            served: Some(served),
            ..Self::default()
        }
    }

    /// Prepares every plain `nodes` selection under `connection` (whose
    /// response path is `path`) from `rows`, rows of `entity`.
    pub fn offer(
        &self,
        model: &Model,
        entity: usize,
        path: Option<&QueryPathNode<'_>>,
        connection: SelectionField<'_>,
        rows: &[Arc<Row>],
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for field in connection.selection_set() {
            if field.name() == "nodes" {
                *seen.entry(field.alias().unwrap_or("nodes")).or_default() += 1;
            }
        }
        for field in connection.selection_set() {
            let key = field.alias().unwrap_or(field.name());
            // A repeated `nodes` key merges selections: left to the executor.
            if field.name() != "nodes" || seen.get(key) != Some(&1) {
                continue;
            }
            let Some(plan) = plan(model, entity, field) else {
                continue;
            };
            let value = GqlValue::List(
                rows.iter()
                    .map(|row| answer(model, entity, &plan, row))
                    .collect(),
            );
            let mut response_path = String::new();
            if let Some(path) = path {
                let _ = write!(response_path, "{path}.");
            }
            response_path.push_str(key);
            if let Ok(mut values) = self.values.lock() {
                values.insert(response_path, value);
                self.any.store(true, Ordering::Release);
            }
        }
    }

    /// The prepared value for the `nodes` field at `path`, once.
    fn take(&self, path: &QueryPathNode<'_>) -> Option<GqlValue> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let value = self.values.lock().ok()?.remove(&path.to_string())?;
        if let Some(served) = &self.served {
            served.fetch_add(1, Ordering::Relaxed);
        }
        Some(value)
    }
}

/// The cells of a selection of `entity`'s fields, or `None` if it selects
/// anything but columns and `__typename`.
fn plan(model: &Model, entity: usize, nodes: SelectionField<'_>) -> Option<Vec<(Name, Cell)>> {
    let info = &model.entities[entity];
    let mut cells: Vec<(Name, Cell)> = Vec::new();
    for field in nodes.selection_set() {
        let cell = match field.name() {
            "__typename" => Cell::Typename,
            name => match info.members.get(name)? {
                Member::Column(index) => Cell::Column {
                    index: *index,
                    is_enum: matches!(info.columns[*index].scalar, Scalar::Enum(_)),
                },
                Member::Relation(_) => return None,
            },
        };
        let key = field.alias().unwrap_or(field.name());
        if cells.iter().all(|(k, _)| k.as_str() != key) {
            cells.push((Name::new(key), cell));
        }
    }
    Some(cells)
}

fn answer(model: &Model, entity: usize, plan: &[(Name, Cell)], row: &Row) -> GqlValue {
    let mut object = IndexMap::with_capacity(plan.len());
    for (key, cell) in plan {
        let value = match cell {
            Cell::Typename => GqlValue::String(model.entities[entity].name.clone()),
            Cell::Column { index, is_enum } => match &row.values[*index] {
                GqlValue::String(s) if *is_enum => GqlValue::Enum(Name::new(s)),
                v => v.clone(),
            },
        };
        object.insert(key.clone(), value);
    }
    GqlValue::Object(object)
}

/// Answers `nodes` fields from [`PlainNodes`]; every other field, and a
/// `nodes` with nothing prepared, goes to the executor.
pub struct PlainNodesExtension;

impl ExtensionFactory for PlainNodesExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PlainNodesHook)
    }
}

struct PlainNodesHook;

#[async_graphql::async_trait::async_trait]
impl Extension for PlainNodesHook {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<GqlValue>> {
        if info.name == "nodes"
            && let Some(request) = ctx.data_opt::<RequestContext>()
            && let Some(value) = request.plain_nodes.take(info.path_node)
        {
            return Ok(Some(value));
        }
        next.run(ctx, info).await
    }
}
