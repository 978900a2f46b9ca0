//! The one way to start the harness in front of a server: the upstream (wschaos's echo server,
//! or an address where a server already listens), the fault proxy in front of it, the
//! [`Control`] that starts and stops faults, and the scenario's fault timeline. The runner, the
//! standalone proxy, the tests and the benches all start it here.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use wschaos::net::Transport;
//! use wschaos::stack::Stack;
//!
//! // A proxy in front of your own server on 127.0.0.1:8080; point your client at `stack.url()`.
//! let stack = Stack::upstream(&Transport::Live, "127.0.0.1:8080".parse().unwrap()).start().await?;
//! println!("connect to {}", stack.url());
//! stack.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

mod builder;

pub use builder::StackBuilder;

use crate::net::accept::task_failure;
use crate::net::{Transport, any_loopback};
use crate::proxy::{Control, ProxyEvent, timeline};
use crate::scenario::{FaultPlan, ProxyTls, Scenario, ServerConfig, defaults};
use crate::server::ServerStats;
use crate::wire::signature::Credentials;

/// How long the server gets to finish its sessions at shutdown.
const SERVER_DRAIN: Duration = Duration::from_secs(2);

/// A part of the harness that failed: wschaos's own failure (its echo server, its proxy, its
/// timeline, its runner), never the client's, so a run that meets one ends without a verdict.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{component}: {cause}")]
pub struct HarnessError {
    /// Which part: `echo server`, `proxy`, `proxy (client 3's listener)`, `fault timeline`,
    /// `client 3` (a reference client's task).
    pub component: String,
    /// What happened to it, for a person.
    pub cause: String,
}

impl HarnessError {
    /// `component` failed because of `cause`.
    pub fn new(component: impl Into<String>, cause: impl Into<String>) -> HarnessError {
        HarnessError { component: component.into(), cause: cause.into() }
    }

    /// From an error whose message names its part first (`proxy (client 3's listener): …`, as
    /// the server's and the proxy's do); `component` when it does not.
    fn from_message(component: &str, error: &io::Error) -> HarnessError {
        let message = error.to_string();
        match message.split_once(": ") {
            Some((named, cause)) if named.starts_with(component) => HarnessError::new(named, cause),
            _ => HarnessError::new(component, message),
        }
    }
}

/// What the proxy forwards to.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant, reason = "one per stack, built once per run")]
pub enum Upstream {
    /// wschaos's echo server, started by the stack with these settings.
    Echo(ServerConfig),
    /// A server that already listens at this address.
    Address(SocketAddr),
}

/// A running server (or upstream address) with the fault proxy in front of it.
#[derive(Debug)]
pub struct Stack {
    transport: Transport,
    proxy_addr: SocketAddr,
    /// The per-client listeners' addresses, by client index (empty without them).
    client_addrs: Vec<SocketAddr>,
    server_addr: SocketAddr,
    seed: u64,
    /// Whether the server speaks TLS (its URLs are `wss://`).
    tls: bool,
    control: Control,
    /// The echo server's signed-handshake credentials, if it asks for signatures.
    credentials: Option<Credentials>,
    /// The proxy's events, when the stack was built with [`StackBuilder::record_events`];
    /// otherwise a channel that is already closed.
    events: mpsc::UnboundedReceiver<ProxyEvent>,
    tasks: Tasks,
}

/// The stack's own tasks; dropping them (with the stack) aborts what is still running.
#[derive(Debug, Default)]
struct Tasks {
    server: Option<(oneshot::Sender<()>, JoinHandle<io::Result<ServerStats>>)>,
    proxy: Option<(oneshot::Sender<()>, JoinHandle<io::Result<()>>)>,
    timeline: Option<JoinHandle<()>>,
}

impl Tasks {
    /// Whether a task ended before its time, taking it out if so (a finished `JoinHandle` must
    /// not be polled again). The timeline ending is its normal end unless it panicked.
    fn poll_failure(&mut self, cx: &mut Context<'_>) -> Poll<HarnessError> {
        if let Some((_, task)) = &mut self.server
            && let Poll::Ready(ended) = Pin::new(task).poll(cx)
        {
            self.server = None;
            return Poll::Ready(match ended {
                Ok(Ok(_)) => HarnessError::new("echo server", "stopped serving before the run ended"),
                Ok(Err(error)) => HarnessError::from_message("echo server", &error),
                Err(error) => HarnessError::new("echo server", format!("its task {}", task_failure(error))),
            });
        }
        if let Some((_, task)) = &mut self.proxy
            && let Poll::Ready(ended) = Pin::new(task).poll(cx)
        {
            self.proxy = None;
            return Poll::Ready(match ended {
                Ok(Ok(())) => HarnessError::new("proxy", "stopped proxying before the run ended"),
                Ok(Err(error)) => HarnessError::from_message("proxy", &error),
                Err(error) => HarnessError::new("proxy", format!("its task {}", task_failure(error))),
            });
        }
        if let Some(task) = &mut self.timeline
            && let Poll::Ready(ended) = Pin::new(task).poll(cx)
        {
            self.timeline = None;
            if let Err(error) = ended
                && error.is_panic()
            {
                return Poll::Ready(HarnessError::new(
                    "fault timeline",
                    format!("its task {}", task_failure(error)),
                ));
            }
        }
        Poll::Pending
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        if let Some(task) = &self.timeline {
            task.abort();
        }
        if let Some((_, task)) = &self.proxy {
            task.abort();
        }
        if let Some((_, task)) = &self.server {
            task.abort();
        }
    }
}

impl Stack {
    /// A stack whose proxy forwards to wschaos's echo server, started with `server`.
    pub fn echo(transport: &Transport, server: ServerConfig) -> StackBuilder {
        Stack::builder(transport, Upstream::Echo(server))
    }

    /// A stack whose proxy forwards to a server that already listens at `addr`.
    pub fn upstream(transport: &Transport, addr: SocketAddr) -> StackBuilder {
        Stack::builder(transport, Upstream::Address(addr))
    }

    /// The stack a scenario runs on: its echo server, its client count, its proxy settings,
    /// `seed`.
    pub fn for_scenario(transport: &Transport, scenario: &Scenario, seed: u64) -> StackBuilder {
        Stack::echo(transport, scenario.server.clone())
            .seed(seed)
            .clients(scenario.clients.count)
            .strip_deflate(scenario.proxy.strip_deflate)
            .proxy_tls(scenario.proxy.tls)
    }

    /// A stack forwarding to `upstream`, with the defaults.
    pub fn builder(transport: &Transport, upstream: Upstream) -> StackBuilder {
        StackBuilder {
            transport: transport.clone(),
            upstream,
            listen: any_loopback(),
            seed: defaults::SEED,
            clients: 0,
            client_listeners: false,
            record: false,
            strip_deflate: false,
            tls: None,
            proxy_tls: ProxyTls::Passthrough,
        }
    }

    /// The network the stack runs on.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Where clients connect: the proxy.
    pub fn proxy_addr(&self) -> SocketAddr {
        self.proxy_addr
    }

    /// Where the proxy forwards to: the echo server, or the upstream address.
    pub fn server_addr(&self) -> SocketAddr {
        self.server_addr
    }

    /// `ws://PROXY/`: the URL a client uses.
    pub fn url(&self) -> String {
        format!("{}://{}/", self.scheme(), self.proxy_addr)
    }

    /// `wss` when the server speaks TLS, else `ws`.
    fn scheme(&self) -> &'static str {
        if self.tls { "wss" } else { "ws" }
    }

    /// With [`StackBuilder::client_listeners`], client `i`'s own URL at index `i`; empty
    /// otherwise.
    pub fn client_urls(&self) -> Vec<String> {
        self.client_addrs.iter().map(|addr| format!("{}://{addr}/", self.scheme())).collect()
    }

    /// The proxy's events from now on (built with [`StackBuilder::record_events`]; otherwise the
    /// receiver is closed and yields nothing). Later calls get a closed receiver.
    pub fn take_events(&mut self) -> mpsc::UnboundedReceiver<ProxyEvent> {
        std::mem::replace(&mut self.events, mpsc::unbounded_channel().1)
    }

    /// The echo server's signed-handshake credentials (`server.auth.hmac`): clients sign with
    /// them, `revoke_credentials` changes them. `None` without signed handshakes.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Starts and stops faults at runtime.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Plays the fault timeline `faults` in the background, with times counted from `origin`,
    /// healing everything at `duration`. Repeating faults draw from the stack's seed. A timeline
    /// already playing is stopped first.
    pub fn play(&mut self, faults: &[FaultPlan], duration: Duration, origin: Instant) {
        if let Some(previous) = self.tasks.timeline.take() {
            previous.abort();
        }
        let steps = timeline::schedule(faults, duration, self.seed);
        let (control, faults) = (self.control.clone(), faults.to_vec());
        self.tasks.timeline = Some(tokio::spawn(async move {
            timeline::play(&faults, &steps, &control, origin, duration).await;
        }));
    }

    /// Resolves when a part of the stack ends before [`Stack::shutdown`]: the echo server or the
    /// proxy failing, stopping or panicking, or the fault timeline panicking; otherwise it
    /// stays pending. Cancel-safe: the runner polls it beside the run's events, so the
    /// harness's own failure ends the run instead of showing up as clients' lost messages.
    pub async fn failure(&mut self) -> HarnessError {
        std::future::poll_fn(|cx| self.tasks.poll_failure(cx)).await
    }

    /// Stops the timeline and ends every active fault.
    pub fn heal(&mut self) {
        if let Some(timeline) = self.tasks.timeline.take() {
            timeline.abort();
        }
        self.control.heal();
    }

    /// Heals, stops the proxy (every link drops), then the echo server, and returns the
    /// server's counters (`None` for an upstream address, or a server that failed).
    pub async fn shutdown(mut self) -> Option<ServerStats> {
        self.heal();
        if let Some((stop, task)) = self.tasks.proxy.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
        let (stop, mut task) = self.tasks.server.take()?;
        let _ = stop.send(());
        match tokio::time::timeout(SERVER_DRAIN, &mut task).await {
            Ok(Ok(Ok(stats))) => Some(stats),
            Ok(_) => None,
            Err(_) => {
                task.abort();
                None
            }
        }
    }
}
