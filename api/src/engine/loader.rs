//! DataLoaders, created per request and never shared: every relation field
//! at one nesting level of a query becomes one batched statement, whatever
//! the number of parents.
//!
//! Batches are cut by poll pass, not by a timer. async-graphql resolves the
//! fields of every item of a list within one task, so all siblings of a
//! level ask for their keys during the same pass of the executor. The first
//! key's future yields until a whole pass adds no key, then loads every
//! queued key at once. A timer (async-graphql's `DataLoader` waits 1 ms)
//! splits a level whenever enumerating it takes longer than the delay,
//! which made the statement count depend on the machine's speed.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use async_graphql::Value as GqlValue;
use async_graphql::dataloader::Loader;
use tokio::sync::oneshot;

use crate::engine::model::Model;
use crate::engine::sql::{self, ListSpec, Page, Row};
use crate::error::ApiError;

/// Loads rows for one request.
pub struct EngineLoader {
    pub reader: sql::Reader,
    pub model: Arc<Model>,
}

/// Rows of `entity` whose `column` equals `value`: belongs-to and has-one.
#[derive(Clone, Debug)]
pub struct ByColumn {
    pub entity: usize,
    pub column: usize,
    pub value: GqlValue,
    pub key: String,
    pub projection: Arc<Vec<usize>>,
}

impl PartialEq for ByColumn {
    fn eq(&self, other: &Self) -> bool {
        (self.entity, self.column, &self.key, &self.projection)
            == (other.entity, other.column, &other.key, &other.projection)
    }
}
impl Eq for ByColumn {}
impl Hash for ByColumn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.entity, self.column, &self.key, &self.projection).hash(state);
    }
}

/// The arguments of a paged relation, shared by every parent of one field.
#[derive(Debug)]
pub struct RelationArgs {
    /// A canonical text of the arguments: keys with equal signatures batch.
    pub signature: String,
    pub spec: ListSpec,
}

/// A canonical text of an argument value: enum values from variables
/// (strings) and from the query text (enums) read the same.
pub fn canonical(value: Option<&GqlValue>) -> String {
    value
        .and_then(|v| v.clone().into_json().ok())
        .map(|j| j.to_string())
        .unwrap_or_default()
}

impl RelationArgs {
    pub fn new(spec: ListSpec) -> Self {
        let cursor = |c: &Option<Vec<GqlValue>>| {
            c.as_ref()
                .map(|v| canonical(Some(&GqlValue::List(v.clone()))))
        };
        Self {
            signature: format!(
                "{}|{}|{:?}|{}|{}|{:?}|{:?}|{:?}",
                canonical(spec.filter.as_ref()),
                spec.include_deleted,
                spec.terms,
                spec.window.backward,
                spec.window.limit,
                cursor(&spec.window.after),
                cursor(&spec.window.before),
                spec.projection
            ),
            spec,
        }
    }
}

/// One parent's page of a has-many or many-to-many relation.
#[derive(Clone, Debug)]
pub struct Children {
    pub owner: usize,
    pub relation: usize,
    pub parent: GqlValue,
    pub key: String,
    pub args: Arc<RelationArgs>,
}

impl PartialEq for Children {
    fn eq(&self, other: &Self) -> bool {
        (self.owner, self.relation, &self.key, &self.args.signature)
            == (
                other.owner,
                other.relation,
                &other.key,
                &other.args.signature,
            )
    }
}
impl Eq for Children {}
impl Hash for Children {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.owner, self.relation, &self.key, &self.args.signature).hash(state);
    }
}

/// One parent's `totalCount` of a relation.
#[derive(Clone, Debug)]
pub struct ChildCount {
    pub owner: usize,
    pub relation: usize,
    pub parent: GqlValue,
    pub key: String,
    pub filter: Arc<Option<GqlValue>>,
    pub include_deleted: bool,
    pub signature: String,
}

impl ChildCount {
    pub fn signature_of(filter: Option<&GqlValue>, include_deleted: bool) -> String {
        format!("{}|{include_deleted}", canonical(filter))
    }
}

impl PartialEq for ChildCount {
    fn eq(&self, other: &Self) -> bool {
        (self.owner, self.relation, &self.key, &self.signature)
            == (other.owner, other.relation, &other.key, &other.signature)
    }
}
impl Eq for ChildCount {}
impl Hash for ChildCount {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.owner, self.relation, &self.key, &self.signature).hash(state);
    }
}

type Waiter<K, V> = (K, oneshot::Sender<Result<V, ApiError>>);

/// The keys of one kind waiting for the next batch.
pub struct Batcher<K, V> {
    pending: Mutex<Vec<Waiter<K, V>>>,
}

impl<K, V> Default for Batcher<K, V> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
        }
    }
}

/// How many passes a batch may wait for more keys before it runs anyway.
const MAX_PASSES: usize = 64;

impl<K: Clone + Eq + Hash, V: Clone> Batcher<K, V> {
    fn queued(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Loads `key` together with every key asked for in the same pass.
    pub async fn load<F, Fut>(&self, key: K, run: F) -> Result<V, ApiError>
    where
        F: FnOnce(Vec<K>) -> Fut,
        Fut: Future<Output = Result<HashMap<K, V>, ApiError>>,
    {
        let (tx, rx) = oneshot::channel();
        let leader = {
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| ApiError::internal("loader lock poisoned"))?;
            pending.push((key, tx));
            pending.len() == 1
        };
        if leader {
            // Wait for two passes in a row that add no key: a pass can end
            // early (futures-util stops a pass when futures wake themselves).
            let mut seen = self.queued();
            let mut passes = 0;
            let mut quiet = 0;
            while quiet < 2 && passes < MAX_PASSES {
                tokio::task::yield_now().await;
                passes += 1;
                let now = self.queued();
                quiet = if now == seen { quiet + 1 } else { 0 };
                seen = now;
            }
            let batch = std::mem::take(
                &mut *self
                    .pending
                    .lock()
                    .map_err(|_| ApiError::internal("loader lock poisoned"))?,
            );
            // Several parents may share a key (twelve regions, one country).
            let mut seen = std::collections::HashSet::with_capacity(batch.len());
            let keys: Vec<K> = batch
                .iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .map(|(k, _)| k.clone())
                .collect();
            match run(keys).await {
                Ok(values) => {
                    for (k, waiter) in batch {
                        let value = values
                            .get(&k)
                            .cloned()
                            .ok_or_else(|| ApiError::internal("a loader skipped a key"));
                        let _ = waiter.send(value);
                    }
                }
                Err(error) => {
                    for (_, waiter) in batch {
                        let _ = waiter.send(Err(error.clone()));
                    }
                }
            }
        }
        rx.await
            .map_err(|_| ApiError::internal("a batch was dropped"))?
    }
}

/// The loaders of one request.
pub struct RequestLoaders {
    loader: EngineLoader,
    by_column: Batcher<ByColumn, Arc<Vec<Arc<Row>>>>,
    children: Batcher<Children, Arc<Page>>,
    counts: Batcher<ChildCount, u64>,
}

impl RequestLoaders {
    pub fn new(loader: EngineLoader) -> Self {
        Self {
            loader,
            by_column: Batcher::default(),
            children: Batcher::default(),
            counts: Batcher::default(),
        }
    }

    pub async fn by_column(&self, key: ByColumn) -> Result<Arc<Vec<Arc<Row>>>, ApiError> {
        self.by_column
            .load(key, |keys| async move { self.loader.load(&keys).await })
            .await
    }

    pub async fn children(&self, key: Children) -> Result<Arc<Page>, ApiError> {
        self.children
            .load(key, |keys| async move { self.loader.load(&keys).await })
            .await
    }

    pub async fn count(&self, key: ChildCount) -> Result<u64, ApiError> {
        self.counts
            .load(key, |keys| async move { self.loader.load(&keys).await })
            .await
    }
}

/// Groups keys that one statement can serve.
fn batches<K, G: Eq + Hash>(keys: &[K], group: impl Fn(&K) -> G) -> Vec<Vec<&K>> {
    let mut groups: HashMap<G, Vec<&K>> = HashMap::new();
    let mut order = Vec::new();
    for key in keys {
        let g = group(key);
        if !groups.contains_key(&g) {
            order.push(group(key));
        }
        groups.entry(g).or_default().push(key);
    }
    order
        .into_iter()
        .filter_map(|g| groups.remove(&g))
        .collect()
}

impl Loader<ByColumn> for EngineLoader {
    type Value = Arc<Vec<Arc<Row>>>;
    type Error = ApiError;

    async fn load(&self, keys: &[ByColumn]) -> Result<HashMap<ByColumn, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for batch in batches(keys, |k| (k.entity, k.column, k.projection.clone())) {
            let first = batch[0];
            let values: Vec<GqlValue> = batch.iter().map(|k| k.value.clone()).collect();
            let rows = sql::fetch_by_column(
                &self.reader,
                &self.model,
                first.entity,
                first.column,
                &values,
                &first.projection,
            )
            .await?;
            for key in batch {
                out.insert(
                    key.clone(),
                    Arc::new(rows.get(&key.key).cloned().unwrap_or_default()),
                );
            }
        }
        Ok(out)
    }
}

impl Loader<Children> for EngineLoader {
    type Value = Arc<Page>;
    type Error = ApiError;

    async fn load(&self, keys: &[Children]) -> Result<HashMap<Children, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for batch in batches(keys, |k| (k.owner, k.relation, k.args.signature.clone())) {
            let first = batch[0];
            let parents: Vec<GqlValue> = batch.iter().map(|k| k.parent.clone()).collect();
            let mut pages = sql::fetch_children(
                &self.reader,
                &self.model,
                first.owner,
                first.relation,
                &parents,
                &first.args.spec,
                &[],
            )
            .await?
            .0;
            for key in batch {
                let page = pages
                    .remove(&key.key)
                    .unwrap_or_else(|| Page::empty(&key.args.spec.window));
                out.insert(key.clone(), Arc::new(page));
            }
        }
        Ok(out)
    }
}

impl Loader<ChildCount> for EngineLoader {
    type Value = u64;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ChildCount],
    ) -> Result<HashMap<ChildCount, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for batch in batches(keys, |k| (k.owner, k.relation, k.signature.clone())) {
            let first = batch[0];
            let parents: Vec<GqlValue> = batch.iter().map(|k| k.parent.clone()).collect();
            let counts = sql::count_children(
                &self.reader,
                &self.model,
                first.owner,
                first.relation,
                &parents,
                first.filter.as_ref().as_ref(),
                first.include_deleted,
            )
            .await?;
            for key in batch {
                out.insert(key.clone(), counts.get(&key.key).copied().unwrap_or(0));
            }
        }
        Ok(out)
    }
}
