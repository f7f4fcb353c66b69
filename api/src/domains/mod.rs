//! Domain extensions: the behaviour of each domain that no generic engine
//! derives. For now, hooks that run inside write transactions.

pub mod iaso;
pub mod tree;

use std::sync::Arc;

use crate::engine::Model;
use crate::engine::write::Hooks;

/// The write hooks of a domain, by entity index.
pub fn hooks(domain: &str, model: &Model) -> Hooks {
    match domain {
        "iaso" => iaso::hooks(model),
        _ => Hooks::new(),
    }
}

/// Registers `hook` for the entity named `entity`, if the model has it.
fn add(hooks: &mut Hooks, model: &Model, entity: &str, hook: Arc<dyn crate::engine::write::Hook>) {
    if let Some(index) = model.entity_index(entity) {
        hooks.entry(index).or_default().push(hook);
    }
}
