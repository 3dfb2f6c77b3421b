//! Validated identifiers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A short identifier for a site, purpose or category: 1–64 characters of
/// `a-z`, `0-9`, `-` and `_`, starting with a letter. Safe in URLs, cookies and HTML.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parses `s` into a slug, or says what is wrong with it.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_len = (1..=64).contains(&s.len());
        let first_letter = s.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok_len && first_letter && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a valid id: use 1-64 characters a-z, 0-9, - or _, starting with a letter"
            ))
        }
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_simple_ids_and_rejects_unsafe_ones() {
        assert!(Slug::parse("osmep-sme-monitoring").is_ok());
        assert!(Slug::parse("analytics_2").is_ok());
        for bad in [
            "",
            "Analytics",
            "1st",
            "a b",
            "a.b",
            "<script>",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
