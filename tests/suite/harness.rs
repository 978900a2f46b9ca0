//! The harness's own failures are its own verdict: accepts that fail for want of descriptors
//! are retried with backoff and, when they go on, end the echo server or the proxy with an
//! error naming it, which the stack surfaces; on sim (a listener whose accepts fail, paused
//! time) and live (`wschaos echo` under a lowered descriptor limit, exit 70).

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::client_async_with_config;
use wschaos::net::accept::PERSIST;
use wschaos::net::{SimNet, Transport};
use wschaos::scenario::ServerConfig;
use wschaos::stack::Stack;
use wschaos::wire::websocket_config;

use crate::server::start;

const EMFILE: i32 = Errno::EMFILE as i32;

#[tokio::test(start_paused = true)]
async fn a_passing_descriptor_shortage_is_retried_with_backoff_and_the_connection_served() {
    let net = SimNet::new();
    let server = start(Transport::Sim(net.clone()), ServerConfig::default()).await;
    net.fail_accepts(server.addr, Some(EMFILE));
    let started = Instant::now();
    let stream = Transport::Sim(net.clone()).connect(server.addr).await.unwrap();
    let url = format!("ws://{}/", server.addr);
    let handshake = tokio::spawn(client_async_with_config(url, stream, Some(websocket_config())));
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.fail_accepts(server.addr, None);
    let (_ws, _) = handshake.await.unwrap().unwrap();
    // Tries at 0, 10, 30, 70, 150, 310, 630 ms and 1.27 s failed; the one at 2.27 s worked.
    assert_eq!(started.elapsed(), Duration::from_millis(2270));
    let stats = server.stop().await;
    assert_eq!((stats.accept_errors, stats.connections_accepted), (8, 1));
}

#[tokio::test(start_paused = true)]
async fn accepts_failing_for_five_seconds_end_the_echo_server_with_its_own_error() {
    let net = SimNet::new();
    let server = start(Transport::Sim(net.clone()), ServerConfig::default()).await;
    net.fail_accepts(server.addr, Some(EMFILE));
    let started = Instant::now();
    let _waiting = Transport::Sim(net.clone()).connect(server.addr).await.unwrap();
    let error = timeout(Duration::from_secs(60), server.failed()).await.expect("the server gave up");
    assert_eq!(started.elapsed(), PERSIST, "exactly when the failures had gone on for 5 s");
    let message = error.to_string();
    assert!(message.starts_with("echo server: accepting connections failed for 5s"), "{message}");
    assert!(message.contains("Too many open files"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn the_stack_surfaces_a_server_that_failed_naming_it() {
    let net = SimNet::new();
    let transport = Transport::Sim(net.clone());
    let mut stack = Stack::echo(&transport, ServerConfig::default()).start().await.unwrap();
    net.fail_accepts(stack.server_addr(), Some(EMFILE));
    let started = Instant::now();
    // Through the proxy: it accepts and dials the server, whose accepts fail.
    let _client = transport.connect(stack.proxy_addr()).await.unwrap();
    let failure = timeout(Duration::from_secs(60), stack.failure()).await.expect("surfaced");
    assert_eq!(started.elapsed(), PERSIST);
    assert_eq!(failure.component, "echo server");
    assert!(failure.cause.starts_with("accepting connections failed for 5s"), "{}", failure.cause);
    assert_eq!(stack.shutdown().await, None, "no counters from a server that failed");
}

#[tokio::test(start_paused = true)]
async fn the_stack_surfaces_a_proxy_whose_accepts_keep_failing() {
    let net = SimNet::new();
    let transport = Transport::Sim(net.clone());
    let mut stack = Stack::echo(&transport, ServerConfig::default()).start().await.unwrap();
    net.fail_accepts(stack.proxy_addr(), Some(Errno::ENFILE as i32));
    let _client = transport.connect(stack.proxy_addr()).await.unwrap();
    let failure = timeout(Duration::from_secs(60), stack.failure()).await.expect("surfaced");
    assert_eq!(failure.component, "proxy");
    assert!(failure.cause.contains("Too many open files in system"), "{}", failure.cause);
}

#[tokio::test(start_paused = true)]
async fn a_healthy_stack_reports_no_failure() {
    let transport = Transport::sim();
    let mut stack = Stack::echo(&transport, ServerConfig::default()).start().await.unwrap();
    assert!(timeout(Duration::from_secs(3600), stack.failure()).await.is_err(), "pending for an hour");
    assert!(stack.shutdown().await.is_some());
}

/// `wschaos echo` with at most `limit` descriptors (soft and hard), its address, its stderr.
fn echo_with_descriptor_limit(limit: u32) -> (std::process::Child, SocketAddr) {
    let command = format!("ulimit -n {limit} && exec \"$0\" echo --listen 127.0.0.1:0");
    let mut child = StdCommand::new("sh")
        .args(["-c", &command, env!("CARGO_BIN_EXE_wschaos")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    let addr = first.trim().strip_prefix("listening on ws://").unwrap_or_else(|| panic!("{first:?}"));
    (child, addr.parse().unwrap())
}

#[tokio::test]
async fn echo_out_of_descriptors_exits_70_naming_itself_and_the_cause() {
    let (mut child, addr) = echo_with_descriptor_limit(48);
    // More connections than it has descriptors: the rest wait in the backlog, where every
    // accept fails with EMFILE; none of ours closes, so the shortage persists.
    let mut held = Vec::new();
    for _ in 0..80 {
        held.push(Transport::Live.connect(addr).await.unwrap());
    }
    let waited = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (status, stderr)
    });
    let (status, stderr) = timeout(Duration::from_secs(30), waited).await.expect("it gave up").unwrap();
    drop(held);
    assert_eq!(status.code(), Some(70), "{stderr}");
    assert!(
        stderr.contains("error: wschaos itself failed: echo server: accepting connections failed for 5s"),
        "{stderr}"
    );
    assert!(stderr.contains("Too many open files"), "{stderr}");
    let warnings =
        stderr.lines().filter(|line| line.contains("accepts failed since the last warning")).count();
    assert!((1..=6).contains(&warnings), "one warning a second at most: {warnings}\n{stderr}");
}

/// `wschaos run FILE --out DIR` under `sh` after `limits` (`ulimit …` commands).
fn run_with_limits(limits: &str, file: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    let command = format!("{limits} && exec \"$0\" run \"$1\" --out \"$2\"");
    StdCommand::new("sh")
        .args(["-c", &command, env!("CARGO_BIN_EXE_wschaos")])
        .arg(file)
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_live_run_beyond_the_hard_descriptor_limit_is_refused_before_it_starts_with_the_numbers() {
    let file = crate::run::scenario_file(
        "preflight-refused",
        "version: 1\nname: preflight-refused\nduration: 60s\nclients: { count: 300 }\n",
    );
    let out = crate::run::out_dir("preflight-refused");
    let output = run_with_limits("ulimit -n 256", &file, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs about 1264 file descriptors (300 clients × 4 each, plus 64 for the process)"),
        "{stderr}"
    );
    assert!(stderr.contains("at most 256 (the hard limit, `ulimit -Hn`)"), "{stderr}");
    assert!(stderr.contains("run at most 48 clients"), "{stderr}");
    assert!(!out.join("report.json").exists(), "refused before anything ran");
}

#[test]
fn a_live_run_raises_a_low_soft_descriptor_limit_and_loses_nothing() {
    let file = crate::run::scenario_file(
        "preflight-raised",
        "version: 1\nname: preflight-raised\nduration: 2s\nquiet_period: 1s\n\
         clients:\n  count: 50\n  workload: { rate: 10/s }\nslo:\n  messages_lost: [\"count == 0\"]\n",
    );
    let out = crate::run::out_dir("preflight-raised");
    // 50 clients hold about 264 descriptors: far above the soft limit of 100, within the hard one.
    let output = run_with_limits("ulimit -Sn 100", &file, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report = crate::run::report(&out);
    assert_eq!(report["strategies"][0]["messages"]["lost"], 0, "{report}");
    assert!(!stderr.contains("accepts failed"), "{stderr}");
}
