//! Canonical JSON (RFC 8785, JCS) and SHA-256, for notice hashes and receipt signatures.
//!
//! Object members are sorted by their UTF-16 code units, strings are escaped as
//! ECMAScript's `JSON.stringify` does, and there is no whitespace. Our documents hold only
//! integers; a non-integer number is refused rather than risk a formatting difference.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Why a value cannot be canonicalized.
#[derive(Debug)]
pub struct CanonicalError(String);

impl std::fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanonicalError {}

/// The RFC 8785 canonical JSON of `value`.
pub fn to_canonical_json<T: Serialize>(value: &T) -> Result<String, CanonicalError> {
    let v = serde_json::to_value(value).map_err(|e| CanonicalError(e.to_string()))?;
    let mut out = String::new();
    write_value(&v, &mut out)?;
    Ok(out)
}

/// SHA-256 (lower-case hex) of the canonical JSON of `value`.
pub fn sha256_hex<T: Serialize>(value: &T) -> Result<String, CanonicalError> {
    let json = to_canonical_json(value)?;
    Ok(hex::encode(Sha256::digest(json.as_bytes())))
}

fn write_value(v: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                return Err(CanonicalError(format!(
                    "non-integer number {n} cannot be canonicalized"
                )));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_value(val, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_by_utf16_and_escapes_like_javascript() {
        // RFC 8785 §3.2.3: "\u20ac" (€) sorts after "\r" and before "\ud83d\ude00" (😀)
        // because comparison is by UTF-16 code unit.
        let v = json!({"€": 1, "😀": 2, "\r": 3, "b": [true, null, "ไทย\n\u{1}"], "a": {"z": 0, "y": -5}});
        assert_eq!(
            to_canonical_json(&v).expect("canonical"),
            "{\"\\r\":3,\"a\":{\"y\":-5,\"z\":0},\"b\":[true,null,\"ไทย\\n\\u0001\"],\"€\":1,\"😀\":2}"
        );
    }

    /// RFC 8785's published vectors (`model/tests/rfc8785`, from the RFC author's
    /// repository): each input canonicalizes to exactly the expected bytes.
    #[test]
    fn rfc8785_published_vectors() {
        let vectors = [
            (
                "arrays",
                include_str!("../tests/rfc8785/input/arrays.json"),
                include_str!("../tests/rfc8785/output/arrays.json"),
            ),
            (
                "french",
                include_str!("../tests/rfc8785/input/french.json"),
                include_str!("../tests/rfc8785/output/french.json"),
            ),
            (
                "unicode",
                include_str!("../tests/rfc8785/input/unicode.json"),
                include_str!("../tests/rfc8785/output/unicode.json"),
            ),
            (
                "weird",
                include_str!("../tests/rfc8785/input/weird.json"),
                include_str!("../tests/rfc8785/output/weird.json"),
            ),
        ];
        for (name, input, expected) in vectors {
            let v: Value = serde_json::from_str(input).expect(name);
            assert_eq!(to_canonical_json(&v).expect(name), expected, "{name}");
        }
        // The vectors with fractions and exponents are refused, never formatted
        // differently from ECMAScript.
        for (name, input) in [
            (
                "structures",
                include_str!("../tests/rfc8785/input/structures.json"),
            ),
            ("values", include_str!("../tests/rfc8785/input/values.json")),
        ] {
            let v: Value = serde_json::from_str(input).expect(name);
            assert!(to_canonical_json(&v).is_err(), "{name}");
        }
    }

    #[test]
    fn refuses_fractions() {
        assert!(to_canonical_json(&json!({"x": 1.5})).is_err());
    }

    #[test]
    fn hash_ignores_key_order() {
        let a = sha256_hex(&json!({"a": 1, "b": 2})).expect("hash");
        let b = sha256_hex(&json!({"b": 2, "a": 1})).expect("hash");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
    }
}
