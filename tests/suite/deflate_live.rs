//! Frame faults on real compressed streams, live over loopback: Python `websockets` and Node
//! `ws`, each client against its own library's echo server (tests/fixtures/deflate/), both with
//! permessage-deflate and context takeover, through the proxy under `drop_frames` of half the
//! text messages both ways. Without `strip_deflate` no compressed message is dropped (the fault
//! says why) and every message comes back whole; before, Python's server failed with
//! "decompression failed" (invalid distance too far back) and Node's lost the stream. With
//! `strip_deflate` nothing is compressed, the fault drops messages, and those that arrive are
//! whole.
//!
//! They need the venv and node_modules that examples/clients/setup.sh makes, so CI runs them in
//! the step after it; without them every test fails saying so. Every process is killed when
//! its test ends, and each wait is bounded.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;
use wschaos::net::Transport;
use wschaos::proxy::{EventKind, NotApplied, ProxyEvent};
use wschaos::scenario::{Direction, Fault, FrameKind};
use wschaos::stack::Stack;
use wschaos::ws::Way;

use crate::support::{everyone, id};

/// Text messages each client sends, 10 ms apart, each over 1 KiB (ws compresses from 1 KiB).
const MESSAGES: u64 = 20;

/// How long a server may take to listen, and a client to finish.
const BOUND: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
enum Library {
    PythonWebsockets,
    NodeWs,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn clients_dir() -> PathBuf {
    repo().join("examples/clients")
}

impl Library {
    /// `script` of tests/fixtures/deflate/ run by this library's interpreter.
    fn command(self, script: &str) -> Command {
        let fixtures = repo().join("tests/fixtures/deflate");
        let mut command = match self {
            Library::PythonWebsockets => {
                let mut command = Command::new(clients_dir().join("python-websockets/.venv/bin/python"));
                command.arg(fixtures.join(format!("{script}.py")));
                command
            }
            Library::NodeWs => {
                let mut command = Command::new("node");
                command.arg(fixtures.join(format!("{script}.js")));
                command.env("NODE_PATH", clients_dir().join("node-ws/node_modules"));
                command
            }
        };
        command.current_dir(repo()).stdin(Stdio::null()).stderr(Stdio::inherit()).kill_on_drop(true);
        command
    }

    /// Fails the test, with the fix, unless the library is installed and runs.
    fn require_setup(self) {
        let fix = "run examples/clients/setup.sh first (it makes the Python venv and runs npm ci)";
        match self {
            Library::PythonWebsockets => {
                let python = clients_dir().join("python-websockets/.venv/bin/python");
                let ok = std::process::Command::new(&python)
                    .args(["-c", "import websockets"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|status| status.success());
                assert!(ok, "{} cannot import websockets: {fix}", python.display());
            }
            Library::NodeWs => {
                let ws = clients_dir().join("node-ws/node_modules/ws/package.json");
                assert!(ws.is_file(), "{} is missing: {fix}", ws.display());
                let node = std::process::Command::new("node")
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success());
                assert!(node, "`node` does not run: install Node 18 or later, then {fix}");
            }
        }
    }
}

/// The library's echo server, listening, and its address.
async fn echo_server(library: Library) -> (Child, SocketAddr) {
    let mut child =
        library.command("echo_server").stdout(Stdio::piped()).spawn().expect("the echo server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let line = timeout(BOUND, lines.next_line()).await.expect("the echo server listens in time").unwrap();
    let port = line.as_deref().and_then(|line| line.strip_prefix("PORT ")).and_then(|port| port.parse().ok());
    let port: u16 = port.unwrap_or_else(|| panic!("{library:?} echo server said {line:?}, not `PORT n`"));
    (child, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The library's client through a proxy (removing deflate offers with `strip_deflate`) that
/// drops half the text frames both ways: the client's summary line and the proxy's events.
async fn through_dropping_proxy(library: Library, strip_deflate: bool) -> (Value, Vec<ProxyEvent>) {
    library.require_setup();
    let (_server, addr) = echo_server(library).await;
    let mut stack = Stack::upstream(&Transport::Live, addr)
        .strip_deflate(strip_deflate)
        .record_events()
        .start()
        .await
        .unwrap();
    let mut events = stack.take_events();
    let half_the_text =
        Fault::DropFrames { kinds: vec![FrameKind::Text], direction: Direction::Both, probability: 0.5 };
    stack.control().start(id(0), &half_the_text, &everyone());
    let client =
        library.command("client").arg(stack.url()).arg(MESSAGES.to_string()).stdout(Stdio::piped()).output();
    let output = timeout(BOUND, client).await.expect("the client finishes in time").expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let summary: Value =
        serde_json::from_str(last).unwrap_or_else(|error| panic!("{library:?} client: {error}: {stdout}"));
    stack.shutdown().await;
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    (summary, seen)
}

/// The ids the client got back whole, in order.
fn echoed(summary: &Value) -> Vec<u64> {
    summary["echoed"].as_array().expect("a list").iter().map(|id| id.as_u64().expect("an id")).collect()
}

/// The reasons of the `fault_not_applied` events.
fn not_applied(events: &[ProxyEvent]) -> BTreeSet<String> {
    events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::FaultNotApplied { why, .. } => Some(why.to_string()),
            _ => None,
        })
        .collect()
}

/// Whether the fault acted on some link.
fn hit(events: &[ProxyEvent]) -> bool {
    events.iter().any(|event| matches!(event.kind, EventKind::FaultHit { .. }))
}

/// What every run shares: no error, nothing unreadable, a clean close.
fn clean(library: Library, summary: &Value) {
    assert_eq!(summary["error"], Value::Null, "{library:?}: {summary}");
    assert_eq!(summary["garbage"], 0, "{library:?}: {summary}");
    if let Library::NodeWs = library {
        assert_eq!(summary["close"], 1000, "{library:?} closed it itself: {summary}");
    }
}

async fn compressed_messages_come_back_whole(library: Library) {
    let (summary, events) = through_dropping_proxy(library, false).await;
    let extensions = summary["extensions"].as_str().unwrap_or_default();
    assert!(extensions.contains("permessage-deflate"), "{library:?} negotiated compression: {summary}");
    clean(library, &summary);
    assert_eq!(echoed(&summary), (0..MESSAGES).collect::<Vec<_>>(), "{library:?}: every message whole");
    // Reported once per fault and link, for the way where a drop was first refused.
    let compressed: BTreeSet<String> =
        Way::BOTH.into_iter().map(|way| NotApplied::Compressed(way).to_string()).collect();
    let reasons = not_applied(&events);
    assert!(
        reasons.len() == 1 && reasons.is_subset(&compressed),
        "{library:?}: not applied, and why: {reasons:?}"
    );
    assert!(!hit(&events), "{library:?}: no compressed message was dropped");
}

async fn stripped_messages_are_dropped_whole(library: Library) {
    let (summary, events) = through_dropping_proxy(library, true).await;
    assert_eq!(summary["extensions"], Value::Null, "{library:?}: nothing negotiated: {summary}");
    clean(library, &summary);
    let ids = echoed(&summary);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{library:?}: in order, no duplicate: {ids:?}");
    assert!(ids.iter().all(|id| *id < MESSAGES), "{ids:?}");
    assert!(!ids.is_empty() && (ids.len() as u64) < MESSAGES, "{library:?}: some dropped, some not: {ids:?}");
    assert_eq!(not_applied(&events), BTreeSet::new(), "{library:?}");
    assert!(hit(&events), "{library:?}: the fault acted");
}

#[tokio::test]
async fn python_websockets_gets_every_compressed_message_back_under_drop_frames() {
    compressed_messages_come_back_whole(Library::PythonWebsockets).await;
}

#[tokio::test]
async fn python_websockets_with_strip_deflate_loses_only_whole_messages() {
    stripped_messages_are_dropped_whole(Library::PythonWebsockets).await;
}

#[tokio::test]
async fn node_ws_gets_every_compressed_message_back_under_drop_frames() {
    compressed_messages_come_back_whole(Library::NodeWs).await;
}

#[tokio::test]
async fn node_ws_with_strip_deflate_loses_only_whole_messages() {
    stripped_messages_are_dropped_whole(Library::NodeWs).await;
}
