//! `proxy.tls: terminate`: the proxy ends each client's TLS with the run's certificate and
//! opens its own to the server, so the frame observer, frame faults and client targeting work
//! on wss://. On sim: the pong-loss example passes, the observer sees the upgrade and the data
//! (which passthrough cannot), a client-targeted frame fault hits only its clients, a client
//! that refuses the proxy's certificate closes its link with the cause named, and two runs are
//! byte-identical; one short run live.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::time::Instant;
use wschaos::client::{self, ClientConfig, ClientSink};
use wschaos::net::{Transport, any_loopback};
use wschaos::proxy::{CloseCause, EventKind, ProxyEvent};
use wschaos::scenario::{Engine, ProxyTls, Scenario, ServerConfig};
use wschaos::stack::{Stack, StackBuilder};
use wschaos::tls::RunCertificates;
use wschaos::{Verdict, run};

use crate::run::{out_dir, report, wschaos};

const EXAMPLE: &str = "scenarios/wss-pong-loss.yaml";

/// Four clients over wss:// through a terminating proxy, sending data and pinging every second.
const FOUR: &str = "version: 1\nname: four\nduration: 10s\nquiet_period: 5s\nengine: sim\n\
server: { tls: true }\nproxy: { tls: terminate }\nclients:\n  count: 4\n  \
workload: { rate: 5/s, size: 32B }\n  strategy: aws-full-jitter\n  \
heartbeat: { ping_every: 1s, pong_timeout: 1s }\n";

#[test]
fn pong_loss_over_wss_is_detected_by_the_heartbeat_when_the_proxy_terminates() {
    let scenario = Scenario::load(EXAMPLE).unwrap();
    assert!(scenario.server.tls);
    assert_eq!(scenario.proxy.tls, ProxyTls::Terminate);
    let report = run(&scenario, Engine::Sim).unwrap();
    assert_eq!(report.verdict, Verdict::Pass);
    let strategy = &report.strategies[0];
    // The pongs were dropped, so every client's heartbeat found the dead link, within ping
    // every + pong timeout (5 s + 2 s) of the fault's start.
    let mut detected = crate::wss::clients_detected_by(strategy, "heartbeat_timeout");
    detected.dedup();
    assert_eq!(detected, [0, 1, 2, 3], "{:?}", strategy.incidents);
    let detect = &strategy.metrics["detect_time"];
    assert!(detect.count >= 4 && detect.max < 7.0, "{detect:?}");
    assert_eq!(strategy.messages.lost, 0);
    // The frames were read at the proxy: recovery is measured there too, which passthrough
    // cannot do (its observer stops at the ClientHello).
    assert!(strategy.metrics["observed_recovery_time"].count >= 4, "{:?}", strategy.metrics);
    // Every reconnect still paid a TLS handshake, measured as its own part.
    let recovered = strategy.incidents.iter().filter(|incident| incident.t_open.is_some()).count();
    assert!(recovered >= 4);
    assert_eq!(strategy.metrics["tls_time"].count, recovered as u64);
}

/// Runs one client of `FOUR` over wss:// through a stack whose proxy treats TLS by `mode`,
/// trusting `trusted`'s CA (the stack's own by default), for 3 s; returns the proxy's events.
async fn one_client(mode: ProxyTls, trusted: Option<&RunCertificates>) -> Vec<ProxyEvent> {
    let transport = Transport::sim();
    let certs = Arc::new(RunCertificates::generate().unwrap());
    let config = ServerConfig { tls: true, ..ServerConfig::default() };
    let stack = Stack::echo(&transport, config).tls(Some(certs.clone())).proxy_tls(mode);
    run_one_client(&transport, stack, trusted.unwrap_or(&certs)).await
}

/// Starts `stack` (with one client) and runs one client of `FOUR` through it for 3 s, trusting
/// `trusted`'s CA; returns the proxy's events.
async fn run_one_client(
    transport: &Transport,
    stack: StackBuilder,
    trusted: &RunCertificates,
) -> Vec<ProxyEvent> {
    let mut stack = stack.clients(1).record_events().start().await.unwrap();
    let mut events = stack.take_events();
    let scenario = Scenario::parse(FOUR, "four.yaml").unwrap();
    let client = ClientConfig::from_scenario(&scenario, &scenario.strategies[0], 0, stack.proxy_addr())
        .over_tls(trusted.client().unwrap())
        .unwrap();
    let (sink, _client_events) = ClientSink::channel();
    let (stop, stopped) = client::stop_signal();
    let task = tokio::spawn(client::run(client, transport.clone(), sink, stopped, Instant::now()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    stack.shutdown().await;
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    seen
}

/// The causes of the links that closed.
fn close_causes(events: &[ProxyEvent]) -> Vec<&CloseCause> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::LinkClosed { cause, .. } => Some(cause),
            _ => None,
        })
        .collect()
}

fn upgraded_and_data(events: &[ProxyEvent]) -> (usize, usize) {
    let upgraded =
        events.iter().filter(|e| matches!(e.kind, EventKind::Upgraded { status: 101, .. })).count();
    let data = events.iter().filter(|e| matches!(e.kind, EventKind::FirstData { .. })).count();
    (upgraded, data)
}

#[tokio::test(start_paused = true)]
async fn the_frame_observer_reads_a_terminated_link_and_not_a_passed_through_one() {
    let terminated = one_client(ProxyTls::Terminate, None).await;
    let (upgraded, data) = upgraded_and_data(&terminated);
    assert_eq!(upgraded, 1, "{terminated:?}");
    assert_eq!(data, 2, "data both ways: {terminated:?}");
    // The link was identified before its first byte, from the name the client asked for.
    assert!(
        terminated
            .iter()
            .any(|e| e.kind == EventKind::LinkIdentified { link: wschaos::proxy::LinkId(0), client: 0 })
    );
    let passed = one_client(ProxyTls::Passthrough, None).await;
    assert_eq!(upgraded_and_data(&passed), (0, 0), "{passed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_client_that_refuses_the_proxys_certificate_closes_its_link_with_the_cause() {
    let stranger = RunCertificates::generate().unwrap();
    let events = one_client(ProxyTls::Terminate, Some(&stranger)).await;
    let closes = close_causes(&events);
    assert!(closes.len() >= 2, "the client retried: {events:?}");
    assert!(closes.iter().all(|cause| matches!(cause, CloseCause::ClientTlsFailed(_))), "{closes:?}");
    assert_eq!(upgraded_and_data(&events), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_server_that_does_not_speak_tls_fails_the_proxys_handshake_and_resets_the_client() {
    let transport = Transport::sim();
    // A plain HTTP server: it answers the proxy's ClientHello with a 400 and closes.
    let mut plain = transport.bind(any_loopback()).await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = plain.accept().await {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            let _ = stream.shutdown().await;
        }
    });
    let certs = Arc::new(RunCertificates::generate().unwrap());
    let terminating =
        Stack::upstream(&transport, plain_addr).tls(Some(certs.clone())).proxy_tls(ProxyTls::Terminate);
    let events = run_one_client(&transport, terminating, &certs).await;
    let closes = close_causes(&events);
    assert!(closes.len() >= 2, "the client retried: {events:?}");
    assert!(closes.iter().all(|cause| matches!(cause, CloseCause::ServerTlsFailed(_))), "{closes:?}");
    // Every client handshake with the proxy completed: the client was identified each time.
    let identified =
        events.iter().filter(|e| matches!(e.kind, EventKind::LinkIdentified { client: 0, .. })).count();
    assert_eq!(identified, closes.len());
    server.abort();
}

#[test]
fn a_frame_fault_that_targets_clients_hits_only_them_through_a_terminating_proxy() {
    let text = format!(
        "{FOUR}faults:\n  - at: 3s\n    close_frame: {{ code: 4000 }}\n    target: {{ clients: [1, 2] }}\n"
    );
    let scenario = Scenario::parse(&text, "four.yaml").unwrap();
    let report = run(&scenario, Engine::Sim).unwrap();
    let strategy = &report.strategies[0];
    let mut hit: Vec<u32> = strategy.incidents.iter().map(|incident| incident.client).collect();
    hit.sort_unstable();
    assert_eq!(hit, [1, 2], "{:?}", strategy.incidents);
    assert!(
        strategy.incidents.iter().all(|incident| incident.reason.contains("4000")),
        "{:?}",
        strategy.incidents
    );
}

#[test]
fn two_sim_runs_of_the_terminate_example_are_identical() {
    let dir = out_dir("wss-terminate-determinism");
    let output = wschaos()
        .args(["run", EXAMPLE, "--engine", "sim", "--check-determinism", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("deterministic: both runs gave the same events, report.json and report.html"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(report(&dir)["verdict"], "pass");
}

#[test]
fn pong_loss_through_a_terminating_proxy_is_detected_live() {
    let text = FOUR
        .replace("engine: sim", "engine: live")
        .replace("duration: 10s", "duration: 4s")
        .replace("quiet_period: 5s", "quiet_period: 3s")
        + "faults:\n  - at: 1s\n    for: 2s\n    drop_frames: { kinds: [pong], direction: downstream }\n";
    let scenario = Scenario::parse(&text, "four.yaml").unwrap();
    let report = run(&scenario, Engine::Live).unwrap();
    let strategy = &report.strategies[0];
    let mut detected = crate::wss::clients_detected_by(strategy, "heartbeat_timeout");
    detected.dedup();
    assert_eq!(detected, [0, 1, 2, 3], "{:?}", strategy.incidents);
    assert!(strategy.incidents.iter().all(|incident| incident.t_open.is_some()), "every client came back");
    assert!(strategy.metrics["observed_recovery_time"].count >= 4, "{:?}", strategy.metrics);
}

fn problems(text: &str) -> String {
    Scenario::parse(text, "tls.yaml").unwrap_err().to_string()
}

#[test]
fn terminate_allows_frame_faults_and_strip_deflate_and_passthrough_names_it() {
    let faults = "faults:\n  - at: 1s\n    for: 1s\n    drop_frames: { kinds: [pong], direction: downstream }\n  \
                  - at: 3s\n    close_frame: { code: 4000 }\n  - at: 4s\n    for: 1s\n    reject_handshake: { status: 503 }\n";
    let terminate = format!(
        "{}{faults}",
        FOUR.replace("proxy: { tls: terminate }", "proxy: { tls: terminate, strip_deflate: true }")
    );
    let scenario = Scenario::parse(&terminate, "tls.yaml").unwrap();
    assert_eq!(scenario.proxy.tls, ProxyTls::Terminate);
    assert!(scenario.proxy.strip_deflate);
    assert_eq!(scenario.faults.len(), 3);
    let passthrough = terminate.replace("tls: terminate", "tls: passthrough");
    let message = problems(&passthrough);
    for field in [
        "faults[0].drop_frames",
        "faults[1].close_frame",
        "faults[2].reject_handshake",
        "proxy.strip_deflate",
    ] {
        assert!(message.contains(field), "{field}: {message}");
    }
    assert_eq!(message.matches("proxy.tls: terminate").count(), 4, "{message}");
    // Passthrough is the default, with the same errors.
    let default = terminate.replace("tls: terminate, ", "");
    assert!(problems(&default).contains("faults[0].drop_frames"), "{}", problems(&default));
    assert_eq!(
        Scenario::parse(&FOUR.replace("terminate", "passthrough"), "t.yaml").unwrap().proxy.tls,
        ProxyTls::Passthrough
    );
}

#[test]
fn a_misspelt_or_pointless_proxy_tls_is_a_located_error() {
    let misspelt = problems(&FOUR.replace("tls: terminate", "tls: terminat"));
    assert!(misspelt.contains("proxy.tls") && misspelt.contains("`terminate`"), "{misspelt}");
    let no_server_tls = problems(&FOUR.replace("server: { tls: true }\n", ""));
    assert!(no_server_tls.contains("server.tls: true"), "{no_server_tls}");
}
