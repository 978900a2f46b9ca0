//! Each fault through the real proxy on the sim network with paused time: exact timings, bytes
//! in order, and what the client end observes (RST, EOF, silence, a delayed answer).
//!
//! A fault started right before a write needs no wait: the link takes its control commands
//! before the I/O that write wakes it for. Faults that act at their start (stall, blackhole)
//! are awaited on their hit event before a test measures from them.

use std::io::ErrorKind;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout};
use wschaos::net::Stream;
use wschaos::scenario::{Direction, Fault};
use wschaos::units::Jittered;

use crate::support::{Harness, everyone, id};

const MS: Duration = Duration::from_millis(1);

async fn read_exact_at(stream: &mut Stream, len: usize) -> (Vec<u8>, Instant) {
    let mut bytes = vec![0; len];
    stream.read_exact(&mut bytes).await.unwrap();
    (bytes, Instant::now())
}

/// Whether nothing arrives on `stream` for `window`.
async fn silent_for(stream: &mut Stream, window: Duration) -> bool {
    let mut byte = [0u8; 1];
    timeout(window, stream.read(&mut byte)).await.is_err()
}

#[tokio::test(start_paused = true)]
async fn reset_aborts_an_idle_link_at_once() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let t0 = Instant::now();
    harness.control.start(id(0), &Fault::Reset, &everyone());
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).await.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(server.read(&mut buf).await.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(t0.elapsed(), Duration::ZERO, "no traffic is needed to trigger it");
}

#[tokio::test(start_paused = true)]
async fn close_is_seen_as_eof_on_both_sides() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &Fault::Close, &everyone());
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    assert_eq!(server.read(&mut buf).await.unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn stall_is_silence_then_the_held_bytes_on_the_same_connection() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &Fault::Stall { direction: Direction::Both }, &everyone());
    harness.wait_for_hit(id(0)).await;
    let t0 = Instant::now();
    client.write_all(b"held ").await.unwrap();
    client.write_all(b"in order").await.unwrap();
    assert!(silent_for(&mut server, Duration::from_secs(10)).await, "nothing passes a stall");
    harness.control.stop(id(0));
    let (bytes, at) = read_exact_at(&mut server, 13).await;
    assert_eq!(&bytes, b"held in order");
    assert_eq!(at - t0, Duration::from_secs(10), "released the moment the stall ends");
    server.write_all(b"still open").await.unwrap();
    assert_eq!(read_exact_at(&mut client, 10).await.0, b"still open");
}

#[tokio::test(start_paused = true)]
async fn blackhole_swallows_bytes_and_the_link_stays_dead() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &Fault::Blackhole { direction: Direction::Upstream }, &everyone());
    harness.wait_for_hit(id(0)).await;
    client.write_all(b"lost").await.unwrap();
    assert!(silent_for(&mut server, Duration::from_secs(60)).await);
    harness.control.stop(id(0));
    client.write_all(b"after").await.unwrap();
    assert!(
        silent_for(&mut server, Duration::from_secs(60)).await,
        "a link that lost bytes never flows again"
    );
    server.write_all(b"down").await.unwrap();
    assert_eq!(read_exact_at(&mut client, 4).await.0, b"down", "the other direction was never hit");
    client.shutdown().await.unwrap();
    assert!(silent_for(&mut server, Duration::from_secs(60)).await, "not even the FIN crosses: no EOF");
    let (mut fresh, mut far) = harness.connect().await;
    fresh.write_all(b"new").await.unwrap();
    assert_eq!(read_exact_at(&mut far, 3).await.0, b"new", "new links are fine after the fault");
}

#[tokio::test(start_paused = true)]
async fn latency_delays_by_exactly_the_delay_and_does_not_accumulate() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let fault = Fault::Latency {
        delay: 250 * MS,
        jitter: Duration::ZERO,
        spread: wschaos::units::Spread::Uniform,
        direction: Direction::Upstream,
    };
    harness.control.start(id(0), &fault, &everyone());
    let t0 = Instant::now();
    let writer = tokio::spawn(async move {
        for k in 0..20u8 {
            client.write_all(&[k; 100]).await.unwrap();
            tokio::time::sleep(10 * MS).await;
        }
        client
    });
    for k in 0..20u8 {
        let (bytes, at) = read_exact_at(&mut server, 100).await;
        assert_eq!(bytes, vec![k; 100], "in order");
        assert_eq!(at - t0, 250 * MS + 10 * MS * u32::from(k), "chunk {k} arrives 250 ms after it was sent");
    }
    let mut client = writer.await.unwrap();
    harness.control.stop(id(0));
    let t1 = Instant::now();
    client.write_all(b"fast").await.unwrap();
    assert_eq!(read_exact_at(&mut server, 4).await.1, t1, "no delay once healed");
}

#[tokio::test(start_paused = true)]
async fn bandwidth_moves_100_kib_in_10_s_at_10_kib_per_s() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let fault = Fault::Bandwidth { bytes_per_second: 10_240.0, direction: Direction::Downstream };
    harness.control.start(id(0), &fault, &everyone());
    let t0 = Instant::now();
    let payload: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    let sent = payload.clone();
    tokio::spawn(async move { server.write_all(&sent).await.unwrap() });
    let mut received = Vec::new();
    let mut at_5s = None;
    let mut buf = vec![0u8; 64 * 1024];
    while received.len() < payload.len() {
        let read = client.read(&mut buf).await.unwrap();
        assert!(read > 0);
        if at_5s.is_none() && t0.elapsed() >= Duration::from_secs(5) {
            at_5s = Some(received.len());
        }
        received.extend_from_slice(&buf[..read]);
    }
    let took = t0.elapsed();
    assert_eq!(received, payload, "every byte, in order");
    assert!(took >= Duration::from_secs(10) && took <= Duration::from_secs(10) + MS, "took {took:?}");
    // One slice is a tenth of a second of bytes: 1024 B.
    let half = at_5s.unwrap();
    assert!(half.abs_diff(50 * 1024) <= 1024, "{half} bytes by 5 s");
}

#[tokio::test(start_paused = true)]
async fn slice_cuts_writes_into_pieces_spaced_by_the_delay() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let fault = Fault::Slice { size_bytes: 100, delay: 10 * MS, direction: Direction::Downstream };
    harness.control.start(id(0), &fault, &everyone());
    let t0 = Instant::now();
    let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    server.write_all(&payload).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let mut arrivals = Vec::new();
    while received.len() < payload.len() {
        let read = client.read(&mut buf).await.unwrap();
        arrivals.push((t0.elapsed(), read));
        received.extend_from_slice(&buf[..read]);
    }
    assert_eq!(received, payload);
    let expected: Vec<(Duration, usize)> = (0..10).map(|k| (10 * MS * k, 100)).collect();
    assert_eq!(arrivals, expected);
}

#[tokio::test(start_paused = true)]
async fn limit_delivers_the_first_bytes_then_closes() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    harness.control.start(id(0), &Fault::Limit { bytes: 1000, direction: Direction::Upstream }, &everyone());
    client.write_all(&[7u8; 1500]).await.unwrap();
    let mut received = Vec::new();
    server.read_to_end(&mut received).await.unwrap();
    assert_eq!(received, vec![7u8; 1000], "exactly the limit, then EOF");
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).await.unwrap(), 0, "the client sees EOF too");
}

#[tokio::test(start_paused = true)]
async fn refuse_fails_connect_until_it_ends() {
    let mut harness = Harness::sim().await;
    harness.control.start(id(0), &Fault::Refuse, &everyone());
    let refused = harness.net.connect(harness.proxy).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    harness.control.stop(id(0));
    let (mut client, mut server) = harness.connect().await;
    client.write_all(b"up").await.unwrap();
    assert_eq!(read_exact_at(&mut server, 2).await.0, b"up");
}

#[tokio::test(start_paused = true)]
async fn accept_hang_accepts_and_never_answers() {
    let mut harness = Harness::sim().await;
    harness.control.start(id(0), &Fault::AcceptHang, &everyone());
    let mut hung = harness.net.connect(harness.proxy).await.unwrap();
    hung.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(silent_for(&mut hung, Duration::from_secs(60)).await, "no answer");
    assert!(harness.upstream.try_recv().is_err(), "the upstream was never dialled");
    harness.control.stop(id(0));
    assert!(silent_for(&mut hung, Duration::from_secs(60)).await, "a hung connection stays hung");
    let (mut client, mut server) = harness.connect().await;
    client.write_all(b"ok").await.unwrap();
    assert_eq!(read_exact_at(&mut server, 2).await.0, b"ok");
}

#[tokio::test(start_paused = true)]
async fn handshake_delay_holds_the_first_answer_of_new_links_only() {
    let mut harness = Harness::sim().await;
    let (mut old_client, mut old_server) = harness.connect().await;
    let delay = Jittered { base: Duration::from_secs(3), jitter: Duration::ZERO };
    harness.control.start(id(0), &Fault::HandshakeDelay { delay }, &everyone());
    let (mut client, mut server) = harness.connect().await;
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let _ = read_exact_at(&mut server, 18).await;
    let t0 = Instant::now();
    let upgrade: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\r\n";
    server.write_all(upgrade).await.unwrap();
    server.write_all(b"frames").await.unwrap();
    let (answer, at) = read_exact_at(&mut client, upgrade.len()).await;
    assert_eq!(answer, upgrade);
    assert_eq!(at - t0, Duration::from_secs(3), "the 101 is late by exactly the delay");
    assert_eq!(read_exact_at(&mut client, 6).await, (b"frames".to_vec(), at), "then bytes flow in order");
    let t1 = Instant::now();
    old_server.write_all(b"old").await.unwrap();
    assert_eq!(
        read_exact_at(&mut old_client, 3).await,
        (b"old".to_vec(), t1),
        "a link opened before is untouched"
    );
}

#[tokio::test(start_paused = true)]
async fn jittered_latency_and_slicing_together_keep_a_megabyte_in_order() {
    let mut harness = Harness::sim().await;
    let (mut client, mut server) = harness.connect().await;
    let latency = Fault::Latency {
        delay: 20 * MS,
        jitter: 15 * MS,
        spread: wschaos::units::Spread::Uniform,
        direction: Direction::Both,
    };
    harness.control.start(id(0), &latency, &everyone());
    harness.control.start(
        id(1),
        &Fault::Slice { size_bytes: 700, delay: MS, direction: Direction::Both },
        &everyone(),
    );
    let payload: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let sent = payload.clone();
    let writer = tokio::spawn(async move {
        client.write_all(&sent).await.unwrap();
        client.shutdown().await.unwrap();
        client
    });
    let mut received = Vec::new();
    server.read_to_end(&mut received).await.unwrap();
    assert_eq!(received.len(), payload.len());
    assert!(received == payload, "bytes arrive in order");
    drop(writer.await.unwrap());
}
