//! `GET /`: a small page for whoever opens the server's address (the first URL the demo
//! prints): what this is, in Thai then English, with links to the console, the example
//! pages (in demo mode), the API documentation and the signing keys. No script at all;
//! the one style block is allowed by its hash.

use crate::state::AppState;
use axum::{
    extract::State,
    http::header,
    response::{Html, IntoResponse},
};
use base64::Engine as _;
use maud::{DOCTYPE, PreEscaped, html};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const STYLE: &str = "body{font:17px/1.6 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}\
a{color:#0b4f9c}h2{font-size:1.15rem;margin-top:1.5rem}ul{padding-left:1.2rem}\
.en{color:#3d4450}";

/// `Content-Security-Policy`: nothing but this page's own style block.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
});

pub(crate) async fn page(State(state): State<AppState>) -> impl IntoResponse {
    // In demo mode the example pages' server is the first origin trusted for every site.
    let examples = state.settings.extra_origins.first();
    // (Thai, English, address, what it is in Thai, in English)
    let links: Vec<(&str, &str, String, &str, &str)> = [
        Some((
            "คอนโซลเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล",
            "DPO console",
            "/admin".to_owned(),
            "ค้นหาและส่งออกหลักฐานความยินยอม สถิติ และเผยแพร่ประกาศ",
            "receipts, exports, statistics and publishing notices",
        )),
        examples.map(|url| {
            (
                "ตัวอย่างเว็บไซต์ (โหมดสาธิต)",
                "Example sites (demo mode)",
                format!("{url}/"),
                "หน้าเว็บของหน่วยงานที่ฝังแบนเนอร์ขอความยินยอม",
                "agency pages that embed the consent banner",
            )
        }),
        Some((
            "เอกสาร API (OpenAPI)",
            "API documentation (OpenAPI)",
            "/v1/openapi.json".to_owned(),
            "รายละเอียดทุกเส้นทางของ API ในรูปแบบ JSON",
            "every API path, as JSON",
        )),
        Some((
            "กุญแจสาธารณะสำหรับตรวจลายมือชื่อ (JWKS)",
            "Receipt-signing public keys (JWKS)",
            "/.well-known/jwks.json".to_owned(),
            "ใช้ตรวจลายมือชื่อของหลักฐานความยินยอม",
            "to verify the signature of a receipt",
        )),
    ]
    .into_iter()
    .flatten()
    .collect();
    let markup = html! {
        (DOCTYPE)
        html lang="th" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "ยินยอม (Yinyom): ระบบจัดการความยินยอม / consent management" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    h1 { "ยินยอม " span lang="en" { "(Yinyom)" } }
                    p {
                        "ระบบจัดการความยินยอมการใช้คุกกี้และประกาศความเป็นส่วนตัวสำหรับเว็บไซต์ภาครัฐ "
                        "ตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562"
                    }
                    p.en lang="en" {
                        "Cookie consent and privacy notices for Thai government websites, under the "
                        "Personal Data Protection Act B.E. 2562 (2019)."
                    }
                    h2 { "ลิงก์ " span lang="en" { "/ Links" } }
                    ul {
                        @for (th, en, href, what_th, what_en) in &links {
                            li {
                                a href=(href) { (th) " " span lang="en" { "/ " (en) } }
                                br;
                                (what_th) " " span.en lang="en" { "/ " (what_en) }
                            }
                        }
                    }
                }
            }
        }
    };
    (
        [
            (header::CONTENT_SECURITY_POLICY, CSP.as_str()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Html(markup.into_string()),
    )
}
