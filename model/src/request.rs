//! Data-subject requests (PDPA s.30–36): what a visitor files from the widget (or staff
//! enter for a request that came by post, e-mail or in person), the answer, and the states
//! of the case the DPO works on.

use serde::{Deserialize, Serialize};

/// Days the controller has to answer, from receipt (PDPA s.30): the due date is the
/// Thailand-time day this many days after the request was received.
pub const ANSWER_DAYS: i64 = 30;

/// Longest `message`, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// Longest `contact`, in characters.
pub const MAX_CONTACT_CHARS: usize = 200;

/// What the data subject asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A copy of their data (s.30).
    Access,
    /// Their data in a machine-readable form, or sent to another controller (s.31).
    Portability,
    /// Stop a processing (s.32).
    Objection,
    /// Delete their data (s.33).
    Erasure,
    /// Restrict a processing (s.34).
    Restriction,
    /// Correct their data (s.35, s.36).
    Rectification,
}

impl RequestKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Access,
        Self::Portability,
        Self::Objection,
        Self::Erasure,
        Self::Restriction,
        Self::Rectification,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Portability => "portability",
            Self::Objection => "objection",
            Self::Erasure => "erasure",
            Self::Restriction => "restriction",
            Self::Rectification => "rectification",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind in Thai and English.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Self::Access => ("ขอเข้าถึงและขอรับสำเนาข้อมูล", "access to a copy of the data"),
            Self::Portability => ("ขอรับหรือขอให้โอนข้อมูล", "data portability"),
            Self::Objection => ("คัดค้านการเก็บ ใช้ หรือเปิดเผยข้อมูล", "objection"),
            Self::Erasure => ("ขอให้ลบหรือทำลายข้อมูล", "erasure"),
            Self::Restriction => ("ขอให้ระงับการใช้ข้อมูล", "restriction"),
            Self::Rectification => ("ขอให้แก้ไขข้อมูลให้ถูกต้อง", "rectification"),
        }
    }
}

/// Where a case stands: received → identity_checked → answered, refused or erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Filed, the requester not yet identified.
    Received,
    /// Staff checked who the requester is.
    IdentityChecked,
    /// Answered (closed).
    Answered,
    /// Refused for a reason the law allows (closed).
    Refused,
    /// The subject's data was erased (closed).
    Erased,
}

impl RequestStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Received,
        Self::IdentityChecked,
        Self::Answered,
        Self::Refused,
        Self::Erased,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::IdentityChecked => "identity_checked",
            Self::Answered => "answered",
            Self::Refused => "refused",
            Self::Erased => "erased",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the case is closed.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Answered | Self::Refused | Self::Erased)
    }

    /// The status in Thai and English.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Self::Received => ("ได้รับคำร้องแล้ว", "received"),
            Self::IdentityChecked => ("ตรวจสอบตัวตนแล้ว", "identity checked"),
            Self::Answered => ("ตอบคำร้องแล้ว", "answered"),
            Self::Refused => ("ปฏิเสธคำร้อง", "refused"),
            Self::Erased => ("ลบข้อมูลแล้ว", "erased"),
        }
    }

    /// Whether a case may go from `self` to `next`: identity is checked once, before an
    /// answer or an erasure; a request may be refused at any open step (e.g. the identity
    /// could not be checked); a closed case stays closed.
    pub fn may_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Received, Self::IdentityChecked | Self::Refused)
                | (
                    Self::IdentityChecked,
                    Self::Answered | Self::Refused | Self::Erased
                )
        )
    }
}

/// How a request reached the controller (the PDPC's draft rules require post and in
/// person; the widget is the electronic channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The widget's "My consent" (the subject secret proves the visitor).
    Web,
    /// By post.
    Post,
    /// By e-mail.
    Email,
    /// In person.
    InPerson,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Self; 4] = [Self::Web, Self::Post, Self::Email, Self::InPerson];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Post => "post",
            Self::Email => "email",
            Self::InPerson => "in_person",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The channel in Thai and English.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Self::Web => (
                "ทางเว็บไซต์ (เมนู \"ความยินยอมของฉัน\")",
                "on the website (\"My consent\")",
            ),
            Self::Post => ("ทางไปรษณีย์", "by post"),
            Self::Email => ("ทางอีเมล", "by e-mail"),
            Self::InPerson => ("ยื่นด้วยตนเอง", "in person"),
        }
    }
}

/// The reasons PDPA allows for refusing a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// A law or a court order requires the refusal (s.30 para. 2).
    LawOrCourtOrder,
    /// Answering would harm the rights and freedoms of others (s.30 para. 2).
    HarmsOthers,
    /// The data is needed to establish, exercise or defend legal claims (s.32, s.33).
    LegalClaims,
    /// The processing is a public task or official authority of the agency, or a legal
    /// obligation, that the request cannot override (s.24(4)–(6), s.32, s.33).
    PublicTask,
    /// The requester's identity could not be established.
    IdentityNotEstablished,
    /// The controller shows compelling legitimate grounds that override the objection
    /// (s.32 para. 1 (1)).
    CompellingGrounds,
    /// None of the cases in which PDPA gives the right to restrict applies (s.34).
    ConditionsNotMet,
    /// The data is already accurate, current and complete (s.35, s.36).
    DataAccurate,
}

impl RefusalReason {
    /// Every reason.
    pub const ALL: [Self; 8] = [
        Self::LawOrCourtOrder,
        Self::HarmsOthers,
        Self::LegalClaims,
        Self::PublicTask,
        Self::IdentityNotEstablished,
        Self::CompellingGrounds,
        Self::ConditionsNotMet,
        Self::DataAccurate,
    ];

    /// The grounds PDPA allows for refusing a request of `kind`, in the order the console
    /// offers them: s.30 para. 2 (access), s.31 para. 3 (portability), s.32 para. 2
    /// (objection), s.33 para. 2 and 5 (erasure), s.34 (restriction), s.35–36
    /// (rectification); any request may be refused when the requester's identity could
    /// not be established.
    pub fn allowed_for(kind: RequestKind) -> &'static [Self] {
        match kind {
            RequestKind::Access => &[
                Self::LawOrCourtOrder,
                Self::HarmsOthers,
                Self::IdentityNotEstablished,
            ],
            RequestKind::Portability => &[
                Self::PublicTask,
                Self::HarmsOthers,
                Self::IdentityNotEstablished,
            ],
            RequestKind::Objection => &[
                Self::CompellingGrounds,
                Self::LegalClaims,
                Self::PublicTask,
                Self::IdentityNotEstablished,
            ],
            RequestKind::Erasure => &[
                Self::LegalClaims,
                Self::PublicTask,
                Self::IdentityNotEstablished,
            ],
            RequestKind::Restriction => &[Self::ConditionsNotMet, Self::IdentityNotEstablished],
            RequestKind::Rectification => &[Self::DataAccurate, Self::IdentityNotEstablished],
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LawOrCourtOrder => "law_or_court_order",
            Self::HarmsOthers => "harms_others",
            Self::LegalClaims => "legal_claims",
            Self::PublicTask => "public_task",
            Self::IdentityNotEstablished => "identity_not_established",
            Self::CompellingGrounds => "compelling_grounds",
            Self::ConditionsNotMet => "conditions_not_met",
            Self::DataAccurate => "data_accurate",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The reason in Thai and English, for the reply letter.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Self::LawOrCourtOrder => (
                "เป็นการปฏิเสธตามกฎหมายหรือคำสั่งศาล (มาตรา 30 วรรคสอง)",
                "required by law or a court order (s.30 para. 2)",
            ),
            Self::HarmsOthers => (
                "การดำเนินการตามคำร้องจะกระทบต่อสิทธิและเสรีภาพของบุคคลอื่น (มาตรา 30 วรรคสอง)",
                "it would harm the rights and freedoms of others (s.30 para. 2)",
            ),
            Self::LegalClaims => (
                "ข้อมูลจำเป็นเพื่อการก่อตั้งสิทธิเรียกร้อง การปฏิบัติตามหรือการใช้สิทธิเรียกร้อง หรือการยกขึ้นต่อสู้สิทธิเรียกร้องตามกฎหมาย (มาตรา 32 วรรคสอง มาตรา 33 วรรคสอง)",
                "the data is needed to establish, exercise or defend legal claims (s.32 para. 2, s.33 para. 2)",
            ),
            Self::PublicTask => (
                "เป็นการปฏิบัติหน้าที่เพื่อประโยชน์สาธารณะหรือการใช้อำนาจรัฐ หรือการปฏิบัติตามกฎหมาย (มาตรา 31 วรรคสาม มาตรา 32 วรรคสอง มาตรา 33 วรรคสอง)",
                "a public task, official authority or legal obligation of the agency (s.31 para. 3, s.32 para. 2, s.33 para. 2)",
            ),
            Self::IdentityNotEstablished => (
                "ไม่สามารถยืนยันตัวตนของผู้ยื่นคำร้องได้",
                "the requester's identity could not be established",
            ),
            Self::CompellingGrounds => (
                "หน่วยงานมีเหตุอันชอบด้วยกฎหมายที่สำคัญยิ่งกว่าในการเก็บ ใช้ หรือเปิดเผยข้อมูล (มาตรา 32 วรรคสอง)",
                "the agency has compelling legitimate grounds for the processing (s.32 para. 2)",
            ),
            Self::ConditionsNotMet => (
                "กรณีของท่านไม่เข้าเหตุที่กฎหมายให้สิทธิขอให้ระงับการใช้ข้อมูล (มาตรา 34)",
                "none of the cases in which the law gives the right to restrict applies (s.34)",
            ),
            Self::DataAccurate => (
                "ข้อมูลถูกต้อง เป็นปัจจุบัน และสมบูรณ์อยู่แล้ว (มาตรา 35 มาตรา 36)",
                "the data is already accurate, current and complete (s.35, s.36)",
            ),
        }
    }
}

/// The body of `POST /v1/sites/{site}/subjects/{subject_id}/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectRequestBody {
    /// What is asked for.
    pub kind: RequestKind,
    /// What the visitor wants to say (at most [`MAX_MESSAGE_CHARS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How to reach them (at most [`MAX_CONTACT_CHARS`]); shown only to the DPO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

impl SubjectRequestBody {
    /// Checks the lengths and characters; the message names the field. Empty texts become
    /// `None`.
    pub fn checked(self) -> Result<Self, String> {
        let field = |name: &str, v: Option<String>, max: usize| -> Result<Option<String>, String> {
            let Some(v) = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            if v.chars().count() > max {
                return Err(format!("{name} must be at most {max} characters"));
            }
            if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err(format!("{name} must not contain control characters"));
            }
            Ok(Some(v))
        };
        Ok(Self {
            kind: self.kind,
            message: field("message", self.message, MAX_MESSAGE_CHARS)?,
            contact: field("contact", self.contact, MAX_CONTACT_CHARS)?,
        })
    }
}

/// The answer to a filed request, and each entry of `GET …/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRequestAnswer {
    /// The case reference to quote (e.g. `2569-000123`).
    pub reference: String,
    /// What was asked for.
    pub kind: RequestKind,
    /// When it was received (RFC 3339, Thailand time).
    pub received_at: String,
    /// The day the answer is due (`YYYY-MM-DD`, Thailand time): [`ANSWER_DAYS`] after
    /// receipt.
    pub due: String,
    /// Where the case stands.
    pub status: RequestStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in RequestKind::ALL {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).expect("json"),
                serde_json::json!(k.as_str())
            );
        }
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).expect("json"),
                serde_json::json!(s.as_str())
            );
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        for r in RefusalReason::ALL {
            assert_eq!(RefusalReason::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn a_body_is_bounded_and_unknown_fields_are_refused() {
        let ok: SubjectRequestBody =
            serde_json::from_str(r#"{"kind":"access","message":"  ","contact":"a@b.th"}"#)
                .expect("body");
        let ok = ok.checked().expect("valid");
        assert_eq!(ok.message, None);
        assert_eq!(ok.contact.as_deref(), Some("a@b.th"));
        assert!(serde_json::from_str::<SubjectRequestBody>(r#"{"kind":"access","x":1}"#).is_err());
        assert!(serde_json::from_str::<SubjectRequestBody>(r#"{"kind":"delete"}"#).is_err());
        let long = SubjectRequestBody {
            kind: RequestKind::Erasure,
            message: Some("ก".repeat(MAX_MESSAGE_CHARS + 1)),
            contact: None,
        };
        assert!(long.checked().expect_err("too long").starts_with("message"));
    }

    #[test]
    fn each_kind_has_its_own_grounds_and_identity_is_always_one() {
        for k in RequestKind::ALL {
            let grounds = RefusalReason::allowed_for(k);
            assert!(grounds.contains(&RefusalReason::IdentityNotEstablished));
            assert!(grounds.len() >= 2, "{k:?} has a ground of its own");
        }
        let erasure = RefusalReason::allowed_for(RequestKind::Erasure);
        assert!(!erasure.contains(&RefusalReason::HarmsOthers));
        assert!(
            !RefusalReason::allowed_for(RequestKind::Access).contains(&RefusalReason::PublicTask)
        );
    }

    #[test]
    fn a_case_moves_forward_only() {
        use RequestStatus::*;
        assert!(Received.may_become(IdentityChecked));
        assert!(Received.may_become(Refused));
        assert!(!Received.may_become(Answered));
        assert!(IdentityChecked.may_become(Erased));
        assert!(!Answered.may_become(Refused));
    }
}
