//! The public statistics (`GET /v1/sites/{site}/stats`) against real receipts: a withheld
//! small count cannot be had back by subtracting what is published.

mod common;

use axum::http::StatusCode;
use common::{app, body_json, choice, uuid};

/// 8 "accept all" and 1 "reject all" today: the 1 is withheld, and so is the 8 (else
/// 9 - 8 = 1), in the range's totals, the day's row and the version's row alike; the
/// item counts that would give the 1 back (granted 8 of 9) are withheld too.
#[tokio::test]
async fn a_small_count_is_not_the_total_minus_the_rest() {
    let app = app().await;
    for i in 0..8 {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &format!("subject-open-{i:06}"), true, true),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-open-refuser", false, false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let open = body_json(app.get("/v1/sites/demo/stats").await).await;
    let today = open["days"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["total"] == 9))
        .cloned()
        .unwrap_or_else(|| panic!("a day with 9 receipts: {open}"));
    let version = &open["versions"][0];
    for row in [&open["totals"], &today, version] {
        assert_eq!(row["total"], 9, "{open}");
        assert!(row["reject_all"].is_null(), "{row}");
        assert!(row["accept_all"].is_null(), "else 9 - 8 = 1: {row}");
        assert_eq!(row["partial"], 0);
        assert_eq!(row["withdrawn"], 0);
    }
    for item in open["items"].as_array().expect("items") {
        assert!(
            item["granted"].is_null() && item["denied"].is_null(),
            "granted 8 of 9 gives the 1 back: {item}"
        );
    }
}
