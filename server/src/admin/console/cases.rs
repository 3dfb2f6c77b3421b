//! `/admin/sites/{site}/requests…`: the DPO's desk of data-subject request cases.
//!
//! - the list, by due date (open cases first), overdue ones marked in words, a status
//!   filter, days left;
//! - a case's page: what was asked, when, by which channel, its history (from the audit
//!   log), and the steps as forms (identity checked, answered, refused on a ground PDPA
//!   allows for that kind, erase, withdraw on the subject's behalf);
//! - the subject's receipts and the notice versions they refer to, as a JSON file and as
//!   a printable summary in words;
//! - the reply letter, in Thai (English with `?lang=en`), printable.
//!
//! The site's DPO and admins read and act ([`CasesSite`]); its auditor reads the list and
//! the case pages without the subject, contact or message, and may not act (403). Every
//! step and every record-level read is audited.

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::CasesSite,
        ui::{UiLang, page, respond, t},
    },
    dates,
    error::ApiError,
    requests::{self, Action, Outcome},
    state::AppState,
    store::{AuditAction, AuditRow, NewRelease, RequestRow, StoredReceipt},
};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Redirect},
};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use yinyom_model::{
    Lang, Slug,
    notice::{Notice, PublishedNotice},
    request::{Channel, RefusalReason, RequestStatus},
    words,
};

/// `?status=` of the list.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
}

/// The `{reference}` segment of a case's routes.
#[derive(Debug, Deserialize)]
pub(crate) struct CasePath {
    reference: String,
}

/// A step of a case, posted from its page.
#[derive(Debug, Deserialize)]
pub(crate) struct StepForm {
    csrf: Option<String>,
    /// `identity`, `answer`, `refuse`, `erase` or `withdraw`.
    action: Option<String>,
    /// How the identity was checked (`identity`).
    check: Option<String>,
    /// The refusal ground (`refuse`).
    reason: Option<String>,
    /// A note on the answer (`answer`).
    note: Option<String>,
}

fn pick(lang: Lang, (th, en): (&'static str, &'static str)) -> &'static str {
    t(lang, th, en)
}

fn kind_title(row: &RequestRow, lang: Lang) -> &'static str {
    pick(lang, requests::kind_of(row).title())
}

fn status_title(row: &RequestRow, lang: Lang) -> &'static str {
    pick(lang, requests::status_of(row).title())
}

fn channel_title(row: &RequestRow, lang: Lang) -> String {
    Channel::parse(&row.channel)
        .map_or_else(|| row.channel.clone(), |c| pick(lang, c.title()).to_owned())
}

fn case_url(site: &str, reference: &str) -> String {
    format!("/admin/sites/{site}/requests/{reference}")
}

/// Days left to answer, in words; an overdue open case says so with a sign and words,
/// not by colour alone.
fn days_left(row: &RequestRow, lang: Lang, now: i64) -> Markup {
    if requests::status_of(row).is_closed() {
        return html! { (t(lang, "ปิดแล้ว", "closed")) };
    }
    match requests::days_left(row, now) {
        None => html! { "—" },
        Some(n) if n < 0 => html! {
            strong.bad { "⚠ " (t(lang, "เกินกำหนด", "Overdue by")) " " (-n) " " (t(lang, "วัน", "days")) }
        },
        Some(0) => html! { strong { (t(lang, "ครบกำหนดวันนี้", "Due today")) } },
        Some(n) => html! { (t(lang, "เหลือ", "")) " " (n) " " (t(lang, "วัน", "days left")) },
    }
}

/// `GET /admin/sites/{site}/requests[?status=]`
pub(crate) async fn list(
    State(state): State<AppState>,
    access: CasesSite,
    UiLang(lang): UiLang,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let wanted = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            RequestStatus::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown status `{s}`")))
        })
        .transpose()?;
    let rows: Vec<RequestRow> = state
        .store
        .site_requests(site)
        .await?
        .into_iter()
        .filter(|r| wanted.is_none_or(|w| requests::status_of(r) == w))
        .collect();
    let now = dates::now_ms();
    let overdue = rows
        .iter()
        .filter(|r| {
            !requests::status_of(r).is_closed()
                && requests::days_left(r, now).is_some_and(|n| n < 0)
        })
        .count();
    let body = html! {
        p { (t(lang,
            "คำร้องขอใช้สิทธิของเจ้าของข้อมูลส่วนบุคคล (พ.ร.บ. คุ้มครองข้อมูลส่วนบุคคล มาตรา 30–36) ต้องตอบภายใน 30 วันนับแต่วันที่ได้รับ เรียงตามวันครบกำหนด คำร้องที่ยังไม่ปิดขึ้นก่อน",
            "Data-subject requests (PDPA s.30–36) must be answered within 30 days of receipt. Sorted by due date, open cases first.")) }
        @if overdue > 0 {
            p.alert role="status" { strong.bad { "⚠ " (t(lang, "คำร้องเกินกำหนด", "Overdue cases")) ": " (overdue) } }
        }
        form.filters method="get" action={ "/admin/sites/" (site) "/requests" } {
            div {
                label for="status" { (t(lang, "สถานะ", "Status")) }
                select id="status" name="status" {
                    option value="" selected[wanted.is_none()] { (t(lang, "ทุกสถานะ", "Every status")) }
                    @for s in RequestStatus::ALL {
                        option value=(s.as_str()) selected[wanted == Some(s)] { (pick(lang, s.title())) }
                    }
                }
            }
            div { button type="submit" { (t(lang, "แสดง", "Show")) } }
        }
        @if rows.is_empty() {
            p { (t(lang, "ไม่มีคำร้อง", "No cases.")) }
        } @else {
            table {
                caption { (t(lang, "คำร้อง", "Cases")) " (" (rows.len()) ")" }
                thead { tr {
                    th scope="col" { (t(lang, "เลขที่", "Reference")) }
                    th scope="col" { (t(lang, "เรื่อง", "Request")) }
                    th scope="col" { (t(lang, "ช่องทาง", "Channel")) }
                    th scope="col" { (t(lang, "ได้รับเมื่อ", "Received")) }
                    th scope="col" { (t(lang, "ครบกำหนด", "Due")) }
                    th scope="col" { (t(lang, "เหลือเวลา", "Time left")) }
                    th scope="col" { (t(lang, "สถานะ", "Status")) }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            th scope="row" { a href=(case_url(site, &r.reference)) { (r.reference) } }
                            td { (kind_title(r, lang)) }
                            td { (channel_title(r, lang)) }
                            td { (dates::ms(r.received_at, lang)) }
                            td { (dates::ymd(&r.due, lang)) }
                            td { (days_left(r, lang, now)) }
                            td { (status_title(r, lang)) }
                        }
                    }
                }
            }
        }
    };
    let title = format!(
        "{} — {site}",
        t(lang, "คำร้องของเจ้าของข้อมูล", "Data-subject requests")
    );
    Ok(respond(lang, page(lang, &title, signed_in(p), body)))
}

/// An audit action of a case's history, in words.
fn history_action(a: &AuditRow, lang: Lang) -> &'static str {
    match a.action.as_str() {
        "request.file" => t(lang, "ยื่นคำร้อง", "Filed"),
        "request.identity" => t(lang, "ตรวจสอบตัวตนแล้ว", "Identity checked"),
        "request.close" => t(lang, "ปิดคำร้อง", "Closed"),
        "request.on_behalf" => t(
            lang,
            "ถอนความยินยอมแทนเจ้าของข้อมูล",
            "Consent withdrawn on the subject's behalf",
        ),
        "request.export" => t(
            lang,
            "ส่งออกหรือสรุปข้อมูลของเจ้าของข้อมูล",
            "Subject's data exported or summarized",
        ),
        _ => t(lang, "อื่น ๆ", "Other"),
    }
}

/// The case's history: each step from the audit log (views left out), oldest first.
async fn history(state: &AppState, site: &str, reference: &str) -> Result<Vec<AuditRow>, ApiError> {
    Ok(state
        .store
        .request_history(site, reference)
        .await?
        .into_iter()
        .filter(|a| a.action != AuditAction::RequestView.as_str())
        .collect())
}

/// What was done, or why not, in words: the refusal ground, the outcome note.
fn outcome(row: &RequestRow, lang: Lang) -> Option<String> {
    if let Some(why) = requests::refusal_of(row) {
        return Some(pick(lang, why.title()).to_owned());
    }
    row.outcome_reason.clone()
}

/// `GET /admin/sites/{site}/requests/{reference}`
pub(crate) async fn show(
    State(state): State<AppState>,
    access: CasesSite,
    UiLang(lang): UiLang,
    Path(CasePath { reference }): Path<CasePath>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let row = requests::case(&state.store, site, &reference).await?;
    requests::audit_read(
        &state.store,
        site,
        &reference,
        AuditAction::RequestView,
        "opened",
        &p.actor,
        &p.client,
    )
    .await?;
    let steps = history(&state, site, &reference).await?;
    let status = requests::status_of(&row);
    let staff = access.may_act();
    let csrf = p.csrf.as_deref().unwrap_or("");
    let now = dates::now_ms();
    let action_url = case_url(site, &reference);
    let body = html! {
        p.noprint { a href={ "/admin/sites/" (site) "/requests" } { "← " (t(lang, "คำร้องทั้งหมด", "All cases")) } }
        dl.kv {
            dt { (t(lang, "เรื่อง", "Request")) } dd { (kind_title(&row, lang)) }
            dt { (t(lang, "ช่องทาง", "Channel")) } dd { (channel_title(&row, lang)) }
            dt { (t(lang, "ได้รับเมื่อ", "Received")) } dd { (dates::ms(row.received_at, lang)) }
            dt { (t(lang, "ครบกำหนดตอบ", "Answer due")) } dd { (dates::ymd(&row.due, lang)) " · " (days_left(&row, lang, now)) }
            dt { (t(lang, "สถานะ", "Status")) } dd { strong { (status_title(&row, lang)) } }
            @if staff {
                dt { (t(lang, "เจ้าของข้อมูล (นามแฝง)", "Data subject (pseudonym)")) }
                dd { (super::receipts::subject_link(site, &row.subject_id)) }
                dt { (t(lang, "ช่องทางติดต่อกลับ", "Contact")) }
                dd { (row.contact.as_deref().unwrap_or(t(lang, "ไม่ได้ให้ไว้", "none given"))) }
                dt { (t(lang, "ข้อความจากผู้ยื่น", "Message")) }
                dd { (row.message.as_deref().unwrap_or(t(lang, "ไม่มี", "none"))) }
            }
            dt { (t(lang, "การตรวจสอบตัวตน", "Identity check")) }
            dd { (row.identity_check.as_deref().unwrap_or(t(lang, "ยังไม่ได้ตรวจสอบ", "not checked yet"))) }
            @if let Some(o) = outcome(&row, lang) {
                dt { (t(lang, "ผลการดำเนินการ", "Outcome")) } dd { (o) }
            }
            @if let Some(at) = row.closed_at {
                dt { (t(lang, "ปิดเมื่อ", "Closed")) } dd { (dates::ms(at, lang)) }
            }
        }
        @if staff {
            p.noprint {
                a href={ (action_url) "/letter" } { (t(lang, "หนังสือแจ้งผลถึงผู้ยื่นคำร้อง", "Reply letter")) }
                " · "
                a href={ (action_url) "/summary" } { (t(lang, "สรุปข้อมูลความยินยอมของเจ้าของข้อมูล", "Summary of the subject's consent records")) }
                " · "
                a href={ (action_url) "/export.json" } download { (t(lang, "ดาวน์โหลดข้อมูลของเจ้าของข้อมูล (JSON)", "Download the subject's records (JSON)")) }
            }
        }
        h2 { (t(lang, "ประวัติการดำเนินการ", "History")) }
        table {
            thead { tr {
                th scope="col" { (t(lang, "เวลา (เวลาประเทศไทย)", "Time (Thailand)")) }
                th scope="col" { (t(lang, "การดำเนินการ", "Step")) }
                th scope="col" { (t(lang, "ผู้ดำเนินการ", "By")) }
                th scope="col" { (t(lang, "รายละเอียด", "Detail")) }
            } }
            tbody {
                @for a in &steps {
                    tr {
                        td { (dates::ms(a.at, lang)) }
                        td { (history_action(a, lang)) }
                        td { (a.actor) }
                        td { code { (a.detail) } }
                    }
                }
            }
        }
        @if staff && !status.is_closed() {
            h2 { (t(lang, "ดำเนินการ", "Act on the case")) }
            @if status == RequestStatus::Received {
                form method="post" action=(action_url) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="identity";
                    label for="check" { (t(lang, "ตรวจสอบตัวตนอย่างไร (เช่น ตรวจบัตรประชาชนตัวจริง ณ จุดบริการ)", "How the identity was checked (e.g. ID card seen at the counter)")) }
                    textarea id="check" name="check" rows="2" required maxlength=(requests::MAX_IDENTITY_CHECK_CHARS) {}
                    p { button type="submit" { (t(lang, "บันทึกว่าตรวจสอบตัวตนแล้ว", "Record the identity as checked")) } }
                }
            }
            @if status == RequestStatus::IdentityChecked {
                form method="post" action=(action_url) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="withdraw";
                    p {
                        (t(lang, "บันทึกการถอนความยินยอมทุกวัตถุประสงค์และทุกประเภทคุกกี้แทนเจ้าของข้อมูล (ออกใบรับที่ลงลายมือชื่อ อ้างอิงเลขที่คำร้องนี้)", "Withdraw every consent purpose and cookie category on the subject's behalf (a signed receipt naming this case)"))
                    }
                    p { button type="submit" { (t(lang, "ถอนความยินยอมแทนเจ้าของข้อมูล", "Withdraw on the subject's behalf")) } }
                }
                form method="post" action=(action_url) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="answer";
                    label for="note" { (t(lang, "สิ่งที่ได้ดำเนินการ (ไม่บังคับ)", "What was done (optional)")) }
                    textarea id="note" name="note" rows="2" maxlength="500" {}
                    p { button type="submit" { (t(lang, "ตอบคำร้องแล้ว (ปิดคำร้อง)", "Answered (close the case)")) } }
                }
                form method="post" action=(action_url) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="erase";
                    p { (t(lang, "ลบข้อมูลส่วนบุคคลในใบรับทั้งหมดของเจ้าของข้อมูลนี้ บันทึกที่ตรวจสอบได้ยังคงอยู่พร้อมบันทึกการลบที่ลงลายมือชื่อ แล้วปิดคำร้อง", "Erase the personal content of every receipt of this subject (the log keeps its proof and a signed erasure record), then close the case")) }
                    p { button type="submit" { (t(lang, "ลบข้อมูลและปิดคำร้อง", "Erase and close the case")) } }
                }
            }
            form method="post" action=(action_url) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="refuse";
                label for="reason" { (t(lang, "เหตุที่ปฏิเสธตามกฎหมาย", "Ground for refusing (as PDPA allows for this request)")) }
                select id="reason" name="reason" required {
                    @for r in requests::grounds_of(&row) {
                        option value=(r.as_str()) { (pick(lang, r.title())) }
                    }
                }
                p { button type="submit" { (t(lang, "ปฏิเสธคำร้อง (ปิดคำร้อง)", "Refuse (close the case)")) } }
            }
        }
    };
    let title = format!("{} {reference}", t(lang, "คำร้องเลขที่", "Case"));
    Ok(respond(lang, page(lang, &title, signed_in(p), body)))
}

/// `POST /admin/sites/{site}/requests/{reference}`: one step of the case, then back to
/// its page. 403 for an auditor or without the CSRF token.
pub(crate) async fn act(
    State(state): State<AppState>,
    access: CasesSite,
    Path(CasePath { reference }): Path<CasePath>,
    Form(form): Form<StepForm>,
) -> PageResult {
    let p = access.principal();
    p.check_csrf(form.csrf.as_deref())?;
    access.check_act()?;
    let site = access.id();
    let (actor, client) = (p.actor.as_str(), p.client.as_str());
    match form.action.as_deref().unwrap_or("") {
        "identity" => {
            let check = form.check.unwrap_or_default();
            requests::act(
                &state.store,
                site,
                &reference,
                Action::CheckIdentity(&check),
                actor,
                client,
            )
            .await?;
        }
        "answer" => {
            let note = form
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty());
            if note.is_some_and(|n| n.chars().count() > 500) {
                return Err(
                    ApiError::BadRequest("the note must be at most 500 characters".into()).into(),
                );
            }
            requests::act(
                &state.store,
                site,
                &reference,
                Action::Close(Outcome::Answered, note),
                actor,
                client,
            )
            .await?;
        }
        "refuse" => {
            let why = form
                .reason
                .as_deref()
                .and_then(RefusalReason::parse)
                .ok_or_else(|| {
                    ApiError::BadRequest("choose the ground for refusing (reason)".into())
                })?;
            requests::act(
                &state.store,
                site,
                &reference,
                Action::Close(Outcome::Refused(why), None),
                actor,
                client,
            )
            .await?;
        }
        "erase" => {
            requests::close_erased(&state, site, &reference, actor, client).await?;
        }
        "withdraw" => {
            requests::withdraw_on_behalf(&state, access.site(), &reference, actor, client).await?;
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown action `{other}`: identity, answer, refuse, erase or withdraw"
            ))
            .into());
        }
    }
    Ok(Redirect::to(&case_url(site, &reference)).into_response())
}

/// The case and its subject's records, for a staff member (404 for an auditor: the
/// records are record-level), audited as `what`.
async fn records_of(
    state: &AppState,
    access: &CasesSite,
    reference: &str,
    what: &str,
) -> Result<(RequestRow, requests::SubjectRecord), ApiError> {
    if !access.may_act() {
        return Err(ApiError::NotFound(
            "a subject's records are for the site's DPO".into(),
        ));
    }
    let (p, site) = (access.principal(), access.id());
    let row = requests::case(&state.store, site, reference).await?;
    let record = requests::subject_record(&state.store, &state.subjects, &row).await?;
    requests::audit_read(
        &state.store,
        site,
        reference,
        AuditAction::RequestExport,
        &format!("{what} receipts={}", record.receipts.len()),
        &p.actor,
        &p.client,
    )
    .await?;
    Ok((row, record))
}

/// `GET /admin/sites/{site}/requests/{reference}/export.json`: exactly the case
/// subject's receipts (with their JWS) and the notice versions they refer to. Written to
/// the release log (tier 1, the case as the reference) and the audit log.
pub(crate) async fn export_json(
    State(state): State<AppState>,
    access: CasesSite,
    Path(CasePath { reference }): Path<CasePath>,
) -> PageResult {
    let (row, record) = records_of(&state, &access, &reference, "format=json").await?;
    let (p, site) = (access.principal(), access.id());
    state
        .store
        .record_release(&NewRelease {
            actor: &p.actor,
            role: p.role().as_str(),
            tier: 1,
            site_id: site,
            format: "subject-json",
            purpose: "ตอบคำร้องของเจ้าของข้อมูลส่วนบุคคล (PDPA s.30–31)",
            reference: &reference,
            records: i64::try_from(record.receipts.len()).unwrap_or(i64::MAX),
            client: &p.client,
        })
        .await?;
    let doc = serde_json::json!({
        "site": site,
        "reference": row.reference,
        "subject": row.subject_id,
        "exported_at": dates::rfc3339_th(dates::now_ms()),
        "receipts": record.receipts.iter().map(|r| serde_json::json!({"receipt": r.receipt, "jws": r.jws})).collect::<Vec<_>>(),
        "notices": record.notices,
    });
    let body = serde_json::to_string_pretty(&doc).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{site}-{reference}-subject.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The title of purpose or category `id` in the notice version a receipt refers to.
fn item_title(notice: Option<&Notice>, id: &Slug, lang: Lang) -> String {
    notice
        .and_then(|n| {
            n.purposes
                .iter()
                .find(|p| &p.id == id)
                .map(|p| p.title.get(lang).to_owned())
                .or_else(|| {
                    n.categories
                        .iter()
                        .find(|c| &c.id == id)
                        .map(|c| c.title.get(lang).to_owned())
                })
        })
        .unwrap_or_else(|| id.to_string())
}

/// One receipt in words.
fn receipt_in_words(
    r: &StoredReceipt,
    notices: &BTreeMap<&str, &PublishedNotice>,
    lang: Lang,
) -> Markup {
    let rc = &r.receipt;
    let notice = notices.get(rc.notice.version.as_str()).map(|n| &n.notice);
    let decisions: Vec<(String, bool)> = rc
        .purposes
        .iter()
        .chain(rc.categories.iter())
        .map(|(id, g)| (item_title(notice, id, lang), *g))
        .collect();
    html! {
        section {
            h3 { (dates::rfc3339(&rc.issued_at, lang)) }
            dl.kv {
                dt { (t(lang, "เหตุการณ์", "Event")) } dd { (words::event(rc.event, lang)) }
                dt { (t(lang, "วิธี", "How")) } dd { (words::method(rc.method, lang)) }
                @if let Some(case) = &rc.case_reference {
                    dt { (t(lang, "ตามคำร้องเลขที่", "Under case")) } dd { (case) }
                }
                dt { (t(lang, "ประกาศฉบับ", "Notice version")) }
                dd {
                    (rc.notice.version)
                    @if let Some(n) = notice { " · " (t(lang, "มีผลตั้งแต่", "effective")) " " (dates::ymd(&n.effective_from, lang)) }
                }
                dt { (t(lang, "ใช้ได้ถึง", "Valid until")) } dd { (dates::rfc3339(&rc.valid_until, lang)) }
                dt { (t(lang, "เลขที่ใบรับ", "Receipt id")) } dd { code { (rc.receipt_id) } }
            }
            @if !decisions.is_empty() {
                table {
                    caption { (t(lang, "การตัดสินใจ", "Decisions")) }
                    thead { tr { th scope="col" { (t(lang, "รายการ", "Item")) } th scope="col" { (t(lang, "การตัดสินใจ", "Decision")) } } }
                    tbody {
                        @for (title, granted) in &decisions {
                            tr { td { (title) } td { (words::decision(*granted, lang)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /admin/sites/{site}/requests/{reference}/summary`: the subject's receipts in
/// words, printable (the console's header is left out when printed).
pub(crate) async fn summary(
    State(state): State<AppState>,
    access: CasesSite,
    UiLang(lang): UiLang,
    Path(CasePath { reference }): Path<CasePath>,
) -> PageResult {
    let (row, record) = records_of(&state, &access, &reference, "format=summary").await?;
    let (p, site) = (access.principal(), access.id());
    let notices: BTreeMap<&str, &PublishedNotice> = record
        .notices
        .iter()
        .map(|n| (n.notice.version.as_str(), n))
        .collect();
    let site_name = record.notices.last().map_or_else(
        || site.to_owned(),
        |n| n.notice.site_name.get(lang).to_owned(),
    );
    let body = html! {
        p.noprint.muted {
            (t(lang, "หน้านี้พิมพ์ได้: กด Ctrl+P (หรือ ⌘P) แล้วเลือก \"บันทึกเป็น PDF\" หากต้องการไฟล์", "This page prints cleanly: press Ctrl+P (or ⌘P) and choose \"Save as PDF\" for a file."))
            " · " a href=(case_url(site, &reference)) { (t(lang, "กลับไปที่คำร้อง", "Back to the case")) }
        }
        p {
            (t(lang, "บันทึกความยินยอมทั้งหมดที่เว็บไซต์", "Every consent record the website"))
            " " strong { (site_name) } " "
            (t(lang, "เก็บไว้สำหรับเจ้าของข้อมูลตามคำร้องเลขที่", "keeps for the data subject of case"))
            " " strong { (row.reference) } " ("
            (t(lang, "นามแฝง", "pseudonym")) " " code { (row.subject_id) } ")"
        }
        p { (t(lang, "จำนวนบันทึก", "Records")) ": " (record.receipts.len()) " · " (t(lang, "จัดทำเมื่อ", "Made")) " " (dates::ms(dates::now_ms(), lang)) }
        @if record.receipts.is_empty() {
            p { (t(lang, "ไม่พบบันทึกความยินยอมของเจ้าของข้อมูลนี้", "There is no consent record of this subject.")) }
        }
        @for r in &record.receipts {
            (receipt_in_words(r, &notices, lang))
        }
        @if !record.notices.is_empty() {
            h2 { (t(lang, "ประกาศที่อ้างถึง", "Notice versions referred to")) }
            ul {
                @for n in &record.notices {
                    li {
                        a href={ "/sites/" (site) "/notice/" (n.notice.version) } { (n.notice.title.get(lang)) " — " (n.notice.version) }
                        " · " (t(lang, "มีผลตั้งแต่", "effective")) " " (dates::ymd(&n.notice.effective_from, lang))
                    }
                }
            }
        }
    };
    let title = format!(
        "{} {reference}",
        t(lang, "สรุปบันทึกความยินยอม คำร้องเลขที่", "Consent records, case")
    );
    Ok(respond(lang, page(lang, &title, signed_in(p), body)))
}

/// `GET /admin/sites/{site}/requests/{reference}/letter[?lang=en]`: the reply to the
/// requester from the agency, printable.
pub(crate) async fn letter(
    State(state): State<AppState>,
    access: CasesSite,
    UiLang(lang): UiLang,
    Path(CasePath { reference }): Path<CasePath>,
) -> PageResult {
    if !access.may_act() {
        return Err(ApiError::NotFound("reply letters are for the site's DPO".into()).into());
    }
    let (p, site) = (access.principal(), access.id());
    let row = requests::case(&state.store, site, &reference).await?;
    requests::audit_read(
        &state.store,
        site,
        &reference,
        AuditAction::RequestView,
        "letter",
        &p.actor,
        &p.client,
    )
    .await?;
    let notice = state.store.current_notice(site).await?.map(|n| n.notice);
    let steps = history(&state, site, &reference).await?;
    let withdrawn = steps
        .iter()
        .any(|a| a.action == AuditAction::RequestOnBehalf.as_str());
    let status = requests::status_of(&row);
    let kind = requests::kind_of(&row);
    let body = html! {
        p.noprint.muted {
            (t(lang, "หน้านี้พิมพ์ได้: กด Ctrl+P (หรือ ⌘P) แล้วเลือก \"บันทึกเป็น PDF\" หากต้องการไฟล์", "This page prints cleanly: press Ctrl+P (or ⌘P) and choose \"Save as PDF\" for a file."))
            " · " a href=(case_url(site, &reference)) { (t(lang, "กลับไปที่คำร้อง", "Back to the case")) }
            " · " @if lang == Lang::Th { a href="?lang=en" lang="en" { "English letter" } } @else { a href="?lang=th" lang="th" { "หนังสือภาษาไทย" } }
        }
        @if let Some(n) = &notice {
            address {
                strong { (n.controller.name.get(lang)) } br;
                @if !n.controller.address.get(lang).is_empty() { (n.controller.address.get(lang)) br; }
                (n.controller.email)
                @if !n.controller.phone.is_empty() { " · " (n.controller.phone) }
            }
        }
        p { (dates::ymd(&dates::day_name(dates::thailand_day(dates::now_ms())), lang)) }
        p { strong { (t(lang, "เรื่อง", "Subject")) } " " (t(lang, "แจ้งผลการดำเนินการตามคำร้องขอใช้สิทธิของเจ้าของข้อมูลส่วนบุคคล", "The outcome of your request as a data subject")) }
        p { strong { (t(lang, "เรียน", "To")) } " " (t(lang, "ผู้ยื่นคำร้อง", "the requester")) }
        p { strong { (t(lang, "อ้างถึง", "Your reference")) } " " (t(lang, "คำร้องเลขที่", "case")) " " (row.reference) }
        p {
            (t(lang, "ตามที่ท่านได้ยื่นคำร้องเมื่อ", "On"))
            " " (dates::ms(row.received_at, lang)) " "
            @if lang == Lang::En { "you asked " }
            (channel_title(&row, lang)) " "
            (t(lang, "ขอใช้สิทธิ", "for")) " " strong { (pick(lang, kind.title())) }
            (t(lang, " นั้น", "."))
        }
        @match status {
            RequestStatus::Answered => p {
                (t(lang, "หน่วยงานได้ดำเนินการตามคำร้องของท่านแล้ว", "We have done what you asked."))
                @if withdrawn { " " (t(lang, "เจ้าหน้าที่ได้บันทึกการถอนความยินยอมทุกรายการตามคำร้องของท่าน และออกใบรับที่ลงลายมือชื่ออ้างอิงเลขที่คำร้องนี้", "Staff recorded the withdrawal of every consent at your request, with a signed receipt naming this case.")) }
                @if let Some(note) = &row.outcome_reason { " " (note) }
            },
            RequestStatus::Erased => p { (t(lang, "หน่วยงานได้ลบข้อมูลส่วนบุคคลในบันทึกความยินยอมของท่านแล้ว โดยเก็บไว้เพียงหลักฐานที่ไม่ระบุตัวท่านว่ามีการลบตามคำร้องนี้", "We have erased the personal data in your consent records, keeping only a record that does not identify you that they were erased under this request.")) },
            RequestStatus::Refused => p {
                (t(lang, "หน่วยงานไม่อาจดำเนินการตามคำร้องของท่านได้ เนื่องจาก", "We cannot do what you asked, because"))
                " " strong { (requests::refusal_of(&row).map_or_else(|| row.outcome_reason.clone().unwrap_or_default(), |r| pick(lang, r.title()).to_owned())) }
            },
            _ => p {
                (t(lang, "คำร้องของท่านอยู่ระหว่างดำเนินการ หน่วยงานจะแจ้งผลภายในวันที่", "Your request is being handled; we will answer by"))
                " " (dates::ymd(&row.due, lang))
                @if withdrawn { " " (t(lang, "ทั้งนี้ เจ้าหน้าที่ได้บันทึกการถอนความยินยอมทุกรายการตามคำร้องของท่านแล้ว", "Staff have already recorded the withdrawal of every consent at your request.")) }
            },
        }
        p {
            (t(lang,
                "หากท่านเห็นว่าการดำเนินการนี้ไม่ถูกต้อง ท่านมีสิทธิร้องเรียนต่อสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล (สคส.) ตามมาตรา 73 แห่งพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 ที่เว็บไซต์",
                "If you think this is not right, you have the right to complain to the Office of the Personal Data Protection Committee (PDPC), under section 73 of the Personal Data Protection Act B.E. 2562 (2019), at"))
            " " a href="https://www.pdpc.or.th" { "www.pdpc.or.th" }
        }
        p { (t(lang, "จึงเรียนมาเพื่อโปรดทราบ", "Yours faithfully,")) }
        @if let Some(n) = &notice {
            p {
                (t(lang, "เจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล", "Data protection officer")) br;
                (n.dpo.name.get(lang)) br;
                (n.dpo.email)
                @if !n.dpo.phone.is_empty() { " · " (n.dpo.phone) }
            }
        }
    };
    let title = format!(
        "{} {reference}",
        t(lang, "หนังสือแจ้งผลคำร้องเลขที่", "Reply to case")
    );
    Ok(respond(lang, page(lang, &title, signed_in(p), body)))
}
