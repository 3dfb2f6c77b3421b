//! Where the private keys live: a PKCS#8 PEM file or a PKCS#11 token (an HSM), never the
//! database. `yinyom serve --signing-key SPEC --log-key SPEC` and `yinyom keys …` take a
//! SPEC that is either a file path or a `pkcs11:` URI (RFC 7512, see [`super::pkcs11`]).

use base64::{Engine, engine::general_purpose::STANDARD as B64_STD};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use sha2::{Digest, Sha256};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

/// Something holding an Ed25519 private key that signs on request: a key file in memory or
/// a key that never leaves an HSM.
pub trait Ed25519Signer: Send + Sync + std::fmt::Debug {
    /// The 32-byte public key.
    fn public_key(&self) -> [u8; 32];
    /// An Ed25519 signature (RFC 8032) of `msg`.
    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], KeyError>;
    /// Where the key is, for messages: a file path or a `pkcs11:` URI without its PIN.
    fn location(&self) -> String;
}

/// Why a key cannot be made, loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file that cannot be read, written or parsed, or is readable by others.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A PKCS#11 URI, module, token or key problem.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// The operating system gave no randomness.
    #[error("no randomness for a new key: {0}")]
    NoRandomness(String),
}

/// A key held in memory, read from a PKCS#8 PEM file.
pub struct FileKey {
    path: PathBuf,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileKey {
    /// Reads an Ed25519 PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`, as `yinyom keys
    /// generate` and `openssl genpkey -algorithm ed25519` write). Refuses a file that its
    /// group or others may read or write, as OpenSSH does: `chmod 600 FILE`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let err = |why: String| KeyError::File {
            path: path.to_owned(),
            why,
        };
        let pem = read_private(path, "the private key")?;
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| err(format!("not an Ed25519 PKCS#8 PEM private key ({e})")))?;
        Ok(Self {
            path: path.to_owned(),
            key,
        })
    }
}

impl Ed25519Signer for FileKey {
    fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], KeyError> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(msg).to_bytes())
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Writes `seed` as an Ed25519 PKCS#8 PEM file, mode 0600, refusing to overwrite a file.
pub fn write_pem(path: &Path, seed: &[u8; 32]) -> Result<[u8; 32], KeyError> {
    let err = |why: String| KeyError::File {
        path: path.to_owned(),
        why,
    };
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| err(e.to_string()))?;
    write_private(path, pem.as_bytes())?;
    Ok(key.verifying_key().to_bytes())
}

/// Reads the text of a secret key file, refusing one its group or others may read or
/// write, as OpenSSH does (`chmod 600 FILE`). `what` names the key in that error.
pub(crate) fn read_private(path: &Path, what: &str) -> Result<String, KeyError> {
    let err = |why: String| KeyError::File {
        path: path.to_owned(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "{what} may be read by other users (mode {mode:o}): run `chmod 600 {}`",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path).map_err(|e| err(e.to_string()))
}

/// Writes a new secret key file: mode 0600, synced, never overwriting a file.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    use std::io::Write as _;
    let err = |why: String| KeyError::File {
        path: path.to_owned(),
        why,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            err("already exists: a key file is never overwritten (choose another name)".into())
        } else {
            err(e.to_string())
        }
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| err(e.to_string()))
}

/// A new random Ed25519 seed.
pub fn random_seed() -> Result<[u8; 32], KeyError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
    Ok(seed)
}

/// Where a key is: `spec` is a file path or a `pkcs11:` URI.
pub fn is_pkcs11(spec: &str) -> bool {
    spec.starts_with("pkcs11:")
}

/// Makes a new key at `spec` and returns its public key: a new PEM file (mode 0600, never
/// overwriting), or a new key pair inside the PKCS#11 token (the private key cannot be
/// extracted). `module` is the PKCS#11 library when the URI names none.
pub fn generate(spec: &str, module: Option<&Path>) -> Result<[u8; 32], KeyError> {
    if is_pkcs11(spec) {
        super::pkcs11::generate(spec, module)
    } else {
        write_pem(Path::new(spec), &random_seed()?)
    }
}

/// Opens the key at `spec` (a file path or a `pkcs11:` URI).
pub fn load(spec: &str, module: Option<&Path>) -> Result<Arc<dyn Ed25519Signer>, KeyError> {
    if is_pkcs11(spec) {
        Ok(Arc::new(super::pkcs11::Pkcs11Key::open(spec, module)?))
    } else {
        Ok(Arc::new(FileKey::load(Path::new(spec))?))
    }
}

/// The C2SP signed-note verifier key of an Ed25519 public key under `name`:
/// `name+hex(key id)+base64(0x01 || public key)`, the key id being the first 4 bytes of
/// SHA-256(name || 0x0A || 0x01 || public key) (c2sp.org/signed-note).
pub fn vkey(name: &str, public: &[u8; 32]) -> String {
    let mut typed = Vec::with_capacity(33);
    typed.push(0x01);
    typed.extend_from_slice(public);
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A]);
    h.update(&typed);
    let id = h.finalize();
    format!(
        "{name}+{}+{}",
        hex::encode(&id[..4]),
        B64_STD.encode(&typed)
    )
}

/// Whether `name` may be a signed-note key name: non-empty, printable, no `+` or space.
pub fn valid_note_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example key of the signed-note reference implementation
    /// (golang.org/x/mod/sumdb/note, note_test.go).
    #[test]
    fn vkey_matches_the_signed_note_example() {
        let skey = B64_STD
            .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .expect("base64");
        assert_eq!(skey[0], 0x01, "Ed25519");
        let seed: [u8; 32] = skey[1..].try_into().expect("32 bytes");
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        assert_eq!(
            vkey("PeterNeumann", &public),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        assert!(valid_note_name("consent.example.go.th/demo"));
        assert!(!valid_note_name("a+b") && !valid_note_name("a b") && !valid_note_name(""));
    }

    #[test]
    fn a_key_file_is_private_never_overwritten_and_signs_as_its_public_key_says() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.pem");
        let public = generate(path.to_str().expect("utf8"), None).expect("generate");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let pem = std::fs::read_to_string(&path).expect("read");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
        let err = generate(path.to_str().expect("utf8"), None).expect_err("exists");
        assert!(err.to_string().contains("never overwritten"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), pem);

        let key = load(path.to_str().expect("utf8"), None).expect("load");
        assert_eq!(key.public_key(), public);
        let sig = key.sign(b"hello").expect("sign");
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&public).expect("vk");
        vk.verify_strict(b"hello", &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("verifies");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let err = load(path.to_str().expect("utf8"), None).expect_err("too open");
            assert!(err.to_string().contains("chmod 600"), "{err}");
        }
    }
}
