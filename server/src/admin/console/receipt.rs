//! `GET /admin/sites/{site}/receipts/{receipt_id}`: one receipt, with its signature and
//! log status (record-level: DPOs and admins).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::{ReceiptPath, RecordsSite},
        ops,
        ui::{UiLang, page, respond, t},
    },
    dates,
    state::AppState,
};
use axum::extract::{Path, State};
use maud::{Markup, html};
use yinyom_model::Lang;

fn status(lang: Lang, r: &Result<String, String>) -> Markup {
    html! {
        @match r {
            Ok(s) => span.ok { "✓ " (t(lang, "ถูกต้อง", "valid")) " " (s) },
            Err(e) => span.bad { "✗ " (e) },
        }
    }
}

/// `GET /admin/sites/{site}/receipts/{receipt_id}`: every field, the notice shown, the
/// signature and log status.
pub(crate) async fn show(
    State(state): State<AppState>,
    access: RecordsSite,
    UiLang(lang): UiLang,
    Path(ReceiptPath { receipt_id }): Path<ReceiptPath>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let d = ops::detail(&state, &access, &receipt_id).await?;
    let rc = &d.receipt;
    let sig = d.signature.clone().map(|kid| format!("kid {kid}"));
    let log = d
        .log
        .clone()
        .map(|seq| format!("{} {seq}", t(lang, "ตำแหน่ง", "position")));
    let decisions = |m: &std::collections::BTreeMap<yinyom_model::Slug, bool>| {
        m.iter()
            .map(|(k, v)| format!("{k}: {}", if *v { "granted" } else { "denied" }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let json = serde_json::to_string_pretty(rc).unwrap_or_default();
    let body = html! {
        p { a href={ "/admin/sites/" (site) "/receipts/" (rc.receipt_id) "/evidence" } { (t(lang, "หน้าหลักฐานสำหรับพิมพ์ (ภาษาที่อ่านเข้าใจได้)", "Printable evidence page (in plain words)")) } }
        dl.kv {
            dt { (t(lang, "ลายมือชื่อ", "Signature")) } dd { (status(lang, &sig)) }
            dt { (t(lang, "บันทึกที่ตรวจสอบได้", "Tamper-evident log")) } dd { (status(lang, &log)) }
            dt { (t(lang, "เลขที่ใบรับ", "Receipt id")) } dd { code { (rc.receipt_id) } }
            dt { (t(lang, "เวลา", "Time")) } dd { (dates::rfc3339(&rc.issued_at, lang)) }
            dt { (t(lang, "เหตุการณ์", "Event")) } dd { (rc.event.as_str()) " (" (rc.method.as_str()) ")" }
            @if let Some(form) = &rc.context { dt { (t(lang, "แบบฟอร์ม", "Form")) } dd { code { (form) } } }
            @if let Some(paper) = &rc.paper {
                dt { (t(lang, "แบบฟอร์มกระดาษ", "Paper form")) }
                dd { (t(lang, "เลขที่ ", "No. ")) (paper.document) " · " (t(lang, "ลงนามวันที่ ", "signed on ")) (dates::ymd(&paper.signed_on, lang)) }
            }
            dt { (t(lang, "ผู้เข้าชม (นามแฝง)", "Visitor (pseudonym)")) } dd { (super::receipts::subject_link(site, &rc.subject_id)) }
            dt { (t(lang, "ประกาศที่แสดง", "Notice shown")) } dd {
                a href={ "/sites/" (site) "/notice/" (rc.notice.version) } { (rc.notice.version) }
                " · " (t(lang, "รอบ", "revision")) " " (rc.notice.consent_revision) " · SHA-256 " code { (rc.notice.sha256) }
            }
            dt { (t(lang, "คุกกี้", "Cookie categories")) } dd { (decisions(&rc.categories)) }
            dt { (t(lang, "วัตถุประสงค์", "Purposes")) } dd { (decisions(&rc.purposes)) }
            dt { (t(lang, "ใช้ได้ถึง", "Valid until")) } dd { (dates::rfc3339(&rc.valid_until, lang)) }
            dt { (t(lang, "ภาษา", "Language")) } dd { (rc.lang.code()) }
            dt { "GPC" } dd { (rc.gpc) }
            @if let Some(a) = rc.age_band { dt { (t(lang, "ช่วงอายุ", "Age band")) } dd { (format!("{a:?}")) } }
            @if let Some(c) = rc.consent_by { dt { (t(lang, "ผู้ให้ความยินยอม", "Consent given by")) } dd { (format!("{c:?}")) } }
            dt { (t(lang, "หน้าเว็บ", "Page")) } dd { (rc.page.origin) (rc.page.path) }
            dt { (t(lang, "รุ่นวิดเจ็ต", "Widget build")) } dd { (rc.widget) }
        }
        h2 { (t(lang, "ใบรับที่ลงลายมือชื่อ (JWS)", "Signed receipt (JWS)")) }
        p { code { (d.jws) } }
        details { summary { "JSON" } pre { (json) } }
    };
    let title = format!("{} {}", t(lang, "ใบรับ", "Receipt"), &rc.receipt_id);
    Ok(respond(lang, page(lang, &title, signed_in(p), body)))
}
