//! `GET /v1/sites/{site}/yinyom.js`: the per-site loader.
//!
//! The loader (`widget/js/loader.js`) is small plain JavaScript. It carries the site's
//! [`LoaderConfig`] (defined in the model: consent revision, validity, categories and
//! Google Consent Mode map, the cookie's name, where the widget and banner are), so a
//! returning visitor whose consent is current costs this one request and no wasm. The
//! banner's texts are not in it (a returning visitor never sees them): for a visitor who
//! must be asked the loader adds `GET /v1/sites/{site}/banner/{build}/{version}.js`
//! ([`banner`]), the banner script (`widget/js/banner.js`, a classic script so that it
//! reuses the loader's connection) with the site's [`yinyom_model::loader::BannerView`]
//! in it, so a first visit costs two requests in sequence on one connection, no wasm and
//! no full notice.
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
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};
use yinyom_model::{
    loader::{Assets, BannerView, LoaderConfig, banner_path},
    site::Site,
};

const LOADER_SOURCE: &str = include_str!("../../../widget/js/loader.js");
const PLACEHOLDER: &str = "__YINYOM_CONFIG__";
/// Where the banner's texts go in the built banner script.
const TEXTS: &str = "__YINYOM_TEXTS__";

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
    minified.unwrap_or_else(|| STRIPPED.get_or_init(|| strip(LOADER_SOURCE).into()).clone())
}

/// `source` without blank lines, indentation and whole-line comments: `//` lines and
/// `/* … */` blocks (JSDoc), but not a line whose code follows a comment (a JSDoc type
/// cast, `/** @type {T} */ (x)`).
fn strip(source: &str) -> String {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_comment(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_comment(line: &str) -> bool {
    if line.starts_with("//") || line.starts_with('*') {
        return true;
    }
    line.strip_prefix("/*").is_some_and(|rest| {
        rest.find("*/")
            .is_none_or(|end| rest[end + 2..].trim().is_empty())
    })
}

/// What the loader and the banner script are made from: the built widget (503 when there
/// is none) and the site's published notice (404 before the first publication).
async fn widget_and_notice<'a>(
    state: &'a AppState,
    site: &Site,
) -> ApiResult<(
    &'a crate::state::WidgetBuild,
    yinyom_model::notice::PublishedNotice,
)> {
    let widget = state.settings.widget.as_ref().ok_or_else(|| {
        ApiError::Unavailable("the widget is not built: run `cargo xtask dist`".into())
    })?;
    let published = state
        .store
        .current_notice(site.id.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site `{}` has no published notice", site.id)))?;
    Ok((widget, published))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (widget, published) = widget_and_notice(&state, &site).await?;
    let config = LoaderConfig::new(
        &site.id,
        &published.notice,
        Assets {
            build: &widget.build,
            widget_js: &widget.js,
            widget_wasm: &widget.wasm,
        },
    );
    let json = serde_json::to_string(&config).map_err(anyhow::Error::from)?;
    let body = loader_template(&state.settings.dist).replacen(PLACEHOLDER, &json, 1);
    Ok(javascript(
        &headers,
        body,
        format!(
            "public, max-age={}",
            crate::receipts::LOADER_MAX_AGE.as_secs()
        ),
    ))
}

/// `GET /v1/sites/{site}/banner/{build}/{version}.js`: the banner script of the current
/// widget build with the banner texts of the site's current notice version (a
/// [`BannerView`] in JSON) in place of `__YINYOM_TEXTS__`. Both parts never change under
/// this URL, so it is cached for good. Any other build or version (a loader cached before
/// a new notice was published or the widget rebuilt) is redirected to the current one: a
/// raised revision is never shown an old notice.
pub(crate) async fn banner(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (widget, published) = widget_and_notice(&state, &site).await?;
    let current = banner_path(site.id.as_str(), &widget.build, &published.notice.version);
    if uri.path() != current {
        return Ok((
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, current),
                (header::CACHE_CONTROL, "no-cache".to_owned()),
            ],
        )
            .into_response());
    }
    let code = banner_code(&state.settings.dist, &widget.build)
        .filter(|code| code.contains(TEXTS))
        .ok_or_else(|| {
            ApiError::Unavailable(
                "the widget's banner script is missing or outdated: run `cargo xtask dist`".into(),
            )
        })?;
    let texts =
        serde_json::to_string(&BannerView::of(&published.notice)).map_err(anyhow::Error::from)?;
    let body = code.replacen(TEXTS, &texts, 1);
    Ok(javascript(
        &headers,
        body,
        "public, max-age=31536000, immutable".to_owned(),
    ))
}

/// A script answered with its ETag (304 when the browser has it) and `cache_control`,
/// compressed as the request accepts ([`super::packed::respond`]).
fn javascript(headers: &HeaderMap, body: String, cache_control: String) -> Response {
    // 64 bits tell one version of a script from another; the loader's headers count
    // towards the returning visitor's 5 KB.
    let etag = format!("\"{}\"", &hex_digest(body.as_bytes())[..16]);
    let meta = [
        (
            header::CONTENT_TYPE,
            "text/javascript; charset=utf-8".to_owned(),
        ),
        (header::CACHE_CONTROL, cache_control),
        (header::ETAG, etag.clone()),
        (header::VARY, "Accept-Encoding".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, meta).into_response();
    }
    super::packed::respond(headers, &etag, meta, body.into_bytes())
}

/// The built banner script (`dist/assets/<build>/yinyom_banner.js`), read once per dist
/// folder and build; `None` when it is missing.
fn banner_code(dist: &Path, build: &str) -> Option<Arc<str>> {
    static CODE: OnceLock<Mutex<HashMap<PathBuf, Arc<str>>>> = OnceLock::new();
    let path = dist.join("assets").join(build).join("yinyom_banner.js");
    let mut cache = CODE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(code) = cache.get(&path) {
        return Some(code.clone());
    }
    let code: Arc<str> = std::fs::read_to_string(&path).ok()?.into();
    cache.insert(path, code.clone());
    Some(code)
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{LOADER_SOURCE, strip};

    /// Without a dist folder the loader is served stripped: comments go, code stays, even
    /// code after a JSDoc type cast at the start of a line.
    #[test]
    fn stripping_keeps_code_after_type_casts() {
        let s = strip(
            "// note\n/**\n * doc\n */\n  let a = 1;\n  /** @type {T} */ (b).c = 2;\n/** one line */\n",
        );
        assert_eq!(s, "let a = 1;\n/** @type {T} */ (b).c = 2;");
        let loader = strip(LOADER_SOURCE);
        for code in [
            r#"el(document.head, "script", { src: base + config.banner_js, nonce: script.nonce || "" });"#,
            "(import(base + config.widget_js))",
            "(f.parentNode).insertBefore(p, f);",
        ] {
            assert!(loader.contains(code), "{code}");
        }
        assert!(!loader.contains("@param"));
        assert!(loader.contains("__YINYOM_CONFIG__"));
    }
}
