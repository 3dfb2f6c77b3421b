//! The widget's own words (the notice's words come from the site file). Thai first.

use yinyom_model::Lang;

/// Every fixed label of the widget.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    /// "Accept all"
    pub accept_all: &'static str,
    /// "Reject all"
    pub reject_all: &'static str,
    /// Link to the full notice.
    pub read_notice: &'static str,
    /// Label of the language switch.
    pub switch_lang: &'static str,
    /// Accessible name of the banner region.
    pub banner_label: &'static str,
}

const TH: Words = Words {
    accept_all: "ยอมรับทั้งหมด",
    reject_all: "ปฏิเสธทั้งหมด",
    read_notice: "อ่านประกาศความเป็นส่วนตัวฉบับเต็ม",
    switch_lang: "English",
    banner_label: "การตั้งค่าคุกกี้และความยินยอม",
};

const EN: Words = Words {
    accept_all: "Accept all",
    reject_all: "Reject all",
    read_notice: "Read the full privacy notice",
    switch_lang: "ไทย",
    banner_label: "Cookie and consent settings",
};

/// The words in `lang`.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Th => &TH,
        Lang::En => &EN,
    }
}
