//! Shared test scaffolding, on [`wschaos::stack::Stack`]: a proxy in front of a bare upstream
//! listener whose accepted streams the test gets to hold, on either engine ([`Harness`]); and an
//! echo server behind the proxy with reference clients in front, on the sim network ([`Rig`]).
//!
//! Tests wait on signals, never on luck: on an event ([`Harness::wait_for`]), on I/O, or on the
//! paused clock, which only moves when every task is idle. A link takes its control commands
//! before any I/O it does next (ARCHITECTURE.md, invariant 8), so a fault started just before a
//! write acts on that write without any wait.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use wschaos::client::{self, ClientConfig, ClientEvent, ClientEventKind, ClientSink, Reason};
use wschaos::fault::FaultId;
use wschaos::net::{Stream, Transport, any_loopback};
use wschaos::proxy::{Control, EventKind, ProxyEvent};
use wschaos::scenario::{ClientSelector, Links, Scenario, Target};
use wschaos::stack::Stack;

/// Whole seconds.
pub const S: fn(u64) -> Duration = Duration::from_secs;

/// How long a wait on an event may take, in (virtual) time, before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

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
    /// Keeps the proxy running.
    _stack: Stack,
}

impl Harness {
    /// A proxy on `net` with `client_count` clients for share targets, drawing from `seed`.
    pub async fn start(net: Transport, seed: u64, client_count: u32) -> Harness {
        Harness::start_with(net, seed, client_count, false).await
    }

    /// [`Harness::start`], with the proxy removing permessage-deflate offers when `strip_deflate`.
    pub async fn start_with(net: Transport, seed: u64, client_count: u32, strip_deflate: bool) -> Harness {
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
        let mut stack = Stack::upstream(&net, server_addr)
            .seed(seed)
            .clients(client_count)
            .strip_deflate(strip_deflate)
            .record_events()
            .start()
            .await
            .unwrap();
        let events = stack.take_events();
        Harness {
            net,
            proxy: stack.proxy_addr(),
            control: stack.control().clone(),
            upstream,
            events,
            _stack: stack,
        }
    }

    /// A proxy on a fresh sim network.
    pub async fn sim() -> Harness {
        Harness::start(Transport::sim(), 1, 0).await
    }

    /// A client connection through the proxy and the server end it reached.
    pub async fn connect(&mut self) -> (Stream, Stream) {
        let client = self.net.connect(self.proxy).await.unwrap();
        let server = tokio::time::timeout(PATIENCE, self.upstream.recv())
            .await
            .expect("the proxy dials the upstream")
            .unwrap();
        (client, server)
    }

    /// Every event up to and including the first that satisfies `wanted`, waiting for it.
    pub async fn events_until(&mut self, wanted: impl Fn(&EventKind) -> bool) -> Vec<ProxyEvent> {
        let mut seen = Vec::new();
        let wait = async {
            while let Some(event) = self.events.recv().await {
                let done = wanted(&event.kind);
                seen.push(event);
                if done {
                    return;
                }
            }
            panic!("the proxy stopped before the awaited event");
        };
        tokio::time::timeout(PATIENCE, wait).await.expect("the awaited event comes");
        seen
    }

    /// Waits for the first event that satisfies `wanted`, dropping those before it.
    pub async fn wait_for(&mut self, wanted: impl Fn(&EventKind) -> bool) {
        self.events_until(wanted).await;
    }

    /// Waits until `fault` has acted on some link: the signal that a command has landed.
    pub async fn wait_for_hit(&mut self, fault: FaultId) {
        self.wait_for(|kind| matches!(kind, EventKind::FaultHit { fault: hit, .. } if *hit == fault)).await;
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

/// An echo server and a proxy in front of it on a fresh sim network, for reference clients.
pub struct Rig {
    /// The sim network.
    pub net: Transport,
    /// The scenario the rig was built from.
    pub scenario: Scenario,
    stack: Stack,
}

impl Rig {
    /// The rig for a scenario's text.
    pub async fn start(scenario_text: &str) -> Rig {
        let scenario = Scenario::parse(scenario_text, "test.yaml").unwrap();
        let net = Transport::sim();
        let stack = Stack::for_scenario(&net, &scenario, scenario.seed).start().await.unwrap();
        Rig { net, scenario, stack }
    }

    /// Where clients connect.
    pub fn proxy(&self) -> SocketAddr {
        self.stack.proxy_addr()
    }

    /// Client `index` of the scenario's first strategy.
    pub fn config(&self, index: u32) -> ClientConfig {
        let mut config =
            ClientConfig::from_scenario(&self.scenario, &self.scenario.strategies[0], index, self.proxy());
        if self.scenario.clients.sign {
            config.credentials = self.stack.credentials().cloned();
        }
        config
    }

    /// Runs `clients` until `until` after the origin, plays the scenario's timeline, stops them
    /// and returns every event.
    pub async fn run(&mut self, configs: Vec<ClientConfig>, until: Duration) -> Vec<ClientEvent> {
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
        self.stack.play(&self.scenario.faults, self.scenario.duration, origin);
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
