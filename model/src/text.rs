//! Languages and Thai-first localized text.

use serde::{Deserialize, Serialize};

/// A language the notice and widget are written in. Thai comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// ภาษาไทย
    Th,
    /// English
    En,
}

impl Lang {
    /// Every supported language, Thai first.
    pub const ALL: [Lang; 2] = [Lang::Th, Lang::En];

    /// The BCP 47 tag (`th`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Th => "th",
            Lang::En => "en",
        }
    }

    /// Reads a BCP 47 tag such as `th-TH` or `en-US`; `None` for other languages.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "th" => Some(Lang::Th),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A text in Thai and English. Thai is required; English falls back to Thai when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Text {
    /// Thai text (required).
    pub th: String,
    /// English text (empty when the site is Thai only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub en: String,
}

impl Text {
    /// The text in `lang`, falling back to Thai.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En if !self.en.is_empty() => &self.en,
            _ => &self.th,
        }
    }

    /// Whether the text is present (non-blank) in `lang`, without fallback.
    pub fn has(&self, lang: Lang) -> bool {
        match lang {
            Lang::Th => !self.th.trim().is_empty(),
            Lang::En => !self.en.trim().is_empty(),
        }
    }
}

/// Whether `c` is a Unicode bidirectional control (LRM, RLM, ALM, the embeddings,
/// overrides and isolates). Thai and English never need one; in a stored text they can
/// make what is shown differ from what is stored ("Trojan Source"), so they are refused.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// The first bidirectional control character in `s`, named for a message.
pub fn find_bidi_control(s: &str) -> Option<String> {
    s.chars()
        .find(|c| is_bidi_control(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

impl Text {
    /// Reads a text written either per language (`{ th = "…", en = "…" }`) or as one
    /// plain string, which is then the same in every language: names such as "Google"
    /// need no translation, and notices published before a field became localizable
    /// (the cookie `provider`) keep reading. For `#[serde(deserialize_with)]`.
    pub fn per_language_or_plain<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Plain(String),
            PerLanguage {
                th: String,
                #[serde(default)]
                en: String,
            },
        }
        Ok(match Either::deserialize(d)? {
            Either::Plain(s) => Text {
                th: s.clone(),
                en: s,
            },
            Either::PerLanguage { th, en } => Text { th, en },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_are_found() {
        assert_eq!(
            find_bidi_control("ok \u{202E}gnp.exe"),
            Some("U+202E".into())
        );
        assert_eq!(find_bidi_control("a\u{2067}b"), Some("U+2067".into()));
        assert_eq!(find_bidi_control("คุกกี้ cookies"), None);
    }

    #[test]
    fn english_falls_back_to_thai() {
        let t = Text {
            th: "คุกกี้".into(),
            en: String::new(),
        };
        assert_eq!(t.get(Lang::En), "คุกกี้");
        assert!(!t.has(Lang::En));
    }

    #[test]
    fn a_plain_string_is_the_same_text_in_every_language() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(deserialize_with = "Text::per_language_or_plain")]
            t: Text,
        }
        let plain: Row = serde_json::from_str(r#"{"t":"Google"}"#).expect("plain");
        assert_eq!(plain.t.get(Lang::Th), "Google");
        assert!(plain.t.has(Lang::En));
        let both: Row =
            serde_json::from_str(r#"{"t":{"th":"สป.พม.","en":"OPS MSDHS"}}"#).expect("both");
        assert_eq!(both.t.get(Lang::En), "OPS MSDHS");
        assert!(serde_json::from_str::<Row>(r#"{"t":{"en":"x"}}"#).is_err());
    }

    #[test]
    fn reads_language_tags() {
        assert_eq!(Lang::from_tag("th-TH"), Some(Lang::Th));
        assert_eq!(Lang::from_tag("EN_us"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
