//! Receipt signatures: compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037).
//!
//! The payload is the receipt's canonical JSON (RFC 8785). Keys live in the database so
//! that several server processes sign with the same key; the `kid` is the key's RFC 7638
//! JWK thumbprint, and every key, current, retired or about to sign, is published in the
//! JWKS. A rotated-in key is published [`ROTATION_NOTICE`] before it signs.

use crate::store::{KeyRow, Store, StoreError};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The key that signs new receipts. After `yinyom keys rotate` (possibly run by another
/// process), [`Signer::refresh`] switches to the new key.
#[derive(Debug)]
pub struct Signer {
    current: std::sync::RwLock<(String, SigningKey)>,
}

/// One public key in JWK form (RFC 8037).
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
}

/// A JWK set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Why a JWS did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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
}

/// How long a rotated-in key is published before it signs: the JWKS is cacheable for
/// 5 minutes (`routes/keys.rs`), plus a minute for clocks and slow caches. A verifier that
/// fetched the JWKS at any time before a receipt was signed has its key.
pub const ROTATION_NOTICE: std::time::Duration = std::time::Duration::from_secs(360);

impl Signer {
    /// Loads the key that signs now. Only on a store that has never had a key does it
    /// create one (two processes starting at once on an empty store agree on one: the
    /// first key has generation 1 and a second insert conflicts). A server process never
    /// creates a key otherwise: keys come from `yinyom keys rotate`.
    pub async fn load_or_create(store: &Store) -> Result<Self, StoreError> {
        let mut keys = store.keys().await?;
        if keys.is_empty() {
            let row = new_key(1, crate::store::now_ms())?;
            if store.insert_first_key(&row).await? {
                tracing::info!(kid = %row.kid, "created the first receipt signing key");
            }
            keys = store.keys().await?;
        }
        let row = signing_now(&keys, crate::store::now_ms()).ok_or_else(|| {
            StoreError::Corrupt(
                "no signing key is valid now (every key is retired): run `yinyom keys rotate --now`"
                    .into(),
            )
        })?;
        Ok(Self {
            current: std::sync::RwLock::new(Self::key_of(row)?),
        })
    }

    fn key_of(row: &KeyRow) -> Result<(String, SigningKey), StoreError> {
        let seed: [u8; 32] =
            row.secret.as_slice().try_into().map_err(|_| {
                StoreError::Corrupt(format!("signing key {} is not 32 bytes", row.kid))
            })?;
        Ok((row.kid.clone(), SigningKey::from_bytes(&seed)))
    }

    /// Switches to the key that signs now (after `yinyom keys rotate`, possibly run by
    /// another process, once the new key's activation time has come). Keeps the current
    /// key if the store has none valid now.
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let keys = store.keys().await?;
        let Some(row) = signing_now(&keys, crate::store::now_ms()) else {
            tracing::warn!(
                "no signing key is valid now: still signing with the last one; run `yinyom keys rotate --now`"
            );
            return Ok(());
        };
        let next = Self::key_of(row)?;
        let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
        if cur.0 != next.0 {
            tracing::info!(kid = %next.0, "now signing with a new key");
            *cur = next;
        }
        Ok(())
    }

    /// The key id.
    pub fn kid(&self) -> String {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Signs `payload` as a compact JWS.
    pub fn sign(&self, payload: &[u8]) -> String {
        let cur = self.current.read().unwrap_or_else(|e| e.into_inner());
        let header = format!(r#"{{"alg":"EdDSA","kid":"{}","typ":"JWT"}}"#, cur.0);
        let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = cur.1.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(sig.to_bytes()))
    }
}

/// The key that signs at `now_ms`: activated, not retired, the newest generation.
fn signing_now(keys: &[KeyRow], now_ms: i64) -> Option<&KeyRow> {
    keys.iter()
        .filter(|k| k.activates_at <= now_ms && k.retired_at.is_none_or(|r| r > now_ms))
        .max_by_key(|k| k.generation)
}

fn new_key(generation: i64, activates_at: i64) -> Result<KeyRow, StoreError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| StoreError::NoRandomness(format!("for a key: {e}")))?;
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    Ok(KeyRow {
        kid: thumbprint(&public),
        secret: seed.to_vec(),
        public: public.to_vec(),
        retired_at: None,
        activates_at,
        generation,
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

/// Creates the next key, published in the JWKS at once and signing after `notice` (use
/// [`ROTATION_NOTICE`]; zero after a key compromise), and retires the current keys at that
/// moment — in one transaction. Two rotations at once: one fails and changes nothing.
pub async fn rotate(store: &Store, notice: std::time::Duration) -> Result<Rotation, StoreError> {
    let notice_ms = i64::try_from(notice.as_millis()).unwrap_or(i64::MAX);
    let activates_at = crate::store::now_ms().saturating_add(notice_ms);
    let generation = store
        .keys()
        .await?
        .iter()
        .map(|k| k.generation)
        .max()
        .unwrap_or(0)
        + 1;
    let row = new_key(generation, activates_at)?;
    store.rotate_key(&row).await?;
    Ok(Rotation {
        kid: row.kid,
        activates_at,
    })
}

/// The JWK of a 32-byte Ed25519 public key.
pub fn jwk(public: &[u8]) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: B64.encode(public),
        kid: thumbprint(public),
        alg: "EdDSA".into(),
        use_: "sig".into(),
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

/// The JWKS of every key in the store.
pub async fn jwks(store: &Store) -> Result<Jwks, StoreError> {
    Ok(Jwks {
        keys: store.keys().await?.iter().map(|k| jwk(&k.public)).collect(),
    })
}

/// Verifies a compact JWS against `jwks` and returns its payload.
pub fn verify(jws: &str, jwks: &Jwks) -> Result<Vec<u8>, VerifyError> {
    let mut parts = jws.trim().split('.');
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
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| VerifyError::UnknownKey(kid.to_owned()))?;
    let public: [u8; 32] = B64
        .decode(&jwk.x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| VerifyError::Malformed("the key in the key set is not Ed25519".into()))?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| VerifyError::BadSignature)?;
    let sig: [u8; 64] = B64
        .decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            VerifyError::Malformed("the signature is not 64 bytes of base64url".into())
        })?;
    key.verify(
        format!("{h}.{p}").as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&sig),
    )
    .map_err(|_| VerifyError::BadSignature)?;
    B64.decode(p)
        .map_err(|_| VerifyError::Malformed("the payload is not base64url".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> (Signer, Jwks) {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = key.verifying_key().to_bytes();
        let s = Signer {
            current: std::sync::RwLock::new((thumbprint(&public), key)),
        };
        (
            s,
            Jwks {
                keys: vec![jwk(&public)],
            },
        )
    }

    #[test]
    fn signs_and_verifies_and_detects_tampering() {
        let (s, jwks) = signer();
        let jws = s.sign(br#"{"a":1}"#);
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
