//! Authorization: who may read and write what, and which rows.
//!
//! Each domain has one policy file, `api/policies/<domain>.toml`, read at
//! startup and checked against the domain's model: every exposed entity
//! must be named in it, and every relation path must exist, so a new
//! entity or a renamed relation fails the start (and the tests) instead of
//! being served unguarded. A file says:
//!
//! - `[tenant]`: the entity a token's tenant claim names (Iaso's `Account`)
//!   and the column the claim is compared with;
//! - `[subject]`: the entity a token's subject names (a `User`);
//! - `[roles.<name>]`: the permissions of each role (`"*"` is every one);
//!   `all_tenants` lifts tenant isolation (telemetry superusers),
//!   `whole_pyramid` lifts Iaso's org-unit restriction, `level` is the
//!   PlaceOS setting level it may read;
//! - `[anonymous]` and `[authenticated]`: what a request without a token,
//!   and every valid token, is granted besides its roles;
//! - `[subtree]`: Iaso's org-unit restriction (the materialised path
//!   column and where a caller's roots are found);
//! - `[entities.<Name>]`: the permissions to `read` and to `write` it (any
//!   one suffices; `"anyone"` and `"authenticated"` are the two grants
//!   without a permission), its rows' path to the tenant (`tenant`; `shared`
//!   when its rows belong to no tenant), `subtree` (the path to the org
//!   unit that places a row), `narrow` (a path to the subject that narrows
//!   the rows when the subject has any), `owner` (paths to the subject, one
//!   of which must hold unless a role has `all_rows`; `write_owner` the same
//!   for writes only), `frozen` (a path to
//!   a boolean column that, when true, refuses writes), `level` (a column
//!   compared with the caller's level), `columns` (columns that need a
//!   permission of their own to be written), and `append_only` (rows are
//!   only created: no role may update, upsert or delete them, and the
//!   schema offers only their create mutations);
//! - `[login]`: the table, columns and role flags of local accounts, for the
//!   `login` mutation ([`login`]).
//!
//! Paths are relation fields as clients see them, joined by dots
//! (`version.dataSource.projects.account`); `(Profile.user)` walks a
//! relation backwards, from the rows of `Profile` whose `user` is this row.
//! [`Access`] turns them into SQL conditions (nested `IN` subqueries) that
//! every statement of the engine carries.

mod access;
pub mod login;
mod scopes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

pub use access::{Access, claim_value, reaches};
pub use scopes::ScopeCache;

use crate::engine::model::{Member, Model, RelKind, Scalar};

/// The policy files, by domain.
const SOURCES: [(&str, &str); 5] = [
    ("iaso", include_str!("../../policies/iaso.toml")),
    ("opentalk", include_str!("../../policies/opentalk.toml")),
    ("placeos", include_str!("../../policies/placeos.toml")),
    ("telemetry", include_str!("../../policies/telemetry.toml")),
    ("gans", include_str!("../../policies/gans.toml")),
];

/// The text of a domain's policy file.
pub fn source(domain: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(d, _)| *d == domain).map(|(_, s)| *s)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    tenant: Option<KeySpec>,
    subject: Option<KeySpec>,
    #[serde(default)]
    roles: BTreeMap<String, RoleSpec>,
    #[serde(default)]
    anonymous: Grant,
    #[serde(default)]
    authenticated: Grant,
    subtree: Option<SubtreeSpec>,
    #[serde(default)]
    entities: BTreeMap<String, EntitySpec>,
    login: Option<LoginSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginSpec {
    entity: String,
    username: String,
    password: String,
    /// A boolean column that must be true.
    active: Option<String>,
    /// A boolean column that must be false.
    inactive: Option<String>,
    /// A string-list column of role names.
    roles: Option<String>,
    /// Boolean columns that grant a role when true.
    #[serde(default)]
    flags: BTreeMap<String, String>,
    /// Roles of every account that has no flag.
    #[serde(default)]
    default_roles: Vec<String>,
    /// From the tenant entity to the login entity.
    tenant: Option<String>,
}

/// Local accounts: the `login` mutation's table and columns.
#[derive(Clone, Debug)]
pub struct Login {
    pub entity: usize,
    pub username: usize,
    pub password: usize,
    pub active: Option<usize>,
    pub inactive: Option<usize>,
    pub roles: Option<usize>,
    pub flags: Vec<(usize, String)>,
    pub default_roles: Vec<String>,
    pub tenant: Option<RelPath>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySpec {
    entity: String,
    /// The column compared with the claim; the primary key by default.
    key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    #[serde(default)]
    permissions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    #[serde(default)]
    description: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    all_tenants: bool,
    #[serde(default)]
    whole_pyramid: bool,
    #[serde(default)]
    all_rows: bool,
    #[serde(default)]
    level: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubtreeSpec {
    entity: String,
    path: String,
    /// From the subtree entity to the subject: the caller's roots.
    roots: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntitySpec {
    read: Vec<String>,
    #[serde(default)]
    write: Vec<String>,
    tenant: Option<String>,
    #[serde(default)]
    shared: bool,
    subtree: Option<String>,
    narrow: Option<String>,
    #[serde(default)]
    owner: Vec<String>,
    #[serde(default)]
    write_owner: Vec<String>,
    frozen: Option<String>,
    level: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    append_only: bool,
}

/// One step of a relation path.
#[derive(Clone, Debug)]
pub enum Step {
    /// `relation` of the current entity.
    Forward { entity: usize, relation: usize },
    /// `relation` of `owner`, which points at the current entity.
    Reverse { owner: usize, relation: usize },
}

/// A resolved relation path from an entity to another.
#[derive(Clone, Debug)]
pub struct RelPath {
    pub steps: Vec<Step>,
    pub end: usize,
}

/// Who may do something.
#[derive(Clone, Debug)]
pub enum Rule {
    Anyone,
    Authenticated,
    /// Any one of these permissions.
    AnyOf(Vec<String>),
}

/// An entity that a claim names, and the column the claim is compared with.
#[derive(Clone, Debug)]
pub struct KeyRef {
    pub entity: usize,
    pub column: usize,
}

impl KeyRef {
    pub fn column_info<'a>(&self, model: &'a Model) -> &'a crate::engine::model::ColumnInfo {
        &model.entities[self.entity].columns[self.column]
    }
}

#[derive(Clone, Debug, Default)]
pub struct Role {
    pub description: String,
    pub permissions: HashSet<String>,
    pub all_tenants: bool,
    pub whole_pyramid: bool,
    pub all_rows: bool,
    pub level: i64,
}

#[derive(Clone, Debug)]
pub struct Subtree {
    pub entity: usize,
    pub path_column: usize,
    pub roots: RelPath,
}

#[derive(Clone, Debug)]
pub struct EntityPolicy {
    pub read: Rule,
    pub write: Rule,
    /// None: the rows belong to no tenant.
    pub tenant: Option<RelPath>,
    pub subtree: Option<RelPath>,
    pub narrow: Option<RelPath>,
    pub owner: Vec<RelPath>,
    /// Paths to the subject, one of which must hold to write a row.
    pub write_owner: Vec<RelPath>,
    /// A path whose last step is a boolean column.
    pub frozen: Option<(RelPath, usize)>,
    pub level: Option<usize>,
    /// Columns that need one of these permissions to be written.
    pub columns: HashMap<usize, Vec<String>>,
    /// Rows are only created: never updated, upserted or deleted.
    pub append_only: bool,
}

/// A domain's policy, resolved against its model.
#[derive(Debug)]
pub struct Policy {
    pub domain: String,
    pub tenant: Option<KeyRef>,
    pub subject: Option<KeyRef>,
    pub roles: BTreeMap<String, Role>,
    pub anonymous: HashSet<String>,
    pub authenticated: HashSet<String>,
    pub subtree: Option<Subtree>,
    /// By entity index; `None` for junction tables.
    pub entities: Vec<Option<EntityPolicy>>,
    /// Every permission the file names.
    pub permissions: HashSet<String>,
    pub login: Option<Login>,
    /// (entity, tenant claim) whose tenant keys were found too many to
    /// list: this process no longer tries to resolve them (see
    /// `Access::prepare_scopes`). Learned, not configured.
    pub wide_tenant_keys: std::sync::Mutex<HashSet<(usize, String)>>,
}

impl Policy {
    /// The policy of `model`'s domain, from its file.
    pub fn load(model: &Model) -> Result<Arc<Self>, String> {
        let text = source(&model.domain)
            .ok_or_else(|| format!("no policy file for domain `{}`", model.domain))?;
        Self::parse(model, text).map(Arc::new)
    }

    /// Parses and resolves a policy text against `model`.
    pub fn parse(model: &Model, text: &str) -> Result<Self, String> {
        let file = format!("api/policies/{}.toml", model.domain);
        let spec: Spec = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        Resolver { model, file: &file }.policy(spec)
    }

    pub fn entity(&self, entity: usize) -> Option<&EntityPolicy> {
        self.entities.get(entity).and_then(Option::as_ref)
    }

    /// For an entity whose tenant path starts with a foreign key of its
    /// own and goes on for two steps or more: that column, its target and
    /// the path. Such an entity's scope can be the keys that column may
    /// hold (see `Access::prepare_scopes`).
    pub fn tenant_key_path(
        &self,
        model: &Model,
        entity: usize,
    ) -> Option<(usize, usize, &RelPath)> {
        let path = self.entity(entity)?.tenant.as_ref()?;
        if path.steps.len() < 2 {
            return None;
        }
        let Some(Step::Forward { relation, .. }) = path.steps.first() else {
            return None;
        };
        let rel = &model.entities[entity].relations[*relation];
        match rel.kind {
            RelKind::BelongsTo { column } => Some((column, rel.target, path)),
            _ => None,
        }
    }
}

struct Resolver<'a> {
    model: &'a Model,
    file: &'a str,
}

impl Resolver<'_> {
    fn err(&self, what: impl std::fmt::Display) -> String {
        format!("{}: {what}", self.file)
    }

    fn entity(&self, name: &str) -> Result<usize, String> {
        self.model
            .entity_index(name)
            .filter(|&e| self.model.entities[e].exposed)
            .ok_or_else(|| self.err(format!("no entity `{name}`")))
    }

    /// A column by its GraphQL field name (or its SQL name).
    fn column(&self, entity: usize, name: &str) -> Result<usize, String> {
        let info = &self.model.entities[entity];
        match info.members.get(name) {
            Some(Member::Column(c)) => Ok(*c),
            _ => info
                .column_index(name)
                .ok_or_else(|| self.err(format!("{} has no column `{name}`", info.name))),
        }
    }

    fn key(&self, spec: &KeySpec) -> Result<KeyRef, String> {
        let entity = self.entity(&spec.entity)?;
        let column = match &spec.key {
            Some(k) => self.column(entity, k)?,
            None => self.model.entities[entity]
                .single_pk()
                .ok_or_else(|| self.err(format!("{} has no single key", spec.entity)))?,
        };
        Ok(KeyRef { entity, column })
    }

    /// Splits a path at dots outside parentheses.
    fn segments(path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut current = String::new();
        for c in path.chars() {
            match c {
                '(' => {
                    depth += 1;
                    current.push(c);
                }
                ')' => {
                    depth = depth.saturating_sub(1);
                    current.push(c);
                }
                '.' if depth == 0 => out.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        if !current.is_empty() || !out.is_empty() {
            out.push(current);
        }
        out
    }

    /// Resolves `path` from `from`; the last segment may be a column when
    /// `column_end` (then returned apart).
    fn path(
        &self,
        from: usize,
        path: &str,
        column_end: bool,
    ) -> Result<(RelPath, Option<usize>), String> {
        let mut current = from;
        let mut steps = Vec::new();
        let segments = Self::segments(path.trim());
        let last = segments.len().saturating_sub(1);
        for (i, segment) in segments.iter().enumerate() {
            let segment = segment.trim();
            if let Some(inner) = segment.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
                let (owner_name, rel_name) = inner
                    .split_once('.')
                    .ok_or_else(|| self.err(format!("`{segment}` must be `(Entity.relation)`")))?;
                let owner = self.entity(owner_name.trim())?;
                let relation = self.model.entities[owner]
                    .relations
                    .iter()
                    .position(|r| r.gql == rel_name.trim() && r.target == current)
                    .ok_or_else(|| {
                        self.err(format!(
                            "`{path}`: {owner_name} has no relation `{rel_name}` to {}",
                            self.model.entities[current].name
                        ))
                    })?;
                steps.push(Step::Reverse { owner, relation });
                current = owner;
                continue;
            }
            let info = &self.model.entities[current];
            match info.members.get(segment) {
                Some(Member::Relation(r)) => {
                    steps.push(Step::Forward {
                        entity: current,
                        relation: *r,
                    });
                    current = info.relations[*r].target;
                }
                Some(Member::Column(c)) if column_end && i == last => {
                    return Ok((
                        RelPath {
                            steps,
                            end: current,
                        },
                        Some(*c),
                    ));
                }
                _ => {
                    return Err(self.err(format!(
                        "`{path}`: {} has no relation `{segment}`",
                        info.name
                    )));
                }
            }
        }
        Ok((
            RelPath {
                steps,
                end: current,
            },
            None,
        ))
    }

    /// A path that must end at `end`.
    fn path_to(&self, from: usize, path: &str, end: usize, what: &str) -> Result<RelPath, String> {
        let (p, _) = self.path(from, path, false)?;
        if p.end != end {
            return Err(self.err(format!(
                "{}.{what} = `{path}` ends at {}, not {}",
                self.model.entities[from].name,
                self.model.entities[p.end].name,
                self.model.entities[end].name
            )));
        }
        Ok(p)
    }

    fn rule(&self, names: &[String], known: &HashSet<String>, what: &str) -> Result<Rule, String> {
        if names.iter().any(|n| n == "anyone") {
            return Ok(Rule::Anyone);
        }
        if names.iter().any(|n| n == "authenticated") {
            return Ok(Rule::Authenticated);
        }
        for n in names {
            if !known.contains(n) {
                return Err(self.err(format!("{what}: `{n}` is no role's permission")));
            }
        }
        Ok(Rule::AnyOf(names.to_vec()))
    }

    fn policy(&self, spec: Spec) -> Result<Policy, String> {
        let model = self.model;
        let tenant = spec.tenant.as_ref().map(|k| self.key(k)).transpose()?;
        let subject = spec.subject.as_ref().map(|k| self.key(k)).transpose()?;
        let mut permissions: HashSet<String> = HashSet::new();
        let mut roles = BTreeMap::new();
        for (name, r) in spec.roles {
            permissions.extend(r.permissions.iter().filter(|p| *p != "*").cloned());
            roles.insert(
                name,
                Role {
                    description: r.description,
                    permissions: r.permissions.into_iter().collect(),
                    all_tenants: r.all_tenants,
                    whole_pyramid: r.whole_pyramid,
                    all_rows: r.all_rows,
                    level: r.level,
                },
            );
        }
        permissions.extend(spec.anonymous.permissions.iter().cloned());
        permissions.extend(spec.authenticated.permissions.iter().cloned());
        let subtree = match &spec.subtree {
            Some(s) => {
                let entity = self.entity(&s.entity)?;
                let path_column = self.column(entity, &s.path)?;
                let Some(subject) = &subject else {
                    return Err(self.err("[subtree] needs [subject]"));
                };
                let roots = self.path_to(entity, &s.roots, subject.entity, "roots")?;
                Some(Subtree {
                    entity,
                    path_column,
                    roots,
                })
            }
            None => None,
        };
        let mut entities = vec![None; model.entities.len()];
        let mut specs = spec.entities;
        for (index, info) in model.entities.iter().enumerate() {
            if !info.exposed {
                continue;
            }
            let e = specs.remove(&info.name).ok_or_else(|| {
                self.err(format!(
                    "entity `{}` has no policy: add [entities.{}]",
                    info.name, info.name
                ))
            })?;
            let name = &info.name;
            let read = self.rule(&e.read, &permissions, &format!("{name}.read"))?;
            let write = self.rule(&e.write, &permissions, &format!("{name}.write"))?;
            let tenant_path = match (&e.tenant, e.shared, &tenant) {
                (Some(p), false, Some(t)) => Some(self.path_to(index, p, t.entity, "tenant")?),
                (None, true, _) => None,
                (None, false, Some(_)) => {
                    return Err(self.err(format!(
                        "{name}: say how its rows reach the tenant (`tenant = \"...\"`) or that they are `shared`"
                    )));
                }
                (None, false, None) => None,
                (Some(_), true, _) => {
                    return Err(
                        self.err(format!("{name}: `tenant` and `shared` exclude each other"))
                    );
                }
                (Some(_), false, None) => {
                    return Err(self.err(format!("{name}: `tenant` needs a [tenant] section")));
                }
            };
            let subtree_path = match (&e.subtree, &subtree) {
                (Some(p), Some(s)) => Some(self.path_to(index, p, s.entity, "subtree")?),
                (Some(_), None) => {
                    return Err(self.err(format!("{name}: `subtree` needs a [subtree] section")));
                }
                (None, _) => None,
            };
            let subject_path = |p: &str, what: &str| match &subject {
                Some(s) => self.path_to(index, p, s.entity, what),
                None => Err(self.err(format!("{name}.{what} needs a [subject] section"))),
            };
            let narrow = e
                .narrow
                .as_deref()
                .map(|p| subject_path(p, "narrow"))
                .transpose()?;
            let owner = e
                .owner
                .iter()
                .map(|p| subject_path(p, "owner"))
                .collect::<Result<Vec<_>, _>>()?;
            let write_owner = e
                .write_owner
                .iter()
                .map(|p| subject_path(p, "write_owner"))
                .collect::<Result<Vec<_>, _>>()?;
            let frozen = match &e.frozen {
                Some(p) => {
                    let (path, column) = self.path(index, p, true)?;
                    let column = column
                        .filter(|c| model.entities[path.end].columns[*c].scalar == Scalar::Boolean)
                        .ok_or_else(|| {
                            self.err(format!("{name}.frozen must end at a boolean column"))
                        })?;
                    Some((path, column))
                }
                None => None,
            };
            let level = e
                .level
                .as_deref()
                .map(|c| self.column(index, c))
                .transpose()?;
            let mut columns = HashMap::new();
            for (column, perms) in &e.columns {
                let c = self.column(index, column)?;
                for p in perms {
                    if !permissions.contains(p) {
                        return Err(self.err(format!("{name}.columns.{column}: unknown `{p}`")));
                    }
                }
                columns.insert(c, perms.clone());
            }
            entities[index] = Some(EntityPolicy {
                read,
                write,
                tenant: tenant_path,
                subtree: subtree_path,
                narrow,
                owner,
                write_owner,
                frozen,
                level,
                columns,
                append_only: e.append_only,
            });
        }
        let login = spec
            .login
            .as_ref()
            .map(|l| self.login(l, &subject, &tenant, &roles))
            .transpose()?;
        if let Some(name) = specs.keys().next() {
            return Err(self.err(format!("[entities.{name}]: no such entity")));
        }
        Ok(Policy {
            domain: model.domain.clone(),
            tenant,
            subject,
            roles,
            anonymous: spec.anonymous.permissions.into_iter().collect(),
            authenticated: spec.authenticated.permissions.into_iter().collect(),
            subtree,
            entities,
            permissions,
            login,
            wide_tenant_keys: std::sync::Mutex::default(),
        })
    }

    fn login(
        &self,
        spec: &LoginSpec,
        subject: &Option<KeyRef>,
        tenant: &Option<KeyRef>,
        roles: &BTreeMap<String, Role>,
    ) -> Result<Login, String> {
        let entity = self.entity(&spec.entity)?;
        if subject.as_ref().map(|s| s.entity) != Some(entity) {
            return Err(self.err("[login] must name the [subject] entity"));
        }
        let column =
            |name: &Option<String>| name.as_deref().map(|c| self.column(entity, c)).transpose();
        let mut flags = Vec::new();
        for (column, role) in &spec.flags {
            if !roles.contains_key(role) {
                return Err(self.err(format!("[login] flag {column}: no role `{role}`")));
            }
            flags.push((self.column(entity, column)?, role.clone()));
        }
        for role in &spec.default_roles {
            if !roles.contains_key(role) {
                return Err(self.err(format!("[login] default role `{role}` is not a role")));
            }
        }
        let tenant = match (&spec.tenant, tenant) {
            (Some(p), Some(t)) => Some(self.path_to(t.entity, p, entity, "login.tenant")?),
            (None, _) => None,
            (Some(_), None) => return Err(self.err("[login] tenant needs a [tenant] section")),
        };
        Ok(Login {
            entity,
            username: self.column(entity, &spec.username)?,
            password: self.column(entity, &spec.password)?,
            active: column(&spec.active)?,
            inactive: column(&spec.inactive)?,
            roles: column(&spec.roles)?,
            flags,
            default_roles: spec.default_roles.clone(),
            tenant,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_has_a_complete_policy() {
        for domain in erd::load_all().unwrap() {
            let model = Model::build(&domain).unwrap();
            let policy = Policy::load(&model).unwrap_or_else(|e| panic!("{e}"));
            for (i, e) in model.entities.iter().enumerate() {
                assert_eq!(policy.entity(i).is_some(), e.exposed, "{}", e.name);
            }
        }
    }

    #[test]
    fn mistakes_name_the_entity_and_the_path() {
        let domain = erd::load("gans").unwrap();
        let model = Model::build(&domain).unwrap();
        let missing = Policy::parse(&model, "[roles.a]\npermissions=[\"x\"]\n").unwrap_err();
        assert!(missing.contains("has no policy"), "{missing}");
        let text = source("gans")
            .unwrap()
            .replace("read = [\"authenticated\"]", "read = [\"nope\"]");
        let unknown = Policy::parse(&model, &text).unwrap_err();
        assert!(
            unknown.contains("`nope` is no role's permission"),
            "{unknown}"
        );
    }

    #[test]
    fn paths_split_outside_parentheses() {
        assert_eq!(
            Resolver::segments("(Profile.user).account"),
            vec!["(Profile.user)", "account"]
        );
        assert_eq!(Resolver::segments("a.b"), vec!["a", "b"]);
        assert!(Resolver::segments("").is_empty());
    }
}
