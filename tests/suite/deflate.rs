//! permessage-deflate end to end on the sim network: a client that offers it (tungstenite
//! over `wire::deflate::Deflate`, as Python websockets and browsers offer it) against the echo
//! server, with the server's choice, the refusal when turned off, the breaches of a compressed
//! link (1007, 1009), and compressed links through the fault proxy meeting frame faults.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use wschaos::net::{Stream, Transport};
use wschaos::scenario::{Scenario, ServerConfig};
use wschaos::stack::Stack;
use wschaos::wire::deflate::{CLIENT_OFFER, Deflate};
use wschaos::wire::websocket_config;

use crate::server::start;

/// A WebSocket over `transport` to `addr` that offers permessage-deflate; the answer's
/// `Sec-WebSocket-Extensions`, if any.
async fn deflate_client(
    transport: &Transport,
    addr: SocketAddr,
) -> (WebSocketStream<Deflate<Stream>>, Option<String>) {
    let stream = Deflate::client(transport.connect(addr).await.unwrap());
    let mut request = format!("ws://{addr}/").into_client_request().unwrap();
    request.headers_mut().insert(header::SEC_WEBSOCKET_EXTENSIONS, CLIENT_OFFER.parse().unwrap());
    let (ws, response) = client_async_with_config(request, stream, Some(websocket_config())).await.unwrap();
    let agreed =
        response.headers().get(header::SEC_WEBSOCKET_EXTENSIONS).map(|v| v.to_str().unwrap().to_string());
    (ws, agreed)
}

/// Sends `message` and returns the next data message back.
async fn echo<S>(ws: &mut WebSocketStream<S>, message: Message) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send(message).await.unwrap();
    loop {
        match ws.next().await.expect("open").unwrap() {
            Message::Ping(_) | Message::Pong(_) => continue,
            reply => return reply,
        }
    }
}

fn compressible(bytes: usize) -> String {
    "{\"type\":\"quote\",\"symbol\":\"ACME\",\"bid\":101.25}".chars().cycle().take(bytes).collect()
}

#[tokio::test(start_paused = true)]
async fn the_echo_server_agrees_to_deflate_and_echoes_through_it() {
    let transport = Transport::sim();
    let server = start(transport.clone(), ServerConfig::default()).await;
    let (mut ws, agreed) = deflate_client(&transport, server.addr).await;
    assert_eq!(agreed.as_deref(), Some("permessage-deflate"));
    assert!(ws.get_ref().compressing());
    for message in [
        Message::text("Hello"),
        Message::text("Hello"),
        Message::text(""),
        Message::text(compressible(200 * 1024)),
        Message::binary(crate::server::workload_message(4, 0).into_data()),
    ] {
        assert_eq!(echo(&mut ws, message.clone()).await, message);
    }
    let stats = server.stop().await;
    assert_eq!(stats.frames_echoed, 5);
    assert_eq!(stats.clients.keys().collect::<Vec<_>>(), [&4], "the compressed message is counted");
}

#[tokio::test(start_paused = true)]
async fn with_deflate_off_the_offer_is_declined_and_the_link_is_plain() {
    let transport = Transport::sim();
    let server = start(transport.clone(), ServerConfig { deflate: false, ..ServerConfig::default() }).await;
    let (mut ws, agreed) = deflate_client(&transport, server.addr).await;
    assert_eq!(agreed, None);
    assert!(!ws.get_ref().compressing());
    assert_eq!(echo(&mut ws, Message::text("plain")).await, Message::text("plain"));
    server.stop().await;
}

/// Upgrades a raw connection offering deflate, sends `frame`, returns the Close code back.
async fn close_code_on_compressed_link(frame: &[u8]) -> u16 {
    let transport = Transport::sim();
    let server = start(transport.clone(), ServerConfig::default()).await;
    let mut stream = transport.connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    assert!(
        String::from_utf8(head)
            .unwrap()
            .to_ascii_lowercase()
            .contains("sec-websocket-extensions: permessage-deflate")
    );
    stream.write_all(frame).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert_eq!(answer[0], 0x88, "{answer:?}");
    u16::from_be_bytes([answer[2], answer[3]])
}

#[tokio::test(start_paused = true)]
async fn breaches_of_a_compressed_link_get_1007_and_1009() {
    // RSV1 set, payload that is not deflate data.
    assert_eq!(close_code_on_compressed_link(&[0xc2, 0x84, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).await, 1007);
    // A compressed message that inflates past 16 MiB: 17 MiB of zeros deflate to a few KiB.
    let mut frame = vec![0xc2, 0xfe];
    let mut zeros = flate2::Compress::new(flate2::Compression::default(), false);
    let mut bomb = Vec::with_capacity(64 * 1024);
    zeros.compress_vec(&vec![0u8; 17 << 20], &mut bomb, flate2::FlushCompress::Sync).unwrap();
    frame.extend_from_slice(&(bomb.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(&bomb);
    assert_eq!(close_code_on_compressed_link(&frame).await, 1009);
}

#[tokio::test(start_paused = true)]
async fn a_compressed_link_through_the_proxy_meets_the_frame_faults() {
    let text = "version: 1\nname: deflate-faults\nengine: sim\nduration: 10s\nclients: { count: 1 }\n\
                faults:\n  - at: 2s\n    for: 2s\n    drop_frames: { kinds: [text], direction: upstream }\n\
                \x20 - at: 5s\n    close_frame: { code: 4000, reason: compressed }\n";
    let scenario = Scenario::parse(text, "deflate-faults.yaml").unwrap();
    let transport = Transport::sim();
    let mut stack = Stack::for_scenario(&transport, &scenario, 1).start().await.unwrap();
    let origin = tokio::time::Instant::now();
    stack.play(&scenario.faults, scenario.duration, origin);
    let (mut ws, agreed) = deflate_client(&transport, stack.proxy_addr()).await;
    assert_eq!(agreed.as_deref(), Some("permessage-deflate"), "the answer passes the proxy");
    let big = Message::text(compressible(100 * 1024));
    assert_eq!(echo(&mut ws, big.clone()).await, big, "byte for byte through the observer");
    tokio::time::sleep_until(origin + Duration::from_secs(3)).await;
    ws.send(Message::text(compressible(1000))).await.unwrap();
    assert!(timeout(Duration::from_secs(1), ws.next()).await.is_err(), "the compressed text was dropped");
    tokio::time::sleep_until(origin + Duration::from_secs(4) + Duration::from_millis(100)).await;
    assert_eq!(echo(&mut ws, Message::text("after")).await, Message::text("after"));
    match timeout(Duration::from_secs(5), ws.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::from(4000)),
        other => panic!("expected the injected Close 4000, got {other:?}"),
    }
    stack.shutdown().await;
}
