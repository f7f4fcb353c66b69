//! The schema engine: from a domain's model, an async-graphql dynamic
//! schema whose relations resolve through per-request DataLoaders.

pub mod filter;
pub mod loader;
pub mod model;
pub mod mutation;
pub mod pagination;
pub mod parsed;
pub mod plain;
pub mod prefetch;
pub mod schema;
pub mod sql;
pub mod value;
pub mod write;

pub use model::Model;

/// The engine's maps and sets, keyed by names, key texts and loader keys it
/// computes itself, hashed with foldhash: with the standard SipHash,
/// hashing took a tenth of the gateway's CPU on a nested query (W2).
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`Map`].
pub type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
pub use schema::{Limits, RequestContext, build};
