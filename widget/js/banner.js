// Yinyom banner: the first layer, in plain JavaScript. The loader (widget/js/loader.js,
// `banner`) imports this ES module when the visitor has no current choice, so a first
// visit shows the banner without the wasm widget; the widget is fetched only when the
// settings, the full notice or "my consent" are opened (or on intent: the pointer over,
// or the focus on, "ตั้งค่า" or the notice link).
//
// `cargo xtask dist` puts the stylesheet (banner.css, shared with the widget, which adds
// its own rules after it) in place of __YINYOM_CSS__, minifies this file with terser and
// writes it beside the widget as dist/assets/<build>/yinyom_banner.js: it is the same for
// every site (the notice's texts come with the loader's config) and cached for good.
//
// It draws what the widget's banner draws (widget/src/app.rs, banner_view): a non-modal
// dialog labelled by the notice's title and described by its summary, a language switch,
// the Global Privacy Control note, a link to the full notice and Reject all / Choose /
// Accept all, three buttons that look the same; it takes the focus. Reject all and Accept
// all make the cookie and the receipt request the widget makes for those methods
// (widget/src/host.rs, Context::all and Context::decide), through the loader's commit().

// The banner's words, as in widget/src/i18n.rs (the widget's tests check they match): the
// other language's name, the GPC note (%s: the categories it keeps off, C.gpc), read the
// notice, reject all, choose, accept all, "and".
const W = {
  th: ["English", "เบราว์เซอร์ของท่านส่งสัญญาณ Global Privacy Control (สัญญาณที่ขอไม่ให้ขายหรือแบ่งปันข้อมูลของท่าน) เราจึงปิด %s ไว้ให้ แม้ท่านกดยอมรับทั้งหมด ท่านเปิดเองได้ที่ \"ตั้งค่า\"", "อ่านประกาศความเป็นส่วนตัวฉบับเต็ม", "ปฏิเสธทั้งหมด", "ตั้งค่า", "ยอมรับทั้งหมด", "และ"],
  en: ["ไทย", "Your browser sends Global Privacy Control (a request not to sell or share your data), so %s stay off even if you accept all. You can turn them on yourself under \"Choose\".", "Read the full privacy notice", "Reject all", "Choose", "Accept all", "and"]
};
// What the status region says after Reject all / Accept all (the banner is gone by then).
const SAID = {
  th: ["บันทึกการเลือกของท่านแล้ว: ปฏิเสธทั้งหมด", "บันทึกการเลือกของท่านแล้ว: ยอมรับทั้งหมด"],
  en: ["Your choice is saved: reject all.", "Your choice is saved: accept all."]
};
// "a", "a and b", "a, b and c" (Thai: "a b และ c"), as widget/src/i18n.rs `list`.
const list = (t, and) => t.length < 2 ? t.join("") : t.slice(0, -1).join(and == "and" ? ", " : " ") + " " + and + " " + t[t.length - 1];
const CSS = __YINYOM_CSS__;

// Marketing and data-sharing categories: GPC keeps them off (model/src/notice.rs, is_sharing).
const sharing = (c) => c.id == "marketing" || c.gcm.some((g) => g.slice(0, 3) == "ad_");

// Shows the banner; returns its element (the loader removes it once a choice is made).
// `y` is what the loader lends: its config C, the language L, position and theme, its
// shadow root and element builder, commit(), the lang(l) setter, open(tab), prefetch().
export function banner(y) {
  const C = y.C, h = y.h, r = y.root(), p = [];
  let L = y.L;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    r.adoptedStyleSheets = [...r.adoptedStyleSheets, sheet];
  } catch (e) {
    h(r, "style", {}, CSS);
  }
  const top = y.pos.indexOf("top") >= 0, side = y.pos.indexOf("left") >= 0 ? " left" : y.pos.indexOf("right") >= 0 ? " right" : "";
  // A polite status region beside the banner (it stays when the banner goes): it
  // announces the choice; the loader then moves the focus (loader.js, commit).
  const live = r.querySelector(".sr") || h(r, "div", { class: "sr", role: "status" });
  const bar = h(r, "div", { class: "root " + (y.theme == "dark" || y.theme == "light" ? y.theme : "auto") });
  const s = h(bar, "section", {
    class: "banner " + (top ? "top" : "bottom") + side, role: "dialog", "aria-modal": "false",
    "aria-labelledby": "yy-title", "aria-describedby": "yy-summary", tabindex: "-1"
  });
  const head = h(s, "div", { class: "head" });
  // p: the elements whose text is in the language shown, in the order of text() below.
  p.push(h(head, "h2", { id: "yy-title" }), h(s, "p", { id: "yy-summary" }));
  p.push(C.langs.indexOf(L == "th" ? "en" : "th") >= 0 && h(head, "button", { type: "button", class: "lang", "data-action": "lang" }));
  p.push(y.gpc() && C.gpc && h(s, "p", { class: "note", "data-gpc": "" }));
  p.push(h(h(s, "p"), "button", { type: "button", class: "link", "data-action": "notice" }));
  const acts = h(s, "div", { class: "actions" });
  for (const a of ["reject-all", "choose", "accept-all"]) p.push(h(acts, "button", { type: "button", class: "choice", "data-action": a }));
  const text = () => {
    const t = [C.title[L], C.summary[L], ...W[L]];
    if (C.gpc) t[3] = t[3].replace("%s", list(C.gpc.map((x) => "\u201c" + (x[L] || x.th) + "\u201d"), t[8]));
    bar.lang = L;
    if (p[2]) p[2].lang = L == "th" ? "en" : "th";
    p.forEach((e, i) => { if (e) e.textContent = t[i]; });
  };
  text();
  // The visitor switched language in the widget's settings: the banner follows.
  bar.setLang = (l) => { L = l; text(); };
  s.onclick = (e) => {
    const a = e.target.closest("[data-action]")?.getAttribute("data-action");
    if (a == "lang") {
      L = L == "th" ? "en" : "th";
      y.lang(L);
      text();
    } else if (a == "choose" || a == "notice") y.open(a);
    else if (a) {
      decide(y, L, a == "accept-all");
      live.lang = L;
      live.textContent = SAID[L][+(a == "accept-all")];
      // The banner is gone: the focus goes back where it was before the banner, else to
      // the floating button (the loader has just drawn it), never to <body>.
      const fab = document.getElementById("yinyom-button");
      (back && back.isConnected ? back : fab && fab.shadowRoot.querySelector("button"))?.focus();
    }
  };
  // Intent: start fetching the widget before the click.
  for (const n of ["pointerover", "focusin"])
    s.addEventListener(n, (e) => { if (e.target.closest("[data-action=choose],[data-action=notice]")) y.prefetch(); });
  const back = active();
  s.focus();
  return bar;
}

// The focused element, looking into shadow roots; null for <body>.
function active() {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a == document.body ? null : a;
}

// Reject all / Accept all: with GPC, accept all keeps the sharing categories off.
function decide(y, L, all) {
  const C = y.C, gpc = y.gpc(), categories = {}, purposes = {}, on = [];
  for (const c of C.cats) {
    if (c.req) continue;
    categories[c.id] = all && !(gpc && sharing(c));
    if (categories[c.id]) on.push(c.id);
  }
  for (const id of C.purposes) purposes[id] = all;
  y.commit("1." + C.rev + "." + y.now() + "." + (on.join("+") || "-") + ".-", JSON.stringify({
    request_id: y.uuid(), subject_id: y.subject(), notice_version: C.version, consent_revision: C.rev,
    method: all ? "accept_all" : "reject_all", lang: L, categories, purposes, gpc,
    page_path: location.pathname.replace(/^\/+/, "/").slice(0, 512), widget: C.build
  }));
}
