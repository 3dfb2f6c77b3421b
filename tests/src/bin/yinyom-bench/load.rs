//! The load generator: plain HTTP/1.1 keep-alive connections on tokio, one request at a
//! time per connection, so every system is measured by the same client.
//!
//! - [`closed`]: `connections` clients, each sending its next request as soon as the last
//!   one is answered (what wrk does). Shows throughput at a given concurrency, but a slow
//!   server slows its own clients down, so queueing is hidden.
//! - [`open`]: requests are *scheduled* at a fixed rate, as visitors arrive, whatever the
//!   server does; each one's latency is measured from its scheduled time, so time spent
//!   waiting for a free connection counts (no coordinated omission). Requests still
//!   unanswered when the run ends count as slower than any answered one.

use std::{
    io,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::{net::TcpStream, sync::Mutex};

/// What to send: the server's address and a function that makes the `n`th request
/// (the whole HTTP/1.1 message, body included).
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) request: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
}

impl Target {
    /// A target posting JSON bodies made by `body(n)` to `path` at `url`'s host, with the
    /// `Accept-Encoding` a browser sends (Chromium's): a server that compresses its answers
    /// pays for it here as it would for visitors.
    pub(crate) fn post_json(
        url: &str,
        path: &str,
        origin: &str,
        body: impl Fn(u64) -> String + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let host = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("not an http:// URL: {url}"))?
            .trim_end_matches('/')
            .to_owned();
        let addr: SocketAddr = host.parse()?;
        let (path, origin) = (path.to_owned(), origin.to_owned());
        Ok(Self {
            addr,
            request: Arc::new(move |n| {
                let body = body(n);
                format!(
                    "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nOrigin: {origin}\r\nAccept-Encoding: {BROWSER_ACCEPT_ENCODING}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }),
        })
    }
}

/// What Chromium sends as `Accept-Encoding` on every request.
pub(crate) const BROWSER_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// What one run measured.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Run {
    /// Requests per second scheduled (open loop; 0 for closed loop).
    pub(crate) offered: f64,
    /// Requests answered 2xx per second of the run.
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Answers that were not 2xx, and requests that failed or were never answered.
    pub(crate) errors: u64,
    /// Requests answered 2xx.
    pub(crate) ok: u64,
}

impl Run {
    /// Whether an open-loop run held its rate: p99 within `p99_ms`, nothing failed.
    pub(crate) fn held(&self, p99_ms: f64) -> bool {
        self.errors == 0 && self.p99_ms <= p99_ms
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summarize(mut lat_ms: Vec<f64>, ok: u64, errors: u64, secs: f64, offered: f64) -> Run {
    lat_ms.sort_by(|a, b| a.total_cmp(b));
    Run {
        offered,
        rps: ok as f64 / secs,
        p50_ms: percentile(&lat_ms, 0.5),
        p99_ms: percentile(&lat_ms, 0.99),
        errors,
        ok,
    }
}

/// One keep-alive connection.
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    async fn open(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            addr,
            stream: Some(stream),
            buf: Vec::with_capacity(8192),
        })
    }

    /// Sends `req` and reads the answer; returns its status. A kept-alive connection the
    /// server has closed meanwhile is reopened and the request sent again once, as
    /// browsers do.
    async fn send(&mut self, req: &[u8]) -> io::Result<u16> {
        let reused = self.stream.is_some();
        match self.try_send(req).await {
            Ok(s) => Ok(s),
            Err(_) if reused => {
                self.stream = None;
                self.try_send(req).await
            }
            Err(e) => Err(e),
        }
    }

    async fn try_send(&mut self, req: &[u8]) -> io::Result<u16> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let result = self.exchange(req).await;
        if !matches!(result, Ok((_, true))) {
            self.stream = None;
        }
        result.map(|(status, _)| status)
    }

    /// Writes the request, reads one answer; the flag says whether the connection can be
    /// used again.
    async fn exchange(&mut self, req: &[u8]) -> io::Result<(u16, bool)> {
        let stream = self
            .stream
            .as_ref()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let mut sent = 0;
        while sent < req.len() {
            stream.writable().await?;
            match stream.try_write(&req[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            read_more(stream, &mut self.buf).await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status line"))?;
        let (mut length, mut chunked, mut close) = (0usize, false, false);
        for line in head.split("\r\n").skip(1) {
            if let Some((k, v)) = line.split_once(':') {
                let v = v.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = v.eq_ignore_ascii_case("chunked");
                } else if k.eq_ignore_ascii_case("connection") {
                    close = v.eq_ignore_ascii_case("close");
                }
            }
        }
        if chunked {
            while !self.buf[head_end..].ends_with(b"0\r\n\r\n") {
                read_more(stream, &mut self.buf).await?;
            }
        } else {
            while self.buf.len() < head_end + length {
                read_more(stream, &mut self.buf).await?;
            }
        }
        Ok((status, !close))
    }
}

async fn read_more(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    loop {
        stream.readable().await?;
        buf.reserve(8192);
        match stream.try_read_buf(buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// Requests numbered across all runs, so every request of a run is new to the server.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Closed loop: `connections` clients for `secs` seconds.
pub(crate) async fn closed(target: &Target, connections: usize, secs: f64) -> io::Result<Run> {
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(target.addr).await?);
    }
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let request = target.request.clone();
            tokio::spawn(async move {
                let (mut lat, mut ok, mut errors) = (Vec::new(), 0u64, 0u64);
                while Instant::now() < end {
                    let req = request(SEQ.fetch_add(1, Ordering::Relaxed));
                    let t = Instant::now();
                    match conn.send(&req).await {
                        Ok(s) if (200..300).contains(&s) => {
                            ok += 1;
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => errors += 1,
                    }
                }
                (lat, ok, errors)
            })
        })
        .collect();
    let (mut lat, mut ok, mut errors) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, o, e) = t.await.map_err(io::Error::other)?;
        lat.extend(l);
        ok += o;
        errors += e;
    }
    Ok(summarize(
        lat,
        ok,
        errors,
        start.elapsed().as_secs_f64(),
        0.0,
    ))
}

/// Open loop: `rate` requests per second for `secs` seconds, latency from each request's
/// scheduled time.
pub(crate) async fn open(target: &Target, rate: f64, secs: f64) -> io::Result<Run> {
    // Room for 4× the concurrency a 25 ms answer needs at this rate.
    let connections = ((rate / 10.0) as usize).clamp(16, 512);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(target.addr).await?);
    }
    let total = (rate * secs).round() as u64;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let rx = Arc::new(Mutex::new(rx));
    let start = Instant::now() + Duration::from_millis(20);
    let scheduler = tokio::spawn(async move {
        for i in 0..total {
            let at = start + Duration::from_secs_f64(i as f64 / rate);
            if at > Instant::now() {
                tokio::time::sleep_until(at.into()).await;
            }
            if tx.send(at).is_err() {
                break;
            }
        }
    });
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let (request, rx) = (target.request.clone(), rx.clone());
            tokio::spawn(async move {
                let (mut lat, mut ok, mut errors) = (Vec::new(), 0u64, 0u64);
                loop {
                    let Some(at) = rx.lock().await.recv().await else {
                        break;
                    };
                    let req = request(SEQ.fetch_add(1, Ordering::Relaxed));
                    match conn.send(&req).await {
                        Ok(s) if (200..300).contains(&s) => {
                            ok += 1;
                            lat.push(at.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => errors += 1,
                    }
                }
                (lat, ok, errors)
            })
        })
        .collect();
    let _ = scheduler.await;
    // Whatever is still queued or in flight a few seconds after the last scheduled time
    // has waited far longer than any budget: stop, and count it as unanswered.
    let grace = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(grace);
    let (mut lat, mut ok, mut errors) = (Vec::new(), 0, 0);
    for mut t in tasks {
        tokio::select! {
            biased;
            r = &mut t => {
                let (l, o, e) = r.map_err(io::Error::other)?;
                lat.extend(l);
                ok += o;
                errors += e;
            }
            () = &mut grace => t.abort(),
        }
    }
    let secs = start.elapsed().as_secs_f64().min(secs + 3.0);
    let answered = lat.len() as u64 + errors;
    let unanswered = total.saturating_sub(answered);
    errors += unanswered;
    lat.extend(std::iter::repeat_n(f64::INFINITY, unanswered as usize));
    Ok(summarize(lat, ok, errors, secs, rate))
}

/// The open-loop rates tried, lowest first: roughly ×1.5 per step from 10/s.
pub(crate) fn rates(max: f64) -> Vec<f64> {
    [
        10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0,
        3000.0, 4000.0, 5000.0, 6000.0, 7500.0, 10_000.0, 12_500.0, 15_000.0, 20_000.0,
    ]
    .into_iter()
    .filter(|r| *r <= max)
    .collect()
}
