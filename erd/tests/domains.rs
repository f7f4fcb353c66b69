//! Every domain resolves, and every ERD entity is served.

use erd::{RelationKind, load, load_all, mermaid};

/// Entities each seed ERD draws, less the migration bookkeeping tables
/// (`refinery_schema_history`, `alembic_version`) whose role the gateway's
/// own migrator takes.
const EXPECTED: [(&str, usize); 5] = [
    ("iaso", 46),
    ("opentalk", 24),
    ("placeos", 20),
    ("telemetry", 13),
    ("gans", 4),
];

#[test]
fn every_erd_entity_is_an_entity() {
    for (name, expected) in EXPECTED {
        let domain = load(name).unwrap_or_else(|e| panic!("{e}"));
        let erd = domain.erd_entities().count();
        println!(
            "{name}: {erd} ERD entities, {} added by the overlay, {} junctions",
            domain.entities.iter().filter(|e| e.from_overlay).count(),
            domain.entities.iter().filter(|e| e.junction).count()
        );
        assert_eq!(erd, expected, "{name}");
        // The count against the diagram itself, less the excluded tables.
        let source = erd::SOURCES.iter().find(|s| s.name == name).unwrap();
        let diagram = mermaid::parse(name, source.diagram).unwrap();
        let excluded = ["refinery_schema_history", "alembic_version"];
        let drawn = diagram
            .entities
            .iter()
            .filter(|e| !excluded.contains(&e.name.as_str()))
            .count();
        assert_eq!(drawn, expected, "{name} diagram");
    }
}

#[test]
fn iaso_has_user_and_junctions() {
    let iaso = load("iaso").unwrap();
    let user = iaso.entity("User").unwrap();
    assert!(user.from_overlay);
    assert!(user.column("password").unwrap().secret);
    let org_unit = iaso.entity("OrgUnit").unwrap();
    let names: Vec<&str> = org_unit.relations.iter().map(|r| r.name.as_str()).collect();
    for expected in [
        "parent",
        "children",
        "org_unit_type",
        "version",
        "instances",
        "groups",
        "creator",
    ] {
        assert!(
            names.contains(&expected),
            "OrgUnit lacks {expected}: {names:?}"
        );
    }
    let groups = org_unit.relation("groups").unwrap();
    assert!(
        matches!(&groups.kind, RelationKind::ManyToMany { junction, .. } if junction == "GroupOrgUnits")
    );
    let form = iaso.entity("Form").unwrap();
    assert!(form.relation("form_versions").is_some());
    assert!(
        iaso.entity("OrgUnitType")
            .unwrap()
            .relation("super_types")
            .is_some()
    );
}

#[test]
fn printed_model_parses_back_to_the_same_entities_and_keys() {
    for domain in load_all().unwrap() {
        let text = erd::to_mermaid(&domain);
        let parsed = mermaid::parse("printed", &text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", domain.name));
        assert_eq!(parsed.entities.len(), domain.entities.len());
        for (raw, entity) in parsed.entities.iter().zip(&domain.entities) {
            assert_eq!(raw.name, entity.name);
            let columns: Vec<&str> = raw.fields.iter().map(|f| f.name.as_str()).collect();
            let expected: Vec<&str> = entity.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(columns, expected, "{}", entity.name);
        }
        let fks = domain
            .entities
            .iter()
            .flat_map(|e| &e.relations)
            .filter(|r| matches!(r.kind, RelationKind::BelongsTo { .. }))
            .count();
        assert_eq!(parsed.relations.len(), fks, "{}", domain.name);
    }
}

/// A soft-delete timestamp is null while the row lives.
#[test]
fn soft_delete_timestamps_are_nullable() {
    for domain in load_all().unwrap() {
        for entity in &domain.entities {
            if let Some(column) = entity.soft_delete().filter(|c| c.name == "deleted_at") {
                assert!(
                    column.nullable,
                    "{}.{}.deleted_at must be nullable",
                    domain.name, entity.name
                );
            }
        }
    }
}
