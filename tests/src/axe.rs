//! axe-core, the accessibility checker (WCAG 2.1 A and AA rules), for the tests that check
//! the widget and the console. Installed from npm into `target/axe` on first use.

use crate::webdriver::Browser;
use serde_json::{Value, json};
use std::process::Command;

/// The axe-core release the tests use.
pub const VERSION: &str = "4.14.1";

/// axe.min.js, installed first if missing.
pub fn source() -> String {
    let dir = crate::root().join("target").join("axe");
    let file = dir.join("node_modules/axe-core/axe.min.js");
    if !file.is_file() {
        std::fs::create_dir_all(&dir).expect("target/axe");
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&dir)
            .arg(format!("axe-core@{VERSION}"))
            .status()
            .expect("npm is needed for the accessibility tests (Debian: apt-get install npm)");
        assert!(status.success(), "npm install axe-core@{VERSION} failed");
    }
    std::fs::read_to_string(&file).expect("axe.min.js")
}

/// Runs axe on what the JavaScript function body `target` returns (`return document;` for
/// the whole page) and returns the violations found, one string each (`[]` when none).
pub fn violations(browser: &Browser, source: &str, target: &str) -> Value {
    let loaded = browser
        .eval(
            "if (!window.axe) (0, eval)(arguments[0]); return !!window.axe;",
            json!([source]),
        )
        .expect("inject axe");
    assert_eq!(loaded, json!(true));
    let script = format!(
        "const done = arguments[arguments.length - 1]; const el = (function () {{ {target} }})(); \
         if (!el) return done('nothing to check'); \
         axe.run(el, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }}, resultTypes: ['violations'] }}) \
           .then(res => done(res.violations.map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.map(n => JSON.stringify(n.target) + ' ' + n.failureSummary).join(' | '))), \
                 e => done('axe failed: ' + e));"
    );
    browser.eval_async(&script, json!([])).expect("axe.run")
}
