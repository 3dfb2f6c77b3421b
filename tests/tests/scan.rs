//! `yinyom scan` against the real server, the real widget and Debian's Chromium:
//! the scanner's test page (`examples/scan-test/violations.html`: an undeclared cookie and a
//! third-party script before consent) is reported with both violations and exit code 1;
//! the clean agency example reports none; the JSON lists each cookie per phase; bad input
//! gets a clear error and no report.

use serde_json::Value;
use yinyom_e2e::server::TestServer;
use yinyom_model::scan::{Finding, PhaseKind, ScanReport, SetBy};
use yinyom_scan::{ScanArgs, ScanError};

const SITE: &str = "osmep-sme-monitoring";

fn args(urls: &[String], site: &str) -> ScanArgs {
    ScanArgs {
        urls: urls.to_vec(),
        site: site.to_owned(),
        crawl: 0,
        lang: "en".to_owned(),
        json: true,
        site_dir: None,
        server: None,
        allow_hosts: Vec::new(),
        output: None,
        chromium: None,
    }
}

fn scan(server: &TestServer, args: &ScanArgs) -> Result<ScanReport, ScanError> {
    server
        .rt
        .block_on(yinyom_scan::scan(args, &|s| eprintln!("{s:?}")))
}

/// The names of the cookies the JSON lists in `phase`.
fn cookies_in(json: &Value, phase: &str) -> Vec<String> {
    json["phases"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["kind"] == phase))
        .and_then(|p| p["cookies"].as_array())
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_test_page_is_reported_with_both_violations_and_exit_code_1() {
    let server = TestServer::start(&[SITE]).expect("server");
    let page = format!("{}/scan-test/violations.html", server.pages);
    let report = scan(&server, &args(std::slice::from_ref(&page), SITE)).expect("scan");
    let port = server.pages.rsplit(':').next().expect("port");
    let tracker_host = format!("localhost:{port}");

    for phase in [PhaseKind::BeforeChoice, PhaseKind::AfterRejectAll] {
        assert!(
            report.findings.iter().any(|f| matches!(f,
                Finding::CookieBeforeConsent { phase: p, name, category: None, .. }
                    if *p == phase && name == "scan_test_visitor")),
            "undeclared cookie not reported in {phase:?}: {:#?}",
            report.findings
        );
        assert!(
            report.findings.iter().any(|f| matches!(f,
                Finding::ThirdPartyBeforeConsent { phase: p, host, first_url }
                    if *p == phase && *host == tracker_host && first_url.ends_with("/scan-test/tracker.js"))),
            "third party not reported in {phase:?}: {:#?}",
            report.findings
        );
    }
    // After Accept all nothing is a violation, but the cookie is still undeclared.
    assert!(!report.findings.iter().any(|f| f.is_violation()
        && matches!(
            f,
            Finding::CookieBeforeConsent {
                phase: PhaseKind::AfterAcceptAll,
                ..
            }
        )));
    assert!(report.findings.iter().any(|f| matches!(f,
        Finding::Undeclared { name, phases, .. }
            if name == "scan_test_visitor" && phases.len() == 3)));
    // A necessary cookie that outlives its table's "until you close the browser".
    assert!(
        report.findings.iter().any(|f| matches!(f,
            Finding::LongerThanDeclared { name, declared_secs: 0, seen_secs, .. }
                if name == "datasme_session" && *seen_secs > 29 * 86_400)),
        "{:#?}",
        report.findings
    );
    assert_eq!(yinyom_scan::exit_code(&report), 1);

    // Who set it: the page's inline script.
    let before = report.phase(PhaseKind::BeforeChoice).expect("before");
    let visitor = before
        .cookies
        .iter()
        .find(|c| c.name == "scan_test_visitor")
        .expect("cookie in the before phase");
    assert_eq!(visitor.set_by, SetBy::Script { url: Some(page) });
    assert!(visitor.lifetime_secs.is_some_and(|s| s > 364 * 86_400));

    // The draft table offers the undeclared cookie for site.toml.
    let draft = yinyom_scan::render::draft_table(&report);
    assert!(draft.contains("name = \"scan_test_visitor\""), "{draft}");
    let text = yinyom_scan::render::report(&report, yinyom_model::Lang::Th);
    assert!(text.contains("ละเมิด"), "{text}");
}

#[test]
fn the_clean_example_reports_no_violation_and_lists_each_cookie_per_phase() {
    let server = TestServer::start(&[SITE]).expect("server");
    let page = format!("{}/{SITE}/", server.pages);
    let report = scan(&server, &args(std::slice::from_ref(&page), SITE)).expect("scan");
    let violations: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.is_violation())
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(yinyom_scan::exit_code(&report), 0);

    let json = serde_json::to_value(&report).expect("json");
    let consent = format!("yinyom_{SITE}");
    assert_eq!(cookies_in(&json, "before_choice"), Vec::<String>::new());
    assert_eq!(cookies_in(&json, "after_reject_all"), vec![consent.clone()]);
    assert_eq!(
        cookies_in(&json, "after_accept_all"),
        vec!["_yy_stats".to_owned(), consent]
    );
    // The statistics cookie came from the example's analytics script, once allowed.
    let accept = report.phase(PhaseKind::AfterAcceptAll).expect("accept");
    let stats = accept
        .cookies
        .iter()
        .find(|c| c.name == "_yy_stats")
        .expect("_yy_stats");
    assert_eq!(stats.category.as_deref(), Some("analytics"));
    assert_eq!(
        stats.set_by,
        SetBy::Script {
            url: Some(format!("{}/{SITE}/analytics.js", server.pages))
        }
    );
    // The same, compared with the site folder instead of the server's notice.
    let mut from_dir = args(&[page], SITE);
    from_dir.site_dir = Some(yinyom_e2e::root().join("examples").join(SITE));
    let again = scan(&server, &from_dir).expect("scan with --site-dir");
    assert_eq!(again.violations(), 0, "{:#?}", again.findings);
    assert!(again.declared_from.ends_with(SITE));
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_no_report() {
    let server = TestServer::start(&[SITE]).expect("server");

    // A page without the Yinyom tag: the pages server's index.
    let index = format!("{}/", server.pages);
    let e = scan(&server, &args(std::slice::from_ref(&index), SITE)).expect_err("no tag");
    assert!(matches!(e, ScanError::NoTag(ref u) if *u == index), "{e}");

    // A site id the page does not use.
    let page = format!("{}/{SITE}/", server.pages);
    let e = scan(
        &server,
        &args(std::slice::from_ref(&page), "moi-i-industry"),
    )
    .expect_err("site");
    assert!(matches!(e, ScanError::WrongSite(..)), "{e}");
    assert!(e.to_string().contains(SITE), "{e}");

    // An address nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", closed.local_addr().expect("addr"));
    drop(closed);
    let e = scan(&server, &args(std::slice::from_ref(&url), SITE)).expect_err("unreachable");
    assert!(
        matches!(e, ScanError::Unreachable(ref u, _) if *u == url),
        "{e}"
    );

    // No Chromium: the message says what to install, in Thai and in English.
    let mut no_browser = args(&[page], SITE);
    no_browser.chromium = Some("/nonexistent/chromium".into());
    let e = scan(&server, &no_browser).expect_err("no chromium");
    assert!(e.to_string().contains("apt-get install chromium"), "{e}");
    assert!(
        e.message(yinyom_model::Lang::Th)
            .contains("apt-get install chromium"),
        "{}",
        e.message(yinyom_model::Lang::Th)
    );
}
