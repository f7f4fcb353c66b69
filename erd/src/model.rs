//! The resolved model of a domain: what the ERD says plus what its overlay
//! adds. Entity generation, migrations, the `erd` command and the GraphQL
//! engine all read this one structure.

use std::fmt;

/// The storage type of a column. Every variant behaves the same on SQLite and
/// PostgreSQL: lists and geometries are JSON documents on both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnType {
    SmallInteger,
    Integer,
    BigInteger,
    Boolean,
    Text,
    Decimal,
    Uuid,
    Date,
    /// A UTC instant (`timestamp with time zone`).
    Timestamp,
    Json,
    /// A list of strings, stored as a JSON array.
    StringList,
    /// GeoJSON geometry in SRID 4326 (longitude, latitude), stored as JSON.
    Geometry(GeometryKind),
    /// The key of a stored file (a path in the object store).
    File,
    /// One of a declared enum's values; names the enum.
    Enum(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryKind {
    Point,
    MultiPolygon,
}

impl fmt::Display for ColumnType {
    /// The type as printed in the live mermaid model.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SmallInteger => f.write_str("smallint"),
            Self::Integer => f.write_str("integer"),
            Self::BigInteger => f.write_str("bigint"),
            Self::Boolean => f.write_str("boolean"),
            Self::Text => f.write_str("text"),
            Self::Decimal => f.write_str("decimal"),
            Self::Uuid => f.write_str("uuid"),
            Self::Date => f.write_str("date"),
            Self::Timestamp => f.write_str("timestamptz"),
            Self::Json => f.write_str("json"),
            Self::StringList => f.write_str("string_list"),
            Self::Geometry(GeometryKind::Point) => f.write_str("point"),
            Self::Geometry(GeometryKind::MultiPolygon) => f.write_str("multipolygon"),
            Self::File => f.write_str("file"),
            Self::Enum(name) => f.write_str(name),
        }
    }
}

/// A column default, applied by the database.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    Text(String),
    /// The current time, for `created_at` and `updated_at`.
    Now,
}

/// Who sets a column: the client, or the server on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Managed {
    /// Set once, when the row is created.
    CreatedAt,
    /// Set on every write.
    UpdatedAt,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The SQL name, in snake_case.
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    /// An integer primary key that the database numbers.
    pub auto_increment: bool,
    pub default: Option<DefaultValue>,
    /// Passwords, keys and tokens: writable, never readable.
    pub secret: bool,
    /// A login password: stored as an argon2 hash of what is written.
    pub password: bool,
    /// The most characters a text column holds.
    pub max_length: Option<u32>,
    pub managed: Option<Managed>,
}

/// What happens to a referencing row when the referenced one is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDelete {
    /// The delete is refused while rows point at the target.
    Restrict,
    SetNull,
    Cascade,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RelationKind {
    /// This entity holds `column`, pointing at `target`'s primary key.
    BelongsTo {
        column: String,
        /// A one-to-one link: the column is unique.
        unique: bool,
        on_delete: OnDelete,
        /// False for polymorphic links that no database constraint can
        /// express (a PlaceOS metadata `parent_id` names a zone or a system).
        enforced: bool,
    },
    /// `target` holds a foreign key to this entity; `via` names that
    /// belongs-to relation on `target`.
    HasMany { via: String },
    /// As `HasMany`, but the foreign key is unique.
    HasOne { via: String },
    /// Through a junction entity. `from_column` points at this entity and
    /// `to_column` at `target`.
    ManyToMany {
        junction: String,
        from_column: String,
        to_column: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    /// The relation's name in snake_case; the GraphQL field is its camelCase.
    pub name: String,
    /// The target entity's name.
    pub target: String,
    pub kind: RelationKind,
    /// The ERD line this relation comes from, if any.
    pub line: Option<usize>,
}

impl Relation {
    pub fn belongs_to_column(&self) -> Option<&str> {
        match &self.kind {
            RelationKind::BelongsTo { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// The name of a constraint or index, as the migrations create it: shortened
/// with a stable hash where PostgreSQL would truncate it (63 bytes).
pub fn constraint_name(prefix: &str, table: &str, columns: &[String]) -> String {
    const MAX_IDENT: usize = 63;
    let full = format!("{prefix}_{table}_{}", columns.join("_"));
    if full.len() <= MAX_IDENT {
        return full;
    }
    // FNV-1a: stable across builds and platforms.
    let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}_{:08x}", &full[..MAX_IDENT - 9], hash as u32)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub columns: Vec<String>,
    pub unique: bool,
    /// A materialised path: compared bytewise (the `C` collation on
    /// PostgreSQL), so that its index serves `LIKE 'prefix%'` and its order.
    pub prefix: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    /// PascalCase: the GraphQL type and the Rust entity name.
    pub name: String,
    /// The name in the ERD (`OrgUnit`, `customerdevice`, `CREDIT`).
    pub erd_name: String,
    pub table: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub indexes: Vec<Index>,
    pub relations: Vec<Relation>,
    /// Added by the overlay rather than drawn in the ERD (Iaso's `User`).
    pub from_overlay: bool,
    /// A junction table of a many-to-many relation.
    pub junction: bool,
}

impl Entity {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn relation(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The snake_case module name of the generated SeaORM entity.
    pub fn module(&self) -> String {
        heck::ToSnakeCase::to_snake_case(self.name.as_str())
    }

    /// The soft-delete column, if the entity has one (`deleted_at`, or
    /// Instance's `deleted` flag).
    pub fn soft_delete(&self) -> Option<&Column> {
        self.columns.iter().find(|c| {
            (c.name == "deleted_at" && c.ty == ColumnType::Timestamp)
                || (c.name == "deleted" && c.ty == ColumnType::Boolean)
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDef {
    /// PascalCase name.
    pub name: String,
    pub values: Vec<EnumValue>,
}

impl EnumDef {
    /// Integer enums store `number`; the others store the name.
    pub fn is_integer(&self) -> bool {
        self.values.iter().any(|v| v.number.is_some())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// The stored string (or the name of an integer value).
    pub name: String,
    pub number: Option<i32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub name: String,
    pub entities: Vec<Entity>,
    pub enums: Vec<EnumDef>,
}

impl Domain {
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }

    pub fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// The entities that the ERD itself draws (not junctions, not overlay
    /// additions).
    pub fn erd_entities(&self) -> impl Iterator<Item = &Entity> {
        self.entities
            .iter()
            .filter(|e| !e.junction && !e.from_overlay)
    }
}
