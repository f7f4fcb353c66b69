//! A parser for the two mermaid dialects the domain ERDs use: `erDiagram` and
//! `classDiagram`. It keeps what the diagram says, untouched; resolving what it
//! means (which line is a foreign key, which a reverse accessor) is the job of
//! [`crate::build`], with the overlay's help.

use crate::ErdError;

/// Which mermaid dialect a diagram is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagramKind {
    Er,
    Class,
}

/// One side of a relationship line, as drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cardinality {
    ExactlyOne,
    ZeroOrOne,
    OneOrMore,
    ZeroOrMore,
    /// A class-diagram arrow end carries no cardinality.
    Unspecified,
}

impl Cardinality {
    /// True for the "many" ends (`|{`, `o{` and their mirrors).
    pub fn is_many(self) -> bool {
        matches!(self, Self::OneOrMore | Self::ZeroOrMore)
    }

    fn parse(token: &str) -> Option<Self> {
        Some(match token {
            "||" => Self::ExactlyOne,
            "|o" | "o|" => Self::ZeroOrOne,
            "}|" | "|{" => Self::OneOrMore,
            "}o" | "o{" => Self::ZeroOrMore,
            _ => return None,
        })
    }
}

/// A field line inside an entity or class block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawField {
    pub ty: String,
    pub name: String,
    /// Key markers of an `erDiagram` attribute: `PK`, `FK`, `UK`.
    pub keys: Vec<String>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntity {
    pub name: String,
    pub fields: Vec<RawField>,
    pub line: usize,
}

/// A relationship line. For `erDiagram` the label is the text after `:`
/// (quotes removed). For `classDiagram`, `a --> b` is stored with `left = a`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRelation {
    pub left: String,
    pub right: String,
    pub left_card: Cardinality,
    pub right_card: Cardinality,
    pub label: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagram {
    pub kind: DiagramKind,
    pub entities: Vec<RawEntity>,
    pub relations: Vec<RawRelation>,
}

impl Diagram {
    pub fn entity(&self, name: &str) -> Option<&RawEntity> {
        self.entities.iter().find(|e| e.name == name)
    }
}

/// Parses a mermaid `erDiagram` or `classDiagram`. `file` names the source in
/// errors, which always carry the 1-based line number.
pub fn parse(file: &str, text: &str) -> Result<Diagram, ErdError> {
    let err = |line: usize, message: String| ErdError::at(file, line, message);
    let mut kind = None;
    let mut entities: Vec<RawEntity> = Vec::new();
    let mut relations = Vec::new();
    // The entity block we are inside, if any.
    let mut open: Option<RawEntity> = None;

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with("%%") {
            continue;
        }
        let Some(kind) = kind else {
            kind = Some(match line {
                "erDiagram" => DiagramKind::Er,
                "classDiagram" => DiagramKind::Class,
                _ => {
                    return Err(err(
                        line_no,
                        format!("expected `erDiagram` or `classDiagram`, found `{line}`"),
                    ));
                }
            });
            continue;
        };

        if let Some(entity) = open.as_mut() {
            if line == "}" {
                let done = open.take();
                entities.extend(done);
                continue;
            }
            if line.contains('{') {
                return Err(err(
                    line_no,
                    format!(
                        "entity `{}` opened on line {} is not closed before this line",
                        entity.name, entity.line
                    ),
                ));
            }
            let mut field = parse_field(kind, line).map_err(|m| err(line_no, m))?;
            field.line = line_no;
            entity.fields.push(field);
            continue;
        }

        if let Some(head) = line.strip_suffix('{') {
            let name = match kind {
                DiagramKind::Er => head.trim(),
                DiagramKind::Class => head
                    .trim()
                    .strip_prefix("class ")
                    .map(str::trim)
                    .ok_or_else(|| {
                        err(line_no, format!("expected `class NAME {{`, found `{line}`"))
                    })?,
            };
            check_identifier(name).map_err(|m| err(line_no, m))?;
            if entities.iter().any(|e| e.name == name) {
                return Err(err(line_no, format!("entity `{name}` is defined twice")));
            }
            open = Some(RawEntity {
                name: name.to_string(),
                fields: Vec::new(),
                line: line_no,
            });
            continue;
        }

        match kind {
            DiagramKind::Er => {
                relations.push(parse_er_relation(line).map_err(|m| err(line_no, m))?)
            }
            DiagramKind::Class => {
                if line.starts_with("direction ") {
                    continue;
                }
                relations.push(parse_class_relation(line).map_err(|m| err(line_no, m))?);
            }
        }
        if let Some(last) = relations.last_mut() {
            last.line = line_no;
        }
    }

    if let Some(entity) = open {
        return Err(err(
            entity.line,
            format!("entity `{}` is never closed", entity.name),
        ));
    }
    let Some(kind) = kind else {
        return Err(err(
            1,
            "empty diagram: expected `erDiagram` or `classDiagram`".to_string(),
        ));
    };
    Ok(Diagram {
        kind,
        entities,
        relations,
    })
}

fn check_identifier(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid entity or field name"))
    }
}

fn parse_field(kind: DiagramKind, line: &str) -> Result<RawField, String> {
    // A trailing "comment" is allowed by mermaid; we keep no use for it.
    let body = match line.find('"') {
        Some(at) => line[..at].trim(),
        None => line,
    };
    let words: Vec<&str> = body.split_whitespace().collect();
    let (ty, name, keys) = match kind {
        // `type name [PK|FK|UK[,..]]`
        DiagramKind::Er => match words.as_slice() {
            [ty, name] => (ty.to_string(), *name, Vec::new()),
            [ty, name, keys] => {
                let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_string()).collect();
                if let Some(bad) = keys
                    .iter()
                    .find(|k| !matches!(k.as_str(), "PK" | "FK" | "UK"))
                {
                    return Err(format!(
                        "unknown key marker `{bad}` (expected PK, FK or UK)"
                    ));
                }
                (ty.to_string(), *name, keys)
            }
            _ => return Err(format!("expected `type name [keys]`, found `{line}`")),
        },
        // `type words... name`: class-diagram types may contain spaces
        // (`timestamp with time zone`).
        DiagramKind::Class => match words.split_last() {
            Some((name, ty)) if !ty.is_empty() => (ty.join(" "), *name, Vec::new()),
            _ => return Err(format!("expected `type name`, found `{line}`")),
        },
    };
    check_identifier(name)?;
    Ok(RawField {
        ty,
        name: name.to_string(),
        keys,
        line: 0,
    })
}

fn parse_er_relation(line: &str) -> Result<RawRelation, String> {
    let (left_part, label) = line.split_once(':').ok_or_else(|| {
        format!("expected a relationship `A ||--o{{ B : label` or an entity block, found `{line}`")
    })?;
    let label = label.trim().trim_matches('"').trim().to_string();
    let dash = left_part
        .find("--")
        .or_else(|| left_part.find(".."))
        .ok_or_else(|| format!("relationship has no `--` or `..` connector: `{line}`"))?;
    let (before, after) = (&left_part[..dash], &left_part[dash + 2..]);
    let left_card_text = before.get(before.len().saturating_sub(2)..).unwrap_or("");
    let right_card_text = after.get(..2).unwrap_or("");
    let left_card = Cardinality::parse(left_card_text)
        .ok_or_else(|| format!("unknown cardinality `{left_card_text}` in `{line}`"))?;
    let right_card = Cardinality::parse(right_card_text)
        .ok_or_else(|| format!("unknown cardinality `{right_card_text}` in `{line}`"))?;
    let left = before[..before.len() - 2].trim();
    let right = after[2..].trim();
    check_identifier(left)?;
    check_identifier(right)?;
    Ok(RawRelation {
        left: left.to_string(),
        right: right.to_string(),
        left_card,
        right_card,
        label,
        line: 0,
    })
}

fn parse_class_relation(line: &str) -> Result<RawRelation, String> {
    let (body, label) = match line.split_once(':') {
        Some((body, label)) => (body, label.trim().to_string()),
        None => (line, String::new()),
    };
    let words: Vec<&str> = body.split_whitespace().collect();
    match words.as_slice() {
        [left, "-->", right] => {
            check_identifier(left)?;
            check_identifier(right)?;
            Ok(RawRelation {
                left: left.to_string(),
                right: right.to_string(),
                left_card: Cardinality::Unspecified,
                right_card: Cardinality::Unspecified,
                label,
                line: 0,
            })
        }
        _ => Err(format!(
            "expected `a --> b` or a class block, found `{line}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entities_and_relations_with_and_without_spaces() {
        let d = parse(
            "t.mmd",
            "erDiagram\nA{\nAutoField id\nTextField name\n}\nB {\n  uuid id PK\n  uuid a_id FK \"c\"\n}\nA||--|{B : bs\nB }o--|| A: \"\"\n",
        )
        .unwrap();
        assert_eq!(d.kind, DiagramKind::Er);
        assert_eq!(d.entities.len(), 2);
        assert_eq!(d.entities[1].fields[1].keys, vec!["FK"]);
        assert_eq!(d.relations[0].left, "A");
        assert_eq!(d.relations[0].right, "B");
        assert_eq!(d.relations[0].label, "bs");
        assert_eq!(d.relations[0].right_card, Cardinality::OneOrMore);
        assert_eq!(d.relations[0].line, 10);
        assert_eq!(d.relations[1].left_card, Cardinality::ZeroOrMore);
        assert_eq!(d.relations[1].label, "");
    }

    #[test]
    fn class_diagram_types_may_have_spaces() {
        let d = parse(
            "t.mmd",
            "classDiagram\ndirection BT\nclass ev {\n   timestamp with time zone at\n   integer id\n}\nx  -->  ev \n",
        )
        .unwrap();
        assert_eq!(d.entities[0].fields[0].ty, "timestamp with time zone");
        assert_eq!(d.entities[0].fields[0].name, "at");
        assert_eq!(d.relations[0].left, "x");
        assert_eq!(d.relations[0].right, "ev");
    }

    fn error_of(text: &str) -> String {
        parse("bad.mmd", text).unwrap_err().to_string()
    }

    #[test]
    fn malformed_input_names_the_line() {
        assert_eq!(
            error_of("erDiagram\nA {\nint id\n"),
            "bad.mmd:2: entity `A` is never closed"
        );
        assert_eq!(
            error_of("erDiagram\nA {\nint\n}"),
            "bad.mmd:3: expected `type name [keys]`, found `int`"
        );
        assert_eq!(
            error_of("erDiagram\nA ||~~|{ B : x\n"),
            "bad.mmd:2: relationship has no `--` or `..` connector: `A ||~~|{ B : x`"
        );
        assert_eq!(
            error_of("erDiagram\nA |x--|{ B : x\n"),
            "bad.mmd:2: unknown cardinality `|x` in `A |x--|{ B : x`"
        );
        assert_eq!(
            error_of("graph TD\n"),
            "bad.mmd:1: expected `erDiagram` or `classDiagram`, found `graph TD`"
        );
        assert_eq!(
            error_of(""),
            "bad.mmd:1: empty diagram: expected `erDiagram` or `classDiagram`"
        );
        assert_eq!(
            error_of("erDiagram\nA {\nint id\n}\nA {\n}\n"),
            "bad.mmd:5: entity `A` is defined twice"
        );
        assert_eq!(
            error_of("erDiagram\nA {\nint id PRIMARY\n}\n"),
            "bad.mmd:3: unknown key marker `PRIMARY` (expected PK, FK or UK)"
        );
        assert_eq!(
            error_of("erDiagram\nA {\nint id\nB {\n"),
            "bad.mmd:4: entity `A` opened on line 2 is not closed before this line"
        );
        assert_eq!(
            error_of("erDiagram\nA just words\n"),
            "bad.mmd:2: expected a relationship `A ||--o{ B : label` or an entity block, found `A just words`"
        );
        assert_eq!(
            error_of("classDiagram\na <-- b\n"),
            "bad.mmd:2: expected `a --> b` or a class block, found `a <-- b`"
        );
    }
}
