//! The proxy's control plane on the sim network: targeting drawn once from the seed, runtime
//! control that cannot hang, the events it reports, and the timeline player.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wschaos::fault::FaultId;
use wschaos::net::{Stream, Transport};
use wschaos::proxy::timeline::{self, Action};
use wschaos::proxy::{CloseCause, EventKind, LinkId};
use wschaos::scenario::{ClientSelector, Direction, Fault, FrameKind, Links, Scenario, Target};
use wschaos::ws::Way;

use crate::support::{Harness, everyone, id};

fn with_probability(p: f64) -> Target {
    Target { clients: ClientSelector::Probability(p), links: Links::All }
}

/// Which of `links` a reset reached.
async fn reset_ones(links: &mut [(Stream, Stream)]) -> BTreeSet<usize> {
    let mut reset = BTreeSet::new();
    for (index, (client, _)) in links.iter_mut().enumerate() {
        let mut byte = [0u8; 1];
        if let Ok(Err(error)) = tokio::time::timeout(Duration::from_millis(1), client.read(&mut byte)).await {
            assert_eq!(error.kind(), ErrorKind::ConnectionReset);
            reset.insert(index);
        }
    }
    reset
}

async fn reset_with_probability(seed: u64, p: f64) -> BTreeSet<usize> {
    let mut harness = Harness::start(Transport::sim(), seed, 0).await;
    let mut links = Vec::new();
    for _ in 0..40 {
        links.push(harness.connect().await);
    }
    // Unrelated faults starting and stopping must not re-roll anything.
    harness.control.start(id(1), &Fault::Stall { direction: Direction::Upstream }, &with_probability(0.5));
    harness.control.stop(id(1));
    harness.control.start(id(0), &Fault::Reset, &with_probability(p));
    // A reset link reports its hit before it resets the client, so once the links have been
    // read every hit is out.
    let reset = reset_ones(&mut links).await;
    let hit: BTreeSet<LinkId> = harness
        .drain_events()
        .into_iter()
        .filter_map(|event| match event.kind {
            EventKind::FaultHit { fault, link: Some(link) } if fault == id(0) => Some(link),
            _ => None,
        })
        .collect();
    assert_eq!(
        hit.iter().map(|link| link.0 as usize).collect::<BTreeSet<_>>(),
        reset,
        "a hit event per reset link"
    );
    reset
}

#[tokio::test(start_paused = true)]
async fn probability_picks_links_from_the_seed_and_zero_has_no_effect() {
    let first = reset_with_probability(9, 0.5).await;
    assert!(first.len() > 8 && first.len() < 32, "about half of 40: {}", first.len());
    assert_eq!(reset_with_probability(9, 0.5).await, first, "the same seed picks the same links");
    assert_ne!(reset_with_probability(10, 0.5).await, first, "another seed picks others");
    assert!(reset_with_probability(9, 0.0).await.is_empty(), "probability 0 hits nothing");
    assert_eq!(reset_with_probability(9, 1.0).await.len(), 40);
}

#[tokio::test(start_paused = true)]
async fn share_and_indices_pick_identified_clients() {
    let mut harness = Harness::start(Transport::sim(), 3, 10).await;
    let mut links = Vec::new();
    for client in 0..10 {
        let (mut client_end, mut server_end) = harness.connect().await;
        let request = format!("GET / HTTP/1.1\r\nX-Wschaos-Client: {client}\r\n\r\n");
        client_end.write_all(request.as_bytes()).await.unwrap();
        let mut seen = vec![0; request.len()];
        server_end.read_exact(&mut seen).await.unwrap();
        links.push((client_end, server_end));
    }
    let share = Target { clients: ClientSelector::Share(0.5), links: Links::Existing };
    harness.control.start(id(0), &Fault::Reset, &share);
    let first = reset_ones(&mut links).await;
    assert_eq!(first.len(), 5, "50% of 10 clients, exactly");

    let mut harness = Harness::start(Transport::sim(), 3, 10).await;
    let mut links = Vec::new();
    for client in [4u32, 2, 7] {
        let (mut client_end, server_end) = harness.connect().await;
        client_end
            .write_all(format!("GET / HTTP/1.1\r\nx-wschaos-client: {client}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        links.push((client_end, server_end));
    }
    for _ in 0..3 {
        harness.wait_for(|kind| matches!(kind, EventKind::LinkIdentified { .. })).await;
    }
    let chosen = Target { clients: ClientSelector::Indices(vec![2, 4]), links: Links::All };
    harness.control.start(id(0), &Fault::Reset, &chosen);
    assert_eq!(reset_ones(&mut links).await, BTreeSet::from([0, 1]), "clients 4 and 2, not 7");
}

#[tokio::test(start_paused = true)]
async fn control_does_not_hang_while_a_link_is_blocked_writing() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    // The client never reads: the proxy's downstream write blocks once the pipes are full.
    let flood = tokio::spawn(async move {
        let chunk = vec![1u8; 64 * 1024];
        while server.write_all(&chunk).await.is_ok() {}
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    for k in 0..100 {
        harness.control.start(
            id(k),
            &Fault::Latency {
                delay: Duration::from_secs(1),
                jitter: Duration::ZERO,
                spread: wschaos::units::Spread::Uniform,
                direction: Direction::Both,
            },
            &everyone(),
        );
        harness.control.stop(id(k));
    }
    let t0 = Instant::now();
    harness.control.start(id(100), &Fault::Reset, &everyone());
    harness.wait_for_hit(id(100)).await;
    let mut buf = [0u8; 16];
    assert_eq!(client.read(&mut buf).await.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(t0.elapsed(), Duration::ZERO);
    flood.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn events_tell_the_story_of_a_link() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    client.write_all(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nx-wschaos-client: 5\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The 101, then a ping from the server; a masked binary frame from the client.
    server
        .write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x89\x00")
        .await
        .unwrap();
    client.write_all(&[0x82, 0x81, 1, 2, 3, 4, b'x' ^ 1]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    harness.control.start(id(0), &Fault::Stall { direction: Direction::Both }, &everyone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    harness.control.stop(id(0));
    harness.control.start(FaultId { plan: 1, occurrence: 2 }, &Fault::Reset, &everyone());
    let t0 = harness.events_until(|kind| matches!(kind, EventKind::LinkClosed { .. })).await;
    let start = t0[0].at;
    let story: Vec<(Duration, EventKind)> = t0.into_iter().map(|e| (e.at - start, e.kind)).collect();
    let link = LinkId(0);
    let reset = FaultId { plan: 1, occurrence: 2 };
    let peer = match &story[0].1 {
        EventKind::LinkOpened { peer, .. } => *peer,
        other => panic!("first event: {other:?}"),
    };
    let s = Duration::from_secs;
    assert_eq!(
        story,
        vec![
            (s(0), EventKind::LinkOpened { link, peer }),
            (s(0), EventKind::LinkIdentified { link, client: 5 }),
            // Both ways are ready at once; the link reads upstream first.
            (s(1), EventKind::FirstData { link, way: Way::Upstream }),
            (s(1), EventKind::Upgraded { link, status: 101 }),
            (
                s(1),
                EventKind::ControlFrame {
                    link,
                    way: Way::Downstream,
                    kind: FrameKind::Ping,
                    close_code: None,
                    swallowed: false,
                }
            ),
            (s(2), EventKind::FaultStarted { fault: id(0), name: "stall" }),
            (s(2), EventKind::FaultHit { fault: id(0), link: Some(link) }),
            (s(5), EventKind::FaultEnded { fault: id(0) }),
            (s(5), EventKind::FaultStarted { fault: reset, name: "reset" }),
            (s(5), EventKind::FaultHit { fault: reset, link: Some(link) }),
            (s(5), EventKind::LinkClosed { link, cause: CloseCause::FaultReset(reset) }),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_timeline_plays_a_scenario_at_its_times() {
    let text = "version: 1\nname: t\nduration: 30s\nclients: { count: 1 }\nfaults:\n  - at: 5s\n    reset: {}\n  - every: 10s\n    from: 8s\n    for: 2s\n    stall: { direction: both }\n";
    let scenario = Scenario::parse(text, "t.yaml").unwrap();
    let steps = timeline::schedule(&scenario.faults, scenario.duration, scenario.seed);
    let s = Duration::from_secs;
    let summary: Vec<(Duration, u64, u64, Action)> =
        steps.iter().map(|step| (step.at, step.fault.plan, step.fault.occurrence, step.action)).collect();
    assert_eq!(
        summary,
        vec![
            (s(5), 0, 0, Action::Start),
            (s(8), 1, 0, Action::Start),
            (s(10), 1, 0, Action::End),
            (s(18), 1, 1, Action::Start),
            (s(20), 1, 1, Action::End),
            (s(28), 1, 2, Action::Start),
            (s(30), 1, 2, Action::End),
        ]
    );
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let start = Instant::now();
    let control = harness.control.clone();
    let faults = scenario.faults.clone();
    let player = tokio::spawn(async move { timeline::play(&faults, &steps, &control, start, s(30)).await });
    let mut buf = [0u8; 1];
    assert_eq!(client.read(&mut buf).await.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(start.elapsed(), s(5), "the reset lands at 5 s");
    let _ = server.read(&mut buf).await;
    let (mut client, mut server) = harness.connect().await;
    tokio::time::sleep_until(start + s(9)).await;
    client.write_all(b"x").await.unwrap();
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(start.elapsed(), s(10), "held by the stall from 8 s to 10 s");
    player.await.unwrap();
    assert_eq!(start.elapsed(), s(30));
    assert!(harness.control.active().is_empty(), "healed at the end");
}
