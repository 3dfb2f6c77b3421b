//! `GET /admin/audit`: the audit log (admins: everything; DPOs: their sites; auditors:
//! who accessed their sites, without the detail).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        auth::Principal,
        ops,
        ui::{UiLang, page, respond, t},
    },
    dates,
    state::AppState,
    store::{AuditAction, AuditRow},
};
use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;
use yinyom_model::Lang;

/// Query of the audit page.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// The detail of an entry, with the visitor or receipt it names linked to their receipts
/// (a search narrowed to a visitor, a receipt read).
fn detail(r: &AuditRow, lang: Lang) -> Markup {
    let site = r.site_id.as_deref().unwrap_or("");
    let subject = (r.action == AuditAction::ReceiptsSearch.as_str()
        || r.action == AuditAction::ReceiptsExport.as_str())
    .then(|| {
        let query = r.detail.rsplit(' ').next().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find_map(|(k, v)| (k == "subject" && !v.is_empty()).then_some(v))
    })
    .flatten();
    html! {
        code { (r.detail) }
        @if site.is_empty() {
        } @else if let Some(s) = subject {
            " → " (super::receipts::subject_link(site, &s))
        } @else if r.action == AuditAction::ReceiptView.as_str() && !r.detail.is_empty() {
            " → " a href={ "/admin/sites/" (site) "/receipts/" (r.detail) } { (t(lang, "ใบรับ", "receipt")) }
        }
    }
}

/// `GET /admin/audit`: admins see everything, DPOs their sites, auditors the access to
/// their sites without the detail.
pub(crate) async fn audit(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let rows = ops::audit_rows(&state, &p, q.before).await?;
    let body = html! {
        table {
            thead { tr {
                th scope="col" { (t(lang, "เวลา (เวลาประเทศไทย)", "Time (Thailand)")) }
                th scope="col" { (t(lang, "ผู้ใช้", "Who")) }
                th scope="col" { (t(lang, "การกระทำ", "Action")) }
                th scope="col" { (t(lang, "เว็บไซต์", "Site")) }
                th scope="col" { (t(lang, "รายละเอียด", "Detail")) }
                th scope="col" { (t(lang, "จาก", "From")) }
            } }
            tbody {
                @for r in &rows {
                    tr { td { (dates::ms(r.at, lang)) } td { (r.actor) } td { (r.action) } td { (r.site_id.as_deref().unwrap_or("")) } td { (detail(r, lang)) } td { (r.client) } }
                }
            }
        }
        @if rows.len() as i64 == ops::AUDIT_PAGE {
            @if let Some(last) = rows.last() {
                p { a rel="next" href={ "?before=" (last.id) } { (t(lang, "เก่ากว่า →", "Older →")) } }
            }
        }
    };
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "บันทึกการใช้งาน", "Audit log"),
            signed_in(&p),
            body,
        ),
    ))
}
