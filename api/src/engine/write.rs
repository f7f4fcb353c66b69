//! Writes: create, update, upsert, delete and restore, one row or a batch,
//! in one transaction. Inputs are validated before any SQL runs where they
//! can be; what only the database can tell (a key taken meanwhile) comes
//! back as a coded error naming the field. Nothing is written on failure.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use chrono::{SubsecRound, Utc};
use erd::ColumnType;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, OnConflict, Query, SimpleExpr, Value as SqlValue,
};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, SqlErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use crate::engine::model::{EntityInfo, Model, RelKind, Scalar};
use crate::engine::value::{key_text, read, to_sql};
use crate::error::{ApiError, ApiResult};

/// How a column takes part in writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writable {
    /// The client sets it.
    Input,
    /// The client may set it; the server fills it when absent (UUIDs and
    /// text keys).
    Generated,
    /// The server sets it: numbered keys, timestamps, audit columns.
    Server,
}

/// Relations whose foreign key records who wrote the row.
const AUDIT_RELATIONS: &[&str] = &["createdBy", "updatedBy", "lastModifiedBy"];

pub fn audit_column(entity: &EntityInfo, column: usize) -> bool {
    entity.relations.iter().any(|r| {
        matches!(r.kind, RelKind::BelongsTo { column: c } if c == column)
            && AUDIT_RELATIONS.contains(&r.gql.as_str())
    })
}

pub fn writable(entity: &EntityInfo, column: usize) -> Writable {
    let c = &entity.columns[column];
    let pk = entity.pk.contains(&column);
    if pk
        && entity.single_pk() == Some(column)
        && matches!(
            c.ty,
            ColumnType::Integer | ColumnType::BigInteger | ColumnType::SmallInteger
        )
        && c.auto
    {
        return Writable::Server;
    }
    if c.managed || audit_column(entity, column) {
        return Writable::Server;
    }
    let generated = !c.nullable
        && !c.has_default
        && (c.scalar == Scalar::Uuid
            || (pk && entity.single_pk() == Some(column) && c.scalar == Scalar::String));
    if generated {
        Writable::Generated
    } else {
        Writable::Input
    }
}

/// Whether a create input must give the column.
pub fn required_on_create(entity: &EntityInfo, column: usize) -> bool {
    let c = &entity.columns[column];
    writable(entity, column) == Writable::Input && !c.nullable && !c.has_default
}

/// One item of a write, as GraphQL gave it.
pub struct Item {
    /// Where it came from, for errors: `input`, `inputs[3]`, `items[0].input`.
    pub path: String,
    pub input: IndexMap<Name, GqlValue>,
    /// The key of an update, delete or restore.
    pub key: Vec<GqlValue>,
    /// Optimistic concurrency: the `updatedAt` the client read.
    pub expected_updated_at: Option<GqlValue>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Upsert,
    Delete,
    Restore,
}

/// What a hook returns.
pub type HookFuture<'a> = std::pin::Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>>;

/// Per-entity behaviour no engine can derive, run inside the write's
/// transaction after each row is written.
pub trait Hook: Send + Sync {
    /// `key` is the primary key of the written row; `input` what its item
    /// set.
    fn after_write<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        model: &'a Model,
        entity: usize,
        op: Op,
        key: &'a GqlValue,
        input: &'a IndexMap<Name, GqlValue>,
    ) -> HookFuture<'a>;

    /// Whether the hook can check a whole batch at once, after the batch's
    /// multi-row `INSERT` ([`Hook::after_batch`]): true for a hook that
    /// reads nothing another row of the same batch writes. A batch with a
    /// hook that cannot (a child's path needs its parent's, written just
    /// before) is written row by row, the hook after each row.
    fn batched(&self) -> bool {
        false
    }

    /// After a batch written together, for a [`batched`](Hook::batched)
    /// hook: `written` holds each row's key, its item's path (`inputs[2]`)
    /// and input, in the batch's order. By default, [`Hook::after_write`]
    /// row after row.
    fn after_batch<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        model: &'a Model,
        entity: usize,
        op: Op,
        written: &'a [Written<'a>],
    ) -> HookFuture<'a> {
        Box::pin(async move {
            for row in written {
                self.after_write(tx, model, entity, op, row.key, row.input)
                    .await?;
            }
            Ok(())
        })
    }
}

/// A row of a batch, as [`Hook::after_batch`] sees it.
pub struct Written<'a> {
    pub key: &'a GqlValue,
    pub path: &'a str,
    pub input: &'a IndexMap<Name, GqlValue>,
}

/// The hooks of one domain, by entity index.
pub type Hooks = HashMap<usize, Vec<Arc<dyn Hook>>>;

/// Who writes: fills the audit columns.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    pub subject: Option<String>,
}

/// What a write needs besides its items.
pub struct WriteContext<'a> {
    pub model: &'a Model,
    /// The caller's access: its row scope bounds every write.
    pub access: &'a crate::policy::Access,
    pub hooks: &'a Hooks,
    pub writer: &'a Writer,
    pub max_batch: usize,
}

fn now() -> SqlValue {
    // Microseconds: what PostgreSQL keeps, so that a value read back
    // compares equal when a client sends it as `expectedUpdatedAt`.
    SqlValue::from(Utc::now().trunc_subsecs(6))
}

fn column_expr(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn hash_password(field: &str, value: &SqlValue) -> ApiResult<SqlValue> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let SqlValue::String(Some(plain)) = value else {
        return Err(ApiError::bad_field(
            field,
            format!("`{field}`: expected a password"),
        ));
    };
    if plain.is_empty() {
        return Err(ApiError::bad_field(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map_err(ApiError::internal)?
        .to_string();
    Ok(SqlValue::from(hash))
}

/// The column values an input sets, validated, in column order.
/// `parent`: the column a nested row takes from the row it is created
/// with, set after that row is written.
fn parse_values(
    ctx: &WriteContext<'_>,
    entity: usize,
    item: &Item,
    op: Op,
    parent: Option<usize>,
) -> ApiResult<Vec<(usize, SqlValue)>> {
    let info = &ctx.model.entities[entity];
    let mut values: Vec<(usize, SqlValue)> = Vec::new();
    let mut given = HashSet::new();
    for (name, value) in &item.input {
        let field = format!("{}.{name}", item.path);
        let column = info
            .columns
            .iter()
            .position(|c| c.gql == name.as_str() || (c.secret && c.gql == name.as_str()))
            .ok_or_else(|| {
                ApiError::bad_field(&field, format!("`{name}` is not a field of {}", info.name))
            })?;
        if writable(info, column) == Writable::Server
            || (op == Op::Update && info.pk.contains(&column))
        {
            return Err(ApiError::bad_field(
                &field,
                format!("`{name}` is set by the server"),
            ));
        }
        ctx.access.check_column(ctx.model, entity, column, &field)?;
        let c = &info.columns[column];
        let sql = if matches!(value, GqlValue::Null) {
            if !c.nullable {
                return Err(ApiError::bad_field(
                    &field,
                    format!("`{name}` cannot be null"),
                ));
            }
            null_of(c)
        } else {
            if let (Some(max), GqlValue::String(text)) = (c.max_length, value)
                && text.chars().count() > max as usize
            {
                return Err(ApiError::bad_field(
                    &field,
                    format!("`{name}` takes at most {max} characters"),
                ));
            }
            let v = if c.scalar == Scalar::StringList {
                string_list(value, &field)?
            } else {
                to_sql(c, ctx.model, value, &field)?
            };
            if c.password {
                hash_password(&field, &v)?
            } else {
                v
            }
        };
        given.insert(column);
        values.push((column, sql));
    }
    if matches!(op, Op::Create | Op::Upsert) {
        for (i, c) in info.columns.iter().enumerate() {
            if given.contains(&i) {
                continue;
            }
            match writable(info, i) {
                Writable::Generated => {
                    let generated = if c.scalar == Scalar::Uuid {
                        SqlValue::from(uuid::Uuid::new_v4())
                    } else {
                        let short: String = uuid::Uuid::new_v4()
                            .simple()
                            .to_string()
                            .chars()
                            .take(10)
                            .collect();
                        SqlValue::from(format!("{}-{short}", info.table.replace('_', "")))
                    };
                    values.push((i, generated));
                }
                Writable::Input if required_on_create(info, i) && Some(i) != parent => {
                    return Err(ApiError::bad_field(
                        format!("{}.{}", item.path, c.gql),
                        format!("`{}` is required", c.gql),
                    ));
                }
                _ => {}
            }
        }
    }
    // Server-owned columns.
    for (i, c) in info.columns.iter().enumerate() {
        if c.managed
            && (c.name == "updated_at"
                || (c.name == "created_at" && matches!(op, Op::Create | Op::Upsert)))
        {
            values.push((i, now()));
        }
        if audit_column(info, i) {
            let creating = matches!(op, Op::Create | Op::Upsert);
            let stamp =
                c.name.starts_with("created_by") && creating || !c.name.starts_with("created_by");
            if !stamp {
                continue;
            }
            match &ctx.writer.subject {
                Some(subject) => {
                    let v = crate::policy::claim_value(c, subject).ok_or_else(|| {
                        ApiError::Unauthenticated(format!(
                            "the token's subject is not a valid `{}`",
                            c.gql
                        ))
                    })?;
                    values.push((i, v));
                }
                None if !c.nullable && creating => {
                    return Err(ApiError::Unauthenticated(format!(
                        "writing a {} records who wrote it (`{}`): authenticate first",
                        info.name, c.gql
                    )));
                }
                None => {}
            }
        }
    }
    Ok(values)
}

fn string_list(value: &GqlValue, field: &str) -> ApiResult<SqlValue> {
    let json = value.clone().into_json().map_err(|_| {
        ApiError::bad_field(field, format!("`{field}`: expected a list of strings"))
    })?;
    if !json
        .as_array()
        .is_some_and(|a| a.iter().all(|v| v.is_string()))
    {
        return Err(ApiError::bad_field(
            field,
            format!("`{field}`: expected a list of strings"),
        ));
    }
    Ok(SqlValue::from(json))
}

/// A typed SQL NULL for a column.
fn null_of(column: &crate::engine::model::ColumnInfo) -> SqlValue {
    match column.scalar {
        Scalar::Int => SqlValue::Int(None),
        Scalar::BigInt => SqlValue::BigInt(None),
        Scalar::Boolean => SqlValue::Bool(None),
        Scalar::Decimal => SqlValue::Decimal(None),
        Scalar::Uuid => SqlValue::Uuid(None),
        Scalar::Date => SqlValue::ChronoDate(None),
        Scalar::DateTime => SqlValue::ChronoDateTimeUtc(None),
        Scalar::Json | Scalar::GeoJson | Scalar::StringList => SqlValue::Json(None),
        Scalar::Enum(_) if matches!(column.ty, ColumnType::Enum(_)) => SqlValue::String(None),
        Scalar::String | Scalar::Enum(_) => SqlValue::String(None),
    }
}

/// Every foreign key an item sets must point at a row: checked per target
/// entity for the whole batch in one statement (`created_by` and
/// `updated_by` share theirs), naming the first bad field.
async fn check_references(
    tx: &DatabaseTransaction,
    ctx: &WriteContext<'_>,
    entity: usize,
    rows: &[Row],
) -> ApiResult<()> {
    let info = &ctx.model.entities[entity];
    // (field, key) pairs by target entity, in the order of the relations.
    let mut wanted: Vec<(usize, Vec<(String, SqlValue)>)> = Vec::new();
    for relation in &info.relations {
        let RelKind::BelongsTo { column } = relation.kind else {
            continue;
        };
        if ctx.model.entities[relation.target].single_pk().is_none() {
            continue;
        }
        for row in rows {
            for (c, v) in &row.values {
                if *c == column && !is_null(v) {
                    let field = format!("{}.{}", row.path, info.columns[column].gql);
                    match wanted.iter_mut().find(|(t, _)| *t == relation.target) {
                        Some((_, keys)) => keys.push((field, v.clone())),
                        None => wanted.push((relation.target, vec![(field, v.clone())])),
                    }
                }
            }
        }
    }
    for (target_index, wanted) in wanted {
        let target = &ctx.model.entities[target_index];
        let Some(target_pk) = target.single_pk() else {
            continue;
        };
        let distinct: Vec<SqlValue> = {
            let mut seen = HashSet::new();
            wanted
                .iter()
                .filter(|(_, v)| seen.insert(format!("{v:?}")))
                .map(|(_, v)| v.clone())
                .collect()
        };
        let pk_name = &target.columns[target_pk].name;
        // Only rows in the caller's scope count: a key of another
        // tenant's row points nowhere, as far as this caller can tell.
        let mut select = Query::select();
        select
            .column(Alias::new(pk_name))
            .from(Alias::new(&target.table))
            .and_where(column_expr(pk_name).is_in(distinct))
            .cond_where(ctx.access.row_scope(ctx.model, target_index, &target.table));
        let found: HashSet<String> = tx
            .query_all(&select)
            .await?
            .iter()
            .map(|r| {
                read(r, pk_name.as_str(), &target.columns[target_pk], ctx.model)
                    .map(|v| key_text(&v))
            })
            .collect::<ApiResult<_>>()?;
        for (field, value) in &wanted {
            let text = sql_key_text(value);
            if !found.contains(&text) {
                return Err(ApiError::bad_field(
                    field,
                    format!("`{field}`: no {} has the key {text}", target.name),
                ));
            }
        }
    }
    Ok(())
}

/// A SQL NULL of any type: the value equals its own typed null.
fn is_null(value: &SqlValue) -> bool {
    *value == value.as_null()
}

/// The key text of a SQL key value, as [`key_text`] gives it for the same
/// value read back.
fn sql_key_text(value: &SqlValue) -> String {
    match value {
        SqlValue::Int(Some(n)) => n.to_string(),
        SqlValue::SmallInt(Some(n)) => n.to_string(),
        SqlValue::BigInt(Some(n)) => n.to_string(),
        SqlValue::String(Some(s)) => s.clone(),
        SqlValue::Uuid(Some(u)) => u.to_string(),
        other => format!("{other:?}"),
    }
}

/// Maps a constraint violation to a coded error naming the field.
fn constraint_error(model: &Model, entity: usize, path: &str, error: DbErr) -> ApiError {
    let info = &model.entities[entity];
    let field_of = |message: &str| -> Option<String> {
        // PostgreSQL names the constraint (`uq_<table>_<columns>`, from the
        // generator or a migration), SQLite the columns (`table.column,
        // ...`). A key over several columns names its first column, on
        // both: the column mentioned first wins.
        let key = format!("\"uq_{}_", info.table);
        let named = message
            .find(&key)
            .map(|at| &message[at + key.len()..])
            .map(|rest| &rest[..rest.find('"').unwrap_or(rest.len())]);
        info.columns
            .iter()
            .enumerate()
            .filter(|(i, _)| !info.pk.contains(i))
            .filter_map(|(_, c)| {
                let names = [
                    erd::constraint_name("uq", &info.table, std::slice::from_ref(&c.name)),
                    erd::constraint_name("fk", &info.table, std::slice::from_ref(&c.name)),
                    format!("{}.{}", info.table, c.name),
                ];
                let whole = names.iter().find_map(|n| {
                    [format!("\"{n}\""), format!("{n},")]
                        .iter()
                        .find_map(|pattern| message.find(pattern.as_str()))
                        .or_else(|| {
                            message
                                .ends_with(n.as_str())
                                .then(|| message.len() - n.len())
                        })
                });
                // In a several-column key's name: the column's place in it.
                let within = named.and_then(|cols| {
                    let mut from = 0;
                    while let Some(at) = cols[from..].find(c.name.as_str()).map(|at| from + at) {
                        let starts = at == 0 || cols.as_bytes()[at - 1] == b'_';
                        let after = cols.as_bytes().get(at + c.name.len());
                        if starts && matches!(after, None | Some(b'_')) {
                            return Some(at);
                        }
                        from = at + 1;
                    }
                    None
                });
                // Whole-name matches first, then by place; a longer name
                // first at the same place (`org_unit_id` over `unit_id`).
                whole
                    .map(|at| (0, at))
                    .or(within.map(|at| (1, at)))
                    .map(|(rank, at)| (rank, at, usize::MAX - c.name.len(), c))
            })
            .min_by_key(|&(rank, at, len, _)| (rank, at, len))
            .map(|(_, _, _, c)| format!("{path}.{}", c.gql))
    };
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => ApiError::Conflict {
            field: field_of(&message),
            message: format!("{path}: a {} with the same unique key exists", info.name),
        },
        Some(SqlErr::ForeignKeyConstraintViolation(message)) => ApiError::BadUserInput {
            field: field_of(&message),
            message: format!(
                "{path}: a key points at no row, or rows still point at this {}",
                info.name
            ),
        },
        _ => {
            let text = error.to_string();
            if text.contains("NOT NULL")
                || text.contains("not-null")
                || text.contains("null value in column")
            {
                ApiError::bad_input(format!(
                    "{path}: a required field of {} is missing",
                    info.name
                ))
            } else {
                ApiError::internal(text)
            }
        }
    }
}

fn key_condition(
    ctx: &WriteContext<'_>,
    entity: usize,
    key: &[GqlValue],
    path: &str,
) -> ApiResult<sea_orm::sea_query::Condition> {
    let info = &ctx.model.entities[entity];
    let mut cond = sea_orm::sea_query::Condition::all();
    for (&pk, value) in info.pk.iter().zip(key) {
        let c = &info.columns[pk];
        cond = cond.add(column_expr(&c.name).eq(to_sql(
            c,
            ctx.model,
            value,
            &format!("{path}.{}", c.gql),
        )?));
    }
    Ok(cond)
}

/// Reads the primary key of the row a statement returned.
fn returned_key(
    ctx: &WriteContext<'_>,
    entity: usize,
    row: &sea_orm::QueryResult,
) -> ApiResult<Vec<GqlValue>> {
    read_columns(ctx, entity, row, &ctx.model.entities[entity].pk)
}

/// Reads `columns` of a returned row, by name.
fn read_columns(
    ctx: &WriteContext<'_>,
    entity: usize,
    row: &sea_orm::QueryResult,
    columns: &[usize],
) -> ApiResult<Vec<GqlValue>> {
    let info = &ctx.model.entities[entity];
    columns
        .iter()
        .map(|&c| {
            read(
                row,
                info.columns[c].name.as_str(),
                &info.columns[c],
                ctx.model,
            )
        })
        .collect()
}

/// Any of the rows with these keys, by their key condition.
fn any_key(
    ctx: &WriteContext<'_>,
    entity: usize,
    keys: &[(&str, &[GqlValue])],
) -> ApiResult<sea_orm::sea_query::Condition> {
    let info = &ctx.model.entities[entity];
    // A single-column key is one `IN` list: PostgreSQL plans and runs it
    // as one index scan, where a hundred `OR`ed equalities (a batch
    // upload's rows) took it ~0.45 ms to plan and ~0.5 ms to run, against
    // ~0.1 and ~0.17 ms.
    if let [pk] = info.pk[..] {
        let c = &info.columns[pk];
        let values = keys
            .iter()
            .filter_map(|(path, key)| {
                key.first()
                    .map(|value| to_sql(c, ctx.model, value, &format!("{path}.{}", c.gql)))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        return Ok(sea_orm::sea_query::Condition::all().add(column_expr(&c.name).is_in(values)));
    }
    let mut any = sea_orm::sea_query::Condition::any();
    for (path, key) in keys {
        any = any.add(key_condition(ctx, entity, key, path)?);
    }
    Ok(any)
}

/// The key texts of the rows of `entity` matching `cond`.
async fn keys_where(
    tx: &DatabaseTransaction,
    ctx: &WriteContext<'_>,
    entity: usize,
    cond: sea_orm::sea_query::Condition,
) -> ApiResult<HashSet<String>> {
    let info = &ctx.model.entities[entity];
    let mut select = Query::select();
    select
        .columns(info.pk.iter().map(|&c| Alias::new(&info.columns[c].name)))
        .from(Alias::new(&info.table))
        .cond_where(cond);
    tx.query_all(&select)
        .await?
        .iter()
        .map(|r| returned_key(ctx, entity, r).map(|k| joined_key(&k)))
        .collect()
}

fn joined_key(key: &[GqlValue]) -> String {
    key.iter().map(key_text).collect::<Vec<_>>().join("|")
}

/// Refuses to write rows whose policy freezes them (org units of a
/// read-only data source), before the write.
async fn refuse_frozen(
    tx: &DatabaseTransaction,
    ctx: &WriteContext<'_>,
    entity: usize,
    keys: &[(&str, &[GqlValue])],
) -> ApiResult<()> {
    let info = &ctx.model.entities[entity];
    let Some(frozen) = ctx.access.frozen(ctx.model, entity, &info.table) else {
        return Ok(());
    };
    if keys.is_empty() {
        return Ok(());
    }
    let found = keys_where(
        tx,
        ctx,
        entity,
        Condition::all()
            .add(any_key(ctx, entity, keys)?)
            .add(frozen),
    )
    .await?;
    match keys.iter().find(|(_, k)| found.contains(&joined_key(k))) {
        Some((path, _)) => Err(ApiError::Forbidden(format!(
            "{path}: this {} belongs to a read-only data source",
            info.name
        ))),
        None => Ok(()),
    }
}

/// The (path, key) of each item.
fn item_keys(items: &[Item]) -> Vec<(&str, &[GqlValue])> {
    items
        .iter()
        .map(|i| (i.path.as_str(), i.key.as_slice()))
        .collect()
}

/// After a write, inside its transaction: every written row must be in
/// the caller's scope (its tenant, its org units) and not frozen; else the
/// whole write is rolled back.
async fn check_written(
    tx: &DatabaseTransaction,
    ctx: &WriteContext<'_>,
    entity: usize,
    written: &[(String, Vec<GqlValue>)],
    creating: bool,
) -> ApiResult<()> {
    if written.is_empty() {
        return Ok(());
    }
    let info = &ctx.model.entities[entity];
    let keys: Vec<(&str, &[GqlValue])> = written
        .iter()
        .map(|(p, k)| (p.as_str(), k.as_slice()))
        .collect();
    let scope = ctx
        .access
        .write_scope(ctx.model, entity, &info.table, creating);
    let inside = keys_where(
        tx,
        ctx,
        entity,
        Condition::all()
            .add(any_key(ctx, entity, &keys)?)
            .add(scope),
    )
    .await?;
    if let Some((path, _)) = keys.iter().find(|(_, k)| !inside.contains(&joined_key(k))) {
        return Err(ApiError::Forbidden(format!(
            "{path}: the {} would be outside what your token may reach (its tenant, org units or level)",
            info.name
        )));
    }
    refuse_frozen(tx, ctx, entity, &keys).await
}

fn check_batch(ctx: &WriteContext<'_>, items: &[Item]) -> ApiResult<()> {
    if items.len() > ctx.max_batch {
        return Err(ApiError::bad_input(format!(
            "a batch takes at most {} items, not {}",
            ctx.max_batch,
            items.len()
        )));
    }
    Ok(())
}

async fn run_hooks(
    tx: &DatabaseTransaction,
    ctx: &WriteContext<'_>,
    entity: usize,
    op: Op,
    key: &[GqlValue],
    input: &IndexMap<Name, GqlValue>,
) -> ApiResult<()> {
    if let (Some(hooks), [single]) = (ctx.hooks.get(&entity), key) {
        for hook in hooks {
            hook.after_write(tx, ctx.model, entity, op, single, input)
                .await?;
        }
    }
    Ok(())
}

/// Creates or upserts rows; returns their keys in order. `conflict` names
/// the unique key's columns of an upsert.
///
/// A batch whose items all set the same fields is written by multi-row
/// `INSERT`s (a handful of statements, whatever its size); should one of
/// them fail, the batch is rolled back and written again row by row, so
/// that the error names the item at fault. Rows of the entity's nested
/// relations (`EntityInfo::nested`) are taken out of the inputs and written
/// after their parents, each with its parent's key, in the same transaction.
pub async fn insert(
    db: &sea_orm::DatabaseConnection,
    ctx: &WriteContext<'_>,
    entity: usize,
    mut items: Vec<Item>,
    conflict: Option<Vec<usize>>,
) -> ApiResult<Vec<Vec<GqlValue>>> {
    check_batch(ctx, &items)?;
    let info = &ctx.model.entities[entity];
    let op = if conflict.is_some() {
        Op::Upsert
    } else {
        Op::Create
    };
    ctx.access.check_change(ctx.model, entity, op)?;
    let nested = nested_items(ctx, entity, &mut items, op)?;
    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        let mut values = parse_values(ctx, entity, item, op, None)?;
        values.sort_by_key(|(c, _)| *c);
        if let Some(key) = &conflict {
            for &c in key {
                if !values.iter().any(|(v, x)| *v == c && !is_null(x)) {
                    return Err(ApiError::bad_field(
                        format!("{}.{}", item.path, info.columns[c].gql),
                        format!(
                            "`{}` is needed to find an existing row",
                            info.columns[c].gql
                        ),
                    ));
                }
            }
        }
        rows.push(Row {
            path: item.path.clone(),
            updates: conflict
                .as_deref()
                .map(|key| update_columns(info, item, &values, key))
                .unwrap_or_default(),
            values,
        });
    }
    ctx.access.prepare(db, ctx.model).await?;
    let batch = Batch {
        ctx,
        entity,
        items: &items,
        rows: &rows,
        conflict: conflict.as_deref(),
        op,
    };
    let keys = match batch.write(db, &nested, true).await? {
        Some(keys) => keys,
        None => batch
            .write(db, &nested, false)
            .await?
            .ok_or_else(|| ApiError::internal("a write row by row was refused a retry"))?,
    };
    ctx.access.written(entity);
    for n in &nested {
        ctx.access.written(n.entity);
    }
    Ok(keys)
}

/// The rows of one has-many relation created with their parents.
struct Nested {
    entity: usize,
    /// The column that names the parent.
    column: usize,
    items: Vec<Item>,
    /// Per item: its parent's index in the batch, and its values (sorted by
    /// column), the parent's key still missing.
    rows: Vec<(usize, Vec<(usize, SqlValue)>)>,
}

impl Nested {
    /// The rows, each with its parent's key.
    fn rows_under(&self, ctx: &WriteContext<'_>, parents: &[Vec<GqlValue>]) -> ApiResult<Vec<Row>> {
        let info = &ctx.model.entities[self.entity];
        let column = &info.columns[self.column];
        self.rows
            .iter()
            .zip(&self.items)
            .map(|((parent, values), item)| {
                let key = parents
                    .get(*parent)
                    .and_then(|k| k.first())
                    .ok_or_else(|| ApiError::internal("a nested row without its parent"))?;
                let mut values = values.clone();
                values.push((
                    self.column,
                    to_sql(
                        column,
                        ctx.model,
                        key,
                        &format!("{}.{}", item.path, column.gql),
                    )?,
                ));
                values.sort_by_key(|(c, _)| *c);
                Ok(Row {
                    path: item.path.clone(),
                    values,
                    updates: Vec::new(),
                })
            })
            .collect()
    }
}

/// Takes the nested rows out of the items' inputs (`input.sensorData[1]`),
/// checked as creates of their own entity.
fn nested_items(
    ctx: &WriteContext<'_>,
    entity: usize,
    items: &mut [Item],
    op: Op,
) -> ApiResult<Vec<Nested>> {
    let info = &ctx.model.entities[entity];
    let mut nested = Vec::new();
    for &r in &info.nested {
        let relation = &info.relations[r];
        let RelKind::HasMany { column } = relation.kind else {
            continue;
        };
        let mut group = Nested {
            entity: relation.target,
            column,
            items: Vec::new(),
            rows: Vec::new(),
        };
        for (parent, item) in items.iter_mut().enumerate() {
            let field = format!("{}.{}", item.path, relation.gql);
            let list = match item.input.shift_remove(relation.gql.as_str()) {
                None | Some(GqlValue::Null) => continue,
                Some(_) if op != Op::Create => {
                    return Err(ApiError::bad_field(
                        &field,
                        format!("`{}` rows are created only with a create", relation.gql),
                    ));
                }
                Some(GqlValue::List(list)) => list,
                Some(_) => {
                    return Err(ApiError::bad_field(
                        &field,
                        format!("`{field}` must be a list"),
                    ));
                }
            };
            for (j, value) in list.into_iter().enumerate() {
                let path = format!("{field}[{j}]");
                let input = match value {
                    GqlValue::Object(o) => o,
                    _ => {
                        return Err(ApiError::bad_field(
                            &path,
                            format!("`{path}` must be an object"),
                        ));
                    }
                };
                group.items.push(Item {
                    path,
                    input,
                    key: Vec::new(),
                    expected_updated_at: None,
                });
                group.rows.push((parent, Vec::new()));
            }
        }
        if group.items.is_empty() {
            continue;
        }
        check_batch(ctx, &group.items)?;
        ctx.access.check_write(ctx.model, group.entity)?;
        ctx.access
            .check_change(ctx.model, group.entity, Op::Create)?;
        for ((_, values), item) in group.rows.iter_mut().zip(&group.items) {
            *values = parse_values(ctx, group.entity, item, Op::Create, Some(column))?;
        }
        nested.push(group);
    }
    Ok(nested)
}

/// One item's columns and values, ready to insert.
struct Row {
    path: String,
    /// Sorted by column.
    values: Vec<(usize, SqlValue)>,
    /// An upsert's columns to update on an existing row.
    updates: Vec<usize>,
}

/// The columns an upsert updates on an existing row: the fields the client
/// gave, and the server's `updated_at`/`updated_by`; never a generated key
/// or `created_at`.
fn update_columns(
    info: &EntityInfo,
    item: &Item,
    values: &[(usize, SqlValue)],
    key: &[usize],
) -> Vec<usize> {
    let given: HashSet<&str> = item.input.keys().map(|k| k.as_str()).collect();
    values
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| {
            let col = &info.columns[*c];
            let server_update = (col.managed && col.name == "updated_at")
                || (audit_column(info, *c) && !col.name.starts_with("created_by"));
            !key.contains(c)
                && !info.pk.contains(c)
                && (given.contains(col.gql.as_str()) || server_update)
        })
        .collect()
}

/// How the rows a multi-row `INSERT` returns are matched to its items
/// (`RETURNING` promises no order).
enum Matching {
    /// By these columns' values, which every item sets and no two share:
    /// the primary key, or an upsert's unique key.
    ByColumns(Vec<usize>),
    /// A numbered key: the database numbers the rows in the order of the
    /// `VALUES` list, so the keys in ascending order are the items'.
    ByAscendingKey,
}

/// Parameters per multi-row statement, well under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const PARAMETERS_PER_INSERT: usize = 10_000;

/// A create or upsert of one entity's rows.
struct Batch<'a> {
    ctx: &'a WriteContext<'a>,
    entity: usize,
    items: &'a [Item],
    rows: &'a [Row],
    conflict: Option<&'a [usize]>,
    op: Op,
}

impl Batch<'_> {
    fn info(&self) -> &EntityInfo {
        &self.ctx.model.entities[self.entity]
    }

    /// Whether the rows can be written together, and how to match what
    /// comes back: every item sets the same columns (and an upsert updates
    /// the same ones), no hook runs per row, and each returned row can be
    /// told apart.
    fn matching(&self) -> Option<Matching> {
        let info = self.info();
        let first = self.rows.first()?;
        let hooked = self
            .ctx
            .hooks
            .get(&self.entity)
            .is_some_and(|h| h.iter().any(|h| !h.batched()));
        let same_shape = self.rows.iter().all(|r| {
            r.updates == first.updates
                && r.values.len() == first.values.len()
                && r.values.iter().zip(&first.values).all(|(a, b)| a.0 == b.0)
        });
        if self.rows.len() < 2 || hooked || !same_shape {
            return None;
        }
        // Columns every item sets, whose values read back as they were sent.
        let matchable = |columns: &[usize]| {
            columns.iter().all(|c| {
                let column = &info.columns[*c];
                first.values.iter().any(|(v, _)| v == c)
                    && match column.scalar {
                        Scalar::Int | Scalar::BigInt | Scalar::Uuid => true,
                        Scalar::String => !matches!(column.ty, ColumnType::Enum(_)),
                        _ => false,
                    }
            })
        };
        let matching = match self.conflict {
            Some(key) if matchable(key) => Matching::ByColumns(key.to_vec()),
            Some(_) => return None,
            None if matchable(&info.pk) => Matching::ByColumns(info.pk.clone()),
            None if info
                .single_pk()
                .is_some_and(|pk| writable(info, pk) == Writable::Server) =>
            {
                Matching::ByAscendingKey
            }
            None => return None,
        };
        if let Matching::ByColumns(columns) = &matching {
            // Two items with the same key: row by row, as the client wrote
            // them (a multi-row upsert cannot touch a row twice).
            let mut seen = HashSet::new();
            if !self
                .rows
                .iter()
                .all(|r| seen.insert(row_key_text(r, columns)))
            {
                return None;
            }
        }
        Some(matching)
    }

    /// Opens the write's transaction and checks the batch's references.
    async fn begin(&self, db: &sea_orm::DatabaseConnection) -> ApiResult<DatabaseTransaction> {
        let tx = begin_write(db).await?;
        check_references(&tx, self.ctx, self.entity, self.rows).await?;
        Ok(tx)
    }

    /// Checks that the written rows are in the caller's scope.
    async fn check(&self, tx: &DatabaseTransaction, keys: &[Vec<GqlValue>]) -> ApiResult<()> {
        let written: Vec<(String, Vec<GqlValue>)> = self
            .rows
            .iter()
            .map(|r| r.path.clone())
            .zip(keys.iter().cloned())
            .collect();
        check_written(tx, self.ctx, self.entity, &written, self.op == Op::Create).await
    }

    /// Writes the rows, then the nested rows under them, in one
    /// transaction. `together`: by multi-row statements where the rows
    /// allow; `None` when one of those failed (the transaction is rolled
    /// back: the caller writes again row by row).
    async fn write(
        &self,
        db: &sea_orm::DatabaseConnection,
        nested: &[Nested],
        together: bool,
    ) -> ApiResult<Option<Vec<Vec<GqlValue>>>> {
        let tx = self.begin(db).await?;
        let Some(keys) = self.insert(&tx, together).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        self.check(&tx, &keys).await?;
        for group in nested {
            let rows = group.rows_under(self.ctx, &keys)?;
            let child = Batch {
                ctx: self.ctx,
                entity: group.entity,
                items: &group.items,
                rows: &rows,
                conflict: None,
                op: Op::Create,
            };
            check_references(&tx, self.ctx, group.entity, &rows).await?;
            let Some(child_keys) = child.insert(&tx, together).await? else {
                tx.rollback().await?;
                return Ok(None);
            };
            child.check(&tx, &child_keys).await?;
        }
        tx.commit().await?;
        Ok(Some(keys))
    }

    /// The rows' keys, by multi-row statements when `together` and the
    /// rows allow (`None` when one failed), else row by row.
    async fn insert(
        &self,
        tx: &DatabaseTransaction,
        together: bool,
    ) -> ApiResult<Option<Vec<Vec<GqlValue>>>> {
        match self.matching().filter(|_| together) {
            Some(matching) => {
                let keys = self.insert_together(tx, &matching).await?;
                if let Some(keys) = &keys {
                    self.after_batch(tx, keys).await?;
                }
                Ok(keys)
            }
            None => self.insert_one_by_one(tx).await.map(Some),
        }
    }

    /// Runs the entity's (batched) hooks over rows written together.
    async fn after_batch(&self, tx: &DatabaseTransaction, keys: &[Vec<GqlValue>]) -> ApiResult<()> {
        let Some(hooks) = self.ctx.hooks.get(&self.entity) else {
            return Ok(());
        };
        let written: Vec<Written<'_>> = self
            .rows
            .iter()
            .zip(self.items)
            .zip(keys)
            .filter_map(|((row, item), key)| match key.as_slice() {
                [key] => Some(Written {
                    key,
                    path: &row.path,
                    input: &item.input,
                }),
                _ => None,
            })
            .collect();
        for hook in hooks {
            hook.after_batch(tx, self.ctx.model, self.entity, self.op, &written)
                .await?;
        }
        Ok(())
    }

    /// The `INSERT` of some rows (all of the same shape), returning their
    /// primary key and the `extra` columns.
    fn statement(
        &self,
        rows: &[Row],
        extra: &[usize],
    ) -> ApiResult<sea_orm::sea_query::InsertStatement> {
        let info = self.info();
        let first = rows
            .first()
            .ok_or_else(|| ApiError::internal("an INSERT of no rows"))?;
        let mut insert = Query::insert();
        insert.into_table(Alias::new(&info.table)).columns(
            first
                .values
                .iter()
                .map(|(c, _)| Alias::new(&info.columns[*c].name)),
        );
        for row in rows {
            insert
                .values(row.values.iter().map(|(_, v)| SimpleExpr::from(v.clone())))
                .map_err(ApiError::internal)?;
        }
        if let Some(key) = self.conflict {
            let mut on_conflict =
                OnConflict::columns(key.iter().map(|c| Alias::new(&info.columns[*c].name)));
            if first.updates.is_empty() {
                on_conflict.do_nothing();
            } else {
                on_conflict.update_columns(
                    first
                        .updates
                        .iter()
                        .map(|c| Alias::new(&info.columns[*c].name)),
                );
                // Another tenant's row with this key is never updated.
                on_conflict.action_cond_where(self.ctx.access.write_scope(
                    self.ctx.model,
                    self.entity,
                    &info.table,
                    false,
                ));
            }
            insert.on_conflict(on_conflict);
        }
        let mut returned: Vec<usize> = info.pk.clone();
        returned.extend(extra.iter().filter(|c| !info.pk.contains(c)));
        insert.returning(
            Query::returning().columns(returned.iter().map(|&c| Alias::new(&info.columns[c].name))),
        );
        Ok(insert)
    }

    /// Writes the rows by multi-row statements. `None` when a statement
    /// failed or what it returned does not match the items: the caller
    /// rolls back and writes row by row.
    async fn insert_together(
        &self,
        tx: &DatabaseTransaction,
        matching: &Matching,
    ) -> ApiResult<Option<Vec<Vec<GqlValue>>>> {
        let columns = self.rows.first().map_or(1, |r| r.values.len().max(1));
        let per_statement = (PARAMETERS_PER_INSERT / columns).max(1);
        let match_columns: &[usize] = match matching {
            Matching::ByColumns(columns) => columns,
            Matching::ByAscendingKey => &[],
        };
        let mut keys: Vec<Option<Vec<GqlValue>>> = vec![None; self.rows.len()];
        for (chunk_index, chunk) in self.rows.chunks(per_statement).enumerate() {
            let offset = chunk_index * per_statement;
            let insert = self.statement(chunk, match_columns)?;
            let Ok(returned) = tx.query_all(&insert).await else {
                return Ok(None);
            };
            match matching {
                Matching::ByAscendingKey => {
                    if returned.len() != chunk.len() {
                        return Ok(None);
                    }
                    let mut numbered = Vec::with_capacity(returned.len());
                    for row in &returned {
                        let key = returned_key(self.ctx, self.entity, row)?;
                        let Some(number) =
                            key.first().and_then(|k| key_text(k).parse::<i64>().ok())
                        else {
                            return Ok(None);
                        };
                        numbered.push((number, key));
                    }
                    numbered.sort_by_key(|(n, _)| *n);
                    for (slot, (_, key)) in keys[offset..].iter_mut().zip(numbered) {
                        *slot = Some(key);
                    }
                }
                Matching::ByColumns(columns) => {
                    let position: HashMap<String, usize> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (row_key_text(r, columns), offset + i))
                        .collect();
                    for row in &returned {
                        let text = joined_key(&read_columns(self.ctx, self.entity, row, columns)?);
                        let Some(&i) = position.get(&text) else {
                            return Ok(None);
                        };
                        keys[i] = Some(returned_key(self.ctx, self.entity, row)?);
                    }
                }
            }
        }
        let mut found = Vec::with_capacity(keys.len());
        for (row, key) in self.rows.iter().zip(keys) {
            match key {
                Some(key) => found.push(key),
                // An upsert that changed nothing, or a row out of scope.
                None if self.conflict.is_some() => found.push(self.existing(tx, row).await?),
                None => return Ok(None),
            }
        }
        Ok(Some(found))
    }

    /// Writes the rows one statement each, running the entity's hooks
    /// after each.
    async fn insert_one_by_one(&self, tx: &DatabaseTransaction) -> ApiResult<Vec<Vec<GqlValue>>> {
        let mut keys = Vec::with_capacity(self.rows.len());
        for (row, item) in self.rows.iter().zip(self.items) {
            let insert = self.statement(std::slice::from_ref(row), &[])?;
            let returned = match tx.query_one(&insert).await {
                Ok(Some(returned)) => returned_key(self.ctx, self.entity, &returned)?,
                Ok(None) => self.existing(tx, row).await?,
                Err(error) => {
                    return Err(constraint_error(
                        self.ctx.model,
                        self.entity,
                        &row.path,
                        error,
                    ));
                }
            };
            run_hooks(tx, self.ctx, self.entity, self.op, &returned, &item.input).await?;
            keys.push(returned);
        }
        Ok(keys)
    }

    /// The key of the row an upsert left as it was (its unique key taken),
    /// if the caller may see it.
    async fn existing(&self, tx: &DatabaseTransaction, row: &Row) -> ApiResult<Vec<GqlValue>> {
        let info = self.info();
        let key_cols = self.conflict.unwrap_or_default();
        let mut select = Query::select();
        select
            .columns(info.pk.iter().map(|&c| Alias::new(&info.columns[c].name)))
            .from(Alias::new(&info.table));
        for (c, v) in row.values.iter().filter(|(c, _)| key_cols.contains(c)) {
            select.and_where(column_expr(&info.columns[*c].name).eq(v.clone()));
        }
        select.cond_where(
            self.ctx
                .access
                .row_scope(self.ctx.model, self.entity, &info.table),
        );
        // Out of the caller's scope, the key is simply taken.
        let found = tx
            .query_one(&select)
            .await?
            .ok_or_else(|| ApiError::Conflict {
                message: format!("{}: the key is taken by another {}", row.path, info.name),
                field: None,
            })?;
        returned_key(self.ctx, self.entity, &found)
    }
}

/// The text of a row's values in `columns`, as [`key_text`] gives them
/// read back.
fn row_key_text(row: &Row, columns: &[usize]) -> String {
    columns
        .iter()
        .map(|c| {
            row.values
                .iter()
                .find(|(v, _)| v == c)
                .map(|(_, v)| sql_key_text(v))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Updates rows by key; returns their keys. A stale `expectedUpdatedAt` is
/// a CONFLICT, a missing (or soft-deleted) row NOT_FOUND.
pub async fn update(
    db: &sea_orm::DatabaseConnection,
    ctx: &WriteContext<'_>,
    entity: usize,
    items: Vec<Item>,
) -> ApiResult<Vec<Vec<GqlValue>>> {
    check_batch(ctx, &items)?;
    ctx.access.check_change(ctx.model, entity, Op::Update)?;
    let info = &ctx.model.entities[entity];
    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        rows.push(Row {
            path: item.path.clone(),
            values: parse_values(ctx, entity, item, Op::Update, None)?,
            updates: Vec::new(),
        });
    }
    ctx.access.prepare(db, ctx.model).await?;
    let tx = begin_write(db).await?;
    check_references(&tx, ctx, entity, &rows).await?;
    refuse_frozen(&tx, ctx, entity, &item_keys(&items)).await?;
    for (Row { path, values, .. }, item) in rows.into_iter().zip(&items) {
        let mut cond = key_condition(ctx, entity, &item.key, &path)?
            .add(crate::engine::sql::visible(
                ctx.model,
                entity,
                &info.table,
                false,
            ))
            .add(
                ctx.access
                    .write_scope(ctx.model, entity, &info.table, false),
            );
        let updated_at = info
            .columns
            .iter()
            .position(|c| c.name == "updated_at" && c.managed);
        if let (Some(expected), Some(col)) = (&item.expected_updated_at, updated_at) {
            cond = cond.add(column_expr("updated_at").eq(to_sql(
                &info.columns[col],
                ctx.model,
                expected,
                "expectedUpdatedAt",
            )?));
        }
        let mut update = Query::update();
        update.table(Alias::new(&info.table)).cond_where(cond);
        for (c, v) in &values {
            update.value(Alias::new(&info.columns[*c].name), v.clone());
        }
        update.returning(
            Query::returning().columns(info.pk.iter().map(|&c| Alias::new(&info.columns[c].name))),
        );
        match tx.query_one(&update).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(missing_or_stale(&tx, ctx, entity, item, &path).await?),
            Err(error) => return Err(constraint_error(ctx.model, entity, &path, error)),
        }
        run_hooks(&tx, ctx, entity, Op::Update, &item.key, &item.input).await?;
    }
    let written: Vec<(String, Vec<GqlValue>)> = items
        .iter()
        .map(|i| (i.path.clone(), i.key.clone()))
        .collect();
    check_written(&tx, ctx, entity, &written, false).await?;
    tx.commit().await?;
    ctx.access.written(entity);
    Ok(items.into_iter().map(|i| i.key).collect())
}

/// Why an update touched no row.
async fn missing_or_stale(
    tx: &DatabaseTransaction,
    ctx: &WriteContext<'_>,
    entity: usize,
    item: &Item,
    path: &str,
) -> ApiResult<ApiError> {
    let info = &ctx.model.entities[entity];
    let mut select = Query::select();
    select
        .expr(Expr::val(1))
        .from(Alias::new(&info.table))
        .cond_where(
            key_condition(ctx, entity, &item.key, path)?
                .add(crate::engine::sql::visible(
                    ctx.model,
                    entity,
                    &info.table,
                    false,
                ))
                .add(
                    ctx.access
                        .write_scope(ctx.model, entity, &info.table, false),
                ),
        );
    let exists = tx.query_one(&select).await?.is_some();
    Ok(if exists && item.expected_updated_at.is_some() {
        ApiError::Conflict {
            message: format!(
                "{path}: the {} changed since it was read (updatedAt differs)",
                info.name
            ),
            field: Some("expectedUpdatedAt".into()),
        }
    } else {
        ApiError::NotFound(format!("{path}: no {} has this key", info.name))
    })
}

/// Deletes rows: soft where the entity has a soft-delete column, for good
/// otherwise. Restores undo a soft delete.
pub async fn delete(
    db: &sea_orm::DatabaseConnection,
    ctx: &WriteContext<'_>,
    entity: usize,
    items: Vec<Item>,
    op: Op,
) -> ApiResult<Vec<Vec<GqlValue>>> {
    check_batch(ctx, &items)?;
    ctx.access.check_change(ctx.model, entity, op)?;
    let info = &ctx.model.entities[entity];
    ctx.access.prepare(db, ctx.model).await?;
    let tx = begin_write(db).await?;
    refuse_frozen(&tx, ctx, entity, &item_keys(&items)).await?;
    for item in &items {
        let path = &item.path;
        let key = key_condition(ctx, entity, &item.key, path)?.add(ctx.access.write_scope(
            ctx.model,
            entity,
            &info.table,
            false,
        ));
        let returning =
            Query::returning().columns(info.pk.iter().map(|&c| Alias::new(&info.columns[c].name)));
        let result = match (info.soft_delete, op) {
            (Some(c), _) => {
                let col = &info.columns[c];
                let flag = col.scalar == Scalar::Boolean;
                let (set, was): (SqlValue, SimpleExpr) = match (op, flag) {
                    (Op::Restore, true) => (SqlValue::from(false), column_expr(&col.name).eq(true)),
                    (Op::Restore, false) => (null_of(col), column_expr(&col.name).is_not_null()),
                    (_, true) => (SqlValue::from(true), column_expr(&col.name).eq(false)),
                    (_, false) => (now(), column_expr(&col.name).is_null()),
                };
                let mut update = Query::update();
                update
                    .table(Alias::new(&info.table))
                    .value(Alias::new(&col.name), set)
                    .cond_where(key.add(was))
                    .returning(returning);
                if let Some(u) = info
                    .columns
                    .iter()
                    .find(|c| c.name == "updated_at" && c.managed)
                {
                    update.value(Alias::new(&u.name), now());
                }
                tx.query_one(&update).await
            }
            (None, Op::Restore) => {
                return Err(ApiError::bad_input(format!(
                    "{} is not soft-deleted",
                    info.name
                )));
            }
            (None, _) => {
                let mut delete = Query::delete();
                delete
                    .from_table(Alias::new(&info.table))
                    .cond_where(key)
                    .returning(returning);
                tx.query_one(&delete).await
            }
        };
        match result {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(ApiError::NotFound(format!(
                    "{path}: no {} has this key",
                    info.name
                )));
            }
            Err(error) => {
                return Err(match error.sql_err() {
                    Some(SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::Conflict {
                        message: format!("{path}: other rows still point at this {}", info.name),
                        field: None,
                    },
                    _ => constraint_error(ctx.model, entity, path, error),
                });
            }
        }
        run_hooks(&tx, ctx, entity, op, &item.key, &item.input).await?;
    }
    tx.commit().await?;
    ctx.access.written(entity);
    Ok(items.into_iter().map(|i| i.key).collect())
}

/// A write transaction. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`), waiting its turn behind other writers: one that began as
/// a reader (checking references, finding the row) could not become a
/// writer once another had committed since, and failed at once with
/// "database is locked" (18 of 24 simultaneous creates did). PostgreSQL
/// ignores the mode.
///
/// `BEGIN` runs to its end in a task of its own. Dropped during its round
/// trip (the client left, the request timed out), sqlx 0.9 has sent or
/// queued `BEGIN` but not yet counted the transaction, so it queues no
/// `ROLLBACK`: the pool flushed the `BEGIN` and handed the connection out
/// inside a transaction nobody would end, and the next statement on it
/// ran inside that. Finished, it is an ordinary transaction: if nobody
/// takes it, dropping it rolls it back.
pub async fn begin_write(db: &sea_orm::DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let db = db.clone();
    tokio::spawn(async move {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
    })
    .await
    .map_err(|error| DbErr::Custom(format!("starting a transaction: {error}")))?
}
