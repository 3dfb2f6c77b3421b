//! The last cookie scan of each site (`yinyom scan --json` / `--output FILE`), uploaded by
//! an admin or the site's DPO: in the console (`/admin/sites/{site}/scan`, a file upload)
//! or through the admin API (`PUT /v1/admin/sites/{site}/scan` with a token). Anyone who
//! sees the site (auditors too) reads it. The server never runs a scan itself: a browser
//! sent by the server to an address a user names could reach the server's own network
//! (SSRF), so scans run where the agency runs them (its desk or CI).

use super::{
    access::{PublisherSite, VisibleSite},
    auth::Principal,
    console::{PageResult, signed_in},
    ui::{UiLang, page, respond, t},
};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    store::{AuditAction, ScanRow, now_ms, rfc3339_ms},
};
use axum::{
    Json,
    extract::{Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use yinyom_model::{
    Lang,
    scan::{FORMAT, Finding, PhaseKind, ScanReport},
};

/// The largest report accepted (a crawl of many pages stays far below).
pub(crate) const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

/// Checks and stores `json` as the site's last scan; admins and the site's DPO only.
async fn store(state: &AppState, access: &PublisherSite, json: &str) -> ApiResult<ScanRow> {
    let (p, site) = (access.principal(), access.id());
    let report: ScanReport = serde_json::from_str(json)
        .map_err(|e| ApiError::BadRequest(format!("not a `yinyom scan --json` report: {e}")))?;
    if report.format != FORMAT {
        return Err(ApiError::BadRequest(format!(
            "report format {} is not {FORMAT}",
            report.format
        )));
    }
    if report.site != site {
        return Err(ApiError::BadRequest(format!(
            "this report is of site `{}`, not `{site}`",
            report.site
        )));
    }
    let row = ScanRow {
        site: site.to_owned(),
        uploaded_at: now_ms(),
        uploaded_by: p.user.email.clone(),
        violations: i64::try_from(report.violations()).unwrap_or(i64::MAX),
        report_json: json.to_owned(),
    };
    state.store.put_scan(&row).await?;
    state
        .store
        .audit(
            &p.actor,
            AuditAction::ScanUpload,
            Some(site),
            &format!("violations={}", row.violations),
            &p.client,
        )
        .await?;
    Ok(row)
}

/// `PUT /v1/admin/sites/{site}/scan`: the report as the body.
pub(crate) async fn api_put(
    State(state): State<AppState>,
    access: PublisherSite,
    body: String,
) -> ApiResult<Response> {
    let row = store(&state, &access, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({ "site": row.site, "violations": row.violations,
            "uploaded_at": rfc3339_ms(row.uploaded_at) }),
        ),
    )
        .into_response())
}

/// `GET /v1/admin/sites/{site}/scan`: the last report, as uploaded.
pub(crate) async fn api_get(
    State(state): State<AppState>,
    access: VisibleSite,
) -> ApiResult<Response> {
    let site = access.id();
    let row = state
        .store
        .last_scan(site)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no scan of `{site}` was uploaded")))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        row.report_json,
    )
        .into_response())
}

fn phase_name(kind: PhaseKind, lang: Lang) -> &'static str {
    match kind {
        PhaseKind::BeforeChoice => t(lang, "ก่อนผู้เข้าชมเลือก", "Before any choice"),
        PhaseKind::AfterRejectAll => t(lang, "หลังกด \"ปฏิเสธทั้งหมด\"", "After Reject all"),
        PhaseKind::AfterAcceptAll => t(lang, "หลังกด \"ยอมรับทั้งหมด\"", "After Accept all"),
    }
}

fn finding(f: &Finding, lang: Lang) -> String {
    match f {
        Finding::CookieBeforeConsent {
            phase,
            name,
            domain,
            ..
        } => format!(
            "{}: {} {name} ({domain})",
            phase_name(*phase, lang),
            t(lang, "มีคุกกี้ที่ไม่จำเป็น", "a cookie that is not necessary:")
        ),
        Finding::StorageBeforeConsent { phase, key, .. } => format!(
            "{}: {} {key}",
            phase_name(*phase, lang),
            t(
                lang,
                "มีข้อมูลในที่เก็บของเบราว์เซอร์ที่ไม่จำเป็น",
                "a storage key that is not necessary:"
            )
        ),
        Finding::ThirdPartyBeforeConsent { phase, host, .. } => format!(
            "{}: {} {host}",
            phase_name(*phase, lang),
            t(lang, "ติดต่อบุคคลที่สาม", "contacted the third party")
        ),
        Finding::Undeclared { name, domain, .. } => format!(
            "{} {name} ({domain})",
            t(lang, "คุกกี้ที่ไม่ได้ประกาศในตาราง:", "Cookie in no table:")
        ),
        Finding::NeverSeen { name, .. } => format!(
            "{} {name}",
            t(lang, "ประกาศไว้แต่ไม่พบ:", "Declared but never seen:")
        ),
        Finding::LongerThanDeclared { name, declared, .. } => format!(
            "{name}: {} \"{declared}\"",
            t(lang, "อยู่นานกว่าที่ประกาศไว้", "lives longer than declared")
        ),
        Finding::DurationNotUnderstood { name, declared } => format!(
            "{name}: {} \"{declared}\"",
            t(
                lang,
                "อ่านอายุที่ประกาศไม่ออก",
                "declared lifetime not understood"
            )
        ),
    }
}

fn report_markup(lang: Lang, row: &ScanRow) -> Markup {
    let report: Option<ScanReport> = serde_json::from_str(&row.report_json).ok();
    html! {
        dl.kv {
            dt { (t(lang, "อัปโหลดเมื่อ", "Uploaded")) } dd { (crate::dates::ms(row.uploaded_at, lang)) }
            dt { (t(lang, "อัปโหลดโดย", "By")) } dd { (row.uploaded_by) }
            dt { (t(lang, "รายการที่ละเมิด", "Violations")) } dd { strong { (row.violations) } }
            @if let Some(r) = &report {
                dt { (t(lang, "ตรวจเมื่อ", "Scanned")) } dd { (crate::dates::rfc3339(&r.finished_at, lang)) }
                dt { (t(lang, "ประกาศฉบับ", "Notice version")) } dd { (r.notice_version) }
                dt { (t(lang, "เครื่องมือ", "Tool")) } dd { (r.tool) }
            }
        }
        @if let Some(r) = &report {
            h2 { (t(lang, "หน้าที่ตรวจ", "Pages scanned")) }
            ul { @for p in &r.pages { li { code { (p) } } } }
            h2 { (t(lang, "สิ่งที่พบในแต่ละช่วง", "What each phase saw")) }
            table {
                thead { tr {
                    th scope="col" { (t(lang, "ช่วง", "Phase")) }
                    th scope="col" { (t(lang, "คุกกี้", "Cookies")) }
                    th scope="col" { (t(lang, "ที่เก็บข้อมูล", "Storage keys")) }
                    th scope="col" { (t(lang, "บุคคลที่สาม", "Third parties")) }
                } }
                tbody {
                    @for p in &r.phases {
                        tr {
                            th scope="row" { (phase_name(p.kind, lang)) }
                            td { @for c in &p.cookies { code { (c.name) } " " } }
                            td { @for s in &p.storage { code { (s.key) } " " } }
                            td { @for h in &p.third_parties { code { (h.host) } " " } }
                        }
                    }
                }
            }
            h2 { (t(lang, "ข้อสังเกต", "Findings")) }
            @if r.findings.is_empty() {
                p { (t(lang, "ไม่พบสิ่งที่ต่างจากที่ประกาศไว้", "Nothing differs from the declaration.")) }
            } @else {
                ul {
                    @for f in &r.findings {
                        li {
                            @if f.is_violation() { strong { (t(lang, "ละเมิด: ", "Violation: ")) } }
                            (finding(f, lang))
                        }
                    }
                }
            }
        }
    }
}

fn upload_form(lang: Lang, p: &Principal, site: &str) -> Markup {
    html! {
        h2 { (t(lang, "อัปโหลดผลการตรวจใหม่", "Upload a new scan")) }
        p { (t(lang,
            "ท่านตรวจเว็บไซต์ด้วยคำสั่ง yinyom scan … --output scan.json แล้วอัปโหลดไฟล์ที่นี่ ผลใหม่จะแทนผลเดิม",
            "Scan the site with yinyom scan … --output scan.json and upload the file here; it replaces the last one."
        )) }
        form.upload method="post" enctype="multipart/form-data" action={ "/admin/sites/" (site) "/scan" } {
            input type="hidden" name="csrf" value=(p.csrf.as_deref().unwrap_or(""));
            p {
                label for="report" { (t(lang, "ไฟล์ผลการตรวจ (JSON)", "Scan report file (JSON)")) }
                input id="report" name="report" type="file" accept=".json,application/json" required;
            }
            p { button type="submit" { (t(lang, "อัปโหลด", "Upload")) } }
        }
    }
}

fn title(lang: Lang, site: &str) -> String {
    format!(
        "{} — {site}",
        t(lang, "ผลการตรวจคุกกี้ล่าสุด", "Last cookie scan")
    )
}

/// `GET /admin/sites/{site}/scan`
pub(crate) async fn page_get(
    State(state): State<AppState>,
    access: VisibleSite,
    UiLang(lang): UiLang,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let last = state.store.last_scan(site).await?;
    // As `PublisherSite` decides: the agency's staff.
    let may_upload = p.role().is_staff();
    let body = html! {
        @match &last {
            Some(row) => (report_markup(lang, row)),
            None => p { (t(lang, "ยังไม่มีผลการตรวจของเว็บไซต์นี้", "No scan of this site was uploaded yet.")) },
        }
        @if may_upload { (upload_form(lang, p, site)) }
    };
    Ok(respond(
        lang,
        page(lang, &title(lang, site), signed_in(p), body),
    ))
}

/// `POST /admin/sites/{site}/scan`: multipart `csrf` and `report`.
pub(crate) async fn page_post(
    State(state): State<AppState>,
    access: PublisherSite,
    mut form: Multipart,
) -> PageResult {
    let mut csrf = None;
    let mut report = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("report") => {
                report = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| ApiError::BadRequest(e.to_string()))?,
                )
            }
            _ => {}
        }
    }
    access.principal().check_csrf(csrf.as_deref())?;
    let json = report.ok_or_else(|| ApiError::BadRequest("choose the report file".into()))?;
    store(&state, &access, &json).await?;
    Ok(Redirect::to(&format!("/admin/sites/{}/scan", access.id())).into_response())
}
