//! Publishing a notice version from the console by uploading a site folder, on a real
//! database: step 1 checks the files with the CLI's code and shows the diff (or every
//! problem, writing nothing); step 2 publishes what the server kept, once, for the session
//! that uploaded it. Admins and the site's DPO only; CSRF on both steps; audited.

mod common;

use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use common::{console::*, *};
use yinyom_server::store::Store;

const BOUNDARY: &str = "----yinyom-test-boundary-7MA4YWxkTrZu0gW";

/// The value of the first hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> Option<String> {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(str::to_owned)
}

/// A multipart/form-data body: `(field, file name, content)`.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The three files of a site folder.
#[derive(Clone)]
struct Folder {
    toml: String,
    th: String,
    en: String,
}

impl Folder {
    fn fixture() -> Self {
        let read = |f: &str| std::fs::read_to_string(fixture().join(f)).expect("read fixture");
        Folder {
            toml: read("site.toml"),
            th: read("notice.th.md"),
            en: read("notice.en.md"),
        }
    }

    /// Version v2: revision 2, a new consent purpose, a new line in the Thai text, a new
    /// allowed origin.
    fn v2() -> Self {
        let mut f = Folder::fixture();
        f.toml = f
            .toml
            .replace("version = \"v1\"", "version = \"v2\"")
            .replace("consent_revision = 1", "consent_revision = 2")
            .replace(
                "\"http://localhost:8081\"]",
                "\"http://localhost:8081\", \"https://new.demo.go.th\"]",
            )
            + "\n[[purposes]]\nid = \"survey\"\nlegal_basis = \"consent\"\ntitle = { th = \"แบบสำรวจ\", en = \"Survey\" }\ndescription = { th = \"ถามความพึงพอใจ\", en = \"Asks how satisfied you are\" }\nretention = { th = \"1 ปี\", en = \"1 year\" }\n";
        f.th = f.th.replace(
            "เราเก็บข้อมูลเท่าที่จำเป็น\n",
            "เราเก็บข้อมูลเท่าที่จำเป็น\n\nบรรทัดใหม่ในฉบับที่สอง\n",
        );
        f
    }

    fn body(&self, csrf: Option<&str>) -> Vec<u8> {
        let mut parts: Vec<(&str, Option<&str>, &[u8])> = Vec::new();
        if let Some(c) = csrf {
            parts.push(("csrf", None, c.as_bytes()));
        }
        parts.push(("site_toml", Some("site.toml"), self.toml.as_bytes()));
        parts.push(("notice_th", Some("notice.th.md"), self.th.as_bytes()));
        parts.push(("notice_en", Some("notice.en.md"), self.en.as_bytes()));
        multipart(&parts)
    }
}

/// Step 1 as a browser sends it.
async fn upload(app: &TestApp, s: &Session, site: &str, body: Vec<u8>) -> Response<Body> {
    app.send(
        Request::post(format!("/admin/sites/{site}/notices/publish"))
            .header(header::COOKIE, &s.cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

/// Step 2 as a browser sends it.
async fn confirm(app: &TestApp, s: &Session, site: &str, pairs: &[(&str, &str)]) -> Response<Body> {
    s.submit(
        app,
        &format!("/admin/sites/{site}/notices/publish/confirm"),
        pairs,
    )
    .await
}

async fn versions(app: &TestApp, site: &str) -> Vec<String> {
    app.state
        .store
        .notice_versions(site)
        .await
        .expect("versions")
        .into_iter()
        .map(|v| v.version)
        .collect()
}

async fn pending_uploads(store: &Store) -> i64 {
    let sql = "select count(*) from pending_publications";
    match store {
        Store::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count")
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let res = app
        .send(
            Request::get("/v1/admin/audit")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    body_json(res).await.as_array().cloned().unwrap_or_default()
}

/// A DPO uploads v2: the confirmation page shows version, revision, that visitors will be
/// asked again, the new origin and the diff, and nothing is published yet; confirming
/// publishes it, audited; the same confirmation cannot publish twice.
#[tokio::test]
async fn upload_shows_the_diff_and_confirmation_publishes() {
    let c = console().await;
    let app = &c.app;
    let s = sign_in(app, DPO).await;

    let notices = body_text(s.open(app, "/admin/sites/demo/notices").await).await;
    assert!(notices.contains("href=\"/admin/sites/demo/notices/publish\""));
    let form = s.open(app, "/admin/sites/demo/notices/publish").await;
    assert_eq!(form.status(), StatusCode::OK);
    let form = body_text(form).await;
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains(&s.csrf));

    let res = upload(app, &s, "demo", Folder::v2().body(Some(&s.csrf))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_text(res).await;
    for expected in [
        "v1 → ",
        "<strong>v2</strong>",
        "1 → <strong>2</strong>",
        "ผู้เข้าชมทุกคนจะเห็นแบนเนอร์และถูกขอความยินยอมใหม่", // asked again
        "purpose survey",
        "consent_revision",
        "+ บรรทัดใหม่ในฉบับที่สอง",
        "https://new.demo.go.th", // the site's origins change too
        "/admin/sites/demo/notices/publish/confirm",
    ] {
        assert!(html.contains(expected), "no `{expected}` in:\n{html}");
    }
    // The notice text is shown as text, never as markup.
    assert!(html.contains("&lt;script&gt;alert") && !html.contains("<script>alert"));
    let id = hidden(&html, "upload").expect("the upload id in the confirmation form");
    assert_eq!(versions(app, "demo").await, ["v1"], "nothing published yet");
    assert_eq!(pending_uploads(&app.state.store).await, 1);

    // Another session (even the same person's, or an admin's) cannot confirm it.
    let admin = sign_in(app, ADMIN).await;
    let res = confirm(
        app,
        &admin,
        "demo",
        &[("csrf", &admin.csrf), ("upload", &id)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(versions(app, "demo").await, ["v1"]);

    let res = confirm(app, &s, "demo", &[("csrf", &s.csrf), ("upload", &id)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/admin/sites/demo/notices?published=v2"
    );
    assert_eq!(versions(app, "demo").await, ["v2", "v1"]);
    let site = app
        .state
        .store
        .site("demo")
        .await
        .expect("db")
        .expect("site");
    assert!(site.origins.iter().any(|o| o == "https://new.demo.go.th"));
    let after = body_text(
        s.open(app, "/admin/sites/demo/notices?published=v2&lang=en")
            .await,
    )
    .await;
    assert!(after.contains("Published version v2"), "{after}");
    // The message is only shown for the version that really is current.
    let fake = body_text(
        s.open(app, "/admin/sites/demo/notices?published=v9&lang=en")
            .await,
    )
    .await;
    assert!(!fake.contains("Published version"));

    let audit = audit_actions(app, &c.dpo).await;
    assert!(
        audit.iter().any(|r| r["action"] == "notice.publish"
            && r["site_id"] == "demo"
            && r["actor"] == "dpo@demo.go.th"
            && r["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("version=v2 consent_revision=2 sha256="))),
        "{audit:?}"
    );

    // Used once: confirming again publishes nothing more.
    let again = confirm(app, &s, "demo", &[("csrf", &s.csrf), ("upload", &id)]).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(versions(app, "demo").await, ["v2", "v1"]);
    assert_eq!(pending_uploads(&app.state.store).await, 0);
    assert_eq!(
        audit_actions(app, &c.dpo)
            .await
            .iter()
            .filter(|r| r["action"] == "notice.publish")
            .count(),
        1
    );
}

/// Broken files: every problem is listed (as the CLI names them), nothing is published or
/// kept, and no confirmation is offered. A folder of another site, a taken version label
/// and a lower revision are refused too; the current notice again is "nothing new".
#[tokio::test]
async fn invalid_uploads_list_every_problem_and_write_nothing() {
    let c = console().await;
    let app = &c.app;
    let s = sign_in(app, DPO).await;

    let mut bad = Folder::v2();
    bad.toml = bad
        .toml
        .replace("\"https://www.demo.go.th\"", "\"www.demo.go.th/\"")
        .replace(
            "effective_from = \"2025-01-01\"",
            "effective_from = \"2025-02-30\"",
        )
        .replace(
            "title = { th = \"คุกกี้สถิติ\", en = \"Analytics cookies\" }",
            "title = { th = \"คุกกี้สถิติ\" }",
        );
    bad.en = "  \n".into();
    let res = upload(app, &s, "demo", bad.body(Some(&s.csrf))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body_text(res).await;
    for expected in [
        "site.toml: origins[0]",
        "site.toml: notice.effective_from",
        "site.toml: categories[1].title.en: is missing",
        "notice.en.md: the full notice text is missing",
        "พบปัญหา 4 ข้อ",
    ] {
        assert!(html.contains(expected), "no `{expected}` in:\n{html}");
    }
    assert!(
        !html.contains("/notices/publish/confirm"),
        "no confirmation"
    );
    assert!(
        html.contains("enctype=\"multipart/form-data\""),
        "the form again"
    );

    // A TOML syntax error, as the CLI reports it.
    let mut typo = Folder::v2();
    typo.toml = "id = \"demo\"\nnmae = 1\n".into();
    let html = body_text(upload(app, &s, "demo", typo.body(Some(&s.csrf))).await).await;
    assert!(
        html.contains("site.toml") && html.contains("nmae"),
        "{html}"
    );

    // The folder of another site, uploaded on demo's page.
    let mut foreign = Folder::v2();
    foreign.toml = foreign.toml.replace("id = \"demo\"", "id = \"other\"");
    let res = upload(app, &s, "demo", foreign.body(Some(&s.csrf))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body_text(res).await;
    assert!(
        html.contains("id is &quot;other&quot;, but this page is for site demo"),
        "{html}"
    );

    // Not UTF-8, and a missing site.toml.
    let body = multipart(&[
        ("csrf", None, s.csrf.as_bytes()),
        ("site_toml", Some("site.toml"), b""),
        ("notice_th", Some("notice.th.md"), b"\xff\xfe\x00bad"),
        ("notice_en", Some("notice.en.md"), b"# Notice\n"),
    ]);
    let html = body_text(upload(app, &s, "demo", body).await).await;
    assert!(
        html.contains("site.toml: ไม่ได้เลือกไฟล์ / no file was chosen")
            && html.contains("notice.th.md: ไม่ใช่ไฟล์ข้อความ UTF-8 / is not UTF-8 text"),
        "{html}"
    );

    // Version v1 again with other content; a revision going down.
    let mut same_label = Folder::fixture();
    same_label.th.push_str("\nแก้ข้อความ\n");
    let html = body_text(upload(app, &s, "demo", same_label.body(Some(&s.csrf))).await).await;
    assert!(
        html.contains("`v1` is already published with different content"),
        "{html}"
    );
    let mut down = Folder::v2();
    down.toml = down
        .toml
        .replace("consent_revision = 2", "consent_revision = 0");
    let html = body_text(upload(app, &s, "demo", down.body(Some(&s.csrf))).await).await;
    assert!(html.contains("consent_revision"), "{html}");
    assert!(!html.contains("/notices/publish/confirm"));

    // The current notice itself: nothing new, no confirmation.
    let res = upload(app, &s, "demo", Folder::fixture().body(Some(&s.csrf))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_text(res).await;
    assert!(html.contains("ไม่มีอะไรใหม่ให้เผยแพร่") && !html.contains("/publish/confirm"));

    assert_eq!(versions(app, "demo").await, ["v1"]);
    assert_eq!(versions(app, "other").await, ["v1"]);
    assert_eq!(pending_uploads(&app.state.store).await, 0, "nothing kept");
    let site = app
        .state
        .store
        .site("demo")
        .await
        .expect("db")
        .expect("site");
    assert!(!site.origins.iter().any(|o| o.contains("new.demo")));
    assert!(
        !audit_actions(app, &c.admin)
            .await
            .iter()
            .any(|r| r["action"] == "notice.publish")
    );
}

/// Auditors and DPOs of other sites get 404 on both steps (pages and API) and see no
/// publish link; an admin may publish on any site.
#[tokio::test]
async fn only_admins_and_the_sites_dpo_may_publish() {
    let c = console().await;
    let app = &c.app;
    let dpo = sign_in(app, DPO).await;
    let res = upload(app, &dpo, "demo", Folder::v2().body(Some(&dpo.csrf))).await;
    let id = hidden(&body_text(res).await, "upload").expect("upload id");

    for email in ["auditor@demo.go.th", "dpo@other.go.th"] {
        let s = sign_in(app, email).await;
        let form = s.open(app, "/admin/sites/demo/notices/publish").await;
        assert_eq!(form.status(), StatusCode::NOT_FOUND, "{email}: form");
        let res = upload(app, &s, "demo", Folder::v2().body(Some(&s.csrf))).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{email}: upload");
        let res = confirm(app, &s, "demo", &[("csrf", &s.csrf), ("upload", &id)]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{email}: confirm");
    }
    let auditor = sign_in(app, AUDITOR).await;
    let notices = body_text(auditor.open(app, "/admin/sites/demo/notices").await).await;
    assert!(
        !notices.contains("/notices/publish"),
        "no publish link for an auditor"
    );

    for token in [&c.auditor, &c.other_dpo] {
        let res = app
            .send(
                Request::post("/v1/admin/sites/demo/notices")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    )
                    .body(Body::from(Folder::v2().body(None)))
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(versions(app, "demo").await, ["v1"]);

    // An admin may publish on other (its folder, on its page).
    let admin = sign_in(app, ADMIN).await;
    let mut f = Folder::v2();
    f.toml = f.toml.replace("id = \"demo\"", "id = \"other\"");
    let html = body_text(upload(app, &admin, "other", f.body(Some(&admin.csrf))).await).await;
    let id = hidden(&html, "upload").expect("upload id");
    let res = confirm(
        app,
        &admin,
        "other",
        &[("csrf", &admin.csrf), ("upload", &id)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(versions(app, "other").await, ["v2", "v1"]);
}

/// Both steps refuse a request without the session's CSRF token, and publish nothing.
#[tokio::test]
async fn both_steps_need_the_csrf_token() {
    let c = console().await;
    let app = &c.app;
    let s = sign_in(app, DPO).await;
    let res = upload(app, &s, "demo", Folder::v2().body(None)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = upload(app, &s, "demo", Folder::v2().body(Some("wrong"))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(pending_uploads(&app.state.store).await, 0);

    let html = body_text(upload(app, &s, "demo", Folder::v2().body(Some(&s.csrf))).await).await;
    let id = hidden(&html, "upload").expect("upload id");
    let res = confirm(app, &s, "demo", &[("upload", &id)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = confirm(app, &s, "demo", &[("csrf", "wrong"), ("upload", &id)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(versions(app, "demo").await, ["v1"]);

    // The JSON API with the console session needs the x-csrf-token header.
    let res = app
        .send(
            Request::post("/v1/admin/sites/demo/notices")
                .header(header::COOKIE, &s.cookie)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(Folder::v2().body(None)))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(versions(app, "demo").await, ["v1"]);

    // The upload is still there for the right token.
    let res = confirm(app, &s, "demo", &[("csrf", &s.csrf), ("upload", &id)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// More than 512 KB in all is refused with 413, and nothing is kept.
#[tokio::test]
async fn oversized_uploads_are_refused() {
    let c = console().await;
    let app = &c.app;
    let s = sign_in(app, DPO).await;
    let mut big = Folder::v2();
    big.th.push_str(&"ก".repeat(200_000)); // 600 KB of UTF-8
    let res = upload(app, &s, "demo", big.body(Some(&s.csrf))).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(pending_uploads(&app.state.store).await, 0);
    assert_eq!(versions(app, "demo").await, ["v1"]);
}

/// The JSON API: a dry run says what would change and publishes nothing; without it the
/// version is published (201) and audited; problems are a 422 naming them.
#[tokio::test]
async fn the_api_dry_runs_and_publishes() {
    let c = console().await;
    let app = &c.app;
    let post = |uri: &str, body: Vec<u8>| {
        Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", c.dpo))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .expect("request")
    };
    let dry = app
        .send(post(
            "/v1/admin/sites/demo/notices?dry_run=true",
            Folder::v2().body(None),
        ))
        .await;
    assert_eq!(dry.status(), StatusCode::OK);
    let dry = body_json(dry).await;
    assert_eq!(dry["published"], false);
    assert_eq!(dry["version"], "v2");
    assert_eq!(dry["current_version"], "v1");
    assert_eq!(dry["asks_again"], true);
    assert!(
        dry["diff"]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|x| x["what"] == "purpose survey" && x["how"] == "added"),
        "{dry}"
    );
    assert_eq!(versions(app, "demo").await, ["v1"]);

    let mut bad = Folder::v2();
    bad.en = String::new();
    let res = app
        .send(post("/v1/admin/sites/demo/notices", bad.body(None)))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = body_json(res).await;
    assert_eq!(err["error"]["code"], "invalid_site_folder");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("notice.en.md")),
        "{err}"
    );

    let res = app
        .send(post(
            "/v1/admin/sites/demo/notices",
            Folder::v2().body(None),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let done = body_json(res).await;
    assert_eq!(done["published"], true);
    assert_eq!(done["version"], "v2");
    assert_eq!(versions(app, "demo").await, ["v2", "v1"]);
    assert!(audit_actions(app, &c.admin).await.iter().any(|r| {
        r["action"] == "notice.publish"
            && r["actor"]
                .as_str()
                .is_some_and(|a| a.contains("dpo@demo.go.th"))
    }));
    let again = body_json(
        app.send(post(
            "/v1/admin/sites/demo/notices",
            Folder::v2().body(None),
        ))
        .await,
    )
    .await;
    assert_eq!(again["published"], false);
}
