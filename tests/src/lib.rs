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
use std::time::{Duration, Instant};

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

/// The text of `name` once Chromium has finished downloading it into `dir` (20 s at most).
///
/// Chromium reserves the name with an empty file, writes a `.crdownload` beside it and
/// renames that over the name when complete: wait for content and no partial file.
pub fn downloaded(dir: &Path, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let path = dir.join(name);
    loop {
        let partial = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"))
            })
            .unwrap_or(true);
        if !partial
            && let Ok(text) = std::fs::read_to_string(&path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{name} was not downloaded into {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
