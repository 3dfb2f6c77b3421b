//! The console's HTML pages. Forms post with a CSRF token; everything works without
//! JavaScript.

use super::{
    auth::{self, LOGIN_COOKIE, Principal, SESSION_COOKIE},
    diff,
    ops::{self, SearchQuery},
    ui::{PageError, UiLang, page, respond, t},
};
use crate::{
    error::ApiError,
    state::AppState,
    stats,
    store::{AuditAction, Role, now_ms, rfc3339_ms},
};
use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;
use std::{collections::HashMap, net::SocketAddr};
use yinyom_model::Lang;

pub(crate) type PageResult = Result<Response, PageError>;

pub(crate) fn signed_in(p: &Principal) -> Option<(&str, &str)> {
    Some((p.user.email.as_str(), p.csrf.as_deref().unwrap_or("")))
}

pub(crate) fn site_of(params: &HashMap<String, String>) -> String {
    params.get("site").cloned().unwrap_or_default()
}

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
    let token = auth::new_secret()?;
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
    if let Ok(v) = auth::set_cookie(state, LOGIN_COOKIE, &token, 1800, "/admin").parse() {
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
    if form.csrf.is_empty() || auth::cookie(&headers, LOGIN_COOKIE) != Some(form.csrf.as_str()) {
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
    let sid = auth::new_secret()?;
    let csrf = auth::new_secret()?;
    state
        .store
        .create_session(
            &auth::hash_secret(&sid),
            user.id,
            &csrf,
            now_ms() + auth::SESSION_MS,
        )
        .await?;
    let mut res = Redirect::to("/admin").into_response();
    let cookie = auth::set_cookie(&state, SESSION_COOKIE, &sid, auth::SESSION_MS / 1000, "/");
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = auth::set_cookie(&state, LOGIN_COOKIE, "", 0, "/admin").parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// A form that only carries the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: Option<String>,
}

pub(crate) fn check_csrf(p: &Principal, given: Option<&str>) -> Result<(), PageError> {
    if p.csrf_ok(given) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("missing or wrong CSRF token".into()).into())
    }
}

/// `POST /admin/logout`
pub(crate) async fn logout(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&p, form.csrf.as_deref())?;
    if let Some(sid) = auth::cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&auth::hash_secret(sid)).await?;
    }
    state
        .store
        .audit(&p.actor, AuditAction::Logout, None, "", &p.client)
        .await?;
    let mut res = Redirect::to("/admin/login").into_response();
    if let Ok(v) = auth::set_cookie(&state, SESSION_COOKIE, "", 0, "/").parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// `GET /admin`: the sites this principal may see.
pub(crate) async fn home(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
) -> PageResult {
    let ids: Vec<String> = state
        .store
        .site_ids()
        .await?
        .into_iter()
        .filter(|s| p.can_see(s))
        .collect();
    let role = match p.role() {
        Role::Admin => t(lang, "ผู้ดูแลระบบ (ทุกเว็บไซต์)", "Administrator (every site)"),
        Role::Dpo => t(
            lang,
            "เจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล (DPO)",
            "Data protection officer (DPO)",
        ),
        Role::Auditor => t(lang, "ผู้ตรวจสอบ (ข้อมูลสถิติเท่านั้น)", "Auditor (statistics only)"),
    };
    let mut rows = Vec::new();
    for id in &ids {
        let name = state
            .store
            .site(id)
            .await?
            .map(|s| s.name.get(lang).to_owned())
            .unwrap_or_default();
        rows.push((id.clone(), name));
    }
    let body = html! {
        p { (t(lang, "บทบาทของท่าน: ", "Your role: ")) strong { (role) } }
        @if p.role() == Role::Admin {
            p { a href="/admin/accounts" { (t(lang, "บัญชีผู้ใช้และโทเค็น API", "Accounts and API tokens")) } }
        }
        @if rows.is_empty() {
            p { (t(lang, "ยังไม่มีเว็บไซต์ที่คุณเข้าถึงได้", "You have no sites yet.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t(lang, "เว็บไซต์", "Site")) }
                    th scope="col" { (t(lang, "หน้าในระบบ", "Pages")) }
                } }
                tbody {
                    @for (id, name) in &rows {
                        tr {
                            th scope="row" { (name) br; code { (id) } }
                            td {
                                @if p.records(id) {
                                    a href={ "/admin/sites/" (id) "/receipts" } { (t(lang, "ใบรับความยินยอม", "Receipts")) } " · "
                                }
                                a href={ "/admin/sites/" (id) "/stats" } { (t(lang, "สถิติ", "Statistics")) } " · "
                                a href={ "/admin/sites/" (id) "/notices" } { (t(lang, "ประกาศทุกฉบับ", "Notice versions")) } " · "
                                a href={ "/admin/sites/" (id) "/scan" } { (t(lang, "ผลตรวจคุกกี้", "Cookie scan")) } " · "
                                a href={ "/sites/" (id) "/notice" } { (t(lang, "ประกาศฉบับปัจจุบัน", "Current notice")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "คอนโซลเจ้าหน้าที่", "Console"),
            signed_in(&p),
            body,
        ),
    ))
}

fn options(current: &Option<String>, values: &[(String, String)]) -> Markup {
    html! {
        option value="" { "—" }
        @for (v, label) in values {
            option value=(v) selected[current.as_deref() == Some(v.as_str())] { (label) }
        }
    }
}

/// `GET /admin/sites/{site}/receipts`: search with filters, total count, cursor paging.
pub(crate) async fn receipts(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let site = site_of(&params);
    // A filter that does not parse (a date, a decision) is shown above the same form,
    // with the values as entered.
    let (found, problem) = match ops::search(&state, &p, &site, &q).await {
        Ok(found) => (Some(found), None),
        Err(ApiError::BadRequest(why)) => (None, Some(why)),
        Err(e) => return Err(e.into()),
    };
    let (rows, total, next) = found.unwrap_or_default();
    let versions = state.store.notice_versions(&site).await?;
    let current = state.store.current_notice(&site).await?;
    let items: Vec<(String, String)> = current
        .iter()
        .flat_map(|n| {
            n.notice
                .optional_categories()
                .map(|c| (c.id.to_string(), c.title.get(lang).to_owned()))
                .chain(
                    n.notice
                        .consent_purposes()
                        .map(|x| (x.id.to_string(), x.title.get(lang).to_owned())),
                )
                .collect::<Vec<_>>()
        })
        .collect();
    let methods: Vec<(String, String)> = [
        ("accept_all", t(lang, "ยอมรับทั้งหมด", "Accept all")),
        ("reject_all", t(lang, "ปฏิเสธทั้งหมด", "Reject all")),
        ("save_preferences", t(lang, "เลือกบางส่วน", "Saved choices")),
        ("withdraw", t(lang, "ถอนความยินยอม", "Withdrawal")),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    let decisions: Vec<(String, String)> = vec![
        ("granted".into(), t(lang, "อนุญาต", "granted").into()),
        ("denied".into(), t(lang, "ไม่อนุญาต", "denied").into()),
    ];
    let version_opts: Vec<(String, String)> = versions
        .iter()
        .map(|v| (v.version.clone(), v.version.clone()))
        .collect();
    let filters = q.to_query();
    let body = html! {
        form.filters method="get" role="search" {
            div { label for="from" { (t(lang, "ตั้งแต่วันที่", "From")) } input id="from" name="from" type="date" value=[q.from.as_deref()]; }
            div { label for="to" { (t(lang, "ก่อนวันที่", "Before")) } input id="to" name="to" type="date" value=[q.to.as_deref()]; }
            div { label for="version" { (t(lang, "ฉบับประกาศ", "Notice version")) } select id="version" name="version" { (options(&q.version, &version_opts)) } }
            div { label for="method" { (t(lang, "วิธีที่เลือก", "Method")) } select id="method" name="method" { (options(&q.method, &methods)) } }
            div { label for="item" { (t(lang, "หมวดหมู่หรือวัตถุประสงค์", "Category or purpose")) } select id="item" name="item" { (options(&q.item, &items)) } }
            div { label for="decision" { (t(lang, "การตัดสินใจ", "Decision")) } select id="decision" name="decision" { (options(&q.decision, &decisions)) } }
            div { label for="subject" { (t(lang, "รหัสผู้เข้าชม", "Subject id")) } input id="subject" name="subject" value=[q.subject.as_deref()]; }
            div { label for="receipt" { (t(lang, "เลขที่ใบรับ", "Receipt id")) } input id="receipt" name="receipt" value=[q.receipt.as_deref()]; }
            div { button type="submit" { (t(lang, "ค้นหา", "Search")) } }
        }
        @if let Some(why) = &problem {
            p.bad role="alert" { (t(lang, "ตัวกรองไม่ถูกต้อง: ", "A filter is not valid: ")) code { (why) } }
        } @else {
        p {
            (t(lang, "พบ ", "Found ")) strong { (total) } (t(lang, " รายการ", " receipts")) " · "
            (t(lang, "ส่งออก: ", "Export: "))
            @for f in ["csv", "jsonl", "kantara", "iso27560"] {
                a href={ "/admin/sites/" (site) "/export?format=" (f) "&" (filters) } { (f) } " "
            }
            (t(lang, "(ตามตัวกรองที่แสดง)", "(with the filters shown)"))
        }
        table {
            caption.muted { (t(lang, "ใหม่สุดก่อน", "Newest first")) }
            thead { tr {
                th scope="col" { (t(lang, "เวลา (UTC)", "Time (UTC)")) }
                th scope="col" { (t(lang, "เหตุการณ์", "Event")) }
                th scope="col" { (t(lang, "วิธี", "Method")) }
                th scope="col" { (t(lang, "ฉบับ", "Version")) }
                th scope="col" { (t(lang, "การตัดสินใจ", "Decisions")) }
                th scope="col" { (t(lang, "ใบรับ", "Receipt")) }
            } }
            tbody {
                @for r in &rows {
                    @let rc = &r.receipt;
                    tr {
                        td { (rc.issued_at) }
                        td { (rc.event.as_str()) }
                        td { (rc.method.as_str()) }
                        td { (rc.notice.version) }
                        td {
                            @for (k, v) in rc.categories.iter().chain(rc.purposes.iter()) {
                                span class=(if *v { "ok" } else { "bad" }) { (k) "=" (if *v { "✓" } else { "✗" }) } " "
                            }
                        }
                        td { a href={ "/admin/sites/" (site) "/receipts/" (rc.receipt_id) } { code { (rc.receipt_id) } } }
                    }
                }
            }
        }
        @if let Some(n) = next {
            p { a rel="next" href={ "?" (filters) "&before=" (n) } { (t(lang, "หน้าถัดไป →", "Next page →")) } }
        }
        }
    };
    let title = format!("{} — {site}", t(lang, "ใบรับความยินยอม", "Consent receipts"));
    let mut res = respond(lang, page(lang, &title, signed_in(&p), body));
    if problem.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

fn status(lang: Lang, r: &Result<String, String>) -> Markup {
    html! {
        @match r {
            Ok(s) => span.ok { "✓ " (t(lang, "ถูกต้อง", "valid")) " " (s) },
            Err(e) => span.bad { "✗ " (e) },
        }
    }
}

/// `GET /admin/sites/{site}/receipts/{receipt_id}`: every field, the notice shown, the
/// signature and log status.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Path(params): Path<HashMap<String, String>>,
) -> PageResult {
    let site = site_of(&params);
    let id = params.get("receipt_id").cloned().unwrap_or_default();
    let d = ops::detail(&state, &p, &site, &id).await?;
    let rc = &d.receipt;
    let sig = d.signature.clone().map(|kid| format!("kid {kid}"));
    let log = d
        .log
        .clone()
        .map(|seq| format!("{} {seq}", t(lang, "ตำแหน่ง", "position")));
    let decisions = |m: &std::collections::BTreeMap<yinyom_model::Slug, bool>| {
        m.iter()
            .map(|(k, v)| format!("{k}: {}", if *v { "granted" } else { "denied" }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let json = serde_json::to_string_pretty(rc).unwrap_or_default();
    let body = html! {
        dl.kv {
            dt { (t(lang, "ลายมือชื่อ", "Signature")) } dd { (status(lang, &sig)) }
            dt { (t(lang, "บันทึกที่ตรวจสอบได้", "Tamper-evident log")) } dd { (status(lang, &log)) }
            dt { (t(lang, "เลขที่ใบรับ", "Receipt id")) } dd { code { (rc.receipt_id) } }
            dt { (t(lang, "เวลา", "Time")) } dd { (rc.issued_at) }
            dt { (t(lang, "เหตุการณ์", "Event")) } dd { (rc.event.as_str()) " (" (rc.method.as_str()) ")" }
            dt { (t(lang, "ผู้เข้าชม (นามแฝง)", "Visitor (pseudonym)")) } dd { code { (rc.subject_id) } }
            dt { (t(lang, "ประกาศที่แสดง", "Notice shown")) } dd {
                a href={ "/sites/" (site) "/notice/" (rc.notice.version) } { (rc.notice.version) }
                " · " (t(lang, "รอบ", "revision")) " " (rc.notice.consent_revision) " · SHA-256 " code { (rc.notice.sha256) }
            }
            dt { (t(lang, "คุกกี้", "Cookie categories")) } dd { (decisions(&rc.categories)) }
            dt { (t(lang, "วัตถุประสงค์", "Purposes")) } dd { (decisions(&rc.purposes)) }
            dt { (t(lang, "ใช้ได้ถึง", "Valid until")) } dd { (rc.valid_until) }
            dt { (t(lang, "ภาษา", "Language")) } dd { (rc.lang.code()) }
            dt { "GPC" } dd { (rc.gpc) }
            @if let Some(a) = rc.age_band { dt { (t(lang, "ช่วงอายุ", "Age band")) } dd { (format!("{a:?}")) } }
            @if let Some(c) = rc.consent_by { dt { (t(lang, "ผู้ให้ความยินยอม", "Consent given by")) } dd { (format!("{c:?}")) } }
            dt { (t(lang, "หน้าเว็บ", "Page")) } dd { (rc.page.origin) (rc.page.path) }
            dt { (t(lang, "รุ่นวิดเจ็ต", "Widget build")) } dd { (rc.widget) }
        }
        h2 { (t(lang, "ใบรับที่ลงลายมือชื่อ (JWS)", "Signed receipt (JWS)")) }
        p { code { (d.jws) } }
        details { summary { "JSON" } pre { (json) } }
    };
    let title = format!("{} {}", t(lang, "ใบรับ", "Receipt"), &rc.receipt_id);
    Ok(respond(lang, page(lang, &title, signed_in(&p), body)))
}

/// `GET /admin/verify`
pub(crate) async fn verify_form(p: Principal, UiLang(lang): UiLang) -> PageResult {
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "ตรวจสอบใบรับ", "Verify a receipt"),
            signed_in(&p),
            verify_body(lang, &p, "", None),
        ),
    ))
}

fn verify_body(lang: Lang, p: &Principal, text: &str, results: Option<&[ops::Verified]>) -> Markup {
    html! {
        p { (t(lang, "วางใบรับ (JSON ที่มี receipt และ jws, หรือ JWS) แล้วกดตรวจสอบ", "Paste a receipt (JSON with receipt and jws, or a JWS) and verify it.")) }
        form method="post" action="/admin/verify" {
            input type="hidden" name="csrf" value=(p.csrf.as_deref().unwrap_or(""));
            label for="text" { (t(lang, "ใบรับ", "Receipt")) }
            textarea id="text" name="text" rows="10" { (text) }
            p { button type="submit" { (t(lang, "ตรวจสอบ", "Verify")) } }
        }
        @if let Some(results) = results {
            h2 { (t(lang, "ผลการตรวจสอบ", "Result")) }
            @if results.is_empty() { p.bad { (t(lang, "ไม่พบใบรับในข้อความ", "No receipt found in the text.")) } }
            ul {
                @for r in results {
                    li {
                        code { (r.receipt_id.as_deref().unwrap_or("?")) } ": "
                        @match &r.outcome {
                            Ok(s) => span.ok { "✓ " (t(lang, "ถูกต้อง", "VALID")) } " " (s),
                            Err(e) => span.bad { "✗ " (t(lang, "ไม่ถูกต้อง", "INVALID")) } " " (e),
                        }
                    }
                }
            }
        }
    }
}

/// The verify form.
#[derive(Debug, Deserialize)]
pub(crate) struct VerifyForm {
    csrf: Option<String>,
    text: String,
}

/// `POST /admin/verify`
pub(crate) async fn verify(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Form(form): Form<VerifyForm>,
) -> PageResult {
    check_csrf(&p, form.csrf.as_deref())?;
    let results = ops::verify(&state, &p, &form.text).await?;
    let body = verify_body(lang, &p, &form.text, Some(&results));
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "ตรวจสอบใบรับ", "Verify a receipt"),
            signed_in(&p),
            body,
        ),
    ))
}

/// `GET /admin/sites/{site}/export` and `/v1/admin/sites/{site}/export`: streamed.
pub(crate) async fn export(
    State(state): State<AppState>,
    p: Principal,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    ops::export(&state, &p, &site_of(&params), &q).await
}

/// Query of the audit page.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// `GET /admin/audit`: admins see everything, DPOs their sites; auditors nothing.
pub(crate) async fn audit(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let rows = audit_rows(&state, &p, q.before).await?;
    let body = html! {
        table {
            thead { tr {
                th scope="col" { (t(lang, "เวลา (UTC)", "Time (UTC)")) }
                th scope="col" { (t(lang, "ผู้ใช้", "Who")) }
                th scope="col" { (t(lang, "การกระทำ", "Action")) }
                th scope="col" { (t(lang, "เว็บไซต์", "Site")) }
                th scope="col" { (t(lang, "รายละเอียด", "Detail")) }
                th scope="col" { (t(lang, "จาก", "From")) }
            } }
            tbody {
                @for r in &rows {
                    tr { td { (rfc3339_ms(r.at)) } td { (r.actor) } td { (r.action) } td { (r.site_id.as_deref().unwrap_or("")) } td { code { (r.detail) } } td { (r.client) } }
                }
            }
        }
        @if rows.len() == 100 {
            @if let Some(last) = rows.last() {
                p { a rel="next" href={ "?before=" (last.id) } { (t(lang, "เก่ากว่า →", "Older →")) } }
            }
        }
    };
    Ok(respond(
        lang,
        page(
            lang,
            t(lang, "บันทึกการใช้งาน", "Audit log"),
            signed_in(&p),
            body,
        ),
    ))
}

/// The audit entries this principal may read.
pub(crate) async fn audit_rows(
    state: &AppState,
    p: &Principal,
    before: Option<i64>,
) -> Result<Vec<crate::store::AuditRow>, ApiError> {
    match p.role() {
        Role::Admin => Ok(state.store.audit_entries(None, before, 100).await?),
        Role::Dpo => Ok(state
            .store
            .audit_entries(Some(&p.sites), before, 100)
            .await?),
        Role::Auditor => Err(ApiError::NotFound(
            "the audit log is for admins and DPOs".into(),
        )),
    }
}

/// Query of the notice history: `published` names the version just published.
#[derive(Debug, Deserialize)]
pub(crate) struct NoticesQuery {
    published: Option<String>,
}

/// `GET /admin/sites/{site}/notices`: the version history.
pub(crate) async fn notices(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<NoticesQuery>,
) -> PageResult {
    let site = site_of(&params);
    ops::visible(&state, &p, &site).await?;
    let versions = state.store.notice_versions(&site).await?;
    // Said only when it is true: the version named is the current one.
    let published = q
        .published
        .filter(|v| versions.first().is_some_and(|c| &c.version == v));
    let body = html! {
        @if let Some(v) = &published {
            p.ok role="status" { "✓ " (t(lang, "เผยแพร่ฉบับ ", "Published version ")) (v) (t(lang, " แล้ว เป็นฉบับปัจจุบัน", "; it is the current version.")) }
        }
        @if p.role() != Role::Auditor {
            p { a.button href={ "/admin/sites/" (site) "/notices/publish" } { (t(lang, "เผยแพร่ฉบับใหม่", "Publish a new version")) } }
        }
        table {
            thead { tr {
                th scope="col" { (t(lang, "ฉบับ", "Version")) }
                th scope="col" { (t(lang, "มีผลตั้งแต่", "Effective from")) }
                th scope="col" { (t(lang, "รอบความยินยอม", "Consent revision")) }
                th scope="col" { (t(lang, "เผยแพร่เมื่อ", "Published")) }
                th scope="col" { "SHA-256" }
                th scope="col" { (t(lang, "เทียบกับฉบับก่อน", "Compare with previous")) }
            } }
            tbody {
                @for (i, v) in versions.iter().enumerate() {
                    tr {
                        th scope="row" { a href={ "/sites/" (site) "/notice/" (v.version) "?lang=" (lang.code()) } { (v.version) } }
                        td { (v.effective_from) } td { (v.consent_revision) } td { (v.published_at) } td { code { (v.sha256.get(..16).unwrap_or("")) "…" } }
                        td {
                            @if let Some(prev) = versions.get(i + 1) {
                                a href={ "/admin/sites/" (site) "/notices/diff?from=" (prev.version) "&to=" (v.version) } { (prev.version) " → " (v.version) }
                            }
                        }
                    }
                }
            }
        }
        p.muted { (t(lang, "หรือเผยแพร่ด้วยคำสั่ง yinyom sites import โฟลเดอร์เว็บไซต์ (ตรวจด้วยกฎเดียวกัน)", "Or publish with: yinyom sites import SITE_FOLDER (the same checks).")) }
    };
    let title = format!("{} — {site}", t(lang, "ประกาศทุกฉบับ", "Notice versions"));
    Ok(respond(lang, page(lang, &title, signed_in(&p), body)))
}

/// Query of the diff page.
#[derive(Debug, Deserialize)]
pub(crate) struct DiffQuery {
    pub(crate) from: String,
    pub(crate) to: String,
}

/// The diff between two versions of a site the principal may see.
pub(crate) async fn diff_of(
    state: &AppState,
    p: &Principal,
    site: &str,
    q: &DiffQuery,
    lang: Lang,
) -> Result<diff::NoticeDiff, ApiError> {
    ops::visible(state, p, site).await?;
    let get = |v: String| async move {
        state
            .store
            .notice_version(site, &v)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no notice version `{v}`")))
    };
    let a = get(q.from.clone()).await?;
    let b = get(q.to.clone()).await?;
    Ok(diff::notices(&a.notice, &b.notice, lang))
}

/// `GET /admin/sites/{site}/notices/diff?from=&to=`
pub(crate) async fn notice_diff(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<DiffQuery>,
) -> PageResult {
    let site = site_of(&params);
    let d = diff_of(&state, &p, &site, &q, lang).await?;
    let body = diff_markup(lang, &d, &q.from, &q.to);
    let title = format!(
        "{} {} → {}",
        t(lang, "เทียบประกาศ", "Notice diff"),
        q.from,
        q.to
    );
    Ok(respond(lang, page(lang, &title, signed_in(&p), body)))
}

/// What changed between two notice versions (`before` → `after`): fields, purposes,
/// categories and cookies as a table, then the notice text line by line.
pub(crate) fn diff_markup(lang: Lang, d: &diff::NoticeDiff, before: &str, after: &str) -> Markup {
    let how = |h: &str| match (h, lang) {
        ("added", Lang::Th) => "เพิ่ม",
        ("removed", Lang::Th) => "ลบ",
        (_, Lang::Th) => "เปลี่ยน",
        (h, Lang::En) => match h {
            "added" => "added",
            "removed" => "removed",
            _ => "changed",
        },
    };
    let lines: Vec<(&str, &str, &str)> = d
        .body
        .iter()
        .map(|l| match l {
            diff::Line::Same(s) => ("", "  ", s.as_str()),
            diff::Line::Added(s) => ("add", "+ ", s.as_str()),
            diff::Line::Removed(s) => ("del", "- ", s.as_str()),
        })
        .collect();
    html! {
        h2 { (t(lang, "สิ่งที่เปลี่ยน", "What changed")) }
        @if d.changes.is_empty() {
            p { (t(lang, "ไม่มีการเปลี่ยนแปลงในหัวข้อ วัตถุประสงค์ หรือคุกกี้", "No change to fields, purposes or cookies.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t(lang, "ส่วน", "Part")) } th scope="col" { (t(lang, "การเปลี่ยน", "Change")) }
                    th scope="col" { (before) } th scope="col" { (after) }
                } }
                tbody {
                    @for c in &d.changes {
                        tr { th scope="row" { (c.what) } td { (how(c.how)) } td.del { (c.before) } td.add { (c.after) } }
                    }
                }
            }
        }
        h2 { (t(lang, "ข้อความประกาศ", "Notice text")) }
        p.muted { (t(lang, "บรรทัดที่ขึ้นต้นด้วย + เพิ่มเข้ามา บรรทัดที่ขึ้นต้นด้วย - ถูกลบออก", "Lines starting with + are added; lines starting with - are removed.")) }
        pre.diff {
            @for (class, mark, text) in &lines {
                span class=(class) { (mark) (text) "\n" }
            }
        }
    }
}

/// Query of the statistics.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct StatsQuery {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

/// The range of a statistics query: default the last 30 days.
pub(crate) fn stats_range(q: &StatsQuery) -> Result<(i64, i64), ApiError> {
    let now = now_ms();
    let parse = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(crate::config::parse_time_ms)
            .transpose()
            .map_err(ApiError::BadRequest)
    };
    let to = parse(&q.to)?.unwrap_or(now + 1);
    let from = parse(&q.from)?.unwrap_or(to - 30 * crate::dates::DAY_MS);
    if from >= to {
        return Err(ApiError::BadRequest("`from` must be before `to`".into()));
    }
    Ok((from, to))
}

/// `GET /admin/sites/{site}/stats`: every role of the site.
pub(crate) async fn stats(
    State(state): State<AppState>,
    p: Principal,
    UiLang(lang): UiLang,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let site = site_of(&params);
    ops::visible(&state, &p, &site).await?;
    let (from, to) = stats_range(&q)?;
    let s = stats::summary(&state.store, &site, from, to).await?;
    let title = format!(
        "{} — {site}",
        t(lang, "สถิติการให้ความยินยอม", "Consent statistics")
    );
    let label = |i: usize| {
        if lang == Lang::Th {
            stats::SERIES[i].1
        } else {
            stats::SERIES[i].2
        }
    };
    let body = html! {
        form.filters method="get" {
            div { label for="from" { (t(lang, "ตั้งแต่วันที่", "From")) } input id="from" name="from" type="date" value=(s.from); }
            div { label for="to" { (t(lang, "ก่อนวันที่", "Before")) } input id="to" name="to" type="date" value=[q.to.as_deref()]; }
            div { button type="submit" { (t(lang, "แสดง", "Show")) } }
        }
        p { (t(lang, "รวม ", "Total ")) strong { (s.totals.total()) } " · "
            a href={ "/admin/sites/" (site) "/stats.csv?from=" (s.from) } { (t(lang, "ดาวน์โหลด CSV", "Download CSV")) } }
        figure {
            (maud::PreEscaped(stats::svg(&s, &title)))
            figcaption {
                @for i in 0..4 { span class={ "s" (i) } { "■ " } (label(i)) " " }
            }
        }
        table {
            caption { (t(lang, "จำนวนใบรับต่อวัน (เวลาประเทศไทย)", "Receipts per day (Thailand time)")) }
            thead { tr {
                th scope="col" { (t(lang, "วัน", "Day")) }
                @for i in 0..4 { th scope="col" { (label(i)) } }
                th scope="col" { (t(lang, "รวม", "Total")) }
            } }
            tbody {
                @for (d, c) in &s.days {
                    tr { th scope="row" { (d) } td { (c.accept_all) } td { (c.reject_all) } td { (c.partial) } td { (c.withdrawn) } td { (c.total()) } }
                }
            }
        }
        h2 { (t(lang, "ต่อหมวดหมู่และวัตถุประสงค์", "Per category and purpose")) }
        table {
            thead { tr { th scope="col" { (t(lang, "รายการ", "Item")) } th scope="col" { (t(lang, "อนุญาต", "Granted")) } th scope="col" { (t(lang, "ไม่อนุญาต", "Denied")) } } }
            tbody { @for i in &s.items { tr { th scope="row" { (i.kind) " " code { (i.item) } } td { (i.granted) } td { (i.denied) } } } }
        }
        h2 { (t(lang, "ต่อฉบับประกาศ", "Per notice version")) }
        table {
            thead { tr { th scope="col" { (t(lang, "ฉบับ", "Version")) } @for i in 0..4 { th scope="col" { (label(i)) } } } }
            tbody { @for (v, c) in &s.versions { tr { th scope="row" { (v) } td { (c.accept_all) } td { (c.reject_all) } td { (c.partial) } td { (c.withdrawn) } } } }
        }
    };
    Ok(respond(lang, page(lang, &title, signed_in(&p), body)))
}

/// `GET /admin/sites/{site}/stats.csv`
pub(crate) async fn stats_csv(
    State(state): State<AppState>,
    p: Principal,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    let site = site_of(&params);
    ops::visible(&state, &p, &site).await?;
    let (from, to) = stats_range(&q)?;
    let s = stats::summary(&state.store, &site, from, to).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{site}-stats.csv\""),
            ),
        ],
        stats::csv(&s),
    )
        .into_response())
}
