//! The fault-injecting proxy: an accept loop on a [`Listener`] that dials the upstream for
//! every connection and runs a [`link`] task between the two, applying the faults that
//! [`Control`] starts and stops. It runs inside `wschaos run` and standalone (`wschaos proxy`).

#[cfg(test)]
mod contract;
pub mod control;
pub mod events;
pub mod flow;
pub mod framing;
mod link;

pub mod timeline;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

pub use control::Control;
pub use events::{CloseCause, EventKind, EventSink, ProxyEvent};

use crate::net::{Listener, Stream, Transport};

/// How long the proxy waits for the upstream to accept a connection before giving up on it and
/// resetting the client. The dial happens in the connection's own task, never in the accept
/// loop, so a slow upstream cannot block other accepts (toxiproxy dials inside its accept loop:
/// proxies.md §2.1).
pub const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A proxied connection's number, in accept order from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u64);

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}", self.0)
    }
}

/// A bound proxy, ready to run.
pub struct Proxy {
    listener: Listener,
    upstream: SocketAddr,
    transport: Transport,
    control: Control,
}

impl Proxy {
    /// Binds the proxy on `listen` in front of `upstream`; `control` decides its faults.
    pub async fn bind(
        transport: &Transport,
        listen: SocketAddr,
        upstream: SocketAddr,
        control: Control,
    ) -> io::Result<Proxy> {
        let mut listener = transport.bind(listen).await?;
        let admission = control.clone();
        listener.set_admission(std::sync::Arc::new(move || admission.admit()));
        Ok(Proxy { listener, upstream, transport: transport.clone(), control })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The handle that starts and stops faults.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Accepts and proxies connections until `shutdown` completes; then every link is dropped.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut links = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = links.join_next(), if !links.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        links.spawn(connect(stream, peer, self.transport.clone(), self.upstream, self.control.clone()));
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: the next accept may work.
                        tracing::warn!(%error, "proxy accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            }
        }
    }
}

/// Dials the upstream for one accepted connection and runs the link, or hangs the connection
/// when `accept_hang` catches it.
async fn connect(
    client: Stream,
    peer: SocketAddr,
    transport: Transport,
    upstream: SocketAddr,
    control: Control,
) {
    if let Some(fault) = control.hang() {
        hang(client).await;
        tracing::debug!(%peer, %fault, "hung connection closed by the client");
        return;
    }
    let opened = control.open_link(peer);
    let server = match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, transport.connect(upstream)).await {
        Ok(Ok(server)) => server,
        Ok(Err(error)) => return unreachable(opened.link, client, &control, error.kind()),
        Err(_) => return unreachable(opened.link, client, &control, io::ErrorKind::TimedOut),
    };
    link::run(opened, client, server, control).await;
}

/// The upstream did not answer: the client is reset, so it sees a failure rather than a
/// connection that opens and then closes cleanly (toxiproxy #265).
fn unreachable(link: LinkId, client: Stream, control: &Control, kind: io::ErrorKind) {
    client.reset();
    control.close_link(link, CloseCause::UpstreamUnreachable(kind));
}

/// Keeps a hung connection open, answering nothing, until the client closes it.
async fn hang(mut client: Stream) {
    let mut discard = [0u8; 1024];
    while matches!(client.read(&mut discard).await, Ok(read) if read > 0) {}
}
