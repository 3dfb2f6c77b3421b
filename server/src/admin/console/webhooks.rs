//! `/admin/sites/{site}/webhooks`: a site's webhook endpoints and their delivery log
//! (admins and the site's DPO); admins add an endpoint (its secret is shown once, on the
//! page that answers the form) and remove one.

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::RecordsSite,
        auth::Principal,
        ui::{UiLang, page, respond, t},
    },
    dates,
    error::ApiError,
    state::AppState,
    store::{Role, webhooks::DeliveryRow},
    webhooks::{self, AddError},
};
use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect},
};
use maud::{Markup, html};
use serde::Deserialize;
use yinyom_model::Lang;

/// Deliveries shown, newest first.
const LOG_ROWS: i64 = 100;

/// The add and remove forms.
#[derive(Debug, Deserialize)]
pub(crate) struct EndpointForm {
    csrf: Option<String>,
    url: Option<String>,
    id: Option<i64>,
}

fn title(lang: Lang, site: &str) -> String {
    format!("{} — {site}", t(lang, "เว็บฮุก (Webhooks)", "Webhooks"))
}

/// 403 unless an admin: endpoints are added and removed by admins.
fn admin_only(p: &Principal) -> Result<(), ApiError> {
    if p.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "webhook endpoints are added and removed by admins".into(),
        ))
    }
}

fn status(lang: Lang, d: &DeliveryRow) -> Markup {
    let label = match d.status.as_str() {
        "delivered" => t(lang, "ส่งแล้ว", "Delivered"),
        "pending" => t(lang, "รอส่ง", "Pending"),
        _ => t(lang, "เลิกส่งแล้ว", "Given up"),
    };
    html! {
        (label)
        @if d.status == "delivered" {
            @if let Some(at) = d.delivered_at { br; small { (dates::ms(at, lang)) } }
        } @else if d.status == "pending" && d.attempts > 0 {
            br; small { (t(lang, "ครั้งถัดไป ", "next try ")) (dates::ms(d.next_at, lang)) }
        }
    }
}

/// `GET /admin/sites/{site}/webhooks`
pub(crate) async fn show(
    State(state): State<AppState>,
    access: RecordsSite,
    UiLang(lang): UiLang,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let endpoints = state.store.webhooks(Some(site)).await?;
    let log = state.store.webhook_deliveries(site, LOG_ROWS).await?;
    let csrf = p.csrf.as_deref().unwrap_or("");
    let admin = p.role() == Role::Admin;
    let body = html! {
        p { (t(lang,
            "ระบบงานของหน่วยงานรับแจ้งเหตุการณ์ consent.recorded, consent.withdrawn, request.created และ request.closed ทางเว็บฮุกที่ลงนามตามมาตรฐาน Standard Webhooks ตรวจลายมือชื่อด้วยรหัสลับ whsec_… ของปลายทาง",
            "Agency systems hear of consent.recorded, consent.withdrawn, request.created and request.closed through webhooks signed per Standard Webhooks; check the signature with the endpoint's whsec_… secret.")) }
        h2 { (t(lang, "ปลายทาง", "Endpoints")) }
        @if endpoints.is_empty() {
            p { (t(lang, "ยังไม่มีปลายทาง", "No endpoint yet.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "ID" }
                    th scope="col" { "URL" }
                    th scope="col" { (t(lang, "เพิ่มเมื่อ", "Added")) }
                    th scope="col" { (t(lang, "สถานะ", "State")) }
                } }
                tbody {
                    @for e in &endpoints {
                        tr {
                            td { (e.id) }
                            td { code { (e.url) } }
                            td { (dates::ms(e.created_at, lang)) }
                            td {
                                @if let Some(at) = e.removed_at {
                                    (t(lang, "นำออกแล้ว ", "Removed ")) (dates::ms(at, lang))
                                } @else if admin {
                                    form method="post" action={ "/admin/sites/" (site) "/webhooks/remove" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="id" value=(e.id);
                                        button type="submit" { (t(lang, "นำออก", "Remove")) }
                                    }
                                } @else {
                                    (t(lang, "ใช้งาน", "In use"))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            form method="post" action={ "/admin/sites/" (site) "/webhooks" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="url" { (t(lang, "URL ของปลายทางใหม่", "New endpoint URL")) }
                " "
                input id="url" name="url" type="url" required placeholder="https://backoffice.example.go.th/yinyom";
                " "
                button type="submit" { (t(lang, "เพิ่มปลายทาง", "Add endpoint")) }
            }
        }
        h2 { (t(lang, "บันทึกการส่ง", "Delivery log")) }
        @if log.is_empty() {
            p { (t(lang, "ยังไม่มีการส่ง", "Nothing sent yet.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t(lang, "เวลา (เวลาประเทศไทย)", "Time (Thailand)")) }
                    th scope="col" { (t(lang, "เหตุการณ์", "Event")) }
                    th scope="col" { (t(lang, "ปลายทาง", "Endpoint")) }
                    th scope="col" { (t(lang, "สถานะ", "Status")) }
                    th scope="col" { (t(lang, "จำนวนครั้งที่ส่ง", "Attempts")) }
                    th scope="col" { (t(lang, "คำตอบล่าสุด", "Last answer")) }
                } }
                tbody {
                    @for d in &log {
                        tr {
                            td { (dates::ms(d.created_at, lang)) }
                            td { code { (d.kind) } br; small { code { (d.event_id) } } }
                            td { (d.endpoint_id) }
                            td { (status(lang, d)) }
                            td { (d.attempts) }
                            td {
                                @if let Some(s) = d.last_status { "HTTP " (s) }
                                @if let Some(e) = &d.last_error { br; small { (e) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(
        lang,
        page(lang, &title(lang, site), signed_in(p), body),
    ))
}

/// `POST /admin/sites/{site}/webhooks`: adds an endpoint and shows its secret, once.
pub(crate) async fn add(
    State(state): State<AppState>,
    access: RecordsSite,
    UiLang(lang): UiLang,
    Form(form): Form<EndpointForm>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    p.check_csrf(form.csrf.as_deref())?;
    admin_only(p)?;
    let url = form.url.unwrap_or_default();
    let key = webhooks::SealKey::of(&state.subjects);
    let (id, secret) = webhooks::add(&state.store, &key, &p.actor, &p.client, site, &url)
        .await
        .map_err(|e| match e {
            AddError::BadUrl(_) => ApiError::BadRequest(e.to_string()),
            AddError::UnknownSite(s) => ApiError::UnknownSite(s),
            AddError::Store(e) => ApiError::Store(e),
        })?;
    let body = html! {
        p { (t(lang, "เพิ่มปลายทางแล้ว: ", "Endpoint added: ")) (id) " " code { (url.trim()) } }
        p { strong { (t(lang,
            "รหัสลับสำหรับตรวจลายมือชื่อ แสดงครั้งเดียวเท่านั้น โปรดคัดลอกไปเก็บในระบบของท่านทันที:",
            "The secret that checks the signatures, shown this once only: copy it into your system now:")) } }
        pre { code { (secret) } }
        p { a href={ "/admin/sites/" (site) "/webhooks" } { (t(lang, "กลับไปหน้าเว็บฮุก", "Back to webhooks")) } }
    };
    Ok(respond(
        lang,
        page(lang, &title(lang, site), signed_in(p), body),
    ))
}

/// `POST /admin/sites/{site}/webhooks/remove`
pub(crate) async fn remove(
    State(state): State<AppState>,
    access: RecordsSite,
    Form(form): Form<EndpointForm>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    p.check_csrf(form.csrf.as_deref())?;
    admin_only(p)?;
    let id = form
        .id
        .ok_or_else(|| ApiError::BadRequest("which endpoint? (id)".into()))?;
    if !webhooks::remove(&state.store, &p.actor, &p.client, site, id).await? {
        return Err(
            ApiError::NotFound(format!("site `{site}` has no endpoint {id} in use")).into(),
        );
    }
    Ok(Redirect::to(&format!("/admin/sites/{site}/webhooks")).into_response())
}
