// @ts-check
// Yinyom loader: served per site as /v1/sites/{site}/yinyom.js with the site's
// configuration in place of __YINYOM_CONFIG__ (`LoaderConfig`, model/src/loader.rs; its
// JavaScript type is in yinyom.d.ts).
//
// It runs on every page view, so it stays small and does only this:
// 1. sets Google Consent Mode v2 defaults (denied, wait_for_update) before any tag runs;
// 2. reads the site's consent cookie (its name comes with the configuration; its format is
//    model/src/cookie.rs, read and written here only: see encodeConsent); if the choice
//    is current, activates the granted blocked scripts and iframes (placeholders for the
//    others), shows the small reopen button, and stops: no wasm is fetched;
// 3. otherwise adds the banner (the first layer, widget/js/banner.js: a classic script,
//    about 3 KB with the site's banner texts in it, cached for good, fetched on the
//    loader's connection): a first visit costs two small requests in sequence on one
//    connection and no wasm. Reject
//    all / Accept all build the same receipt request as the widget (widget/src/host.rs,
//    Context::decide) and go through commit() below;
// 4. imports the Yew widget (settings, full notice, my consent) only when the visitor asks
//    for it: "ตั้งค่า", the notice link, yinyom.open(), a placeholder's "always allow",
//    yinyom.withdraw(); it starts fetching it on intent (pointer over or focus on "ตั้งค่า"
//    or the notice link). The widget's commit() is the same: it stores the cookie,
//    applies the choice and delivers the receipt, retrying on later page views until the
//    server has it.
// Sites in minors mode (the notice asks the age, PDPA s.20) skip step 3: the widget is
// imported at once and draws its own banner with the age question.
//
// Events on `document`: `yinyom:ready` (the API is there), `yinyom:change` (a choice was
// applied) and `yinyom:settled` (detail {site}): the loader has finished reacting, i.e.
// after loading, the stored choice is applied or the banner is shown (and waiting receipts
// were answered or stay queued); after a choice, the cookie is set, the page updated and
// the receipt request answered or queued.
//
// Script tag options: data-lang (th|en|auto: the language the visitor last chose on this
// site, then the page's, then the browser's), data-theme (light|dark|auto),
// data-position (bottom, top, bottom-left, bottom-right, top-left, top-right),
// data-button (off: no floating button, for sites with their own data-yinyom-open link).
//
// `cargo xtask dist` minifies this file with terser; without a dist folder the server
// strips whole-line comments and indentation when serving it.
(function (/** @type {LoaderConfig} */ config) {
  "use strict";
  const script = /** @type {HTMLScriptElement} */ (document.currentScript);
  // Loaded twice on one page (two tags): the first one stays in charge.
  if (window.yinyom && /** @type {any} */ (window.yinyom).__loaded) return;
  const base = new URL(script.src).origin;
  const siteApi = base + "/v1/sites/" + config.site;
  const storageKey = "yinyom." + config.site + ".";

  /** A `data-` option of the script tag, lower-cased. */
  function option(/** @type {string} */ name, /** @type {string} */ fallback) {
    return (script.getAttribute("data-" + name) || fallback).toLowerCase();
  }
  const position = option("position", "bottom");
  const theme = option("theme", "auto");

  /** @type {Consent | null} the current choice (null: none, or no longer current) */
  let state = null;

  // ---- Storage: this site's keys in localStorage (yinyom.<site>.<key>) ----

  /**
   * Reads (value undefined), removes (null) or writes `key`; null when storage fails.
   * @param {string} key
   * @param {string | null} [value]
   * @returns {string | null}
   */
  function store(key, value) {
    try {
      if (value === undefined) return localStorage.getItem(storageKey + key);
      if (value === null) localStorage.removeItem(storageKey + key);
      else localStorage.setItem(storageKey + key, value);
    } catch (e) {
      // Storage blocked (private mode, policy): nothing is remembered.
    }
    return null;
  }
  /** A stored JSON array, or []. @returns {any[]} */
  function storedList(/** @type {string} */ key) {
    try {
      const v = JSON.parse(store(key) || "[]");
      return Array.isArray(v) ? v : [];
    } catch (e) {
      return [];
    }
  }
  /** Now, in unix seconds. */
  function now() {
    return Math.floor(Date.now() / 1000);
  }
  /** A random UUID (version 4). */
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    let hex = "";
    for (let i = 0; i < 16; i++) {
      hex += (b[i] + 256).toString(16).slice(1) + (i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
    }
    return hex;
  }
  /** The visitor's pseudonymous id, made once per browser and site. */
  function subject() {
    let id = store("subject");
    if (!id) {
      id = uuid();
      store("subject", id);
    }
    return id;
  }

  // ---- The consent cookie (format: model/src/cookie.rs, version 1) ----
  // 1.<consent revision>.<unix seconds>.<granted categories joined by "+", or "-">.<receipt id, or "-">
  // The only JavaScript that reads or writes it: the banner gets encodeConsent from here.

  /** The value of cookie `name` (a site id needs no escaping in a pattern), or null. */
  function cookieValue(/** @type {string} */ name) {
    const m = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return m && m[1];
  }
  /** A choice as the cookie's value. */
  function encodeConsent(/** @type {Consent} */ c) {
    return ["1", c.revision, c.at, c.categories.join("+") || "-", c.receiptId || "-"].join(".");
  }
  /** This site's consent cookie; null if absent or not version 1. @returns {Consent | null} */
  function readConsent() {
    const value = cookieValue(config.cookie);
    const p = value ? value.split(".") : [];
    if (p.length != 5 || p[0] != "1" || !/^\d+$/.test(p[1]) || !/^\d+$/.test(p[2])) return null;
    return {
      revision: +p[1],
      at: +p[2],
      categories: p[3] == "-" ? [] : p[3].split("+"),
      receiptId: p[4] == "-" ? null : p[4],
    };
  }
  function writeConsent(/** @type {string} */ value) {
    document.cookie = config.cookie + "=" + value + "; path=/; max-age=" + config.validity_days * 86400
      + "; SameSite=Lax" + (location.protocol == "https:" ? "; Secure" : "");
  }
  /** A choice holds until the site raises its consent revision or the validity runs out. */
  function isCurrent(/** @type {Consent | null} */ c) {
    return !!c && c.revision >= config.revision && now() < c.at + config.validity_days * 86400;
  }
  /** Whether `category` is on: required, or granted by the current choice. */
  function granted(/** @type {string} */ category) {
    if (config.categories.some((c) => c.id == category && c.required)) return true;
    return !!state && state.categories.indexOf(category) >= 0;
  }

  // ---- Language ----

  /** The visitor's language: data-lang when it is not auto, else the one they last chose on
   * this site (kept in localStorage, per site), else the page's and the browser's. */
  function initialLang() {
    const wanted = option("lang", "auto");
    const tags = wanted != "auto"
      ? [wanted]
      : [store("lang"), document.documentElement.lang, ...(navigator.languages || [navigator.language])];
    for (const tag of tags) {
      const code = (tag || "").slice(0, 2).toLowerCase();
      if (config.languages.indexOf(code) >= 0) return code;
    }
    return config.languages[0];
  }
  let lang = initialLang();
  /** The loader's own words (floating button, placeholders, the "cannot load" message). */
  function words() {
    return lang == "en"
      ? {
        settings: "Cookie settings",
        blocked: "This content from %s is off: it may set cookies you have not allowed.",
        once: "Load once",
        always: "Always allow",
        failed: " could not load just now. Please try again.",
        retry: "Try again",
        close: "Close",
      }
      : {
        settings: "ตั้งค่าคุกกี้",
        blocked: "เนื้อหานี้จาก %s ปิดไว้ เพราะอาจตั้งคุกกี้ที่ท่านยังไม่ได้อนุญาต",
        once: "โหลดครั้งนี้",
        always: "อนุญาตเสมอ",
        failed: " เปิดไม่ได้ในขณะนี้ ท่านลองใหม่ได้",
        retry: "ลองใหม่",
        close: "ปิด",
      };
  }
  /** @type {Set<() => void>} what redraws itself when the language changes */
  const relabel = new Set();
  /** The visitor switched language (in the banner or the widget): remembered for this
   * site, and the floating button, the banner and the placeholders speak it at once. */
  function setLang(/** @type {string} */ code) {
    if (code == lang || config.languages.indexOf(code) < 0) return;
    lang = code;
    store("lang", code);
    if (banner) banner.setLang(code);
    relabel.forEach((draw) => draw());
  }

  // ---- Google Consent Mode v2 ----

  const dataLayer = (window.dataLayer = window.dataLayer || []);
  /** @param {...unknown} _args */
  function gtag(..._args) {
    // gtag.js reads the arguments object, not an array.
    dataLayer.push(arguments);
  }
  /** Every signal of the site's categories, granted when any category granting it is on. */
  function signals() {
    /** @type {Record<string, string | number>} */
    const s = {};
    for (const c of config.categories) {
      for (const g of c.gcm) {
        if (!s[g] || s[g] == "denied") s[g] = granted(c.id) ? "granted" : "denied";
      }
    }
    return s;
  }
  gtag("consent", "default", { ...signals(), wait_for_update: 500 });

  // ---- The loader's own UI: floating button, iframe placeholders, the "cannot load"
  // message (the banner is banner.js), in shadow roots with a constructed stylesheet: no
  // inline style, so a strict CSP needs no 'unsafe-inline'. ----

  const CSS = ":host{font:inherit}:host(#yinyom){all:initial;font-family:inherit}"
    + ".f,.p button{margin:.25rem;padding:.4rem .8rem;border:2px solid var(--yy-accent,#0b4f9c);border-radius:.5rem;background:var(--yy-accent,#0b4f9c);color:var(--yy-accent-fg,#fff);font:inherit;cursor:pointer}"
    + ".f{position:fixed;z-index:2147482999;bottom:1rem;left:1rem;width:3rem;height:3rem;margin:0;padding:.6rem;border-radius:50%;box-shadow:0 .25rem 1rem rgba(0,0,0,.3)}.t{top:1rem;bottom:auto}.r{left:auto;right:1rem}"
    + ".p{box-sizing:border-box;display:flex;flex-direction:column;justify-content:center;align-items:center;width:100%;height:100%;min-height:8rem;padding:1rem;text-align:center;background:#eef1f5;color:#1a1a1a;border:1px solid #4a4a4a}.p p{margin:0 0 .5rem}"
    + "@media (pointer:coarse){.p button{min-height:44px}}"
    + ":focus-visible{outline:3px solid #9e4a00;outline-offset:2px}"
    + ".e{position:fixed;z-index:2147483000;inset:auto 1rem 1rem;width:auto;height:auto;max-width:30rem;margin:auto}";
  /** @type {CSSStyleSheet | null} */
  let sheet = null;
  /** A new element with an open shadow root that has the loader's stylesheet. */
  function shadowHost(/** @type {string} */ tag) {
    const host = document.createElement(tag);
    const shadow = host.attachShadow({ mode: "open" });
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      el(shadow, "style", {}, CSS);
    }
    return host;
  }
  /**
   * A new element: el(parent, "p", {id: "x"}, "text").
   * @param {Node | null} parent
   * @param {string} tag
   * @param {Record<string, string>} [attrs]
   * @param {string} [text]
   */
  function el(parent, tag, attrs = {}, text = "") {
    const e = document.createElement(tag);
    for (const name in attrs) e.setAttribute(name, attrs[name]);
    if (text) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  /** @type {HTMLElement | null} #yinyom, whose shadow root the banner and widget share */
  let sharedHost = null;
  function sharedRoot() {
    if (!sharedHost) {
      sharedHost = shadowHost("div");
      sharedHost.id = "yinyom";
      document.body.appendChild(sharedHost);
    }
    return /** @type {ShadowRoot} */ (sharedHost.shadowRoot);
  }

  /** @type {HTMLElement | null} */
  let floatingButton = null;
  /** The reopen button, once there is a choice (unless data-button="off"). */
  function showButton() {
    if (floatingButton || !state || option("button", "on") == "off" || !document.body) return;
    floatingButton = shadowHost("span");
    floatingButton.id = "yinyom-button";
    const cls = "f" + (position.indexOf("top") >= 0 ? " t" : "") + (position.indexOf("right") >= 0 ? " r" : "");
    const button = el(floatingButton.shadowRoot, "button", { type: "button", class: cls });
    const label = () => {
      button.title = words().settings;
      button.setAttribute("aria-label", words().settings);
      button.lang = lang;
    };
    label();
    relabel.add(label);
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 2a10 10 0 1 0 10 10 4 4 0 0 1-5-5 4 4 0 0 1-5-5zM8 11a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm3 5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm5-1a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z"/></svg>';
    button.onclick = () => yinyom.open();
    document.body.appendChild(floatingButton);
  }

  // ---- The banner (first layer): a small classic script (widget/js/banner.js, built by
  // `cargo xtask dist`) that the server serves per site with the banner texts of the
  // current notice version in it (`texts`, model/src/loader.rs BannerView: kept out of this
  // loader, which a returning visitor downloads on every visit), at an immutable URL
  // (config.banner_js), added to the page as soon as the loader knows the visitor must be
  // asked. A script element, not import(): it is fetched as this loader was, so it reuses
  // the loader's connection (a module is fetched with CORS and without credentials, which
  // browsers keep on connections of their own: over HTTPS, two round trips more). It
  // hands itself over in a `yinyom:banner` event on its element and gets the rest from
  // here. ----

  const gpc = navigator.globalPrivacyControl === true;
  /** @type {BannerElement | null} */
  let banner = null;
  let bannerLoading = false;
  /** Shows the banner; resolves once it is shown (or could not be). @returns {Promise<void>} */
  function showBanner() {
    if (state || banner || bannerLoading || config.minors) return Promise.resolve();
    bannerLoading = true;
    // The script is fetched at once; the banner is drawn once the page has a body.
    const body = document.body
      ? Promise.resolve()
      : new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
    const loaded = new Promise((/** @type {(b: BannerScript) => void} */ resolve, reject) => {
      // The loader's nonce, for a nonce-only Content Security Policy.
      const s = el(document.head, "script", { src: base + config.banner_js, nonce: script.nonce || "" });
      s.addEventListener("yinyom:banner", (e) => resolve(/** @type {CustomEvent<BannerScript>} */ (e).detail));
      // After it ran: a script that handed no banner over is an error.
      s.onload = s.onerror = () => reject(new Error("yinyom: " + config.banner_js));
    });
    return Promise.all([loaded, body]).then(([handed]) => {
      if (state) return;
      banner = handed.banner({
        config: { ...config, ...handed.texts },
        lang,
        position,
        theme,
        gpc,
        root: sharedRoot,
        el,
        cookie: encodeConsent,
        commit,
        now,
        uuid,
        subject,
        setLang,
        open: (tab) => yinyom.open(tab),
        prefetch: () => { fetchWidget().catch(() => {}); },
      });
    }, (e) => console.error(e)).finally(() => {
      bannerLoading = false;
    });
  }

  // ---- Activation: blocked scripts and iframes of granted categories; denied iframes get
  // a placeholder. Each blocked script is taken once, queued in document order and run by
  // one runner: an external one loads (or fails) before the next one runs, as the browser
  // would have run them. It runs again when a choice grants more, on DOMContentLoaded and
  // for blocked scripts or iframes added later (see watch()). ----

  /** @type {WeakSet<Element>} blocked scripts already taken */
  const taken = new WeakSet();
  /** @type {HTMLScriptElement[]} taken scripts not yet run */
  const toRun = [];
  let runnerWaiting = false;
  function activate() {
    watchForms();
    document.querySelectorAll('script[type="text/plain"][data-yinyom]').forEach((s) => {
      if (!taken.has(s) && granted(s.getAttribute("data-yinyom") || "")) {
        taken.add(s);
        toRun.push(/** @type {HTMLScriptElement} */ (s));
      }
    });
    runScripts();
    document.querySelectorAll("iframe[data-yinyom][data-src]").forEach((f) => frame(/** @type {HTMLIFrameElement} */ (f)));
  }
  function runScripts() {
    while (!runnerWaiting && toRun.length) {
      const blocked = /** @type {HTMLScriptElement} */ (toRun.shift());
      if (!blocked.parentNode) continue;
      const s = document.createElement("script");
      for (const a of Array.from(blocked.attributes)) if (a.name != "type") s.setAttribute(a.name, a.value);
      if (blocked.nonce) s.nonce = blocked.nonce;
      s.setAttribute("data-yinyom-active", "");
      if (blocked.src) {
        runnerWaiting = true;
        s.onload = s.onerror = () => {
          runnerWaiting = false;
          runScripts();
        };
      } else {
        s.text = blocked.text;
      }
      blocked.parentNode.replaceChild(s, blocked);
    }
  }
  /** Once the document is parsed: everything in it, then whatever is added later
   * (activate() is idempotent: taken scripts are marked, placeholders drawn once). */
  function watch() {
    activate();
    showButton();
    new MutationObserver(activate).observe(document.documentElement, { childList: true, subtree: true });
  }
  /** Loads a blocked iframe whose category is on (or that is allowed once); otherwise
   * unloads it and puts a placeholder before it. */
  function frame(/** @type {HTMLIFrameElement} */ f) {
    const category = f.getAttribute("data-yinyom") || "";
    const previous = f.previousElementSibling;
    const placeholder = previous && previous.getAttribute("data-yinyom-placeholder") == category ? previous : null;
    if (granted(category) || f.hasAttribute("data-yinyom-once")) {
      if (placeholder) placeholder.remove();
      f.hidden = false;
      if (!f.getAttribute("src")) f.src = f.getAttribute("data-src") || "";
      return;
    }
    if (f.getAttribute("src")) {
      // Withdrawn: drop the embedded page (and whatever it runs) with its browsing context.
      const unloaded = /** @type {HTMLIFrameElement} */ (f.cloneNode(false));
      unloaded.removeAttribute("src");
      /** @type {ParentNode} */ (f.parentNode).replaceChild(unloaded, f);
      f = unloaded;
    }
    f.hidden = true;
    if (!placeholder) drawPlaceholder(f, category);
  }
  function drawPlaceholder(/** @type {HTMLIFrameElement} */ f, /** @type {string} */ category) {
    const p = shadowHost("div");
    const from = new URL(f.getAttribute("data-src") || "", location.href).hostname;
    const width = f.getAttribute("width") || "";
    const height = f.getAttribute("height") || "";
    p.setAttribute("data-yinyom-placeholder", category);
    // The iframe's size, shrinking with the page: the width of its container, at most the
    // iframe's (a fixed width would widen a grid or flex container past a phone's screen),
    // its aspect ratio, taller when the text needs it (CSSOM, not a style attribute: no CSP
    // 'unsafe-inline').
    p.style.display = "block";
    p.style.width = "100%";
    if (/^\d+$/.test(width)) p.style.maxWidth = width + "px";
    if (/^\d+$/.test(width) && /^\d+$/.test(height) && +height) p.style.aspectRatio = width + "/" + height;
    const shadow = /** @type {ShadowRoot} */ (p.shadowRoot);
    const draw = () => {
      if (!p.isConnected && shadow.firstChild) return relabel.delete(draw);
      const box = shadow.querySelector(".p") || el(shadow, "div", { class: "p", role: "group" });
      const w = words();
      box.textContent = "";
      /** @type {HTMLElement} */ (box).lang = lang;
      box.setAttribute("aria-label", f.title || w.settings);
      el(box, "p", {}, w.blocked.replace("%s", from));
      el(box, "button", { type: "button", "data-action": "once" }, w.once).onclick = () => {
        f.setAttribute("data-yinyom-once", "");
        frame(f);
      };
      el(box, "button", { type: "button", "data-action": "allow" }, w.always).onclick = () => {
        withWidget((widget) => widget.allow(category));
      };
    };
    draw();
    relabel.add(draw);
    /** @type {ParentNode} */ (f.parentNode).insertBefore(p, f);
  }

  /** Clears the first-party cookies of denied categories (path / on this host and its
   * parent domains). */
  function clearDenied() {
    const host = location.hostname.split(".");
    const domains = [""];
    for (let i = 0; i < host.length - 1; i++) domains.push("; domain=." + host.slice(i).join("."));
    for (const c of config.categories) {
      if (granted(c.id)) continue;
      for (const name of c.cookies) {
        for (const pair of document.cookie.split(/;\s*/)) {
          const k = pair.split("=")[0];
          const matches = k == name || (name.slice(-1) == "*" && k.indexOf(name.slice(0, -1)) == 0);
          if (matches) for (const domain of domains) document.cookie = k + "=; path=/; max-age=0" + domain;
        }
      }
    }
  }
  /** @type {((consent: Consent | null) => void)[]} */
  const listeners = [];
  /** Reads the cookie and applies the choice to the page; `changed` after a choice. */
  function apply(/** @type {boolean} */ changed) {
    state = readConsent();
    if (!isCurrent(state)) state = null;
    // Consent Mode update after every choice and on every page view with a stored choice.
    if (state || changed) gtag("consent", "update", signals());
    activate();
    showButton();
    if (changed) {
      clearDenied();
      const detail = yinyom.consent();
      for (const f of listeners) {
        try {
          f(detail);
        } catch (e) {
          setTimeout(() => { throw e; });
        }
      }
      document.dispatchEvent(new CustomEvent("yinyom:change", { detail }));
    }
  }

  // ---- Receipt delivery: pending requests are kept in localStorage until the server
  // acknowledges them; a retry sends the same request_id, so it is never counted twice. ----

  /** Posts every pending request; resolves when each is answered or stays queued. */
  function deliver() {
    return Promise.all(storedList("pending").map((/** @type {string} */ body) =>
      fetch(siteApi + "/receipts", {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
        credentials: "omit",
        keepalive: true,
      }).then((r) => {
        if (r.status >= 500 || r.status == 429) throw r.status;
        return r.status < 300 ? r.text() : null;
      }).then((text) => {
        // Answered: no longer pending (a 4xx will not get better by retrying).
        const left = storedList("pending").filter((b) => b != body);
        store("pending", left.length ? JSON.stringify(left) : null);
        if (text) acknowledged(body, JSON.parse(text));
      }).catch(() => {
        // Offline or server down: retried on the next page view.
      })));
  }
  /** Keeps the receipt; when it answers the current choice, its id goes into the cookie. */
  function acknowledged(/** @type {string} */ body, /** @type {any} */ answer) {
    const receipts = storedList("receipts");
    receipts.push(answer);
    store("receipts", JSON.stringify(receipts.slice(-50)));
    const c = readConsent();
    if (c && c.receiptId == null && JSON.parse(body).request_id == answer.receipt.request_id) {
      c.receiptId = answer.receipt.receipt_id;
      writeConsent(encodeConsent(c));
      state = readConsent();
    }
  }
  /** Keeps a receipt request in the queue deliver() sends (a form's, when the server did
   * not answer in time). */
  function queue(/** @type {string} */ request) {
    const pending = storedList("pending");
    pending.push(request);
    store("pending", JSON.stringify(pending));
  }
  /** Tells tests and tools the loader has finished reacting (see the top of this file). */
  function settled() {
    document.dispatchEvent(new CustomEvent("yinyom:settled", { detail: { site: config.site } }));
  }
  /** A choice (from the banner or the widget): store the cookie, apply it, deliver the
   * receipt request. */
  function commit(/** @type {string} */ cookie, /** @type {string} */ request) {
    writeConsent(cookie);
    if (banner) banner.remove();
    banner = null;
    queue(request);
    store("choice", request);
    if (JSON.parse(request).method == "withdraw") {
      document.querySelectorAll("iframe[data-yinyom-once]").forEach((f) => f.removeAttribute("data-yinyom-once"));
    }
    apply(true);
    deliver().then(settled);
  }

  // ---- The widget (settings, full notice, my consent): glue, wasm and notice, fetched
  // once, on intent or when needed. ----

  /** GET `url` as text; rejects on failure. */
  function fetchText(/** @type {string} */ url) {
    // no-cache: revalidate (ETag), so a raised revision is never shown an old notice.
    return fetch(url, { credentials: "omit", cache: "no-cache" }).then((r) => {
      if (!r.ok) throw new Error("yinyom: " + url + " " + r.status);
      return r.text();
    });
  }
  /** @type {Promise<[WidgetModule, unknown]> | null} */
  let widgetFiles = null;
  function fetchWidget() {
    return widgetFiles || (widgetFiles = Promise.all([
      /** @type {Promise<WidgetModule>} */ (import(base + config.widget_js))
        .then((m) => m.default({ module_or_path: base + config.widget_wasm }).then(() => m)),
      fetchText(siteApi + "/notice?view=widget").then((t) => JSON.parse(t)),
    ]).catch((e) => {
      widgetFiles = null;
      throw e;
    }));
  }
  /** @type {Widget | null} */
  let widget = null;
  /** @type {((w: Widget) => void)[]} what waits for the widget */
  let waiting = [];
  let mounting = false;
  /** Resolves when the last attempt to mount the widget has succeeded or failed. */
  let mountAttempt = Promise.resolve();
  /** Runs `then` with the widget, mounting it first if needed (widget/src/host.rs,
   * `Host`, is what mount takes). */
  function withWidget(/** @type {(w: Widget) => void} */ then) {
    if (widget) return then(widget);
    waiting.push(then);
    if (mounting) return;
    mounting = true;
    mountAttempt = fetchWidget().then(([module, notice]) => {
      sharedRoot();
      const mounted = module.mount({
        notice,
        lang,
        setLang,
        subject: subject(),
        api: siteApi,
        noticeUrl: base + "/sites/" + config.site + "/notice",
        build: config.build,
        theme,
        position,
        gpc,
        banner: !!config.minors,
        uuid,
        now,
        commit,
        consent: () => yinyom.consent(),
        choice: () => store("choice"),
        receipts: () => storedList("receipts"),
        text: fetchText,
      });
      widget = mounted;
      for (const f of waiting.splice(0)) f(mounted);
    }, (e) => {
      const retry = waiting.splice(0);
      mounting = false;
      console.error(e);
      cannotLoad(retry);
    });
  }
  /** A sign of life when the settings cannot load (the consent server is unreachable): a
   * short message in the visitor's language with a retry that asks again what was asked.
   * A choice already made stays applied and is delivered later (deliver()). */
  function cannotLoad(/** @type {((w: Widget) => void)[]} */ retry) {
    const shadow = sharedRoot();
    const old = shadow.querySelector(".e");
    if (old) old.remove();
    const w = words();
    // The placeholder's look (class p), fixed at the bottom (class e).
    const box = el(shadow, "div", { class: "p e", role: "alert" });
    el(box, "p", {}, w.settings + w.failed);
    el(box, "button", { type: "button", "data-action": "retry" }, w.retry).onclick = () => {
      box.remove();
      retry.forEach(withWidget);
    };
    el(box, "button", { type: "button", "data-action": "close" }, w.close).onclick = () => box.remove();
    /** @type {HTMLElement} */ (box.querySelector("button")).focus();
  }

  // ---- Consent on forms (docs/EMBEDDING.md): `<form data-yinyom-form="NAME">` with
  // `data-yinyom-purpose` boxes. The code (checks, submit listener on document, delivery)
  // is widget/js/forms.js, imported once the page has such a form (activate() looks, also
  // for forms added later), so other pages never download it. ----

  /** @type {Promise<void> | null} */
  let forms = null;
  function watchForms() {
    if (forms || !document.querySelector("form[data-yinyom-form]")) return;
    forms = /** @type {Promise<FormsModule>} */ (import(base + config.forms_js))
      .then((m) => m.forms({ config, api: siteApi, lang: () => lang, uuid, subject, queue }), (e) => {
        forms = null;
        console.error(e);
      });
  }

  // ---- The JS API (docs/EMBEDDING.md) ----

  /** @type {YinyomApi} */
  const yinyom = {
    __loaded: true,
    // open("notice") and open("mine") open those tabs; open() the choices.
    open: (tab) => withWidget((w) => w.open(tab)),
    accepted: (category) => granted(category),
    consent: () => state && {
      revision: state.revision,
      categories: state.categories.slice(),
      receiptId: state.receiptId,
      at: state.at,
    },
    on: (event, listener) => {
      if (event == "change") listeners.push(listener);
    },
    withdraw: () => withWidget((w) => w.withdraw()),
  };
  // Calls queued before the loader ran: window.yinyom = window.yinyom || [];
  // yinyom.push(["on", "change", fn]).
  const early = window.yinyom;
  window.yinyom = yinyom;
  if (Array.isArray(early)) {
    for (const call of early) {
      const f = Array.isArray(call) && /** @type {any} */ (yinyom)[String(call[0])];
      if (typeof f == "function") f.apply(yinyom, call.slice(1));
    }
  }

  // ---- This page view ----

  // The name every site shared before (model/src/cookie.rs) is consent for no site: it is
  // deleted. When a stored choice no longer holds (raised revision, expired, or only the
  // old shared cookie), nothing optional is granted until the visitor chooses again, so
  // the cookies of the optional categories are cleared at once.
  const legacy = cookieValue("yinyom") != null;
  const stale = legacy || !!readConsent();
  if (legacy) document.cookie = "yinyom=; path=/; max-age=0";
  apply(false);
  if (stale && !state) clearDenied();
  const delivered = deliver();
  /** @type {Promise<void>} */
  let shown = Promise.resolve();
  if (!state) {
    if (config.minors) {
      withWidget(() => {});
      shown = mountAttempt;
    } else {
      shown = showBanner();
    }
  }
  // An async loader can run before the end of <body> is parsed.
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
  document.addEventListener("click", (e) => {
    const target = /** @type {Element} */ (e.target);
    const opener = target.closest && target.closest("[data-yinyom-open]");
    if (opener) {
      e.preventDefault();
      yinyom.open();
    }
  });
  document.dispatchEvent(new CustomEvent("yinyom:ready", { detail: yinyom.consent() }));
  Promise.all([delivered, shown]).then(settled, settled);
})(__YINYOM_CONFIG__);
