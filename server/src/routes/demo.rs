//! Demo and development only (`yinyom serve --pages DIR`): serves the example host pages
//! (an agency's own pages, which embed the loader) from a second origin, as the agency's
//! web server would. Not the console's pages: those are [`crate::admin`]'s.
//!
//! A form posted to any path is answered by [`received`], standing in for the agency's
//! backend: it lists the fields it got, so a newcomer (and the end-to-end tests) see the
//! consent fields the loader added (`yinyom_receipt`, `yinyom_jws`, or `yinyom_request`).
//!
//! With `--pages-webhook-secrets FILE` (`cargo xtask demo` sets it), the same server is also
//! the agency's webhook receiver ([`hook`]): `POST /_webhooks/{site}` takes the events of an
//! endpoint registered for that site, checks their Standard Webhooks signature with the
//! site's secret from FILE, and `GET /_webhooks` ([`hooks_page`]) shows what arrived, so a
//! newcomer sees the loop: tick a form → receipt → webhook received.
//!
//! The examples embed `http://127.0.0.1:8080/v1/sites/…/yinyom.js`; when the API runs
//! elsewhere, that address is rewritten in HTML files to the API's public URL.

use axum::{
    Form, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::{
    collections::VecDeque,
    path::PathBuf,
    sync::{Arc, Mutex},
};
use subtle::ConstantTimeEq;
use yinyom_model::Lang;

/// The address the examples' script tags use.
pub const EXAMPLE_API_ORIGIN: &str = "http://127.0.0.1:8080";

/// Where the demo's receiver takes a site's webhooks: `{pages}/_webhooks/{site}`.
pub const WEBHOOKS_PATH: &str = "/_webhooks";

/// How many received webhooks the demo page keeps (the newest).
const KEPT: usize = 50;

/// How far a webhook's timestamp may be from the receiver's clock (Standard Webhooks
/// suggests five minutes): an older message is a replay.
const TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug)]
struct Pages {
    dir: PathBuf,
    api_url: String,
    /// The webhook receiver's secrets file (`site secret` lines), when it is on.
    secrets: Option<PathBuf>,
    /// What the receiver got, newest first.
    got: Mutex<VecDeque<Got>>,
}

/// One webhook the demo's receiver got.
#[derive(Debug, Clone)]
struct Got {
    at_ms: i64,
    site: String,
    id: String,
    /// Why the signature was not accepted, or `None` when it verified.
    refused: Option<&'static str>,
    body: serde_json::Value,
}

/// The host-page server for `dir`; the examples' script tags are pointed at `api_url`.
/// With `webhook_secrets`, it also receives and shows the sites' webhooks (demo only).
pub fn router(dir: PathBuf, api_url: String, webhook_secrets: Option<PathBuf>) -> Router {
    let pages = Pages {
        dir,
        api_url,
        secrets: webhook_secrets,
        got: Mutex::new(VecDeque::new()),
    };
    let mut r = Router::new().route("/", get(index));
    if pages.secrets.is_some() {
        r = r
            .route(WEBHOOKS_PATH, get(hooks_page))
            .route(&format!("{WEBHOOKS_PATH}/{{site}}"), post(hook));
    }
    r.route("/{*path}", get(file).post(received))
        .with_state(Arc::new(pages))
}

/// The secret of `site` in the secrets file: lines `site secret` (`#` starts a comment).
async fn secret_of(file: &std::path::Path, site: &str) -> Option<String> {
    let text = tokio::fs::read_to_string(file).await.ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.split_whitespace();
        (parts.next() == Some(site))
            .then(|| parts.next().map(str::to_owned))
            .flatten()
    })
}

/// Checks a message's Standard Webhooks signature as an agency's receiver would: the
/// three headers present, the timestamp within [`TOLERANCE_SECS`] of `now_secs`, and one
/// of the `v1,` signatures equal (in constant time) to the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the secret's bytes (`whsec_` and base64).
fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<String, &'static str> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(signatures)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return Err("missing webhook-id, webhook-timestamp or webhook-signature");
    };
    let ts_secs: i64 = ts
        .parse()
        .map_err(|_| "webhook-timestamp is not a number")?;
    if (now_secs - ts_secs).abs() > TOLERANCE_SECS {
        return Err("webhook-timestamp is too far from now (a replay?)");
    }
    let key = B64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "the secret is not whsec_<base64>")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| "unusable secret")?;
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = B64.encode(mac.finalize().into_bytes());
    let matches = signatures.split(' ').any(|s| {
        s.strip_prefix("v1,")
            .is_some_and(|sig| bool::from(sig.as_bytes().ct_eq(expected.as_bytes())))
    });
    if matches {
        Ok(id.to_owned())
    } else {
        Err("no signature matches the site's secret")
    }
}

/// `POST /_webhooks/{site}`: one webhook, verified, kept for [`hooks_page`]. Answers 204
/// when the signature verifies, 401 when it does not (the server then retries, as it
/// would for a real receiver).
async fn hook(
    State(p): State<Arc<Pages>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let secret = match &p.secrets {
        Some(file) => secret_of(file, &site).await,
        None => None,
    };
    let now = crate::dates::now_ms();
    let checked = match &secret {
        Some(secret) => verify(secret, &headers, &body, now / 1000),
        None => Err("no secret for this site in the receiver's secrets file"),
    };
    let got = Got {
        at_ms: now,
        site,
        id: headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        refused: checked.as_ref().err().copied(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    };
    if let Ok(mut list) = p.got.lock() {
        list.push_front(got);
        list.truncate(KEPT);
    }
    if checked.is_ok() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /_webhooks`: the webhooks the demo's receiver got, newest first. It does not reload
/// itself (a page that refreshes under a reader is an accessibility failure, WCAG 2.2.1):
/// it has a link to reload it.
async fn hooks_page(State(p): State<Arc<Pages>>) -> Response {
    let got: Vec<Got> = p
        .got
        .lock()
        .map(|l| l.iter().cloned().collect())
        .unwrap_or_default();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let rows: String = got
        .iter()
        .map(|g| {
            let data = &g.body["data"];
            let decisions = data["purposes"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    format!(
                        "{k}: {}",
                        if v == true {
                            "ยินยอม / granted"
                        } else {
                            "ไม่ยินยอม / refused"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let what = [text(&data["method"]), text(&data["context"]), decisions]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            let signature = match g.refused {
                None => "<td data-verified=\"true\">✓ ตรวจลายมือชื่อผ่าน / verified</td>".to_owned(),
                Some(why) => format!(
                    "<td data-verified=\"false\">✗ ไม่ผ่าน / refused: {}</td>",
                    esc(why)
                ),
            };
            format!(
                "<tr data-webhook=\"{id}\" data-type=\"{kind}\" data-receipt=\"{receipt}\">\
                 <td>{at}</td><td>{site}</td><td><code>{kind}</code></td>\
                 <td><code>{receipt}</code></td><td>{what}</td>{signature}</tr>",
                id = esc(&g.id),
                kind = esc(&text(&g.body["type"])),
                receipt = esc(&text(&data["receipt_id"])),
                at = esc(&crate::dates::ms(g.at_ms, Lang::Th)),
                site = esc(&g.site),
                what = esc(&what),
            )
        })
        .collect();
    let body = if got.is_empty() {
        "<p data-empty=\"\">ยังไม่มีเว็บฮุกเข้ามา ลองเลือกคุกกี้หรือส่งแบบฟอร์มในเว็บไซต์ตัวอย่าง / \
         No webhook yet: make a cookie choice or send a form on an example site.</p>"
            .to_owned()
    } else {
        format!(
            "<table><thead><tr><th scope=\"col\">เวลาที่ได้รับ / Received</th>\
             <th scope=\"col\">เว็บไซต์ / Site</th><th scope=\"col\">เหตุการณ์ / Event</th>\
             <th scope=\"col\">ใบรับ / Receipt</th><th scope=\"col\">วิธี · แบบฟอร์ม · การตัดสินใจ / Method · form · decisions</th>\
             <th scope=\"col\">ลายมือชื่อ / Signature</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    Html(format!(
        "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>เว็บฮุกที่ได้รับ / Webhooks received</title>\
         <style>body{{font:17px/1.6 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #c8ccd2;padding:.4rem .6rem;text-align:left;vertical-align:top}}\
         code{{word-break:break-all}}a{{color:#0b4f9c}}</style></head><body><main>\
         <h1>เว็บฮุกที่ระบบหลังบ้านได้รับ / Webhooks the backend received</h1>\
         <p>ตัวรับเว็บฮุกของการสาธิต: เซิร์ฟเวอร์ความยินยอมส่งเหตุการณ์มาที่นี่ทุกครั้งที่บันทึกใบรับ \
         และหน้านี้ตรวจลายมือชื่อตามมาตรฐาน Standard Webhooks ด้วยรหัสลับของแต่ละเว็บไซต์ / \
         The demo's webhook receiver: the consent server posts an event here for every receipt, \
         and this page checks its Standard Webhooks signature with the site's secret.</p>\
         <p><a href=\"{WEBHOOKS_PATH}\" data-reload=\"\">โหลดหน้านี้ใหม่ / Reload this page</a></p>\
         {body}<p><a href=\"/\">ตัวอย่างเว็บไซต์ / Example sites</a></p></main></body></html>"
    ))
    .into_response()
}

async fn index(State(p): State<Arc<Pages>>) -> Response {
    let mut names: Vec<String> = std::fs::read_dir(&p.dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("index.html").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let api = &p.api_url;
    let rows: String = names
        .iter()
        .map(|n| {
            format!(
                "<tr><th scope=\"row\"><a href=\"/{n}/\">{n}</a></th>\
                 <td><a href=\"{api}/sites/{n}/notice\">ประกาศ / Notice</a></td>\
                 <td><a href=\"{api}/admin/sites/{n}/receipts\">คอนโซล / Console</a></td>\
                 <td><a href=\"{api}/v1/sites/{n}/stats\">สถิติเปิด / Open data</a></td></tr>"
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Yinyom: ตัวอย่างเว็บไซต์ / Example sites</title>\
         <style>body{{font:17px/1.6 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #c8ccd2;padding:.4rem .6rem;text-align:left}}\
         a{{color:#0b4f9c}}</style></head><body><main>\
         <h1>ยินยอม Yinyom — ตัวอย่างเว็บไซต์ / Example sites</h1>\
         <p>หน้าเว็บของหน่วยงานตัวอย่างที่ฝังวิดเจ็ตความยินยอม / Example agency pages that embed the consent widget. \
         The console needs a sign-in (the demo prints the account).</p>\
         <table><thead><tr><th scope=\"col\">เว็บไซต์ / Site</th><th scope=\"col\">ประกาศ / Notice</th>\
         <th scope=\"col\">คอนโซล DPO / DPO console</th><th scope=\"col\">สถิติ / Statistics</th></tr></thead>\
         <tbody>{rows}</tbody></table></main></body></html>"
    ))
    .into_response()
}

/// A form posted to the example pages: what the agency's backend would get. It lists
/// every field (escaped), one `<tr>` each with the field's name in `data-name`. A backend
/// that gets `yinyom_request` forwards it to `POST /v1/sites/{site}/receipts`
/// (docs/EMBEDDING.md); this page only shows it.
async fn received(
    State(p): State<Arc<Pages>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let hooks = if p.secrets.is_some() {
        format!(
            "<p><a href=\"{WEBHOOKS_PATH}\" data-webhooks-link=\"\">เว็บฮุกที่ระบบหลังบ้านได้รับ / \
             The webhooks the backend received</a></p>"
        )
    } else {
        String::new()
    };
    let rows: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr data-name=\"{}\"><th scope=\"row\">{}</th><td><code>{}</code></td></tr>",
                esc(k),
                esc(k),
                esc(v)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ได้รับแบบฟอร์มแล้ว / Form received</title>\
         <style>body{{font:17px/1.6 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #c8ccd2;padding:.4rem .6rem;text-align:left;vertical-align:top}}\
         code{{word-break:break-all}}</style></head><body><main>\
         <h1>ได้รับแบบฟอร์มแล้ว / Form received</h1>\
         <p>หน้านี้แสดงข้อมูลที่ระบบของหน่วยงานได้รับจากแบบฟอร์ม รวมทั้งช่องความยินยอมที่ยินยอมเพิ่มให้ \
         (<code>yinyom_receipt</code> และ <code>yinyom_jws</code> หรือ <code>yinyom_request</code> เมื่อติดต่อเซิร์ฟเวอร์ความยินยอมไม่ได้) / \
         What the agency's backend got from the form, with the consent fields Yinyom added.</p>\
         <table><tbody>{rows}</tbody></table>{hooks}</main></body></html>"
    ))
    .into_response()
}

async fn file(
    State(p): State<Arc<Pages>>,
    Path(path): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let rel = PathBuf::from(&path);
    if rel
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut full = p.dir.join(rel);
    if full.is_dir() {
        full = full.join("index.html");
    }
    let ext = full
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_owned();
    // A build artifact shipped with a `.br` sibling (e.g. a third-party library the
    // benchmark compares against) is served like a CDN would: brotli, cached for a year.
    let br = full.with_extension(format!("{ext}.br"));
    let accepts_br = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().split(';').next() == Some("br"))
        });
    if ext != "html"
        && accepts_br
        && let Ok(bytes) = tokio::fs::read(&br).await
    {
        let mime = if ext == "css" {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        return (
            [
                (header::CONTENT_TYPE, mime),
                (header::CONTENT_ENCODING, "br"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response();
    }
    let Ok(bytes) = tokio::fs::read(&full).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ext = ext.as_str();
    let mime = match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "md" | "toml" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let body = if ext == "html" {
        String::from_utf8_lossy(&bytes)
            .replace(EXAMPLE_API_ORIGIN, &p.api_url)
            .into_bytes()
    } else {
        bytes
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(id: &str, ts: i64, signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature.to_owned()),
        ] {
            h.insert(k, v.parse().expect("header value"));
        }
        h
    }

    /// The demo's receiver accepts what the server signs ([`crate::webhooks::sign`]) and
    /// refuses another secret, a changed body, a stale timestamp and missing headers.
    #[test]
    fn the_receiver_checks_standard_webhooks_signatures() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let body = br#"{"type":"consent.recorded"}"#;
        let now = 1_764_000_000;
        let sig = crate::webhooks::sign(secret, "msg_1", now, "{\"type\":\"consent.recorded\"}")
            .expect("sign");
        let h = headers("msg_1", now, &format!("v1,bogus {sig}"));
        assert_eq!(verify(secret, &h, body, now + 10), Ok("msg_1".to_owned()));
        assert!(verify(other, &h, body, now).is_err(), "another secret");
        assert!(verify(secret, &h, b"{}", now).is_err(), "another body");
        assert!(
            verify(secret, &h, body, now + TOLERANCE_SECS + 1).is_err(),
            "a replay"
        );
        assert!(verify(secret, &HeaderMap::new(), body, now).is_err());
    }
}
