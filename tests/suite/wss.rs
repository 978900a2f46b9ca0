//! wss:// end to end on the sim engine: the example passes with each client told apart by the
//! server name it sends, a client that does not trust the certificate refuses it without a
//! storm, and what TLS cannot do through a passthrough proxy is refused at validation.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wschaos::client::{self, ClientConfig, ClientEventKind, ClientSink, Reason};
use wschaos::net::Transport;
use wschaos::scenario::{Engine, Scenario, ServerConfig};
use wschaos::stack::Stack;
use wschaos::tls::RunCertificates;
use wschaos::{Verdict, run};

#[test]
fn the_wss_example_passes_on_sim_and_targets_clients_by_their_server_name() {
    let scenario = Scenario::load("scenarios/wss.yaml").unwrap();
    assert!(scenario.server.tls);
    let report = run(&scenario, Engine::Sim).unwrap();
    assert_eq!(report.verdict, Verdict::Pass);
    let strategy = &report.strategies[0];
    // The stall targets clients 0–3 by index: the proxy could only hit them by reading their
    // names from the ClientHello, since the upgrade headers are encrypted.
    let stalled = clients_detected_by(strategy, "heartbeat_timeout");
    assert_eq!(stalled, [0, 1, 2, 3], "{:?}", strategy.incidents);
    // Every recovered reconnect went through a TLS handshake, measured as its own part.
    let recovered = strategy.incidents.iter().filter(|incident| incident.t_open.is_some()).count();
    assert_eq!(strategy.incidents.iter().filter(|incident| incident.tls_time.is_some()).count(), recovered);
    assert_eq!(strategy.metrics["tls_time"].count, recovered as u64);
    // The man in the middle answered the clients reset into it, and they sent it nothing.
    let seen = strategy.faults.iter().find_map(|fault| fault.impersonation).expect("the impostor's figures");
    assert!(seen.answered >= 4, "{seen:?}");
    assert_eq!((seen.accepted, seen.application_bytes, seen.credentials_sent), (0, 0, 0));
}

/// The clients of the incidents detected for `reason`, in order, once per incident.
pub fn clients_detected_by(strategy: &wschaos::outcome::StrategyReport, reason: &str) -> Vec<u32> {
    let mut clients: Vec<u32> =
        strategy.incidents.iter().filter(|incident| incident.reason == reason).map(|i| i.client).collect();
    clients.sort_unstable();
    clients
}

const ONE_CLIENT: &str = "version: 1\nname: one\nduration: 10s\nengine: sim\nserver: { tls: true }\nclients:\n  count: 1\n  strategy: aws-full-jitter\n";

#[tokio::test(start_paused = true)]
async fn a_client_that_does_not_trust_the_certificate_refuses_it_and_backs_off() {
    let transport = Transport::sim();
    let served = Arc::new(RunCertificates::generate().unwrap());
    let stranger = RunCertificates::generate().unwrap();
    let config = ServerConfig { tls: true, ..ServerConfig::default() };
    let stack = Stack::echo(&transport, config).tls(Some(served)).start().await.unwrap();
    let scenario = Scenario::parse(ONE_CLIENT, "one.yaml").unwrap();
    let client = ClientConfig::from_scenario(&scenario, &scenario.strategies[0], 0, stack.proxy_addr())
        .over_tls(stranger.client().unwrap())
        .unwrap();
    let (sink, mut events) = ClientSink::channel();
    let (stop, stopped) = client::stop_signal();
    let task = tokio::spawn(client::run(client, transport.clone(), sink, stopped, Instant::now()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let (mut rejected, mut attempts, mut opened, mut waits) = (0, 0, 0, 0);
    while let Ok(event) = events.try_recv() {
        match event.kind {
            ClientEventKind::AttemptFailed { reason: Reason::TlsRejected, .. } => rejected += 1,
            ClientEventKind::Attempt { .. } => attempts += 1,
            ClientEventKind::Opened { .. } | ClientEventKind::TlsEstablished { .. } => opened += 1,
            ClientEventKind::Waiting { .. } => waits += 1,
            _ => {}
        }
    }
    assert_eq!(opened, 0, "the client never got past the certificate");
    assert_eq!(rejected, attempts, "every attempt was refused as a bad certificate");
    assert!(attempts >= 3 && waits >= attempts - 1, "it retried with backoff: {attempts} attempts");
    // Full jitter to a 2 s cap: about a dozen attempts in 5 s, not a storm.
    assert!(attempts <= 20, "{attempts} attempts in 5 s");
}

fn problems(text: &str) -> String {
    Scenario::parse(text, "tls.yaml").unwrap_err().to_string()
}

#[test]
fn what_tls_passthrough_cannot_do_is_a_located_error() {
    let frame_fault = format!(
        "{ONE_CLIENT}faults:\n  - at: 1s\n    for: 1s\n    drop_frames: {{ kinds: [pong], direction: downstream }}\n"
    );
    let message = problems(&frame_fault);
    assert!(message.contains("faults[0].drop_frames") && message.contains("terminate"), "{message}");
    // `terminate` lifts them: tests/suite/wss_terminate.rs.
    assert!(Scenario::parse(&format!("{frame_fault}proxy: {{ tls: terminate }}\n"), "tls.yaml").is_ok());
    let strip = format!("{ONE_CLIENT}proxy: {{ strip_deflate: true }}\n");
    assert!(problems(&strip).contains("proxy.strip_deflate"), "{}", problems(&strip));
    let no_tls = ONE_CLIENT.replace("server: { tls: true }\n", "proxy: { tls: passthrough }\n");
    assert!(problems(&no_tls).contains("server.tls: true"), "{}", problems(&no_tls));
    let bad_kind = format!(
        "{ONE_CLIENT}faults:\n  - at: 1s\n    for: 1s\n    tls_bad_certificate: {{ kind: expird }}\n"
    );
    let message = problems(&bad_kind);
    assert!(
        message.contains("faults[0].tls_bad_certificate.kind") && message.contains("expired"),
        "{message}"
    );
    let plain = bad_kind.replace("server: { tls: true }\n", "").replace("expird", "expired");
    let message = problems(&plain);
    assert!(
        message.contains("faults[0].tls_bad_certificate") && message.contains("server.tls: true"),
        "{message}"
    );
}

/// A client that does not check the host name stands in for one that accepts any certificate:
/// it asks for `wrong-host.invalid`, which the `wrong_host` certificate (signed by the run's CA)
/// names, so it completes the impostor's handshake and sends its upgrade request, token and all.
#[tokio::test(start_paused = true)]
async fn a_client_that_accepts_the_impostor_is_caught_sending_it_bytes_and_credentials() {
    let text = "version: 1\nname: mitm\nduration: 10s\nengine: sim\nserver: { tls: true, auth: { token: sekrit-token-1234 } }\nclients:\n  count: 1\n  strategy: aws-full-jitter\nfaults:\n  - at: 0s\n    for: 10s\n    tls_bad_certificate: { kind: wrong_host }\n";
    let scenario = Scenario::parse(text, "mitm.yaml").unwrap();
    let transport = Transport::sim();
    let certs = Arc::new(RunCertificates::generate().unwrap());
    let mut stack = Stack::for_scenario(&transport, &scenario, 1)
        .tls(Some(certs.clone()))
        .record_events()
        .start()
        .await
        .unwrap();
    let mut proxy_events = stack.take_events();
    let origin = Instant::now();
    stack.play(&scenario.faults, scenario.duration, origin);
    let mut client = ClientConfig::from_scenario(&scenario, &scenario.strategies[0], 0, stack.proxy_addr());
    client.tls = Some(wschaos::tls::TlsClient::new(certs.client().unwrap(), "wrong-host.invalid").unwrap());
    let (sink, _events) = ClientSink::channel();
    let (stop, stopped) = client::stop_signal();
    let task = tokio::spawn(client::run(client, transport.clone(), sink, stopped, origin));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let mut answered = Vec::new();
    while let Ok(event) = proxy_events.try_recv() {
        if let wschaos::proxy::EventKind::Impersonated { accepted, bytes, credentials, .. } = event.kind {
            answered.push((accepted, bytes, credentials));
        }
    }
    assert!(!answered.is_empty(), "the impostor answered");
    assert!(
        answered.iter().all(|(accepted, bytes, credentials)| *accepted && *bytes > 100 && *credentials),
        "{answered:?}"
    );
}
