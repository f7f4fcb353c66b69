//! Prints a resolved model back as a mermaid `erDiagram`: every served
//! entity (junctions included) with its typed columns and keys, and one line
//! per foreign key. The output parses with [`crate::mermaid::parse`].

use std::fmt::Write;

use crate::model::{Domain, RelationKind};

pub fn to_mermaid(domain: &Domain) -> String {
    let mut out = String::from("erDiagram\n");
    for entity in &domain.entities {
        let _ = writeln!(out, "    {} {{", entity.name);
        for column in &entity.columns {
            let mut keys = Vec::new();
            if entity.primary_key.contains(&column.name) {
                keys.push("PK");
            }
            if entity
                .relations
                .iter()
                .any(|r| r.belongs_to_column() == Some(column.name.as_str()))
            {
                keys.push("FK");
            }
            let unique = entity
                .indexes
                .iter()
                .any(|i| i.unique && i.columns.len() == 1 && i.columns[0] == column.name);
            if unique {
                keys.push("UK");
            }
            let mut notes = Vec::new();
            if column.nullable {
                notes.push("nullable");
            }
            if column.secret {
                notes.push("secret");
            }
            let _ = write!(out, "        {} {}", column.ty, column.name);
            if !keys.is_empty() {
                let _ = write!(out, " {}", keys.join(","));
            }
            if !notes.is_empty() {
                let _ = write!(out, " \"{}\"", notes.join(", "));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for entity in &domain.entities {
        for relation in &entity.relations {
            if let RelationKind::BelongsTo { column, unique, .. } = &relation.kind {
                let nullable = entity.column(column).is_some_and(|c| c.nullable);
                let left = if *unique { "|o" } else { "}o" };
                let right = if nullable { "o|" } else { "||" };
                let _ = writeln!(
                    out,
                    "    {} {left}--{right} {} : {}",
                    entity.name, relation.target, relation.name
                );
            }
        }
    }
    out
}
