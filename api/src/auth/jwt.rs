//! One domain's keys: verifying a bearer token into a [`Principal`], and
//! signing one (`gateway token`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::Principal;
use super::config::secret_bytes;
use crate::error::ApiError;

/// Where a key comes from.
pub(crate) enum KeySource {
    /// An HMAC secret.
    Secret(SecretString),
    /// A PEM file holding one public key.
    PublicKey(PathBuf),
    /// A JWKS file.
    Jwks(PathBuf),
}

/// The claims a [`Principal`] is read from.
#[derive(Clone, Debug)]
pub(crate) struct ClaimNames {
    pub subject: String,
    pub tenant: String,
    pub roles: String,
}

/// A verification key with the algorithms it accepts.
struct VerifyKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// One domain's verification keys and token rules.
pub struct DomainKeys {
    domain: String,
    keys: Vec<VerifyKey>,
    /// The secret and its algorithm, when the domain has one.
    signer: Option<(EncodingKey, Algorithm)>,
    issuer: Option<String>,
    leeway: u64,
    claims: ClaimNames,
}

impl DomainKeys {
    /// Builds the keys from their sources. `algorithms`, when not empty,
    /// restricts every key to those of its family; a key left with none is
    /// an error.
    pub(crate) fn build(
        domain: &str,
        sources: &[KeySource],
        algorithms: &[Algorithm],
        issuer: Option<String>,
        leeway: u64,
        claims: ClaimNames,
    ) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        let mut signer = None;
        for source in sources {
            match source {
                KeySource::Secret(secret) => {
                    let bytes = secret_bytes(secret);
                    if bytes.is_empty() {
                        bail!("the JWT secret is empty");
                    }
                    if bytes.len() < 32 {
                        tracing::warn!(
                            domain,
                            "the JWT secret is shorter than 32 bytes: use a longer random one"
                        );
                    }
                    let allowed = restrict(AlgorithmFamily::Hmac, &[Algorithm::HS256], algorithms)
                        .context("the secret")?;
                    if let Some(&alg) = allowed.first() {
                        signer = Some((EncodingKey::from_secret(bytes), alg));
                    }
                    keys.push(VerifyKey {
                        kid: None,
                        key: DecodingKey::from_secret(bytes),
                        algorithms: allowed,
                    });
                }
                KeySource::PublicKey(path) => {
                    let pem = std::fs::read(path)
                        .with_context(|| format!("reading the public key {}", path.display()))?;
                    let (key, defaults) = pem_key(&pem)
                        .with_context(|| format!("reading the public key {}", path.display()))?;
                    let allowed = restrict(key.family(), &defaults, algorithms)
                        .with_context(|| format!("the public key {}", path.display()))?;
                    check_key(&key, &allowed)
                        .with_context(|| format!("the public key {}", path.display()))?;
                    keys.push(VerifyKey {
                        kid: None,
                        key,
                        algorithms: allowed,
                    });
                }
                KeySource::Jwks(path) => {
                    let loaded = jwks_keys(path, algorithms)
                        .with_context(|| format!("reading the JWKS {}", path.display()))?;
                    keys.extend(loaded);
                }
            }
        }
        if keys.is_empty() {
            bail!("no usable key");
        }
        Ok(Self {
            domain: domain.to_string(),
            keys,
            signer,
            issuer,
            leeway,
            claims,
        })
    }

    /// Verifies a bearer token: signature, algorithm, `exp`, `nbf`, `aud`
    /// (this domain) and `iss` when configured. Every failure is
    /// [`ApiError::Unauthenticated`].
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
        let alg = header.alg;
        let candidates: Vec<&VerifyKey> = self
            .keys
            .iter()
            .filter(|k| k.algorithms.contains(&alg))
            .collect();
        if candidates.is_empty() {
            return Err(unauthenticated(format!(
                "tokens signed with {alg:?} are not accepted"
            )));
        }
        // The token's `kid` picks the key; keys without an id (the secret,
        // a PEM key) are tried when none has it.
        let candidates = match &header.kid {
            Some(kid) if candidates.iter().any(|k| k.kid.as_deref() == Some(kid)) => candidates
                .into_iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .collect(),
            Some(kid) => {
                let unnamed: Vec<&VerifyKey> =
                    candidates.into_iter().filter(|k| k.kid.is_none()).collect();
                if unnamed.is_empty() {
                    return Err(unauthenticated(format!("no key has the id `{kid}`")));
                }
                unnamed
            }
            None => candidates,
        };
        let validation = self.validation(alg);
        let mut last = None;
        for key in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
                Ok(data) => return self.principal(&data.claims),
                // Another key may have signed it.
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {
                    last = Some(error);
                }
                Err(error) => return Err(self.error(&error)),
            }
        }
        Err(match last {
            Some(error) => self.error(&error),
            None => unauthenticated("the token's signature does not verify"),
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&[&self.domain]);
        let mut required = vec!["exp", "aud"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// The principal the verified claims name.
    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, ApiError> {
        let subject = scalar_claim(claims, &self.claims.subject)?;
        let tenant = scalar_claim(claims, &self.claims.tenant)?;
        let roles = match claim(claims, &self.claims.roles) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(list)) => list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(role) => Ok(role.clone()),
                    _ => Err(unauthenticated(format!(
                        "the token's `{}` claim must list strings",
                        self.claims.roles
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(unauthenticated(format!(
                    "the token's `{}` claim must be an array of strings or a comma-separated string",
                    self.claims.roles
                )));
            }
        };
        Ok(Principal {
            subject,
            tenant,
            roles,
            anonymous: false,
        })
    }

    fn error(&self, error: &jsonwebtoken::errors::Error) -> ApiError {
        unauthenticated(match error.kind() {
            ErrorKind::ExpiredSignature => "the token has expired".to_string(),
            ErrorKind::ImmatureSignature => "the token is not valid yet (`nbf`)".to_string(),
            ErrorKind::InvalidAudience => format!(
                "the token is not addressed to domain `{}` (`aud`)",
                self.domain
            ),
            ErrorKind::InvalidIssuer => "the token's issuer (`iss`) is not accepted".to_string(),
            ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
            ErrorKind::InvalidClaimFormat(claim) => {
                format!("the token's `{claim}` claim is malformed")
            }
            ErrorKind::InvalidSignature => "the token's signature does not verify".to_string(),
            ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted".to_string(),
            _ => "the token is malformed".to_string(),
        })
    }

    /// Signs a token for this domain with its secret: `aud` the domain,
    /// `iat`, `exp` = now + `ttl`, `iss` when configured, and the subject,
    /// tenant and roles under the configured claim names.
    pub fn issue(
        &self,
        subject: &str,
        tenant: Option<&str>,
        roles: &[String],
        ttl: u64,
    ) -> anyhow::Result<String> {
        let Some((key, alg)) = &self.signer else {
            bail!(
                "domain `{}` has only public keys: the gateway cannot sign its tokens (get them \
                 from the identity provider, or set GATEWAY_JWT_SECRET)",
                self.domain
            );
        };
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = Map::new();
        claims.insert("aud".into(), Value::from(self.domain.as_str()));
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now.saturating_add(ttl)));
        if let Some(issuer) = &self.issuer {
            claims.insert("iss".into(), Value::from(issuer.as_str()));
        }
        claims.insert(self.claims.subject.clone(), Value::from(subject));
        if let Some(tenant) = tenant {
            claims.insert(self.claims.tenant.clone(), Value::from(tenant));
        }
        if !roles.is_empty() {
            claims.insert(self.claims.roles.clone(), Value::from(roles.to_vec()));
        }
        jsonwebtoken::encode(&Header::new(*alg), &claims, key).context("signing the token")
    }
}

fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::Unauthenticated(message.into())
}

/// Why a token's header did not decode: an algorithm the gateway never
/// accepts (`none` among them), or a malformed token.
fn header_error(token: &str) -> ApiError {
    let alg = token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(String::from));
    match alg {
        Some(alg) if alg.parse::<Algorithm>().is_err() => {
            let shown: String = alg.chars().take(20).collect();
            unauthenticated(format!("tokens signed with `{shown}` are not accepted"))
        }
        _ => unauthenticated("the token is malformed"),
    }
}

/// A claim by its exact name, or else, for a dotted name, by its path.
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// A string claim; a number is taken as its decimal text.
fn scalar_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match claim(claims, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(unauthenticated(format!(
            "the token's `{name}` claim must be a string"
        ))),
    }
}

/// The algorithms a key of `family` accepts: the configured ones of its
/// family, else its defaults.
fn restrict(
    family: AlgorithmFamily,
    defaults: &[Algorithm],
    configured: &[Algorithm],
) -> anyhow::Result<Vec<Algorithm>> {
    if configured.is_empty() {
        return Ok(defaults.to_vec());
    }
    let allowed: Vec<Algorithm> = configured
        .iter()
        .copied()
        .filter(|a| a.family() == family)
        .collect();
    if allowed.is_empty() {
        bail!(
            "none of the configured algorithms ({}) fits this {family:?} key",
            configured
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(allowed)
}

/// A PEM public key and its default algorithms, by its kind.
fn pem_key(pem: &[u8]) -> anyhow::Result<(DecodingKey, Vec<Algorithm>)> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((key, vec![Algorithm::RS256]));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        let alg = match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(97) => Algorithm::ES384,
            _ => Algorithm::ES256,
        };
        return Ok((key, vec![alg]));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok((key, vec![Algorithm::EdDSA]));
    }
    bail!("not a PEM public key (RSA, EC P-256/P-384 or Ed25519; `-----BEGIN PUBLIC KEY-----`)")
}

/// Fails on a key the crypto backend cannot use.
fn check_key(key: &DecodingKey, algorithms: &[Algorithm]) -> anyhow::Result<()> {
    Jwk::from_decoding_key(key, None).map_err(|e| anyhow::anyhow!("unusable key: {e}"))?;
    for &alg in algorithms {
        jsonwebtoken::crypto::verify("", b"", key, alg)
            .map_err(|e| anyhow::anyhow!("unusable key for {alg:?}: {e}"))?;
    }
    Ok(())
}

/// The usable keys of a JWKS file. Encryption keys and keys of unsupported
/// kinds are skipped with a warning; a set left empty is an error.
fn jwks_keys(path: &Path, configured: &[Algorithm]) -> anyhow::Result<Vec<VerifyKey>> {
    let text = std::fs::read_to_string(path)?;
    let set: Value = serde_json::from_str(&text).context("not JSON")?;
    let Some(entries) = set.get("keys").and_then(Value::as_array) else {
        bail!("not a JWKS: no `keys` array");
    };
    let mut keys = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let name = entry
            .get("kid")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{index}"), |kid| format!("`{kid}`"));
        match jwk_key(entry, configured) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(jwks = %path.display(), key = %name, %error, "skipping a JWKS key");
            }
        }
    }
    if keys.is_empty() {
        bail!("no usable signature-verification key");
    }
    Ok(keys)
}

/// One JWK as a verification key; `None` for an encryption key.
fn jwk_key(entry: &Value, configured: &[Algorithm]) -> anyhow::Result<Option<VerifyKey>> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).context("not a JWK")?;
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return Ok(None);
    }
    let defaults = match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::UNKNOWN_ALGORITHM), _) => bail!("unsupported `alg`"),
        (Some(alg), _) => vec![
            Algorithm::try_from(*alg).map_err(|_| anyhow::anyhow!("unsupported `alg` {alg}"))?,
        ],
        (None, AlgorithmParameters::RSA(_)) => vec![Algorithm::RS256],
        (None, AlgorithmParameters::EllipticCurve(p)) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => bail!("unsupported curve"),
        },
        (None, AlgorithmParameters::OctetKeyPair(p)) if p.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        (None, AlgorithmParameters::OctetKey(_)) => vec![Algorithm::HS256],
        (None, _) => bail!("unsupported key type"),
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| anyhow::anyhow!("unusable key: {e}"))?;
    // A JWK's own `alg` binds it: the configured list can only narrow it.
    let allowed = if configured.is_empty() {
        defaults
    } else {
        let narrowed: Vec<Algorithm> = defaults
            .iter()
            .copied()
            .filter(|a| configured.contains(a))
            .collect();
        if narrowed.is_empty() && jwk.common.key_algorithm.is_some() {
            bail!("its `alg` is not among the configured algorithms");
        }
        if narrowed.is_empty() {
            restrict(key.family(), &defaults, configured)?
        } else {
            narrowed
        }
    };
    if allowed.iter().any(|a| a.family() != key.family()) {
        bail!("its `alg` does not fit its key type");
    }
    check_key(&key, &allowed)?;
    Ok(Some(VerifyKey {
        kid: jwk.common.key_id.clone(),
        key,
        algorithms: allowed,
    }))
}
