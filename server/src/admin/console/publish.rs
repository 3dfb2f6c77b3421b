//! Publishing a new notice version from the console, in two steps. Step 1: upload the
//! site folder's files (`site.toml`, `notice.th.md`, `notice.en.md`); they are checked
//! with the CLI's code and the page shows every problem, or what would be published (the
//! version, the revision, whether visitors are asked again, the diff against the current
//! version). Valid files stay on the server (bound to the session, for 30 minutes, used
//! once); step 2 publishes them. Admins and the site's DPO only; auditors get 404.

use super::{PageResult, notices::diff_markup, signed_in};
use crate::{
    admin::{
        access::PublisherSite,
        auth::Principal,
        ops::{self, Publication, Ready, Upload, UploadCheck},
        ui::{UiLang, page, respond, t},
    },
    state::AppState,
};
use axum::{
    Form,
    extract::{Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
};
use maud::{Markup, html};
use serde::Deserialize;
use yinyom_model::Lang;

fn title(lang: Lang, site: &str) -> String {
    format!(
        "{} — {site}",
        t(lang, "เผยแพร่ประกาศฉบับใหม่", "Publish a new notice version")
    )
}

fn upload_form(lang: Lang, p: &Principal, site: &str) -> Markup {
    let kb = crate::sites::MAX_FOLDER_BYTES / 1024;
    html! {
        form.upload method="post" enctype="multipart/form-data" action={ "/admin/sites/" (site) "/notices/publish" } {
            input type="hidden" name="csrf" value=(p.csrf.as_deref().unwrap_or(""));
            p {
                label for="site_toml" { "site.toml " span.muted { (t(lang, "(ไฟล์ตั้งค่าเว็บไซต์และประกาศ)", "(the site and notice settings)")) } }
                input id="site_toml" name="site_toml" type="file" accept=".toml,text/plain" required;
            }
            p {
                label for="notice_th" { "notice.th.md " span.muted { (t(lang, "(ประกาศฉบับเต็ม ภาษาไทย)", "(the full notice in Thai)")) } }
                input id="notice_th" name="notice_th" type="file" accept=".md,text/markdown,text/plain" required;
            }
            p {
                label for="notice_en" { "notice.en.md " span.muted { (t(lang, "(ประกาศฉบับเต็ม ภาษาอังกฤษ ถ้า site.toml ระบุภาษา en)", "(the full notice in English, if site.toml lists en)")) } }
                input id="notice_en" name="notice_en" type="file" accept=".md,text/markdown,text/plain";
            }
            p.muted { (t(lang, "รวมกันไม่เกิน ", "At most ")) (kb) (t(lang, " KB", " KB in all.")) }
            p { button type="submit" { (t(lang, "ตรวจไฟล์", "Check the files")) } }
        }
    }
}

fn intro(lang: Lang) -> Markup {
    html! {
        p { (t(lang,
            "อัปโหลดไฟล์ในโฟลเดอร์ของเว็บไซต์ ระบบจะตรวจด้วยกฎเดียวกับคำสั่ง yinyom sites import แล้วแสดงสิ่งที่จะเปลี่ยนให้คุณยืนยัน จะยังไม่มีอะไรเผยแพร่จนกว่าคุณจะกดยืนยัน",
            "Upload the files of the site's folder. They are checked with the same rules as the command yinyom sites import, and you see what will change before you confirm. Nothing is published until you confirm."
        )) }
    }
}

/// `GET /admin/sites/{site}/notices/publish`: the upload form.
pub(crate) async fn form(access: PublisherSite, UiLang(lang): UiLang) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let body = html! {
        (intro(lang))
        (upload_form(lang, p, site))
        p { a href={ "/admin/sites/" (site) "/notices" } { (t(lang, "← ประกาศทุกฉบับ", "← Notice versions")) } }
    };
    Ok(respond(
        lang,
        page(lang, &title(lang, site), signed_in(p), body),
    ))
}

fn problems_markup(lang: Lang, problems: &[String]) -> Markup {
    html! {
        div.alert role="alert" {
            h2 { (t(lang, "พบปัญหา ", "")) (problems.len()) (t(lang, " ข้อ", if problems.len() == 1 { " problem found" } else { " problems found" })) }
            p { (t(lang, "ยังไม่ได้เผยแพร่อะไร แก้ไขไฟล์แล้วอัปโหลดอีกครั้ง", "Nothing was published. Fix the files and upload them again.")) }
            ul.problems {
                @for problem in problems { li { (problem) } }
            }
        }
    }
}

fn ready_markup(lang: Lang, p: &Principal, site: &str, r: &Ready, id: &str) -> Markup {
    let n = &r.notice.notice;
    let current = r.current.as_ref().map(|c| &c.notice);
    html! {
        h2 { (t(lang, "สิ่งที่จะเผยแพร่", "What will be published")) }
        dl.kv {
            dt { (t(lang, "เว็บไซต์", "Site")) } dd { (r.site.name.get(lang)) " (" code { (site) } ")" }
            dt { (t(lang, "ฉบับ", "Version")) }
            dd {
                @if let Some(c) = current { (c.version) " → " }
                strong { (n.version) }
            }
            dt { (t(lang, "รอบความยินยอม", "Consent revision")) }
            dd {
                @if let Some(c) = current { (c.consent_revision) " → " }
                strong { (n.consent_revision) }
            }
            dt { (t(lang, "ถามผู้เข้าชมใหม่", "Visitors asked again")) }
            dd {
                @if r.asks_again {
                    strong { (t(lang, "ใช่", "Yes")) } ": "
                    (t(lang, "ผู้เข้าชมทุกคนจะเห็นแบนเนอร์และถูกขอความยินยอมใหม่", "every visitor sees the banner again and is asked for consent again."))
                } @else {
                    strong { (t(lang, "ไม่", "No")) } ": "
                    (t(lang, "รอบความยินยอมเท่าเดิม ความยินยอมที่ให้ไว้แล้วยังใช้ได้ (ถ้าต้องถามใหม่ ให้เพิ่ม consent_revision)", "the consent revision stays the same, so choices already made stay valid (raise consent_revision to ask again)."))
                }
            }
            dt { (t(lang, "มีผลตั้งแต่", "Effective from")) } dd { (n.effective_from) }
            dt { "SHA-256" } dd { code { (r.notice.sha256) } }
        }
        @if !r.site_changes.is_empty() {
            h2 { (t(lang, "ข้อมูลเว็บไซต์ที่เปลี่ยน", "Site details that change")) }
            table {
                thead { tr {
                    th scope="col" { (t(lang, "ส่วน", "Part")) }
                    th scope="col" { (t(lang, "เดิม", "Before")) }
                    th scope="col" { (t(lang, "ใหม่", "After")) }
                } }
                tbody {
                    @for c in &r.site_changes {
                        tr { th scope="row" { (c.what) } td.del { (c.before) } td.add { (c.after) } }
                    }
                }
            }
        }
        @match (&r.diff, current) {
            (Some(d), Some(c)) => (diff_markup(lang, d, &c.version, &n.version)),
            _ => p { (t(lang, "นี่เป็นประกาศฉบับแรกของเว็บไซต์นี้", "This is the site's first notice version.")) },
        }
        h2 { (t(lang, "ยืนยัน", "Confirm")) }
        p { (t(lang,
            "ฉบับที่เผยแพร่แล้วจะแก้ไขไม่ได้ ถ้าต้องเปลี่ยนภายหลังให้เผยแพร่ฉบับใหม่ ไฟล์ที่อัปโหลดเก็บไว้ 30 นาที",
            "A published version is never edited: to change it later, publish a new version. The upload is kept for 30 minutes."
        )) }
        form.actions method="post" action={ "/admin/sites/" (site) "/notices/publish/confirm" } {
            input type="hidden" name="csrf" value=(p.csrf.as_deref().unwrap_or(""));
            input type="hidden" name="upload" value=(id);
            button type="submit" { (t(lang, "เผยแพร่ฉบับ ", "Publish version ")) (n.version) }
            " "
            a href={ "/admin/sites/" (site) "/notices" } { (t(lang, "ยกเลิก", "Cancel")) }
        }
    }
}

/// `POST /admin/sites/{site}/notices/publish` (multipart): step 1, check and show.
pub(crate) async fn upload(
    State(state): State<AppState>,
    access: PublisherSite,
    UiLang(lang): UiLang,
    form: Multipart,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let up: Upload = ops::read_upload(form).await?;
    p.check_csrf(up.csrf.as_deref())?;
    let (status, heading, body) = match ops::check_upload(&state, &access, &up, lang).await? {
        UploadCheck::Invalid(problems) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            title(lang, site),
            html! {
                (problems_markup(lang, &problems))
                (upload_form(lang, p, site))
            },
        ),
        UploadCheck::Unchanged(why) => (
            StatusCode::OK,
            title(lang, site),
            html! {
                p role="status" {
                    strong { (t(lang, "ไม่มีอะไรใหม่ให้เผยแพร่", "Nothing new to publish")) } ": "
                    (t(lang, "ประกาศนี้เผยแพร่ไว้แล้ว", "this exact notice is already published")) " (" (why) ")."
                }
                (upload_form(lang, p, site))
            },
        ),
        UploadCheck::Ready(ready) => {
            let id = ops::stash_upload(&state, &access, &up).await?;
            (
                StatusCode::OK,
                format!(
                    "{} {} — {site}",
                    t(lang, "ยืนยันการเผยแพร่ฉบับ", "Confirm publishing version"),
                    ready.notice.notice.version
                ),
                ready_markup(lang, p, site, &ready, &id),
            )
        }
    };
    let mut res = respond(lang, page(lang, &heading, signed_in(p), body));
    *res.status_mut() = status;
    Ok(res)
}

/// The confirmation form.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfirmForm {
    csrf: Option<String>,
    upload: Option<String>,
}

/// `POST /admin/sites/{site}/notices/publish/confirm`: step 2, publish what step 1 kept.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    access: PublisherSite,
    UiLang(lang): UiLang,
    Form(form): Form<ConfirmForm>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    p.check_csrf(form.csrf.as_deref())?;
    let id = form.upload.unwrap_or_default();
    let again = html! {
        p { a href={ "/admin/sites/" (site) "/notices/publish" } { (t(lang, "อัปโหลดอีกครั้ง", "Upload again")) } }
    };
    let (status, body) = match ops::publish_pending(&state, &access, &id).await? {
        Publication::Published { version, .. } => {
            let to = format!(
                "/admin/sites/{site}/notices?{}",
                ops::query_string(&[("published", &version)])
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Publication::Unchanged(other) => (
            StatusCode::OK,
            html! {
                p role="status" {
                    strong { (t(lang, "ไม่มีอะไรใหม่ให้เผยแพร่", "Nothing new to publish")) } " (" (other) ")."
                }
                (again)
            },
        ),
        Publication::Invalid(problems) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { (problems_markup(lang, &problems)) (again) },
        ),
        Publication::Expired => (
            StatusCode::GONE,
            html! {
                p role="alert" { (t(lang,
                    "ไม่พบไฟล์ที่อัปโหลดไว้: หมดเวลา 30 นาทีแล้ว เผยแพร่ไปแล้ว หรืออัปโหลดจากการเข้าสู่ระบบอื่น ยังไม่ได้เผยแพร่อะไร",
                    "The upload is gone: its 30 minutes are over, it was already published, or it was made in another session. Nothing was published."
                )) }
                (again)
            },
        ),
    };
    let mut res = respond(lang, page(lang, &title(lang, site), signed_in(p), body));
    *res.status_mut() = status;
    Ok(res)
}
