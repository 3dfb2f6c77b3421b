//! Who is asking: console sessions (cookie + CSRF token) and API bearer tokens, per-site
//! roles, argon2id passwords and sign-in throttling; starting and ending a session (the
//! sign-in page itself is [`super::console::login`]).

use crate::{
    error::ApiError,
    state::AppState,
    store::{AuditAction, Claim, Role, Store, StoreError, UserRow, now_ms, throttle_delay_ms},
};
use argon2::{
    Argon2, PasswordHash, PasswordVerifier,
    password_hash::{PasswordHasher, SaltString},
};
use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// Name of the console session cookie.
pub const SESSION_COOKIE: &str = "yinyom_session";
/// Name of the sign-in form's CSRF cookie.
pub const LOGIN_COOKIE: &str = "yinyom_login";
/// How long a session lasts.
pub const SESSION_MS: i64 = 8 * 3600 * 1000;
/// The longest e-mail address accepted at sign-in, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Password checks running at once: each takes a core for tens of milliseconds, off the
/// async workers, so a burst of sign-ins cannot slow receipts or health checks.
const PASSWORD_CHECKS: usize = 2;
static ARGON2: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PASSWORD_CHECKS);

/// A signed-in person or an API token, with what they may see.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who, for the audit log: the e-mail, or `token:<name> (<e-mail>)`.
    pub actor: String,
    /// The account.
    pub user: UserRow,
    /// Sites of a dpo or auditor (an admin sees every site).
    pub sites: Vec<String>,
    /// The session's CSRF token (`None` for API tokens, which need none).
    pub csrf: Option<String>,
    /// The client address.
    pub client: String,
    /// SHA-256 of the session cookie or the token: what a pending upload belongs to.
    pub credential: String,
}

impl Principal {
    /// The role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Whether this principal may see anything of `site` (else: 404).
    pub fn can_see(&self, site: &str) -> bool {
        self.role() == Role::Admin || self.sites.iter().any(|s| s == site)
    }

    /// Whether this principal may browse record-level receipts of `site` (search, one
    /// receipt): the agency's staff.
    pub fn records(&self, site: &str) -> bool {
        self.can_see(site) && self.role().is_staff()
    }

    /// 403 unless a console form's CSRF token is the session's.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), ApiError> {
        if self.csrf_ok(given) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("missing or wrong CSRF token".into()))
        }
    }

    /// Checks a form's or header's CSRF token against the session's.
    pub fn csrf_ok(&self, given: Option<&str>) -> bool {
        match &self.csrf {
            None => true, // bearer tokens are not sent by browsers on their own
            Some(expected) => given.is_some_and(|g| same_secret(g, expected)),
        }
    }
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Why a request has no principal.
#[derive(Debug)]
pub enum Unauthenticated {
    /// A console page: go and sign in.
    Page,
    /// An API call: 401.
    Api,
    /// The database failed.
    Store(StoreError),
}

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        match self {
            Unauthenticated::Page => Redirect::to("/admin/login").into_response(),
            Unauthenticated::Api => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({"error": {"code": "unauthorized", "message": "sign in, or send Authorization: Bearer <token> (yinyom tokens create)"}})),
            )
                .into_response(),
            Unauthenticated::Store(e) => crate::error::ApiError::Store(e).into_response(),
        }
    }
}

/// SHA-256 hex of a secret (tokens and session ids are stored only hashed).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret (256 bits, base64url).
pub fn new_secret() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
    Ok(B64.encode(bytes))
}

/// An argon2id hash of `password`.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored argon2id hash (blocking: see [`check_password`]).
pub fn password_ok(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// [`password_ok`] on the blocking pool, at most [`PASSWORD_CHECKS`] at once.
pub async fn check_password(password: &str, hash: &str) -> bool {
    let Ok(_permit) = ARGON2.acquire().await else {
        return false; // never closed
    };
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || password_ok(&password, &hash))
        .await
        .unwrap_or(false)
}

/// The outcome of a sign-in attempt.
#[derive(Debug)]
pub enum SignIn {
    /// The password is right and the account enabled.
    Ok(UserRow),
    /// Wrong e-mail or password (or a disabled account).
    Wrong,
    /// Too many failed attempts from this address or for this account: retry in this
    /// many seconds. Nothing was checked or stored.
    Wait(u64),
}

/// The throttling keys of an e-mail and a client address.
pub fn throttle_keys(email: &str, client: &str) -> (String, String) {
    (format!("email:{email}"), format!("addr:{client}"))
}

/// Checks a sign-in: claims the attempt for the address and the account (atomically, in
/// the database, so every process shares the count), then verifies the password off the
/// async workers. Failures are audited; refused attempts write nothing. `email` is
/// normalised and bounded by the caller.
pub async fn sign_in(
    store: &Store,
    email: &str,
    password: &str,
    client: &str,
) -> Result<SignIn, StoreError> {
    let (by_email, by_addr) = throttle_keys(email, client);
    let mut attempts = 0;
    for key in [&by_addr, &by_email] {
        match store.claim_login_attempt(key).await? {
            Claim::Go(n) => attempts = attempts.max(n),
            Claim::Wait(ms) => {
                return Ok(SignIn::Wait(u64::try_from((ms + 999) / 1000).unwrap_or(1)));
            }
        }
    }
    let user = store.user_by_email(email).await?;
    let ok = match &user {
        Some(u) => check_password(password, &u.password_hash).await,
        None => {
            // Same work as a real check, so timing does not reveal which e-mails exist.
            check_password(
                password,
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )
            .await;
            false
        }
    };
    match user.filter(|_| ok) {
        Some(user) => {
            store.login_succeeded(&by_email, &by_addr).await?;
            store
                .audit(&user.email, AuditAction::Login, None, "", client)
                .await?;
            Ok(SignIn::Ok(user))
        }
        None => {
            store
                .audit(email, AuditAction::LoginFailed, None, "", client)
                .await?;
            let wait = throttle_delay_ms(attempts);
            if wait > 0 {
                let detail = format!("next attempt checked in {} s", wait / 1000);
                store
                    .audit(email, AuditAction::LoginThrottled, None, &detail, client)
                    .await?;
            }
            Ok(SignIn::Wrong)
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value with the console's attributes: `HttpOnly`, `SameSite=Strict`, and
/// `Secure` when the server is reached over HTTPS; `max_age_secs` 0 deletes the cookie.
pub fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_secs: i64,
    path: &str,
) -> String {
    Cookie::build((name.to_owned(), value.to_owned()))
        .path(path.to_owned())
        .max_age(time::Duration::seconds(max_age_secs))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.public_url.starts_with("https://"))
        .build()
        .to_string()
}

/// A fresh token for the sign-in form and the `Set-Cookie` value that carries it (the
/// form's post must send both: a page of another site cannot read the cookie).
pub fn login_token(state: &AppState) -> Result<(String, String), StoreError> {
    let token = new_secret()?;
    let cookie = set_cookie(state, LOGIN_COOKIE, &token, 1800, "/admin");
    Ok((token, cookie))
}

/// Whether the sign-in form's token is the one its cookie carries.
pub fn login_token_ok(headers: &HeaderMap, given: &str) -> bool {
    !given.is_empty() && cookie(headers, LOGIN_COOKIE).is_some_and(|c| same_secret(&c, given))
}

/// Starts a console session for `user` (stored hashed, with its CSRF token); returns the
/// `Set-Cookie` values: the session cookie, and the sign-in form's cookie cleared.
pub async fn start_session(state: &AppState, user: &UserRow) -> Result<[String; 2], StoreError> {
    let sid = new_secret()?;
    let csrf = new_secret()?;
    state
        .store
        .create_session(&hash_secret(&sid), user.id, &csrf, now_ms() + SESSION_MS)
        .await?;
    Ok([
        set_cookie(state, SESSION_COOKIE, &sid, SESSION_MS / 1000, "/"),
        set_cookie(state, LOGIN_COOKIE, "", 0, "/admin"),
    ])
}

/// Ends the request's console session (if it has one) and audits `logout`; returns the
/// `Set-Cookie` value that clears the session cookie.
pub async fn end_session(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
) -> Result<String, StoreError> {
    if let Some(sid) = cookie(headers, SESSION_COOKIE) {
        state.store.delete_session(&hash_secret(&sid)).await?;
    }
    state
        .store
        .audit(&p.actor, AuditAction::Logout, None, "", &p.client)
        .await?;
    Ok(set_cookie(state, SESSION_COOKIE, "", 0, "/"))
}

/// The bearer token of a request's `Authorization` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

async fn principal_of(state: &AppState, parts: &Parts) -> Result<Option<Principal>, StoreError> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    let client = state.client_ip(&parts.headers, peer).to_string();
    let store: &Store = &state.store;
    let bearer = bearer(&parts.headers);
    let (user, actor, csrf, credential) = if let Some(token) = bearer {
        let credential = hash_secret(token.trim());
        match store.token(&credential).await? {
            Some((user, name)) => {
                let actor = format!("token:{name} ({})", user.email);
                (user, actor, None, credential)
            }
            None => return Ok(None),
        }
    } else if let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) {
        let credential = hash_secret(&sid);
        match store.session(&credential).await? {
            Some((user, csrf)) => {
                let actor = user.email.clone();
                (user, actor, Some(csrf), credential)
            }
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let sites = store.user_sites(user.id).await?;
    Ok(Some(Principal {
        actor,
        user,
        sites,
        csrf,
        client,
        credential,
    }))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Unauthenticated;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/v1/");
        match principal_of(state, parts).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) if api => Err(Unauthenticated::Api),
            Ok(None) => Err(Unauthenticated::Page),
            Err(e) => Err(Unauthenticated::Store(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("รหัสผ่านยาวพอสมควร").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(password_ok("รหัสผ่านยาวพอสมควร", &h));
        assert!(!password_ok("wrong", &h));
        assert!(!password_ok("x", "not a hash"));
    }

    #[test]
    fn reads_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; yinyom_session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie(&h, "yinyom_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "nope"), None);
    }
}
