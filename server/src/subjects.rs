//! The visitor's secret and the pseudonym the server keeps instead.
//!
//! A browser holds a random subject secret (the loader makes it once per site). It proves
//! the visitor to their history and request endpoints, so the server never stores it:
//! receipts, the chain of a visitor's receipts, requests and exports name the visitor by
//! the pseudonym `hex(HMAC-SHA256(subject key, secret in lower case))[..32]` (128 bits, lower
//! case so it compares like every other id). The subject key (`serve --subject-key FILE`,
//! 32 random bytes made by `yinyom keys generate-subject`) lives outside the database, like
//! the signing keys: a copy of the database alone cannot link a secret to its receipts.
//!
//! An agency's own reference for a person (`data-yinyom-reference` on a form, or typed in
//! by staff with a paper consent) is kept the same way, as
//! [`SubjectKey::reference_hash`]: an HMAC under a key derived from the subject key for
//! references only (so no reference hash can equal a pseudonym), over the site and the
//! reference. The database holds the hash, never the reference.

use crate::signing::keys::KeyError;
use hmac::{Hmac, Mac};
use std::path::{Path, PathBuf};

/// Hexadecimal digits of the pseudonym (the first 16 bytes of the HMAC).
pub const PSEUDONYM_HEX: usize = 32;

/// The key that turns subject secrets into pseudonyms.
#[derive(Clone)]
pub struct SubjectKey {
    key: [u8; 32],
    path: PathBuf,
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SubjectKey {
    /// Reads a subject key file: 64 hexadecimal digits (32 bytes). Refuses a file that
    /// its group or others may read or write (`chmod 600 FILE`).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let err = |why: String| KeyError::File {
            path: path.to_owned(),
            why,
        };
        let text = crate::signing::keys::read_private(path, "the subject key")?;
        let key: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                err(
                    "not a subject key: 64 hexadecimal digits (yinyom keys generate-subject)"
                        .into(),
                )
            })?;
        Ok(Self {
            key,
            path: path.to_owned(),
        })
    }

    /// Makes a new random subject key file (mode 0600, never overwriting one).
    pub fn generate(path: &Path) -> Result<Self, KeyError> {
        let key = crate::signing::keys::random_seed()?;
        crate::signing::keys::write_private(path, format!("{}\n", hex::encode(key)).as_bytes())?;
        Ok(Self {
            key,
            path: path.to_owned(),
        })
    }

    /// Where the key was read from.
    pub fn location(&self) -> &Path {
        &self.path
    }

    /// A 32-byte key for another purpose, derived from this one with HKDF-SHA256 (RFC
    /// 5869) under `info`, the purpose's name: the derived key tells nothing of this one
    /// or of a key derived under another name (the webhook secrets' sealing key,
    /// [`crate::webhooks::SealKey`]).
    pub fn derive(&self, info: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32): `expand` cannot fail.
        if hkdf::Hkdf::<sha2::Sha256>::new(None, &self.key)
            .expand(info, &mut out)
            .is_err()
        {
            unreachable!("HKDF-SHA256 expands to 32 bytes")
        }
        out
    }

    /// The pseudonym of `secret` (compared in lower case, as every id).
    pub fn pseudonym(&self, secret: &str) -> String {
        // HMAC accepts keys of any length: `new_from_slice` cannot fail for it.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC takes a key of any length")
        };
        mac.update(secret.to_ascii_lowercase().as_bytes());
        let mut out = hex::encode(mac.finalize().into_bytes());
        out.truncate(PSEUDONYM_HEX);
        out
    }

    /// The keyed hash of an agency's `reference` for a person on `site`:
    /// `hex(HMAC-SHA256(K_ref, site || 0x00 || reference))`, with
    /// `K_ref = HMAC-SHA256(subject key, "yinyom reference key v1")`: domain-separated
    /// from the pseudonyms (another key), per site (the same reference at two sites gives
    /// two hashes). The reference is compared as given, once trimmed (the model's
    /// `check_reference` has bounded it).
    pub fn reference_hash(&self, site: &str, reference: &str) -> String {
        let Ok(mut derive) = Hmac::<sha2::Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC takes a key of any length")
        };
        derive.update(b"yinyom reference key v1");
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&derive.finalize().into_bytes())
        else {
            unreachable!("HMAC takes a key of any length")
        };
        mac.update(site.as_bytes());
        mac.update(&[0]);
        mac.update(reference.trim().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A new subject made by the server for a person known only by an agency's reference
    /// (a paper consent from someone with no online receipt): the pseudonym of a fresh
    /// UUIDv7 (74 random bits) nobody keeps, so only the reference leads to it.
    pub fn new_subject(&self) -> String {
        self.pseudonym(&uuid::Uuid::now_v7().to_string())
    }

    /// The ids a visitor's records may be stored under: the pseudonym of `secret`, and
    /// `secret` itself for receipts issued before the server kept pseudonyms (they are
    /// signed with the raw id and cannot change). A `secret` shaped like a pseudonym is
    /// not looked up as itself: a pseudonym read from an export must open nothing.
    pub fn lookup_ids(&self, secret: &str) -> [String; 2] {
        let pseudonym = self.pseudonym(secret);
        let raw = if is_pseudonym(secret) {
            pseudonym.clone()
        } else {
            secret.to_ascii_lowercase()
        };
        [pseudonym, raw]
    }
}

/// Whether `id` has the shape of a pseudonym (32 hexadecimal digits). The loader's secrets
/// are UUIDs (with dashes), so no secret it made has this shape.
pub fn is_pseudonym(id: &str) -> bool {
    id.len() == PSEUDONYM_HEX && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_hmac_sha256_prefix_and_case_insensitive() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("subject.key");
        std::fs::write(&path, format!("{}\n", "0b".repeat(32))).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let key = SubjectKey::load(&path).expect("load");
        // RFC 4231 test case 1: key 0x0b × 20 — here 32 bytes, so check against the
        // crate directly and the properties we rely on.
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&[0x0b; 32]).expect("key");
        mac.update(b"abc-visitor-0001");
        let full = hex::encode(mac.finalize().into_bytes());
        assert_eq!(key.pseudonym("ABC-Visitor-0001"), full[..PSEUDONYM_HEX]);
        assert_ne!(
            key.pseudonym("abc-visitor-0002"),
            key.pseudonym("abc-visitor-0001")
        );
    }

    #[test]
    fn reference_hashes_are_keyed_per_site_and_apart_from_pseudonyms() {
        let dir = tempfile::tempdir().expect("dir");
        let key = SubjectKey::generate(&dir.path().join("subject.key")).expect("key");
        let other = SubjectKey::generate(&dir.path().join("other.key")).expect("key");
        let h = key.reference_hash("demo", "1234567890123");
        assert_eq!(h.len(), 64);
        assert_eq!(h, key.reference_hash("demo", " 1234567890123 "));
        assert_ne!(h, key.reference_hash("other", "1234567890123"));
        assert_ne!(h, other.reference_hash("demo", "1234567890123"));
        assert!(!h.contains("1234567890123"));
        assert_ne!(&h[..PSEUDONYM_HEX], key.pseudonym("1234567890123"));
        assert_ne!(&h[..PSEUDONYM_HEX], key.pseudonym("demo\u{0}1234567890123"));
        assert!(is_pseudonym(&key.new_subject()));
        assert_ne!(key.new_subject(), key.new_subject());
    }

    #[test]
    fn generate_writes_a_private_file_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("subject.key");
        let made = SubjectKey::generate(&path).expect("generate");
        let read = SubjectKey::load(&path).expect("load");
        assert_eq!(made.pseudonym("x"), read.pseudonym("x"));
        assert!(SubjectKey::generate(&path).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(SubjectKey::load(&path).is_err());
        }
    }
}
