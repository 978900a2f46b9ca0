//! The echo server end to end on the sim network under paused time, so every timing is exact:
//! echo, heartbeat, accept pacing, handshake latency, auth, duplicate accounting and shutdown.
//! The harness here (a [`Running`] server, [`round_trip`]) serves `server_live.rs` too.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use wschaos::net::{Stream, Transport, any_loopback};
use wschaos::scenario::ServerConfig;
use wschaos::scenario::ServerHeartbeat;
use wschaos::server::{ClientStats, Server, ServerStats, StatsHandle};
use wschaos::units::{Jittered, Rate};
use wschaos::wire::Header;
use wschaos::wire::websocket_config;

/// A server serving in a task, with what a test needs to reach and stop it.
pub struct Running {
    transport: Transport,
    /// Where it listens.
    pub addr: SocketAddr,
    stats: StatsHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<ServerStats>>,
}

/// Starts a server with `config` on `transport`, its generator seeded with 1.
pub async fn start(transport: Transport, config: ServerConfig) -> Running {
    start_seeded(transport, config, 1).await
}

async fn start_seeded(transport: Transport, config: ServerConfig, seed: u64) -> Running {
    let listener = transport.bind(any_loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(config, ChaCha8Rng::seed_from_u64(seed));
    let stats = server.stats();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    Running { transport, addr, stats, stop, task }
}

impl Running {
    /// Opens a WebSocket to the server, failing the test if the upgrade fails.
    pub async fn connect(&self) -> WebSocketStream<Stream> {
        self.try_connect(None).await.unwrap()
    }

    /// Opens a WebSocket, sending `Authorization: Bearer <token>` when given.
    async fn try_connect(&self, token: Option<&str>) -> Result<WebSocketStream<Stream>, WsError> {
        let stream = self.transport.connect(self.addr).await.unwrap();
        let mut request = format!("ws://{}/", self.addr).into_client_request().unwrap();
        if let Some(token) = token {
            request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        }
        let (ws, _response) = client_async_with_config(request, stream, Some(websocket_config())).await?;
        Ok(ws)
    }

    /// Waits for the server to stop on its own, and returns its error.
    pub async fn failed(self) -> std::io::Error {
        self.task.await.unwrap().expect_err("the server stopped only on a failure")
    }

    /// Stops the server and returns its counters.
    pub async fn stop(self) -> ServerStats {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap()
    }
}

/// Sends `message` and returns the next data frame that comes back.
pub async fn round_trip(ws: &mut WebSocketStream<Stream>, message: Message) -> Message {
    ws.send(message).await.unwrap();
    loop {
        match ws.next().await.expect("connection open").unwrap() {
            Message::Ping(_) | Message::Pong(_) => continue,
            reply => return reply,
        }
    }
}

/// A workload message of `client` with sequence number `seq`, as the reference client sends it.
pub fn workload_message(client: u32, seq: u64) -> Message {
    Message::binary(Header { client, seq, intended: Duration::ZERO }.encode(64))
}

fn heartbeat(ping_every: u64, timeout: u64) -> ServerConfig {
    ServerConfig {
        heartbeat: Some(ServerHeartbeat {
            ping_every: Duration::from_secs(ping_every),
            timeout: Duration::from_secs(timeout),
        }),
        ..ServerConfig::default()
    }
}

#[tokio::test(start_paused = true)]
async fn echoes_text_binary_and_answers_pings_on_sim() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let mut ws = server.connect().await;
    assert_eq!(round_trip(&mut ws, Message::text("hello")).await, Message::text("hello"));
    let binary = Message::binary(vec![0u8, 1, 2, 255]);
    assert_eq!(round_trip(&mut ws, binary.clone()).await, binary);
    let message = workload_message(3, 0);
    assert_eq!(round_trip(&mut ws, message.clone()).await, message);
    let big = Message::text("x".repeat(100 * 1024));
    assert_eq!(round_trip(&mut ws, big.clone()).await, big, "larger than the read buffer and the pipe");
    ws.send(Message::Ping(Bytes::from_static(b"hi"))).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::Pong(Bytes::from_static(b"hi")));
    let stats = server.stop().await;
    assert_eq!(stats.frames_echoed, 4);
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.clients.keys().collect::<Vec<_>>(), [&3], "only the headered frame is a message");
}

/// Upgrades `stream` by hand and returns the answer's head; nothing will answer pings after.
async fn raw_upgrade(stream: &mut Stream) -> String {
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: server\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test(start_paused = true)]
async fn heartbeat_closes_a_silent_peer_at_ping_every_plus_timeout_and_keeps_one_that_answers() {
    let server = start(Transport::sim(), heartbeat(10, 5)).await;

    let mut silent = server.transport.connect(server.addr).await.unwrap();
    let silent = tokio::spawn(async move {
        let head = raw_upgrade(&mut silent).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let opened = Instant::now();
        let mut after = Vec::new();
        silent.read_to_end(&mut after).await.unwrap();
        (opened.elapsed(), after)
    });

    let mut answering = server.connect().await;
    let end = Instant::now() + Duration::from_secs(55);
    let mut pings = 0;
    while let Ok(frame) = timeout_at(end, answering.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }

    let (silent_for, bytes) = silent.await.unwrap();
    assert_eq!(silent_for, Duration::from_secs(15), "EOF exactly at ping_every + timeout");
    assert_eq!(bytes, [0x89, 0x00], "one empty Ping, then a bare close: no Close frame");
    assert_eq!(pings, 5, "pinged at 10, 20, 30, 40 and 50 s");
    assert_eq!(round_trip(&mut answering, Message::text("still here")).await, Message::text("still here"));
    let stats = server.stop().await;
    assert_eq!(stats.heartbeat_closes, 1);
}

#[tokio::test(start_paused = true)]
async fn heartbeat_closes_a_peer_that_stops_reading_while_an_echo_is_stuck() {
    let server = start(Transport::sim(), heartbeat(10, 5)).await;
    let mut ws = server.connect().await;
    let opened = Instant::now();
    // Send and never read: the echoes fill the pipe back to us, the server's write blocks, it
    // stops reading, and then our own sends block too. Only the heartbeat can end this.
    let flood = async {
        loop {
            if let Err(error) = ws.send(Message::binary(vec![0u8; 16 * 1024])).await {
                return (opened.elapsed(), error);
            }
        }
    };
    let (failed_at, _error) = timeout(Duration::from_secs(60), flood).await.expect("the server closed us");
    assert_eq!(failed_at, Duration::from_secs(15), "closed at ping_every + timeout despite the stuck echo");
    assert_eq!(server.stop().await.heartbeat_closes, 1);
}

#[tokio::test(start_paused = true)]
async fn accept_rate_serves_a_burst_one_interval_apart_in_arrival_order() {
    let config = ServerConfig { accept_rate: Some(Rate { per_second: 10.0 }), ..ServerConfig::default() };
    let server = start(Transport::sim(), config).await;
    let start = Instant::now();
    let mut handshakes = Vec::new();
    for _ in 0..5 {
        let stream = server.transport.connect(server.addr).await.unwrap();
        let url = format!("ws://{}/", server.addr);
        handshakes.push(tokio::spawn(async move {
            let (ws, _) = client_async_with_config(url, stream, Some(websocket_config())).await.unwrap();
            (start.elapsed(), ws)
        }));
    }
    let mut opened_at = Vec::new();
    let mut open = Vec::new();
    for handshake in handshakes {
        let (at, ws) = handshake.await.unwrap();
        opened_at.push(at.as_millis());
        open.push(ws);
    }
    assert_eq!(opened_at, [0, 100, 200, 300, 400]);
    assert_eq!(server.stop().await.connections_accepted, 5);
}

#[tokio::test(start_paused = true)]
async fn handshake_latency_delays_the_upgrade_answer_by_exactly_d() {
    let latency = Jittered { base: Duration::from_millis(250), jitter: Duration::ZERO };
    let server =
        start(Transport::sim(), ServerConfig { handshake_latency: latency, ..ServerConfig::default() }).await;
    for _ in 0..2 {
        let started = Instant::now();
        let mut ws = server.connect().await;
        assert_eq!(started.elapsed(), Duration::from_millis(250));
        let started = Instant::now();
        assert_eq!(round_trip(&mut ws, Message::text("x")).await, Message::text("x"));
        assert_eq!(started.elapsed(), Duration::ZERO, "only the upgrade waits");
    }
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn jittered_handshake_latency_stays_in_range_and_repeats_with_the_seed() {
    let latency = Jittered { base: Duration::from_millis(100), jitter: Duration::from_millis(50) };
    let config = ServerConfig { handshake_latency: latency, ..ServerConfig::default() };
    let mut runs = Vec::new();
    for seed in [9, 9, 10] {
        let server = start_seeded(Transport::sim(), config.clone(), seed).await;
        let mut latencies = Vec::new();
        for _ in 0..8 {
            let started = Instant::now();
            let _ws = server.connect().await;
            latencies.push(started.elapsed());
        }
        server.stop().await;
        assert!(latencies.iter().all(|l| (latency.min()..=latency.max()).contains(l)), "{latencies:?}");
        runs.push(latencies);
    }
    assert_eq!(runs[0], runs[1], "same seed, same latencies");
    assert_ne!(runs[0], runs[2], "another seed, other latencies");
}

#[tokio::test(start_paused = true)]
async fn auth_answers_401_to_a_missing_or_wrong_token_and_admits_the_right_one() {
    let config = ServerConfig { auth_token: Some("secret".to_string()), ..ServerConfig::default() };
    let server = start(Transport::sim(), config).await;
    for token in [None, Some("wrong"), Some("secret2")] {
        match server.try_connect(token).await {
            Err(WsError::Http(response)) => {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
                assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
            }
            other => panic!("{token:?} was not rejected: {other:?}"),
        }
    }
    let mut ws = server.try_connect(Some("secret")).await.unwrap();
    assert_eq!(round_trip(&mut ws, Message::text("in")).await, Message::text("in"));
    let stats = server.stop().await;
    assert_eq!((stats.connections_accepted, stats.handshakes_rejected), (4, 3));
}

#[tokio::test(start_paused = true)]
async fn duplicates_are_counted_per_client_across_connections() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let mut first = server.connect().await;
    for seq in [0, 1] {
        round_trip(&mut first, workload_message(7, seq)).await;
    }
    first.close(None).await.unwrap();
    let mut second = server.connect().await;
    for (client, seq) in [(7, 1), (7, 2), (8, 0), (7, 0)] {
        round_trip(&mut second, workload_message(client, seq)).await;
    }
    let live = server.stats.snapshot();
    assert_eq!(live.clients[&7], ClientStats { received: 5, duplicates: 2, untracked: 0 });
    assert_eq!(live.clients[&8], ClientStats { received: 1, duplicates: 0, untracked: 0 });
    assert_eq!(server.stop().await.duplicates(), 2);
}

#[tokio::test(start_paused = true)]
async fn shutdown_says_going_away_to_open_peers_and_returns_the_counters() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let mut ws = server.connect().await;
    round_trip(&mut ws, Message::text("a")).await;
    let stats = server.stop().await;
    assert_eq!(stats.frames_echoed, 1);
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected Close 1001, got {other:?}"),
    }
}

/// Reads until the server closes `stream`, returning how long that took from `since`.
async fn closed_after(stream: &mut Stream, since: Instant) -> Duration {
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "no answer to an unfinished upgrade: {rest:?}");
    since.elapsed()
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_upgrade_and_a_slowloris_are_closed_at_the_handshake_timeout() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let started = Instant::now();
    let mut half = server.transport.connect(server.addr).await.unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: server\r\nUpgrade: websocket\r\n").await.unwrap();
    let mut slow = server.transport.connect(server.addr).await.unwrap();
    let slowloris = tokio::spawn(async move {
        // One byte a second, for longer than any timeout: a request that never ends.
        for byte in b"GET / HTTP/1.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter().cycle().take(60) {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        closed_after(&mut slow, started).await
    });
    let mut silent = server.transport.connect(server.addr).await.unwrap();
    assert_eq!(closed_after(&mut half, started).await, Duration::from_secs(10));
    assert_eq!(closed_after(&mut silent, started).await, Duration::from_secs(10));
    assert!(slowloris.await.unwrap() <= Duration::from_secs(11), "cut off at 10 s, seen by its next write");
    let mut ws = server.connect().await;
    assert_eq!(round_trip(&mut ws, Message::text("fine")).await, Message::text("fine"));
    let stats = server.stop().await;
    assert_eq!((stats.handshake_timeouts, stats.connections_accepted), (3, 4));
}

#[tokio::test(start_paused = true)]
async fn the_handshake_timeout_is_configurable_and_counts_the_latency_in() {
    let config = ServerConfig {
        handshake_timeout: Duration::from_secs(3),
        handshake_latency: Jittered { base: Duration::from_secs(2), jitter: Duration::ZERO },
        ..ServerConfig::default()
    };
    let server = start(Transport::sim(), config).await;
    let started = Instant::now();
    let mut quiet = server.transport.connect(server.addr).await.unwrap();
    let _ws = server.connect().await;
    assert_eq!(started.elapsed(), Duration::from_secs(2), "a 2 s answer fits a 3 s timeout");
    assert_eq!(closed_after(&mut quiet, started).await, Duration::from_secs(3));
    assert_eq!(server.stop().await.handshake_timeouts, 1);
}

/// Upgrades a raw connection, sends `frame` (bytes as they go on the wire) and returns the
/// Close frame's code and reason the server answers with, checking it then hangs up.
async fn close_after(server: &Running, frame: &[u8]) -> (u16, String) {
    let mut stream = server.transport.connect(server.addr).await.unwrap();
    assert!(raw_upgrade(&mut stream).await.starts_with("HTTP/1.1 101"));
    stream.write_all(frame).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert_eq!(answer.first(), Some(&0x88), "a Close frame, not a bare close: {answer:?}");
    let length = usize::from(answer[1]);
    assert_eq!(answer.len(), 2 + length, "then the connection ends: {answer:?}");
    let code = u16::from_be_bytes([answer[2], answer[3]]);
    (code, String::from_utf8(answer[4..].to_vec()).unwrap())
}

#[tokio::test(start_paused = true)]
async fn breaches_of_the_protocol_get_the_close_code_a_real_server_sends() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    // A binary frame announcing 16 MiB + 1 byte: over the limit before a byte of it is read.
    let mut too_big = vec![0x82, 0x80 | 127];
    too_big.extend_from_slice(&((16u64 << 20) + 1).to_be_bytes());
    too_big.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(close_after(&server, &too_big).await, (1009, "message over 16 MiB".to_string()));
    // A text frame holding 0xFF, masked with a zero key.
    let (code, _) = close_after(&server, &[0x81, 0x81, 0, 0, 0, 0, 0xFF]).await;
    assert_eq!(code, 1007, "invalid UTF-8");
    // RSV1 set with no extension negotiated, and an unmasked frame from a client.
    let (code, reason) = close_after(&server, &[0xC2, 0x80, 0, 0, 0, 0]).await;
    assert_eq!(code, 1002, "{reason}");
    let (code, reason) = close_after(&server, &[0x82, 0x01, 0x00]).await;
    assert_eq!(code, 1002, "{reason}");
    let stats = server.stop().await;
    assert_eq!(stats.protocol_closes, 4);
}

/// Sends `request` on a fresh connection and returns everything the server answers.
async fn answer_to(server: &Running, request: &str) -> String {
    let mut stream = server.transport.connect(server.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8(answer).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_request_that_is_not_an_upgrade_gets_400_and_another_version_426() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let plain = answer_to(&server, "GET / HTTP/1.1\r\nHost: server\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{plain}");
    assert!(plain.ends_with(
        "this is a WebSocket echo server: not a WebSocket upgrade (no `Upgrade: websocket` header)\n"
    ));
    let post = answer_to(&server, "POST / HTTP/1.1\r\nHost: server\r\nContent-Length: 0\r\n\r\n").await;
    assert!(post.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{post}");
    let old = answer_to(
        &server,
        "GET / HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    .await;
    assert!(
        old.starts_with("HTTP/1.1 426 Upgrade Required\r\n") && old.contains("Sec-WebSocket-Version: 13\r\n")
    );
    let mut ws = server.connect().await;
    assert_eq!(round_trip(&mut ws, Message::text("still serving")).await, Message::text("still serving"));
    assert_eq!(server.stop().await.not_upgrades, 3);
}

#[tokio::test(start_paused = true)]
async fn only_binary_frames_with_the_message_header_count_as_messages() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let mut ws = server.connect().await;
    // A 64-byte frame of another protocol that happens to be long enough.
    let foreign = Message::binary(vec![7u8; 64]);
    assert_eq!(round_trip(&mut ws, foreign.clone()).await, foreign);
    round_trip(&mut ws, workload_message(2, 0)).await;
    let stats = server.stop().await;
    assert_eq!(stats.frames_echoed, 2);
    assert_eq!(stats.clients.keys().collect::<Vec<_>>(), [&2], "the foreign frame is echoed, not counted");
}

#[tokio::test(start_paused = true)]
async fn the_first_subprotocol_offered_is_chosen() {
    let server = start(Transport::sim(), ServerConfig::default()).await;
    let stream = server.transport.connect(server.addr).await.unwrap();
    let mut request = format!("ws://{}/", server.addr).into_client_request().unwrap();
    request.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, "graphql-ws, chat.v1".parse().unwrap());
    let (mut ws, response) =
        client_async_with_config(request, stream, Some(websocket_config())).await.unwrap();
    assert_eq!(response.headers()[header::SEC_WEBSOCKET_PROTOCOL], "graphql-ws");
    assert_eq!(round_trip(&mut ws, Message::text("x")).await, Message::text("x"));
    server.stop().await;
}
