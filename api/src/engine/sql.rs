//! The statements the engine runs. Each function is one SQL statement, so
//! that the cost of a query is its number of calls here.
//!
//! Paged relations under many parents are paged in SQL, and only the first
//! `limit + 1` rows of each parent come back: on PostgreSQL each parent's
//! page is a `LATERAL` subquery with its own `ORDER BY ... LIMIT`, which an
//! index serves; on SQLite every child row is ranked within its parent with
//! `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY ...)`.
//!
//! A `NOT NULL` column is ordered without `NULLS FIRST`/`LAST`: the order is
//! the same, and PostgreSQL can then read it from a plain index instead of
//! sorting every matching row.

use std::fmt;
use std::sync::Arc;

use async_graphql::Value as GqlValue;
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Order, OrderedStatement,
    OverStatement, PostgresQueryBuilder, Query, QueryBuilder, SelectStatement, SqlWriter,
    SqlWriterValues, Value as SqlValue, WindowStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use serde_json::value::RawValue;

use crate::engine::Map;
use crate::engine::filter::condition;
use crate::engine::model::{Model, RelKind};
use crate::engine::pagination::{OrderTerm, Window, keyset_condition, sql_terms};
use crate::engine::value::{
    Cell, Types, key_text, read, read_cell, read_with, to_sql, with_key_text,
};
use crate::error::{ApiError, ApiResult};
use crate::policy::Access;

/// The alias of the main table in every statement.
const T: &str = "t0";
const PARENT: &str = "__parent";
/// The parent rows a `LATERAL` page is read for.
const PARENT_ROW: &str = "__p";
const RANK: &str = "__rank";
/// The paged subquery of [`fetch_children`].
const RANKED: &str = "ranked";
const COUNT: &str = "__count";

/// What reads need: the connection and the caller's access, whose row
/// scope every statement carries.
#[derive(Clone)]
pub struct Reader {
    pub db: crate::reads::Reads,
    pub access: Arc<Access>,
}

/// A row of an entity: the values of the columns its statement read.
/// Columns not read (not selected, or secret) read as null.
#[derive(Debug)]
pub struct Row {
    values: Vec<Cell>,
    slots: Slots,
}

/// Column index → position in a [`Row`]'s values ([`ABSENT`] for columns
/// not read), shared by every row of one statement: a row holds only what
/// was read (a 5,000-row page of 8 of 23 columns had held 8 MB of nulls).
type Slots = Arc<[u16]>;
const ABSENT: u16 = u16::MAX;
static NULL: GqlValue = GqlValue::Null;

impl Row {
    /// The value of column `column`; null when it was not read.
    pub fn get(&self, column: usize) -> &GqlValue {
        self.cell(column).map_or(&NULL, Cell::value)
    }

    /// The JSON text of column `column`, if it is a JSON column and was
    /// read (not null).
    pub fn json_text(&self, column: usize) -> Option<&RawValue> {
        match self.cell(column)? {
            Cell::Json(json) => Some(json.raw()),
            Cell::Value(_) => None,
        }
    }

    /// What the row holds for column `column`, if it was read.
    fn cell(&self, column: usize) -> Option<&Cell> {
        match self.slots.get(column) {
            Some(&slot) if slot != ABSENT => self.values.get(usize::from(slot)),
            _ => None,
        }
    }
}

/// The slots of the rows of `entity` read with `projection`.
fn slots(model: &Model, entity: usize, projection: &[usize]) -> Slots {
    let mut slots = vec![ABSENT; model.entities[entity].columns.len()];
    for (position, &column) in projection.iter().enumerate() {
        if let (Some(slot), Ok(position)) = (slots.get_mut(column), u16::try_from(position)) {
            *slot = position;
        }
    }
    slots.into()
}

/// One page of a connection.
#[derive(Debug, Default)]
pub struct Page {
    pub rows: Vec<Arc<Row>>,
    pub has_next: bool,
    pub has_previous: bool,
}

/// What a list reads: its filter, order, window and columns.
#[derive(Clone, Debug)]
pub struct ListSpec {
    pub filter: Option<GqlValue>,
    /// Soft-deleted rows are hidden unless asked for.
    pub include_deleted: bool,
    pub terms: Vec<OrderTerm>,
    pub window: Window,
    pub projection: Arc<Vec<usize>>,
}

fn select_columns(
    model: &Model,
    entity: usize,
    projection: &[usize],
    select: &mut SelectStatement,
) {
    let info = &model.entities[entity];
    for &c in projection {
        select.expr_as(
            Expr::col((Alias::new(T), Alias::new(&info.columns[c].name))),
            Alias::new(&info.columns[c].name),
        );
    }
}

/// The row of `entity` whose `projection` a statement selected first, in
/// that order ([`select_columns`] right after `SELECT`): each value is read
/// by its position.
fn read_row(
    model: &Model,
    entity: usize,
    projection: &[usize],
    slots: &Slots,
    row: &QueryResult,
    types: Types,
) -> ApiResult<Row> {
    let info = &model.entities[entity];
    let mut values = Vec::with_capacity(projection.len());
    for (position, &c) in projection.iter().enumerate() {
        values.push(read_cell(row, position, &info.columns[c], model, types)?);
    }
    Ok(Row {
        values,
        slots: slots.clone(),
    })
}

/// The rows of `entity` a list may show: soft-deleted ones only when asked.
pub fn visible(model: &Model, entity: usize, alias: &str, include_deleted: bool) -> Condition {
    let info = &model.entities[entity];
    match info.soft_delete {
        Some(c) if !include_deleted => {
            let col = Expr::col((Alias::new(alias), Alias::new(&info.columns[c].name)));
            if info.columns[c].scalar == crate::engine::model::Scalar::Boolean {
                Condition::all().add(col.eq(false))
            } else {
                Condition::all().add(col.is_null())
            }
        }
        _ => Condition::all(),
    }
}

fn filter_condition(
    model: &Model,
    reader: &Reader,
    entity: usize,
    filter: Option<&GqlValue>,
    include_deleted: bool,
) -> ApiResult<Condition> {
    let visibility =
        visible(model, entity, T, include_deleted).add(reader.access.read_scope(model, entity, T));
    match filter {
        Some(f) => Ok(visibility.add(condition(
            model,
            reader.db.get_database_backend(),
            &reader.access,
            entity,
            T,
            f,
            "filter",
        )?)),
        None => Ok(visibility),
    }
}

/// Orders `statement` (a SELECT or a window) by `terms` on the main alias.
/// Nulls are placed only where the column can hold them.
fn order_by<S: OrderedStatement>(
    model: &Model,
    backend: DbBackend,
    entity: usize,
    terms: &[OrderTerm],
    statement: &mut S,
) {
    let info = &model.entities[entity];
    for t in terms {
        let column = &info.columns[t.column];
        let (order, nulls) = t.sql_order();
        let col = (Alias::new(T), Alias::new(&column.name));
        // PostgreSQL already places nulls this way; saying nothing lets it
        // read the order from a plain index.
        if column.nullable && backend != DbBackend::Postgres {
            statement.order_by_with_nulls(col, order, nulls);
        } else {
            statement.order_by(col, order);
        }
    }
}

impl Page {
    /// The page of a parent without matching rows: still after (or, going
    /// backward, before) its cursor.
    pub fn empty(window: &Window) -> Self {
        into_page(Vec::new(), window)
    }
}

/// Cuts the `limit + 1` rows read in SQL order into a page in list order.
fn into_page(mut rows: Vec<Arc<Row>>, window: &Window) -> Page {
    let more = rows.len() as u64 > window.limit;
    rows.truncate(usize::try_from(window.limit).unwrap_or(usize::MAX));
    if window.backward {
        rows.reverse();
        Page {
            rows,
            has_next: window.before.is_some(),
            has_previous: more,
        }
    } else {
        Page {
            rows,
            has_next: more,
            has_previous: window.after.is_some(),
        }
    }
}

/// A root list page.
pub async fn fetch_page(
    reader: &Reader,
    model: &Model,
    entity: usize,
    spec: &ListSpec,
) -> ApiResult<Page> {
    let db = &reader.db;
    reader.access.prepare_scopes(db, model, &[entity]).await?;
    let info = &model.entities[entity];
    let terms = sql_terms(&spec.terms, &spec.window);
    let mut select = Query::select();
    select_columns(model, entity, &spec.projection, &mut select);
    select
        .from_as(Alias::new(&info.table), Alias::new(T))
        .cond_where(filter_condition(
            model,
            reader,
            entity,
            spec.filter.as_ref(),
            spec.include_deleted,
        )?)
        .cond_where(keyset_condition(
            model,
            entity,
            T,
            &spec.terms,
            &spec.window,
        )?)
        .limit(spec.window.limit + 1);
    order_by(
        model,
        db.get_database_backend(),
        entity,
        &terms,
        &mut select,
    );
    let slots = slots(model, entity, &spec.projection);
    let mut rows = Vec::new();
    db.for_each_row(read_statement(db.get_database_backend(), &select), |r| {
        let types = Types::of_row(rows.len());
        rows.push(Arc::new(read_row(
            model,
            entity,
            &spec.projection,
            &slots,
            &r,
            types,
        )?));
        ApiResult::Ok(())
    })
    .await?;
    Ok(into_page(rows, &spec.window))
}

/// A read's statement. On PostgreSQL its `LIMIT`s and booleans are
/// literals, not parameters: PostgreSQL plans a prepared statement afresh
/// on each run until a generic plan (one for any parameters) looks as
/// cheap, and it never does with `LIMIT $n` (a generic plan reads a tenth
/// of the table) nor with `deleted = $n` (half the rows, so a page walks
/// twice as far), so every page paid its planning again (~0.25 ms for W2's
/// submissions page). With them in the text, the same shape soon runs a
/// kept plan. A limit comes from a validated page size, a boolean is
/// `TRUE` or `FALSE`: neither can carry anything else into the text, and
/// each gives a statement few variants.
fn read_statement(backend: DbBackend, select: &SelectStatement) -> Statement {
    if backend != DbBackend::Postgres {
        return backend.build(select);
    }
    let mut writer = Literals(SqlWriterValues::new("$", true));
    select.build_collect_into(PostgresQueryBuilder, &mut writer);
    let (sql, values) = writer.0.into_parts();
    Statement::from_sql_and_values(backend, sql, values)
}

/// Writes unsigned integers (the engine binds them only as row limits,
/// `Window::limit`) and booleans inline; every other value stays a
/// parameter.
struct Literals(SqlWriterValues);

impl fmt::Write for Literals {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_str(s)
    }
}

impl fmt::Display for Literals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl SqlWriter for Literals {
    fn push_param<T: QueryBuilder>(&mut self, value: SqlValue, query_builder: &T) {
        match value {
            SqlValue::BigUnsigned(Some(n)) => {
                let _ = fmt::Write::write_str(&mut self.0, itoa::Buffer::new().format(n));
            }
            SqlValue::Bool(Some(b)) => {
                let _ = fmt::Write::write_str(&mut self.0, if b { "TRUE" } else { "FALSE" });
            }
            value => self.0.push_param(value, query_builder),
        }
    }

    fn as_writer(&mut self) -> &mut dyn fmt::Write {
        self
    }
}

/// The rows matching a filter, without paging.
pub async fn count(
    reader: &Reader,
    model: &Model,
    entity: usize,
    filter: Option<&GqlValue>,
    include_deleted: bool,
) -> ApiResult<u64> {
    let db = &reader.db;
    reader.access.prepare_scopes(db, model, &[entity]).await?;
    let info = &model.entities[entity];
    let mut select = Query::select();
    select
        .expr_as(Expr::col(Asterisk).count(), Alias::new(COUNT))
        .from_as(Alias::new(&info.table), Alias::new(T))
        .cond_where(filter_condition(
            model,
            reader,
            entity,
            filter,
            include_deleted,
        )?);
    let row = db
        .query_one_raw(read_statement(db.get_database_backend(), &select))
        .await?
        .ok_or_else(|| ApiError::internal("COUNT returned no row"))?;
    let n: i64 = row.try_get("", COUNT).map_err(ApiError::internal)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Rows whose `column` is one of `values`, grouped by that value's key
/// text. Serves get-by-id, belongs-to and has-one.
pub async fn fetch_by_column(
    reader: &Reader,
    model: &Model,
    entity: usize,
    column: usize,
    values: &[GqlValue],
    projection: &[usize],
) -> ApiResult<Map<String, Vec<Arc<Row>>>> {
    Ok(
        fetch_by_column_joined(reader, model, entity, column, values, projection, &[])
            .await?
            .0,
    )
}

/// A belongs-to relation read in the statement of the rows it belongs to
/// ([`fetch_by_column_joined`], [`fetch_children`]): the target entity, the
/// foreign key to it, the target's (single-column) key it matches, the
/// target's columns to read, and whose foreign key it is: the statement's
/// rows (`None`) or an earlier join's (`Some(index)`), so that a unit and
/// its parent come with the instances that name the unit.
pub struct Joined {
    pub target: usize,
    pub column: usize,
    pub key: usize,
    pub projection: Arc<Vec<usize>>,
    pub source: Option<usize>,
}

/// The rows of one [`Joined`] relation, by the key text of the foreign key.
pub type JoinedRows = Map<String, Arc<Row>>;

/// How to read one [`Joined`] relation back: the position of its first
/// column in the select list, its key's position among its columns, and
/// its rows' slots.
struct JoinRead {
    first: usize,
    key_position: Option<usize>,
    slots: Slots,
}

fn join_alias(index: usize) -> String {
    format!("j{index}")
}

/// Adds `joined` to `select` as `LEFT JOIN`s, the target's read scope in
/// the join's condition (a row the caller may not read is absent, as it
/// would be when fetched on its own). The rows' foreign keys are columns
/// of `alias` (of `entity`); the joins' columns are selected after the
/// `first` columns already in the list, named `jN.name` (no column name
/// holds a dot).
fn add_joins(
    reader: &Reader,
    model: &Model,
    entity: usize,
    alias: &str,
    joined: &[Joined],
    mut first: usize,
    select: &mut SelectStatement,
) -> Vec<JoinRead> {
    let mut reads = Vec::with_capacity(joined.len());
    for (i, join) in joined.iter().enumerate() {
        let target = &model.entities[join.target];
        let (source, source_alias) = match join.source.and_then(|s| joined.get(s).map(|j| (s, j))) {
            Some((s, source)) => (source.target, join_alias(s)),
            None => (entity, alias.to_owned()),
        };
        let join_alias = join_alias(i);
        for &c in join.projection.iter() {
            let name = &target.columns[c].name;
            select.expr_as(
                Expr::col((Alias::new(&join_alias), Alias::new(name))),
                Alias::new(format!("{join_alias}.{name}")),
            );
        }
        select.join_as(
            JoinType::LeftJoin,
            Alias::new(&target.table),
            Alias::new(&join_alias),
            Condition::all()
                .add(
                    Expr::col((
                        Alias::new(&join_alias),
                        Alias::new(&target.columns[join.key].name),
                    ))
                    .equals((
                        Alias::new(&source_alias),
                        Alias::new(&model.entities[source].columns[join.column].name),
                    )),
                )
                .add(reader.access.read_scope(model, join.target, &join_alias)),
        );
        reads.push(JoinRead {
            first,
            key_position: join.projection.iter().position(|&c| c == join.key),
            slots: slots(model, join.target, &join.projection),
        });
        first += join.projection.len();
    }
    reads
}

/// [`Access::prepare_scopes`](crate::policy::Access::prepare_scopes) for a
/// statement that reads `entity` with `joined` joined in.
async fn prepare_joined(
    reader: &Reader,
    model: &Model,
    entity: usize,
    joined: &[Joined],
) -> ApiResult<()> {
    let mut entities: Vec<usize> = joined.iter().map(|j| j.target).collect();
    entities.push(entity);
    reader
        .access
        .prepare_scopes(&reader.db, model, &entities)
        .await
}

/// Reads the joined rows of one result row `r` (whose own row is `row`)
/// into `joined_rows`, each under the key text of its foreign key.
fn read_joins(
    model: &Model,
    joined: &[Joined],
    reads: &[JoinRead],
    row: &Row,
    r: &QueryResult,
    types: Types,
    joined_rows: &mut [JoinedRows],
) -> ApiResult<()> {
    // This result row's row of each join, for the joins that hang off it.
    let mut these: Vec<Option<Arc<Row>>> = Vec::with_capacity(joined.len());
    for ((join, read_back), found) in joined.iter().zip(reads).zip(joined_rows.iter_mut()) {
        let source = match join.source {
            None => Some(row),
            Some(s) => these.get(s).and_then(Option::as_deref),
        };
        let foreign = source.map_or(&NULL, |source| source.get(join.column));
        if matches!(foreign, GqlValue::Null) {
            these.push(None);
            continue;
        }
        if let Some(known) = with_key_text(foreign, |key| found.get(key).cloned()) {
            these.push(Some(known));
            continue;
        }
        let target = &model.entities[join.target];
        let mut values = Vec::with_capacity(join.projection.len());
        for (i, &c) in join.projection.iter().enumerate() {
            values.push(read_cell(
                r,
                read_back.first + i,
                &target.columns[c],
                model,
                types,
            )?);
        }
        // No target row: its key reads as null.
        if read_back
            .key_position
            .is_none_or(|p| matches!(values.get(p).map(Cell::value), None | Some(GqlValue::Null)))
        {
            these.push(None);
            continue;
        }
        let joined_row = Arc::new(Row {
            values,
            slots: read_back.slots.clone(),
        });
        found.insert(key_text(foreign), joined_row.clone());
        these.push(Some(joined_row));
    }
    Ok(())
}

/// [`fetch_by_column`], with belongs-to relations of those rows joined in.
pub async fn fetch_by_column_joined(
    reader: &Reader,
    model: &Model,
    entity: usize,
    column: usize,
    values: &[GqlValue],
    projection: &[usize],
    joined: &[Joined],
) -> ApiResult<(Map<String, Vec<Arc<Row>>>, Vec<JoinedRows>)> {
    let db = &reader.db;
    prepare_joined(reader, model, entity, joined).await?;
    let info = &model.entities[entity];
    let col = &info.columns[column];
    let params = values
        .iter()
        .map(|v| to_sql(col, model, v, &col.gql))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut projection = projection.to_vec();
    if !projection.contains(&column) {
        projection.push(column);
    }
    let mut select = Query::select();
    select_columns(model, entity, &projection, &mut select);
    select.from_as(Alias::new(&info.table), Alias::new(T));
    let reads = add_joins(
        reader,
        model,
        entity,
        T,
        joined,
        projection.len(),
        &mut select,
    );
    select
        .and_where(Expr::col((Alias::new(T), Alias::new(&col.name))).is_in(params))
        .cond_where(reader.access.read_scope(model, entity, T));
    let pk_terms: Vec<OrderTerm> = info
        .pk
        .iter()
        .map(|&c| OrderTerm {
            column: c,
            descending: false,
        })
        .collect();
    order_by(
        model,
        db.get_database_backend(),
        entity,
        &pk_terms,
        &mut select,
    );
    let mut grouped: Map<String, Vec<Arc<Row>>> = Map::default();
    let mut joined_rows: Vec<JoinedRows> = vec![Map::default(); joined.len()];
    let slots = slots(model, entity, &projection);
    let results = db
        .query_all_raw(read_statement(db.get_database_backend(), &select))
        .await?;
    for (index, r) in results.iter().enumerate() {
        let types = Types::of_row(index);
        let row = read_row(model, entity, &projection, &slots, r, types)?;
        read_joins(model, joined, &reads, &row, r, types, &mut joined_rows)?;
        grouped
            .entry(key_text(row.get(column)))
            .or_default()
            .push(Arc::new(row));
    }
    Ok((grouped, joined_rows))
}

/// Rows matching `cond` on the main table alias (composite keys).
pub async fn fetch_where(
    reader: &Reader,
    model: &Model,
    entity: usize,
    cond: Condition,
    projection: &[usize],
) -> ApiResult<Vec<Arc<Row>>> {
    let db = &reader.db;
    reader.access.prepare_scopes(db, model, &[entity]).await?;
    let info = &model.entities[entity];
    let mut select = Query::select();
    select_columns(model, entity, projection, &mut select);
    select
        .from_as(Alias::new(&info.table), Alias::new(T))
        .cond_where(cond)
        .cond_where(reader.access.read_scope(model, entity, T))
        .limit(2);
    let slots = slots(model, entity, projection);
    db.query_all_raw(read_statement(db.get_database_backend(), &select))
        .await?
        .iter()
        .enumerate()
        .map(|(index, r)| {
            read_row(model, entity, projection, &slots, r, Types::of_row(index)).map(Arc::new)
        })
        .collect()
}

/// The FROM clause of a relation's target rows, and the expression that
/// names each row's parent.
fn relation_source(
    model: &Model,
    owner: usize,
    relation: usize,
    select: &mut SelectStatement,
) -> ApiResult<(usize, Expr)> {
    let rel = &model.entities[owner].relations[relation];
    let target = &model.entities[rel.target];
    select.from_as(Alias::new(&target.table), Alias::new(T));
    let parent = match &rel.kind {
        RelKind::HasMany { column } | RelKind::HasOne { column } => {
            Expr::col((Alias::new(T), Alias::new(&target.columns[*column].name)))
        }
        RelKind::ManyToMany { junction, from, to } => {
            let target_pk = target
                .single_pk()
                .ok_or_else(|| ApiError::internal(format!("{} has no single key", target.name)))?;
            select.join_as(
                sea_orm::sea_query::JoinType::InnerJoin,
                Alias::new(junction),
                Alias::new("j"),
                Expr::col((Alias::new("j"), Alias::new(to)))
                    .equals((Alias::new(T), Alias::new(&target.columns[target_pk].name))),
            );
            Expr::col((Alias::new("j"), Alias::new(from)))
        }
        RelKind::BelongsTo { .. } => {
            return Err(ApiError::internal("a belongs-to relation has no pages"));
        }
    };
    Ok((rel.target, parent))
}

fn parent_params(
    model: &Model,
    owner: usize,
    parents: &[GqlValue],
) -> ApiResult<Vec<sea_orm::sea_query::Value>> {
    let info = &model.entities[owner];
    let pk = info
        .single_pk()
        .ok_or_else(|| ApiError::internal(format!("{} has no single key", info.name)))?;
    parents
        .iter()
        .map(|p| to_sql(&info.columns[pk], model, p, &info.columns[pk].gql))
        .collect()
}

/// One page of a relation for each parent, in one statement, with
/// belongs-to relations of the pages' rows joined in (after the paging, so
/// each joined row is looked up by key for the page's rows only).
pub async fn fetch_children(
    reader: &Reader,
    model: &Model,
    owner: usize,
    relation: usize,
    parents: &[GqlValue],
    spec: &ListSpec,
    joined: &[Joined],
) -> ApiResult<(Map<String, Page>, Vec<JoinedRows>)> {
    let db = &reader.db;
    let lateral = db.get_database_backend() == DbBackend::Postgres;
    let owner_info = &model.entities[owner];
    let owner_pk = owner_info
        .single_pk()
        .ok_or_else(|| ApiError::internal("no single key"))?;
    let mut inner = Query::select();
    let (target, parent) = relation_source(model, owner, relation, &mut inner)?;
    prepare_joined(reader, model, target, joined).await?;
    select_columns(model, target, &spec.projection, &mut inner);
    let terms = sql_terms(&spec.terms, &spec.window);
    let mut window = WindowStatement::new();
    if !lateral {
        window.add_partition_by(parent.clone());
    }
    order_by(
        model,
        db.get_database_backend(),
        target,
        &terms,
        &mut window,
    );
    inner
        .expr_as(parent.clone(), Alias::new(PARENT))
        .expr_window_as(
            Func::cust(Alias::new("ROW_NUMBER")),
            window,
            Alias::new(RANK),
        );
    if lateral {
        // One parent per subquery: `ORDER BY ... LIMIT` walks an index.
        inner
            .and_where(parent.equals((
                Alias::new(PARENT_ROW),
                Alias::new(&owner_info.columns[owner_pk].name),
            )))
            .limit(spec.window.limit + 1);
        order_by(model, db.get_database_backend(), target, &terms, &mut inner);
    } else {
        inner.and_where(parent.is_in(parent_params(model, owner, parents)?));
    }
    inner
        .cond_where(filter_condition(
            model,
            reader,
            target,
            spec.filter.as_ref(),
            spec.include_deleted,
        )?)
        .cond_where(keyset_condition(
            model,
            target,
            T,
            &spec.terms,
            &spec.window,
        )?);
    let mut outer = Query::select();
    outer.column((Alias::new(RANKED), Asterisk));
    if lateral {
        let pk = Expr::col((
            Alias::new(PARENT_ROW),
            Alias::new(&owner_info.columns[owner_pk].name),
        ));
        outer
            .from_as(Alias::new(&owner_info.table), Alias::new(PARENT_ROW))
            .join_lateral(
                JoinType::InnerJoin,
                inner,
                Alias::new(RANKED),
                Expr::cust("TRUE"),
            )
            .and_where(pk.is_in(parent_params(model, owner, parents)?));
    } else {
        outer.from_subquery(inner, Alias::new(RANKED)).and_where(
            Expr::col((Alias::new(RANKED), Alias::new(RANK))).lte(spec.window.limit + 1),
        );
    }
    // The subquery's columns: the projection, the parent, the rank.
    let reads = add_joins(
        reader,
        model,
        target,
        RANKED,
        joined,
        spec.projection.len() + 2,
        &mut outer,
    );
    outer.order_by((Alias::new(RANKED), Alias::new(RANK)), Order::Asc);

    let mut grouped: Map<String, Vec<Arc<Row>>> = Map::default();
    let mut joined_rows: Vec<JoinedRows> = vec![Map::default(); joined.len()];
    let slots = slots(model, target, &spec.projection);
    // The parent's key comes right after the projection.
    let parent_at = spec.projection.len();
    let mut read_so_far = 0;
    db.for_each_row(read_statement(db.get_database_backend(), &outer), |r| {
        let types = Types::of_row(read_so_far);
        read_so_far += 1;
        let parent = read_with(&r, parent_at, &owner_info.columns[owner_pk], model, types)?;
        let row = read_row(model, target, &spec.projection, &slots, &r, types)?;
        read_joins(model, joined, &reads, &row, &r, types, &mut joined_rows)?;
        if !with_key_text(&parent, |key| grouped.contains_key(key)) {
            grouped.insert(key_text(&parent), Vec::new());
        }
        if let Some(rows) = with_key_text(&parent, |key| grouped.get_mut(key)) {
            rows.push(Arc::new(row));
        }
        ApiResult::Ok(())
    })
    .await?;
    let pages = grouped
        .into_iter()
        .map(|(key, rows)| (key, into_page(rows, &spec.window)))
        .collect();
    Ok((pages, joined_rows))
}

/// The number of matching related rows for each parent, in one grouped
/// statement.
pub async fn count_children(
    reader: &Reader,
    model: &Model,
    owner: usize,
    relation: usize,
    parents: &[GqlValue],
    filter: Option<&GqlValue>,
    include_deleted: bool,
) -> ApiResult<Map<String, u64>> {
    let db = &reader.db;
    let mut select = Query::select();
    let (target, parent) = relation_source(model, owner, relation, &mut select)?;
    reader.access.prepare_scopes(db, model, &[target]).await?;
    select
        .expr_as(parent.clone(), Alias::new(PARENT))
        .expr_as(Expr::col(Asterisk).count(), Alias::new(COUNT))
        .and_where(parent.clone().is_in(parent_params(model, owner, parents)?))
        .cond_where(filter_condition(
            model,
            reader,
            target,
            filter,
            include_deleted,
        )?)
        .add_group_by([parent]);
    let owner_info = &model.entities[owner];
    let owner_pk = owner_info
        .single_pk()
        .ok_or_else(|| ApiError::internal("no single key"))?;
    let mut counts = Map::default();
    for r in db
        .query_all_raw(read_statement(db.get_database_backend(), &select))
        .await?
    {
        let key = key_text(&read(&r, PARENT, &owner_info.columns[owner_pk], model)?);
        let n: i64 = r.try_get("", COUNT).map_err(ApiError::internal)?;
        counts.insert(key, u64::try_from(n).unwrap_or(0));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_answers_for_the_columns_it_read_and_null_for_the_rest() {
        // Columns 4 and 1 read, in that order, out of 6.
        let mut slots = vec![ABSENT; 6];
        slots[4] = 0;
        slots[1] = 1;
        let row = Row {
            values: vec![
                Cell::Value(GqlValue::from(7)),
                Cell::Value(GqlValue::String("Kindia".into())),
            ],
            slots: slots.into(),
        };
        assert_eq!(row.get(4), &GqlValue::from(7));
        assert_eq!(row.get(1), &GqlValue::String("Kindia".into()));
        assert_eq!(row.get(0), &GqlValue::Null);
        assert_eq!(row.get(5), &GqlValue::Null);
        assert_eq!(row.get(99), &GqlValue::Null);
    }

    #[test]
    fn limits_and_booleans_are_literals_on_postgres_and_values_stay_parameters() {
        let mut inner = Query::select();
        inner
            .column(Alias::new("id"))
            .from(Alias::new("instance"))
            .and_where(Expr::col(Alias::new("period")).eq("2026Q1"))
            .and_where(Expr::col(Alias::new("deleted")).eq(false))
            .limit(11);
        let mut outer = Query::select();
        outer
            .column(Asterisk)
            .from_subquery(inner, Alias::new("ranked"))
            .and_where(Expr::col(Alias::new("id")).gt(5_i32))
            .limit(51);

        let statement = read_statement(DbBackend::Postgres, &outer);
        assert_eq!(
            statement.sql,
            r#"SELECT * FROM (SELECT "id" FROM "instance" WHERE "period" = $1 AND "deleted" = FALSE LIMIT 11) AS "ranked" WHERE "id" > $2 LIMIT 51"#
        );
        let values = statement.values.map(|v| v.0).unwrap_or_default();
        assert_eq!(
            values,
            vec![SqlValue::from("2026Q1"), SqlValue::from(5_i32)]
        );

        // Elsewhere, the statement sea-query builds.
        let statement = read_statement(DbBackend::Sqlite, &outer);
        assert!(statement.sql.ends_with("LIMIT ?"), "{}", statement.sql);
        assert_eq!(statement.values.map(|v| v.0.len()), Some(5));
    }
}
