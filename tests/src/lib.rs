//! yinyom-e2e: helpers for the end-to-end tests in `tests/`: a real `yinyom serve`
//! (in-process, on a fresh SQLite file, serving the example pages on a second origin) and
//! a small WebDriver client for Debian's Chromium.
//!
//! Run through `cargo xtask test`, which builds the widget (`dist/`) and installs
//! Chromium first; the tests fail with that instruction when either is missing.

pub mod axe;
pub mod console;
pub mod page;
pub mod server;
pub mod webdriver;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The site file of the example in `examples/<dir>`.
pub fn example_site(dir: &str) -> yinyom_model::site::SiteFile {
    let path = root().join("examples").join(dir).join("site.toml");
    let text = std::fs::read_to_string(&path).expect("site.toml");
    toml::from_str(&text).expect("a valid site file")
}
