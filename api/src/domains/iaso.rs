//! Iaso's invariants on writes.

use std::sync::Arc;

use crate::domains::tree::MaterializedPath;
use crate::engine::Model;
use crate::engine::write::Hooks;

pub fn hooks(model: &Model) -> Hooks {
    let mut hooks = Hooks::new();
    // The org-unit pyramid and the team tree keep their materialised paths
    // (ids from the root, joined by dots) on create and re-parenting.
    for entity in ["OrgUnit", "Team"] {
        super::add(
            &mut hooks,
            model,
            entity,
            Arc::new(MaterializedPath {
                parent: "parent_id",
                path: "path",
            }),
        );
    }
    // Teams keep to their kind and their parent's project.
    super::add(&mut hooks, model, "Team", Arc::new(super::teams::TeamRules));
    // Plannings keep to their project; assignments to one assignee inside
    // the planning's area.
    super::add(
        &mut hooks,
        model,
        "Planning",
        Arc::new(super::plannings::PlanningRules),
    );
    super::add(
        &mut hooks,
        model,
        "Assignment",
        Arc::new(super::plannings::AssignmentRules),
    );
    hooks
}
