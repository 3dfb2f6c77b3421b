//! Acceptance statistics: per day (Thailand time), per category and purpose, per notice
//! version. The console shows them to every role; the public endpoint publishes them as
//! open data with small counts suppressed.

use crate::{
    dates::{day_name, now_ms, thailand_day},
    error::ApiError,
    store::{Store, StoreError},
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The range of a statistics request (console, admin API, open data): `from` and `to`
/// as dates or RFC 3339 times, `to` exclusive.
#[derive(Debug, Deserialize, Default)]
pub struct StatsQuery {
    /// From (default: 30 days before `to`).
    pub from: Option<String>,
    /// Before (default: now).
    pub to: Option<String>,
}

impl StatsQuery {
    /// The range in unix milliseconds: by default the last 30 days; 400 if a bound does
    /// not parse or `from` is not before `to`.
    pub fn range(&self) -> Result<(i64, i64), ApiError> {
        let parse = |v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(crate::config::parse_time_ms)
                .transpose()
                .map_err(ApiError::BadRequest)
        };
        let to = parse(&self.to)?.unwrap_or(now_ms() + 1);
        let from = parse(&self.from)?.unwrap_or(to - 30 * crate::dates::DAY_MS);
        if from >= to {
            return Err(ApiError::BadRequest("`from` must be before `to`".into()));
        }
        Ok((from, to))
    }
}

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
            "withdraw" | "on_behalf" => self.withdrawn += n,
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

/// The current consent of a site's visitors (each visitor's latest choice; an expired
/// one consents to nothing), for the DPO's report.
#[derive(Debug, Clone, Serialize)]
pub struct Current {
    /// When it was computed (RFC 3339 UTC).
    pub at: String,
    /// Visitors with at least one receipt.
    pub visitors: i64,
    /// Visitors whose latest choice is still valid.
    pub valid: i64,
    /// Visitors whose latest choice (not a withdrawal) has expired: they count as not
    /// consenting and are asked again on their next visit.
    pub expired: i64,
    /// Visitors whose latest receipt is a withdrawal.
    pub withdrawn: i64,
    /// Visitors whose latest valid choice consents to at least one item.
    pub opted_in: i64,
    /// `opted_in / visitors`, when there are visitors.
    pub opt_in_rate: Option<f64>,
    /// The newest notice version.
    pub newest_version: Option<String>,
    /// Visitors whose latest choice is under the newest version and who had chosen under
    /// an earlier one: they consented again after the notice changed.
    pub reconsented: i64,
    /// Per category and purpose.
    pub items: Vec<CurrentItem>,
}

/// The current consent to one category or purpose.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentItem {
    /// `category` or `purpose`.
    pub kind: String,
    /// Its id.
    pub item: String,
    /// Visitors consenting now (latest choice grants it and is still valid).
    pub consenting: i64,
    /// Visitors whose latest choice decides it.
    pub decided: i64,
}

/// The current consent on `site` at `now_ms`.
pub async fn current(store: &Store, site: &str, now_ms: i64) -> Result<Current, StoreError> {
    let row = store.current_consent(site, now_ms).await?;
    let newest_version = store.current_notice(site).await?.map(|n| n.notice.version);
    let reconsented = match &newest_version {
        Some(v) => store.reconsented(site, v).await?,
        None => 0,
    };
    Ok(Current {
        at: crate::dates::rfc3339_ms(now_ms),
        visitors: row.visitors,
        valid: row.valid,
        expired: row.expired,
        withdrawn: row.withdrawn,
        opted_in: row.opted_in,
        opt_in_rate: (row.visitors > 0).then(|| row.opted_in as f64 / row.visitors as f64),
        newest_version,
        reconsented,
        items: row
            .items
            .into_iter()
            .map(|(kind, item, consenting, decided)| CurrentItem {
                kind,
                item,
                consenting,
                decided,
            })
            .collect(),
    })
}

/// A share as a percentage with one decimal ("62.5%"), or "–" when there is nothing to
/// divide.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".to_owned();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// The current consent as CSV for a monthly report: UTF-8 with a byte order mark (Thai
/// opens correctly in Excel), labelled in `lang`, one row per figure then one per item
/// (`title` names an item in `lang`).
pub fn current_csv(
    c: &Current,
    lang: yinyom_model::Lang,
    title: impl Fn(&str, &str) -> String,
) -> String {
    let th = lang == yinyom_model::Lang::Th;
    let l = |a: &'static str, b: &'static str| if th { a } else { b };
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("\u{feff}");
    out.push_str(&format!(
        "{},{},{},{},{}\n",
        l("ประเภท", "kind"),
        l("รายการ", "item"),
        l("ชื่อ", "title"),
        l("จำนวน", "count"),
        l("ร้อยละ", "percent")
    ));
    let figure = |out: &mut String, name: &str, n: i64, of: i64| {
        out.push_str(&format!(
            "{},,{},{n},{}\n",
            l("ภาพรวม", "overall"),
            q(name),
            percent(n, of)
        ));
    };
    figure(
        &mut out,
        l("ผู้เข้าชมทั้งหมด", "visitors"),
        c.visitors,
        c.visitors,
    );
    figure(
        &mut out,
        l("การเลือกยังไม่หมดอายุ", "choice still valid"),
        c.valid,
        c.visitors,
    );
    figure(
        &mut out,
        l("การเลือกหมดอายุแล้ว", "choice expired"),
        c.expired,
        c.visitors,
    );
    figure(
        &mut out,
        l("ถอนความยินยอมแล้ว", "withdrawn"),
        c.withdrawn,
        c.visitors,
    );
    figure(
        &mut out,
        l(
            "ยินยอมอย่างน้อยหนึ่งรายการ (อัตราการยินยอม)",
            "consenting to at least one item (opt-in rate)",
        ),
        c.opted_in,
        c.visitors,
    );
    let reconsent = format!(
        "{} {}",
        l(
            "ให้ความยินยอมใหม่ภายใต้ประกาศฉบับล่าสุด",
            "consented again under the newest notice"
        ),
        c.newest_version.as_deref().unwrap_or("")
    );
    figure(&mut out, &reconsent, c.reconsented, c.visitors);
    for i in &c.items {
        let kind = match (i.kind.as_str(), th) {
            ("category", true) => "คุกกี้",
            ("purpose", true) => "วัตถุประสงค์",
            (k, _) => k,
        };
        out.push_str(&format!(
            "{kind},{},{},{},{}\n",
            q(&i.item),
            q(&title(&i.kind, &i.item)),
            i.consenting,
            percent(i.consenting, c.visitors)
        ));
    }
    out
}

/// The published figures of the open statistics and the sums that tie them together, so
/// that withholding a small count can be made to stick (complementary suppression).
///
/// Every sum is a `total = cells…` relation a reader can subtract along: a row's total
/// and its four methods; a column of the range totals and the same column of every day,
/// and of every notice version; an item's granted + denied and the number of receipts
/// that decided it (not published, but equal to the range's total when every version
/// asks the item, so treated as known unless it is small itself).
#[derive(Debug, Default)]
struct Grid {
    value: Vec<i64>,
    hidden: Vec<bool>,
    sums: Vec<(usize, Vec<usize>)>,
}

impl Grid {
    fn cell(&mut self, v: i64) -> usize {
        self.value.push(v);
        self.hidden.push(false);
        self.value.len() - 1
    }

    fn sum(&mut self, total: usize, cells: impl IntoIterator<Item = usize>) {
        self.sums.push((total, cells.into_iter().collect()));
    }

    /// A row of counts: its five cells (four methods, then the total), tied by a sum.
    fn row(&mut self, c: &Counts) -> [usize; 5] {
        let ids = [
            c.accept_all,
            c.reject_all,
            c.partial,
            c.withdrawn,
            c.total(),
        ]
        .map(|v| self.cell(v));
        self.sum(ids[4], ids[..4].iter().copied());
        ids
    }

    /// Withholds every count from 1 to `k - 1`, then more cells until no subtraction
    /// gives one back: in every sum, no hidden member is alone (else it is the total
    /// minus the others, or the others subtracted from the total), and when the total is
    /// shown the hidden cells add up to 0 or at least `k` (else "total minus what is
    /// shown" is a small count). Each added cell is the smallest shown non-zero one of
    /// the sum that needs it, so as little as possible is withheld.
    fn protect(&mut self, k: i64) {
        let small = |v: i64| (1..k).contains(&v);
        for (h, v) in self.hidden.iter_mut().zip(&self.value) {
            *h = small(*v);
        }
        loop {
            let mut more = None;
            for (total, cells) in &self.sums {
                let members = || std::iter::once(*total).chain(cells.iter().copied());
                let hidden_members = members().filter(|i| self.hidden[*i]).count();
                let hidden_sum: i64 = cells
                    .iter()
                    .filter(|i| self.hidden[**i])
                    .map(|i| self.value[*i])
                    .sum();
                if hidden_members == 1 || (!self.hidden[*total] && small(hidden_sum)) {
                    let shown = |i: &usize| !self.hidden[*i];
                    more = cells
                        .iter()
                        .copied()
                        .filter(|i| shown(i) && self.value[*i] > 0)
                        .min_by_key(|i| self.value[*i])
                        .or_else(|| members().filter(shown).min_by_key(|i| self.value[*i]));
                    if more.is_some() {
                        break;
                    }
                }
            }
            match more {
                Some(i) => self.hidden[i] = true,
                None => return,
            }
        }
    }

    fn shown(&self, i: usize) -> Option<i64> {
        (!self.hidden[i]).then_some(self.value[i])
    }

    fn counts(&self, ids: &[usize; 5]) -> serde_json::Value {
        serde_json::json!({
            "accept_all": self.shown(ids[0]), "reject_all": self.shown(ids[1]),
            "partial": self.shown(ids[2]), "withdrawn": self.shown(ids[3]), "total": self.shown(ids[4]),
        })
    }
}

/// The statistics as open data: every count from 1 to `k - 1` is withheld (`null`), and
/// so are as few other counts as it takes that no total minus the counts shown gives one
/// back (see [`Grid::protect`]).
pub fn open_data(s: &Summary, k: i64) -> serde_json::Value {
    let mut g = Grid::default();
    let totals = g.row(&s.totals);
    let days: Vec<[usize; 5]> = s.days.iter().map(|(_, c)| g.row(c)).collect();
    let versions: Vec<[usize; 5]> = s.versions.values().map(|c| g.row(c)).collect();
    for col in 0..5 {
        g.sum(totals[col], days.iter().map(|d| d[col]));
        g.sum(totals[col], versions.iter().map(|v| v[col]));
    }
    let items: Vec<[usize; 2]> = s
        .items
        .iter()
        .map(|i| {
            let cells = [g.cell(i.granted), g.cell(i.denied)];
            let decided = g.cell(i.granted + i.denied);
            g.sum(decided, cells);
            cells
        })
        .collect();
    g.protect(k);
    serde_json::json!({
        "site": s.site,
        "from": s.from,
        "to": s.to,
        "suppressed_below": k,
        "note": "Counts of consent receipts by day (Thailand time). Counts from 1 to suppressed_below - 1 are withheld (null), and so are other counts wherever a total minus the counts shown would give one back.",
        "totals": g.counts(&totals),
        "days": s.days.iter().zip(&days).map(|((d, _), ids)| { let mut v = g.counts(ids); v["day"] = serde_json::json!(d); v }).collect::<Vec<_>>(),
        "versions": s.versions.keys().zip(&versions).map(|(ver, ids)| { let mut v = g.counts(ids); v["notice_version"] = serde_json::json!(ver); v }).collect::<Vec<_>>(),
        "items": s.items.iter().zip(&items).map(|(i, ids)| serde_json::json!({"kind": i.kind, "item": i.item, "granted": g.shown(ids[0]), "denied": g.shown(ids[1])})).collect::<Vec<_>>(),
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

    const K: i64 = 5;
    const METHODS: [&str; 4] = ["accept_all", "reject_all", "partial", "withdrawn"];
    const COLUMNS: [&str; 5] = ["accept_all", "reject_all", "partial", "withdrawn", "total"];

    /// A small deterministic generator (xorshift), so the tables are the same every run.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: i64) -> i64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as i64
        }
    }

    /// A summary built from a random day × version × method table where small counts
    /// are frequent, next to large ones: the data that tempts a subtraction.
    fn tempting(rng: &mut Rng) -> Summary {
        let (n_days, n_versions) = (1 + rng.below(5), 1 + rng.below(3));
        let mut days = vec![Counts::default(); n_days as usize];
        let mut versions = BTreeMap::new();
        let mut totals = Counts::default();
        for day in days.iter_mut() {
            for v in 0..n_versions {
                for m in ["accept_all", "reject_all", "save_preferences", "withdraw"] {
                    let n = match rng.below(4) {
                        0 => 0,
                        1 => 1 + rng.below(4),
                        _ => rng.below(14),
                    };
                    day.add(m, n);
                    totals.add(m, n);
                    versions
                        .entry(format!("v{v}"))
                        .or_insert_with(Counts::default)
                        .add(m, n);
                }
            }
        }
        // Items are asked under every version: granted + denied is the range's total.
        let items = (0..2)
            .map(|i| {
                let granted = rng.below(totals.total() + 1);
                ItemCounts {
                    kind: "category".into(),
                    item: format!("item{i}"),
                    granted,
                    denied: totals.total() - granted,
                }
            })
            .collect();
        Summary {
            site: "demo".into(),
            from: day_name(20_000),
            to: day_name(20_000 + n_days - 1),
            days: days
                .into_iter()
                .enumerate()
                .map(|(i, c)| (day_name(20_000 + i as i64), c))
                .collect(),
            totals,
            versions,
            items,
        }
    }

    /// Every `total = sum of cells` a reader of the published JSON knows, as paths.
    fn relations(open: &serde_json::Value) -> Vec<(String, Vec<String>)> {
        let mut rows = vec!["/totals".to_owned()];
        for list in ["days", "versions"] {
            let n = open[list].as_array().map_or(0, Vec::len);
            rows.extend((0..n).map(|i| format!("/{list}/{i}")));
        }
        let mut out: Vec<(String, Vec<String>)> = rows
            .iter()
            .map(|r| {
                let cells = METHODS.iter().map(|m| format!("{r}/{m}")).collect();
                (format!("{r}/total"), cells)
            })
            .collect();
        for list in ["days", "versions"] {
            let n = open[list].as_array().map_or(0, Vec::len);
            for c in COLUMNS {
                let cells = (0..n).map(|i| format!("/{list}/{i}/{c}")).collect();
                out.push((format!("/totals/{c}"), cells));
            }
        }
        let n = open["items"].as_array().map_or(0, Vec::len);
        for i in 0..n {
            let cells = vec![format!("/items/{i}/granted"), format!("/items/{i}/denied")];
            out.push(("/totals/total".to_owned(), cells));
        }
        out
    }

    /// The attacker: fills in every figure that is the only unknown of a sum, again and
    /// again; then subtracts every subset of the known cells of each sum from its known
    /// total. Returns what came out between 1 and K - 1.
    fn attack(open: &serde_json::Value) -> Vec<String> {
        let rels = relations(open);
        let mut known: BTreeMap<String, i64> = BTreeMap::new();
        for (t, cells) in &rels {
            for p in std::iter::once(t).chain(cells) {
                if let Some(v) = open.pointer(p).and_then(serde_json::Value::as_i64) {
                    known.insert(p.clone(), v);
                }
            }
        }
        let mut found = Vec::new();
        loop {
            let mut learned = None;
            for (t, cells) in &rels {
                let unknown: Vec<&String> = std::iter::once(t)
                    .chain(cells)
                    .filter(|p| !known.contains_key(*p))
                    .collect();
                if let [p] = unknown[..] {
                    let sum: i64 = cells.iter().filter_map(|c| known.get(c)).sum();
                    let v = if p == t { sum } else { known[t] - sum };
                    learned = Some((p.clone(), v));
                    break;
                }
            }
            match learned {
                Some((p, v)) => {
                    if (1..K).contains(&v) {
                        found.push(format!("{p} = {v}, the only unknown of a sum"));
                    }
                    known.insert(p, v);
                }
                None => break,
            }
        }
        for (t, cells) in &rels {
            let Some(&total) = known.get(t) else { continue };
            // Every sum a subset of the known cells can make (up to the total).
            let mut reach = vec![false; total.max(0) as usize + 1];
            reach[0] = true;
            for c in cells.iter().filter_map(|c| known.get(c)) {
                for s in (0..reach.len()).rev() {
                    if reach[s] && s + (*c as usize) < reach.len() {
                        reach[s + *c as usize] = true;
                    }
                }
            }
            for (s, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
                let left = total - s as i64;
                if (1..K).contains(&left) {
                    found.push(format!(
                        "{t} ({total}) minus known cells worth {s} = {left}"
                    ));
                }
            }
        }
        found
    }

    fn nulls(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Null => 1,
            serde_json::Value::Array(a) => a.iter().map(nulls).sum(),
            serde_json::Value::Object(o) => o.values().map(nulls).sum(),
            _ => 0,
        }
    }

    /// The example: 9 in all, 8 accepted, so the withheld 1 was 9 - 8.
    #[test]
    fn a_withheld_count_is_not_the_total_minus_the_others() {
        let s = Summary {
            site: "demo".into(),
            from: day_name(20_000),
            to: day_name(20_000),
            days: vec![(
                day_name(20_000),
                Counts {
                    accept_all: 8,
                    reject_all: 1,
                    ..Counts::default()
                },
            )],
            totals: Counts {
                accept_all: 8,
                reject_all: 1,
                ..Counts::default()
            },
            versions: BTreeMap::from([(
                "v1".to_owned(),
                Counts {
                    accept_all: 8,
                    reject_all: 1,
                    ..Counts::default()
                },
            )]),
            items: vec![],
        };
        let open = open_data(&s, K);
        assert!(open["totals"]["reject_all"].is_null(), "{open}");
        assert!(open["totals"]["accept_all"].is_null(), "{open}");
        assert_eq!(open["totals"]["partial"], 0);
        assert_eq!(open["totals"]["total"], 9);
        assert_eq!(attack(&open), Vec::<String>::new());
    }

    /// On a thousand tables built to tempt it, no subtraction of published figures (nor
    /// any figure derived from them) gives a count from 1 to 4; and a table with no
    /// small count is published whole.
    #[test]
    fn no_subtraction_reveals_a_small_count() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut withheld = 0;
        for round in 0..1000 {
            let s = tempting(&mut rng);
            let open = open_data(&s, K);
            let found = attack(&open);
            assert!(found.is_empty(), "table {round}: {found:?}\n{open}");
            withheld += nulls(&open);
        }
        assert!(withheld > 0, "the tables must tempt");

        let mut big = tempting(&mut Rng(7));
        for (_, c) in big.days.iter_mut() {
            *c = Counts {
                accept_all: 10,
                reject_all: 6,
                partial: 0,
                withdrawn: 5,
            };
        }
        big.totals = Counts::default();
        for (_, c) in &big.days {
            big.totals.accept_all += c.accept_all;
            big.totals.reject_all += c.reject_all;
            big.totals.withdrawn += c.withdrawn;
        }
        big.versions = BTreeMap::from([("v0".to_owned(), big.totals.clone())]);
        big.items = vec![];
        let open = open_data(&big, K);
        assert_eq!(nulls(&open), 0, "{open}");
    }
}
