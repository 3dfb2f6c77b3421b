//! Receipt ingest against c15t's self-hosted backend (`@c15t/backend` 2.2.1, the open-source
//! consent backend with a server; `cargo xtask bench` installs it, pinned, into
//! target/bench/c15t), both on SQLite and on PostgreSQL, measured in the same
//! run by the same load generator ([`crate::load`]), one system after the other.
//!
//! c15t runs standalone as its docs describe self-hosting: a small ESM server
//! ([`SERVER_MJS`]) builds a kysely instance (better-sqlite3 in WAL mode with
//! `synchronous=FULL`, as Yinyom's SQLite; or node-postgres), wraps it with the backend's
//! `kyselyAdapter`, runs the backend's migrator once, and serves `c15tInstance` (one
//! default opt-in policy) with `@hono/node-server`. A consent is `POST /subjects` with the
//! body c15t's browser client sends.

use crate::load::{self, Run, Target};
use anyhow::{Context, Result, bail};
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// c15t's standalone server: `node server.mjs sqlite FILE PORT` or
/// `node server.mjs postgres URL PORT`.
pub(crate) const SERVER_MJS: &str = r#"import { serve } from '@hono/node-server';
import { c15tInstance, policyBuilder } from '@c15t/backend';
import { kyselyAdapter } from '@c15t/backend/db/adapters/kysely';
import { migrator } from '@c15t/backend/db/migrator';
import { DB } from '@c15t/backend/db/schema';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';

const [kind, target, port] = process.argv.slice(2);
let db;
let provider;
if (kind === 'sqlite') {
  const { default: Database } = await import('better-sqlite3');
  const file = new Database(target);
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = FULL');
  db = new Kysely({ dialect: new SqliteDialect({ database: file }) });
  provider = 'sqlite';
} else {
  const { default: pg } = await import('pg');
  db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target, max: 10 }) }) });
  provider = 'postgresql';
}
const adapter = kyselyAdapter({ db, provider });
const migration = await migrator({ db: DB.client(adapter), schema: 'latest' });
if (typeof migration.execute === 'function') await migration.execute();
const c15t = c15tInstance({
  basePath: '/api/c15t',
  trustedOrigins: ['https://www.demo.go.th'],
  adapter,
  policyPacks: policyBuilder.createPackWithDefault([], {
    id: 'default',
    model: 'opt-in',
    categories: ['necessary', 'measurement', 'marketing'],
  }),
});
serve({ fetch: c15t.handler, port: Number(port), hostname: '127.0.0.1' }, () => console.log('ready'));
"#;

/// A running c15t backend.
pub(crate) struct C15t {
    child: Child,
    pub(crate) url: String,
}

impl C15t {
    /// Starts c15t from `dir` (where its node_modules are) on `kind` (`sqlite` or
    /// `postgres`) at `target` (a file or a URL).
    pub(crate) fn start(dir: &Path, kind: &str, target: &str, log: &Path) -> Result<Self> {
        std::fs::write(dir.join("server.mjs"), SERVER_MJS)?;
        let port = crate::free_port()?;
        let child = Command::new("node")
            .current_dir(dir)
            .arg("server.mjs")
            .arg(kind)
            .arg(target)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .context("start node (apt-get install nodejs)")?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = format!("{url}/api/c15t/status");
        loop {
            match ureq::get(&status).call() {
                Ok(_) | Err(ureq::Error::Status(..)) => break,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(e) => bail!("c15t did not start ({e}); see {}", log.display()),
            }
        }
        Ok(Self { child, url })
    }

    /// The load target: a new visitor's cookie-banner consent per request.
    pub(crate) fn target(&self) -> Result<Target> {
        let salt = std::process::id() as u64;
        Target::post_json(&self.url, "/api/c15t/subjects", crate::ORIGIN, move |n| {
            format!(
                r#"{{"type":"cookie_banner","subjectId":"sub_{}","domain":"www.demo.go.th","preferences":{{"necessary":true,"measurement":true,"marketing":false}},"givenAt":{},"consentAction":"custom","uiSource":"banner"}}"#,
                base58((salt << 40) | n),
                yinyom_server::store::now_ms()
            )
        })
    }
}

impl Drop for C15t {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// c15t's subject ids are `sub_` and base58.
fn base58(mut n: u64) -> String {
    const DIGITS: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 58) as usize]);
        n /= 58;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The same load for Yinyom: a new visitor's receipt per request, with a random (version 4)
/// request id, as the loader makes it (`crypto.randomUUID`).
pub(crate) fn yinyom_target(url: &str) -> Result<Target> {
    let salt = std::process::id();
    Target::post_json(url, "/v1/sites/demo/receipts", crate::ORIGIN, move |n| {
        format!(
            r#"{{"request_id":"{}","subject_id":"subject-bench-{salt}-{n}","notice_version":"v1","consent_revision":1,"method":"accept_all","lang":"th","categories":{{"analytics":true}},"purposes":{{"newsletter":true}},"page_path":"/","widget":"0000000000000000"}}"#,
            uuid::Uuid::new_v4()
        )
    })
}

/// One system's figures on one store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Figures {
    pub(crate) closed16: Run,
    pub(crate) closed256: Run,
    /// Every open-loop step run, lowest rate first.
    pub(crate) steps: Vec<Run>,
    /// Bytes the database grew by, per request answered 2xx.
    pub(crate) bytes_per_request: f64,
}

impl Figures {
    /// The highest rate held with p99 ≤ `budget` ms and no failure (0 if none).
    pub(crate) fn held(&self, budget: f64) -> Option<Run> {
        self.steps
            .iter()
            .filter(|r| r.held(budget))
            .max_by(|a, b| a.offered.total_cmp(&b.offered))
            .copied()
    }

    fn answered(&self) -> u64 {
        self.closed16.ok + self.closed256.ok + self.steps.iter().map(|r| r.ok).sum::<u64>()
    }
}

/// How much a database holds now: the pages in use of a SQLite file (read through its
/// WAL, so what is committed counts whether or not it was checkpointed yet), or a
/// PostgreSQL database's size.
pub(crate) fn db_bytes(rt: &tokio::runtime::Runtime, target: &str) -> Result<u64> {
    rt.block_on(async {
        let n: i64 = if target.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(target).await?;
            let n = sqlx::query_scalar("select pg_database_size(current_database())")
                .fetch_one(&pool)
                .await?;
            pool.close().await;
            n
        } else {
            let path = target.strip_prefix("sqlite://").unwrap_or(target);
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}")).await?;
            let n = sqlx::query_scalar(
                "select (p.page_count - f.freelist_count) * s.page_size \
                 from pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s",
            )
            .fetch_one(&pool)
            .await?;
            pool.close().await;
            n
        };
        anyhow::Ok(n.max(0) as u64)
    })
}

/// The same measurements for both systems, alternating, on one store.
pub(crate) struct Pair<'a> {
    pub(crate) rt: &'a tokio::runtime::Runtime,
    pub(crate) yinyom: (Target, String),
    pub(crate) c15t: (Target, String),
    pub(crate) secs: f64,
    pub(crate) rounds: usize,
    pub(crate) max_rate: f64,
    pub(crate) budget_ms: f64,
}

impl Pair<'_> {
    pub(crate) fn measure(&self) -> Result<(Figures, Figures)> {
        let (mut y, mut c) = (Figures::default(), Figures::default());
        let y0 = db_bytes(self.rt, &self.yinyom.1)?;
        let c0 = db_bytes(self.rt, &self.c15t.1)?;
        // Closed loop, 16 then 256 connections, the two systems taking turns; the run
        // with the median rate of `rounds` is kept.
        for conns in [16usize, 256] {
            let (mut ys, mut cs) = (Vec::new(), Vec::new());
            for _ in 0..self.rounds {
                ys.push(
                    self.rt
                        .block_on(load::closed(&self.yinyom.0, conns, self.secs))?,
                );
                cs.push(
                    self.rt
                        .block_on(load::closed(&self.c15t.0, conns, self.secs))?,
                );
            }
            let (ym, cm) = (median_run(ys), median_run(cs));
            eprintln!(
                "bench:   closed {conns}: yinyom {:.0}/s p99 {:.1} ms; c15t {:.0}/s p99 {:.1} ms",
                ym.rps, ym.p99_ms, cm.rps, cm.p99_ms
            );
            if conns == 16 {
                (y.closed16, c.closed16) = (ym, cm);
            } else {
                (y.closed256, c.closed256) = (ym, cm);
            }
        }
        // Open loop: each system steps up until a rate is not held twice in a row.
        let (mut y_on, mut c_on) = (0u8, 0u8);
        for rate in load::rates(self.max_rate) {
            for (fig, misses, target, name) in [
                (&mut y, &mut y_on, &self.yinyom.0, "yinyom"),
                (&mut c, &mut c_on, &self.c15t.0, "c15t"),
            ] {
                if *misses >= 2 {
                    continue;
                }
                let run = self.rt.block_on(load::open(target, rate, self.secs))?;
                eprintln!(
                    "bench:   open {rate:.0}/s: {name} p50 {:.1} ms p99 {:.1} ms errors {}",
                    run.p50_ms, run.p99_ms, run.errors
                );
                *misses = if run.held(self.budget_ms) {
                    0
                } else {
                    *misses + 1
                };
                fig.steps.push(run);
            }
            if y_on >= 2 && c_on >= 2 {
                break;
            }
        }
        let y1 = db_bytes(self.rt, &self.yinyom.1)?;
        let c1 = db_bytes(self.rt, &self.c15t.1)?;
        y.bytes_per_request = y1.saturating_sub(y0) as f64 / y.answered().max(1) as f64;
        c.bytes_per_request = c1.saturating_sub(c0) as f64 / c.answered().max(1) as f64;
        Ok((y, c))
    }
}

fn median_run(mut v: Vec<Run>) -> Run {
    v.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    v.get(v.len() / 2).copied().unwrap_or_default()
}
