//! Plain pages: a connection's `nodes` whose selection is only columns,
//! `__typename` and prefetched belongs-to or has-one relations of the same
//! kind is written straight from its rows.
//!
//! async-graphql's dynamic executor resolves every field of every row on
//! its own: a boxed future, an argument map, an output check and a clone
//! per field, which for a 5,000-row page of eight columns is 40,000 field
//! resolutions and most of the request's CPU. When a connection's rows are
//! already in memory (a root page, or a prefetched child page) and a `nodes`
//! selection asks for nothing but columns and single related rows that the
//! prefetch has loaded, the connection's resolver offers that list under
//! the field's response path; [`PlainNodesExtension`] answers the `nodes`
//! field with a placeholder for it, the executor never descends into the
//! rows, and the response's JSON is written with the rows in the
//! placeholder's place. Any other selection (a connection, `edges`, a
//! relation the caller may not read, a related row not prefetched) takes
//! the executor's path.
//!
//! The JSON is what the executor would produce: response keys (aliases)
//! in selection order with fragments flattened (the schema has no
//! interfaces or unions, so every valid fragment inside a row applies, and
//! `@skip`/`@include` are removed before execution), the first of repeated
//! keys kept, enum values as their names.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{
    Name, QueryPathNode, Response, SelectionField, ServerError, ServerResult, Value as GqlValue,
};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::engine::Map;
use crate::engine::model::{Member, Model, RelKind};
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

/// The plain `nodes` lists of one request.
///
/// A list is offered under its response path when its connection is
/// resolved; the executor takes it as a placeholder string (unguessable:
/// a NUL, then a nonce of this request, then the list's number), and the
/// response is written with each placeholder replaced by its list, written
/// straight from the rows ([`PlainNodes::write_response`]). No value tree
/// is built for the rows, cloned or dropped.
pub struct PlainNodes {
    offered: Mutex<Map<String, PlainList>>,
    /// Lists the executor took, numbered by position.
    taken: Mutex<Vec<PlainList>>,
    /// Starts every placeholder of this request.
    marker: String,
    /// Counts the lists answered this way (the domain's metric).
    served: Option<Arc<AtomicU64>>,
}

impl Default for PlainNodes {
    fn default() -> Self {
        Self {
            offered: Mutex::default(),
            taken: Mutex::default(),
            marker: format!("\u{0}{}:", uuid::Uuid::new_v4().simple()),
            served: None,
        }
    }
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
            let Some(Some(nodes)) = prefetched.with_by_column(|by_column| {
                rows.iter()
                    .map(|row| resolve(by_column, &cells, row))
                    .collect::<Option<Vec<_>>>()
            }) else {
                continue;
            };
            let mut response_path = String::new();
            if let Some(path) = path {
                let _ = write!(response_path, "{path}.");
            }
            response_path.push_str(key);
            if let Ok(mut offered) = request.plain_nodes.offered.lock() {
                offered.insert(response_path, PlainList { cells, nodes });
            }
        }
    }

    /// The placeholder of the list offered for the `nodes` field at
    /// `path`, once.
    fn take(&self, path: &QueryPathNode<'_>) -> Option<GqlValue> {
        let list = {
            let mut offered = self.offered.lock().ok()?;
            if offered.is_empty() {
                return None;
            }
            offered.remove(&path.to_string())?
        };
        let mut taken = self.taken.lock().ok()?;
        let placeholder = format!("{}{}", self.marker, taken.len());
        taken.push(list);
        if let Some(served) = &self.served {
            served.fetch_add(1, Ordering::Relaxed);
        }
        Some(GqlValue::String(placeholder))
    }

    /// The JSON text of `response`, the lists taken from here written in
    /// place of their placeholders.
    pub fn write_response(&self, response: &Response) -> serde_json::Result<Vec<u8>> {
        let taken = self.taken.lock().map_err(serde::ser::Error::custom)?;
        let lists = Lists {
            marker: &self.marker,
            taken: &taken,
        };
        // Room for the rows, so that a large page is not copied as it grows.
        let cells: usize = taken.iter().map(|l| l.nodes.len() * l.cells.len()).sum();
        let mut out = Vec::with_capacity(512 + cells * 24);
        serde_json::to_writer(
            &mut out,
            &Out {
                data: Spliced {
                    value: &response.data,
                    lists: &lists,
                },
                extensions: &response.extensions,
                errors: &response.errors,
            },
        )?;
        Ok(out)
    }
}

/// A response as async-graphql writes it, with its data spliced.
#[derive(Serialize)]
struct Out<'a> {
    data: Spliced<'a>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, GqlValue>,
    #[serde(skip_serializing_if = "<[ServerError]>::is_empty")]
    errors: &'a [ServerError],
}

struct Lists<'a> {
    marker: &'a str,
    taken: &'a [PlainList],
}

impl Lists<'_> {
    fn placeholder(&self, text: &str) -> Option<&PlainList> {
        if self.taken.is_empty() {
            return None;
        }
        let number = text.strip_prefix(self.marker)?.parse::<usize>().ok()?;
        self.taken.get(number)
    }
}

/// A value written with placeholders replaced by their lists.
struct Spliced<'a> {
    value: &'a GqlValue,
    lists: &'a Lists<'a>,
}

impl Serialize for Spliced<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let lists = self.lists;
        match self.value {
            GqlValue::String(text) => match lists.placeholder(text) {
                Some(list) => list.serialize(serializer),
                None => serializer.serialize_str(text),
            },
            GqlValue::List(items) => {
                serializer.collect_seq(items.iter().map(|value| Spliced { value, lists }))
            }
            GqlValue::Object(fields) => serializer.collect_map(
                fields
                    .iter()
                    .map(|(key, value)| (key.as_str(), Spliced { value, lists })),
            ),
            value => value.serialize(serializer),
        }
    }
}

/// A plain `nodes` list: its rows, with the related rows its cells read.
struct PlainList {
    cells: Vec<(Name, Cell)>,
    nodes: Vec<Node>,
}

/// A row and, for each relation cell in order, its related row (`None`:
/// null).
struct Node {
    row: Arc<Row>,
    related: Vec<Option<Node>>,
}

impl Serialize for PlainList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cells = &self.cells;
        serializer.collect_seq(self.nodes.iter().map(|node| Object { cells, node }))
    }
}

/// A row written as its selection's object.
struct Object<'a> {
    cells: &'a [(Name, Cell)],
    node: &'a Node,
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_map(Some(self.cells.len()))?;
        let mut related = self.node.related.iter();
        for (key, cell) in self.cells {
            match cell {
                Cell::Typename(name) => object.serialize_entry(key.as_str(), name)?,
                // Enum values are written as their names, like strings;
                // JSON columns as the text they were read as.
                Cell::Column { index } => match self.node.row.json_text(*index) {
                    Some(text) => object.serialize_entry(key.as_str(), text)?,
                    None => object.serialize_entry(key.as_str(), self.node.row.get(*index))?,
                },
                Cell::One { cells, .. } => match related.next() {
                    Some(Some(node)) => {
                        object.serialize_entry(key.as_str(), &Object { cells, node })?;
                    }
                    _ => object.serialize_entry(key.as_str(), &GqlValue::Null)?,
                },
            }
        }
        object.end()
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
                Member::Column(index) => Cell::Column { index },
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

/// A row with its related rows, or `None` if a relation's rows were not
/// prefetched.
fn resolve(
    by_column: &Map<Lookup, ByValue>,
    cells: &[(Name, Cell)],
    row: &Arc<Row>,
) -> Option<Node> {
    let mut related = Vec::new();
    for (_, cell) in cells {
        if let Cell::One {
            from,
            lookup,
            cells,
        } = cell
        {
            related.push(match row.get(*from) {
                GqlValue::Null => None,
                value => {
                    let rows = with_key_text(value, |key| by_column.get(lookup)?.get(key))?;
                    match rows.first() {
                        Some(row) => Some(resolve(by_column, cells, row)?),
                        None => None,
                    }
                }
            });
        }
    }
    Some(Node {
        row: row.clone(),
        related,
    })
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
