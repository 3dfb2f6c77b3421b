//! The consent cookie: the visitor's current choice, read by the loader on every page
//! view so a returning visitor needs no widget download.
//!
//! One cookie per site, named [`cookie_name`]: `yinyom_<site id>` (site ids are
//! `a-z`, `0-9`, `-` and `_`, all allowed in a cookie name), so a choice made on one site
//! is never taken as consent by another site on the same host. The old shared name
//! [`LEGACY_COOKIE_NAME`] (`yinyom`, before per-site names) is consent for no site: the
//! loader deletes it and asks again.
//!
//! Format (version 1):
//!
//! ```text
//! 1.<consent_revision>.<unix seconds of the choice>.<granted categories joined by '+', or '-'>.<receipt id, or '-' while pending>
//! ```
//!
//! e.g. `1.2.1732300000.analytics+functional.0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d`.
//! Only characters allowed in a cookie value are used. In JavaScript, `widget/js/loader.js`
//! alone reads and writes it (`readConsent`, `encodeConsent`; the banner borrows the
//! encoder); the end-to-end tests check both agree (`tests/tests/first_layer.rs`).

use crate::Slug;

/// Prefix of the consent cookie's name: the site id follows.
pub const COOKIE_PREFIX: &str = "yinyom_";

/// The name every site shared before per-site names: never read as consent.
pub const LEGACY_COOKIE_NAME: &str = "yinyom";

/// Name of `site`'s consent cookie, e.g. `yinyom_osmep-sme`.
pub fn cookie_name(site: &Slug) -> String {
    format!("{COOKIE_PREFIX}{site}")
}

/// The consent cookie's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentCookie {
    /// Consent revision the choice was made under.
    pub revision: u32,
    /// When the choice was made (unix seconds).
    pub at: u64,
    /// Granted optional categories. Everything else is denied.
    pub granted: Vec<Slug>,
    /// Receipt id, once the server acknowledged the choice.
    pub receipt_id: Option<String>,
}

impl ConsentCookie {
    /// The cookie value.
    pub fn encode(&self) -> String {
        let granted = if self.granted.is_empty() {
            "-".to_owned()
        } else {
            self.granted
                .iter()
                .map(Slug::as_str)
                .collect::<Vec<_>>()
                .join("+")
        };
        let receipt = self.receipt_id.as_deref().unwrap_or("-");
        format!("1.{}.{}.{granted}.{receipt}", self.revision, self.at)
    }

    /// Reads a cookie value; `None` if it is not a version-1 consent cookie.
    pub fn decode(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        if parts.next()? != "1" {
            return None;
        }
        let revision = parts.next()?.parse().ok()?;
        let at = parts.next()?.parse().ok()?;
        let granted = match parts.next()? {
            "-" => Vec::new(),
            list => list
                .split('+')
                .map(|s| Slug::parse(s).ok())
                .collect::<Option<Vec<_>>>()?,
        };
        let receipt_id = match parts.next()? {
            "-" => None,
            id if crate::receipt::is_uuid(id) => Some(id.to_owned()),
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            revision,
            at,
            granted,
            receipt_id,
        })
    }

    /// Whether this choice still holds for a notice at `revision` with consent valid for
    /// `validity_days`, at unix time `now`.
    pub fn is_current(&self, revision: u32, validity_days: u32, now: u64) -> bool {
        self.revision >= revision && now < self.at + u64::from(validity_days) * 86_400
    }

    /// Whether `category` is granted.
    pub fn grants(&self, category: &str) -> bool {
        self.granted.iter().any(|g| g.as_str() == category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("test slug")
    }

    /// Every character a site id may hold is a cookie-name character (RFC 6265 token), and
    /// no site's name is the legacy shared name.
    #[test]
    fn names_are_per_site_tokens() {
        let name = cookie_name(&slug("osmep-sme_2"));
        assert_eq!(name, "yinyom_osmep-sme_2");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        );
        assert_ne!(cookie_name(&slug("a")), LEGACY_COOKIE_NAME);
        assert_ne!(cookie_name(&slug("a")), cookie_name(&slug("b")));
    }

    #[test]
    fn round_trips() {
        let c = ConsentCookie {
            revision: 2,
            at: 1_732_300_000,
            granted: vec![slug("analytics"), slug("functional")],
            receipt_id: Some("0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d".into()),
        };
        let v = c.encode();
        assert_eq!(
            v,
            "1.2.1732300000.analytics+functional.0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d"
        );
        assert_eq!(ConsentCookie::decode(&v), Some(c));
    }

    #[test]
    fn pending_reject_round_trips() {
        let c = ConsentCookie {
            revision: 1,
            at: 5,
            granted: vec![],
            receipt_id: None,
        };
        assert_eq!(c.encode(), "1.1.5.-.-");
        assert_eq!(ConsentCookie::decode("1.1.5.-.-"), Some(c));
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "2.1.5.-.-",
            "1.x.5.-.-",
            "1.1.5.-",
            "1.1.5.-.-.x",
            "1.1.5.A.-",
            "1.1.5.-.nope",
        ] {
            assert_eq!(ConsentCookie::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn expires_and_reasks_on_new_revision() {
        let c = ConsentCookie {
            revision: 1,
            at: 1000,
            granted: vec![],
            receipt_id: None,
        };
        assert!(c.is_current(1, 1, 1000 + 86_399));
        assert!(!c.is_current(1, 1, 1000 + 86_400));
        assert!(!c.is_current(2, 365, 1001));
    }
}
