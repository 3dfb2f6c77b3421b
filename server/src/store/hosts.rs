//! PostgreSQL URLs that name several hosts, as libpq takes them for a primary with
//! standbys (Patroni and the like):
//! `postgres://user@db1:5432,db2:5432,db3:5432/yinyom?target_session_attrs=read-write`.
//!
//! sqlx 0.8 connects to one host: its URL parser reads a single authority and ignores
//! `target_session_attrs` (launchbadge/sqlx has no multi-host support). So the store
//! resolves the list itself, as libpq does: it tries the hosts in order and takes the
//! first whose session accepts writes (`show transaction_read_only` is `off`). Every new
//! connection of the pool checks that again, and a watcher asks a pooled connection once a
//! second whether it still accepts writes; when not (the primary died or was demoted), it
//! looks for the new primary and points the pool's future connections at it. Posts made
//! meanwhile are answered 503 after the pool's acquire timeout; the widget retries them.

use super::{Result, StoreError};
use sqlx::{
    Connection, PgConnection, Row,
    postgres::{PgConnectOptions, PgPool},
};
use std::{str::FromStr, time::Duration};

/// How long one host may take to accept a connection while the list is searched.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the watcher checks that the pool still writes to a primary.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The hosts of a multi-host URL, each as a single-host URL sqlx can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hosts {
    /// One URL per host, in the order given.
    pub(super) urls: Vec<String>,
    /// `target_session_attrs=read-write` (or `primary`): only a writable session will do.
    pub(super) read_write: bool,
}

/// The hosts of `url` if it names more than one (`None` for an ordinary URL).
pub(super) fn parse(url: &str) -> Result<Option<Hosts>> {
    let bad = || StoreError::BadUrl(url.to_owned());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostlist) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    if !hostlist.contains(',') {
        return Ok(None);
    }
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut read_write = false;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("target_session_attrs", v)) => {
                read_write = match v {
                    "read-write" | "primary" => true,
                    "any" => false,
                    // The server writes: a read-only or standby session is of no use.
                    _ => return Err(bad()),
                }
            }
            _ => kept.push(pair),
        }
    }
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    let urls = hostlist
        .split(',')
        .map(|host| {
            if host.is_empty() {
                Err(bad())
            } else {
                Ok(format!("{scheme}://{userinfo}{host}{path}{query}"))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Hosts { urls, read_write }))
}

/// Whether this session accepts writes (what libpq checks for `read-write`).
pub(super) async fn writable(conn: &mut PgConnection) -> std::result::Result<bool, sqlx::Error> {
    let row = sqlx::query("show transaction_read_only")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<String, _>(0)? == "off")
}

/// The first host, in order, that answers (and accepts writes, if asked).
pub(super) async fn find(hosts: &Hosts) -> Result<PgConnectOptions> {
    let mut last = String::from("no host answered");
    for url in &hosts.urls {
        let opts = PgConnectOptions::from_str(url)?;
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&opts)).await {
            Ok(Ok(mut conn)) => {
                let ok = !hosts.read_write || writable(&mut conn).await.unwrap_or(false);
                let _ = conn.close().await;
                if ok {
                    return Ok(opts);
                }
                last = format!("{} accepts no writes", opts.get_host());
            }
            Ok(Err(e)) => last = format!("{}: {e}", opts.get_host()),
            Err(_) => last = format!("{}: no answer", opts.get_host()),
        }
    }
    Err(StoreError::Unavailable(format!(
        "no PostgreSQL host of the list accepts writes ({last})"
    )))
}

/// Keeps `pool` pointed at a writable host until the pool is closed.
pub(super) fn watch(pool: PgPool, hosts: Hosts) {
    tokio::spawn(async move {
        while !pool.is_closed() {
            tokio::time::sleep(WATCH_EVERY).await;
            let healthy = match tokio::time::timeout(CONNECT_TIMEOUT, pool.acquire()).await {
                Ok(Ok(mut conn)) => !hosts.read_write || writable(&mut conn).await.unwrap_or(false),
                _ => false,
            };
            if healthy {
                continue;
            }
            match find(&hosts).await {
                Ok(opts) => {
                    if opts.get_host() != pool.connect_options().get_host()
                        || opts.get_port() != pool.connect_options().get_port()
                    {
                        tracing::warn!(
                            host = opts.get_host(),
                            port = opts.get_port(),
                            "PostgreSQL primary moved; new connections go there"
                        );
                    }
                    pool.set_connect_options(opts);
                }
                Err(e) => tracing::warn!(error = %e, "looking for the PostgreSQL primary"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{Hosts, parse};

    #[test]
    fn a_host_list_becomes_one_url_per_host() {
        let hosts = parse(
            "postgres://app:pw@db1:5432,db2,[::1]:5434/yinyom?sslmode=disable&target_session_attrs=read-write",
        )
        .ok()
        .flatten();
        assert_eq!(
            hosts,
            Some(Hosts {
                urls: vec![
                    "postgres://app:pw@db1:5432/yinyom?sslmode=disable".to_owned(),
                    "postgres://app:pw@db2/yinyom?sslmode=disable".to_owned(),
                    "postgres://app:pw@[::1]:5434/yinyom?sslmode=disable".to_owned(),
                ],
                read_write: true,
            })
        );
    }

    #[test]
    fn one_host_is_left_to_sqlx_and_standby_targets_are_refused() {
        assert_eq!(
            parse("postgres://u@db1:5432/y?target_session_attrs=read-write")
                .ok()
                .flatten(),
            None
        );
        assert!(parse("postgres://u@db1,db2/y?target_session_attrs=standby").is_err());
        assert!(parse("postgres://u@db1,,db2/y").is_err());
    }
}
