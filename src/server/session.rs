//! One connection, from the upgrade to the close: answer the handshake (token check, latency),
//! then echo every text and binary frame, ping on the heartbeat's schedule and close a peer that
//! stops answering.
//!
//! Every wait here (reading, writing, the handshake) is raced against the server's stop signal
//! and the heartbeat, so a peer that stops reading cannot pin a session: while an echo is stuck
//! behind a full socket, the heartbeat keeps counting and closes the peer on time.

use std::io;
use std::mem;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, accept_hdr_async_with_config};
use tracing::debug;

use super::accounting::Ledger;
use super::handshake::{Authorize, DelayedAnswer};
use super::heartbeat::{Beat, Heartbeat};
use crate::net::Stream;
use crate::net::accept::{AcceptErrorKind, classify};
use crate::scenario::ServerHeartbeat;
use crate::wire::websocket_config;

/// How long a server that is shutting down tries to deliver its Close frame (1001, going away)
/// to each peer. A peer that is reading gets it within a round trip; one that is not must not
/// hold up the shutdown (or Ctrl-C) for long. One second is far above a loopback or in-memory
/// round trip and short enough to feel immediate.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What every session of one server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The counters, behind a lock that is never held across an `.await`.
    pub(crate) counters: Mutex<Ledger>,
    /// The server heartbeat, if any.
    pub(crate) heartbeat: Option<ServerHeartbeat>,
    /// How long an upgrade may take, from when the session starts.
    pub(crate) handshake_timeout: Duration,
    /// The bearer token upgrades must carry, if any.
    pub(crate) auth_token: Option<Arc<str>>,
}

impl Shared {
    /// The counters, locked. Callers update and let go at once, never across an `.await`.
    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panic while holding the lock is a bug elsewhere; the counters stay usable.
        self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The server's stop signal as one session sees it.
#[derive(Clone, Debug)]
pub(crate) struct SessionStop(pub(crate) watch::Receiver<bool>);

impl SessionStop {
    /// Resolves once the server stops (or has gone away).
    async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// Why an open connection ended.
#[derive(Debug)]
enum Ended {
    /// The server is shutting down.
    Shutdown,
    /// A ping went unanswered for the timeout.
    HeartbeatTimeout,
    /// The peer closed (Close handshake or EOF).
    PeerClosed,
    /// A read or write failed: reset, protocol error.
    Failed(WsError),
}

/// Serves one accepted connection to its end. `latency` is this connection's handshake latency,
/// already drawn by the accept loop.
///
/// Errors: a failure of the server's own, not the peer's (its socket short of memory or
/// buffers, a write buffer overflowing, which is a bug): the server stops on it.
pub(crate) async fn run(
    stream: Stream,
    shared: Arc<Shared>,
    latency: Duration,
    mut stop: SessionStop,
) -> io::Result<()> {
    let authorize = Authorize { token: shared.auth_token.clone() };
    let handshake = accept_hdr_async_with_config(
        DelayedAnswer::new(stream, latency),
        authorize,
        Some(websocket_config()),
    );
    // Counted from when the session starts (after the accept rate's slot): the whole upgrade,
    // request and answer, must fit, so a peer that sends its request a byte a minute, or
    // nothing, does not hold the connection (and a descriptor) for the rest of the run.
    let deadline = Instant::now() + shared.handshake_timeout;
    let outcome = tokio::select! {
        biased;
        () = stop.wait() => None,
        outcome = timeout_at(deadline, handshake) => Some(outcome),
    };
    let ws = match outcome {
        Some(Err(_elapsed)) => {
            debug!("upgrade not complete within the handshake timeout: closing");
            shared.ledger().handshake_timed_out();
            return Ok(());
        }
        Some(Ok(outcome)) => outcome,
        None => {
            shared.ledger().handshake_failed();
            return Ok(());
        }
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(WsError::Http(response)) => {
            debug!(status = %response.status(), "upgrade rejected");
            shared.ledger().handshake_rejected();
            return Ok(());
        }
        Err(error) => {
            debug!(%error, "upgrade failed");
            shared.ledger().handshake_failed();
            return own_failure(&error, "upgrade");
        }
    };
    let heartbeat = shared.heartbeat.map(|config| Heartbeat::new(config, Instant::now()));
    let mut echo = Echo { ws, heartbeat, ping_owed: false, shared };
    match echo.serve(&mut stop).await {
        // No Close frame: the connection is dropped, which closes the socket (FIN), just as a Go
        // server does when its read deadline expires. A peer that stopped answering pings is
        // presumed unable to take part in a closing handshake, and the client under test must
        // detect the bare close itself.
        Ended::HeartbeatTimeout => {
            debug!("heartbeat timeout: closing without a Close frame");
            echo.shared.ledger().heartbeat_close();
        }
        Ended::Shutdown => {
            let close = CloseFrame { code: CloseCode::Away, reason: "server shutting down".into() };
            let _ = timeout(SHUTDOWN_GRACE, echo.ws.close(Some(close))).await;
        }
        Ended::PeerClosed => {}
        Ended::Failed(error) => {
            debug!(%error, "connection failed");
            return own_failure(&error, "connection");
        }
    }
    Ok(())
}

/// Whether a WebSocket error is the server's own failure rather than the peer's doing: its
/// socket short of memory or buffers (the peer cannot cause that), or its write buffer over
/// its cap (a bug: every send is awaited before the next frame is read).
fn own_failure(error: &WsError, what: &str) -> io::Result<()> {
    let own = match error {
        WsError::Io(io) => classify(io) == AcceptErrorKind::Resource,
        WsError::WriteBufferFull(_) => true,
        _ => false,
    };
    if own {
        return Err(io::Error::other(format!("echo server: a {what} failed on the server's side: {error}")));
    }
    Ok(())
}

/// Sleeps until `at`, or forever without one.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// An open connection.
struct Echo {
    /// The WebSocket.
    ws: WebSocketStream<DelayedAnswer<Stream>>,
    /// The ping schedule, if the server has a heartbeat.
    heartbeat: Option<Heartbeat>,
    /// A ping fell due while a write was stuck; it goes out once the write is through.
    ping_owed: bool,
    /// Counters and settings.
    shared: Arc<Shared>,
}

/// What woke the read loop.
enum Step {
    Shutdown,
    Heartbeat,
    Frame(Option<Result<Message, WsError>>),
}

impl Echo {
    /// Reads frames and answers them until the connection ends.
    async fn serve(&mut self, stop: &mut SessionStop) -> Ended {
        loop {
            let wake = self.heartbeat.as_ref().map(Heartbeat::wake_at);
            let step = tokio::select! {
                biased;
                () = stop.wait() => Step::Shutdown,
                () = until(wake) => Step::Heartbeat,
                frame = self.ws.next() => Step::Frame(frame),
            };
            let handled = match step {
                Step::Shutdown => return Ended::Shutdown,
                Step::Heartbeat => self.beat(stop).await,
                Step::Frame(None) => return Ended::PeerClosed,
                Step::Frame(Some(Err(error))) => return Ended::Failed(error),
                Step::Frame(Some(Ok(message))) => self.answer(message, stop).await,
            };
            if let Err(ended) = handled {
                return ended;
            }
        }
    }

    /// Acts on a heartbeat wake-up.
    async fn beat(&mut self, stop: &mut SessionStop) -> Result<(), Ended> {
        match self.heartbeat.as_mut().and_then(|heartbeat| heartbeat.due(Instant::now())) {
            Some(Beat::Overdue) => Err(Ended::HeartbeatTimeout),
            Some(Beat::Ping) => self.deliver(Message::Ping(Bytes::new()), stop).await,
            None => Ok(()),
        }
    }

    /// Answers one frame: data is counted and echoed; a Pong feeds the heartbeat. Pings are
    /// answered by tungstenite itself (on the next read), and Close frames too.
    async fn answer(&mut self, message: Message, stop: &mut SessionStop) -> Result<(), Ended> {
        match &message {
            Message::Text(text) => self.shared.ledger().frame(text.as_bytes(), false),
            Message::Binary(bytes) => self.shared.ledger().frame(bytes, true),
            Message::Pong(_) => {
                if let Some(heartbeat) = &mut self.heartbeat {
                    heartbeat.on_pong();
                }
                return Ok(());
            }
            Message::Ping(_) | Message::Close(_) | Message::Frame(_) => return Ok(()),
        }
        self.deliver(message, stop).await
    }

    /// Sends `message`, then any ping that fell due while it was stuck.
    async fn deliver(&mut self, message: Message, stop: &mut SessionStop) -> Result<(), Ended> {
        self.send(message, stop).await?;
        while mem::take(&mut self.ping_owed) {
            self.send(Message::Ping(Bytes::new()), stop).await?;
        }
        Ok(())
    }

    /// Writes and flushes one frame, while still keeping the heartbeat's time: a deadline that
    /// passes during the write ends the connection; a ping that falls due is owed.
    async fn send(&mut self, message: Message, stop: &mut SessionStop) -> Result<(), Ended> {
        let Echo { ws, heartbeat, ping_owed, .. } = self;
        let mut sending = pin!(ws.send(message));
        loop {
            let wake = heartbeat.as_ref().map(Heartbeat::wake_at);
            let sent = tokio::select! {
                biased;
                () = stop.wait() => return Err(Ended::Shutdown),
                () = until(wake) => None,
                sent = &mut sending => Some(sent),
            };
            if let Some(sent) = sent {
                return sent.map_err(Ended::Failed);
            }
            match heartbeat.as_mut().and_then(|heartbeat| heartbeat.due(Instant::now())) {
                Some(Beat::Overdue) => return Err(Ended::HeartbeatTimeout),
                Some(Beat::Ping) => *ping_owed = true,
                None => {}
            }
        }
    }
}
