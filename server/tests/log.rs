//! The tamper-evident log on a real database: proofs verify, tampering is named.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::log::{self, Finding, merkle};

async fn post_n(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &format!("subject-log-{i:08}"), i % 2 == 0, false),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(
            body_json(res).await["receipt"]["receipt_id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    ids
}

/// The log key's signer, as the server has it.
async fn signer(app: &TestApp) -> log::LogSigner {
    log::LogSigner::of(&app.state).await.expect("log key")
}

/// The canonical JSON of a receipt: its JWS payload.
fn payload(jws: &str) -> Vec<u8> {
    use base64::Engine;
    let part = jws.split('.').nth(1).expect("payload");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url")
}

fn b64(h: &str) -> merkle::Hash {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(h)
        .expect("base64")
        .try_into()
        .expect("32 bytes")
}

/// A C2SP tlog-proof read by hand: index, hashes, checkpoint note.
fn read_proof(text: &str) -> (u64, Vec<merkle::Hash>, String) {
    let (head, note) = text.split_once("\n\n").expect("blank line");
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("c2sp.org/tlog-proof@v1"));
    let index = lines
        .next()
        .and_then(|l| l.strip_prefix("index "))
        .and_then(|n| n.parse().ok())
        .expect("index line");
    (index, lines.map(b64).collect(), note.to_owned())
}

/// Receipts are appended in batches; a C2SP checkpoint (a signed note, checked by
/// Cloudflare's `signed_note` and `tlog_tiles` crates) covers them; each receipt's
/// tlog-proof and the consistency proofs check with `tlog_tiles` (a port of Go's
/// sumdb/tlog) against leaves it hashes itself.
#[tokio::test]
async fn checkpoints_and_proofs_verify() {
    let app = app().await;
    let store = &app.state.store;
    let signer = signer(&app).await;
    let mut receipts = Vec::new();
    for i in 0..5 {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &format!("subject-log-{i:08}"), i % 2 == 0, false),
            )
            .await;
        receipts.push(body_json(res).await);
    }
    assert_eq!(store.unsequenced("demo").await.expect("db"), 5);
    let cp1 = log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(cp1.checkpoint.size, 5);
    assert_eq!(cp1.checkpoint.origin, "yinyom.test/demo");
    assert!(
        log::sequence(store, &signer, "demo")
            .await
            .expect("seq")
            .is_none()
    );
    for i in 5..11 {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &format!("subject-log-{i:08}"), i % 2 == 0, false),
            )
            .await;
        receipts.push(body_json(res).await);
    }
    let cp2 = log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(cp2.checkpoint.size, 11);

    // The vkey and the checkpoint, read by code we did not write.
    let vkey = body_text(app.get("/v1/sites/demo/log/vkey").await).await;
    let vkey = vkey.lines().next().expect("vkey line");
    assert!(vkey.starts_with("yinyom.test/demo+"), "{vkey}");
    let res = app.get("/v1/sites/demo/log/checkpoint").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[axum::http::header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    let served = body_text(res).await;
    let verifier = signed_note::StandardVerifier::new(vkey).expect("their vkey parser");
    let note = signed_note::Note::from_bytes(served.as_bytes()).expect("their note parser");
    let (verified, _) = note
        .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .expect("their verifier accepts our signature");
    assert_eq!(verified.len(), 1);
    let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("their checkpoint parser");
    assert_eq!((cp.origin(), cp.size()), ("yinyom.test/demo", 11));
    let root = *cp.hash();
    assert_eq!(root.0, cp2.checkpoint.root);

    for r in &receipts {
        let id = r["receipt"]["receipt_id"].as_str().expect("id");
        let res = app.get(&format!("/v1/sites/demo/log/receipts/{id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (index, path, proof_note) = read_proof(&body_text(res).await);
        assert_eq!(
            proof_note, served,
            "the proof carries the served checkpoint"
        );
        // Their leaf hash of our receipt's canonical JSON (the JWS payload).
        let leaf = tlog_tiles::record_hash(&payload(r["jws"].as_str().expect("jws")));
        let path: Vec<tlog_tiles::Hash> = path.into_iter().map(tlog_tiles::Hash).collect();
        tlog_tiles::check_record(&path, 11, root, index, leaf).expect("their inclusion check");
        assert!(
            tlog_tiles::check_record(&path, 11, root, (index + 1) % 11, leaf).is_err(),
            "{id} proves only its own position"
        );
    }

    let c = body_json(
        app.get("/v1/sites/demo/log/consistency?first=5&second=11")
            .await,
    )
    .await;
    let proof: Vec<tlog_tiles::Hash> = c["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| tlog_tiles::Hash(b64(h.as_str().expect("b64"))))
        .collect();
    let r1 = tlog_tiles::Hash(cp1.checkpoint.root);
    tlog_tiles::check_tree(&proof, 11, root, 5, r1).expect("their consistency check");
    assert!(tlog_tiles::check_tree(&proof, 11, root, 5, tlog_tiles::Hash([1; 32])).is_err());
    let unknown = app
        .get(&format!("/v1/sites/demo/log/receipts/{}", uuid()))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let report = log::verify(store, "demo").await.expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!((report.leaves, report.checkpoints), (11, 2));
}

/// Sequencers racing on one database (as in a fleet whose lease changed hands) never fork
/// a site's log: each append takes the site's log lock and checks that no one appended
/// since it read, so every leaf is appended once and every checkpoint extends the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sequencers_racing_never_fork_the_log() {
    let app = app().await;
    let store = &app.state.store;
    let signer = signer(&app).await;
    let mut posted = 0;
    for _ in 0..6 {
        posted += post_n(&app, 12).await.len();
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let (store, signer) = (store.clone(), signer.clone());
                tokio::spawn(async move { log::sequence(&store, &signer, "demo").await })
            })
            .collect();
        let mut appended = 0;
        for racer in racers {
            if racer.await.expect("task").expect("seq").is_some() {
                appended += 1;
            }
        }
        assert!(appended >= 1, "one of the racers appended");
        // Whoever lost the race left the rest for the next turn.
        while log::sequence(store, &signer, "demo")
            .await
            .expect("seq")
            .is_some()
        {}
        assert_eq!(store.unsequenced("demo").await.expect("db"), 0);
    }
    let report = log::verify(store, "demo").await.expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.leaves, posted as u64);
}

/// Someone with database access edits one receipt and deletes another: the log names both,
/// through the library and through `yinyom log verify`.
#[tokio::test]
async fn verify_names_an_edited_and_a_deleted_receipt() {
    let app = app().await;
    let store = &app.state.store;
    let ids = post_n(&app, 8).await;
    log::sequence(store, &signer(&app).await, "demo")
        .await
        .expect("seq");
    let (edited, deleted) = (&ids[2], &ids[5]);

    // The JSON is edited where an older server kept it, in plain text.
    dump::unpack(store).await;
    let edit = "update receipts set receipt_json = replace(receipt_json, '\"analytics\":true', '\"analytics\":false') where receipt_id = $1";
    let delete = "delete from receipts where receipt_id = $1";
    match store {
        yinyom_server::store::Store::Sqlite(pool) => {
            sqlx::query(edit)
                .bind(edited)
                .execute(pool)
                .await
                .expect("edit");
            sqlx::query(delete)
                .bind(deleted)
                .execute(pool)
                .await
                .expect("delete");
        }
        yinyom_server::store::Store::Postgres(pool) => {
            sqlx::query(edit)
                .bind(edited)
                .execute(pool)
                .await
                .expect("edit");
            sqlx::query(delete)
                .bind(deleted)
                .execute(pool)
                .await
                .expect("delete");
        }
    }

    let report = log::verify(store, "demo").await.expect("verify");
    assert!(
        report.findings.contains(&Finding::Edited {
            receipt_id: edited.clone(),
            seq: 2
        }),
        "{:?}",
        report.findings
    );
    assert!(
        report.findings.contains(&Finding::Deleted {
            receipt_id: deleted.clone(),
            seq: 5
        }),
        "{:?}",
        report.findings
    );
    assert!(
        report
            .findings
            .contains(&Finding::RootMismatch { tree_size: 8 })
    );

    let url = database_url(&app).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", &url, "log", "verify", "--site", "demo"])
        .output()
        .expect("run yinyom");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "verify must fail: {stdout}");
    assert!(
        stdout.contains(&format!("receipt {edited} (log position 2) was edited")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("receipt {deleted} (log position 5) was deleted")),
        "{stdout}"
    );
}

/// A queued receipt carries the leaf hash the sequencer appends. Someone who edits it
/// before the sequencer runs gets a log that commits to another receipt: `log verify`
/// names the receipt as edited, and the signed tile and root as not the receipts' own.
#[tokio::test]
async fn verify_names_a_receipt_whose_queued_leaf_was_edited() {
    let app = app().await;
    let store = &app.state.store;
    let ids = post_n(&app, 4).await;
    let edited = &ids[1];
    let edit = "update log_pending set leaf_hash = $2 where receipt_id = $1";
    let forged = merkle::leaf_hash(b"{\"another\":\"receipt\"}").to_vec();
    let changed = match store {
        yinyom_server::store::Store::Sqlite(pool) => sqlx::query(edit)
            .bind(edited)
            .bind(&forged)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        yinyom_server::store::Store::Postgres(pool) => sqlx::query(edit)
            .bind(edited)
            .bind(&forged)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    };
    assert_eq!(changed.expect("edit"), 1);
    let cp = log::sequence(store, &signer(&app).await, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(cp.checkpoint.size, 4);
    let report = log::verify(store, "demo").await.expect("verify");
    // Recomputed from the receipts, the log's tile and root differ from what was signed.
    assert_eq!(
        report.findings,
        vec![
            Finding::Edited {
                receipt_id: edited.clone(),
                seq: 1
            },
            Finding::TileMismatch { level: 0, index: 0 },
            Finding::RootMismatch { tree_size: 4 },
        ],
    );
}

/// Moving a receipt to another position is caught even when the attacker rewrites the
/// leaf table consistently.
#[tokio::test]
async fn verify_names_a_reordered_receipt() {
    let app = app().await;
    let store = &app.state.store;
    let ids = post_n(&app, 4).await;
    log::sequence(store, &signer(&app).await, "demo")
        .await
        .expect("seq");
    let q1 = "update log_leaves set seq = 100 where receipt_id = $1";
    let q2 = "update log_leaves set seq = 1 where receipt_id = $1";
    let q3 = "update log_leaves set seq = 2 where receipt_id = $1";
    match store {
        yinyom_server::store::Store::Sqlite(pool) => {
            for (q, id) in [(q1, &ids[1]), (q2, &ids[2]), (q3, &ids[1])] {
                sqlx::query(q).bind(id).execute(pool).await.expect("swap");
            }
        }
        yinyom_server::store::Store::Postgres(pool) => {
            for (q, id) in [(q1, &ids[1]), (q2, &ids[2]), (q3, &ids[1])] {
                sqlx::query(q).bind(id).execute(pool).await.expect("swap");
            }
        }
    }
    let report = log::verify(store, "demo").await.expect("verify");
    let moved: Vec<&String> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Reordered { receipt_id, .. } => Some(receipt_id),
            _ => None,
        })
        .collect();
    assert!(
        moved.contains(&&ids[1]) && moved.contains(&&ids[2]),
        "{:?}",
        report.findings
    );
}

/// Our hash tiles, read the way a C2SP tlog-tiles client reads them.
struct HttpTiles<'a>(&'a TestApp);

impl tlog_tiles::TileReader for HttpTiles<'_> {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(
        &self,
        tiles: &[tlog_tiles::Tile],
    ) -> Result<Vec<Vec<u8>>, tlog_tiles::tlog::Error> {
        Ok(tiles
            .iter()
            .map(|t| {
                // Go's sumdb names tiles tile/H/L/N; C2SP tlog-tiles drops the height.
                let path = t.path();
                let ours = path.strip_prefix("tile/8/").expect("height 8");
                let uri = format!("/v1/sites/demo/log/tile/{ours}");
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(async {
                        let res = self.0.get(&uri).await;
                        assert_eq!(res.status(), StatusCode::OK, "{uri}");
                        body_bytes(res).await
                    })
                })
            })
            .collect())
    }

    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

async fn body_bytes(res: axum::response::Response) -> Vec<u8> {
    use http_body_util::BodyExt;
    res.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

/// The tiles of a 300-leaf log (a full tile, partial tiles on two levels) hash to the
/// signed root and give the same inclusion proofs, as `tlog_tiles` computes them from the
/// tiles it fetched; full tiles are cacheable for good; entry bundles are not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_match_the_signed_root() {
    let app = app_with_limit(0, 1).await;
    let store = &app.state.store;
    let signer = signer(&app).await;
    let ids = post_n(&app, 300).await;
    while log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .is_some()
    {}
    let served = body_text(app.get("/v1/sites/demo/log/checkpoint").await).await;
    let note = signed_note::Note::from_bytes(served.as_bytes()).expect("note");
    let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("checkpoint");
    assert_eq!(cp.size(), 300);
    let root = *cp.hash();
    let reader = HttpTiles(&app);
    let hashes = tlog_tiles::TileHashReader::new(300, root, &reader);
    assert_eq!(
        tlog_tiles::tree_hash(300, &hashes).expect("their tree hash from our tiles"),
        root
    );
    for i in [0usize, 1, 255, 256, 299] {
        let theirs = tlog_tiles::prove_record(300, i as u64, &hashes).expect("their proof");
        let res = app
            .get(&format!("/v1/sites/demo/log/receipts/{}", ids[i]))
            .await;
        let (index, ours, _) = read_proof(&body_text(res).await);
        assert_eq!(index, i as u64);
        assert_eq!(
            theirs.iter().map(|h| h.0).collect::<Vec<_>>(),
            ours,
            "receipt {i}"
        );
    }
    let full = app.get("/v1/sites/demo/log/tile/0/000").await;
    assert_eq!(full.status(), StatusCode::OK);
    assert!(
        full.headers()[axum::http::header::CACHE_CONTROL]
            .to_str()
            .expect("header")
            .contains("immutable")
    );
    assert_eq!(body_bytes(full).await.len(), 8192);
    for missing in [
        "entries/000",
        "0/001",
        "0/001.p/45",
        "1/000",
        "tile/8/0/000",
    ] {
        let res = app.get(&format!("/v1/sites/demo/log/tile/{missing}")).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    assert_eq!(
        body_bytes(app.get("/v1/sites/demo/log/tile/1/000.p/1").await)
            .await
            .len(),
        32
    );
    let report = log::verify(store, "demo").await.expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// Someone with database access rewrites a stored hash tile (so that the proofs served
/// would prove another tree) or a stored checkpoint note: `log verify` names both.
#[tokio::test]
async fn verify_names_a_rewritten_tile_and_checkpoint() {
    let app = app().await;
    let store = &app.state.store;
    post_n(&app, 3).await;
    log::sequence(store, &signer(&app).await, "demo")
        .await
        .expect("seq");
    let tile = "update log_tiles set hashes = $1 where site_id = 'demo' and level = 0 and idx = 0";
    let note = "update log_checkpoints set note = replace(note, 'yinyom.test/demo\n3\n', 'yinyom.test/demo\n4\n')";
    match store {
        yinyom_server::store::Store::Sqlite(pool) => {
            sqlx::query(tile)
                .bind(vec![7u8; 96])
                .execute(pool)
                .await
                .expect("tile");
            sqlx::query(note).execute(pool).await.expect("note");
        }
        yinyom_server::store::Store::Postgres(pool) => {
            sqlx::query(tile)
                .bind(vec![7u8; 96])
                .execute(pool)
                .await
                .expect("tile");
            sqlx::query(note).execute(pool).await.expect("note");
        }
    }
    let report = log::verify(store, "demo").await.expect("verify");
    assert!(
        report
            .findings
            .contains(&Finding::TileMismatch { level: 0, index: 0 }),
        "{:?}",
        report.findings
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::BadCheckpointSignature { tree_size: 3, .. })),
        "{:?}",
        report.findings
    );
}

/// A database of the release before the C2SP log (leaves hashed with their position,
/// checkpoints as JWS, per-day counts kept by the old sequencer) is upgraded: the
/// migration puts every receipt back in the queue and the log is rebuilt in the new
/// format, verifiable, with the same per-day counts.
#[tokio::test]
async fn upgrading_rebuilds_the_log_in_the_new_format() {
    use yinyom_server::store::Store;
    let dir = tempfile::tempdir().expect("dir");
    let store = bare_store(dir.path()).await;
    // Every migration but the C2SP one, so that today's server writes the receipts; the
    // queue's later key and leaf hash too, since the C2SP one fills the queue by its
    // receipt key. Today's server writes a queued receipt's leaf hash: the column is added
    // by hand while it does, and dropped before the migrations go on. The queue the C2SP
    // migration refills has no leaf hashes: the sequencer reads those receipts' JSON.
    migrate(&store, |_, description| {
        !description.contains("c2sp")
            && description != "log pending key"
            && description != "log pending leaf"
    })
    .await;
    let column = match &store {
        Store::Sqlite(pool) => sqlx::query("alter table log_pending add column leaf_hash blob")
            .execute(pool)
            .await
            .map(|_| ()),
        Store::Postgres(pool) => sqlx::query("alter table log_pending add column leaf_hash bytea")
            .execute(pool)
            .await
            .map(|_| ()),
    };
    column.expect("leaf hash column");
    let app = app_on(store.clone(), dir, 0, 1).await;
    let ids = post_n(&app, 6).await;
    let drop = "alter table log_pending drop column leaf_hash";
    match &store {
        Store::Sqlite(pool) => sqlx::query(drop).execute(pool).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(drop).execute(pool).await.map(|_| ()),
    }
    .expect(drop);
    // What the old sequencer left: leaves (any hash), a JWS checkpoint, counted receipts.
    let old_log = [
        "insert into log_leaves (site_id, seq, receipt_id, leaf_hash)
         select site_id, 0, receipt_id, $2 from receipts where receipt_id = $1",
        "insert into log_checkpoints (site_id, tree_size, root_hash, frontier_json, issued_at, checkpoint_json, jws)
         select 'demo', 1, $2, '[]', 0, '{}', $1 where true",
        "insert into receipt_counts (site_id, day, notice_version, method, item, granted, n)
         select 'demo', 1, $1, 'accept_all', '', -1, 99 where length($2) = 32",
        "delete from log_pending where receipt_id = $1 and length($2) = 32",
    ];
    for q in old_log {
        match &store {
            Store::Sqlite(pool) => sqlx::query(q)
                .bind(&ids[0])
                .bind(vec![0u8; 32])
                .execute(pool)
                .await
                .map(|_| ()),
            Store::Postgres(pool) => sqlx::query(q)
                .bind(&ids[0])
                .bind(vec![0u8; 32])
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .expect(q);
    }

    migrate(&store, |_, _| true).await;
    assert_eq!(store.unsequenced("demo").await.expect("db"), 6);
    assert!(store.latest_checkpoint("demo").await.expect("db").is_none());
    let signer = signer(&app).await;
    let cp = log::sequence(&store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(cp.checkpoint.size, 6);
    let report = log::verify(&store, "demo").await.expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!((report.leaves, report.unsequenced), (6, 0));
    // The old count (99) is gone; the rebuilt counts are the receipts' own.
    let q = "select cast(sum(n) as bigint) from receipt_counts where site_id = 'demo' and item = '' and granted = -1";
    let total: Option<i64> = match &store {
        Store::Sqlite(pool) => sqlx::query_scalar(q).fetch_one(pool).await,
        Store::Postgres(pool) => sqlx::query_scalar(q).fetch_one(pool).await,
    }
    .expect("counts");
    assert_eq!(total, Some(6));
}
