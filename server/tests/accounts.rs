//! Accounts and tokens have a lifecycle: `yinyom users …` and `yinyom tokens …`, tokens
//! that expire, the admins' accounts page; a disabled account's sessions and tokens stop
//! working at once; every action is audited.

mod common;

use axum::http::{StatusCode, header};
use common::{console::*, *};
use yinyom_server::{admin::auth, store::now_ms};

fn yinyom(url: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", url])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run yinyom");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn status_as(app: &TestApp, token: &str) -> StatusCode {
    get_as(app, token, "/v1/admin/sites").await.status()
}

async fn actions(c: &Console) -> Vec<(String, String)> {
    let audit = body_json(get_as(&c.app, &c.admin, "/v1/admin/audit").await).await;
    audit
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or("").to_owned(),
                r["detail"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_cli_manages_accounts_and_tokens() {
    let c = console().await;
    let app = &c.app;
    let url = database_url(app).await;

    let (ok, out, _) = yinyom(&url, &["users", "list"], None);
    assert!(ok);
    assert!(out.contains("dpo@demo.go.th  dpo  demo  enabled"), "{out}");

    // A token that expires, shown once; it works, is listed, and is revoked at once.
    let (ok, token, err) = yinyom(
        &url,
        &[
            "tokens",
            "create",
            "--email",
            "dpo@demo.go.th",
            "--name",
            "report",
            "--expires-in-days",
            "7",
        ],
        None,
    );
    assert!(ok, "{err}");
    let token = token.trim().to_owned();
    assert_eq!(status_as(app, &token).await, StatusCode::OK);
    let (_, list, _) = yinyom(&url, &["tokens", "list"], None);
    let id = auth::hash_secret(&token)[..12].to_owned();
    let line = list
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} in {list}"));
    assert!(
        line.contains("report  dpo@demo.go.th") && line.contains("until"),
        "{line}"
    );
    assert!(!list.contains(&token), "never the token itself");
    let (ok, _, err) = yinyom(&url, &["tokens", "revoke", &id], None);
    assert!(ok, "{err}");
    assert_eq!(status_as(app, &token).await, StatusCode::UNAUTHORIZED);
    let (ok, _, _) = yinyom(&url, &["tokens", "revoke", &id], None);
    assert!(!ok, "revoked once");

    // Disabling ends the sessions and stops the tokens at once; enabling restores the
    // tokens (the sessions are gone).
    let (cookie, _) = session(app, "dpo@demo.go.th", PASSWORD, "192.0.2.9")
        .await
        .expect("signed in");
    assert_eq!(
        get_with(app, &cookie, "/admin").await.status(),
        StatusCode::OK
    );
    let (ok, _, err) = yinyom(
        &url,
        &["users", "disable", "--email", "dpo@demo.go.th"],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(status_as(app, &c.dpo).await, StatusCode::UNAUTHORIZED);
    let page = get_with(app, &cookie, "/admin").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/admin/login");
    assert_eq!(
        session(app, "dpo@demo.go.th", PASSWORD, "192.0.2.9").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let (_, out, _) = yinyom(&url, &["users", "list"], None);
    assert!(out.contains("dpo@demo.go.th  dpo  demo  disabled"), "{out}");
    let (ok, _, _) = yinyom(
        &url,
        &["users", "enable", "--email", "dpo@demo.go.th"],
        None,
    );
    assert!(ok);
    assert_eq!(status_as(app, &c.dpo).await, StatusCode::OK);
    assert_eq!(
        get_with(app, &cookie, "/admin").await.status(),
        StatusCode::SEE_OTHER,
        "the old session stays ended"
    );

    // A new password: the old one no longer works, the new one does.
    let (ok, _, err) = yinyom(
        &url,
        &["users", "passwd", "--email", "dpo@demo.go.th"],
        Some("a brand new long password\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(
        session(app, "dpo@demo.go.th", PASSWORD, "192.0.2.10").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert!(
        session(
            app,
            "dpo@demo.go.th",
            "a brand new long password",
            "192.0.2.11"
        )
        .await
        .is_ok()
    );
    let (ok, _, _) = yinyom(
        &url,
        &["users", "disable", "--email", "nobody@x.go.th"],
        None,
    );
    assert!(!ok);

    let done = actions(&c).await;
    for action in [
        "token.create",
        "token.revoke",
        "user.disable",
        "user.enable",
        "user.passwd",
    ] {
        assert!(
            done.iter().any(|(a, _)| a == action),
            "{action} in {done:?}"
        );
    }
}

#[tokio::test]
async fn expired_tokens_stop_working() {
    let c = console().await;
    let store = &c.app.state.store;
    let user = store
        .user_by_email("dpo@demo.go.th")
        .await
        .expect("store")
        .expect("user");
    let (past, future) = ("yy_expired_token_test_1", "yy_current_token_test_2");
    store
        .create_token_expiring(&auth::hash_secret(past), "old", user.id, Some(now_ms() - 1))
        .await
        .expect("token");
    store
        .create_token_expiring(
            &auth::hash_secret(future),
            "new",
            user.id,
            Some(now_ms() + 60_000),
        )
        .await
        .expect("token");
    assert_eq!(status_as(&c.app, past).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_as(&c.app, future).await, StatusCode::OK);
}

/// The accounts page is the admins'; its buttons are CSRF-protected forms; what they do
/// takes effect at once and is audited under the admin's name.
#[tokio::test]
async fn the_accounts_page_disables_enables_and_revokes() {
    let c = console().await;
    let app = &c.app;
    assert_eq!(
        get_as(app, &c.dpo, "/admin/accounts").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_as(app, &c.auditor, "/admin/accounts").await.status(),
        StatusCode::NOT_FOUND
    );

    let (cookie, csrf) = session(app, "admin@x.go.th", PASSWORD, "192.0.2.20")
        .await
        .expect("admin signed in");
    let page = get_with(app, &cookie, "/admin/accounts").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = body_text(page).await;
    let dpo_token = auth::hash_secret(&c.dpo)[..12].to_owned();
    assert!(
        html.contains("dpo@other.go.th") && html.contains(&dpo_token),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("action=\"/admin/accounts/disable\""),
        "{html}"
    );

    // Without the form's token nothing happens.
    let res = post_form(
        app,
        &cookie,
        "/admin/accounts/disable",
        &[("email", "dpo@other.go.th")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_as(app, &c.other_dpo).await, StatusCode::OK);
    // A DPO's session cannot use the admin's form.
    let (dpo_cookie, dpo_csrf) = session(app, "dpo@demo.go.th", PASSWORD, "192.0.2.21")
        .await
        .expect("dpo signed in");
    let res = post_form(
        app,
        &dpo_cookie,
        "/admin/accounts/disable",
        &[("csrf", &dpo_csrf), ("email", "dpo@other.go.th")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = post_form(
        app,
        &cookie,
        "/admin/accounts/disable",
        &[("csrf", &csrf), ("email", "dpo@other.go.th")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_as(app, &c.other_dpo).await, StatusCode::UNAUTHORIZED);
    let res = post_form(
        app,
        &cookie,
        "/admin/accounts/enable",
        &[("csrf", &csrf), ("email", "dpo@other.go.th")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_as(app, &c.other_dpo).await, StatusCode::OK);

    // Revoking the DPO's token; the DPO's own session keeps working.
    let res = post_form(
        app,
        &cookie,
        "/admin/tokens/revoke",
        &[("csrf", &csrf), ("id", &dpo_token)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_as(app, &c.dpo).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_with(app, &dpo_cookie, "/admin").await.status(),
        StatusCode::OK
    );
    // An admin cannot disable their own account from the page.
    let res = post_form(
        app,
        &cookie,
        "/admin/accounts/disable",
        &[("csrf", &csrf), ("email", "admin@x.go.th")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    let by_admin: Vec<&str> = audit
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["actor"] == "admin@x.go.th")
        .filter_map(|r| r["action"].as_str())
        .collect();
    for action in ["user.disable", "user.enable", "token.revoke"] {
        assert!(by_admin.contains(&action), "{action} in {by_admin:?}");
    }
}
