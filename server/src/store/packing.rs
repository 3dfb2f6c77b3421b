//! Receipt bodies packed against a template: how a receipt row keeps its signed JSON and
//! JWS in about a sixth of the bytes.
//!
//! Receipts of one site and notice version repeat most of their JSON (the controller, the
//! notice's URL and hash, the origin, the schema), and all of them signed by one key
//! share the JWS protected header. So the first receipt of each (site, notice version,
//! JWS header) writes a `receipt_templates` row: that receipt with everything about the
//! visitor blanked ([`template_of`]), and the header. Every receipt of the same key is
//! then stored as
//! - `packed`: its canonical JSON compressed with zstd, the template as the dictionary
//!   (a raw-content dictionary: the bytes are only something to copy from). About 95
//!   bytes instead of 700.
//! - `jws`: `..signature`, the header being the template's (the payload was never kept:
//!   it is the JSON, see [`super::receipts::detach_jws`]).
//! - `receipt_json`: empty.
//!
//! Reading puts both back byte for byte: the statements select [`json_columns!`] and
//! [`jws_column!`] with [`template_join!`], and rows decode the JSON through
//! [`ReceiptJson`] (or [`decode`]). Rows written before packing (or by tests that edit a row by hand)
//! keep their JSON in `receipt_json` and `packed` empty; they read the same way. A
//! template holds no visitor's identifier, path or time: erasing a visitor's receipts
//! leaves nothing of them in a template.

use super::{Result, Store, StoreError};
use yinyom_model::receipt::{PageRef, Receipt};
use zstd::zstd_safe::{CCtx, DCtx};

/// The join every read of a receipt body needs (`r`: the receipts table).
macro_rules! template_join {
    () => {
        " left join receipt_templates t on t.id = r.template_id "
    };
}

/// The columns [`ReceiptJson`] decodes (`r.receipt_json, r.packed, t.template`).
macro_rules! json_columns {
    () => {
        "r.receipt_json, r.packed, t.template"
    };
}

/// The stored JWS with its header put back (still without its payload: see
/// [`super::receipts::attach_jws`]), as the column `jws`.
macro_rules! jws_column {
    () => {
        "coalesce(t.header, '') || r.jws as jws"
    };
}

pub(crate) use {json_columns, jws_column, template_join};

/// zstd level: at 700 bytes against a template every level packs to the same size.
const LEVEL: i32 = 1;

/// The template of `receipt`: the receipt with its visitor's identifiers, chain link,
/// paper form, guardian, case reference and page path blanked and its times set to the
/// start of the day (UTC). What is left is what every receipt of the site and notice
/// version shares, and the shape of the rest.
pub fn template_of(receipt: &Receipt) -> Result<String> {
    let day = |t: &str| format!("{}T00:00:00.000Z", t.get(..10).unwrap_or("1970-01-01"));
    let mut r = receipt.clone();
    r.receipt_id = String::new();
    r.request_id = String::new();
    r.subject_id = String::new();
    r.previous = None;
    r.paper = None;
    r.consent_by = None;
    r.case_reference = None;
    r.age_band = None;
    r.issued_at = day(&receipt.issued_at);
    r.valid_until = day(&receipt.valid_until);
    r.page = PageRef {
        origin: receipt.page.origin.clone(),
        path: "/".into(),
    };
    yinyom_model::canonical::to_canonical_json(&r).map_err(|e| StoreError::Canonical(e.to_string()))
}

thread_local! {
    /// One compression and one decompression context per thread, reused (a context is
    /// about 100 KB to set up). A template is a raw-content dictionary: zstd refers to
    /// its bytes as they are, nothing is prepared per template.
    static CONTEXTS: std::cell::RefCell<(CCtx<'static>, DCtx<'static>)> =
        std::cell::RefCell::new((CCtx::create(), DCtx::create()));
}

/// `json` compressed against `template`.
pub fn pack(json: &str, template: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(json.len()));
    CONTEXTS
        .with_borrow_mut(|(c, _)| c.compress_using_dict(&mut out, json.as_bytes(), template, LEVEL))
        .map_err(|code| {
            StoreError::Corrupt(format!(
                "cannot pack a receipt: {}",
                zstd::zstd_safe::get_error_name(code)
            ))
        })?;
    Ok(out)
}

/// How a receipt row keeps a receipt's body.
#[derive(Debug)]
pub struct RowForm {
    /// `receipt_json`: empty when packed.
    pub json: String,
    /// `jws`: `..signature` when packed (the header is the template's).
    pub jws: String,
    /// `template_id`.
    pub template_id: Option<i64>,
    /// `packed`.
    pub packed: Option<Vec<u8>>,
}

impl RowForm {
    /// The row form of `json` and its detached JWS (`header..signature`, see
    /// [`super::receipts::detach_jws`]), packed against `template` (its id, header and
    /// bytes) when the JWS has that header; otherwise plain.
    pub fn of(json: &str, jws: &str, template: Option<(i64, &str, &[u8])>) -> Result<Self> {
        match template {
            Some((id, header, bytes))
                if jws
                    .strip_prefix(header)
                    .is_some_and(|rest| rest.starts_with("..")) =>
            {
                Ok(Self {
                    json: String::new(),
                    jws: jws[header.len()..].to_owned(),
                    template_id: Some(id),
                    packed: Some(pack(json, bytes)?),
                })
            }
            _ => Ok(Self {
                json: json.to_owned(),
                jws: jws.to_owned(),
                template_id: None,
                packed: None,
            }),
        }
    }
}

/// The JSON [`pack`] packed against `template`.
pub fn unpack(packed: &[u8], template: &[u8]) -> Result<String> {
    let bad = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("a packed receipt: {e}"));
    let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(packed) else {
        return Err(bad(&"no content size"));
    };
    // A receipt is a few kilobytes; a frame claiming more is damaged.
    let size = usize::try_from(size)
        .ok()
        .filter(|n| *n <= 1 << 20)
        .ok_or_else(|| bad(&format!("claims {size} bytes")))?;
    let mut out = Vec::with_capacity(size);
    CONTEXTS
        .with_borrow_mut(|(_, d)| d.decompress_using_dict(&mut out, packed, template))
        .map_err(|code| bad(&zstd::zstd_safe::get_error_name(code)))?;
    String::from_utf8(out).map_err(|e| bad(&e))
}

/// The canonical JSON of a receipt row's three body columns ([`json_columns!`]): `None`
/// when the row is missing (a left join found no receipt).
pub fn decode(
    json: Option<String>,
    packed: Option<Vec<u8>>,
    template: Option<Vec<u8>>,
) -> Result<Option<String>> {
    match (packed, template) {
        (None, _) => Ok(json),
        (Some(p), Some(t)) => unpack(&p, &t).map(Some),
        (Some(_), None) => Err(StoreError::Corrupt(
            "a packed receipt whose template is missing".into(),
        )),
    }
}

/// A receipt row's body columns ([`json_columns!`]) as read, not yet unpacked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredBody {
    receipt_json: Option<String>,
    packed: Option<Vec<u8>>,
    template: Option<Vec<u8>>,
}

impl StoredBody {
    /// The canonical JSON (`None`: no receipt row).
    pub fn json(self) -> Result<Option<String>> {
        decode(self.receipt_json, self.packed, self.template)
    }
}

/// A receipt's canonical JSON as its row keeps it ([`json_columns!`]), read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptJson(pub String);

impl std::ops::Deref for ReceiptJson {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for ReceiptJson
where
    StoredBody: sqlx::FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        StoredBody::from_row(row)?
            .json()
            .and_then(|json| {
                json.ok_or_else(|| StoreError::Corrupt("a receipt row without its JSON".into()))
            })
            .map(Self)
            .map_err(|e| sqlx::Error::Decode(e.to_string().into()))
    }
}

/// Every template, for reads of many rows (exports): the rows then carry only their
/// template's id, and the header and template are taken from here.
#[derive(Debug, Default)]
pub struct Templates(std::collections::HashMap<i64, (String, Vec<u8>)>);

impl Templates {
    /// A row's canonical JSON and stored JWS with its header put back, from its columns
    /// `receipt_json, packed, template_id, jws`.
    pub fn body(
        &self,
        json: String,
        packed: Option<Vec<u8>>,
        template_id: Option<i64>,
        jws: String,
    ) -> Result<(String, String)> {
        let Some(id) = template_id else {
            return Ok((json, jws));
        };
        let (header, template) = self.0.get(&id).ok_or_else(|| {
            StoreError::Corrupt(format!("a receipt names template {id}, which is missing"))
        })?;
        let json = match packed {
            Some(p) => unpack(&p, template)?,
            None => json,
        };
        Ok((json, format!("{header}{jws}")))
    }

    /// [`Templates::body`] for an audit: a body that cannot be unpacked (its blob or
    /// template changed by hand) reads as empty instead of failing the whole read, and the
    /// JWS gets its template's header when the template is there. `log verify`'s leaf and
    /// signature checks then name what is wrong.
    pub fn audited(
        &self,
        json: Option<String>,
        packed: Option<Vec<u8>>,
        template_id: Option<i64>,
        jws: &str,
    ) -> (String, String) {
        let template = template_id.and_then(|id| self.0.get(&id));
        let header = template.map_or("", |(header, _)| header.as_str());
        let json = match (packed, template) {
            (None, _) => json.unwrap_or_default(),
            (Some(p), Some((_, t))) => unpack(&p, t).unwrap_or_default(),
            (Some(_), None) => String::new(),
        };
        (json, format!("{header}{jws}"))
    }
}

impl Store {
    /// Every receipt template (there is one per site, notice version and signing key).
    pub async fn templates(&self) -> Result<Templates> {
        let rows: Vec<(i64, String, Vec<u8>)> = on_pool!(self, pool => sqlx::query_as(
            "select id, header, template from receipt_templates",
        )
        .fetch_all(pool)
        .await)?;
        Ok(Templates(
            rows.into_iter().map(|(id, h, t)| (id, (h, t))).collect(),
        ))
    }
}

/// [`Store::templates`] on a rusqlite connection (the SQLite export reader).
pub fn templates_of(conn: &rusqlite::Connection) -> rusqlite::Result<Templates> {
    let mut statement =
        conn.prepare_cached("select id, header, template from receipt_templates")?;
    let rows = statement
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Templates(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks_byte_for_byte() {
        let template = br#"{"controller":"x","schema":"yinyom.receipt/1","site":"demo"}"#;
        let json =
            r#"{"controller":"x","receipt_id":"01a2","schema":"yinyom.receipt/1","site":"demo"}"#;
        let packed = pack(json, template).expect("pack");
        assert!(packed.len() < json.len(), "{} bytes", packed.len());
        assert_eq!(unpack(&packed, template).expect("unpack"), json);
        // Against another template the bytes are not the receipt's.
        assert_ne!(
            unpack(&packed, b"another template entirely")
                .ok()
                .as_deref(),
            Some(json)
        );
        assert!(unpack(b"not zstd", template).is_err());
    }
}
