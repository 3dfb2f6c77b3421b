//! What a phase saw → the report's phases, and phases → findings.
//!
//! The rules:
//! - A cookie or storage key belongs to the declared category whose table names it
//!   (`yinyom_model::scan::declared`; a trailing `*` matches a prefix). The consent cookie
//!   `yinyom_<site>` and the loader's `yinyom.<site>.…` keys are necessary.
//! - Before any choice and after Reject all, only what belongs to a `required` category
//!   may be present: anything else, declared or not, is a violation.
//! - A host is first-party when it is the pages' site (the same registrable domain:
//!   `www.example.go.th` and `cdn.example.go.th` are one site), or the Yinyom server the
//!   tag loads from. Any other host contacted before any choice or after Reject all is a
//!   violation, unless `--allow-host` names it.

use crate::{
    ScanError,
    browser::{PageFacts, Session, Setter},
    declared::Declared,
};
use std::collections::BTreeMap;
use yinyom_model::scan::{
    Finding, Phase, PhaseKind, SeenCookie, SetBy, StorageKey, ThirdParty, declared, duration_secs,
    is_yinyom_key, name_matches,
};

/// A cookie may outlive its declared duration by this much (clock and rounding).
const LIFETIME_SLACK_SECS: i64 = 3_600;

/// The current time, RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The host of an http(s) or ws(s) URL, with its port when it has one; `None` otherwise.
pub fn host_port(url: &str) -> Option<String> {
    let rest = ["http://", "https://", "ws://", "wss://"]
        .iter()
        .find_map(|s| url.strip_prefix(s))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

/// A host without its port.
fn hostname(host_port: &str) -> &str {
    if host_port.starts_with('[') {
        return host_port.split(']').next().map_or(host_port, |h| &h[1..]);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

/// Second-level labels under a country code that are not registrable on their own
/// (`go.th`, `co.uk`).
const SECOND_LEVEL: [&str; 12] = [
    "go", "co", "ac", "or", "in", "mi", "net", "com", "org", "gov", "edu", "nic",
];

/// The registrable domain of `host` (an approximation of the public-suffix list good for
/// Thai government names): `www.moi.go.th` → `moi.go.th`, `cdn.example.com` →
/// `example.com`; an address or a single label stays as it is.
pub fn site_of(host: &str) -> String {
    let host = hostname(host).trim_start_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return host;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let keep = if n >= 3 && labels[n - 1].len() == 2 && SECOND_LEVEL.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    labels[n.saturating_sub(keep)..].join(".")
}

/// What a scan compares against, and how it tells first from third parties.
pub struct Context {
    site: String,
    categories: Vec<yinyom_model::site::Category>,
    first_party_sites: Vec<String>,
    server_host: Option<String>,
    allow_hosts: Vec<String>,
    consent_cookie: String,
    necessary_id: String,
}

impl Context {
    /// For `site`, declared as `declared`, on the pages of `facts`, with the Yinyom server
    /// at `server` (an origin).
    pub(crate) fn new(
        site: &str,
        declared: &Declared,
        facts: &[PageFacts],
        server: &str,
        allow_hosts: &[String],
    ) -> Self {
        let mut first_party_sites: Vec<String> = facts
            .iter()
            .filter_map(|f| host_port(&f.origin))
            .map(|h| site_of(&h))
            .collect();
        first_party_sites.sort();
        first_party_sites.dedup();
        Context {
            site: site.to_owned(),
            categories: declared.categories.clone(),
            first_party_sites,
            server_host: host_port(server),
            allow_hosts: allow_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            consent_cookie: yinyom_model::cookie::COOKIE_PREFIX.to_owned() + site,
            necessary_id: declared
                .categories
                .iter()
                .find(|c| c.required)
                .map_or_else(|| "necessary".to_owned(), |c| c.id.as_str().to_owned()),
        }
    }

    fn is_third_party_host(&self, host: &str) -> bool {
        if self.server_host.as_deref() == Some(host) {
            return false;
        }
        !self.first_party_sites.contains(&site_of(host))
    }

    /// The category a cookie or storage key `name` belongs to.
    fn category_of(&self, name: &str) -> Option<String> {
        if name == self.consent_cookie || is_yinyom_key(&self.site, name) {
            return Some(
                declared(&self.categories, name)
                    .map_or_else(|| self.necessary_id.clone(), |(c, _)| c.id.as_str().into()),
            );
        }
        declared(&self.categories, name).map(|(c, _)| c.id.as_str().to_owned())
    }

    fn is_necessary(&self, category: Option<&str>) -> bool {
        category.is_some_and(|id| {
            id == self.necessary_id
                || self
                    .categories
                    .iter()
                    .any(|c| c.required && c.id.as_str() == id)
        })
    }

    /// Reads what the session holds now into the phase `kind`.
    pub(crate) async fn phase(
        &self,
        kind: PhaseKind,
        session: &Session,
        facts: &[PageFacts],
    ) -> Result<Phase, ScanError> {
        let now = now_secs();
        let mut cookies: Vec<SeenCookie> = session
            .cookies()
            .await?
            .into_iter()
            .map(|c| {
                let set_by = match session.setter(&c.name) {
                    Some(Setter::Script(url)) => SetBy::Script { url },
                    Some(Setter::Response(url)) => SetBy::Response { url },
                    None => SetBy::Unknown,
                };
                SeenCookie {
                    category: self.category_of(&c.name),
                    third_party: self.is_third_party_host(c.domain.trim_start_matches('.')),
                    lifetime_secs: c.expires.map(|e| e - now),
                    name: c.name,
                    domain: c.domain,
                    path: c.path,
                    expires: c.expires,
                    http_only: c.http_only,
                    secure: c.secure,
                    same_site: c.same_site,
                    set_by,
                }
            })
            .collect();
        cookies.sort_by(|a, b| (&a.name, &a.domain).cmp(&(&b.name, &b.domain)));

        let mut storage: Vec<StorageKey> = Vec::new();
        for f in facts {
            for (area, keys) in [("local", &f.local), ("session", &f.session)] {
                for key in keys {
                    let k = StorageKey {
                        area: area.to_owned(),
                        origin: f.origin.clone(),
                        key: key.clone(),
                        category: self.category_of(key),
                    };
                    if !storage.contains(&k) {
                        storage.push(k);
                    }
                }
            }
        }

        let mut hosts: BTreeMap<String, ThirdParty> = BTreeMap::new();
        for r in session.requests() {
            let Some(host) = host_port(&r.url) else {
                continue;
            };
            if !self.is_third_party_host(&host) {
                continue;
            }
            let allowed = self.allow_hosts.contains(&host)
                || self.allow_hosts.iter().any(|a| a == hostname(&host));
            hosts
                .entry(host.clone())
                .and_modify(|t| t.requests += 1)
                .or_insert(ThirdParty {
                    host,
                    requests: 1,
                    first_url: r.url.clone(),
                    initiator: r.initiator.clone(),
                    allowed,
                });
        }
        Ok(Phase {
            kind,
            cookies,
            storage,
            third_parties: hosts.into_values().collect(),
        })
    }

    /// Every disagreement between the phases and the declaration, violations first.
    pub fn findings(&self, phases: &[Phase]) -> Vec<Finding> {
        let mut out = Vec::new();
        for p in phases.iter().filter(|p| p.kind.only_necessary()) {
            for c in &p.cookies {
                if !self.is_necessary(c.category.as_deref()) {
                    out.push(Finding::CookieBeforeConsent {
                        phase: p.kind,
                        name: c.name.clone(),
                        domain: c.domain.clone(),
                        category: c.category.clone(),
                    });
                }
            }
            for s in &p.storage {
                if !self.is_necessary(s.category.as_deref()) {
                    out.push(Finding::StorageBeforeConsent {
                        phase: p.kind,
                        key: s.key.clone(),
                        area: s.area.clone(),
                        category: s.category.clone(),
                    });
                }
            }
            for t in p.third_parties.iter().filter(|t| !t.allowed) {
                out.push(Finding::ThirdPartyBeforeConsent {
                    phase: p.kind,
                    host: t.host.clone(),
                    first_url: t.first_url.clone(),
                });
            }
        }

        // Undeclared cookies, once each, with the phases they were seen in.
        let mut undeclared: BTreeMap<(String, String), Vec<PhaseKind>> = BTreeMap::new();
        for p in phases {
            for c in p.cookies.iter().filter(|c| c.category.is_none()) {
                let e = undeclared
                    .entry((c.name.clone(), c.domain.clone()))
                    .or_default();
                if !e.contains(&p.kind) {
                    e.push(p.kind);
                }
            }
        }
        out.extend(
            undeclared
                .into_iter()
                .map(|((name, domain), phases)| Finding::Undeclared {
                    name,
                    domain,
                    phases,
                }),
        );

        // Declared but never seen; lifetimes.
        for cat in &self.categories {
            for row in &cat.cookies {
                let seen: Vec<&SeenCookie> = phases
                    .iter()
                    .flat_map(|p| &p.cookies)
                    .filter(|c| name_matches(&row.name, &c.name))
                    .collect();
                let in_storage = phases
                    .iter()
                    .flat_map(|p| &p.storage)
                    .any(|s| name_matches(&row.name, &s.key));
                if seen.is_empty() {
                    if !in_storage {
                        out.push(Finding::NeverSeen {
                            name: row.name.clone(),
                            category: cat.id.as_str().to_owned(),
                        });
                    }
                    continue;
                }
                let text = row.duration.get(yinyom_model::Lang::En).to_owned();
                let Some(declared_secs) = duration_secs(&text) else {
                    out.push(Finding::DurationNotUnderstood {
                        name: row.name.clone(),
                        declared: text,
                    });
                    continue;
                };
                let longest = seen.iter().filter_map(|c| c.lifetime_secs).max();
                if let Some(seen_secs) = longest
                    && seen_secs > declared_secs + LIFETIME_SLACK_SECS
                {
                    out.push(Finding::LongerThanDeclared {
                        name: row.name.clone(),
                        declared: text,
                        declared_secs,
                        seen_secs,
                    });
                }
            }
        }
        out.sort_by_key(|f| !f.is_violation());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_group_subdomains_and_keep_addresses_apart() {
        assert_eq!(site_of("www.moi.go.th"), "moi.go.th");
        assert_eq!(site_of("cdn.example.com:8443"), "example.com");
        assert_eq!(site_of("127.0.0.1:8081"), "127.0.0.1");
        assert_eq!(site_of("localhost:9000"), "localhost");
        assert_eq!(site_of(".data-sme.com"), "data-sme.com");
    }

    #[test]
    fn hosts_come_from_web_urls_only() {
        assert_eq!(
            host_port("http://127.0.0.1:8080/v1/x").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(host_port("data:text/plain,x"), None);
        assert_eq!(hostname("[::1]:80"), "::1");
    }
}
