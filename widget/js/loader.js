// Yinyom loader: served per site as /v1/sites/{site}/yinyom.js with the site's
// configuration in place of __YINYOM_CONFIG__ (see server/src/routes/loader.rs).
//
// It runs on every page view, so it stays small and does only this:
// 1. sets Google Consent Mode v2 defaults (denied, wait_for_update) before any tag runs;
// 2. reads the site's consent cookie (`yinyom_<site>`, name and format: model/src/cookie.rs;
//    the config carries the name); if the choice is current,
//    activates the granted blocked scripts and iframes (placeholders for the others),
//    shows the small reopen button, and stops: no wasm is fetched;
// 3. otherwise imports the banner (the first layer, widget/js/banner.js: plain JS, about
//    2 KB, shared by every site and cached for good) and shows it with the notice title
//    and summary this config carries: a first visit costs two small requests and no wasm.
//    Reject all / Accept all build the same receipt request as the widget (see
//    widget/src/host.rs, Context::decide) and go through commit() below;
// 4. imports the Yew widget (settings, full notice, my consent) only when the visitor
//    asks for it: "ตั้งค่า", the notice link, yinyom.open(), a placeholder's "always
//    allow", yinyom.withdraw(); it starts fetching it on intent (pointer over or focus on
//    "ตั้งค่า" or the notice link). The widget's commit() is the same: it stores the
//    cookie, applies the choice and delivers the receipt, retrying on later page views
//    until the server has it.
// Sites in minors mode (the notice asks the age, PDPA s.20) skip step 3: the widget is
// imported at once and draws its own banner with the age question.
// Script tag options: data-lang (th|en|auto: the language the visitor last chose on this
// site, then the page's, then the browser's), data-theme (light|dark|auto),
// data-position (bottom, top, bottom-left, bottom-right, top-left, top-right),
// data-button (off: no floating button, for sites with their own data-yinyom-open link).
// The server strips whole-line comments and indentation when serving this file.
(function (C) {
"use strict";
var d = document, w = window, me = d.currentScript;
if (w.yinyom && w.yinyom.__loaded) return;
var base = new URL(me.src).origin;
var api = base + "/v1/sites/" + C.site;
var NAME = C.cookie, KEY = "yinyom." + C.site + ".";
var listeners = [], queue = [], ui = null, loading = false, ready = null, state = null, fab = null, sheet = null, yy = null, bar = null;
function opt(n, v) { return (me.getAttribute("data-" + n) || v).toLowerCase(); }
var pos = opt("position", "bottom"), theme = opt("theme", "auto");

function store(k, v) {
try { if (v === undefined) return localStorage.getItem(KEY + k); if (v === null) localStorage.removeItem(KEY + k); else localStorage.setItem(KEY + k, v); } catch (e) { return null; }
}
function list(k) { try { var v = JSON.parse(store(k) || "[]"); return Array.isArray(v) ? v : []; } catch (e) { return []; } }
function now() { return Math.floor(Date.now() / 1000); }
function uuid() {
if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
var b = crypto.getRandomValues(new Uint8Array(16)), h = "";
b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + (i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
return h;
}
// The value of cookie n (a site id needs no escaping in a pattern), or null.
function raw(n) { var m = d.cookie.match(new RegExp("(?:^|;\\s*)" + n + "=([^;]*)")); return m && m[1]; }
// Reads this site's consent cookie; null if absent or not version 1.
function readCookie() {
var p = raw(NAME);
p = p && p.split(".");
if (!p || p.length != 5 || p[0] != "1" || !/^\d+$/.test(p[1]) || !/^\d+$/.test(p[2])) return null;
return { revision: +p[1], at: +p[2], categories: p[3] == "-" ? [] : p[3].split("+"), receiptId: p[4] == "-" ? null : p[4] };
}
function writeCookie(v) {
d.cookie = NAME + "=" + v + "; path=/; max-age=" + C.days * 86400 + "; SameSite=Lax" + (location.protocol == "https:" ? "; Secure" : "");
}
// A choice holds until the site raises its consent revision or the validity runs out.
function current(c) { return !!c && c.revision >= C.rev && now() < c.at + C.days * 86400; }
function granted(cat) {
for (var i = 0; i < C.cats.length; i++) if (C.cats[i].id == cat && C.cats[i].req) return true;
return !!state && state.categories.indexOf(cat) >= 0;
}
// The visitor's language: data-lang when it is not auto, else the one they last chose on
// this site (kept in localStorage, per site), else the page's and the browser's.
function lang() {
var want = opt("lang", "auto");
var tags = want != "auto" ? [want] : [store("lang"), d.documentElement.lang].concat(navigator.languages || [navigator.language]);
for (var i = 0; i < tags.length; i++) {
var t = (tags[i] || "").slice(0, 2).toLowerCase();
if (C.langs.indexOf(t) >= 0) return t;
}
return C.langs[0];
}
var L, T;
function words(l) {
L = l;
T = L == "en"
? ["Cookie settings", "This content from %s is off: it may set cookies you have not allowed.", "Load once", "Always allow"]
: ["ตั้งค่าคุกกี้", "เนื้อหานี้จาก %s ปิดไว้ เพราะอาจตั้งคุกกี้ที่ท่านยังไม่ได้อนุญาต", "โหลดครั้งนี้", "อนุญาตเสมอ"];
}
words(lang());
// The visitor switched language (in the banner or the widget): remembered for this site,
// and the floating button and placeholders speak it at once.
function setLang(l) {
if (l == L || C.langs.indexOf(l) < 0) return;
words(l);
store("lang", l);
if (fab) fab.label();
if (bar && bar.setLang) bar.setLang(l);
[].forEach.call(d.querySelectorAll("[data-yinyom-placeholder]"), function (p) { p.draw && p.draw(); });
}

// Google Consent Mode v2.
w.dataLayer = w.dataLayer || [];
function gtag() { w.dataLayer.push(arguments); }
function signals() {
var s = {};
C.cats.forEach(function (c) { c.gcm.forEach(function (g) { if (!s[g] || s[g] == "denied") s[g] = granted(c.id) ? "granted" : "denied"; }); });
return s;
}
var defaults = signals();
defaults.wait_for_update = 500;
gtag("consent", "default", defaults);

// The loader's own UI (floating button, iframe placeholders; the banner is in
// banner.js), in shadow roots with a constructed stylesheet: no inline style, so a strict
// CSP needs no 'unsafe-inline'.
var CSS = ":host{font:inherit}:host(#yinyom){all:initial;font-family:inherit}"
+ ".f,.p button{margin:.25rem;padding:.4rem .8rem;border:2px solid var(--yy-accent,#0b4f9c);border-radius:.5rem;background:var(--yy-accent,#0b4f9c);color:var(--yy-accent-fg,#fff);font:inherit;cursor:pointer}"
+ ".f{position:fixed;z-index:2147482999;bottom:1rem;left:1rem;width:3rem;height:3rem;margin:0;padding:.6rem;border-radius:50%;box-shadow:0 .25rem 1rem rgba(0,0,0,.3)}.t{top:1rem;bottom:auto}.r{left:auto;right:1rem}"
+ ".p{box-sizing:border-box;display:flex;flex-direction:column;justify-content:center;align-items:center;width:100%;height:100%;min-height:8rem;padding:1rem;text-align:center;background:#eef1f5;color:#1a1a1a;border:1px solid #4a4a4a}.p p{margin:0 0 .5rem}"
+ "@media (pointer:coarse){.p button{min-height:44px}}"
+ ":focus-visible{outline:3px solid #9e4a00;outline-offset:2px}"
+ ".e{position:fixed;z-index:2147483000;inset:auto 1rem 1rem;width:auto;height:auto;max-width:30rem;margin:auto}";
// A host element with an open shadow root that has the stylesheet.
function shadow(tag) {
var host = d.createElement(tag), r = host.attachShadow({ mode: "open" });
try { if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } r.adoptedStyleSheets = [sheet]; }
catch (e) { h(r, "style", {}, CSS); }
return host;
}
// A new element: h(parent, "p", {id: "x"}, "text").
function h(parent, tag, attrs, text) {
var e = d.createElement(tag);
for (var k in attrs) e.setAttribute(k, attrs[k]);
if (text) e.textContent = text;
if (parent) parent.appendChild(e);
return e;
}
// The shadow root the banner and the widget share.
function root() {
if (!yy) { yy = shadow("div"); yy.id = "yinyom"; d.body.appendChild(yy); }
return yy.shadowRoot;
}
function button() {
if (fab || !state || opt("button", "on") == "off" || !d.body) return;
fab = shadow("span");
fab.id = "yinyom-button";
var b = h(fab.shadowRoot, "button", { type: "button", "class": "f" + (pos.indexOf("top") >= 0 ? " t" : "") + (pos.indexOf("right") >= 0 ? " r" : "") });
fab.label = function () { b.title = T[0]; b.setAttribute("aria-label", T[0]); b.lang = L; };
fab.label();
b.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 2a10 10 0 1 0 10 10 4 4 0 0 1-5-5 4 4 0 0 1-5-5zM8 11a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm3 5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm5-1a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z"/></svg>';
b.onclick = function () { Y.open(); };
d.body.appendChild(fab);
}

// The banner (first layer) is a small ES module (widget/js/banner.js, built by
// `cargo xtask dist` beside the widget, immutable and shared by every site), imported as
// soon as the loader knows the visitor must be asked, together with its texts
// (`notice?view=banner`: version, revision, title, summary, purposes; kept out of this
// loader, which a returning visitor downloads on every visit). It gets the rest from here.
function gpc() { return navigator.globalPrivacyControl === true; }
// Done reacting (a stored choice applied or the banner shown after load; a choice stored,
// applied and its receipt answered or queued): tests wait for this instead of sleeping.
function settled() { d.dispatchEvent(new CustomEvent("yinyom:settled", { detail: { site: C.site } })); }
function banner() {
if (state || bar || C.minors) return;
if (!d.body) return d.addEventListener("DOMContentLoaded", banner);
bar = Promise.all([import(base + C.banner), text(api + "/notice?view=banner").then(JSON.parse)]).then(function (r) {
var m = r[0], texts = r[1];
if (state) return null;
bar = m.banner({
C: Object.assign({}, C, texts), L: L, pos: pos, theme: theme, root: root, h: h, gpc: gpc, commit: commit, now: now, uuid: uuid, subject: subject,
lang: setLang, open: function (tab) { Y.open(tab); }, prefetch: function () { fetchUI().catch(function () {}); }
});
settled();
return bar;
}, function (e) { bar = null; console.error(e); });
}

// Activates blocked scripts and iframes of granted categories; denied iframes get a
// placeholder. Each blocked script is taken once (marked), queued in document order and
// run by one runner: an external one loads (or fails) before the next one runs, as the
// browser would have run them. It runs again when a choice grants more, on
// DOMContentLoaded and for blocked scripts or iframes added later (see watch()).
var scripts = [], waiting = false;
function activate() {
[].forEach.call(d.querySelectorAll('script[type="text/plain"][data-yinyom]'), function (s) {
if (!s.yinyom && granted(s.getAttribute("data-yinyom"))) { s.yinyom = 1; scripts.push(s); }
});
run();
[].forEach.call(d.querySelectorAll("iframe[data-yinyom][data-src]"), frame);
}
function run() {
while (!waiting && scripts.length) {
var old = scripts.shift(), s = d.createElement("script");
if (!old.parentNode) continue;
for (var i = 0; i < old.attributes.length; i++) { var a = old.attributes[i]; if (a.name != "type") s.setAttribute(a.name, a.value); }
if (old.nonce) s.nonce = old.nonce;
s.setAttribute("data-yinyom-active", "");
if (old.src) { waiting = true; s.onload = s.onerror = function () { waiting = false; run(); }; } else s.text = old.text;
old.parentNode.replaceChild(s, old);
}
}
// Once the document is parsed: everything in it, then whatever is added later.
function watch() {
activate();
button();
if (state) settled();
// (activate() is idempotent: taken scripts are marked, placeholders drawn once.)
new MutationObserver(activate).observe(d.documentElement, { childList: true, subtree: true });
}
function frame(f) {
var cat = f.getAttribute("data-yinyom"), ph = f.previousElementSibling;
if (!ph || ph.getAttribute("data-yinyom-placeholder") != cat) ph = null;
if (granted(cat) || f.hasAttribute("data-yinyom-once")) {
if (ph) ph.remove();
f.hidden = false;
if (!f.getAttribute("src")) f.src = f.getAttribute("data-src");
return;
}
if (f.getAttribute("src")) {
// Withdrawn: drop the embedded page (and whatever it runs) with its browsing context.
var c = f.cloneNode(false);
c.removeAttribute("src");
f.parentNode.replaceChild(c, f);
f = c;
}
f.hidden = true;
if (ph) return;
var p = shadow("div"), src = new URL(f.getAttribute("data-src"), location.href), w = f.getAttribute("width"), ht = f.getAttribute("height");
p.setAttribute("data-yinyom-placeholder", cat);
// The iframe's size, shrinking with the page: the width of its container, at most the
// iframe's (a fixed width would widen a grid or flex container past a phone's screen), its
// aspect ratio, taller when the text needs it (CSSOM, not a style attribute: no CSP
// 'unsafe-inline').
p.style.display = "block";
p.style.width = "100%";
if (/^\d+$/.test(w)) p.style.maxWidth = w + "px";
if (/^\d+$/.test(w) && /^\d+$/.test(ht) && +ht) p.style.aspectRatio = w + "/" + ht;
p.draw = function () {
var r = p.shadowRoot, el = r.querySelector(".p") || h(r, "div", { "class": "p", role: "group" });
el.textContent = "";
el.lang = L;
el.setAttribute("aria-label", f.title || T[0]);
h(el, "p", {}, T[1].replace("%s", src.hostname));
[[T[2], function () { f.setAttribute("data-yinyom-once", ""); frame(f); }], [T[3], function () { allow(cat); }]].forEach(function (a, i) {
h(el, "button", { type: "button", "data-action": i ? "allow" : "once" }, a[0]).onclick = a[1];
});
};
p.draw();
f.parentNode.insertBefore(p, f);
}
// Clears the first-party cookies of denied categories (path / on this host and parents).
function clearDenied() {
var host = location.hostname.split("."), domains = [""];
for (var i = 0; i < host.length - 1; i++) domains.push("; domain=." + host.slice(i).join("."));
C.cats.forEach(function (c) {
if (granted(c.id)) return;
c.cookies.forEach(function (name) {
d.cookie.split(/;\s*/).forEach(function (kv) {
var k = kv.split("=")[0];
if (k == name || (name.slice(-1) == "*" && k.indexOf(name.slice(0, -1)) == 0))
domains.forEach(function (dm) { d.cookie = k + "=; path=/; max-age=0" + dm; });
});
});
});
}
function apply(changed) {
state = readCookie();
if (!current(state)) state = null;
// Consent Mode update after every choice and on every page view with a stored choice.
if (state || changed) gtag("consent", "update", signals());
activate();
button();
if (changed) {
clearDenied();
var detail = Y.consent();
listeners.forEach(function (f) { try { f(detail); } catch (e) { setTimeout(function () { throw e; }); } });
d.dispatchEvent(new CustomEvent("yinyom:change", { detail: detail }));
}
}

// Receipt delivery: pending requests are kept in localStorage until the server
// acknowledges them; a retry sends the same request_id, so it is never counted twice.
function deliver() {
return Promise.all(list("pending").map(function (body) {
return fetch(api + "/receipts", { method: "POST", body: body, headers: { "content-type": "application/json" }, credentials: "omit", keepalive: true })
.then(function (r) {
if (r.status >= 500 || r.status == 429) throw r.status;
return r.status < 300 ? r.text() : null;
})
.then(function (text) {
var left = list("pending").filter(function (b) { return b != body; });
store("pending", left.length ? JSON.stringify(left) : null);
if (!text) return;
var res = JSON.parse(text), id = res.receipt.receipt_id, c = readCookie();
var history = list("receipts");
history.push(res);
store("receipts", JSON.stringify(history.slice(-50)));
if (c && c.receiptId == null && JSON.parse(body).request_id == res.receipt.request_id) {
var p = raw(NAME).split(".");
p[4] = id;
writeCookie(p.join("."));
state = readCookie();
}
})
.catch(function () { /* offline or server down: retried on the next page view */ });
}));
}
function commit(cookie, body) {
writeCookie(cookie);
if (bar && bar.remove) bar.remove();
bar = null;
var pending = list("pending");
pending.push(body);
store("pending", JSON.stringify(pending));
store("choice", body);
if (JSON.parse(body).method == "withdraw")
[].forEach.call(d.querySelectorAll("iframe[data-yinyom-once]"), function (f) { f.removeAttribute("data-yinyom-once"); });
apply(true);
deliver().then(settled);
}

function subject() {
var s = store("subject");
if (!s) { s = uuid(); store("subject", s); }
return s;
}
function text(url) {
return fetch(url, { credentials: "omit", cache: "no-cache" }).then(function (r) {
if (!r.ok) throw new Error("yinyom: " + url + " " + r.status);
return r.text();
});
}
// The widget's glue, wasm and notice, fetched once (on intent or when needed).
function fetchUI() {
// no-cache: revalidate (ETag), so a raised revision is never shown an old notice.
return ready || (ready = Promise.all([
import(base + C.js).then(function (m) { return m.default({ module_or_path: base + C.wasm }).then(function () { return m; }); }),
text(api + "/notice?view=widget").then(JSON.parse)
]).catch(function (e) { ready = null; throw e; }));
}
function loadUI(then) {
if (ui) return then(ui);
queue.push(then);
if (loading) return;
loading = true;
fetchUI().then(function (r) {
root();
ui = r[0].mount({
notice: r[1], lang: L, setLang: setLang, subject: subject(), api: api, noticeUrl: base + "/sites/" + C.site + "/notice",
build: C.build, theme: theme, position: pos, gpc: gpc(), banner: !!C.minors,
uuid: uuid, now: now, commit: commit, consent: function () { return Y.consent(); },
choice: function () { return store("choice"); }, receipts: function () { return list("receipts"); }, text: text
});
while (queue.length) queue.shift()(ui);
}, function (e) { var q = queue; loading = false; queue = []; console.error(e); failed(q); });
}
// A sign of life when the settings cannot load (the consent server is unreachable): a
// short message in the visitor's language with a retry that asks again what was asked.
// A choice already made stays applied and is delivered later (deliver()).
function failed(q) {
var r = root(), box = r.querySelector(".e"), en = L == "en";
if (box) box.remove();
// The placeholder's look (class p), fixed at the bottom (class e).
box = h(r, "div", { "class": "p e", role: "alert" });
h(box, "p", {}, T[0] + (en ? " could not load just now. Please try again." : " เปิดไม่ได้ในขณะนี้ ท่านลองใหม่ได้"));
[[en ? "Try again" : "ลองใหม่", "retry"], [en ? "Close" : "ปิด", "close"]].forEach(function (a, i) {
h(box, "button", { type: "button", "data-action": a[1] }, a[0]).onclick = function () { box.remove(); i || q.forEach(loadUI); };
});
box.querySelector("button").focus();
}
function allow(cat) { loadUI(function (u) { u.allow(cat); }); }

var Y = {
__loaded: true,
// open("notice") and open("mine") open those tabs; open() the choices.
open: function (tab) { loadUI(function (u) { u.open(tab); }); },
accepted: function (cat) { return granted(cat); },
consent: function () { return state && { revision: state.revision, categories: state.categories.slice(), receiptId: state.receiptId, at: state.at }; },
on: function (ev, f) { if (ev == "change") listeners.push(f); },
withdraw: function () { loadUI(function (u) { u.withdraw(); }); }
};
// Calls queued before the loader ran: window.yinyom = window.yinyom || []; yinyom.push(["on", "change", fn]).
var early = w.yinyom;
w.yinyom = Y;
if (early && early.length) early.forEach(function (call) { Y[call[0]] && Y[call[0]].apply(Y, call.slice(1)); });
// The name every site shared before (model/src/cookie.rs) is consent for no site: it is
// deleted. When a stored choice no longer holds (raised revision, expired, or only the
// old shared cookie), nothing optional is granted until the visitor chooses again, so
// the cookies of the optional categories are cleared at once.
var old = raw("yinyom") != null, stale = old || !!readCookie();
if (old) d.cookie = "yinyom=; path=/; max-age=0";
apply(false);
if (stale && !state) clearDenied();
deliver();
if (!state) C.minors ? loadUI(settled) : banner();
// An async loader can run before the end of <body> is parsed.
if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", watch); else watch();
d.addEventListener("click", function (e) {
var a = e.target.closest && e.target.closest("[data-yinyom-open]");
if (a) { e.preventDefault(); Y.open(); }
});
d.dispatchEvent(new CustomEvent("yinyom:ready", { detail: Y.consent() }));
})(__YINYOM_CONFIG__);
