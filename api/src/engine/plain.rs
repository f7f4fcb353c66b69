//! Plain pages: a connection's `nodes` whose selection is only columns,
//! `__typename`, prefetched belongs-to or has-one relations and prefetched
//! paged relations that select only `nodes`, all of the same kind, is
//! written straight from its rows.
//!
//! async-graphql's dynamic executor resolves every field of every row on
//! its own: a boxed future, an argument map, an output check and a clone
//! per field, which for a 5,000-row page of eight columns is 40,000 field
//! resolutions and most of the request's CPU. When a connection's rows are
//! already in memory (a root page, or a prefetched child page) and a `nodes`
//! selection asks for nothing but columns, single related rows and pages of
//! related rows that the prefetch has loaded, the connection's resolver
//! offers that list under the field's response path;
//! [`PlainNodesExtension`] answers the `nodes` field with a placeholder for
//! it, the executor never descends into the rows, and the response's JSON
//! is written with the rows in the placeholder's place. Any other
//! selection (a connection that asks for more than `nodes`, `edges`, a
//! relation the caller may not read, a related row or page not prefetched,
//! a relation's key given twice) takes the executor's path, and so does
//! every `nodes` at or below a response key the document gives more than
//! once: the executor resolves each of those fields on its own and merges
//! their values, and a placeholder, a string, does not merge (the first
//! would win, without the fields the others select).
//!
//! The JSON is what the executor would produce: response keys (aliases)
//! in selection order with fragments flattened (the schema has no
//! interfaces or unions, so every valid fragment inside a row applies, and
//! `@skip`/`@include` are removed before execution), the first of repeated
//! column keys kept (validation makes them the same field), enum values as
//! their names.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::{
    ExecutableDocument, Field, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{
    Name, Positioned, QueryPathNode, QueryPathSegment, Response, SelectionField, ServerError,
    ServerResult, Value as GqlValue, Variables,
};
use serde::Serialize;
use serde::ser::{Error as _, SerializeMap, Serializer};

use crate::engine::Map;
use crate::engine::loader::{Children, RelationArgs};
use crate::engine::model::{Member, Model, RelKind};
use crate::engine::prefetch::{ByValue, Lookup};
use crate::engine::schema::{Limits, RequestContext, node_projection, spec_from_args};
use crate::engine::sql::{Page, Row};
use crate::engine::value::{key_text, with_key_text};
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
    /// A has-many or many-to-many connection selecting only `nodes`, read
    /// from the prefetched page its resolver would look up.
    Many {
        /// This row's key column, the page's parent.
        from: usize,
        /// The rest of the page's key.
        owner: usize,
        relation: usize,
        args: Arc<RelationArgs>,
        /// The response key of its `nodes`, and what each of its rows
        /// answers.
        nodes: Name,
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
    /// The response keys (dotted, without list indices) the document gives
    /// more than once, read when it is parsed; `None` inside if it was too
    /// large to look through. Until then no list is plain.
    merged: OnceLock<Option<Vec<String>>>,
}

impl Default for PlainNodes {
    fn default() -> Self {
        Self {
            offered: Mutex::default(),
            taken: Mutex::default(),
            marker: format!("\u{0}{}:", uuid::Uuid::new_v4().simple()),
            served: None,
            merged: OnceLock::new(),
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
        limits: &Limits,
        entity: usize,
        path: Option<&QueryPathNode<'_>>,
        connection: SelectionField<'_>,
        rows: &[Arc<Row>],
    ) {
        let (access, prefetched) = (&request.reader.access, &request.prefetched);
        let plain_nodes = &request.plain_nodes;
        for field in connection.selection_set() {
            let key = field.alias().unwrap_or(field.name());
            // A repeated `nodes` key is among the merged ones.
            if field.name() != "nodes" || plain_nodes.merges_at(path, key) {
                continue;
            }
            let Some(cells) = plan(model, access, limits, entity, field.selection_set()) else {
                continue;
            };
            let Some(Some(nodes)) = prefetched.with_rows(|by_column, children| {
                rows.iter()
                    .map(|row| resolve(by_column, children, &cells, row))
                    .collect::<Option<Vec<_>>>()
            }) else {
                continue;
            };
            let mut response_path = String::new();
            if let Some(path) = path {
                let _ = write!(response_path, "{path}.");
            }
            response_path.push_str(key);
            if let Ok(mut offered) = plain_nodes.offered.lock() {
                offered.insert(response_path, PlainList { cells, nodes });
            }
        }
    }

    /// Whether the executor merges fields at or above the `nodes` field
    /// `key` under `path` (or may: before the document was read, or when
    /// it was too large to read).
    fn merges_at(&self, path: Option<&QueryPathNode<'_>>, key: &str) -> bool {
        let Some(Some(merged)) = self.merged.get() else {
            return true;
        };
        if merged.is_empty() {
            return false;
        }
        let mut names = vec![key];
        let mut node = path;
        while let Some(n) = node {
            if let QueryPathSegment::Name(name) = n.segment {
                names.push(name);
            }
            node = n.parent;
        }
        names.reverse();
        let keys = names.join(".");
        merged.iter().any(|m| {
            keys.strip_prefix(m.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
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

/// A row and, for each relation cell in order, what it relates to.
struct Node {
    row: Arc<Row>,
    related: Vec<Related>,
}

enum Related {
    /// A single related row (`None`: null).
    One(Option<Node>),
    /// A page of related rows.
    Many(Vec<Node>),
}

impl Serialize for PlainList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Rows {
            cells: &self.cells,
            rows: &self.nodes,
        }
        .serialize(serializer)
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
                    Some(Related::One(Some(node))) => {
                        object.serialize_entry(key.as_str(), &Object { cells, node })?;
                    }
                    Some(Related::One(None)) => {
                        object.serialize_entry(key.as_str(), &GqlValue::Null)?;
                    }
                    _ => return Err(S::Error::custom("a plain row without its related row")),
                },
                Cell::Many { nodes, cells, .. } => match related.next() {
                    Some(Related::Many(rows)) => object.serialize_entry(
                        key.as_str(),
                        &Connection {
                            key: nodes,
                            rows: Rows { cells, rows },
                        },
                    )?,
                    _ => return Err(S::Error::custom("a plain row without its related page")),
                },
            }
        }
        object.end()
    }
}

/// A connection written as its only field, `nodes`.
struct Connection<'a> {
    key: &'a Name,
    rows: Rows<'a>,
}

impl Serialize for Connection<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_map(Some(1))?;
        object.serialize_entry(self.key.as_str(), &self.rows)?;
        object.end()
    }
}

/// Rows written as a list of their selection's objects.
struct Rows<'a> {
    cells: &'a [(Name, Cell)],
    rows: &'a [Node],
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cells = self.cells;
        serializer.collect_seq(self.rows.iter().map(|node| Object { cells, node }))
    }
}

/// The cells of a selection of `entity`'s fields, or `None` if it selects
/// anything but columns, `__typename`, readable belongs-to or has-one
/// relations and readable paged relations that select only `nodes`
/// (themselves selecting the same), or a relation's key twice (the
/// executor merges their selections).
fn plan<'a>(
    model: &Model,
    access: &Access,
    limits: &Limits,
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
                    match info.relations[r].kind {
                        RelKind::BelongsTo { column } => one(
                            model,
                            access,
                            limits,
                            (column, model.entities[target].single_pk()?),
                            target,
                            field,
                        )?,
                        RelKind::HasOne { column } => one(
                            model,
                            access,
                            limits,
                            (info.single_pk()?, column),
                            target,
                            field,
                        )?,
                        RelKind::HasMany { .. } | RelKind::ManyToMany { .. } => {
                            many(model, access, limits, entity, r, field)?
                        }
                    }
                }
            },
        };
        let key = field.alias().unwrap_or(field.name());
        match cells.iter().find(|(k, _)| k.as_str() == key) {
            None => cells.push((Name::new(key), cell)),
            Some((_, Cell::Column { .. } | Cell::Typename(_))) => {}
            Some(_) => return None,
        }
    }
    Some(cells)
}

/// A single related row's cell: `from`, the column of this row looked
/// up, and the target's column it is looked up in.
fn one(
    model: &Model,
    access: &Access,
    limits: &Limits,
    (from, column): (usize, usize),
    target: usize,
    field: SelectionField<'_>,
) -> Option<Cell> {
    Some(Cell::One {
        from,
        lookup: Lookup {
            entity: target,
            column,
            projection: Arc::new(node_projection(model, target, field.selection_set(), &[])),
        },
        cells: plan(model, access, limits, target, field.selection_set())?,
    })
}

/// A page's cell, if its connection selects `nodes` once and nothing
/// else, under the key its resolver computes from the same arguments (a
/// bad argument is the resolver's to report).
fn many(
    model: &Model,
    access: &Access,
    limits: &Limits,
    owner: usize,
    relation: usize,
    field: SelectionField<'_>,
) -> Option<Cell> {
    let target = model.entities[owner].relations[relation].target;
    let mut selected = field.selection_set();
    let nodes = selected.next()?;
    if nodes.name() != "nodes" || selected.next().is_some() {
        return None;
    }
    let args: async_graphql::indexmap::IndexMap<Name, GqlValue> =
        field.arguments().ok()?.into_iter().collect();
    let spec = spec_from_args(model, target, &args, field, limits).ok()?;
    Some(Cell::Many {
        from: model.entities[owner].single_pk()?,
        owner,
        relation,
        args: Arc::new(RelationArgs::new(spec)),
        nodes: Name::new(nodes.alias().unwrap_or("nodes")),
        cells: plan(model, access, limits, target, nodes.selection_set())?,
    })
}

/// A row with what its relations relate it to, or `None` if a relation's
/// rows or page were not prefetched.
fn resolve(
    by_column: &Map<Lookup, ByValue>,
    children: &Map<Children, Arc<Page>>,
    cells: &[(Name, Cell)],
    row: &Arc<Row>,
) -> Option<Node> {
    let mut related = Vec::new();
    for (_, cell) in cells {
        match cell {
            Cell::One {
                from,
                lookup,
                cells,
            } => related.push(Related::One(match row.get(*from) {
                GqlValue::Null => None,
                value => {
                    let rows = with_key_text(value, |key| by_column.get(lookup)?.get(key))?;
                    match rows.first() {
                        Some(row) => Some(resolve(by_column, children, cells, row)?),
                        None => None,
                    }
                }
            })),
            Cell::Many {
                from,
                owner,
                relation,
                args,
                cells,
                ..
            } => {
                let parent = row.get(*from);
                if matches!(parent, GqlValue::Null) {
                    return None;
                }
                let page = children.get(&Children {
                    owner: *owner,
                    relation: *relation,
                    parent: parent.clone(),
                    key: key_text(parent),
                    args: args.clone(),
                })?;
                let rows = page
                    .rows
                    .iter()
                    .map(|row| resolve(by_column, children, cells, row))
                    .collect::<Option<Vec<_>>>()?;
                related.push(Related::Many(rows));
            }
            Cell::Typename(_) | Cell::Column { .. } => {}
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

/// Selections looked through at most for merged keys; a larger document
/// (its fragments spread where they are used) gets no plain list.
const MERGE_SCAN_BUDGET: usize = 20_000;

/// The response keys (dotted, without list indices) that `document` gives
/// more than once among their siblings, fragments spread; `None` if that
/// takes more than [`MERGE_SCAN_BUDGET`] selections. This runs before
/// validation, so an unknown fragment is skipped (validation refuses it)
/// and a cycle of fragments ends on the budget.
fn merged_keys(document: &ExecutableDocument) -> Option<Vec<String>> {
    let mut merged = Vec::new();
    let mut budget = MERGE_SCAN_BUDGET;
    let mut path = String::new();
    for (_, operation) in document.operations.iter() {
        merged_below(
            &operation.node.selection_set.node,
            &document.fragments,
            &mut path,
            &mut merged,
            &mut budget,
        )?;
    }
    Some(merged)
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// [`merged_keys`] below `path`, the dotted keys down to `set` (restored
/// when it returns `Some`).
fn merged_below(
    set: &SelectionSet,
    fragments: &Fragments,
    path: &mut String,
    merged: &mut Vec<String>,
    budget: &mut usize,
) -> Option<()> {
    let mut fields = Vec::new();
    spread(set, fragments, &mut fields, budget)?;
    let mut count: HashMap<&str, usize> = HashMap::new();
    for field in &fields {
        *count.entry(field.response_key().node.as_str()).or_default() += 1;
    }
    for field in fields {
        let key = field.response_key().node.as_str();
        let above = path.len();
        if above > 0 {
            path.push('.');
        }
        path.push_str(key);
        match count.get(key) {
            Some(1) => merged_below(&field.selection_set.node, fragments, path, merged, budget)?,
            // Once per key: everything below it is merged too.
            _ if !merged.contains(path) => merged.push(path.clone()),
            _ => {}
        }
        path.truncate(above);
    }
    Some(())
}

/// The fields of `set`, its fragments spread.
fn spread<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    fields: &mut Vec<&'a Field>,
    budget: &mut usize,
) -> Option<()> {
    for selection in &set.items {
        *budget = budget.checked_sub(1)?;
        match &selection.node {
            Selection::Field(field) => fields.push(&field.node),
            Selection::FragmentSpread(name) => {
                if let Some(fragment) = fragments.get(&name.node.fragment_name.node) {
                    spread(&fragment.node.selection_set.node, fragments, fields, budget)?;
                }
            }
            Selection::InlineFragment(inline) => {
                spread(&inline.node.selection_set.node, fragments, fields, budget)?;
            }
        }
    }
    Some(())
}

#[async_graphql::async_trait::async_trait]
impl Extension for PlainNodesHook {
    /// Reads which keys the document merges, for [`PlainNodes::offer`].
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(request) = ctx.data_opt::<RequestContext>() {
            let _ = request.plain_nodes.merged.set(merged_keys(&document));
        }
        Ok(document)
    }

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
