//! The frame faults and the frame observer through the real proxy, on the sim network with
//! paused time: pong loss found by the heartbeat at the exact virtual time while data flows,
//! Close frames and their documented reactions, rejected upgrades, and byte-for-byte
//! transparency of the observer.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wschaos::client::{ClientEvent, ClientEventKind, GiveUp, Reason, State};
use wschaos::net::Stream;
use wschaos::proxy::EventKind;
use wschaos::scenario::{Direction, Fault, FrameKind};
use wschaos::ws::Way;

use crate::support::{Harness, Rig, S, detections, everyone, id, scenario};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// When each event of `pick` happened, from `origin`.
fn times(events: &[ClientEvent], origin: Instant, pick: impl Fn(&ClientEventKind) -> bool) -> Vec<Duration> {
    events.iter().filter(|e| pick(&e.kind)).map(|e| e.at - origin).collect()
}

#[tokio::test(start_paused = true)]
async fn pong_loss_is_found_by_the_heartbeat_at_the_exact_time_while_data_flows() {
    let text = scenario(
        "  strategy: { kind: fixed, delay: 1s }\n  heartbeat: { ping_every: 5s, pong_timeout: 2s }\n  workload: { rate: 10/s }",
        "  - at: 7s\n    for: 13s\n    drop_frames: { kinds: [pong], direction: downstream }",
    );
    let mut rig = Rig::start(&text).await;
    let origin = Instant::now();
    let events = rig.run(vec![rig.config(0)], S(21)).await;
    // The 10 s ping's pong vanishes: found at 12 s. The client is back at 13 s, under the same
    // fault, so its 18 s ping is lost too: found at 20 s.
    assert_eq!(
        detections(&events, origin),
        vec![(S(12), Reason::HeartbeatTimeout), (S(20), Reason::HeartbeatTimeout)]
    );
    let echoes = times(&events, origin, |k| matches!(k, ClientEventKind::Echoed { .. }));
    let before = echoes.iter().filter(|t| **t >= S(7) && **t < S(12)).count();
    assert_eq!(before, 50, "every message of the 5 s before detection was echoed");
    assert_eq!(echoes.iter().filter(|t| **t < S(12)).max(), Some(&MS(11_900)), "data flowed to the end");
}

#[tokio::test(start_paused = true)]
async fn close_1012_is_a_restart_the_backoff_handles() {
    let text = scenario(
        "  strategy: { kind: fixed, delay: 2s }",
        "  - at: 3s\n    close_frame: { code: 1012, reason: restart }",
    );
    let mut rig = Rig::start(&text).await;
    let origin = Instant::now();
    let events = rig.run(vec![rig.config(0)], S(8)).await;
    assert_eq!(detections(&events, origin), vec![(S(3), Reason::CloseFrame(1012))]);
    assert!(events.iter().any(|e| e.kind == ClientEventKind::Waiting { delay: S(2), floor: None }));
    let opened = times(&events, origin, |k| matches!(k, ClientEventKind::Opened { .. }));
    assert_eq!(opened, vec![S(0), S(5)], "back after the strategy's own 2 s");
}

#[tokio::test(start_paused = true)]
async fn close_1013_puts_the_reasons_hint_under_the_next_delay() {
    let text = scenario(
        "  strategy: { kind: fixed, delay: 1s }",
        "  - at: 3s\n    close_frame: { code: 1013, reason: retry in 7s }",
    );
    let mut rig = Rig::start(&text).await;
    let origin = Instant::now();
    let events = rig.run(vec![rig.config(0)], S(12)).await;
    assert_eq!(detections(&events, origin), vec![(S(3), Reason::CloseFrame(1013))]);
    assert!(events.iter().any(|e| e.kind == ClientEventKind::Waiting { delay: S(7), floor: Some(S(7)) }));
    let opened = times(&events, origin, |k| matches!(k, ClientEventKind::Opened { .. }));
    assert_eq!(opened, vec![S(0), S(10)]);
}

#[tokio::test(start_paused = true)]
async fn close_1008_is_permanent_and_the_client_gives_up() {
    let text = scenario("  strategy: immediate", "  - at: 3s\n    close_frame: { code: 1008 }");
    let mut rig = Rig::start(&text).await;
    let events = rig.run(vec![rig.config(0)], S(8)).await;
    let why = GiveUp::Permanent(Reason::CloseFrame(1008));
    assert!(events.iter().any(|e| e.kind == ClientEventKind::GaveUp(why.clone())), "{events:?}");
    assert_eq!(events.last().unwrap().kind, ClientEventKind::State(State::GaveUp));
}

#[tokio::test(start_paused = true)]
async fn a_503_with_retry_after_holds_off_the_next_attempt() {
    let text = scenario(
        "  strategy: { kind: fixed, delay: 1s }",
        "  - at: 3s\n    reset: {}\n  - at: 2500ms\n    for: 10s\n    reject_handshake: { status: 503, retry_after: 5s }",
    );
    let mut rig = Rig::start(&text).await;
    let origin = Instant::now();
    let events = rig.run(vec![rig.config(0)], S(16)).await;
    let attempts = times(&events, origin, |k| matches!(k, ClientEventKind::Attempt { .. }));
    // Reset at 3 s; at 4 s and 9 s the proxy answers 503 with Retry-After: 5; the fault is
    // over at 12.5 s, so the attempt at 14 s gets through.
    assert_eq!(attempts, vec![S(0), S(4), S(9), S(14)]);
    let rejected = times(&events, origin, |k| {
        matches!(k, ClientEventKind::AttemptFailed { reason: Reason::HandshakeRejected(503), .. })
    });
    assert_eq!(rejected, vec![S(4), S(9)]);
    assert!(events.iter().any(|e| e.kind == ClientEventKind::Waiting { delay: S(5), floor: Some(S(5)) }));
    assert_eq!(times(&events, origin, |k| matches!(k, ClientEventKind::Opened { .. })), vec![S(0), S(14)]);
}

#[tokio::test(start_paused = true)]
async fn a_401_from_the_proxy_stops_the_client() {
    let text =
        scenario("  strategy: immediate", "  - at: 0s\n    for: 10s\n    reject_handshake: { status: 401 }");
    let mut rig = Rig::start(&text).await;
    let events = rig.run(vec![rig.config(0)], S(5)).await;
    let attempts = events.iter().filter(|e| matches!(e.kind, ClientEventKind::Attempt { .. })).count();
    assert_eq!(attempts, 1);
    let why = GiveUp::Permanent(Reason::HandshakeRejected(401));
    assert!(events.iter().any(|e| e.kind == ClientEventKind::GaveUp(why.clone())));
}

/// A masked client frame and an unmasked server frame of `len` bytes, in the 7-, 16- or
/// 64-bit length form as `len` needs.
pub fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(bit | len as u8),
        len @ 126..=0xffff => {
            out.push(bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A WebSocket conversation in bytes: request and client frames, response and server frames.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let key = Some([1, 2, 3, 4]);
    let mut up = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec();
    let mut down = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec();
    for k in 0..200u32 {
        let payload: Vec<u8> = (0..(k * 331) % 70_000).map(|i| (i ^ k) as u8).collect();
        up.extend(frame(if k % 2 == 0 { 2 } else { 1 }, &payload, key));
        down.extend(frame(2, &payload, None));
        if k % 7 == 0 {
            up.extend(frame(9, b"ping", key));
            down.extend(frame(10, b"ping", None));
        }
    }
    (up, down)
}

/// Sends `bytes` into `from` in uneven writes and reads them all from `to`.
pub async fn cross(from: &mut Stream, to: &mut Stream, bytes: &[u8]) -> Vec<u8> {
    let (mut read, mut at) = (Vec::with_capacity(bytes.len()), 0);
    let mut buf = vec![0u8; 8192];
    let mut step = 1;
    while read.len() < bytes.len() {
        if at < bytes.len() {
            let end = (at + step).min(bytes.len());
            from.write_all(&bytes[at..end]).await.unwrap();
            at = end;
            step = step * 7 % 5003 + 1;
        }
        // The paused clock lets a 1 ms wait elapse only once every task is idle: whatever can
        // cross the proxy has crossed by then.
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), to.read(&mut buf)).await {
            read.extend_from_slice(&buf[..n]);
            if n == 0 {
                break;
            }
        }
    }
    read
}

#[tokio::test(start_paused = true)]
async fn the_observer_is_byte_for_byte_transparent() {
    let (up, down) = conversation();
    for fault in [
        None,
        Some(Fault::DropFrames {
            kinds: vec![FrameKind::Close],
            direction: Direction::Both,
            probability: 1.0,
        }),
    ] {
        let mut harness = Harness::sim().await;
        let (mut client, mut server) = harness.connect().await;
        if let Some(fault) = &fault {
            harness.control.start(id(0), fault, &everyone());
        }
        assert!(cross(&mut client, &mut server, &up).await == up, "upstream bytes changed under {fault:?}");
        assert!(
            cross(&mut server, &mut client, &down).await == down,
            "downstream bytes changed under {fault:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn handshake_delay_delays_exactly_the_101() {
    let text = scenario(
        "  strategy: { kind: fixed, delay: 1s }\n  workload: { rate: 10/s }",
        "  - at: 0s\n    for: 10s\n    handshake_delay: { delay: 3s }\n  - at: 5s\n    reset: {}",
    );
    let mut rig = Rig::start(&text).await;
    let origin = Instant::now();
    let events = rig.run(vec![rig.config(0)], S(12)).await;
    // The first upgrade is answered at 0 and reaches the client 3 s later; after the reset at
    // 5 s the client retries at 6 s, still under the fault: open at 9 s. Data flows at once.
    assert_eq!(times(&events, origin, |k| matches!(k, ClientEventKind::Opened { .. })), vec![S(3), S(9)]);
    let echoes = times(&events, origin, |k| matches!(k, ClientEventKind::Echoed { .. }));
    assert_eq!(echoes.first(), Some(&S(3)), "the messages queued during the handshake go at once");
}

/// The control frames the proxy reported on `way`, in order: kind and whether it was swallowed.
fn control_frames(events: &[wschaos::proxy::ProxyEvent], on: Way) -> Vec<(FrameKind, bool)> {
    events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::ControlFrame { way, kind, swallowed, .. } if way == on => Some((kind, swallowed)),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn control_frames_a_fault_kept_from_the_other_side_are_reported_swallowed() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let key = Some([1, 2, 3, 4]);
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    cross(&mut client, &mut server, request).await;
    cross(&mut server, &mut client, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n").await;
    cross(&mut server, &mut client, &frame(9, b"through", None)).await;
    let through = |kind: &EventKind| matches!(kind, EventKind::ControlFrame { swallowed: false, .. });
    harness.wait_for(through).await;
    let pongs =
        Fault::DropFrames { kinds: vec![FrameKind::Pong], direction: Direction::Upstream, probability: 1.0 };
    harness.control.start(id(0), &pongs, &everyone());
    harness.control.start(id(1), &Fault::Blackhole { direction: Direction::Downstream }, &everyone());
    harness.wait_for_hit(id(1)).await;
    let ping = frame(9, b"up", key);
    client.write_all(&[frame(10, b"dropped", key), ping.clone()].concat()).await.unwrap();
    let mut arrived = vec![0u8; ping.len()];
    server.read_exact(&mut arrived).await.unwrap();
    assert_eq!(arrived, ping, "the pong is dropped, the ping is not");
    server.write_all(&frame(9, b"lost", None)).await.unwrap();
    server.write_all(&frame(8, &1001u16.to_be_bytes(), None)).await.unwrap();
    let events = harness
        .events_until(|kind| matches!(kind, EventKind::ControlFrame { kind: FrameKind::Close, .. }))
        .await;
    assert_eq!(control_frames(&events, Way::Upstream), [(FrameKind::Pong, true), (FrameKind::Ping, false)]);
    assert_eq!(
        control_frames(&events, Way::Downstream),
        [(FrameKind::Ping, true), (FrameKind::Close, true)],
        "the blackhole swallowed the ping and the close"
    );
}
