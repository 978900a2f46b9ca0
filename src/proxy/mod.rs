//! The fault-injecting proxy: an accept loop on a [`Listener`] that dials the upstream for
//! every connection and runs a [`link`] task between the two, applying the faults that
//! [`Control`] starts and stops. It runs inside `wschaos run` and standalone (`wschaos proxy`).

#[cfg(test)]
mod contract;
pub mod control;
pub mod events;
pub mod flow;
pub mod framing;
pub mod impostor;
mod link;
pub mod strip;
pub mod terminate;

pub mod timeline;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

pub use control::{ArrivalFate, Control};
pub use events::{CloseCause, EventKind, EventSink, NotApplied, ProxyEvent};
pub use terminate::Termination;

use crate::net::accept::{self, AcceptRetry};
use crate::net::{Listener, Stream, Transport};

/// How long the proxy waits for the upstream to accept a connection before giving up on it and
/// resetting the client. The dial happens in the connection's own task, never in the accept
/// loop, so a slow upstream cannot block other accepts (toxiproxy dials inside its accept loop:
/// `accept` in toxiproxy's proxy.go calls `net.Dial` before the next connection is accepted).
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
    /// One listener per client (`identity: port`): a link is its listener's client's from the
    /// moment it is accepted. Empty for the usual single listener.
    per_client: Vec<Listener>,
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
        let listener = Proxy::listener(transport, listen, &control).await?;
        Ok(Proxy { listener, per_client: Vec::new(), upstream, transport: transport.clone(), control })
    }

    async fn listener(transport: &Transport, listen: SocketAddr, control: &Control) -> io::Result<Listener> {
        let mut listener = transport.bind(listen).await?;
        let admission = control.clone();
        listener.set_admission(std::sync::Arc::new(move || admission.admit()));
        Ok(listener)
    }

    /// Adds `count` listeners on free ports of `listen`'s address, one per client in index
    /// order, so clients are told apart by the port they connect to (nothing is asked of them).
    pub async fn with_client_listeners(mut self, count: u32) -> io::Result<Proxy> {
        let ip = self.listener.local_addr()?.ip();
        for _ in 0..count {
            let listener = Proxy::listener(&self.transport, SocketAddr::new(ip, 0), &self.control).await?;
            self.per_client.push(listener);
        }
        Ok(self)
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The addresses of the per-client listeners, by client index (empty without them).
    pub fn client_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        self.per_client.iter().map(Listener::local_addr).collect()
    }

    /// The handle that starts and stops faults.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Accepts and proxies connections until `shutdown` completes; then every link is dropped.
    ///
    /// Errors: the proxy's own failure, worded for a person and naming the proxy: a listener
    /// that is broken or could not accept for [`accept::PERSIST`] (see [`AcceptRetry`]), or a
    /// link's task that panicked. Every link is dropped then too. Whoever runs the proxy must
    /// report it as the harness's failure, never as the clients'.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Proxy { listener, per_client, upstream, transport, control } = self;
        if per_client.is_empty() {
            return accept_loop(listener, None, upstream, transport, control, shutdown).await;
        }
        // Each listener accepts in its own task; all stop together, and the first to fail
        // stops the others.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut loops = JoinSet::new();
        let listeners = std::iter::once((listener, None))
            .chain(per_client.into_iter().enumerate().map(|(index, l)| (l, Some(index as u32))));
        for (listener, client) in listeners {
            let mut stopped = stopped.clone();
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            loops.spawn(accept_loop(
                listener,
                client,
                upstream,
                transport.clone(),
                control.clone(),
                shutdown,
            ));
        }
        tokio::pin!(shutdown);
        let result = loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break Ok(()),
                Some(finished) = loops.join_next() => match finished {
                    Ok(Ok(())) => {}
                    Ok(Err(failure)) => break Err(failure),
                    Err(error) => {
                        break Err(io::Error::other(format!("proxy: an accept loop's task {}", accept::task_failure(error))));
                    }
                },
            }
        };
        let _ = stop.send(true);
        while loops.join_next().await.is_some() {}
        result
    }
}

/// Accepts on one listener and proxies what it accepts until `shutdown` completes; then every
/// link it started is dropped. `client` is the client every link of this listener belongs to.
/// Failed accepts are retried as [`AcceptRetry`] decides; the errors are [`Proxy::run`]'s.
async fn accept_loop(
    mut listener: Listener,
    client: Option<u32>,
    upstream: SocketAddr,
    transport: Transport,
    control: Control,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let component = match client {
        None => "proxy".to_string(),
        Some(index) => format!("proxy (client {index}'s listener)"),
    };
    let mut retry = AcceptRetry::new(component.clone());
    let mut links = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => return Ok(()),
            Some(finished) = links.join_next(), if !links.is_empty() => {
                if let Err(error) = finished
                    && error.is_panic()
                {
                    return Err(io::Error::other(format!("{component}: a link's task {}", accept::task_failure(error))));
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                retry.accepted();
                links.spawn(connect(stream, peer, client, transport.clone(), upstream, control.clone()));
            }
            Err(error) => {
                let wait = retry.failed(&error, tokio::time::Instant::now())?;
                if !wait.is_zero() {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

/// Dials the upstream for one accepted connection and runs the link, or hangs the connection
/// when `accept_hang` catches it. A terminating proxy ([`Termination`]) completes the client's
/// TLS handshake first and opens its own to the server after the dial.
async fn connect(
    client: Stream,
    peer: SocketAddr,
    owner: Option<u32>,
    transport: Transport,
    upstream: SocketAddr,
    control: Control,
) {
    match control.arrival_fate() {
        ArrivalFate::Proxy => {}
        ArrivalFate::Hang(fault) => {
            hang(client).await;
            tracing::debug!(%peer, %fault, "hung connection closed by the client");
            return;
        }
        ArrivalFate::Impersonate(fault, kind) => {
            return impostor::impersonate(client, kind, fault, &control).await;
        }
    }
    let mut opened = control.open_link(peer, owner);
    // `proxy.tls: terminate`: the client's TLS ends here, before the upstream is dialed.
    let termination = control.tls_termination();
    let (client, name) = match &termination {
        Some(termination) => match terminate::client_side(termination, client, &mut opened, &control).await {
            Some(accepted) => accepted,
            None => return,
        },
        None => (client, String::new()),
    };
    let server = match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, transport.connect(upstream)).await {
        Ok(Ok(server)) => server,
        Ok(Err(error)) => return unreachable(opened.link, client, &control, error.kind()),
        Err(_) => return unreachable(opened.link, client, &control, io::ErrorKind::TimedOut),
    };
    let server = match &termination {
        Some(termination) => match terminate::server_side(termination, server, &name).await {
            Ok(server) => server,
            Err(kind) => {
                client.reset();
                return control.close_link(opened.link, CloseCause::ServerTlsFailed(kind));
            }
        },
        None => server,
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
