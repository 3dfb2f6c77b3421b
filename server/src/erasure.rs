//! Erasure and retention that keep the proof.
//!
//! Erasing a receipt removes everything personal it holds (the row with the visitor's
//! pseudonymous id, the page path, its decisions and the signed JSON and JWS, the
//! visitor's row once they have no receipt left on the site, and their id in the site's
//! audit log) and keeps what the log needs: its leaf (position, receipt id, leaf hash),
//! the hash tiles and the checkpoints, so every checkpoint and every proof ever served
//! still verifies. Each erasure writes an [`ErasureRecord`], signed with the receipt key
//! (verifiable with the JWKS): which receipts (id, log position, leaf hash, chain hash),
//! when, why ([`Reason`]) and under which case. `yinyom log verify` accepts a missing
//! receipt only when such a record names it with the leaf hash the log holds, and prints
//! each erasure; a receipt removed or emptied without one is `TAMPERED`.
//!
//! Chains: a later receipt of the same visitor that names an erased receipt as its
//! `previous` still verifies: the record keeps the erased receipt's chain hash, the
//! evidence that the receipt it names existed (its subject can no longer be compared).
//!
//! Retention ([`retention`]): a consent record is kept for the site's
//! `[retention] consent_records_days` after the consent it records ends ([`ended_at`]).

use crate::{
    log::{self, LogSigner},
    state::AppState,
    store::{ErasableRow, ErasureRow, Store, StoreError, log::Counts, now_ms, rfc3339_ms},
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use yinyom_model::canonical::to_canonical_json;

/// The schema identifier of an erasure record.
pub const ERASURE_SCHEMA: &str = "yinyom.erasure/1";

/// Why receipts were erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A data-subject request (PDPA s.33), closed with outcome `erased`.
    SubjectRequest,
    /// The site's retention period after the consent ended ran out.
    Retention,
}

impl Reason {
    /// As stored and signed: `subject_request`, `retention`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SubjectRequest => "subject_request",
            Reason::Retention => "retention",
        }
    }
}

/// One erased receipt, as its erasure record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedReceipt {
    /// Receipt id.
    pub receipt_id: String,
    /// Its position in the site's log.
    pub index: u64,
    /// Its leaf hash (hex): SHA-256(0x00 || canonical JSON).
    pub leaf_hash: String,
    /// Its chain hash (base64url SHA-256 of the canonical JSON), as the visitor's next
    /// receipt names it in `previous`.
    pub chain_hash: String,
}

/// The signed record of one erasure (the JWS payload, canonical JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// Always [`ERASURE_SCHEMA`].
    pub schema: String,
    /// UUIDv7.
    pub erasure_id: String,
    /// Site id.
    pub site: String,
    /// When (RFC 3339, UTC, milliseconds).
    pub erased_at: String,
    /// [`Reason::as_str`].
    pub reason: String,
    /// The data-subject request's reference, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<String>,
    /// What was erased.
    pub receipts: Vec<ErasedReceipt>,
}

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// The erasure record's id (none when there was nothing to erase).
    pub erasure_id: Option<String>,
    /// Receipts erased.
    pub receipts: usize,
    /// Receipts left because they were not yet in the log (written during the erasure:
    /// erase again).
    pub pending: usize,
}

/// Erases every receipt of `subject` on `site` (see the module doc), recording `reason`
/// and `case_reference` (the request's reference) in a signed erasure record. The site's
/// log is brought up to date first, so receipts just written are erased too.
///
/// ```ignore
/// let done = erasure::erase_subject(&state, "demo", subject, Reason::SubjectRequest, Some("DSR-2569-0001")).await?;
/// ```
pub async fn erase_subject(
    state: &AppState,
    site: &str,
    subject: &str,
    reason: Reason,
    case_reference: Option<&str>,
) -> Result<Erased, StoreError> {
    catch_up(state, site).await?;
    // Subject ids compare case-insensitively: receipts store them in lower case.
    let subject = subject.to_ascii_lowercase();
    let rows = state.store.erasable(site, &subject).await?;
    erase_rows(state, site, &rows, reason, case_reference).await
}

/// Appends the site's waiting receipts to its log (erasure keeps leaves, so a receipt
/// must have one before it is erased).
async fn catch_up(state: &AppState, site: &str) -> Result<(), StoreError> {
    let signer = LogSigner::of(state).await?;
    // A batch at a time; bounded so that a flood of new receipts cannot keep us here.
    for _ in 0..10_000 {
        if log::sequence(&state.store, &signer, site).await?.is_none() {
            break;
        }
    }
    Ok(())
}

/// Erases `rows` (receipts of `site`) with one signed record.
async fn erase_rows(
    state: &AppState,
    site: &str,
    rows: &[ErasableRow],
    reason: Reason,
    case_reference: Option<&str>,
) -> Result<Erased, StoreError> {
    let mut erased = Vec::new();
    let mut ids = Vec::new();
    let mut counts = Counts::default();
    let mut subjects = BTreeSet::new();
    let mut pending = 0;
    for r in rows {
        let (Some(seq), Some(leaf)) = (r.seq, &r.leaf_hash) else {
            pending += 1;
            continue;
        };
        erased.push(ErasedReceipt {
            receipt_id: r.receipt_id.clone(),
            index: u64::try_from(seq).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            leaf_hash: hex::encode(leaf),
            chain_hash: log::chain_hash(&r.receipt_json),
        });
        ids.push(r.receipt_id.clone());
        counts.add(
            r.issued_at,
            r.notice_version.clone(),
            r.method.clone(),
            &r.receipt_json,
        )?;
        subjects.insert(r.subject_id.clone());
    }
    if erased.is_empty() {
        return Ok(Erased {
            erasure_id: None,
            receipts: 0,
            pending,
        });
    }
    let at = now_ms();
    let record = ErasureRecord {
        schema: ERASURE_SCHEMA.into(),
        erasure_id: uuid::Uuid::now_v7().to_string(),
        site: site.to_owned(),
        erased_at: rfc3339_ms(at),
        reason: reason.as_str().into(),
        case_reference: case_reference.map(str::to_owned),
        receipts: erased,
    };
    let json = to_canonical_json(&record).map_err(|e| StoreError::Canonical(e.to_string()))?;
    let jws = state.signer.sign(json.as_bytes())?;
    let row = ErasureRow {
        erasure_id: record.erasure_id.clone(),
        site_id: site.to_owned(),
        erased_at: at,
        reason: record.reason.clone(),
        case_reference: record.case_reference.clone(),
        receipts: i64::try_from(ids.len()).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        record_json: json,
        jws,
    };
    let subjects: Vec<String> = subjects.into_iter().collect();
    state.store.erase(&row, &ids, &counts, &subjects).await?;
    tracing::info!(
        %site,
        erasure = %row.erasure_id,
        receipts = ids.len(),
        reason = reason.as_str(),
        case = case_reference.unwrap_or("-"),
        "receipts erased"
    );
    Ok(Erased {
        erasure_id: Some(row.erasure_id),
        receipts: ids.len(),
        pending,
    })
}

const DAY_MS: i64 = 86_400_000;

/// When the consent a receipt records ended, if it has: when the same visitor's next
/// receipt on the site was issued (superseded); else its own time if it is a withdrawal;
/// else its validity end (`valid_until`) once that has passed `now_ms`. `None`: the
/// consent is still current (or the receipt cannot be read, and is then never erased).
pub fn ended_at(row: &ErasableRow, now_ms: i64) -> Option<i64> {
    if let Some(next) = row.next_at {
        return Some(next);
    }
    if row.event == yinyom_model::receipt::Event::Withdrawn.as_str() {
        return Some(row.issued_at);
    }
    let valid_until = valid_until_ms(&row.receipt_json)?;
    (valid_until <= now_ms).then_some(valid_until)
}

/// A receipt's `valid_until`, in unix ms.
pub fn valid_until_ms(receipt_json: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Validity {
        valid_until: String,
    }
    let v: Validity = serde_json::from_str(receipt_json).ok()?;
    crate::config::parse_time_ms(&v.valid_until).ok()
}

/// What retention would erase on a site, or erased.
#[derive(Debug, Clone, Default)]
pub struct RetentionOutcome {
    /// The site's retention, in days after the consent ends.
    pub retention_days: u32,
    /// Receipts whose consent ended more than that long before.
    pub due: Vec<ErasableRow>,
    /// The erasure, when applied.
    pub erased: Option<Erased>,
}

/// Receipts [`due`] reads at a time.
const PAGE: i64 = 2_000;

/// The receipts of `site` that retention erases as of `now_ms`: those whose consent
/// ended ([`ended_at`]) at least the site's `retention_days` before. Changes nothing.
/// It reads only the receipts issued that long ago or longer (a consent ends no earlier
/// than its receipt was issued), a page at a time, and keeps only what is due.
pub async fn due(store: &Store, site: &str, now_ms: i64) -> Result<RetentionOutcome, StoreError> {
    due_showing(store, site, now_ms, &indicatif::ProgressBar::hidden()).await
}

/// [`due`], advancing `progress` (the CLI's bar) by each receipt read.
pub async fn due_showing(
    store: &Store,
    site: &str,
    now_ms: i64,
    progress: &indicatif::ProgressBar,
) -> Result<RetentionOutcome, StoreError> {
    let Some(info) = store.site(site).await? else {
        return Err(StoreError::Corrupt(format!("no site `{site}`")));
    };
    let keep_ms = i64::from(info.retention_days) * DAY_MS;
    let cutoff = now_ms.saturating_sub(keep_ms);
    if !progress.is_hidden() {
        progress.set_length(store.count_issued_before(site, cutoff).await?);
    }
    let mut due = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = store
            .erasable_before(
                site,
                cutoff,
                after.as_ref().map(|(t, id)| (*t, id.as_str())),
                PAGE,
            )
            .await?;
        progress.inc(page.len() as u64);
        let full = page.len() as i64 == PAGE;
        after = page.last().map(|r| (r.issued_at, r.receipt_id.clone()));
        due.extend(page.into_iter().filter(|r| {
            ended_at(r, now_ms).is_some_and(|end| end.saturating_add(keep_ms) <= now_ms)
        }));
        if !full {
            break;
        }
    }
    Ok(RetentionOutcome {
        retention_days: info.retention_days,
        due,
        erased: None,
    })
}

/// Applies the site's retention as of `now_ms`: erases every receipt [`due`] lists, with
/// reason `retention`, under one signed record.
pub async fn retention(
    state: &AppState,
    site: &str,
    now_ms: i64,
) -> Result<RetentionOutcome, StoreError> {
    retention_showing(state, site, now_ms, &indicatif::ProgressBar::hidden()).await
}

/// [`retention`], advancing `progress` (the CLI's bar) by each receipt read.
pub async fn retention_showing(
    state: &AppState,
    site: &str,
    now_ms: i64,
    progress: &indicatif::ProgressBar,
) -> Result<RetentionOutcome, StoreError> {
    catch_up(state, site).await?;
    let mut out = due_showing(&state.store, site, now_ms, progress).await?;
    out.erased = Some(erase_rows(state, site, &out.due, Reason::Retention, None).await?);
    Ok(out)
}

/// How often `yinyom serve` applies retention.
pub const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The lease that makes one process of a fleet apply retention.
pub const RETENTION_LEASE: &str = "retention";

/// Applies retention to every site once a day (the first time a minute after start),
/// in the one process of a fleet that holds the lease.
pub async fn run_retention(state: AppState) {
    let holder = uuid::Uuid::now_v7().to_string();
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let lease_ms = i64::try_from(RETENTION_EVERY.as_millis() / 2).unwrap_or(i64::MAX);
        match state
            .store
            .take_lease(RETENTION_LEASE, &holder, lease_ms)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot take its lease; will retry tomorrow");
                continue;
            }
        }
        let sites = match state.store.site_ids().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot list sites");
                continue;
            }
        };
        for site in sites {
            match retention(&state, &site, now_ms()).await {
                Ok(out) => tracing::info!(
                    %site,
                    erased = out.erased.map_or(0, |e| e.receipts),
                    retention_days = out.retention_days,
                    "retention applied"
                ),
                Err(e) => {
                    tracing::warn!(%site, error = %e, "retention failed; will retry tomorrow")
                }
            }
        }
    }
}

/// The erasure records of a site as `log verify` reads them: each record's signature
/// checked against the JWKS.
pub async fn records(
    store: &Store,
    site: &str,
) -> Result<Vec<(ErasureRow, Result<ErasureRecord, String>)>, StoreError> {
    let jwks = crate::signing::jwks(store).await?;
    Ok(store
        .erasures(site)
        .await?
        .into_iter()
        .map(|row| {
            let checked = crate::signing::verify(&row.jws, &jwks)
                .map_err(|e| format!("its signature does not verify: {e}"))
                .and_then(|payload| {
                    if payload != row.record_json.as_bytes() {
                        return Err("the stored record differs from the signed one".into());
                    }
                    serde_json::from_slice::<ErasureRecord>(&payload)
                        .map_err(|e| format!("not an erasure record: {e}"))
                })
                .and_then(|rec| {
                    if rec.schema != ERASURE_SCHEMA || rec.site != site {
                        Err("it is not an erasure record of this site".into())
                    } else if rec.erasure_id != row.erasure_id
                        || rec.receipts.len() as i64 != row.receipts
                        || rec.reason != row.reason
                        || rec.case_reference != row.case_reference
                    {
                        Err("its stored columns differ from the signed record".into())
                    } else {
                        Ok(rec)
                    }
                });
            (row, checked)
        })
        .collect())
}
