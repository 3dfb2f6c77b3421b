//! The console fixture shared by the console's tests (admin.rs, publish.rs, accounts.rs,
//! hardening.rs): two sites (demo, other), one account per role with an API token each,
//! signing in through the form as a browser does, and small HTTP form helpers.

use super::*;
use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use yinyom_server::{admin::auth, store::Role};

pub const PASSWORD: &str = "รหัสผ่านที่ยาวพอ-2568";

/// The fixture's accounts: an admin of every site, the demo site's DPO and auditor, and
/// the DPO of the other site.
pub const ADMIN: &str = "admin@x.go.th";
pub const DPO: &str = "dpo@demo.go.th";
pub const AUDITOR: &str = "auditor@demo.go.th";
pub const OTHER_DPO: &str = "dpo@other.go.th";

/// The stated purpose and reference a record-level export needs (its query string part).
pub const RELEASE: &str = "purpose=test&reference=TEST-0001";

/// The hidden fields of the console's export form (the filters and format it carries),
/// as a query string, HTML entities decoded (the page frame's sign-out `csrf` left out).
pub fn hidden_fields(html: &str) -> String {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split('"').next()?;
            (name != "csrf").then(|| format!("{name}={}", urlencode(&unescape(value))))
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub struct Console {
    pub app: TestApp,
    pub admin: String,
    pub dpo: String,
    pub auditor: String,
    pub other_dpo: String,
}

/// Two sites (demo, other), one account per role, an API token each.
pub async fn console() -> Console {
    let app = app().await;
    let store = &app.state.store;
    let other = app.dir.path().join("other");
    std::fs::create_dir_all(&other).expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        let text = std::fs::read_to_string(fixture().join(f)).expect("read");
        std::fs::write(
            other.join(f),
            text.replace("id = \"demo\"", "id = \"other\""),
        )
        .expect("write");
    }
    yinyom_server::sites::import(store, &other)
        .await
        .expect("import other");
    let hash = auth::hash_password(PASSWORD).expect("hash");
    let mut tokens = Vec::new();
    for (email, role, sites) in [
        (ADMIN, Role::Admin, vec![]),
        (DPO, Role::Dpo, vec!["demo".to_owned()]),
        (AUDITOR, Role::Auditor, vec!["demo".to_owned()]),
        (OTHER_DPO, Role::Dpo, vec!["other".to_owned()]),
    ] {
        let id = store
            .create_user(email, &hash, role, &sites)
            .await
            .expect("user");
        let token = format!("yy_test_{id}_{}", uuid());
        store
            .create_token(&auth::hash_secret(&token), "test", id)
            .await
            .expect("token");
        tokens.push(token);
    }
    Console {
        admin: tokens[0].clone(),
        dpo: tokens[1].clone(),
        auditor: tokens[2].clone(),
        other_dpo: tokens[3].clone(),
        app,
    }
}

pub async fn get_as(app: &TestApp, token: &str, uri: &str) -> Response<Body> {
    app.send(
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

pub fn cookie_value(res: &Response<Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A signed-in console session: its cookie header (`name=value`) and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// Opens the console page `uri` in this session.
    pub async fn open(&self, app: &TestApp, uri: &str) -> Response<Body> {
        get_with(app, &self.cookie, uri).await
    }

    /// Sends the form `pairs` to `uri` in this session (add the CSRF token to `pairs`).
    pub async fn submit(&self, app: &TestApp, uri: &str, pairs: &[(&str, &str)]) -> Response<Body> {
        post_form(app, &self.cookie, uri, pairs).await
    }
}

/// Signs in as `email` (one of the fixture's accounts, with [`PASSWORD`]) through the
/// form, as a browser does.
pub async fn sign_in(app: &TestApp, email: &str) -> Session {
    session(app, email, PASSWORD, "198.51.100.1")
        .await
        .map(|(cookie, csrf)| Session { cookie, csrf })
        .unwrap_or_else(|status| panic!("sign-in of {email}: {status}"))
}

/// Signs in through the console's form from `address`; the session cookie (`name=value`)
/// and its CSRF token, or the status of the refusal. The session cookie is `HttpOnly` and
/// `SameSite=Strict`.
pub async fn session(
    app: &TestApp,
    email: &str,
    password: &str,
    address: &str,
) -> Result<(String, String), StatusCode> {
    let page = app.get("/admin/login").await;
    let login = cookie_value(&page, auth::LOGIN_COOKIE).expect("login cookie");
    let res = app
        .send(
            Request::post("/admin/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("{}={login}", auth::LOGIN_COOKIE))
                .header("x-forwarded-for", address)
                .body(Body::from(form(&[
                    ("email", email),
                    ("password", password),
                    ("csrf", &login),
                ])))
                .expect("request"),
        )
        .await;
    if res.status() != StatusCode::SEE_OTHER {
        return Err(res.status());
    }
    let set = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{}=", auth::SESSION_COOKIE)))
        .expect("session cookie")
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = format!(
        "{}={}",
        auth::SESSION_COOKIE,
        cookie_value(&res, auth::SESSION_COOKIE).expect("session cookie")
    );
    let html = super::body_text(get_with(app, &cookie, "/admin").await).await;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf in the sign-out form")
        .to_owned();
    Ok((cookie, csrf))
}

/// A request with the session cookie.
pub async fn get_with(app: &TestApp, cookie: &str, uri: &str) -> Response<Body> {
    app.send(
        Request::get(uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

/// A form post with the session cookie.
pub async fn post_form(
    app: &TestApp,
    cookie: &str,
    uri: &str,
    pairs: &[(&str, &str)],
) -> Response<Body> {
    app.send(
        Request::post(uri)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(pairs)))
            .expect("request"),
    )
    .await
}
