//! `/admin/verify`: paste receipts and check them (signature, published notice, log).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        auth::Principal,
        ops,
        ui::{UiLang, page, respond, t},
    },
    state::AppState,
};
use axum::{Form, extract::State};
use maud::{Markup, html};
use serde::Deserialize;
use yinyom_model::Lang;

/// `GET /admin/verify`
pub(crate) async fn verify_form(p: Principal, UiLang(lang): UiLang) -> PageResult {
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "ตรวจสอบใบรับ", "Verify a receipt"),
            signed_in(&p),
            verify_body(lang, &p, "", None),
        ),
    ))
}

fn verify_body(lang: Lang, p: &Principal, text: &str, results: Option<&[ops::Verified]>) -> Markup {
    html! {
        p { (t(lang, "วางใบรับ (JSON ที่มี receipt และ jws, หรือ JWS) แล้วกดตรวจสอบ", "Paste a receipt (JSON with receipt and jws, or a JWS) and verify it.")) }
        form method="post" action="/admin/verify" {
            input type="hidden" name="csrf" value=(p.csrf.as_deref().unwrap_or(""));
            label for="text" { (t(lang, "ใบรับ", "Receipt")) }
            textarea id="text" name="text" rows="10" { (text) }
            p { button type="submit" { (t(lang, "ตรวจสอบ", "Verify")) } }
        }
        @if let Some(results) = results {
            h2 { (t(lang, "ผลการตรวจสอบ", "Result")) }
            @if results.is_empty() { p.bad { (t(lang, "ไม่พบใบรับในข้อความ", "No receipt found in the text.")) } }
            ul {
                @for r in results {
                    li {
                        code { (r.receipt_id.as_deref().unwrap_or("?")) } ": "
                        @match &r.outcome {
                            Ok(s) => span.ok { "✓ " (t(lang, "ถูกต้อง", "VALID")) } " " (s),
                            Err(e) => span.bad { "✗ " (t(lang, "ไม่ถูกต้อง", "INVALID")) } " " (e),
                        }
                    }
                }
            }
        }
    }
}

/// The verify form.
#[derive(Debug, Deserialize)]
pub(crate) struct VerifyForm {
    csrf: Option<String>,
    text: String,
}

/// `POST /admin/verify`
pub(crate) async fn verify(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Form(form): Form<VerifyForm>,
) -> PageResult {
    p.check_csrf(form.csrf.as_deref())?;
    let results = ops::verify(&state, &p, &form.text).await?;
    let body = verify_body(lang, &p, &form.text, Some(&results));
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "ตรวจสอบใบรับ", "Verify a receipt"),
            signed_in(&p),
            body,
        ),
    ))
}
