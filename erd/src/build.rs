//! Resolves a parsed diagram and its overlay into a [`Domain`].
//!
//! Every field and every relationship line must be explained: by a rule
//! (`belongs_to`/`has_many` labels, unlabelled lines drawn from the many
//! side, class-diagram arrows, `}|--|{` pairs) or by the overlay. What is
//! left unexplained is an error naming the line, so a new ERD line can never
//! be silently ignored.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToPascalCase, ToSnakeCase};

use crate::ErdError;
use crate::mermaid::{Cardinality, Diagram, DiagramKind, RawRelation};
use crate::model::{
    Column, ColumnType, DefaultValue, Domain, Entity, EnumDef, EnumValue, GeometryKind, Index,
    Managed, OnDelete, Relation, RelationKind,
};
use crate::overlay::{EntityOverlay, FkSpec, Overlay, Spec};

/// ERD types that are relations, not columns: the overlay must resolve them.
const RELATION_TYPES: &[&str] = &[
    "ForeignKey",
    "OneToOneField",
    "ManyToManyField",
    "GenericForeignKey",
];

/// Maps an ERD type to a column type. The vocabulary is the union of the
/// seeds' dialects: Django fields, PostgreSQL types, and PlaceOS/mermaid words.
pub fn map_type(ty: &str) -> Option<ColumnType> {
    let lower = ty.to_ascii_lowercase();
    let base = lower.split('(').next().unwrap_or(&lower);
    Some(match base {
        "autofield" | "integerfield" | "integer" | "int" | "int32" | "int4" => ColumnType::Integer,
        "positivesmallintegerfield" | "smallintegerfield" | "smallint" => ColumnType::SmallInteger,
        "bigautofield" | "bigintegerfield" | "bigint" | "int64" | "int8" => ColumnType::BigInteger,
        "booleanfield" | "boolean" | "bool" => ColumnType::Boolean,
        "charfield"
        | "textfield"
        | "slugfield"
        | "genericipaddressfield"
        | "emailfield"
        | "urlfield"
        | "character_varying"
        | "varchar"
        | "text"
        | "string"
        | "timezone" => ColumnType::Text,
        "decimalfield" | "decimal" | "numeric" => ColumnType::Decimal,
        "uuidfield" | "uuid" => ColumnType::Uuid,
        "datefield" | "date" => ColumnType::Date,
        "datetimefield"
        | "timestamp_with_time_zone"
        | "timestamp with time zone"
        | "datetime"
        | "time"
        | "dateformat"
        | "timestamptz" => ColumnType::Timestamp,
        "jsonfield" | "json" | "jsonb" | "hash" | "object" => ColumnType::Json,
        "arrayfield" | "text[]" | "array" | "string_list" => ColumnType::StringList,
        "pointfield" | "point" => ColumnType::Geometry(GeometryKind::Point),
        "multipolygonfield" | "multipolygon" => ColumnType::Geometry(GeometryKind::MultiPolygon),
        "filefield" | "file" => ColumnType::File,
        _ => return None,
    })
}

/// `rooms` → `room`, `settings` → `setting`; names without a plural `s`
/// are kept.
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if word.ends_with("sses") {
        word[..word.len() - 2].to_string()
    } else if word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// The plural of a snake_case name (its last word changes).
pub fn plural(name: &str) -> String {
    let last = name.rsplit('_').next().unwrap_or(name);
    if last.ends_with("data") || last == "metadata" || last.ends_with("settings") {
        name.to_string()
    } else if name.ends_with('y')
        && !name.ends_with("ay")
        && !name.ends_with("ey")
        && !name.ends_with("oy")
    {
        format!("{}ies", &name[..name.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        format!("{name}es")
    } else {
        format!("{name}s")
    }
}

/// The PascalCase entity name derived from an ERD name: `OrgUnit` stays,
/// `controlSystem` → `ControlSystem`, `rooms` → `Room`, `CREDIT` → `Credit`.
fn entity_name(erd_name: &str) -> String {
    if erd_name.chars().all(|c| !c.is_ascii_lowercase()) {
        erd_name.to_ascii_lowercase().to_pascal_case()
    } else if erd_name.chars().all(|c| !c.is_ascii_uppercase()) {
        let words: Vec<&str> = erd_name.split('_').collect();
        let (last, rest) = words
            .split_last()
            .map(|(l, r)| (*l, r))
            .unwrap_or((erd_name, &[]));
        let mut joined = rest.join("_");
        if !joined.is_empty() {
            joined.push('_');
        }
        joined.push_str(&singular(last));
        joined.to_pascal_case()
    } else {
        erd_name.to_pascal_case()
    }
}

fn strip_id(column: &str) -> String {
    column.strip_suffix("_id").unwrap_or(column).to_string()
}

/// A foreign key still waiting for its target's primary key type.
struct PendingFk {
    holder: usize,
    target: usize,
    name: String,
    column: String,
    spec: FkSpec,
    line: Option<usize>,
    /// An implicit line (unlabelled, or a class arrow) that this FK explains:
    /// the target then gets a reverse relation too.
    consumed_by: Option<usize>,
}

struct PendingM2m {
    owner: usize,
    target: usize,
    name: String,
    table: Option<String>,
    line: Option<usize>,
}

struct PendingReverse {
    /// The entity that gets the reverse relation.
    on: usize,
    /// The entity that holds the FK (or owns the m2m).
    from: usize,
    label: String,
    of: Option<String>,
    rename: Option<String>,
    only_m2m: bool,
    line: usize,
}

struct Draft {
    erd_name: String,
    overlay: EntityOverlay,
    entity: Entity,
    /// Columns the ERD marks `PK` / `FK`.
    erd_pk: Vec<String>,
    erd_fk: Vec<String>,
    /// The ERD type of each column, for primary-key numbering.
    erd_types: BTreeMap<String, String>,
}

pub fn build(
    domain: &str,
    file: &str,
    diagram: &Diagram,
    overlay_file: &str,
    overlay_text: &str,
) -> Result<Domain, ErdError> {
    let overlay: Overlay = toml::from_str(overlay_text).map_err(|e| {
        ErdError::at(
            overlay_file,
            line_of(overlay_text, &e),
            e.message().to_string(),
        )
    })?;
    let oerr = |message: String| ErdError::at(overlay_file, 0, message);
    let lerr = |line: usize, message: String| ErdError::at(file, line, message);

    // Enums, keyed by the name the ERD or the overlay uses.
    let mut enums = Vec::new();
    let mut enum_by_key = BTreeMap::new();
    for (key, value) in &overlay.enums {
        let values = match value {
            toml::Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(|s| EnumValue {
                            name: s.to_string(),
                            number: None,
                        })
                        .ok_or_else(|| oerr(format!("enum `{key}`: values must be strings")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            toml::Value::Table(table) => table
                .iter()
                .map(|(name, v)| {
                    v.as_integer()
                        .and_then(|n| i32::try_from(n).ok())
                        .map(|n| EnumValue {
                            name: name.clone(),
                            number: Some(n),
                        })
                        .ok_or_else(|| {
                            oerr(format!("enum `{key}`: `{name}` must be a 32-bit integer"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(oerr(format!(
                    "enum `{key}` must be a list of strings or a table of integers"
                )));
            }
        };
        if values.is_empty() {
            return Err(oerr(format!("enum `{key}` has no values")));
        }
        let name = key.to_pascal_case();
        enum_by_key.insert(key.clone(), name.clone());
        enums.push(EnumDef { name, values });
    }

    // Entity overlays.
    let mut overlays: BTreeMap<String, EntityOverlay> = BTreeMap::new();
    for (key, value) in &overlay.entity {
        let parsed: EntityOverlay = value
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| oerr(format!("[entity.{key}]: {}", e.message())))?;
        overlays.insert(key.clone(), parsed);
    }
    for table in overlay.domain.exclude.keys() {
        if diagram.entity(table).is_none() {
            return Err(oerr(format!(
                "[domain] exclude names `{table}`, which the ERD does not have"
            )));
        }
    }

    let mut drafts: Vec<Draft> = Vec::new();
    let mut raw_names: Vec<(String, usize)> = diagram
        .entities
        .iter()
        .filter(|e| !overlay.domain.exclude.contains_key(&e.name))
        .map(|e| (e.name.clone(), e.line))
        .collect();
    for key in overlays.keys() {
        if diagram.entity(key).is_none() {
            raw_names.push((key.clone(), 0));
        }
    }

    let mut pending_fks: Vec<PendingFk> = Vec::new();
    let mut pending_m2m: Vec<PendingM2m> = Vec::new();

    // Entities and their columns.
    for (erd_name, _) in &raw_names {
        let ov = overlays.remove(erd_name).unwrap_or_default();
        let from_overlay = diagram.entity(erd_name).is_none();
        if from_overlay && ov.add.is_empty() {
            return Err(oerr(format!(
                "[entity.{erd_name}] is not in the ERD: an entity the overlay adds needs `add` columns"
            )));
        }
        let name = ov.name.clone().unwrap_or_else(|| entity_name(erd_name));
        let table = ov.table.clone().unwrap_or_else(|| erd_name.to_snake_case());
        drafts.push(Draft {
            erd_name: erd_name.clone(),
            overlay: ov,
            entity: Entity {
                name,
                erd_name: erd_name.clone(),
                table,
                columns: Vec::new(),
                primary_key: Vec::new(),
                indexes: Vec::new(),
                relations: Vec::new(),
                from_overlay,
                junction: false,
            },
            erd_pk: Vec::new(),
            erd_fk: Vec::new(),
            erd_types: BTreeMap::new(),
        });
    }
    let index_of =
        |drafts: &[Draft], erd_name: &str| drafts.iter().position(|d| d.erd_name == erd_name);
    let resolve_target =
        |drafts: &[Draft], target: &str, context: &str| -> Result<usize, ErdError> {
            index_of(drafts, target)
                .ok_or_else(|| oerr(format!("{context}: unknown entity `{target}`")))
        };

    for i in 0..drafts.len() {
        let erd_name = drafts[i].erd_name.clone();
        let fields = diagram
            .entity(&erd_name)
            .map(|e| e.fields.clone())
            .unwrap_or_default();
        let mut used_fields = BTreeSet::new();
        for field in &fields {
            let column = field.name.to_snake_case();
            let spec = match drafts[i].overlay.fields.get(&field.name) {
                Some(v) => {
                    used_fields.insert(field.name.clone());
                    let text = v.as_str().ok_or_else(|| {
                        oerr(format!(
                            "[entity.{erd_name}] fields.{}: expected a string",
                            field.name
                        ))
                    })?;
                    Some(Spec::parse(text).map_err(|m| {
                        oerr(format!("[entity.{erd_name}] fields.{}: {m}", field.name))
                    })?)
                }
                None => None,
            };
            let is_relation_type = RELATION_TYPES.contains(&field.ty.as_str());
            let ctx = format!("[entity.{erd_name}] fields.{}", field.name);
            if field.keys.iter().any(|k| k == "PK") {
                drafts[i].erd_pk.push(column.clone());
            }
            match spec {
                Some(Spec::Drop { .. }) => continue,
                Some(Spec::Fk(fk)) => {
                    let target_name = fk
                        .target
                        .clone()
                        .ok_or_else(|| oerr(format!("{ctx}: `fk` needs a target entity")))?;
                    let target = resolve_target(&drafts, &target_name, &ctx)?;
                    let (col, name) = if is_relation_type {
                        (
                            fk.column.clone().unwrap_or(format!("{column}_id")),
                            fk.rename.clone().unwrap_or(column.clone()),
                        )
                    } else {
                        // The ERD's own column: it keeps its place; its type
                        // becomes the target key's once that is known.
                        push_column(&mut drafts[i].entity, &column, ColumnType::Integer)
                            .map_err(|m| lerr(field.line, m))?;
                        (
                            column.clone(),
                            fk.rename.clone().unwrap_or(strip_id(&column)),
                        )
                    };
                    pending_fks.push(PendingFk {
                        holder: i,
                        target,
                        name,
                        column: col,
                        spec: fk,
                        line: Some(field.line),
                        consumed_by: None,
                    });
                }
                Some(Spec::M2m {
                    target,
                    table,
                    rename,
                }) => {
                    let target_name = target
                        .ok_or_else(|| oerr(format!("{ctx}: `m2m` needs a target entity")))?;
                    let target = resolve_target(&drafts, &target_name, &ctx)?;
                    pending_m2m.push(PendingM2m {
                        owner: i,
                        target,
                        name: rename.unwrap_or(column.clone()),
                        table,
                        line: Some(field.line),
                    });
                }
                Some(Spec::Reverse { .. } | Spec::Type(_)) => {
                    return Err(oerr(format!(
                        "{ctx}: only `fk`, `m2m` or `drop:` apply to an ERD field"
                    )));
                }
                None if is_relation_type => {
                    return Err(lerr(
                        field.line,
                        format!(
                            "`{erd_name}.{}` is a {}: say in the overlay what it points to (fields.{} = \"fk Target\") or drop it",
                            field.name, field.ty, field.name
                        ),
                    ));
                }
                None => {
                    let d = &mut drafts[i];
                    if field.keys.iter().any(|k| k == "FK") {
                        d.erd_fk.push(column.clone());
                    }
                    // An overlay type applies from the start, so that keys
                    // pointing here take it too.
                    let declared = d
                        .overlay
                        .types
                        .get(&field.name)
                        .and_then(|v| v.as_str())
                        .unwrap_or(&field.ty)
                        .to_string();
                    d.erd_types.insert(column.clone(), declared.clone());
                    let ty = scalar_type(&declared, &enum_by_key).ok_or_else(|| {
                        lerr(
                            field.line,
                            format!("`{erd_name}.{}` has unknown type `{declared}`", field.name),
                        )
                    })?;
                    push_column(&mut d.entity, &column, ty).map_err(|m| lerr(field.line, m))?;
                }
            }
        }
        if let Some(unknown) = drafts[i]
            .overlay
            .fields
            .keys()
            .find(|k| !used_fields.contains(*k))
        {
            return Err(oerr(format!(
                "[entity.{erd_name}] fields.{unknown}: the ERD entity has no such field"
            )));
        }

        let adds: Vec<(String, toml::Value)> = drafts[i]
            .overlay
            .add
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in adds {
            let ctx = format!("[entity.{erd_name}] add.{key}");
            let text = value
                .as_str()
                .ok_or_else(|| oerr(format!("{ctx}: expected a string")))?;
            match Spec::parse(text).map_err(|m| oerr(format!("{ctx}: {m}")))? {
                Spec::Type(ty) => {
                    let d = &mut drafts[i];
                    d.erd_types.insert(key.clone(), ty.clone());
                    let mapped = scalar_type(&ty, &enum_by_key)
                        .ok_or_else(|| oerr(format!("{ctx}: unknown type `{ty}`")))?;
                    push_column(&mut d.entity, &key, mapped)
                        .map_err(|m| oerr(format!("{ctx}: {m}")))?;
                }
                Spec::Fk(fk) => {
                    let target_name = fk
                        .target
                        .clone()
                        .ok_or_else(|| oerr(format!("{ctx}: `fk` needs a target entity")))?;
                    let target = resolve_target(&drafts, &target_name, &ctx)?;
                    let column = fk.column.clone().unwrap_or_else(|| {
                        if key.ends_with("_id") {
                            key.clone()
                        } else {
                            format!("{key}_id")
                        }
                    });
                    pending_fks.push(PendingFk {
                        holder: i,
                        target,
                        name: fk.rename.clone().unwrap_or(strip_id(&key)),
                        column,
                        spec: fk,
                        line: None,
                        consumed_by: None,
                    });
                }
                Spec::M2m {
                    target,
                    table,
                    rename,
                } => {
                    let target_name = target
                        .ok_or_else(|| oerr(format!("{ctx}: `m2m` needs a target entity")))?;
                    let target = resolve_target(&drafts, &target_name, &ctx)?;
                    pending_m2m.push(PendingM2m {
                        owner: i,
                        target,
                        name: rename.unwrap_or(key.clone()),
                        table,
                        line: None,
                    });
                }
                Spec::Reverse { .. } | Spec::Drop { .. } => {
                    return Err(oerr(format!("{ctx}: `add` takes a type, `fk` or `m2m`")));
                }
            }
        }
    }

    // Relationship lines, first pass: foreign keys and m2m owners.
    let mut reverses: Vec<PendingReverse> = Vec::new();
    let mut used_rel_keys: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for rel in &diagram.relations {
        let a = index_of(&drafts, &rel.left)
            .ok_or_else(|| lerr(rel.line, unknown_end(&rel.left, &overlay)))?;
        let b = index_of(&drafts, &rel.right)
            .ok_or_else(|| lerr(rel.line, unknown_end(&rel.right, &overlay)))?;
        let keyed = format!("{} {}", rel.label, rel.right);
        let rel_table = &drafts[a].overlay.rel;
        let (key, value) = if let Some(v) = rel_table.get(&keyed) {
            (Some(keyed), Some(v))
        } else if !rel.label.is_empty() && rel_table.get(&rel.label).is_some() {
            let same_label = diagram
                .relations
                .iter()
                .filter(|r| r.left == rel.left && r.label == rel.label)
                .count();
            if same_label > 1 {
                return Err(lerr(
                    rel.line,
                    format!(
                        "`{}` has several `{}` lines: key the overlay by `\"{} {}\"`",
                        rel.left, rel.label, rel.label, rel.right
                    ),
                ));
            }
            (Some(rel.label.clone()), rel_table.get(&rel.label))
        } else {
            (None, None)
        };
        if let Some(key) = &key {
            used_rel_keys.entry(a).or_default().insert(key.clone());
        }
        let ctx = format!(
            "[entity.{}] rel.{}",
            rel.left,
            key.clone().unwrap_or_default()
        );
        let spec = match value {
            Some(v) => {
                let text = v
                    .as_str()
                    .ok_or_else(|| oerr(format!("{ctx}: expected a string")))?;
                Some(Spec::parse(text).map_err(|m| oerr(format!("{ctx}: {m}")))?)
            }
            None => None,
        };
        match spec {
            Some(Spec::Drop { .. }) => {}
            Some(Spec::Fk(fk)) => {
                if fk.target.as_deref().is_some_and(|t| t != rel.right) {
                    return Err(oerr(format!(
                        "{ctx}: the line points at `{}`, not `{}`",
                        rel.right,
                        fk.target.unwrap_or_default()
                    )));
                }
                let name = fk.rename.clone().unwrap_or(rel.label.to_snake_case());
                let column = fk
                    .column
                    .clone()
                    .unwrap_or(format!("{}_id", rel.label.to_snake_case()));
                pending_fks.push(PendingFk {
                    holder: a,
                    target: b,
                    name,
                    column,
                    spec: fk,
                    line: Some(rel.line),
                    consumed_by: None,
                });
            }
            Some(Spec::M2m { table, rename, .. }) => pending_m2m.push(PendingM2m {
                owner: a,
                target: b,
                name: rename.unwrap_or(rel.label.to_snake_case()),
                table,
                line: Some(rel.line),
            }),
            Some(Spec::Reverse { of, rename }) => reverses.push(PendingReverse {
                on: a,
                from: b,
                label: rel.label.to_snake_case(),
                of: Some(of),
                rename,
                only_m2m: false,
                line: rel.line,
            }),
            Some(Spec::Type(_)) => {
                return Err(oerr(format!(
                    "{ctx}: a relationship line takes `fk`, `m2m`, `<-` or `drop:`"
                )));
            }
            // `A ||--|{ B : belongs_to`: A holds `<b>_id`.
            None if rel.label == "belongs_to" => {
                let target = drafts[b].entity.name.to_snake_case();
                pending_fks.push(PendingFk {
                    holder: a,
                    target: b,
                    name: target.clone(),
                    column: format!("{target}_id"),
                    spec: FkSpec {
                        enforced: true,
                        ..FkSpec::default()
                    },
                    line: Some(rel.line),
                    consumed_by: None,
                });
            }
            None => implicit_line(
                rel,
                a,
                b,
                diagram.kind,
                &drafts,
                &mut pending_fks,
                &mut reverses,
            )
            .map_err(|m| lerr(rel.line, m))?,
        }
    }
    for (i, d) in drafts.iter().enumerate() {
        let used = used_rel_keys.get(&i).cloned().unwrap_or_default();
        if let Some(unknown) = d.overlay.rel.keys().find(|k| !used.contains(*k)) {
            return Err(oerr(format!(
                "[entity.{}] rel.{unknown}: no ERD line of `{}` has that label",
                d.erd_name, d.erd_name
            )));
        }
    }
    // ERD columns marked FK must all be explained.
    for d in &drafts {
        for fk in &d.erd_fk {
            let holder = index_of(&drafts, &d.erd_name).unwrap_or_default();
            if !pending_fks
                .iter()
                .any(|p| p.holder == holder && &p.column == fk)
            {
                return Err(oerr(format!(
                    "`{}.{fk}` is marked FK: say in [entity.{}] fields what it points to",
                    d.erd_name, d.erd_name
                )));
            }
        }
    }

    // Primary keys (needed for FK column types).
    for d in &mut drafts {
        resolve_primary_key(d, &overlay).map_err(oerr)?;
    }

    // Foreign keys become columns and belongs-to relations.
    for fk in &pending_fks {
        let target = &drafts[fk.target].entity;
        let [pk] = target.primary_key.as_slice() else {
            return Err(oerr(format!(
                "`{}.{}` points at `{}`, whose primary key is not a single column",
                drafts[fk.holder].erd_name, fk.column, target.name
            )));
        };
        let pk_type = target
            .column(pk)
            .map(|c| c.ty.clone())
            .unwrap_or(ColumnType::Integer);
        let target_name = target.name.clone();
        let holder = &mut drafts[fk.holder];
        match holder
            .entity
            .columns
            .iter_mut()
            .find(|c| c.name == fk.column)
        {
            Some(existing) => {
                // A key that points elsewhere is never numbered here.
                existing.ty = pk_type;
                existing.auto_increment = false;
            }
            None => push_column(&mut holder.entity, &fk.column, pk_type).map_err(oerr)?,
        }
        let pk_cols = &holder.entity.primary_key;
        let unique = fk.spec.unique || (pk_cols.len() == 1 && pk_cols[0] == fk.column);
        let nullable = fk.spec.nullable
            || (overlay.domain.default_nullable
                && !holder
                    .overlay
                    .not_null
                    .iter()
                    .any(|n| n == &fk.name || n == &fk.column));
        if nullable {
            holder.overlay.null.push(fk.column.clone());
        }
        holder.entity.relations.push(Relation {
            name: fk.name.clone(),
            target: target_name,
            kind: RelationKind::BelongsTo {
                column: fk.column.clone(),
                unique,
                on_delete: if nullable {
                    OnDelete::SetNull
                } else {
                    OnDelete::Restrict
                },
                enforced: fk.spec.enforced,
            },
            line: fk.line,
        });
        if unique && !pk_cols.contains(&fk.column) {
            holder.entity.indexes.push(Index {
                columns: vec![fk.column.clone()],
                unique: true,
                prefix: false,
            });
        }
    }
    // Reverse relations for FKs that implicit lines explained.
    for fk in pending_fks.iter().filter(|f| f.consumed_by.is_some()) {
        let holder = &drafts[fk.holder].entity;
        let siblings = pending_fks
            .iter()
            .filter(|o| o.holder == fk.holder && o.target == fk.target && o.consumed_by.is_some())
            .count();
        let unique = matches!(
            holder.relation(&fk.name).map(|r| &r.kind),
            Some(RelationKind::BelongsTo { unique: true, .. })
        );
        let base = holder.name.to_snake_case();
        let mut name = if unique { base } else { plural(&base) };
        if siblings > 1 {
            name = format!("{name}_{}", fk.name);
        }
        let via = fk.name.clone();
        let target_name = holder.name.clone();
        drafts[fk.target].entity.relations.push(Relation {
            name,
            target: target_name,
            kind: if unique {
                RelationKind::HasOne { via }
            } else {
                RelationKind::HasMany { via }
            },
            line: fk.consumed_by,
        });
    }

    // Junction entities for many-to-many relations.
    let mut junctions = Vec::new();
    for m in &pending_m2m {
        let owner = &drafts[m.owner].entity;
        let target = &drafts[m.target].entity;
        let table = m
            .table
            .clone()
            .unwrap_or(format!("{}_{}", owner.table, m.name));
        let (from, to) = if m.owner == m.target {
            (
                format!("from_{}_id", owner.name.to_snake_case()),
                format!("to_{}_id", owner.name.to_snake_case()),
            )
        } else {
            (
                format!("{}_id", owner.name.to_snake_case()),
                format!("{}_id", target.name.to_snake_case()),
            )
        };
        let pk_type = |e: &Entity| -> Result<ColumnType, ErdError> {
            match e.primary_key.as_slice() {
                [pk] => Ok(e
                    .column(pk)
                    .map(|c| c.ty.clone())
                    .unwrap_or(ColumnType::Integer)),
                _ => Err(oerr(format!(
                    "m2m `{}.{}`: `{}` needs a single-column primary key",
                    owner.name, m.name, e.name
                ))),
            }
        };
        let junction_name = table.to_pascal_case();
        let mut columns = Vec::new();
        for (col, ty) in [(&from, pk_type(owner)?), (&to, pk_type(target)?)] {
            columns.push(Column {
                name: col.clone(),
                ty,
                nullable: false,
                auto_increment: false,
                default: None,
                secret: false,
                password: false,
                max_length: None,
                managed: None,
            });
        }
        junctions.push(Entity {
            name: junction_name.clone(),
            erd_name: table.clone(),
            table: table.clone(),
            primary_key: vec![from.clone(), to.clone()],
            indexes: vec![Index {
                columns: vec![to.clone()],
                unique: false,
                prefix: false,
            }],
            relations: vec![
                Relation {
                    name: strip_id(&from),
                    target: owner.name.clone(),
                    kind: RelationKind::BelongsTo {
                        column: from.clone(),
                        unique: false,
                        on_delete: OnDelete::Cascade,
                        enforced: true,
                    },
                    line: m.line,
                },
                Relation {
                    name: strip_id(&to),
                    target: target.name.clone(),
                    kind: RelationKind::BelongsTo {
                        column: to.clone(),
                        unique: false,
                        on_delete: OnDelete::Cascade,
                        enforced: true,
                    },
                    line: m.line,
                },
            ],
            columns,
            from_overlay: false,
            junction: true,
        });
        let target_name = target.name.clone();
        drafts[m.owner].entity.relations.push(Relation {
            name: m.name.clone(),
            target: target_name,
            kind: RelationKind::ManyToMany {
                junction: junction_name,
                from_column: from,
                to_column: to,
            },
            line: m.line,
        });
    }

    // Second pass: reverse accessors.
    for r in &reverses {
        let from = &drafts[r.from].entity;
        let on_name = drafts[r.on].entity.name.clone();
        let candidates: Vec<&Relation> = from
            .relations
            .iter()
            .filter(|rel| rel.target == on_name)
            .filter(|rel| match &rel.kind {
                RelationKind::BelongsTo { .. } => !r.only_m2m,
                RelationKind::ManyToMany { .. } => true,
                _ => false,
            })
            .filter(|rel| r.of.as_ref().is_none_or(|of| &rel.name == of))
            .collect();
        let via = match candidates.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(lerr(
                    r.line,
                    match &r.of {
                        Some(of) => format!(
                            "`{}` has no relation `{of}` to `{}` for this line to reverse",
                            from.erd_name, on_name
                        ),
                        None => format!(
                            "`{}.{}` reverses nothing: `{}` has no foreign key or m2m to `{}`; mark this line in the overlay",
                            drafts[r.on].erd_name, r.label, from.erd_name, drafts[r.on].erd_name
                        ),
                    },
                ));
            }
            many => {
                let names: Vec<&str> = many.iter().map(|m| m.name.as_str()).collect();
                return Err(lerr(
                    r.line,
                    format!(
                        "`{}.{}` could reverse any of `{}`.{{{}}}: say which with `<- name`",
                        drafts[r.on].erd_name,
                        r.label,
                        from.erd_name,
                        names.join(", ")
                    ),
                ));
            }
        };
        let django_default =
            r.label.replace('_', "") == drafts[r.from].erd_name.to_ascii_lowercase();
        let name = match &r.rename {
            Some(n) => n.clone(),
            None if django_default && r.on == r.from && via.name == "parent" => {
                "children".to_string()
            }
            // Django names a one-to-one reverse after the model, singular.
            None if django_default
                && matches!(via.kind, RelationKind::BelongsTo { unique: true, .. }) =>
            {
                from.name.to_snake_case()
            }
            // Rails-style verbs (`has_many`, `belongs_to` drawn backwards) name
            // the relation after its target.
            None if django_default || r.label == "has_many" || r.label == "belongs_to" => {
                plural(&from.name.to_snake_case())
            }
            None => r.label.clone(),
        };
        let from_name = from.name.clone();
        let kind = match &via.kind {
            RelationKind::BelongsTo { unique: true, .. } => RelationKind::HasOne {
                via: via.name.clone(),
            },
            RelationKind::BelongsTo { .. } => RelationKind::HasMany {
                via: via.name.clone(),
            },
            RelationKind::ManyToMany {
                junction,
                from_column,
                to_column,
            } => RelationKind::ManyToMany {
                junction: junction.clone(),
                from_column: to_column.clone(),
                to_column: from_column.clone(),
            },
            // Candidates are filtered to belongs-to and m2m above.
            RelationKind::HasMany { .. } | RelationKind::HasOne { .. } => {
                return Err(lerr(
                    r.line,
                    format!(
                        "`{}.{}` can only reverse a foreign key or an m2m",
                        drafts[r.on].erd_name, r.label
                    ),
                ));
            }
        };
        drafts[r.on].entity.relations.push(Relation {
            name,
            target: from_name,
            kind,
            line: Some(r.line),
        });
    }

    // Column properties.
    for d in &mut drafts {
        apply_column_options(d, &overlay, &enum_by_key, &enums).map_err(oerr)?;
    }

    let mut entities: Vec<Entity> = drafts.into_iter().map(|d| d.entity).collect();
    entities.extend(junctions);
    let mut names = BTreeSet::new();
    for e in &entities {
        if !names.insert(e.name.clone()) {
            return Err(oerr(format!(
                "two entities are named `{}`: set `name` in the overlay",
                e.name
            )));
        }
        check_field_names(e).map_err(oerr)?;
    }
    Ok(Domain {
        name: domain.to_string(),
        entities,
        enums,
    })
}

fn unknown_end(name: &str, overlay: &Overlay) -> String {
    if overlay.domain.exclude.contains_key(name) {
        format!("`{name}` is excluded in the overlay but this line uses it")
    } else {
        format!("unknown entity `{name}`")
    }
}

fn scalar_type(ty: &str, enum_by_key: &BTreeMap<String, String>) -> Option<ColumnType> {
    if let Some(name) = enum_by_key.get(ty) {
        return Some(ColumnType::Enum(name.clone()));
    }
    if ty == "enum" {
        // A bare `enum` needs the overlay's `enums` to say which one; it is
        // stored as an integer until then.
        return Some(ColumnType::Integer);
    }
    map_type(ty)
}

fn push_column(entity: &mut Entity, name: &str, ty: ColumnType) -> Result<(), String> {
    if entity.column(name).is_some() {
        return Err(format!(
            "`{}` has two columns named `{name}`",
            entity.erd_name
        ));
    }
    entity.columns.push(Column {
        name: name.to_string(),
        ty,
        nullable: false,
        auto_increment: false,
        default: None,
        secret: false,
        password: false,
        max_length: None,
        managed: None,
    });
    Ok(())
}

/// Explains a line the overlay does not mention, by the diagram's own rules.
fn implicit_line(
    rel: &RawRelation,
    a: usize,
    b: usize,
    kind: DiagramKind,
    drafts: &[Draft],
    pending_fks: &mut [PendingFk],
    reverses: &mut Vec<PendingReverse>,
) -> Result<(), String> {
    // Unlabelled lines and class arrows: the many side holds an FK that the
    // overlay's `fields` declared; the line gives the target a reverse.
    let fk_holder = match kind {
        DiagramKind::Class => Some((b, a)),
        DiagramKind::Er if rel.label.is_empty() => {
            if rel.right_card == Cardinality::ExactlyOne && rel.left_card != Cardinality::ExactlyOne
            {
                Some((a, b))
            } else if rel.left_card == Cardinality::ExactlyOne
                && rel.right_card != Cardinality::ExactlyOne
            {
                Some((b, a))
            } else {
                return Err(format!(
                    "cannot tell which side of `{} -- {}` holds the key",
                    rel.left, rel.right
                ));
            }
        }
        DiagramKind::Er => None,
    };
    if let Some((holder, target)) = fk_holder {
        let fk = pending_fks
            .iter_mut()
            .find(|f| f.holder == holder && f.target == target && f.consumed_by.is_none())
            .ok_or_else(|| {
                format!(
                    "`{}` → `{}`: no foreign key of `{}` is left for this line; declare it in [entity.{}] fields",
                    drafts[holder].erd_name, drafts[target].erd_name, drafts[holder].erd_name, drafts[holder].erd_name
                )
            })?;
        fk.consumed_by = Some(rel.line);
        return Ok(());
    }
    let only_m2m = rel.left_card.is_many() && rel.right_card.is_many();
    reverses.push(PendingReverse {
        on: a,
        from: b,
        label: rel.label.to_snake_case(),
        of: None,
        rename: None,
        only_m2m,
        line: rel.line,
    });
    Ok(())
}

fn resolve_primary_key(d: &mut Draft, overlay: &Overlay) -> Result<(), String> {
    let entity = &mut d.entity;
    let pk = if let Some(pk) = &d.overlay.pk {
        pk.to_vec()
    } else if !d.erd_pk.is_empty() {
        d.erd_pk.clone()
    } else if entity.column("id").is_some() {
        vec!["id".to_string()]
    } else if let Some(own) = entity
        .column(&format!("{}_id", entity.table))
        .map(|c| c.name.clone())
    {
        // `credit.credit_id`: a key named after its own table.
        vec![own]
    } else if let Some(ty) = &overlay.domain.implicit_pk {
        let mapped =
            map_type(ty).ok_or_else(|| format!("[domain] implicit_pk: unknown type `{ty}`"))?;
        entity.columns.insert(
            0,
            Column {
                name: "id".into(),
                ty: mapped,
                nullable: false,
                auto_increment: false,
                default: None,
                secret: false,
                password: false,
                max_length: None,
                managed: None,
            },
        );
        d.erd_types.insert("id".into(), ty.clone());
        vec!["id".to_string()]
    } else {
        return Err(format!(
            "`{}` has no primary key: set `pk` in [entity.{}]",
            d.erd_name, d.erd_name
        ));
    };
    for col in &pk {
        if entity.column(col).is_none() {
            return Err(format!("[entity.{}] pk: no column `{col}`", d.erd_name));
        }
    }
    if let [only] = pk.as_slice() {
        let auto = d.overlay.pk_auto.unwrap_or(true);
        if let Some(c) = entity.columns.iter_mut().find(|c| &c.name == only) {
            c.auto_increment = auto
                && matches!(
                    c.ty,
                    ColumnType::Integer | ColumnType::BigInteger | ColumnType::SmallInteger
                );
        }
    }
    entity.primary_key = pk;
    Ok(())
}

/// Maps a name in an overlay list (a column, or a belongs-to relation) to
/// its column.
fn column_for(entity: &Entity, name: &str) -> Option<String> {
    if entity.column(name).is_some() {
        return Some(name.to_string());
    }
    entity
        .relations
        .iter()
        .find(|r| r.name == name)
        .and_then(|r| r.belongs_to_column())
        .map(str::to_string)
}

fn apply_column_options(
    d: &mut Draft,
    overlay: &Overlay,
    enum_by_key: &BTreeMap<String, String>,
    enums: &[EnumDef],
) -> Result<(), String> {
    let erd = d.erd_name.clone();
    let ov = &d.overlay;
    let entity = &mut d.entity;
    let lookup = |entity: &Entity, list: &str, name: &str| -> Result<String, String> {
        column_for(entity, name)
            .ok_or_else(|| format!("[entity.{erd}] {list}: no column or relation `{name}`"))
    };

    for (name, ty) in &ov.types {
        let col = lookup(entity, "types", name)?;
        let ty = ty
            .as_str()
            .ok_or_else(|| format!("[entity.{erd}] types.{name}: expected a string"))?;
        let mapped = scalar_type(ty, enum_by_key)
            .ok_or_else(|| format!("[entity.{erd}] types.{name}: unknown type `{ty}`"))?;
        if let Some(c) = entity.columns.iter_mut().find(|c| c.name == col) {
            c.ty = mapped;
        }
    }
    for (name, enum_name) in &ov.enums {
        let col = lookup(entity, "enums", name)?;
        let resolved = enum_by_key
            .get(enum_name)
            .ok_or_else(|| format!("[entity.{erd}] enums.{name}: unknown enum `{enum_name}`"))?;
        if let Some(c) = entity.columns.iter_mut().find(|c| c.name == col) {
            c.ty = ColumnType::Enum(resolved.clone());
        }
    }
    let mut nullable = BTreeSet::new();
    for name in &ov.null {
        nullable.insert(lookup(entity, "null", name)?);
    }
    let mut not_null = BTreeSet::new();
    for name in &ov.not_null {
        not_null.insert(lookup(entity, "not_null", name)?);
    }
    for (name, length) in &ov.max_length {
        let col = lookup(entity, "max_length", name)?;
        if let Some(c) = entity.columns.iter_mut().find(|c| c.name == col) {
            if c.ty != ColumnType::Text {
                return Err(format!("[entity.{erd}] max_length: `{name}` is not text"));
            }
            c.max_length = Some(*length);
        }
    }
    for name in &ov.passwords {
        if !ov.secret.contains(name) {
            return Err(format!(
                "[entity.{erd}] passwords: `{name}` must also be a secret"
            ));
        }
        let col = lookup(entity, "passwords", name)?;
        if let Some(c) = entity.columns.iter_mut().find(|c| c.name == col) {
            c.password = true;
        }
    }
    for name in &ov.secret {
        let col = lookup(entity, "secret", name)?;
        if let Some(c) = entity.columns.iter_mut().find(|c| c.name == col) {
            if c.ty != ColumnType::Text {
                return Err(format!("[entity.{erd}] secret: `{name}` is not text"));
            }
            c.secret = true;
        }
    }
    let pk = entity.primary_key.clone();
    for c in &mut entity.columns {
        if pk.contains(&c.name) {
            c.nullable = false;
            continue;
        }
        c.nullable = if overlay.domain.default_nullable {
            !not_null.contains(&c.name) || nullable.contains(&c.name)
        } else {
            nullable.contains(&c.name)
        };
        if c.ty == ColumnType::Timestamp && (c.name == "created_at" || c.name == "updated_at") {
            c.managed = Some(if c.name == "created_at" {
                Managed::CreatedAt
            } else {
                Managed::UpdatedAt
            });
            c.default = Some(DefaultValue::Now);
            c.nullable = false;
        }
    }
    for (name, value) in &ov.default {
        let col = lookup(entity, "default", name)?;
        let c = entity
            .columns
            .iter_mut()
            .find(|c| c.name == col)
            .ok_or_else(|| format!("[entity.{erd}] default.{name}: no column"))?;
        c.default = Some(match (value, &c.ty) {
            (toml::Value::Boolean(b), ColumnType::Boolean) => DefaultValue::Bool(*b),
            (
                toml::Value::Integer(n),
                ColumnType::Integer | ColumnType::SmallInteger | ColumnType::BigInteger,
            ) => DefaultValue::Int(*n),
            (toml::Value::String(s), ColumnType::Text) => DefaultValue::Text(s.clone()),
            (toml::Value::String(s), ColumnType::Enum(e)) => {
                let def = enums
                    .iter()
                    .find(|d| &d.name == e)
                    .ok_or_else(|| format!("unknown enum `{e}`"))?;
                if def.is_integer() || !def.values.iter().any(|v| &v.name == s) {
                    return Err(format!(
                        "[entity.{erd}] default.{name}: `{s}` is not a value of `{e}`"
                    ));
                }
                DefaultValue::Text(s.clone())
            }
            (toml::Value::Integer(n), ColumnType::Enum(e)) => {
                let def = enums
                    .iter()
                    .find(|d| &d.name == e)
                    .ok_or_else(|| format!("unknown enum `{e}`"))?;
                if !def.values.iter().any(|v| v.number == Some(*n as i32)) {
                    return Err(format!(
                        "[entity.{erd}] default.{name}: {n} is not a value of `{e}`"
                    ));
                }
                DefaultValue::Int(*n)
            }
            _ => {
                return Err(format!(
                    "[entity.{erd}] default.{name}: the value does not fit the column type {}",
                    c.ty
                ));
            }
        });
    }
    for c in &mut entity.columns {
        if c.ty == ColumnType::Boolean && !c.nullable && c.default.is_none() {
            c.default = Some(DefaultValue::Bool(false));
        }
    }

    let mut indexes = Vec::new();
    for (list, unique) in [(&ov.unique, true), (&ov.index, false)] {
        for names in list {
            let columns = names
                .to_vec()
                .iter()
                .map(|n| lookup(entity, if unique { "unique" } else { "index" }, n))
                .collect::<Result<Vec<_>, _>>()?;
            indexes.push(Index {
                columns,
                unique,
                prefix: false,
            });
        }
    }
    for name in &ov.prefix_index {
        let col = lookup(entity, "prefix_index", name)?;
        indexes.push(Index {
            columns: vec![col],
            unique: false,
            prefix: true,
        });
    }
    entity.indexes.extend(indexes);
    // Every foreign key column is indexed, unless an index already leads
    // with it: joins and has-many loaders filter on it.
    let fk_columns: Vec<String> = entity
        .relations
        .iter()
        .filter_map(|r| r.belongs_to_column().map(str::to_string))
        .collect();
    for col in fk_columns {
        let covered = entity.primary_key.first() == Some(&col)
            || entity
                .indexes
                .iter()
                .any(|i| i.columns.first() == Some(&col));
        if !covered {
            entity.indexes.push(Index {
                columns: vec![col],
                unique: false,
                prefix: false,
            });
        }
    }
    Ok(())
}

/// Column and relation names must not clash, except an FK column with the
/// relation it carries (`room` on opentalk events).
fn check_field_names(entity: &Entity) -> Result<(), String> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for c in &entity.columns {
        seen.insert(c.name.clone(), "column");
    }
    for r in &entity.relations {
        if let Some(kind) = seen.get(&r.name) {
            let carried = *kind == "column" && r.belongs_to_column() == Some(r.name.as_str());
            if !carried {
                return Err(format!(
                    "`{}` has a {kind} and a relation both named `{}`: rename one with `as=` in the overlay",
                    entity.name, r.name
                ));
            }
        }
        seen.insert(r.name.clone(), "relation");
    }
    Ok(())
}

fn line_of(text: &str, error: &toml::de::Error) -> usize {
    error
        .span()
        .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(entity_name("rooms"), "Room");
        assert_eq!(entity_name("event_invites"), "EventInvite");
        assert_eq!(entity_name("controlSystem"), "ControlSystem");
        assert_eq!(entity_name("CREDIT"), "Credit");
        assert_eq!(entity_name("GANS"), "Gans");
        assert_eq!(entity_name("OrgUnit"), "OrgUnit");
        assert_eq!(entity_name("settings"), "Setting");
        assert_eq!(entity_name("metadata"), "Metadata");
        assert_eq!(plural("org_unit"), "org_units");
        assert_eq!(plural("storage_log_entry"), "storage_log_entries");
        assert_eq!(plural("device_ownership"), "device_ownerships");
        assert_eq!(plural("log_data"), "log_data");
        assert_eq!(plural("instance_lock"), "instance_locks");
        assert_eq!(plural("match"), "matches");
    }
}
