//! `/admin/sites/{site}/receipts/paper`: staff (the site's DPO, an admin) enter a consent
//! the person signed on a paper form ([`crate::paper`]). The form asks the form's name,
//! the person's reference at the agency, the paper's document number and signing day, and
//! for each consent purpose of the current notice what the paper says (consented, did not
//! consent, or not on this form).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::EntrySite,
        ui::{UiLang, page, respond, t},
    },
    dates,
    error::ApiError,
    paper::{self, Clerk, PaperEntry},
    state::AppState,
    store::now_ms,
};
use axum::{Form, extract::State};
use maud::html;
use std::collections::{BTreeMap, HashMap};
use yinyom_model::{Lang, Slug};

/// A purpose's radio group is named `purpose.<id>`; its values.
const GRANTED: &str = "granted";
const REFUSED: &str = "refused";
const ABSENT: &str = "absent";

fn title(lang: Lang, site: &str) -> String {
    format!(
        "{} — {site}",
        t(
            lang,
            "บันทึกความยินยอมจากแบบฟอร์มกระดาษ",
            "Enter a consent signed on paper"
        )
    )
}

/// `GET /admin/sites/{site}/receipts/paper`: the entry form.
pub(crate) async fn form(
    State(state): State<AppState>,
    access: EntrySite,
    UiLang(lang): UiLang,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let notice = state
        .store
        .current_notice(site)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site `{site}` has no published notice")))?
        .notice;
    let csrf = p.csrf.as_deref().unwrap_or("");
    let today = dates::day_name(dates::thailand_day(now_ms()));
    let body = html! {
        p { (t(lang,
            "ใช้เมื่อบุคคลลงนามให้ความยินยอมในแบบฟอร์มกระดาษ ระบบจะออกใบรับที่ลงลายมือชื่อดิจิทัล (วิธี: ลงนามในแบบฟอร์มกระดาษ เจ้าหน้าที่บันทึกเข้าระบบ) และเชื่อมกับประวัติความยินยอมออนไลน์ของบุคคลเดียวกันด้วยเลขอ้างอิงของหน่วยงาน ระบบเก็บเลขอ้างอิงเป็นค่าแฮชที่ใช้กุญแจเท่านั้น ไม่เก็บตัวเลขจริง โปรดเก็บแบบฟอร์มกระดาษฉบับจริงไว้ตามระเบียบของหน่วยงาน",
            "For a consent a person signed on a paper form. The server issues a signed receipt (method: signed a paper form, entered by staff) and links it to the same person's online consent history through the agency's reference. Only a keyed hash of the reference is kept, never the reference itself. Keep the signed paper as your agency's rules require.")) }
        form method="post" action={ "/admin/sites/" (site) "/receipts/paper" } {
            input type="hidden" name="csrf" value=(csrf);
            p {
                label for="form" { (t(lang, "ชื่อแบบฟอร์ม (ตรงกับ data-yinyom-form ของแบบฟอร์มบนเว็บ)", "Form name (as the web form's data-yinyom-form)")) }
                input id="form" name="form" required pattern="[a-z0-9][a-z0-9_-]*" maxlength="64" autocomplete="off";
            }
            p {
                label for="reference" { (t(lang, "เลขอ้างอิงของบุคคลที่หน่วยงานใช้ (เช่น เลขประจำตัวผู้เสียภาษี)", "The person's reference at the agency (e.g. tax id)")) }
                input id="reference" name="reference" required maxlength=(yinyom_model::receipt::MAX_REFERENCE) autocomplete="off";
            }
            p {
                label for="document" { (t(lang, "เลขที่เอกสารของแบบฟอร์มกระดาษ", "The paper form's document number")) }
                input id="document" name="document" required maxlength=(paper::MAX_DOCUMENT) autocomplete="off";
            }
            p {
                label for="signed_on" { (t(lang, "วันที่ลงนาม", "Day it was signed")) }
                input id="signed_on" name="signed_on" type="date" required max=(today);
            }
            p { (t(lang, "ประกาศฉบับ ", "Notice version ")) code { (notice.version) } }
            @for purpose in notice.consent_purposes() {
                fieldset {
                    legend { (purpose.title.get(lang)) " (" code { (purpose.id) } ")" }
                    @for (value, th, en) in [
                        (GRANTED, "ยินยอม", "Consented"),
                        (REFUSED, "ไม่ยินยอม", "Did not consent"),
                        (ABSENT, "ไม่มีในแบบฟอร์มนี้", "Not on this form"),
                    ] {
                        label {
                            input type="radio" name={ "purpose." (purpose.id) } value=(value) checked[value == ABSENT];
                            " " (t(lang, th, en))
                        }
                    }
                }
            }
            p { button type="submit" { (t(lang, "บันทึกใบรับ", "Enter the receipt")) } }
        }
    };
    Ok(respond(
        lang,
        page(lang, &title(lang, site), signed_in(p), body),
    ))
}

/// `POST /admin/sites/{site}/receipts/paper`: enters it and shows the receipt made.
pub(crate) async fn enter(
    State(state): State<AppState>,
    access: EntrySite,
    UiLang(lang): UiLang,
    Form(fields): Form<HashMap<String, String>>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    p.check_csrf(fields.get("csrf").map(String::as_str))?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let mut purposes = BTreeMap::new();
    for (name, value) in &fields {
        let Some(id) = name.strip_prefix("purpose.") else {
            continue;
        };
        let id =
            Slug::parse(id).map_err(|e| ApiError::BadRequest(format!("purpose `{id}`: {e}")))?;
        match value.as_str() {
            GRANTED => purposes.insert(id, true),
            REFUSED => purposes.insert(id, false),
            _ => None,
        };
    }
    let form = Slug::parse(field("form").trim())
        .map_err(|e| ApiError::BadRequest(format!("form name: {e}")))?;
    let entry = PaperEntry {
        form,
        purposes,
        document: field("document"),
        signed_on: field("signed_on"),
        reference: field("reference"),
        notice_version: None,
        lang: None,
        age_band: None,
        consent_by: None,
        request_id: None,
    };
    let path = format!("/admin/sites/{site}/receipts/paper");
    let clerk = Clerk {
        actor: &p.actor,
        client: &p.client,
        path: &path,
    };
    let entered = paper::enter(&state, access.site(), clerk, entry).await?;
    let rc = &entered.stored.receipt;
    let body = html! {
        p.ok { (t(lang, "บันทึกใบรับแล้ว", "Receipt entered")) }
        dl.kv {
            dt { (t(lang, "เลขที่ใบรับ", "Receipt id")) }
            dd { a href={ "/admin/sites/" (site) "/receipts/" (rc.receipt_id) } { code { (rc.receipt_id) } } }
            dt { (t(lang, "บุคคล (นามแฝง)", "Person (pseudonym)")) }
            dd {
                (super::receipts::subject_link(site, &rc.subject_id))
                @if entered.new_subject {
                    " " (t(lang, "(ครั้งแรกที่พบเลขอ้างอิงนี้)", "(first time this reference is seen)"))
                } @else {
                    " " (t(lang, "(บุคคลเดียวกับใบรับก่อนหน้าที่มีเลขอ้างอิงนี้)", "(the same person as earlier receipts with this reference)"))
                }
            }
        }
        p { a href={ "/admin/sites/" (site) "/receipts/paper" } { (t(lang, "บันทึกอีกฉบับ", "Enter another")) } }
    };
    Ok(respond(
        lang,
        page(lang, &title(lang, site), signed_in(p), body),
    ))
}
