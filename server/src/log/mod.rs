//! The tamper-evident log: per site, every receipt is a leaf of an RFC 6962 Merkle tree,
//! published in the C2SP formats that transparency tools and witnesses read.
//!
//! - Leaf: SHA-256(0x00 || the receipt's canonical JSON), the JWS payload bytes; a
//!   receipt's index is its position. Node: SHA-256(0x01 || left || right).
//! - Checkpoint: a C2SP `tlog-checkpoint` signed note (origin `<public host>/<site>`, tree
//!   size, base64 root) signed by the log key ([`note`]).
//! - Tree: C2SP `tlog-tiles` hash tiles, stored as they grow ([`tiles`]); inclusion and
//!   consistency proofs read the few tiles they need, O(log n).
//! - Proof of a receipt: a C2SP `tlog-proof` against the newest checkpoint that enough
//!   witnesses cosigned ([`witness`]: the server submits checkpoints to them in the
//!   background; `yinyom witness serve` is a witness).
//!
//! Receipts are written without waiting for the log. A sequencer ([`sequence`]) runs in
//! the background (every second in `yinyom serve`): in one transaction that holds the
//! site's row lock it appends the unsequenced receipts, extends the tiles and stores the
//! signed checkpoint. [`verify`] recomputes everything from the receipts themselves and
//! names any receipt that was edited, deleted or reordered.

pub mod merkle;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod witness;

use crate::{
    signing,
    store::{CheckpointRow, LeafRow, Store, StoreError, now_ms},
};
use merkle::{Hash, Nodes};
use std::sync::Arc;

/// Receipts appended per sequencing transaction at most. Small enough that a receipt
/// waiting behind the sequencer's write (SQLite has one writer) waits a few milliseconds:
/// with 1,000 a turn took 10–19 ms and receipts' p99 went from ~18 ms to 30–170 ms.
pub const BATCH: i64 = 250;

/// The leaf hash of a receipt: RFC 6962 over its canonical JSON.
pub fn receipt_leaf(receipt_json: &str) -> Hash {
    merkle::leaf_hash(receipt_json.as_bytes())
}

/// How a receipt names the same visitor's previous receipt (its `previous` field):
/// base64url, without padding, of the SHA-256 of the previous receipt's canonical JSON.
pub fn chain_hash(receipt_json: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(receipt_json))
}

/// The host part of a log's origin: `--public-url`'s host, with its port only when it is
/// not the scheme's default (`https://consent.dga.go.th` → `consent.dga.go.th`).
pub fn origin_host(public_url: &str) -> String {
    let (scheme, rest) = public_url
        .split_once("://")
        .unwrap_or(("https", public_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        _ => ":443",
    };
    authority
        .strip_suffix(default_port)
        .map_or(authority.clone(), str::to_owned)
}

/// Who signs the log's checkpoints: the origin's host and the log key (`serve --log-key`,
/// a file or a key in an HSM; never kept in the database).
#[derive(Debug, Clone)]
pub struct LogSigner {
    host: String,
    key: LogKey,
}

#[derive(Debug, Clone)]
enum LogKey {
    /// The server's log keys with their validity periods: the one valid now signs.
    Held(Arc<signing::Signer>),
    /// One fixed key (tests, tools).
    Fixed(Arc<dyn note::NoteKey>),
}

/// A held key as a note key.
#[derive(Debug)]
struct HeldKey(Arc<dyn signing::Ed25519Signer>);

impl note::NoteKey for HeldKey {
    fn public_key(&self) -> [u8; 32] {
        self.0.public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], note::NoteError> {
        self.0
            .sign(message)
            .map_err(|e| note::NoteError(e.to_string()))
    }
}

impl LogSigner {
    /// The log of the server at `public_url`, signing with the log key valid at the time.
    pub fn new(public_url: &str, key: Arc<signing::Signer>) -> Self {
        Self {
            host: origin_host(public_url),
            key: LogKey::Held(key),
        }
    }

    /// The log of the server at `public_url`, always signing with `key`.
    pub fn with_key(public_url: &str, key: Arc<dyn note::NoteKey>) -> Self {
        Self {
            host: origin_host(public_url),
            key: LogKey::Fixed(key),
        }
    }

    /// The log signer of a running server: its `--log-key`.
    pub async fn of(state: &crate::state::AppState) -> Result<Self, StoreError> {
        Ok(Self::new(
            &state.settings.public_url,
            state.log_signer.clone(),
        ))
    }

    /// Reloads the log keys' validity periods (a `keys rotate --log` by any process).
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        match &self.key {
            LogKey::Held(signer) => signer.refresh(store).await,
            LogKey::Fixed(_) => Ok(()),
        }
    }

    /// The key that signs now.
    fn current(&self) -> Result<Arc<dyn note::NoteKey>, StoreError> {
        match &self.key {
            LogKey::Fixed(key) => Ok(key.clone()),
            LogKey::Held(signer) => signer
                .key_at(now_ms())
                .map(|(_, key)| Arc::new(HeldKey(key)) as Arc<dyn note::NoteKey>)
                .ok_or_else(|| {
                    StoreError::Signing(
                        "none of this server's log keys may sign now: give it the current key (yinyom keys list)"
                            .into(),
                    )
                }),
        }
    }

    /// The origin line of `site`'s log.
    pub fn origin(&self, site: &str) -> String {
        format!("{}/{site}", self.host)
    }

    /// The verifier key of `site`'s log (C2SP vkey, Ed25519), with the log key valid now.
    pub fn vkey(&self, site: &str) -> Result<note::Vkey, StoreError> {
        note::Vkey::new(
            &self.origin(site),
            note::SIG_ED25519,
            self.current()?.public_key(),
        )
        .map_err(|e| StoreError::Corrupt(format!("log origin: {e}")))
    }

    fn sign(&self, cp: &note::Checkpoint) -> Result<String, StoreError> {
        let text = cp.text();
        let sig = note::sign(&text, &cp.origin, self.current()?.as_ref())
            .map_err(|e| StoreError::Signing(format!("checkpoint of {}: {e}", cp.origin)))?;
        Ok(note::Note {
            text,
            sigs: vec![sig],
        }
        .to_string())
    }
}

/// The public keys a checkpoint of ours may be signed with: every registered log key.
pub async fn log_public_keys(store: &Store) -> Result<Vec<[u8; 32]>, StoreError> {
    Ok(store
        .keys_for(signing::KeyPurpose::Log)
        .await?
        .iter()
        .filter_map(|k| k.public.as_slice().try_into().ok())
        .collect())
}

fn hex32(s: &str) -> Result<Hash, StoreError> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("`{s}` is not a SHA-256 hex digest")))
}

fn hash32(b: &[u8]) -> Result<Hash, StoreError> {
    b.try_into()
        .map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}

/// A checkpoint as served: what it says and the note (signature lines included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// Origin, size, root.
    pub checkpoint: note::Checkpoint,
    /// The signed note, as served.
    pub note: String,
}

/// Reads a stored checkpoint back.
pub fn signed(row: &CheckpointRow) -> Result<SignedCheckpoint, StoreError> {
    let parsed = note::Note::parse(&row.note)
        .and_then(|n| note::Checkpoint::parse(&n.text))
        .map_err(|e| StoreError::Corrupt(format!("checkpoint {}: {e}", row.tree_size)))?;
    Ok(SignedCheckpoint {
        checkpoint: parsed,
        note: row.note.clone(),
    })
}

/// Appends the site's unsequenced receipts (up to [`BATCH`]) and signs a checkpoint.
/// Returns the new checkpoint, or `None` when nothing was pending.
pub async fn sequence(
    store: &Store,
    signer: &LogSigner,
    site: &str,
) -> Result<Option<SignedCheckpoint>, StoreError> {
    Ok(sequence_counted(store, signer, site)
        .await?
        .map(|(cp, _)| cp))
}

/// [`sequence`], also saying how many receipts were appended.
async fn sequence_counted(
    store: &Store,
    signer: &LogSigner,
    site: &str,
) -> Result<Option<(SignedCheckpoint, usize)>, StoreError> {
    let mut appended = 0;
    let row = store
        .sequence_log(site, BATCH, |prev, pending, mut tiles| {
            let (mut size, mut frontier) = match &prev {
                Some(p) => (
                    p.tree_size,
                    serde_json::from_str::<Vec<String>>(&p.frontier_json)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?
                        .iter()
                        .map(|h| hex32(h))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => (0, Vec::new()),
            };
            let mut leaves = Vec::with_capacity(pending.len());
            appended = pending.len();
            for (receipt_id, json) in pending {
                let leaf = receipt_leaf(&json);
                merkle::frontier_append(&mut frontier, size, leaf);
                tiles::append(&mut tiles, size, leaf);
                leaves.push(LeafRow {
                    seq: size,
                    receipt_id,
                    leaf_hash: leaf.to_vec(),
                });
                size += 1;
            }
            let root = merkle::frontier_root(&frontier);
            let note = signer.sign(&note::Checkpoint {
                origin: signer.origin(site),
                size,
                root,
            })?;
            let row = CheckpointRow {
                tree_size: size,
                root_hash: root.to_vec(),
                frontier_json: serde_json::to_string(
                    &frontier.iter().map(hex::encode).collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                issued_at: now_ms(),
                note,
            };
            Ok((leaves, row, tiles))
        })
        .await?;
    row.map(|r| signed(&r).map(|cp| (cp, appended))).transpose()
}

/// The lease that makes one process of a fleet the log sequencer.
pub const SEQUENCER_LEASE: &str = "log-sequencer";

/// Runs [`sequence`] for every site every `every`, until the process ends, in the process
/// that holds the sequencer lease. That process also submits new checkpoints to the
/// witnesses, in a task of its own: a slow or unreachable witness delays cosignatures,
/// never checkpoints or receipts.
pub async fn run_sequencer(
    store: Store,
    log: LogSigner,
    witnesses: witness::Witnesses,
    every: std::time::Duration,
) {
    let mut witnessing: Option<tokio::task::JoinHandle<()>> = None;
    // One process of a fleet sequences at a time, so checkpoints come every `every`
    // whatever the number of processes and no one signs a batch only to lose the race
    // (sequence_log stays safe without the lease: it appends under the site's row lock).
    let holder = uuid::Uuid::now_v7().to_string();
    let lease_ms = i64::try_from(
        (every * 3)
            .max(std::time::Duration::from_secs(5))
            .as_millis(),
    )
    .unwrap_or(i64::MAX);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut holding = false;
    loop {
        tick.tick().await;
        if let Err(e) = log.refresh(&store).await {
            tracing::warn!(error = %e, "cannot check for a rotated log key");
        }
        match store.take_lease(SEQUENCER_LEASE, &holder, lease_ms).await {
            Ok(held) => {
                if held != holding {
                    tracing::info!(held, "log sequencer lease");
                    holding = held;
                }
                if !held {
                    continue;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "log sequencer: cannot take its lease; will retry");
                continue;
            }
        }
        let sites = match store.site_ids().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "log sequencer: cannot list sites");
                continue;
            }
        };
        for site in &sites {
            loop {
                match sequence_counted(&store, &log, site).await {
                    Ok(Some((cp, appended))) => {
                        tracing::debug!(%site, size = cp.checkpoint.size, "log checkpoint");
                        // Only a full batch means more may be waiting (a backlog after an
                        // outage is appended batch after batch, without counting it).
                        if (appended as i64) < BATCH {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(%site, error = %e, "log sequencer failed; will retry");
                        break;
                    }
                }
            }
        }
        if !witnesses.list.is_empty() && witnessing.as_ref().is_none_or(|t| t.is_finished()) {
            let (store, witnesses, sites) = (store.clone(), witnesses.clone(), sites.clone());
            witnessing = Some(tokio::spawn(async move {
                for site in sites {
                    if let Err(e) = witness::round(&store, &witnesses, &site).await {
                        tracing::warn!(%site, error = %e, "cannot ask the witnesses to cosign; will retry");
                    }
                }
            }));
        }
    }
}

/// Computes a proof from the stored tiles: `f` is run once to learn which nodes it needs,
/// those tiles are read in one query, and `f` runs again on them.
async fn from_tiles<F>(store: &Store, site: &str, f: F) -> Result<Option<Vec<Hash>>, StoreError>
where
    F: Fn(&dyn Nodes) -> Option<Vec<Hash>>,
{
    let needed = merkle::Needed::default();
    if f(&needed).is_none() {
        return Ok(None);
    }
    let keys = tiles::tiles_for(&needed.0.borrow());
    let nodes = tiles::TileNodes(store.tiles(site, &keys).await?);
    f(&nodes)
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("log tiles of `{site}` are missing")))
}

/// The site's newest checkpoint that the configured witnesses cosigned (the newest one
/// when no witness is configured), with every cosignature we have for it.
pub async fn served(
    store: &Store,
    witnesses: &witness::Witnesses,
    site: &str,
) -> Result<Option<SignedCheckpoint>, StoreError> {
    let vkeys = witnesses.vkeys();
    let Some(row) = store
        .witnessed_checkpoint(site, &vkeys, witnesses.quorum)
        .await?
    else {
        return Ok(None);
    };
    let mut cp = signed(&row)?;
    for line in store.cosignatures(site, row.tree_size, &vkeys).await? {
        cp.note.push_str(&line);
    }
    Ok(Some(cp))
}

/// A receipt's inclusion proof against the served checkpoint.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// The receipt.
    pub receipt_id: String,
    /// Its position (0-based).
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// Sibling hashes from the leaf up (RFC 6962 §2.1.1).
    pub path: Vec<Hash>,
    /// The cosigned checkpoint the proof is against.
    pub checkpoint: SignedCheckpoint,
}

impl InclusionProof {
    /// The proof as a C2SP `tlog-proof` (`c2sp.org/tlog-proof@v1`).
    pub fn to_tlog_proof(&self) -> String {
        let mut out = format!("c2sp.org/tlog-proof@v1\nindex {}\n", self.index);
        for h in &self.path {
            out.push_str(&note::hash_b64(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint.note);
        out
    }
}

/// The inclusion proof of `receipt_id` in the site's served checkpoint, once the
/// receipt is in it. Reads O(log n) tiles.
pub async fn inclusion(
    store: &Store,
    witnesses: &witness::Witnesses,
    site: &str,
    receipt_id: &str,
) -> Result<Option<InclusionProof>, StoreError> {
    let Some(cp) = served(store, witnesses, site).await? else {
        return Ok(None);
    };
    inclusion_in(store, site, &cp, receipt_id).await
}

/// The inclusion proof of `receipt_id` in `cp` (a checkpoint of the site's, as [`served`]
/// returns it), once the receipt is in it. Reads O(log n) tiles: a visitor's history reads
/// the served checkpoint once and then this per receipt.
pub async fn inclusion_in(
    store: &Store,
    site: &str,
    cp: &SignedCheckpoint,
    receipt_id: &str,
) -> Result<Option<InclusionProof>, StoreError> {
    let Some((index, leaf)) = store.leaf(site, receipt_id).await? else {
        return Ok(None);
    };
    let size = cp.checkpoint.size;
    if index >= size {
        return Ok(None);
    }
    let Some(path) = from_tiles(store, site, |n| merkle::inclusion_path(n, index, size)).await?
    else {
        return Ok(None);
    };
    Ok(Some(InclusionProof {
        receipt_id: receipt_id.to_owned(),
        index,
        leaf_hash: hash32(&leaf)?,
        path,
        checkpoint: cp.clone(),
    }))
}

/// The RFC 6962 consistency proof from the site's tree of `first` leaves to its tree of
/// `second` leaves (both at most the newest checkpoint's size). Reads O(log n) tiles.
pub async fn consistency_hashes(
    store: &Store,
    site: &str,
    first: u64,
    second: u64,
) -> Result<Option<Vec<Hash>>, StoreError> {
    let Some(latest) = store.latest_checkpoint(site).await? else {
        return Ok(None);
    };
    if first > second || second > latest.tree_size {
        return Ok(None);
    }
    from_tiles(store, site, |n| merkle::consistency_path(n, first, second)).await
}

/// A consistency proof between two of the site's checkpoints.
#[derive(Debug, Clone)]
pub struct ConsistencyProof {
    /// The older checkpoint.
    pub first: SignedCheckpoint,
    /// The newer checkpoint.
    pub second: SignedCheckpoint,
    /// RFC 6962 consistency proof.
    pub proof: Vec<Hash>,
}

/// The consistency proof between the site's checkpoints of sizes `first` and `second`.
pub async fn consistency(
    store: &Store,
    site: &str,
    first: u64,
    second: u64,
) -> Result<Option<ConsistencyProof>, StoreError> {
    let (Some(a), Some(b)) = (
        store.checkpoint(site, first).await?,
        store.checkpoint(site, second).await?,
    ) else {
        return Ok(None);
    };
    let Some(proof) = consistency_hashes(store, site, first, second).await? else {
        return Ok(None);
    };
    Ok(Some(ConsistencyProof {
        first: signed(&a)?,
        second: signed(&b)?,
        proof,
    }))
}

/// One thing `yinyom log verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The receipt's stored content no longer matches its leaf.
    Edited {
        /// Receipt id.
        receipt_id: String,
        /// Its position.
        seq: u64,
    },
    /// The log has a leaf for this receipt but the receipt is gone.
    Deleted {
        /// Receipt id.
        receipt_id: String,
        /// Its position.
        seq: u64,
    },
    /// The receipt's position was changed.
    Reordered {
        /// Receipt id.
        receipt_id: String,
        /// Position in the log.
        seq: u64,
    },
    /// Positions are missing from the log (leaves removed).
    Gap {
        /// First missing position.
        from: u64,
        /// Last missing position.
        to: u64,
    },
    /// A checkpoint's signature does not verify.
    BadCheckpointSignature {
        /// Its tree size.
        tree_size: u64,
        /// Why.
        why: String,
    },
    /// The leaves no longer hash to a signed checkpoint's root.
    RootMismatch {
        /// Its tree size.
        tree_size: u64,
    },
    /// A receipt's JWS does not verify over its stored content.
    BadReceiptSignature {
        /// Receipt id.
        receipt_id: String,
        /// Why.
        why: String,
    },
    /// A stored hash tile differs from the tile the receipts hash to (the proofs served
    /// from it would not verify, or would prove another tree).
    TileMismatch {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
    },
    /// A receipt row of the site is neither in its log nor waiting for it (its leaf was
    /// removed, or the log emptied).
    NotInLog {
        /// Receipt id.
        receipt_id: String,
    },
    /// Leaves were appended that no signed checkpoint covers (the checkpoints were
    /// deleted: the sequencer signs in the same transaction that appends).
    Unsigned {
        /// Leaves in the log.
        leaves: u64,
        /// The largest signed tree size (0: none).
        signed: u64,
    },
    /// A column or decision row the console searches differs from the signed receipt.
    Derived {
        /// Receipt id.
        receipt_id: String,
        /// What differs.
        what: String,
    },
    /// A visitor's chain of receipts is broken or forked.
    Chain {
        /// Receipt id (or the visitor's id for a missing newest receipt).
        receipt_id: String,
        /// What is wrong.
        why: String,
    },
    /// A stored notice text does not hash to its stored hash, or to the hash the receipts
    /// signed.
    Notice {
        /// Version label.
        version: String,
        /// What differs.
        why: String,
    },
    /// An erasure record is not valid, or does not match the log, or names a receipt
    /// that is still stored.
    Erasure {
        /// The record's id.
        erasure_id: String,
        /// What is wrong.
        why: String,
    },
    /// A per-day count the console shows differs from what the signed receipts give.
    Count {
        /// Thailand day (days since 1970).
        day: i64,
        /// Notice version, method, item, granted (-1: any).
        key: (String, String, String, i64),
        /// Stored count.
        stored: i64,
        /// Count from the signed receipts in the log.
        signed: i64,
    },
    /// A visitor's latest choice as stored (what the current-consent statistics count)
    /// differs from the visitor's latest signed receipt.
    Head {
        /// The visitor.
        subject_id: String,
        /// What differs.
        why: String,
    },
    /// A `consent_now` count (the current-consent statistics) differs from what the
    /// visitors' latest signed receipts give.
    ConsentNow {
        /// Its key: (Thailand day the validity ends, withdrawn, notice version, an
        /// earlier receipt under another version, decisions).
        key: crate::store::heads::NowKey,
        /// Stored count.
        stored: i64,
        /// Count from the signed receipts.
        signed: i64,
    },
    /// The checkpoint kept outside (`--checkpoint`) does not match this log.
    Outside {
        /// Its tree size.
        tree_size: u64,
        /// Why.
        why: String,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Edited { receipt_id, seq } => write!(
                f,
                "receipt {receipt_id} (log position {seq}) was edited: its content no longer matches the log"
            ),
            Finding::Deleted { receipt_id, seq } => {
                write!(f, "receipt {receipt_id} (log position {seq}) was deleted")
            }
            Finding::Reordered { receipt_id, seq } => write!(
                f,
                "receipt {receipt_id} was moved: the log has it at position {seq}, the receipt row says otherwise"
            ),
            Finding::Gap { from, to } => write!(
                f,
                "log positions {from}..={to} are missing: leaves were removed"
            ),
            Finding::BadCheckpointSignature { tree_size, why } => {
                write!(f, "checkpoint of size {tree_size}: bad signature: {why}")
            }
            Finding::RootMismatch { tree_size } => write!(
                f,
                "checkpoint of size {tree_size}: the receipts no longer hash to its signed root"
            ),
            Finding::BadReceiptSignature { receipt_id, why } => {
                write!(f, "receipt {receipt_id}: {why}")
            }
            Finding::NotInLog { receipt_id } => write!(
                f,
                "receipt {receipt_id} is not in the log and not waiting for it: its leaf was removed"
            ),
            Finding::Unsigned { leaves, signed } => write!(
                f,
                "the log has {leaves} leaves but its largest signed checkpoint covers {signed}: checkpoints were deleted"
            ),
            Finding::Derived { receipt_id, what } => write!(
                f,
                "receipt {receipt_id}: {what} differs from the signed receipt (the console would show wrong data)"
            ),
            Finding::Notice { version, why } => write!(f, "notice version {version}: {why}"),
            Finding::Chain { receipt_id, why } => write!(f, "receipt chain at {receipt_id}: {why}"),
            Finding::Erasure { erasure_id, why } => {
                write!(f, "erasure record {erasure_id}: {why}")
            }
            Finding::Count {
                day,
                key: (version, method, item, granted),
                stored,
                signed,
            } => {
                let item = if item.is_empty() {
                    "every receipt"
                } else {
                    item.as_str()
                };
                let decision = match granted {
                    1 => " granted",
                    0 => " denied",
                    _ => "",
                };
                write!(
                    f,
                    "per-day count of {} (notice {version}, method {method}, {item}{decision}): stored {stored}, the signed receipts give {signed}",
                    crate::dates::day_name(*day)
                )
            }
            Finding::Head { subject_id, why } => write!(
                f,
                "visitor {subject_id}: the latest choice kept for the statistics {why}"
            ),
            Finding::ConsentNow {
                key: (day, withdrawn, version, mixed, choice),
                stored,
                signed,
            } => write!(
                f,
                "consent-now count of choices valid until {} (withdrawn {withdrawn}, notice {version}, earlier version {mixed}, `{choice}`): stored {stored}, the signed receipts give {signed}",
                crate::dates::day_name(*day)
            ),
            Finding::Outside { tree_size, why } => {
                write!(f, "the checkpoint kept outside (size {tree_size}): {why}")
            }
            Finding::TileMismatch { level, index } => write!(
                f,
                "hash tile {} differs from what the receipts hash to",
                tiles::TilePath {
                    level: *level,
                    index: *index,
                    width: None
                }
            ),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Default)]
pub struct Report {
    /// Leaves checked.
    pub leaves: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Receipts not yet in the log (written after the last checkpoint).
    pub unsequenced: u64,
    /// The valid erasure records, oldest first.
    pub erasures: Vec<crate::erasure::ErasureRecord>,
    /// Everything wrong.
    pub findings: Vec<Finding>,
}

/// Recomputes the site's whole log from its receipts and checks every checkpoint and
/// every stored tile, every receipt row against the log and its derived data, and the
/// visitors' chains.
pub async fn verify(store: &Store, site: &str) -> Result<Report, StoreError> {
    verify_against(store, site, &[]).await
}

/// A checkpoint note kept outside the database (an auditor's copy, exactly as served),
/// and optionally the log's vkey to check it with (else the log keys in the database).
#[derive(Debug, Clone)]
pub struct Outside {
    /// The note text.
    pub note: String,
    /// The log's verifier key.
    pub vkey: Option<note::Vkey>,
}

/// [`verify`], and the log must extend each checkpoint kept `outside` (an auditor's copy,
/// the witnesses' newest cosigned ones): a truncated or rewritten log fails even when its
/// own checkpoints were deleted.
pub async fn verify_against(
    store: &Store,
    site: &str,
    outside: &[Outside],
) -> Result<Report, StoreError> {
    verify_showing(store, site, outside, &indicatif::ProgressBar::hidden()).await
}

/// [`verify_against`], advancing `progress` (the CLI's bar) by each leaf checked.
pub async fn verify_showing(
    store: &Store,
    site: &str,
    outside: &[Outside],
    progress: &indicatif::ProgressBar,
) -> Result<Report, StoreError> {
    let jwks = signing::jwks(store).await?;
    let log_keys = log_public_keys(store).await?;
    let rows = store.log_rows(site).await?;
    progress.set_length(rows.len() as u64);
    let stored_tiles = store.all_tiles(site).await?;
    let mut report = Report {
        unsequenced: store.unsequenced(site).await?,
        ..Report::default()
    };
    // Where each leaf hash sits in the stored level-0 tiles: a receipt whose leaf is at
    // another position there was moved.
    let tiled: std::collections::HashMap<Hash, u64> = stored_tiles
        .iter()
        .filter(|((level, _), _)| *level == 0)
        .flat_map(|((_, index), t)| {
            tiles::hashes(t)
                .into_iter()
                .enumerate()
                .map(move |(i, h)| (h, index * tiles::WIDTH + i as u64))
        })
        .collect();
    // Receipts erased under a valid signed record: receipt id -> (leaf hash, chain hash).
    let mut erased: std::collections::HashMap<String, (String, String, String)> =
        std::collections::HashMap::new();
    for (row, checked) in crate::erasure::records(store, site).await? {
        match checked {
            Ok(record) => {
                for r in &record.receipts {
                    erased.insert(
                        r.receipt_id.clone(),
                        (
                            r.leaf_hash.clone(),
                            r.chain_hash.clone(),
                            record.erasure_id.clone(),
                        ),
                    );
                }
                report.erasures.push(record);
            }
            Err(why) => report.findings.push(Finding::Erasure {
                erasure_id: row.erasure_id,
                why,
            }),
        }
    }
    let mut recomputed: Vec<Hash> = Vec::with_capacity(rows.len());
    let mut expected_seq = 0u64;
    for row in &rows {
        progress.inc(1);
        if row.seq > expected_seq {
            report.findings.push(Finding::Gap {
                from: expected_seq,
                to: row.seq - 1,
            });
            // Keep positions aligned with the signed trees: missing leaves cannot match.
            while (recomputed.len() as u64) < row.seq {
                recomputed.push([0u8; 32]);
            }
        }
        expected_seq = row.seq + 1;
        report.leaves += 1;
        let listed = erased.get(&row.receipt_id);
        let Some((json, jws)) = &row.receipt else {
            // An erased receipt: the record's leaf hash must be the log's.
            match listed {
                Some((leaf, _, _)) if *leaf == hex::encode(&row.leaf_hash) => {
                    recomputed.push(hash32(&row.leaf_hash)?);
                }
                Some((_, _, erasure_id)) => {
                    report.findings.push(Finding::Erasure {
                        erasure_id: erasure_id.clone(),
                        why: format!(
                            "it names receipt {} with another leaf hash than the log's (position {})",
                            row.receipt_id, row.seq
                        ),
                    });
                    recomputed.push([0u8; 32]);
                }
                None => {
                    report.findings.push(Finding::Deleted {
                        receipt_id: row.receipt_id.clone(),
                        seq: row.seq,
                    });
                    recomputed.push([0u8; 32]);
                }
            }
            continue;
        };
        if let Some((_, _, erasure_id)) = listed {
            report.findings.push(Finding::Erasure {
                erasure_id: erasure_id.clone(),
                why: format!(
                    "receipt {} is recorded as erased but its content is still stored",
                    row.receipt_id
                ),
            });
        }
        let leaf = receipt_leaf(json);
        let (receipt_id, seq) = (row.receipt_id.clone(), row.seq);
        if leaf.as_slice() != row.leaf_hash.as_slice() {
            report.findings.push(Finding::Edited { receipt_id, seq });
        } else if tiled.get(&leaf).is_some_and(|&at| at != seq) {
            report.findings.push(Finding::Reordered { receipt_id, seq });
        }
        match signing::verify(jws, &jwks) {
            Ok(payload) if payload == json.as_bytes() => {}
            Ok(_) => report.findings.push(Finding::BadReceiptSignature {
                receipt_id: row.receipt_id.clone(),
                why: "the signed content differs from the stored content".into(),
            }),
            Err(e) => report.findings.push(Finding::BadReceiptSignature {
                receipt_id: row.receipt_id.clone(),
                why: e.to_string(),
            }),
        }
        recomputed.push(leaf);
    }
    // Every stored tile must be the tile of the recomputed tree (a partial tile is a
    // prefix of the tile the tree has now).
    let built = tiles::build(&recomputed);
    for (&(level, index), tile) in &stored_tiles {
        let ok = built
            .get(&(level, index))
            .is_some_and(|b| b.starts_with(tile) && !tile.is_empty());
        if !ok {
            report.findings.push(Finding::TileMismatch { level, index });
        }
    }
    let erased_links: std::collections::HashSet<String> =
        erased.into_values().map(|(_, chain, _)| chain).collect();
    audit_rows(store, site, &erased_links, &mut report).await?;
    for outside in outside {
        check_outside(outside, &log_keys, site, &recomputed, &mut report);
    }
    // Walk the recomputed leaves once, checking each signed checkpoint as its size is reached.
    let mut checkpoints = store.checkpoints(site).await?;
    checkpoints.sort_by_key(|c| c.tree_size);
    let signed = checkpoints.last().map_or(0, |c| c.tree_size);
    if report.leaves > signed {
        report.findings.push(Finding::Unsigned {
            leaves: report.leaves,
            signed,
        });
    }
    let mut frontier = Vec::new();
    let mut size = 0u64;
    for cp in checkpoints {
        report.checkpoints += 1;
        let parsed = note::Note::parse(&cp.note)
            .and_then(|n| note::Checkpoint::parse(&n.text).map(|c| (n, c)));
        let signed_root = match parsed {
            Err(e) => {
                report.findings.push(Finding::BadCheckpointSignature {
                    tree_size: cp.tree_size,
                    why: format!("not a checkpoint note: {e}"),
                });
                None
            }
            Ok((n, c)) => {
                let checks: Vec<note::Check> = log_keys
                    .iter()
                    .filter_map(|k| note::Vkey::new(&c.origin, note::SIG_ED25519, *k).ok())
                    .map(|v| n.check(&v))
                    .collect();
                let why = if checks.contains(&note::Check::Invalid) {
                    Some("a log signature does not verify: the note was altered")
                } else if !checks.iter().any(|c| matches!(c, note::Check::Valid(_))) {
                    Some("it is not signed by the log key")
                } else if !c.origin.ends_with(&format!("/{site}")) || c.size != cp.tree_size {
                    Some("the signed note is of another log or size")
                } else {
                    None
                };
                if let Some(why) = why {
                    report.findings.push(Finding::BadCheckpointSignature {
                        tree_size: cp.tree_size,
                        why: why.into(),
                    });
                }
                Some(c.root)
            }
        };
        while size < cp.tree_size {
            let Some(leaf) = recomputed.get(size as usize) else {
                break;
            };
            merkle::frontier_append(&mut frontier, size, *leaf);
            size += 1;
        }
        let root = merkle::frontier_root(&frontier);
        let ok = size == cp.tree_size
            && signed_root == Some(root)
            && cp.root_hash.as_slice() == root.as_slice();
        if !ok {
            report.findings.push(Finding::RootMismatch {
                tree_size: cp.tree_size,
            });
        }
    }
    Ok(report)
}

/// The root of the first `size` leaves, if there are that many.
fn root_of(leaves: &[Hash], size: u64) -> Option<Hash> {
    let prefix = leaves.get(..usize::try_from(size).ok()?)?;
    let mut frontier = Vec::new();
    for (i, leaf) in prefix.iter().enumerate() {
        merkle::frontier_append(&mut frontier, i as u64, *leaf);
    }
    Some(merkle::frontier_root(&frontier))
}

/// The log must contain the tree of a checkpoint kept outside.
fn check_outside(
    outside: &Outside,
    log_keys: &[[u8; 32]],
    site: &str,
    leaves: &[Hash],
    report: &mut Report,
) {
    let parsed = note::Note::parse(&outside.note)
        .and_then(|n| note::Checkpoint::parse(&n.text).map(|c| (n, c)));
    let (n, c) = match parsed {
        Ok(p) => p,
        Err(e) => {
            report.findings.push(Finding::Outside {
                tree_size: 0,
                why: format!("not a checkpoint note: {e}"),
            });
            return;
        }
    };
    let vkeys: Vec<note::Vkey> = match &outside.vkey {
        Some(v) => vec![v.clone()],
        None => log_keys
            .iter()
            .filter_map(|k| note::Vkey::new(&c.origin, note::SIG_ED25519, *k).ok())
            .collect(),
    };
    let why = if !vkeys
        .iter()
        .any(|v| matches!(n.check(v), note::Check::Valid(_)))
    {
        Some("it is not signed by the log key".to_owned())
    } else if !c.origin.ends_with(&format!("/{site}")) {
        Some(format!(
            "it is the checkpoint of another log ({})",
            c.origin
        ))
    } else {
        match root_of(leaves, c.size) {
            None => Some(format!(
                "the log has only {} leaves: it was truncated",
                leaves.len()
            )),
            Some(root) if root != c.root => {
                Some("the log's first leaves no longer hash to its root: it was rewritten".into())
            }
            Some(_) => None,
        }
    };
    if let Some(why) = why {
        report.findings.push(Finding::Outside {
            tree_size: c.size,
            why,
        });
    }
}

/// Every receipt row of the site against the log, its derived columns and decision rows
/// against its signed JSON, and the visitors' chains.
async fn audit_rows(
    store: &Store,
    site: &str,
    erased_links: &std::collections::HashSet<String>,
    report: &mut Report,
) -> Result<(), StoreError> {
    use std::collections::{BTreeSet, HashMap, HashSet};
    let rows = store.audit_rows(site).await?;
    // The per-day counts the signed receipts in the log give.
    let mut counts = crate::store::log::Counts::default();
    let mut decisions: HashMap<String, BTreeSet<(String, String, i64)>> = HashMap::new();
    for (id, kind, item, granted) in store.audit_decisions(site).await? {
        decisions
            .entry(id)
            .or_default()
            .insert((kind, item, granted));
    }
    // The hash each notice version's text must have: what the receipts signed, else the
    // stored one.
    let mut signed_notices: HashMap<String, String> = HashMap::new();
    // chain hash -> (subject, receipt id) of the site's receipts, as signed (an erased
    // receipt: no subject; its record is the evidence it existed).
    let mut by_hash: HashMap<String, (Option<String>, String)> = erased_links
        .iter()
        .map(|h| (h.clone(), (None, "(erased)".to_owned())))
        .collect();
    let mut links: Vec<(String, String, String)> = Vec::new();
    // The site's signed receipts, for the visitors' latest choices.
    let mut latest: Vec<crate::store::heads::ReceiptOfHead> = Vec::new();
    for row in &rows {
        let id = row.receipt_id.clone();
        if row.site_id == site && row.in_log == 0 && row.pending == 0 {
            report.findings.push(Finding::NotInLog {
                receipt_id: id.clone(),
            });
        }
        let receipt: yinyom_model::receipt::Receipt = match serde_json::from_str(&row.receipt_json)
        {
            Ok(r) => r,
            // An edited JSON is named by the leaf check.
            Err(_) => continue,
        };
        let signed: BTreeSet<(String, String, i64)> = receipt
            .categories
            .iter()
            .map(|(i, g)| ("category", i, g))
            .chain(receipt.purposes.iter().map(|(i, g)| ("purpose", i, g)))
            .map(|(k, i, g)| (k.to_owned(), i.as_str().to_owned(), i64::from(*g)))
            .collect();
        let mut differs = Vec::new();
        let (issued_at, signed_at) = (
            row.issued_at.to_string(),
            crate::config::parse_time_ms(&receipt.issued_at)
                .map_or_else(|e| e, |ms| ms.to_string()),
        );
        let (revision, signed_revision) = (
            row.consent_revision.to_string(),
            receipt.notice.consent_revision.to_string(),
        );
        for (column, stored, signed) in [
            ("site_id", row.site_id.as_str(), receipt.site.as_str()),
            (
                "subject_id",
                row.subject_id.as_str(),
                receipt.subject_id.as_str(),
            ),
            ("event", row.event.as_str(), receipt.event.as_str()),
            ("issued_at", issued_at.as_str(), signed_at.as_str()),
            (
                "consent_revision",
                revision.as_str(),
                signed_revision.as_str(),
            ),
            ("method", row.method.as_str(), receipt.method.as_str()),
            (
                "notice_version",
                row.notice_version.as_str(),
                receipt.notice.version.as_str(),
            ),
        ] {
            if stored != signed {
                differs.push(format!("{column} (stored `{stored}`, signed `{signed}`)"));
            }
        }
        if decisions.remove(&row.receipt_id).unwrap_or_default() != signed {
            differs.push("its decision rows".to_owned());
        }
        for what in differs {
            report.findings.push(Finding::Derived {
                receipt_id: id.clone(),
                what,
            });
        }
        if receipt.site.as_str() == site && row.in_log == 1 {
            let at = crate::config::parse_time_ms(&receipt.issued_at)
                .map_err(|e| StoreError::Corrupt(format!("receipt {id}: {e}")))?;
            counts.add(
                at,
                receipt.notice.version.clone(),
                receipt.method.as_str().to_owned(),
                &row.receipt_json,
            )?;
        }
        if receipt.site.as_str() == site
            && row.site_id == site
            && let Ok(at) = crate::config::parse_time_ms(&receipt.issued_at)
        {
            latest.push((
                row.subject_id.clone(),
                at,
                row.receipt_id.clone(),
                row.receipt_json.clone(),
            ));
        }
        if receipt.site.as_str() == site {
            signed_notices.insert(
                receipt.notice.version.clone(),
                receipt.notice.sha256.clone(),
            );
            by_hash.insert(
                chain_hash(&row.receipt_json),
                (Some(receipt.subject_id.clone()), id.clone()),
            );
            if let Some(previous) = receipt.previous {
                links.push((id, receipt.subject_id, previous));
            }
        }
    }
    for (receipt_id, _) in decisions {
        report.findings.push(Finding::Derived {
            receipt_id,
            what: "a decision row of no receipt".into(),
        });
    }
    for (version, stored, text) in store.notice_texts(site).await? {
        use sha2::Digest as _;
        let actual = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        let why = if actual != stored {
            Some("its stored text does not hash to its stored hash: the text was edited")
        } else if signed_notices.get(&version).is_some_and(|h| *h != actual) {
            Some("its stored text is not the text the receipts signed")
        } else {
            None
        };
        if let Some(why) = why {
            report.findings.push(Finding::Notice {
                version,
                why: why.into(),
            });
        }
    }
    let stored = store.receipt_counts(site).await?;
    let keys: BTreeSet<&crate::store::log::CountKey> =
        stored.0.keys().chain(counts.0.keys()).collect();
    for key in keys {
        let (s, c) = (
            stored.0.get(key).copied().unwrap_or(0),
            counts.0.get(key).copied().unwrap_or(0),
        );
        if s != c {
            let (day, version, method, item, granted) = key.clone();
            report.findings.push(Finding::Count {
                day,
                key: (version, method, item, granted),
                stored: s,
                signed: c,
            });
        }
    }
    let mut named = HashSet::new();
    for (receipt_id, subject, previous) in &links {
        let why = match by_hash.get(previous) {
            None => {
                Some("the visitor's previous receipt it names is missing: a receipt was removed")
            }
            Some((Some(s), _)) if s != subject => Some("it names a receipt of another visitor"),
            Some(_) if !named.insert(previous.clone()) => {
                Some("two receipts name the same previous receipt: the chain was forked")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            report.findings.push(Finding::Chain {
                receipt_id: receipt_id.clone(),
                why: why.into(),
            });
        }
    }
    check_heads(store, site, latest, report).await?;
    for (subject, head) in store.chain_heads(site).await? {
        let why = match by_hash.get(&head) {
            None => Some("the visitor's newest receipt is missing: it was removed"),
            Some(_) if named.contains(&head) => {
                Some("the visitor's newest receipt was rolled back to an older one")
            }
            Some((Some(s), _)) if *s != subject => {
                Some("the visitor's newest receipt is another visitor's")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            report.findings.push(Finding::Chain {
                receipt_id: format!("visitor {subject}"),
                why: why.into(),
            });
        }
    }
    Ok(())
}

/// Every visitor's stored latest choice and the `consent_now` counts (what the
/// current-consent statistics add up) against the site's signed receipts.
async fn check_heads(
    store: &Store,
    site: &str,
    receipts: Vec<crate::store::heads::ReceiptOfHead>,
    report: &mut Report,
) -> Result<(), StoreError> {
    use crate::store::heads::{NowCounts, heads_of};
    let mut signed = heads_of(receipts);
    let mut counts = NowCounts::default();
    for head in signed.values() {
        counts.moved(None, Some(head));
    }
    for row in store.site_heads(site).await? {
        let why = match (row.head(), signed.remove(&row.subject_id)) {
            (Some(stored), Some(head)) if stored != head => Some(format!(
                "differs from the latest signed receipt (stored {stored:?}, signed {head:?})"
            )),
            (Some(_), None) => Some("belongs to no signed receipt".to_owned()),
            (None, Some(_)) => Some("is missing".to_owned()),
            _ => None,
        };
        if let Some(why) = why {
            report.findings.push(Finding::Head {
                subject_id: row.subject_id,
                why,
            });
        }
    }
    for subject_id in signed.into_keys() {
        report.findings.push(Finding::Head {
            subject_id,
            why: "is missing, and so is the visitor's row".to_owned(),
        });
    }
    let stored = store.consent_now_counts(site).await?;
    let keys: std::collections::BTreeSet<&crate::store::heads::NowKey> =
        stored.0.keys().chain(counts.0.keys()).collect();
    for key in keys {
        let (s, c) = (
            stored.0.get(key).copied().unwrap_or(0),
            counts.0.get(key).copied().unwrap_or(0),
        );
        if s != c {
            report.findings.push(Finding::ConsentNow {
                key: key.clone(),
                stored: s,
                signed: c,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::origin_host;

    #[test]
    fn the_origin_is_the_public_host_with_a_port_only_when_not_the_default() {
        for (url, host) in [
            ("https://consent.dga.go.th", "consent.dga.go.th"),
            ("https://Consent.DGA.go.th:443/yinyom/", "consent.dga.go.th"),
            ("https://consent.dga.go.th:8443", "consent.dga.go.th:8443"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
            ("http://yinyom.test:80", "yinyom.test"),
            ("http://[::1]:8080/x?y", "[::1]:8080"),
        ] {
            assert_eq!(origin_host(url), host, "{url}");
        }
    }
}
