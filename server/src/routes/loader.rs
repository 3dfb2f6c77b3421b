//! `GET /v1/sites/{site}/yinyom.js`: the per-site loader.
//!
//! The loader (`widget/js/loader.js`) is small plain JavaScript. It carries the site's
//! [`LoaderConfig`] (defined in the model: consent revision, validity, categories and
//! Google Consent Mode map, the cookie's name, where the widget and banner are), so a
//! returning visitor whose consent is current costs this one request and no wasm. The
//! banner's texts are not in it (a returning visitor never sees them): the loader fetches
//! them with the banner module (`widget/js/banner.js`) for a visitor who must be asked,
//! from `notice?view=banner` ([`yinyom_model::loader::BannerView`]), so a first visit needs no
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
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};
use yinyom_model::{
    loader::{Assets, LoaderConfig},
    site::Site,
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
            "(import(base + config.banner_js)),",
            "(import(base + config.widget_js))",
            "(f.parentNode).insertBefore(p, f);",
        ] {
            assert!(loader.contains(code), "{code}");
        }
        assert!(!loader.contains("@param"));
        assert!(loader.contains("__YINYOM_CONFIG__"));
    }
}
