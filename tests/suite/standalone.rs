//! `wschaos echo` and `wschaos proxy --scenario` started as processes, with a WebSocket client
//! through them that meets the scheduled fault at the scheduled time.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{WebSocketStream, client_async};
use wschaos::net::{Stream, Transport};

use crate::process::Process;

/// `wschaos echo` and, in front of it, `wschaos proxy` playing one `fault` at 2 s; a WebSocket
/// client through them that has had one echo; and when the proxy started.
async fn through_proxy(name: &str, fault: &str) -> (Process, Process, WebSocketStream<Stream>, Instant) {
    let echo = Process::start(&["echo", "--listen", "127.0.0.1:0"]);
    let echo_addr = echo.line(|line| line.starts_with("listening on ws://"));
    let echo_addr = echo_addr.trim_start_matches("listening on ws://").to_string();

    let scenario = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.yaml"));
    let text = format!(
        "version: 1\nname: standalone\nduration: 30s\nclients: {{ count: 1 }}\nfaults:\n  - at: 2s\n    {fault}\n"
    );
    std::fs::write(&scenario, text).unwrap();
    let proxy =
        Process::start(&["proxy", "--upstream", &echo_addr, "--scenario", scenario.to_str().unwrap()]);
    let first = proxy.line(|line| line.starts_with("listening on "));
    let started = Instant::now();
    let proxy_addr = first.trim_start_matches("listening on ").split(',').next().unwrap().to_string();

    let stream = Transport::Live.connect(proxy_addr.parse().unwrap()).await.unwrap();
    let (mut ws, _) = client_async(format!("ws://{proxy_addr}/"), stream).await.unwrap();
    ws.send(Message::text("before the fault")).await.unwrap();
    let echoed = timeout(Duration::from_secs(30), ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(echoed, Message::text("before the fault"), "echoed through the proxy");
    (echo, proxy, ws, started)
}

#[tokio::test]
async fn a_client_through_the_standalone_proxy_meets_the_scheduled_reset() {
    let (echo, proxy, mut ws, started) = through_proxy("standalone-reset", "reset: {}").await;

    let broken = timeout(Duration::from_secs(30), ws.next()).await.expect("the fault comes");
    let seen_after = started.elapsed();
    match broken {
        Some(Err(Error::Io(error))) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
        Some(Err(Error::Protocol(_))) => {} // tungstenite's "reset without closing handshake"
        other => panic!("expected a reset, got {other:?}"),
    }
    assert!(seen_after >= Duration::from_millis(1500), "not before its time: {seen_after:?}");

    let started_line = proxy.line(|line| line.contains("reset started"));
    let at: f64 = started_line.split_whitespace().next().unwrap().trim_end_matches('s').parse().unwrap();
    assert!((2.0..3.0).contains(&at), "the proxy started the reset at {at} s: {started_line}");
    proxy.line(|line| line.contains("faults[0]#0 hit link 0"));
    proxy.line(|line| line.contains("link 0 closed: reset by faults[0]#0"));

    proxy.interrupt();
    echo.interrupt();
}

/// The numbers in the client's summary line.
fn summary_numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|word| !word.is_empty())
        .map(|n| n.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn the_standalone_client_runs_against_echo_directly_and_through_the_proxy() {
    let echo = Process::start(&["echo", "--listen", "127.0.0.1:0"]);
    let echo_url = echo.line(|line| line.starts_with("listening on ws://")).replace("listening on ", "");
    let echo_addr = echo_url.trim_start_matches("ws://").to_string();
    let proxy = Process::start(&["proxy", "--upstream", &echo_addr]);
    let first = proxy.line(|line| line.starts_with("listening on "));
    let proxy_addr = first.trim_start_matches("listening on ").split(',').next().unwrap().to_string();

    for url in [format!("{echo_url}/"), format!("ws://{proxy_addr}/")] {
        let mut client =
            Process::start(&["client", "--url", &url, "--strategy", "socketio", "--rate", "50/s"]);
        client.line(|line| line.contains("message 10 echoed"));
        client.signal("INT");
        let summary = client.line(|line| line.starts_with("attempts "));
        let numbers = summary_numbers(&summary);
        let (attempts, offered, echoed, _, duplicates) =
            (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]);
        assert_eq!(attempts, 1, "{url}: one connection, no fault: {summary}");
        assert!(echoed >= 11 && offered >= echoed, "{url}: {summary}");
        assert_eq!(duplicates, 0, "{summary}");
        assert!(client.wait().success(), "the client exits cleanly on Ctrl-C");
    }
    proxy.interrupt();
    echo.interrupt();
}

#[tokio::test]
async fn a_client_through_the_standalone_proxy_gets_the_scheduled_close_frame() {
    let fault = "close_frame: { code: 1012, reason: deploying }";
    let (echo, proxy, mut ws, started) = through_proxy("standalone-close", fault).await;

    let close = timeout(Duration::from_secs(30), ws.next()).await.expect("the fault comes");
    let seen_after = started.elapsed();
    match close {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1012);
            assert_eq!(frame.reason.as_str(), "deploying");
        }
        other => panic!("expected a Close frame, got {other:?}"),
    }
    assert!(seen_after >= Duration::from_millis(1500), "not before its time: {seen_after:?}");
    proxy.line(|line| line.contains("link 0 upgrade answered 101"));
    proxy.line(|line| line.contains("faults[0]#0 hit link 0"));
    proxy.line(|line| line.contains("link 0 closed: closed by faults[0]#0"));

    proxy.interrupt();
    echo.interrupt();
}

/// `wschaos proxy --out` in front of `wschaos echo`, with two `wschaos client`s naming
/// themselves by header: the proxy stops when the scenario ends and judges what it saw.
#[tokio::test]
async fn the_standalone_proxy_writes_a_judged_report_when_its_scenario_ends() {
    let echo = Process::start(&["echo", "--listen", "127.0.0.1:0"]);
    let echo_addr = echo.line(|line| line.starts_with("listening on ws://"));
    let echo_addr = echo_addr.trim_start_matches("listening on ws://").to_string();
    let scenario = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("standalone-report.yaml");
    let text = "version: 1\nname: standalone-report\nduration: 3s\nquiet_period: 2s\nclients: { count: 2 }\n\
                faults:\n  - at: 1s\n    reset: {}\nslo:\n  observed_recovery_time: [\"count == 2\"]\n  \
                unconverged: [\"count == 0\"]\n";
    std::fs::write(&scenario, text).unwrap();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("standalone-report");
    let _ = std::fs::remove_dir_all(&out);
    let args = ["proxy", "--upstream", &echo_addr, "--scenario", scenario.to_str().unwrap(), "--out"];
    let mut proxy = Process::start(&[&args[..], &[out.to_str().unwrap()]].concat());
    let first = proxy.line(|line| line.starts_with("listening on "));
    let proxy_addr = first.trim_start_matches("listening on ").split(',').next().unwrap().to_string();
    let url = format!("ws://{proxy_addr}/");
    let clients: Vec<Process> = (0..2)
        .map(|index| {
            Process::start(&["client", "--url", &url, "--index", &index.to_string(), "--heartbeat", "1s/1s"])
        })
        .collect();
    proxy.line(|line| line.starts_with("## PASS · standalone-report"));
    assert_eq!(proxy.wait().code(), Some(0), "the scenario's end stops the proxy, which passes");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let strategy = &report["strategies"][0];
    assert_eq!(strategy["name"], "observed");
    assert_eq!(strategy["metrics"]["observed_recovery_time"]["count"], 2);
    assert_eq!(strategy["metrics"]["observed_detect_time"]["count"], 2);
    assert!(out.join("junit.xml").is_file() && out.join("summary.md").is_file());
    for client in clients {
        client.interrupt();
    }
    echo.interrupt();
}

/// A server that insists on the subprotocol `chat.v1` and the header `x-team: blue` (400
/// otherwise), as real ones do (graphql-ws, an API gateway), echoing on one connection.
#[allow(clippy::result_large_err, reason = "tungstenite's callback returns its error response by value")]
async fn picky_server() -> std::net::SocketAddr {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    use tokio_tungstenite::tungstenite::http::{self, StatusCode};

    let mut listener = wschaos::net::Transport::Live.bind(wschaos::net::any_loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let check = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
                let offered = request.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
                let team = request.headers().get("x-team").and_then(|v| v.to_str().ok());
                if !offered.is_some_and(|list| list.split(',').any(|p| p.trim() == "chat.v1"))
                    || team != Some("blue")
                {
                    let refusal =
                        http::Response::builder().status(StatusCode::BAD_REQUEST).body(None).unwrap();
                    return Err(refusal);
                }
                response.headers_mut().insert("sec-websocket-protocol", "chat.v1".parse().unwrap());
                Ok(response)
            };
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else { return };
                while let Some(Ok(message)) = ws.next().await {
                    if (message.is_binary() || message.is_text()) && ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

// Two workers: the server's tasks run while the test waits on the process's lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reaches_a_server_that_requires_a_subprotocol_and_a_header() {
    let addr = picky_server().await;
    let url = format!("ws://{addr}/");
    let refused = Process::start(&["client", "--url", &url, "--strategy", "immediate", "--heartbeat", "off"]);
    let failed = refused.line(|line| line.contains("attempt 1 failed"));
    assert!(failed.ends_with("attempt 1 failed: the server answered the upgrade with HTTP 400"), "{failed}");
    refused.interrupt();
    let client = Process::start(&[
        "client",
        "--url",
        &url,
        "--subprotocol",
        "chat.v1",
        "--header",
        "X-Team: blue",
        "--rate",
        "5/s",
    ]);
    client.line(|line| line.ends_with("opened on attempt 1"));
    client.line(|line| line.contains("message 0 echoed"));
    client.interrupt();
}

#[tokio::test]
async fn client_lines_are_plain_words_not_rust_names() {
    // A port nothing listens on: every attempt is refused.
    let closed = wschaos::net::Transport::Live.bind(wschaos::net::any_loopback()).await.unwrap();
    let url = format!("ws://{}/", closed.local_addr().unwrap());
    drop(closed);
    let client = Process::start(&["client", "--url", &url, "--strategy", "immediate", "--rate", "100/s"]);
    let failed = client.line(|line| line.contains("attempt 1 failed"));
    assert!(failed.ends_with("attempt 1 failed: connect failed: connection refused"), "{failed}");
    let state = client.line(|line| line.contains("state "));
    assert!(!state.contains('_'), "{state}");
    client.interrupt();
}

#[test]
fn client_refuses_headers_it_writes_itself_and_malformed_ones() {
    let cases: &[(&[&str], &str)] = &[
        (&["--header", "no colon"], "is not a header; write it like `X-Team: blue`"),
        (&["--header", "Sec-WebSocket-Protocol: x"], "use --subprotocol"),
        (
            &["--header", "Sec-WebSocket-Extensions: permessage-deflate"],
            "writes `Sec-WebSocket-Extensions` itself",
        ),
        (&["--header", "bad name: x"], "is not a header name"),
        (&["--subprotocol", "two words"], "is not a subprotocol name"),
    ];
    for (args, message) in cases {
        assert_cmd::Command::cargo_bin("wschaos")
            .unwrap()
            .args(["client", "--url", "ws://127.0.0.1:9/"])
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(*message));
    }
}

/// A client that never says which client it is meets two faults that target clients by index:
/// the proxy warns, at each fault's end, that they could not act, and neither hits.
#[tokio::test]
async fn faults_that_target_clients_by_index_warn_when_no_link_says_which_client_it_is() {
    let echo = Process::start(&["echo", "--listen", "127.0.0.1:0"]);
    let echo_addr = echo.line(|line| line.starts_with("listening on ws://"));
    let echo_addr = echo_addr.trim_start_matches("listening on ws://").to_string();
    let scenario = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("standalone-unnamed.yaml");
    let text = "version: 1\nname: unnamed\nduration: 30s\nclients: { count: 2 }\nfaults:\n  \
                - at: 1s\n    reset: {}\n    target: { share: 50% }\n  \
                - at: 1s\n    for: 1s\n    stall: {}\n    target: { clients: [1] }\n";
    std::fs::write(&scenario, text).unwrap();
    let proxy =
        Process::start(&["proxy", "--upstream", &echo_addr, "--scenario", scenario.to_str().unwrap()]);
    let first = proxy.line(|line| line.starts_with("listening on "));
    let proxy_addr = first.trim_start_matches("listening on ").split(',').next().unwrap().to_string();
    // tungstenite's own client sends no x-wschaos-client header.
    let stream = Transport::Live.connect(proxy_addr.parse().unwrap()).await.unwrap();
    let (_ws, _) = client_async(format!("ws://{proxy_addr}/"), stream).await.unwrap();

    let seen = std::cell::RefCell::new(Vec::new());
    let note = |line: &str| -> String {
        seen.borrow_mut().push(line.to_string());
        line.to_string()
    };
    proxy.line(|line| note(line).contains("faults[0]#0 reset started"));
    let warning = proxy.line(|line| note(line).contains("warning: faults[0]"));
    assert!(warning.contains("targets clients by index but no link said which client it is"), "{warning}");
    proxy.line(|line| note(line).contains("faults[1]#0 ended"));
    let warning = proxy.line(|line| note(line).contains("warning: faults[1]"));
    assert!(warning.contains("targets clients by index but no link said which client it is"), "{warning}");
    let seen = seen.into_inner();
    assert!(!seen.iter().any(|line| line.contains(" hit ")), "nothing can be hit: {seen:#?}");
    proxy.interrupt();
    echo.interrupt();
}

/// `wschaos echo --tls` writes its CA and prints where; `wschaos client --url wss:// --ca`
/// trusts it, directly and through `wschaos proxy`, which passes the TLS through untouched.
#[tokio::test]
async fn the_standalone_client_speaks_wss_to_echo_tls_directly_and_through_the_proxy() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("standalone-tls");
    let _ = std::fs::remove_dir_all(&dir);
    let echo =
        Process::start(&["echo", "--listen", "127.0.0.1:0", "--tls", "--tls-out", dir.to_str().unwrap()]);
    let first = echo.line(|line| line.starts_with("listening on wss://"));
    let ca = dir.join("ca.pem");
    assert!(first.contains(&ca.display().to_string()), "the first line names the CA: {first}");
    assert!(std::fs::read_to_string(&ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    let echo_addr = first.trim_start_matches("listening on wss://").split(' ').next().unwrap().to_string();
    let proxy = Process::start(&["proxy", "--upstream", &echo_addr]);
    let proxy_addr = proxy
        .line(|line| line.starts_with("listening on "))
        .trim_start_matches("listening on ")
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let port = proxy_addr.rsplit(':').next().unwrap();
    for url in
        [format!("wss://{echo_addr}/"), format!("wss://{proxy_addr}/"), format!("wss://localhost:{port}/")]
    {
        let mut client =
            Process::start(&["client", "--url", &url, "--ca", ca.to_str().unwrap(), "--rate", "50/s"]);
        client.line(|line| line.contains("TLS established on attempt 1"));
        client.line(|line| line.contains("message 10 echoed"));
        client.signal("INT");
        let summary = client.line(|line| line.starts_with("attempts "));
        assert_eq!(summary_numbers(&summary)[0], 1, "{url}: one connection: {summary}");
        assert!(client.wait().success(), "{url}: the client exits cleanly on Ctrl-C");
    }
    proxy.interrupt();
    echo.interrupt();
}
