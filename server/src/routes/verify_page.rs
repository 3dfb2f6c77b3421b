//! `GET /verify` and `POST /verify`: the public verify page, Thai first (`?lang=en` for
//! English). Anyone pastes or uploads a receipt (`{receipt, jws}`), a compact JWS, a
//! bundle entry with its tlog-proof (`{receipt, jws, proof}`) and learns whether it is
//! genuine. No sign-in and no script: a plain form posts to this server, which answers
//! with the result page. The same verification ([`super::verify::check`]) and rate limiter
//! as `POST /v1/verify`; nothing is shown beyond what was submitted and the public notice.

use super::verify::{self, MAX_BODY, Submission, Verdict};
use crate::{
    admin::{UiLang, page, secure, t},
    dates,
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    Router,
    extract::{ConnectInfo, DefaultBodyLimit, Multipart, State},
    http::HeaderMap,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use maud::{Markup, html};
use std::net::SocketAddr;
use yinyom_model::Lang;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/verify",
        get(form)
            .post(submit)
            .layer(DefaultBodyLimit::max(MAX_BODY + 16 * 1024)),
    )
}

/// The page with the console's stylesheet and security headers (no script; the style
/// allowed by its hash).
fn answer(lang: Lang, body: Markup) -> Response {
    let mut res = Html(
        page(
            lang,
            t(lang, "ตรวจสอบหลักฐานความยินยอม", "Check a consent receipt"),
            None,
            body,
        )
        .into_string(),
    )
    .into_response();
    secure(res.headers_mut());
    res
}

/// `GET /verify`
async fn form(UiLang(lang): UiLang) -> Response {
    answer(lang, form_body(lang, "", None))
}

/// `POST /verify`: multipart `text` (pasted) and/or `file` (uploaded).
async fn submit(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    verify::limit(&state, &headers, connect).await?;
    let (mut text, mut file) = (String::new(), String::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("the form: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::BadRequest(format!("the form: {e}")))?;
        if bytes.len() > MAX_BODY {
            return Err(ApiError::TooLarge(MAX_BODY));
        }
        let value = String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "text" => text = value,
            "file" => file = value,
            _ => {}
        }
    }
    // An uploaded file wins over the text box.
    let input = if file.trim().is_empty() { text } else { file };
    if input.trim().is_empty() {
        return Ok(answer(lang, form_body(lang, "", Some(Err(())))));
    }
    let verdict = verify::check(&state, &Submission::sniff(&input)).await?;
    Ok(answer(lang, form_body(lang, &input, Some(Ok(&verdict)))))
}

fn form_body(lang: Lang, text: &str, result: Option<Result<&Verdict, ()>>) -> Markup {
    html! {
        @if let Some(result) = result {
            section aria-labelledby="result" {
                h2 id="result" { (t(lang, "ผลการตรวจสอบ", "Result")) }
                @match result {
                    Err(()) => p.bad { (t(lang, "ท่านยังไม่ได้วางข้อความหรือเลือกไฟล์", "You did not paste anything or choose a file.")) },
                    Ok(v) => (verdict(lang, v)),
                }
            }
        }
        p {
            (t(lang, "ท่านตรวจสอบได้ว่าหลักฐานความยินยอม (ใบรับ) ที่ออกโดยระบบนี้เป็นของจริงและไม่ถูกแก้ไข โดยไม่ต้องเข้าสู่ระบบ วางใบรับ (JSON ที่มี receipt และ jws), ใบรับที่ลงลายมือชื่อ (JWS) หรือรายการจากไฟล์ที่ดาวน์โหลดจาก \"ความยินยอมของฉัน\" (มี proof) หรือเลือกไฟล์",
                "Check, without signing in, that a consent receipt issued by this server is genuine and unaltered. Paste a receipt (JSON with receipt and jws), a signed receipt (JWS) or an entry of a bundle downloaded from \"My consent\" (with its proof), or choose a file."))
        }
        form method="post" action={ "/verify?lang=" (lang.code()) } enctype="multipart/form-data" {
            label for="text" { (t(lang, "ใบรับ", "Receipt")) }
            textarea id="text" name="text" rows="8" { (text) }
            label for="file" { (t(lang, "หรือเลือกไฟล์ (ไม่เกิน 64 KB)", "or choose a file (at most 64 KB)")) }
            input id="file" type="file" name="file" accept=".json,.jws,.txt,application/json,text/plain";
            p { button type="submit" { (t(lang, "ตรวจสอบ", "Check")) } }
        }
        p.muted {
            (t(lang, "ระบบไม่เก็บสิ่งที่ท่านส่งมา และไม่แสดงข้อมูลใดนอกจากที่อยู่ในใบรับนั้นเอง", "Nothing you submit is kept, and nothing is shown beyond what the receipt itself holds."))
            " " a href="/.well-known/jwks.json" { (t(lang, "กุญแจสาธารณะ (JWKS)", "Public keys (JWKS)")) }
        }
    }
}

/// The verdict in plain words: genuine or not and why, the site, the notice version, when,
/// whether the log holds it and who cosigned.
fn verdict(lang: Lang, v: &Verdict) -> Markup {
    html! {
        @if v.valid {
            p.ok { "✓ " (t(lang, "ของจริง: ลายมือชื่อดิจิทัลถูกต้องและเนื้อหาไม่ถูกแก้ไข", "Genuine: the digital signature is valid and the content is unaltered.")) }
        } @else {
            p.bad { "✗ " (t(lang, "ตรวจสอบไม่ผ่าน", "It does not verify.")) }
            ul.problems {
                @for why in &v.problems {
                    li { (plain(lang, why)) br; span.muted { (t(lang, "รายละเอียด", "Detail")) ": " (why) } }
                }
            }
        }
        dl.kv {
            @if let Some(site) = &v.site {
                dt { (t(lang, "เว็บไซต์", "Site")) } dd { code { (site) } }
            }
            @if let (Some(site), Some(version)) = (&v.site, &v.notice_version) {
                dt { (t(lang, "ประกาศฉบับ", "Notice version")) }
                dd { a href={ "/sites/" (site) "/notice/" (version) } { (version) } }
            }
            @if let Some(at) = &v.issued_at {
                dt { (t(lang, "ออกเมื่อ", "Issued")) } dd { (dates::rfc3339(at, lang)) }
            }
            dt { (t(lang, "อยู่ในบันทึกที่ตรวจสอบได้", "In the tamper-evident log")) }
            dd {
                @if v.in_log {
                    span.ok { "✓ " (t(lang, "ใช่ (ตรวจหลักฐานการบรรจุแล้ว)", "yes (inclusion proof checked)")) }
                } @else {
                    (t(lang, "ไม่ได้ตรวจ: ส่งมาโดยไม่มี proof", "not checked: no proof was submitted"))
                }
            }
            dt { (t(lang, "พยานลงนามรับรอง", "Witness cosignatures")) }
            dd {
                @if v.cosignatures.is_empty() { (t(lang, "ไม่มี", "none")) } @else { (v.cosignatures.join(", ")) }
            }
        }
    }
}

/// A problem in plain words, from the verification's technical sentence.
fn plain(lang: Lang, why: &str) -> &'static str {
    let has = |s: &str| why.contains(s);
    if has("tlog-proof alone") {
        t(
            lang,
            "proof อย่างเดียวพิสูจน์ไม่ได้ ต้องส่งพร้อมใบรับ (jws) ของมัน",
            "A proof alone proves nothing: send it with its receipt (jws).",
        )
    } else if has("log proof") {
        t(
            lang,
            "ลายมือชื่อถูกต้อง แต่หลักฐานว่าอยู่ในบันทึกไม่ถูกต้อง",
            "The signature is valid, but the proof that the log holds it is not.",
        )
    } else if has("altered") || has("does not match") {
        t(
            lang,
            "เนื้อหาถูกแก้ไขหลังลงลายมือชื่อ หรือเป็นของปลอม",
            "The content was changed after it was signed, or it is forged.",
        )
    } else if has("not in the key set") {
        t(
            lang,
            "ลงลายมือชื่อด้วยกุญแจที่ระบบนี้ไม่รู้จัก: ไม่ได้ออกโดยระบบนี้",
            "Signed with a key this server does not know: it was not issued here.",
        )
    } else if has("validity") || has("period") {
        t(
            lang,
            "ลงลายมือชื่อด้วยกุญแจนอกช่วงเวลาที่กุญแจใช้ได้",
            "Signed with a key outside the time that key was valid.",
        )
    } else {
        t(
            lang,
            "ไม่ใช่ใบรับที่อ่านได้ (ต้องเป็น JSON ที่มี jws หรือ JWS)",
            "This is not a readable receipt (JSON with a jws, or a JWS).",
        )
    }
}
