//! The GraphQL view of a domain: every name a client writes, decided once,
//! from the resolved ERD model.
//!
//! Naming rules (clients depend on them):
//! - types are the entity names (`OrgUnit`); fields are the columns in
//!   camelCase; relation fields are the relation names in camelCase;
//! - a foreign-key column named like its relation (OpenTalk's `room`) is
//!   exposed as `<name>Id` beside the relation;
//! - root lists are the plural in camelCase (`orgUnits`); a name whose plural
//!   is itself or that already ends in `s` gets `List` (`metadataList`,
//!   `externalCredentialsList`); get-by-id is the singular (`orgUnit`).

use std::collections::{BTreeSet, HashMap};

use async_graphql::Name;
use erd::{ColumnType, RelationKind};
use heck::{ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase};

/// The scalar a column is exposed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    Int,
    /// 64-bit integers, as strings: JSON numbers lose precision past 2^53.
    BigInt,
    Boolean,
    String,
    Decimal,
    Uuid,
    Date,
    DateTime,
    Json,
    GeoJson,
    StringList,
    /// Index into [`Model::enums`].
    Enum(usize),
}

impl Scalar {
    /// Values are stored in a JSON column.
    pub fn stored_as_json(self) -> bool {
        matches!(self, Self::Json | Self::GeoJson | Self::StringList)
    }

    /// Values can be ordered and compared with `gt`/`lt`.
    pub fn comparable(self) -> bool {
        !(self.stored_as_json() || self == Self::Boolean)
    }

    /// The GraphQL type name of a single value.
    pub fn type_name(self, model: &Model) -> String {
        match self {
            Self::Int => "Int".into(),
            Self::BigInt => "BigInt".into(),
            Self::Boolean => "Boolean".into(),
            Self::String => "String".into(),
            Self::Decimal => "Decimal".into(),
            Self::Uuid => "UUID".into(),
            Self::Date => "Date".into(),
            Self::DateTime => "DateTime".into(),
            Self::Json => "JSON".into(),
            Self::GeoJson => "GeoJSON".into(),
            Self::StringList => "String".into(),
            Self::Enum(i) => model.enums[i].name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbEnumValue {
    Text(String),
    Int(i32),
}

#[derive(Clone, Debug)]
pub struct EnumInfo {
    pub name: String,
    /// (GraphQL value, stored value). The GraphQL value is a [`Name`], as
    /// answers hold it: a row's value is a clone of it, not a new string.
    pub values: Vec<(Name, DbEnumValue)>,
}

impl EnumInfo {
    pub fn to_db(&self, gql: &str) -> Option<&DbEnumValue> {
        self.values
            .iter()
            .find(|(g, _)| g.as_str() == gql)
            .map(|(_, d)| d)
    }

    /// The GraphQL value stored as `text`.
    pub fn of_text(&self, text: &str) -> Option<&Name> {
        self.values
            .iter()
            .find(|(_, d)| matches!(d, DbEnumValue::Text(t) if t == text))
            .map(|(g, _)| g)
    }

    /// The GraphQL value stored as the number `n`.
    pub fn of_int(&self, n: i32) -> Option<&Name> {
        self.values
            .iter()
            .find(|(_, d)| *d == DbEnumValue::Int(n))
            .map(|(g, _)| g)
    }
}

#[derive(Clone, Debug)]
pub struct ColumnInfo {
    pub name: String,
    pub ty: ColumnType,
    pub gql: String,
    pub scalar: Scalar,
    pub nullable: bool,
    pub secret: bool,
    /// A login password: written as an argon2 hash.
    pub password: bool,
    /// The most characters a text column takes.
    pub max_length: Option<u32>,
    /// Numbered by the database.
    pub auto: bool,
    /// `created_at`/`updated_at`: set by the server.
    pub managed: bool,
    pub has_default: bool,
    /// A materialised path, kept in byte order (its index is a prefix
    /// index): `startsWith` reads it as a range of keys.
    pub path_prefix: bool,
    /// Its value in the entity's `…OrderField` enum.
    pub order_name: String,
}

#[derive(Clone, Debug)]
pub enum RelKind {
    /// This entity holds `column`, pointing at the target's primary key.
    BelongsTo {
        column: usize,
    },
    /// The target holds `column` (an index into the target's columns),
    /// pointing at this entity's primary key.
    HasMany {
        column: usize,
    },
    HasOne {
        column: usize,
    },
    /// Through `junction`: `from` points at this entity, `to` at the target.
    ManyToMany {
        junction: String,
        from: String,
        to: String,
    },
}

#[derive(Clone, Debug)]
pub struct RelationInfo {
    pub gql: String,
    pub target: usize,
    pub kind: RelKind,
}

/// What a GraphQL field of an entity type reads.
#[derive(Clone, Copy, Debug)]
pub enum Member {
    Column(usize),
    Relation(usize),
}

#[derive(Clone, Debug)]
pub struct EntityInfo {
    pub name: String,
    pub table: String,
    /// Junction tables are reached through many-to-many relations only.
    pub exposed: bool,
    pub columns: Vec<ColumnInfo>,
    pub pk: Vec<usize>,
    pub relations: Vec<RelationInfo>,
    pub list_field: String,
    pub get_field: String,
    pub members: crate::engine::Map<String, Member>,
    /// The soft-delete column (`deleted_at`, or Instance's `deleted` flag).
    pub soft_delete: Option<usize>,
    /// Has-many relations whose rows a create of this entity carries,
    /// written in its transaction (a domain's choice, not the ERD's).
    pub nested: Vec<usize>,
}

impl EntityInfo {
    /// The single primary-key column, where there is one.
    pub fn single_pk(&self) -> Option<usize> {
        match self.pk.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Columns a client may read, filter and order by.
    pub fn public_columns(&self) -> impl Iterator<Item = (usize, &ColumnInfo)> {
        self.columns.iter().enumerate().filter(|(_, c)| !c.secret)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

#[derive(Clone, Debug)]
pub struct Model {
    pub domain: String,
    pub entities: Vec<EntityInfo>,
    pub enums: Vec<EnumInfo>,
}

impl Model {
    pub fn entity_index(&self, name: &str) -> Option<usize> {
        self.entities.iter().position(|e| e.name == name)
    }

    pub fn build(domain: &erd::Domain) -> Result<Self, String> {
        let enums: Vec<EnumInfo> = domain
            .enums
            .iter()
            .map(|e| EnumInfo {
                name: e.name.clone(),
                values: e
                    .values
                    .iter()
                    .map(|v| {
                        let db = match v.number {
                            Some(n) => DbEnumValue::Int(n),
                            None => DbEnumValue::Text(v.name.clone()),
                        };
                        (Name::new(v.name.to_shouty_snake_case()), db)
                    })
                    .collect(),
            })
            .collect();
        for e in &enums {
            let distinct: BTreeSet<&str> = e.values.iter().map(|(g, _)| g.as_str()).collect();
            if distinct.len() != e.values.len() {
                return Err(format!(
                    "enum {} has values that map to the same GraphQL name",
                    e.name
                ));
            }
        }
        let enum_index = |name: &str| enums.iter().position(|e| e.name == name);

        let mut entities = Vec::new();
        for entity in &domain.entities {
            let mut columns = Vec::new();
            for c in &entity.columns {
                let scalar = match &c.ty {
                    ColumnType::SmallInteger | ColumnType::Integer => Scalar::Int,
                    ColumnType::BigInteger => Scalar::BigInt,
                    ColumnType::Boolean => Scalar::Boolean,
                    ColumnType::Text | ColumnType::File => Scalar::String,
                    ColumnType::Decimal => Scalar::Decimal,
                    ColumnType::Uuid => Scalar::Uuid,
                    ColumnType::Date => Scalar::Date,
                    ColumnType::Timestamp => Scalar::DateTime,
                    ColumnType::Json => Scalar::Json,
                    ColumnType::Geometry(_) => Scalar::GeoJson,
                    ColumnType::StringList => Scalar::StringList,
                    ColumnType::Enum(name) => Scalar::Enum(
                        enum_index(name).ok_or_else(|| format!("unknown enum {name}"))?,
                    ),
                };
                // An FK column carrying its relation's own name gets `Id`.
                let carried = entity
                    .relations
                    .iter()
                    .any(|r| r.name == c.name && r.belongs_to_column() == Some(c.name.as_str()));
                let gql = if carried {
                    format!("{}Id", c.name.to_lower_camel_case())
                } else {
                    c.name.to_lower_camel_case()
                };
                columns.push(ColumnInfo {
                    name: c.name.clone(),
                    ty: c.ty.clone(),
                    gql,
                    scalar,
                    nullable: c.nullable,
                    secret: c.secret,
                    password: c.password,
                    max_length: c.max_length,
                    auto: c.auto_increment,
                    managed: c.managed.is_some(),
                    has_default: c.default.is_some(),
                    path_prefix: entity
                        .indexes
                        .iter()
                        .any(|i| i.prefix && i.columns == [c.name.as_str()]),
                    order_name: c.name.to_shouty_snake_case(),
                });
            }
            let pk = entity
                .primary_key
                .iter()
                .map(|p| {
                    entity
                        .columns
                        .iter()
                        .position(|c| &c.name == p)
                        .ok_or_else(|| format!("pk {p}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let singular = entity.name.to_lower_camel_case();
            let plural = erd::build::plural(&entity.name.to_snake_case()).to_lower_camel_case();
            let list_field = if plural == singular || entity.name.ends_with('s') {
                format!("{singular}List")
            } else {
                plural
            };
            entities.push(EntityInfo {
                name: entity.name.clone(),
                table: entity.table.clone(),
                exposed: !entity.junction,
                columns,
                pk,
                relations: Vec::new(),
                list_field,
                get_field: singular,
                members: crate::engine::Map::default(),
                soft_delete: entity
                    .soft_delete()
                    .and_then(|c| entity.columns.iter().position(|x| x.name == c.name)),
                nested: Vec::new(),
            });
        }

        // Relations need every entity's columns.
        let index: HashMap<String, usize> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        for (i, entity) in domain.entities.iter().enumerate() {
            let mut relations = Vec::new();
            for r in &entity.relations {
                let target = *index
                    .get(&r.target)
                    .ok_or_else(|| format!("unknown target {}", r.target))?;
                let target_column = |via: &str| -> Result<usize, String> {
                    let t = &domain.entities[target];
                    let col = t
                        .relation(via)
                        .and_then(|rel| rel.belongs_to_column())
                        .ok_or_else(|| format!("{}.{via} is not a belongs-to", t.name))?;
                    entities[target]
                        .column_index(col)
                        .ok_or_else(|| format!("{}.{col}", t.name))
                };
                let kind = match &r.kind {
                    RelationKind::BelongsTo { column, .. } => RelKind::BelongsTo {
                        column: entities[i]
                            .column_index(column)
                            .ok_or_else(|| format!("{}.{column}", entity.name))?,
                    },
                    RelationKind::HasMany { via } => RelKind::HasMany {
                        column: target_column(via)?,
                    },
                    RelationKind::HasOne { via } => RelKind::HasOne {
                        column: target_column(via)?,
                    },
                    RelationKind::ManyToMany {
                        junction,
                        from_column,
                        to_column,
                    } => RelKind::ManyToMany {
                        junction: domain
                            .entity(junction)
                            .map(|j| j.table.clone())
                            .ok_or_else(|| format!("unknown junction {junction}"))?,
                        from: from_column.clone(),
                        to: to_column.clone(),
                    },
                };
                // Relations into junction tables are not part of the API;
                // nor are has-many relations of entities without a single key.
                let parent_keyed =
                    matches!(kind, RelKind::BelongsTo { .. }) || entities[i].single_pk().is_some();
                if !entities[target].exposed || !parent_keyed {
                    continue;
                }
                relations.push(RelationInfo {
                    gql: r.name.to_lower_camel_case(),
                    target,
                    kind,
                });
            }
            entities[i].relations = relations;
        }

        // Member lookup, refusing clashes.
        for entity in &mut entities {
            let mut members = crate::engine::Map::default();
            for (i, c) in entity.columns.iter().enumerate().filter(|(_, c)| !c.secret) {
                if members.insert(c.gql.clone(), Member::Column(i)).is_some() {
                    return Err(format!("{}.{} is defined twice", entity.name, c.gql));
                }
            }
            for (i, r) in entity.relations.iter().enumerate() {
                if members.insert(r.gql.clone(), Member::Relation(i)).is_some() {
                    return Err(format!(
                        "{}.{} names a column and a relation",
                        entity.name, r.gql
                    ));
                }
            }
            entity.members = members;
        }
        let mut roots = BTreeSet::new();
        for e in entities.iter().filter(|e| e.exposed) {
            for name in [&e.list_field, &e.get_field] {
                if !roots.insert(name.clone()) {
                    return Err(format!("root field {name} is defined twice"));
                }
            }
        }
        Ok(Self {
            domain: domain.name.clone(),
            entities,
            enums,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_fixed_rules() {
        let model = Model::build(&erd::load("iaso").unwrap()).unwrap();
        let ou = &model.entities[model.entity_index("OrgUnit").unwrap()];
        assert_eq!(ou.list_field, "orgUnits");
        assert_eq!(ou.get_field, "orgUnit");
        for name in [
            "parent",
            "children",
            "orgUnitType",
            "version",
            "instances",
            "groups",
            "validationStatus",
            "parentId",
        ] {
            assert!(ou.members.contains_key(name), "OrgUnit.{name}");
        }
        let fv = &model.entities[model.entity_index("FormVersion").unwrap()];
        assert_eq!(fv.list_field, "formVersions");
        let form = &model.entities[model.entity_index("Form").unwrap()];
        assert!(form.members.contains_key("formVersions"));
        assert!(form.members.contains_key("instances"));
        let user = &model.entities[model.entity_index("User").unwrap()];
        assert!(
            !user.members.contains_key("password"),
            "secrets are not members"
        );
        let creds = &model.entities[model.entity_index("ExternalCredentials").unwrap()];
        assert_eq!(creds.list_field, "externalCredentialsList");

        let opentalk = Model::build(&erd::load("opentalk").unwrap()).unwrap();
        let event = &opentalk.entities[opentalk.entity_index("Event").unwrap()];
        assert_eq!(event.list_field, "events");
        assert!(event.members.contains_key("room") && event.members.contains_key("roomId"));
        let room = &opentalk.entities[opentalk.entity_index("Room").unwrap()];
        assert_eq!(room.list_field, "rooms");

        let placeos = Model::build(&erd::load("placeos").unwrap()).unwrap();
        let metadata = &placeos.entities[placeos.entity_index("Metadata").unwrap()];
        assert_eq!(metadata.list_field, "metadataList");
        let zone = &placeos.entities[placeos.entity_index("Zone").unwrap()];
        assert_eq!(zone.list_field, "zones");
    }

    #[test]
    fn every_domain_builds() {
        for domain in erd::load_all().unwrap() {
            Model::build(&domain).unwrap();
        }
    }
}
