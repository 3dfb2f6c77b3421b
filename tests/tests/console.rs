//! The DPO console in real Chromium, against the real server: a DPO signs in, searches
//! receipts with a filter, opens one (signature and log proof), verifies a pasted receipt
//! (valid, then tampered), publishes notice version 2 by uploading the example's `v2/`
//! folder (problems first, then the confirmation with its diff), reads the diff, downloads
//! a CSV export, reads the statistics and the audit log, and signs out — with real clicks
//! and typing. On every page axe-core (WCAG 2.1 A and AA rules, from npm) finds nothing,
//! and every focusable element shows a visible focus indicator when reached with Tab; the
//! skip link moves keyboard users past the header.

use serde_json::{Value, json};
use std::{
    path::Path,
    sync::atomic::{AtomicU32, Ordering},
};
use yinyom_e2e::{
    console::ConsoleUser,
    page::{Visitor, eval},
    server::TestServer,
    webdriver::{Browser, keys},
};
use yinyom_model::notice::PublishedNotice;

const SITE: &str = "osmep-sme-monitoring";
const DPO: &str = "dpo@sme.go.th";
const PASSWORD: &str = "a long test password, 2568!";

/// Runs axe on the whole page; panics with every violation found.
fn axe(b: &Browser, source: &str, what: &str) {
    let found = yinyom_e2e::axe::violations(b, source, "return document;");
    assert_eq!(found, json!([]), "axe-core violations on {what}");
}

/// What the focused element looks like: its outline and the contrast of the outline
/// against what is around it (the background just outside the element).
const FOCUSED: &str = r#"
const el = document.activeElement;
if (!el || el === document.body) return null;
const lum = c => { const m = (c.match(/[\d.]+/g) || ['0','0','0']).map(Number);
  const [r, g, b] = m.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const opaque = c => { const a = c.match(/[\d.]+/g); return a && (a.length < 4 || +a[3] > 0); };
const r = el.getBoundingClientRect();
const bgAt = (x, y) => { for (const e of document.elementsFromPoint(x, y)) {
    if (e === el || el.contains(e)) continue;
    for (let n = e; n; n = n.parentElement) { const c = getComputedStyle(n).backgroundColor; if (opaque(c)) return c; } }
  return 'rgb(255, 255, 255)'; };
const s = getComputedStyle(el);
const around = bgAt(Math.max(0, r.left - 4), r.top + r.height / 2);
const a = lum(s.outlineColor), b = lum(around);
return { what: el.tagName + ' ' + (el.getAttribute('href') || el.name || el.id || '') + ' ' + (el.textContent || '').trim().slice(0, 30),
  style: s.outlineStyle, width: parseFloat(s.outlineWidth),
  contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
  inView: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1 };
"#;

/// Presses Tab from the top of the page through every focusable element (until focus
/// leaves the page or comes back), checking that each shows a focus indicator of at least
/// 2 px with 3:1 contrast (WCAG 1.4.11, 2.4.7) inside the viewport. Returns how many.
fn tab_through(b: &Browser, what: &str) -> usize {
    eval(
        b,
        "window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); return 1;",
    );
    let mut seen = Vec::new();
    for _ in 0..200 {
        b.press(&[keys::TAB], false).expect("tab");
        let f = eval(b, FOCUSED);
        if f.is_null() {
            break;
        }
        let name = f["what"].as_str().unwrap_or_default().to_owned();
        if seen.first() == Some(&name) {
            break; // wrapped around
        }
        assert!(
            f["style"] != "none"
                && f["width"].as_f64().unwrap_or(0.0) >= 2.0
                && f["contrast"].as_f64().unwrap_or(0.0) >= 3.0
                && f["inView"] == true,
            "no visible focus on {what}: {f}"
        );
        seen.push(name);
    }
    assert!(!seen.is_empty(), "nothing focusable on {what}");
    seen.len()
}

fn uuid() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        secs as u32,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Posts a choice through the HTTP API, from the example page's origin; `{receipt, jws}`.
fn post_receipt(
    server: &TestServer,
    notice: &PublishedNotice,
    subject: &str,
    method: &str,
) -> Value {
    let n = &notice.notice;
    let pick = |i: usize| match method {
        "accept_all" => true,
        "reject_all" => false,
        _ => i == 0,
    };
    let categories: serde_json::Map<String, Value> = n
        .optional_categories()
        .enumerate()
        .map(|(i, c)| (c.id.to_string(), json!(pick(i))))
        .collect();
    let purposes: serde_json::Map<String, Value> = n
        .consent_purposes()
        .enumerate()
        .map(|(i, p)| (p.id.to_string(), json!(pick(i))))
        .collect();
    let body = json!({
        "request_id": uuid(),
        "subject_id": subject,
        "notice_version": n.version,
        "consent_revision": n.consent_revision,
        "method": method,
        "lang": "th",
        "categories": categories,
        "purposes": purposes,
        "page_path": format!("/{SITE}/"),
        "widget": "0000000000000000",
    });
    ureq::post(&format!("{}/v1/sites/{SITE}/receipts", server.api))
        .set("Origin", &server.pages)
        .send_json(body)
        .expect("receipt accepted")
        .into_json()
        .expect("receipt JSON")
}

/// Everything a DPO does in the console, by clicking and typing, with axe on every page
/// and a visible focus on every focusable element.
#[test]
fn a_dpo_works_through_the_console() {
    let axe_js = yinyom_e2e::axe::source();
    let server = TestServer::start(&[SITE]).expect("server");
    server
        .add_user(DPO, PASSWORD, "dpo", &[SITE])
        .expect("dpo account");
    let b = Browser::start().expect("browser");
    let dpo = ConsoleUser::new(&b, &server);
    let downloads = tempfile::tempdir().expect("download dir");

    // Receipts: one through the real widget, four through the HTTP API.
    let visitor = Visitor::new(&b, &server, SITE);
    visitor.visit();
    visitor.banner().accept_all();
    let notice = server
        .rt
        .block_on(server.store.current_notice(SITE))
        .expect("db")
        .expect("notice");
    let rejected = post_receipt(&server, &notice, "e2e-console-subject-0001", "reject_all");
    post_receipt(&server, &notice, "e2e-console-subject-0002", "reject_all");
    post_receipt(
        &server,
        &notice,
        "e2e-console-subject-0003",
        "save_preferences",
    );
    post_receipt(&server, &notice, "e2e-console-subject-0004", "accept_all");
    let stored = server.wait_for(20, || async {
        (server.store.count_receipts(SITE).await.ok()? == 5).then_some(())
    });
    assert!(stored.is_some(), "5 receipts stored");
    let rejected_id = rejected["receipt"]["receipt_id"]
        .as_str()
        .expect("receipt id")
        .to_owned();
    let in_log = server.wait_for(20, || async {
        server.store.leaf_seq(SITE, &rejected_id).await.ok()?
    });
    assert!(in_log.is_some(), "the receipt reached the log");

    // Sign in: the console sends an unknown visitor to the sign-in page.
    dpo.open("/admin");
    dpo.page("เข้าสู่ระบบ");
    assert!(dpo.url().ends_with("/admin/login"));
    axe(&b, &axe_js, "the sign-in page");
    tab_through(&b, "the sign-in page");
    let home = dpo.sign_in(DPO, PASSWORD);
    assert!(home.contains(DPO) && home.contains("เจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล"));
    axe(&b, &axe_js, "the home page");
    let n = tab_through(&b, "the home page");
    assert!(n >= 8, "header and site links reachable by Tab ({n})");

    // The skip link: the first Tab shows it; Enter moves past the header, so the next Tab
    // lands in the main content.
    eval(
        &b,
        "window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); return 1;",
    );
    b.press(&[keys::TAB], false).expect("tab");
    let skip = eval(&b, FOCUSED);
    assert!(
        skip["what"]
            .as_str()
            .is_some_and(|w| w.contains("#main") && w.contains("ข้ามไปยังเนื้อหา")),
        "the first Tab reaches the skip link: {skip}"
    );
    assert_eq!(skip["inView"], true, "the skip link shows when focused");
    b.press(&[keys::ENTER], false)
        .expect("follow the skip link");
    b.press(&[keys::TAB], false).expect("tab");
    let next = eval(
        &b,
        "return !!document.activeElement.closest('main') && !document.activeElement.closest('header');",
    );
    assert_eq!(
        next,
        json!(true),
        "after the skip link, Tab goes into the content"
    );

    // English too.
    dpo.click("header a[hreflang=en]");
    dpo.page("Console");
    axe(&b, &axe_js, "the home page in English");
    dpo.click("header a[hreflang=th]");
    dpo.page("คอนโซลเจ้าหน้าที่");

    // Receipts: all five, then filtered to Reject all.
    dpo.click(&format!("a[href='/admin/sites/{SITE}/receipts']"));
    let all = dpo.page("ใบรับความยินยอม");
    assert!(all.contains("พบ 5 รายการ"), "{all}");
    axe(&b, &axe_js, "the receipts search with results");
    tab_through(&b, "the receipts search");
    dpo.click("#method option[value=reject_all]");
    dpo.click("form.filters button[type=submit]");
    b.wait_for(20, "return location.search.includes('method=reject_all') && document.readyState === 'complete';")
        .expect("filtered");
    let filtered = dpo.text();
    assert!(filtered.contains("พบ 2 รายการ"), "{filtered}");
    let methods = eval(
        &b,
        "return [...document.querySelectorAll('tbody tr td:nth-child(4)')].map(td => td.textContent);",
    );
    assert_eq!(methods, json!(["reject_all", "reject_all"]));
    // Times in พ.ศ. and Thailand time: "3 ธันวาคม 2569 เวลา 18:35 น.".
    let times = eval(
        &b,
        "return [...document.querySelectorAll('tbody tr td:nth-child(1)')].map(td => td.textContent);",
    );
    let buddhist_era = |t: &str| {
        t.ends_with(" น.")
            && t.split(" เวลา ")
                .next()
                .and_then(|d| d.rsplit(' ').next())
                .and_then(|y| y.parse::<u32>().ok())
                .is_some_and(|y| y > 2500)
    };
    assert!(
        times
            .as_array()
            .is_some_and(|t| t.iter().all(|t| t.as_str().is_some_and(buddhist_era))),
        "{times}"
    );
    // Exports apply exactly the filters shown, and the page says so.
    let export_link = eval(
        &b,
        "return [...document.querySelectorAll('main a')].find(a => a.textContent === 'csv').getAttribute('href');",
    );
    assert!(
        export_link
            .as_str()
            .is_some_and(|h| h.contains("format=csv") && h.contains("method=reject_all")),
        "{export_link}"
    );
    assert!(filtered.contains("ตามตัวกรองที่แสดง"));
    axe(&b, &axe_js, "the filtered receipts search");

    // Open one: every field, signature and log proof.
    dpo.click(&format!("a[href$='/receipts/{rejected_id}']"));
    let detail = dpo.page(&rejected_id);
    assert!(
        detail.contains(&server.pseudonym("e2e-console-subject-0001"))
            && detail.contains("reject_all")
    );
    let checks = eval(
        &b,
        "return [...document.querySelectorAll('dl.kv dd .ok')].map(s => s.textContent);",
    );
    assert_eq!(
        checks.as_array().map(Vec::len),
        Some(2),
        "signature and log both valid: {checks}"
    );
    axe(&b, &axe_js, "the receipt detail");
    tab_through(&b, "the receipt detail");

    // Verify a pasted receipt: valid, then tampered.
    dpo.click("header a[href='/admin/verify']");
    dpo.page("ตรวจสอบใบรับ");
    axe(&b, &axe_js, "the empty verify page");
    tab_through(&b, "the verify page");
    let area = b.find("#text").expect("textarea");
    b.send_keys(&area, &rejected.to_string()).expect("paste");
    dpo.click("main form button[type=submit]");
    b.wait_for(20, "return document.querySelector('main ul li');")
        .expect("result");
    let valid = dpo.text();
    assert!(
        valid.contains(&format!("{rejected_id}: ✓ ถูกต้อง")),
        "{valid}"
    );
    axe(&b, &axe_js, "the verify page with a valid result");
    let categories = rejected["receipt"]["categories"]
        .as_object()
        .expect("categories");
    let (first, _) = categories.iter().next().expect("a category");
    let tampered = rejected.to_string().replacen(
        &format!("\"{first}\":false"),
        &format!("\"{first}\":true"),
        1,
    );
    assert_ne!(tampered, rejected.to_string());
    let area = b.find("#text").expect("textarea");
    b.clear(&area).expect("clear");
    b.send_keys(&area, &tampered).expect("paste tampered");
    dpo.click("main form button[type=submit]");
    b.wait_for(
        20,
        "return document.querySelector('main ul li .bad') && document.querySelector('main ul li').textContent;",
    )
    .expect("result");
    let invalid = dpo.text();
    assert!(
        invalid.contains("✗ ไม่ถูกต้อง") && invalid.contains("altered"),
        "{invalid}"
    );
    axe(&b, &axe_js, "the verify page with an invalid result");

    // Publish version 2 by uploading the example's v2/ folder: a wrong folder first.
    dpo.click("header a[href='/admin']");
    dpo.page("คอนโซลเจ้าหน้าที่");
    dpo.click(&format!("a[href='/admin/sites/{SITE}/notices']"));
    dpo.page("ประกาศทุกฉบับ");
    axe(&b, &axe_js, "the notice versions");
    dpo.click(&format!("a[href='/admin/sites/{SITE}/notices/publish']"));
    dpo.page("เผยแพร่ประกาศฉบับใหม่");
    axe(&b, &axe_js, "the upload form");
    tab_through(&b, "the upload form");
    let examples = yinyom_e2e::root().join("examples");
    let v2 = examples.join(SITE).join("v2");
    let other = examples.join("moi-i-industry");
    let choose = |b: &Browser, field: &str, file: &Path| {
        let input = b.find(&format!("#{field}")).expect("file input");
        b.send_keys(&input, &file.display().to_string())
            .expect("choose file");
    };
    choose(&b, "site_toml", &other.join("site.toml"));
    choose(&b, "notice_th", &other.join("notice.th.md"));
    choose(&b, "notice_en", &other.join("notice.en.md"));
    dpo.click("form.upload button[type=submit]");
    b.wait_for(
        20,
        "return document.querySelector('[role=alert] ul.problems li');",
    )
    .expect("problems listed");
    let problems = dpo.text();
    assert!(
        problems.contains(&format!("but this page is for site {SITE}")),
        "{problems}"
    );
    axe(&b, &axe_js, "the upload with problems");
    let versions_now = server
        .rt
        .block_on(server.store.notice_versions(SITE))
        .expect("db");
    assert_eq!(versions_now.len(), 1, "nothing published");

    choose(&b, "site_toml", &v2.join("site.toml"));
    choose(&b, "notice_th", &v2.join("notice.th.md"));
    choose(&b, "notice_en", &v2.join("notice.en.md"));
    dpo.click("form.upload button[type=submit]");
    let confirm = dpo.page("ยืนยันการเผยแพร่ฉบับ 2025-07");
    for expected in [
        "2025-01 → 2025-07",
        "1 → 2",
        "ผู้เข้าชมทุกคนจะเห็นแบนเนอร์และถูกขอความยินยอมใหม่",
        "cookie _yy_path (analytics)",
    ] {
        assert!(confirm.contains(expected), "no `{expected}` in:\n{confirm}");
    }
    axe(&b, &axe_js, "the publish confirmation");
    tab_through(&b, "the publish confirmation");
    dpo.click("form.actions button[type=submit]");
    let published = dpo.page("ประกาศทุกฉบับ");
    assert!(published.contains("เผยแพร่ฉบับ 2025-07 แล้ว"), "{published}");
    axe(&b, &axe_js, "the notice versions after publishing");

    // The diff between the two versions.
    dpo.click("a[href*='/notices/diff?from=2025-01&to=2025-07']");
    let diff = dpo.page("เทียบประกาศ");
    assert!(diff.contains("cookie _yy_path (analytics)") && diff.contains("consent_revision"));
    let added = eval(
        &b,
        "return document.querySelectorAll('pre.diff span.add').length;",
    );
    assert!(
        added.as_u64().unwrap_or(0) > 0,
        "added text lines are marked"
    );
    axe(&b, &axe_js, "the notice diff");
    tab_through(&b, "the notice diff");

    // A CSV export: the link's response in the browser, then a real download.
    dpo.click("header a[href='/admin']");
    dpo.page("คอนโซลเจ้าหน้าที่");
    dpo.click(&format!("a[href='/admin/sites/{SITE}/receipts']"));
    dpo.page("ใบรับความยินยอม");
    let fetched = b
        .eval_async(
            "const done = arguments[arguments.length - 1]; \
             const a = [...document.querySelectorAll('main a')].find(a => a.textContent === 'csv'); \
             fetch(a.href + '&purpose=e2e&reference=E2E-0001').then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), t])), e => done(String(e)));",
            json!([]),
        )
        .expect("fetch the csv");
    assert_eq!(fetched[0], 200, "{fetched}");
    assert!(
        fetched[1]
            .as_str()
            .is_some_and(|t| t.starts_with("text/csv"))
    );
    assert!(
        fetched[2]
            .as_str()
            .is_some_and(|d| d.contains(&format!("{SITE}-receipts.csv"))),
        "{fetched}"
    );
    let csv = fetched[3].as_str().expect("csv text");
    assert_eq!(csv.lines().count(), 6, "a header and 5 receipts:\n{csv}");
    assert!(csv.contains(&rejected_id));
    b.cdp(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": downloads.path().display().to_string()}),
    )
    .expect("allow downloads");
    // The link asks for the purpose and the memo or letter number first (the release log).
    dpo.follow("csv");
    let field = b.find("#purpose").expect("the purpose field");
    b.send_keys(&field, "ตอบคำขอของเจ้าของข้อมูล")
        .expect("type the purpose");
    let field = b.find("#reference").expect("the reference field");
    b.send_keys(&field, "E2E-0002").expect("type the reference");
    dpo.click("main form button[type='submit']");
    let downloaded = yinyom_e2e::downloaded(downloads.path(), &format!("{SITE}-receipts.csv"));
    // The file starts with UTF-8's byte order mark (fetch's text() drops it).
    assert_eq!(
        downloaded.strip_prefix('\u{feff}'),
        Some(csv),
        "the downloaded file is the export, with a BOM"
    );

    // Statistics and the audit log.
    dpo.click("header a[href='/admin']");
    dpo.page("คอนโซลเจ้าหน้าที่");
    dpo.click(&format!("a[href='/admin/sites/{SITE}/stats']"));
    let stats = dpo.page("สถิติการให้ความยินยอม");
    assert!(stats.contains("รวม 5"), "{stats}");
    axe(&b, &axe_js, "the statistics");
    tab_through(&b, "the statistics");
    dpo.click("header a[href='/admin/audit']");
    let audit = dpo.page("บันทึกการใช้งาน");
    for action in [
        "receipts.search",
        "receipt.view",
        "receipts.export",
        "notice.publish",
    ] {
        assert!(audit.contains(action), "no {action} in the audit log");
    }
    axe(&b, &axe_js, "the audit log");
    tab_through(&b, "the audit log");

    // A page of a site this DPO may not see: the error page is accessible too.
    dpo.open("/admin/sites/no-such-site/receipts");
    dpo.page("ไม่พบหน้านี้");
    axe(&b, &axe_js, "the not-found page");
    dpo.follow("กลับหน้าหลัก");
    dpo.page("คอนโซลเจ้าหน้าที่");

    // Sign out: the console is closed again.
    dpo.click("header form[action='/admin/logout'] button");
    dpo.page("เข้าสู่ระบบ");
    dpo.open(&format!("/admin/sites/{SITE}/receipts"));
    dpo.page("เข้าสู่ระบบ");
    assert!(dpo.url().ends_with("/admin/login"));
}
