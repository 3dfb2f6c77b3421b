//! A visitor's data-subject request (PDPA s.30–36), as the widget files it and the server
//! answers: `POST /v1/sites/{site}/subjects/{subject_id}/requests` takes a [`NewRequest`]
//! and answers 201 with a [`SubjectRequest`]; `GET` on the same path lists them.

use serde::{Deserialize, Serialize};

/// What the visitor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// See and get a copy of their data (s.30).
    Access,
    /// Receive their data or have it sent elsewhere (s.31).
    Portability,
    /// Object to the use of their data (s.32).
    Objection,
    /// Have their data deleted or anonymised (s.33).
    Erasure,
    /// Have the use of their data paused (s.34).
    Restriction,
    /// Have their data corrected (s.35, s.36).
    Rectification,
}

impl RequestKind {
    /// Every kind, in the order of the Act's sections.
    pub const ALL: [RequestKind; 6] = [
        RequestKind::Access,
        RequestKind::Portability,
        RequestKind::Objection,
        RequestKind::Erasure,
        RequestKind::Restriction,
        RequestKind::Rectification,
    ];

    /// The snake_case name, as sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Portability => "portability",
            RequestKind::Objection => "objection",
            RequestKind::Erasure => "erasure",
            RequestKind::Restriction => "restriction",
            RequestKind::Rectification => "rectification",
        }
    }
}

/// The body of `POST …/subjects/{subject_id}/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRequest {
    /// What is asked.
    pub kind: RequestKind,
    /// The visitor's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How to reach them (e-mail, phone, address), if they give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// A filed request, as the server answers it (201) and lists it (`GET`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRequest {
    /// The reference the visitor quotes.
    pub reference: String,
    /// What was asked.
    pub kind: RequestKind,
    /// When it was received (ISO 8601 with offset).
    pub received_at: String,
    /// When it must be answered (ISO 8601 with offset).
    pub due: String,
    /// Where the case stands (e.g. `received`, `answered`, `refused`).
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON shapes of the public contract, both ways.
    #[test]
    fn shapes() {
        let r: NewRequest = serde_json::from_str(r#"{"kind":"erasure"}"#).expect("kind only");
        assert_eq!(
            (r.kind, r.message, r.contact),
            (RequestKind::Erasure, None, None)
        );
        let full = NewRequest {
            kind: RequestKind::Access,
            message: Some("ขอสำเนา".into()),
            contact: Some("a@example.org".into()),
        };
        let json = serde_json::to_value(&full).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"kind": "access", "message": "ขอสำเนา", "contact": "a@example.org"})
        );
        assert!(serde_json::from_str::<NewRequest>(r#"{"kind":"delete"}"#).is_err());
        for k in RequestKind::ALL {
            assert_eq!(serde_json::to_value(k).expect("kind"), k.as_str());
        }
        let answer: SubjectRequest = serde_json::from_str(
            r#"{"reference":"R-1","kind":"objection","received_at":"2026-12-03T19:00:00+07:00","due":"2027-01-02T19:00:00+07:00","status":"received"}"#,
        )
        .expect("answer");
        assert_eq!(answer.kind, RequestKind::Objection);
    }
}
