//! A cookie scan's report (`yinyom scan --json`): what headless Chromium saw on a site's
//! pages in three fresh profiles (before any choice, after Reject all, after Accept all),
//! and how that compares with the site's declared categories and cookie tables.
//!
//! `yinyom-scan` writes it; the server stores the last one of each site and the console
//! shows it. The matching rules live here, once.

use crate::site::{Category, Cookie};
use serde::{Deserialize, Serialize};

/// The report format's version, in [`ScanReport::format`].
pub const FORMAT: u32 = 1;

/// One scan of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The site id the pages' Yinyom tag uses.
    pub site: String,
    /// When the scan started and ended (RFC 3339, UTC).
    pub started_at: String,
    /// When the scan ended (RFC 3339, UTC).
    pub finished_at: String,
    /// The scanner (`yinyom <version>`, Chromium's version).
    pub tool: String,
    /// Where the declared tables came from: a site folder or a server's notice.
    pub declared_from: String,
    /// The declared notice version.
    pub notice_version: String,
    /// The pages visited in every phase, in order (the given URLs, then crawled ones).
    pub pages: Vec<String>,
    /// Before any choice, after Reject all, after Accept all.
    pub phases: Vec<Phase>,
    /// Everything that does not agree with the declaration, violations first.
    pub findings: Vec<Finding>,
}

impl ScanReport {
    /// How many findings are violations (the CLI exits with 1 when any).
    pub fn violations(&self) -> usize {
        self.findings.iter().filter(|f| f.is_violation()).count()
    }

    /// The phase of `kind`, if it ran.
    pub fn phase(&self, kind: PhaseKind) -> Option<&Phase> {
        self.phases.iter().find(|p| p.kind == kind)
    }
}

/// The visitor's situation a phase reproduces, each in a fresh browser profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// The pages as a first-time visitor sees them, before touching the banner.
    BeforeChoice,
    /// After clicking the banner's Reject all, then visiting the pages again.
    AfterRejectAll,
    /// After clicking the banner's Accept all, then visiting the pages again.
    AfterAcceptAll,
}

impl PhaseKind {
    /// The three phases, in the order they run.
    pub const ALL: [PhaseKind; 3] = [
        PhaseKind::BeforeChoice,
        PhaseKind::AfterRejectAll,
        PhaseKind::AfterAcceptAll,
    ];

    /// Whether only necessary things may happen in this phase.
    pub fn only_necessary(self) -> bool {
        !matches!(self, PhaseKind::AfterAcceptAll)
    }
}

/// What one phase saw, over all the pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Which phase.
    pub kind: PhaseKind,
    /// Every cookie in the profile at the end of the phase, first- and third-party.
    pub cookies: Vec<SeenCookie>,
    /// `localStorage` and `sessionStorage` keys of the pages' origins.
    pub storage: Vec<StorageKey>,
    /// Hosts other than the site's (and the Yinyom server's) that the pages contacted.
    pub third_parties: Vec<ThirdParty>,
}

/// A cookie as the browser holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenCookie {
    /// Name.
    pub name: String,
    /// Domain (a leading dot: also its subdomains).
    pub domain: String,
    /// Path.
    pub path: String,
    /// Expiry, unix seconds; `None` for a session cookie.
    pub expires: Option<i64>,
    /// Seconds it will still live from when it was seen; `None` for a session cookie.
    pub lifetime_secs: Option<i64>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Secure`.
    pub secure: bool,
    /// `SameSite` (`Strict`, `Lax`, `None`), when set.
    pub same_site: Option<String>,
    /// Whether its domain is not the site's.
    pub third_party: bool,
    /// Who set it.
    pub set_by: SetBy,
    /// The declared category whose table names it, if any.
    pub category: Option<String>,
}

/// Who set a cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SetBy {
    /// A script through `document.cookie`; `url` is the script (a page's URL for an
    /// inline script).
    Script {
        /// The script's URL, when the stack named one.
        url: Option<String>,
    },
    /// A `Set-Cookie` header of this response.
    Response {
        /// The response's URL.
        url: String,
    },
    /// Neither was seen (e.g. `CookieStore`, or a frame the scanner could not watch).
    Unknown,
}

/// A web-storage key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageKey {
    /// `local` or `session`.
    pub area: String,
    /// The origin that holds it.
    pub origin: String,
    /// The key.
    pub key: String,
    /// The declared category whose table names it, if any (Yinyom's own keys are
    /// necessary).
    pub category: Option<String>,
}

/// A third-party host the pages contacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThirdParty {
    /// Host name (with the port when not the default).
    pub host: String,
    /// How many requests.
    pub requests: u32,
    /// The first request's URL.
    pub first_url: String,
    /// What started the first request (a script's URL or the page), when known.
    pub initiator: Option<String>,
    /// Whether the scan was told this host is necessary (`--allow-host`).
    pub allowed: bool,
}

/// One disagreement between what was seen and what is declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A cookie that is not necessary (or not declared at all) was present before any
    /// choice or after Reject all.
    CookieBeforeConsent {
        /// The phase.
        phase: PhaseKind,
        /// Cookie name.
        name: String,
        /// Its domain.
        domain: String,
        /// Its declared category, `None` when undeclared.
        category: Option<String>,
    },
    /// A storage key that is not necessary (or not declared) was written before any
    /// choice or after Reject all.
    StorageBeforeConsent {
        /// The phase.
        phase: PhaseKind,
        /// Key.
        key: String,
        /// `local` or `session`.
        area: String,
        /// Its declared category, `None` when undeclared.
        category: Option<String>,
    },
    /// A third party was contacted before any choice or after Reject all.
    ThirdPartyBeforeConsent {
        /// The phase.
        phase: PhaseKind,
        /// Host.
        host: String,
        /// The first request's URL.
        first_url: String,
    },
    /// A cookie seen in some phase that no cookie table names.
    Undeclared {
        /// Cookie name.
        name: String,
        /// Its domain.
        domain: String,
        /// The phases it was seen in.
        phases: Vec<PhaseKind>,
    },
    /// A declared cookie no phase saw (it may belong to pages the scan did not visit).
    NeverSeen {
        /// Cookie name as declared.
        name: String,
        /// Its category.
        category: String,
    },
    /// A cookie lives longer than its table says.
    LongerThanDeclared {
        /// Cookie name.
        name: String,
        /// The declared duration (English text).
        declared: String,
        /// The declared duration in seconds (0: until the browser closes).
        declared_secs: i64,
        /// How long it was set to live, in seconds.
        seen_secs: i64,
    },
    /// A declared duration the scanner cannot read, so the lifetime was not checked.
    DurationNotUnderstood {
        /// Cookie name as declared.
        name: String,
        /// The declared duration (English text).
        declared: String,
    },
}

impl Finding {
    /// Whether this finding makes the scan fail: something beyond the necessary happened
    /// before consent or after Reject all.
    pub fn is_violation(&self) -> bool {
        matches!(
            self,
            Finding::CookieBeforeConsent { .. }
                | Finding::StorageBeforeConsent { .. }
                | Finding::ThirdPartyBeforeConsent { .. }
        )
    }
}

/// Whether a cookie-table name matches `name`: equal, or a trailing `*` matching a prefix
/// (`_ga_*`), as the loader clears them.
pub fn name_matches(declared: &str, name: &str) -> bool {
    match declared.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => declared == name,
    }
}

/// The category and table row that declare the cookie or storage key `name`.
pub fn declared<'a>(categories: &'a [Category], name: &str) -> Option<(&'a Category, &'a Cookie)> {
    categories.iter().find_map(|c| {
        c.cookies
            .iter()
            .find(|k| name_matches(&k.name, name))
            .map(|k| (c, k))
    })
}

/// Whether a storage key is the Yinyom loader's own for `site` (`yinyom.<site>.…`):
/// necessary, as the consent cookie is.
pub fn is_yinyom_key(site: &str, key: &str) -> bool {
    key.strip_prefix("yinyom.")
        .and_then(|rest| rest.strip_prefix(site))
        .is_some_and(|rest| rest.starts_with('.'))
}

/// Reads a declared duration (`duration.en` of a cookie table) as seconds: `Some(0)` for
/// a cookie that ends with the browser session ("session", "until you close the
/// browser"), `Some(n)` for "N minutes|hours|days|weeks|months|years" (the largest
/// number named, so "1 year (the consent validity)" is a year), `None` when it cannot
/// tell.
pub fn duration_secs(text: &str) -> Option<i64> {
    let t = text.to_lowercase();
    if t.contains("session") || t.contains("close the browser") || t.contains("browser closes") {
        return Some(0);
    }
    let words: Vec<&str> = t
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut best: Option<i64> = None;
    for pair in words.windows(2) {
        let n: i64 = match pair[0] {
            "a" | "an" | "one" => 1,
            w => match w.parse() {
                Ok(n) => n,
                Err(_) => continue,
            },
        };
        let unit: i64 = match pair[1].trim_end_matches('s') {
            "second" => 1,
            "minute" => 60,
            "hour" => 3_600,
            "day" => 86_400,
            "week" => 7 * 86_400,
            "month" => 31 * 86_400,
            "year" => 366 * 86_400,
            _ => continue,
        };
        let secs = n.saturating_mul(unit);
        best = Some(best.map_or(secs, |b| b.max(secs)));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_from_the_english_text() {
        assert_eq!(duration_secs("Until you close the browser"), Some(0));
        assert_eq!(duration_secs("Session"), Some(0));
        assert_eq!(
            duration_secs("1 year (the consent validity)"),
            Some(366 * 86_400)
        );
        assert_eq!(duration_secs("30 days"), Some(30 * 86_400));
        assert_eq!(duration_secs("2 years"), Some(2 * 366 * 86_400));
        assert_eq!(duration_secs("an hour"), Some(3_600));
        assert_eq!(duration_secs("as long as needed"), None);
    }

    #[test]
    fn names_match_exactly_or_by_prefix() {
        assert!(name_matches("_ga_*", "_ga_ABC"));
        assert!(!name_matches("_ga_*", "_gid"));
        assert!(name_matches("sid", "sid"));
        assert!(!name_matches("sid", "sid2"));
    }

    #[test]
    fn yinyom_keys_are_the_sites_own() {
        assert!(is_yinyom_key("a-site", "yinyom.a-site.lang"));
        assert!(!is_yinyom_key("a-site", "yinyom.a-site-2.lang"));
        assert!(!is_yinyom_key("a-site", "other"));
    }

    #[test]
    fn only_findings_before_consent_are_violations() {
        let v = Finding::ThirdPartyBeforeConsent {
            phase: PhaseKind::BeforeChoice,
            host: "t.example".into(),
            first_url: "https://t.example/x.js".into(),
        };
        let n = Finding::NeverSeen {
            name: "x".into(),
            category: "analytics".into(),
        };
        assert!(v.is_violation());
        assert!(!n.is_violation());
    }
}
