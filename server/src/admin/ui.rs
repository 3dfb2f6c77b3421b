//! The console's page frame, words and error page.

use crate::error::ApiError;
use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, StatusCode, Uri, request::Parts},
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use yinyom_model::Lang;

/// The console language: `?lang=` or the `yinyom_lang` cookie; Thai by default.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UiLang(pub(crate) Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UiLang(lang_of(&parts.headers, &parts.uri)))
    }
}

/// The console language of a request: `?lang=` or the `yinyom_lang` cookie; Thai by
/// default.
pub(crate) fn lang_of(headers: &HeaderMap, uri: &Uri) -> Lang {
    /// The part of a console URL's query that chooses the language.
    #[derive(serde::Deserialize)]
    struct LangQuery {
        lang: Option<String>,
    }
    let from_query = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<LangQuery>(q).ok())
        .and_then(|q| q.lang)
        .and_then(|v| Lang::from_tag(&v));
    let from_cookie = super::auth::cookie(headers, "yinyom_lang").and_then(|v| Lang::from_tag(&v));
    from_query.or(from_cookie).unwrap_or(Lang::Th)
}

/// Thai or English.
pub(crate) fn t(lang: Lang, th: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Th { th } else { en }
}

const BASE_CSS: &str = "body{margin:0;font:16px/1.6 \"Sarabun\",\"Noto Sans Thai\",\"Tahoma\",system-ui,sans-serif;color:#1a1a1a;background:#f4f5f7}\
a{color:#0b4f9c}header{background:#0b3d78;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}\
header a{color:#fff}header nav{display:flex;gap:1rem;flex-wrap:wrap;flex:1}header form{margin:0}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem;z-index:9}\
main{max-width:72rem;margin:1rem auto;padding:1rem 1.5rem;background:#fff}h1{font-size:1.5rem}\
table{border-collapse:collapse;width:100%;font-size:.92rem;margin:.5rem 0 1rem}th,td{border:1px solid #c8ccd2;padding:.35rem .5rem;text-align:left;vertical-align:top}\
thead th{background:#eef2f7}code{overflow-wrap:anywhere;font-size:.9em}\
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.5rem 1rem;align-items:end}\
label{display:block;font-weight:600;font-size:.9rem}input,select,textarea{font:inherit;padding:.3rem;border:1px solid #6b6b6b;border-radius:.25rem;max-width:100%;box-sizing:border-box;width:100%}input[type=radio]{width:auto}fieldset{margin:.5rem 0}\
button{font:inherit;padding:.4rem 1rem;border:2px solid #0b4f9c;background:#0b4f9c;color:#fff;border-radius:.3rem;cursor:pointer}\
header button{background:transparent;border-color:#fff}\
:focus-visible,input:focus,input:focus-within,select:focus,textarea:focus{outline:3px solid #b35c00;outline-offset:2px}header :focus-visible,.skip:focus-visible{outline-color:#ffd54f}.ok{color:#1a7f37;font-weight:600}.bad{color:#b42318;font-weight:600}\
.add{background:#e6f4ea}.del{background:#fdecea}pre.diff,ul.problems li{white-space:pre-wrap;overflow-wrap:anywhere}\
a.button{display:inline-block;padding:.4rem 1rem;border:2px solid #0b4f9c;background:#0b4f9c;color:#fff;border-radius:.3rem;text-decoration:none}\
.alert{border:2px solid #b42318;border-radius:.3rem;padding:0 1rem;margin:1rem 0}form.actions{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}.muted{color:#555}dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.kv dt{font-weight:600}dl.kv dd{margin:0;overflow-wrap:anywhere}\
caption{text-align:left;font-weight:600}.evidence-qr{display:flex;gap:1rem;align-items:flex-start;flex-wrap:wrap}p.jws code{font-size:.7rem}\
@media print{header,.skip,.noprint{display:none}body{background:#fff;font-size:11pt}main{margin:0;padding:0;max-width:none}a{color:#000}h2{break-after:avoid}table,dl.kv,.evidence-qr{break-inside:avoid}}";

/// The stylesheet: [`BASE_CSS`] and a colour class per statistics series (`.s0`…), so no
/// element needs a `style` attribute.
static CSS: LazyLock<String> = LazyLock::new(|| {
    let mut css = BASE_CSS.to_owned();
    for (i, (colour, _, _)) in crate::stats::SERIES.iter().enumerate() {
        css.push_str(&format!(".s{i}{{color:{colour}}}"));
    }
    css
});

/// The console's Content-Security-Policy: nothing but this server's forms and the
/// page's one stylesheet (by its hash); no script at all; never in a frame.
pub(crate) static CSP: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
});

/// A console page. `user` is the signed-in e-mail and `csrf` the session's token (for
/// the sign-out form), when signed in.
pub(crate) fn page(
    lang: Lang,
    title: &str,
    signed_in: Option<(&str, &str)>,
    body: Markup,
) -> Markup {
    let other = if lang == Lang::Th { Lang::En } else { Lang::Th };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Yinyom" }
                style { (PreEscaped(CSS.as_str())) }
            }
            body {
                a.skip href="#main" { (t(lang, "ข้ามไปยังเนื้อหา", "Skip to content")) }
                header {
                    strong { "ยินยอม Yinyom" }
                    @if let Some((email, csrf)) = signed_in {
                        nav aria-label=(t(lang, "เมนูหลัก", "Main menu")) {
                            a href="/admin" { (t(lang, "เว็บไซต์", "Sites")) }
                            a href="/admin/verify" { (t(lang, "ตรวจสอบใบรับ", "Verify a receipt")) }
                            a href="/admin/audit" { (t(lang, "บันทึกการใช้งาน", "Audit log")) }
                            a href="/admin/releases" { (t(lang, "บันทึกการเปิดเผยข้อมูล", "Release log")) }
                        }
                        span { (email) }
                        form method="post" action="/admin/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { (t(lang, "ออกจากระบบ", "Sign out")) }
                        }
                    }
                    a href={ "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                        (if other == Lang::Th { "ไทย" } else { "English" })
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An HTML response that also remembers the chosen language.
pub(crate) fn respond(lang: Lang, markup: Markup) -> Response {
    (
        [(
            axum::http::header::SET_COOKIE,
            format!(
                "yinyom_lang={}; Path=/admin; Max-Age=31536000; SameSite=Strict",
                lang.code()
            ),
        )],
        Html(markup.into_string()),
    )
        .into_response()
}

/// An error of a console page.
#[derive(Debug)]
pub(crate) struct PageError(pub(crate) ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    /// The API's error response (status, JSON body, `Retry-After`): the console's error
    /// layer ([`crate::routes`]) turns it into a page in the visitor's language.
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// The console's error page for `status`, in `lang`, with the technical `detail` if any.
pub(crate) fn error_page(lang: Lang, status: StatusCode, detail: Option<&str>) -> Response {
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (
            t(lang, "ไม่พบหน้านี้", "Not found"),
            t(
                lang,
                "ไม่มีข้อมูลนี้ หรือท่านไม่มีสิทธิ์เข้าถึง",
                "There is nothing here, or you may not see it.",
            ),
        ),
        StatusCode::FORBIDDEN => (
            t(lang, "ไม่อนุญาต", "Forbidden"),
            t(
                lang,
                "คำขอไม่ผ่านการตรวจสอบความปลอดภัย (CSRF) กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง",
                "The request failed the security check (CSRF): reload the page and try again.",
            ),
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            t(lang, "ลองใหม่ภายหลัง", "Try again later"),
            t(
                lang,
                "มีคำขอมากเกินไป กรุณารอสักครู่แล้วลองใหม่",
                "Too many requests: wait a moment and try again.",
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            t(lang, "ใหญ่เกินไป", "Too large"),
            t(
                lang,
                "ข้อมูลที่ส่งใหญ่เกินไป (ไฟล์ที่อัปโหลดรวมกันได้ไม่เกิน 512 KB)",
                "What you sent is too large (uploaded files: at most 512 KB in all).",
            ),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            t(lang, "ใช้วิธีนี้ไม่ได้", "Method not allowed"),
            t(
                lang,
                "หน้านี้ไม่รับคำขอแบบนี้",
                "This page does not take this kind of request.",
            ),
        ),
        s if s.is_client_error() => (
            t(lang, "ข้อมูลไม่ถูกต้อง", "Invalid input"),
            t(
                lang,
                "กรุณาตรวจสอบค่าที่กรอกแล้วลองใหม่",
                "Check the values you entered and try again.",
            ),
        ),
        _ => (
            t(lang, "เกิดข้อผิดพลาด", "Something went wrong"),
            t(lang, "กรุณาลองใหม่", "Please try again."),
        ),
    };
    let markup = page(
        lang,
        title,
        None,
        html! {
            p { (text) }
            @if let Some(d) = detail.filter(|d| !d.is_empty()) {
                p.muted { code { (d) } }
            }
            p { a href="/admin" { (t(lang, "กลับหน้าหลัก", "Back to the console")) } }
        },
    );
    (status, Html(markup.into_string())).into_response()
}
