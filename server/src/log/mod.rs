//! The tamper-evident log: per site, every receipt is a leaf of an RFC 6962 Merkle tree.
//!
//! Receipts are written without waiting for the log, so the log never serializes the
//! receipt path. A sequencer ([`sequence`]) runs in the background (every second in
//! `yinyom serve`): in one transaction that holds the site's row lock (one sequencer per
//! site at a time, across processes), it appends every unsequenced receipt, computes the
//! new root from the stored frontier and stores a signed checkpoint `{site, tree_size,
//! root, issued_at}`. Inclusion and consistency proofs are computed from the stored leaf
//! hashes; [`verify`] recomputes everything from the receipts themselves and names any
//! receipt that was edited, deleted or reordered.

pub mod merkle;

use crate::{
    signing::{self, Jwks, Signer},
    store::{CheckpointRow, LeafRow, Store, StoreError, now_ms, rfc3339_ms},
};
use merkle::Hash;
use serde::{Deserialize, Serialize};
use yinyom_model::canonical::to_canonical_json;

/// Receipts appended per sequencing transaction at most. Small enough that a receipt
/// waiting behind the sequencer's write (SQLite has one writer) waits a few milliseconds:
/// with 1,000 a turn took 10–19 ms and receipts' p99 went from ~18 ms to 30–170 ms.
pub const BATCH: i64 = 250;

/// What a checkpoint commits to. Signed as a compact JWS over its canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Site id.
    pub site: String,
    /// Number of leaves.
    pub tree_size: u64,
    /// Root hash, hex.
    pub root: String,
    /// When it was made (RFC 3339, UTC).
    pub issued_at: String,
}

/// A checkpoint as served: the statement and its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// The statement.
    pub checkpoint: Checkpoint,
    /// Compact JWS over its canonical JSON.
    pub jws: String,
}

/// The leaf hash of the receipt at position `seq`: the position is part of the leaf, so a
/// receipt moved to another position no longer matches.
pub fn receipt_leaf(seq: u64, receipt_json: &str) -> Hash {
    let mut data = Vec::with_capacity(8 + receipt_json.len());
    data.extend_from_slice(&seq.to_be_bytes());
    data.extend_from_slice(receipt_json.as_bytes());
    merkle::leaf_hash(&data)
}

fn hex32(s: &str) -> Result<Hash, StoreError> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("`{s}` is not a SHA-256 hex digest")))
}

/// Appends the site's unsequenced receipts (up to [`BATCH`]) and signs a checkpoint.
/// Returns the new checkpoint, or `None` when nothing was pending.
pub async fn sequence(
    store: &Store,
    signer: &Signer,
    site: &str,
) -> Result<Option<SignedCheckpoint>, StoreError> {
    Ok(sequence_counted(store, signer, site)
        .await?
        .map(|(cp, _)| cp))
}

/// [`sequence`], also saying how many receipts were appended.
async fn sequence_counted(
    store: &Store,
    signer: &Signer,
    site: &str,
) -> Result<Option<(SignedCheckpoint, usize)>, StoreError> {
    let mut appended = 0;
    let row = store
        .sequence_log(site, BATCH, |prev, pending| {
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
                let leaf = receipt_leaf(size, &json);
                merkle::frontier_append(&mut frontier, size, leaf);
                leaves.push(LeafRow {
                    seq: size,
                    receipt_id,
                    leaf_hash: leaf.to_vec(),
                });
                size += 1;
            }
            let root = merkle::frontier_root(&frontier);
            let now = now_ms();
            let checkpoint = Checkpoint {
                site: site.to_owned(),
                tree_size: size,
                root: hex::encode(root),
                issued_at: rfc3339_ms(now),
            };
            let json =
                to_canonical_json(&checkpoint).map_err(|e| StoreError::Canonical(e.to_string()))?;
            let jws = signer.sign(json.as_bytes())?;
            let row = CheckpointRow {
                tree_size: size,
                root_hash: root.to_vec(),
                frontier_json: serde_json::to_string(
                    &frontier.iter().map(hex::encode).collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                issued_at: now,
                checkpoint_json: json,
                jws,
            };
            Ok((leaves, row))
        })
        .await?;
    row.map(|r| signed(&r).map(|cp| (cp, appended))).transpose()
}

/// Reads a stored checkpoint back into its signed form.
pub fn signed(row: &CheckpointRow) -> Result<SignedCheckpoint, StoreError> {
    Ok(SignedCheckpoint {
        checkpoint: serde_json::from_str(&row.checkpoint_json)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        jws: row.jws.clone(),
    })
}

/// The lease that makes one process of a fleet the log sequencer.
pub const SEQUENCER_LEASE: &str = "log-sequencer";

/// Runs [`sequence`] for every site every `every`, until the process ends, in the process
/// that holds the sequencer lease.
pub async fn run_sequencer(
    store: Store,
    signer: std::sync::Arc<Signer>,
    every: std::time::Duration,
) {
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
        if let Err(e) = signer.refresh(&store).await {
            tracing::warn!(error = %e, "cannot check for a rotated signing key");
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
        for site in sites {
            loop {
                match sequence_counted(&store, &signer, &site).await {
                    Ok(Some((cp, appended))) => {
                        tracing::debug!(%site, size = cp.checkpoint.tree_size, "log checkpoint");
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
    }
}

/// An inclusion proof for one receipt against a signed checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The receipt.
    pub receipt_id: String,
    /// Its position (0-based).
    pub leaf_index: u64,
    /// Its leaf hash, hex.
    pub leaf_hash: String,
    /// Sibling hashes from the leaf up, hex (RFC 9162 order).
    pub audit_path: Vec<String>,
    /// The checkpoint the proof is against.
    pub checkpoint: SignedCheckpoint,
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The older checkpoint.
    pub first: SignedCheckpoint,
    /// The newer checkpoint.
    pub second: SignedCheckpoint,
    /// RFC 9162 consistency proof, hex.
    pub proof: Vec<String>,
}

fn leaf_hashes(rows: Vec<Vec<u8>>) -> Result<Vec<Hash>, StoreError> {
    rows.into_iter()
        .map(|h| {
            h.try_into()
                .map_err(|_| StoreError::Corrupt("a stored leaf hash is not 32 bytes".into()))
        })
        .collect()
}

/// The inclusion proof of `receipt_id` in the site's latest checkpoint, if sequenced.
pub async fn inclusion(
    store: &Store,
    site: &str,
    receipt_id: &str,
) -> Result<Option<InclusionProof>, StoreError> {
    let Some(seq) = store.leaf_seq(site, receipt_id).await? else {
        return Ok(None);
    };
    let Some(cp) = store.latest_checkpoint(site).await? else {
        return Ok(None);
    };
    let leaves = leaf_hashes(store.leaf_hashes(site, cp.tree_size).await?)?;
    let index = usize::try_from(seq).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Some(leaf) = leaves.get(index) else {
        return Ok(None);
    };
    Ok(Some(InclusionProof {
        receipt_id: receipt_id.to_owned(),
        leaf_index: seq,
        leaf_hash: hex::encode(leaf),
        audit_path: merkle::inclusion_proof(index, &leaves)
            .iter()
            .map(hex::encode)
            .collect(),
        checkpoint: signed(&cp)?,
    }))
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
    let leaves = leaf_hashes(store.leaf_hashes(site, second).await?)?;
    let m = usize::try_from(first).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Some(ConsistencyProof {
        first: signed(&a)?,
        second: signed(&b)?,
        proof: merkle::consistency_proof(m, &leaves)
            .iter()
            .map(hex::encode)
            .collect(),
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
    /// Everything wrong.
    pub findings: Vec<Finding>,
}

/// Positions tried when telling a moved receipt from an edited one.
const MAX_MOVE_CANDIDATES: usize = 4096;

/// Recomputes the site's whole log from its receipts and checks every checkpoint.
pub async fn verify(store: &Store, site: &str) -> Result<Report, StoreError> {
    let jwks: Jwks = signing::jwks(store).await?;
    let rows = store.log_rows(site).await?;
    let mut report = Report {
        unsequenced: store.unsequenced(site).await?,
        ..Report::default()
    };
    let mut recomputed: Vec<Hash> = Vec::with_capacity(rows.len());
    let mut expected_seq = 0u64;
    // Leaves whose stored hash does not match their receipt at their position, and the
    // positions a moved receipt may have come from.
    let mut mismatched: Vec<(&crate::store::LogRow, &str)> = Vec::new();
    let mut origins: Vec<u64> = Vec::new();
    for row in &rows {
        if row.seq > expected_seq {
            report.findings.push(Finding::Gap {
                from: expected_seq,
                to: row.seq - 1,
            });
            // Keep positions aligned with the signed trees: missing leaves cannot match.
            while (recomputed.len() as u64) < row.seq {
                origins.push(recomputed.len() as u64);
                recomputed.push([0u8; 32]);
            }
        }
        expected_seq = row.seq + 1;
        report.leaves += 1;
        match &row.receipt {
            None => {
                report.findings.push(Finding::Deleted {
                    receipt_id: row.receipt_id.clone(),
                    seq: row.seq,
                });
                recomputed.push([0u8; 32]);
            }
            Some((json, jws)) => {
                let leaf = receipt_leaf(row.seq, json);
                if leaf.as_slice() != row.leaf_hash.as_slice() {
                    mismatched.push((row, json));
                    origins.push(row.seq);
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
        }
    }
    // A mismatched leaf whose stored hash is its receipt's hash at another suspect position
    // was moved there; otherwise the receipt (or the leaf) was edited.
    origins.truncate(MAX_MOVE_CANDIDATES);
    for (row, json) in mismatched {
        let moved = origins
            .iter()
            .any(|&k| k != row.seq && receipt_leaf(k, json).as_slice() == row.leaf_hash.as_slice());
        let (receipt_id, seq) = (row.receipt_id.clone(), row.seq);
        report.findings.push(if moved {
            Finding::Reordered { receipt_id, seq }
        } else {
            Finding::Edited { receipt_id, seq }
        });
    }
    // Walk the recomputed leaves once, checking each signed checkpoint as its size is reached.
    let mut checkpoints = store.checkpoints(site).await?;
    checkpoints.sort_by_key(|c| c.tree_size);
    let mut frontier = Vec::new();
    let mut size = 0u64;
    for cp in checkpoints {
        report.checkpoints += 1;
        match signing::verify(&cp.jws, &jwks) {
            Ok(payload) if payload == cp.checkpoint_json.as_bytes() => {}
            Ok(_) => report.findings.push(Finding::BadCheckpointSignature {
                tree_size: cp.tree_size,
                why: "the signed statement differs from the stored one".into(),
            }),
            Err(e) => report.findings.push(Finding::BadCheckpointSignature {
                tree_size: cp.tree_size,
                why: e.to_string(),
            }),
        }
        while size < cp.tree_size {
            let Some(leaf) = recomputed.get(size as usize) else {
                break;
            };
            merkle::frontier_append(&mut frontier, size, *leaf);
            size += 1;
        }
        let signed: Option<Checkpoint> = serde_json::from_str(&cp.checkpoint_json).ok();
        let ok = size == cp.tree_size
            && signed.is_some_and(|c| c.root == hex::encode(merkle::frontier_root(&frontier)));
        if !ok {
            report.findings.push(Finding::RootMismatch {
                tree_size: cp.tree_size,
            });
        }
    }
    Ok(report)
}
