//! `GET /admin/releases`: the release log (every record-level export: who, tier, purpose,
//! reference, how many records), for admins (every site) and each site's DPO and auditor;
//! and the access tiers it is kept under.

use super::{PageResult, signed_in};
use crate::{
    admin::{
        auth::Principal,
        ops,
        tiers::{Tier, tier_of},
        ui::{UiLang, page, respond, t},
    },
    dates,
    state::AppState,
    store::Role,
};
use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

/// Query of the release log page.
#[derive(Debug, Deserialize)]
pub(crate) struct ReleasesQuery {
    before: Option<i64>,
}

/// `GET /admin/releases`.
pub(crate) async fn releases(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Query(q): Query<ReleasesQuery>,
) -> PageResult {
    let rows = ops::release_rows(&state, &p, q.before).await?;
    let roles = |tier: Tier| {
        Role::ACCOUNT_ROLES
            .into_iter()
            .filter(|r| tier_of(*r) == tier)
            .map(Role::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let body = html! {
        p { (t(lang, "การส่งออกใบรับความยินยอมรายรายการทุกครั้ง ใหม่สุดก่อน", "Every record-level export of consent receipts, newest first.")) }
        table {
            thead { tr {
                th scope="col" { (t(lang, "เวลา (เวลาประเทศไทย)", "Time (Thailand)")) }
                th scope="col" { (t(lang, "ผู้ส่งออก", "Who")) }
                th scope="col" { (t(lang, "ชั้นการเข้าถึง", "Tier")) }
                th scope="col" { (t(lang, "เว็บไซต์", "Site")) }
                th scope="col" { (t(lang, "วัตถุประสงค์", "Purpose")) }
                th scope="col" { (t(lang, "เลขที่อ้างอิง", "Reference")) }
                th scope="col" { (t(lang, "จำนวนรายการ", "Records")) }
                th scope="col" { (t(lang, "รูปแบบ", "Format")) }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        td { (dates::ms(r.at, lang)) }
                        td { (r.actor) " (" (r.role) ")" }
                        td { (Tier::label(r.tier, lang)) }
                        td { (r.site_id) }
                        td { (r.purpose) }
                        td { (r.reference) }
                        td { (r.records) }
                        td { (r.format) }
                    }
                }
            }
        }
        @if rows.is_empty() {
            p.muted { (t(lang, "ยังไม่มีการส่งออก", "No exports yet.")) }
        }
        @if rows.len() as i64 == ops::AUDIT_PAGE {
            @if let Some(last) = rows.last() {
                p { a rel="next" href={ "?before=" (last.id) } { (t(lang, "เก่ากว่า →", "Older →")) } }
            }
        }
        h2 { (t(lang, "ชั้นการเข้าถึง", "Access tiers")) }
        table {
            thead { tr {
                th scope="col" { (t(lang, "ชั้น", "Tier")) }
                th scope="col" { (t(lang, "ได้รับ", "Gets")) }
                th scope="col" { (t(lang, "บทบาทในคอนโซล", "Console roles")) }
            } }
            tbody {
                @for tier in Tier::ALL {
                    tr {
                        td { (Tier::label(tier.number(), lang)) }
                        td {
                            @match tier.policy() {
                                None => (t(lang, "สถิติเท่านั้น ไม่ได้รับข้อมูลรายรายการ", "Statistics only, never records")),
                                Some(policy) => {
                                    (t(lang, "ข้อมูลรายรายการ เมื่อระบุวัตถุประสงค์และเลขที่อ้างอิง", "Records, with a stated purpose and a reference"))
                                    @if let Some(max) = policy.max_records {
                                        (t(lang, " ไม่เกิน ", ", at most ")) (max) (t(lang, " รายการต่อครั้ง", " per export"))
                                    }
                                    @if let Some(fields) = policy.fields {
                                        (t(lang, " เฉพาะข้อมูล ", ", only the fields ")) code { (fields.join(", ")) }
                                        (t(lang, " (CSV หรือ JSON Lines ไม่มีใบรับที่ลงลายมือชื่อ)", " (CSV or JSON Lines, no signed receipts)"))
                                    }
                                }
                            }
                        }
                        td { (roles(tier)) }
                    }
                }
            }
        }
    };
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "บันทึกการเปิดเผยข้อมูล", "Release log"),
            signed_in(&p),
            body,
        ),
    ))
}
