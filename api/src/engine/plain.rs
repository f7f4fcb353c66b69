//! Plain pages: a connection's `nodes` whose selection is only columns,
//! `__typename` and prefetched belongs-to or has-one relations of the same
//! kind is answered as one prepared value.
//!
//! async-graphql's dynamic executor resolves every field of every row on
//! its own: a boxed future, an argument map, an output check and a clone
//! per field, which for a 5,000-row page of eight columns is 40,000 field
//! resolutions and most of the request's CPU. When a connection's rows are
//! already in memory (a root page, or a prefetched child page) and a `nodes`
//! selection asks for nothing but columns and single related rows that the
//! prefetch has loaded, the connection's resolver builds
//! that list's value directly from the rows and leaves it under the field's
//! response path; [`PlainNodesExtension`] answers the `nodes` field with it
//! and the executor never descends into the rows. Any other selection (a
//! connection, `edges`, a relation the caller may not read, a related row
//! not prefetched) takes the executor's path.
//!
//! The value is what the executor would produce: response keys (aliases)
//! in selection order with fragments flattened (the schema has no
//! interfaces or unions, so every valid fragment inside a row applies, and
//! `@skip`/`@include` are removed before execution), the first of repeated
//! keys kept, enum columns as enum values.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, QueryPathNode, SelectionField, ServerResult, Value as GqlValue};

use crate::engine::Map;
use crate::engine::model::{Member, Model, RelKind, Scalar};
use crate::engine::prefetch::{ByValue, Lookup};
use crate::engine::schema::{RequestContext, node_projection};
use crate::engine::sql::Row;
use crate::engine::value::with_key_text;
use crate::policy::Access;

/// What one row of a plain selection answers, per response key.
enum Cell {
    Typename(String),
    Column {
        index: usize,
        is_enum: bool,
    },
    /// A belongs-to or has-one relation, read from the prefetched rows
    /// under the key its resolver would compute.
    One {
        /// The column of this row whose value is looked up.
        from: usize,
        /// The target's rows it is looked up in.
        lookup: Lookup,
        cells: Vec<(Name, Cell)>,
    },
}

/// Prepared `nodes` values of one request, by response path.
#[derive(Default)]
pub struct PlainNodes {
    values: Mutex<Map<String, GqlValue>>,
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
    /// response path is `path`) from `rows`, rows of `entity`, for the
    /// request `request` (whose `plain_nodes` this is).
    pub fn offer(
        request: &RequestContext,
        model: &Model,
        entity: usize,
        path: Option<&QueryPathNode<'_>>,
        connection: SelectionField<'_>,
        rows: &[Arc<Row>],
    ) {
        let (access, prefetched) = (&request.reader.access, &request.prefetched);
        let mut seen: Map<&str, usize> = Map::default();
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
            let Some(cells) = plan(model, access, entity, field.selection_set()) else {
                continue;
            };
            let Some(Some(list)) = prefetched.with_by_column(|by_column| {
                rows.iter()
                    .map(|row| answer(by_column, &cells, row))
                    .collect::<Option<Vec<_>>>()
            }) else {
                continue;
            };
            let value = GqlValue::List(list);
            let mut response_path = String::new();
            if let Some(path) = path {
                let _ = write!(response_path, "{path}.");
            }
            response_path.push_str(key);
            if let Ok(mut values) = request.plain_nodes.values.lock() {
                values.insert(response_path, value);
            }
        }
    }

    /// The prepared value for the `nodes` field at `path`, once.
    fn take(&self, path: &QueryPathNode<'_>) -> Option<GqlValue> {
        let value = {
            let mut values = self.values.lock().ok()?;
            if values.is_empty() {
                return None;
            }
            values.remove(&path.to_string())?
        };
        if let Some(served) = &self.served {
            served.fetch_add(1, Ordering::Relaxed);
        }
        Some(value)
    }
}

/// The cells of a selection of `entity`'s fields, or `None` if it selects
/// anything but columns, `__typename` and readable belongs-to or has-one
/// relations (themselves selecting the same).
fn plan<'a>(
    model: &Model,
    access: &Access,
    entity: usize,
    fields: impl Iterator<Item = SelectionField<'a>>,
) -> Option<Vec<(Name, Cell)>> {
    let info = &model.entities[entity];
    let mut cells: Vec<(Name, Cell)> = Vec::new();
    for field in fields {
        let cell = match field.name() {
            "__typename" => Cell::Typename(info.name.clone()),
            name => match *info.members.get(name)? {
                Member::Column(index) => Cell::Column {
                    index,
                    is_enum: matches!(info.columns[index].scalar, Scalar::Enum(_)),
                },
                Member::Relation(r) => {
                    let target = info.relations[r].target;
                    // A refusal is the resolver's to report.
                    if !access.can_read(target) {
                        return None;
                    }
                    let (from, lookup) = match info.relations[r].kind {
                        RelKind::BelongsTo { column } => {
                            (column, model.entities[target].single_pk()?)
                        }
                        RelKind::HasOne { column } => (info.single_pk()?, column),
                        RelKind::HasMany { .. } | RelKind::ManyToMany { .. } => return None,
                    };
                    Cell::One {
                        from,
                        lookup: Lookup {
                            entity: target,
                            column: lookup,
                            projection: Arc::new(node_projection(
                                model,
                                target,
                                field.selection_set(),
                                &[],
                            )),
                        },
                        cells: plan(model, access, target, field.selection_set())?,
                    }
                }
            },
        };
        let key = field.alias().unwrap_or(field.name());
        if cells.iter().all(|(k, _)| k.as_str() != key) {
            cells.push((Name::new(key), cell));
        }
    }
    Some(cells)
}

/// One row's object, or `None` if a relation's rows were not prefetched.
fn answer(by_column: &Map<Lookup, ByValue>, cells: &[(Name, Cell)], row: &Row) -> Option<GqlValue> {
    let mut object = IndexMap::with_capacity(cells.len());
    for (key, cell) in cells {
        let value = match cell {
            Cell::Typename(name) => GqlValue::String(name.clone()),
            Cell::Column { index, is_enum } => match row.get(*index) {
                GqlValue::String(s) if *is_enum => GqlValue::Enum(Name::new(s)),
                v => v.clone(),
            },
            Cell::One {
                from,
                lookup,
                cells,
            } => match row.get(*from) {
                GqlValue::Null => GqlValue::Null,
                value => {
                    let rows = with_key_text(value, |key| by_column.get(lookup)?.get(key))?;
                    match rows.first() {
                        Some(row) => answer(by_column, cells, row)?,
                        None => GqlValue::Null,
                    }
                }
            },
        };
        object.insert(key.clone(), value);
    }
    Some(GqlValue::Object(object))
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
