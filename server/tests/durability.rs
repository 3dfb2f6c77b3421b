//! The real `yinyom` binary, killed with SIGKILL while receipts stream in: every receipt
//! that was acknowledged with 201 is there after a restart, and the log is intact.

mod common;

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use yinyom_server::{log, store::Store};

fn start(url: &str, port: u16, dist: &std::path::Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args([
            "--database-url",
            url,
            "serve",
            "--rate-limit",
            "0",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dist")
        .arg(dist)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start yinyom");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("http://127.0.0.1:{port}/readyz"))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[test]
fn acknowledged_receipts_survive_sigkill() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let store = rt.block_on(common::store(dir.path()));
    let url = match &store {
        Store::Sqlite(_) => format!("sqlite://{}", dir.path().join("test.db").display()),
        Store::Postgres(pool) => {
            let name: String = rt
                .block_on(sqlx::query_scalar("select current_database()").fetch_one(pool))
                .expect("db name");
            let admin = std::env::var("YINYOM_TEST_DATABASE_URL").expect("url");
            format!(
                "{}/{name}",
                admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b)
            )
        }
    };
    rt.block_on(yinyom_server::sites::import(&store, &common::fixture()))
        .expect("import");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut server = start(&url, port, dir.path());

    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(5))
                    .build();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let request_id = common::uuid();
                    let body = common::choice(
                        &request_id,
                        &format!("subject-kill-{w:02}-{i:06}"),
                        i % 2 == 0,
                        true,
                    );
                    let res = agent
                        .post(&format!("http://127.0.0.1:{port}/v1/sites/demo/receipts"))
                        .set("origin", common::ORIGIN)
                        .send_json(body);
                    match res {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = r.into_json().expect("json");
                            let id = v["receipt"]["receipt_id"].as_str().expect("id").to_owned();
                            acked.lock().expect("lock").push((request_id, id));
                        }
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().expect("lock").len() < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
    server.wait().expect("reaped");
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 50,
        "only {} receipts were acknowledged",
        acked.len()
    );

    let mut server = start(&url, port, dir.path());
    let reopened = rt.block_on(Store::connect(&url)).expect("reopen");
    for (request_id, receipt_id) in &acked {
        let found = rt
            .block_on(reopened.receipt_by_request("demo", request_id))
            .expect("db")
            .unwrap_or_else(|| {
                panic!("acknowledged receipt {receipt_id} is missing after SIGKILL")
            });
        assert_eq!(&found.receipt.receipt_id, receipt_id);
    }
    // The restarted server's sequencer catches up; the log stays intact.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rt.block_on(reopened.unsequenced("demo")).expect("db") > 0 {
        assert!(Instant::now() < deadline, "the log did not catch up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let report = rt.block_on(log::verify(&reopened, "demo")).expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    server.kill().expect("stop");
    let _ = server.wait();
    eprintln!(
        "{} acknowledged receipts, all present after SIGKILL",
        acked.len()
    );
}
