//! `GET /admin/audit`: the audit log (admins: everything; DPOs: their sites).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        auth::Principal,
        ops,
        ui::{UiLang, page, respond, t},
    },
    dates::rfc3339_ms,
    state::AppState,
};
use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

/// Query of the audit page.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// `GET /admin/audit`: admins see everything, DPOs their sites; auditors nothing.
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
                th scope="col" { (t(lang, "เวลา (UTC)", "Time (UTC)")) }
                th scope="col" { (t(lang, "ผู้ใช้", "Who")) }
                th scope="col" { (t(lang, "การกระทำ", "Action")) }
                th scope="col" { (t(lang, "เว็บไซต์", "Site")) }
                th scope="col" { (t(lang, "รายละเอียด", "Detail")) }
                th scope="col" { (t(lang, "จาก", "From")) }
            } }
            tbody {
                @for r in &rows {
                    tr { td { (rfc3339_ms(r.at)) } td { (r.actor) } td { (r.action) } td { (r.site_id.as_deref().unwrap_or("")) } td { code { (r.detail) } } td { (r.client) } }
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
