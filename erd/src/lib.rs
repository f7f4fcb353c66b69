//! The domains' ERDs and overlays, parsed and resolved into one [`Domain`]
//! model each. The mermaid files are kept exactly as the source systems
//! publish them; the TOML overlay beside each says what a diagram cannot
//! (see [`overlay`]).

pub mod build;
pub mod mermaid;
pub mod model;
pub mod overlay;
mod print;

use std::fmt;

pub use model::*;
pub use print::to_mermaid;

/// An ERD or overlay problem, located in its file. Line 0 means the whole
/// file (a TOML table whose line is not known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErdError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl ErdError {
    pub fn at(file: &str, line: usize, message: String) -> Self {
        Self {
            file: file.to_string(),
            line,
            message,
        }
    }
}

impl fmt::Display for ErdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ErdError {}

/// A domain's sources, embedded so that the binary always serves the model
/// it was built from.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub name: &'static str,
    pub diagram: &'static str,
    pub overlay: &'static str,
}

/// Every domain, the flagship first.
pub const SOURCES: [Source; 5] = [
    Source {
        name: "iaso",
        diagram: include_str!("../iaso.mmd"),
        overlay: include_str!("../iaso.toml"),
    },
    Source {
        name: "opentalk",
        diagram: include_str!("../opentalk.mmd"),
        overlay: include_str!("../opentalk.toml"),
    },
    Source {
        name: "placeos",
        diagram: include_str!("../placeos.mmd"),
        overlay: include_str!("../placeos.toml"),
    },
    Source {
        name: "telemetry",
        diagram: include_str!("../telemetry.mmd"),
        overlay: include_str!("../telemetry.toml"),
    },
    Source {
        name: "gans",
        diagram: include_str!("../gans.mmd"),
        overlay: include_str!("../gans.toml"),
    },
];

/// The names of every domain, in [`SOURCES`] order.
pub fn domain_names() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|s| s.name)
}

/// Parses and resolves one domain from its texts.
pub fn from_sources(name: &str, diagram: &str, overlay: &str) -> Result<Domain, ErdError> {
    let diagram_file = format!("erd/{name}.mmd");
    let overlay_file = format!("erd/{name}.toml");
    let parsed = mermaid::parse(&diagram_file, diagram)?;
    build::build(name, &diagram_file, &parsed, &overlay_file, overlay)
}

/// Loads one embedded domain by name.
pub fn load(name: &str) -> Result<Domain, ErdError> {
    let source = SOURCES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ErdError::at("erd", 0, format!("unknown domain `{name}`")))?;
    from_sources(source.name, source.diagram, source.overlay)
}

/// Loads every embedded domain.
pub fn load_all() -> Result<Vec<Domain>, ErdError> {
    domain_names().map(load).collect()
}
