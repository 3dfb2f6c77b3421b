//! What the console pages and the admin API both do: receipt search, receipt detail with
//! its proofs, verification of pasted receipts, exports, notice diffs, the audit log,
//! publishing, accounts. Each operation on a site takes the proof of access it needs
//! ([`super::access`]). Record-level reads and exports are written to the audit log
//! here, so no caller can forget.

use super::{
    access::{PublisherSite, RecordsSite, ReleaseSite, VisibleSite},
    auth::Principal,
    diff::{self, Change, NoticeDiff},
    tiers::Release,
};
use crate::{
    config::parse_time_ms,
    error::{ApiError, ApiResult},
    export::{Exporter, Format},
    log::{self, merkle},
    receipts::{self, Checked},
    signing,
    sites::{self, ImportError, Imported, Plan, SiteTexts, Validated},
    state::AppState,
    store::{
        AccountRow, AuditAction, AuditRow, NewRelease, PendingUpload, ReleaseRow, Role,
        SearchFilter, StoredReceipt, TokenRow, now_ms,
    },
};
use axum::{
    body::Body,
    extract::{Multipart, multipart::MultipartError},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use yinyom_model::{Lang, notice::PublishedNotice, receipt::Receipt};

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
    /// Export: the purpose stated for the release.
    #[serde(default)]
    pub(crate) purpose: Option<String>,
    /// Export: the memo or letter number the release rests on.
    #[serde(default)]
    pub(crate) reference: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl SearchQuery {
    /// The store filter for `site`; a bad date or decision is a 400 naming it. A subject
    /// matches the pseudonym typed, or the pseudonym of a visitor's secret typed.
    pub(crate) fn filter(
        &self,
        site: &str,
        subjects: &crate::subjects::SubjectKey,
    ) -> ApiResult<SearchFilter> {
        let time = |v: &Option<String>| -> ApiResult<Option<i64>> {
            nonempty(v)
                .map(|s| parse_time_ms(&s))
                .transpose()
                .map_err(ApiError::BadRequest)
        };
        let granted =
            SearchFilter::decision(self.decision.as_deref()).map_err(ApiError::BadRequest)?;
        Ok(SearchFilter {
            site: site.to_owned(),
            from_ms: time(&self.from)?,
            to_ms: time(&self.to)?,
            notice_version: nonempty(&self.version),
            method: nonempty(&self.method),
            item: nonempty(&self.item),
            granted,
            subject_id: nonempty(&self.subject).map(|s| s.to_ascii_lowercase()),
            subject_alias: nonempty(&self.subject).map(|s| subjects.pseudonym(&s)),
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
        let pairs: Vec<(&str, String)> = [
            ("from", &self.from),
            ("to", &self.to),
            ("version", &self.version),
            ("method", &self.method),
            ("item", &self.item),
            ("decision", &self.decision),
            ("subject", &self.subject),
            ("receipt", &self.receipt),
        ]
        .into_iter()
        .filter_map(|(k, v)| nonempty(v).map(|v| (k, v)))
        .collect();
        query_string(&pairs)
    }
}

/// `application/x-www-form-urlencoded` pairs, as a URL's query string.
pub(crate) fn query_string<V: serde::Serialize>(pairs: &[(&str, V)]) -> String {
    // Strings always serialize: nothing to report.
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Rows of a page of search results.
pub(crate) const PAGE: i64 = 50;

/// Searches receipts (record-level: audited).
pub(crate) async fn search(
    state: &AppState,
    access: &RecordsSite,
    q: &SearchQuery,
) -> ApiResult<(Vec<StoredReceipt>, i64, Option<String>)> {
    let (p, site) = (access.principal(), access.id());
    let filter = q.filter(site, &state.subjects)?;
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
            AuditAction::ReceiptsSearch,
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
pub(crate) async fn detail(state: &AppState, access: &VisibleSite, id: &str) -> ApiResult<Detail> {
    let (p, site) = (access.principal(), access.id());
    let (stored, _) = state
        .store
        .receipt(site, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no receipt `{id}` on `{site}`")))?;
    state
        .store
        .audit(
            &p.actor,
            AuditAction::ReceiptView,
            Some(site),
            id,
            &p.client,
        )
        .await?;
    let jwks = signing::jwks(&state.store).await?;
    let signature = match signing::verify_receipt(&stored.jws, &jwks) {
        Ok(payload) if payload == stored.json.as_bytes() => Ok(kid_of(&stored.jws)),
        Ok(_) => {
            Err("the signature does not cover the stored content: the row was altered".to_owned())
        }
        Err(e) => Err(e.to_string()),
    };
    let log = match log::inclusion(&state.store, &state.settings.witnesses, site, id).await? {
        None => Err(
            "not in the witnessed log yet (checkpoints are made every few seconds, then cosigned)"
                .to_owned(),
        ),
        Some(proof) => {
            let ok = proof.leaf_hash == log::receipt_leaf(&stored.json)
                && merkle::verify_inclusion(
                    proof.index,
                    proof.checkpoint.checkpoint.size,
                    &proof.leaf_hash,
                    &proof.path,
                    &proof.checkpoint.checkpoint.root,
                );
            if ok {
                Ok(proof.index)
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
        ..
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
    match state.store.leaf(site, id).await? {
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

/// The export format a query names (CSV when it names none).
pub(crate) fn export_format(q: &SearchQuery) -> ApiResult<Format> {
    match nonempty(&q.format).as_deref().unwrap_or("csv") {
        "csv" => Ok(Format::Csv),
        "jsonl" => Ok(Format::Jsonl),
        "kantara" => Ok(Format::Kantara),
        "iso27560" => Ok(Format::Iso27560),
        other => Err(ApiError::BadRequest(format!(
            "format must be csv, jsonl, kantara or iso27560, not `{other}`"
        ))),
    }
}

/// The stored name of a format.
pub(crate) fn format_name(f: Format) -> &'static str {
    match f {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
        Format::Kantara => "kantara",
        Format::Iso27560 => "iso27560",
    }
}

/// A record-level release as a streamed file, under the principal's access tier
/// ([`super::tiers`]): it needs a stated purpose and a reference (422
/// `release_needs_purpose_and_reference`), may carry at most the tier's cap (422
/// `release_over_cap`), and is written to the release log and the audit log before the
/// first byte leaves. The export ends at the moment it starts, so the release log's count
/// is what the file carries.
pub(crate) async fn export(
    state: &AppState,
    access: &ReleaseSite,
    q: &SearchQuery,
    lang: Lang,
) -> ApiResult<Response> {
    let (p, site) = (access.principal(), access.id());
    let format = export_format(q)?;
    let policy = access.policy();
    policy.check_format(format)?;
    let release =
        Release::parse(q.purpose.as_deref(), q.reference.as_deref()).map_err(|problems| {
            ApiError::Unprocessable {
                code: "release_needs_purpose_and_reference",
                message: problems.join("\n"),
            }
        })?;
    // Exactly the search's filters: a page narrowed to one visitor exports that visitor.
    let mut query = q.filter(site, &state.subjects)?;
    let end = now_ms();
    query.to_ms = Some(query.to_ms.map_or(end, |to| to.min(end)));
    let (_, records) = state.store.search_receipts(&query, None, 0).await?;
    policy.check_records(records)?;
    state
        .store
        .record_release(&NewRelease {
            actor: &p.actor,
            role: p.role().as_str(),
            tier: policy.tier.number(),
            site_id: site,
            format: format_name(format),
            purpose: &release.purpose,
            reference: &release.reference,
            records,
            client: &p.client,
        })
        .await?;
    state
        .store
        .audit(
            &p.actor,
            AuditAction::ReceiptsExport,
            Some(site),
            &format!("format={format:?} {}", q.to_query()),
            &p.client,
        )
        .await?;
    let (ext, mime) = format.file();
    let jwks_url = format!("{}/.well-known/jwks.json", state.settings.public_url);
    let store = state.store.clone();
    // Fused: the compression layer polls the body once more after its end, which a bare
    // `unfold` answers with a panic.
    let mut exporter = Exporter::new(&store, query, format, &jwks_url, lang);
    if let Some(fields) = policy.fields {
        exporter = exporter.only_fields(fields);
    }
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(
        Some(exporter),
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
    ));
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

/// Query of a notice diff.
#[derive(Debug, Deserialize)]
pub(crate) struct DiffQuery {
    pub(crate) from: String,
    pub(crate) to: String,
}

/// The diff between two notice versions of a site.
pub(crate) async fn diff_of(
    state: &AppState,
    access: &VisibleSite,
    q: &DiffQuery,
    lang: Lang,
) -> ApiResult<NoticeDiff> {
    let site = access.id();
    let get = |v: String| async move {
        state
            .store
            .notice_version(site, &v)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no notice version `{v}`")))
    };
    let a = get(q.from.clone()).await?;
    let b = get(q.to.clone()).await?;
    Ok(diff::notices(&a.notice, &b.notice, lang))
}

/// Entries of the audit log on a page.
pub(crate) const AUDIT_PAGE: i64 = 100;

/// The audit entries this principal may read, newest first, before entry `before`:
/// admins see everything, DPOs their sites. Auditors review who accessed the records of
/// their sites (who, what, when, from where) but never the records themselves: the
/// detail (filters, receipt ids, visitor pseudonyms) is withheld from them.
pub(crate) async fn audit_rows(
    state: &AppState,
    p: &Principal,
    before: Option<i64>,
) -> ApiResult<Vec<AuditRow>> {
    match p.role() {
        Role::Admin => Ok(state.store.audit_entries(None, before, AUDIT_PAGE).await?),
        Role::Dpo => Ok(state
            .store
            .audit_entries(Some(&p.sites), before, AUDIT_PAGE)
            .await?),
        // A requester of records (tiers 2–4) or a service token reads no one's audit log.
        Role::Partner | Role::Agency | Role::Academic | Role::Service => Ok(Vec::new()),
        Role::Auditor => {
            let mut rows = state
                .store
                .audit_entries(Some(&p.sites), before, AUDIT_PAGE)
                .await?;
            for r in &mut rows {
                r.detail.clear();
            }
            Ok(rows)
        }
    }
}

/// The release log this principal may read, newest first, before entry `before`: admins
/// every site's, DPOs and auditors their sites' (an auditor reviews who took records out,
/// under which tier, why and on which reference; the log names no visitor).
pub(crate) async fn release_rows(
    state: &AppState,
    p: &Principal,
    before: Option<i64>,
) -> ApiResult<Vec<ReleaseRow>> {
    let sites = match p.role() {
        Role::Admin => None,
        Role::Dpo | Role::Auditor => Some(p.sites.as_slice()),
        Role::Partner | Role::Agency | Role::Academic | Role::Service => return Ok(Vec::new()),
    };
    Ok(state.store.releases(sites, before, AUDIT_PAGE).await?)
}

/// Total size of an uploaded site folder: the texts' bound (the same as the CLI's,
/// [`crate::sites::MAX_FOLDER_BYTES`]) and room for the form around them.
pub(crate) const UPLOAD_LIMIT: usize = crate::sites::MAX_FOLDER_BYTES + 16 * 1024;

/// How long an upload waits for its confirmation.
pub(crate) const PENDING_MS: i64 = 30 * 60 * 1000;

/// An uploaded site folder (multipart fields `site_toml`, `notice_th`, `notice_en`, and
/// `csrf` from the console's form).
#[derive(Debug, Default)]
pub(crate) struct Upload {
    /// The form's CSRF token.
    pub(crate) csrf: Option<String>,
    /// The files' texts; a notice file not chosen is empty.
    pub(crate) texts: SiteTexts,
    /// What is wrong with the upload itself (a file missing or not UTF-8 text).
    pub(crate) problems: Vec<String>,
}

/// Reads an upload; its size is bounded by the route's body limit ([`UPLOAD_LIMIT`]).
pub(crate) async fn read_upload(mut form: Multipart) -> ApiResult<Upload> {
    let too_large_or_bad = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(UPLOAD_LIMIT)
        } else {
            ApiError::BadRequest(format!("the upload is not a valid form: {}", e.body_text()))
        }
    };
    let mut up = Upload::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut site_toml = None;
    while let Some(field) = form.next_field().await.map_err(too_large_or_bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file = match name.as_str() {
            "csrf" => {
                up.csrf = Some(field.text().await.map_err(too_large_or_bad)?);
                continue;
            }
            "site_toml" => "site.toml",
            "notice_th" => "notice.th.md",
            "notice_en" => "notice.en.md",
            _ => continue, // e.g. the submit button
        };
        if !seen.insert(name.clone()) {
            return Err(ApiError::BadRequest(format!("{file} was sent twice")));
        }
        let bytes = field.bytes().await.map_err(too_large_or_bad)?;
        let text = match String::from_utf8(bytes.to_vec()) {
            Ok(t) => t.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(t),
            Err(_) => {
                up.problems
                    .push(format!("{file}: ไม่ใช่ไฟล์ข้อความ UTF-8 / is not UTF-8 text"));
                continue;
            }
        };
        match name.as_str() {
            "site_toml" => site_toml = Some(text),
            "notice_th" => up.texts.notice_th = Some(text),
            _ => up.texts.notice_en = Some(text),
        }
    }
    match site_toml.filter(|t| !t.trim().is_empty()) {
        Some(t) => up.texts.site_toml = t,
        None if up.problems.iter().any(|p| p.starts_with("site.toml")) => {}
        None => up
            .problems
            .push("site.toml: ไม่ได้เลือกไฟล์ / no file was chosen".to_owned()),
    }
    // A notice file not chosen is an empty text: validation names it if site.toml lists
    // its language, exactly as for a folder with an empty file.
    up.texts.notice_th.get_or_insert_with(String::new);
    up.texts.notice_en.get_or_insert_with(String::new);
    Ok(up)
}

/// What an upload would publish, in the console's language.
#[derive(Debug)]
pub(crate) struct Ready {
    /// The site as the upload describes it.
    pub(crate) site: yinyom_model::site::Site,
    /// The new notice.
    pub(crate) notice: PublishedNotice,
    /// The current notice (none before the first publication).
    pub(crate) current: Option<PublishedNotice>,
    /// Whether every visitor will be asked again (the consent revision rises).
    pub(crate) asks_again: bool,
    /// From the current version to the new one.
    pub(crate) diff: Option<NoticeDiff>,
    /// Changes to the site's name and allowed origins.
    pub(crate) site_changes: Vec<Change>,
}

/// The outcome of checking an upload (nothing is written).
#[derive(Debug)]
pub(crate) enum UploadCheck {
    /// Every problem found: nothing can be published.
    Invalid(Vec<String>),
    /// Valid, but this exact notice is already published.
    Unchanged(String),
    /// Valid and new.
    Ready(Box<Ready>),
}

/// Validates an upload for `site` with the CLI's code, and that it is the folder of
/// `site`.
fn validate_for(site: &str, texts: &SiteTexts) -> Result<Validated, Vec<String>> {
    let mut problems = Vec::new();
    // Name a wrong site even when the rest of the file has problems too.
    let id = toml::from_str::<toml::Table>(&texts.site_toml)
        .ok()
        .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_owned));
    if let Some(id) = id.filter(|id| id != site) {
        problems.push(format!(
            "site.toml: id = \"{id}\" แต่หน้านี้เป็นของเว็บไซต์ {site}: อัปโหลดโฟลเดอร์ของ {site} / \
             id is \"{id}\", but this page is for site {site}: upload the folder of {site}"
        ));
    }
    match sites::validate_texts("upload", texts) {
        Ok(v) if problems.is_empty() => Ok(v),
        Ok(_) => Err(problems),
        Err(ImportError::Invalid { problems: p, .. }) => {
            problems.extend(p);
            Err(problems)
        }
        Err(e) => {
            problems.push(e.to_string());
            Err(problems)
        }
    }
}

fn site_changes(
    old: &yinyom_model::site::Site,
    new: &yinyom_model::site::Site,
    lang: Lang,
) -> Vec<Change> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(Change {
            what: "name".into(),
            how: "changed",
            before: old.name.get(lang).to_owned(),
            after: new.name.get(lang).to_owned(),
        });
    }
    if old.origins != new.origins {
        out.push(Change {
            what: "origins".into(),
            how: "changed",
            before: old.origins.join(" "),
            after: new.origins.join(" "),
        });
    }
    out
}

/// Checks an upload for `site`: every problem, or what would be published (nothing is
/// written).
pub(crate) async fn check_upload(
    state: &AppState,
    access: &PublisherSite,
    up: &Upload,
    lang: Lang,
) -> ApiResult<UploadCheck> {
    let (existing, site) = (access.site(), access.id());
    if !up.problems.is_empty() {
        return Ok(UploadCheck::Invalid(up.problems.clone()));
    }
    let (new_site, notice, _) = match validate_for(site, &up.texts) {
        Ok(v) => v,
        Err(problems) => return Ok(UploadCheck::Invalid(problems)),
    };
    match sites::plan(&state.store, &new_site, &notice).await {
        Ok(Plan::Unchanged(u)) => Ok(UploadCheck::Unchanged(u.to_string())),
        Ok(Plan::New { current }) => Ok(UploadCheck::Ready(Box::new(Ready {
            asks_again: current
                .as_ref()
                .is_none_or(|c| notice.notice.consent_revision > c.notice.consent_revision),
            diff: current
                .as_ref()
                .map(|c| diff::notices(&c.notice, &notice.notice, lang)),
            site_changes: site_changes(existing, &new_site, lang),
            site: new_site,
            notice,
            current: current.map(|c| *c),
        }))),
        Err(ImportError::Conflict(m)) => Ok(UploadCheck::Invalid(vec![m])),
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(e) => Ok(UploadCheck::Invalid(vec![e.to_string()])),
    }
}

/// Keeps a checked upload on the server for its confirmation; returns the random id the
/// confirmation form carries (only its hash is stored, with the uploader's session).
pub(crate) async fn stash_upload(
    state: &AppState,
    access: &PublisherSite,
    up: &Upload,
) -> ApiResult<String> {
    let (p, site) = (access.principal(), access.id());
    let id = super::auth::new_secret()?;
    let pending = PendingUpload {
        site_id: site.to_owned(),
        site_toml: up.texts.site_toml.clone(),
        notice_th: up.texts.notice_th.clone(),
        notice_en: up.texts.notice_en.clone(),
    };
    state
        .store
        .put_pending_upload(
            &super::auth::hash_secret(&id),
            &p.credential,
            &pending,
            now_ms() + PENDING_MS,
        )
        .await?;
    Ok(id)
}

/// What a publication did.
#[derive(Debug)]
pub(crate) enum Publication {
    /// Published (and audited).
    Published {
        /// The new version.
        version: String,
        /// Its hash.
        sha256: String,
    },
    /// Nothing new: this exact notice is already published.
    Unchanged(String),
    /// Problems found (e.g. another version was published meanwhile): nothing written.
    Invalid(Vec<String>),
    /// No such upload for this session and site: expired, already used, or not yours.
    Expired,
}

/// Publishes the files (validated again, with the CLI's checks against what is published
/// now) and writes `notice.publish` to the audit log.
pub(crate) async fn publish_texts(
    state: &AppState,
    access: &PublisherSite,
    texts: &SiteTexts,
) -> ApiResult<Publication> {
    let (p, site) = (access.principal(), access.id());
    let validated = match validate_for(site, texts) {
        Ok(v) => v,
        Err(problems) => return Ok(Publication::Invalid(problems)),
    };
    match sites::publish(&state.store, &validated).await {
        Ok(Imported::Published {
            version, sha256, ..
        }) => {
            let (_, n, _) = &validated;
            state
                .store
                .audit(
                    &p.actor,
                    AuditAction::NoticePublish,
                    Some(site),
                    &format!(
                        "version={} consent_revision={} sha256={}",
                        n.notice.version, n.notice.consent_revision, n.sha256
                    ),
                    &p.client,
                )
                .await?;
            Ok(Publication::Published { version, sha256 })
        }
        Ok(unchanged) => Ok(Publication::Unchanged(unchanged.to_string())),
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Publication::Invalid(vec![e.to_string()])),
    }
}

/// Publishes the upload the confirmation form names: taken from the server (once, by the
/// session that uploaded it, for this site), never from the browser.
pub(crate) async fn publish_pending(
    state: &AppState,
    access: &PublisherSite,
    id: &str,
) -> ApiResult<Publication> {
    let (p, site) = (access.principal(), access.id());
    let Some(pending) = state
        .store
        .take_pending_upload(&super::auth::hash_secret(id), &p.credential, site)
        .await?
    else {
        return Ok(Publication::Expired);
    };
    let texts = SiteTexts {
        site_toml: pending.site_toml,
        notice_th: pending.notice_th,
        notice_en: pending.notice_en,
    };
    publish_texts(state, access, &texts).await
}

/// 404 unless the principal is an admin: accounts and tokens are theirs to manage.
pub(crate) fn admin_only(p: &Principal) -> ApiResult<()> {
    if p.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::NotFound("accounts are managed by admins".into()))
    }
}

/// Gives the account `email` another role (admins only; audited as `user.role`); false
/// if it already had it. An admin cannot change their own role.
pub(crate) async fn set_role(
    state: &AppState,
    p: &Principal,
    email: &str,
    role: &str,
) -> ApiResult<bool> {
    admin_only(p)?;
    let email = email.trim().to_lowercase();
    let role = Role::try_from(role.to_owned())
        .ok()
        .filter(|r| Role::ACCOUNT_ROLES.contains(r))
        .ok_or_else(|| ApiError::BadRequest(format!("there is no account role `{role}`")))?;
    if email == p.user.email {
        return Err(ApiError::BadRequest(
            "you cannot change your own role".into(),
        ));
    }
    if !state.store.user_exists(&email).await? {
        return Err(ApiError::NotFound(format!("there is no account `{email}`")));
    }
    let changed = state.store.set_user_role(&email, role).await?;
    if changed {
        state
            .store
            .audit(
                &p.actor,
                AuditAction::UserRole,
                None,
                &format!("{email} {}", role.as_str()),
                &p.client,
            )
            .await?;
    }
    Ok(changed)
}

/// Every account and token (admins only).
pub(crate) async fn accounts(
    state: &AppState,
    p: &Principal,
) -> ApiResult<(Vec<AccountRow>, Vec<TokenRow>)> {
    admin_only(p)?;
    Ok((state.store.accounts().await?, state.store.tokens().await?))
}

/// Disables or enables an account (admins only; not their own), audited as
/// `user.disable` / `user.enable`. A disabled account's sessions end and its tokens stop
/// working at once.
pub(crate) async fn set_disabled(
    state: &AppState,
    p: &Principal,
    email: &str,
    disabled: bool,
) -> ApiResult<bool> {
    admin_only(p)?;
    let email = email.trim().to_lowercase();
    if disabled && email == p.user.email {
        return Err(ApiError::BadRequest(
            "you cannot disable your own account".into(),
        ));
    }
    if !state.store.user_exists(&email).await? {
        return Err(ApiError::NotFound(format!("there is no account `{email}`")));
    }
    let changed = state.store.set_user_disabled(&email, disabled).await?;
    if changed {
        let action = if disabled {
            AuditAction::UserDisable
        } else {
            AuditAction::UserEnable
        };
        state
            .store
            .audit(&p.actor, action, None, &email, &p.client)
            .await?;
    }
    Ok(changed)
}

/// Revokes a token by its id (admins only), audited as `token.revoke`.
pub(crate) async fn revoke_token(state: &AppState, p: &Principal, id: &str) -> ApiResult<()> {
    admin_only(p)?;
    let Some(t) = state.store.revoke_token(id).await? else {
        return Err(ApiError::NotFound(format!(
            "no token with id `{id}` that is not revoked"
        )));
    };
    state
        .store
        .audit(
            &p.actor,
            AuditAction::TokenRevoke,
            None,
            &format!("{} ({}) of {}", t.name, t.id, t.email),
            &p.client,
        )
        .await?;
    Ok(())
}
