//! The widget's state and every change to it, as a reducer (Yew's [`Reducible`], as in
//! Yew's function_todomvc example): [`State::reduce`] is pure, so the rules of the UI are
//! tested natively, without a browser (`cargo test -p yinyom-widget --lib`).
//!
//! The component (`app.rs`) turns the visitor's clicks and the loader's commands into
//! [`Action`]s and does the effects around them: handing a choice to the loader
//! ([`crate::host::Context::decide`]), fetching a tab's content, moving the focus
//! (`focus.rs`).

use crate::host::{Choices, Minors};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use yew::Reducible;
use yinyom_model::{
    Lang,
    receipt::{AgeBand, Method},
    request::RequestKind,
    site::MinorsPolicy,
};

/// A tab of the settings modal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Per-category and per-purpose toggles.
    Choices,
    /// The full notice.
    Notice,
    /// My consent.
    Mine,
}

/// Where the focus goes after the next render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The banner (it appeared).
    Banner,
    /// The settings dialog (it opened).
    Modal,
    /// Back where it was before the settings opened (they closed, or a choice was made).
    Back,
    /// The age question (a choice needs it answered).
    Age,
    /// The request form's choice of kind (sent without one).
    Kind,
    /// What became of the request just sent (its reference, or the failure).
    Filing,
}

/// Why a choice cannot be recorded yet (minors mode, PDPA s.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No age band picked.
    Age,
    /// Under 20 and no guardian's confirmation.
    Guardian,
}

/// The visitor's receipts, as the "my consent" tab shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// `{receipt, jws, proof?}` entries, newest first: the server's answer, or this
    /// browser's own copies when the server could not be reached.
    pub rows: Vec<JsValue>,
    /// The copies this browser holds that the server's answer lacks, newest first
    /// (see `held.rs`).
    pub missing: Vec<JsValue>,
    /// Whether `rows` is the server's answer.
    pub from_server: bool,
}

/// A data-subject request as the server answers and lists it (the model's
/// `SubjectRequest`, read from JS without serde).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// The reference the visitor quotes.
    pub reference: String,
    /// Its kind's name (`access`, …).
    pub kind: String,
    /// When it was received.
    pub received_at: String,
    /// When it must be answered.
    pub due: String,
    /// Where the case stands.
    pub status: String,
}

/// The request form's fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestForm {
    /// The kind picked.
    pub kind: Option<RequestKind>,
    /// The visitor's message (optional).
    pub message: String,
    /// How to reach them (optional).
    pub contact: String,
}

/// Where filing a request stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filing {
    /// Nothing sent yet (or the form is being filled again).
    #[default]
    Idle,
    /// Sent without a kind: the form says to pick one.
    NoKind,
    /// Sent, waiting for the answer.
    Sending,
    /// Filed: the server's answer.
    Filed(Filed),
    /// The server could not be reached or refused it.
    Failed,
}

/// Everything the widget shows that changes.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The widget's own banner is shown (minors mode, no current choice).
    pub banner: bool,
    /// The settings are open on this tab.
    pub modal: Option<Tab>,
    /// The language shown.
    pub lang: Lang,
    /// The toggles.
    pub choices: Choices,
    /// The minors-mode answers.
    pub minors: Minors,
    /// What the minors answers lack, said next to the age question.
    pub missing: Option<Missing>,
    /// What the status region says: the last choice recorded.
    pub status: Option<Method>,
    /// The notice page's body for a language (`None` inside: it could not be loaded).
    pub notice: Option<(Lang, Option<String>)>,
    /// The receipts (`None` inside: they could not be loaded).
    pub history: Option<Option<History>>,
    /// The request form.
    pub form: RequestForm,
    /// Where filing a request stands.
    pub filing: Filing,
    /// The visitor's requests, newest first (`None` inside: they could not be loaded).
    pub requests: Option<Option<Vec<Filed>>>,
    /// Where the focus goes after the next render.
    pub focus: Option<Focus>,
}

/// A change to the [`State`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open the settings on `tab`. `initial` is what the toggles show if the settings were
    /// closed and no banner is up (the current choice, or the last one on this site).
    Open {
        /// The tab.
        tab: Tab,
        /// The toggles' starting point.
        initial: Choices,
    },
    /// Close the settings.
    Close,
    /// Flip the toggle of the i-th optional category.
    ToggleCategory(usize),
    /// Flip the toggle of the i-th consent purpose.
    TogglePurpose(usize),
    /// Show these toggles (a placeholder's "always allow" that must ask the age first).
    SetChoices(Choices),
    /// Switch between Thai and English.
    SwitchLang,
    /// The age band picked.
    Age(AgeBand),
    /// The guardian's confirmation ticked or unticked.
    Guardian,
    /// The notice page is being fetched (for the language shown).
    LoadingNotice,
    /// The notice page arrived (or not) for a language.
    NoticeLoaded(Lang, Option<String>),
    /// The receipts arrived (or not).
    HistoryLoaded(Option<History>),
    /// A choice was handed to the loader.
    Decided {
        /// How it was made.
        method: Method,
        /// What it decided.
        choices: Choices,
    },
    /// A choice could not be recorded: the age question must be answered first.
    Refused(Missing),
    /// The request form's kind picked.
    RequestKind(RequestKind),
    /// The request form's message typed.
    RequestMessage(String),
    /// The request form's contact typed.
    RequestContact(String),
    /// The request form sent: it goes out if it has a kind and nothing is on its way.
    Send,
    /// The server answered the request (or not).
    Filed(Option<Filed>),
    /// The visitor's requests arrived (or not).
    RequestsLoaded(Option<Vec<Filed>>),
}

impl State {
    /// The state when the widget mounts: the banner (with the focus) only when the widget
    /// draws it and there is no current choice.
    pub fn new(banner: bool, lang: Lang, choices: Choices, minors: Minors) -> Self {
        Self {
            banner,
            modal: None,
            lang,
            choices,
            minors,
            missing: None,
            status: None,
            notice: None,
            history: None,
            form: RequestForm::default(),
            filing: Filing::Idle,
            requests: None,
            focus: banner.then_some(Focus::Banner),
        }
    }

    /// The minors answers a choice `grants` anything under `policy` is recorded with, or
    /// what is missing. PDPA s.20 governs giving consent: refusing needs no age and no
    /// guardian. A withdrawal made before the age was asked on this page view uses the
    /// answers of the `last` choice.
    pub fn minors_for(
        &self,
        method: Method,
        grants: bool,
        policy: MinorsPolicy,
        last: impl FnOnce() -> Minors,
    ) -> Result<Minors, Missing> {
        let minors = if method == Method::Withdraw && self.minors.age.is_none() {
            last()
        } else {
            self.minors
        };
        if policy.asks_age(grants) {
            match minors.age {
                None => return Err(Missing::Age),
                Some(a) if a.needs_guardian() && !minors.guardian => {
                    return Err(Missing::Guardian);
                }
                _ => {}
            }
        }
        Ok(minors)
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Open { tab, initial } => {
                if self.modal.is_none() {
                    self.focus = Some(Focus::Modal);
                    if !self.banner {
                        self.choices = initial;
                    }
                }
                self.modal = Some(tab);
            }
            Action::Close => {
                self.modal = None;
                self.missing = None;
                self.focus = Some(Focus::Back);
            }
            Action::ToggleCategory(i) => {
                if let Some((_, g)) = self.choices.categories.get_mut(i) {
                    *g = !*g;
                }
            }
            Action::TogglePurpose(i) => {
                if let Some((_, g)) = self.choices.purposes.get_mut(i) {
                    *g = !*g;
                }
            }
            Action::SetChoices(choices) => self.choices = choices,
            Action::SwitchLang => {
                self.lang = match self.lang {
                    Lang::Th => Lang::En,
                    Lang::En => Lang::Th,
                };
            }
            Action::Age(band) => {
                self.minors.age = Some(band);
                self.missing = None;
            }
            Action::Guardian => {
                self.minors.guardian = !self.minors.guardian;
                self.missing = None;
            }
            Action::LoadingNotice => self.notice = None,
            Action::NoticeLoaded(lang, html) => self.notice = Some((lang, html)),
            Action::HistoryLoaded(h) => self.history = Some(h),
            Action::Decided { method, choices } => {
                self.choices = choices;
                self.banner = false;
                self.modal = None;
                self.missing = None;
                self.history = None;
                self.status = Some(method);
                self.focus = Some(Focus::Back);
            }
            Action::Refused(missing) => {
                self.missing = Some(missing);
                self.focus = Some(Focus::Age);
            }
            Action::RequestKind(kind) => {
                self.form.kind = Some(kind);
                if self.filing != Filing::Sending {
                    self.filing = Filing::Idle;
                }
            }
            Action::RequestMessage(m) => self.form.message = m,
            Action::RequestContact(c) => self.form.contact = c,
            Action::Send => match (&self.filing, self.form.kind) {
                (Filing::Sending, _) => {}
                (_, None) => {
                    self.filing = Filing::NoKind;
                    self.focus = Some(Focus::Kind);
                }
                (_, Some(_)) => self.filing = Filing::Sending,
            },
            Action::Filed(answer) => {
                self.focus = Some(Focus::Filing);
                match answer {
                    Some(filed) => {
                        self.form = RequestForm::default();
                        if let Some(Some(list)) = &mut self.requests {
                            list.insert(0, filed.clone());
                        } else {
                            self.requests = Some(Some(vec![filed.clone()]));
                        }
                        self.filing = Filing::Filed(filed);
                    }
                    // The form keeps what was typed, to send again.
                    None => self.filing = Filing::Failed,
                }
            }
            Action::RequestsLoaded(list) => self.requests = Some(list),
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yinyom_model::Slug;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("slug")
    }

    fn choices(analytics: bool, media: bool, newsletter: bool) -> Choices {
        Choices {
            categories: vec![(slug("analytics"), analytics), (slug("media"), media)],
            purposes: vec![(slug("newsletter"), newsletter)],
        }
    }

    fn start(banner: bool) -> Rc<State> {
        Rc::new(State::new(
            banner,
            Lang::Th,
            choices(false, false, false),
            Minors::default(),
        ))
    }

    fn open(tab: Tab, initial: Choices) -> Action {
        Action::Open { tab, initial }
    }

    /// The widget's banner takes the focus when it shows; without it nothing moves.
    #[test]
    fn the_banner_takes_the_focus() {
        assert_eq!(start(true).focus, Some(Focus::Banner));
        assert_eq!(start(false).focus, None);
    }

    /// Opening the settings shows the stored choice (no banner up) and focuses the dialog;
    /// switching tabs keeps the toggles the visitor changed; closing gives the focus back.
    #[test]
    fn settings_open_on_the_stored_choice_and_keep_edits_across_tabs() {
        let s = start(false).reduce(open(Tab::Choices, choices(true, false, true)));
        assert_eq!(s.modal, Some(Tab::Choices));
        assert_eq!(s.focus, Some(Focus::Modal));
        assert_eq!(s.choices, choices(true, false, true));
        let s = s
            .reduce(Action::ToggleCategory(1))
            .reduce(Action::TogglePurpose(0))
            .reduce(open(Tab::Notice, choices(false, false, false)));
        assert_eq!(s.modal, Some(Tab::Notice));
        assert_eq!(
            s.choices,
            choices(true, true, false),
            "a tab switch keeps the edits"
        );
        let s = s.reduce(Action::Close);
        assert_eq!((s.modal, s.focus), (None, Some(Focus::Back)));
    }

    /// With the widget's banner up (minors mode), the settings start from the banner's
    /// toggles, not from a stored choice.
    #[test]
    fn settings_over_the_banner_keep_its_toggles() {
        let s = start(true)
            .reduce(Action::SetChoices(choices(false, true, false)))
            .reduce(open(Tab::Choices, choices(true, true, true)));
        assert_eq!(s.choices, choices(false, true, false));
        assert!(s.banner);
    }

    /// Toggling something that does not exist changes nothing.
    #[test]
    fn unknown_toggles_change_nothing() {
        let s = start(false);
        let after = s
            .clone()
            .reduce(Action::ToggleCategory(9))
            .reduce(Action::TogglePurpose(9));
        assert_eq!(after, s);
    }

    /// A recorded choice closes the banner and the settings, says so, forgets the receipts
    /// shown (they are out of date) and gives the focus back.
    #[test]
    fn a_choice_closes_everything_and_is_announced() {
        let s = start(true)
            .reduce(open(Tab::Mine, choices(false, false, false)))
            .reduce(Action::HistoryLoaded(None))
            .reduce(Action::Decided {
                method: Method::AcceptAll,
                choices: choices(true, true, true),
            });
        assert!(!s.banner);
        assert_eq!(s.modal, None);
        assert_eq!(s.history, None);
        assert_eq!(s.status, Some(Method::AcceptAll));
        assert_eq!(s.focus, Some(Focus::Back));
        assert_eq!(s.choices, choices(true, true, true));
    }

    /// Switching language flips between Thai and English; a loaded notice stays keyed to
    /// the language it was loaded in.
    #[test]
    fn language_switch_flips() {
        let s = start(false)
            .reduce(Action::NoticeLoaded(Lang::Th, Some("<p>ประกาศ</p>".into())))
            .reduce(Action::SwitchLang);
        assert_eq!(s.lang, Lang::En);
        assert_eq!(s.notice.as_ref().map(|(l, _)| *l), Some(Lang::Th));
        assert_eq!(s.reduce(Action::SwitchLang).lang, Lang::Th);
    }

    /// Minors mode (PDPA s.20): giving consent needs the age band, and under 20 the
    /// guardian's confirmation; refusing needs neither; a withdrawal uses the last
    /// choice's answers when the age was not asked again.
    #[test]
    fn minors_rules() {
        let ask = MinorsPolicy::AskAge;
        let never = || -> Minors { panic!("not needed") };
        let s = start(true);
        assert_eq!(
            s.minors_for(Method::AcceptAll, true, ask, never),
            Err(Missing::Age)
        );
        assert_eq!(
            s.minors_for(Method::RejectAll, false, ask, never),
            Ok(Minors::default())
        );
        assert_eq!(
            s.minors_for(Method::AcceptAll, true, MinorsPolicy::Off, never),
            Ok(Minors::default())
        );
        let s = s.reduce(Action::Age(AgeBand::From10To19));
        assert_eq!(
            s.minors_for(Method::SavePreferences, true, ask, never),
            Err(Missing::Guardian)
        );
        let s = s.reduce(Action::Guardian);
        let minors = Minors {
            age: Some(AgeBand::From10To19),
            guardian: true,
        };
        assert_eq!(
            s.minors_for(Method::SavePreferences, true, ask, never),
            Ok(minors)
        );
        let last = Minors {
            age: Some(AgeBand::Adult),
            guardian: false,
        };
        assert_eq!(
            start(false).minors_for(Method::Withdraw, false, ask, || last),
            Ok(last)
        );
    }

    /// A refusal says what is missing and sends the focus to the age question; answering
    /// clears the message.
    #[test]
    fn a_refusal_points_at_the_age_question() {
        let s = start(true).reduce(Action::Refused(Missing::Age));
        assert_eq!(s.missing, Some(Missing::Age));
        assert_eq!(s.focus, Some(Focus::Age));
        assert!(s.banner, "nothing was recorded");
        let s = s.reduce(Action::Age(AgeBand::Adult));
        assert_eq!(s.missing, None);
        let s = s
            .reduce(Action::Refused(Missing::Guardian))
            .reduce(Action::Guardian);
        assert_eq!(s.missing, None);
    }

    fn filed(reference: &str) -> Filed {
        Filed {
            reference: reference.into(),
            kind: "erasure".into(),
            received_at: "2026-12-03T19:00:00+07:00".into(),
            due: "2027-01-02T19:00:00+07:00".into(),
            status: "received".into(),
        }
    }

    /// A request sent without a kind does not go out: the form says so and the focus
    /// goes to the kinds; picking one clears the message.
    #[test]
    fn a_request_needs_a_kind() {
        let s = start(false)
            .reduce(open(Tab::Mine, choices(false, false, false)))
            .reduce(Action::RequestMessage("ขอลบข้อมูล".into()))
            .reduce(Action::Send);
        assert_eq!(s.filing, Filing::NoKind);
        assert_eq!(s.focus, Some(Focus::Kind));
        let s = s.reduce(Action::RequestKind(RequestKind::Erasure));
        assert_eq!(s.filing, Filing::Idle);
        assert_eq!(s.form.message, "ขอลบข้อมูล", "what was typed stays");
    }

    /// Sending goes out once: a second press while it is on its way changes nothing.
    /// The answer shows the reference (focused), clears the form and heads the list.
    #[test]
    fn a_filed_request_shows_its_reference_and_joins_the_list() {
        let s = start(false)
            .reduce(Action::RequestsLoaded(Some(vec![filed("R-1")])))
            .reduce(Action::RequestKind(RequestKind::Erasure))
            .reduce(Action::RequestContact("a@example.org".into()))
            .reduce(Action::Send);
        assert_eq!(s.filing, Filing::Sending);
        let again = s.clone().reduce(Action::Send);
        assert_eq!(again, s, "no second request while one is on its way");
        let s = s.reduce(Action::Filed(Some(filed("R-2"))));
        assert_eq!(s.filing, Filing::Filed(filed("R-2")));
        assert_eq!(s.focus, Some(Focus::Filing));
        assert_eq!(s.form, RequestForm::default());
        assert_eq!(s.requests, Some(Some(vec![filed("R-2"), filed("R-1")])));
    }

    /// A failed request says so (focused) and keeps what was typed, to send again; a
    /// request list that could not be loaded is replaced by the filed one.
    #[test]
    fn a_failed_request_keeps_the_form() {
        let s = start(false)
            .reduce(Action::RequestsLoaded(None))
            .reduce(Action::RequestKind(RequestKind::Access))
            .reduce(Action::RequestMessage("สำเนา".into()))
            .reduce(Action::Send)
            .reduce(Action::Filed(None));
        assert_eq!(s.filing, Filing::Failed);
        assert_eq!(s.focus, Some(Focus::Filing));
        assert_eq!(s.form.kind, Some(RequestKind::Access));
        assert_eq!(s.form.message, "สำเนา");
        let s = s.reduce(Action::Send);
        assert_eq!(s.filing, Filing::Sending, "it can be sent again");
        let s = s.reduce(Action::Filed(Some(filed("R-3"))));
        assert_eq!(s.requests, Some(Some(vec![filed("R-3")])));
    }

    /// A recorded choice forgets the receipts shown but not the requests.
    #[test]
    fn a_choice_keeps_the_requests() {
        let s = start(false)
            .reduce(Action::RequestsLoaded(Some(vec![filed("R-1")])))
            .reduce(Action::Decided {
                method: Method::RejectAll,
                choices: choices(false, false, false),
            });
        assert_eq!(s.requests, Some(Some(vec![filed("R-1")])));
        assert_eq!(s.history, None);
    }
}
