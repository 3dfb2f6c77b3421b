//! `GET /v1/sites/{site}/yinyom.js`: the per-site loader.
//!
//! The loader (`widget/js/loader.js`) is small plain JavaScript. It carries the site's
//! current consent revision, validity, categories and Google Consent Mode map, so a
//! returning visitor whose consent is current costs this one request and no wasm.

use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    Extension,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use yinyom_model::{Lang, site::GcmSignal, site::Site};

const LOADER_SOURCE: &str = include_str!("../../../widget/js/loader.js");
const PLACEHOLDER: &str = "__YINYOM_CONFIG__";

/// The loader source without comments and indentation (a conservative minifier: it only
/// drops whole comment lines, blank lines and leading spaces).
fn loader_template() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        LOADER_SOURCE
            .lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty() && !l.starts_with("//") && !l.starts_with("/*") && !l.starts_with('*')
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// What the loader needs to know about the site.
#[derive(Debug, Serialize)]
struct LoaderConfig<'a> {
    site: &'a str,
    rev: u32,
    days: u32,
    langs: &'a [Lang],
    cats: Vec<LoaderCategory<'a>>,
    js: String,
    wasm: String,
    build: &'a str,
}

#[derive(Debug, Serialize)]
struct LoaderCategory<'a> {
    id: &'a str,
    req: bool,
    gcm: &'a [GcmSignal],
    cookies: Vec<&'a str>,
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let widget = state.settings.widget.as_ref().ok_or_else(|| {
        ApiError::Unavailable("the widget is not built: run `cargo xtask dist`".into())
    })?;
    let published = state
        .store
        .current_notice(site.id.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site `{}` has no published notice", site.id)))?;
    let n = &published.notice;
    let config = LoaderConfig {
        site: site.id.as_str(),
        rev: n.consent_revision,
        days: n.consent_validity_days,
        langs: &n.languages,
        cats: n
            .categories
            .iter()
            .map(|c| LoaderCategory {
                id: c.id.as_str(),
                req: c.required,
                gcm: &c.gcm,
                cookies: c.cookies.iter().map(|k| k.name.as_str()).collect(),
            })
            .collect(),
        js: format!("/assets/{}", widget.js),
        wasm: format!("/assets/{}", widget.wasm),
        build: &widget.build,
    };
    let json = serde_json::to_string(&config).map_err(anyhow::Error::from)?;
    let body = loader_template().replacen(PLACEHOLDER, &json, 1);
    let etag = format!("\"{}\"", &hex_digest(body.as_bytes())[..32]);
    let cache = [
        (
            header::CONTENT_TYPE,
            "text/javascript; charset=utf-8".to_owned(),
        ),
        // Short: a new notice revision must reach returning visitors quickly.
        (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
        (header::ETAG, etag.clone()),
        (header::VARY, "Accept-Encoding".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok(super::packed::respond(
        &headers,
        &etag,
        cache,
        body.into_bytes(),
    ))
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
