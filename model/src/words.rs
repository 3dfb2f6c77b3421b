//! The banner's words, in one place for both banners: the plain-JS first layer
//! (`widget/js/banner.js`, which gets them at build time: `cargo xtask dist` writes
//! [`BannerWords::all`] into it) and the widget's (`widget/src/i18n.rs` takes its labels of
//! the same buttons from here). The notice's own texts come from the site file.

use crate::Lang;
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
