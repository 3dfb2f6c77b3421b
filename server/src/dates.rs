//! Dates and times as people read them: Thailand time (UTC+7), and in Thai with the
//! Buddhist era ("1 สิงหาคม 2568", "10:35 น."), in English as "1 August 2025", "10:35".
//!
//! The one home of these rules on the server: the public notice page
//! (`render.rs`), statistics (`stats.rs`, Thailand days) and every console page use it;
//! exports and the API keep RFC 3339 (ISO 8601 with an offset). Stored times are unix milliseconds (UTC) or RFC 3339 strings.

use time::{Date, Month, OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};
use yinyom_model::Lang;

/// Thailand's offset from UTC, in milliseconds (no daylight saving).
pub const TH_OFFSET_MS: i64 = 7 * 3_600_000;
/// A day, in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// The Buddhist era is the Common Era plus 543 years.
const BUDDHIST_ERA: i32 = 543;

const TH_MONTHS: [&str; 12] = [
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
];

/// The Thailand day (days since 1970-01-01 in Thailand time) of unix milliseconds.
pub fn thailand_day(ms: i64) -> i64 {
    (ms + TH_OFFSET_MS).div_euclid(DAY_MS)
}

/// When the Thailand day `day` starts, in unix milliseconds.
pub fn thailand_day_start(day: i64) -> i64 {
    day * DAY_MS - TH_OFFSET_MS
}

/// Milliseconds since the unix epoch, now.
pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Formats unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// Unix milliseconds as RFC 3339 in Thailand time, with its offset
/// (`2026-12-03T19:16:47.123+07:00`): times the API gives people's cases.
pub fn rfc3339_th(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let t = thailand(t);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+07:00"
    );
    t.format(&f).unwrap_or_default()
}

/// The Buddhist-era year (Thailand time) of unix milliseconds.
pub fn buddhist_year(ms: i64) -> i64 {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    i64::from(thailand(t).year()) + 543
}

/// `YYYY-MM-DD` of a Thailand day number (for machines: exports, open data).
pub fn day_name(day: i64) -> String {
    day.checked_mul(86_400)
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(|| format!("day {day}"), |t| t.date().to_string())
}

/// The Thailand month containing unix milliseconds `ms`: its first day and the first day
/// of the next month, as `YYYY-MM-DD` (a statistics range, `to` exclusive).
pub fn month_range(ms: i64) -> (String, String) {
    let first = Date::parse(
        &day_name(thailand_day(ms)),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .and_then(|d| d.replace_day(1).ok());
    let next = first.and_then(|d| {
        let (y, m) = if d.month() == Month::December {
            (d.year() + 1, Month::January)
        } else {
            (d.year(), d.month().next())
        };
        Date::from_calendar_date(y, m, 1).ok()
    });
    match (first, next) {
        (Some(a), Some(b)) => (a.to_string(), b.to_string()),
        _ => (day_name(thailand_day(ms)), day_name(thailand_day(ms) + 1)),
    }
}

/// A date in words: "1 สิงหาคม 2568" (Buddhist era) or "1 August 2025".
pub fn date(d: Date, lang: Lang) -> String {
    let month = usize::from(u8::from(d.month())) - 1;
    match lang {
        Lang::Th => format!(
            "{} {} {}",
            d.day(),
            TH_MONTHS[month],
            d.year() + BUDDHIST_ERA
        ),
        Lang::En => format!("{} {} {}", d.day(), d.month(), d.year()),
    }
}

/// A `YYYY-MM-DD` date (a notice's `effective_from`) in words; the text itself if it is
/// not such a date.
pub fn ymd(s: &str, lang: Lang) -> String {
    parse_ymd(s).map_or_else(|| s.to_owned(), |d| date(d, lang))
}

/// A `YYYY-MM` label (a notice version such as `2025-07`) as "กรกฎาคม 2568" or
/// "July 2025"; a full `YYYY-MM-DD` as [`ymd`]; any other label as it is.
pub fn year_month(s: &str, lang: Lang) -> String {
    if parse_ymd(s).is_some() {
        return ymd(s, lang);
    }
    let ym = s.split_once('-').and_then(|(y, m)| {
        let year: i32 = y.parse().ok().filter(|_| y.len() == 4)?;
        let month = Month::try_from(m.parse::<u8>().ok().filter(|_| m.len() == 2)?).ok()?;
        Some((year, month))
    });
    match (ym, lang) {
        (Some((y, m)), Lang::Th) => {
            format!(
                "{} {}",
                TH_MONTHS[usize::from(u8::from(m)) - 1],
                y + BUDDHIST_ERA
            )
        }
        (Some((y, m)), Lang::En) => format!("{m} {y}"),
        (None, _) => s.to_owned(),
    }
}

fn parse_ymd(s: &str) -> Option<Date> {
    let mut parts = s.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn thailand(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC))
}

/// Date and time in Thailand: "1 สิงหาคม 2568 เวลา 10:35 น." or
/// "1 August 2025, 10:35 (Thailand time)".
pub fn date_time(t: OffsetDateTime, lang: Lang) -> String {
    let t = thailand(t);
    let (day, h, m) = (date(t.date(), lang), t.hour(), t.minute());
    match lang {
        Lang::Th => format!("{day} เวลา {h:02}:{m:02} น."),
        Lang::En => format!("{day}, {h:02}:{m:02} (Thailand time)"),
    }
}

/// Unix milliseconds (a stored time) as [`date_time`]: the console's times.
pub fn ms(ms: i64, lang: Lang) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    date_time(t, lang)
}

/// An RFC 3339 time (a notice's `published_at`) as [`date_time`]; the text itself if it
/// does not parse.
pub fn rfc3339(s: &str, lang: Lang) -> String {
    OffsetDateTime::parse(s, &Rfc3339).map_or_else(|_| s.to_owned(), |t| date_time(t, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_dates_use_the_buddhist_era_and_thailand_time() {
        // 2025-08-01T03:35Z is 10:35 in Bangkok.
        assert_eq!(
            rfc3339("2025-08-01T03:35:00.000Z", Lang::Th),
            "1 สิงหาคม 2568 เวลา 10:35 น."
        );
        assert_eq!(
            rfc3339("2025-08-01T03:35:00.000Z", Lang::En),
            "1 August 2025, 10:35 (Thailand time)"
        );
        // 20:00 UTC on 31 December is already 1 January in Thailand.
        assert_eq!(
            rfc3339("2024-12-31T20:00:00Z", Lang::Th),
            "1 มกราคม 2568 เวลา 03:00 น."
        );
        // 1754019300000 ms is 2025-08-01T03:35:00Z.
        assert_eq!(
            ms(1_754_019_300_000, Lang::Th),
            "1 สิงหาคม 2568 เวลา 10:35 น."
        );
        assert_eq!(ymd("2025-07-01", Lang::Th), "1 กรกฎาคม 2568");
        assert_eq!(ymd("2025-07-01", Lang::En), "1 July 2025");
        assert_eq!(ymd("soon", Lang::Th), "soon");
        assert_eq!(year_month("2025-07", Lang::Th), "กรกฎาคม 2568");
        assert_eq!(year_month("2025-07", Lang::En), "July 2025");
        assert_eq!(year_month("v1", Lang::Th), "v1");
        assert_eq!(year_month("2025-7-beta", Lang::Th), "2025-7-beta");
    }

    #[test]
    fn a_thailand_month() {
        // 2025-12-31T18:00Z is already 1 January 2026 in Thailand.
        let ms = 1_767_204_000_000;
        assert_eq!(month_range(ms), ("2026-01-01".into(), "2026-02-01".into()));
        assert_eq!(
            month_range(ms - 3 * 3_600_000),
            ("2025-12-01".into(), "2026-01-01".into())
        );
    }

    #[test]
    fn thailand_days() {
        assert_eq!(day_name(20_000), "2024-10-04");
        // 17:00 UTC is midnight in Thailand: the next day.
        assert_eq!(thailand_day(16_999 * DAY_MS + 17 * 3_600_000), 17_000);
        assert_eq!(thailand_day(16_999 * DAY_MS + 17 * 3_600_000 - 1), 16_999);
        assert_eq!(thailand_day_start(17_000), 16_999 * DAY_MS + 17 * 3_600_000);
        assert_eq!(thailand_day(thailand_day_start(17_000)), 17_000);
    }
}
