//! Developer tasks. `cargo xtask entities` regenerates the SeaORM entities
//! from `erd/`; `cargo xtask new-migration <domain>` writes a domain's initial
//! migration; `cargo xtask graphiql-assets` installs GraphiQL's files for
//! air-gapped deployments.

mod entities;
mod graphiql_assets;
mod migration;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Developer tasks for the gateway workspace")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Regenerate entity/src/<domain>/ from erd/<domain>.mmd and its overlay.
    Entities {
        /// Write nothing; fail if the checked-in entities differ.
        #[arg(long)]
        check: bool,
    },
    /// Write the initial migration of a domain that has none yet.
    NewMigration {
        domain: String,
        /// The date prefix (YYYYMMDD) of the migration's name.
        #[arg(long)]
        date: String,
    },
    /// Install GraphiQL's scripts and stylesheet (via npm) for serving them
    /// without a CDN.
    GraphiqlAssets {
        /// The folder to copy the files into.
        #[arg(long, default_value = "./data/graphiql-assets")]
        dir: PathBuf,
    },
}

fn main() -> Result<()> {
    let root = workspace_root();
    match Cli::parse().command {
        Task::Entities { check } => {
            let generated = generate_entities()?;
            if check {
                let drift = compare_tree(&generated, &root.join("entity/src"))?;
                if !drift.is_empty() {
                    bail!(
                        "entities drifted from erd/: {}\nrun `cargo xtask entities`",
                        drift.join(", ")
                    );
                }
                println!("entities match erd/");
            } else {
                write_tree(&generated, &root.join("entity/src"))?;
                println!("wrote {} files under entity/src", generated.len());
            }
        }
        Task::NewMigration { domain, date } => {
            if date.len() != 8 || !date.chars().all(|c| c.is_ascii_digit()) {
                bail!("--date takes YYYYMMDD");
            }
            let model = erd::load(&domain)?;
            let dir = root.join("migration/src").join(&domain);
            let existing = std::fs::read_dir(&dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .any(|e| is_migration_file(&e.file_name().to_string_lossy()))
                })
                .unwrap_or(false);
            if existing {
                bail!(
                    "{domain} already has migrations: write the next one by hand (landed migrations are never regenerated)"
                );
            }
            let name = format!("m{date}_000001_{domain}_initial");
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{name}.rs"));
            std::fs::write(&path, rustfmt(&migration::initial(&model, &name))?)?;
            println!(
                "wrote {}; list it in migration/src/{domain}/mod.rs",
                path.display()
            );
        }
        Task::GraphiqlAssets { dir } => graphiql_assets::install(&dir)?,
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every generated entity file, formatted, keyed by its path under
/// `entity/src/`.
fn generate_entities() -> Result<BTreeMap<PathBuf, String>> {
    let mut files = BTreeMap::new();
    for domain in erd::load_all()? {
        for (name, text) in entities::generate(&domain) {
            files.insert(PathBuf::from(&domain.name).join(name), rustfmt(&text)?);
        }
    }
    Ok(files)
}

fn rustfmt(source: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt")?;
    child
        .stdin
        .take()
        .context("rustfmt stdin")?
        .write_all(source.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Writes the generated files, and removes files of the generated domain
/// folders that the generator no longer produces.
fn write_tree(files: &BTreeMap<PathBuf, String>, base: &Path) -> Result<()> {
    for domain in erd::domain_names() {
        let dir = base.join(domain);
        if dir.exists() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let relative = path.strip_prefix(base)?.to_path_buf();
                if !files.contains_key(&relative) {
                    std::fs::remove_file(&path)?;
                }
            }
        }
    }
    for (path, text) in files {
        let full = base.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, text)?;
    }
    Ok(())
}

/// Names the files that differ, are missing or are extra.
fn compare_tree(files: &BTreeMap<PathBuf, String>, base: &Path) -> Result<Vec<String>> {
    let mut drift = Vec::new();
    for (path, text) in files {
        match std::fs::read_to_string(base.join(path)) {
            Ok(existing) if &existing == text => {}
            Ok(_) => drift.push(format!("{} differs", path.display())),
            Err(_) => drift.push(format!("{} is missing", path.display())),
        }
    }
    for domain in erd::domain_names() {
        let Ok(entries) = std::fs::read_dir(base.join(domain)) else {
            continue;
        };
        for entry in entries.flatten() {
            let relative = entry.path().strip_prefix(base)?.to_path_buf();
            if !files.contains_key(&relative) {
                drift.push(format!("{} is not generated", relative.display()));
            }
        }
    }
    Ok(drift)
}

/// `m20261121_000001_name.rs`: a dated migration file.
fn is_migration_file(name: &str) -> bool {
    name.len() > 10 && name.starts_with('m') && name[1..9].chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regenerates the entities into a temporary folder and compares the
    /// whole tree with what is checked in: a hand edit, or an erd/ change
    /// without regeneration, fails here.
    #[test]
    fn checked_in_entities_match_the_erd() {
        let generated = generate_entities().unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_tree(&generated, dir.path()).unwrap();
        let mut differences = Vec::new();
        for path in generated.keys() {
            let fresh = std::fs::read_to_string(dir.path().join(path)).unwrap();
            let checked_in =
                std::fs::read_to_string(workspace_root().join("entity/src").join(path))
                    .unwrap_or_default();
            if fresh != checked_in {
                differences.push(path.display().to_string());
            }
        }
        differences.extend(compare_tree(&generated, &workspace_root().join("entity/src")).unwrap());
        differences.sort();
        differences.dedup();
        assert!(
            differences.is_empty(),
            "entity/src drifted from erd/ (run `cargo xtask entities`): {differences:?}"
        );
    }

    #[test]
    fn every_generated_file_says_it_is_generated() {
        for (path, text) in generate_entities().unwrap() {
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("//! @generated by `cargo xtask entities`"),
                "{}: {first}",
                path.display()
            );
        }
    }

    #[test]
    fn long_identifiers_are_shortened_stably() {
        let name = migration_name_of_long();
        assert!(name.len() <= 63);
        assert_eq!(name, migration_name_of_long());
    }

    fn migration_name_of_long() -> String {
        let model = erd::load("opentalk").unwrap();
        let text = migration::initial(&model, "m_test");
        text.lines()
            .filter_map(|l| l.split("name(\"").nth(1))
            .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
            .max_by_key(String::len)
            .unwrap_or_default()
    }
}
