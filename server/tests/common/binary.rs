//! The real `yinyom` binary as a child process, and clients that post receipts to it the
//! way visitors do (several at once, each acknowledged receipt remembered).

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

/// `YINYOM_SIGNING_KEY`, `YINYOM_LOG_KEY` and `YINYOM_SUBJECT_KEY` for the key files of
/// `dir` (see [`super::key_files`]), so the binary signs with the same keys as the test's
/// app.
pub fn key_env(dir: &Path) -> [(&'static str, String); 3] {
    let (receipts, log) = super::key_files(dir);
    [
        ("YINYOM_SIGNING_KEY", receipts.display().to_string()),
        ("YINYOM_LOG_KEY", log.display().to_string()),
        (
            "YINYOM_SUBJECT_KEY",
            super::subject_key_file(dir).display().to_string(),
        ),
    ]
}

/// Starts `yinyom serve` on `port` against `url` (no rate limit) and waits until it
/// answers `/healthz`.
pub fn start(url: &str, port: u16, dist: &Path) -> Child {
    start_logging(url, port, dist, None)
}

/// [`start`], writing the server's log to `log` when given.
pub fn start_logging(url: &str, port: u16, dist: &Path, log: Option<&Path>) -> Child {
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
        None => Stdio::null(),
    };
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
        .stderr(stderr)
        .env("YINYOM_LOG", "info")
        .envs(key_env(dist.parent().unwrap_or(dist)))
        .spawn()
        .expect("start yinyom");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The status `/readyz` answers (0 if there is no answer).
pub fn readyz(port: u16) -> u16 {
    match ureq::get(&format!("http://127.0.0.1:{port}/readyz")).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(_) => 0,
    }
}

/// Polls until `/readyz` answers `status`, for at most `within`.
pub fn wait_readyz(port: u16, status: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if readyz(port) == status {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// What the visitors' clients saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Acknowledged receipts (201): request id, receipt id.
    pub acked: Mutex<Vec<(String, String)>>,
    /// 503 `store_unavailable` answers with a `Retry-After`.
    pub unavailable: AtomicUsize,
    /// Anything else: status and body (must stay empty).
    pub unexpected: Mutex<Vec<String>>,
    /// Requests that got no answer (the server was gone).
    pub unanswered: AtomicUsize,
}

impl Seen {
    pub fn acked(&self) -> usize {
        self.acked.lock().expect("lock").len()
    }
}

/// `clients` threads posting a new visitor's choice each, as fast as they are answered,
/// until `stop`; a client whose request gets no answer stops if `stop_when_gone`.
pub fn visitors(
    port: u16,
    clients: usize,
    tag: &str,
    stop_when_gone: bool,
) -> (Arc<Seen>, Arc<AtomicBool>, Vec<JoinHandle<()>>) {
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let workers = (0..clients)
        .map(|w| {
            let (seen, stop, tag) = (seen.clone(), stop.clone(), tag.to_owned());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(15))
                    .build();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let request_id = super::uuid();
                    let body = super::choice(
                        &request_id,
                        &format!("subject-{tag}-{w:02}-{i:06}"),
                        i % 2 == 0,
                        true,
                    );
                    let res = agent
                        .post(&format!("http://127.0.0.1:{port}/v1/sites/demo/receipts"))
                        .set("origin", super::ORIGIN)
                        .send_json(body);
                    match res {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = r.into_json().expect("json");
                            let id = v["receipt"]["receipt_id"].as_str().expect("id").to_owned();
                            seen.acked.lock().expect("lock").push((request_id, id));
                        }
                        Err(ureq::Error::Status(503, r)) if r.header("retry-after").is_some() => {
                            let body = r.into_string().unwrap_or_default();
                            if body.contains("\"store_unavailable\"") {
                                seen.unavailable.fetch_add(1, Ordering::Relaxed);
                            } else {
                                seen.unexpected
                                    .lock()
                                    .expect("lock")
                                    .push(format!("503 {body}"));
                            }
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Ok(r) => {
                            let status = r.status();
                            let body = r.into_string().unwrap_or_default();
                            seen.unexpected
                                .lock()
                                .expect("lock")
                                .push(format!("{status} {body}"));
                        }
                        Err(ureq::Error::Status(status, r)) => {
                            let body = r.into_string().unwrap_or_default();
                            seen.unexpected
                                .lock()
                                .expect("lock")
                                .push(format!("{status} {body}"));
                        }
                        Err(_) => {
                            seen.unanswered.fetch_add(1, Ordering::Relaxed);
                            if stop_when_gone {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            })
        })
        .collect();
    (seen, stop, workers)
}

/// Waits until `cond` holds, for at most `within`.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Every acknowledged receipt is in the database at `url` exactly once (the one that was
/// acknowledged), and once the server's sequencer has caught up the log verifies.
pub fn assert_all_stored(rt: &tokio::runtime::Runtime, url: &str, acked: &[(String, String)]) {
    use yinyom_server::{log, store::Store};
    let store = rt.block_on(Store::connect(url)).expect("reopen");
    for (request_id, receipt_id) in acked {
        let (found, _) = rt
            .block_on(store.receipt("demo", receipt_id))
            .expect("db")
            .unwrap_or_else(|| panic!("acknowledged receipt {receipt_id} is missing"));
        assert_eq!(&found.receipt.request_id, request_id);
    }
    assert_eq!(
        rt.block_on(super::requests_stored_twice(&store)),
        0,
        "a request was stored twice"
    );
    let total = rt.block_on(store.count_receipts("demo")).expect("count");
    let distinct: std::collections::HashSet<&String> = acked.iter().map(|(r, _)| r).collect();
    assert_eq!(
        distinct.len(),
        acked.len(),
        "a request was acknowledged twice"
    );
    assert!(
        usize::try_from(total).expect("count") >= acked.len(),
        "fewer receipts than acknowledged"
    );
    assert!(
        wait_until(Duration::from_secs(30), || rt
            .block_on(store.unsequenced("demo"))
            .expect("db")
            == 0),
        "the log did not catch up"
    );
    let report = rt.block_on(log::verify(&store, "demo")).expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// The database URL of a fresh store with the fixture site, for the binary.
pub fn fresh_url(rt: &tokio::runtime::Runtime, dir: &Path) -> String {
    let store = rt.block_on(super::store(dir));
    rt.block_on(yinyom_server::sites::import(&store, &super::fixture()))
        .expect("import");
    rt.block_on(super::url_of(&store, dir))
}

/// Stops the clients and waits for them.
pub fn stop_visitors(stop: &AtomicBool, workers: Vec<JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("client");
    }
}
