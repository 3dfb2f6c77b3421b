//! C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and
//! Ed25519 cosignatures (c2sp.org/tlog-cosignature, v1).
//!
//! A note is text ending in a newline, a blank line, then signature lines
//! `— <key name> base64(key ID || signature)`. A key is named and identified by
//! `SHA-256(name || "\n" || type || public key)[:4]`; its verifier key ("vkey") is
//! `name+hex(key ID)+base64(type || public key)`. Two signature types are used here:
//! [`SIG_ED25519`] (the log signs its checkpoints) and [`SIG_COSIGNATURE_V1`] (a witness
//! signs `cosignature/v1\ntime <t>\n` followed by the checkpoint text, and puts the
//! 8-byte big-endian time before the 64-byte signature).

use super::merkle::Hash;
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use ed25519_dalek::{Signature as EdSignature, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type of Ed25519 note signatures (the log's).
pub const SIG_ED25519: u8 = 0x01;
/// Signature type of timestamped Ed25519 checkpoint cosignatures (a witness's).
pub const SIG_COSIGNATURE_V1: u8 = 0x04;

/// Most signature lines a note may carry here (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 64;
/// Largest note accepted.
const MAX_NOTE_BYTES: usize = 64 * 1024;

/// An Ed25519 key that signs notes: the log's key or a witness's. The log key is given to
/// the server from outside the database; whatever holds it only has to sign.
pub trait NoteKey: Send + Sync + std::fmt::Debug {
    /// The 32-byte Ed25519 public key.
    fn public_key(&self) -> [u8; 32];
    /// An Ed25519 signature of `message` (a key in an HSM may fail to sign).
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], NoteError>;
}

impl NoteKey for ed25519_dalek::SigningKey {
    fn public_key(&self) -> [u8; 32] {
        self.verifying_key().to_bytes()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], NoteError> {
        Ok(ed25519_dalek::Signer::sign(self, message).to_bytes())
    }
}

/// Why a note, a vkey or a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoteError(pub String);

fn bad(why: impl Into<String>) -> NoteError {
    NoteError(why.into())
}

/// Whether `name` may name a key: non-empty, no spaces, no `+`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// `SHA-256(name || "\n" || sig_type || public key)[:4]`, big-endian.
pub fn key_id(name: &str, sig_type: u8, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([sig_type]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A verifier key: who signs, with which key, and what kind of signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vkey {
    /// Key name (a log's origin, a witness's name).
    pub name: String,
    /// Key ID.
    pub id: u32,
    /// [`SIG_ED25519`] or [`SIG_COSIGNATURE_V1`].
    pub sig_type: u8,
    /// The Ed25519 public key.
    pub key: [u8; 32],
}

impl Vkey {
    /// The vkey of `key` under `name`.
    pub fn new(name: &str, sig_type: u8, key: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(bad(format!("`{name}` cannot name a key")));
        }
        Ok(Self {
            name: name.to_owned(),
            id: key_id(name, sig_type, &key),
            sig_type,
            key,
        })
    }

    /// Reads `name+hex(id)+base64(type || key)`, checking that the ID matches.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let s = s.trim();
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(format!("`{s}` is not a vkey (name+id+key)")));
        };
        let id = u32::from_str_radix(id, 16)
            .ok()
            .filter(|_| id.len() == 8)
            .ok_or_else(|| bad(format!("`{s}`: the key ID is not 8 hex digits")))?;
        let raw = B64
            .decode(key)
            .map_err(|_| bad(format!("`{s}`: the key is not base64")))?;
        let (&sig_type, key) = raw
            .split_first()
            .ok_or_else(|| bad(format!("`{s}`: no key")))?;
        if sig_type != SIG_ED25519 && sig_type != SIG_COSIGNATURE_V1 {
            return Err(bad(format!(
                "`{s}`: signature type {sig_type:#04x} is not Ed25519 (0x01) or an Ed25519 cosignature (0x04)"
            )));
        }
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| bad(format!("`{s}`: an Ed25519 key is 32 bytes")))?;
        let v = Self::new(name, sig_type, key)?;
        if v.id != id {
            return Err(bad(format!("`{s}`: the key ID does not match the key")));
        }
        Ok(v)
    }

    fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.key).ok()
    }
}

impl std::fmt::Display for Vkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.sig_type);
        raw.extend_from_slice(&self.key);
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub id: u32,
    /// The signature bytes after the key ID.
    pub sig: Vec<u8>,
}

impl Signature {
    /// The line, `— name base64(id || sig)\n`.
    pub fn line(&self) -> String {
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.sig);
        format!("\u{2014} {} {}\n", self.name, B64.encode(raw))
    }

    /// Reads one line (without its newline).
    pub fn parse(line: &str) -> Result<Self, NoteError> {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| bad("a signature line starts with an em dash and a space"))?;
        let (name, sig) = rest
            .split_once(' ')
            .ok_or_else(|| bad("a signature line is `— name signature`"))?;
        if !valid_name(name) {
            return Err(bad(format!("`{name}` cannot name a key")));
        }
        let raw = B64
            .decode(sig)
            .map_err(|_| bad("a signature is not base64"))?;
        if raw.len() < 5 {
            return Err(bad("a signature is too short"));
        }
        Ok(Self {
            name: name.to_owned(),
            id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            sig: raw[4..].to_vec(),
        })
    }

    /// Whether this line is by `vkey` (same name and key ID).
    pub fn is_by(&self, vkey: &Vkey) -> bool {
        self.name == vkey.name && self.id == vkey.id
    }

    /// Checks the signature over `text` with `vkey`: `Some(timestamp)` (0 for a plain
    /// Ed25519 signature) when it verifies.
    pub fn verify(&self, vkey: &Vkey, text: &str) -> Option<u64> {
        if !self.is_by(vkey) {
            return None;
        }
        let key = vkey.verifying_key()?;
        match vkey.sig_type {
            SIG_ED25519 => {
                let sig = EdSignature::from_slice(&self.sig).ok()?;
                key.verify(text.as_bytes(), &sig).ok().map(|()| 0)
            }
            SIG_COSIGNATURE_V1 => {
                if self.sig.len() != 72 {
                    return None;
                }
                let time = u64::from_be_bytes(self.sig[..8].try_into().ok()?);
                let sig = EdSignature::from_slice(&self.sig[8..]).ok()?;
                key.verify(cosigned_message(time, text).as_bytes(), &sig)
                    .ok()
                    .map(|()| time)
            }
            _ => None,
        }
    }
}

fn cosigned_message(time: u64, text: &str) -> String {
    format!("cosignature/v1\ntime {time}\n{text}")
}

/// Signs `text` as `name` with `key` (an Ed25519 note signature).
pub fn sign(text: &str, name: &str, key: &dyn NoteKey) -> Result<Signature, NoteError> {
    let vkey = Vkey::new(name, SIG_ED25519, key.public_key())?;
    Ok(Signature {
        name: vkey.name,
        id: vkey.id,
        sig: key.sign(text.as_bytes())?.to_vec(),
    })
}

/// Cosigns the checkpoint `text` as witness `name` at `time` (seconds since the epoch).
pub fn cosign(
    text: &str,
    name: &str,
    key: &dyn NoteKey,
    time: u64,
) -> Result<Signature, NoteError> {
    let vkey = Vkey::new(name, SIG_COSIGNATURE_V1, key.public_key())?;
    let mut sig = time.to_be_bytes().to_vec();
    sig.extend_from_slice(&key.sign(cosigned_message(time, text).as_bytes())?);
    Ok(Signature {
        name: vkey.name,
        id: vkey.id,
        sig,
    })
}

/// A signed note: its text (ending in a newline) and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, final newline included.
    pub text: String,
    /// The signatures, in order.
    pub sigs: Vec<Signature>,
}

impl Note {
    /// Reads a note: the text is separated from the signatures by its last blank line.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        if s.len() > MAX_NOTE_BYTES {
            return Err(bad("the note is too large"));
        }
        if s.chars().any(|c| c.is_ascii_control() && c != '\n') {
            return Err(bad("a note holds no control characters but newlines"));
        }
        if !s.ends_with('\n') {
            return Err(bad("a note ends with a newline"));
        }
        let split = s
            .rfind("\n\n")
            .ok_or_else(|| bad("a note has a blank line before its signatures"))?;
        let text = &s[..=split];
        let sigs = s[split + 2..]
            .lines()
            .map(Signature::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if sigs.is_empty() {
            return Err(bad("the note has no signature"));
        }
        if sigs.len() > MAX_SIGNATURES {
            return Err(bad("the note has too many signatures"));
        }
        Ok(Self {
            text: text.to_owned(),
            sigs,
        })
    }

    /// What `vkey` says about this note: [`Check::Absent`] when it did not sign,
    /// [`Check::Invalid`] when a line with its name and ID does not verify.
    pub fn check(&self, vkey: &Vkey) -> Check {
        let mine: Vec<&Signature> = self.sigs.iter().filter(|s| s.is_by(vkey)).collect();
        if mine.is_empty() {
            return Check::Absent;
        }
        let mut time = 0;
        for s in mine {
            match s.verify(vkey, &self.text) {
                Some(t) => time = time.max(t),
                None => return Check::Invalid,
            }
        }
        Check::Valid(time)
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.sigs {
            f.write_str(&s.line())?;
        }
        Ok(())
    }
}

/// The outcome of [`Note::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The key did not sign the note.
    Absent,
    /// It signed, and every one of its lines verifies (the newest cosignature time, or 0).
    Valid(u64),
    /// A line with its name and key ID does not verify.
    Invalid,
}

/// The body of a C2SP checkpoint: origin, tree size, root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin, e.g. `consent.example.go.th/demo`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: three lines, each ending in a newline.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Reads a checkpoint's note text (extension lines are allowed and ignored).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("a checkpoint has an origin, a size and a root hash"));
        };
        if origin.is_empty() {
            return Err(bad("the checkpoint's origin is empty"));
        }
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size = size
            .parse::<u64>()
            .ok()
            .filter(|_| size_ok)
            .ok_or_else(|| bad(format!("`{size}` is not a tree size")))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("the checkpoint's root is not a base64 SHA-256 hash"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A base64 hash line.
pub fn hash_b64(h: &Hash) -> String {
    B64.encode(h)
}

/// Reads a base64 SHA-256 hash.
pub fn parse_hash(s: &str) -> Option<Hash> {
    B64.decode(s.trim()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of c2sp.org/signed-note: its vkey verifies its note.
    #[test]
    fn the_specs_example_note_verifies() {
        let vkey =
            Vkey::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
                .expect("vkey");
        let note = Note::parse("This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
            .expect("note");
        assert_eq!(note.check(&vkey), Check::Valid(0));
        let forged = Note {
            text: "This is another message.\n".into(),
            sigs: note.sigs,
        };
        assert_eq!(forged.check(&vkey), Check::Invalid);
        assert_eq!(
            vkey.to_string(),
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        );
    }

    /// The examples of c2sp.org/tlog-checkpoint and tlog-cosignature read as the specs
    /// describe them (their keys are not published, so only the format is checked).
    #[test]
    fn the_specs_example_checkpoints_parse() {
        let cosigned = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
        let note = Note::parse(cosigned).expect("note");
        assert_eq!(note.to_string(), cosigned);
        let cp = Checkpoint::parse(&note.text).expect("checkpoint");
        assert_eq!(
            (cp.origin.as_str(), cp.size),
            ("example.com/behind-the-sofa", 20852163)
        );
        assert_eq!(cp.text(), note.text);
        // The witness's line: 4-byte key ID, 8-byte timestamp, 64-byte signature.
        let w = &note.sigs[1];
        assert_eq!(
            (w.name.as_str(), w.sig.len()),
            ("witness.example.com/w1", 72)
        );
        assert_eq!(
            u64::from_be_bytes(w.sig[..8].try_into().expect("8 bytes")),
            1_679_315_147
        );
    }

    /// Key IDs of vkeys published by others (transparency-dev/formats' tests): a
    /// cosignature (0x04) key of a public witness and an Ed25519 (0x01) key.
    #[test]
    fn key_ids_match_published_vkeys() {
        for v in [
            "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
            "Wit1+55ee4561+AVhZSmQj9+SoL+p/nN0Hh76xXmF7QcHfytUrI1XfSClk",
        ] {
            let k = Vkey::parse(v).expect(v);
            assert_eq!(k.to_string(), v);
        }
        assert!(
            Vkey::parse("remora.n621.de+00000000+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
                .is_err()
        );
        assert!(Vkey::parse("rekor.sigstore.dev+12345678+AwEB").is_err());
    }

    #[test]
    fn checkpoints_and_cosignatures_round_trip() {
        let log = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let witness = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let cp = Checkpoint {
            origin: "consent.example.go.th/demo".into(),
            size: 12,
            root: [3; 32],
        };
        let text = cp.text();
        assert_eq!(Checkpoint::parse(&text).expect("parse"), cp);
        let mut note = Note {
            sigs: vec![sign(&text, &cp.origin, &log).expect("sign")],
            text,
        };
        note.sigs.push(
            cosign(&note.text, "witness.example/w1", &witness, 1_700_000_000).expect("cosign"),
        );
        let again = Note::parse(&note.to_string()).expect("parse");
        assert_eq!(again, note);
        let log_vkey = Vkey::new(&cp.origin, SIG_ED25519, log.public_key()).expect("vkey");
        let w_vkey = Vkey::new(
            "witness.example/w1",
            SIG_COSIGNATURE_V1,
            witness.public_key(),
        )
        .expect("vkey");
        assert_eq!(again.check(&log_vkey), Check::Valid(0));
        assert_eq!(again.check(&w_vkey), Check::Valid(1_700_000_000));
        // A cosignature key is not a note key: same key, another type, another ID.
        let as_note_key =
            Vkey::new("witness.example/w1", SIG_ED25519, witness.public_key()).expect("vkey");
        assert_eq!(again.check(&as_note_key), Check::Absent);
        assert!(Checkpoint::parse("o\n012\nAAAA\n").is_err());
        assert!(Note::parse("no signatures\n\n").is_err());
    }
}
