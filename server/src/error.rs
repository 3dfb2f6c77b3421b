//! The API's error type: every failure a handler can meet, mapped to a status code and
//! the JSON body `{"error":{"code","message"}}`. Internal errors are logged and never
//! shown to clients.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use yinyom_model::api::{ErrorBody, ErrorDetail};

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Every error the HTTP API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 403: the page's origin is not registered for the site.
    #[error("origin `{0}` is not registered for this site")]
    ForeignOrigin(String),
    /// 403: the request failed a security check (e.g. a missing CSRF token).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such site.
    #[error("there is no site `{0}`")]
    UnknownSite(String),
    /// 404: the site exists but has nothing here.
    #[error("{0}")]
    NotFound(String),
    /// 409: the idempotency key was reused for a different choice.
    #[error("this visitor already used request_id `{0}` for a different choice")]
    RequestIdConflict(String),
    /// 409: a request case cannot take that step from where it stands.
    #[error("{0}")]
    CaseState(String),
    /// 415: the body is not JSON.
    #[error("send the receipt as JSON with `Content-Type: application/json` (got `{0}`)")]
    UnsupportedMediaType(String),
    /// 429: too many requests from this client.
    #[error("too many requests from this address: retry in {0} seconds")]
    TooManyRequests(u64),
    /// 413: the body is too large.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 422: well-formed but does not match the notice.
    #[error("{message}")]
    Unprocessable {
        /// Stable code, e.g. `invalid_decisions`.
        code: &'static str,
        /// What is wrong, naming the offending fields.
        message: String,
    },
    /// 503: a part the server needs is missing (e.g. the widget was not built).
    #[error("{0}")]
    Unavailable(String),
    /// 503 `store_unavailable` when the store cannot commit now (full, read-only,
    /// unreachable) or another process wrote the same thing at that moment (with
    /// `Retry-After`), else 500: a database failure.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// 500: anything else.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::ForeignOrigin(_) => (StatusCode::FORBIDDEN, "foreign_origin"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::UnknownSite(_) => (StatusCode::NOT_FOUND, "unknown_site"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::RequestIdConflict(_) => (StatusCode::CONFLICT, "request_id_conflict"),
            ApiError::CaseState(_) => (StatusCode::CONFLICT, "case_state"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Store(e)
                if e.unavailable().is_some()
                    || matches!(e, crate::store::StoreError::Contended(_)) =>
            {
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if code == "store_unavailable" {
            // The cause is logged where it was met (`health.rs`), once, not per request.
            "the consent store cannot save right now; nothing was recorded. The widget keeps the choice and sends it again later".to_owned()
        } else if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = ?self, "request failed");
            // Any request can end here (a console page as well as a receipt): the words
            // claim nothing about what the request was for.
            "something went wrong on the server; please retry, and if it persists tell the server's operator (the cause is in its log)"
                .to_owned()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        };
        let retry_after = match self {
            ApiError::TooManyRequests(secs) => Some(secs),
            _ if code == "store_unavailable" => Some(crate::health::RETRY_AFTER_SECS),
            _ => None,
        };
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// A receipt that lost a race with another process is answered like a store that
    /// cannot commit now: 503 with `Retry-After`, so the widget sends it again (its
    /// request id makes the retry safe). A damaged row stays a 500.
    #[test]
    fn a_lost_race_is_answered_503_with_retry_after() {
        let raced = ApiError::Store(StoreError::Contended("a visitor".into())).into_response();
        assert_eq!(raced.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            raced
                .headers()
                .contains_key(axum::http::header::RETRY_AFTER)
        );
        let broken = ApiError::Store(StoreError::Corrupt("a row".into())).into_response();
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !broken
                .headers()
                .contains_key(axum::http::header::RETRY_AFTER)
        );
    }
}
