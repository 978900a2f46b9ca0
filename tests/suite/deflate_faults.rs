//! Frame faults on compressed streams, through the real proxy on the sim network with paused
//! time and hand-made permessage-deflate upgrades: a compressed message the stream refers back
//! to is never dropped (the fault says why), control frames still are, and `strip_deflate`
//! takes the offer out of the request so the fault can act.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wschaos::net::{Stream, Transport};
use wschaos::proxy::{EventKind, NotApplied, ProxyEvent};
use wschaos::scenario::{Direction, Fault, FrameKind, Scenario};
use wschaos::ws::Way;

use crate::frames::{cross, frame};
use crate::support::{Harness, everyone, id};

const KEY: Option<[u8; 4]> = Some([7, 7, 7, 7]);

/// A browser-like upgrade request offering permessage-deflate and one other extension.
const OFFER: &[u8] = b"GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-test\r\n\r\n";

/// The same request as the server gets it with `strip_deflate`.
const STRIPPED: &[u8] = b"GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    Sec-WebSocket-Extensions: x-test\r\n\r\n";

const DEFLATE_101: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";

const PLAIN_101: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

/// `frame` with RSV1 set: a compressed message. (The payload need not be real deflate: the
/// proxy never inflates, it only reads the bit.)
fn compressed(mut frame: Vec<u8>) -> Vec<u8> {
    frame[0] |= 0x40;
    frame
}

fn drop_text_and_pings() -> Fault {
    Fault::DropFrames {
        kinds: vec![FrameKind::Text, FrameKind::Ping],
        direction: Direction::Upstream,
        probability: 1.0,
    }
}

/// Sends `bytes` from the client and reads `expected.len()` bytes at the server.
async fn arrives(client: &mut Stream, server: &mut Stream, bytes: &[u8], expected: &[u8]) {
    client.write_all(bytes).await.unwrap();
    let mut got = vec![0u8; expected.len()];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(got, expected);
}

fn not_applied(events: &[ProxyEvent]) -> Vec<NotApplied> {
    events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::FaultNotApplied { why, .. } => Some(why),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn compressed_messages_are_not_dropped_and_the_fault_says_why() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    assert_eq!(cross(&mut client, &mut server, OFFER).await, OFFER, "no strip_deflate: the offer stays");
    assert_eq!(cross(&mut server, &mut client, DEFLATE_101).await, DEFLATE_101);
    harness.control.start(id(0), &drop_text_and_pings(), &everyone());
    let message = compressed(frame(1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", KEY));
    let ping = frame(9, b"ping", KEY);
    let pong = frame(10, b"pong", KEY);
    let sent = [&message[..], &ping, &pong].concat();
    arrives(&mut client, &mut server, &sent, &[&message[..], &pong].concat()).await;
    let events = harness
        .events_until(|kind| matches!(kind, EventKind::ControlFrame { kind: FrameKind::Pong, .. }))
        .await;
    let events = [events, harness.drain_events()].concat();
    assert_eq!(not_applied(&events), [NotApplied::Compressed(Way::Upstream)]);
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::FaultHit { .. })), "the ping was dropped");
    let why = NotApplied::Compressed(Way::Upstream).to_string();
    assert!(why.contains("context takeover") && why.contains("permessage-deflate"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn strip_deflate_takes_the_offer_out_so_the_fault_acts() {
    let mut harness = Harness::start_with(Transport::sim(), 1, 0, true).await;
    let (mut client, mut server) = harness.connect().await;
    client.write_all(OFFER).await.unwrap();
    let mut request = vec![0u8; STRIPPED.len()];
    server.read_exact(&mut request).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&request), String::from_utf8_lossy(STRIPPED));
    assert_eq!(cross(&mut server, &mut client, PLAIN_101).await, PLAIN_101);
    harness.control.start(id(0), &drop_text_and_pings(), &everyone());
    let text = frame(1, b"hello", KEY);
    let binary = frame(2, b"kept", KEY);
    arrives(&mut client, &mut server, &[&text[..], &binary].concat(), &binary).await;
    let events = harness.drain_events();
    assert_eq!(not_applied(&events), []);
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::FaultHit { .. })), "the text was dropped");
}

#[tokio::test(start_paused = true)]
async fn a_request_split_anywhere_is_stripped_the_same() {
    for split in [1, 40, OFFER.len() - 40, OFFER.len() - 1] {
        let mut harness = Harness::start_with(Transport::sim(), 1, 0, true).await;
        let (mut client, mut server) = harness.connect().await;
        client.write_all(&OFFER[..split]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        client.write_all(&OFFER[split..]).await.unwrap();
        let mut request = vec![0u8; STRIPPED.len()];
        server.read_exact(&mut request).await.unwrap();
        assert_eq!(request, STRIPPED, "split at {split}");
    }
}

#[test]
fn the_scenario_field_turns_it_on_and_a_misspelling_is_an_error() {
    let text = |proxy: &str| format!("version: 1\nname: t\nduration: 5s\n{proxy}clients: {{ count: 1 }}\n");
    let on = Scenario::parse(&text("proxy: { strip_deflate: true }\n"), "t.yaml").unwrap();
    assert!(on.proxy.strip_deflate);
    assert!(!Scenario::parse(&text(""), "t.yaml").unwrap().proxy.strip_deflate, "off by default");
    let error = Scenario::parse(&text("proxy: { strip_deflat: true }\n"), "t.yaml").unwrap_err().to_string();
    assert!(error.contains("strip_deflat") && error.contains("strip_deflate"), "{error}");
}
