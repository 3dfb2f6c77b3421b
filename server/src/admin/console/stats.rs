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
use yinyom_model::Lang;

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
    let now = stats::current_state(&state.store, site, crate::dates::now_ms()).await?;
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
        h2 { (t(lang, "สถานะปัจจุบัน", "Current state")) }
        p.current-state {
            (t(lang, "ผู้เข้าชม ", "Visitors ")) strong { (now.visitors) }
            (t(lang, " ราย ตามใบรับล่าสุดของแต่ละราย: ความยินยอมยังมีผล ", " by each one's newest receipt: consent in force "))
            strong { (now.current) }
            (t(lang, " · ถอนความยินยอมแล้ว ", " · withdrawn ")) strong { (now.withdrawn) }
            (t(lang, " · หมดอายุ (เลยวันที่ใช้ได้ถึง ต้องขอความยินยอมใหม่) ", " · expired (past its validity; to be asked again) "))
            strong { (now.expired) }
        }
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
    Ok(respond(
        lang,
        page(lang, &title, signed_in(access.principal()), body),
    ))
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
