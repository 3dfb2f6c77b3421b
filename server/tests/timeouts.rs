//! A slow or silent client cannot hold a connection open: the request head, the body and
//! an idle keep-alive connection are bounded (the real server, a raw TCP client).

mod common;

use std::time::Duration;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use yinyom_server::{Server, config::ServeArgs};

/// Sends `data`, then reads until the server closes the connection; what it answered.
/// The guard only keeps a broken server from hanging the test.
async fn closed_after(addr: std::net::SocketAddr, data: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(data).await.expect("write");
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open: {}",
        String::from_utf8_lossy(&got)
    );
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn partial_requests_and_idle_connections_are_closed() {
    let dir = tempfile::tempdir().expect("dir");
    let store = common::store(dir.path()).await;
    yinyom_server::sites::import(&store, &common::fixture())
        .await
        .expect("import");
    let args = ServeArgs {
        listen: "127.0.0.1:0".parse().expect("addr"),
        public_url: None,
        dist: dir.path().join("dist"),
        pages: None,
        pages_listen: "127.0.0.1:0".parse().expect("addr"),
        pages_webhook_secrets: None,
        rate_limit: 0,
        rate_burst: 1,
        trusted_proxies: 0,
        trust_forwarded_for: false,
        checkpoint_secs: 1,
        self_check_interval: 0,
        witnesses: Vec::new(),
        witness_quorum: None,
        signing_key: vec![common::key_files(dir.path()).0.display().to_string()],
        log_key: vec![common::key_files(dir.path()).1.display().to_string()],
        subject_key: common::subject_key_file(dir.path()),
        pkcs11_module: None,
        header_timeout_secs: 1,
        body_timeout_secs: 1,
    };
    let server = Server::bind(store, &args).await.expect("bind");
    let addr = server.api_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));

    // Nothing at all, and half a request head.
    assert_eq!(closed_after(addr, b"").await, "");
    assert_eq!(
        closed_after(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await,
        ""
    );
    // A whole head, then half the body it announced.
    let res = closed_after(
        addr,
        b"POST /v1/sites/demo/receipts HTTP/1.1\r\nHost: x\r\nOrigin: https://www.demo.go.th\r\n\
          Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"request_id\":",
    )
    .await;
    assert!(
        res.is_empty() || res.starts_with("HTTP/1.1 4"),
        "refused or closed: {res}"
    );
    // A complete request is answered; the idle keep-alive connection is then closed.
    let res = closed_after(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.ends_with("ok\n"), "{res}");

    let _ = tx.send(());
    task.await.expect("join").expect("served");
}
