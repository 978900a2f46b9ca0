//! One connection, from the upgrade to the close: the upgrade (`upgrade.rs`) within the
//! handshake timeout, then echo every text and binary frame, ping on the heartbeat's schedule,
//! close a peer that stops answering, and answer a peer's breach of the protocol with the Close
//! code a real server sends (1009, 1007, 1002).
//!
//! Every wait here (reading, writing, the handshake) is raced against the server's stop signal
//! and the heartbeat, so a peer that stops reading cannot pin a session: while an echo is stuck
//! behind a full socket, the heartbeat keeps counting and closes the peer on time.

use std::collections::BTreeSet;
use std::io;
use std::mem;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tracing::{debug, info};

use super::accounting::Ledger;
use super::admission::Service;
use super::heartbeat::{Beat, Heartbeat};
use super::upgrade::{Socket, upgrade};
use crate::net::Stream;
use crate::net::accept::{AcceptErrorKind, classify};
use crate::scenario::ServerHeartbeat;
use crate::wire::MAX_MESSAGE_BYTES;
use crate::wire::deflate::InvalidCompressedData;

/// How long a server that is shutting down tries to deliver its Close frame (1001, going away)
/// to each peer. A peer that is reading gets it within a round trip; one that is not must not
/// hold up the shutdown (or Ctrl-C) for long. One second is far above a loopback or in-memory
/// round trip and short enough to feel immediate.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

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
    /// The signature check upgrades must pass, with signed handshakes.
    pub(crate) signed: Option<super::signed::SignatureCheck>,
    /// Whether permessage-deflate is accepted when offered.
    pub(crate) deflate: bool,
    /// TLS, for `wss://`: every connection's TLS handshake comes before its upgrade.
    pub(crate) tls: Option<TlsAcceptor>,
    /// The kinds of trouble already logged at info level (`not_an_upgrade`, `1009`, …).
    pub(crate) said: Mutex<BTreeSet<String>>,
}

/// The server's side of TLS.
#[derive(Clone)]
pub(crate) struct TlsAcceptor(pub(crate) tokio_rustls::TlsAcceptor);

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsAcceptor")
    }
}

impl Shared {
    /// The counters, locked. Callers update and let go at once, never across an `.await`.
    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panic while holding the lock is a bug elsewhere; the counters stay usable.
        self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Logs `what` at info level the first time trouble of `kind` happens, at debug level
    /// after: one line says it happens, the counters say how often, and a peer that does it
    /// a thousand times does not flood the log.
    pub(crate) fn say_once(&self, kind: &str, what: &str) {
        let first =
            self.said.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(kind.to_string());
        if first {
            info!("echo server: {what} (the first such; the counters have them all)");
        } else {
            debug!("echo server: {what}");
        }
    }
}

/// The server's stop signal as one session sees it.
#[derive(Clone, Debug)]
pub(crate) struct SessionStop(pub(crate) watch::Receiver<bool>);

impl SessionStop {
    /// Resolves once the server stops (or has gone away).
    pub(crate) async fn wait(&mut self) {
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
/// already drawn by the accept loop; `service` its part of the capacity model, if the server has
/// capacity rules (`admission`).
///
/// Errors: a failure of the server's own, not the peer's (its socket short of memory or
/// buffers, a write buffer overflowing, which is a bug): the server stops on it.
pub(crate) async fn run(
    stream: Stream,
    shared: Arc<Shared>,
    latency: Duration,
    mut stop: SessionStop,
    service: Option<Service>,
) -> io::Result<()> {
    // Counted from when the session starts (after the accept rate's slot): the whole upgrade,
    // request and answer, must fit, so a peer that sends its request a byte a minute, or
    // nothing, does not hold the connection (and a descriptor) for the rest of the run.
    let deadline = Instant::now() + shared.handshake_timeout;
    let outcome = tokio::select! {
        biased;
        () = stop.wait() => None,
        outcome = timeout_at(deadline, upgrade(stream, &shared, latency, service)) => Some(outcome),
    };
    let ws = match outcome {
        Some(Ok(upgraded)) => match upgraded? {
            Some(ws) => ws,
            None => return Ok(()),
        },
        Some(Err(_elapsed)) => {
            debug!("upgrade not complete within the handshake timeout: closing");
            shared.ledger().handshake_timed_out();
            return Ok(());
        }
        None => {
            shared.ledger().handshake_failed();
            return Ok(());
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
            if let Some(close) = violation_close(&error) {
                let code = u16::from(close.code);
                echo.shared.say_once(&code.to_string(), &format!("closed a connection with {code}: {error}"));
                echo.shared.ledger().protocol_close();
                let _ = timeout(SHUTDOWN_GRACE, echo.ws.close(Some(close))).await;
                return Ok(());
            }
            debug!(%error, "connection failed");
            return own_failure(&error, "connection");
        }
    }
    Ok(())
}

/// The Close frame a real server sends for what the peer did wrong (RFC 6455 §7.4.1): 1009 for
/// a message over the limit, 1007 for a text message that is not UTF-8, 1002 for any other
/// breach of the protocol. `None` for errors that are not the peer's breach (it went away).
fn violation_close(error: &WsError) -> Option<CloseFrame> {
    let (code, reason) = match error {
        WsError::Capacity(_) => (CloseCode::Size, format!("message over {} MiB", MAX_MESSAGE_BYTES >> 20)),
        WsError::Utf8(_) => (CloseCode::Invalid, "text message is not valid UTF-8".to_string()),
        WsError::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<InvalidCompressedData>()) => {
            (CloseCode::Invalid, "invalid compressed data".to_string())
        }
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
            | ProtocolError::SendAfterClosing
            | ProtocolError::ReceivedAfterClosing
            | ProtocolError::HandshakeIncomplete,
        ) => return None,
        WsError::Protocol(breach) => (CloseCode::Protocol, breach.to_string()),
        _ => return None,
    };
    // A Close frame's reason is at most 123 bytes (RFC 6455 §5.5).
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Some(CloseFrame { code, reason: reason[..end].to_string().into() })
}

/// Whether a WebSocket error is the server's own failure rather than the peer's doing: its
/// socket short of memory or buffers (the peer cannot cause that), or its write buffer over
/// its cap (a bug: every send is awaited before the next frame is read).
pub(crate) fn own_failure(error: &WsError, what: &str) -> io::Result<()> {
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
    ws: WebSocketStream<Socket>,
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
