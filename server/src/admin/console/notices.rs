//! `/admin/sites/{site}/notices`: the notice version history, and the diff between two
//! versions (also shown before publishing, [`super::publish`]).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::VisibleSite,
        diff,
        ops::{self, DiffQuery},
        ui::{UiLang, page, respond, t},
    },
    dates,
    state::AppState,
};
use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;
use yinyom_model::Lang;

/// Query of the notice history: `published` names the version just published.
#[derive(Debug, Deserialize)]
pub(crate) struct NoticesQuery {
    published: Option<String>,
}

/// `GET /admin/sites/{site}/notices`: the version history.
pub(crate) async fn history(
    State(state): State<AppState>,
    access: VisibleSite,
    UiLang(lang): UiLang,
    Query(q): Query<NoticesQuery>,
) -> PageResult {
    let (p, site) = (access.principal(), access.id());
    let versions = state.store.notice_versions(site).await?;
    // Said only when it is true: the version named is the current one.
    let published = q
        .published
        .filter(|v| versions.first().is_some_and(|c| &c.version == v));
    let body = html! {
        @if let Some(v) = &published {
            p.ok role="status" { "✓ " (t(lang, "เผยแพร่ฉบับ ", "Published version ")) (v) (t(lang, " แล้ว เป็นฉบับปัจจุบัน", "; it is the current version.")) }
        }
        @if p.role().is_staff() {
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
                        td { (dates::ymd(&v.effective_from, lang)) } td { (v.consent_revision) } td { (dates::rfc3339(&v.published_at, lang)) } td { code { (v.sha256.get(..16).unwrap_or("")) "…" } }
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
    Ok(respond(lang, page(lang, &title, signed_in(p), body)))
}

/// `GET /admin/sites/{site}/notices/diff?from=&to=`
pub(crate) async fn diff_page(
    State(state): State<AppState>,
    access: VisibleSite,
    UiLang(lang): UiLang,
    Query(q): Query<DiffQuery>,
) -> PageResult {
    let d = ops::diff_of(&state, &access, &q, lang).await?;
    let body = diff_markup(lang, &d, &q.from, &q.to);
    let title = format!(
        "{} {} → {}",
        t(lang, "เทียบประกาศ", "Notice diff"),
        q.from,
        q.to
    );
    Ok(respond(
        lang,
        page(lang, &title, signed_in(access.principal()), body),
    ))
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
