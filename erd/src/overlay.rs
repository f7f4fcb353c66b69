//! The overlay: what a domain's diagram cannot say, in TOML beside it.
//!
//! Relation specs are short strings, used in `fields` (an ERD field),
//! `add` (a new column or relation) and `rel` (an ERD relationship line):
//!
//! | spec | meaning |
//! |---|---|
//! | `fk Target` | a foreign key to `Target` (the target is implied in `rel`) |
//! | `fk? Target` | the same, nullable |
//! | `... unique` | one-to-one: the key is unique |
//! | `... column=name` | the FK column, when the default does not fit |
//! | `... unenforced` | no database constraint (polymorphic links) |
//! | `m2m Target`, `... table=name` | many-to-many, owning side: the junction table |
//! | `<- name` | the reverse accessor of `Target.name` (an FK or an m2m) |
//! | `... as=name` | the relation's name, when the ERD label does not fit |
//! | `drop: reason` | not served: the reason says why |
//!
//! In `add`, a spec can also be a plain ERD type (`CharField`, `bool`) for a
//! new scalar column.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    #[serde(default)]
    pub domain: DomainOptions,
    /// Enum types: a list of string values, or a table of integer values.
    /// The key is the enum's name as the ERD or the overlay writes it.
    #[serde(default)]
    pub enums: toml::Table,
    /// Per entity, keyed by the ERD name.
    #[serde(default)]
    pub entity: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainOptions {
    /// ERD tables that are not served, with the reason.
    #[serde(default)]
    pub exclude: BTreeMap<String, String>,
    /// The type of an `id` primary key added to every entity that has none.
    pub implicit_pk: Option<String>,
    /// Columns are nullable unless listed in `not_null` (for ERDs whose
    /// source treats every attribute as optional).
    #[serde(default)]
    pub default_nullable: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityOverlay {
    /// The PascalCase entity name, where it cannot be derived.
    pub name: Option<String>,
    pub table: Option<String>,
    pub pk: Option<OneOrMany>,
    /// False when an integer key is chosen by the client, not the database.
    pub pk_auto: Option<bool>,
    #[serde(default)]
    pub types: toml::Table,
    #[serde(default)]
    pub fields: toml::Table,
    #[serde(default)]
    pub add: toml::Table,
    #[serde(default)]
    pub rel: toml::Table,
    #[serde(default)]
    pub null: Vec<String>,
    #[serde(default)]
    pub not_null: Vec<String>,
    #[serde(default)]
    pub unique: Vec<OneOrMany>,
    #[serde(default)]
    pub index: Vec<OneOrMany>,
    /// Text columns queried by prefix (materialised paths).
    #[serde(default)]
    pub prefix_index: Vec<String>,
    #[serde(default)]
    pub enums: BTreeMap<String, String>,
    #[serde(default)]
    pub default: toml::Table,
    #[serde(default)]
    pub secret: Vec<String>,
    /// Login passwords among the secrets: stored as argon2 hashes.
    #[serde(default)]
    pub passwords: Vec<String>,
    /// The most characters of text columns.
    #[serde(default)]
    pub max_length: BTreeMap<String, u32>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Fk(FkSpec),
    M2m {
        target: Option<String>,
        table: Option<String>,
        rename: Option<String>,
    },
    Reverse {
        of: String,
        rename: Option<String>,
    },
    Drop {
        reason: String,
    },
    /// A scalar column of this ERD type (only in `add`).
    Type(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FkSpec {
    pub target: Option<String>,
    pub nullable: bool,
    pub unique: bool,
    pub column: Option<String>,
    pub rename: Option<String>,
    pub enforced: bool,
}

impl Spec {
    /// Parses one spec string; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(reason) = text.strip_prefix("drop:") {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err("`drop:` needs a reason".into());
            }
            return Ok(Self::Drop {
                reason: reason.to_string(),
            });
        }
        let mut words = text.split_whitespace();
        let head = words.next().ok_or("empty spec")?;
        let mut target = None;
        let mut unique = false;
        let mut enforced = true;
        let mut column = None;
        let mut table = None;
        let mut rename = None;
        let mut of = None;
        for word in words {
            if let Some(v) = word.strip_prefix("column=") {
                column = Some(v.to_string());
            } else if let Some(v) = word.strip_prefix("table=") {
                table = Some(v.to_string());
            } else if let Some(v) = word.strip_prefix("as=") {
                rename = Some(v.to_string());
            } else if word == "unique" {
                unique = true;
            } else if word == "unenforced" {
                enforced = false;
            } else if word.contains('=') {
                return Err(format!("unknown option `{word}`"));
            } else if head == "<-" && of.is_none() {
                of = Some(word.to_string());
            } else if target.is_none() && head != "<-" {
                target = Some(word.to_string());
            } else {
                return Err(format!("unexpected `{word}` in `{text}`"));
            }
        }
        let only = |allowed: &[&str]| -> Result<(), String> {
            let used = [
                ("unique", unique),
                ("unenforced", !enforced),
                ("column=", column.is_some()),
                ("table=", table.is_some()),
            ];
            match used
                .iter()
                .find(|(name, on)| *on && !allowed.contains(name))
            {
                Some((name, _)) => Err(format!("`{name}` does not apply to `{head}`")),
                None => Ok(()),
            }
        };
        match head {
            "fk" | "fk?" => {
                only(&["unique", "unenforced", "column="])?;
                Ok(Self::Fk(FkSpec {
                    target,
                    nullable: head == "fk?",
                    unique,
                    column,
                    rename,
                    enforced,
                }))
            }
            "m2m" => {
                only(&["table="])?;
                Ok(Self::M2m {
                    target,
                    table,
                    rename,
                })
            }
            "<-" => {
                only(&[])?;
                let of = of.ok_or("`<-` needs the name of the relation it reverses")?;
                Ok(Self::Reverse { of, rename })
            }
            ty => {
                if target.is_some() || rename.is_some() {
                    return Err(format!("`{text}` is neither a relation spec nor a type"));
                }
                only(&[])?;
                Ok(Self::Type(ty.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(
            Spec::parse("fk? User unique column=x_id as=owner").unwrap(),
            Spec::Fk(FkSpec {
                target: Some("User".into()),
                nullable: true,
                unique: true,
                column: Some("x_id".into()),
                rename: Some("owner".into()),
                enforced: true,
            })
        );
        assert_eq!(
            Spec::parse("<- parent").unwrap(),
            Spec::Reverse {
                of: "parent".into(),
                rename: None
            }
        );
        assert_eq!(
            Spec::parse("m2m table=t").unwrap(),
            Spec::M2m {
                target: None,
                table: Some("t".into()),
                rename: None
            }
        );
        assert_eq!(
            Spec::parse("CharField").unwrap(),
            Spec::Type("CharField".into())
        );
        assert!(matches!(
            Spec::parse("drop: polio plugin").unwrap(),
            Spec::Drop { .. }
        ));
    }

    #[test]
    fn rejects_bad_specs() {
        assert_eq!(Spec::parse("drop:").unwrap_err(), "`drop:` needs a reason");
        assert_eq!(
            Spec::parse("<-").unwrap_err(),
            "`<-` needs the name of the relation it reverses"
        );
        assert_eq!(
            Spec::parse("m2m unique").unwrap_err(),
            "`unique` does not apply to `m2m`"
        );
        assert_eq!(
            Spec::parse("fk A B").unwrap_err(),
            "unexpected `B` in `fk A B`"
        );
        assert_eq!(
            Spec::parse("fk colum=x").unwrap_err(),
            "unknown option `colum=x`"
        );
    }
}
