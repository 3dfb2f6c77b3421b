//! `GET /admin`: the sites this principal may see, with links to their pages.

use super::{PageResult, signed_in};
use crate::{
    admin::{
        auth::Principal,
        tiers::Policy,
        ui::{UiLang, page, respond, t},
    },
    state::AppState,
    store::Role,
};
use axum::extract::State;
use maud::html;

/// `GET /admin`: the sites this principal may see.
pub(crate) async fn home(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
) -> PageResult {
    let ids: Vec<String> = state
        .store
        .site_ids()
        .await?
        .into_iter()
        .filter(|s| p.can_see(s))
        .collect();
    let role = match p.role() {
        Role::Admin => t(lang, "ผู้ดูแลระบบ (ทุกเว็บไซต์)", "Administrator (every site)"),
        Role::Dpo => t(
            lang,
            "เจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล (DPO)",
            "Data protection officer (DPO)",
        ),
        Role::Auditor => t(lang, "ผู้ตรวจสอบ (ข้อมูลสถิติเท่านั้น)", "Auditor (statistics only)"),
        Role::Service => t(
            lang,
            "ระบบงานของหน่วยงาน (ตรวจสอบความยินยอมเท่านั้น)",
            "Agency system (consent check only)",
        ),
        Role::Agency => t(
            lang,
            "หน่วยงานรัฐผู้ขอข้อมูล (ส่งออกตามหนังสือราชการ ไม่เกิน 1,000 รายการต่อครั้ง)",
            "Requesting government agency (exports by official letter, five fields, at most 1,000 records each)",
        ),
        Role::Partner => t(
            lang,
            "คู่สัญญาหรือ MOU (ส่งออกตามสัญญาหรือบันทึกความร่วมมือ)",
            "Contract or MOU partner (exports under the agreement)",
        ),
        Role::Academic => t(
            lang,
            "นักวิชาการ (ส่งออกตามหนังสือ ห้ารายการข้อมูล ไม่จำกัดจำนวน)",
            "Academic (exports by letter, five fields, no cap)",
        ),
    };
    let exports = Policy::of(p.role()).is_some();
    let mut rows = Vec::new();
    for id in &ids {
        let name = state
            .store
            .site(id)
            .await?
            .map(|s| s.name.get(lang).to_owned())
            .unwrap_or_default();
        rows.push((id.clone(), name));
    }
    let body = html! {
        p { (t(lang, "บทบาทของท่าน: ", "Your role: ")) strong { (role) } }
        @if p.role() == Role::Admin {
            p { a href="/admin/accounts" { (t(lang, "บัญชีผู้ใช้และโทเค็น API", "Accounts and API tokens")) } }
        }
        @if rows.is_empty() {
            p { (t(lang, "ยังไม่มีเว็บไซต์ที่คุณเข้าถึงได้", "You have no sites yet.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t(lang, "เว็บไซต์", "Site")) }
                    th scope="col" { (t(lang, "หน้าในระบบ", "Pages")) }
                } }
                tbody {
                    @for (id, name) in &rows {
                        tr {
                            th scope="row" { (name) br; code { (id) } }
                            td {
                                @if p.records(id) {
                                    a href={ "/admin/sites/" (id) "/receipts" } { (t(lang, "ใบรับความยินยอม", "Receipts")) } " · "
                                    a href={ "/admin/sites/" (id) "/webhooks" } { (t(lang, "เว็บฮุก", "Webhooks")) } " · "
                                } @else if exports {
                                    a href={ "/admin/sites/" (id) "/export" } { (t(lang, "ขอส่งออกใบรับความยินยอม", "Export receipts")) } " · "
                                }
                                @if p.role().is_staff() || p.role() == Role::Auditor {
                                    a href={ "/admin/sites/" (id) "/requests" } { (t(lang, "คำร้องของเจ้าของข้อมูล", "Data-subject requests")) } " · "
                                }
                                a href={ "/admin/sites/" (id) "/stats" } { (t(lang, "สถิติ", "Statistics")) } " · "
                                a href={ "/admin/sites/" (id) "/notices" } { (t(lang, "ประกาศทุกฉบับ", "Notice versions")) } " · "
                                a href={ "/admin/sites/" (id) "/scan" } { (t(lang, "ผลตรวจคุกกี้", "Cookie scan")) } " · "
                                a href={ "/sites/" (id) "/notice" } { (t(lang, "ประกาศฉบับปัจจุบัน", "Current notice")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "คอนโซลเจ้าหน้าที่", "Console"),
            signed_in(&p),
            body,
        ),
    ))
}
