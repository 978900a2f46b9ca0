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

use std::io;
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

pub use accounting::{ClientStats, ServerStats};
pub use pacing::AcceptPacing;

use crate::net::Listener;
use crate::scenario::ServerConfig;
use session::{SessionStop, Shared};

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
        let shared = Arc::new(Shared {
            counters: Mutex::default(),
            heartbeat: config.heartbeat,
            auth_token: config.auth_token.as_deref().map(Arc::from),
        });
        Server { config, rng, shared }
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
    /// Errors: a listener failure that is not about one connection (say, out of file
    /// descriptors) ends the server with that error, after its sessions have stopped.
    pub async fn serve(
        mut self,
        mut listener: Listener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<ServerStats> {
        let mut shutdown = std::pin::pin!(shutdown);
        let (stop_sender, stop) = watch::channel(false);
        let stop = SessionStop(stop);
        let mut pacing = self.config.accept_rate.map(AcceptPacing::new);
        let mut sessions = JoinSet::new();
        let gate = self.config.capacity.is_set().then(|| admission::Gate::new(&self.config.capacity));
        let result = loop {
            let accepted = tokio::select! {
                biased;
                () = &mut shutdown => break Ok(()),
                Some(finished) = sessions.join_next() => {
                    propagate_panic(finished);
                    continue;
                }
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, peer)) => {
                    debug!(%peer, "connection accepted");
                    stream
                }
                Err(error) if is_per_connection(&error) => {
                    debug!(%error, "a connection failed before it was accepted");
                    continue;
                }
                Err(error) => {
                    warn!(%error, "the listener failed");
                    break Err(error);
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
        while let Some(finished) = sessions.join_next().await {
            propagate_panic(finished);
        }
        result.map(|()| self.stats().snapshot())
    }
}

/// Re-raises a session's panic: it is a bug, and hiding it would leave wrong counters.
fn propagate_panic(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished
        && error.is_panic()
    {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Whether an accept error concerns only the connection being accepted (which is then skipped)
/// rather than the listener.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::Interrupted
    )
}
