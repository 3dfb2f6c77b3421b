// @ts-check
// Yinyom banner: the first layer, in plain JavaScript. The loader (widget/js/loader.js,
// `showBanner`) adds this script to the page when the visitor has no current choice, so a
// first visit shows the banner without the wasm widget; the widget is fetched only when
// the settings, the full notice or "my consent" are opened (or on intent: the pointer
// over, or the focus on, "ตั้งค่า" or the notice link).
//
// A classic script, not an ES module: the browser fetches a classic script the way it
// fetched the loader (no CORS, the same credentials mode), so it reuses the loader's
// connection to the consent server. A module is fetched with CORS and without
// credentials, which browsers keep on connections of their own: over HTTPS that is a new
// TCP and TLS handshake, two round trips more, before the banner's first byte. It hands
// itself to the loader with a `yinyom:banner` event on its own script element
// (`document.currentScript`); nothing is added to `window`.
//
// `cargo xtask dist` fills __YINYOM_CSS__ (banner.css, shared with the widget, which adds
// its own rules after it) and __YINYOM_WORDS__ (the banner's words, model/src/words.rs,
// which the widget uses too), minifies this file with terser and writes it beside the
// widget as dist/assets/<build>/yinyom_banner.js. The server serves it per site as
// /v1/sites/{site}/banner/{build}/{version}.js with the notice version's banner texts
// (`BannerView`) in place of __YINYOM_TEXTS__: one request, cached for good.
//
// It draws what the widget's banner draws (widget/src/app.rs, banner_view): a non-modal
// dialog labelled by the notice's title and described by its summary, a language switch,
// the Global Privacy Control note, a link to the full notice and Reject all / Choose /
// Accept all, three buttons that look the same; it takes the focus. Reject all and Accept
// all make the receipt request the widget makes for those methods (widget/src/host.rs,
// Context::all and Context::decide; tests/tests/first_layer.rs compares them) and the
// cookie through the loader's encoder, and hand both to the loader's commit().
(function (/** @type {BannerView} */ texts) {
  "use strict";

  const WORDS = __YINYOM_WORDS__;
  const CSS = __YINYOM_CSS__;

  /** "a", "a and b", "a, b and c" (Thai: "a b และ c"), as widget/src/i18n.rs `list`. */
  function list(/** @type {string[]} */ items, /** @type {string} */ and) {
    if (items.length < 2) return items.join("");
    return items.slice(0, -1).join(and == "and" ? ", " : " ") + " " + and + " " + items[items.length - 1];
  }

  /**
   * Shows the banner; returns its element (the loader removes it once a choice is made).
   * @param {BannerHost} host what the loader lends (yinyom.d.ts)
   * @returns {BannerElement}
   */
  function banner(host) {
    const config = host.config;
    const el = host.el;
    const shadow = host.root();
    let lang = host.lang;
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    } catch (e) {
      el(shadow, "style", {}, CSS);
    }
    const pos = host.position;
    const top = pos.indexOf("top") >= 0;
    const side = pos.indexOf("left") >= 0 ? " left" : pos.indexOf("right") >= 0 ? " right" : "";
    // A polite status region beside the banner (it stays when the banner goes): it
    // announces the choice; the focus then moves back (below).
    const live = shadow.querySelector(".sr") || el(shadow, "div", { class: "sr", role: "status" });
    const root = /** @type {BannerElement} */ (el(shadow, "div", {
      class: "root " + (host.theme == "dark" || host.theme == "light" ? host.theme : "auto"),
    }));
    const dialog = el(root, "section", {
      class: "banner " + (top ? "top" : "bottom") + side,
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "yy-title",
      "aria-describedby": "yy-summary",
      tabindex: "-1",
    });
    const head = el(dialog, "div", { class: "head" });
    const title = el(head, "h2", { id: "yy-title" });
    const summary = el(dialog, "p", { id: "yy-summary" });
    const hasOther = config.languages.indexOf(lang == "th" ? "en" : "th") >= 0;
    const switchLang = hasOther ? el(head, "button", { type: "button", class: "lang", "data-action": "lang" }) : null;
    const sharing = config.sharing || [];
    const gpcNote = host.gpc && sharing.length ? el(dialog, "p", { class: "note", "data-gpc": "" }) : null;
    const readNotice = el(el(dialog, "p"), "button", { type: "button", class: "link", "data-action": "notice" });
    const actions = el(dialog, "div", { class: "actions" });
    /** @param {string} action */
    const choice = (action) => el(actions, "button", { type: "button", class: "choice", "data-action": action });
    const reject = choice("reject-all");
    const choose = choice("choose");
    const accept = choice("accept-all");

    /** Writes every text in `lang`. */
    const draw = () => {
      const w = WORDS[lang];
      const text = (/** @type {Texts} */ t) => (lang == "en" && t.en) || t.th;
      root.lang = lang;
      title.textContent = text(config.title);
      summary.textContent = text(config.summary);
      if (switchLang) {
        switchLang.textContent = w.switch_lang;
        switchLang.lang = lang == "th" ? "en" : "th";
      }
      if (gpcNote) {
        const names = sharing.map((c) => "\u201c" + text(c.title) + "\u201d");
        gpcNote.textContent = w.gpc_note.replace("%s", list(names, w.and));
      }
      readNotice.textContent = w.read_notice;
      reject.textContent = w.reject_all;
      choose.textContent = w.choose;
      accept.textContent = w.accept_all;
    };
    draw();
    // The visitor switched language in the widget's settings: the banner follows.
    root.setLang = (code) => {
      lang = code;
      draw();
    };
    dialog.onclick = (e) => {
      const target = /** @type {Element} */ (e.target);
      const action = target.closest("[data-action]")?.getAttribute("data-action");
      if (action == "lang") {
        lang = lang == "th" ? "en" : "th";
        host.setLang(lang);
        draw();
      } else if (action == "choose" || action == "notice") {
        host.open(action);
      } else if (action == "reject-all" || action == "accept-all") {
        const all = action == "accept-all";
        decide(host, lang, all);
        /** @type {HTMLElement} */ (live).lang = lang;
        live.textContent = all ? WORDS[lang].saved_accept_all : WORDS[lang].saved_reject_all;
        // The banner is gone: the focus goes back where it was before the banner, else to
        // the floating button (the loader has just drawn it), never to <body>.
        const fab = document.getElementById("yinyom-button");
        const to = back && back.isConnected ? back : fab && fab.shadowRoot && fab.shadowRoot.querySelector("button");
        if (to) /** @type {HTMLElement} */ (to).focus();
      }
    };
    // Intent: start fetching the widget before the click.
    for (const name of ["pointerover", "focusin"]) {
      dialog.addEventListener(name, (e) => {
        const target = /** @type {Element} */ (e.target);
        if (target.closest("[data-action=choose],[data-action=notice]")) host.prefetch();
      });
    }
    const back = focused();
    dialog.focus();
    return root;
  }

  /** The focused element, looking into shadow roots; null for <body>. */
  function focused() {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a == document.body ? null : a;
  }

  /**
   * Reject all / Accept all: every optional category and consent purpose refused, or
   * granted except, with Global Privacy Control, the categories the server says share data.
   * @param {BannerHost} host
   * @param {string} lang
   * @param {boolean} all
   */
  function decide(host, lang, all) {
    const config = host.config;
    const keptOff = (config.sharing || []).map((c) => c.id);
    /** @type {Record<string, boolean>} */
    const categories = {};
    /** @type {Record<string, boolean>} */
    const purposes = {};
    /** @type {string[]} */
    const on = [];
    for (const c of config.categories) {
      if (c.required) continue;
      categories[c.id] = all && !(host.gpc && keptOff.indexOf(c.id) >= 0);
      if (categories[c.id]) on.push(c.id);
    }
    for (const id of config.purposes) purposes[id] = all;
    const cookie = host.cookie({ revision: config.revision, at: host.now(), categories: on, receiptId: null });
    host.commit(cookie, JSON.stringify({
      request_id: host.uuid(),
      subject_id: host.subject(),
      notice_version: config.version,
      consent_revision: config.revision,
      method: all ? "accept_all" : "reject_all",
      lang,
      categories,
      purposes,
      gpc: host.gpc,
      // One leading slash: `//x` reads as an address, and the server refuses it.
      page_path: location.pathname.replace(/^\/+/, "/").slice(0, 512),
      widget: config.build,
    }));
  }

  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
  if (script) {
    // What the visitor does next (the receipt, the settings) is fetched without
    // credentials, which browsers send on connections of their own: open one while the
    // visitor reads.
    const link = document.createElement("link");
    link.rel = "preconnect";
    link.href = new URL(script.src).origin;
    link.crossOrigin = "";
    document.head.appendChild(link);
    script.dispatchEvent(new CustomEvent("yinyom:banner", { detail: { banner, texts } }));
  }
})(__YINYOM_TEXTS__);
