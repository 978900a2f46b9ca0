//! Shared test scaffolding: a proxy in front of a bare upstream listener whose accepted streams
//! the test gets to hold, on either engine ([`Harness`]); and an echo server behind the proxy
//! with reference clients in front, on the sim network ([`Stack`]).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use wschaos::client::{self, ClientConfig, ClientEvent, ClientEventKind, ClientSink, Reason};
use wschaos::fault::FaultId;
use wschaos::net::{Stream, Transport, any_loopback};
use wschaos::proxy::{Control, EventKind, EventSink, Proxy, ProxyEvent, timeline};
use wschaos::scenario::{ClientSelector, Links, Scenario, Target};
use wschaos::seeds;
use wschaos::server::Server;

/// Whole seconds.
pub const S: fn(u64) -> Duration = Duration::from_secs;

/// A running proxy and the far end of every connection it dials.
pub struct Harness {
    /// The network both ends use.
    pub net: Transport,
    /// Where clients connect.
    pub proxy: SocketAddr,
    /// Starts and stops faults.
    pub control: Control,
    /// The server end of each proxied connection, in order.
    pub upstream: mpsc::UnboundedReceiver<Stream>,
    /// Everything the proxy reported.
    pub events: mpsc::UnboundedReceiver<ProxyEvent>,
}

impl Harness {
    /// A proxy on `net` with `client_count` clients for share targets, drawing from `seed`.
    pub async fn start(net: Transport, seed: u64, client_count: u32) -> Harness {
        let mut server = net.bind(any_loopback()).await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let (accepted, upstream) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = server.accept().await {
                if accepted.send(stream).is_err() {
                    break;
                }
            }
        });
        let (sink, events) = EventSink::channel();
        let control = Control::new(seed, client_count, sink);
        let proxy = Proxy::bind(&net, any_loopback(), server_addr, control.clone()).await.unwrap();
        let addr = proxy.local_addr().unwrap();
        tokio::spawn(proxy.run(std::future::pending()));
        Harness { net, proxy: addr, control, upstream, events }
    }

    /// A proxy on a fresh sim network.
    pub async fn sim() -> Harness {
        Harness::start(Transport::sim(), 1, 0).await
    }

    /// A client connection through the proxy and the server end it reached.
    pub async fn connect(&mut self) -> (Stream, Stream) {
        let client = self.net.connect(self.proxy).await.unwrap();
        let server = tokio::time::timeout(Duration::from_secs(60), self.upstream.recv())
            .await
            .expect("the proxy dials the upstream")
            .unwrap();
        (client, server)
    }

    /// Waits until `fault` has acted on some link: the signal that a command has landed.
    pub async fn wait_for_hit(&mut self, fault: FaultId) {
        let wait = async {
            while let Some(event) = self.events.recv().await {
                if matches!(event.kind, EventKind::FaultHit { fault: hit, .. } if hit == fault) {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait).await.expect("the fault acts");
    }

    /// Every event reported so far.
    pub fn drain_events(&mut self) -> Vec<ProxyEvent> {
        let mut events = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            events.push(event);
        }
        events
    }
}

/// Every client, every link.
pub fn everyone() -> Target {
    Target { clients: ClientSelector::All, links: Links::All }
}

/// The first occurrence of fault entry `plan`.
pub fn id(plan: u64) -> FaultId {
    FaultId { plan, occurrence: 0 }
}

/// Lets every ready task run without moving the paused clock.
pub async fn settle() {
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

/// An echo server and a proxy in front of it on a fresh sim network.
pub struct Stack {
    /// The sim network.
    pub net: Transport,
    /// Where clients connect.
    pub proxy: SocketAddr,
    /// The proxy's faults.
    pub control: Control,
    /// The scenario the stack was built from.
    pub scenario: Scenario,
}

impl Stack {
    /// The stack for a scenario's text.
    pub async fn start(scenario_text: &str) -> Stack {
        let scenario = Scenario::parse(scenario_text, "test.yaml").unwrap();
        let net = Transport::sim();
        let listener = net.bind(any_loopback()).await.unwrap();
        let server_addr = listener.local_addr().unwrap();
        let server = Server::new(scenario.server.clone(), seeds::derive(scenario.seed, &[seeds::SERVER]));
        tokio::spawn(server.serve(listener, std::future::pending()));
        let control = Control::new(scenario.seed, scenario.clients.count, EventSink::discard());
        let proxy = Proxy::bind(&net, any_loopback(), server_addr, control.clone()).await.unwrap();
        let addr = proxy.local_addr().unwrap();
        tokio::spawn(proxy.run(std::future::pending()));
        Stack { net, proxy: addr, control, scenario }
    }

    /// Client `index` of the scenario's first strategy.
    pub fn config(&self, index: u32) -> ClientConfig {
        ClientConfig::from_scenario(&self.scenario, &self.scenario.strategies[0], index, self.proxy)
    }

    /// Runs `clients` until `until` after the origin, plays the scenario's timeline, stops them
    /// and returns every event.
    pub async fn run(&self, configs: Vec<ClientConfig>, until: Duration) -> Vec<ClientEvent> {
        let origin = Instant::now();
        let (sink, mut events) = ClientSink::channel();
        let (stop, stopped) = client::stop_signal();
        let mut tasks = Vec::new();
        for config in configs {
            tasks.push(tokio::spawn(client::run(
                config,
                self.net.clone(),
                sink.clone(),
                stopped.clone(),
                origin,
            )));
        }
        let steps = timeline::schedule(&self.scenario.faults, self.scenario.duration, self.scenario.seed);
        let (control, faults, duration) =
            (self.control.clone(), self.scenario.faults.clone(), self.scenario.duration);
        tokio::spawn(async move { timeline::play(&faults, &steps, &control, origin, duration).await });
        tokio::time::sleep_until(origin + until).await;
        stop.send(true).unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        drop(sink);
        let mut all = Vec::new();
        while let Some(event) = events.recv().await {
            all.push(event);
        }
        all
    }
}

/// The times (from `origin`) and reasons of every detection.
pub fn detections(events: &[ClientEvent], origin: Instant) -> Vec<(Duration, Reason)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            ClientEventKind::Detected(reason) => Some((e.at - origin, reason.clone())),
            _ => None,
        })
        .collect()
}

/// A one-client scenario of 20 s with these `clients:` lines and `faults:` entries.
pub fn scenario(clients: &str, faults: &str) -> String {
    format!("version: 1\nname: t\nduration: 20s\nclients:\n  count: 1\n{clients}\nfaults:\n{faults}\n")
}
