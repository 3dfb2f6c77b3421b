//! `yinyom-bench`: the measurements behind BENCHMARKS.md. Run it through `cargo xtask
//! bench` (which builds the release binaries and the widget, starts a throwaway
//! PostgreSQL and installs wrk and vanilla-cookieconsent when missing).
//!
//! Every figure is measured side by side in one run: the widget against
//! vanilla-cookieconsent 3.1.0 on the same page, the receipt endpoint against a bare axum
//! endpoint with the same body sizes on the same runtime. Medians over several runs.

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::{
    fmt::Write as _,
    io::Read,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use yinyom_e2e::webdriver::Browser;
use yinyom_server::store::Store;

#[path = "yinyom-bench/c15t.rs"]
mod c15t;
#[path = "yinyom-bench/failover.rs"]
mod failover;
#[path = "yinyom-bench/load.rs"]
mod load;

/// The demo site's origin (server/tests/fixtures/demo-site).
const ORIGIN: &str = "https://www.demo.go.th";

#[derive(Parser)]
struct Args {
    /// A short run (seconds, not minutes) that only proves the bench still works.
    #[arg(long)]
    quick: bool,
    /// The release `yinyom` binary.
    #[arg(long)]
    yinyom: PathBuf,
    /// The built widget.
    #[arg(long)]
    dist: PathBuf,
    /// vanilla-cookieconsent's `dist` folder (from npm).
    #[arg(long)]
    cookieconsent: PathBuf,
    /// A PostgreSQL superuser URL (a database is created per measurement).
    #[arg(long)]
    postgres: Option<String>,
    /// Where to write the report (Markdown).
    #[arg(long)]
    out: PathBuf,
    /// Receipts seeded for the console-at-scale measurement (full runs).
    #[arg(long, default_value_t = 1_000_000)]
    receipts: u64,
    /// The command line to print in the report.
    #[arg(long, default_value = "cargo xtask bench")]
    command: String,
    /// Only these parts (widget, server, c15t, durability, scale, proofs, failover); all when
    /// empty, except that `--quick` runs c15t and failover only when named.
    #[arg(long, value_delimiter = ',', value_parser = PARTS)]
    only: Vec<String>,
    /// Where c15t's backend is installed (its node_modules), for the c15t part.
    #[arg(long)]
    c15t: Option<PathBuf>,
    /// PostgreSQL's binaries (initdb, pg_ctl …), for the failover part's Patroni nodes.
    #[arg(long)]
    pg_bin: Option<PathBuf>,
}

const PARTS: [&str; 7] = [
    "widget",
    "server",
    "c15t",
    "durability",
    "scale",
    "proofs",
    "failover",
];

impl Args {
    fn part(&self, name: &str) -> bool {
        if self.only.is_empty() {
            // The test suite runs `--quick`: installing c15t (a native module compiled
            // for minutes) or a Patroni cluster has no place there.
            !(self.quick && matches!(name, "c15t" | "failover"))
        } else {
            self.only.iter().any(|p| p == name)
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn root() -> PathBuf {
    yinyom_e2e::root()
}

/// The receipt and log key files every server of the benchmark signs with (made once, in
/// `target/bench-keys`).
fn bench_keys() -> Result<(String, String)> {
    let dir = root().join("target/bench-keys");
    std::fs::create_dir_all(&dir)?;
    let mut files = Vec::new();
    for name in ["receipt-key.pem", "log-key.pem"] {
        let path = dir.join(name);
        if !path.exists() {
            yinyom_server::signing::keys::generate(&path.display().to_string(), None)?;
        }
        files.push(path.display().to_string());
    }
    Ok((files[0].clone(), files[1].clone()))
}

/// The subject key file every server of the benchmark uses (made once, next to the keys).
fn bench_subject_key() -> Result<PathBuf> {
    let path = root().join("target/bench-keys/subject.key");
    if !path.exists() {
        yinyom_server::subjects::SubjectKey::generate(&path)?;
    }
    Ok(path)
}

/// A running `yinyom serve`.
struct Yinyom {
    child: Child,
    url: String,
}

impl Yinyom {
    fn start(bin: &Path, db: &str, dist: &Path, pages: Option<(&Path, u16)>) -> Result<Self> {
        let port = free_port()?;
        let mut cmd = Command::new(bin);
        cmd.args([
            "--database-url",
            db,
            "serve",
            "--rate-limit",
            "0",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dist")
        .arg(dist)
        .env("YINYOM_LOG", "warn")
        .env("YINYOM_SIGNING_KEY", &bench_keys()?.0)
        .env("YINYOM_LOG_KEY", &bench_keys()?.1)
        .env("YINYOM_SUBJECT_KEY", bench_subject_key()?)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some((dir, pport)) = pages {
            cmd.arg("--pages")
                .arg(dir)
                .arg("--pages-listen")
                .arg(format!("127.0.0.1:{pport}"));
        }
        let child = cmd.spawn().context("start yinyom")?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{url}/readyz")).call().is_err() {
            if Instant::now() > deadline {
                bail!("yinyom did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self { child, url })
    }

    fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
    }
}

impl Drop for Yinyom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd`, failing if it fails.
fn run_ok(cmd: &mut Command) -> Result<()> {
    if !cmd.status()?.success() {
        bail!("{cmd:?} failed");
    }
    Ok(())
}

fn import(bin: &Path, db: &str, dir: &Path) -> Result<()> {
    let ok = Command::new(bin)
        .args(["--database-url", db, "sites", "import"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()?
        .success();
    if !ok {
        bail!("import of {} failed", dir.display());
    }
    Ok(())
}

/// A fresh database URL: a SQLite file in `dir`, or a new PostgreSQL database.
fn fresh_db(
    rt: &tokio::runtime::Runtime,
    kind: &str,
    dir: &Path,
    pg: Option<&str>,
    name: &str,
) -> Result<String> {
    if kind == "sqlite" {
        return Ok(format!(
            "sqlite://{}",
            dir.join(format!("{name}.db")).display()
        ));
    }
    let admin = pg.context("no PostgreSQL URL")?;
    let db = format!("bench_{name}_{}", std::process::id());
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(admin).await?;
        sqlx::query(&format!("drop database if exists {db}"))
            .execute(&pool)
            .await?;
        sqlx::query(&format!("create database {db}"))
            .execute(&pool)
            .await?;
        anyhow::Ok(())
    })?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok(format!("{base}/{db}"))
}

// ---------------------------------------------------------------------------------------
// Server load: wrk against yinyom and against a bare axum endpoint.

#[derive(Debug, Clone, Copy, Default)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn wrk(url: &str, script: Option<&Path>, secs: u64) -> Result<Load> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c16", "--latency", "-d"])
        .arg(format!("{secs}s"));
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd
        .arg(url)
        .output()
        .context("run wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let ms = |tok: &str| -> f64 {
        let (num, unit) = tok.split_at(
            tok.find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(tok.len()),
        );
        let n: f64 = num.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => f64::NAN,
        }
    };
    let mut load = Load::default();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match t.as_slice() {
            ["Requests/sec:", v] => load.rps = v.parse().unwrap_or(0.0),
            ["50%", v] => load.p50_ms = ms(v),
            ["99%", v] => load.p99_ms = ms(v),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors = n.parse().unwrap_or(0),
            _ => {}
        }
    }
    if load.rps == 0.0 {
        bail!("wrk printed no result:\n{text}");
    }
    Ok(load)
}

const POST_LUA: &str = r#"
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  math.randomseed(os.time() + tid * 7919)
end
request = function()
  counter = counter + 1
  local id = string.format("%08x-%04x-4%03x-8%03x-%012x", math.random(0, 2147483647), tid, counter % 4096, math.random(0, 4095), counter)
  local body = '{"request_id":"' .. id .. '","subject_id":"subject-bench-' .. tid .. '-' .. counter ..
    '","notice_version":"v1","consent_revision":1,"method":"accept_all","lang":"th",' ..
    '"categories":{"analytics":true},"purposes":{"newsletter":true},"page_path":"/","widget":"0000000000000000"}'
  return wrk.format("POST", "/v1/sites/demo/receipts",
    {["Content-Type"] = "application/json", ["Origin"] = "https://www.demo.go.th"}, body)
end
"#;

/// A bare axum server with the same routes and body sizes, on the same kind of runtime.
fn bare_axum(
    receipt_body: Vec<u8>,
    notice_body: Vec<u8>,
) -> Result<(String, tokio::runtime::Runtime)> {
    use axum::{
        Router,
        body::Bytes,
        http::{StatusCode, header},
        routing::{get, post},
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let port = free_port()?;
    let receipt: Bytes = receipt_body.into();
    let notice: Bytes = notice_body.into();
    let app = Router::new()
        .route(
            "/v1/sites/demo/receipts",
            post(move |body: Bytes| {
                let receipt = receipt.clone();
                async move {
                    // Parse like the real endpoint, answer a body of the same size.
                    match serde_json::from_slice::<yinyom_model::receipt::ReceiptRequest>(&body) {
                        Ok(_) => (
                            StatusCode::CREATED,
                            [(header::CONTENT_TYPE, "application/json")],
                            receipt,
                        ),
                        Err(_) => (
                            StatusCode::BAD_REQUEST,
                            [(header::CONTENT_TYPE, "application/json")],
                            Bytes::new(),
                        ),
                    }
                }
            }),
        )
        .route(
            "/v1/sites/demo/notice",
            get(move || {
                let notice = notice.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], notice) }
            }),
        );
    let listener = rt.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))?;
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://127.0.0.1:{port}"), rt))
}

struct ServerRow {
    store: &'static str,
    what: &'static str,
    yinyom: Load,
    bare: Load,
}

fn server_load(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    tmp: &Path,
    secs: u64,
) -> Result<Vec<ServerRow>> {
    let script = tmp.join("post.lua");
    std::fs::write(&script, POST_LUA)?;
    let fixture = root().join("server/tests/fixtures/demo-site");
    let mut rows = Vec::new();
    for kind in ["sqlite", "postgres"] {
        if kind == "postgres" && a.postgres.is_none() {
            continue;
        }
        let db = fresh_db(rt, kind, tmp, a.postgres.as_deref(), "load")?;
        import(&a.yinyom, &db, &fixture)?;
        let y = Yinyom::start(&a.yinyom, &db, &a.dist, None)?;
        // Real bodies for the bare endpoint's answers.
        let body = json!({"request_id": uuid::Uuid::now_v7().to_string(), "subject_id": "subject-bench-sample", "notice_version": "v1",
            "consent_revision": 1, "method": "accept_all", "lang": "th", "categories": {"analytics": true},
            "purposes": {"newsletter": true}, "page_path": "/", "widget": "0000000000000000"});
        let receipt = ureq::post(&format!("{}/v1/sites/demo/receipts", y.url))
            .set("origin", "https://www.demo.go.th")
            .send_json(body)?
            .into_string()?
            .into_bytes();
        let notice = ureq::get(&format!("{}/v1/sites/demo/notice", y.url))
            .set("origin", "https://www.demo.go.th")
            .call()?
            .into_string()?
            .into_bytes();
        let (bare, bare_rt) = bare_axum(receipt, notice)?;
        // Same run, alternating, so both see the same machine.
        let y_post = wrk(&y.url, Some(&script), secs)?;
        let b_post = wrk(&bare, Some(&script), secs)?;
        let y_get = wrk(&format!("{}/v1/sites/demo/notice", y.url), None, secs)?;
        let b_get = wrk(&format!("{bare}/v1/sites/demo/notice"), None, secs)?;
        drop(bare_rt);
        let store = if kind == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        rows.push(ServerRow {
            store,
            what: "POST receipts",
            yinyom: y_post,
            bare: b_post,
        });
        rows.push(ServerRow {
            store,
            what: "GET notice",
            yinyom: y_get,
            bare: b_get,
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Receipt ingest against c15t's backend: the comparison users make (see yinyom-bench/c15t.rs).

struct Versus {
    store: &'static str,
    yinyom: c15t::Figures,
    c15t: c15t::Figures,
}

/// The bare axum endpoint's closed-loop figures at 16 and 256 connections: the ceiling of
/// what HTTP on this machine allows, not a competitor.
type Ceiling = (load::Run, load::Run);

fn versus_c15t(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    tmp: &Path,
    secs: f64,
    rounds: usize,
    max_rate: f64,
) -> Result<(Vec<Versus>, Option<Ceiling>)> {
    let dir = a
        .c15t
        .as_deref()
        .context("--c15t DIR: where c15t's backend is installed (cargo xtask bench does it)")?;
    let fixture = root().join("server/tests/fixtures/demo-site");
    let (mut out, mut ceiling) = (Vec::new(), None);
    for kind in ["sqlite", "postgres"] {
        if kind == "postgres" && a.postgres.is_none() {
            continue;
        }
        let store = if kind == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        eprintln!("bench: Yinyom and c15t on {store}");
        let db = fresh_db(rt, kind, tmp, a.postgres.as_deref(), "versus")?;
        import(&a.yinyom, &db, &fixture)?;
        let y = Yinyom::start(&a.yinyom, &db, &a.dist, None)?;
        let c_db = if kind == "sqlite" {
            tmp.join("c15t.db").display().to_string()
        } else {
            fresh_db(rt, kind, tmp, a.postgres.as_deref(), "c15t")?
        };
        let c = c15t::C15t::start(dir, kind, &c_db, &tmp.join(format!("c15t-{kind}.log")))?;
        let pair = c15t::Pair {
            rt,
            yinyom: (c15t::yinyom_target(&y.url)?, db.clone()),
            c15t: (c.target()?, c_db),
            secs,
            rounds,
            max_rate,
            budget_ms: 25.0,
        };
        let (yf, cf) = pair.measure()?;
        if ceiling.is_none() {
            let receipt = ureq::post(&format!("{}/v1/sites/demo/receipts", y.url))
                .set("origin", ORIGIN)
                .send_json(json!({"request_id": uuid::Uuid::now_v7().to_string(), "subject_id": "subject-bench-sample",
                    "notice_version": "v1", "consent_revision": 1, "method": "accept_all", "lang": "th",
                    "categories": {"analytics": true}, "purposes": {"newsletter": true}, "page_path": "/",
                    "widget": "0000000000000000"}))?
                .into_string()?
                .into_bytes();
            let (bare, bare_rt) = bare_axum(receipt, Vec::new())?;
            let t = c15t::yinyom_target(&bare)?;
            let b16 = rt.block_on(load::closed(&t, 16, secs))?;
            let b256 = rt.block_on(load::closed(&t, 256, secs))?;
            drop(bare_rt);
            ceiling = Some((b16, b256));
        }
        out.push(Versus {
            store,
            yinyom: yf,
            c15t: cf,
        });
    }
    Ok((out, ceiling))
}

fn ratio(y: f64, c: f64) -> String {
    if c > 0.0 && y.is_finite() {
        format!("{:.0}×", y / c)
    } else {
        "—".to_owned()
    }
}

fn held_cell(f: &c15t::Figures) -> (String, String) {
    match f.held(25.0) {
        Some(r) => (
            format!("{:.0}", r.offered),
            format!("{:.1} / {:.1}", r.p50_ms, r.p99_ms),
        ),
        None => ("none held".to_owned(), "—".to_owned()),
    }
}

fn write_versus(
    md: &mut String,
    v: &[Versus],
    ceiling: Option<&Ceiling>,
    secs: f64,
    rounds: usize,
) -> Result<()> {
    writeln!(
        md,
        "\n## Receipt ingest against c15t's backend (same client, same run)\n"
    )?;
    writeln!(
        md,
        "`@c15t/backend` 2.2.1 from npm (Hono + kysely, better-sqlite3 in WAL mode with `synchronous=FULL`, or node-postgres on the same PostgreSQL 15 server as Yinyom), served standalone with `@hono/node-server`, one default opt-in policy; a consent is `POST /subjects` with the body its browser client sends (a new subject each time). Yinyom's `yinyom serve` on the same store. Both start on empty databases; the load generator is `yinyom-bench`'s own (Rust, HTTP/1.1 keep-alive, on the same 2 cores), sending the `Accept-Encoding` a browser sends, so an answer compressed for visitors is compressed here too. Closed loop: {rounds} round(s) of {secs:.0} s per system and connection count, the two systems taking turns, median kept. Open loop: requests scheduled at a fixed rate for {secs:.0} s, latency measured from each request's scheduled time (queueing counts; requests unanswered 3 s after the run count as failed); the rate steps up from 10/s (×1.25–2.5) until a system misses p99 ≤ 25 ms or fails a request at two rates in a row. The highest rate held is the capacity figure.\n"
    )?;
    writeln!(
        md,
        "| store | system | closed 16: req/s | p50 / p99 (ms) | closed 256: req/s | p50 / p99 (ms) | open loop: highest rate held (req/s) | p50 / p99 there (ms) | × c15t (closed 16 / 256 / open) | DB growth per request (bytes) |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|")?;
    for r in v {
        for (name, f) in [("Yinyom", &r.yinyom), ("c15t 2.2.1", &r.c15t)] {
            let (held, at) = held_cell(f);
            let times = if name == "Yinyom" {
                format!(
                    "{} / {} / {}",
                    ratio(r.yinyom.closed16.rps, r.c15t.closed16.rps),
                    ratio(r.yinyom.closed256.rps, r.c15t.closed256.rps),
                    ratio(
                        r.yinyom.held(25.0).map_or(0.0, |x| x.offered),
                        r.c15t.held(25.0).map_or(0.0, |x| x.offered)
                    )
                )
            } else {
                "1×".to_owned()
            };
            writeln!(
                md,
                "| {} | {name} | {:.0} | {:.1} / {:.1} | {:.0} | {:.1} / {:.1} | {held} | {at} | {times} | {:.0} |",
                r.store,
                f.closed16.rps,
                f.closed16.p50_ms,
                f.closed16.p99_ms,
                f.closed256.rps,
                f.closed256.p50_ms,
                f.closed256.p99_ms,
                f.bytes_per_request
            )?;
        }
    }
    if let Some((b16, b256)) = ceiling {
        writeln!(
            md,
            "| (HTTP ceiling) | bare axum: parses the receipt JSON, answers a body of the same size | {:.0} | {:.1} / {:.1} | {:.0} | {:.1} / {:.1} | — | — | — | 0 |",
            b16.rps, b16.p50_ms, b16.p99_ms, b256.rps, b256.p50_ms, b256.p99_ms
        )?;
    }
    // The open-loop steps, so the knee is visible.
    let mut rates: Vec<f64> = v
        .iter()
        .flat_map(|r| {
            r.yinyom
                .steps
                .iter()
                .chain(&r.c15t.steps)
                .map(|s| s.offered)
        })
        .collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    rates.dedup();
    write!(
        md,
        "\nOpen-loop p99 (ms) at each scheduled rate (✗: p99 over 25 ms or a request failed; —: not run, the system had already missed twice):\n\n| rate (req/s) |"
    )?;
    for r in v {
        write!(md, " Yinyom {} | c15t {} |", r.store, r.store)?;
    }
    writeln!(md)?;
    writeln!(md, "|---|{}", "---|".repeat(2 * v.len()))?;
    for rate in rates {
        write!(md, "| {rate:.0} |")?;
        for r in v {
            for f in [&r.yinyom, &r.c15t] {
                match f.steps.iter().find(|s| s.offered == rate) {
                    Some(s) if s.held(25.0) => write!(md, " {:.1} |", s.p99_ms)?,
                    Some(s) if s.p99_ms.is_finite() => {
                        write!(md, " ✗ {:.0} ({} failed) |", s.p99_ms, s.errors)?
                    }
                    Some(s) => write!(
                        md,
                        " ✗ ({} of {:.0} unanswered or failed) |",
                        s.errors,
                        s.offered * secs
                    )?,
                    None => write!(md, " — |")?,
                }
            }
        }
        writeln!(md)?;
    }
    writeln!(md, "\nWhat each system does per request:\n")?;
    writeln!(md, "| | Yinyom | c15t 2.2.1 |")?;
    writeln!(md, "|---|---|---|")?;
    writeln!(
        md,
        "| checked against | the site's published notice version, its categories and purposes | the request schema; the default policy |"
    )?;
    writeln!(
        md,
        "| signature | one Ed25519 JWS over the canonical receipt (RFC 8785) per receipt | none |"
    )?;
    writeln!(
        md,
        "| durability | commit before the answer: SQLite WAL `synchronous=FULL`; PostgreSQL `fsync` and `synchronous_commit` on | the same settings (the bench sets WAL and FULL on its better-sqlite3 connection; the same PostgreSQL server) |"
    )?;
    writeln!(
        md,
        "| history kept | every receipt, append-only, then hashed into a Merkle log with signed checkpoints; its decisions, each visitor's latest choice and daily counts for the console | a subject, a domain and a consent row per new visitor; no log, no proof |"
    )?;
    writeln!(
        md,
        "| stored per request | the DB growth column above: pages in use of the SQLite file (WAL included), or `pg_database_size`, after the run minus before, per request answered | the same |"
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Durability: SIGKILL under load, then count acknowledged receipts that are missing.

fn durability(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    tmp: &Path,
    secs: u64,
) -> Result<Vec<(&'static str, usize, usize)>> {
    let fixture = root().join("server/tests/fixtures/demo-site");
    let mut out = Vec::new();
    for kind in ["sqlite", "postgres"] {
        if kind == "postgres" && a.postgres.is_none() {
            continue;
        }
        let db = fresh_db(rt, kind, tmp, a.postgres.as_deref(), "kill")?;
        import(&a.yinyom, &db, &fixture)?;
        let mut y = Yinyom::start(&a.yinyom, &db, &a.dist, None)?;
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let url = y.url.clone();
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let (acked, stop, url) = (acked.clone(), stop.clone(), url.clone());
                std::thread::spawn(move || {
                    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).build();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let id = uuid::Uuid::now_v7().to_string();
                        let body = json!({"request_id": id, "subject_id": format!("subject-kill-{w:02}-{i:07}"), "notice_version": "v1",
                            "consent_revision": 1, "method": "reject_all", "lang": "th", "categories": {"analytics": false},
                            "purposes": {"newsletter": false}, "page_path": "/", "widget": "0000000000000000"});
                        match agent.post(&format!("{url}/v1/sites/demo/receipts")).set("origin", "https://www.demo.go.th").send_json(body) {
                            // The receipt acknowledged: its id, from the answer.
                            Ok(r) if r.status() == 201 => {
                                if let Some(receipt) = r.into_json::<serde_json::Value>().ok().and_then(|v| v["receipt"]["receipt_id"].as_str().map(str::to_owned)) {
                                    acked.lock().map(|mut v| v.push(receipt)).unwrap_or(());
                                }
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(secs));
        let _ = y.child.kill(); // SIGKILL
        let _ = y.child.wait();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.join();
        }
        let acked = acked.lock().map(|v| v.clone()).unwrap_or_default();
        let store = rt.block_on(Store::connect(&db))?;
        let mut missing = 0;
        for id in &acked {
            if rt.block_on(store.receipt("demo", id))?.is_none() {
                missing += 1;
            }
        }
        out.push((
            if kind == "sqlite" {
                "SQLite"
            } else {
                "PostgreSQL"
            },
            acked.len(),
            missing,
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The widget against vanilla-cookieconsent, in headless Chromium.

const INSTRUMENT: &str = r#"
window.__m = { cls: 0, longest: 0, banner: null };
try {
  new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) __m.cls += e.value; }).observe({ type: 'layout-shift', buffered: true });
  new PerformanceObserver(l => { for (const e of l.getEntries()) __m.longest = Math.max(__m.longest, e.duration); }).observe({ type: 'longtask', buffered: true });
} catch (e) {}
(function poll() {
  const y = document.getElementById('yinyom');
  const b = (y && y.shadowRoot && y.shadowRoot.querySelector('.banner')) || document.querySelector('#cc-main .cm');
  if (b) {
    const s = getComputedStyle(b), r = b.getBoundingClientRect();
    if (r.height > 0 && s.visibility !== 'hidden' && s.opacity !== '0') { __m.banner = performance.now(); return; }
  }
  requestAnimationFrame(poll);
})();
"#;

const PAGE_BODY: &str = r##"<header><h1>สำนักงานตัวอย่าง</h1><nav><a href="#">หน้าแรก</a> <a href="#">บริการ</a></nav></header>
<main><h2>ข่าวประชาสัมพันธ์</h2><p>หน้าทดสอบเดียวกันสำหรับเปรียบเทียบเครื่องมือขอความยินยอมสองแบบ เนื้อหาเหมือนกันทุกประการ</p>
<p>ระบบติดตามและประเมินผลโครงการส่งเสริมวิสาหกิจขนาดกลางและขนาดย่อม รวบรวมผลการดำเนินงานจากหน่วยงานต่าง ๆ</p></main>
<footer><a href="#" data-yinyom-open data-cc="show-preferencesModal">ตั้งค่าคุกกี้</a></footer>"##;

fn write_pages(dir: &Path, cc_dist: &Path, site: &yinyom_model::site::SiteFile) -> Result<()> {
    let y = dir.join("yinyom");
    let c = dir.join("cc");
    std::fs::create_dir_all(&y)?;
    std::fs::create_dir_all(&c)?;
    std::fs::write(
        y.join("index.html"),
        format!(
            "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>bench</title><script src=\"http://127.0.0.1:8080/v1/sites/osmep-sme-monitoring/yinyom.js\" async></script></head>\
             <body>{PAGE_BODY}<script type=\"text/plain\" data-yinyom=\"analytics\">window.__activatedAt = performance.now();</script></body></html>"
        ),
    )?;
    for f in ["cookieconsent.umd.js", "cookieconsent.css"] {
        let bytes = std::fs::read(cc_dist.join(f))
            .with_context(|| format!("{f} from vanilla-cookieconsent"))?;
        std::fs::write(c.join(f), &bytes)?;
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
        std::fs::write(c.join(format!("{f}.br")), br)?;
    }
    // The same categories and texts as the Yinyom site.
    let th = |t: &yinyom_model::Text| t.th.clone();
    let sections: Vec<Value> = site
        .categories
        .iter()
        .map(|k| json!({"title": th(&k.title), "description": th(&k.description), "linkedCategory": k.id.as_str()}))
        .collect();
    let categories: serde_json::Map<String, Value> = site
        .categories
        .iter()
        .map(|k| {
            (
                k.id.to_string(),
                if k.required {
                    json!({"enabled": true, "readOnly": true})
                } else {
                    json!({})
                },
            )
        })
        .collect();
    let config = json!({
        // Chromium under WebDriver reports navigator.webdriver; cookieconsent would hide.
        "hideFromBots": false,
        "categories": categories,
        "language": {"default": "th", "translations": {"th": {
            "consentModal": {"title": th(&site.notice.title), "description": th(&site.notice.summary),
                "acceptAllBtn": "ยอมรับทั้งหมด", "acceptNecessaryBtn": "ปฏิเสธทั้งหมด", "showPreferencesBtn": "ตั้งค่า"},
            "preferencesModal": {"title": "ตั้งค่าคุกกี้", "acceptAllBtn": "ยอมรับทั้งหมด", "acceptNecessaryBtn": "ปฏิเสธทั้งหมด",
                "savePreferencesBtn": "บันทึก", "closeIconLabel": "ปิด", "sections": sections}
        }}}
    });
    let config_js = format!("CookieConsent.run({config});\n");
    std::fs::write(c.join("cc-config.js"), &config_js)?;
    if std::env::var_os("YINYOM_BENCH_DEBUG").is_some() {
        eprintln!("{config_js}");
    }
    std::fs::write(
        c.join("index.html"),
        format!(
            "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>bench</title><link rel=\"stylesheet\" href=\"cookieconsent.css\">\
             <script defer src=\"cookieconsent.umd.js\"></script><script defer src=\"cc-config.js\"></script></head>\
             <body>{PAGE_BODY}<script type=\"text/plain\" data-category=\"analytics\">window.__activatedAt = performance.now();</script></body></html>"
        ),
    )?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
struct Visit {
    first_bytes: Vec<f64>,
    first_requests: Vec<f64>,
    first_connections: Vec<f64>,
    banner_ms: Vec<f64>,
    cls: Vec<f64>,
    longest_task_ms: Vec<f64>,
    return_bytes: Vec<f64>,
    return_requests: Vec<f64>,
    activate_ms: Vec<f64>,
    wasm_on_return: Vec<f64>,
}

/// Bytes and requests of the tool's resources (`tool` is a JS predicate on the URL).
fn tool_traffic(b: &Browser, tool: &str) -> Result<(f64, f64, f64)> {
    let v = b.eval(
        &format!(
            "const tool = {tool}; const es = performance.getEntriesByType('resource').filter(e => tool(e.name)); \
             const net = es.filter(e => e.transferSize > 0); \
             return [net.reduce((s, e) => s + e.transferSize, 0), net.length, es.filter(e => e.name.endsWith('.wasm')).length];"
        ),
        json!([]),
    )?;
    Ok((
        v[0].as_f64().unwrap_or(f64::NAN),
        v[1].as_f64().unwrap_or(f64::NAN),
        v[2].as_f64().unwrap_or(f64::NAN),
    ))
}

fn measure(page: &str, yinyom: bool, throttled: bool, runs: usize, api: &str) -> Result<Visit> {
    let mut v = Visit::default();
    let tool = if yinyom {
        format!("u => u.startsWith({})", json!(api))
    } else {
        "u => /\\/cc\\/(cookieconsent|cc-config)/.test(u)".to_owned()
    };
    // The requests of the tool, as the browser's network log names them.
    let of_tool = |url: &str| {
        if yinyom {
            url.starts_with(api)
        } else {
            url.contains("/cc/cookieconsent") || url.contains("/cc/cc-config")
        }
    };
    for _ in 0..runs {
        let b = Browser::start_logging_network()?;
        b.cdp("Network.enable", json!({}))?;
        if throttled {
            b.cdp(
                "Network.emulateNetworkConditions",
                json!({"offline": false, "latency": 150, "downloadThroughput": 200_000, "uploadThroughput": 93_750}),
            )?;
        }
        b.before_each_page(INSTRUMENT)?;
        b.goto(page)?;
        if let Err(e) = b.wait_for(60, "return window.__m && window.__m.banner;") {
            let state = b.eval(
                "const y = document.getElementById('yinyom'); return [typeof window.__m, JSON.stringify(window.__m), !!y, !!(y && y.shadowRoot && y.shadowRoot.querySelector('.banner')), !!document.querySelector('#cc-main .cm'), document.readyState, typeof window.CookieConsent, performance.getEntriesByType('resource').map(e => e.name + ' ' + e.transferSize + ' ' + e.responseStatus).join(', ')];",
                json!([]),
            )?;
            bail!("{page}: the banner never showed ({e}); page state: {state}");
        }
        std::thread::sleep(Duration::from_millis(800));
        let m = b.eval(
            "return [window.__m.banner, window.__m.cls, window.__m.longest];",
            json!([]),
        )?;
        let (bytes, reqs, _) = tool_traffic(&b, &tool)?;
        v.banner_ms.push(m[0].as_f64().unwrap_or(f64::NAN));
        v.cls.push(m[1].as_f64().unwrap_or(f64::NAN));
        v.longest_task_ms.push(m[2].as_f64().unwrap_or(0.0));
        v.first_bytes.push(bytes);
        v.first_requests.push(reqs);
        // Chromium's throttling delays each request, not a connection's handshakes: count
        // the connections the first visit opened to the tool's server (over HTTPS each
        // costs a TCP and a TLS handshake, one round trip each).
        let connections: std::collections::HashSet<String> = b
            .responses()?
            .iter()
            .filter(|r| r["url"].as_str().is_some_and(of_tool))
            .map(|r| r["connectionId"].to_string())
            .collect();
        v.first_connections.push(connections.len() as f64);
        // Accept all, then come back.
        let accept = if yinyom {
            "const h = document.getElementById('yinyom'); return h && h.shadowRoot.querySelector('[data-action=accept-all]');"
        } else {
            "return document.querySelector('#cc-main [data-role=all]');"
        };
        b.wait_for(20, accept)?;
        let el = b.element(accept)?;
        b.click(&el)?;
        if yinyom {
            // Wait until the receipt is acknowledged (its id is in the cookie).
            b.wait_for(
                30,
                "return /yinyom_[a-z0-9_-]+=1\\.\\d+\\.\\d+\\.[^.]+\\.[0-9a-f-]{36}/.test(document.cookie);",
            )?;
        } else {
            b.wait_for(10, "return document.cookie.includes('cc_cookie');")?;
        }
        // The worst case for both tools: the HTTP cache has expired (the loader is cached
        // for 5 minutes; cookieconsent from a CDN is usually cached longer).
        b.clear_cache()?;
        b.goto(page)?;
        b.wait_for(60, "return typeof window.__activatedAt === 'number';")?;
        std::thread::sleep(Duration::from_millis(500));
        let t = b.eval("return window.__activatedAt;", json!([]))?;
        let (bytes, reqs, wasm) = tool_traffic(&b, &tool)?;
        v.activate_ms.push(t.as_f64().unwrap_or(f64::NAN));
        v.return_bytes.push(bytes);
        v.return_requests.push(reqs);
        v.wasm_on_return.push(wasm);
    }
    Ok(v)
}

struct WidgetRows {
    rows: Vec<(String, Visit, Visit)>,
}

fn widget(a: &Args, tmp: &Path, runs: usize) -> Result<WidgetRows> {
    let site: yinyom_model::site::SiteFile = toml::from_str(&std::fs::read_to_string(
        root().join("examples/osmep-sme-monitoring/site.toml"),
    )?)?;
    let pages = tmp.join("pages");
    write_pages(&pages, &a.cookieconsent, &site)?;
    let db = format!("sqlite://{}", tmp.join("widget.db").display());
    import(
        &a.yinyom,
        &db,
        &root().join("examples/osmep-sme-monitoring"),
    )?;
    let pport = free_port()?;
    let y = Yinyom::start(&a.yinyom, &db, &a.dist, Some((&pages, pport)))?;
    let base = format!("http://127.0.0.1:{pport}");
    let mut rows = Vec::new();
    for throttled in [false, true] {
        let net = if throttled {
            "throttled (150 ms RTT, 1.6 Mbps)"
        } else {
            "loopback, no throttling"
        };
        let yv = measure(&format!("{base}/yinyom/"), true, throttled, runs, &y.url)?;
        let cv = measure(&format!("{base}/cc/"), false, throttled, runs, &y.url)?;
        rows.push((net.to_owned(), yv, cv));
    }
    Ok(WidgetRows { rows })
}

// ---------------------------------------------------------------------------------------
// The console at scale.

struct Scale {
    store: &'static str,
    receipts: u64,
    seed_secs: f64,
    page_p50: f64,
    page_p95: f64,
    export_rows: u64,
    export_rps: f64,
    /// The export with a browser's `Accept-Encoding`: rows/s, and the bytes sent.
    export_browser_rps: f64,
    export_browser_bytes: u64,
    peak_rss_mb: f64,
    stats_p50: f64,
    stats_p95: f64,
    bytes_per_receipt: f64,
}

/// Downloads the demo site's whole CSV export, asking for `accept_encoding` (none: plain);
/// returns its rows (the header line apart), the seconds it took and the bytes received.
/// A zstd, brotli or gzip answer is decompressed as it arrives, as a browser does.
fn export_csv(url: &str, token: &str, accept_encoding: Option<&str>) -> Result<(u64, f64, u64)> {
    let t = Instant::now();
    let mut req = ureq::get(&format!(
        "{url}/v1/admin/sites/demo/export?format=csv&purpose=bench&reference=BENCH-1"
    ))
    .set("authorization", &format!("Bearer {token}"));
    if let Some(ae) = accept_encoding {
        req = req.set("accept-encoding", ae);
    }
    let res = req.call()?;
    let encoding = res.header("content-encoding").unwrap_or("").to_owned();
    let mut counted = Counted {
        inner: res.into_reader(),
        bytes: 0,
    };
    let mut reader: Box<dyn std::io::Read + '_> = match encoding.as_str() {
        "" | "identity" => Box::new(&mut counted),
        "br" => Box::new(brotli::Decompressor::new(&mut counted, 1 << 16)),
        "gzip" => Box::new(flate2::read::GzDecoder::new(&mut counted)),
        "zstd" => Box::new(zstd::stream::read::Decoder::new(&mut counted)?),
        other => anyhow::bail!("the export came with an encoding the bench does not read: {other}"),
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    loop {
        let k = reader.read(&mut buf)?;
        if k == 0 {
            break;
        }
        lines += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
    }
    drop(reader);
    Ok((
        lines.saturating_sub(1),
        t.elapsed().as_secs_f64(),
        counted.bytes,
    ))
}

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.bytes += k as u64;
        Ok(k)
    }
}

/// The bytes the store takes per receipt: the SQLite file after `VACUUM` and a WAL
/// checkpoint, or the sum of `pg_total_relation_size` (heap, TOAST, indexes) of every
/// table after `VACUUM ANALYZE`, divided by the receipts. Everything a receipt leaves
/// behind is counted: its row, decisions, visitor, log leaf and tiles, the daily counts,
/// the indexes; the fixture's notice and site rows are noise at these sizes.
fn store_bytes(rt: &tokio::runtime::Runtime, db: &str) -> Result<u64> {
    let store = rt.block_on(Store::connect(db))?;
    let bytes = match &store {
        Store::Sqlite(pool) => rt.block_on(async {
            sqlx::query("vacuum").execute(pool).await?;
            sqlx::query("pragma wal_checkpoint(truncate)")
                .execute(pool)
                .await?;
            let (pages, size): (i64, i64) = (
                sqlx::query_scalar("pragma page_count")
                    .fetch_one(pool)
                    .await?,
                sqlx::query_scalar("pragma page_size")
                    .fetch_one(pool)
                    .await?,
            );
            anyhow::Ok(u64::try_from(pages * size)?)
        })?,
        Store::Postgres(pool) => rt.block_on(async {
            sqlx::query("vacuum analyze").execute(pool).await?;
            let total: i64 = sqlx::query_scalar(
                "select cast(coalesce(sum(pg_total_relation_size(c.oid)), 0) as bigint)
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = current_schema() and c.relkind = 'r'",
            )
            .fetch_one(pool)
            .await?;
            anyhow::Ok(u64::try_from(total)?)
        })?,
    };
    drop(store);
    Ok(bytes)
}

/// Seeds `n` signed receipts; returns the seconds it took and every `n / SAMPLE`-th
/// receipt id (for the proof measurements).
/// Seeds `n` receipts; returns the seconds taken and a sample of receipt ids and of the
/// subjects (one per sampled receipt) spread over them.
fn seed(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    n: u64,
) -> Result<(f64, Vec<String>, Vec<String>)> {
    use yinyom_model::{
        Slug,
        canonical::to_canonical_json,
        receipt::{Event, Method, NoticeRef, PageRef, RECEIPT_SCHEMA, Receipt},
    };
    use yinyom_server::store::{StoredReceipt, now_ms, rfc3339_ms};
    let (receipt_key, _) = bench_keys()?;
    let keys = yinyom_server::signing::Keys::load(&[receipt_key], &[], None)?;
    let signer = rt.block_on(yinyom_server::signing::Signer::load(
        store,
        yinyom_server::signing::KeyPurpose::Receipt,
        &keys.receipts,
    ))?;
    let notice = rt
        .block_on(store.current_notice("demo"))?
        .context("demo notice")?;
    let started = Instant::now();
    let now = now_ms();
    let mut batch = Vec::with_capacity(5_000);
    let mut sample = Vec::new();
    let mut subjects = Vec::new();
    let bar = yinyom_server::cli::progress(Some(n), "bench: seeding receipts");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let analytics = Slug::parse("analytics").map_err(anyhow::Error::msg)?;
    let newsletter = Slug::parse("newsletter").map_err(anyhow::Error::msg)?;
    for i in 0..n {
        let roll = rnd() % 100;
        let (method, a, nl) = match roll {
            0..45 => (Method::AcceptAll, true, true),
            45..80 => (Method::RejectAll, false, false),
            80..95 => (Method::SavePreferences, true, false),
            _ => (Method::Withdraw, false, false),
        };
        // In time order over the past year, as a server writes them (issued_at is the
        // time of the insert): rows lie on disk in the order exports and pages read them.
        let step = 365 * 86_400_000 / n.max(1);
        let at = now - 365 * 86_400_000 + (i * step + rnd() % step.max(1)) as i64;
        let receipt = Receipt {
            schema: RECEIPT_SCHEMA.to_owned(),
            receipt_id: uuid::Uuid::now_v7().to_string(),
            request_id: uuid::Uuid::now_v7().to_string(),
            issued_at: rfc3339_ms(at),
            jurisdiction: "TH".into(),
            event: if method == Method::Withdraw {
                Event::Withdrawn
            } else if a || nl {
                Event::Given
            } else {
                Event::Refused
            },
            method,
            context: None,
            paper: None,
            lang: yinyom_model::Lang::Th,
            subject_id: format!("subject-seed-{i:012}"),
            site: notice.notice.site.clone(),
            controller: notice.notice.controller.name.th.clone(),
            notice: NoticeRef {
                version: notice.notice.version.clone(),
                consent_revision: notice.notice.consent_revision,
                sha256: notice.sha256.clone(),
                url: "http://127.0.0.1:8080/sites/demo/notice/v1".into(),
            },
            categories: [(analytics.clone(), a)].into_iter().collect(),
            purposes: [(newsletter.clone(), nl)].into_iter().collect(),
            valid_until: rfc3339_ms(at + 365 * 86_400_000),
            gpc: false,
            age_band: None,
            consent_by: None,
            case_reference: None,
            previous: None,
            page: PageRef {
                origin: "https://www.demo.go.th".into(),
                path: "/".into(),
            },
            widget: "seed".into(),
        };
        if i % (n / SAMPLE).max(1) == 0 {
            sample.push(receipt.receipt_id.clone());
            subjects.push(receipt.subject_id.clone());
        }
        let json = to_canonical_json(&receipt)?;
        let jws = signer.sign(json.as_bytes())?;
        batch.push(StoredReceipt {
            receipt,
            json,
            jws,
            issued_at_ms: at,
        });
        if batch.len() == 5_000 || i + 1 == n {
            rt.block_on(store.seed_receipts(&batch))?;
            bar.inc(batch.len() as u64);
            batch.clear();
        }
    }
    bar.finish_and_clear();
    Ok((started.elapsed().as_secs_f64(), sample, subjects))
}

/// What the reads at scale ask about: receipts and subjects spread over the seeded store,
/// and a service token of the site (the consent-check API).
struct Sampled {
    receipts: Vec<String>,
    subjects: Vec<String>,
    service_token: String,
}

/// The agency reference the benchmark links to its `i`-th sampled subject.
fn bench_reference(i: usize) -> String {
    format!("31006{i:08}")
}

/// Receipts sampled for the inclusion proofs.
const SAMPLE: u64 = 500;

/// Latency of `GET base + path(i)` for i in 0..n after 3 warm-ups, over one kept-alive
/// connection, with `token` as a bearer token if given: (p50, p99) in ms. Any read
/// endpoint can be measured at scale this way (the consent-check API and the statistics
/// page: add a row to [`Proofs`] and a call in [`at_scale`]).
fn latency(
    base: &str,
    token: Option<&str>,
    n: usize,
    path: impl Fn(usize) -> String,
) -> Result<(f64, f64)> {
    latency_p(base, token, n, 0.99, path)
}

/// [`latency`] with the second figure at percentile `p`: (p50, p-th) in ms.
fn latency_p(
    base: &str,
    token: Option<&str>,
    n: usize,
    p: f64,
    path: impl Fn(usize) -> String,
) -> Result<(f64, f64)> {
    latency_of(n, p, |agent, i| {
        let mut req = agent.get(&format!("{base}{}", path(i)));
        if let Some(t) = token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        req.call().with_context(|| format!("GET {}", path(i)))
    })
}

/// Latency of the request `call(agent, i)` makes for i in 0..n after 3 warm-ups, over one
/// kept-alive connection (the whole body read): (p50, p-th percentile) in ms.
fn latency_of(
    n: usize,
    p: f64,
    call: impl Fn(&ureq::Agent, usize) -> Result<ureq::Response>,
) -> Result<(f64, f64)> {
    let agent = ureq::AgentBuilder::new().build();
    let get = |i: usize| -> Result<f64> {
        let t = Instant::now();
        let res = call(&agent, i)?;
        let mut body = Vec::new();
        res.into_reader().read_to_end(&mut body)?;
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    for i in 0..3 {
        get(i)?;
    }
    let times = (0..n).map(get).collect::<Result<Vec<_>>>()?;
    Ok((percentile(times.clone(), 0.5), percentile(times, p)))
}

/// Runs `yinyom ARGS` to the end: (seconds, peak RSS in MB from /proc, success).
fn timed_run(bin: &Path, args: &[&str]) -> Result<(f64, f64, bool)> {
    let t = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            let hwm = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok());
            peak_kb = peak_kb.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok((
        t.elapsed().as_secs_f64(),
        peak_kb as f64 / 1024.0,
        status.success(),
    ))
}

/// Proofs and checks at scale, per store.
struct Proofs {
    store: &'static str,
    receipts: u64,
    tree_size: u64,
    checkpoints: usize,
    inclusion: (f64, f64),
    inclusion_hashes: f64,
    consistency: (f64, f64),
    consistency_hashes: f64,
    /// The consent-check API: by subject (`GET …/subjects/{id}/consent`) and by the
    /// agency's reference (`POST …/consent/lookup`), p50 / p99 ms.
    consent_by_subject: (f64, f64),
    consent_by_reference: (f64, f64),
    verify_secs: f64,
    verify_rss_mb: f64,
    verify_ok: bool,
}

/// Inclusion and consistency proofs from the running server `y`, and `yinyom log verify`
/// of the whole site.
fn proofs(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    db: &str,
    y: &Yinyom,
    sampled: &Sampled,
    n: u64,
) -> Result<Proofs> {
    let sample = &sampled.receipts;
    let requests = if a.quick { 20 } else { 500 };
    let store = rt.block_on(Store::connect(db))?;
    let mut sizes: Vec<u64> = rt
        .block_on(store.checkpoints("demo"))?
        .iter()
        .map(|c| c.tree_size)
        .collect();
    sizes.sort_unstable();
    drop(store);
    let Some(&tree_size) = sizes.last() else {
        bail!("the log of `demo` has no checkpoint");
    };
    // Pairs spread over the whole history: old against new, near against near.
    let pair = |i: usize| -> (u64, u64) {
        let k = sizes.len();
        let x = (i * 7919) % k;
        let y = (i * 104_729 + k / 2) % k;
        (sizes[x.min(y)], sizes[x.max(y)])
    };
    let inclusion_path =
        |i: usize| format!("/v1/sites/demo/log/receipts/{}", sample[i % sample.len()]);
    let consistency_path = |i: usize| {
        let (first, second) = pair(i);
        format!("/v1/sites/demo/log/consistency?first={first}&second={second}")
    };
    let inclusion = latency(&y.url, None, requests, inclusion_path)?;
    let consistency = latency(&y.url, None, requests, consistency_path)?;
    // The consent check a back-office makes before processing: by the subject id, and by
    // the agency's own reference (linked to the sampled subjects).
    let token = Some(sampled.service_token.as_str());
    let consent_by_subject = latency(&y.url, token, requests, |i| {
        format!(
            "/v1/sites/demo/subjects/{}/consent",
            sampled.subjects[i % sampled.subjects.len()]
        )
    })?;
    let consent_by_reference = latency_of(requests, 0.99, |agent, i| {
        agent
            .post(&format!("{}/v1/sites/demo/consent/lookup", y.url))
            .set(
                "authorization",
                &format!("Bearer {}", sampled.service_token),
            )
            .send_json(json!({ "reference": bench_reference(i % sampled.subjects.len()) }))
            .context("POST /v1/sites/demo/consent/lookup")
    })?;
    // Proof sizes (hashes), to see they grow as log n.
    let agent = ureq::AgentBuilder::new().build();
    let mut inclusion_hashes = Vec::new();
    let mut consistency_hashes = Vec::new();
    for i in 0..20 {
        let tlog = agent
            .get(&format!("{}{}", y.url, inclusion_path(i)))
            .call()?
            .into_string()?;
        // C2SP tlog-proof: header, index, then one base64 hash per line until the
        // blank line before the checkpoint.
        let body = tlog.split("\n\n").next().unwrap_or_default();
        inclusion_hashes.push(body.lines().count().saturating_sub(2) as f64);
        let v: Value = agent
            .get(&format!("{}{}", y.url, consistency_path(i)))
            .call()?
            .into_json()?;
        consistency_hashes.push(v["proof"].as_array().map_or(0, Vec::len) as f64);
    }
    eprintln!("bench: yinyom log verify of the whole site");
    let (verify_secs, verify_rss_mb, verify_ok) = timed_run(
        &a.yinyom,
        &[
            "--database-url",
            db,
            "--quiet",
            "log",
            "verify",
            "--site",
            "demo",
        ],
    )?;
    Ok(Proofs {
        store: store_name(db),
        receipts: n,
        tree_size,
        checkpoints: sizes.len(),
        inclusion,
        inclusion_hashes: median(inclusion_hashes),
        consistency,
        consistency_hashes: median(consistency_hashes),
        consent_by_subject,
        consent_by_reference,
        verify_secs,
        verify_rss_mb,
        verify_ok,
    })
}

fn store_name(db: &str) -> &'static str {
    if db.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}

/// Seeds `n` receipts into each store once, then measures the console (`scale`) and the
/// proofs (`proofs`) on it, as the parts asked for.
fn at_scale(
    a: &Args,
    rt: &tokio::runtime::Runtime,
    tmp: &Path,
    n: u64,
) -> Result<(Vec<Scale>, Vec<Proofs>)> {
    use yinyom_server::{admin::auth, store::Role};
    let fixture = root().join("server/tests/fixtures/demo-site");
    let mut out = Vec::new();
    let mut proved = Vec::new();
    for kind in ["sqlite", "postgres"] {
        if kind == "postgres" && a.postgres.is_none() {
            continue;
        }
        let db = fresh_db(rt, kind, tmp, a.postgres.as_deref(), "scale")?;
        import(&a.yinyom, &db, &fixture)?;
        let store = rt.block_on(Store::connect(&db))?;
        eprintln!("bench: seeding {n} receipts into {kind}");
        let (seed_secs, sample, subjects) = seed(rt, &store, n)?;
        // The agency's references of the sampled subjects, as forms with
        // data-yinyom-reference link them (the keyed hash under the servers' subject key).
        let key = yinyom_server::subjects::SubjectKey::load(&bench_subject_key()?)?;
        for (i, subject) in subjects.iter().enumerate() {
            let hash = key.reference_hash("demo", &bench_reference(i));
            rt.block_on(store.link_reference("demo", &hash, subject))?;
        }
        let service_token = format!("yy_bench_service_{}", uuid::Uuid::now_v7());
        rt.block_on(store.create_service_token(
            &auth::hash_secret(&service_token),
            "bench-backoffice",
            "demo",
            None,
        ))?;
        let sampled = Sampled {
            receipts: sample,
            subjects,
            service_token,
        };
        eprintln!("bench: seeded in {seed_secs:.0} s; waiting for the log to append them");
        let hash = auth::hash_password("bench password 2568").map_err(anyhow::Error::msg)?;
        let id = rt.block_on(store.create_user("bench@yinyom.test", &hash, Role::Admin, &[]))?;
        let token = format!("yy_bench_{}", uuid::Uuid::now_v7());
        rt.block_on(store.create_token(&auth::hash_secret(&token), "bench", id))?;
        drop(store);
        let y = Yinyom::start(&a.yinyom, &db, &a.dist, None)?;
        // Seeded receipts enter the log like real ones: measure once it has caught up.
        let reopened = rt.block_on(Store::connect(&db))?;
        let deadline = Instant::now() + Duration::from_secs(1800);
        // (Poll the newest checkpoint: counting unsequenced rows scans the backlog.)
        while rt
            .block_on(reopened.latest_checkpoint("demo"))?
            .map_or(0, |c| c.tree_size)
            < n
        {
            if Instant::now() > deadline {
                bail!("the log did not catch up with the seeded receipts");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        // After a bulk load a DBA (or, within minutes, autovacuum) vacuums and analyzes;
        // measured before that, PostgreSQL's pages and exports compete with autovacuum
        // reading the freshly written gigabytes. Measure the steady state.
        if let Store::Postgres(pool) = &reopened {
            rt.block_on(sqlx::query("vacuum analyze").execute(pool))?;
        }
        drop(reopened);
        if a.part("proofs") {
            eprintln!("bench: proofs at {n} receipts ({kind})");
            proved.push(proofs(a, rt, &db, &y, &sampled, n)?);
        }
        if !a.part("scale") {
            continue;
        }
        let get = |path: &str| -> Result<(f64, String)> {
            let t = Instant::now();
            let body = ureq::get(&format!("{}{path}", y.url))
                .set("authorization", &format!("Bearer {token}"))
                .call()?
                .into_string()?;
            Ok((t.elapsed().as_secs_f64() * 1000.0, body))
        };
        let from =
            yinyom_server::dates::day_name((yinyom_server::store::now_ms() / 86_400_000) - 90);
        let filtered = format!(
            "/v1/admin/sites/demo/receipts?from={from}&method=accept_all&item=analytics&decision=granted"
        );
        for _ in 0..3 {
            get(&filtered)?;
        }
        let mut times = Vec::new();
        for _ in 0..20 {
            times.push(get(&filtered)?.0);
        }
        let (rows, secs, _) = export_csv(&y.url, &token, None)?;
        // The same export as a DPO's browser downloads it: compressed.
        let (browser_rows, browser_secs, browser_bytes) =
            export_csv(&y.url, &token, Some(load::BROWSER_ACCEPT_ENCODING))?;
        anyhow::ensure!(
            browser_rows == rows,
            "the compressed export had {browser_rows} rows, the plain one {rows}"
        );
        // The console's current-consent statistics (each visitor's latest choice), as the
        // monthly report downloads them: over one kept-alive connection on this machine,
        // so the time is the server's.
        let (stats_p50, stats_p95) = latency_p(
            &y.url,
            Some(&token),
            if a.quick { 5 } else { 20 },
            0.95,
            |_| "/admin/sites/demo/stats/current.csv".to_owned(),
        )?;
        let peak_rss_mb = y.peak_rss_kb().map_or(f64::NAN, |k| k as f64 / 1024.0);
        drop(y);
        let bytes = store_bytes(rt, &db)?;
        out.push(Scale {
            store: if kind == "sqlite" {
                "SQLite"
            } else {
                "PostgreSQL"
            },
            receipts: n,
            seed_secs,
            page_p50: percentile(times.clone(), 0.5),
            page_p95: percentile(times, 0.95),
            export_rows: rows,
            export_rps: rows as f64 / secs,
            export_browser_rps: browser_rows as f64 / browser_secs,
            export_browser_bytes: browser_bytes,
            peak_rss_mb,
            stats_p50,
            stats_p95,
            bytes_per_receipt: bytes as f64 / n.max(1) as f64,
        });
    }
    Ok((out, proved))
}

// ---------------------------------------------------------------------------------------

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or(0, |k| k / 1024 / 1024);
    format!("{cpu}, {cores} cores, {mem} GiB RAM")
}

fn yes(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**not met**" }
}

fn main() -> Result<()> {
    let a = Args::parse();
    let tmp = tempfile::tempdir()?;
    // For looking at the seeded databases afterwards: YINYOM_BENCH_KEEP=DIR keeps them there.
    let kept = std::env::var_os("YINYOM_BENCH_KEEP").map(PathBuf::from);
    if let Some(dir) = &kept {
        std::fs::create_dir_all(dir)?;
    }
    let tmp_path = kept.as_deref().unwrap_or(tmp.path());
    let rt = tokio::runtime::Runtime::new()?;
    let (secs, kill_secs, runs, n) = if a.quick {
        (2, 2, 1, 2_000)
    } else {
        (15, 8, 5, a.receipts)
    };
    let date = yinyom_server::store::rfc3339_ms(yinyom_server::store::now_ms());
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n")?;
    writeln!(
        md,
        "Measured by `{}` on {date}; machine: {}.",
        a.command,
        machine()
    )?;
    writeln!(
        md,
        "Everything below comes from that one run: each figure is a median of several runs or a ratio to a reference measured in the same run. Shared machines are noisy: compare ratios, not absolute numbers across runs.\n"
    )?;

    let mut budget_rows = Vec::new();
    if a.part("widget") {
        eprintln!("bench: widget vs vanilla-cookieconsent 3.1.0 in Chromium ({runs} runs each)");
        let w = widget(&a, tmp.path(), runs)?;
        writeln!(
            md,
            "## Widget in headless Chromium (`examples/osmep-sme-monitoring` config)\n"
        )?;
        writeln!(
            md,
            "The same page twice: with Yinyom's script tag, and with vanilla-cookieconsent 3.1.0 (from npm, brotli, same categories and Thai texts). Bytes are what the consent tool transferred (compressed, with headers), medians of {runs} fresh profiles. The returning visit is measured with the HTTP cache emptied first (the worst case: Yinyom's loader is cached 5 minutes). Connections are those the first visit opened to the tool's server (the page's for cookieconsent, the consent server's for Yinyom): Chromium's throttling delays each request by the round trip but charges nothing for a new connection, which over HTTPS costs a TCP and a TLS handshake (two round trips) before its first request.\n"
        )?;
        writeln!(
            md,
            "| network | tool | first visit: bytes | requests | connections | banner visible (ms) | layout shift | longest task (ms) | returning: bytes | requests | blocked script runs at (ms) | wasm fetched on return |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
        for (net, y, c) in &w.rows {
            for (name, v) in [("Yinyom", y), ("cookieconsent 3.1.0", c)] {
                writeln!(
                    md,
                    "| {net} | {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.3} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
                    median(v.first_bytes.clone()),
                    median(v.first_requests.clone()),
                    median(v.first_connections.clone()),
                    median(v.banner_ms.clone()),
                    median(v.cls.clone()),
                    median(v.longest_task_ms.clone()),
                    median(v.return_bytes.clone()),
                    median(v.return_requests.clone()),
                    median(v.activate_ms.clone()),
                    median(v.wasm_on_return.clone()),
                )?;
            }
            budget_rows.push((net.clone(), y.clone(), c.clone()));
        }
    }

    let mut s = Vec::new();
    if a.part("server") {
        eprintln!("bench: receipts and notice under load, against a bare axum endpoint");
        s = server_load(&a, &rt, tmp.path(), secs)?;
        writeln!(
            md,
            "\n## Server under load (wrk, 2 threads, 16 connections, {secs} s each, loopback)\n"
        )?;
        writeln!(
            md,
            "Yinyom's release binary and a bare axum endpoint built by the bench (same multi-thread tokio runtime, parses the same JSON, answers a body of the same size), one after the other in the same run. SQLite is `synchronous=FULL`; PostgreSQL 15 (a local cluster started by the bench) has fsync and synchronous_commit on (`--quick` runs turn fsync off).\n"
        )?;
        writeln!(
            md,
            "| store | request | Yinyom req/s | bare req/s | ratio | Yinyom p50 / p99 (ms) | bare p50 / p99 (ms) | non-2xx |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|---|---|")?;
        for r in &s {
            writeln!(
                md,
                "| {} | {} | {:.0} | {:.0} | {:.0} % | {:.1} / {:.1} | {:.1} / {:.1} | {} |",
                r.store,
                r.what,
                r.yinyom.rps,
                r.bare.rps,
                100.0 * r.yinyom.rps / r.bare.rps,
                r.yinyom.p50_ms,
                r.yinyom.p99_ms,
                r.bare.p50_ms,
                r.bare.p99_ms,
                r.yinyom.errors
            )?;
        }
    }

    let mut versus = Vec::new();
    if a.part("c15t") {
        let (mut vsecs, rounds, max_rate) = if a.quick {
            (1.0, 1, 150.0)
        } else {
            (10.0, 3, 20_000.0)
        };
        // YINYOM_BENCH_SECS=N: N seconds per load step instead (a shorter run on a shared
        // machine; BENCHMARKS.md then says so).
        if let Some(n) = std::env::var("YINYOM_BENCH_SECS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
        {
            vsecs = n;
        }
        eprintln!("bench: receipt ingest against c15t's backend");
        let (v, ceiling) = versus_c15t(&a, &rt, tmp.path(), vsecs, rounds, max_rate)?;
        write_versus(&mut md, &v, ceiling.as_ref(), vsecs, rounds)?;
        versus = v;
    }

    let mut d = Vec::new();
    if a.part("durability") {
        eprintln!("bench: SIGKILL under load");
        d = durability(&a, &rt, tmp.path(), kill_secs)?;
        writeln!(md, "\n## Durability: SIGKILL during receipt load\n")?;
        writeln!(
            md,
            "8 clients post receipts for {kill_secs} s; the server is killed with SIGKILL; every receipt that got a 201 is looked up after restart.\n"
        )?;
        writeln!(md, "| store | acknowledged | missing after kill -9 |")?;
        writeln!(md, "|---|---|---|")?;
        for (st, acked, missing) in &d {
            writeln!(md, "| {st} | {acked} | {missing} |")?;
        }
    }

    let (mut sc, mut pr) = (Vec::new(), Vec::new());
    if a.part("scale") || a.part("proofs") {
        eprintln!("bench: at scale ({n} receipts)");
        (sc, pr) = at_scale(&a, &rt, tmp_path, n)?;
    }
    if a.part("scale") {
        writeln!(md, "\n## Console at scale\n")?;
        writeln!(
            md,
            "Receipts seeded in time order over a year, as a server writes them (45 % accept all, 35 % reject all, 15 % partial, 5 % withdrawn), signed like real ones. The server's log sequencer has appended every seeded receipt before the measurement, and PostgreSQL is vacuumed and analyzed after the bulk load (as autovacuum would within minutes). The filtered page is the admin API's first page for: last 90 days, accept all, analytics granted (with its total count); 20 requests after 3 warm-ups. The CSV export is the whole site, streamed: once plain, once with the `Accept-Encoding` a browser sends (Chromium's `gzip, deflate, br, zstd`), decompressed as it arrives. Consent now is the console's current-consent statistics (`/admin/sites/demo/stats/current.csv`: each visitor's latest choice, expired and withdrawn ones apart), 20 requests after 3 warm-ups over one kept-alive connection. Bytes per receipt: after the measurements, the SQLite file after `VACUUM` and a WAL checkpoint, or the sum of `pg_total_relation_size` of every table (heap, TOAST, indexes) after `VACUUM ANALYZE`, divided by the receipts.\n"
        )?;
        writeln!(
            md,
            "| store | receipts | seeding (s) | filtered page p50 / p95 (ms) | CSV export rows | rows/s | as a browser asks: rows/s | bytes sent per row | consent now p50 / p95 (ms) | bytes per receipt | server peak RSS (MB) |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        for r in &sc {
            writeln!(
                md,
                "| {} | {} | {:.0} | {:.0} / {:.0} | {} | {:.0} | {:.0} | {:.0} | {:.0} / {:.0} | {:.0} | {:.0} |",
                r.store,
                r.receipts,
                r.seed_secs,
                r.page_p50,
                r.page_p95,
                r.export_rows,
                r.export_rps,
                r.export_browser_rps,
                r.export_browser_bytes as f64 / r.export_rows.max(1) as f64,
                r.stats_p50,
                r.stats_p95,
                r.bytes_per_receipt,
                r.peak_rss_mb
            )?;
        }
    }
    if a.part("proofs") {
        let requests = if a.quick { 20 } else { 500 };
        writeln!(md, "\n## Proofs at scale\n")?;
        writeln!(
            md,
            "The same seeded stores, once the log has appended every receipt (checkpoints every second while it caught up). From the running server, over one kept-alive connection, {requests} requests each after 3 warm-ups: a receipt's C2SP tlog-proof (`GET /v1/sites/demo/log/receipts/{{id}}`, receipts spread over the whole log) and consistency proofs between checkpoints spread over the log's history (`GET /v1/sites/demo/log/consistency`). Each is a fixed number of statements (checkpoint, leaf, one read of the O(log n) hash tiles the proof needs); the hashes column shows the proofs' length. Then `yinyom log verify --site demo` recomputes the whole log and checks every signature, checkpoint and tile: wall time and peak RSS (/proc VmHWM).\n"
        )?;
        writeln!(
            md,
            "The consent-check API on the same stores, as an agency's back-office calls it before it processes (a service token of the site, {requests} requests each after 3 warm-ups, over one kept-alive connection): by subject (`GET /v1/sites/demo/subjects/{{id}}/consent`, subjects spread over the store) and by the agency's own reference (`POST /v1/sites/demo/consent/lookup`, references linked to {SAMPLE} of those subjects as forms with `data-yinyom-reference` link them). Each answer is one indexed read of the subject's newest receipts (at most 10: what the newest does not decide comes from an earlier one) and one audit row.\n"
        )?;
        writeln!(
            md,
            "| store | receipts | log size | checkpoints | inclusion p50 / p99 (ms) | hashes | consistency p50 / p99 (ms) | hashes | consent by subject p50 / p99 (ms) | consent by reference p50 / p99 (ms) | log verify (s) | log verify peak RSS (MB) | verdict |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")?;
        for r in &pr {
            writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} / {:.1} | {:.0} | {:.1} / {:.1} | {:.0} | {:.1} / {:.1} | {:.1} / {:.1} | {:.0} | {:.0} | {} |",
                r.store,
                r.receipts,
                r.tree_size,
                r.checkpoints,
                r.inclusion.0,
                r.inclusion.1,
                r.inclusion_hashes,
                r.consistency.0,
                r.consistency.1,
                r.consistency_hashes,
                r.consent_by_subject.0,
                r.consent_by_subject.1,
                r.consent_by_reference.0,
                r.consent_by_reference.1,
                r.verify_secs,
                r.verify_rss_mb,
                if r.verify_ok { "intact" } else { "**FAILED**" }
            )?;
        }
    }

    let mut fo = None;
    if a.part("failover") {
        let pg_bin = a
            .pg_bin
            .as_deref()
            .context("--pg-bin DIR: PostgreSQL's binaries, for the Patroni nodes")?;
        let fsecs = if a.quick { 3 } else { 10 };
        let r = failover::run(
            &a.yinyom,
            &a.dist,
            pg_bin,
            &root().join("server/tests/fixtures/demo-site"),
            &rt,
            fsecs,
        )?;
        writeln!(
            md,
            "\n## Failover: the PostgreSQL primary killed under load (Patroni, synchronous replication)\n"
        )?;
        writeln!(
            md,
            "Three PostgreSQL 15 nodes managed by Patroni 3.0 (Debian), etcd 3.4 as its store, on this machine; `synchronous_mode: true` (a commit returns once a standby has it), `ttl` 20 s, `loop_wait` 2 s. Two `yinyom serve` processes use one URL listing the three nodes with `target_session_attrs=read-write`. Eight clients post receipts to the two servers for {fsecs} s and retry each failed post with the same request id, as the widget does; then the primary's Patroni and PostgreSQL processes are killed with SIGKILL; the clients go on until posts succeed again and {fsecs} s more. Every receipt a server acknowledged (201, or 200 for a retry) is looked up afterwards on the new primary, and `yinyom log verify --site demo` checks the log once the sequencer has appended everything.\n"
        )?;
        writeln!(
            md,
            "| killed → new primary | acknowledged | lost | posts failed from the kill for (s) | failed posts (each retried) | log verify |"
        )?;
        writeln!(md, "|---|---|---|---|---|---|")?;
        writeln!(
            md,
            "| {} → {} | {} | {} | {} | {} | {} |",
            r.killed,
            r.new_leader,
            r.acknowledged,
            r.lost,
            r.recovery_secs.map_or_else(
                || "did not recover in 120 s".to_owned(),
                |s| format!("{s:.1}")
            ),
            r.failed_attempts,
            if r.verify_ok {
                format!("intact ({})", r.verify_summary)
            } else {
                format!("**FAILED** ({})", r.verify_summary)
            }
        )?;
        fo = Some(r);
    }

    writeln!(md, "\n## Budgets (the product's quality bars)\n")?;
    writeln!(md, "| budget | measured | |")?;
    writeln!(md, "|---|---|---|")?;
    if let Some((_, y, _)) = budget_rows.first() {
        let rb = median(y.return_bytes.clone());
        let rr = median(y.return_requests.clone());
        let rw = median(y.wasm_on_return.clone());
        writeln!(
            md,
            "| returning visitor ≤ 5 KB compressed, one request, no wasm | {rb:.0} B, {rr:.0} request(s), {rw:.0} wasm | {} |",
            yes(rb <= 5120.0 && rr <= 1.0 && rw == 0.0)
        )?;
        let fb = median(y.first_bytes.clone());
        writeln!(
            md,
            "| first visit ≤ 60 KB compressed | {fb:.0} B | {} |",
            yes(fb <= 61_440.0)
        )?;
        let cls = median(y.cls.clone());
        let lt = median(y.longest_task_ms.clone());
        writeln!(md, "| layout shift 0 | {cls:.3} | {} |", yes(cls == 0.0))?;
        writeln!(
            md,
            "| no widget task over 50 ms | longest task {lt:.0} ms | {} |",
            yes(lt <= 50.0)
        )?;
    }
    if let Some((net, y, c)) = budget_rows.get(1) {
        let (yb, cb) = (median(y.banner_ms.clone()), median(c.banner_ms.clone()));
        writeln!(
            md,
            "| banner no later than cookieconsent, {net} | {yb:.0} ms vs {cb:.0} ms | {} |",
            yes(yb <= cb)
        )?;
    }
    for r in &versus {
        let y = r.yinyom.held(25.0).map_or(0.0, |x| x.offered);
        let c = r.c15t.held(25.0).map_or(0.0, |x| x.offered);
        if r.store == "SQLite" {
            writeln!(
                md,
                "| ≥ 10,000 signed, durable receipts/s held open loop with p99 ≤ 25 ms, SQLite | {y:.0}/s | {} |",
                yes(y >= 10_000.0)
            )?;
        }
        writeln!(
            md,
            "| receipt ingest ≥ 20 × c15t (open-loop rate held), {} | {y:.0} vs {c:.0}/s: {} | {} |",
            r.store,
            ratio(y, c),
            yes(c > 0.0 && y >= 20.0 * c)
        )?;
    }
    for r in s.iter().filter(|r| r.what == "POST receipts") {
        writeln!(
            md,
            "| receipt p99 ≤ 25 ms, {} | {:.1} ms | {} |",
            r.store,
            r.yinyom.p99_ms,
            yes(r.yinyom.p99_ms <= 25.0)
        )?;
    }
    for (st, _, missing) in &d {
        writeln!(
            md,
            "| every acknowledged receipt survives kill -9, {st} | {missing} missing | {} |",
            yes(*missing == 0)
        )?;
    }
    if let Some(r) = &fo {
        writeln!(
            md,
            "| every acknowledged receipt survives the primary's death (Patroni, synchronous replication) | {} lost of {}; log {} | {} |",
            r.lost,
            r.acknowledged,
            if r.verify_ok { "intact" } else { "NOT intact" },
            yes(r.lost == 0 && r.verify_ok)
        )?;
    }
    for r in &sc {
        writeln!(
            md,
            "| filtered admin page ≤ 50 ms at {} receipts, {} | p95 {:.0} ms | {} |",
            r.receipts,
            r.store,
            r.page_p95,
            yes(r.page_p95 <= 50.0)
        )?;
        writeln!(
            md,
            "| CSV export ≥ 200,000 rows/s, {} | {:.0} rows/s | {} |",
            r.store,
            r.export_rps,
            yes(r.export_rps >= 200_000.0)
        )?;
        writeln!(
            md,
            "| CSV export ≥ 200,000 rows/s as a browser downloads it (compressed), {} | {:.0} rows/s | {} |",
            r.store,
            r.export_browser_rps,
            yes(r.export_browser_rps >= 200_000.0)
        )?;
        writeln!(
            md,
            "| consent-now statistics ≤ 50 ms at {} receipts, {} | p95 {:.0} ms | {} |",
            r.receipts,
            r.store,
            r.stats_p95,
            yes(r.stats_p95 <= 50.0)
        )?;
        writeln!(
            md,
            "| ≤ 1.5 KB per receipt, {} | {:.0} bytes | {} |",
            r.store,
            r.bytes_per_receipt,
            yes(r.bytes_per_receipt <= 1536.0)
        )?;
    }
    for r in &pr {
        writeln!(
            md,
            "| inclusion proof p99 ≤ 5 ms at {} receipts, {} | {:.1} ms | {} |",
            r.receipts,
            r.store,
            r.inclusion.1,
            yes(r.inclusion.1 <= 5.0)
        )?;
        writeln!(
            md,
            "| consistency proof p99 ≤ 5 ms at {} receipts, {} | {:.1} ms | {} |",
            r.receipts,
            r.store,
            r.consistency.1,
            yes(r.consistency.1 <= 5.0)
        )?;
    }
    if a.quick {
        writeln!(
            md,
            "\n_This is a `--quick` run: short loads, one browser run, {n} receipts. It proves the bench works; its numbers are not the project's figures._"
        )?;
    }
    std::fs::write(&a.out, md)?;
    eprintln!("bench: wrote {}", a.out.display());
    Ok(())
}
