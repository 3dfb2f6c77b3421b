//! `GET /v1/sites/{site}/yinyom.js`: the per-site loader.
//!
//! The loader (`widget/js/loader.js`) is small plain JavaScript. It carries the site's
//! current consent revision, validity, categories and Google Consent Mode map, so a
//! returning visitor whose consent is current costs this one request and no wasm. The
//! banner's texts are not in it (a returning visitor never sees them): the loader fetches
//! them with the banner module (`widget/js/banner.js`) for a visitor who must be asked,
//! from `notice?view=banner` ([`super::notice::BannerView`]), so a first visit needs no
//! wasm and no full notice.
//!
//! Served minified when `cargo xtask dist` wrote `dist/loader-<hash>.min.js` (terser) for
//! this very source (`<hash>` is [`loader_hash`]); otherwise stripped of comments and
//! indentation, so the server works (and its tests run) without a dist folder.

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
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};
use yinyom_model::{
    Lang,
    cookie::cookie_name,
    site::{GcmSignal, MinorsPolicy, Site},
};

const LOADER_SOURCE: &str = include_str!("../../../widget/js/loader.js");
const PLACEHOLDER: &str = "__YINYOM_CONFIG__";

/// The first 16 hex digits of the SHA-256 of the loader source: `cargo xtask dist` names
/// the minified loader after it, so a stale minified file is never served.
fn loader_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hex_digest(LOADER_SOURCE.as_bytes())[..16].to_owned())
}

/// The loader to serve: `dist/loader-<hash>.min.js` when present (read once per dist
/// folder), else the source without comments and indentation (a conservative minifier:
/// it only drops whole comment lines, blank lines and leading spaces).
fn loader_template(dist: &Path) -> Arc<str> {
    static STRIPPED: OnceLock<Arc<str>> = OnceLock::new();
    static MINIFIED: OnceLock<Mutex<HashMap<PathBuf, Option<Arc<str>>>>> = OnceLock::new();
    let minified = MINIFIED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(dist.to_owned())
        .or_insert_with(|| {
            let path = dist.join(format!("loader-{}.min.js", loader_hash()));
            std::fs::read_to_string(path)
                .ok()
                .filter(|s| s.contains(PLACEHOLDER))
                .map(Arc::from)
        })
        .clone();
    minified.unwrap_or_else(|| {
        STRIPPED
            .get_or_init(|| {
                LOADER_SOURCE
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        !l.is_empty()
                            && !l.starts_with("//")
                            && !l.starts_with("/*")
                            && !l.starts_with('*')
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into()
            })
            .clone()
    })
}

/// What the loader needs to know about the site.
#[derive(Debug, Serialize)]
struct LoaderConfig<'a> {
    site: &'a str,
    /// The site's consent cookie name (`yinyom_<site>`, [`cookie_name`]).
    cookie: String,
    rev: u32,
    days: u32,
    langs: &'a [Lang],
    cats: Vec<LoaderCategory<'a>>,
    js: String,
    wasm: String,
    build: &'a str,
    /// Minors mode (the age question): the widget draws the banner.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    minors: bool,
    /// The banner module (`widget/js/banner.js`), beside the widget.
    banner: String,
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
    let minors = n.minors == MinorsPolicy::AskAge;
    let config = LoaderConfig {
        site: site.id.as_str(),
        cookie: cookie_name(&site.id),
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
        minors,
        banner: format!("/assets/{}/yinyom_banner.js", widget.build),
    };
    let json = serde_json::to_string(&config).map_err(anyhow::Error::from)?;
    let body = loader_template(&state.settings.dist).replacen(PLACEHOLDER, &json, 1);
    let etag = format!("\"{}\"", &hex_digest(body.as_bytes())[..32]);
    let cache = [
        (
            header::CONTENT_TYPE,
            "text/javascript; charset=utf-8".to_owned(),
        ),
        (
            header::CACHE_CONTROL,
            format!(
                "public, max-age={}",
                crate::receipts::LOADER_MAX_AGE.as_secs()
            ),
        ),
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
