//! Statistics a DPO can report, on a real database, against figures worked out by hand:
//! current consent per purpose and category from each visitor's latest choice (an expired
//! one consents to nothing), the opt-in rate, visitors who consented again under the
//! newest notice, a time axis that keeps a day without receipts as a zero, and the CSV for
//! a monthly report.

mod common;

use axum::http::{StatusCode, header};
use common::{console::*, *};
use yinyom_server::{dates, store::Store};

/// Posts a choice; returns the receipt id.
async fn post(app: &TestApp, body: &serde_json::Value) -> String {
    let res = app.post_json("/v1/sites/demo/receipts", body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The same choice under notice v2 (consent revision 2).
fn v2(mut body: serde_json::Value) -> serde_json::Value {
    body["notice_version"] = "v2".into();
    body["consent_revision"] = 2.into();
    body
}

#[tokio::test]
async fn current_consent_opt_in_and_reconsent_match_a_hand_count() {
    let c = console().await;
    let app = &c.app;
    let store = &app.state.store;
    let now = dates::now_ms();
    let day = dates::DAY_MS;

    // A: analytics yes, newsletter no.
    post(app, &choice(&uuid(), "subject-stats-a-0001", true, false)).await;
    // B: all yes three days ago, then all no today (the latest counts).
    let b_first = post(app, &choice(&uuid(), "subject-stats-b-0001", true, true)).await;
    dump::exec2(
        store,
        "update receipts set issued_at = $2 where receipt_id = $1",
        &b_first,
        now - 3 * day,
    )
    .await;
    post(app, &choice(&uuid(), "subject-stats-b-0001", false, false)).await;
    // C: all yes, 400 days ago: expired (validity 365 days) — not consenting.
    let c_id = post(app, &choice(&uuid(), "subject-stats-c-0001", true, true)).await;
    let past = now - 400 * day;
    dump::exec2(
        store,
        "update receipts set issued_at = $2 where receipt_id = $1",
        &c_id,
        past,
    )
    .await;
    dump::unpack(store).await;
    let expired_at = dates::rfc3339_ms(past + 365 * day);
    match store {
        Store::Sqlite(p) => sqlx::query(
            "update receipts set receipt_json = json_set(receipt_json, '$.valid_until', $2) where receipt_id = $1",
        )
        .bind(&c_id)
        .bind(&expired_at)
        .execute(p)
        .await
        .map(|_| ()),
        Store::Postgres(p) => sqlx::query(
            "update receipts set receipt_json = jsonb_set(receipt_json::jsonb, '{valid_until}', to_jsonb($2::text))::text where receipt_id = $1",
        )
        .bind(&c_id)
        .bind(&expired_at)
        .execute(p)
        .await
        .map(|_| ()),
    }
    .expect("expire C");
    // Receipts moved in time by hand: their visitors' latest choices follow them (the
    // repair `log verify` would otherwise ask for).
    store.recompute_site_heads("demo").await.expect("heads");
    // D: under v1, then notice v2 is published, and D chooses again under v2.
    post(app, &choice(&uuid(), "subject-stats-d-0001", false, false)).await;
    let dir = tempfile::tempdir().expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        let text = std::fs::read_to_string(fixture().join(f)).expect("read");
        let text = text
            .replace("version = \"v1\"", "version = \"v2\"")
            .replace("consent_revision = 1", "consent_revision = 2");
        std::fs::write(dir.path().join(f), text).expect("write");
    }
    yinyom_server::sites::import(store, dir.path())
        .await
        .expect("publish v2");
    post(
        app,
        &v2(choice(&uuid(), "subject-stats-d-0001", true, false)),
    )
    .await;
    // E: only under v2, newsletter only: not a re-consent.
    post(
        app,
        &v2(choice(&uuid(), "subject-stats-e-0001", false, true)),
    )
    .await;

    // By hand: 5 visitors; C expired; consenting to something: A, D, E = 3 (60.0%);
    // analytics: A, D = 2 (40.0%); newsletter: E = 1 (20.0%); again under v2: D = 1.
    let html = body_text(get_as(app, &c.auditor, "/admin/sites/demo/stats?lang=th").await).await;
    let cells = |label: &str| {
        html.split(label)
            .nth(1)
            .and_then(|rest| rest.split("<dd>").nth(1))
            .and_then(|dd| dd.split("</dd>").next())
            .unwrap_or_else(|| panic!("no `{label}` figure in {html}"))
            .to_owned()
    };
    assert_eq!(cells(">ผู้เข้าชมทั้งหมด<"), "5");
    assert_eq!(cells(">การเลือกยังไม่หมดอายุ<"), "4");
    assert_eq!(cells(">การเลือกหมดอายุแล้ว<"), "1");
    assert_eq!(cells("อัตราการยินยอม (ยินยอมอย่างน้อยหนึ่งรายการ)"), "60.0% (3)");
    assert_eq!(cells("ให้ความยินยอมใหม่ภายใต้ประกาศฉบับล่าสุด"), "1");
    assert!(
        html.contains("<th scope=\"row\">คุกกี้สถิติ</th><td>2</td><td>40.0%</td>"),
        "{html}"
    );
    assert!(html.contains("<th scope=\"row\">จดหมายข่าว</th><td>1</td><td>20.0%</td>"));

    // The report's CSV: BOM, Thai labels, the same figures.
    let res = get_as(
        app,
        &c.auditor,
        "/admin/sites/demo/stats/current.csv?lang=th",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv"))
    );
    let csv = body_text(res).await;
    assert!(csv.starts_with('\u{feff}'), "BOM");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "ประเภท,รายการ,ชื่อ,จำนวน,ร้อยละ");
    assert!(lines.contains(&"ภาพรวม,,\"ผู้เข้าชมทั้งหมด\",5,100.0%"), "{csv}");
    assert!(
        lines.contains(&"ภาพรวม,,\"การเลือกหมดอายุแล้ว\",1,20.0%"),
        "{csv}"
    );
    assert!(
        lines.contains(&"ภาพรวม,,\"ยินยอมอย่างน้อยหนึ่งรายการ (อัตราการยินยอม)\",3,60.0%"),
        "{csv}"
    );
    assert!(
        lines.contains(&"คุกกี้,\"analytics\",\"คุกกี้สถิติ\",2,40.0%"),
        "{csv}"
    );
    assert!(
        lines.contains(&"วัตถุประสงค์,\"newsletter\",\"จดหมายข่าว\",1,20.0%"),
        "{csv}"
    );

    // The time axis keeps the days without receipts: B's first choice three days ago,
    // then two empty days, then today's.
    let from = dates::day_name(dates::thailand_day(now - 4 * day));
    let csv = body_text(
        get_as(
            app,
            &c.auditor,
            &format!("/admin/sites/demo/stats.csv?from={from}"),
        )
        .await,
    )
    .await;
    let row = |d: i64| {
        let name = dates::day_name(dates::thailand_day(now - d * day));
        csv.lines()
            .find(|l| l.starts_with(&name))
            .unwrap_or_else(|| panic!("no row for {name}: {csv}"))
            .to_owned()
    };
    assert!(row(3).ends_with(",1"), "{csv}");
    assert!(row(2).ends_with(",0,0,0,0,0"), "a gap day is a zero: {csv}");
    assert!(row(1).ends_with(",0,0,0,0,0"), "{csv}");
    assert!(row(0).ends_with(",5"), "{csv}");
    let page = body_text(
        get_as(
            app,
            &c.auditor,
            &format!("/admin/sites/demo/stats?from={from}"),
        )
        .await,
    )
    .await;
    let gap = dates::day_name(dates::thailand_day(now - 2 * day));
    assert!(
        page.contains(&format!("<th scope=\"row\">{gap}</th><td>0</td>")),
        "the gap day in the table"
    );
    assert!(page.contains(&gap[5..]), "the gap day on the chart's axis");
}

/// A form decides only its own purposes: after it, the visitor's cookie choice from the
/// banner still counts in consent now (as the consent-check answer reads it), and a
/// Reject all afterwards refuses both.
#[tokio::test]
async fn a_form_after_the_banner_keeps_the_banner_choice_in_consent_now() {
    let c = console().await;
    let app = &c.app;
    let subject = "subject-stats-form-0001";
    post(app, &choice(&uuid(), subject, true, false)).await;
    let form = serde_json::json!({
        "request_id": uuid(),
        "subject_id": subject,
        "notice_version": "v1",
        "consent_revision": 1,
        "method": "form",
        "context": "registration",
        "lang": "th",
        "categories": {},
        "purposes": { "newsletter": true },
        "page_path": "/register",
        "widget": BUILD
    });
    post(app, &form).await;
    let stats = || async {
        body_text(get_as(app, &c.auditor, "/admin/sites/demo/stats?lang=th").await).await
    };
    let html = stats().await;
    assert!(
        html.contains("<th scope=\"row\">คุกกี้สถิติ</th><td>1</td><td>100.0%</td>"),
        "the banner's analytics consent still counts after the form: {html}"
    );
    assert!(
        html.contains("<th scope=\"row\">จดหมายข่าว</th><td>1</td><td>100.0%</td>"),
        "the form's newsletter consent counts: {html}"
    );
    // Receipts per item name the item by its title in Thai, its id beside it.
    assert!(
        html.contains(
            "<th scope=\"row\">คุกกี้สถิติ <span class=\"muted\">(คุกกี้ <code>analytics</code>)</span></th><td>1</td><td>0</td>"
        ),
        "{html}"
    );
    post(app, &choice(&uuid(), subject, false, false)).await;
    let html = stats().await;
    assert!(
        html.contains("<th scope=\"row\">คุกกี้สถิติ</th><td>0</td><td>0.0%</td>"),
        "{html}"
    );
    // `log verify` recomputes the same heads from the signed receipts (after the
    // sequencer has appended them).
    use yinyom_server::log;
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(&app.state.store, &signer, "demo")
        .await
        .expect("sequence");
    let report = log::verify(&app.state.store, "demo").await.expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// On PostgreSQL each receipt group adds to the next shard of a `consent_now` count, so
/// the receipt writers do not wait for each other on one row; however the counts are
/// spread, they add up to the visitors' latest choices (what the statistics and `log
/// verify` read).
#[tokio::test]
async fn a_count_spread_over_shards_adds_up() {
    let app = app().await;
    let store = &app.state.store;
    for i in 0..6 {
        post(
            &app,
            &choice(&uuid(), &format!("subject-shard-{i:04}"), true, false),
        )
        .await;
    }
    // One visitor changes their mind: their head leaves a key in one shard for another
    // key in the next.
    post(&app, &choice(&uuid(), "subject-shard-0000", false, false)).await;
    let rows = dump::rows(store)
        .await
        .into_iter()
        .filter(|(table, _)| table == "consent_now")
        .count();
    match store {
        Store::Sqlite(_) => assert_eq!(rows, 2, "SQLite's one writer adds to shard 0"),
        Store::Postgres(_) => assert!(rows > 2, "the groups went to one shard: {rows} rows"),
    }
    let counts = store.consent_now_counts("demo").await.expect("counts");
    let mut visitors: Vec<i64> = counts.0.values().copied().collect();
    visitors.sort_unstable();
    assert_eq!(visitors, [1, 5], "{:?}", counts.0);
}
