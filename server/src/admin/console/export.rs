//! `GET /admin/sites/{site}/export`: a record-level release. Without a stated purpose and
//! a reference (memo or letter number) it is a form asking for them, carrying the search's
//! filters and the format; with them, the file ([`ops::export`]: the access tier's checks,
//! the release log, the audit log).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::ReleaseSite,
        ops::{self, SearchQuery},
        tiers::{self, Release, Tier},
        ui::{UiLang, page, respond, t},
    },
    state::AppState,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
};
use maud::html;

/// `GET /admin/sites/{site}/export`: the file, or the form asking why it is released.
pub(crate) async fn export(
    State(state): State<AppState>,
    access: ReleaseSite,
    UiLang(lang): UiLang,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    // A format the tier may not have is refused before anything is asked.
    access.policy().check_format(ops::export_format(&q)?)?;
    let problems = match Release::parse(q.purpose.as_deref(), q.reference.as_deref()) {
        Ok(_) => return Ok(ops::export(&state, &access, &q, lang).await?),
        // The first visit (from the receipts page's links) asks without scolding.
        Err(_) if q.purpose.is_none() && q.reference.is_none() => Vec::new(),
        Err(problems) => problems,
    };
    let (p, site) = (access.principal(), access.id());
    let format = ops::export_format(&q)?;
    let policy = access.policy();
    let tier = policy.tier;
    let hidden = [
        ("from", &q.from),
        ("to", &q.to),
        ("version", &q.version),
        ("method", &q.method),
        ("item", &q.item),
        ("decision", &q.decision),
        ("subject", &q.subject),
        ("receipt", &q.receipt),
    ];
    let body = html! {
        p {
            (t(lang, "การส่งออกใบรับความยินยอมรายรายการทุกครั้งต้องระบุวัตถุประสงค์และเลขที่บันทึกข้อความหรือหนังสือที่อ้างอิง และจะถูกบันทึกในบันทึกการเปิดเผยข้อมูล ซึ่งเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคลและผู้ตรวจสอบของเว็บไซต์อ่านได้",
               "Every record-level export of consent receipts needs a stated purpose and the memo or letter number it rests on, and is written to the release log, which the site's DPO and auditor read."))
        }
        p {
            (t(lang, "ชั้นการเข้าถึงของท่าน: ", "Your access tier: ")) strong { (Tier::label(tier.number(), lang)) }
            @if let Some(max) = policy.max_records {
                " · " (t(lang, "ส่งออกได้ไม่เกิน ", "at most ")) (max) (t(lang, " รายการต่อครั้ง", " records per export"))
            }
            @if let Some(fields) = policy.fields {
                " · " (t(lang, "ได้รับเฉพาะข้อมูล ", "only the fields ")) code { (fields.join(", ")) }
            }
        }
        @if !problems.is_empty() {
            div.alert role="alert" { ul.problems { @for why in &problems { li { (why) } } } }
        }
        form method="get" {
            @for (k, v) in hidden {
                @if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                    input type="hidden" name=(k) value=(v);
                }
            }
            input type="hidden" name="format" value=(ops::format_name(format));
            p {
                label for="purpose" { (t(lang, "วัตถุประสงค์ของการส่งออก", "Purpose of the export")) }
                textarea id="purpose" name="purpose" rows="3" maxlength=(tiers::MAX_PURPOSE_CHARS) required { (q.purpose.as_deref().unwrap_or("")) }
            }
            p {
                label for="reference" { (t(lang, "เลขที่บันทึกข้อความหรือหนังสือ", "Memo or letter number")) }
                input id="reference" name="reference" maxlength=(tiers::MAX_REFERENCE_CHARS) required value=(q.reference.as_deref().unwrap_or(""));
            }
            p { button type="submit" { (t(lang, "ส่งออก", "Export")) } }
        }
        @if p.records(site) {
            p { a href={ "/admin/sites/" (site) "/receipts?" (q.to_query()) } { (t(lang, "← กลับไปที่ผลการค้นหา", "← Back to the search")) } }
        } @else {
            p.muted { (t(lang, "ตัวกรองที่ใช้ได้: from, to (วันที่), version, method, item, decision ในที่อยู่ของหน้านี้", "Filters: from, to (dates), version, method, item, decision in this page's address.")) }
        }
    };
    let title = format!(
        "{} — {site}",
        t(lang, "ส่งออกใบรับความยินยอม", "Export consent receipts")
    );
    let mut res = respond(lang, page(lang, &title, signed_in(p), body));
    if !problems.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}
