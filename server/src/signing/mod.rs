//! Signatures: compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037).
//!
//! A receipt's payload is its canonical JSON (RFC 8785), its header `typ` is
//! [`RECEIPT_TYP`]. The private keys are never in the database: each `yinyom serve` process
//! is given them ([`keys`]: a PKCS#8 PEM file, or a key in an HSM through PKCS#11,
//! [`pkcs11`]). The database keeps each key's public half, what it signs (receipts or log
//! checkpoints) and its validity period; the JWKS publishes all of them. A key signs a
//! document dated within its period only, and verification refuses any other
//! ([`verify_receipt`]). A rotated-in key is published [`ROTATION_NOTICE`] before it signs.

pub mod keys;
pub mod pkcs11;

pub use crate::store::keys::KeyPurpose;
pub use keys::{Ed25519Signer, KeyError};

use crate::store::{KeyRow, Store, StoreError, now_ms, rfc3339_ms};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{path::Path, sync::Arc};

/// The JWS header `typ` of a receipt.
pub const RECEIPT_TYP: &str = "yinyom-receipt+jwt";
/// The JWS header `typ` of a log checkpoint.
pub const CHECKPOINT_TYP: &str = "yinyom-checkpoint+jwt";

/// How long a rotated-in key is published before it signs: the JWKS is cacheable for
/// 5 minutes (`routes/keys.rs`), plus a minute for clocks and slow caches. A verifier that
/// fetched the JWKS at any time before a receipt was signed has its key.
pub const ROTATION_NOTICE: std::time::Duration = std::time::Duration::from_secs(360);

/// `yinyom keys rotate --now` (after a compromise): the new key signs this soon. Every
/// server reloads the keys' periods every [`KEY_REFRESH`], so by then each knows the old
/// key's period has closed and none signs with it after its end.
pub const COMPROMISE_NOTICE: std::time::Duration = std::time::Duration::from_secs(5);

/// How often `yinyom serve` reloads the registered keys and their periods.
pub const KEY_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// The private keys a server process was given: for receipts and for log checkpoints.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `--signing-key` (the current one, and the next one during a rotation).
    pub receipts: Vec<Arc<dyn Ed25519Signer>>,
    /// `--log-key`.
    pub log: Vec<Arc<dyn Ed25519Signer>>,
    /// `--subject-key`: turns visitors' secrets into the pseudonyms receipts carry.
    pub subjects: Option<crate::subjects::SubjectKey>,
}

impl Keys {
    /// Opens each key (a file path or a `pkcs11:` URI; `module` is the PKCS#11 library
    /// when a URI names none).
    pub fn load(
        signing: &[String],
        log: &[String],
        module: Option<&Path>,
    ) -> Result<Self, KeyError> {
        let open = |specs: &[String]| {
            specs
                .iter()
                .map(|s| keys::load(s, module))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            receipts: open(signing)?,
            log: open(log)?,
            subjects: None,
        })
    }

    /// Also opens the subject key file (`--subject-key`).
    pub fn with_subject_key(mut self, path: &Path) -> Result<Self, KeyError> {
        self.subjects = Some(crate::subjects::SubjectKey::load(path)?);
        Ok(self)
    }
}

/// Why a signer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key cannot be used as given.
    #[error("{0}")]
    Setup(String),
}

/// The keys of one purpose this process holds, and the periods the database gives them:
/// each document is signed by the newest held key whose period covers the document's date.
/// [`Signer::refresh`] reloads the periods (after `yinyom keys rotate`, possibly run by
/// another process).
#[derive(Debug)]
pub struct Signer {
    purpose: KeyPurpose,
    typ: &'static str,
    held: Vec<(String, Arc<dyn Ed25519Signer>)>,
    periods: std::sync::RwLock<Vec<KeyRow>>,
}

impl Signer {
    /// Starts signing with `held` (`--signing-key` or `--log-key`). On a database with no
    /// key of this purpose yet, the first held key is registered (generation 1, signing
    /// from now; two processes starting at once agree on one). Every held key must be
    /// registered for this purpose, and one of them must be valid now. Refuses while the
    /// database still holds private seeds of an earlier version.
    pub async fn load(
        store: &Store,
        purpose: KeyPurpose,
        held: &[Arc<dyn Ed25519Signer>],
    ) -> Result<Self, SignerError> {
        let legacy = store.legacy_seeds().await?;
        if !legacy.is_empty() {
            return Err(SignerError::Setup(format!(
                "the database still holds {} private signing key(s) stored by an earlier version; move them out first: `yinyom keys export --out-dir DIR`, then start with `--signing-key DIR/<file>.pem` (see docs/OPERATIONS.md, Keys)",
                legacy.len()
            )));
        }
        let flag = match purpose {
            KeyPurpose::Receipt => "--signing-key",
            KeyPurpose::Log => "--log-key",
        };
        let Some(first) = held.first() else {
            return Err(SignerError::Setup(format!(
                "no {} key: give {flag} FILE|pkcs11:… (make one with `yinyom keys generate --out FILE`)",
                purpose.as_str()
            )));
        };
        if store.keys_for(purpose).await?.is_empty() {
            let row = key_row(purpose, &first.public_key(), 1, now_ms());
            if store.insert_first_key(&row).await? {
                tracing::info!(kid = %row.kid, purpose = purpose.as_str(), "registered the first key");
            }
        }
        let all = store.keys().await?;
        let mut keys = Vec::new();
        let mut unregistered = Vec::new();
        for key in held {
            let kid = thumbprint(&key.public_key());
            match all.iter().find(|r| r.kid == kid) {
                Some(r) if r.purpose != purpose.as_str() => {
                    return Err(SignerError::Setup(format!(
                        "{} ({kid}) is registered as a {} key: receipts and checkpoints need two different keys",
                        key.location(),
                        r.purpose
                    )));
                }
                Some(_) => {}
                None => unregistered.push(format!(
                    "{} ({kid}) is not registered: publish it with `yinyom keys rotate{} --key {}`",
                    key.location(),
                    if purpose == KeyPurpose::Log {
                        " --log"
                    } else {
                        ""
                    },
                    key.location()
                )),
            }
            // A key not registered yet (the next key, given to every server before
            // `keys rotate` publishes it) signs once it is registered and its period starts.
            keys.push((kid, key.clone()));
        }
        let signer = Self {
            purpose,
            typ: match purpose {
                KeyPurpose::Receipt => RECEIPT_TYP,
                KeyPurpose::Log => CHECKPOINT_TYP,
            },
            held: keys,
            periods: std::sync::RwLock::new(all),
        };
        if signer.choose(now_ms()).is_none() {
            return Err(SignerError::Setup(format!(
                "none of the {} keys given ({}) may sign now: see `yinyom keys list` and give the current key{}",
                purpose.as_str(),
                signer
                    .held
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                unregistered
                    .iter()
                    .map(|u| format!("; {u}"))
                    .collect::<String>()
            )));
        }
        for u in unregistered {
            tracing::warn!("{u}; until then it does not sign");
        }
        Ok(signer)
    }

    /// The newest held key whose period covers `at_ms`.
    fn choose(&self, at_ms: i64) -> Option<(String, Arc<dyn Ed25519Signer>)> {
        let periods = self.periods.read().unwrap_or_else(|e| e.into_inner());
        self.held
            .iter()
            .filter_map(|(kid, key)| {
                periods
                    .iter()
                    .find(|r| &r.kid == kid && r.purpose == self.purpose.as_str())
                    .filter(|r| r.valid_at(at_ms))
                    .map(|r| (r.generation, kid, key))
            })
            .max_by_key(|(g, _, _)| *g)
            .map(|(_, kid, key)| (kid.clone(), key.clone()))
    }

    /// Reloads the keys' periods from the store (a rotation by another process).
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let rows = store.keys().await?;
        let before = self.kid();
        *self.periods.write().unwrap_or_else(|e| e.into_inner()) = rows;
        let after = self.kid();
        if before != after {
            match &after {
                Some(kid) => {
                    tracing::info!(%kid, purpose = self.purpose.as_str(), "now signing with another key")
                }
                None => tracing::error!(
                    purpose = self.purpose.as_str(),
                    "none of this server's keys may sign now: give it the current key (yinyom keys list)"
                ),
            }
        }
        Ok(())
    }

    /// The id of the key that signs now, if any.
    pub fn kid(&self) -> Option<String> {
        self.choose(now_ms()).map(|(kid, _)| kid)
    }

    /// The key that may sign a document dated `at_ms` (its id and the key), for documents
    /// that are not JWS (a C2SP signed note is an Ed25519 signature over the note's text).
    pub fn key_at(&self, at_ms: i64) -> Option<(String, Arc<dyn Ed25519Signer>)> {
        self.choose(at_ms)
    }

    /// An Ed25519 signature of `msg`, dated now, by the key valid now; with its key.
    pub fn sign_raw(&self, msg: &[u8]) -> Result<([u8; 32], [u8; 64]), StoreError> {
        let (_, key) = self.choose(now_ms()).ok_or_else(|| {
            StoreError::Signing(format!(
                "none of this server's {} keys may sign now: give it the current key (yinyom keys list)",
                self.purpose.as_str()
            ))
        })?;
        let sig = key
            .sign(msg)
            .map_err(|e| StoreError::Signing(e.to_string()))?;
        Ok((key.public_key(), sig))
    }

    /// Signs `payload`, dated now, as a compact JWS.
    pub fn sign(&self, payload: &[u8]) -> Result<String, StoreError> {
        self.sign_at(payload, now_ms())
    }

    /// Signs `payload`, a document dated `at_ms` (a receipt's `issued_at`), with the key
    /// whose period covers that date.
    pub fn sign_at(&self, payload: &[u8], at_ms: i64) -> Result<String, StoreError> {
        let (kid, key) = self.choose(at_ms).ok_or_else(|| {
            StoreError::Signing(format!(
                "none of this server's {} keys may sign at {}: give it the current key (yinyom keys list)",
                self.purpose.as_str(),
                rfc3339_ms(at_ms)
            ))
        })?;
        jws(key.as_ref(), &kid, self.typ, payload).map_err(|e| StoreError::Signing(e.to_string()))
    }
}

/// `payload` as a compact JWS signed by `key` with header `{"alg":"EdDSA","kid","typ"}`.
pub fn jws(
    key: &dyn Ed25519Signer,
    kid: &str,
    typ: &str,
    payload: &[u8],
) -> Result<String, KeyError> {
    let header = serde_json::json!({"alg": "EdDSA", "kid": kid, "typ": typ}).to_string();
    let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", B64.encode(sig)))
}

fn key_row(purpose: KeyPurpose, public: &[u8; 32], generation: i64, activates_at: i64) -> KeyRow {
    KeyRow {
        kid: thumbprint(public),
        purpose: purpose.as_str().to_owned(),
        public: public.to_vec(),
        retired_at: None,
        activates_at,
        generation,
    }
}

/// One public key in JWK form (RFC 8037), with what it signs and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `OKP`
    pub kty: String,
    /// `Ed25519`
    pub crv: String,
    /// Public key, base64url.
    pub x: String,
    /// Key id.
    pub kid: String,
    /// `EdDSA`
    pub alg: String,
    /// `sig`
    #[serde(rename = "use")]
    pub use_: String,
    /// What it signs: `receipt` or `log` (absent in JWKS of earlier versions: receipts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Not before: it signs only documents dated from then (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// Not after: it signs only documents dated before then (RFC 3339); absent while
    /// it is the current key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
}

/// A JWK set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Why a JWS did not verify.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// Not three base64url parts, or a header that is not ours.
    #[error("not a compact JWS signed with EdDSA: {0}")]
    Malformed(String),
    /// The `kid` is not in the key set.
    #[error("signed with key `{0}`, which is not in the key set")]
    UnknownKey(String),
    /// The signature does not match.
    #[error("the signature does not match the content: the receipt was altered or forged")]
    BadSignature,
    /// A valid signature by a key that does not sign this kind of document.
    #[error("signed with key `{kid}`, which signs {purpose}, not receipts")]
    WrongKey {
        /// The key.
        kid: String,
        /// What it signs.
        purpose: String,
    },
    /// A valid signature dated outside the key's validity period: the document was
    /// backdated, or signed with a retired key.
    #[error(
        "dated {issued_at}, outside the validity period of key `{kid}` ({period}): backdated, or signed with a key that was not in service then"
    )]
    OutsidePeriod {
        /// The key.
        kid: String,
        /// The document's date.
        issued_at: String,
        /// The key's period.
        period: String,
    },
}

/// Registers `public` as the next key of `purpose`: published in the JWKS at once and
/// signing after `notice` (use [`ROTATION_NOTICE`]; [`COMPROMISE_NOTICE`] after a key
/// compromise); the period of the keys it replaces closes at that moment — in one
/// transaction. Two rotations at once: one fails and changes nothing.
pub async fn rotate(
    store: &Store,
    purpose: KeyPurpose,
    public: &[u8; 32],
    notice: std::time::Duration,
) -> Result<Rotation, StoreError> {
    let notice_ms = i64::try_from(notice.as_millis()).unwrap_or(i64::MAX);
    let activates_at = now_ms().saturating_add(notice_ms);
    let generation = store
        .keys_for(purpose)
        .await?
        .iter()
        .map(|k| k.generation)
        .max()
        .unwrap_or(0)
        + 1;
    let row = key_row(purpose, public, generation, activates_at);
    store.rotate_key(&row).await?;
    Ok(Rotation {
        kid: row.kid,
        activates_at,
    })
}

/// A rotation: the new key and when it starts signing.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The new key's id.
    pub kid: String,
    /// Unix ms from which it signs; the keys it replaces sign until then.
    pub activates_at: i64,
}

/// Moves the private seeds an earlier version kept in the database into PEM files in `dir`
/// (mode 0600, named `<purpose>-<generation>-<kid>.pem`, never overwriting) and deletes
/// each from the database once its file is written and read back. Returns the files, the
/// key that signs now first.
pub async fn export_legacy(
    store: &Store,
    dir: &Path,
) -> anyhow::Result<Vec<(std::path::PathBuf, KeyRow)>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let rows = store.keys().await?;
    let mut out = Vec::new();
    for (kid, seed) in store.legacy_seeds().await? {
        let seed: [u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("stored seed of {kid} is not 32 bytes"))?;
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let row = rows
            .iter()
            .find(|r| r.kid == kid && r.public == public)
            .ok_or_else(|| {
                anyhow::anyhow!("stored seed of {kid} matches no registered public key")
            })?;
        let path = dir.join(format!("{}-{}-{kid}.pem", row.purpose, row.generation));
        keys::write_pem(&path, &seed)?;
        let back = keys::FileKey::load(&path)?;
        anyhow::ensure!(
            back.public_key() == public,
            "{}: does not read back",
            path.display()
        );
        store.delete_legacy_seed(&kid).await?;
        out.push((path, row.clone()));
    }
    let now = now_ms();
    out.sort_by_key(|(_, r)| (!r.valid_at(now), -r.generation));
    if !out.is_empty()
        && let Err(e) = store.vacuum().await
    {
        tracing::warn!(error = %e, "could not compact the database after removing the seeds: run VACUUM by hand");
    }
    Ok(out)
}

/// The JWK of a 32-byte Ed25519 public key (no purpose or period).
pub fn jwk(public: &[u8]) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: B64.encode(public),
        kid: thumbprint(public),
        alg: "EdDSA".into(),
        use_: "sig".into(),
        purpose: None,
        not_before: None,
        not_after: None,
    }
}

/// The JWK of a registered key, with its purpose and validity period.
pub fn jwk_of(row: &KeyRow) -> Jwk {
    Jwk {
        purpose: Some(row.purpose.clone()),
        not_before: Some(rfc3339_ms(row.activates_at)),
        not_after: row.retired_at.map(rfc3339_ms),
        ..jwk(&row.public)
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: base64url(SHA-256 of the required
/// members in lexicographic order).
pub fn thumbprint(public: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        B64.encode(public)
    );
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// The JWKS of every registered key (receipt and log), each with its validity period.
pub async fn jwks(store: &Store) -> Result<Jwks, StoreError> {
    Ok(Jwks {
        keys: store.keys().await?.iter().map(jwk_of).collect(),
    })
}

/// Verifies a compact JWS against `jwks` and returns its payload.
pub fn verify(jws: &str, jwks: &Jwks) -> Result<Vec<u8>, VerifyError> {
    verify_with_key(jws, jwks).map(|(_, _, payload)| payload)
}

/// Verifies a receipt's compact JWS against `jwks` and returns its payload: the signature,
/// that the key signs receipts (not log checkpoints) and that the receipt's `issued_at` is
/// within the key's validity period (when the JWKS gives it).
pub fn verify_receipt(jws: &str, jwks: &Jwks) -> Result<Vec<u8>, VerifyError> {
    let (header, jwk, payload) = verify_with_key(jws, jwks)?;
    if header.get("typ").and_then(|t| t.as_str()) == Some(CHECKPOINT_TYP)
        || jwk
            .purpose
            .as_deref()
            .is_some_and(|p| p != KeyPurpose::Receipt.as_str())
    {
        return Err(VerifyError::WrongKey {
            kid: jwk.kid.clone(),
            purpose: jwk.purpose.clone().unwrap_or_else(|| "checkpoints".into()),
        });
    }
    let issued_at = serde_json::from_slice::<serde_json::Value>(&payload)
        .ok()
        .and_then(|v| v.get("issued_at")?.as_str().map(str::to_owned))
        .ok_or_else(|| VerifyError::Malformed("the receipt has no issued_at".into()))?;
    let at = parse_ms(&issued_at).ok_or_else(|| {
        VerifyError::Malformed(format!("issued_at `{issued_at}` is not RFC 3339"))
    })?;
    let bound = |t: &Option<String>| -> Result<Option<i64>, VerifyError> {
        t.as_deref()
            .map(|s| {
                parse_ms(s).ok_or_else(|| {
                    VerifyError::Malformed(format!("the key set's period `{s}` is not RFC 3339"))
                })
            })
            .transpose()
    };
    let (from, until) = (bound(&jwk.not_before)?, bound(&jwk.not_after)?);
    if from.is_some_and(|f| at < f) || until.is_some_and(|u| at >= u) {
        return Err(VerifyError::OutsidePeriod {
            kid: jwk.kid.clone(),
            issued_at,
            period: format!(
                "from {} until {}",
                jwk.not_before.as_deref().unwrap_or("the start"),
                jwk.not_after.as_deref().unwrap_or("now")
            ),
        });
    }
    Ok(payload)
}

/// Unix ms of an RFC 3339 time.
pub(crate) fn parse_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Verifies the signature; returns the header, the key and the payload.
fn verify_with_key<'a>(
    jws: &str,
    jwks: &'a Jwks,
) -> Result<(serde_json::Value, &'a Jwk, Vec<u8>), VerifyError> {
    Verifier::new(jwks).check(jws)
}

/// A key set ready to verify many receipts (`log verify`): each key decoded once, where
/// decoding it (an Ed25519 point) cost about a sixth of verifying one receipt.
pub struct Verifier<'a> {
    keys: Vec<(&'a Jwk, Result<VerifyingKey, VerifyError>)>,
}

impl<'a> Verifier<'a> {
    /// Decodes every key of `jwks`; a key that does not decode fails the receipts it
    /// signed, not the others.
    pub fn new(jwks: &'a Jwks) -> Self {
        let decode = |jwk: &Jwk| {
            let public: [u8; 32] = B64
                .decode(&jwk.x)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    VerifyError::Malformed("the key in the key set is not Ed25519".into())
                })?;
            VerifyingKey::from_bytes(&public).map_err(|_| VerifyError::BadSignature)
        };
        Self {
            keys: jwks.keys.iter().map(|k| (k, decode(k))).collect(),
        }
    }

    /// [`verify`] against the prepared keys.
    pub fn verify(&self, jws: &str) -> Result<Vec<u8>, VerifyError> {
        self.check(jws).map(|(_, _, payload)| payload)
    }

    fn check(&self, jws: &str) -> Result<(serde_json::Value, &'a Jwk, Vec<u8>), VerifyError> {
        let jws = jws.trim();
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed(
                "expected three dot-separated parts".into(),
            ));
        };
        let header: serde_json::Value = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| VerifyError::Malformed("the header is not base64url JSON".into()))?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("EdDSA") {
            return Err(VerifyError::Malformed("alg is not EdDSA".into()));
        }
        let kid = header
            .get("kid")
            .and_then(|k| k.as_str())
            .ok_or_else(|| VerifyError::Malformed("the header has no kid".into()))?;
        let (jwk, key) = self
            .keys
            .iter()
            .find(|(k, _)| k.kid == kid)
            .ok_or_else(|| VerifyError::UnknownKey(kid.to_owned()))?;
        let key = key.as_ref().map_err(Clone::clone)?;
        let sig: [u8; 64] = B64
            .decode(s)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                VerifyError::Malformed("the signature is not 64 bytes of base64url".into())
            })?;
        // The signing input is the JWS up to its second dot.
        let input = &jws[..h.len() + 1 + p.len()];
        key.verify(
            input.as_bytes(),
            &ed25519_dalek::Signature::from_bytes(&sig),
        )
        .map_err(|_| VerifyError::BadSignature)?;
        let payload = B64
            .decode(p)
            .map_err(|_| VerifyError::Malformed("the payload is not base64url".into()))?;
        Ok((header, jwk, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> (Arc<dyn Ed25519Signer>, String) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.pem");
        keys::write_pem(&path, &[seed; 32]).expect("write");
        let k = keys::load(path.to_str().expect("utf8"), None).expect("load");
        let kid = thumbprint(&k.public_key());
        (k, kid)
    }

    #[test]
    fn signs_and_verifies_and_detects_tampering() {
        let (k, kid) = key(7);
        let jwks = Jwks {
            keys: vec![jwk(&k.public_key())],
        };
        let jws = jws(k.as_ref(), &kid, RECEIPT_TYP, br#"{"a":1}"#).expect("sign");
        assert_eq!(verify(&jws, &jwks).as_deref(), Ok(&br#"{"a":1}"#[..]));

        let mut parts: Vec<&str> = jws.split('.').collect();
        let forged = B64.encode(br#"{"a":2}"#);
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), &jwks),
            Err(VerifyError::BadSignature)
        );
        assert!(matches!(
            verify(&jws, &Jwks { keys: vec![] }),
            Err(VerifyError::UnknownKey(_))
        ));
    }

    /// A receipt dated outside its key's period, or signed by a log key, is refused even
    /// though its signature is good.
    #[test]
    fn a_receipt_must_be_dated_within_its_keys_period_and_signed_by_a_receipt_key() {
        let (k, kid) = key(9);
        let row = KeyRow {
            kid: kid.clone(),
            purpose: "receipt".into(),
            public: k.public_key().to_vec(),
            activates_at: 1_700_000_000_000,
            retired_at: Some(1_800_000_000_000),
            generation: 2,
        };
        let jwks = Jwks {
            keys: vec![jwk_of(&row)],
        };
        let at = |t: i64| {
            let payload = serde_json::json!({"issued_at": rfc3339_ms(t)}).to_string();
            jws(k.as_ref(), &kid, RECEIPT_TYP, payload.as_bytes()).expect("sign")
        };
        assert!(verify_receipt(&at(1_750_000_000_000), &jwks).is_ok());
        assert!(
            verify_receipt(&at(1_700_000_000_000), &jwks).is_ok(),
            "from its start"
        );
        for outside in [1_699_999_999_999, 1_800_000_000_000, 1_900_000_000_000] {
            let e = verify_receipt(&at(outside), &jwks).expect_err("outside");
            assert!(matches!(e, VerifyError::OutsidePeriod { .. }), "{e}");
            assert!(
                verify(&at(outside), &jwks).is_ok(),
                "the signature itself is good"
            );
        }
        let log = Jwks {
            keys: vec![jwk_of(&KeyRow {
                purpose: "log".into(),
                ..row
            })],
        };
        assert!(matches!(
            verify_receipt(&at(1_750_000_000_000), &log),
            Err(VerifyError::WrongKey { .. })
        ));
    }

    #[test]
    fn thumbprint_matches_rfc8037_example() {
        // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
        let x = B64
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .expect("example key");
        assert_eq!(
            thumbprint(&x),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
