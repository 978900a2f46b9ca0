//! The echo server: echoes every text and binary frame, pings on a heartbeat and closes peers
//! that stop answering, limits how fast it takes new connections, delays its upgrade answers,
//! checks a bearer token, and counts messages and duplicates per client.
//!
//! Like mini-redis, [`Server::serve`] takes a bound [`Listener`] and a shutdown future, so the
//! same code serves live TCP (tests bind `127.0.0.1:0`) and the sim network, and the caller
//! decides when it ends. This file holds the server and its accept loop; each connection runs
//! in `session`, the pure decisions live in `pacing` and `heartbeat`, the counters in
//! `accounting` and the upgrade details in `handshake`.

mod accounting;
mod admission;
mod capacity;
mod handshake;
mod heartbeat;
mod pacing;
mod session;
mod signed;
mod upgrade;

use std::io;
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until};
use tracing::debug;

pub use accounting::{ClientStats, ServerStats};
pub use pacing::AcceptPacing;

use crate::net::Listener;
use crate::net::accept::{self, AcceptRetry};
use crate::scenario::ServerConfig;
use crate::wire::signature::Credentials;
use session::{SessionStop, Shared};
use signed::SignatureCheck;

/// An echo server, configured and not yet serving.
#[derive(Debug)]
pub struct Server {
    /// Latency and pacing settings the accept loop applies.
    config: ServerConfig,
    /// Draws each connection's handshake latency, in accept order.
    rng: ChaCha8Rng,
    /// What every session shares, counters included.
    shared: Arc<Shared>,
}

/// A handle on a server's counters, usable while it serves and after.
#[derive(Clone, Debug)]
pub struct StatsHandle {
    /// The same state the sessions update.
    shared: Arc<Shared>,
}

impl StatsHandle {
    /// A copy of the counters as they are now.
    pub fn snapshot(&self) -> ServerStats {
        self.shared.ledger().snapshot()
    }
}

impl Server {
    /// A server with `config`. `rng` draws the handshake latencies: give it the server's own
    /// generator derived from the scenario seed, so runs repeat.
    pub fn new(config: ServerConfig, rng: ChaCha8Rng) -> Server {
        Server::with_tls(config, rng, None)
    }

    /// A server with `config` that speaks TLS with `tls` when given (`wss://`): each
    /// connection's TLS handshake comes first, within the handshake timeout.
    pub fn with_tls(config: ServerConfig, rng: ChaCha8Rng, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let shared = Arc::new(Shared {
            counters: Mutex::default(),
            heartbeat: config.heartbeat,
            handshake_timeout: config.handshake_timeout,
            deflate: config.deflate,
            auth_token: config.auth_token.as_deref().map(Arc::from),
            tls: tls.map(|config| session::TlsAcceptor(tokio_rustls::TlsAcceptor::from(config))),
            signed: config.hmac.as_ref().map(|hmac| SignatureCheck {
                credentials: Credentials::new(hmac.secret.clone()),
                window: hmac.window,
            }),
            said: Mutex::default(),
        });
        Server { config, rng, shared }
    }

    /// The shared credentials of signed handshakes (`None` without them): the fault timeline
    /// revokes through it, and reference clients sign with it and refresh from it.
    pub fn credentials(&self) -> Option<Credentials> {
        self.shared.signed.as_ref().map(|signed| signed.credentials.clone())
    }

    /// A handle on the counters; take it before [`Server::serve`] to watch a running server.
    pub fn stats(&self) -> StatsHandle {
        StatsHandle { shared: self.shared.clone() }
    }

    /// Accepts and serves connections from `listener` until `shutdown` resolves, then tells every
    /// session to stop (open ones get a Close frame, 1001), waits for them, and returns the final
    /// counters.
    ///
    /// Connections are taken in arrival order. With an accept rate, the loop waits for each
    /// connection's slot (see [`AcceptPacing`]) before taking the next one, so the excess waits
    /// in the listener's queue, as in a kernel accept backlog; nothing is rejected. Each
    /// connection's handshake latency is drawn here, in that same order, so the draws do not
    /// depend on task scheduling.
    ///
    /// A failed accept is retried as [`AcceptRetry`] decides: at once when it concerns one
    /// connection, with backoff while the process is short of descriptors or memory.
    ///
    /// Errors: the server's own failure, worded for a person and naming the echo server, after
    /// its sessions have stopped: a listener that is broken or could not accept for
    /// [`accept::PERSIST`], a session that panicked, or one whose own socket failed for want of
    /// resources. Whoever runs the server must report it as the harness's failure, never as
    /// the clients'.
    pub async fn serve(
        mut self,
        mut listener: Listener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<ServerStats> {
        let mut shutdown = std::pin::pin!(shutdown);
        let (stop_sender, stop) = watch::channel(false);
        let stop = SessionStop(stop);
        let mut pacing = self.config.accept_rate.map(AcceptPacing::new);
        let mut retry = AcceptRetry::new(COMPONENT);
        let mut sessions = JoinSet::new();
        let gate = self.config.capacity.is_set().then(|| admission::Gate::new(&self.config.capacity));
        let result = loop {
            let accepted = tokio::select! {
                biased;
                () = &mut shutdown => break Ok(()),
                Some(finished) = sessions.join_next() => match session_outcome(finished) {
                    Ok(()) => continue,
                    Err(failure) => break Err(failure),
                },
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, peer)) => {
                    retry.accepted();
                    debug!(%peer, "connection accepted");
                    stream
                }
                Err(error) => {
                    self.shared.ledger().accept_failed();
                    match retry.failed(&error, Instant::now()) {
                        Ok(wait) if wait.is_zero() => continue,
                        Ok(wait) => {
                            tokio::select! {
                                biased;
                                () = &mut shutdown => break Ok(()),
                                () = sleep(wait) => continue,
                            }
                        }
                        Err(failure) => break Err(failure),
                    }
                }
            };
            self.shared.ledger().connection_accepted();
            if let Some(pacing) = &mut pacing {
                let slot = pacing.admit(Instant::now());
                tokio::select! {
                    biased;
                    () = &mut shutdown => break Ok(()),
                    () = sleep_until(slot) => {}
                }
            }
            let latency = handshake::draw_latency(&mut self.rng, self.config.handshake_latency);
            let shared = self.shared.clone();
            match &gate {
                Some(gate) => {
                    let service = gate.draw_service(&mut self.rng);
                    sessions.spawn(admission::admit(
                        stream,
                        shared,
                        gate.clone(),
                        latency,
                        service,
                        stop.clone(),
                    ));
                }
                None => {
                    sessions.spawn(session::run(stream, shared, latency, stop.clone(), None));
                }
            }
        };
        drop(listener);
        let _ = stop_sender.send(true);
        let mut result = result;
        while let Some(finished) = sessions.join_next().await {
            if let (Ok(()), Err(failure)) = (&result, session_outcome(finished)) {
                result = Err(failure);
            }
        }
        if let Err(failure) = &result {
            debug!(%failure, "the echo server stops");
        }
        result.map(|()| self.stats().snapshot())
    }
}

/// How the echo server names itself in its failures.
const COMPONENT: &str = "echo server";

/// A session's end as the server sees it: a panic (a bug, which would leave wrong counters) or
/// a failure of the server's own becomes the server's failure.
fn session_outcome(finished: Result<Result<(), io::Error>, tokio::task::JoinError>) -> io::Result<()> {
    match finished {
        Ok(outcome) => outcome,
        // Cancelled: only the runtime shutting down does that.
        Err(error) if error.is_cancelled() => Ok(()),
        Err(error) => {
            Err(io::Error::other(format!("{COMPONENT}: a connection's task {}", accept::task_failure(error))))
        }
    }
}
