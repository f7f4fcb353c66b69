//! The mutation side of a domain's schema: for each entity, create, update,
//! delete and upsert, one or in batches, and restore for soft-deleted
//! entities. Each returns the rows it wrote as the entity's object type, so
//! that relations can be selected in the payload.

use std::sync::Arc;

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value as GqlValue};
use heck::{ToShoutySnakeCase, ToUpperCamelCase};

use crate::engine::model::{EntityInfo, Model, RelKind, Scalar};
use crate::engine::prefetch::prefetch;
use crate::engine::schema::{Limits, Node, args_map, node_projection, request, scalar_type};
use crate::engine::sql;
use crate::engine::write::{self, Item, Op, Writable, WriteContext};
use crate::error::{ApiError, ApiResult};
use crate::policy::Policy;

/// The unique keys an upsert can match on: the primary key when the client
/// chooses it, then each unique index.
pub fn conflict_keys(entity: &EntityInfo, domain: &erd::Entity) -> Vec<(String, Vec<usize>)> {
    let mut keys = Vec::new();
    if entity
        .pk
        .iter()
        .all(|&c| write::writable(entity, c) != Writable::Server)
    {
        keys.push(("PRIMARY_KEY".to_string(), entity.pk.clone()));
    }
    for index in domain.indexes.iter().filter(|i| i.unique) {
        let columns: Option<Vec<usize>> = index
            .columns
            .iter()
            .map(|c| entity.column_index(c))
            .collect();
        if let Some(columns) = columns
            && columns
                .iter()
                .all(|&c| write::writable(entity, c) != Writable::Server)
        {
            keys.push((index.columns.join("_").to_shouty_snake_case(), columns));
        }
    }
    keys
}

fn input_type(model: &Model, entity: &EntityInfo, column: usize, required: bool) -> TypeRef {
    let c = &entity.columns[column];
    let scalar = if c.password { Scalar::String } else { c.scalar };
    scalar_type(model, scalar, !required)
}

/// `CreateXInput`, `UpdateXInput` and `UpdateXItem` (and the nested
/// creates' inputs); only the create inputs for an append-only entity.
pub fn input_types(model: &Model, entity: &EntityInfo, append_only: bool) -> Vec<InputObject> {
    let name = &entity.name;
    let mut create = create_input(model, entity, format!("Create{name}Input"), None);
    let mut nested = Vec::new();
    for &r in &entity.nested {
        let relation = &entity.relations[r];
        let RelKind::HasMany { column } = relation.kind else {
            continue;
        };
        let type_name = format!("Create{name}{}Input", relation.gql.to_upper_camel_case());
        let target = &model.entities[relation.target];
        nested.push(
            create_input(model, target, type_name.clone(), Some(column)).description(format!(
                "A {} created with its {name}, which its `{}` names.",
                target.name, target.columns[column].gql
            )),
        );
        create = create.field(
            InputValue::new(&relation.gql, TypeRef::named_nn_list(type_name)).description(format!(
                "{} rows created with it, in the same transaction.",
                target.name
            )),
        );
    }
    if append_only {
        nested.insert(0, create);
        return nested;
    }
    let mut update = InputObject::new(format!("Update{name}Input"))
        .description("Only the fields given are set; an explicit null clears a nullable field.");
    for (i, c) in entity.columns.iter().enumerate() {
        if write::writable(entity, i) == Writable::Server || entity.pk.contains(&i) {
            continue;
        }
        update = update.field(column_input(c, input_type(model, entity, i, false)));
    }
    let mut item = InputObject::new(format!("Update{name}Item"));
    for &pk in &entity.pk {
        let c = &entity.columns[pk];
        item = item.field(InputValue::new(&c.gql, scalar_type(model, c.scalar, false)));
    }
    item = item.field(InputValue::new(
        "input",
        TypeRef::named_nn(format!("Update{name}Input")),
    ));
    if has_updated_at(entity) {
        item = item.field(InputValue::new(
            "expectedUpdatedAt",
            TypeRef::named("DateTime"),
        ));
    }
    let mut types = vec![create, update, item];
    types.extend(nested);
    types
}

/// A column's input field; a secret one says it is write-only.
fn column_input(column: &crate::engine::model::ColumnInfo, ty: TypeRef) -> InputValue {
    let field = InputValue::new(&column.gql, ty);
    if column.secret {
        field.description("Write-only: never readable.")
    } else {
        field
    }
}

/// The input of a create: every column the client may set, but `parent`
/// (the key a nested row takes from the row it is created with).
fn create_input(
    model: &Model,
    entity: &EntityInfo,
    type_name: String,
    parent: Option<usize>,
) -> InputObject {
    let mut create = InputObject::new(type_name);
    for (i, c) in entity.columns.iter().enumerate() {
        if write::writable(entity, i) == Writable::Server || Some(i) == parent {
            continue;
        }
        let required = write::required_on_create(entity, i);
        create = create.field(column_input(c, input_type(model, entity, i, required)));
    }
    create
}

fn has_updated_at(entity: &EntityInfo) -> bool {
    entity
        .columns
        .iter()
        .any(|c| c.name == "updated_at" && c.managed)
}

fn object(value: &GqlValue, path: &str) -> ApiResult<IndexMap<Name, GqlValue>> {
    match value {
        GqlValue::Object(o) => Ok(o.clone()),
        _ => Err(ApiError::bad_field(
            path,
            format!("`{path}` must be an object"),
        )),
    }
}

pub(crate) fn arg(ctx: &ResolverContext<'_>, name: &str) -> Option<GqlValue> {
    ctx.args.get(name).map(|v| v.as_value().clone())
}

fn key_of(
    entity: &EntityInfo,
    source: &IndexMap<Name, GqlValue>,
    path: &str,
) -> ApiResult<Vec<GqlValue>> {
    entity
        .pk
        .iter()
        .map(|&pk| {
            let gql = &entity.columns[pk].gql;
            source
                .get(gql.as_str())
                .cloned()
                .filter(|v| !matches!(v, GqlValue::Null))
                .ok_or_else(|| {
                    ApiError::bad_field(format!("{path}{gql}"), format!("`{gql}` is required"))
                })
        })
        .collect()
}

/// The rows written, read back with the columns and relations the payload
/// selects, in the order of `keys`.
pub(crate) async fn written<'a>(
    ctx: &ResolverContext<'a>,
    model: &Model,
    limits: &Limits,
    entity: usize,
    keys: Vec<Vec<GqlValue>>,
    include_deleted: bool,
) -> ApiResult<Vec<Arc<sql::Row>>> {
    let info = &model.entities[entity];
    let soft_delete: Vec<usize> = info.soft_delete.into_iter().collect();
    let projection = node_projection(model, entity, ctx.ctx.field().selection_set(), &soft_delete);
    let request = request(ctx)?;
    let mut rows = Vec::with_capacity(keys.len());
    if let Some(pk) = info.single_pk() {
        // One statement for the whole batch, then back in the batch's order.
        let values: Vec<GqlValue> = keys.iter().filter_map(|k| k.first().cloned()).collect();
        let found =
            sql::fetch_by_column(&request.reader, model, entity, pk, &values, &projection).await?;
        for value in &values {
            let row = found
                .get(&crate::engine::value::key_text(value))
                .and_then(|r| r.first());
            let hidden = row.is_some_and(|r| !include_deleted && is_deleted(info, r));
            if let (Some(row), false) = (row, hidden) {
                rows.push(row.clone());
            }
        }
    } else {
        for key in &keys {
            let mut cond = sea_orm::sea_query::Condition::all();
            for (&pk, value) in info.pk.iter().zip(key) {
                let c = &info.columns[pk];
                cond = cond.add(sea_orm::sea_query::ExprTrait::eq(
                    sea_orm::sea_query::Expr::col((
                        sea_orm::sea_query::Alias::new("t0"),
                        sea_orm::sea_query::Alias::new(&c.name),
                    )),
                    crate::engine::value::to_sql(c, model, value, &c.gql)?,
                ));
            }
            if !include_deleted {
                cond = cond.add(sql::visible(model, entity, "t0", false));
            }
            rows.extend(sql::fetch_where(&request.reader, model, entity, cond, &projection).await?);
        }
    }
    prefetch(
        request,
        model,
        limits,
        entity,
        rows.clone(),
        ctx.ctx.field().selection_set().collect(),
    )
    .await?;
    Ok(rows)
}

/// Whether a row read back is soft-deleted (its soft-delete column was
/// projected: `node_projection` keeps it when the payload selects it, and
/// `written` adds it otherwise).
fn is_deleted(info: &EntityInfo, row: &sql::Row) -> bool {
    match info.soft_delete.map(|c| row.get(c)) {
        Some(GqlValue::Boolean(flag)) => *flag,
        Some(GqlValue::Null) | None => false,
        Some(_) => true,
    }
}

pub(crate) fn nodes(rows: Vec<Arc<sql::Row>>) -> FieldValue<'static> {
    FieldValue::list(rows.into_iter().map(|r| FieldValue::owned_any(Node(r))))
}

fn first(rows: Vec<Arc<sql::Row>>) -> Option<FieldValue<'static>> {
    rows.into_iter()
        .next()
        .map(|r| FieldValue::owned_any(Node(r)))
}

/// Adds the mutations of every exposed entity to `mutation`, and registers
/// their input types with `builder`.
pub fn register(
    model: &Arc<Model>,
    domain: &erd::Domain,
    hooks: &Arc<write::Hooks>,
    limits: Limits,
    policy: &Policy,
    mut mutation: Object,
    mut builder: async_graphql::dynamic::SchemaBuilder,
) -> (Object, async_graphql::dynamic::SchemaBuilder) {
    let max_batch = limits.max_batch;
    for (index, entity) in model.entities.iter().enumerate().filter(|(_, e)| e.exposed) {
        let Some(erd_entity) = domain.entity(&entity.name) else {
            continue;
        };
        let name = entity.name.clone();
        let plural = entity.list_field.to_upper_camel_case();
        // Rows only ever created: the schema offers no other write (the
        // policy refuses them too, whatever reaches it).
        let append_only = policy.entity(index).is_some_and(|p| p.append_only);
        for input in input_types(model, entity, append_only) {
            builder = builder.register(input);
        }

        // create / createMany
        for batch in [false, true] {
            let field = insert_field(
                model, hooks, index, &name, &plural, batch, None, limits, max_batch,
            );
            mutation = mutation.field(field);
        }

        // update / updateMany
        if !append_only {
            let (m, h) = (model.clone(), hooks.clone());
            let mut one = Field::new(
                format!("update{name}"),
                TypeRef::named_nn(&name),
                move |ctx| {
                    let (m, h) = (m.clone(), h.clone());
                    FieldFuture::new(async move {
                        let (db, writer, access) = db_and_writer(&ctx, &m, index)?;
                        let info = &m.entities[index];
                        let args = args_map(&ctx);
                        let item = Item {
                            path: "input".into(),
                            input: object(args.get("input").unwrap_or(&GqlValue::Null), "input")?,
                            key: key_of(info, &args, "")?,
                            expected_updated_at: args
                                .get("expectedUpdatedAt")
                                .cloned()
                                .filter(|v| !matches!(v, GqlValue::Null)),
                        };
                        let wctx = WriteContext {
                            model: &m,
                            access: &access,
                            hooks: &h,
                            writer: &writer,
                            max_batch,
                        };
                        let keys = write::update(&db, &wctx, index, vec![item]).await?;
                        Ok(first(written(&ctx, &m, &limits, index, keys, false).await?))
                    })
                },
            );
            for &pk in &entity.pk {
                let c = &entity.columns[pk];
                one = one.argument(InputValue::new(&c.gql, scalar_type(model, c.scalar, false)));
            }
            one = one.argument(InputValue::new(
                "input",
                TypeRef::named_nn(format!("Update{name}Input")),
            ));
            if has_updated_at(entity) {
                one = one.argument(
                    InputValue::new("expectedUpdatedAt", TypeRef::named("DateTime"))
                        .description("The `updatedAt` last read: a row changed since is not overwritten (CONFLICT)."),
                );
            }
            mutation = mutation.field(one);

            let (m, h) = (model.clone(), hooks.clone());
            let many = Field::new(
                format!("update{plural}"),
                TypeRef::named_nn_list_nn(&name),
                move |ctx| {
                    let (m, h) = (m.clone(), h.clone());
                    FieldFuture::new(async move {
                        let (db, writer, access) = db_and_writer(&ctx, &m, index)?;
                        let info = &m.entities[index];
                        let list = match arg(&ctx, "items") {
                            Some(GqlValue::List(l)) => l,
                            _ => Vec::new(),
                        };
                        let mut items = Vec::with_capacity(list.len());
                        for (i, value) in list.iter().enumerate() {
                            let path = format!("items[{i}]");
                            let fields = object(value, &path)?;
                            items.push(Item {
                                input: object(
                                    fields.get("input").unwrap_or(&GqlValue::Null),
                                    &format!("{path}.input"),
                                )?,
                                key: key_of(info, &fields, &format!("{path}."))?,
                                expected_updated_at: fields
                                    .get("expectedUpdatedAt")
                                    .cloned()
                                    .filter(|v| !matches!(v, GqlValue::Null)),
                                path: format!("{path}.input"),
                            });
                        }
                        let wctx = WriteContext {
                            model: &m,
                            access: &access,
                            hooks: &h,
                            writer: &writer,
                            max_batch,
                        };
                        let keys = write::update(&db, &wctx, index, items).await?;
                        Ok(Some(nodes(
                            written(&ctx, &m, &limits, index, keys, false).await?,
                        )))
                    })
                },
            )
            .argument(InputValue::new(
                "items",
                TypeRef::named_nn_list_nn(format!("Update{name}Item")),
            ));
            mutation = mutation.field(many);
        }

        // delete and restore
        let ops: Vec<(String, Op)> = if append_only {
            Vec::new()
        } else if entity.soft_delete.is_some() {
            vec![
                (format!("delete{name}"), Op::Delete),
                (format!("restore{name}"), Op::Restore),
            ]
        } else {
            vec![(format!("delete{name}"), Op::Delete)]
        };
        for (field_name, op) in ops {
            let (m, h) = (model.clone(), hooks.clone());
            let mut field = Field::new(field_name, TypeRef::named(&name), move |ctx| {
                let (m, h) = (m.clone(), h.clone());
                FieldFuture::new(async move {
                    let (db, writer, access) = db_and_writer(&ctx, &m, index)?;
                    let info = &m.entities[index];
                    let args = args_map(&ctx);
                    let key = key_of(info, &args, "")?;
                    // A row deleted for good is read before it goes.
                    let before = if info.soft_delete.is_none() {
                        written(&ctx, &m, &limits, index, vec![key.clone()], true).await?
                    } else {
                        Vec::new()
                    };
                    let item = Item {
                        path: "key".into(),
                        input: IndexMap::new(),
                        key,
                        expected_updated_at: None,
                    };
                    let wctx = WriteContext {
                        model: &m,
                        access: &access,
                        hooks: &h,
                        writer: &writer,
                        max_batch,
                    };
                    let keys = write::delete(&db, &wctx, index, vec![item], op).await?;
                    if info.soft_delete.is_none() {
                        return Ok(first(before));
                    }
                    Ok(first(written(&ctx, &m, &limits, index, keys, true).await?))
                })
            });
            for &pk in &entity.pk {
                let c = &entity.columns[pk];
                field =
                    field.argument(InputValue::new(&c.gql, scalar_type(model, c.scalar, false)));
            }
            let what = match (op, entity.soft_delete.is_some()) {
                (Op::Restore, _) => format!("Undoes the soft delete of a {name}."),
                (_, true) => format!("Soft-deletes a {name}: hidden from lists until restored."),
                _ => format!("Deletes a {name}; returns it as it was."),
            };
            mutation = mutation.field(field.description(what));
        }

        // upsert / upsertMany
        let keys = conflict_keys(entity, erd_entity);
        if !keys.is_empty() && !append_only {
            let enum_name = format!("{name}ConflictKey");
            let mut conflict_enum = Enum::new(&enum_name)
                .description(format!("The unique key a {name} upsert matches on."));
            for (key_name, _) in &keys {
                conflict_enum = conflict_enum.item(key_name.as_str());
            }
            builder = builder.register(conflict_enum);
            let keys = Arc::new(keys);
            for batch in [false, true] {
                let field = insert_field(
                    model,
                    hooks,
                    index,
                    &name,
                    &plural,
                    batch,
                    Some(keys.clone()),
                    limits,
                    max_batch,
                );
                mutation = mutation.field(field);
            }
        }
    }
    (mutation, builder)
}

/// What a write of `entity` needs from the request; FORBIDDEN unless the
/// caller may write it.
pub(crate) fn db_and_writer(
    ctx: &ResolverContext<'_>,
    model: &Model,
    entity: usize,
) -> ApiResult<(
    sea_orm::DatabaseConnection,
    write::Writer,
    Arc<crate::policy::Access>,
)> {
    let request = request(ctx)?;
    let access = request.reader.access.clone();
    access.check_write(model, entity)?;
    Ok((request.db.clone(), request.writer.clone(), access))
}

/// The unique keys an upsert may match on, by enum value.
type ConflictKeys = Arc<Vec<(String, Vec<usize>)>>;

/// `createX`/`createXs`, or with `conflict` keys `upsertX`/`upsertXs`.
#[allow(clippy::too_many_arguments)] // one field's whole configuration
fn insert_field(
    model: &Arc<Model>,
    hooks: &Arc<write::Hooks>,
    index: usize,
    name: &str,
    plural: &str,
    batch: bool,
    conflict: Option<ConflictKeys>,
    limits: Limits,
    max_batch: usize,
) -> Field {
    let verb = if conflict.is_some() {
        "upsert"
    } else {
        "create"
    };
    let field_name = if batch {
        format!("{verb}{plural}")
    } else {
        format!("{verb}{name}")
    };
    let ty = if batch {
        TypeRef::named_nn_list_nn(name)
    } else {
        TypeRef::named_nn(name)
    };
    let (m, h, keys) = (model.clone(), hooks.clone(), conflict.clone());
    let mut field = Field::new(field_name, ty, move |ctx| {
        let (m, h, keys) = (m.clone(), h.clone(), keys.clone());
        FieldFuture::new(async move {
            let (db, writer, access) = db_and_writer(&ctx, &m, index)?;
            let columns = match &keys {
                None => None,
                Some(keys) => {
                    let chosen = match arg(&ctx, "onConflict") {
                        Some(GqlValue::Enum(n)) => n.to_string(),
                        _ => keys[0].0.clone(),
                    };
                    let columns = keys
                        .iter()
                        .find(|(n, _)| *n == chosen)
                        .map(|(_, c)| c.clone())
                        .ok_or_else(|| {
                            ApiError::bad_field("onConflict", format!("unknown key `{chosen}`"))
                        })?;
                    Some(columns)
                }
            };
            let items = items_from(&ctx, batch, "input", "inputs")?;
            let wctx = WriteContext {
                model: &m,
                access: &access,
                hooks: &h,
                writer: &writer,
                max_batch,
            };
            let written_keys = write::insert(&db, &wctx, index, items, columns).await?;
            let rows = written(&ctx, &m, &limits, index, written_keys, true).await?;
            Ok(if batch {
                Some(nodes(rows))
            } else {
                first(rows)
            })
        })
    });
    field = if batch {
        field.argument(InputValue::new(
            "inputs",
            TypeRef::named_nn_list_nn(format!("Create{name}Input")),
        ))
    } else {
        field.argument(InputValue::new(
            "input",
            TypeRef::named_nn(format!("Create{name}Input")),
        ))
    };
    match conflict {
        Some(keys) => field
            .argument(
                InputValue::new("onConflict", TypeRef::named(format!("{name}ConflictKey")))
                    .description(format!("Defaults to {}.", keys[0].0)),
            )
            .description(format!(
                "Creates {name} rows, or updates the given fields of those whose unique key exists: safe to retry."
            )),
        None => field.description(format!("Creates {name} rows in one transaction: all or nothing.")),
    }
}

fn items_from(
    ctx: &ResolverContext<'_>,
    batch: bool,
    one: &str,
    many: &str,
) -> ApiResult<Vec<Item>> {
    let values = if batch {
        match arg(ctx, many) {
            Some(GqlValue::List(list)) => list
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("{many}[{i}]"), v))
                .collect(),
            _ => Vec::new(),
        }
    } else {
        vec![(one.to_string(), arg(ctx, one).unwrap_or(GqlValue::Null))]
    };
    values
        .into_iter()
        .map(|(path, value)| {
            Ok(Item {
                input: object(&value, &path)?,
                path,
                key: Vec::new(),
                expected_updated_at: None,
            })
        })
        .collect()
}
