//! The site file (`site.toml`) as a webmaster writes it, and its validation.
//!
//! [`SiteFile`] mirrors the TOML one to one (unknown fields are refused, so a typo is an
//! error, not a silently ignored setting). [`SiteFile::validate`] checks everything and
//! turns it into a [`Site`] (who may embed) and a [`Notice`] (what visitors are shown):
//! "parse, don't validate".

// The parts of a notice are defined with it; re-exported here, where `site.toml`
// describes them.
pub use crate::notice::{
    Asked, Category, Cookie, GcmSignal, LegalBasis, MinorsPolicy, Party, Purpose,
};
use crate::{Lang, Slug, Text, notice::Notice, text::find_bidi_control};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A site as registered with the server: who may embed the widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The site id used in every URL.
    pub id: Slug,
    /// The site's name.
    pub name: Text,
    /// Origins (`https://host[:port]`) allowed to embed the widget and post receipts.
    pub origins: Vec<String>,
    /// Days a consent record (receipt) is kept after the consent ends (`[retention]
    /// consent_records_days`); `yinyom retention apply` erases it then.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
}

/// The default of `[retention] consent_records_days`: ten years, the longest period in
/// which a claim over the processing can still be brought (PDPA s.78: ten years from the
/// violation), so the proof outlives any claim it may answer.
pub const DEFAULT_RETENTION_DAYS: u32 = 3650;

/// The range `[retention] consent_records_days` must be in.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=7300;

fn default_retention_days() -> u32 {
    DEFAULT_RETENTION_DAYS
}

/// The `[retention]` table of a site file: how long consent records are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionFile {
    /// Days a receipt is kept after the consent it records ends (withdrawn, replaced by a
    /// later choice of the same visitor, or past its validity).
    #[serde(default = "default_retention_days")]
    pub consent_records_days: u32,
}

impl Default for RetentionFile {
    fn default() -> Self {
        Self {
            consent_records_days: DEFAULT_RETENTION_DAYS,
        }
    }
}

/// The `[notice]` table of a site file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeFile {
    /// Version label, e.g. `2025-01`.
    pub version: String,
    /// Raising it asks every visitor again.
    pub consent_revision: u32,
    /// Date the notice takes effect, `YYYY-MM-DD`.
    pub effective_from: String,
    /// Days a consent stays valid before the visitor is asked again.
    pub consent_validity_days: u32,
    /// Banner title.
    pub title: Text,
    /// Banner text: a short plain summary of what is collected and why.
    pub summary: Text,
    /// Minors mode (PDPA s.20).
    #[serde(default)]
    pub minors: MinorsPolicy,
}

/// A site file exactly as written in `site.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    /// Site id.
    pub id: Slug,
    /// Site name.
    pub name: Text,
    /// Allowed origins.
    pub origins: Vec<String>,
    /// Languages, Thai first.
    pub languages: Vec<Lang>,
    /// The data controller (the agency).
    pub controller: Party,
    /// The data protection officer.
    pub dpo: Party,
    /// The notice's version, revision and banner texts.
    pub notice: NoticeFile,
    /// Purposes of processing.
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    /// Cookie categories.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// How long consent records are kept after the consent ends.
    #[serde(default)]
    pub retention: RetentionFile,
}

/// One thing wrong with a site file: which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `categories[1].title.en`.
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl SiteFile {
    /// Checks the whole file and builds the site and its notice. `body` is the full notice
    /// text (Markdown) per language. Every problem is reported, not only the first.
    pub fn validate(self, body: Text) -> Result<(Site, Notice), Vec<Problem>> {
        let mut p = Problems::default();
        let langs = &self.languages;

        if langs.first() != Some(&Lang::Th) {
            p.add(
                "languages",
                "must list \"th\" first (Thai is the primary language)",
            );
        }
        if langs.iter().collect::<BTreeSet<_>>().len() != langs.len() {
            p.add("languages", "lists a language twice");
        }
        if self.origins.is_empty() {
            p.add(
                "origins",
                "must list at least one origin, e.g. \"https://www.example.go.th\"",
            );
        }
        for (i, o) in self.origins.iter().enumerate() {
            if let Err(e) = check_origin(o) {
                p.add(format!("origins[{i}]"), e);
            }
        }
        p.text("name", &self.name, langs);
        p.party("controller", &self.controller, langs);
        p.party("dpo", &self.dpo, langs);

        let n = &self.notice;
        let version_ok = (1..=64).contains(&n.version.len())
            && n.version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !version_ok {
            p.add(
                "notice.version",
                "use 1-64 characters A-Z, a-z, 0-9, '.', '_' or '-'",
            );
        }
        if n.consent_revision == 0 {
            p.add("notice.consent_revision", "must be 1 or more");
        }
        if !is_date(&n.effective_from) {
            p.add("notice.effective_from", "must be a date written YYYY-MM-DD");
        }
        if !(1..=3650).contains(&n.consent_validity_days) {
            p.add(
                "notice.consent_validity_days",
                "must be between 1 and 3650 days",
            );
        }
        if !RETENTION_DAYS.contains(&self.retention.consent_records_days) {
            p.add(
                "retention.consent_records_days",
                format!(
                    "must be between {} and {} days (default {DEFAULT_RETENTION_DAYS}: ten years)",
                    RETENTION_DAYS.start(),
                    RETENTION_DAYS.end()
                ),
            );
        }
        p.text("notice.title", &n.title, langs);
        p.text("notice.summary", &n.summary, langs);
        for lang in langs {
            if !body.has(*lang) {
                p.add(
                    format!("notice.{}.md", lang.code()),
                    "the full notice text is missing or empty",
                );
            }
        }
        p.no_bidi("notice.th.md", &body.th);
        p.no_bidi("notice.en.md", &body.en);

        let mut ids = BTreeSet::new();
        for (i, purpose) in self.purposes.iter().enumerate() {
            let at = format!("purposes[{i}]");
            if !ids.insert(purpose.id.clone()) {
                p.add(
                    format!("{at}.id"),
                    format!("`{}` is used twice", purpose.id),
                );
            }
            p.text(&format!("{at}.title"), &purpose.title, langs);
            p.text(&format!("{at}.description"), &purpose.description, langs);
            p.text(&format!("{at}.retention"), &purpose.retention, langs);
            for (j, d) in purpose.data.iter().enumerate() {
                p.text(&format!("{at}.data[{j}]"), d, langs);
            }
            for (j, r) in purpose.recipients.iter().enumerate() {
                p.text(&format!("{at}.recipients[{j}]"), r, langs);
            }
            if purpose.asked == Asked::Form && purpose.legal_basis != LegalBasis::Consent {
                p.add(
                    format!("{at}.asked"),
                    "only a consent purpose (legal_basis = \"consent\") is asked: remove asked = \"form\"",
                );
            }
            for (j, c) in purpose.countries.iter().enumerate() {
                if !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())) {
                    p.add(
                        format!("{at}.countries[{j}]"),
                        format!("`{c}` is not a two-letter country code (ISO 3166-1, e.g. SG)"),
                    );
                }
            }
        }
        for (i, cat) in self.categories.iter().enumerate() {
            let at = format!("categories[{i}]");
            if !ids.insert(cat.id.clone()) {
                p.add(format!("{at}.id"), format!("`{}` is used twice", cat.id));
            }
            if cat.id.as_str() == "necessary" && !cat.required {
                p.add(
                    format!("{at}.required"),
                    "the `necessary` category must be required = true",
                );
            }
            p.text(&format!("{at}.title"), &cat.title, langs);
            p.text(&format!("{at}.description"), &cat.description, langs);
            for (j, c) in cat.cookies.iter().enumerate() {
                let cat_at = format!("{at}.cookies[{j}]");
                if !is_cookie_name(&c.name) {
                    p.add(
                        format!("{cat_at}.name"),
                        format!("`{}` is not a cookie name", c.name),
                    );
                }
                p.text(&format!("{cat_at}.provider"), &c.provider, langs);
                p.text(&format!("{cat_at}.duration"), &c.duration, langs);
                p.text(&format!("{cat_at}.purpose"), &c.purpose, langs);
            }
        }
        if self.categories.is_empty() {
            p.add("categories", "list at least the `necessary` category");
        }

        if !p.0.is_empty() {
            return Err(p.0);
        }
        let site = Site {
            id: self.id.clone(),
            name: self.name.clone(),
            origins: self.origins,
            retention_days: self.retention.consent_records_days,
        };
        let notice = Notice {
            site: self.id,
            version: self.notice.version,
            consent_revision: self.notice.consent_revision,
            effective_from: self.notice.effective_from,
            consent_validity_days: self.notice.consent_validity_days,
            languages: self.languages,
            site_name: self.name,
            controller: self.controller,
            dpo: self.dpo,
            title: self.notice.title,
            summary: self.notice.summary,
            minors: self.notice.minors,
            body,
            purposes: self.purposes,
            categories: self.categories,
        };
        Ok((site, notice))
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, field: &str, text: &Text, langs: &[Lang]) {
        for lang in langs {
            if !text.has(*lang) {
                self.add(format!("{field}.{}", lang.code()), "is missing or empty");
            }
        }
        self.texts_without_bidi(field, text);
    }

    fn texts_without_bidi(&mut self, field: &str, text: &Text) {
        self.no_bidi(&format!("{field}.th"), &text.th);
        self.no_bidi(&format!("{field}.en"), &text.en);
    }

    /// Bidirectional control characters can make a text read differently from what is
    /// stored and signed: refused everywhere.
    fn no_bidi(&mut self, field: &str, s: &str) {
        if let Some(c) = find_bidi_control(s) {
            self.add(
                field,
                format!("contains a bidirectional control character ({c}): remove it"),
            );
        }
    }

    fn party(&mut self, field: &str, party: &Party, langs: &[Lang]) {
        self.text(&format!("{field}.name"), &party.name, langs);
        self.texts_without_bidi(&format!("{field}.address"), &party.address);
        if !is_email(&party.email) {
            self.add(
                format!("{field}.email"),
                format!("`{}` is not an e-mail address", party.email),
            );
        }
        self.no_bidi(&format!("{field}.email"), &party.email);
        self.no_bidi(&format!("{field}.phone"), &party.phone);
        if !party.url.is_empty()
            && let Err(e) = check_link(&party.url)
        {
            self.add(format!("{field}.url"), e);
        }
    }
}

/// Checks that `url` is a link a notice may show: `https://…`, `http://…`, `mailto:…` or
/// `tel:…`, with no spaces, control or bidirectional control characters (so never
/// `javascript:`, `data:` or a relative address).
pub fn check_link(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme));
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && find_bidi_control(url).is_none();
    match rest {
        Some(rest) if !rest.is_empty() && clean => Ok(()),
        _ => Err(format!(
            "`{}` is not a link a notice may show: use https://…, http://…, mailto:… or tel:…",
            url.escape_debug()
        )),
    }
}

/// Checks that `o` is a bare web origin: `http(s)://host[:port]`, no path, no trailing slash.
pub fn check_origin(o: &str) -> Result<(), String> {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
        .ok_or_else(|| format!("`{o}` must start with https:// or http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "`{o}` is not an origin: write scheme://host[:port] in lower case, with no path or trailing slash"
        ))
    }
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn is_cookie_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `s` is a calendar date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_bare() {
        assert!(check_origin("https://www.data-sme.com").is_ok());
        assert!(check_origin("http://127.0.0.1:8081").is_ok());
        assert!(check_origin("https://www.data-sme.com/").is_err());
        assert!(check_origin("www.data-sme.com").is_err());
        assert!(check_origin("https://x.go.th:99999").is_err());
    }

    #[test]
    fn links_are_web_mail_or_phone() {
        for ok in [
            "https://www.example.go.th/pdpa",
            "http://x.go.th",
            "mailto:dpo@x.go.th",
            "tel:+66-2-123-4567",
        ] {
            assert_eq!(check_link(ok), Ok(()), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "/relative",
            "https://",
            "https://x.go.th/a b",
            "https://x.go.th/\u{202E}",
            " https://x.go.th",
        ] {
            assert!(check_link(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_are_checked_for_real() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2025-13-01"));
        assert!(!is_date("25-01-01"));
    }
}
