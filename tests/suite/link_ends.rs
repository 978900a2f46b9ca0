//! When a link ends, on the sim network under paused time and once over loopback TCP: a link
//! whose client and server have both closed ends, blackholed or not (a blackhole swallows the
//! FIN, so neither peer learns of the other's close, but the proxy sees both), and later
//! faults count no hit on it; a link whose upgrade request the proxy holds ends when the
//! request is still incomplete after the handshake timeout.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wschaos::fault::FaultId;
use wschaos::net::Transport;
use wschaos::proxy::{CloseCause, EventKind, LinkId};
use wschaos::scenario::{ClientSelector, Direction, Fault, Links, Target};
use wschaos::wire::HANDSHAKE_TIMEOUT;
use wschaos::ws::Way;

use crate::support::{Harness, everyone, id};

fn blackhole(direction: Direction) -> Fault {
    Fault::Blackhole { direction }
}

/// Waits until link `link` closes; returns its cause.
async fn closed(harness: &mut Harness, link: u64) -> CloseCause {
    let events = harness
        .events_until(|kind| matches!(kind, EventKind::LinkClosed { link: l, .. } if *l == LinkId(link)))
        .await;
    match &events.last().expect("the awaited event").kind {
        EventKind::LinkClosed { cause, .. } => cause.clone(),
        _ => unreachable!("events_until ends with the awaited event"),
    }
}

/// The links `fault` was reported to hit among `events`.
fn hits(events: &[wschaos::proxy::ProxyEvent], fault: FaultId) -> Vec<Option<LinkId>> {
    events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::FaultHit { fault: hit, link } if hit == fault => Some(link),
            _ => None,
        })
        .collect()
}

/// A link blackholed both ways that lost bytes stays dead after the fault ends; once its client
/// and then its server close, it ends, and a reset of every link later hits only the two links
/// that have someone on them.
async fn both_peers_close_after_a_blackhole(net: Transport) {
    let mut harness = Harness::start(net, 1, 0).await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &blackhole(Direction::Both), &everyone());
    harness.wait_for_hit(id(0)).await;
    // Bytes that cannot start an HTTP head (a TLS record's first byte): the observer gives up
    // on each way as the proxy reads them, the signal that the blackhole swallowed them.
    client.write_all(b"\x16lost").await.unwrap();
    server.write_all(b"\x16lost too").await.unwrap();
    for way in Way::BOTH {
        harness.wait_for(|kind| matches!(kind, EventKind::ObserverStopped { way: w, .. } if *w == way)).await;
    }
    harness.control.stop(id(0));
    harness.wait_for(|kind| matches!(kind, EventKind::FaultEnded { .. })).await;
    client.shutdown().await.unwrap();
    drop(client);
    server.shutdown().await.unwrap();
    drop(server);
    assert_eq!(closed(&mut harness, 0).await, CloseCause::Finished, "no peer is left on link 0");
    assert_eq!(harness.control.open_links(), 0);
    let _live = [harness.connect().await, harness.connect().await];
    harness.control.start(id(1), &Fault::Reset, &everyone());
    let mut events = Vec::new();
    for link in [1, 2] {
        let link_closed =
            |kind: &EventKind| matches!(kind, EventKind::LinkClosed { link: l, .. } if *l == LinkId(link));
        if !events.iter().any(|event: &wschaos::proxy::ProxyEvent| link_closed(&event.kind)) {
            events.extend(harness.events_until(link_closed).await);
        }
    }
    let mut hit = hits(&events, id(1));
    hit.sort();
    assert_eq!(hit, [Some(LinkId(1)), Some(LinkId(2))], "two clients connected, two hits");
}

#[tokio::test(start_paused = true)]
async fn a_link_ends_when_both_peers_closed_after_a_blackhole() {
    both_peers_close_after_a_blackhole(Transport::sim()).await;
}

#[tokio::test]
async fn live_a_link_ends_when_both_peers_closed_after_a_blackhole() {
    tokio::time::timeout(Duration::from_secs(30), both_peers_close_after_a_blackhole(Transport::Live))
        .await
        .expect("bounded");
}

#[tokio::test(start_paused = true)]
async fn a_link_ends_when_both_peers_close_during_a_blackhole() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &blackhole(Direction::Upstream), &everyone());
    harness.wait_for_hit(id(0)).await;
    // The client's FIN is swallowed, so the server never learns of it and closes on its own;
    // its FIN crosses the open way.
    client.shutdown().await.unwrap();
    drop(client);
    server.shutdown().await.unwrap();
    drop(server);
    assert_eq!(closed(&mut harness, 0).await, CloseCause::Finished);
    harness.control.stop(id(0));
    assert_eq!(harness.control.open_links(), 0);
}

/// A `reject_handshake` for client 1 only: every new link holds its upgrade request until the
/// request says which client it is.
fn reject_client_one() -> (Fault, Target) {
    let fault = Fault::RejectHandshake { status: 503, retry_after: None };
    (fault, Target { clients: ClientSelector::Indices(vec![1]), links: Links::All })
}

const UNFINISHED_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: proxy\r\nUpgrade: websocket\r\n";

#[tokio::test(start_paused = true)]
async fn a_held_request_still_incomplete_after_the_handshake_timeout_is_closed() {
    let mut harness = Harness::start(Transport::sim(), 1, 2).await;
    let (fault, target) = reject_client_one();
    harness.control.start(id(0), &fault, &target);
    let t0 = Instant::now();
    let (mut client, mut server) = harness.connect().await;
    // A slowloris: the request starts and never ends.
    client.write_all(UNFINISHED_REQUEST).await.unwrap();
    assert_eq!(closed(&mut harness, 0).await, CloseCause::HandshakeTimeout);
    assert_eq!(t0.elapsed(), HANDSHAKE_TIMEOUT, "closed the moment the timeout passed");
    let mut buf = [0u8; 64];
    assert_eq!(client.read(&mut buf).await.unwrap(), 0, "the client sees a close");
    assert_eq!(server.read(&mut buf).await.unwrap(), 0, "the server saw nothing, then a close");
    assert_eq!(harness.control.open_links(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_held_request_that_completes_in_time_keeps_its_link() {
    let mut harness = Harness::start(Transport::sim(), 1, 2).await;
    let (fault, target) = reject_client_one();
    harness.control.start(id(0), &fault, &target);
    let (mut client, mut server) = harness.connect().await;
    client.write_all(UNFINISHED_REQUEST).await.unwrap();
    tokio::time::sleep(HANDSHAKE_TIMEOUT / 2).await;
    let rest = b"x-wschaos-client: 0\r\n\r\n";
    client.write_all(rest).await.unwrap();
    let mut request = vec![0u8; UNFINISHED_REQUEST.len() + rest.len()];
    server.read_exact(&mut request).await.unwrap();
    assert!(request.ends_with(rest), "client 0 is not rejected: its request goes on whole");
    tokio::time::sleep(HANDSHAKE_TIMEOUT * 6).await;
    assert_eq!(harness.control.open_links(), 1, "an idle link after its handshake stays open");
    let events = harness.drain_events();
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::LinkClosed { .. })), "{events:?}");
}
