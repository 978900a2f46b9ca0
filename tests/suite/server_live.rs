//! The echo server over real loopback TCP: one echo in process, and `wschaos echo` run as a
//! process (its address line, an echo, Ctrl-C, bad values, a taken address, its help).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use tokio::time::timeout;
use tokio_tungstenite::client_async_with_config;
use tokio_tungstenite::tungstenite::Message;
use wschaos::net::{Transport, any_loopback};
use wschaos::scenario::ServerConfig;
use wschaos::wire::websocket_config;

use crate::server::{round_trip, start, workload_message};

#[tokio::test]
async fn echoes_over_live_loopback_tcp() {
    let server = start(Transport::Live, ServerConfig::default()).await;
    assert!(server.addr.ip().is_loopback() && server.addr.port() != 0);
    let mut ws = server.connect().await;
    assert_eq!(round_trip(&mut ws, Message::text("over tcp")).await, Message::text("over tcp"));
    let message = workload_message(1, 0);
    assert_eq!(round_trip(&mut ws, message.clone()).await, message);
    let stats = server.stop().await;
    assert_eq!((stats.frames_echoed, stats.messages_received()), (2, 1));
}

#[tokio::test]
async fn echo_command_prints_its_address_echoes_and_stops_on_ctrl_c() {
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_wschaos"))
        .args(["echo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on ws://")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .parse()
        .unwrap();

    let stream = Transport::Live.connect(addr).await.unwrap();
    let (mut ws, _) =
        client_async_with_config(format!("ws://{addr}/"), stream, Some(websocket_config())).await.unwrap();
    assert_eq!(round_trip(&mut ws, Message::text("hi")).await, Message::text("hi"));

    if cfg!(unix) {
        // Ctrl-C as a terminal sends it; `kill` keeps the test free of a libc dependency.
        let sent = StdCommand::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let waited = timeout(
            Duration::from_secs(30),
            tokio::task::spawn_blocking(move || {
                let status = child.wait().unwrap();
                let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
                (status, rest)
            }),
        );
        let (status, rest) = waited.await.expect("exits after Ctrl-C").unwrap();
        assert!(status.success(), "{status}");
        assert_eq!(rest.len(), 1, "{rest:?}");
        assert!(rest[0].starts_with("connections 1, rejected 0,"), "{rest:?}");
        assert!(rest[0].contains("frames echoed 1"), "{rest:?}");
    } else {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

fn wschaos() -> Command {
    Command::cargo_bin("wschaos").unwrap()
}

#[test]
fn echo_rejects_bad_values_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["--heartbeat", "10s"], "write it like `10s/5s`"),
        (&["--heartbeat", "0s/5s"], "must be longer than 0s"),
        (&["--heartbeat", "10s/5"], "TIMEOUT: `5` has no unit"),
        (&["--handshake-latency", "1ms ± 2ms"], "larger than the value"),
        (&["--accept-rate", "fast"], "is not a rate"),
        (&["--accept-rate", "0/s"], "must be above zero"),
        (&["--token", ""], "the token is empty"),
        (&["--token", "two words"], "no spaces"),
        (&["--listen", "localhost"], "--listen"),
        (&["--handshake-timeout", "0s"], "must be longer than 0s"),
        (&["--handshake-timeout", "10"], "has no unit"),
        (
            &["--handshake-timeout", "1s", "--handshake-latency", "2s"],
            "not longer than the slowest --handshake-latency",
        ),
    ];
    for (args, message) in cases {
        wschaos().arg("echo").args(*args).assert().code(2).stderr(predicate::str::contains(*message));
    }
}

#[test]
fn echo_on_a_taken_address_exits_2() {
    // A plain blocking listener: this test has no runtime, and is not a sim run.
    #[allow(clippy::disallowed_methods)]
    let taken = std::net::TcpListener::bind(any_loopback()).unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    wschaos()
        .args(["echo", "--listen", &addr])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("--listen {addr}: cannot listen there")));
}

#[test]
fn echo_help_shows_an_example() {
    wschaos()
        .args(["echo", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Example:").and(predicate::str::contains("--heartbeat 10s/5s")));
}

/// `wschaos echo ARGS` as a process and its address.
fn echo_process(args: &[&str]) -> (crate::process::Process, SocketAddr) {
    let mut all = vec!["echo", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let echo = crate::process::Process::start(&all);
    let line = echo.line(|line| line.starts_with("listening on ws://"));
    let addr = line.trim_start_matches("listening on ws://").parse().unwrap();
    (echo, addr)
}

/// Opens a WebSocket to `addr` offering permessage-deflate; whether it was agreed.
async fn offer_deflate(
    addr: SocketAddr,
) -> (tokio_tungstenite::WebSocketStream<wschaos::wire::deflate::Deflate<wschaos::net::Stream>>, bool) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let stream = wschaos::wire::deflate::Deflate::client(Transport::Live.connect(addr).await.unwrap());
    let mut request = format!("ws://{addr}/").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-extensions", wschaos::wire::deflate::CLIENT_OFFER.parse().unwrap());
    let (ws, _) = client_async_with_config(request, stream, Some(websocket_config())).await.unwrap();
    let compressing = ws.get_ref().compressing();
    (ws, compressing)
}

// Two workers: the test waits on the process's lines with a blocking read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_command_compresses_for_clients_that_offer_it_unless_told_not_to() {
    use futures_util::{SinkExt, StreamExt};

    let (echo, addr) = echo_process(&[]);
    let (mut ws, compressing) = offer_deflate(addr).await;
    assert!(compressing, "permessage-deflate is on by default");
    let quote = Message::text("{\"symbol\":\"ACME\",\"bid\":101.25}".repeat(2000));
    ws.send(quote.clone()).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), quote);
    drop(ws);
    echo.interrupt();

    let (echo, addr) = echo_process(&["--no-deflate"]);
    let (mut ws, compressing) = offer_deflate(addr).await;
    assert!(!compressing, "--no-deflate declines the offer");
    assert_eq!(round_trip_plain(&mut ws, Message::text("plain")).await, Message::text("plain"));
    drop(ws);
    echo.interrupt();
}

async fn round_trip_plain<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>, message: Message) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    ws.send(message).await.unwrap();
    ws.next().await.unwrap().unwrap()
}
