//! Acceptance statistics: per day (Thailand time), per category and purpose, per notice
//! version. The console shows them to every role; the public endpoint publishes them as
//! open data with small counts suppressed.

use crate::{
    dates::{day_name, thailand_day},
    store::{Store, StoreError},
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts of one day (or of the whole range).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Accept all.
    pub accept_all: i64,
    /// Reject all.
    pub reject_all: i64,
    /// Saved per-category choices.
    pub partial: i64,
    /// Withdrawals.
    pub withdrawn: i64,
}

impl Counts {
    fn add(&mut self, method: &str, n: i64) {
        match method {
            "accept_all" => self.accept_all += n,
            "reject_all" => self.reject_all += n,
            "withdraw" => self.withdrawn += n,
            _ => self.partial += n,
        }
    }

    /// All receipts.
    pub fn total(&self) -> i64 {
        self.accept_all + self.reject_all + self.partial + self.withdrawn
    }
}

/// A site's statistics over a time range.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Site id.
    pub site: String,
    /// First day (YYYY-MM-DD, Thailand time).
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// Per day.
    pub days: Vec<(String, Counts)>,
    /// Over the whole range.
    pub totals: Counts,
    /// Per notice version.
    pub versions: BTreeMap<String, Counts>,
    /// Per category or purpose: (kind, id) → (granted, denied).
    pub items: Vec<ItemCounts>,
}

/// Decisions about one category or purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemCounts {
    /// `category` or `purpose`.
    pub kind: String,
    /// Its id.
    pub item: String,
    /// Granted.
    pub granted: i64,
    /// Denied.
    pub denied: i64,
}

/// Statistics of `site` for the Thailand days containing `[from_ms, to_ms)`.
pub async fn summary(
    store: &Store,
    site: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Summary, StoreError> {
    let rows = store.stats_by_day(site, from_ms, to_ms).await?;
    let mut days: BTreeMap<i64, Counts> = BTreeMap::new();
    let first = thailand_day(from_ms);
    let last = thailand_day(to_ms - 1);
    if last - first <= 400 {
        for d in first..=last {
            days.entry(d).or_default();
        }
    }
    let mut totals = Counts::default();
    let mut versions: BTreeMap<String, Counts> = BTreeMap::new();
    for r in &rows {
        days.entry(r.day).or_default().add(&r.method, r.count);
        totals.add(&r.method, r.count);
        versions
            .entry(r.notice_version.clone())
            .or_default()
            .add(&r.method, r.count);
    }
    let items = store
        .stats_by_item(site, from_ms, to_ms)
        .await?
        .into_iter()
        .map(|(kind, item, granted, denied)| ItemCounts {
            kind,
            item,
            granted,
            denied,
        })
        .collect();
    Ok(Summary {
        site: site.to_owned(),
        from: day_name(first),
        to: day_name(last),
        days: days.into_iter().map(|(d, c)| (day_name(d), c)).collect(),
        totals,
        versions,
        items,
    })
}

/// A count as open data: `None` when below the threshold (too few to publish safely).
fn open(n: i64, k: i64) -> Option<i64> {
    (n == 0 || n >= k).then_some(n)
}

/// The statistics as open data: every count from 1 to `k - 1` is suppressed (`null`).
pub fn open_data(s: &Summary, k: i64) -> serde_json::Value {
    let c = |c: &Counts| {
        serde_json::json!({
            "accept_all": open(c.accept_all, k), "reject_all": open(c.reject_all, k),
            "partial": open(c.partial, k), "withdrawn": open(c.withdrawn, k), "total": open(c.total(), k),
        })
    };
    serde_json::json!({
        "site": s.site,
        "from": s.from,
        "to": s.to,
        "suppressed_below": k,
        "note": "Counts of consent receipts by day (Thailand time). Counts from 1 to suppressed_below - 1 are withheld (null).",
        "totals": c(&s.totals),
        "days": s.days.iter().map(|(d, x)| { let mut v = c(x); v["day"] = serde_json::json!(d); v }).collect::<Vec<_>>(),
        "versions": s.versions.iter().map(|(ver, x)| { let mut v = c(x); v["notice_version"] = serde_json::json!(ver); v }).collect::<Vec<_>>(),
        "items": s.items.iter().map(|i| serde_json::json!({"kind": i.kind, "item": i.item, "granted": open(i.granted, k), "denied": open(i.denied, k)})).collect::<Vec<_>>(),
    })
}

/// The per-day counts as CSV.
pub fn csv(s: &Summary) -> String {
    let mut out = String::from("day,accept_all,reject_all,partial,withdrawn,total\n");
    for (d, c) in &s.days {
        out.push_str(&format!(
            "{d},{},{},{},{},{}\n",
            c.accept_all,
            c.reject_all,
            c.partial,
            c.withdrawn,
            c.total()
        ));
    }
    out
}

/// Colours and labels of the four series (Thai, English). Colours meet 3:1 against white.
pub const SERIES: [(&str, &str, &str); 4] = [
    ("#1a7f37", "ยอมรับทั้งหมด", "Accept all"),
    ("#b42318", "ปฏิเสธทั้งหมด", "Reject all"),
    ("#0b4f9c", "เลือกบางส่วน", "Partial"),
    ("#6e4a00", "ถอนความยินยอม", "Withdrawn"),
];

/// A stacked bar chart of the per-day counts, as SVG (the same numbers are in a table
/// next to it for screen readers).
pub fn svg(s: &Summary, title: &str) -> String {
    let (w, h, pad) = (720.0_f64, 240.0_f64, 36.0_f64);
    let max = s
        .days
        .iter()
        .map(|(_, c)| c.total())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = s.days.len().max(1) as f64;
    let bw = ((w - pad * 2.0) / n * 0.8).max(1.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" width=\"100%\">",
        crate::render::esc(title)
    );
    out.push_str(&format!(
        "<line x1=\"{pad}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#555\"/>",
        y = h - pad,
        x2 = w - pad
    ));
    out.push_str(&format!(
        "<text x=\"4\" y=\"{}\" font-size=\"11\" fill=\"#333\">{}</text>",
        pad - 8.0,
        max as i64
    ));
    for (i, (day, c)) in s.days.iter().enumerate() {
        let x = pad + (i as f64) * (w - pad * 2.0) / n;
        let mut y = h - pad;
        for (j, v) in [c.accept_all, c.reject_all, c.partial, c.withdrawn]
            .iter()
            .enumerate()
        {
            if *v == 0 {
                continue;
            }
            let bh = (*v as f64) / max * (h - pad * 2.0);
            y -= bh;
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{day}: {v}</title></rect>",
                SERIES[j].0
            ));
        }
        if s.days.len() <= 14 || i % (s.days.len() / 7).max(1) == 0 {
            out.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{}\" font-size=\"10\" fill=\"#333\">{}</text>",
                h - pad + 14.0,
                day.get(5..).unwrap_or(day)
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_suppressed_but_zero_is_not() {
        assert_eq!(open(0, 5), Some(0));
        assert_eq!(open(3, 5), None);
        assert_eq!(open(5, 5), Some(5));
    }
}
