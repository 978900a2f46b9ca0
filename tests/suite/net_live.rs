//! The live transport itself, over real loopback TCP (127.0.0.1, port 0): what every live
//! listener (proxy, echo server, per-client listeners) gets from `Transport::bind`.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::timeout;
use wschaos::net::{LISTEN_BACKLOG, Transport, any_loopback};

/// Well beyond the 128 that `tokio::net::TcpListener::bind` asks for, well within 4096.
const BURST: u32 = 600;

/// How long a connect may take: on loopback a queued connection completes in microseconds,
/// and a dropped SYN is retried only after 1 s.
const CONNECT_WINDOW: Duration = Duration::from_millis(800);

/// The kernel's cap on listen backlogs, when it says.
fn somaxconn() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?.trim().parse().ok()
}

#[tokio::test]
async fn a_live_listener_queues_a_burst_of_connections_nobody_has_accepted_yet() {
    assert!(wschaos::net::listen_backlog() >= LISTEN_BACKLOG);
    // A kernel that caps backlogs below the burst cannot show the difference; test what it can.
    let burst = BURST.min(somaxconn().unwrap_or(BURST));
    let listener = Transport::Live.bind(any_loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut connects = JoinSet::new();
    for _ in 0..burst {
        connects.spawn(async move { timeout(CONNECT_WINDOW, Transport::Live.connect(addr)).await });
    }
    let mut connected = Vec::new();
    let mut failed = 0;
    while let Some(result) = connects.join_next().await {
        match result.unwrap() {
            Ok(Ok(stream)) => connected.push(stream),
            _ => failed += 1,
        }
    }
    assert_eq!(
        failed,
        0,
        "{failed} of {burst} connections found the accept queue full (a SYN dropped) although nothing \
         else was queued; {} connected",
        connected.len()
    );
    drop(listener);
}
