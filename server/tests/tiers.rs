//! Access tiers as roles: a contract partner (tier 2) exports every field; a requesting
//! government agency (tier 3) and an academic (tier 4) get only the five fields of
//! `admin::tiers::LIMITED_FIELDS`, in CSV or JSON Lines, never a signed format; the
//! agency at most 1,000 records an export, the academic any number. Roles are given with
//! `yinyom users add --role` and on the console's accounts page, and each role's pages
//! link to nothing it may not open. Runs on SQLite, and on PostgreSQL when
//! `YINYOM_TEST_DATABASE_URL` is set.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use serde_json::Value;
use std::io::Write as _;
use yinyom_server::{
    admin::auth,
    config::parse_time_ms,
    store::{Role, SearchFilter, rfc3339_ms},
};

/// The five fields, in the order the export writes them.
const FIELDS: [&str; 5] = ["issued_at", "event", "method", "notice_version", "lang"];

/// Letter number and purpose, as a query string part.
const LETTER: &str = "purpose=research&reference=%E0%B8%A8%E0%B8%98%200512%2F9";

/// An account of `role` on the demo site and an API token for it.
async fn account(c: &Console, email: &str, role: Role) -> String {
    let store = &c.app.state.store;
    let hash = auth::hash_password(PASSWORD).expect("hash");
    let id = store
        .create_user(email, &hash, role, &["demo".to_owned()])
        .await
        .expect("user");
    let token = format!("yy_test_{id}_{}", uuid());
    store
        .create_token(&auth::hash_secret(&token), "letters", id)
        .await
        .expect("token");
    token
}

/// 1,001 receipts on the demo site: one posted now, 1,000 on 1 October 2026; the
/// posted one's subject id.
async fn thousand_and_one(app: &TestApp) -> String {
    let store = &app.state.store;
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-tiers-000000", true, true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let all = SearchFilter {
        site: "demo".into(),
        ..Default::default()
    };
    let template = store
        .receipts_page(&all, None, 1)
        .await
        .expect("page")
        .pop()
        .expect("the posted receipt");
    let day = parse_time_ms("2026-10-01").expect("date");
    let seeded: Vec<_> = (0..1_000)
        .map(|i| {
            let mut r = template.clone();
            r.receipt.receipt_id = uuid();
            r.receipt.request_id = uuid();
            r.receipt.subject_id = format!("subject-tiers-{:06}", i + 1);
            r.receipt.previous = None;
            r.receipt.issued_at = rfc3339_ms(day + i * 1_000);
            r.issued_at_ms = day + i * 1_000;
            r
        })
        .collect();
    store.seed_receipts(&seeded).await.expect("seed");
    template.receipt.subject_id
}

/// The export `query` as `token`: its status and body.
async fn export(app: &TestApp, token: &str, query: &str) -> (StatusCode, String) {
    let res = get_as(app, token, &format!("/v1/admin/sites/demo/export?{query}")).await;
    (res.status(), body_text(res).await)
}

/// A five-field CSV: its header is the five columns, every row has five values and none
/// is a visitor's id; how many rows.
fn five_field_csv(csv: &str, subject: &str) -> usize {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().map(|h| h.trim_start_matches('\u{feff}')),
        Some(FIELDS.join(",").as_str())
    );
    let rows: Vec<&str> = lines.collect();
    for r in &rows {
        assert_eq!(r.split(',').count(), 5, "{r}");
        assert!(!r.contains("subject-tiers") && !r.contains(subject), "{r}");
    }
    rows.len()
}

/// Five-field JSON Lines: each object has exactly the five keys; how many lines.
fn five_field_jsonl(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    for l in &lines {
        let v: Value = serde_json::from_str(l).expect("json");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = FIELDS.to_vec();
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want, "{l}");
    }
    lines.len()
}

#[tokio::test]
async fn agencies_get_five_fields_capped_and_academics_five_fields_uncapped() {
    let c = console().await;
    let app = &c.app;
    let subject = thousand_and_one(app).await;
    let agency = account(&c, "records@agency.go.th", Role::Agency).await;
    let academic = account(&c, "lab@university.ac.th", Role::Academic).await;

    // The agency: over 1,000 refused; 1,000 released with the five fields only.
    let (status, body) = export(app, &agency, &format!("format=csv&{LETTER}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("release_over_cap"));
    let (status, csv) = export(
        app,
        &agency,
        &format!("format=csv&to=2026-10-02&{LETTER}&lang=en"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(five_field_csv(&csv, &subject), 1_000);
    let (status, jsonl) = export(
        app,
        &agency,
        &format!("format=jsonl&to=2026-10-02&{LETTER}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(five_field_jsonl(&jsonl), 1_000);
    assert!(
        !jsonl.contains("jws") && !jsonl.contains("subject"),
        "no signed original"
    );

    // The academic: the same five fields, every record.
    let (status, csv) = export(app, &academic, &format!("format=csv&{LETTER}&lang=en")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(five_field_csv(&csv, &subject), 1_001);
    let (status, jsonl) = export(app, &academic, &format!("format=jsonl&{LETTER}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(five_field_jsonl(&jsonl), 1_001);

    // Signed formats carry every field: refused, with the reason, through both doors.
    for token in [&agency, &academic] {
        for format in ["kantara", "iso27560"] {
            let (status, body) = export(app, token, &format!("format={format}&{LETTER}")).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{format}: {body}");
            assert!(
                body.contains("five fields only") && body.contains("ห้ารายการ"),
                "{body}"
            );
            let page = get_as(
                app,
                token,
                &format!("/admin/sites/demo/export?format={format}"),
            )
            .await;
            assert_eq!(page.status(), StatusCode::FORBIDDEN, "{format}");
        }
    }
    // A DPO's CSV of the same records keeps every column.
    let (status, full) = export(
        app,
        &c.dpo,
        &format!("format=csv&to=2026-10-02&{RELEASE}&lang=en"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let header = full.lines().next().expect("header");
    assert!(
        header.contains("subject_id") && header.contains("jws"),
        "{header}"
    );

    // The release log names each tier and what was released.
    let log = body_json(get_as(app, &c.auditor, "/v1/admin/releases").await).await;
    let tiers: Vec<(String, i64, i64)> = log
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap_or_default().to_owned(),
                r["tier"].as_i64().unwrap_or_default(),
                r["records"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        tiers,
        [
            ("dpo".to_owned(), 1, 1_000),
            ("academic".to_owned(), 4, 1_001),
            ("academic".to_owned(), 4, 1_001),
            ("agency".to_owned(), 3, 1_000),
            ("agency".to_owned(), 3, 1_000),
        ]
    );
    // The agency's console form tells it its fields.
    let form = body_text(get_as(app, &agency, "/admin/sites/demo/export?lang=en").await).await;
    assert!(
        form.contains("issued_at, event, method, notice_version, lang"),
        "{form}"
    );
}

/// `yinyom users add` with the password on standard input.
fn users_add(url: &str, email: &str, role: &str) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args([
            "--database-url",
            url,
            "users",
            "add",
            "--email",
            email,
            "--role",
            role,
            "--site",
            "demo",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run yinyom");
    writeln!(child.stdin.take().expect("stdin"), "{PASSWORD}").expect("password");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every console link on the session's home page opens (none answers 403 or 404); the
/// links.
async fn every_link_opens(app: &TestApp, s: &Session) -> Vec<String> {
    let html = body_text(s.open(app, "/admin?lang=en").await).await;
    let links: Vec<String> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .filter(|l| l.starts_with("/admin"))
        .map(|l| l.replace("&amp;", "&"))
        .collect();
    for l in &links {
        let status = s.open(app, l).await.status();
        assert!(status.is_success(), "{l}: {status}");
    }
    links
}

#[tokio::test]
async fn partner_and_academic_roles_from_the_cli_and_the_accounts_page() {
    let c = console().await;
    let app = &c.app;
    let url = database_url(app).await;
    users_add(&url, "partner@mou.co.th", "partner");
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-partner-0001", true, false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // A partner (tier 2): exports every field, any format, browses nothing.
    let partner = sign_in(app, "partner@mou.co.th").await;
    let links = every_link_opens(app, &partner).await;
    assert!(
        links.contains(&"/admin/sites/demo/export".to_owned()),
        "{links:?}"
    );
    assert!(
        !links
            .iter()
            .any(|l| l.ends_with("/receipts") || l.ends_with("/webhooks"))
    );
    let home = body_text(partner.open(app, "/admin?lang=en").await).await;
    assert!(home.contains("Contract or MOU partner"), "{home}");
    for uri in [
        "/admin/sites/demo/receipts",
        "/admin/sites/demo/webhooks",
        "/admin/accounts",
    ] {
        assert_eq!(
            partner.open(app, uri).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let res = partner
        .open(
            app,
            &format!("/admin/sites/demo/export?format=kantara&{LETTER}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let kantara: Value = serde_json::from_str(body_text(res).await.trim()).expect("kantara");
    assert_eq!(kantara["version"], "KI-CR-v1.1.0");
    let csv = body_text(
        partner
            .open(
                app,
                &format!("/admin/sites/demo/export?format=csv&{LETTER}&lang=en"),
            )
            .await,
    )
    .await;
    assert!(
        csv.lines().next().is_some_and(|h| h.contains("subject_id")),
        "{csv}"
    );
    let log = body_json(get_as(app, &c.dpo, "/v1/admin/releases").await).await;
    assert_eq!(
        (&log[0]["role"], &log[0]["tier"]),
        (&Value::from("partner"), &Value::from(2))
    );

    // The accounts page offers every role and changes one; the new role holds at the
    // next sign-in.
    let admin = sign_in(app, ADMIN).await;
    let page = body_text(admin.open(app, "/admin/accounts?lang=en").await).await;
    for role in ["partner", "agency", "academic", "auditor"] {
        assert!(
            page.contains(&format!("<option value=\"{role}\"")),
            "{role}"
        );
    }
    let res = admin
        .submit(
            app,
            "/admin/accounts/role",
            &[
                ("csrf", &admin.csrf),
                ("email", "partner@mou.co.th"),
                ("role", "academic"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        partner.open(app, "/admin").await.status(),
        StatusCode::SEE_OTHER,
        "the old session ended"
    );
    let academic = sign_in(app, "partner@mou.co.th").await;
    every_link_opens(app, &academic).await;
    let res = academic
        .open(
            app,
            &format!("/admin/sites/demo/export?format=kantara&{LETTER}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let csv = body_text(
        academic
            .open(
                app,
                &format!("/admin/sites/demo/export?format=csv&{LETTER}&lang=en"),
            )
            .await,
    )
    .await;
    assert_eq!(five_field_csv(&csv, "subject-partner-0001"), 1);
    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    assert!(
        audit
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e["action"] == "user.role" && e["detail"] == "partner@mou.co.th academic"),
        "{audit}"
    );
    // Every other role's pages link only to what it may open, too.
    for email in [ADMIN, DPO, AUDITOR] {
        every_link_opens(app, &sign_in(app, email).await).await;
    }
}
