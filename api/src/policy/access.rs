//! One request's view of its domain's policy: the caller's permissions and
//! the SQL conditions that keep its rows to the ones it may see.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, Value as SqlValue};
use tokio::sync::OnceCell;

use super::scopes::{ScopeCache, TenantKeys};
use super::{EntityPolicy, Policy, RelPath, Rule, Step};
use crate::auth::Principal;
use crate::engine::model::{ColumnInfo, Model, RelKind, Scalar};
use crate::error::{ApiError, ApiResult};

/// What one caller may do in one domain.
#[derive(Debug)]
pub struct Access {
    policy: Arc<Policy>,
    /// The domain's lookups shared across requests.
    scopes: Arc<ScopeCache>,
    principal: Principal,
    backend: DbBackend,
    /// Holds `"*"` when every permission is granted.
    permissions: HashSet<String>,
    all_tenants: bool,
    whole_pyramid: bool,
    all_rows: bool,
    level: i64,
    tenant: Option<SqlValue>,
    subject: Option<SqlValue>,
    /// The caller's org-unit roots (materialised paths), loaded on first use.
    roots: OnceCell<Arc<Vec<String>>>,
    /// By entity: the keys the first foreign key of its tenant path may
    /// hold for this caller (`None`: too many to list), resolved once per
    /// request for the root lists that read the entity.
    tenant_keys: Mutex<HashMap<usize, Arc<KeysCell>>>,
}

/// The keys of one entity's tenant scope, read once (`None`: too many).
type KeysCell = OnceCell<TenantKeys>;

/// The most keys a resolved tenant scope lists; beyond that the scope
/// stays a nested subquery.
const MAX_TENANT_KEYS: u64 = 100;

/// The end of a relation path: a key equal to a claim, or a condition.
enum Terminal<'a> {
    Key { column: usize, value: &'a SqlValue },
    Cond(&'a dyn Fn(&str) -> Condition),
}

fn never() -> Condition {
    Condition::all().add(Expr::cust("1 = 0"))
}

fn col(alias: &str, column: &str) -> Expr {
    Expr::col((Alias::new(alias), Alias::new(column)))
}

/// A claim (always a string) as a value of `column`, the key it is compared
/// with or stored in; `None` when it cannot be one.
pub fn claim_value(column: &ColumnInfo, claim: &str) -> Option<SqlValue> {
    match column.scalar {
        Scalar::Int => claim.parse::<i32>().ok().map(SqlValue::from),
        Scalar::BigInt => claim.parse::<i64>().ok().map(SqlValue::from),
        Scalar::Uuid => uuid::Uuid::parse_str(claim).ok().map(SqlValue::from),
        Scalar::String => Some(SqlValue::from(claim.to_string())),
        _ => None,
    }
}

impl Access {
    /// The access of `principal` under `policy`.
    pub fn new(
        policy: Arc<Policy>,
        scopes: Arc<ScopeCache>,
        model: &Model,
        principal: Principal,
        backend: DbBackend,
    ) -> Self {
        let mut permissions: HashSet<String> = policy.anonymous.iter().cloned().collect();
        let (mut all_tenants, mut whole_pyramid, mut all_rows, mut level) =
            (false, false, false, 0);
        if !principal.anonymous {
            permissions.extend(policy.authenticated.iter().cloned());
            for name in &principal.roles {
                match policy.roles.get(name) {
                    Some(role) => {
                        permissions.extend(role.permissions.iter().cloned());
                        all_tenants |= role.all_tenants;
                        whole_pyramid |= role.whole_pyramid;
                        all_rows |= role.all_rows;
                        level = Ord::max(level, role.level);
                    }
                    // Iaso grants codenames to users directly, too.
                    None if policy.permissions.contains(name) => {
                        permissions.insert(name.clone());
                    }
                    None => {}
                }
            }
        }
        let tenant = match (&policy.tenant, &principal.tenant) {
            (Some(key), Some(claim)) => claim_value(key.column_info(model), claim),
            _ => None,
        };
        let subject = match (&policy.subject, &principal.subject) {
            (Some(key), Some(claim)) if !principal.anonymous => {
                claim_value(key.column_info(model), claim)
            }
            _ => None,
        };
        Self {
            policy,
            scopes,
            principal,
            backend,
            permissions,
            all_tenants,
            whole_pyramid,
            all_rows,
            level,
            tenant,
            subject,
            roots: OnceCell::new(),
            tenant_keys: Mutex::default(),
        }
    }

    /// Tells the domain's shared scope lookups that a write to `entity`
    /// has committed.
    pub fn written(&self, entity: usize) {
        self.scopes.written(entity);
    }

    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains("*") || self.permissions.contains(permission)
    }

    fn allows(&self, rule: &Rule) -> bool {
        match rule {
            Rule::Anyone => true,
            Rule::Authenticated => !self.principal.anonymous,
            Rule::AnyOf(perms) => {
                self.permissions.contains("*") || perms.iter().any(|p| self.has_permission(p))
            }
        }
    }

    fn entity_policy(&self, entity: usize) -> Option<&EntityPolicy> {
        self.policy.entity(entity)
    }

    pub fn can_read(&self, entity: usize) -> bool {
        self.entity_policy(entity)
            .is_some_and(|p| self.allows(&p.read))
    }

    pub fn can_write(&self, entity: usize) -> bool {
        self.entity_policy(entity)
            .is_some_and(|p| self.allows(&p.write))
    }

    fn refusal(&self, model: &Model, entity: usize, verb: &str, rule: Option<&Rule>) -> ApiError {
        let name = &model.entities[entity].name;
        if self.principal.anonymous {
            return ApiError::Forbidden(format!(
                "{verb} {name} needs a token: send `Authorization: Bearer <token>`"
            ));
        }
        match rule {
            Some(Rule::AnyOf(perms)) if !perms.is_empty() => ApiError::Forbidden(format!(
                "{verb} {name} needs one of the permissions {}",
                perms.join(", ")
            )),
            _ => ApiError::Forbidden(format!("{name} cannot be {verb} through the API")),
        }
    }

    /// FORBIDDEN unless the caller may read `entity`.
    pub fn check_read(&self, model: &Model, entity: usize) -> ApiResult<()> {
        if self.can_read(entity) {
            return Ok(());
        }
        Err(self.refusal(
            model,
            entity,
            "reading",
            self.entity_policy(entity).map(|p| &p.read),
        ))
    }

    /// FORBIDDEN unless the caller may write `entity`.
    pub fn check_write(&self, model: &Model, entity: usize) -> ApiResult<()> {
        if self.can_write(entity) {
            return Ok(());
        }
        Err(self.refusal(
            model,
            entity,
            "writing",
            self.entity_policy(entity).map(|p| &p.write),
        ))
    }

    /// FORBIDDEN for any write but a create of an append-only entity.
    pub fn check_change(
        &self,
        model: &Model,
        entity: usize,
        op: crate::engine::write::Op,
    ) -> ApiResult<()> {
        if op == crate::engine::write::Op::Create
            || !self.entity_policy(entity).is_some_and(|p| p.append_only)
        {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "{} rows are only appended: they cannot be updated, upserted, deleted or restored",
            model.entities[entity].name
        )))
    }

    /// FORBIDDEN when `column` needs a permission the caller lacks.
    pub fn check_column(
        &self,
        model: &Model,
        entity: usize,
        column: usize,
        field: &str,
    ) -> ApiResult<()> {
        let Some(perms) = self
            .entity_policy(entity)
            .and_then(|p| p.columns.get(&column))
        else {
            return Ok(());
        };
        if perms.iter().any(|p| self.has_permission(p)) {
            return Ok(());
        }
        let info = &model.entities[entity];
        Err(ApiError::Forbidden(format!(
            "`{field}`: writing {}.{} needs one of the permissions {}",
            info.name,
            info.columns[column].gql,
            perms.join(", ")
        )))
    }

    /// Loads what the conditions need from the database (the caller's
    /// org-unit roots), once per request.
    pub async fn prepare(&self, db: &impl ConnectionTrait, model: &Model) -> ApiResult<()> {
        let Some(subtree) = &self.policy.subtree else {
            return Ok(());
        };
        let (Some(subject), Some(subject_key), Some(claim)) =
            (&self.subject, &self.policy.subject, &self.principal.subject)
        else {
            self.roots.get_or_init(|| async { Arc::default() }).await;
            return Ok(());
        };
        self.roots
            .get_or_try_init(|| {
                self.scopes.roots(claim, async {
                    let info = &model.entities[subtree.entity];
                    let path_name = &info.columns[subtree.path_column].name;
                    let mut select = Query::select();
                    select
                        .column((Alias::new("__r"), Alias::new(path_name)))
                        .from_as(Alias::new(&info.table), Alias::new("__r"))
                        .cond_where(reaches(
                            model,
                            subtree.entity,
                            "__r",
                            &subtree.roots,
                            subject_key.column,
                            subject,
                        ));
                    let mut roots = Vec::new();
                    for row in db.query_all(&select).await? {
                        let path: Option<String> =
                            row.try_get("", path_name).map_err(ApiError::internal)?;
                        roots.extend(path);
                    }
                    Ok(roots)
                })
            })
            .await?;
        Ok(())
    }

    /// [`Access::prepare`], and for each of `entities` (those whose rows
    /// one statement reads: a list, a page under parents, joined rows)
    /// whose tenant is two steps away or more and reached through a
    /// foreign key of its own (`version.dataSource.projects.account`,
    /// `project.account`), the keys that foreign key may hold: the scope
    /// then becomes `version_id IN (1, 2)` instead of nested subqueries,
    /// which lets PostgreSQL use the row's own indexes, such as
    /// `(version_id, name)` for a list ordered by name, and keeps it from
    /// joining the tenant's rows to every probe (a subtree's submissions
    /// were probed once per project of the account; a joined unit's
    /// version was looked up through four tables for every joined row).
    /// One statement per such entity, kept like the roots (see
    /// [`super::scopes`]); more than [`MAX_TENANT_KEYS`] keys keep the
    /// subqueries. The lookups are independent and run at the same time.
    pub async fn prepare_scopes(
        &self,
        db: &impl ConnectionTrait,
        model: &Model,
        entities: &[usize],
    ) -> ApiResult<()> {
        let mut distinct = entities.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        async_graphql::futures_util::future::try_join(
            self.prepare(db, model),
            async_graphql::futures_util::future::try_join_all(
                distinct
                    .into_iter()
                    .map(|entity| self.prepare_tenant_keys(db, model, entity)),
            ),
        )
        .await?;
        Ok(())
    }

    /// The tenant keys of [`Access::prepare_scopes`].
    async fn prepare_tenant_keys(
        &self,
        db: &impl ConnectionTrait,
        model: &Model,
        entity: usize,
    ) -> ApiResult<()> {
        let Some((fk, target, path)) = self.reducible(model, entity) else {
            return Ok(());
        };
        let (Some(key), Some(value), Some(claim)) =
            (&self.policy.tenant, &self.tenant, &self.principal.tenant)
        else {
            return Ok(());
        };
        let wide = (entity, claim.clone());
        if self
            .policy
            .wide_tenant_keys
            .lock()
            .is_ok_and(|w| w.contains(&wide))
        {
            return Ok(());
        }
        let cell = self
            .tenant_keys
            .lock()
            .map_err(|_| ApiError::internal("tenant keys lock poisoned"))?
            .entry(entity)
            .or_default()
            .clone();
        cell.get_or_try_init(|| {
            self.scopes.tenant_keys(entity, claim, async {
                let t = &model.entities[target];
                let Some(pk) = t.single_pk() else {
                    return Ok(None);
                };
                let pk_info = &t.columns[pk];
                let mut select = Query::select();
                select
                    .column((Alias::new("__k"), Alias::new(&pk_info.name)))
                    .from_as(Alias::new(&t.table), Alias::new("__k"))
                    .cond_where(reach(
                        model,
                        target,
                        "__k",
                        path,
                        &Terminal::Key {
                            column: key.column,
                            value,
                        },
                        1,
                    ))
                    .limit(MAX_TENANT_KEYS + 1);
                let rows = db.query_all(&select).await?;
                if rows.len() as u64 > MAX_TENANT_KEYS {
                    if let Ok(mut w) = self.policy.wide_tenant_keys.lock() {
                        w.insert(wide.clone());
                    }
                    return Ok(None);
                }
                let fk_info = &model.entities[entity].columns[fk];
                let mut keys = Vec::with_capacity(rows.len());
                for row in &rows {
                    let v = crate::engine::value::read(row, pk_info.name.as_str(), pk_info, model)?;
                    keys.push(crate::engine::value::to_sql(fk_info, model, &v, "scope")?);
                }
                Ok(Some(keys))
            })
        })
        .await?;
        Ok(())
    }

    /// [`Policy::tenant_key_path`], unless the caller sees every tenant.
    fn reducible<'p>(
        &'p self,
        model: &Model,
        entity: usize,
    ) -> Option<(usize, usize, &'p RelPath)> {
        if self.all_tenants {
            return None;
        }
        self.policy.tenant_key_path(model, entity)
    }

    /// The tenant condition on `alias` from keys resolved by
    /// [`Access::prepare_scopes`], if they were.
    fn resolved_tenant(&self, model: &Model, entity: usize, alias: &str) -> Option<Condition> {
        let (fk, _, _) = self.reducible(model, entity)?;
        let cell = self.tenant_keys.lock().ok()?.get(&entity)?.clone();
        let keys = Option::as_ref(cell.get()?)?;
        let column = col(alias, &model.entities[entity].columns[fk].name);
        Some(match keys.as_slice() {
            [] => never(),
            [one] => Condition::all().add(column.eq(one.clone())),
            many => Condition::all().add(column.is_in(many.iter().cloned())),
        })
    }

    /// The rows of `entity` (aliased `alias`) the caller may read.
    pub fn read_scope(&self, model: &Model, entity: usize, alias: &str) -> Condition {
        if !self.can_read(entity) {
            return never();
        }
        self.row_scope(model, entity, alias)
    }

    /// The rows of `entity` the caller's tenant, org units and level reach,
    /// whatever its permissions: what writes and references may touch.
    pub fn row_scope(&self, model: &Model, entity: usize, alias: &str) -> Condition {
        self.scope(model, entity, alias, false, false)
    }

    /// The scope a written row must be in: the row scope, and the entity's
    /// `write_owner` rule. A row being created whose
    /// tenant is reached through a many-to-many or reverse relation has no
    /// tenant yet (its links come later): it is visible to no tenant, so
    /// only the rest of the scope is checked.
    pub fn write_scope(
        &self,
        model: &Model,
        entity: usize,
        alias: &str,
        creating: bool,
    ) -> Condition {
        self.scope(model, entity, alias, creating, true)
    }

    fn scope(
        &self,
        model: &Model,
        entity: usize,
        alias: &str,
        creating: bool,
        writing: bool,
    ) -> Condition {
        let Some(policy) = self.entity_policy(entity) else {
            return never();
        };
        let mut all = Condition::all();
        // The first step does not start from a column of the row itself.
        let unanchored = |path: &RelPath| match path.steps.first() {
            None => false,
            Some(Step::Forward { entity, relation }) => !matches!(
                model.entities[*entity].relations[*relation].kind,
                RelKind::BelongsTo { .. }
            ),
            Some(Step::Reverse { .. }) => true,
        };
        if let Some(path) = &policy.tenant
            && !self.all_tenants
            && !(creating && unanchored(path))
        {
            let (Some(key), Some(value)) = (&self.policy.tenant, &self.tenant) else {
                return never();
            };
            all = all.add(
                self.resolved_tenant(model, entity, alias)
                    .unwrap_or_else(|| reaches(model, entity, alias, path, key.column, value)),
            );
        }
        if let (Some(path), Some(subtree)) = (&policy.subtree, &self.policy.subtree) {
            let exempt = self.whole_pyramid && path.steps.is_empty();
            let roots = self.roots.get();
            match roots {
                // `prepare` was not awaited: refuse rather than leak.
                None => return never(),
                Some(roots) if !roots.is_empty() && !exempt => {
                    let path_name =
                        &model.entities[subtree.entity].columns[subtree.path_column].name;
                    let backend = self.backend;
                    let under = move |a: &str| {
                        let mut any = Condition::any();
                        for root in roots.iter() {
                            any = any.add(col(a, path_name).eq(root.as_str())).add(
                                crate::engine::filter::text_match(
                                    backend,
                                    col(a, path_name),
                                    &format!("{}.%", crate::engine::filter::escape_like(root)),
                                    false,
                                ),
                            );
                        }
                        any
                    };
                    all = all.add(reach(
                        model,
                        entity,
                        alias,
                        path,
                        &Terminal::Cond(&under),
                        0,
                    ));
                }
                Some(_) => {}
            }
        }
        if let (Some(path), Some(key), Some(value)) =
            (&policy.narrow, &self.policy.subject, &self.subject)
        {
            let term = Terminal::Key {
                column: key.column,
                value,
            };
            let info = &model.entities[entity];
            let mut any_row = Query::select();
            any_row
                .expr(Expr::val(1))
                .from_as(Alias::new(&info.table), Alias::new("__n"))
                .cond_where(reach(model, entity, "__n", path, &term, 0));
            all = all.add(
                Condition::any()
                    .add(Expr::exists(any_row).not())
                    .add(reach(model, entity, alias, path, &term, 0)),
            );
        }
        let owners = [(&policy.owner, true), (&policy.write_owner, writing)];
        for (paths, applies) in owners {
            if paths.is_empty() || !applies || self.all_rows {
                continue;
            }
            let (Some(key), Some(value)) = (&self.policy.subject, &self.subject) else {
                return never();
            };
            let mut any = Condition::any();
            for path in paths {
                any = any.add(reaches(model, entity, alias, path, key.column, value));
            }
            all = all.add(any);
        }
        if let Some(level) = policy.level {
            let name = &model.entities[entity].columns[level].name;
            all = all.add(col(alias, name).lte(i32::try_from(self.level).unwrap_or(i32::MAX)));
        }
        all
    }

    /// The rows of `entity` that must not be written (a read-only data
    /// source's org units), or `None` when the entity has no such rule.
    pub fn frozen(&self, model: &Model, entity: usize, alias: &str) -> Option<Condition> {
        let (path, column) = self.entity_policy(entity)?.frozen.as_ref()?;
        let end = &model.entities[path.end];
        let name = end.columns[*column].name.clone();
        let is_true = move |a: &str| Condition::all().add(col(a, &name).eq(true));
        Some(reach(
            model,
            entity,
            alias,
            path,
            &Terminal::Cond(&is_true),
            0,
        ))
    }
}

/// `alias` (a row of `entity`) reaches, through `path`, the row whose
/// `column` is `value`.
pub fn reaches(
    model: &Model,
    entity: usize,
    alias: &str,
    path: &RelPath,
    column: usize,
    value: &SqlValue,
) -> Condition {
    reach(
        model,
        entity,
        alias,
        path,
        &Terminal::Key { column, value },
        0,
    )
}

/// `alias` (a row of `entity`) reaches, through `path`, a row where
/// `term` holds. Each step is an `IN (SELECT ...)` subquery.
fn reach(
    model: &Model,
    entity: usize,
    alias: &str,
    path: &RelPath,
    term: &Terminal<'_>,
    from: usize,
) -> Condition {
    let steps = &path.steps[from..];
    let Some(step) = steps.first() else {
        return match term {
            Terminal::Key { column, value } => Condition::all().add(
                col(alias, &model.entities[entity].columns[*column].name).eq((*value).clone()),
            ),
            Terminal::Cond(f) => f(alias),
        };
    };
    let last = steps.len() == 1;
    let sub = format!("__s{}", from + 1);
    let info = &model.entities[entity];
    let pk_name = |e: usize| -> Option<String> {
        let i = &model.entities[e];
        i.single_pk().map(|c| i.columns[c].name.clone())
    };
    // The key column compared directly when the last step lands on it.
    let direct_key = |target: usize| match term {
        Terminal::Key { column, value }
            if last && Some(*column) == model.entities[target].single_pk() =>
        {
            Some(*value)
        }
        _ => None,
    };
    let expr: Option<SimpleExpr> =
        match step {
            Step::Forward { relation, .. } => {
                let rel = &info.relations[*relation];
                match &rel.kind {
                    RelKind::BelongsTo { column } => {
                        let fk = col(alias, &info.columns[*column].name);
                        match (direct_key(rel.target), pk_name(rel.target)) {
                            (Some(v), _) => Some(fk.eq(v.clone())),
                            (None, Some(pk)) => Some(fk.in_subquery(subquery(
                                model, rel.target, &sub, &pk, path, term, from,
                            ))),
                            (None, None) => None,
                        }
                    }
                    RelKind::HasMany { column } | RelKind::HasOne { column } => {
                        let target_col = model.entities[rel.target].columns[*column].name.clone();
                        pk_name(entity).map(|pk| {
                            col(alias, &pk).in_subquery(subquery(
                                model,
                                rel.target,
                                &sub,
                                &target_col,
                                path,
                                term,
                                from,
                            ))
                        })
                    }
                    RelKind::ManyToMany {
                        junction,
                        from: j_from,
                        to: j_to,
                    } => {
                        let j = format!("__j{}", from + 1);
                        let mut select = Query::select();
                        select
                            .column((Alias::new(&j), Alias::new(j_from)))
                            .from_as(Alias::new(junction), Alias::new(&j));
                        let target_pk = pk_name(rel.target);
                        match (direct_key(rel.target), target_pk) {
                            (Some(v), _) => {
                                select.and_where(col(&j, j_to).eq(v.clone()));
                            }
                            (None, Some(pk)) => {
                                select.and_where(col(&j, j_to).in_subquery(subquery(
                                    model, rel.target, &sub, &pk, path, term, from,
                                )));
                            }
                            (None, None) => return never(),
                        }
                        pk_name(entity).map(|pk| col(alias, &pk).in_subquery(select))
                    }
                }
            }
            Step::Reverse { owner, relation } => {
                let rel = &model.entities[*owner].relations[*relation];
                let owner_info = &model.entities[*owner];
                match &rel.kind {
                    RelKind::BelongsTo { column } => {
                        let fk = owner_info.columns[*column].name.clone();
                        pk_name(entity).map(|pk| {
                            col(alias, &pk)
                                .in_subquery(subquery(model, *owner, &sub, &fk, path, term, from))
                        })
                    }
                    RelKind::HasMany { column } | RelKind::HasOne { column } => {
                        let mine = info.columns[*column].name.clone();
                        pk_name(*owner).map(|pk| {
                            col(alias, &mine)
                                .in_subquery(subquery(model, *owner, &sub, &pk, path, term, from))
                        })
                    }
                    RelKind::ManyToMany {
                        junction,
                        from: j_from,
                        to: j_to,
                    } => {
                        let j = format!("__j{}", from + 1);
                        match (pk_name(*owner), pk_name(entity)) {
                            (Some(owner_pk), Some(pk)) => {
                                let mut select = Query::select();
                                select
                                    .column((Alias::new(&j), Alias::new(j_to)))
                                    .from_as(Alias::new(junction), Alias::new(&j))
                                    .and_where(col(&j, j_from).in_subquery(subquery(
                                        model, *owner, &sub, &owner_pk, path, term, from,
                                    )));
                                Some(col(alias, &pk).in_subquery(select))
                            }
                            _ => None,
                        }
                    }
                }
            }
        };
    match expr {
        Some(e) => Condition::all().add(e),
        None => never(),
    }
}

/// `SELECT sub.column FROM target sub WHERE <the rest of the path>`.
#[allow(clippy::too_many_arguments)] // one step of a path walk
fn subquery(
    model: &Model,
    target: usize,
    sub: &str,
    column: &str,
    path: &RelPath,
    term: &Terminal<'_>,
    from: usize,
) -> sea_orm::sea_query::SelectStatement {
    let t = &model.entities[target];
    let mut select = Query::select();
    select
        .column((Alias::new(sub), Alias::new(column)))
        .from_as(Alias::new(&t.table), Alias::new(sub))
        .cond_where(reach(model, target, sub, path, term, from + 1));
    select
}
