//! The widget's own words (the notice's words come from the site file). Thai first, plain
//! words: what a visitor reads before deciding. The banner's buttons, language switch and
//! GPC note are `yinyom_model::words`, shared with the plain-JS banner (`js/banner.js`).

use yinyom_model::{Lang, words as banner};

/// Every fixed label of the widget.
#[derive(Debug)]
pub struct Words {
    /// "Accept all"
    pub accept_all: &'static str,
    /// "Reject all"
    pub reject_all: &'static str,
    /// Opens the preferences from the banner.
    pub choose: &'static str,
    /// Saves the toggles.
    pub save: &'static str,
    /// Opens the full notice.
    pub read_notice: &'static str,
    /// Label of the language switch (names the other language).
    pub switch_lang: &'static str,
    /// Title of the preferences dialog.
    pub settings: &'static str,
    /// Tab: choices.
    pub tab_choices: &'static str,
    /// Tab: the full notice.
    pub tab_notice: &'static str,
    /// Tab: my consent.
    pub tab_mine: &'static str,
    /// Close button.
    pub close: &'static str,
    /// Intro of the choices tab.
    pub choices_intro: &'static str,
    /// Heading: cookies.
    pub cookies: &'static str,
    /// Badge of required categories.
    pub always_on: &'static str,
    /// Why required categories are not asked.
    pub necessary_basis: &'static str,
    /// Toggle state words.
    pub on: &'static str,
    /// Toggle state words.
    pub off: &'static str,
    /// Summary of a cookie table.
    pub cookie_list: &'static str,
    /// Cookie table column.
    pub col_name: &'static str,
    /// Cookie table column.
    pub col_provider: &'static str,
    /// Cookie table column.
    pub col_duration: &'static str,
    /// Cookie table column.
    pub col_purpose: &'static str,
    /// Heading: purposes asked.
    pub consent_purposes: &'static str,
    /// Heading: purposes on other legal bases.
    pub notice_purposes: &'static str,
    /// Intro of the notice-only purposes.
    pub notice_purposes_intro: &'static str,
    /// Label: legal basis.
    pub basis: &'static str,
    /// Label: data used.
    pub data: &'static str,
    /// Label: retention.
    pub retention: &'static str,
    /// Label: recipients.
    pub recipients: &'static str,
    /// Note shown when the browser sends Global Privacy Control; `%s` is the list of
    /// the categories it keeps off on this site ([`list`]).
    pub gpc_note: &'static str,
    /// Loading…
    pub loading: &'static str,
    /// A fetch failed.
    pub load_failed: &'static str,
    /// Opens the notice page in a new tab.
    pub open_page: &'static str,
    /// My consent: no choice yet.
    pub no_choice: &'static str,
    /// My consent: current choice heading.
    pub current: &'static str,
    /// My consent: "allowed".
    pub granted: &'static str,
    /// My consent: "not allowed".
    pub denied: &'static str,
    /// My consent: receipt id label.
    pub receipt_id: &'static str,
    /// My consent: receipt not yet acknowledged.
    pub pending: &'static str,
    /// My consent: date label.
    pub chosen_at: &'static str,
    /// My consent: history heading.
    pub history: &'static str,
    /// My consent: this browser has no receipt yet.
    pub no_history: &'static str,
    /// My consent: nothing is granted, so there is nothing to withdraw.
    pub nothing_to_withdraw: &'static str,
    /// My consent: heading of the consents given on the site's forms.
    pub form_consent: &'static str,
    /// My consent: why those are not asked here.
    pub form_consent_note: &'static str,
    /// My consent: "on the form" before a form's name.
    pub on_form: &'static str,
    /// My consent: download button.
    pub download: &'static str,
    /// My consent: withdraw button.
    pub withdraw: &'static str,
    /// Joins the last two items of a list ("and").
    pub and: &'static str,
    /// My consent: what withdrawing does.
    pub withdraw_note: &'static str,
    /// Rights heading.
    pub rights: &'static str,
    /// The rights of PDPA s.30-36, plainly.
    pub rights_list: [&'static str; 7],
    /// How to use the rights (followed by the DPO contact).
    pub rights_how: &'static str,
    /// Minors: the question.
    pub age_question: &'static str,
    /// Minors: the bands, youngest first.
    pub age_bands: [&'static str; 3],
    /// Minors: the guardian confirmation.
    pub guardian: &'static str,
    /// Minors: no band picked.
    pub age_missing: &'static str,
    /// Minors: a guardian must confirm.
    pub guardian_missing: &'static str,
    /// Status after a choice.
    pub saved: &'static str,
    /// Status after withdrawal.
    pub withdrawn: &'static str,
    /// Receipt events, in [`event_word`] order.
    pub events: [&'static str; 5],
    /// My consent: one receipt's download (its proof bundle).
    pub bundle: &'static str,
    /// My consent: what a downloaded file is good for.
    pub bundle_note: &'static str,
    /// My consent: heading of the receipts this browser holds that the server lacks.
    pub missing_title: &'static str,
    /// My consent: what to do about them.
    pub missing_note: &'static str,
    /// My consent: the server could not be reached, these are this browser's copies.
    pub held_only: &'static str,
    /// Request form: heading.
    pub request: &'static str,
    /// Request form: what happens.
    pub request_intro: &'static str,
    /// Request form: the question over the kinds (whose descriptions are
    /// `rights_list[..6]`, in [`yinyom_model::request::RequestKind::ALL`] order).
    pub kind_question: &'static str,
    /// Request form: sent without a kind.
    pub kind_missing: &'static str,
    /// Request form: message label.
    pub message_label: &'static str,
    /// Request form: contact label.
    pub contact_label: &'static str,
    /// Request form: send button.
    pub send: &'static str,
    /// Request form: on its way.
    pub sending: &'static str,
    /// Request form: filed; `%r` the reference, `%d` the due date.
    pub filed: &'static str,
    /// Request form: failed.
    pub file_failed: &'static str,
    /// The visitor's requests: heading.
    pub my_requests: &'static str,
    /// The visitor's requests: labels (reference, received, due, status).
    pub request_cols: [&'static str; 4],
    /// Request kinds in short, in `RequestKind::ALL` order.
    pub kinds: [&'static str; 6],
    /// Request statuses, in [`status_word`] order.
    pub statuses: [&'static str; 5],
}

const TH: Words = Words {
    accept_all: banner::TH.accept_all,
    reject_all: banner::TH.reject_all,
    choose: banner::TH.choose,
    save: "บันทึกตัวเลือก",
    read_notice: banner::TH.read_notice,
    switch_lang: banner::TH.switch_lang,
    settings: "ตั้งค่าคุกกี้และความยินยอม",
    tab_choices: "ตัวเลือก",
    tab_notice: "ประกาศฉบับเต็ม",
    tab_mine: "ความยินยอมของฉัน",
    close: "ปิด",
    choices_intro: "เปิดเฉพาะสิ่งที่ท่านอนุญาต ทุกข้อปิดไว้จนกว่าท่านจะเปิดเอง และเปลี่ยนใจได้ทุกเมื่อ",
    cookies: "คุกกี้",
    always_on: "เปิดอยู่เสมอ",
    necessary_basis: "ไม่ต้องขอความยินยอม เพราะเว็บไซต์ทำงานไม่ได้หากไม่มีคุกกี้กลุ่มนี้ (พ.ร.บ. คุ้มครองข้อมูลส่วนบุคคล มาตรา 24)",
    on: "เปิด",
    off: "ปิด",
    cookie_list: "รายชื่อคุกกี้",
    col_name: "ชื่อ",
    col_provider: "ผู้ตั้ง",
    col_duration: "อายุ",
    col_purpose: "ใช้เพื่อ",
    consent_purposes: "การใช้ข้อมูลที่ขอความยินยอม",
    notice_purposes: "การใช้ข้อมูลที่ไม่ต้องขอความยินยอม",
    notice_purposes_intro: "แจ้งให้ท่านทราบ: เราใช้ข้อมูลเพื่อเรื่องต่อไปนี้ตามฐานทางกฎหมายอื่นที่ไม่ใช่ความยินยอม",
    basis: "ฐานทางกฎหมาย",
    data: "ข้อมูลที่ใช้",
    retention: "เก็บไว้",
    recipients: "ผู้รับข้อมูล",
    gpc_note: banner::TH.gpc_note,
    loading: "กำลังโหลด…",
    load_failed: "โหลดไม่สำเร็จ ลองใหม่ภายหลัง",
    open_page: "เปิดประกาศในแท็บใหม่",
    no_choice: "ท่านยังไม่ได้เลือก",
    current: "ตัวเลือกปัจจุบัน",
    granted: "อนุญาต",
    denied: "ไม่อนุญาต",
    receipt_id: "เลขที่ใบรับความยินยอม",
    pending: "รอส่งถึงเซิร์ฟเวอร์ จะส่งให้เองเมื่อเชื่อมต่อได้",
    chosen_at: "เลือกเมื่อ",
    history: "ประวัติใบรับของเบราว์เซอร์นี้",
    no_history: "ยังไม่มีใบรับในเบราว์เซอร์นี้",
    nothing_to_withdraw: "ขณะนี้ท่านไม่ได้ให้ความยินยอมใด ๆ จึงไม่มีสิ่งที่ต้องถอน",
    form_consent: "ความยินยอมที่ท่านให้ไว้ในแบบฟอร์ม",
    form_consent_note: "เรื่องเหล่านี้ถามเฉพาะในแบบฟอร์มที่เก็บข้อมูลนั้น ท่านเปลี่ยนใจได้ในแบบฟอร์มเดิม หรือถอนทั้งหมดด้วยปุ่มด้านล่าง",
    on_form: "จากแบบฟอร์ม",
    download: "ดาวน์โหลดหลักฐานทุกฉบับในไฟล์เดียว",
    withdraw: "ถอนความยินยอมทั้งหมด",
    and: banner::TH.and,
    withdraw_note: "การถอนความยินยอมจะปิดคุกกี้ที่ไม่จำเป็นทุกกลุ่ม ลบคุกกี้ของกลุ่มเหล่านั้น และออกใบรับการถอนให้ท่าน",
    rights: "สิทธิของท่าน",
    rights_list: [
        "ขอเข้าถึงและขอสำเนาข้อมูลของท่าน (มาตรา 30)",
        "ขอรับหรือขอให้โอนข้อมูลไปยังผู้อื่น (มาตรา 31)",
        "คัดค้านการใช้ข้อมูล (มาตรา 32)",
        "ขอให้ลบหรือทำให้ระบุตัวท่านไม่ได้ (มาตรา 33)",
        "ขอให้ระงับการใช้ข้อมูลไว้ก่อน (มาตรา 34)",
        "ขอให้แก้ไขข้อมูลให้ถูกต้องและเป็นปัจจุบัน (มาตรา 35, 36)",
        "ถอนความยินยอมได้ทุกเมื่อ ง่ายเท่ากับตอนให้ (มาตรา 19)",
    ],
    rights_how: "ใช้สิทธิได้โดยติดต่อเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคลทางอีเมล",
    age_question: "ท่านอายุเท่าไร",
    age_bands: ["ต่ำกว่า 10 ปี", "10 ถึง 19 ปี", "20 ปีขึ้นไป"],
    guardian: "ฉันเป็นพ่อแม่หรือผู้ปกครองของผู้ใช้ และเป็นผู้เลือกแทน",
    age_missing: "กรุณาเลือกช่วงอายุก่อน",
    guardian_missing: "ผู้ใช้อายุต่ำกว่า 20 ปี พ่อแม่หรือผู้ปกครองต้องเป็นผู้เลือกและติ๊กยืนยัน",
    saved: "บันทึกตัวเลือกของท่านแล้ว",
    withdrawn: "ถอนความยินยอมแล้ว",
    events: [
        "ให้ความยินยอม",
        "ปฏิเสธ",
        "เปลี่ยนตัวเลือก",
        "ถอนความยินยอม",
        "หมดอายุ",
    ],
    bundle: "ดาวน์โหลดหลักฐาน",
    bundle_note: "ไฟล์หลักฐานแต่ละฉบับมีใบรับที่ลงนามดิจิทัล และหลักฐานว่าใบรับอยู่ในบันทึกที่แก้ไขย้อนหลังไม่ได้ ผู้ใดก็ตรวจได้ว่าเป็นของจริง โปรดเก็บไว้เป็นหลักฐานของท่าน",
    missing_title: "ใบรับบางฉบับหายไปจากเซิร์ฟเวอร์",
    missing_note: "เบราว์เซอร์นี้เก็บสำเนาใบรับต่อไปนี้ไว้ แต่รายการที่เซิร์ฟเวอร์ส่งมาไม่มีใบรับเหล่านี้ โปรดดาวน์โหลดเก็บไว้เป็นหลักฐาน และแจ้งเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล",
    held_only: "เชื่อมต่อเซิร์ฟเวอร์ไม่ได้ จึงแสดงสำเนาที่เบราว์เซอร์นี้เก็บไว้",
    request: "ยื่นคำขอใช้สิทธิ",
    request_intro: "หน่วยงานต้องตอบภายใน 30 วัน คำขอผูกกับเบราว์เซอร์นี้ ท่านจึงไม่ต้องแจ้งชื่อ หากต้องการให้เจ้าหน้าที่ติดต่อกลับ โปรดให้ช่องทางติดต่อไว้",
    kind_question: "ท่านต้องการขอเรื่องใด",
    kind_missing: "กรุณาเลือกเรื่องที่ต้องการขอก่อน",
    message_label: "รายละเอียด (ไม่บังคับ)",
    contact_label: "ช่องทางติดต่อกลับ เช่น อีเมลหรือเบอร์โทรศัพท์ (ไม่บังคับ)",
    send: "ส่งคำขอ",
    sending: "กำลังส่งคำขอ…",
    filed: "ส่งคำขอแล้ว เลขที่อ้างอิง %r หน่วยงานต้องตอบภายใน %d โปรดจดเลขที่อ้างอิงไว้",
    file_failed: "ส่งคำขอไม่สำเร็จ โปรดลองอีกครั้ง หรือติดต่อเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคลทางอีเมลด้านล่าง",
    my_requests: "คำขอของท่าน",
    request_cols: ["เลขที่อ้างอิง", "ยื่นเมื่อ", "ครบกำหนดตอบ", "สถานะ"],
    kinds: [
        "ขอเข้าถึงข้อมูล",
        "ขอรับหรือโอนข้อมูล",
        "คัดค้านการใช้ข้อมูล",
        "ขอให้ลบข้อมูล",
        "ขอให้ระงับการใช้ข้อมูล",
        "ขอให้แก้ไขข้อมูล",
    ],
    statuses: [
        "ได้รับคำขอแล้ว",
        "ตรวจสอบตัวตนแล้ว",
        "ตอบแล้ว",
        "ปฏิเสธคำขอ (ดูเหตุผลในหนังสือตอบ)",
        "ลบข้อมูลแล้ว",
    ],
};

const EN: Words = Words {
    accept_all: banner::EN.accept_all,
    reject_all: banner::EN.reject_all,
    choose: banner::EN.choose,
    save: "Save choices",
    read_notice: banner::EN.read_notice,
    switch_lang: banner::EN.switch_lang,
    settings: "Cookie and consent settings",
    tab_choices: "Choices",
    tab_notice: "Full notice",
    tab_mine: "My consent",
    close: "Close",
    choices_intro: "Only what you allow is turned on. Everything starts off, and you can change your mind at any time.",
    cookies: "Cookies",
    always_on: "Always on",
    necessary_basis: "Not asked, because the site cannot work without these cookies (Personal Data Protection Act, s.24).",
    on: "On",
    off: "Off",
    cookie_list: "List of cookies",
    col_name: "Name",
    col_provider: "Set by",
    col_duration: "Lasts",
    col_purpose: "Used for",
    consent_purposes: "Uses of your data we ask consent for",
    notice_purposes: "Uses of your data that do not need consent",
    notice_purposes_intro: "For your information: we use data for the following on legal bases other than consent.",
    basis: "Legal basis",
    data: "Data used",
    retention: "Kept for",
    recipients: "Recipients",
    gpc_note: banner::EN.gpc_note,
    loading: "Loading…",
    load_failed: "Could not load. Please try again later.",
    open_page: "Open the notice in a new tab",
    no_choice: "You have not chosen yet.",
    current: "Your current choice",
    granted: "Allowed",
    denied: "Not allowed",
    receipt_id: "Consent receipt number",
    pending: "Not yet delivered to the server; it will be sent when it can be reached.",
    chosen_at: "Chosen on",
    history: "Receipts of this browser",
    no_history: "This browser has no receipts yet.",
    nothing_to_withdraw: "You have not given any consent, so there is nothing to withdraw.",
    form_consent: "Consent you gave on a form",
    form_consent_note: "These are asked only on the form that collects the data. You can change your mind on that form, or withdraw everything with the button below.",
    on_form: "on the form",
    download: "Download every proof in one file",
    withdraw: "Withdraw all consent",
    and: banner::EN.and,
    withdraw_note: "Withdrawing turns off every non-necessary cookie group, deletes their cookies and gives you a receipt of the withdrawal.",
    rights: "Your rights",
    rights_list: [
        "See and get a copy of your data (s.30)",
        "Receive your data or have it sent to someone else (s.31)",
        "Object to the use of your data (s.32)",
        "Have your data deleted or made anonymous (s.33)",
        "Have the use of your data paused (s.34)",
        "Have your data corrected and kept up to date (s.35, s.36)",
        "Withdraw consent at any time, as easily as you gave it (s.19)",
    ],
    rights_how: "To use these rights, write to the data protection officer at",
    age_question: "How old are you?",
    age_bands: ["Under 10", "10 to 19", "20 or older"],
    guardian: "I am the parent or guardian of the user and I am choosing for them",
    age_missing: "Please choose an age group first.",
    guardian_missing: "The user is under 20: a parent or guardian must choose and tick to confirm.",
    saved: "Your choices are saved.",
    withdrawn: "Your consent is withdrawn.",
    events: [
        "Consent given",
        "Refused",
        "Choices changed",
        "Consent withdrawn",
        "Expired",
    ],
    bundle: "Download proof",
    bundle_note: "Each proof file holds the digitally signed receipt and the proof that it is in a log no one can rewrite. Anyone can check it is genuine. Keep it as your evidence.",
    missing_title: "Some receipts are missing from the server",
    missing_note: "This browser keeps a copy of the receipts below, but the server's list no longer has them. Download them to keep as evidence, and tell the data protection officer.",
    held_only: "The server could not be reached: these are the copies this browser keeps.",
    request: "Make a request",
    request_intro: "The agency must answer within 30 days. The request is tied to this browser, so you need not give your name. Leave a contact if you want the officer to reach you.",
    kind_question: "What do you ask for?",
    kind_missing: "Please choose what you ask for first.",
    message_label: "Details (optional)",
    contact_label: "How to reach you, e.g. e-mail or phone (optional)",
    send: "Send the request",
    sending: "Sending the request…",
    filed: "Request sent. Reference %r. The agency must answer by %d. Please note the reference.",
    file_failed: "The request could not be sent. Please try again, or write to the data protection officer (address below).",
    my_requests: "Your requests",
    request_cols: ["Reference", "Made on", "Answer due by", "Status"],
    kinds: [
        "Access",
        "Receive or transfer",
        "Objection",
        "Erasure",
        "Restriction",
        "Correction",
    ],
    statuses: [
        "Received",
        "Identity checked",
        "Answered",
        "Refused (the reply letter says why)",
        "Data erased",
    ],
};

/// `items` as a list in words: "a", "a and b", "a, b and c" (Thai: "a b และ c").
pub fn list(w: &Words, items: &[&str]) -> String {
    let sep = if w.and == "and" { ", " } else { " " };
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} {} {last}", rest.join(sep), w.and),
    }
}

/// The words in `lang`.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Th => &TH,
        Lang::En => &EN,
    }
}

/// The word for a receipt's `event` (its serde name), or the name itself.
pub fn event_word<'a>(w: &'a Words, event: &'a str) -> &'a str {
    let i = match event {
        "given" => 0,
        "refused" => 1,
        "updated" => 2,
        "withdrawn" => 3,
        "expired" => 4,
        other => return other,
    };
    w.events[i]
}

/// The word for a request's `status`, or the status itself.
pub fn status_word<'a>(w: &'a Words, status: &'a str) -> &'a str {
    let i = match status {
        "received" => 0,
        "identity_checked" => 1,
        "answered" => 2,
        "refused" => 3,
        "erased" => 4,
        other => return other,
    };
    w.statuses[i]
}

/// The short word for a request's `kind` (its serde name), or the name itself.
pub fn kind_word<'a>(w: &'a Words, kind: &'a str) -> &'a str {
    yinyom_model::request::RequestKind::ALL
        .iter()
        .position(|k| k.as_str() == kind)
        .map_or(kind, |i| w.kinds[i])
}
