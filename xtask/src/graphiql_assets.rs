//! `cargo xtask graphiql-assets`: installs the files the GraphiQL page loads
//! (GraphiQL 3, React 18) for deployments without internet access. npm
//! fetches the packages into a temporary folder; exactly four files are
//! copied out, keeping the packages' layout, so that
//! `GraphiqlAssets::Local { base }` finds them at `{base}/graphiql/...`,
//! `{base}/react/umd/...` and `{base}/react-dom/umd/...`.
//!
//! The files are third-party code: they are installed, never committed (the
//! default folder, `./data/graphiql-assets`, is git-ignored).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// The npm packages, pinned to a major version.
const PACKAGES: [&str; 3] = ["graphiql@3", "react@18", "react-dom@18"];

/// The files copied, relative to `node_modules/` and to the target folder.
/// The same list as `gateway::web::GRAPHIQL_ASSET_FILES`.
pub const FILES: [&str; 4] = [
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
    "graphiql/graphiql.min.css",
    "graphiql/graphiql.min.js",
];

/// Installs the packages with npm and copies [`FILES`] into `dir`.
pub fn install(dir: &Path) -> Result<()> {
    let scratch = Scratch::new()?;
    let status = Command::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(&scratch.0)
        .args(PACKAGES)
        .status()
        .context("running npm (is Node.js installed?)")?;
    if !status.success() {
        bail!("npm install {} failed: {status}", PACKAGES.join(" "));
    }
    let modules = scratch.0.join("node_modules");
    for file in FILES {
        let from = modules.join(file);
        let to = dir.join(file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let bytes = std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        let package = file.split('/').next().unwrap_or(file);
        let version = package_version(&modules.join(package)).unwrap_or_else(|| "?".into());
        println!(
            "copied {package}@{version} {file} to {} ({bytes} bytes)",
            to.display()
        );
    }
    Ok(())
}

/// The `version` of an installed package's `package.json`.
fn package_version(package_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_dir.join("package.json")).ok()?;
    let after = text.split("\"version\"").nth(1)?;
    let value = after.trim_start().strip_prefix(':')?.trim_start();
    let value = value.strip_prefix('"')?;
    Some(value.split('"').next()?.to_string())
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "xtask-graphiql-assets-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_package_version() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            "{\n  \"name\": \"graphiql\",\n  \"version\": \"3.9.0\",\n  \"x\": 1\n}",
        )
        .unwrap();
        assert_eq!(package_version(dir.path()).as_deref(), Some("3.9.0"));
        assert_eq!(package_version(&dir.path().join("missing")), None);
    }

    /// The gateway's page loads the files this task installs.
    #[test]
    fn the_files_are_the_ones_the_page_loads() {
        let web = std::fs::read_to_string(crate::workspace_root().join("api/src/web.rs")).unwrap();
        for file in FILES {
            assert!(web.contains(&format!("\"{file}\"")), "{file}");
        }
    }
}
