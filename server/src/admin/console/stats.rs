//! `/admin/sites/{site}/stats` and `stats.csv`: acceptance statistics (every role of the
//! site).

use super::{PageResult, signed_in};
use crate::{
    admin::{
        access::VisibleSite,
        ui::{UiLang, page, respond, t},
    },
    error::ApiError,
    state::AppState,
    stats::{self, StatsQuery},
};
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use maud::html;
use yinyom_model::{Lang, notice::Notice};

/// `GET /admin/sites/{site}/stats`: every role of the site.
pub(crate) async fn show(
    State(state): State<AppState>,
    access: VisibleSite,
    UiLang(lang): UiLang,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let site = access.id();
    let (from, to) = q.range()?;
    let s = stats::summary(&state.store, site, from, to).await?;
    let now = crate::dates::now_ms();
    let current = stats::current(&state.store, site, now).await?;
    let notice = state.store.current_notice(site).await?.map(|p| p.notice);
    let item_title = |kind: &str, id: &str| item_title(notice.as_ref(), lang, kind, id);
    let month = crate::dates::month_range(now);
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
        h2 { (t(lang, "ความยินยอมปัจจุบัน", "Consent now")) }
        p.muted { (t(lang, "นับจากการเลือกล่าสุดของผู้เข้าชมแต่ละคน การเลือกที่หมดอายุแล้วนับว่าไม่ยินยอม ณ ", "From each visitor's latest choice; an expired choice counts as not consenting. As of ")) (crate::dates::ms(now, lang)) }
        dl.kv {
            dt { (t(lang, "ผู้เข้าชมทั้งหมด", "Visitors")) } dd { (current.visitors) }
            dt { (t(lang, "การเลือกยังไม่หมดอายุ", "Choice still valid")) } dd { (current.valid) }
            dt { (t(lang, "การเลือกหมดอายุแล้ว", "Choice expired")) } dd { (current.expired) }
            dt { (t(lang, "ถอนความยินยอมแล้ว", "Withdrawn")) } dd { (current.withdrawn) }
            dt { (t(lang, "อัตราการยินยอม (ยินยอมอย่างน้อยหนึ่งรายการ)", "Opt-in rate (consenting to at least one item)")) }
            dd { (stats::percent(current.opted_in, current.visitors)) " (" (current.opted_in) ")" }
            @if let Some(v) = &current.newest_version {
                dt { (t(lang, "ให้ความยินยอมใหม่ภายใต้ประกาศฉบับล่าสุด", "Consented again under the newest notice")) " (" (v) ")" }
                dd { (current.reconsented) }
            }
        }
        table {
            caption { (t(lang, "ความยินยอมปัจจุบันต่อวัตถุประสงค์และประเภทคุกกี้", "Consent now per purpose and cookie category")) }
            thead { tr {
                th scope="col" { (t(lang, "รายการ", "Item")) }
                th scope="col" { (t(lang, "ยินยอมอยู่", "Consenting")) }
                th scope="col" { (t(lang, "ร้อยละของผู้เข้าชม", "Share of visitors")) }
            } }
            tbody { @for i in &current.items { tr {
                th scope="row" { (item_title(&i.kind, &i.item)) }
                td { (i.consenting) }
                td { (stats::percent(i.consenting, current.visitors)) }
            } } }
        }
        p {
            a href={ "/admin/sites/" (site) "/stats/current.csv?lang=" (lang.code()) } { (t(lang, "ดาวน์โหลดความยินยอมปัจจุบัน (CSV)", "Download consent now (CSV)")) }
            " · "
            a href={ "/admin/sites/" (site) "/stats?from=" (month.0) "&to=" (month.1) } { (t(lang, "สถิติเดือนนี้ (สำหรับรายงานประจำเดือน)", "This month's statistics (for the monthly report)")) }
        }
        h2 { (t(lang, "ใบรับตามช่วงเวลา", "Receipts over time")) }
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
            tbody { @for i in &s.items { tr {
                th scope="row" {
                    (item_title(&i.kind, &i.item)) " "
                    span.muted { "(" (if i.kind == "purpose" { t(lang, "วัตถุประสงค์", "purpose") } else { t(lang, "คุกกี้", "cookie category") }) " " code { (i.item) } ")" }
                }
                td { (i.granted) } td { (i.denied) }
            } } }
        }
        h2 { (t(lang, "ต่อฉบับประกาศ", "Per notice version")) }
        table {
            thead { tr { th scope="col" { (t(lang, "ฉบับ", "Version")) } @for i in 0..4 { th scope="col" { (label(i)) } } } }
            tbody { @for (v, c) in &s.versions { tr { th scope="row" { (v) } td { (c.accept_all) } td { (c.reject_all) } td { (c.partial) } td { (c.withdrawn) } } } }
        }
    };
    Ok(respond(
        lang,
        page(lang, &title, signed_in(access.principal()), body),
    ))
}

/// An item's title in the current notice (its id when the notice does not have it).
fn item_title(notice: Option<&Notice>, lang: Lang, kind: &str, id: &str) -> String {
    let found = notice.and_then(|n| match kind {
        "purpose" => n
            .purposes
            .iter()
            .find(|p| p.id.as_str() == id)
            .map(|p| p.title.get(lang).to_owned()),
        _ => n
            .categories
            .iter()
            .find(|c| c.id.as_str() == id)
            .map(|c| c.title.get(lang).to_owned()),
    });
    found.unwrap_or_else(|| id.to_owned())
}

/// `GET /admin/sites/{site}/stats/current.csv`: the current consent for a monthly report
/// (UTF-8 with BOM, labelled in the console's language).
pub(crate) async fn current_csv(
    State(state): State<AppState>,
    access: VisibleSite,
    UiLang(lang): UiLang,
) -> Result<Response, ApiError> {
    let site = access.id();
    let now = crate::dates::now_ms();
    let current = stats::current(&state.store, site, now).await?;
    let notice = state.store.current_notice(site).await?.map(|p| p.notice);
    let day = crate::dates::day_name(crate::dates::thailand_day(now));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{site}-consent-{day}.csv\""),
            ),
        ],
        stats::current_csv(&current, lang, |k, i| {
            item_title(notice.as_ref(), lang, k, i)
        }),
    )
        .into_response())
}

/// `GET /admin/sites/{site}/stats.csv`
pub(crate) async fn csv(
    State(state): State<AppState>,
    access: VisibleSite,
    Query(q): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    let site = access.id();
    let (from, to) = q.range()?;
    let s = stats::summary(&state.store, site, from, to).await?;
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
