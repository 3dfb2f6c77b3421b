//! The sign-in page (`/admin/login`) and signing out. The rules (throttling, passwords,
//! sessions, cookies) are in [`crate::admin::auth`].

use super::{CsrfForm, PageResult};
use crate::{
    admin::{
        auth::{self, Principal},
        ui::{UiLang, page, respond, t},
    },
    state::AppState,
};
use axum::{
    Form,
    extract::{ConnectInfo, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect},
};
use maud::html;
use serde::Deserialize;
use std::net::SocketAddr;
use yinyom_model::Lang;

/// `GET /admin/login`
pub(crate) async fn login_form(State(state): State<AppState>, UiLang(lang): UiLang) -> PageResult {
    login_page(&state, lang, StatusCode::OK, "", None)
}

/// The sign-in page, with `email` filled in and `error` above the form; a fresh form
/// token each time.
fn login_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    email: &str,
    error: Option<String>,
) -> PageResult {
    let (token, cookie) = auth::login_token(state)?;
    let body = html! {
        @if let Some(e) = &error {
            p.bad role="alert" { (e) }
        }
        form method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(token);
            p {
                label for="email" { (t(lang, "อีเมล", "E-mail")) }
                input id="email" name="email" type="email" autocomplete="username" required
                    maxlength=(auth::MAX_EMAIL_BYTES) value=(email);
            }
            p {
                label for="password" { (t(lang, "รหัสผ่าน", "Password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required
                    maxlength=(auth::MAX_PASSWORD_BYTES);
            }
            button type="submit" { (t(lang, "เข้าสู่ระบบ", "Sign in")) }
        }
    };
    let title = if error.is_some() {
        t(lang, "เข้าสู่ระบบไม่สำเร็จ", "Sign-in failed")
    } else {
        t(lang, "เข้าสู่ระบบ", "Sign in")
    };
    let mut res = respond(lang, page(lang, title, None, body));
    *res.status_mut() = status;
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Size of a sign-in form's body: the two fields at their limits, percent-encoded.
pub(crate) const LOGIN_BODY_LIMIT: usize =
    3 * (auth::MAX_EMAIL_BYTES + auth::MAX_PASSWORD_BYTES) + 256;

/// `POST /admin/login`: checks the form's CSRF token and the fields' sizes (before
/// anything is stored), then [`auth::sign_in`]; starts a session. Every refusal shows the
/// form again, in the visitor's language, with the e-mail kept.
pub(crate) async fn login(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> PageResult {
    let again = |status, email: &str, th: &str, en: &str| {
        let msg = if lang == Lang::Th { th } else { en };
        login_page(&state, lang, status, email, Some(msg.to_owned()))
    };
    let Ok(Form(form)) = form else {
        return again(
            StatusCode::BAD_REQUEST,
            "",
            "ส่งแบบฟอร์มไม่ถูกต้องหรือยาวเกินไป กรุณากรอกใหม่",
            "The form was not sent correctly, or is too long: fill it in again.",
        );
    };
    if form.email.len() > auth::MAX_EMAIL_BYTES || form.password.len() > auth::MAX_PASSWORD_BYTES {
        return again(
            StatusCode::BAD_REQUEST,
            "",
            "อีเมลยาวได้ไม่เกิน 254 ไบต์ และรหัสผ่านไม่เกิน 1,024 ไบต์",
            "The e-mail may be at most 254 bytes and the password at most 1,024 bytes.",
        );
    }
    let email = form.email.trim().to_lowercase();
    if !auth::login_token_ok(&headers, &form.csrf) {
        return again(
            StatusCode::FORBIDDEN,
            &email,
            "แบบฟอร์มหมดอายุ กรุณาเข้าสู่ระบบอีกครั้ง",
            "The form expired: sign in again.",
        );
    }
    let client = state
        .client_ip(&headers, connect.map(|axum::Extension(ConnectInfo(a))| a))
        .to_string();
    let user = match auth::sign_in(&state.store, &email, &form.password, &client).await? {
        auth::SignIn::Ok(user) => user,
        auth::SignIn::Wrong => {
            return again(
                StatusCode::UNAUTHORIZED,
                &email,
                "อีเมลหรือรหัสผ่านไม่ถูกต้อง",
                "Wrong e-mail or password.",
            );
        }
        auth::SignIn::Wait(secs) => {
            let msg = if lang == Lang::Th {
                format!("เข้าสู่ระบบผิดหลายครั้ง กรุณารอ {secs} วินาทีแล้วลองใหม่")
            } else {
                format!("Too many failed sign-ins: wait {secs} seconds and try again.")
            };
            let mut res = login_page(
                &state,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some(msg),
            )?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            return Ok(res);
        }
    };
    let cookies = auth::start_session(&state, &user).await?;
    let mut res = Redirect::to("/admin").into_response();
    for cookie in cookies {
        if let Ok(v) = cookie.parse() {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

/// `POST /admin/logout`
pub(crate) async fn logout(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    p.check_csrf(form.csrf.as_deref())?;
    let cookie = auth::end_session(&state, &p, &headers).await?;
    let mut res = Redirect::to("/admin/login").into_response();
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}
