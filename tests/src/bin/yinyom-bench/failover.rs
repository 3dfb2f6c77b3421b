//! Failover without loss: a three-node Patroni cluster (etcd as its store, synchronous
//! replication) on this machine, two `yinyom serve` processes against it through one
//! multi-host URL with `target_session_attrs=read-write`, clients posting receipts and
//! retrying failed posts as the widget does; then the primary's Patroni and PostgreSQL
//! are killed with SIGKILL (the machine "dies"). Reported: acknowledged receipts missing
//! afterwards, how long posts failed, and whether `yinyom log verify` finds the log intact.

use crate::{Yinyom, free_port, import};
use anyhow::{Context, Result, bail};
use serde_json::json;
use std::{
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use yinyom_server::store::Store;

/// One Patroni node: its own PostgreSQL data directory, port and REST API.
struct Node {
    name: String,
    dir: PathBuf,
    pg_port: u16,
    api_port: u16,
    patroni: Option<Child>,
}

impl Node {
    fn api(&self, path: &str) -> bool {
        ureq::get(&format!("http://127.0.0.1:{}{path}", self.api_port))
            .timeout(Duration::from_secs(2))
            .call()
            .is_ok_and(|r| r.status() == 200)
    }

    /// Kills Patroni, the postmaster and every backend of this node with SIGKILL.
    fn kill(&mut self) {
        let mut pids: Vec<u32> = Vec::new();
        if let Some(mut p) = self.patroni.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
        if let Some(pm) = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
        {
            pids.push(pm);
            pids.extend(children_of(pm));
        }
        if !pids.is_empty() {
            let _ = Command::new("kill")
                .arg("-9")
                .args(pids.iter().map(u32::to_string))
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The processes whose parent is `pid` (from /proc).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
                .and_then(|s| {
                    s.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                })
                == Some(pid)
        })
        .collect()
}

/// The uid and gid of the `postgres` user when we are root (PostgreSQL refuses root).
fn postgres_ids() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if !root {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// etcd and three Patroni nodes, removed on drop.
struct Cluster {
    base: PathBuf,
    etcd: Child,
    nodes: Vec<Node>,
}

impl Cluster {
    fn start(pg_bin: &Path) -> Result<Self> {
        let base = std::env::temp_dir().join(format!("yinyom-failover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base)?;
        let (etcd_port, peer_port) = (free_port()?, free_port()?);
        let etcd = Command::new("etcd")
            .args(["--name", "bench", "--data-dir"])
            .arg(base.join("etcd"))
            .arg("--listen-client-urls")
            .arg(format!("http://127.0.0.1:{etcd_port}"))
            .arg("--advertise-client-urls")
            .arg(format!("http://127.0.0.1:{etcd_port}"))
            .arg("--listen-peer-urls")
            .arg(format!("http://127.0.0.1:{peer_port}"))
            .arg("--initial-advertise-peer-urls")
            .arg(format!("http://127.0.0.1:{peer_port}"))
            .arg("--initial-cluster")
            .arg(format!("bench=http://127.0.0.1:{peer_port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(base.join("etcd.log"))?)
            .spawn()
            .context("start etcd (apt-get install etcd-server)")?;
        let mut cluster = Cluster {
            base,
            etcd,
            nodes: Vec::new(),
        };
        let ids = postgres_ids();
        for i in 1..=3 {
            let dir = cluster.base.join(format!("pg{i}"));
            std::fs::create_dir_all(&dir)?;
            let node = Node {
                name: format!("pg{i}"),
                dir,
                pg_port: free_port()?,
                api_port: free_port()?,
                patroni: None,
            };
            std::fs::write(
                node.dir.join("patroni.yml"),
                patroni_yml(&node, etcd_port, pg_bin),
            )?;
            cluster.nodes.push(node);
        }
        if ids.is_some() {
            crate::run_ok(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:postgres")
                    .arg(&cluster.base),
            )?;
        }
        for node in &mut cluster.nodes {
            let mut cmd = Command::new("patroni");
            cmd.arg(node.dir.join("patroni.yml"))
                .current_dir(&node.dir)
                .env("HOME", &node.dir)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(node.dir.join("patroni.log"))?);
            if let Some((uid, gid)) = ids {
                cmd.uid(uid).gid(gid);
            }
            node.patroni = Some(
                cmd.spawn()
                    .context("start patroni (apt-get install patroni)")?,
            );
        }
        // Ready: a leader, a synchronous standby and a second replica.
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let leader = cluster.nodes.iter().filter(|n| n.api("/primary")).count();
            let sync = cluster.nodes.iter().filter(|n| n.api("/sync")).count();
            let replicas = cluster.nodes.iter().filter(|n| n.api("/replica")).count();
            if leader == 1 && sync == 1 && replicas == 2 {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "the Patroni cluster did not come up (leader {leader}, sync {sync}, replicas {replicas}); see {}",
                    cluster.base.display()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(cluster)
    }

    fn leader(&self) -> Option<usize> {
        self.nodes.iter().position(|n| n.api("/primary"))
    }

    /// The multi-host URL of database `db`, every node listed.
    fn url(&self, db: &str) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.pg_port))
            .collect();
        format!(
            "postgres://postgres@{}/{db}?target_session_attrs=read-write",
            hosts.join(",")
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = self.etcd.kill();
        let _ = self.etcd.wait();
        if std::env::var_os("YINYOM_BENCH_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }
}

fn patroni_yml(node: &Node, etcd_port: u16, pg_bin: &Path) -> String {
    let dir = node.dir.display();
    format!(
        r#"scope: yinyom-bench
namespace: /yinyom-bench-{pid}/
name: {name}
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:{api}
  connect_address: 127.0.0.1:{api}
etcd3:
  host: 127.0.0.1:{etcd_port}
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      parameters:
        max_connections: 200
  initdb:
  - encoding: UTF8
  - locale: C
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:{port}
  connect_address: 127.0.0.1:{port}
  data_dir: {dir}/data
  bin_dir: {bin}
  pgpass: {dir}/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
  parameters:
    unix_socket_directories: '{dir}'
"#,
        pid = std::process::id(),
        name = node.name,
        api = node.api_port,
        port = node.pg_port,
        bin = pg_bin.display(),
    )
}

/// What the failover measured.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) acknowledged: usize,
    pub(crate) lost: usize,
    /// From the kill to the first acknowledged post after the last failed one.
    pub(crate) recovery_secs: Option<f64>,
    /// Posts answered with an error (or not at all) after the kill, each retried.
    pub(crate) failed_attempts: usize,
    pub(crate) verify_ok: bool,
    pub(crate) verify_summary: String,
    pub(crate) killed: String,
    pub(crate) new_leader: String,
}

struct Attempt {
    at: Instant,
    ok: bool,
}

/// Runs the failover: `secs` of load before the kill and after the recovery.
pub(crate) fn run(
    yinyom: &Path,
    dist: &Path,
    pg_bin: &Path,
    fixture: &Path,
    rt: &tokio::runtime::Runtime,
    secs: u64,
) -> Result<Report> {
    eprintln!("bench: starting etcd and three Patroni nodes");
    let mut cluster = Cluster::start(pg_bin)?;
    let first = cluster.leader().context("no leader")?;
    let admin = format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        cluster.nodes[first].pg_port
    );
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&admin).await?;
        sqlx::query("create database yinyom").execute(&pool).await?;
        pool.close().await;
        anyhow::Ok(())
    })?;
    let url = cluster.url("yinyom");
    import(yinyom, &url, fixture)?;
    let servers = [
        Yinyom::start(yinyom, &url, dist, None)?,
        Yinyom::start(yinyom, &url, dist, None)?,
    ];
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let url = servers[w % 2].url.clone();
            let (acked, attempts, stop) = (acked.clone(), attempts.clone(), stop.clone());
            std::thread::spawn(move || post_until_stopped(w, &url, &acked, &attempts, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    let killed = cluster.nodes[first].name.clone();
    eprintln!("bench: kill -9 of {killed} (the primary) under load");
    let kill_at = Instant::now();
    cluster.nodes[first].kill();
    // Posts fail until a standby is promoted and the servers find it; then run on.
    let deadline = kill_at + Duration::from_secs(120);
    let recovered_at = loop {
        std::thread::sleep(Duration::from_millis(200));
        let recovered = attempts.lock().ok().and_then(|a| {
            let last_fail = a
                .iter()
                .filter(|x| !x.ok && x.at >= kill_at)
                .map(|x| x.at)
                .max();
            a.iter()
                .filter(|x| x.ok && x.at >= kill_at && last_fail.is_none_or(|f| x.at > f))
                .map(|x| x.at)
                .min()
        });
        // Quiet for 2 s after the first success past the last failure: recovered.
        if let Some(at) = recovered
            && at.elapsed() > Duration::from_secs(2)
        {
            break Some(at);
        }
        if Instant::now() > deadline {
            break None;
        }
    };
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let new_leader = cluster
        .leader()
        .map_or_else(|| "none".to_owned(), |i| cluster.nodes[i].name.clone());
    let acked = acked.lock().map(|v| v.clone()).unwrap_or_default();
    let failed_attempts = attempts
        .lock()
        .map(|a| a.iter().filter(|x| !x.ok && x.at >= kill_at).count())
        .unwrap_or(0);
    let store = rt.block_on(Store::connect(&url))?;
    let mut lost = 0;
    for id in &acked {
        if rt.block_on(store.receipt("demo", id))?.is_none() {
            lost += 1;
        }
    }
    // The log appends what the servers acknowledged; verify it once it has caught up.
    let deadline = Instant::now() + Duration::from_secs(120);
    while rt.block_on(store.unsequenced("demo"))? > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(servers);
    let out = Command::new(yinyom)
        .args(["--database-url", &url, "log", "verify", "--site", "demo"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let verify_summary = match text.lines().find(|l| l.contains("leaves")) {
        Some(line) if out.status.success() => line.to_owned(),
        found => format!(
            "{} {}",
            found.unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    };
    Ok(Report {
        acknowledged: acked.len(),
        lost,
        recovery_secs: recovered_at.map(|at| (at - kill_at).as_secs_f64()),
        failed_attempts,
        verify_ok: out.status.success() && text.contains("intact"),
        verify_summary,
        killed,
        new_leader,
    })
}

/// One client: posts new receipts, retrying each failed post (same request id) until it is
/// acknowledged, as the widget does.
fn post_until_stopped(
    w: usize,
    url: &str,
    acked: &Mutex<Vec<String>>,
    attempts: &Mutex<Vec<Attempt>>,
    stop: &AtomicBool,
) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let id = uuid::Uuid::now_v7().to_string();
        let body = json!({"request_id": id, "subject_id": format!("subject-failover-{w:02}-{i:07}"), "notice_version": "v1",
            "consent_revision": 1, "method": "accept_all", "lang": "th", "categories": {"analytics": true},
            "purposes": {"newsletter": true}, "page_path": "/", "widget": "0000000000000000"});
        loop {
            // The receipt acknowledged: its id, from the answer.
            let receipt = match agent
                .post(&format!("{url}/v1/sites/demo/receipts"))
                .set("origin", crate::ORIGIN)
                .send_json(body.clone())
            {
                Ok(r) if r.status() == 201 || r.status() == 200 => r
                    .into_json::<serde_json::Value>()
                    .ok()
                    .and_then(|v| v["receipt"]["receipt_id"].as_str().map(str::to_owned)),
                _ => None,
            };
            if let Ok(mut a) = attempts.lock() {
                a.push(Attempt {
                    at: Instant::now(),
                    ok: receipt.is_some(),
                });
            }
            if let Some(receipt) = receipt {
                if let Ok(mut v) = acked.lock() {
                    v.push(receipt);
                }
                break;
            }
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
