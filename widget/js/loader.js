// Yinyom loader: served per site as /v1/sites/{site}/yinyom.js with the site's
// configuration in place of __YINYOM_CONFIG__ (see server/src/routes/loader.rs).
//
// It runs on every page view, so it stays small and does only this:
// 1. sets Google Consent Mode v2 defaults (denied, wait_for_update) before any tag runs;
// 2. reads the consent cookie (format: model/src/cookie.rs); if the choice is current,
//    activates the granted blocked scripts and iframes, and stops: no wasm is fetched;
// 3. otherwise imports the Yew widget and mounts it with a host object (see
//    widget/src/host.rs) whose commit() stores the cookie, applies the choice and
//    delivers the receipt, retrying on later page views until the server has it.
// The server strips whole-line comments and indentation when serving this file.
(function (C) {
"use strict";
var d = document, w = window, me = d.currentScript;
if (w.yinyom && w.yinyom.__loaded) return;
var base = new URL(me.src).origin;
var api = base + "/v1/sites/" + C.site;
var NAME = "yinyom", KEY = "yinyom." + C.site + ".";
var listeners = [], queue = [], ui = null, loading = false, state = null;

function store(k, v) {
try { if (v === undefined) return localStorage.getItem(KEY + k); if (v === null) localStorage.removeItem(KEY + k); else localStorage.setItem(KEY + k, v); } catch (e) { return null; }
}
function now() { return Math.floor(Date.now() / 1000); }
function uuid() {
if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
var b = crypto.getRandomValues(new Uint8Array(16)), h = "";
b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + (i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
return h;
}
// Reads the consent cookie; null if absent or not version 1.
function readCookie() {
var m = d.cookie.match(/(?:^|;\s*)yinyom=([^;]*)/), p = m && m[1].split(".");
if (!p || p.length != 5 || p[0] != "1" || !/^\d+$/.test(p[1]) || !/^\d+$/.test(p[2])) return null;
return { revision: +p[1], at: +p[2], categories: p[3] == "-" ? [] : p[3].split("+"), receiptId: p[4] == "-" ? null : p[4] };
}
function writeCookie(v) {
d.cookie = NAME + "=" + v + "; path=/; max-age=" + C.days * 86400 + "; SameSite=Lax" + (location.protocol == "https:" ? "; Secure" : "");
}
function current(c) { return !!c && c.revision >= C.rev && now() < c.at + C.days * 86400; }
function granted(cat) {
for (var i = 0; i < C.cats.length; i++) if (C.cats[i].id == cat && C.cats[i].req) return true;
return !!state && state.categories.indexOf(cat) >= 0;
}

// Google Consent Mode v2.
w.dataLayer = w.dataLayer || [];
function gtag() { w.dataLayer.push(arguments); }
function signals(all) {
var s = {};
C.cats.forEach(function (c) { c.gcm.forEach(function (g) { if (!s[g] || s[g] == "denied") s[g] = all || c.req || granted(c.id) ? "granted" : "denied"; }); });
return s;
}
var defaults = signals(false);
defaults.wait_for_update = 500;
gtag("consent", "default", defaults);

// Activates blocked scripts (in document order, each external one loaded before the
// next runs) and iframes of granted categories.
function activate() {
var list = [].slice.call(d.querySelectorAll('script[type="text/plain"][data-yinyom]'));
(function next() {
var old = list.shift();
if (!old) return;
if (!granted(old.getAttribute("data-yinyom"))) return next();
var s = d.createElement("script");
for (var i = 0; i < old.attributes.length; i++) { var a = old.attributes[i]; if (a.name != "type") s.setAttribute(a.name, a.value); }
if (old.nonce) s.nonce = old.nonce;
s.setAttribute("data-yinyom-active", "");
if (old.src) { s.async = false; s.onload = s.onerror = next; } else s.text = old.text;
old.parentNode.replaceChild(s, old);
if (!old.src) next();
})();
[].forEach.call(d.querySelectorAll("iframe[data-yinyom][data-src]"), function (f) {
if (granted(f.getAttribute("data-yinyom")) && !f.src) f.src = f.getAttribute("data-src");
});
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
gtag("consent", "update", signals(false));
activate();
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
var pending = JSON.parse(store("pending") || "[]");
pending.forEach(function (body) {
fetch(api + "/receipts", { method: "POST", body: body, headers: { "content-type": "application/json" }, credentials: "omit", keepalive: true })
.then(function (r) {
if (r.status >= 500 || r.status == 429) throw r.status;
return r.status < 300 ? r.text() : null;
})
.then(function (text) {
var left = JSON.parse(store("pending") || "[]").filter(function (b) { return b != body; });
store("pending", left.length ? JSON.stringify(left) : null);
if (!text) return;
var res = JSON.parse(text), id = res.receipt.receipt_id, c = readCookie();
var history = JSON.parse(store("receipts") || "[]");
history.push(res);
store("receipts", JSON.stringify(history.slice(-50)));
if (c && c.receiptId == null && JSON.parse(body).request_id == res.receipt.request_id) {
var p = d.cookie.match(/(?:^|;\s*)yinyom=([^;]*)/)[1].split(".");
p[4] = id;
writeCookie(p.join("."));
}
})
.catch(function () { /* offline or server down: retried on the next page view */ });
});
}
function commit(cookie, body) {
writeCookie(cookie);
var pending = JSON.parse(store("pending") || "[]");
pending.push(body);
store("pending", JSON.stringify(pending));
apply(true);
deliver();
}

function subject() {
var s = store("subject");
if (!s) { s = uuid(); store("subject", s); }
return s;
}
function lang() {
var want = (me.getAttribute("data-lang") || "auto").toLowerCase();
var tags = want != "auto" ? [want] : [d.documentElement.lang].concat(navigator.languages || [navigator.language]);
for (var i = 0; i < tags.length; i++) {
var t = (tags[i] || "").slice(0, 2).toLowerCase();
if (C.langs.indexOf(t) >= 0) return t;
}
return C.langs[0];
}
function loadUI(then) {
if (ui) return then(ui);
queue.push(then);
if (loading) return;
loading = true;
var notice = fetch(api + "/notice", { credentials: "omit" }).then(function (r) {
if (!r.ok) throw new Error("yinyom: notice " + r.status);
return r.json();
});
var mod = import(base + C.js).then(function (m) { return m.default({ module_or_path: base + C.wasm }).then(function () { return m; }); });
Promise.all([mod, notice]).then(function (r) {
ui = r[0].mount({ notice: r[1], lang: lang(), subject: subject(), noticeUrl: base + "/sites/" + C.site + "/notice", build: C.build, uuid: uuid, now: now, commit: commit });
while (queue.length) queue.shift()(ui);
}, function (e) { loading = false; console.error(e); });
}

var Y = {
__loaded: true,
open: function () { loadUI(function (u) { u.open(); }); },
accepted: function (cat) { return granted(cat); },
consent: function () { return state && { revision: state.revision, categories: state.categories.slice(), receiptId: state.receiptId, at: state.at }; },
on: function (ev, f) { if (ev == "change") listeners.push(f); },
withdraw: function () { loadUI(function (u) { u.withdraw(); }); }
};
var early = w.yinyom;
w.yinyom = Y;
apply(false);
deliver();
if (!state) loadUI(function () {});
[].forEach.call(d.querySelectorAll("[data-yinyom-open]"), function (a) {
a.addEventListener("click", function (e) { e.preventDefault(); Y.open(); });
});
if (early && early.length) early.forEach(function (call) { Y[call[0]] && Y[call[0]].apply(Y, call.slice(1)); });
d.dispatchEvent(new CustomEvent("yinyom:ready", { detail: Y.consent() }));
})(__YINYOM_CONFIG__);
