//! Every export applies exactly the filters the console's search shows: the console's
//! links, the admin API and `yinyom receipts export`, in each format. A DPO answering one
//! citizen's request must send that citizen's receipts and nobody else's.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use std::collections::BTreeSet;

const FORMATS: [&str; 4] = ["csv", "jsonl", "kantara", "iso27560"];

/// (receipt id, subject id) of every record of an export.
fn records(format: &str, text: &str) -> Vec<(String, String)> {
    if format == "csv" {
        // UTF-8 with a byte order mark; labels in English (CLI) or Thai (the console's).
        let mut lines = text.strip_prefix('\u{feff}').expect("a BOM").lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let col = |en: &str, th: &str| header.iter().position(|h| *h == en || *h == th).expect(en);
        let (id, subject) = (
            col("receipt_id", "เลขที่ใบรับ"),
            col("subject_id", "รหัสผู้เข้าชม (นามแฝง)"),
        );
        return lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[id].to_owned(), f[subject].to_owned())
            })
            .collect();
    }
    let (id, subject) = match format {
        "jsonl" => ("/receipt/receipt_id", "/receipt/subject_id"),
        "kantara" => ("/consentReceiptID", "/piiPrincipalId"),
        _ => ("/record_id", "/pii_principal_id"),
    };
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).expect(p).to_owned();
            (s(id), s(subject))
        })
        .collect()
}

fn ids(recs: &[(String, String)]) -> BTreeSet<String> {
    recs.iter().map(|(id, _)| id.clone()).collect()
}

/// What the search finds for `query` (every page), as receipt ids.
async fn searched(c: &Console, query: &str) -> BTreeSet<String> {
    let v = body_json(
        get_as(
            &c.app,
            &c.dpo,
            &format!("/v1/admin/sites/demo/receipts?{query}"),
        )
        .await,
    )
    .await;
    assert!(v["next"].is_null(), "one page is enough here");
    v["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .map(|r| r["receipt"]["receipt_id"].as_str().expect("id").to_owned())
        .collect()
}

/// The console's export links on the search page for `query`, by format.
async fn console_links(c: &Console, query: &str) -> Vec<(String, String)> {
    let html = body_text(
        get_as(
            &c.app,
            &c.dpo,
            &format!("/admin/sites/demo/receipts?{query}"),
        )
        .await,
    )
    .await;
    FORMATS
        .iter()
        .map(|f| {
            let start = format!("href=\"/admin/sites/demo/export?format={f}");
            let rest = html
                .split(&start)
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("no {f} export link in {html}"));
            let href = format!(
                "/admin/sites/demo/export?format={f}{}",
                rest.replace("&amp;", "&")
            );
            ((*f).to_owned(), href)
        })
        .collect()
}

async fn fetch(c: &Console, uri: &str) -> String {
    let res = get_as(&c.app, &c.dpo, uri).await;
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    body_text(res).await
}

fn cli(url: &str, format: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args([
            "--database-url",
            url,
            "receipts",
            "export",
            "--site",
            "demo",
        ])
        .args(["--format", format])
        .args(args)
        .output()
        .expect("run yinyom");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn every_export_applies_every_filter_of_the_search() {
    let c = console().await;
    let app = &c.app;
    // Three visitors with several choices each.
    let people = [
        ("subject-export-aaaa01", 3),
        ("subject-export-bbbb02", 4),
        ("subject-export-cccc03", 2),
    ];
    let mut all = BTreeSet::new();
    for (subject, n) in people {
        for i in 0..n {
            let (a, b) = [(true, true), (false, false), (true, false), (false, true)][i];
            let res = app
                .post_json("/v1/sites/demo/receipts", &choice(&uuid(), subject, a, b))
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
            all.insert(
                body_json(res).await["receipt"]["receipt_id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            );
        }
    }
    let url = database_url(app).await;
    let one = searched(&c, "").await;
    let some_receipt = one.iter().next().expect("a receipt").clone();

    // Receipts, the search and the exports name a citizen by their pseudonym.
    let (a, b, cc) = (
        app.pseudonym("subject-export-aaaa01"),
        app.pseudonym("subject-export-bbbb02"),
        app.pseudonym("subject-export-cccc03"),
    );
    // (query string, CLI arguments): one citizen, and each other filter of the search.
    let cases: Vec<(String, Vec<String>)> = vec![
        (format!("subject={b}"), vec!["--subject".into(), b.clone()]),
        (
            format!("receipt={some_receipt}"),
            vec!["--receipt".into(), some_receipt.clone()],
        ),
        (
            "method=reject_all".into(),
            vec!["--method".into(), "reject_all".into()],
        ),
        (
            "item=analytics&decision=granted".into(),
            vec![
                "--item".into(),
                "analytics".into(),
                "--decision".into(),
                "granted".into(),
            ],
        ),
        (
            format!("subject={a}&item=newsletter&decision=denied"),
            vec![
                "--subject".into(),
                a.clone(),
                "--item".into(),
                "newsletter".into(),
                "--decision".into(),
                "denied".into(),
            ],
        ),
        (
            format!("version=v1&from=2000-01-01&to=2999-01-01&subject={cc}"),
            vec![
                "--notice-version".into(),
                "v1".into(),
                "--from".into(),
                "2000-01-01".into(),
                "--to".into(),
                "2999-01-01".into(),
                "--subject".into(),
                cc.clone(),
            ],
        ),
        (
            "version=v9".into(),
            vec!["--notice-version".into(), "v9".into()],
        ),
    ];
    for (query, args) in &cases {
        let expected = searched(&c, query).await;
        assert!(
            expected.len() < all.len(),
            "{query}: the filter must narrow the search"
        );
        let subject = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("subject="))
            .map(str::to_owned);
        let links = console_links(&c, query).await;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for (format, link) in &links {
            let api = format!("/v1/admin/sites/demo/export?format={format}&{query}&{RELEASE}");
            // The link opens the form asking for the purpose and reference; the form
            // carries the filters and format to the export.
            let form = fetch(&c, link).await;
            let submitted = format!(
                "/admin/sites/demo/export?{}&{RELEASE}",
                hidden_fields(&form)
            );
            for (door, text) in [
                ("console link", fetch(&c, &submitted).await),
                ("admin API", fetch(&c, &api).await),
                ("CLI", cli(&url, format, &args)),
            ] {
                let recs = records(format, &text);
                assert_eq!(
                    ids(&recs),
                    expected,
                    "{door} {format} with {query} exports what the search shows"
                );
                assert_eq!(recs.len(), expected.len(), "{door} {format}: no duplicates");
                if let Some(s) = &subject {
                    assert!(
                        recs.iter().all(|(_, who)| who == s),
                        "{door} {format} with {query}: only {s}"
                    );
                }
            }
        }
    }
    // Without filters, everything (the exports are not simply empty).
    let text = fetch(
        &c,
        &format!("/v1/admin/sites/demo/export?format=jsonl&{RELEASE}"),
    )
    .await;
    assert_eq!(ids(&records("jsonl", &text)), all);
}
