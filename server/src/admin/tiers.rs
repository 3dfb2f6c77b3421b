//! Access tiers: how far each console role may take consent receipts out of the system.
//!
//! The tiers follow the five requester tiers of a government data-service rule (OSMEP's
//! rule for its MSME database is the model, see `examples/osmep-msme-data-service`):
//! internal units by memo with a stated purpose; contract or MOU partners; other
//! government agencies by official letter, with a cap on records and fields; academics;
//! companies and the public, who get statistics only. Each console role maps to one tier
//! ([`tier_of`]), and the tier's [`Policy`] is the one definition of what a record-level
//! release needs: a stated purpose and a reference (the memo or letter number), at most
//! [`Policy::max_records`] receipts, and for tiers 3 and 4 only the few fields of
//! [`LIMITED_FIELDS`] (so only the formats that can be cut down to them: CSV and unsigned
//! JSON Lines; never the signed originals, Kantara or ISO 27560). Every release is written to the release log
//! ([`crate::store::releases`]), which the site's DPO and auditor read.

use crate::{
    error::{ApiError, ApiResult},
    export::Format,
    store::Role,
};
use yinyom_model::Lang;

/// A requester tier (1 = most trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// 1: the agency's own units, by internal memo with a stated purpose.
    Internal,
    /// 2: partners under a contract or MOU.
    Partner,
    /// 3: other government agencies, by official letter; capped records and fields.
    Agency,
    /// 4: academics, by letter; the same fields as tier 3, no cap.
    Academic,
    /// 5: companies and the public: statistics only, never records.
    Public,
}

impl Tier {
    /// The tier's number, as stored in the release log.
    pub(crate) fn number(self) -> i64 {
        match self {
            Tier::Internal => 1,
            Tier::Partner => 2,
            Tier::Agency => 3,
            Tier::Academic => 4,
            Tier::Public => 5,
        }
    }

    /// The tier's name for people.
    pub(crate) fn label(number: i64, lang: Lang) -> &'static str {
        let (th, en) = match number {
            1 => (
                "ชั้น 1 หน่วยงานภายใน (บันทึกข้อความ)",
                "Tier 1, internal unit (memo)",
            ),
            2 => ("ชั้น 2 คู่สัญญาหรือ MOU", "Tier 2, contract or MOU partner"),
            3 => (
                "ชั้น 3 หน่วยงานรัฐ (หนังสือราชการ)",
                "Tier 3, government agency (official letter)",
            ),
            4 => ("ชั้น 4 นักวิชาการ", "Tier 4, academic"),
            _ => (
                "ชั้น 5 สาธารณะ (สถิติเท่านั้น)",
                "Tier 5, public (statistics only)",
            ),
        };
        match lang {
            Lang::Th => th,
            Lang::En => en,
        }
    }
}

/// The tier of a console role: admins and DPOs are the agency's own staff (tier 1); a
/// contract or MOU partner is tier 2; a requesting government agency tier 3; an academic
/// tier 4; an auditor sees statistics only, as the public does (tier 5).
pub(crate) fn tier_of(role: Role) -> Tier {
    match role {
        Role::Admin | Role::Dpo => Tier::Internal,
        Role::Partner => Tier::Partner,
        Role::Agency => Tier::Agency,
        Role::Academic => Tier::Academic,
        Role::Auditor | Role::Service => Tier::Public,
    }
}

/// The receipt fields tiers 3 and 4 may take, by their export column names. The model
/// rule lets these tiers have five fields of a record that identify no one (for OSMEP's
/// database: registration number, name, location, business type and size of a legal
/// entity); a consent receipt's five such fields are when, what happened (given,
/// refused, withdrawn, updated), how it was chosen, under which notice version, and in
/// which language. Never the visitor's pseudonym, the receipt or request id, the page,
/// the decisions per purpose or the signed original.
pub(crate) const LIMITED_FIELDS: [&str; 5] =
    ["issued_at", "event", "method", "notice_version", "lang"];

/// What a record-level release needs under a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// The tier.
    pub(crate) tier: Tier,
    /// The most receipts one release may carry (`None`: no cap).
    pub(crate) max_records: Option<i64>,
    /// The only fields a release may carry (`None`: every field, and the signed originals).
    pub(crate) fields: Option<&'static [&'static str]>,
}

impl Tier {
    /// Every tier, in order.
    pub(crate) const ALL: [Tier; 5] = [
        Tier::Internal,
        Tier::Partner,
        Tier::Agency,
        Tier::Academic,
        Tier::Public,
    ];

    /// The tier's release policy; `None` when the tier gets no records at all.
    pub(crate) fn policy(self) -> Option<Policy> {
        let (max_records, fields) = match self {
            Tier::Internal | Tier::Partner => (None, None),
            Tier::Agency => (Some(1_000), Some(&LIMITED_FIELDS[..])),
            Tier::Academic => (None, Some(&LIMITED_FIELDS[..])),
            Tier::Public => return None,
        };
        Some(Policy {
            tier: self,
            max_records,
            fields,
        })
    }
}

impl Policy {
    /// The policy of `role`'s tier; `None` when the tier gets no records at all.
    pub(crate) fn of(role: Role) -> Option<Self> {
        tier_of(role).policy()
    }

    /// 403 when `format` cannot be cut down to the tier's fields: a signed original (the
    /// JWS in JSON Lines is signed over the whole receipt), a Kantara receipt or an ISO
    /// 27560 record carries every field. A limited tier gets CSV or JSON Lines of its
    /// fields.
    pub(crate) fn check_format(self, format: Format) -> ApiResult<()> {
        match (self.fields, format) {
            (Some(_), Format::Kantara | Format::Iso27560) => Err(ApiError::Forbidden(
                "ชั้นการเข้าถึงของท่านได้รับเฉพาะข้อมูลห้ารายการ ซึ่งไม่มีใบรับที่ลงลายมือชื่อ ใบรับแบบ Kantara หรือบันทึกแบบ ISO/IEC TS 27560 \
                 เพราะรูปแบบเหล่านี้มีข้อมูลทุกรายการของใบรับ: โปรดเลือก CSV หรือ JSON Lines / \
                 your access tier gets five fields only, so no signed receipts, Kantara receipts or ISO/IEC TS 27560 records, \
                 which carry every field of a receipt: choose CSV or JSON Lines"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// 422 when `records` is more than the tier may take in one release.
    pub(crate) fn check_records(self, records: i64) -> ApiResult<()> {
        match self.max_records {
            Some(max) if records > max => Err(ApiError::Unprocessable {
                code: "release_over_cap",
                message: format!(
                    "ชั้นการเข้าถึงของท่านส่งออกได้ไม่เกิน {max} รายการต่อครั้ง แต่ตัวกรองนี้ตรงกับ {records} รายการ: \
                     โปรดจำกัดตัวกรองให้แคบลง / your access tier may release at most {max} records at a time, \
                     but these filters match {records}: narrow them"
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// The longest stated purpose, in characters.
pub(crate) const MAX_PURPOSE_CHARS: usize = 500;
/// The longest reference, in characters.
pub(crate) const MAX_REFERENCE_CHARS: usize = 100;

/// Why a record-level release rests on: the stated purpose and the memo or letter number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Release {
    /// What the records are for.
    pub(crate) purpose: String,
    /// The memo or letter number.
    pub(crate) reference: String,
}

impl Release {
    /// The purpose and reference as given (trimmed), or every problem with them.
    pub(crate) fn parse(
        purpose: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Self, Vec<&'static str>> {
        let purpose = purpose.map(str::trim).unwrap_or_default();
        let reference = reference.map(str::trim).unwrap_or_default();
        let mut problems = Vec::new();
        if purpose.is_empty() {
            problems.push("ระบุวัตถุประสงค์ของการส่งออก / state the purpose of the export");
        } else if purpose.chars().count() > MAX_PURPOSE_CHARS {
            problems.push("วัตถุประสงค์ยาวเกิน 500 ตัวอักษร / the purpose is longer than 500 characters");
        }
        if reference.is_empty() {
            problems.push("ระบุเลขที่บันทึกข้อความหรือหนังสือ / give the memo or letter number");
        } else if reference.chars().count() > MAX_REFERENCE_CHARS {
            problems
                .push("เลขที่อ้างอิงยาวเกิน 100 ตัวอักษร / the reference is longer than 100 characters");
        }
        if problems.is_empty() {
            Ok(Self {
                purpose: purpose.to_owned(),
                reference: reference.to_owned(),
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_are_tier_one_without_a_cap_and_auditors_get_no_records() {
        for role in [Role::Admin, Role::Dpo] {
            let p = Policy::of(role).expect("a records policy");
            assert_eq!((p.tier.number(), p.max_records), (1, None));
            assert!(p.check_records(1_000_000).is_ok());
        }
        assert_eq!(tier_of(Role::Auditor).number(), 5);
        assert_eq!(Policy::of(Role::Auditor), None);
    }

    #[test]
    fn agencies_and_academics_get_five_fields_in_csv_or_jsonl_only() {
        for (role, cap) in [(Role::Agency, Some(1_000)), (Role::Academic, None)] {
            let p = Policy::of(role).expect("records");
            assert_eq!((p.max_records, p.fields), (cap, Some(&LIMITED_FIELDS[..])));
            assert!(p.check_format(Format::Csv).is_ok() && p.check_format(Format::Jsonl).is_ok());
            for signed in [Format::Kantara, Format::Iso27560] {
                assert!(matches!(
                    p.check_format(signed),
                    Err(ApiError::Forbidden(_))
                ));
            }
        }
        let partner = Policy::of(Role::Partner).expect("records");
        assert_eq!(
            (partner.tier.number(), partner.max_records, partner.fields),
            (2, None, None)
        );
        assert!(partner.check_format(Format::Kantara).is_ok());
        // Every field is a column of the CSV export.
        for f in LIMITED_FIELDS {
            assert!(crate::export::csv_column(f).is_some(), "{f}");
        }
    }

    #[test]
    fn an_agency_tier_release_is_capped_at_a_thousand_records() {
        let p = Tier::Agency.policy().expect("records, capped");
        assert!(p.check_records(1_000).is_ok());
        assert!(matches!(
            p.check_records(1_001),
            Err(ApiError::Unprocessable {
                code: "release_over_cap",
                ..
            })
        ));
    }

    #[test]
    fn a_release_needs_a_purpose_and_a_reference() {
        assert_eq!(Release::parse(None, None).map_err(|p| p.len()), Err(2));
        assert_eq!(
            Release::parse(Some("  "), Some("x")).map_err(|p| p.len()),
            Err(1)
        );
        assert_eq!(
            Release::parse(Some(" audit of consents "), Some(" สสว. 0401/123 ")),
            Ok(Release {
                purpose: "audit of consents".into(),
                reference: "สสว. 0401/123".into()
            })
        );
        let long = "ก".repeat(MAX_PURPOSE_CHARS + 1);
        assert!(Release::parse(Some(&long), Some("x")).is_err());
    }
}
