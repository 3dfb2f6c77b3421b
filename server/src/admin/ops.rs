//! What the console pages and the admin API both do: access checks, receipt search,
//! receipt detail with its proofs, verification of pasted receipts, exports. Record-level
//! reads and exports are written to the audit log here, so no caller can forget.

use super::auth::Principal;
use crate::{
    config::parse_time_ms,
    error::{ApiError, ApiResult},
    export::{Exporter, Format},
    log::{self, merkle},
    receipts::{self, Checked},
    signing,
    state::AppState,
    store::{ReceiptQuery, SearchFilter, StoredReceipt},
};
use axum::{
    body::Body,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use yinyom_model::receipt::Receipt;

/// 404 unless the principal may see the site (and the site exists).
pub(crate) async fn visible(
    state: &AppState,
    p: &Principal,
    site: &str,
) -> ApiResult<yinyom_model::site::Site> {
    if !p.can_see(site) {
        return Err(ApiError::UnknownSite(site.to_owned()));
    }
    state
        .store
        .site(site)
        .await?
        .ok_or_else(|| ApiError::UnknownSite(site.to_owned()))
}

/// 404 unless the principal may read record-level receipts of the site.
pub(crate) async fn records(state: &AppState, p: &Principal, site: &str) -> ApiResult<()> {
    visible(state, p, site).await?;
    if !p.records(site) {
        // An auditor sees aggregates only: record-level pages do not exist for them.
        return Err(ApiError::NotFound(
            "record-level receipts are for the DPO role".into(),
        ));
    }
    Ok(())
}

/// The search form and the API's query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SearchQuery {
    /// From (date or RFC 3339).
    #[serde(default)]
    pub(crate) from: Option<String>,
    /// To (exclusive).
    #[serde(default)]
    pub(crate) to: Option<String>,
    /// Notice version.
    #[serde(default)]
    pub(crate) version: Option<String>,
    /// Method.
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// Category or purpose id.
    #[serde(default)]
    pub(crate) item: Option<String>,
    /// `granted` or `denied`.
    #[serde(default)]
    pub(crate) decision: Option<String>,
    /// Subject id.
    #[serde(default)]
    pub(crate) subject: Option<String>,
    /// Receipt id.
    #[serde(default)]
    pub(crate) receipt: Option<String>,
    /// Cursor: `<unix ms>_<receipt id>` of the last row of the previous page.
    #[serde(default)]
    pub(crate) before: Option<String>,
    /// Export format.
    #[serde(default)]
    pub(crate) format: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl SearchQuery {
    /// The store filter for `site`; a bad date or decision is a 400 naming it.
    pub(crate) fn filter(&self, site: &str) -> ApiResult<SearchFilter> {
        let time = |v: &Option<String>| -> ApiResult<Option<i64>> {
            nonempty(v)
                .map(|s| parse_time_ms(&s))
                .transpose()
                .map_err(ApiError::BadRequest)
        };
        let granted = match nonempty(&self.decision).as_deref() {
            None | Some("any") => None,
            Some("granted") => Some(true),
            Some("denied") => Some(false),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "decision must be granted, denied or any, not `{other}`"
                )));
            }
        };
        Ok(SearchFilter {
            site: site.to_owned(),
            from_ms: time(&self.from)?,
            to_ms: time(&self.to)?,
            notice_version: nonempty(&self.version),
            method: nonempty(&self.method),
            item: nonempty(&self.item),
            granted,
            subject_id: nonempty(&self.subject),
            receipt_id: nonempty(&self.receipt),
        })
    }

    /// The keyset cursor.
    pub(crate) fn cursor(&self) -> ApiResult<Option<(i64, String)>> {
        match nonempty(&self.before) {
            None => Ok(None),
            Some(c) => c
                .split_once('_')
                .and_then(|(ms, id)| Some((ms.parse().ok()?, id.to_owned())))
                .map(Some)
                .ok_or_else(|| ApiError::BadRequest(format!("`{c}` is not a page cursor"))),
        }
    }

    /// The query string of these filters (for links to the next page and to exports).
    pub(crate) fn to_query(&self) -> String {
        let pairs = [
            ("from", &self.from),
            ("to", &self.to),
            ("version", &self.version),
            ("method", &self.method),
            ("item", &self.item),
            ("decision", &self.decision),
            ("subject", &self.subject),
            ("receipt", &self.receipt),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| nonempty(v).map(|v| format!("{k}={}", encode(&v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rows of a page of search results.
pub(crate) const PAGE: i64 = 50;

/// Searches receipts (record-level: audited).
pub(crate) async fn search(
    state: &AppState,
    p: &Principal,
    site: &str,
    q: &SearchQuery,
) -> ApiResult<(Vec<StoredReceipt>, i64, Option<String>)> {
    records(state, p, site).await?;
    let filter = q.filter(site)?;
    let (rows, total) = state
        .store
        .search_receipts(&filter, q.cursor()?, PAGE)
        .await?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| {
            rows.last()
                .map(|r| format!("{}_{}", r.issued_at_ms, r.receipt.receipt_id))
        })
        .flatten();
    state
        .store
        .audit(
            &p.actor,
            "receipts.search",
            Some(site),
            &q.to_query(),
            &p.client,
        )
        .await?;
    Ok((rows, total, next))
}

/// A receipt with what the console checks about it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Detail {
    /// The receipt.
    pub(crate) receipt: Receipt,
    /// Its JWS.
    pub(crate) jws: String,
    /// `Ok(kid)` when the signature verifies against the JWKS and covers the stored content.
    pub(crate) signature: Result<String, String>,
    /// `Ok(position)` when an inclusion proof against the latest checkpoint verifies.
    pub(crate) log: Result<u64, String>,
}

/// One receipt (record-level: audited).
pub(crate) async fn detail(
    state: &AppState,
    p: &Principal,
    site: &str,
    id: &str,
) -> ApiResult<Detail> {
    records(state, p, site).await?;
    let (stored, _) = state
        .store
        .receipt(site, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no receipt `{id}` on `{site}`")))?;
    state
        .store
        .audit(&p.actor, "receipt.view", Some(site), id, &p.client)
        .await?;
    let jwks = signing::jwks(&state.store).await?;
    let signature = match signing::verify(&stored.jws, &jwks) {
        Ok(payload) if payload == stored.json.as_bytes() => Ok(kid_of(&stored.jws)),
        Ok(_) => {
            Err("the signature does not cover the stored content: the row was altered".to_owned())
        }
        Err(e) => Err(e.to_string()),
    };
    let log = match log::inclusion(&state.store, site, id).await? {
        None => Err("not in the log yet (checkpoints are made every few seconds)".to_owned()),
        Some(proof) => {
            let decode = |h: &str| -> Option<merkle::Hash> { hex::decode(h).ok()?.try_into().ok() };
            let path: Option<Vec<merkle::Hash>> =
                proof.audit_path.iter().map(|h| decode(h)).collect();
            let ok = match (
                decode(&proof.leaf_hash),
                decode(&proof.checkpoint.checkpoint.root),
                path,
            ) {
                (Some(leaf), Some(root), Some(path)) => {
                    leaf == log::receipt_leaf(proof.leaf_index, &stored.json)
                        && merkle::verify_inclusion(
                            proof.leaf_index,
                            proof.checkpoint.checkpoint.tree_size,
                            &leaf,
                            &path,
                            &root,
                        )
                }
                _ => false,
            };
            if ok {
                Ok(proof.leaf_index)
            } else {
                Err(
                    "the inclusion proof does not verify: the log or the receipt was altered"
                        .to_owned(),
                )
            }
        }
    };
    Ok(Detail {
        receipt: stored.receipt,
        jws: stored.jws,
        signature,
        log,
    })
}

fn kid_of(jws: &str) -> String {
    use base64::Engine;
    jws.split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("kid").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// A pasted receipt, checked: signature, then (for sites the principal may see) whether
/// the notice hash matches the published version and whether the receipt is in the log.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Verified {
    /// Item number in the paste.
    pub(crate) item: usize,
    /// Receipt id.
    pub(crate) receipt_id: Option<String>,
    /// `Ok(summary)` or `Err(why invalid)`.
    pub(crate) outcome: Result<String, String>,
}

/// Verifies a paste (JSON, JSON Lines or JWS lines).
pub(crate) async fn verify(
    state: &AppState,
    p: &Principal,
    text: &str,
) -> ApiResult<Vec<Verified>> {
    if text.len() > 1_000_000 {
        return Err(ApiError::TooLarge(1_000_000));
    }
    let jwks = signing::jwks(&state.store).await?;
    let mut out = Vec::new();
    for Checked {
        item,
        receipt_id,
        outcome,
        signed,
    } in receipts::verify_document(text, &jwks)
    {
        let outcome = match (outcome, signed) {
            (Err(e), _) => Err(e),
            (Ok(summary), Some(r)) => extra_checks(state, p, &r).await?.map(|()| summary),
            (Ok(summary), None) => Ok(summary),
        };
        out.push(Verified {
            item,
            receipt_id,
            outcome,
        });
    }
    Ok(out)
}

async fn extra_checks(
    state: &AppState,
    p: &Principal,
    r: &Receipt,
) -> ApiResult<Result<(), String>> {
    let site = r.site.as_str();
    let id = r.receipt_id.as_str();
    if !p.can_see(site) {
        return Ok(Ok(())); // the signature is all we may say about other agencies' receipts
    }
    match state.store.notice_version(site, &r.notice.version).await? {
        Some(n) if n.sha256 == r.notice.sha256 => {}
        Some(_) => {
            return Ok(Err(format!(
                "notice hash mismatch: version {} was published with another hash",
                r.notice.version
            )));
        }
        None => {
            return Ok(Err(format!(
                "notice version {} was never published on {site}",
                r.notice.version
            )));
        }
    }
    match state.store.leaf_seq(site, id).await? {
        Some(_) => Ok(Ok(())),
        None => match state.store.receipt(site, id).await? {
            Some(_) => Ok(Err("valid, but not in the log yet".to_owned())),
            None => Ok(Err(
                "valid signature, but this server holds no such receipt and it is not in the log"
                    .to_owned(),
            )),
        },
    }
}

/// A streamed export response (audited).
pub(crate) async fn export(
    state: &AppState,
    p: &Principal,
    site: &str,
    q: &SearchQuery,
) -> ApiResult<Response> {
    records(state, p, site).await?;
    let format = match nonempty(&q.format).as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "jsonl" => Format::Jsonl,
        "kantara" => Format::Kantara,
        "iso27560" => Format::Iso27560,
        other => {
            return Err(ApiError::BadRequest(format!(
                "format must be csv, jsonl, kantara or iso27560, not `{other}`"
            )));
        }
    };
    let f = q.filter(site)?;
    let query = ReceiptQuery {
        site: site.to_owned(),
        from_ms: f.from_ms,
        to_ms: f.to_ms,
        notice_version: f.notice_version,
    };
    state
        .store
        .audit(
            &p.actor,
            "receipts.export",
            Some(site),
            &format!("format={format:?} {}", q.to_query()),
            &p.client,
        )
        .await?;
    let (ext, mime) = format.file();
    let jwks_url = format!("{}/.well-known/jwks.json", state.settings.public_url);
    let store = state.store.clone();
    let stream = futures_util::stream::unfold(
        Some(Exporter::new(&store, query, format, &jwks_url)),
        |ex| async move {
            let mut ex = ex?;
            match ex.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), Some(ex))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "export failed midway");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{site}-receipts.{ext}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
