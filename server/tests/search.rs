//! The console search's totals are exact: whole days come from the counts the log
//! sequencer keeps, the rest is counted row by row; the sum must equal a plain count for
//! every kind of filter, with receipts both in and not yet in the log.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_model::{Slug, receipt::Method};
use yinyom_server::{
    config::parse_time_ms,
    log,
    store::{SearchFilter, StoredReceipt},
};

const HOUR: i64 = 3_600_000;

/// Receipts spread over ten days at odd hours, made from one real receipt.
fn spread(template: &StoredReceipt, from_ms: i64, n: usize, salt: u64) -> Vec<StoredReceipt> {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ salt;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let analytics = Slug::parse("analytics").expect("slug");
    let newsletter = Slug::parse("newsletter").expect("slug");
    (0..n)
        .map(|_| {
            let mut r = template.clone();
            let at = from_ms + (rnd() % (240 * HOUR as u64)) as i64;
            let (method, a, nl) = match rnd() % 4 {
                0 => (Method::AcceptAll, true, true),
                1 => (Method::RejectAll, false, false),
                2 => (Method::SavePreferences, true, false),
                _ => (Method::SavePreferences, false, true),
            };
            r.receipt.receipt_id = uuid();
            r.receipt.request_id = uuid();
            r.receipt.method = method;
            r.receipt.categories = [(analytics.clone(), a)].into_iter().collect();
            r.receipt.purposes = [(newsletter.clone(), nl)].into_iter().collect();
            r.receipt.issued_at = yinyom_server::store::rfc3339_ms(at);
            r.issued_at_ms = at;
            r.json = yinyom_model::canonical::to_canonical_json(&r.receipt).expect("json");
            r
        })
        .collect()
}

fn matches(r: &StoredReceipt, f: &SearchFilter) -> bool {
    let rc = &r.receipt;
    f.from_ms.is_none_or(|v| r.issued_at_ms >= v)
        && f.to_ms.is_none_or(|v| r.issued_at_ms < v)
        && f.method.as_deref().is_none_or(|m| rc.method.as_str() == m)
        && f.notice_version
            .as_deref()
            .is_none_or(|v| rc.notice.version == v)
        && f.item.as_deref().is_none_or(|item| {
            rc.categories
                .iter()
                .chain(rc.purposes.iter())
                .any(|(k, g)| k.as_str() == item && f.granted.is_none_or(|want| *g == want))
        })
}

#[tokio::test]
async fn totals_are_exact_for_every_filter() {
    let app = app().await;
    let store = &app.state.store;
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-search-000001", true, true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first = store
        .receipts_page(
            &yinyom_server::store::SearchFilter {
                site: "demo".into(),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .expect("page");
    let template = first.first().expect("the posted receipt").clone();
    let start = parse_time_ms("2026-10-01").expect("date");

    // 300 receipts in the log, then 120 more (some on the same days) not yet in it.
    let mut all = first.clone();
    let logged = spread(&template, start, 300, 1);
    store.seed_receipts(&logged).await.expect("seed");
    while log::sequence(
        store,
        &log::LogSigner::of(&app.state).await.expect("log key"),
        "demo",
    )
    .await
    .expect("sequence")
    .is_some()
    {}
    let waiting = spread(&template, start + 5 * 24 * HOUR, 120, 2);
    store.seed_receipts(&waiting).await.expect("seed");
    all.extend(logged);
    all.extend(waiting);
    assert_eq!(
        log::verify(store, "demo")
            .await
            .expect("verify")
            .unsequenced,
        120
    );

    let t = |s: &str| Some(parse_time_ms(s).expect("time"));
    let filter = |from: Option<i64>, to: Option<i64>| SearchFilter {
        site: "demo".into(),
        from_ms: from,
        to_ms: to,
        ..Default::default()
    };
    let mut cases = vec![
        filter(None, None),
        filter(t("2026-10-03"), None),
        filter(t("2026-10-03"), t("2026-10-08")),
        filter(None, t("2026-10-07")),
        // Partial days at both edges.
        filter(
            t("2026-10-02T13:30:00+07:00"),
            t("2026-10-09T05:00:00+07:00"),
        ),
        filter(t("2026-10-02T13:30:00Z"), None),
        // Within one day.
        filter(
            t("2026-10-04T01:00:00+07:00"),
            t("2026-10-04T20:00:00+07:00"),
        ),
    ];
    let by = |mut f: SearchFilter, method: Option<&str>, item: Option<&str>, g: Option<bool>| {
        f.method = method.map(str::to_owned);
        f.item = item.map(str::to_owned);
        f.granted = g;
        f
    };
    for f in cases.clone() {
        cases.push(by(
            f.clone(),
            Some("accept_all"),
            Some("analytics"),
            Some(true),
        ));
        cases.push(by(f.clone(), None, Some("newsletter"), Some(false)));
        cases.push(by(
            f.clone(),
            Some("save_preferences"),
            Some("analytics"),
            None,
        ));
        let mut v = by(f, None, Some("analytics"), Some(true));
        v.notice_version = Some("v1".into());
        cases.push(v);
    }
    for f in &cases {
        let expected = all.iter().filter(|r| matches(r, f)).count() as i64;
        let (rows, total) = store.search_receipts(f, None, 50).await.expect("search");
        assert_eq!(total, expected, "{f:?}");
        assert_eq!(rows.len() as i64, expected.min(50), "{f:?}");
        assert!(rows.iter().all(|r| matches(r, f)), "{f:?}");
    }
    // And the same once everything is in the log.
    while log::sequence(
        store,
        &log::LogSigner::of(&app.state).await.expect("log key"),
        "demo",
    )
    .await
    .expect("sequence")
    .is_some()
    {}
    for f in &cases {
        let expected = all.iter().filter(|r| matches(r, f)).count() as i64;
        let (_, total) = store.search_receipts(f, None, 50).await.expect("search");
        assert_eq!(total, expected, "{f:?}");
    }
}
