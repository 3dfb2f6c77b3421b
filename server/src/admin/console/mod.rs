//! The console's HTML pages, one module per page. Forms post with the session's CSRF
//! token; everything works without JavaScript. Pages of a site take the access extractor
//! they need ([`super::access`]); what a page does beyond showing it is in [`super::ops`],
//! shared with the JSON API.

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod cases;
pub(crate) mod evidence;
pub(crate) mod export;
pub(crate) mod home;
pub(crate) mod login;
pub(crate) mod notices;
pub(crate) mod paper;
pub(crate) mod publish;
pub(crate) mod receipt;
pub(crate) mod receipts;
pub(crate) mod releases;
pub(crate) mod stats;
pub(crate) mod verify;
pub(crate) mod webhooks;

use super::{auth::Principal, ui::PageError};
use axum::response::Response;
use serde::Deserialize;

/// What a console page answers: a page, or an error the error layer shows as a page.
pub(crate) type PageResult = Result<Response, PageError>;

/// The signed-in e-mail and CSRF token for the page frame's sign-out form.
pub(crate) fn signed_in(p: &Principal) -> Option<(&str, &str)> {
    Some((p.user.email.as_str(), p.csrf.as_deref().unwrap_or("")))
}

/// A form that only carries the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: Option<String>,
}
