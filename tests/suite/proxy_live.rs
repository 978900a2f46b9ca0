//! One test per fault family through the proxy over real loopback TCP (127.0.0.1, port 0).
//! These assert behaviour, not speed: the windows below only bound how long a test may take.

use std::io::ErrorKind;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;
use wschaos::net::Transport;
use wschaos::scenario::{Direction, Fault};

use crate::support::{Harness, everyone, id};

/// Long enough for loopback to deliver anything it is going to deliver.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn live_reset_is_seen_as_connection_reset() {
    let mut harness = Harness::start(Transport::Live, 1, 0).await;
    let (mut client, _server) = harness.connect().await;
    client.write_all(b"hello").await.unwrap();
    harness.control.start(id(0), &Fault::Reset, &everyone());
    let mut buf = [0u8; 16];
    let error = timeout(PATIENCE, client.read(&mut buf)).await.expect("the reset arrives").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "an RST, not a FIN");
}

#[tokio::test]
async fn live_close_is_seen_as_eof() {
    let mut harness = Harness::start(Transport::Live, 1, 0).await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &Fault::Close, &everyone());
    let mut buf = [0u8; 16];
    assert_eq!(timeout(PATIENCE, client.read(&mut buf)).await.unwrap().unwrap(), 0);
    assert_eq!(timeout(PATIENCE, server.read(&mut buf)).await.unwrap().unwrap(), 0);
}

#[tokio::test]
async fn live_stall_is_silence_then_the_held_bytes() {
    let mut harness = Harness::start(Transport::Live, 1, 0).await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &Fault::Stall { direction: Direction::Downstream }, &everyone());
    harness.wait_for_hit(id(0)).await;
    server.write_all(b"held").await.unwrap();
    let mut buf = [0u8; 4];
    assert!(
        timeout(Duration::from_millis(300), client.read(&mut buf)).await.is_err(),
        "silence during the stall"
    );
    harness.control.stop(id(0));
    timeout(PATIENCE, client.read_exact(&mut buf)).await.unwrap().unwrap();
    assert_eq!(&buf, b"held", "released on the same connection");
    client.write_all(b"pong").await.unwrap();
    timeout(PATIENCE, server.read_exact(&mut buf)).await.unwrap().unwrap();
    assert_eq!(&buf, b"pong");
}

#[tokio::test]
async fn live_refusal_resets_at_once() {
    let mut harness = Harness::start(Transport::Live, 1, 0).await;
    harness.control.start(id(0), &Fault::Refuse, &everyone());
    let mut client = harness.net.connect(harness.proxy).await.unwrap();
    let mut buf = [0u8; 16];
    let outcome = timeout(PATIENCE, client.read(&mut buf)).await.expect("refused at once");
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert!(harness.upstream.try_recv().is_err(), "the upstream never saw it");
}
