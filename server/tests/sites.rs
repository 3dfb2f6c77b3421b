//! `yinyom sites import` against a real database: validation, publication, immutability.

mod common;

use common::{fixture, store};
use std::path::Path;
use yinyom_server::sites::{ImportError, Imported, import};

fn copy_fixture(to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        std::fs::copy(fixture().join(f), to.join(f)).expect("copy");
    }
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

/// Importing the same folder twice publishes one version; a changed text needs a new
/// version label; a new label becomes current; the revision can never go down.
#[tokio::test]
async fn publishes_only_changes_and_never_edits_a_version() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = store(tmp.path()).await;
    let site = tmp.path().join("site");
    copy_fixture(&site);

    let first = import(&store, &site).await.expect("first import");
    assert!(matches!(first, Imported::Published { ref version, .. } if version == "v1"));
    let again = import(&store, &site).await.expect("second import");
    assert!(matches!(again, Imported::Unchanged { ref version, .. } if version == "v1"));

    edit(&site, "notice.th.md", "เท่าที่จำเป็น", "เท่าที่จำเป็นเท่านั้น");
    let err = import(&store, &site)
        .await
        .expect_err("same label, new text");
    assert!(
        matches!(err, ImportError::Conflict(ref m) if m.contains("`v1` is already published")),
        "{err}"
    );
    let current = store
        .current_notice("demo")
        .await
        .expect("db")
        .expect("notice");
    assert!(
        !current.notice.body.th.contains("เท่านั้น"),
        "v1 must not change"
    );

    edit(&site, "site.toml", "version = \"v1\"", "version = \"v2\"");
    edit(
        &site,
        "site.toml",
        "consent_revision = 1",
        "consent_revision = 2",
    );
    let second = import(&store, &site).await.expect("v2");
    assert!(matches!(second, Imported::Published { ref version, .. } if version == "v2"));
    let current = store
        .current_notice("demo")
        .await
        .expect("db")
        .expect("notice");
    assert_eq!(current.notice.version, "v2");
    assert_eq!(current.notice.consent_revision, 2);
    let old = store
        .notice_version("demo", "v1")
        .await
        .expect("db")
        .expect("v1 kept");
    assert_eq!(old.notice.consent_revision, 1);

    edit(&site, "site.toml", "version = \"v2\"", "version = \"v3\"");
    edit(
        &site,
        "site.toml",
        "consent_revision = 2",
        "consent_revision = 1",
    );
    let err = import(&store, &site).await.expect_err("revision down");
    assert!(err.to_string().contains("can only stay or rise"), "{err}");
}

/// A broken site file names every problem (file and field) and writes nothing.
#[tokio::test]
async fn reports_every_problem_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = store(tmp.path()).await;
    let site = tmp.path().join("site");
    copy_fixture(&site);
    edit(
        &site,
        "site.toml",
        "https://www.demo.go.th",
        "www.demo.go.th/",
    );
    edit(
        &site,
        "site.toml",
        "effective_from = \"2025-01-01\"",
        "effective_from = \"2025-02-30\"",
    );
    edit(
        &site,
        "site.toml",
        "title = { th = \"คุกกี้สถิติ\", en = \"Analytics cookies\" }",
        "title = { th = \"คุกกี้สถิติ\" }",
    );
    std::fs::write(site.join("notice.en.md"), "  \n").expect("write");

    let err = import(&store, &site).await.expect_err("invalid");
    let text = err.to_string();
    for expected in [
        "site.toml: origins[0]",
        "site.toml: notice.effective_from",
        "site.toml: categories[1].title.en: is missing",
        "notice.en.md: the full notice text is missing",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(store.site("demo").await.expect("db").is_none());
    assert!(store.current_notice("demo").await.expect("db").is_none());

    std::fs::write(site.join("site.toml"), "id = \"demo\"\nnmae = 1\n").expect("write");
    let text = import(&store, &site).await.expect_err("typo").to_string();
    assert!(
        text.contains("site.toml") && text.contains("nmae"),
        "{text}"
    );
}

/// Links in a site file are web, mail or phone links only; bidirectional control
/// characters are refused in every text, the notice files included. Nothing is written.
#[tokio::test]
async fn refuses_unsafe_links_and_bidi_controls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = store(tmp.path()).await;
    let site = tmp.path().join("site");
    copy_fixture(&site);
    edit(
        &site,
        "site.toml",
        "phone = \"02 000 0000\"",
        "phone = \"02 000 0000\"\nurl = \"javascript:alert(document.domain)\"",
    );
    edit(
        &site,
        "site.toml",
        "email = \"dpo@demo.go.th\"",
        "email = \"dpo@demo.go.th\"\nurl = \"data:text/html,<script>alert(1)</script>\"",
    );
    // TOML escapes make the character as surely as typing it.
    edit(
        &site,
        "site.toml",
        "title = { th = \"เราใช้คุกกี้\"",
        "title = { th = \"เราใช้\\u202Eคุกกี้\"",
    );
    let notice = std::fs::read_to_string(site.join("notice.en.md")).expect("read");
    std::fs::write(
        site.join("notice.en.md"),
        format!("{notice}\n\u{2066}hidden\u{2069}\n"),
    )
    .expect("write");

    let text = import(&store, &site)
        .await
        .expect_err("invalid")
        .to_string();
    for expected in [
        "site.toml: controller.url: `javascript:alert(document.domain)` is not a link",
        "site.toml: dpo.url: `data:text/html",
        "site.toml: notice.title.th: contains a bidirectional control character (U+202E)",
        "notice.en.md: contains a bidirectional control character (U+2066)",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(store.site("demo").await.expect("db").is_none());

    copy_fixture(&site);
    edit(
        &site,
        "site.toml",
        "phone = \"02 000 0000\"",
        "phone = \"02 000 0000\"\nurl = \"https://www.demo.go.th/pdpa\"",
    );
    import(&store, &site).await.expect("https link accepted");
}

/// `yinyom sites import` has the console upload's size bound: a folder larger than
/// 512 KB is refused before it is parsed.
#[tokio::test]
async fn refuses_a_folder_larger_than_an_upload() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = store(tmp.path()).await;
    let site = tmp.path().join("site");
    copy_fixture(&site);
    let notice = std::fs::read_to_string(site.join("notice.th.md")).expect("read");
    let padding = "ข้อความ ".repeat(yinyom_server::sites::MAX_FOLDER_BYTES / 20);
    std::fs::write(site.join("notice.th.md"), format!("{notice}\n{padding}")).expect("write");

    let text = import(&store, &site)
        .await
        .expect_err("too large")
        .to_string();
    assert!(text.contains("at most 512 KB"), "{text}");
    assert!(store.site("demo").await.expect("db").is_none());
}
