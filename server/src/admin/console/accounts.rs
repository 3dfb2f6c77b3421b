//! `/admin/accounts` (admins only): every account and API token, with buttons to disable
//! or enable an account and to revoke a token. Plain forms with the session's CSRF token;
//! no script.

use super::{PageResult, signed_in};
use crate::{
    admin::{
        auth::Principal,
        ops,
        tiers::{Tier, tier_of},
        ui::{UiLang, page, respond, t},
    },
    dates,
    state::AppState,
    store::{Role, now_ms},
};
use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect},
};
use maud::html;
use serde::Deserialize;

/// `GET /admin/accounts`
pub(crate) async fn list(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
) -> PageResult {
    let (accounts, tokens) = ops::accounts(&state, &p).await?;
    let csrf = p.csrf.as_deref().unwrap_or("");
    let now = now_ms();
    let body = html! {
        h2 { (t(lang, "บัญชีผู้ใช้", "Accounts")) }
        table {
            thead { tr {
                th scope="col" { (t(lang, "อีเมล", "E-mail")) }
                th scope="col" { (t(lang, "บทบาท", "Role")) }
                th scope="col" { (t(lang, "เว็บไซต์", "Sites")) }
                th scope="col" { (t(lang, "สถานะ", "Status")) }
                th scope="col" { (t(lang, "การจัดการ", "Action")) }
            } }
            tbody {
                @for a in &accounts {
                    tr {
                        th scope="row" { (a.email) }
                        td {
                            @if a.email == p.user.email {
                                (a.role.as_str())
                            } @else {
                                form method="post" action="/admin/accounts/role" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="email" value=(a.email);
                                    select name="role" aria-label={ (t(lang, "บทบาทของ ", "Role of ")) (a.email) } {
                                        @for r in Role::ACCOUNT_ROLES {
                                            option value=(r.as_str()) selected[r == a.role] {
                                                (r.as_str()) " — " (Tier::label(tier_of(r).number(), lang))
                                            }
                                        }
                                    }
                                    " "
                                    button type="submit" { (t(lang, "เปลี่ยนบทบาท", "Change role")) }
                                }
                            }
                        }
                        td { @if a.sites.is_empty() { "—" } @else { (a.sites.join(", ")) } }
                        td {
                            @match a.disabled_at {
                                Some(at) => span.bad { (t(lang, "ปิดใช้งาน ", "disabled ")) (dates::ms(at, lang)) },
                                None => span.ok { (t(lang, "ใช้งานได้", "enabled")) },
                            }
                        }
                        td {
                            @if a.email != p.user.email {
                                form method="post" action={ "/admin/accounts/" (if a.disabled_at.is_some() { "enable" } else { "disable" }) } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="email" value=(a.email);
                                    button type="submit" {
                                        @if a.disabled_at.is_some() { (t(lang, "เปิดใช้งาน", "Enable")) } @else { (t(lang, "ปิดใช้งาน", "Disable")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t(lang, "โทเค็น API", "API tokens")) }
        table {
            thead { tr {
                th scope="col" { "ID" }
                th scope="col" { (t(lang, "ชื่อ", "Name")) }
                th scope="col" { (t(lang, "บัญชี", "Account")) }
                th scope="col" { (t(lang, "สร้างเมื่อ", "Created")) }
                th scope="col" { (t(lang, "ใช้ล่าสุด", "Last used")) }
                th scope="col" { (t(lang, "สถานะ", "Status")) }
                th scope="col" { (t(lang, "การจัดการ", "Action")) }
            } }
            tbody {
                @for tk in &tokens {
                    tr {
                        th scope="row" { code { (tk.id) } }
                        td { (tk.name) }
                        td { (tk.email) }
                        td { (dates::ms(tk.created_at, lang)) }
                        td { (tk.last_used.map_or_else(|| "—".to_owned(), |at| dates::ms(at, lang))) }
                        td {
                            @match (tk.revoked_at, tk.expires_at) {
                                (Some(r), _) => span.bad { (t(lang, "ถูกเพิกถอน ", "revoked ")) (dates::ms(r, lang)) },
                                (None, Some(e)) if e <= now => span.bad { (t(lang, "หมดอายุ ", "expired ")) (dates::ms(e, lang)) },
                                (None, Some(e)) => span.ok { (t(lang, "ใช้ได้ถึง ", "valid until ")) (dates::ms(e, lang)) },
                                (None, None) => span.ok { (t(lang, "ใช้ได้ (ไม่มีวันหมดอายุ)", "valid (no expiry)")) },
                            }
                        }
                        td {
                            @if tk.revoked_at.is_none() {
                                form method="post" action="/admin/tokens/revoke" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="id" value=(tk.id);
                                    button type="submit" { (t(lang, "เพิกถอน", "Revoke")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.muted { (t(lang,
            "เพิ่มบัญชี ตั้งรหัสผ่าน และสร้างโทเค็นด้วยคำสั่ง yinyom users add / users passwd / tokens create บทบาทของบัญชีคือชั้นการเข้าถึง (ดูหน้าบันทึกการเปิดเผยข้อมูล) บทบาทใหม่มีผลเมื่อเข้าสู่ระบบครั้งถัดไป",
            "Add accounts, set passwords and create tokens with yinyom users add / users passwd / tokens create. An account's role is its access tier (see the release log page); a new role takes effect at its next sign-in."
        )) }
    };
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "บัญชีและโทเค็น", "Accounts and tokens"),
            signed_in(&p),
            body,
        ),
    ))
}

/// The disable / enable form.
#[derive(Debug, Deserialize)]
pub(crate) struct AccountForm {
    csrf: Option<String>,
    email: String,
}

/// `POST /admin/accounts/disable`
pub(crate) async fn disable(
    State(state): State<AppState>,
    p: Principal,
    Form(form): Form<AccountForm>,
) -> PageResult {
    p.check_csrf(form.csrf.as_deref())?;
    ops::set_disabled(&state, &p, &form.email, true).await?;
    Ok(Redirect::to("/admin/accounts").into_response())
}

/// `POST /admin/accounts/enable`
pub(crate) async fn enable(
    State(state): State<AppState>,
    p: Principal,
    Form(form): Form<AccountForm>,
) -> PageResult {
    p.check_csrf(form.csrf.as_deref())?;
    ops::set_disabled(&state, &p, &form.email, false).await?;
    Ok(Redirect::to("/admin/accounts").into_response())
}

/// The role form.
#[derive(Debug, Deserialize)]
pub(crate) struct RoleForm {
    csrf: Option<String>,
    email: String,
    role: String,
}

/// `POST /admin/accounts/role`: the account gets the role (and signs in again).
pub(crate) async fn role(
    State(state): State<AppState>,
    p: Principal,
    Form(form): Form<RoleForm>,
) -> PageResult {
    p.check_csrf(form.csrf.as_deref())?;
    ops::set_role(&state, &p, &form.email, &form.role).await?;
    Ok(Redirect::to("/admin/accounts").into_response())
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    csrf: Option<String>,
    id: String,
}

/// `POST /admin/tokens/revoke`
pub(crate) async fn revoke(
    State(state): State<AppState>,
    p: Principal,
    Form(form): Form<TokenForm>,
) -> PageResult {
    p.check_csrf(form.csrf.as_deref())?;
    ops::revoke_token(&state, &p, &form.id).await?;
    Ok(Redirect::to("/admin/accounts").into_response())
}
