//! Lookahead prefetching: one statement per relation per level.
//!
//! async-graphql's dynamic executor resolves the fields of a nested object
//! one after another, so sibling objects do not reach a relation field at
//! the same moment and batching by time or by poll pass cannot gather a
//! level. Instead, when a page of rows is fetched, this walks the query's
//! selection: each relation selected under those rows is loaded for all of
//! them at once, then the same happens below it with all the rows it
//! returned. Results are stored under the keys the field resolvers compute,
//! so the resolvers find them without SQL. Belongs-to relations, and
//! theirs, are joined into the statement of the rows they hang from (see
//! [`Fold`]) rather than read by a statement of their own. Anything not
//! prefetched (a key computed differently) falls back to the batching
//! loaders.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::futures_util::future::try_join;
use async_graphql::futures_util::{TryStreamExt, stream};
use async_graphql::indexmap::IndexSet;
use async_graphql::{Name, SelectionField, Value as GqlValue};

use crate::engine::loader::{ByColumn, ChildCount, Children, RelationArgs};
use crate::engine::model::{Member, Model, RelKind, RelationInfo};
use crate::engine::schema::{
    Limits, RequestContext, connection_node_fields, node_projection, spec_from_args,
};
use crate::engine::sql::{self, Page, Row};
use crate::engine::value::{key_text, with_key_text};
use crate::engine::{Map, Set};
use crate::error::ApiResult;

/// Which rows a by-column lookup reads: those of `entity` by `column`,
/// with `projection`'s columns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lookup {
    pub entity: usize,
    pub column: usize,
    pub projection: Arc<Vec<usize>>,
}

impl ByColumn {
    fn lookup(&self) -> Lookup {
        Lookup {
            entity: self.entity,
            column: self.column,
            projection: self.projection.clone(),
        }
    }
}

/// Prefetched rows of one [`Lookup`], by the key text of the looked-up
/// value: a row of a page finds its related row without building a key.
pub type ByValue = Map<String, Arc<Vec<Arc<Row>>>>;

/// What a request has prefetched, by loader key.
#[derive(Default)]
pub struct Prefetched {
    by_column: Mutex<Map<Lookup, ByValue>>,
    children: Mutex<Map<Children, Arc<Page>>>,
    counts: Mutex<Map<ChildCount, u64>>,
}

impl Prefetched {
    pub fn by_column(&self, key: &ByColumn) -> Option<Arc<Vec<Arc<Row>>>> {
        self.by_column
            .lock()
            .ok()?
            .get(&key.lookup())?
            .get(&key.key)
            .cloned()
    }

    /// Calls `f` with every prefetched by-column row and child page, under
    /// their locks (taken in this order; nothing else holds both).
    pub fn with_rows<T>(
        &self,
        f: impl FnOnce(&Map<Lookup, ByValue>, &Map<Children, Arc<Page>>) -> T,
    ) -> Option<T> {
        let by_column = self.by_column.lock().ok()?;
        let children = self.children.lock().ok()?;
        Some(f(&by_column, &children))
    }

    pub fn children(&self, key: &Children) -> Option<Arc<Page>> {
        self.children.lock().ok()?.get(key).cloned()
    }

    pub fn count(&self, key: &ChildCount) -> Option<u64> {
        self.counts.lock().ok()?.get(key).copied()
    }
}

/// A cache of [`Prefetched`], for writing.
fn locked<T>(cache: &Mutex<T>) -> ApiResult<MutexGuard<'_, T>> {
    cache.lock().map_err(|_| crate::error::ApiError::Internal)
}

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>>;

/// The key texts of `column`'s values in `rows`, once each, nulls left out.
fn unique_keys(rows: &[Arc<Row>], column: usize) -> Vec<String> {
    let mut keys: IndexSet<String, foldhash::fast::RandomState> = IndexSet::default();
    for value in rows.iter().map(|r| r.get(column)) {
        if !matches!(value, GqlValue::Null) {
            with_key_text(value, |key| {
                if !keys.contains(key) {
                    keys.insert(key.to_owned());
                }
            });
        }
    }
    keys.into_iter().collect()
}

fn unique_values(rows: &[Arc<Row>], column: usize) -> Vec<GqlValue> {
    let mut seen = Set::default();
    rows.iter()
        .map(|r| r.get(column).clone())
        .filter(|v| !matches!(v, GqlValue::Null) && seen.insert(key_text(v)))
        .collect()
}

/// At most this many belongs-to relations are joined into one statement.
const JOINED_AT_MOST: usize = 4;

/// The fields selected under rows, split in two: the belongs-to relations
/// read in the statement of those rows, and the rest. A relation is joined
/// when its target has a single-column key the caller may read; so are the
/// belongs-to relations selected under a joined one ([`JOINED_AT_MOST`] in
/// all, depth first).
#[derive(Default)]
struct Fold<'a> {
    joins: Vec<sql::Joined>,
    /// Per join, its fields not joined, which load below its rows.
    below: Vec<Vec<SelectionField<'a>>>,
}

impl<'a> Fold<'a> {
    /// Splits `fields` (of `entity`'s rows); returns the fields not joined.
    fn split(
        ctx: &RequestContext,
        model: &Model,
        entity: usize,
        fields: impl Iterator<Item = SelectionField<'a>>,
    ) -> (Self, Vec<SelectionField<'a>>) {
        let mut fold = Self::default();
        let rest = fold.add(ctx, model, entity, fields, None);
        (fold, rest)
    }

    fn add(
        &mut self,
        ctx: &RequestContext,
        model: &Model,
        entity: usize,
        fields: impl Iterator<Item = SelectionField<'a>>,
        source: Option<usize>,
    ) -> Vec<SelectionField<'a>> {
        let info = &model.entities[entity];
        let mut rest = Vec::new();
        for sub in fields {
            let joinable = match info.members.get(sub.name()) {
                Some(Member::Relation(r)) => match info.relations[*r] {
                    RelationInfo {
                        kind: RelKind::BelongsTo { column },
                        target,
                        ..
                    } if self.joins.len() < JOINED_AT_MOST
                        && ctx.reader.access.can_read(target) =>
                    {
                        model.entities[target]
                            .single_pk()
                            .map(|key| (target, column, key))
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some((target, column, key)) = joinable else {
                rest.push(sub);
                continue;
            };
            let index = self.joins.len();
            self.joins.push(sql::Joined {
                target,
                column,
                key,
                projection: Arc::new(node_projection(model, target, sub.selection_set(), &[])),
                source,
            });
            self.below.push(Vec::new());
            let below = self.add(ctx, model, target, sub.selection_set(), Some(index));
            self.below[index] = below;
        }
        rest
    }

    /// Caches the joined rows read for `rows` (the statement's rows kept)
    /// under the keys the relations' resolvers compute, a missing one as
    /// no row, and returns what loads below each join's rows.
    fn cache(
        self,
        ctx: &RequestContext,
        rows: &[Arc<Row>],
        joined_rows: Vec<sql::JoinedRows>,
    ) -> ApiResult<Vec<Below<'a>>> {
        let mut cache = locked(&ctx.prefetched.by_column)?;
        let mut below: Vec<Below<'a>> = Vec::with_capacity(self.joins.len());
        for ((join, found), fields) in self.joins.iter().zip(joined_rows).zip(self.below) {
            let sources = match join.source.and_then(|s| below.get(s)) {
                Some((_, source_rows, _)) => source_rows.as_slice(),
                None => rows,
            };
            let group = cache
                .entry(Lookup {
                    entity: join.target,
                    column: join.key,
                    projection: join.projection.clone(),
                })
                .or_default();
            let mut reached = Vec::new();
            for key in unique_keys(sources, join.column) {
                let row: Vec<Arc<Row>> = found.get(&key).cloned().into_iter().collect();
                reached.extend(row.iter().cloned());
                group.insert(key, Arc::new(row));
            }
            below.push((join.target, reached, fields));
        }
        Ok(below)
    }
}

/// Rows of an entity and the fields that load below them.
type Below<'a> = (usize, Vec<Arc<Row>>, Vec<SelectionField<'a>>);

/// [`prefetch`] below each group of rows, at the same time.
async fn prefetch_below<'a>(
    ctx: &'a RequestContext,
    model: &'a Model,
    limits: &'a Limits,
    below: Vec<Below<'a>>,
) -> ApiResult<()> {
    stream::iter(below.into_iter().map(Ok))
        .try_for_each_concurrent(SIBLINGS_AT_ONCE, |(entity, rows, fields)| {
            prefetch(ctx, model, limits, entity, rows, fields)
        })
        .await
}

fn selects(field: &SelectionField<'_>, names: &[&str]) -> bool {
    field.selection_set().any(|f| names.contains(&f.name()))
}

/// Sibling relations of one level loaded at the same time, at most: one
/// request with many relations under a page does not take the whole pool.
const SIBLINGS_AT_ONCE: usize = 4;

/// Loads, for all `rows` of `entity` at once, every relation selected in
/// `fields`, and below them, level by level. Sibling relations are
/// independent and load at the same time ([`SIBLINGS_AT_ONCE`] at most),
/// each on its own pooled connection: a page with a parent, a type and a
/// version waits for one round trip, not three.
pub fn prefetch<'a>(
    ctx: &'a RequestContext,
    model: &'a Model,
    limits: &'a Limits,
    entity: usize,
    rows: Vec<Arc<Row>>,
    fields: Vec<SelectionField<'a>>,
) -> BoxFuture<'a> {
    Box::pin(async move {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = &rows;
        stream::iter(fields.into_iter().map(Ok))
            .try_for_each_concurrent(SIBLINGS_AT_ONCE, |field| {
                prefetch_field(ctx, model, limits, entity, rows, field)
            })
            .await
    })
}

/// [`prefetch`] for one selected field of `rows`.
fn prefetch_field<'a>(
    ctx: &'a RequestContext,
    model: &'a Model,
    limits: &'a Limits,
    entity: usize,
    rows: &'a [Arc<Row>],
    field: SelectionField<'a>,
) -> BoxFuture<'a> {
    Box::pin(async move {
        let info = &model.entities[entity];
        let Some(Member::Relation(r)) = info.members.get(field.name()) else {
            return Ok(());
        };
        let relation = &info.relations[*r];
        let target = relation.target;
        // The field's resolver reports the refusal.
        if !ctx.reader.access.can_read(target) {
            return Ok(());
        }
        match relation.kind {
            RelKind::BelongsTo { column } | RelKind::HasOne { column } => {
                let (values, lookup) = match relation.kind {
                    RelKind::BelongsTo { .. } => {
                        let Some(pk) = model.entities[target].single_pk() else {
                            return Ok(());
                        };
                        (unique_values(rows, column), pk)
                    }
                    _ => {
                        let Some(pk) = info.single_pk() else {
                            return Ok(());
                        };
                        (unique_values(rows, pk), column)
                    }
                };
                if values.is_empty() {
                    return Ok(());
                }
                let projection =
                    Arc::new(node_projection(model, target, field.selection_set(), &[]));
                // Belongs-to relations selected under these rows are read in
                // the same statement; the other fields load below.
                let (fold, rest) = Fold::split(ctx, model, target, field.selection_set());
                let (grouped, joined_rows) = sql::fetch_by_column_joined(
                    &ctx.reader,
                    model,
                    target,
                    lookup,
                    &values,
                    &projection,
                    &fold.joins,
                )
                .await?;
                let mut fetched = Vec::new();
                {
                    let mut cache = locked(&ctx.prefetched.by_column)?;
                    let group = cache
                        .entry(Lookup {
                            entity: target,
                            column: lookup,
                            projection: projection.clone(),
                        })
                        .or_default();
                    for value in &values {
                        let key = key_text(value);
                        let found = grouped.get(&key).cloned().unwrap_or_default();
                        fetched.extend(found.iter().cloned());
                        group.insert(key, Arc::new(found));
                    }
                }
                let mut below = fold.cache(ctx, &fetched, joined_rows)?;
                below.push((target, fetched, rest));
                prefetch_below(ctx, model, limits, below).await
            }
            RelKind::HasMany { .. } | RelKind::ManyToMany { .. } => {
                let Some(pk) = info.single_pk() else {
                    return Ok(());
                };
                let parents = unique_values(rows, pk);
                if parents.is_empty() {
                    return Ok(());
                }
                let Ok(arguments) = field.arguments() else {
                    return Ok(());
                };
                let args: async_graphql::indexmap::IndexMap<Name, GqlValue> =
                    arguments.into_iter().collect();
                // A bad argument is reported by the field's own resolver.
                let Ok(spec) = spec_from_args(model, target, &args, field, limits) else {
                    return Ok(());
                };
                let args = Arc::new(RelationArgs::new(spec));
                // Belongs-to relations selected under the pages' rows are
                // read in the pages' statement; the other fields load below.
                let (fold, rest) = Fold::split(
                    ctx,
                    model,
                    target,
                    connection_node_fields(field).into_iter(),
                );
                // The pages and the counts, at the same time.
                let pages = async {
                    if !selects(&field, &["nodes", "edges", "pageInfo"]) {
                        return Ok(Vec::new());
                    }
                    let mut fetched = Vec::new();
                    let (mut pages, joined_rows) = sql::fetch_children(
                        &ctx.reader,
                        model,
                        entity,
                        *r,
                        &parents,
                        &args.spec,
                        &fold.joins,
                    )
                    .await?;
                    let mut cache = locked(&ctx.prefetched.children)?;
                    for parent in &parents {
                        let key = key_text(parent);
                        let page = pages
                            .remove(&key)
                            .unwrap_or_else(|| Page::empty(&args.spec.window));
                        fetched.extend(page.rows.iter().cloned());
                        cache.insert(
                            Children {
                                owner: entity,
                                relation: *r,
                                parent: parent.clone(),
                                key,
                                args: args.clone(),
                            },
                            Arc::new(page),
                        );
                    }
                    drop(cache);
                    let mut below = fold.cache(ctx, &fetched, joined_rows)?;
                    below.push((target, fetched, rest));
                    ApiResult::Ok(below)
                };
                let counts = async {
                    if !selects(&field, &["totalCount"]) {
                        return Ok(());
                    }
                    let (filter, include_deleted) = (&args.spec.filter, args.spec.include_deleted);
                    let counts = sql::count_children(
                        &ctx.reader,
                        model,
                        entity,
                        *r,
                        &parents,
                        filter.as_ref(),
                        include_deleted,
                    )
                    .await?;
                    let signature = ChildCount::signature_of(filter.as_ref(), include_deleted);
                    let filter = Arc::new(filter.clone());
                    let mut cache = locked(&ctx.prefetched.counts)?;
                    for parent in &parents {
                        let key = key_text(parent);
                        cache.insert(
                            ChildCount {
                                owner: entity,
                                relation: *r,
                                parent: parent.clone(),
                                key: key.clone(),
                                filter: filter.clone(),
                                include_deleted,
                                signature: signature.clone(),
                            },
                            counts.get(&key).copied().unwrap_or(0),
                        );
                    }
                    ApiResult::Ok(())
                };
                let (below, ()) = try_join(pages, counts).await?;
                prefetch_below(ctx, model, limits, below).await
            }
        }
    })
}
