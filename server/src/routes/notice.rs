//! The notice: `GET /v1/sites/{site}/notice` (current version, for the widget), its
//! public history, and the HTML page every receipt links to.

use crate::{
    error::{ApiError, ApiResult},
    render,
    state::AppState,
    store::VersionRow,
};
use axum::{
    Extension, Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use std::collections::HashMap;
use yinyom_model::{Lang, loader::BannerView, notice::PublishedNotice, site::Site};

/// Query of the current notice.
#[derive(Debug, Deserialize)]
pub(crate) struct NoticeQuery {
    /// `widget`: without the full Markdown text, which the widget does not show (it opens
    /// the notice page instead): most of the bytes of a first visit's notice. `banner`:
    /// only what the first layer shows ([`BannerView`], defined in the model).
    view: Option<String>,
}

pub(crate) async fn current(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Query(q): Query<NoticeQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut published = state
        .store
        .current_notice(site.id.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site `{}` has no published notice", site.id)))?;
    // The ETag is the notice's hash (and the view): a new version changes it.
    let (etag, body) = match q.view.as_deref() {
        None | Some("full") => (
            format!("\"{}\"", published.sha256),
            serde_json::to_vec(&published),
        ),
        Some("widget") => {
            published.notice.body = yinyom_model::Text::default();
            (
                format!("\"{}-w\"", published.sha256),
                serde_json::to_vec(&published),
            )
        }
        Some("banner") => (
            format!("\"{}-b\"", published.sha256),
            serde_json::to_vec(&BannerView::of(&published.notice)),
        ),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "view must be `full`, `widget` or `banner`, not `{other}`"
            )));
        }
    };
    let meta = [
        (header::CONTENT_TYPE, "application/json".to_owned()),
        (header::CACHE_CONTROL, "public, max-age=60".to_owned()),
        (header::ETAG, etag.clone()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, meta).into_response());
    }
    let body = body.map_err(anyhow::Error::from)?;
    Ok(super::packed::respond(&headers, &etag, meta, body))
}

/// `GET /v1/sites/{site}/notice/versions`: the public history, newest first.
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
) -> ApiResult<Json<Vec<VersionRow>>> {
    Ok(Json(state.store.notice_versions(site.id.as_str()).await?))
}

/// `GET /v1/sites/{site}/notice/versions/{version}`: any published version.
pub(crate) async fn version(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<PublishedNotice>> {
    Ok(Json(find_version(&state, &site, &params).await?))
}

async fn find_version(
    state: &AppState,
    site: &Site,
    params: &HashMap<String, String>,
) -> ApiResult<PublishedNotice> {
    let v = params
        .get("version")
        .map(String::as_str)
        .unwrap_or_default();
    state
        .store
        .notice_version(site.id.as_str(), v)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("site `{}` has no notice version `{v}`", site.id))
        })
}

/// Query of the notice page.
#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    lang: Option<String>,
}

/// `GET /sites/{site}/notice[/{version}]`: the notice as a readable, sanitized page (the
/// `policyUrl` of every receipt).
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let id = site.id.as_str();
    let (published, current) = if params.contains_key("version") {
        (find_version(&state, &site, &params).await?, false)
    } else {
        let p =
            state.store.current_notice(id).await?.ok_or_else(|| {
                ApiError::NotFound(format!("site `{id}` has no published notice"))
            })?;
        (p, true)
    };
    let lang = q
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .filter(|l| published.notice.languages.contains(l))
        .unwrap_or(Lang::Th);
    let versions = state.store.notice_versions(id).await?;
    let html = render::notice_page(&published, &versions, lang, current);
    // A replaced version never changes again; any other page may be replaced soon and must
    // then say so.
    let replaced = versions
        .first()
        .is_some_and(|v| v.version != published.notice.version);
    let cache = if !replaced {
        "public, max-age=60"
    } else {
        "public, max-age=86400"
    };
    Ok((
        [
            (header::CACHE_CONTROL, cache),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"),
        ],
        Html(html),
    )
        .into_response())
}
