//! Shared test scaffolding: a proxy in front of a bare upstream listener whose accepted streams
//! the test gets to hold, on either engine.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::mpsc;
use wschaos::net::{Stream, Transport, any_loopback};
use wschaos::proxy::{Control, EventKind, EventSink, FaultId, Proxy, ProxyEvent};
use wschaos::scenario::{ClientSelector, Links, Target};

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
