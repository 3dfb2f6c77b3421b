//! A throwaway PostgreSQL cluster for the tests: `initdb` + `pg_ctl` from the machine's
//! PostgreSQL binaries, on a free port and a private socket directory, removed on drop.
//! When run as root, the server runs as the `postgres` user (PostgreSQL refuses root).

use crate::tools::{is_root, output, run};
use anyhow::{Context, Result, bail};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
};

pub(crate) struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The directory of PostgreSQL's server binaries (initdb, pg_ctl, postgres).
pub(crate) fn bindir() -> Result<PathBuf> {
    if let Some(dir) = output(Command::new("pg_config").arg("--bindir")) {
        let dir = PathBuf::from(dir.trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some(dir) = versions
        .into_iter()
        .rev()
        .find(|d| d.join("initdb").exists())
    {
        return Ok(dir);
    }
    bail!(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found. Install them with:\n    sudo apt-get install -y postgresql"
    )
}

impl Cluster {
    /// A cluster for tests: fsync off (fast; a test's data does not need to survive a
    /// power cut).
    pub(crate) fn start() -> Result<Self> {
        Self::start_with(false)
    }

    /// A cluster that syncs like production (fsync and synchronous_commit on), for the
    /// benchmark.
    pub(crate) fn start_durable() -> Result<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Result<Self> {
        let bin = bindir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("yinyom-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let as_postgres = is_root();
        let cluster = Cluster {
            dir,
            bin,
            port,
            as_postgres,
        };
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&cluster.dir))?;
        }
        let data = cluster.dir.join("data");
        run(cluster
            .pg("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .stdout(std::process::Stdio::null()))
        .context("initdb failed")?;
        // The settings go into postgresql.conf, not onto pg_ctl's command line, so that
        // a plain `pg_ctl start` (the fault tests stop and start the server) brings the
        // same server back.
        let mut settings = format!(
            "\nport = {port}\nunix_socket_directories = '{}'\nlisten_addresses = '127.0.0.1'\nfsync = {}\nmax_connections = 300\n",
            cluster.dir.display(),
            if durable { "on" } else { "off" }
        );
        if durable {
            // What a DBA sets on a production server instead of the defaults (128 MB of
            // buffers, 1 GB of WAL between checkpoints): the benchmark's tables outgrow
            // 128 MB, and both systems measured share this server.
            settings
                .push_str("shared_buffers = '2GB'\nwal_buffers = '64MB'\nmax_wal_size = '4GB'\n");
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).context("reading postgresql.conf")?;
        text.push_str(&settings);
        std::fs::write(&conf, text).context("writing postgresql.conf")?;
        run(cluster
            .pg("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(cluster.dir.join("server.log"))
            .args(["-w", "start"])
            .stdout(std::process::Stdio::null()))
        .with_context(|| {
            format!(
                "pg_ctl start failed; see {}",
                cluster.dir.join("server.log").display()
            )
        })?;
        Ok(cluster)
    }

    fn pg(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// A superuser URL (tests create one database each).
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// What lets a test stop and start this server (`server/tests/faults.rs`).
    pub(crate) fn control_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("YINYOM_TEST_PG_BIN", self.bin.display().to_string()),
            (
                "YINYOM_TEST_PG_DATA",
                self.dir.join("data").display().to_string(),
            ),
        ];
        if self.as_postgres {
            env.push(("YINYOM_TEST_PG_USER", "postgres".to_owned()));
        }
        env
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
