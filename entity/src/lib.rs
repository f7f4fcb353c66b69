//! SeaORM entities of every domain, generated from `erd/` by
//! `cargo xtask entities`. Only this file and `types.rs` are written by hand.

pub mod types;

pub mod gans;
pub mod iaso;
pub mod opentalk;
pub mod placeos;
pub mod telemetry;
