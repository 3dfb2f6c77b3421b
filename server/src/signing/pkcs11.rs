//! Keys that never leave an HSM: PKCS#11 through the `cryptoki` crate, Ed25519 by
//! `CKM_EDDSA` (tested with SoftHSM2).
//!
//! A key is named by a PKCS#11 URI (RFC 7512), e.g.
//! `pkcs11:token=yinyom;object=receipts-2026?pin-source=/etc/yinyom/pin&module-path=/usr/lib/softhsm/libsofthsm2.so`:
//! - path attributes: `token`, `manufacturer`, `model`, `serial` (which token), `object`
//!   (the key's label), `id` (its CKA_ID, percent-encoded bytes), `type=private`;
//! - query attributes: `pin-source` (a file holding the user PIN: a path or a `file:` URI),
//!   `pin-value` (the PIN itself: avoid, it shows in process lists), `module-path` (the
//!   PKCS#11 library; else `--pkcs11-module` or `YINYOM_PKCS11_MODULE`).

use super::keys::{Ed25519Signer, KeyError};
use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as CkError, RvError},
    mechanism::{
        Mechanism,
        eddsa::{EddsaParams, EddsaSignatureScheme},
    },
    object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::AuthPin,
};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Mutex, OnceLock},
};

/// DER of the Ed25519 curve's OID 1.3.101.112 (RFC 8410), as CKA_EC_PARAMS.
const ED25519_OID: [u8; 5] = [0x06, 0x03, 0x2B, 0x65, 0x70];

/// A parsed `pkcs11:` URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// Token label.
    pub token: Option<String>,
    /// Token manufacturer.
    pub manufacturer: Option<String>,
    /// Token model.
    pub model: Option<String>,
    /// Token serial number.
    pub serial: Option<String>,
    /// The key's label (CKA_LABEL).
    pub object: Option<String>,
    /// The key's CKA_ID.
    pub id: Option<Vec<u8>>,
    /// A file holding the PIN.
    pub pin_source: Option<PathBuf>,
    /// The PIN.
    pub pin_value: Option<String>,
    /// The PKCS#11 library.
    pub module_path: Option<PathBuf>,
}

fn err(why: impl std::fmt::Display) -> KeyError {
    KeyError::Pkcs11(why.to_string())
}

fn ck(what: &str) -> impl FnOnce(CkError) -> KeyError + '_ {
    move |e| match e {
        CkError::Pkcs11(rv, _) => err(format!("{what}: {rv:?}")),
        other => err(format!("{what}: {other}")),
    }
}

/// Decodes RFC 3986 percent-encoding.
fn unpercent(s: &str) -> Result<Vec<u8>, KeyError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| err(format!("bad percent-encoding in `{s}`")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn unpercent_text(s: &str) -> Result<String, KeyError> {
    String::from_utf8(unpercent(s)?).map_err(|_| err(format!("`{s}` is not UTF-8")))
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI (RFC 7512). Unknown attributes are refused rather than
    /// ignored, so a typo never selects another key.
    pub fn parse(uri: &str) -> Result<Self, KeyError> {
        let rest = uri
            .strip_prefix("pkcs11:")
            .ok_or_else(|| err("a PKCS#11 URI starts with `pkcs11:`"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut u = Self::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (k, v) = attr
                .split_once('=')
                .ok_or_else(|| err(format!("`{attr}` is not name=value")))?;
            match k {
                "token" => u.token = Some(unpercent_text(v)?),
                "manufacturer" => u.manufacturer = Some(unpercent_text(v)?),
                "model" => u.model = Some(unpercent_text(v)?),
                "serial" => u.serial = Some(unpercent_text(v)?),
                "object" => u.object = Some(unpercent_text(v)?),
                "id" => u.id = Some(unpercent(v)?),
                "type" if v == "private" => {}
                "type" => return Err(err("type must be `private`: the key that signs")),
                _ => return Err(err(format!("unsupported PKCS#11 URI attribute `{k}`"))),
            }
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (k, v) = attr
                .split_once('=')
                .ok_or_else(|| err(format!("`{attr}` is not name=value")))?;
            match k {
                "pin-source" => {
                    let v = unpercent_text(v)?;
                    let path = v
                        .strip_prefix("file://")
                        .or_else(|| v.strip_prefix("file:"));
                    u.pin_source = Some(PathBuf::from(path.unwrap_or(&v)));
                }
                "pin-value" => u.pin_value = Some(unpercent_text(v)?),
                "module-path" => u.module_path = Some(PathBuf::from(unpercent_text(v)?)),
                _ => return Err(err(format!("unsupported PKCS#11 URI query `{k}`"))),
            }
        }
        if u.object.is_none() && u.id.is_none() {
            return Err(err("the URI names no key: add `object=LABEL` (or `id=…`)"));
        }
        Ok(u)
    }

    /// The URI without its PIN, for messages.
    pub fn redacted(uri: &str) -> String {
        match uri.split_once('?') {
            None => uri.to_owned(),
            Some((path, query)) => {
                let q: Vec<String> = query
                    .split('&')
                    .map(|a| {
                        if a.starts_with("pin-value=") {
                            "pin-value=…".to_owned()
                        } else {
                            a.to_owned()
                        }
                    })
                    .collect();
                format!("{path}?{}", q.join("&"))
            }
        }
    }

    fn pin(&self) -> Result<AuthPin, KeyError> {
        if let Some(p) = &self.pin_value {
            return Ok(AuthPin::from(p.clone()));
        }
        let Some(path) = &self.pin_source else {
            return Err(err(
                "no PIN: add `?pin-source=FILE` (a file holding the user PIN) to the URI",
            ));
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(format!("pin-source {}: {e}", path.display())))?;
        Ok(AuthPin::from(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }

    fn module(&self, fallback: Option<&Path>) -> Result<PathBuf, KeyError> {
        self.module_path
            .clone()
            .or_else(|| fallback.map(Path::to_owned))
            .ok_or_else(|| {
                err("no PKCS#11 library: add `module-path=…` to the URI or give --pkcs11-module (YINYOM_PKCS11_MODULE), e.g. /usr/lib/softhsm/libsofthsm2.so")
            })
    }

    fn key_template(&self, class: ObjectClass) -> Vec<Attribute> {
        let mut t = vec![
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC_EDWARDS),
        ];
        if let Some(l) = &self.object {
            t.push(Attribute::Label(l.as_bytes().to_vec()));
        }
        if let Some(id) = &self.id {
            t.push(Attribute::Id(id.clone()));
        }
        t
    }
}

/// One initialized context per PKCS#11 library in this process: a library is initialized
/// once, and the receipt and log keys may live in the same token.
fn context(module: &Path) -> Result<Pkcs11, KeyError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = modules.get(module) {
        return Ok(p.clone());
    }
    let p = Pkcs11::new(module).map_err(ck(&format!("cannot load {}", module.display())))?;
    match p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(ck("C_Initialize")(e)),
    }
    modules.insert(module.to_owned(), p.clone());
    Ok(p)
}

/// The slot of the token the URI names (the only token, if it names none).
fn slot(p: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, KeyError> {
    let mut found = Vec::new();
    for slot in p.get_slots_with_token().map_err(ck("C_GetSlotList"))? {
        let info = p.get_token_info(slot).map_err(ck("C_GetTokenInfo"))?;
        let matches = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.trim() == have.trim())
        };
        if matches(&uri.token, info.label())
            && matches(&uri.manufacturer, info.manufacturer_id())
            && matches(&uri.model, info.model())
            && matches(&uri.serial, info.serial_number())
        {
            found.push(slot);
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(err(format!(
            "no token{} in this PKCS#11 library",
            uri.token
                .as_deref()
                .map_or(String::new(), |t| format!(" labelled `{t}`"))
        ))),
        _ => Err(err("several tokens match: add `token=LABEL` to the URI")),
    }
}

fn login(session: &Session, uri: &Pkcs11Uri) -> Result<(), KeyError> {
    match session.login(UserType::User, Some(&uri.pin()?)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => Err(ck("C_Login")(e)),
    }
}

/// The one object of `class` the URI names.
fn find(session: &Session, uri: &Pkcs11Uri, class: ObjectClass) -> Result<ObjectHandle, KeyError> {
    let found = session
        .find_objects(&uri.key_template(class))
        .map_err(ck("C_FindObjects"))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(err(format!(
            "no Ed25519 {class} with this label/id in the token"
        ))),
        _ => Err(err(format!(
            "{} Ed25519 {class}s match: make the URI's object/id unique",
            found.len()
        ))),
    }
}

/// The 32-byte key in a CKA_EC_POINT: a DER OCTET STRING (PKCS#11 3.0) or the raw bytes.
fn ec_point(v: &[u8]) -> Result<[u8; 32], KeyError> {
    let raw = match v {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        raw => raw,
    };
    raw.try_into().map_err(|_| {
        err(format!(
            "CKA_EC_POINT is not an Ed25519 public key ({} bytes)",
            v.len()
        ))
    })
}

/// An Ed25519 key inside a PKCS#11 token; every signature is made by the token.
pub struct Pkcs11Key {
    location: String,
    session: Mutex<Session>,
    key: ObjectHandle,
    public: [u8; 32],
}

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Key {
    /// Opens the key a `pkcs11:` URI names, logs in, reads its public key and checks that
    /// the token signs with the matching private key.
    pub fn open(uri: &str, module: Option<&Path>) -> Result<Self, KeyError> {
        let parsed = Pkcs11Uri::parse(uri)?;
        let p = context(&parsed.module(module)?)?;
        let slot = slot(&p, &parsed)?;
        let session = p.open_ro_session(slot).map_err(ck("C_OpenSession"))?;
        login(&session, &parsed)?;
        let key = find(&session, &parsed, ObjectClass::PRIVATE_KEY)?;
        let public_obj = find(&session, &parsed, ObjectClass::PUBLIC_KEY)?;
        let public = match session
            .get_attributes(public_obj, &[AttributeType::EcPoint])
            .map_err(ck("C_GetAttributeValue"))?
            .as_slice()
        {
            [Attribute::EcPoint(v)] => ec_point(v)?,
            _ => return Err(err("the public key has no CKA_EC_POINT")),
        };
        let this = Self {
            location: Pkcs11Uri::redacted(uri),
            session: Mutex::new(session),
            key,
            public,
        };
        // The private and public objects found must be one pair.
        let probe = b"yinyom: does this token hold the private half of this public key?";
        let sig = this.sign(probe)?;
        ed25519_dalek::VerifyingKey::from_bytes(&public)
            .and_then(|vk| vk.verify_strict(probe, &ed25519_dalek::Signature::from_bytes(&sig)))
            .map_err(|_| {
                err("the token's private and public keys with this label/id are not one pair")
            })?;
        Ok(this)
    }
}

impl Ed25519Signer for Pkcs11Key {
    fn public_key(&self) -> [u8; 32] {
        self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], KeyError> {
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let sig = session
            .sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                self.key,
                msg,
            )
            .map_err(ck("C_Sign (CKM_EDDSA)"))?;
        sig.as_slice()
            .try_into()
            .map_err(|_| err(format!("the token returned a {}-byte signature", sig.len())))
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}

/// Generates an Ed25519 key pair inside the token the URI names, labelled with its
/// `object` (and `id`, else a random one): the private key is sensitive and cannot be
/// extracted. Refuses if a key with that label already exists.
pub fn generate(uri: &str, module: Option<&Path>) -> Result<[u8; 32], KeyError> {
    let mut parsed = Pkcs11Uri::parse(uri)?;
    let label = parsed
        .object
        .clone()
        .ok_or_else(|| err("a new key needs a label: add `object=LABEL` to the URI"))?;
    let p = context(&parsed.module(module)?)?;
    let slot = slot(&p, &parsed)?;
    let session = p.open_rw_session(slot).map_err(ck("C_OpenSession"))?;
    login(&session, &parsed)?;
    let existing = session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(ck("C_FindObjects"))?;
    if !existing.is_empty() {
        return Err(err(format!(
            "the token already holds an object labelled `{label}`: a key is never replaced (choose another label)"
        )));
    }
    let id = match parsed.id.clone() {
        Some(id) => id,
        None => super::keys::random_seed()?[..8].to_vec(),
    };
    parsed.id = Some(id.clone());
    let common = [
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id),
    ];
    let mut public_t = common.to_vec();
    public_t.extend([
        Attribute::EcParams(ED25519_OID.to_vec()),
        Attribute::Verify(true),
    ]);
    let mut private_t = common.to_vec();
    private_t.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
    ]);
    let (public_obj, _) = session
        .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public_t, &private_t)
        .map_err(ck("C_GenerateKeyPair (Ed25519)"))?;
    match session
        .get_attributes(public_obj, &[AttributeType::EcPoint])
        .map_err(ck("C_GetAttributeValue"))?
        .as_slice()
    {
        [Attribute::EcPoint(v)] => ec_point(v),
        _ => Err(err("the new public key has no CKA_EC_POINT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc7512_uris() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=Yinyom%20HSM;object=receipts-2026;id=%01%02;type=private?pin-source=file:/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so",
        )
        .expect("parses");
        assert_eq!(u.token.as_deref(), Some("Yinyom HSM"));
        assert_eq!(u.object.as_deref(), Some("receipts-2026"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(u.pin_source.as_deref(), Some(Path::new("/run/pin")));
        assert_eq!(
            u.module_path.as_deref(),
            Some(Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert!(
            Pkcs11Uri::parse("pkcs11:token=t;objetc=k").is_err(),
            "typo refused"
        );
        assert!(Pkcs11Uri::parse("pkcs11:token=t").is_err(), "no key named");
        assert!(Pkcs11Uri::parse("pkcs11:object=k;type=public").is_err());
        assert_eq!(
            Pkcs11Uri::redacted("pkcs11:object=k?pin-value=1234&module-path=/m.so"),
            "pkcs11:object=k?pin-value=…&module-path=/m.so"
        );
        assert_eq!(
            ec_point(&[[0x04, 0x20].as_slice(), &[9; 32]].concat()).ok(),
            Some([9; 32])
        );
        assert_eq!(ec_point(&[9; 32]).ok(), Some([9; 32]));
    }
}
