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
//! site's log lock (its `log_locks` row) it appends the unsequenced receipts, extends the
//! tiles and stores the signed checkpoint. [`verify`] recomputes everything from the
//! receipts themselves and names any receipt that was edited, deleted or reordered.

pub mod merkle;
pub mod note;
pub mod proof;
pub mod tiles;
mod verify;
pub mod witness;

pub use verify::{Finding, Outside, Report, verify, verify_against, verify_showing};

use crate::{
    signing,
    store::{CheckpointRow, LeafRow, SqliteWriter, Store, StoreError, now_ms},
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

pub(crate) fn hash32(b: &[u8]) -> Result<Hash, StoreError> {
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
    Ok(sequence_counted(store, None, signer, site)
        .await?
        .map(|(cp, _)| cp))
}

/// [`sequence`], also saying how many receipts were appended; written on `own`
/// connection when given (the sequencer's own on a SQLite file).
async fn sequence_counted(
    store: &Store,
    own: Option<&SqliteWriter>,
    signer: &LogSigner,
    site: &str,
) -> Result<Option<(SignedCheckpoint, usize)>, StoreError> {
    let mut appended = 0;
    let row = store
        .sequence_log(site, BATCH, own, |prev, pending, mut tiles| {
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
            for (receipt_id, leaf) in pending {
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
    // (sequence_log stays safe without the lease: it appends under the site's log lock).
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
    // On a SQLite file the sequencer writes on a connection of its own, in one go (as the
    // receipt writer does): through the pool each statement was a hand-off to another
    // thread, and a turn held SQLite's one writer 9 ms on average under load.
    let own = store.sqlite_writer();
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
                match sequence_counted(&store, own.as_ref(), &log, site).await {
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
