//! The real `yinyom` binary, killed with SIGKILL while receipts stream in: every receipt
//! that was acknowledged with 201 is there after a restart, and the log is intact.
//! (Full disks and a stopped PostgreSQL: `faults.rs`.)

mod common;

use common::binary::{
    assert_all_stored, free_port, fresh_url, start, stop_visitors, visitors, wait_until,
};
use std::time::Duration;

#[test]
fn acknowledged_receipts_survive_sigkill() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let url = fresh_url(&rt, dir.path());
    let port = free_port();
    let mut server = start(&url, port, dir.path());

    let (seen, stop, workers) = visitors(port, 8, "kill", true);
    wait_until(Duration::from_secs(30), || seen.acked() >= 200);
    server.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
    server.wait().expect("reaped");
    stop_visitors(&stop, workers);
    let acked = seen.acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 50,
        "only {} receipts were acknowledged",
        acked.len()
    );
    assert!(
        seen.unexpected.lock().expect("lock").is_empty(),
        "{:?}",
        seen.unexpected
    );

    // The restarted server's sequencer catches up; the log stays intact.
    let mut server = start(&url, port, dir.path());
    assert_all_stored(&rt, &url, &acked);
    server.kill().expect("stop");
    let _ = server.wait();
    eprintln!(
        "{} acknowledged receipts, all present after SIGKILL",
        acked.len()
    );
}
