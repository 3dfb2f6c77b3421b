//! The banner's words, in one place for both banners: the plain-JS first layer
//! (`widget/js/banner.js`, which gets them at build time: `cargo xtask dist` writes
//! [`BannerWords::all`] into it) and the widget's (`widget/src/i18n.rs` takes its labels of
//! the same buttons from here). The notice's own texts come from the site file.
//!
//! Also the words for a receipt's codes ([`event`], [`method`], [`decision`],
//! [`age_band`], [`consent_by`]): every page that shows a receipt to a person (the
//! console's evidence page, the public verify page) says them in words, never as codes.

use crate::{
    Lang,
    receipt::{AgeBand, ConsentBy, Event, Method},
};
use serde::Serialize;

/// The fixed words of the banner, in one language.
#[derive(Debug, Serialize)]
pub struct BannerWords {
    /// Label of the language switch (names the other language).
    pub switch_lang: &'static str,
    /// Note shown when the browser sends Global Privacy Control; `%s` is the list of the
    /// categories it keeps off on this site.
    pub gpc_note: &'static str,
    /// Opens the full notice.
    pub read_notice: &'static str,
    /// "Reject all"
    pub reject_all: &'static str,
    /// Opens the choices.
    pub choose: &'static str,
    /// "Accept all"
    pub accept_all: &'static str,
    /// Joins the last two items of a list ("and").
    pub and: &'static str,
    /// What the status region says after Reject all in the plain-JS banner.
    pub saved_reject_all: &'static str,
    /// What the status region says after Accept all in the plain-JS banner.
    pub saved_accept_all: &'static str,
}

/// Thai.
pub const TH: BannerWords = BannerWords {
    switch_lang: "English",
    gpc_note: "เบราว์เซอร์ของท่านส่งสัญญาณ Global Privacy Control (สัญญาณที่ขอไม่ให้ขายหรือแบ่งปันข้อมูลของท่าน) เราจึงปิด %s ไว้ให้ แม้ท่านกดยอมรับทั้งหมด ท่านเปิดเองได้ที่ \"ตั้งค่า\"",
    read_notice: "อ่านประกาศความเป็นส่วนตัวฉบับเต็ม",
    reject_all: "ปฏิเสธทั้งหมด",
    choose: "ตั้งค่า",
    accept_all: "ยอมรับทั้งหมด",
    and: "และ",
    saved_reject_all: "บันทึกการเลือกของท่านแล้ว: ปฏิเสธทั้งหมด",
    saved_accept_all: "บันทึกการเลือกของท่านแล้ว: ยอมรับทั้งหมด",
};

/// English.
pub const EN: BannerWords = BannerWords {
    switch_lang: "ไทย",
    gpc_note: "Your browser sends Global Privacy Control (a request not to sell or share your data), so %s stay off even if you accept all. You can turn them on yourself under \"Choose\".",
    read_notice: "Read the full privacy notice",
    reject_all: "Reject all",
    choose: "Choose",
    accept_all: "Accept all",
    and: "and",
    saved_reject_all: "Your choice is saved: reject all.",
    saved_accept_all: "Your choice is saved: accept all.",
};

impl BannerWords {
    /// The words in `lang`.
    pub fn of(lang: Lang) -> &'static BannerWords {
        match lang {
            Lang::Th => &TH,
            Lang::En => &EN,
        }
    }

    /// Every language's words, keyed by language code: what `banner.js` gets.
    pub fn all() -> impl Serialize {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), Self::of(*l)))
            .collect::<std::collections::BTreeMap<_, _>>()
    }
}

/// A receipt's event in words.
pub fn event(e: Event, lang: Lang) -> &'static str {
    let (th, en) = match e {
        Event::Given => ("ให้ความยินยอม", "consent given"),
        Event::Refused => ("ไม่ให้ความยินยอม", "consent refused"),
        Event::Updated => ("เปลี่ยนการเลือก", "choice changed"),
        Event::Withdrawn => ("ถอนความยินยอมทั้งหมด", "all consent withdrawn"),
        Event::Expired => ("ความยินยอมหมดอายุ", "consent expired"),
    };
    pick(lang, th, en)
}

/// How the visitor chose, in words.
pub fn method(m: Method, lang: Lang) -> &'static str {
    let (th, en) = match m {
        Method::AcceptAll => ("กดปุ่ม \"ยอมรับทั้งหมด\"", "pressed \"Accept all\""),
        Method::RejectAll => ("กดปุ่ม \"ปฏิเสธทั้งหมด\"", "pressed \"Reject all\""),
        Method::SavePreferences => (
            "เลือกเองทีละรายการแล้วกด \"บันทึกตัวเลือก\"",
            "chose item by item and pressed \"Save choices\"",
        ),
        Method::Withdraw => (
            "กดปุ่ม \"ถอนความยินยอมทั้งหมด\"",
            "pressed \"Withdraw all consent\"",
        ),
        Method::Form => (
            "ทำเครื่องหมายในแบบฟอร์มแล้วกดส่ง",
            "ticked the boxes on a form and sent it",
        ),
        Method::OnBehalf => (
            "เจ้าหน้าที่บันทึกการถอนความยินยอมตามคำร้องของท่าน",
            "withdrawn by staff at the subject's request",
        ),
        Method::Paper => (
            "ลงนามในแบบฟอร์มกระดาษ เจ้าหน้าที่บันทึกเข้าระบบ",
            "signed a paper form, entered by staff",
        ),
    };
    pick(lang, th, en)
}

/// One purpose's or category's decision in words.
pub fn decision(granted: bool, lang: Lang) -> &'static str {
    match (granted, lang) {
        (true, Lang::Th) => "ยินยอม",
        (false, Lang::Th) => "ไม่ยินยอม",
        (true, Lang::En) => "consented",
        (false, Lang::En) => "not consented",
    }
}

/// An age band in words.
pub fn age_band(a: AgeBand, lang: Lang) -> &'static str {
    let (th, en) = match a {
        AgeBand::Under10 => ("อายุต่ำกว่า 10 ปี", "under 10"),
        AgeBand::From10To19 => ("อายุ 10 ถึง 19 ปี", "10 to 19"),
        AgeBand::Adult => ("อายุ 20 ปีขึ้นไป", "20 or older"),
    };
    pick(lang, th, en)
}

/// Who gave the consent, in words.
pub fn consent_by(c: ConsentBy, lang: Lang) -> &'static str {
    let (th, en) = match c {
        ConsentBy::Subject => ("เจ้าของข้อมูลเอง", "the data subject"),
        ConsentBy::Guardian => ("ผู้ใช้อำนาจปกครองหรือผู้ปกครอง", "a parent or legal guardian"),
    };
    pick(lang, th, en)
}

fn pick(lang: Lang, th: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Th => th,
        Lang::En => en,
    }
}
