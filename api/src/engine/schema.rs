//! Builds a domain's async-graphql dynamic schema from its model: one object
//! type per entity with its columns and relations, connections, filter and
//! order inputs, and the root fields.

use std::sync::Arc;

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext,
    Scalar as GqlScalar, Schema, SchemaError, TypeRef,
};
use async_graphql::futures_util::future::try_join;
use async_graphql::{SelectionField, Value as GqlValue};
use sea_orm::DatabaseConnection;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use tokio::sync::OnceCell;

use crate::engine::loader::{
    ByColumn, ChildCount, Children, EngineLoader, RelationArgs, RequestLoaders,
};
use crate::engine::model::{Member, Model, RelKind, Scalar};
use crate::engine::pagination::{PageLimits, Window, parse_order, parse_window};
use crate::engine::plain::{PlainNodes, PlainNodesExtension};
use crate::engine::prefetch::{Prefetched, prefetch};
use crate::engine::sql::{self, ListSpec, Page, Row};
use crate::engine::value::{encode_cursor, key_text, to_sql};
use crate::error::{ApiError, ApiResult};
use crate::policy::Access;

/// Query limits, checked before any SQL runs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub page: PageLimits,
    /// Most items a batch mutation takes.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 10,
            max_complexity: 1000,
            page: PageLimits {
                default_size: 100,
                max_size: 10_000,
            },
            max_batch: 1000,
        }
    }
}

/// What every resolver of one request shares.
pub struct RequestContext {
    pub db: DatabaseConnection,
    /// The connection with the caller's access: every read goes through it.
    pub reader: sql::Reader,
    pub loader: RequestLoaders,
    pub prefetched: Prefetched,
    /// `nodes` lists answered without the executor.
    pub plain_nodes: Arc<PlainNodes>,
    /// Who writes, for the audit columns.
    pub writer: crate::engine::write::Writer,
}

impl RequestContext {
    pub fn new(
        db: DatabaseConnection,
        reads: crate::reads::Reads,
        model: Arc<Model>,
        access: Arc<Access>,
    ) -> Self {
        let reader = sql::Reader { db: reads, access };
        let loader = RequestLoaders::new(EngineLoader {
            reader: reader.clone(),
            model,
        });
        Self {
            db,
            reader,
            loader,
            prefetched: Prefetched::default(),
            plain_nodes: Arc::default(),
            writer: crate::engine::write::Writer::default(),
        }
    }
}

/// An entity row as a GraphQL object.
pub struct Node(pub Arc<Row>);

struct Edge {
    row: Arc<Row>,
    cursor: String,
}

struct PageInfo {
    has_next: bool,
    has_previous: bool,
    start: Option<String>,
    end: Option<String>,
}

enum Source {
    Root,
    Relation {
        owner: usize,
        relation: usize,
        parent: GqlValue,
    },
}

/// A connection's arguments; its page and count are fetched on first use
/// and shared by `nodes`, `edges` and `pageInfo`.
struct Connection {
    entity: usize,
    source: Source,
    spec: ListSpec,
    args: Arc<RelationArgs>,
    page: OnceCell<ApiResult<Arc<Page>>>,
    /// A root list's `totalCount`.
    count: OnceCell<ApiResult<u64>>,
}

impl Connection {
    async fn page(&self, model: &Model, ctx: &RequestContext) -> ApiResult<Arc<Page>> {
        self.page
            .get_or_init(|| async {
                match &self.source {
                    Source::Root => sql::fetch_page(&ctx.reader, model, self.entity, &self.spec)
                        .await
                        .map(Arc::new),
                    Source::Relation { .. } => {
                        let Some(key) = self.children_key() else {
                            return Err(ApiError::internal("a relation page without a parent"));
                        };
                        match ctx.prefetched.children(&key) {
                            Some(page) => Ok(page),
                            None => ctx.loader.children(key).await,
                        }
                    }
                }
            })
            .await
            .clone()
    }

    /// The loader key of a relation's page.
    fn children_key(&self) -> Option<Children> {
        match &self.source {
            Source::Root => None,
            Source::Relation {
                owner,
                relation,
                parent,
            } => Some(Children {
                owner: *owner,
                relation: *relation,
                parent: parent.clone(),
                key: key_text(parent),
                args: self.args.clone(),
            }),
        }
    }

    /// The page, if it is already in memory (fetched, or prefetched).
    fn ready_page(&self, ctx: &RequestContext) -> Option<Arc<Page>> {
        match self.page.get() {
            Some(Ok(page)) => Some(page.clone()),
            Some(Err(_)) => None,
            None => ctx.prefetched.children(&self.children_key()?),
        }
    }

    /// Prepares the plain `nodes` selections of this connection's field.
    fn offer_plain_nodes(
        &self,
        model: &Model,
        limits: &Limits,
        ctx: &ResolverContext<'_>,
        request: &RequestContext,
    ) {
        // A connection under each row of a list often asks only for
        // `totalCount` or `edges`: no page lookup for those.
        if !ctx.ctx.field().selection_set().any(|f| f.name() == "nodes") {
            return;
        }
        if let Some(page) = self.ready_page(request) {
            PlainNodes::offer(
                request,
                model,
                limits,
                self.entity,
                ctx.ctx.path_node.as_ref(),
                ctx.ctx.field(),
                &page.rows,
            );
        }
    }

    async fn total_count(&self, model: &Model, ctx: &RequestContext) -> ApiResult<u64> {
        match &self.source {
            Source::Root => self
                .count
                .get_or_init(|| {
                    sql::count(
                        &ctx.reader,
                        model,
                        self.entity,
                        self.spec.filter.as_ref(),
                        self.spec.include_deleted,
                    )
                })
                .await
                .clone(),
            Source::Relation {
                owner,
                relation,
                parent,
            } => {
                let key = ChildCount {
                    owner: *owner,
                    relation: *relation,
                    parent: parent.clone(),
                    key: key_text(parent),
                    filter: Arc::new(self.spec.filter.clone()),
                    include_deleted: self.spec.include_deleted,
                    signature: ChildCount::signature_of(
                        self.spec.filter.as_ref(),
                        self.spec.include_deleted,
                    ),
                };
                match ctx.prefetched.count(&key) {
                    Some(n) => Ok(n),
                    None => ctx.loader.count(key).await,
                }
            }
        }
    }

    fn cursor(&self, row: &Row) -> String {
        let values: Vec<GqlValue> = self
            .spec
            .terms
            .iter()
            .map(|t| row.get(t.column).clone())
            .collect();
        encode_cursor(&values)
    }
}

/// A field's arguments, as given (defaults applied).
pub fn args_map(
    ctx: &ResolverContext<'_>,
) -> async_graphql::indexmap::IndexMap<async_graphql::Name, GqlValue> {
    ctx.args
        .as_index_map()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The request's shared context.
pub fn request<'a>(ctx: &ResolverContext<'a>) -> ApiResult<&'a RequestContext> {
    ctx.data::<RequestContext>()
        .map_err(|_| ApiError::internal("request context missing"))
}

fn parent<'a, T: std::any::Any>(ctx: &ResolverContext<'a>) -> ApiResult<&'a T> {
    ctx.parent_value
        .downcast_ref::<T>()
        .ok_or_else(|| ApiError::internal("unexpected parent value"))
}

/// The columns a selection of an entity's fields needs: the ones asked for,
/// the foreign keys of asked relations, and the primary key.
pub fn node_projection<'a>(
    model: &Model,
    entity: usize,
    fields: impl Iterator<Item = SelectionField<'a>>,
    extra: &[usize],
) -> Vec<usize> {
    let info = &model.entities[entity];
    let mut columns: Vec<usize> = info.pk.clone();
    columns.extend_from_slice(extra);
    for field in fields {
        match info.members.get(field.name()) {
            Some(Member::Column(c)) => columns.push(*c),
            Some(Member::Relation(r)) => {
                if let RelKind::BelongsTo { column } = info.relations[*r].kind {
                    columns.push(column);
                }
            }
            None => {}
        }
    }
    columns.sort_unstable();
    columns.dedup();
    columns
}

/// The node fields under a connection's `nodes` and `edges { node }`.
pub fn connection_node_fields(connection: SelectionField<'_>) -> Vec<SelectionField<'_>> {
    let mut node_fields = Vec::new();
    for field in connection.selection_set() {
        match field.name() {
            "nodes" => node_fields.extend(field.selection_set()),
            "edges" => {
                for edge_field in field.selection_set() {
                    if edge_field.name() == "node" {
                        node_fields.extend(edge_field.selection_set());
                    }
                }
            }
            _ => {}
        }
    }
    node_fields
}

/// A list's filter, order, window and columns, from its arguments and the
/// selection of its connection field.
pub fn spec_from_args(
    model: &Model,
    entity: usize,
    args: &async_graphql::indexmap::IndexMap<async_graphql::Name, GqlValue>,
    connection: SelectionField<'_>,
    limits: &Limits,
) -> ApiResult<ListSpec> {
    let terms = parse_order(&model.entities[entity], args.get("orderBy"))?;
    let window: Window = parse_window(args, terms.len(), limits.page)?;
    let filter = args
        .get("filter")
        .filter(|f| !matches!(f, GqlValue::Null))
        .cloned();
    let include_deleted = matches!(args.get("includeDeleted"), Some(GqlValue::Boolean(true)));
    let order: Vec<usize> = terms.iter().map(|t| t.column).collect();
    let projection = Arc::new(node_projection(
        model,
        entity,
        connection_node_fields(connection).into_iter(),
        &order,
    ));
    Ok(ListSpec {
        filter,
        include_deleted,
        terms,
        window,
        projection,
    })
}

fn list_spec(
    model: &Model,
    entity: usize,
    ctx: &ResolverContext<'_>,
    limits: &Limits,
) -> ApiResult<ListSpec> {
    let args = args_map(ctx);
    spec_from_args(model, entity, &args, ctx.ctx.field(), limits)
}

fn connection(entity: usize, source: Source, spec: ListSpec) -> Connection {
    let args = Arc::new(RelationArgs::new(spec.clone()));
    Connection {
        entity,
        source,
        spec,
        args,
        page: OnceCell::new(),
        count: OnceCell::new(),
    }
}

fn list_arguments(field: Field, type_name: &str, soft_delete: bool) -> Field {
    let field = if soft_delete {
        field.argument(
            InputValue::new("includeDeleted", TypeRef::named(TypeRef::BOOLEAN))
                .description("Include soft-deleted rows (hidden by default).")
                .default_value(false),
        )
    } else {
        field
    };
    field
        .argument(InputValue::new(
            "filter",
            TypeRef::named(format!("{type_name}Filter")),
        ))
        .argument(InputValue::new(
            "orderBy",
            TypeRef::named_nn_list(format!("{type_name}OrderBy")),
        ))
        .argument(InputValue::new("first", TypeRef::named(TypeRef::INT)))
        .argument(InputValue::new("after", TypeRef::named(TypeRef::STRING)))
        .argument(InputValue::new("last", TypeRef::named(TypeRef::INT)))
        .argument(InputValue::new("before", TypeRef::named(TypeRef::STRING)))
}

pub fn scalar_type(model: &Model, scalar: Scalar, nullable: bool) -> TypeRef {
    match (scalar, nullable) {
        (Scalar::StringList, true) => TypeRef::named_nn_list(TypeRef::STRING),
        (Scalar::StringList, false) => TypeRef::named_nn_list_nn(TypeRef::STRING),
        (s, true) => TypeRef::named(s.type_name(model)),
        (s, false) => TypeRef::named_nn(s.type_name(model)),
    }
}

/// The filter input a scalar's column takes.
fn filter_type_name(model: &Model, scalar: Scalar) -> String {
    match scalar {
        Scalar::GeoJson => "JSONFilter".into(),
        Scalar::StringList => "StringListFilter".into(),
        Scalar::Enum(e) => format!("{}Filter", model.enums[e].name),
        s => format!("{}Filter", s.type_name(model)),
    }
}

fn scalars() -> Vec<GqlScalar> {
    vec![
        GqlScalar::new("BigInt")
            .description("A 64-bit integer, as a string (JSON numbers lose precision past 2^53). Integers are accepted too.")
            .validator(|v| match v {
                GqlValue::String(s) => s.parse::<i64>().is_ok(),
                GqlValue::Number(n) => n.is_i64(),
                _ => false,
            }),
        GqlScalar::new("Decimal")
            .description("An exact decimal number, as a string.")
            .validator(|v| match v {
                GqlValue::String(s) => s.parse::<rust_decimal::Decimal>().is_ok(),
                GqlValue::Number(_) => true,
                _ => false,
            }),
        GqlScalar::new("UUID")
            .description("A UUID, hyphenated.")
            .specified_by_url("https://www.rfc-editor.org/rfc/rfc4122")
            .validator(|v| matches!(v, GqlValue::String(s) if uuid::Uuid::parse_str(s).is_ok())),
        GqlScalar::new("Date")
            .description("A calendar date, YYYY-MM-DD.")
            .validator(|v| matches!(v, GqlValue::String(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())),
        GqlScalar::new("DateTime")
            .description("An instant, RFC 3339 (UTC on output).")
            .specified_by_url("https://www.rfc-editor.org/rfc/rfc3339")
            .validator(|v| matches!(v, GqlValue::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok())),
        GqlScalar::new("JSON").description("Any JSON value."),
        // No validator: async-graphql checks a scalar's output with it too,
        // and a stored value that failed it lost its key from the answer,
        // with an internal message, where a plain list wrote it. Input is
        // checked where it becomes a parameter (`value::to_sql`); output
        // is what is stored.
        GqlScalar::new("GeoJSON")
            .description("A GeoJSON geometry in SRID 4326 (longitude, latitude).")
            .specified_by_url("https://www.rfc-editor.org/rfc/rfc7946"),
    ]
}

fn filter_inputs(model: &Model) -> Vec<InputObject> {
    let comparable = |name: &str, ty: &str| {
        InputObject::new(name)
            .field(InputValue::new("eq", TypeRef::named(ty)))
            .field(InputValue::new("ne", TypeRef::named(ty)))
            .field(InputValue::new("gt", TypeRef::named(ty)))
            .field(InputValue::new("gte", TypeRef::named(ty)))
            .field(InputValue::new("lt", TypeRef::named(ty)))
            .field(InputValue::new("lte", TypeRef::named(ty)))
            .field(InputValue::new("in", TypeRef::named_nn_list(ty)))
            .field(InputValue::new("notIn", TypeRef::named_nn_list(ty)))
            .field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN)))
    };
    let mut inputs = vec![
        comparable("IntFilter", TypeRef::INT),
        comparable("BigIntFilter", "BigInt"),
        comparable("DecimalFilter", "Decimal"),
        comparable("UUIDFilter", "UUID"),
        comparable("DateFilter", "Date"),
        comparable("DateTimeFilter", "DateTime"),
        comparable("StringFilter", TypeRef::STRING)
            .description("`contains`, `startsWith` and `endsWith` match literally; `ilike` takes a pattern with `%` and `_`, ignoring case. `caseInsensitive` applies to eq, ne, contains, startsWith and endsWith.")
            .field(InputValue::new("contains", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("startsWith", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("endsWith", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("ilike", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("caseInsensitive", TypeRef::named(TypeRef::BOOLEAN))),
        InputObject::new("BooleanFilter")
            .field(InputValue::new("eq", TypeRef::named(TypeRef::BOOLEAN)))
            .field(InputValue::new("ne", TypeRef::named(TypeRef::BOOLEAN)))
            .field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))),
        InputObject::new("StringListFilter")
            .field(InputValue::new("contains", TypeRef::named(TypeRef::STRING)).description("The list has this element."))
            .field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))),
        InputObject::new("JSONFilter").field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))),
    ];
    for e in &model.enums {
        inputs.push(
            InputObject::new(format!("{}Filter", e.name))
                .field(InputValue::new("eq", TypeRef::named(&e.name)))
                .field(InputValue::new("ne", TypeRef::named(&e.name)))
                .field(InputValue::new("in", TypeRef::named_nn_list(&e.name)))
                .field(InputValue::new("notIn", TypeRef::named_nn_list(&e.name)))
                .field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))),
        );
    }
    inputs
}

/// Builds the schema of one domain.
pub fn build(
    model: Arc<Model>,
    domain: &erd::Domain,
    policy: &Arc<crate::policy::Policy>,
    hooks: Arc<crate::engine::write::Hooks>,
    limits: Limits,
) -> Result<Schema, SchemaError> {
    let mut query = Object::new("Query");
    // Plain lists first: it reads every parsed document, also the ones the
    // parse cache answers without reaching the extensions after it.
    let mut builder = Schema::build("Query", Some("Mutation"), None)
        .extension(PlainNodesExtension)
        .extension(crate::engine::parsed::ParsedQueries::default())
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity);
    for scalar in scalars() {
        builder = builder.register(scalar);
    }
    for input in filter_inputs(&model) {
        builder = builder.register(input);
    }
    for e in &model.enums {
        let mut gql_enum = Enum::new(&e.name);
        for (name, _) in &e.values {
            gql_enum = gql_enum.item(name.as_str());
        }
        builder = builder.register(gql_enum);
    }
    builder = builder.register(Enum::new("OrderDirection").item("ASC").item("DESC"));
    builder = builder.register(
        Object::new("PageInfo")
            .field(Field::new(
                "hasNextPage",
                TypeRef::named_nn(TypeRef::BOOLEAN),
                |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::value(parent::<PageInfo>(&ctx)?.has_next)))
                    })
                },
            ))
            .field(Field::new(
                "hasPreviousPage",
                TypeRef::named_nn(TypeRef::BOOLEAN),
                |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::value(
                            parent::<PageInfo>(&ctx)?.has_previous,
                        )))
                    })
                },
            ))
            .field(Field::new(
                "startCursor",
                TypeRef::named(TypeRef::STRING),
                |ctx| {
                    FieldFuture::new(async move {
                        Ok(parent::<PageInfo>(&ctx)?
                            .start
                            .clone()
                            .map(FieldValue::value))
                    })
                },
            ))
            .field(Field::new(
                "endCursor",
                TypeRef::named(TypeRef::STRING),
                |ctx| {
                    FieldFuture::new(async move {
                        Ok(parent::<PageInfo>(&ctx)?.end.clone().map(FieldValue::value))
                    })
                },
            )),
    );

    for (index, entity) in model.entities.iter().enumerate().filter(|(_, e)| e.exposed) {
        let name = entity.name.clone();
        let mut object = Object::new(&name);
        let mut filter = InputObject::new(format!("{name}Filter"))
            .field(InputValue::new(
                "and",
                TypeRef::named_nn_list(format!("{name}Filter")),
            ))
            .field(InputValue::new(
                "or",
                TypeRef::named_nn_list(format!("{name}Filter")),
            ))
            .field(InputValue::new(
                "not",
                TypeRef::named(format!("{name}Filter")),
            ));
        let mut order_fields = Enum::new(format!("{name}OrderField"));

        for (c, column) in entity.public_columns() {
            object = object.field(Field::new(
                &column.gql,
                scalar_type(&model, column.scalar, column.nullable),
                // A column is already in memory: answered without a future
                // (a page of 5,000 rows asks this 5,000 times per column).
                move |ctx| match parent::<Node>(&ctx) {
                    Ok(node) => FieldFuture::Value(match node.0.get(c) {
                        GqlValue::Null => None,
                        v => Some(FieldValue::value(v.clone())),
                    }),
                    Err(e) => {
                        let e = async_graphql::Error::from(e);
                        FieldFuture::new(async move { Err::<Option<FieldValue>, _>(e) })
                    }
                },
            ));
            filter = filter.field(InputValue::new(
                &column.gql,
                TypeRef::named(filter_type_name(&model, column.scalar)),
            ));
            if column.scalar.comparable() {
                order_fields = order_fields.item(&column.order_name);
            }
        }

        for (r, relation) in entity.relations.iter().enumerate() {
            let target = &model.entities[relation.target];
            let target_name = target.name.clone();
            let m = model.clone();
            let target_index = relation.target;
            let field = match relation.kind.clone() {
                RelKind::BelongsTo { column } => {
                    filter = filter.field(InputValue::new(
                        &relation.gql,
                        TypeRef::named(format!("{target_name}Filter")),
                    ));
                    Field::new(&relation.gql, TypeRef::named(&target_name), move |ctx| {
                        let m = m.clone();
                        FieldFuture::new(async move {
                            let node = parent::<Node>(&ctx)?;
                            let value = node.0.get(column).clone();
                            if matches!(value, GqlValue::Null) {
                                return Ok(None);
                            }
                            let target_pk =
                                m.entities[target_index].single_pk().ok_or_else(|| {
                                    ApiError::internal("belongs-to target without a single key")
                                })?;
                            one_by_column(&ctx, &m, target_index, target_pk, value).await
                        })
                    })
                }
                RelKind::HasOne { column } => {
                    Field::new(&relation.gql, TypeRef::named(&target_name), move |ctx| {
                        let m = m.clone();
                        FieldFuture::new(async move {
                            let node = parent::<Node>(&ctx)?;
                            let owner_pk = m.entities[index]
                                .single_pk()
                                .ok_or_else(|| ApiError::internal("no single key"))?;
                            let value = node.0.get(owner_pk).clone();
                            one_by_column(&ctx, &m, target_index, column, value).await
                        })
                    })
                }
                RelKind::HasMany { .. } | RelKind::ManyToMany { .. } => {
                    let f = Field::new(
                        &relation.gql,
                        TypeRef::named_nn(format!("{target_name}Connection")),
                        move |ctx| {
                            let m = m.clone();
                            FieldFuture::new(async move {
                                request(&ctx)?.reader.access.check_read(&m, target_index)?;
                                let node = parent::<Node>(&ctx)?;
                                let owner_pk = m.entities[index]
                                    .single_pk()
                                    .ok_or_else(|| ApiError::internal("no single key"))?;
                                let spec = list_spec(&m, target_index, &ctx, &limits)?;
                                let source = Source::Relation {
                                    owner: index,
                                    relation: r,
                                    parent: node.0.get(owner_pk).clone(),
                                };
                                let conn = connection(target_index, source, spec);
                                conn.offer_plain_nodes(&m, &limits, &ctx, request(&ctx)?);
                                Ok(Some(FieldValue::owned_any(conn)))
                            })
                        },
                    );
                    list_arguments(f, &target_name, target.soft_delete.is_some())
                }
            };
            object = object.field(field);
        }

        builder = builder
            .register(object)
            .register(filter)
            .register(order_fields)
            .register(
                InputObject::new(format!("{name}OrderBy"))
                    .field(InputValue::new(
                        "field",
                        TypeRef::named_nn(format!("{name}OrderField")),
                    ))
                    .field(
                        InputValue::new("direction", TypeRef::named_nn("OrderDirection"))
                            .default_value(GqlValue::Enum(async_graphql::Name::new("ASC"))),
                    ),
            );
        let (connection_type, edge_type) = connection_types(&model, &name);
        builder = builder.register(connection_type).register(edge_type);

        // Root fields.
        let m = model.clone();
        query = query.field(
            list_arguments(
                Field::new(
                    &entity.list_field,
                    TypeRef::named_nn(format!("{name}Connection")),
                    move |ctx| {
                        let m = m.clone();
                        FieldFuture::new(async move {
                            request(&ctx)?.reader.access.check_read(&m, index)?;
                            let spec = list_spec(&m, index, &ctx, &limits)?;
                            let conn = connection(index, Source::Root, spec);
                            // Fetch the page now, and below it every selected
                            // relation, one level at a time; and the count, if
                            // selected, at the same time on its own connection.
                            let field = ctx.ctx.field();
                            let wants_rows = field
                                .selection_set()
                                .any(|f| matches!(f.name(), "nodes" | "edges" | "pageInfo"));
                            if wants_rows {
                                let request = request(&ctx)?;
                                let rows = async {
                                    let page = conn.page(&m, request).await?;
                                    prefetch(
                                        request,
                                        &m,
                                        &limits,
                                        index,
                                        page.rows.clone(),
                                        connection_node_fields(field),
                                    )
                                    .await
                                };
                                if field.selection_set().any(|f| f.name() == "totalCount") {
                                    let count =
                                        async { conn.total_count(&m, request).await.map(|_| ()) };
                                    try_join(rows, count).await?;
                                } else {
                                    rows.await?;
                                }
                                conn.offer_plain_nodes(&m, &limits, &ctx, request);
                            }
                            Ok(Some(FieldValue::owned_any(conn)))
                        })
                    },
                ),
                &name,
                entity.soft_delete.is_some(),
            )
            .description(format!(
                "Every {name}, paged. Without `first` or `last`, a page has the default page size."
            )),
        );
        let m = model.clone();
        let mut get = Field::new(&entity.get_field, TypeRef::named(&name), move |ctx| {
            let m = m.clone();
            FieldFuture::new(async move { get_by_key(&ctx, &m, index, &limits).await })
        });
        for &pk in &entity.pk {
            let column = &entity.columns[pk];
            get = get.argument(InputValue::new(
                &column.gql,
                scalar_type(&model, column.scalar, false),
            ));
        }
        query = query.field(get.description(format!("One {name} by its key, or null.")));
    }
    let (mutation, builder) = crate::engine::mutation::register(
        &model,
        domain,
        &hooks,
        limits,
        policy,
        Object::new("Mutation"),
        builder,
    );
    let mutation = crate::domains::mutation_fields(&domain.name, &model, &hooks, limits)
        .into_iter()
        .fold(mutation, Object::field);
    let (mutation, builder) = crate::policy::login::register(&model, policy, mutation, builder);
    builder.register(query).register(mutation).finish()
}

fn connection_types(model: &Arc<Model>, name: &str) -> (Object, Object) {
    let m = model.clone();
    let nodes = Field::new("nodes", TypeRef::named_nn_list_nn(name), move |ctx| {
        let m = m.clone();
        FieldFuture::new(async move {
            let conn = parent::<Connection>(&ctx)?;
            let page = conn.page(&m, request(&ctx)?).await?;
            Ok(Some(FieldValue::list(
                page.rows
                    .iter()
                    .map(|r| FieldValue::owned_any(Node(r.clone()))),
            )))
        })
    });
    let m = model.clone();
    let edges = Field::new(
        "edges",
        TypeRef::named_nn_list_nn(format!("{name}Edge")),
        move |ctx| {
            let m = m.clone();
            FieldFuture::new(async move {
                let conn = parent::<Connection>(&ctx)?;
                let page = conn.page(&m, request(&ctx)?).await?;
                Ok(Some(FieldValue::list(page.rows.iter().map(|r| {
                    FieldValue::owned_any(Edge {
                        row: r.clone(),
                        cursor: conn.cursor(r),
                    })
                }))))
            })
        },
    );
    let m = model.clone();
    let page_info = Field::new("pageInfo", TypeRef::named_nn("PageInfo"), move |ctx| {
        let m = m.clone();
        FieldFuture::new(async move {
            let conn = parent::<Connection>(&ctx)?;
            let page = conn.page(&m, request(&ctx)?).await?;
            Ok(Some(FieldValue::owned_any(PageInfo {
                has_next: page.has_next,
                has_previous: page.has_previous,
                start: page.rows.first().map(|r| conn.cursor(r)),
                end: page.rows.last().map(|r| conn.cursor(r)),
            })))
        })
    });
    let m = model.clone();
    let total = Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), move |ctx| {
        let m = m.clone();
        FieldFuture::new(async move {
            let conn = parent::<Connection>(&ctx)?;
            let n = conn.total_count(&m, request(&ctx)?).await?;
            Ok(Some(FieldValue::value(
                i64::try_from(n).unwrap_or(i64::MAX),
            )))
        })
    })
    .description("Every row matching the filter, across pages.");
    let connection = Object::new(format!("{name}Connection"))
        .field(edges)
        .field(nodes)
        .field(page_info)
        .field(total);
    let edge = Object::new(format!("{name}Edge"))
        .field(Field::new(
            "cursor",
            TypeRef::named_nn(TypeRef::STRING),
            |ctx| {
                FieldFuture::new(async move {
                    Ok(Some(FieldValue::value(
                        parent::<Edge>(&ctx)?.cursor.clone(),
                    )))
                })
            },
        ))
        .field(Field::new("node", TypeRef::named_nn(name), |ctx| {
            FieldFuture::new(async move {
                Ok(Some(FieldValue::owned_any(Node(
                    parent::<Edge>(&ctx)?.row.clone(),
                ))))
            })
        }));
    (connection, edge)
}

/// The first row of `entity` whose `column` is `value`, through the loader.
async fn one_by_column<'a>(
    ctx: &ResolverContext<'a>,
    model: &Model,
    entity: usize,
    column: usize,
    value: GqlValue,
) -> async_graphql::Result<Option<FieldValue<'a>>> {
    request(ctx)?.reader.access.check_read(model, entity)?;
    let projection = Arc::new(node_projection(
        model,
        entity,
        ctx.ctx.field().selection_set(),
        &[],
    ));
    let key = ByColumn {
        entity,
        column,
        key: key_text(&value),
        value,
        projection,
    };
    let request = request(ctx)?;
    let rows = match request.prefetched.by_column(&key) {
        Some(rows) => rows,
        None => request.loader.by_column(key).await?,
    };
    Ok(rows.first().map(|r| FieldValue::owned_any(Node(r.clone()))))
}

async fn get_by_key<'a>(
    ctx: &ResolverContext<'a>,
    model: &Model,
    entity: usize,
    limits: &Limits,
) -> async_graphql::Result<Option<FieldValue<'a>>> {
    request(ctx)?.reader.access.check_read(model, entity)?;
    let info = &model.entities[entity];
    let projection = node_projection(model, entity, ctx.ctx.field().selection_set(), &[]);
    let mut cond = Condition::all();
    for &pk in &info.pk {
        let column = &info.columns[pk];
        let value = ctx
            .args
            .get(&column.gql)
            .map(|v| v.as_value().clone())
            .ok_or_else(|| {
                ApiError::bad_field(&column.gql, format!("`{}` is required", column.gql))
            })?;
        cond = cond.add(
            Expr::col((Alias::new("t0"), Alias::new(&column.name))).eq(to_sql(
                column,
                model,
                &value,
                &column.gql,
            )?),
        );
    }
    let request = request(ctx)?;
    let rows = sql::fetch_where(&request.reader, model, entity, cond, &projection).await?;
    prefetch(
        request,
        model,
        limits,
        entity,
        rows.clone(),
        ctx.ctx.field().selection_set().collect(),
    )
    .await?;
    Ok(rows.first().map(|r| FieldValue::owned_any(Node(r.clone()))))
}
