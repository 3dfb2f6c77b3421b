//! Checking a receipt's C2SP tlog-proof offline, as a visitor or an auditor does: the
//! proof's checkpoint is signed by the log's vkey, the receipt's leaf
//! (SHA-256(0x00 || the JWS payload)) is included in it, and enough witnesses cosigned it
//! (a C2SP tlog-policy: the log, the witnesses, groups of k of n, the quorum).

use super::{merkle, note};

/// The first line of a tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof: the leaf's index, its inclusion path and the checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The leaf's position (0-based).
    pub index: u64,
    /// Sibling hashes from the leaf up.
    pub path: Vec<merkle::Hash>,
    /// The checkpoint, a signed note with its cosignatures.
    pub note: note::Note,
    /// What the checkpoint says.
    pub checkpoint: note::Checkpoint,
}

impl TlogProof {
    /// Reads `c2sp.org/tlog-proof@v1`, `index N`, an optional `extra` line, the hashes, a
    /// blank line and the checkpoint note.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.replace("\r\n", "\n");
        let (head, note_text) = text
            .split_once("\n\n")
            .ok_or("a tlog-proof has a blank line before its checkpoint")?;
        let mut lines = head.lines();
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(format!("a tlog-proof starts with `{TLOG_PROOF_HEADER}`"));
        }
        let index = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or("the tlog-proof's second line is `index N`")?;
        let mut path = Vec::new();
        for line in lines {
            if line.starts_with("extra ") && path.is_empty() {
                continue;
            }
            path.push(
                note::parse_hash(line)
                    .ok_or_else(|| format!("`{line}` is not a base64 SHA-256 hash"))?,
            );
        }
        if path.len() > 64 {
            return Err("the inclusion proof is longer than any tree's".into());
        }
        let note = note::Note::parse(note_text).map_err(|e| format!("the checkpoint: {e}"))?;
        let checkpoint =
            note::Checkpoint::parse(&note.text).map_err(|e| format!("the checkpoint: {e}"))?;
        Ok(Self {
            index,
            path,
            note,
            checkpoint,
        })
    }
}

/// A C2SP tlog-policy: the log's key, the witnesses and which of them must cosign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The log's vkey.
    pub log: note::Vkey,
    /// Named witnesses (cosignature vkeys).
    pub witnesses: Vec<(String, note::Vkey)>,
    /// Named groups: how many members must be satisfied, and the members' names.
    pub groups: Vec<(String, usize, Vec<String>)>,
    /// The witness or group that must be satisfied (`None`: `quorum none`).
    pub quorum: Option<String>,
}

impl Policy {
    /// Reads the policy text (`log VKEY [URL]`, `witness NAME VKEY [URL]`,
    /// `group NAME K|all|any MEMBER…`, `quorum NAME|none`; `#` comments).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut log = None;
        let mut witnesses: Vec<(String, note::Vkey)> = Vec::new();
        let mut groups: Vec<(String, usize, Vec<String>)> = Vec::new();
        let mut quorum = None;
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [w, ..] if w.starts_with('#') => {}
                ["log", vkey, ..] => {
                    log = Some(note::Vkey::parse(vkey).map_err(|e| format!("log: {e}"))?)
                }
                ["witness", name, vkey, ..] => {
                    let v = note::Vkey::parse(vkey).map_err(|e| format!("witness {name}: {e}"))?;
                    witnesses.push(((*name).to_owned(), v));
                }
                ["group", name, k, members @ ..] if !members.is_empty() => {
                    let k = match *k {
                        "all" => members.len(),
                        "any" => 1,
                        n => n
                            .parse::<usize>()
                            .ok()
                            .filter(|n| (1..=members.len()).contains(n))
                            .ok_or_else(|| {
                                format!("group {name}: `{n}` is not 1..{}", members.len())
                            })?,
                    };
                    groups.push((
                        (*name).to_owned(),
                        k,
                        members.iter().map(|m| (*m).to_owned()).collect(),
                    ));
                }
                ["quorum", "none"] => quorum = Some(None),
                ["quorum", name] => quorum = Some(Some((*name).to_owned())),
                _ => return Err(format!("`{line}` is not a policy line")),
            }
        }
        let log = log.ok_or("the policy names no log (`log VKEY`)")?;
        let quorum = quorum.ok_or("the policy has no `quorum` line")?;
        let policy = Self {
            log,
            witnesses,
            groups,
            quorum,
        };
        if let Some(q) = &policy.quorum {
            policy.satisfied(q, &[], 0)?;
        }
        Ok(policy)
    }

    /// Whether `name` (a witness or group) is satisfied by the witnesses in `cosigned`.
    fn satisfied(&self, name: &str, cosigned: &[String], depth: usize) -> Result<bool, String> {
        if depth > 16 {
            return Err("the policy's groups nest too deep".into());
        }
        if self.witnesses.iter().any(|(n, _)| n == name) {
            return Ok(cosigned.iter().any(|c| c == name));
        }
        let (_, k, members) = self
            .groups
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| {
                format!("the policy names `{name}` but defines no such witness or group")
            })?;
        let mut met = 0;
        for m in members {
            if self.satisfied(m, cosigned, depth + 1)? {
                met += 1;
            }
        }
        Ok(met >= *k)
    }
}

/// What a valid proof shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InLog {
    /// The receipt's position.
    pub index: u64,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The log's origin.
    pub origin: String,
    /// Whether the checkpoint's log signature was checked (a vkey or policy was given).
    pub signed_checked: bool,
    /// Names of the policy's witnesses whose cosignatures verify.
    pub cosigned_by: Vec<String>,
}

/// Checks `proof` for the leaf of `payload` (the JWS payload bytes) of a receipt of
/// `site`: inclusion always; the log signature with `vkey` (or the policy's log key);
/// the cosignatures against `policy`.
pub fn check(
    proof: &str,
    payload: &[u8],
    site: &str,
    vkey: Option<&note::Vkey>,
    policy: Option<&Policy>,
) -> Result<InLog, String> {
    let p = TlogProof::parse(proof)?;
    let cp = &p.checkpoint;
    if !cp.origin.ends_with(&format!("/{site}")) {
        return Err(format!(
            "the proof is against the log `{}`, not the log of site `{site}`",
            cp.origin
        ));
    }
    let leaf = merkle::leaf_hash(payload);
    if !merkle::verify_inclusion(p.index, cp.size, &leaf, &p.path, &cp.root) {
        return Err(format!(
            "the receipt is not included at index {} of the checkpoint of size {}: the receipt or the proof was altered",
            p.index, cp.size
        ));
    }
    let log_key = vkey.or(policy.map(|p| &p.log));
    if let Some(k) = log_key {
        if k.name != cp.origin {
            return Err(format!(
                "the checkpoint is of the log `{}`, the vkey of `{}`",
                cp.origin, k.name
            ));
        }
        match p.note.check(k) {
            note::Check::Valid(_) => {}
            note::Check::Absent => {
                return Err("the checkpoint is not signed by the log's vkey".into());
            }
            note::Check::Invalid => {
                return Err(
                    "the checkpoint's log signature does not verify: it was altered".into(),
                );
            }
        }
    }
    let mut cosigned_by = Vec::new();
    if let Some(policy) = policy {
        for (name, w) in &policy.witnesses {
            match p.note.check(w) {
                note::Check::Valid(_) => cosigned_by.push(name.clone()),
                note::Check::Absent => {}
                note::Check::Invalid => {
                    return Err(format!("witness {name}'s cosignature does not verify"));
                }
            }
        }
        if let Some(q) = &policy.quorum
            && !policy.satisfied(q, &cosigned_by, 0)?
        {
            return Err(format!(
                "the checkpoint is not cosigned as the policy requires (quorum `{q}`; cosigned by: {})",
                if cosigned_by.is_empty() {
                    "none".to_owned()
                } else {
                    cosigned_by.join(", ")
                }
            ));
        }
    }
    Ok(InLog {
        index: p.index,
        size: cp.size,
        origin: cp.origin.clone(),
        signed_checked: log_key.is_some(),
        cosigned_by,
    })
}
