//! yinyom-model: every type the Yinyom widget and server exchange, defined once.
//!
//! This crate does no I/O and builds for `wasm32-unknown-unknown`, so the widget and
//! the server parse the same JSON into the same types.
//!
//! # Layout
//! - [`id`]: validated identifiers (`Slug`) for sites, purposes and categories.
//! - [`text`]: languages and Thai-first localized text.
//! - [`site`]: the site file (`site.toml`) as written, and its validation into a
//!   [`site::Site`] and a [`notice::Notice`].
//!
//! Dependencies point one way: `site` → `notice` ← `receipt` (← `cookie`), all on `id`
//! and `text`; no cycle.
//! - [`notice`]: an immutable, published notice version: what the visitor is shown, and its
//!   parts (purposes, categories, cookies, parties, minors policy).
//! - [`receipt`]: the widget's receipt request, the rules it must meet against its notice
//!   version (`ReceiptRequest::check_against`), and the server's consent receipt.
//! - [`cookie`]: the consent cookie's format, read by the loader and written by the widget.
//! - [`loader`]: what the server tells the loader and the banner ([`loader::LoaderConfig`],
//!   [`loader::BannerView`]).
//! - [`words`]: the banner's fixed words, for the plain-JS banner and the widget alike.
//! - [`api`]: the JSON error body of the HTTP API.
//! - [`scan`]: a cookie scan's report (`yinyom scan --json`) and the rules that match
//!   what a browser saw against the declared cookie tables.
//! - `canonical` (feature `canonical`): RFC 8785 canonical JSON and SHA-256.

pub mod api;
#[cfg(feature = "canonical")]
pub mod canonical;
pub mod cookie;
pub mod id;
pub mod loader;
pub mod notice;
pub mod receipt;
pub mod request;
pub mod scan;
pub mod site;
pub mod text;
pub mod words;

pub use id::Slug;
pub use text::{Lang, Text};
