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
pub use schema::{Limits, RequestContext, build};
