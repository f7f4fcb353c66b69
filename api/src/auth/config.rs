//! Where the keys come from: the `GATEWAY_JWT_*` flags and variables, shared
//! by every domain; per-domain overrides in the TOML file named by
//! `GATEWAY_AUTH_CONFIG`; and, on the embedded SQLite default without any
//! configured key, a secret generated once into `<GATEWAY_DATA_DIR>/jwt-secret`.
//!
//! The per-domain file has one table per domain, every entry optional:
//!
//! ```toml
//! [domains.iaso]
//! public_key = "keys/iaso.pem"   # or secret = "...", or jwks = "iaso-jwks.json"
//! algorithms = ["RS256"]
//! issuer = "https://sso.example.org/realms/iaso"
//! leeway = 30
//! subject_claim = "preferred_username"
//! tenant_claim = "org"
//! roles_claim = "realm_access.roles"
//! ```
//!
//! A domain that names any key (`secret`, `public_key`, `jwks`) uses those
//! keys only, with algorithms by key kind unless it lists `algorithms`; the
//! other entries fall back to the shared flags. Relative paths are relative
//! to the file's folder.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use base64::Engine;
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::jwt::{ClaimNames, DomainKeys, KeySource};
use crate::config::Config;

/// The name of the generated secret's file in the data folder.
pub const GENERATED_SECRET_FILE: &str = "jwt-secret";

/// Authentication settings shared by every domain. Flattened into
/// [`Config`]; the doc comments are the `--help`.
#[derive(Debug, Clone, clap::Args)]
pub struct JwtConfig {
    /// Secret of HS256 tokens: verifies them, and `gateway token` signs with
    /// it. Without any key, the embedded SQLite default generates one into
    /// `<GATEWAY_DATA_DIR>/jwt-secret`; on PostgreSQL a key is required.
    #[arg(
        long = "jwt-secret",
        env = "GATEWAY_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub secret: Option<SecretString>,

    /// PEM file of a public key (RSA, EC P-256/P-384 or Ed25519) that
    /// verifies tokens (RS256, ES256, EdDSA, ...).
    #[arg(long = "jwt-public-key", env = "GATEWAY_JWT_PUBLIC_KEY", global = true)]
    pub public_key: Option<PathBuf>,

    /// JWKS file (`{"keys": [...]}`) of public keys that verify tokens; a
    /// token's `kid` selects the key.
    #[arg(long = "jwt-jwks", env = "GATEWAY_JWT_JWKS", global = true)]
    pub jwks: Option<PathBuf>,

    /// Accepted token algorithms, comma-separated (HS256, HS384, HS512,
    /// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA).
    /// Default: by key kind (HS256 for the secret; RS256, ES256, ES384 or
    /// EdDSA for a public key; a JWK's own `alg`).
    #[arg(
        long = "jwt-algorithms",
        env = "GATEWAY_JWT_ALGORITHMS",
        value_delimiter = ',',
        global = true
    )]
    pub algorithms: Vec<String>,

    /// Required issuer (`iss`) of tokens. Unchecked when unset.
    #[arg(long = "jwt-issuer", env = "GATEWAY_JWT_ISSUER", global = true)]
    pub issuer: Option<String>,

    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(
        long = "jwt-leeway",
        env = "GATEWAY_JWT_LEEWAY",
        default_value_t = 30,
        global = true
    )]
    pub leeway: u64,

    /// Claim naming the user. A dotted name (`a.b`) reaches into an object
    /// when no claim has the whole name.
    #[arg(
        long = "jwt-subject-claim",
        env = "GATEWAY_JWT_SUBJECT_CLAIM",
        default_value = "sub",
        global = true
    )]
    pub subject_claim: String,

    /// Claim naming the user's tenant.
    #[arg(
        long = "jwt-tenant-claim",
        env = "GATEWAY_JWT_TENANT_CLAIM",
        default_value = "tenant",
        global = true
    )]
    pub tenant_claim: String,

    /// Claim listing the user's roles: an array of strings or a
    /// comma-separated string.
    #[arg(
        long = "jwt-roles-claim",
        env = "GATEWAY_JWT_ROLES_CLAIM",
        default_value = "roles",
        global = true
    )]
    pub roles_claim: String,

    /// TOML file of per-domain authentication overrides: `[domains.<name>]`
    /// tables with `secret`, `public_key`, `jwks`, `algorithms`, `issuer`,
    /// `leeway`, `subject_claim`, `tenant_claim`, `roles_claim`.
    #[arg(long = "auth-config", env = "GATEWAY_AUTH_CONFIG", global = true)]
    pub auth_config: Option<PathBuf>,
}

impl Default for JwtConfig {
    /// The same values as the flags' defaults: no key, leeway 30 s, claims
    /// `sub`, `tenant`, `roles`.
    fn default() -> Self {
        Self {
            secret: None,
            public_key: None,
            jwks: None,
            algorithms: Vec::new(),
            issuer: None,
            leeway: 30,
            subject_claim: "sub".into(),
            tenant_claim: "tenant".into(),
            roles_claim: "roles".into(),
            auth_config: None,
        }
    }
}

/// The per-domain overrides file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    #[serde(default)]
    domains: BTreeMap<String, DomainAuth>,
}

/// One domain's overrides; every entry is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainAuth {
    secret: Option<String>,
    public_key: Option<PathBuf>,
    jwks: Option<PathBuf>,
    algorithms: Option<Vec<String>>,
    issuer: Option<String>,
    leeway: Option<u64>,
    subject_claim: Option<String>,
    tenant_claim: Option<String>,
    roles_claim: Option<String>,
}

impl DomainAuth {
    fn has_keys(&self) -> bool {
        self.secret.is_some() || self.public_key.is_some() || self.jwks.is_some()
    }
}

/// The verification keys of every loaded domain, built once at startup.
pub struct AuthKeys {
    domains: HashMap<String, Arc<DomainKeys>>,
}

impl AuthKeys {
    /// The keys of one domain, if it was loaded.
    pub fn domain(&self, name: &str) -> Option<&DomainKeys> {
        self.domains.get(name).map(|d| d.as_ref())
    }
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.domains.keys().collect();
        names.sort();
        f.debug_struct("AuthKeys").field("domains", &names).finish()
    }
}

/// Loads the keys of every mounted domain (see the module docs). Fails on
/// PostgreSQL when a domain has no key, and on any unreadable key.
pub fn load_keys(config: &Config) -> anyhow::Result<AuthKeys> {
    let domains = config.mounted_domains()?;
    load_keys_for(config, &domains)
}

/// As [`load_keys`], for the given domains only.
pub fn load_keys_for(config: &Config, domains: &[&str]) -> anyhow::Result<AuthKeys> {
    let jwt = &config.jwt;
    let overrides = match &jwt.auth_config {
        Some(path) => read_auth_file(path)?,
        None => (AuthFile::default(), PathBuf::new()),
    };
    let (mut file, base) = overrides;
    let shared_algorithms = parse_algorithms(&jwt.algorithms, "GATEWAY_JWT_ALGORITHMS")?;
    let mut generated: Option<SecretString> = None;
    let mut loaded = HashMap::new();
    for &domain in domains {
        let over = file.domains.remove(domain).unwrap_or_default();
        let (sources, algorithms) = if over.has_keys() {
            let mut sources = Vec::new();
            if let Some(secret) = &over.secret {
                sources.push(KeySource::Secret(SecretString::from(secret.as_str())));
            }
            if let Some(path) = &over.public_key {
                sources.push(KeySource::PublicKey(base.join(path)));
            }
            if let Some(path) = &over.jwks {
                sources.push(KeySource::Jwks(base.join(path)));
            }
            let algorithms = match &over.algorithms {
                Some(list) => parse_algorithms(list, &format!("{domain}'s algorithms"))?,
                None => Vec::new(),
            };
            (sources, algorithms)
        } else {
            let mut sources = shared_sources(jwt);
            if sources.is_empty() {
                if config.database_url.is_some() {
                    bail!(
                        "no JWT key for domain `{domain}`: set GATEWAY_JWT_SECRET, \
                         GATEWAY_JWT_PUBLIC_KEY or GATEWAY_JWT_JWKS (or the domain's table in \
                         GATEWAY_AUTH_CONFIG); on PostgreSQL the gateway does not generate one"
                    );
                }
                let secret = match &generated {
                    Some(secret) => secret.clone(),
                    None => {
                        let secret = generated_secret(&config.data_dir)?;
                        generated = Some(secret.clone());
                        secret
                    }
                };
                sources.push(KeySource::Secret(secret));
            }
            let algorithms = match &over.algorithms {
                Some(list) => parse_algorithms(list, &format!("{domain}'s algorithms"))?,
                None => shared_algorithms.clone(),
            };
            (sources, algorithms)
        };
        let claims = ClaimNames {
            subject: over
                .subject_claim
                .unwrap_or_else(|| jwt.subject_claim.clone()),
            tenant: over
                .tenant_claim
                .unwrap_or_else(|| jwt.tenant_claim.clone()),
            roles: over.roles_claim.unwrap_or_else(|| jwt.roles_claim.clone()),
        };
        let keys = DomainKeys::build(
            domain,
            &sources,
            &algorithms,
            over.issuer.or_else(|| jwt.issuer.clone()),
            over.leeway.unwrap_or(jwt.leeway),
            claims,
        )
        .with_context(|| format!("loading the JWT keys of domain `{domain}`"))?;
        loaded.insert(domain.to_string(), Arc::new(keys));
    }
    // A table for a domain the gateway does not know is a typo: say so.
    let known: Vec<&'static str> = erd::domain_names().collect();
    if let Some(unknown) = file.domains.keys().find(|d| !known.contains(&d.as_str())) {
        bail!(
            "unknown domain `{unknown}` in GATEWAY_AUTH_CONFIG; known: {}",
            known.join(", ")
        );
    }
    Ok(AuthKeys { domains: loaded })
}

/// The shared key sources, in the order secret, PEM, JWKS.
fn shared_sources(jwt: &JwtConfig) -> Vec<KeySource> {
    let mut sources = Vec::new();
    if let Some(secret) = &jwt.secret {
        sources.push(KeySource::Secret(secret.clone()));
    }
    if let Some(path) = &jwt.public_key {
        sources.push(KeySource::PublicKey(path.clone()));
    }
    if let Some(path) = &jwt.jwks {
        sources.push(KeySource::Jwks(path.clone()));
    }
    sources
}

/// Reads the overrides file; returns it with the folder its relative paths
/// start from.
fn read_auth_file(path: &Path) -> anyhow::Result<(AuthFile, PathBuf)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading GATEWAY_AUTH_CONFIG {}", path.display()))?;
    let file: AuthFile = toml::from_str(&text)
        .with_context(|| format!("parsing GATEWAY_AUTH_CONFIG {}", path.display()))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((file, base))
}

/// Parses algorithm names, refusing unknown ones (and `none`).
pub(crate) fn parse_algorithms(names: &[String], what: &str) -> anyhow::Result<Vec<Algorithm>> {
    let mut algorithms = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let algorithm: Algorithm = name.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown JWT algorithm `{name}` in {what}; known: HS256, HS384, HS512, RS256, \
                 RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"
            )
        })?;
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    Ok(algorithms)
}

/// The embedded default's secret: read from `<data_dir>/jwt-secret`, or
/// generated there (mode 0600) on the first start.
fn generated_secret(data_dir: &Path) -> anyhow::Result<SecretString> {
    let path = data_dir.join(GENERATED_SECRET_FILE);
    if !path.exists() {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("no randomness for the JWT secret: {e}"))?;
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // Written aside, then linked into place: a concurrent start either
        // wins the link or reads the winner's complete file.
        let temp = data_dir.join(format!(
            ".{GENERATED_SECRET_FILE}.{}.tmp",
            std::process::id()
        ));
        write_private(&temp, secret.as_bytes())?;
        let linked = std::fs::hard_link(&temp, &path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %path.display(), "generated a JWT secret");
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(error).with_context(|| format!("writing {}", path.display()));
            }
        }
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let secret = text.trim();
    if secret.is_empty() {
        bail!(
            "{} is empty: delete it to generate a new secret",
            path.display()
        );
    }
    warn_if_readable_by_others(&path);
    Ok(SecretString::from(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the JWT secret file is readable by other users: chmod 600 it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// The secret's bytes, for building keys.
pub(crate) fn secret_bytes(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
}
