//! `yinyom log verify` and the server's background self-check: everything recomputed from
//! the signed receipts themselves, in two streamed passes so memory stays bounded however
//! large the site (about 100 bytes per receipt: its leaf hash, the stored and rebuilt
//! tiles, and a short digest of its chain hash).
//!
//! 1. The log in position order, a page at a time: each leaf against its receipt's
//!    content and JWS; then the stored tiles, the signed checkpoints and any checkpoint
//!    kept outside against the recomputed tree.
//! 2. The site's receipt rows in visitor order, a page at a time: each row's derived
//!    columns (decisions included) against its signed JSON, and per visitor the chain of
//!    receipts and the latest choice the statistics keep; then the per-day counts, the
//!    `consent_now` counts and the notice texts.

use super::{Hash, chain_hash, hash32, log_public_keys, merkle, note, receipt_leaf, tiles};
use crate::{
    signing,
    store::{
        Store, StoreError,
        heads::{NowCounts, heads_of},
        log::{Counts, LogRow, VerifyRow},
    },
};
use std::collections::{BTreeSet, HashMap, HashSet};
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
    /// A column the console searches (decisions included) differs from the signed receipt.
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
                    "per-day count of {} (notice {version}, method {method}, {item}{decision}): stored {}, the signed receipts give {signed}",
                    crate::dates::day_name(*day),
                    stored_int(*stored)
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
    // One thread: the server's self-check runs beside the visitors.
    let hidden = indicatif::ProgressBar::hidden();
    verify_with(store, site, outside, &hidden, 1).await
}

/// Rows read per statement in both passes.
const PAGE: i64 = 2_000;

/// Receipts erased under a valid signed record: receipt id -> (leaf hash, chain hash,
/// erasure id).
type Erased = HashMap<String, (String, String, String)>;

/// [`verify_against`] as `yinyom log verify` runs it: advancing `progress` (the CLI's
/// bar) by each leaf and each receipt row checked, and checking the receipts' signatures
/// on every core.
pub async fn verify_showing(
    store: &Store,
    site: &str,
    outside: &[Outside],
    progress: &indicatif::ProgressBar,
) -> Result<Report, StoreError> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    verify_with(store, site, outside, progress, cores).await
}

/// [`verify_against`], advancing `progress`, with the signatures checked on `threads`
/// threads.
async fn verify_with(
    store: &Store,
    site: &str,
    outside: &[Outside],
    progress: &indicatif::ProgressBar,
    threads: usize,
) -> Result<Report, StoreError> {
    let log_keys = log_public_keys(store).await?;
    let (leaves, rows) = store.verify_sizes(site).await?;
    progress.set_length(leaves + rows);
    let stored_tiles = store.all_tiles(site).await?;
    let mut report = Report {
        unsequenced: store.unsequenced(site).await?,
        ..Report::default()
    };
    let mut erased: Erased = HashMap::new();
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
    let recomputed = walk_log(
        store,
        site,
        &stored_tiles,
        &erased,
        &mut report,
        progress,
        threads,
    )
    .await?;
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
    drop((built, stored_tiles));
    let erased_links: HashSet<String> = erased.into_values().map(|(_, chain, _)| chain).collect();
    audit_receipts(store, site, &erased_links, &mut report, progress).await?;
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

/// Pass 1: the site's log in position order, a page at a time. Each leaf is recomputed
/// from its receipt's stored content and checked against the stored leaf, the stored
/// tiles and the receipt's JWS; returns the recomputed leaves (32 bytes each), with zeros
/// where a leaf cannot be recomputed.
async fn walk_log(
    store: &Store,
    site: &str,
    stored_tiles: &tiles::TileMap,
    erased: &Erased,
    report: &mut Report,
    progress: &indicatif::ProgressBar,
    threads: usize,
) -> Result<Vec<Hash>, StoreError> {
    let jwks = signing::jwks(store).await?;
    let keys = signing::Verifier::new(&jwks);
    let mut recomputed: Vec<Hash> = Vec::new();
    // Where each leaf hash sits in the stored level-0 tiles, built only when a leaf is
    // not where the tiles have it: a receipt whose leaf is at another position was moved.
    let mut tiled: Option<HashMap<Hash, u64>> = None;
    let mut after = None;
    loop {
        let rows = store.log_page(site, after, PAGE).await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some(last.seq);
        let signatures = check_signatures(&rows, &keys, threads);
        for (row, signature) in rows.into_iter().zip(signatures) {
            progress.inc(1);
            let expected = recomputed.len() as u64;
            if row.seq > expected {
                report.findings.push(Finding::Gap {
                    from: expected,
                    to: row.seq - 1,
                });
                // Keep positions aligned with the signed trees: missing leaves cannot match.
                let at = usize::try_from(row.seq)
                    .map_err(|e| StoreError::Corrupt(format!("log position: {e}")))?;
                recomputed.resize(at, [0u8; 32]);
            }
            report.leaves += 1;
            let listed = erased.get(&row.receipt_id);
            let Some((json, _)) = &row.receipt else {
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
            let seq = row.seq;
            if leaf.as_slice() != row.leaf_hash.as_slice() {
                report.findings.push(Finding::Edited {
                    receipt_id: row.receipt_id.clone(),
                    seq,
                });
            } else if stored_leaf(stored_tiles, seq) != Some(leaf) {
                let tiled = tiled.get_or_insert_with(|| leaf_positions(stored_tiles));
                if tiled.get(&leaf).is_some_and(|&at| at != seq) {
                    report.findings.push(Finding::Reordered {
                        receipt_id: row.receipt_id.clone(),
                        seq,
                    });
                }
            }
            if let Some(Err(why)) = signature {
                report.findings.push(Finding::BadReceiptSignature {
                    receipt_id: row.receipt_id.clone(),
                    why,
                });
            }
            recomputed.push(leaf);
        }
    }
    Ok(recomputed)
}

/// Each row's signature check, in order: `None` for a receipt no longer stored, else
/// whether its JWS verifies and signs exactly its stored JSON. The rows are split between
/// `threads` threads: an Ed25519 verification is most of what pass 1 costs per receipt.
fn check_signatures(
    rows: &[LogRow],
    keys: &signing::Verifier<'_>,
    threads: usize,
) -> Vec<Option<Result<(), String>>> {
    let check = |row: &LogRow| {
        let (json, jws) = row.receipt.as_ref()?;
        Some(match keys.verify(jws) {
            Ok(payload) if payload == json.as_bytes() => Ok(()),
            Ok(_) => Err("the signed content differs from the stored content".to_owned()),
            Err(e) => Err(e.to_string()),
        })
    };
    if threads <= 1 {
        return rows.iter().map(check).collect();
    }
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = rows
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(check).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The leaf hash the stored level-0 tiles have at position `seq`.
fn stored_leaf(stored: &tiles::TileMap, seq: u64) -> Option<Hash> {
    let tile = stored.get(&(0, seq / tiles::WIDTH))?;
    let at = usize::try_from(seq % tiles::WIDTH).ok()? * 32;
    tile.get(at..at + 32)?.try_into().ok()
}

/// Every leaf hash of the stored level-0 tiles and its position.
fn leaf_positions(stored: &tiles::TileMap) -> HashMap<Hash, u64> {
    stored
        .iter()
        .filter(|((level, _), _)| *level == 0)
        .flat_map(|((_, index), t)| {
            tiles::hashes(t)
                .into_iter()
                .enumerate()
                .map(move |(i, h)| (h, index * tiles::WIDTH + i as u64))
        })
        .collect()
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

/// Pass 2: every receipt row of the site (and any row its log has that claims another
/// site) against the log, its derived columns (decisions included) against its signed JSON;
/// per visitor, the chain of receipts and the latest choice the statistics keep; then the
/// sums. Rows come in visitor order, a page at a time, so one visitor's receipts are in
/// memory at once; what leaves a visitor (a chain link or head naming a receipt that is
/// not theirs) is resolved at the end against a short digest of every chain hash.
async fn audit_receipts(
    store: &Store,
    site: &str,
    erased_links: &HashSet<String>,
    report: &mut Report,
    progress: &indicatif::ProgressBar,
) -> Result<(), StoreError> {
    let mut audit = Audit {
        site,
        erased_links,
        counts: Counts::default(),
        now: NowCounts::default(),
        signed_notices: HashMap::new(),
        chains: HashMap::new(),
        elsewhere: Vec::new(),
        visitor: None,
    };
    let mut after: Option<VerifyRow> = None;
    loop {
        let rows = store.audit_page(site, after.as_ref(), PAGE).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            progress.inc(1);
            audit.feed(row, report)?;
        }
        after = rows.into_iter().last();
    }
    audit.flush(report);
    // Rows in this site's log that claim another site (their `site_id` was changed): each
    // is checked like the others, without the visitor's stored choice (not this site's).
    let foreign = store.foreign_audit_rows(site).await?;
    for row in &foreign {
        audit.feed(row, report)?;
    }
    audit.flush(report);
    // Visitors with a row on the site and no receipt there (every receipt erased, or
    // removed): a stored choice or chain head must not name a receipt they do not have.
    let mut after: Option<String> = None;
    loop {
        let page = store
            .visitors_without_receipts(site, after.as_deref(), PAGE)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.subject_id.clone());
        for v in page {
            if v.head.head().is_some() {
                report.findings.push(Finding::Head {
                    subject_id: v.subject_id.clone(),
                    why: "belongs to no signed receipt".to_owned(),
                });
            }
            if let Some(head) = v.last_receipt
                && !erased_links.contains(&head)
            {
                audit.elsewhere.push(Elsewhere::Head {
                    subject: v.subject_id,
                    hash: head,
                });
            }
        }
    }
    audit.finish(store, report).await
}

/// One visitor's receipt rows on the site as pass 2 gathers them.
struct Visitor {
    /// The visitor (the rows' stored `subject_id`).
    subject: String,
    /// Whether the visitor has a `subjects` row on the site.
    has_row: bool,
    /// Its stored chain head.
    last_receipt: Option<String>,
    /// Its stored latest choice.
    stored: Option<crate::store::heads::Head>,
    /// The receipts its latest choice is computed from.
    receipts: Vec<crate::store::heads::ReceiptOfHead>,
    /// Chain hash -> signed visitor of each receipt.
    hashes: HashMap<String, String>,
    /// (receipt id, signed visitor, the previous receipt's chain hash it names).
    links: Vec<(String, String, String)>,
}

impl Visitor {
    fn of(row: &VerifyRow) -> Self {
        Visitor {
            subject: row.subject_id.clone(),
            has_row: row.subject_row.is_some(),
            last_receipt: row.last_receipt.clone(),
            stored: row.stored_head.head(),
            receipts: Vec::new(),
            hashes: HashMap::new(),
            links: Vec::new(),
        }
    }
}

/// A chain hash named outside its visitor's own receipts, resolved at the end.
enum Elsewhere {
    /// A receipt's `previous`.
    Link {
        receipt_id: String,
        subject: String,
        hash: String,
    },
    /// A visitor's stored chain head.
    Head { subject: String, hash: String },
}

/// What pass 2 carries from one visitor to the next.
struct Audit<'a> {
    site: &'a str,
    /// Chain hashes of erased receipts (a link or head may name them).
    erased_links: &'a HashSet<String>,
    /// The per-day counts the signed receipts in the log give.
    counts: Counts,
    /// The `consent_now` counts the visitors' signed latest choices give.
    now: NowCounts,
    /// The hash each notice version's text must have: what the receipts signed.
    signed_notices: HashMap<String, String>,
    /// Digest of each signed receipt's chain hash -> digest of its signed visitor.
    chains: HashMap<u64, u64>,
    /// What to resolve against `chains` at the end.
    elsewhere: Vec<Elsewhere>,
    /// The visitor whose rows are being read.
    visitor: Option<Visitor>,
}

/// The first 8 bytes of SHA-256 of `text`: a digest to tell chain hashes and visitors
/// apart in memory (a collision among a site's receipts has odds of about n² / 2⁶⁵).
fn digest(text: &str) -> u64 {
    use sha2::Digest as _;
    let h = sha2::Sha256::digest(text.as_bytes());
    u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

impl Audit<'_> {
    /// Reads one row (rows come in visitor order): a row of another visitor first closes
    /// the one before.
    fn feed(&mut self, row: &VerifyRow, report: &mut Report) -> Result<(), StoreError> {
        let mut visitor = match self.visitor.take() {
            Some(v) if v.subject == row.subject_id => v,
            before => {
                if let Some(done) = before {
                    self.close(done, report);
                }
                Visitor::of(row)
            }
        };
        let read = self.row(row, &mut visitor, report);
        self.visitor = Some(visitor);
        read
    }

    /// Closes the visitor being read, if any.
    fn flush(&mut self, report: &mut Report) {
        if let Some(done) = self.visitor.take() {
            self.close(done, report);
        }
    }

    /// One receipt row: its own checks, and what its visitor's checks need.
    fn row(
        &mut self,
        row: &VerifyRow,
        visitor: &mut Visitor,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        let site = self.site;
        let id = row.receipt_id.clone();
        if row.site_id == site && row.in_log == 0 && row.pending == 0 {
            report.findings.push(Finding::NotInLog {
                receipt_id: id.clone(),
            });
        }
        let json = &row.json;
        let receipt: yinyom_model::receipt::Receipt = match serde_json::from_str(json) {
            Ok(r) => r,
            // An edited JSON is named by the leaf check.
            Err(_) => return Ok(()),
        };
        let signed_choice = crate::store::heads::choice_of(&receipt);
        let mut differs = Vec::new();
        let (issued_at, signed_at) = (
            stored_int(row.issued_at),
            crate::config::parse_time_ms(&receipt.issued_at)
                .map_or_else(|e| e, |ms| ms.to_string()),
        );
        let (revision, signed_revision) = (
            stored_int(row.consent_revision),
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
            ("choice", row.choice.as_str(), signed_choice.as_str()),
        ] {
            if stored != signed {
                differs.push(format!("{column} (stored `{stored}`, signed `{signed}`)"));
            }
        }
        for what in differs {
            report.findings.push(Finding::Derived {
                receipt_id: id.clone(),
                what,
            });
        }
        if receipt.site.as_str() != site {
            return Ok(());
        }
        if row.in_log == 1 {
            let at = crate::config::parse_time_ms(&receipt.issued_at)
                .map_err(|e| StoreError::Corrupt(format!("receipt {id}: {e}")))?;
            self.counts.add(
                at,
                receipt.notice.version.clone(),
                receipt.method.as_str().to_owned(),
                json,
            )?;
        }
        if row.site_id == site
            && let Ok(at) = crate::config::parse_time_ms(&receipt.issued_at)
        {
            visitor.receipts.push((
                row.subject_id.clone(),
                at,
                row.receipt_id.clone(),
                json.clone(),
            ));
        }
        self.signed_notices.insert(
            receipt.notice.version.clone(),
            receipt.notice.sha256.clone(),
        );
        let chain = chain_hash(json);
        self.chains
            .insert(digest(&chain), digest(receipt.subject_id.as_str()));
        visitor
            .hashes
            .insert(chain, receipt.subject_id.as_str().to_owned());
        if let Some(previous) = receipt.previous {
            visitor
                .links
                .push((id, receipt.subject_id.as_str().to_owned(), previous));
        }
        Ok(())
    }

    /// One visitor's chain and latest choice, once all their rows are read.
    fn close(&mut self, v: Visitor, report: &mut Report) {
        // Whose receipt a chain hash is among this visitor's: Some(None) an erased one.
        let owner = |hash: &str| -> Option<Option<&str>> {
            match v.hashes.get(hash) {
                Some(s) => Some(Some(s.as_str())),
                None if self.erased_links.contains(hash) => Some(None),
                None => None,
            }
        };
        let mut named = HashSet::new();
        let mut elsewhere = Vec::new();
        for (receipt_id, subject, previous) in &v.links {
            let why = match owner(previous) {
                None => {
                    elsewhere.push(Elsewhere::Link {
                        receipt_id: receipt_id.clone(),
                        subject: subject.clone(),
                        hash: previous.clone(),
                    });
                    None
                }
                Some(Some(s)) if s != subject => Some("it names a receipt of another visitor"),
                Some(_) if !named.insert(previous.as_str()) => {
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
        if let Some(head) = &v.last_receipt
            && v.has_row
        {
            let why = match owner(head) {
                None => {
                    elsewhere.push(Elsewhere::Head {
                        subject: v.subject.clone(),
                        hash: head.clone(),
                    });
                    None
                }
                Some(_) if named.contains(head.as_str()) => {
                    Some("the visitor's newest receipt was rolled back to an older one")
                }
                Some(Some(s)) if s != v.subject => {
                    Some("the visitor's newest receipt is another visitor's")
                }
                Some(_) => None,
            };
            if let Some(why) = why {
                report.findings.push(Finding::Chain {
                    receipt_id: format!("visitor {}", v.subject),
                    why: why.into(),
                });
            }
        }
        self.elsewhere.extend(elsewhere);
        let signed = heads_of(v.receipts).remove(&v.subject);
        if let Some(head) = &signed {
            self.now.moved(None, Some(head));
        }
        let why = match (v.has_row, v.stored, signed) {
            (true, Some(stored), Some(head)) if stored != head => Some(format!(
                "differs from the latest signed receipt (stored {stored:?}, signed {head:?})"
            )),
            (true, Some(_), None) => Some("belongs to no signed receipt".to_owned()),
            (true, None, Some(_)) => Some("is missing".to_owned()),
            (false, _, Some(_)) => Some("is missing, and so is the visitor's row".to_owned()),
            _ => None,
        };
        if let Some(why) = why {
            report.findings.push(Finding::Head {
                subject_id: v.subject,
                why,
            });
        }
    }

    /// The checks that need every receipt: chain hashes named outside their visitor, the
    /// notice texts, the per-day counts and the `consent_now` counts.
    async fn finish(self, store: &Store, report: &mut Report) -> Result<(), StoreError> {
        for e in self.elsewhere {
            let (receipt_id, subject, hash, missing, another) = match e {
                Elsewhere::Link {
                    receipt_id,
                    subject,
                    hash,
                } => (
                    receipt_id,
                    subject,
                    hash,
                    "the visitor's previous receipt it names is missing: a receipt was removed",
                    "it names a receipt of another visitor",
                ),
                Elsewhere::Head { subject, hash } => (
                    format!("visitor {subject}"),
                    subject,
                    hash,
                    "the visitor's newest receipt is missing: it was removed",
                    "the visitor's newest receipt is another visitor's",
                ),
            };
            let why = match self.chains.get(&digest(&hash)) {
                None => Some(missing),
                Some(s) if *s != digest(&subject) => Some(another),
                Some(_) => None,
            };
            if let Some(why) = why {
                report.findings.push(Finding::Chain {
                    receipt_id,
                    why: why.into(),
                });
            }
        }
        for (version, stored, text) in store.notice_texts(self.site).await? {
            use sha2::Digest as _;
            let actual = hex::encode(sha2::Sha256::digest(text.as_bytes()));
            let why = if actual != stored {
                Some("its stored text does not hash to its stored hash: the text was edited")
            } else if self
                .signed_notices
                .get(&version)
                .is_some_and(|h| *h != actual)
            {
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
        let stored = store.receipt_counts(self.site).await?;
        for (key, stored, signed) in differing(&stored.0, &self.counts.0) {
            let (day, version, method, item, granted) = key;
            report.findings.push(Finding::Count {
                day,
                key: (version, method, item, granted),
                stored,
                signed,
            });
        }
        let stored = store.consent_now_counts(self.site).await?;
        for (key, stored, signed) in differing(&stored.0, &self.now.0) {
            report.findings.push(Finding::ConsentNow {
                key,
                stored,
                signed,
            });
        }
        Ok(())
    }
}

/// A stored integer as the audit shows it: `i64::MIN` is what a column of another type
/// reads as (`Row::any_int`).
fn stored_int(n: i64) -> String {
    match n {
        i64::MIN => "not an integer".to_owned(),
        n => n.to_string(),
    }
}

/// The keys whose count differs between what is stored and what the signed receipts give
/// (a missing key counts 0): (key, stored, signed).
fn differing<K: Ord + Clone>(
    stored: &std::collections::BTreeMap<K, i64>,
    signed: &std::collections::BTreeMap<K, i64>,
) -> Vec<(K, i64, i64)> {
    let keys: BTreeSet<&K> = stored.keys().chain(signed.keys()).collect();
    keys.into_iter()
        .map(|k| {
            let count = |m: &std::collections::BTreeMap<K, i64>| m.get(k).copied().unwrap_or(0);
            (k.clone(), count(stored), count(signed))
        })
        .filter(|(_, s, c)| s != c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{self, keys};

    #[test]
    fn signatures_are_checked_alike_on_one_thread_and_on_several() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.pem");
        keys::write_pem(&path, &[9; 32]).expect("write");
        let key = keys::load(path.to_str().expect("utf8"), None).expect("load");
        let kid = signing::thumbprint(&key.public_key());
        let jwks = signing::Jwks {
            keys: vec![signing::jwk(&key.public_key())],
        };
        let rows: Vec<LogRow> = (0..50u64)
            .map(|seq| {
                let json = format!(r#"{{"n":{seq}}}"#);
                let jws = signing::jws(key.as_ref(), &kid, signing::RECEIPT_TYP, json.as_bytes())
                    .expect("sign");
                // Some stored JSON edited after signing; some receipts gone.
                let json = if seq % 7 == 3 {
                    format!(r#"{{"n":{}}}"#, seq + 1)
                } else {
                    json
                };
                LogRow {
                    seq,
                    receipt_id: format!("r{seq}"),
                    leaf_hash: Vec::new(),
                    receipt: (seq % 11 != 5).then_some((json, jws)),
                }
            })
            .collect();
        let keys = signing::Verifier::new(&jwks);
        let one = check_signatures(&rows, &keys, 1);
        for threads in [2, 3, 8, 64] {
            assert_eq!(check_signatures(&rows, &keys, threads), one, "{threads}");
        }
        let bad: Vec<u64> = rows
            .iter()
            .zip(&one)
            .filter(|(_, c)| matches!(c, Some(Err(_))))
            .map(|(r, _)| r.seq)
            .collect();
        let expected: Vec<u64> = (0..50).filter(|s| s % 7 == 3 && s % 11 != 5).collect();
        assert_eq!(bad, expected);
        assert_eq!(
            one.iter().filter(|c| c.is_none()).count(),
            (0..50).filter(|s| s % 11 == 5).count()
        );
    }
}
