//! What a caller's row scope reads from the database, kept across requests
//! for a few seconds.
//!
//! Two lookups shape the SQL of a scoped read: the caller's org-unit roots
//! (Iaso's pyramid) and, for a root list, the keys its tenant path's first
//! foreign key may hold (the account's versions, projects). Both depend on
//! the token's claims and on a few slowly changing tables, never on the
//! request. Read per request, they were two of W3's four statements and a
//! whole round trip before every root page.
//!
//! Entries live for a configured time (`GATEWAY_SCOPE_CACHE_SECONDS`, 0:
//! per request only) and are dropped as soon as this process commits a
//! write to any entity they were read from: a caller moved to another org
//! unit through the API sees its new scope on its next request. A change
//! made by another process (a second gateway, the Django admin) reaches
//! this one within the configured time; the token's roles and tenant are
//! already trusted for the token's whole lifetime.
//!
//! Invalidation is a generation number in every key rather than a purge:
//! a lookup that started before a write commits is stored under the old
//! generation, which nobody asks for again.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;
use sea_orm::Value as SqlValue;

use super::{Policy, RelPath, Step};
use crate::engine::model::{Model, RelKind};
use crate::error::{ApiError, ApiResult};

/// The tenant keys of one entity for one tenant: `None` when too many.
pub type TenantKeys = Arc<Option<Vec<SqlValue>>>;

/// A caller's org-unit roots (materialised paths).
pub type Roots = Arc<Vec<String>>;

/// Most entries of each kind: one per caller (roots) and per tenant and
/// entity (keys).
const CAPACITY: u64 = 10_000;

/// The scope lookups of one domain, shared by its requests.
pub struct ScopeCache {
    /// The roots of a subject claim.
    roots: Option<Cache<(u64, String), Roots>>,
    /// The tenant keys of (entity, generation, tenant claim).
    tenant_keys: Option<Cache<(usize, u64, String), TenantKeys>>,
    /// The entities the roots are read from, and their generation.
    roots_inputs: Inputs,
    /// By scoped entity: the entities its tenant keys are read from.
    keys_inputs: Vec<Option<Inputs>>,
}

/// The entities one lookup reads, and a number bumped when one of them is
/// written.
#[derive(Debug, Default)]
struct Inputs {
    entities: HashSet<usize>,
    generation: AtomicU64,
}

impl Inputs {
    fn written(&self, entity: usize) {
        if self.entities.contains(&entity) {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for ScopeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeCache")
            .field("enabled", &self.roots.is_some())
            .field("roots_inputs", &self.roots_inputs)
            .finish_non_exhaustive()
    }
}

/// The entities a path's steps read, with the junction tables of its
/// many-to-many steps; the path's origin only when `with_origin`.
fn path_entities(model: &Model, path: &RelPath, with_origin: bool, into: &mut HashSet<usize>) {
    for (i, step) in path.steps.iter().enumerate() {
        let origin = i == 0 && !with_origin;
        let (owner, relation) = match step {
            Step::Forward { entity, relation } => (*entity, *relation),
            Step::Reverse { owner, relation } => (*owner, *relation),
        };
        let rel = &model.entities[owner].relations[relation];
        // A forward step starts at its owner, a reverse one at its target.
        let (from, to) = match step {
            Step::Forward { .. } => (owner, rel.target),
            Step::Reverse { .. } => (rel.target, owner),
        };
        if !origin {
            into.insert(from);
        }
        into.insert(to);
        if let RelKind::ManyToMany { junction, .. } = &rel.kind
            && let Some(j) = model.entities.iter().position(|e| &e.table == junction)
        {
            into.insert(j);
        }
    }
    into.insert(path.end);
}

/// A cache whose entries live `ttl`; none when `ttl` is zero.
fn cache<K, V>(ttl: Duration) -> Option<Cache<K, V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    (!ttl.is_zero()).then(|| {
        Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(ttl)
            .build()
    })
}

impl ScopeCache {
    /// The cache of `policy`'s lookups; `ttl` zero keeps nothing.
    pub fn new(model: &Model, policy: &Policy, ttl: Duration) -> Self {
        let mut roots_inputs = Inputs::default();
        if let Some(subtree) = &policy.subtree {
            path_entities(model, &subtree.roots, true, &mut roots_inputs.entities);
        }
        // The entities whose tenant keys `Access` resolves. The lookup
        // starts at the foreign key's target, not at the entity's own rows.
        let keys_inputs = (0..policy.entities.len())
            .map(|entity| {
                let (_, _, path) = policy.tenant_key_path(model, entity)?;
                let mut inputs = Inputs::default();
                path_entities(model, path, false, &mut inputs.entities);
                Some(inputs)
            })
            .collect();
        Self {
            roots: cache(ttl),
            tenant_keys: cache(ttl),
            roots_inputs,
            keys_inputs,
        }
    }

    /// Forgets the lookups that read `entity`'s rows. Called once a write
    /// to `entity` has committed.
    pub fn written(&self, entity: usize) {
        self.roots_inputs.written(entity);
        for inputs in self.keys_inputs.iter().flatten() {
            inputs.written(entity);
        }
    }

    /// The roots of `subject`, from the cache or from `load`.
    pub async fn roots<F>(&self, subject: &str, load: F) -> ApiResult<Roots>
    where
        F: Future<Output = ApiResult<Vec<String>>>,
    {
        match &self.roots {
            None => load.await.map(Arc::new),
            Some(cache) => cache
                .try_get_with(
                    (self.roots_inputs.generation(), subject.to_string()),
                    async { load.await.map(Arc::new) },
                )
                .await
                .map_err(|e: Arc<ApiError>| (*e).clone()),
        }
    }

    /// The tenant keys of `entity` for `tenant`, from the cache or from
    /// `load`.
    pub async fn tenant_keys<F>(
        &self,
        entity: usize,
        tenant: &str,
        load: F,
    ) -> ApiResult<TenantKeys>
    where
        F: Future<Output = ApiResult<Option<Vec<SqlValue>>>>,
    {
        let generation = self
            .keys_inputs
            .get(entity)
            .and_then(Option::as_ref)
            .map(Inputs::generation);
        match (&self.tenant_keys, generation) {
            (Some(cache), Some(generation)) => cache
                .try_get_with((entity, generation, tenant.to_string()), async {
                    load.await.map(Arc::new)
                })
                .await
                .map_err(|e: Arc<ApiError>| (*e).clone()),
            _ => load.await.map(Arc::new),
        }
    }
}
