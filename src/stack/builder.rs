//! Building a [`Stack`]: what it forwards to, where it listens, what it draws from, and
//! starting the server, the proxy and their tasks as one.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Stack, Tasks, Upstream};
use crate::net::{Transport, any_loopback};
use crate::proxy::{Control, EventSink, Proxy, Termination};
use crate::scenario::ProxyTls;
use crate::seeds;
use crate::server::Server;
use crate::tls::RunCertificates;

/// A stack not started yet: what it forwards to, where it listens, what it draws from.
#[derive(Clone, Debug)]
pub struct StackBuilder {
    pub(super) transport: Transport,
    pub(super) upstream: Upstream,
    pub(super) listen: SocketAddr,
    pub(super) seed: u64,
    pub(super) clients: u32,
    pub(super) client_listeners: bool,
    pub(super) record: bool,
    pub(super) strip_deflate: bool,
    pub(super) tls: Option<Arc<RunCertificates>>,
    pub(super) proxy_tls: ProxyTls,
}

impl StackBuilder {
    /// Where the proxy listens (default `127.0.0.1:0`: a free port on loopback).
    pub fn listen(mut self, addr: SocketAddr) -> StackBuilder {
        self.listen = addr;
        self
    }

    /// The seed of the proxy's and the server's draws (default [`defaults::SEED`]).
    pub fn seed(mut self, seed: u64) -> StackBuilder {
        self.seed = seed;
        self
    }

    /// How many clients the run has, which `share` targets pick from (default 0).
    pub fn clients(mut self, count: u32) -> StackBuilder {
        self.clients = count;
        self
    }

    /// Give each of the [`clients`](StackBuilder::clients) a proxy listener of its own, so a
    /// link is known to be client `i`'s from the port it came in on ([`Stack::client_urls`]).
    pub fn client_listeners(mut self) -> StackBuilder {
        self.client_listeners = true;
        self
    }

    /// Forward upgrade requests without their permessage-deflate offer (default off), so no
    /// stream is compressed and frame faults can drop data frames.
    pub fn strip_deflate(mut self, strip: bool) -> StackBuilder {
        self.strip_deflate = strip;
        self
    }

    /// Serve `wss://` from the echo server with `certs` (default plain `ws://`).
    pub fn tls(mut self, certs: Option<Arc<RunCertificates>>) -> StackBuilder {
        self.tls = certs;
        self
    }

    /// What the proxy does with the TLS of [`tls`](StackBuilder::tls) (default passthrough):
    /// `Terminate` makes it present the run's certificate to clients and open TLS of its own to
    /// the server, trusting the run's CA, so frame faults see the plaintext. Without
    /// certificates there is nothing to terminate and it does nothing.
    pub fn proxy_tls(mut self, mode: ProxyTls) -> StackBuilder {
        self.proxy_tls = mode;
        self
    }

    /// Keep the proxy's events for [`Stack::events`]; without it they are dropped as they come.
    pub fn record_events(mut self) -> StackBuilder {
        self.record = true;
        self
    }

    /// Binds the server (for [`Upstream::Echo`]) and the proxy, and starts both.
    pub async fn start(self) -> io::Result<Stack> {
        let mut tasks = Tasks::default();
        let mut credentials = None;
        let server_addr = match self.upstream {
            Upstream::Address(addr) => addr,
            Upstream::Echo(config) => {
                let listener = self.transport.bind(any_loopback()).await?;
                let addr = listener.local_addr()?;
                let tls = self.tls.as_ref().map(|certs| certs.server()).transpose()?;
                let server = Server::with_tls(config, seeds::derive(self.seed, &[seeds::SERVER]), tls);
                credentials = server.credentials();
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(server.serve(listener, async {
                    let _ = stopped.await;
                }));
                tasks.server = Some((stop, task));
                addr
            }
        };
        let (sink, events) = if self.record {
            EventSink::channel()
        } else {
            let (_, closed) = mpsc::unbounded_channel();
            (EventSink::discard(), closed)
        };
        let control = Control::new(self.seed, self.clients, sink);
        if let Some(certs) = &self.tls {
            control.impostors().set_certificates(certs.clone());
        }
        control.set_strip_deflate(self.strip_deflate);
        control.set_credentials(credentials.clone());
        if let (ProxyTls::Terminate, Some(certs)) = (self.proxy_tls, &self.tls) {
            control.set_tls_termination(Some(Termination::for_run(certs)?));
        }
        let mut proxy = Proxy::bind(&self.transport, self.listen, server_addr, control.clone()).await?;
        if self.client_listeners {
            proxy = proxy.with_client_listeners(self.clients).await?;
        }
        let proxy_addr = proxy.local_addr()?;
        let client_addrs = proxy.client_addrs()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(proxy.run(async {
            let _ = stopped.await;
        }));
        tasks.proxy = Some((stop, task));
        Ok(Stack {
            transport: self.transport,
            proxy_addr,
            client_addrs,
            server_addr,
            seed: self.seed,
            tls: self.tls.is_some(),
            control,
            credentials,
            events,
            tasks,
        })
    }
}
