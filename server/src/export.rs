//! Receipt exports, streamed page by page in bounded memory: `jsonl` (native, with the
//! JWS), `csv`, `kantara` (Kantara Consent Receipt v1.1) and `iso27560` (the record fields
//! of ISO/IEC TS 27560:2023).
//!
//! Kantara CR v1.1 has no field for a refusal, so a Kantara receipt lists the purposes
//! and cookie categories the visitor *granted* (an empty list for a refusal or a
//! withdrawal); the native, CSV and ISO 27560 exports keep every decision.

use crate::store::{
    ExportRow, SearchFilter, Store, StoreError, StoredReceipt,
    receipts::{attach_jws, attach_jws_into},
};
use serde_json::{Value, json};
use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap},
    io::Write,
};
use yinyom_model::{
    Lang,
    notice::Notice,
    site::{Category, GcmSignal, LegalBasis, Purpose},
};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One `{"receipt":…,"jws":…}` per line: the signed originals.
    Jsonl,
    /// One row per receipt, for spreadsheets.
    Csv,
    /// Kantara Consent Receipt v1.1, one JSON object per line.
    Kantara,
    /// ISO/IEC TS 27560 consent records, one JSON object per line.
    Iso27560,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Receipts read per page.
const PAGE: i64 = 2_000;

/// The CSV's fixed columns: `(English, Thai)` labels. One column per cookie category and
/// purpose of the site's notices follows `notice_sha256` ([`Columns`]), and `jws` (the
/// signed original, so a row can be verified) ends the row.
const CSV_COLUMNS: [(&str, &str); 18] = [
    ("receipt_id", "เลขที่ใบรับ"),
    ("issued_at", "เวลาที่ออก"),
    ("event", "เหตุการณ์"),
    ("method", "วิธีที่เลือก"),
    ("form", "แบบฟอร์ม"),
    ("lang", "ภาษา"),
    ("subject_id", "รหัสผู้เข้าชม (นามแฝง)"),
    ("notice_version", "ฉบับประกาศ"),
    ("consent_revision", "รอบความยินยอม"),
    ("notice_sha256", "SHA-256 ของประกาศ"),
    ("valid_until", "ใช้ได้ถึง"),
    ("gpc", "สัญญาณ GPC"),
    ("age_band", "ช่วงอายุ"),
    ("consent_by", "ผู้ให้ความยินยอม"),
    ("page_origin", "เว็บไซต์"),
    ("page_path", "หน้าเว็บ"),
    ("widget", "รุ่นวิดเจ็ต"),
    ("jws", "ใบรับที่ลงลายมือชื่อ (JWS)"),
];

/// The position of the CSV's fixed column named `name` (its English label).
pub fn csv_column(name: &str) -> Option<usize> {
    CSV_COLUMNS.iter().position(|(en, _)| *en == name)
}

/// UTF-8's byte order mark: spreadsheets (Excel) read the CSV as UTF-8 with it.
const BOM: &str = "\u{feff}";

/// The decision columns of a CSV export: every cookie category and purpose of the site's
/// published notices (newest first, each id once), with its label.
struct Columns {
    categories: Vec<String>,
    purposes: Vec<String>,
    header: String,
}

impl Columns {
    async fn of(store: &Store, site: &str, lang: Lang) -> Result<Self, StoreError> {
        let (mut categories, mut purposes, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        let (cat, pur) = match lang {
            Lang::Th => ("คุกกี้: ", "วัตถุประสงค์: "),
            Lang::En => ("category:", "purpose:"),
        };
        let mut cat_labels = Vec::new();
        for v in store.notice_versions(site).await? {
            let Some(n) = store.notice_version(site, &v.version).await? else {
                continue;
            };
            for c in &n.notice.categories {
                if !categories.contains(&c.id.to_string()) {
                    categories.push(c.id.to_string());
                    cat_labels.push(label(cat, c.id.as_str(), c.title.get(lang), lang));
                }
            }
            for p in &n.notice.purposes {
                if !purposes.contains(&p.id.to_string()) {
                    purposes.push(p.id.to_string());
                    labels.push(label(pur, p.id.as_str(), p.title.get(lang), lang));
                }
            }
        }
        let names = |(en, th): &(&str, &str)| {
            if lang == Lang::Th {
                (*th).to_owned()
            } else {
                (*en).to_owned()
            }
        };
        let mut out = Vec::new();
        let fixed: Vec<String> = CSV_COLUMNS.iter().map(names).collect();
        let all = fixed[..9]
            .iter()
            .chain(&cat_labels)
            .chain(&labels)
            .chain(&fixed[9..]);
        for (i, h) in all.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            csv_field(&mut out, h);
        }
        Ok(Self {
            categories,
            purposes,
            header: String::from_utf8_lossy(&out).into_owned(),
        })
    }
}

/// A decision column's label: `category:analytics` or `คุกกี้: วิเคราะห์การใช้งาน (analytics)`.
fn label(prefix: &str, id: &str, title: &str, lang: Lang) -> String {
    match lang {
        Lang::Th => format!("{prefix}{title} ({id})"),
        Lang::En => format!("{prefix}{id}"),
    }
}

/// Produces an export one page at a time, so memory stays bounded however many receipts
/// there are: the CLI writes each chunk to a file, the console streams it over HTTP. The
/// store reads the next page while the current one is formatted
/// ([`Store::export_pages`]: the database and the formatting each keep a core busy).
pub struct Exporter {
    store: Store,
    q: SearchFilter,
    format: Format,
    jwks_url: String,
    lang: Lang,
    columns: Option<Columns>,
    notices: HashMap<String, Option<Notice>>,
    pages: Option<tokio::sync::mpsc::Receiver<Result<Vec<ExportRow>, StoreError>>>,
    done: bool,
    /// Only these fixed columns ([`Exporter::only_fields`]), by position.
    only: Option<Vec<usize>>,
    /// Receipts written so far.
    pub count: u64,
}

impl Exporter {
    /// An export of the receipts matching `q` (every filter of the console's search),
    /// oldest first; a CSV's column labels and decisions are in `lang`.
    pub fn new(store: &Store, q: SearchFilter, format: Format, jwks_url: &str, lang: Lang) -> Self {
        Self {
            store: store.clone(),
            q,
            format,
            jwks_url: jwks_url.to_owned(),
            lang,
            columns: None,
            notices: HashMap::new(),
            pages: None,
            done: false,
            only: None,
            count: 0,
        }
    }

    /// The same export cut down to the fixed columns named `fields` (as [`csv_column`]
    /// knows them), in that order: a CSV of those columns, or JSON Lines of objects with
    /// those keys; no decisions, no signed original. Other formats carry every field:
    /// the caller refuses them first (`admin::tiers::Policy::check_format`).
    pub fn only_fields(mut self, fields: &[&str]) -> Self {
        self.only = Some(fields.iter().filter_map(|f| csv_column(f)).collect());
        self
    }

    /// The next chunk of output, or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ExportError> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        if self.pages.is_none() {
            if let (Some(only), Format::Csv) = (&self.only, self.format) {
                let header: Vec<&str> = only
                    .iter()
                    .map(|&i| match self.lang {
                        Lang::Th => CSV_COLUMNS[i].1,
                        Lang::En => CSV_COLUMNS[i].0,
                    })
                    .collect();
                out.extend_from_slice(BOM.as_bytes());
                csv_row(&mut out, header);
            } else if self.format == Format::Csv {
                let columns = Columns::of(&self.store, &self.q.site, self.lang).await?;
                writeln!(out, "{BOM}{}", columns.header)?;
                self.columns = Some(columns);
            }
            self.pages = Some(self.store.export_pages(self.q.clone(), PAGE));
        }
        let page = match self.pages.as_mut() {
            Some(pages) => pages.recv().await,
            None => None,
        };
        let Some(rows) = page else {
            self.done = true;
            return Ok((!out.is_empty()).then_some(out));
        };
        let rows = rows?;
        if let Some(only) = &self.only {
            for (_, _, json, stored) in &rows {
                let r: CsvReceipt<'_> = serde_json::from_str(json)
                    .map_err(|e| StoreError::Corrupt(format!("a stored receipt: {e}")))?;
                let revision = r.notice.consent_revision.to_string();
                let jws = attach_jws(stored, json);
                let fixed = r.fixed(&revision, &jws);
                let picked = only.iter().map(|&i| fixed[i]);
                if self.format == Format::Csv {
                    csv_row(&mut out, picked);
                } else {
                    let line: serde_json::Map<String, Value> = only
                        .iter()
                        .zip(picked)
                        .map(|(&i, v)| (CSV_COLUMNS[i].0.to_owned(), Value::from(v)))
                        .collect();
                    writeln!(out, "{}", Value::Object(line))?;
                }
                self.count += 1;
            }
        } else if let (Format::Csv, Some(columns)) = (self.format, &self.columns) {
            // A row is about its JSON twice (the fields, and the JWS's payload in base64)
            // and the signature.
            out.reserve(
                rows.iter()
                    .map(|(_, _, json, jws)| 2 * json.len() + jws.len())
                    .sum(),
            );
            let mut jws = String::new();
            for (_, _, json, stored) in &rows {
                let r: CsvReceipt<'_> = serde_json::from_str(json)
                    .map_err(|e| StoreError::Corrupt(format!("a stored receipt: {e}")))?;
                attach_jws_into(&mut jws, stored, json);
                r.write(&mut out, columns, &jws, self.lang);
                self.count += 1;
            }
        } else {
            for (_, issued_at_ms, json, jws) in rows {
                let r = StoredReceipt::parse(json, jws, issued_at_ms)?;
                self.write_signed(&mut out, &r).await?;
                self.count += 1;
            }
        }
        Ok(Some(out))
    }

    async fn write_signed(
        &mut self,
        out: &mut Vec<u8>,
        r: &StoredReceipt,
    ) -> Result<(), ExportError> {
        match self.format {
            Format::Jsonl => {
                let line = json!({"receipt": r.receipt, "jws": r.jws});
                writeln!(out, "{line}")?;
            }
            // Written from the stored JSON in `next_chunk`, without parsing the receipt.
            Format::Csv => {}
            Format::Kantara | Format::Iso27560 => {
                let version = r.receipt.notice.version.clone();
                if !self.notices.contains_key(&version) {
                    let notice = self
                        .store
                        .notice_version(&self.q.site, &version)
                        .await?
                        .map(|p| p.notice);
                    self.notices.insert(version.clone(), notice);
                }
                let notice = self.notices.get(&version).and_then(Option::as_ref);
                let doc = if self.format == Format::Kantara {
                    kantara(r, notice, &self.jwks_url)
                } else {
                    iso27560(r, notice, &self.jwks_url)
                };
                writeln!(out, "{doc}")?;
            }
        }
        Ok(())
    }
}

/// Streams the receipts matching `q` to `out` in `format`; returns how many were written.
/// `jwks_url` is written into Kantara receipts as the controller's public key reference;
/// a CSV's labels are in `lang`. `progress` advances by the receipts written (the CLI's
/// bar, [`crate::cli::progress`]).
pub async fn export(
    store: &Store,
    q: &SearchFilter,
    format: Format,
    jwks_url: &str,
    lang: Lang,
    out: &mut (dyn Write + Send),
    progress: &indicatif::ProgressBar,
) -> Result<u64, ExportError> {
    let mut ex = Exporter::new(store, q.clone(), format, jwks_url, lang);
    while let Some(chunk) = ex.next_chunk().await? {
        out.write_all(&chunk)?;
        out.flush()?;
        progress.set_position(ex.count);
    }
    Ok(ex.count)
}

impl Format {
    /// The file extension and media type of the format.
    pub fn file(self) -> (&'static str, &'static str) {
        match self {
            Format::Jsonl => ("jsonl", "application/jsonl; charset=utf-8"),
            Format::Csv => ("csv", "text/csv; charset=utf-8"),
            Format::Kantara => ("kantara.jsonl", "application/jsonl; charset=utf-8"),
            Format::Iso27560 => ("iso27560.jsonl", "application/jsonl; charset=utf-8"),
        }
    }
}

/// Appends one CSV field, quoted when needed (RFC 4180), with spreadsheet formula
/// injection neutralised (a leading `=`, `+`, `-`, `@`, tab or carriage return gets a
/// `'`: spreadsheets read a formula after any of them).
fn csv_field(out: &mut Vec<u8>, s: &str) {
    // A receipt's JWS is most of a row (about 1.3 KB, none of these characters): looked
    // for a vector at a time, not byte by byte (that was a seventh of a CSV export's CPU).
    let b = s.as_bytes();
    let quote =
        memchr::memchr3(b',', b'"', b'\n', b).is_some() || memchr::memchr(b'\r', b).is_some();
    out.reserve(s.len() + 3);
    if quote {
        out.push(b'"');
    }
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push(b'\'');
    }
    if quote {
        for (i, run) in s.split('"').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(run.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Appends one CSV row of `fields` and its line end.
fn csv_row<'f>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'f str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_field(out, f);
    }
    out.push(b'\n');
}

/// The fields of a receipt a CSV row shows, borrowed from the stored JSON where it has no
/// escapes: reading a million rows this way makes no allocation per field (the owned
/// [`Receipt`] made about twenty per row, a third of the export's time).
#[derive(serde::Deserialize)]
struct CsvReceipt<'a> {
    #[serde(borrow)]
    receipt_id: Cow<'a, str>,
    #[serde(borrow)]
    issued_at: Cow<'a, str>,
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(default, borrow)]
    context: Option<Cow<'a, str>>,
    #[serde(borrow)]
    lang: Cow<'a, str>,
    #[serde(borrow)]
    subject_id: Cow<'a, str>,
    #[serde(borrow)]
    notice: CsvNotice<'a>,
    #[serde(borrow)]
    categories: BTreeMap<Cow<'a, str>, bool>,
    #[serde(borrow)]
    purposes: BTreeMap<Cow<'a, str>, bool>,
    #[serde(borrow)]
    valid_until: Cow<'a, str>,
    gpc: bool,
    #[serde(default, borrow)]
    age_band: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    consent_by: Option<Cow<'a, str>>,
    #[serde(borrow)]
    page: CsvPage<'a>,
    #[serde(borrow)]
    widget: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct CsvNotice<'a> {
    #[serde(borrow)]
    version: Cow<'a, str>,
    consent_revision: u32,
    #[serde(borrow)]
    sha256: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct CsvPage<'a> {
    #[serde(borrow)]
    origin: Cow<'a, str>,
    #[serde(borrow)]
    path: Cow<'a, str>,
}

impl<'a> CsvReceipt<'a> {
    /// The fixed columns ([`CSV_COLUMNS`]), given the revision as text and the JWS.
    fn fixed<'s>(&'s self, revision: &'s str, jws: &'s str) -> [&'s str; 18] {
        [
            &self.receipt_id,
            &self.issued_at,
            &self.event,
            &self.method,
            self.context.as_deref().unwrap_or(""),
            &self.lang,
            &self.subject_id,
            &self.notice.version,
            revision,
            &self.notice.sha256,
            &self.valid_until,
            if self.gpc { "true" } else { "false" },
            self.age_band.as_deref().unwrap_or(""),
            self.consent_by.as_deref().unwrap_or(""),
            &self.page.origin,
            &self.page.path,
            &self.widget,
            jws,
        ]
    }

    /// Appends the row (the columns of [`Columns`]) and its line end.
    fn write(&self, out: &mut Vec<u8>, columns: &Columns, jws: &str, lang: Lang) {
        let revision = self.notice.consent_revision.to_string();
        let fixed = self.fixed(&revision, jws);
        let decision = |m: &BTreeMap<Cow<'_, str>, bool>, id: &str| match (m.get(id), lang) {
            (Some(true), Lang::Th) => "อนุญาต",
            (Some(false), Lang::Th) => "ไม่อนุญาต",
            (Some(true), Lang::En) => "granted",
            (Some(false), Lang::En) => "denied",
            (None, _) => "",
        };
        let decisions = columns
            .categories
            .iter()
            .map(|id| decision(&self.categories, id))
            .chain(
                columns
                    .purposes
                    .iter()
                    .map(|id| decision(&self.purposes, id)),
            );
        let all = fixed[..9]
            .iter()
            .copied()
            .chain(decisions)
            .chain(fixed[9..].iter().copied());
        csv_row(out, all);
    }
}

fn epoch_secs(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or(0)
}

/// Kantara purpose category (numbered list of the v1.1 specification) of a cookie category.
fn category_purpose(c: &Category) -> &'static str {
    let ads = c.gcm.iter().any(|g| {
        matches!(
            g,
            GcmSignal::AdStorage | GcmSignal::AdUserData | GcmSignal::AdPersonalization
        )
    });
    match c.id.as_str() {
        "necessary" => "1 - Core Function",
        "analytics" => "16 - Improve Performance",
        "marketing" => "6 - Marketing",
        "functional" => "5 - Personalized Experience",
        _ if ads => "7 - Marketing Third Parties",
        _ if c.gcm.contains(&GcmSignal::AnalyticsStorage) => "16 - Improve Performance",
        _ => "5 - Personalized Experience",
    }
}

fn kantara_purpose(
    title: &str,
    category: &str,
    pii: &[&str],
    termination: String,
    recipients: &[String],
) -> Value {
    let mut p = json!({
        "purpose": title,
        "purposeCategory": [category],
        "consentType": "EXPLICIT",
        "piiCategory": pii,
        "primaryPurpose": false,
        "termination": termination,
        "thirdPartyDisclosure": !recipients.is_empty(),
    });
    if !recipients.is_empty() {
        p["thirdPartyName"] = json!(recipients.join("; "));
    }
    p
}

/// A Kantara Consent Receipt v1.1 for one stored receipt.
pub fn kantara(r: &StoredReceipt, notice: Option<&Notice>, jwks_url: &str) -> Value {
    let rc = &r.receipt;
    let lang = rc.lang;
    let mut purposes = Vec::new();
    if let Some(n) = notice {
        for c in n
            .optional_categories()
            .filter(|c| rc.categories.get(&c.id) == Some(&true))
        {
            let providers: Vec<String> = c
                .cookies
                .iter()
                .map(|k| k.provider.get(lang).to_owned())
                .filter(|p| !p.is_empty())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            purposes.push(kantara_purpose(
                c.title.get(lang),
                category_purpose(c),
                &["5 - Network/Service", "15 - Behavioral"],
                format!("consent valid until {}; withdraw any time", rc.valid_until),
                &providers,
            ));
        }
        for p in n
            .consent_purposes()
            .filter(|p| rc.purposes.get(&p.id) == Some(&true))
        {
            let recipients: Vec<String> = p
                .recipients
                .iter()
                .map(|t| t.get(lang).to_owned())
                .collect();
            purposes.push(kantara_purpose(
                p.title.get(lang),
                "5 - Personalized Experience",
                &["2 - Contact"],
                format!("until withdrawn; data kept: {}", p.retention.get(lang)),
                &recipients,
            ));
        }
    }
    let (controller, contact, address, email, phone, url, service) = match notice {
        Some(n) => (
            n.controller.name.get(lang).to_owned(),
            format!("{} <{}>", n.dpo.name.get(lang), n.dpo.email),
            n.controller.address.get(lang).to_owned(),
            n.controller.email.clone(),
            n.controller.phone.clone(),
            n.controller.url.clone(),
            n.site_name.get(lang).to_owned(),
        ),
        None => (
            rc.controller.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            rc.site.to_string(),
        ),
    };
    let mut ctrl = json!({
        "piiController": controller,
        "onBehalf": false,
        "contact": contact,
        "address": {"streetAddress": address, "addressCountry": "TH"},
        "email": email,
        "phone": phone,
    });
    if !url.is_empty() {
        ctrl["piiControllerUrl"] = json!(url);
    }
    json!({
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "TH",
        "consentTimestamp": epoch_secs(&rc.issued_at),
        "collectionMethod": match &rc.context {
            Some(form) => format!("web form `{form}` on {}{} (form), Yinyom loader {}", rc.page.origin, rc.page.path, rc.widget),
            None => format!("web consent banner ({}), Yinyom widget {}", rc.method.as_str(), rc.widget),
        },
        "consentReceiptID": rc.receipt_id,
        "publicKey": jwks_url,
        "language": lang.code(),
        "piiPrincipalId": rc.subject_id,
        "piiControllers": [ctrl],
        "policyUrl": rc.notice.url,
        "services": [{"service": service, "purposes": purposes}],
        "sensitive": false,
        "spiCat": [],
    })
}

fn basis(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "consent",
        LegalBasis::Contract => "contract",
        LegalBasis::LegalObligation => "legal_obligation",
        LegalBasis::PublicTask => "public_task",
        LegalBasis::VitalInterest => "vital_interest",
        LegalBasis::LegitimateInterest => "legitimate_interest",
    }
}

fn purpose_record(p: &Purpose, decided: Option<bool>, lang: Lang) -> Value {
    json!({
        "purpose_id": p.id,
        "purpose": p.title.get(lang),
        "lawful_basis": basis(p.legal_basis),
        "decision": match decided { Some(true) => "granted", Some(false) => "denied", None => "not_applicable" },
        "pii_information": p.data.iter().map(|d| json!({"pii_type": d.get(lang)})).collect::<Vec<_>>(),
        "retention_period": [p.retention.get(lang)],
        "recipient_third_parties": p.recipients.iter().map(|d| d.get(lang)).collect::<Vec<_>>(),
        "storage_locations": storage_locations(std::slice::from_ref(p)),
    })
}

/// Where the data is kept: Thailand, then the countries the notice names (sorted, once
/// each).
fn storage_locations(purposes: &[Purpose]) -> Vec<String> {
    let abroad: std::collections::BTreeSet<&str> = purposes
        .iter()
        .flat_map(|p| p.countries.iter().map(String::as_str))
        .filter(|c| *c != "TH")
        .collect();
    std::iter::once("TH".to_owned())
        .chain(abroad.into_iter().map(str::to_owned))
        .collect()
}

/// The DPV / ISO 27560 consent state of a receipt's event at `now_ms`: a withdrawal or a
/// refusal as such, a choice past its validity `expired`, else `given`.
fn event_state(rc: &yinyom_model::receipt::Receipt, now_ms: i64) -> &'static str {
    use yinyom_model::receipt::Event;
    match rc.event {
        Event::Withdrawn => "withdrawn",
        Event::Refused => "refused",
        Event::Expired => "expired",
        Event::Given | Event::Updated => {
            let ended = crate::signing::parse_ms(&rc.valid_until).is_some_and(|end| end <= now_ms);
            if ended { "expired" } else { "given" }
        }
    }
}

/// The validity of a receipt as an ISO 8601 duration in whole days (`P365D`).
fn validity_duration(rc: &yinyom_model::receipt::Receipt) -> Option<String> {
    let from = crate::signing::parse_ms(&rc.issued_at)?;
    let until = crate::signing::parse_ms(&rc.valid_until)?;
    Some(format!("P{}D", (until - from) / crate::dates::DAY_MS))
}

/// An ISO/IEC TS 27560 consent record for one stored receipt (field names of §6.3):
/// every mandatory field, with party ids, the event's state at export time and its
/// validity duration, retention periods as lists of text, PII categories as data types,
/// storage locations from the notice's countries, and the absolute `jwks_url`.
pub fn iso27560(r: &StoredReceipt, notice: Option<&Notice>, jwks_url: &str) -> Value {
    let rc = &r.receipt;
    let lang = rc.lang;
    let mut purposes = Vec::new();
    if let Some(n) = notice {
        for c in &n.categories {
            let decided = if c.required {
                None
            } else {
                rc.categories.get(&c.id).copied()
            };
            purposes.push(json!({
                "purpose_id": c.id,
                "purpose": c.title.get(lang),
                "lawful_basis": if c.required { "necessary" } else { "consent" },
                "decision": match decided { Some(true) => "granted", Some(false) => "denied", None => "not_applicable" },
                "pii_information": c.cookies.iter().map(|k| json!({"pii_type": "online identifier (cookie)", "pii_attribute_id": k.name})).collect::<Vec<_>>(),
                "retention_period": c.cookies.iter().map(|k| format!("{}: {}", k.name, k.duration.get(lang))).collect::<Vec<_>>(),
                "recipient_third_parties": c.cookies.iter().map(|k| k.provider.get(lang)).collect::<std::collections::BTreeSet<_>>(),
                "storage_locations": ["TH"],
            }));
        }
        for p in &n.purposes {
            purposes.push(purpose_record(p, rc.purposes.get(&p.id).copied(), lang));
        }
    }
    let site = rc.site.as_str();
    let party = |p: &yinyom_model::site::Party, role: &str| {
        json!({"party_id": format!("urn:yinyom:{site}:{role}"), "party_type": role, "party_name": p.name.get(lang),
               "party_address": p.address.get(lang),
               "party_contact": {"email": p.email, "phone": p.phone, "url": p.url}})
    };
    let guardian = rc.consent_by == Some(yinyom_model::receipt::ConsentBy::Guardian);
    let mut record = json!({
        "schema_version": "ISO/IEC TS 27560:2023; yinyom.receipt/1",
        "record_id": rc.receipt_id,
        "pii_principal_id": rc.subject_id,
        "privacy_notice": {"url": rc.notice.url, "version": rc.notice.version, "consent_revision": rc.notice.consent_revision, "sha256": rc.notice.sha256,
                           "effective_from": notice.map(|n| n.effective_from.as_str())},
        "language": lang.code(),
        "purposes": purposes,
        "pii_controllers": notice.map(|n| vec![party(&n.controller, "controller"), party(&n.dpo, "dpo")]).unwrap_or_default(),
        "collection_method": {"channel": if rc.context.is_some() { "web_form" } else { "web_banner" }, "action": rc.method.as_str(), "widget_build": rc.widget, "page_origin": rc.page.origin, "page_path": rc.page.path},
        "storage_locations": notice.map_or_else(|| vec!["TH".to_owned()], |n| storage_locations(&n.purposes)),
        "jurisdiction": rc.jurisdiction,
        "withdrawal_method": "the cookie settings button or link on the site (ตั้งค่าคุกกี้): Withdraw all",
        "privacy_rights": ["access (s.30)", "data portability (s.31)", "objection (s.32)", "erasure (s.33)", "restriction (s.34)", "rectification (s.35, s.36)", "withdrawal (s.19)", "complaint to the PDPC (s.73)"],
        "event": {"event_type": rc.event.as_str(), "event_time": rc.issued_at, "validity_end": rc.valid_until,
                  "validity_duration": validity_duration(rc),
                  "event_state": event_state(rc, crate::dates::now_ms()),
                  "event_entity": if guardian { "guardian" } else { "subject" },
                  "event_entity_id": if guardian { format!("guardian of {}", rc.subject_id) } else { rc.subject_id.clone() },
                  "age_band": rc.age_band},
        "signals": {"gpc": rc.gpc},
        "integrity": {"jws": r.jws, "jwks": jwks_url, "previous_record_hash": rc.previous},
    });
    if let Some(form) = &rc.context {
        record["collection_method"]["form"] = json!(form);
    }
    record
}

#[cfg(test)]
mod tests {
    fn csv_field(s: &str) -> String {
        let mut out = Vec::new();
        super::csv_field(&mut out, s);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
        // Spreadsheets skip a leading tab or carriage return and read the formula after it.
        assert_eq!(csv_field("\t=1+1"), "'\t=1+1");
        assert_eq!(csv_field("\r=1+1"), "\"'\r=1+1\"");
        // Anywhere in a long field (searched a vector at a time), a line end quotes it too.
        let long = "x".repeat(100);
        assert_eq!(csv_field(&long), long);
        for c in [",", "\"", "\n", "\r"] {
            let field = format!("{long}{c}{long}");
            assert!(csv_field(&field).starts_with('"'), "{c:?} not quoted");
        }
    }
}
