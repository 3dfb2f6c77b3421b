//! `GET /admin/sites/{site}/receipts`: receipt search with filters, the total, cursor
//! paging and export links (record-level: DPOs and admins).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::RecordsSite,
        ops::{self, SearchQuery},
        ui::{UiLang, page, respond, t},
    },
    dates,
    error::ApiError,
    state::AppState,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
};
use maud::{Markup, html};

fn options(current: &Option<String>, values: &[(String, String)]) -> Markup {
    html! {
        option value="" { "—" }
        @for (v, label) in values {
            option value=(v) selected[current.as_deref() == Some(v.as_str())] { (label) }
        }
    }
}

/// A visitor's pseudonym linking to all their receipts on `site` (the search narrowed to
/// them): the receipt list, the receipt page and the audit log use it.
pub(crate) fn subject_link(site: &str, subject: &str) -> Markup {
    html! {
        a href={ "/admin/sites/" (site) "/receipts?" (ops::query_string(&[("subject", subject)])) } { code { (subject) } }
    }
}

/// `GET /admin/sites/{site}/receipts`: search with filters, total count, cursor paging.
pub(crate) async fn show(
    State(state): State<AppState>,
    access: RecordsSite,
    UiLang(lang): UiLang,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    // A filter that does not parse (a date, a decision) is shown above the same form,
    // with the values as entered.
    let (found, problem) = match ops::search(&state, &access, &q).await {
        Ok(found) => (Some(found), None),
        Err(ApiError::BadRequest(why)) => (None, Some(why)),
        Err(e) => return Err(e.into()),
    };
    let (rows, total, next) = found.unwrap_or_default();
    let versions = state.store.notice_versions(site).await?;
    let current = state.store.current_notice(site).await?;
    let items: Vec<(String, String)> = current
        .iter()
        .flat_map(|n| {
            n.notice
                .optional_categories()
                .map(|c| (c.id.to_string(), c.title.get(lang).to_owned()))
                .chain(
                    n.notice
                        .consent_purposes()
                        .map(|x| (x.id.to_string(), x.title.get(lang).to_owned())),
                )
                .collect::<Vec<_>>()
        })
        .collect();
    let methods: Vec<(String, String)> = [
        ("accept_all", t(lang, "ยอมรับทั้งหมด", "Accept all")),
        ("reject_all", t(lang, "ปฏิเสธทั้งหมด", "Reject all")),
        ("save_preferences", t(lang, "เลือกบางส่วน", "Saved choices")),
        ("withdraw", t(lang, "ถอนความยินยอม", "Withdrawal")),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    let decisions: Vec<(String, String)> = vec![
        ("granted".into(), t(lang, "อนุญาต", "granted").into()),
        ("denied".into(), t(lang, "ไม่อนุญาต", "denied").into()),
    ];
    let version_opts: Vec<(String, String)> = versions
        .iter()
        .map(|v| (v.version.clone(), v.version.clone()))
        .collect();
    let filters = q.to_query();
    let body = html! {
        form.filters method="get" role="search" {
            div { label for="from" { (t(lang, "ตั้งแต่วันที่", "From")) } input id="from" name="from" type="date" value=[q.from.as_deref()]; }
            div { label for="to" { (t(lang, "ก่อนวันที่", "Before")) } input id="to" name="to" type="date" value=[q.to.as_deref()]; }
            div { label for="version" { (t(lang, "ฉบับประกาศ", "Notice version")) } select id="version" name="version" { (options(&q.version, &version_opts)) } }
            div { label for="method" { (t(lang, "วิธีที่เลือก", "Method")) } select id="method" name="method" { (options(&q.method, &methods)) } }
            div { label for="item" { (t(lang, "หมวดหมู่หรือวัตถุประสงค์", "Category or purpose")) } select id="item" name="item" { (options(&q.item, &items)) } }
            div { label for="decision" { (t(lang, "การตัดสินใจ", "Decision")) } select id="decision" name="decision" { (options(&q.decision, &decisions)) } }
            div { label for="subject" { (t(lang, "รหัสผู้เข้าชม", "Subject id")) } input id="subject" name="subject" value=[q.subject.as_deref()]; }
            div { label for="receipt" { (t(lang, "เลขที่ใบรับ", "Receipt id")) } input id="receipt" name="receipt" value=[q.receipt.as_deref()]; }
            div { button type="submit" { (t(lang, "ค้นหา", "Search")) } }
        }
        @if let Some(why) = &problem {
            p.bad role="alert" { (t(lang, "ตัวกรองไม่ถูกต้อง: ", "A filter is not valid: ")) code { (why) } }
        } @else {
        p {
            (t(lang, "พบ ", "Found ")) strong { (total) } (t(lang, " รายการ", " receipts")) " · "
            (t(lang, "ส่งออก: ", "Export: "))
            @for f in ["csv", "jsonl", "kantara", "iso27560"] {
                a href={ "/admin/sites/" (site) "/export?format=" (f) "&" (filters) } { (f) } " "
            }
            (t(lang, "(ตามตัวกรองที่แสดง)", "(with the filters shown)"))
        }
        table {
            caption.muted { (t(lang, "ใหม่สุดก่อน", "Newest first")) }
            thead { tr {
                th scope="col" { (t(lang, "เวลา (เวลาประเทศไทย)", "Time (Thailand)")) }
                th scope="col" { (t(lang, "ผู้เข้าชม", "Visitor")) }
                th scope="col" { (t(lang, "เหตุการณ์", "Event")) }
                th scope="col" { (t(lang, "วิธี", "Method")) }
                th scope="col" { (t(lang, "ฉบับ", "Version")) }
                th scope="col" { (t(lang, "การตัดสินใจ", "Decisions")) }
                th scope="col" { (t(lang, "ใบรับ", "Receipt")) }
            } }
            tbody {
                @for r in &rows {
                    @let rc = &r.receipt;
                    tr {
                        td { (dates::rfc3339(&rc.issued_at, lang)) }
                        td { (subject_link(site, &rc.subject_id)) }
                        td { (rc.event.as_str()) }
                        td { (rc.method.as_str()) }
                        td { (rc.notice.version) }
                        td {
                            @for (k, v) in rc.categories.iter().chain(rc.purposes.iter()) {
                                span class=(if *v { "ok" } else { "bad" }) { (k) "=" (if *v { "✓" } else { "✗" }) } " "
                            }
                        }
                        td { a href={ "/admin/sites/" (site) "/receipts/" (rc.receipt_id) } { code { (rc.receipt_id) } } }
                    }
                }
            }
        }
        @if let Some(n) = next {
            p { a rel="next" href={ "?" (filters) "&before=" (n) } { (t(lang, "หน้าถัดไป →", "Next page →")) } }
        }
        }
    };
    let title = format!("{} — {site}", t(lang, "ใบรับความยินยอม", "Consent receipts"));
    let mut res = respond(lang, page(lang, &title, signed_in(p), body));
    if problem.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(res)
}
