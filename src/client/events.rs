//! What a client reports: every state change, attempt, detection, send, echo and duplicate,
//! timestamped with `tokio::time::Instant` and sent to the recorder without waiting.

use std::fmt;
use std::io;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// The client's states (docs/reference-client.md, "States and rules").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Opening TCP and the WebSocket handshake.
    Connecting,
    /// Open: heartbeats run and messages flow.
    Open,
    /// The open connection just broke; deciding what to do.
    Broken,
    /// Backing off before the next attempt.
    Waiting,
    /// Stopped for good: a permanent error, or out of attempts.
    GaveUp,
    /// Stopped by the run (end of the quiet period or Ctrl-C).
    Closed,
}

/// Why a connection or an attempt failed (docs/reference-client.md, "Detection").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A read or write failed: the peer reset the connection.
    Reset,
    /// The stream ended without a close handshake.
    Eof,
    /// The server sent a Close frame with this code (1005 when it had none).
    CloseFrame(u16),
    /// No pong within `pong_timeout` of a ping.
    HeartbeatTimeout,
    /// No frame at all for `read_timeout`.
    ReadTimeout,
    /// TCP connect plus the opening handshake took longer than `connect_timeout`.
    HandshakeTimeout,
    /// The server answered the upgrade with this HTTP status.
    HandshakeRejected(u16),
    /// The TCP connect failed (refused, unreachable, …).
    ConnectFailed(io::ErrorKind),
    /// The client refused the server's TLS certificate (expired, for another host, from a CA
    /// it does not trust): nothing was sent over that connection.
    TlsRejected,
    /// A program under test reported that its connection closed (its `closed` event), with
    /// the close code it saw (1006 for an abnormal close) and its own words.
    Reported {
        /// The close code, when the program gave one.
        code: Option<u16>,
        /// The reason in the program's words, when it gave one.
        text: Option<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Reset => write!(f, "reset"),
            Reason::Eof => write!(f, "eof"),
            Reason::CloseFrame(code) => write!(f, "close_frame({code})"),
            Reason::HeartbeatTimeout => write!(f, "heartbeat_timeout"),
            Reason::ReadTimeout => write!(f, "read_timeout"),
            Reason::HandshakeTimeout => write!(f, "handshake_timeout"),
            Reason::HandshakeRejected(status) => write!(f, "handshake_rejected({status})"),
            Reason::ConnectFailed(kind) => write!(f, "connect_failed({kind:?})"),
            Reason::TlsRejected => write!(f, "tls_rejected"),
            Reason::Reported { code, text } => {
                f.write_str("closed")?;
                match (code, text) {
                    (Some(code), Some(text)) => write!(f, "({code}, {text:?})"),
                    (Some(code), None) => write!(f, "({code})"),
                    (None, Some(text)) => write!(f, "({text:?})"),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}

/// Why a client stopped reconnecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The server said not to come back: 401/403, or a permanent close code.
    Permanent(Reason),
    /// `max_attempts` attempts since the last backoff reset all failed.
    MaxAttempts(u32),
    /// The strategy has no further delay (SignalR's table ends).
    StrategyExhausted,
    /// The very first connect failed and the strategy stops then (stubborn-io).
    FirstConnectFailed(Reason),
    /// A normal close (1000/1001) and `normal: give_up`.
    NormalClose(u16),
    /// A program under test said it gave up (its `gave_up` event).
    Reported,
}

/// Why a message due to be sent was not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// `at_most_once` and the connection was not open.
    NotOpen,
    /// The outbox was full.
    OutboxFull,
    /// The write failed as the connection broke, and the mode does not resend.
    WriteFailed,
}

/// One event of one client.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientEvent {
    /// When.
    pub at: Instant,
    /// The client's index.
    pub client: u32,
    /// What happened.
    pub kind: ClientEventKind,
}

/// The kinds of client events.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEventKind {
    /// The client started, with the session id drawn for it.
    Started {
        /// A random id from the client's seeded generator, sent in the handshake.
        session: u64,
    },
    /// The state changed.
    State(State),
    /// Connection attempt `n` (counting every attempt of the run from 1) began.
    Attempt {
        /// Attempt number.
        n: u64,
    },
    /// The attempt failed.
    AttemptFailed {
        /// Attempt number.
        n: u64,
        /// Why.
        reason: Reason,
    },
    /// The TLS handshake of attempt `n` completed (`wss://` only), `took` after the TCP
    /// connect: the part of the reconnect time TLS costs.
    TlsEstablished {
        /// Attempt number.
        n: u64,
        /// From the TCP connect to the end of the TLS handshake.
        took: Duration,
    },
    /// The handshake completed.
    Opened {
        /// Attempt number.
        n: u64,
        /// The connection's local address: the proxy reports it as the link's peer.
        local: Option<std::net::SocketAddr>,
    },
    /// The open connection broke, and the client noticed.
    Detected(Reason),
    /// Waiting before the next attempt.
    Waiting {
        /// How long.
        delay: Duration,
        /// The floor the server imposed (Retry-After, close 1013), if any.
        floor: Option<Duration>,
    },
    /// The backoff started over.
    BackoffReset,
    /// The client stopped reconnecting.
    GaveUp(GiveUp),
    /// A message became due (open model): it is offered whatever happens next.
    Offered {
        /// Its sequence number.
        seq: u64,
    },
    /// A message was written to the connection.
    Sent {
        /// Its sequence number.
        seq: u64,
        /// Whether this is a resend after a reconnect.
        resend: bool,
    },
    /// A message's echo arrived for the first time: the application has it.
    Echoed {
        /// Its sequence number.
        seq: u64,
        /// From its intended send time to now.
        latency: Duration,
    },
    /// A message's echo arrived again and the application saw it again.
    Duplicate {
        /// Its sequence number.
        seq: u64,
    },
    /// A repeated echo that `exactly_once` kept from the application.
    DuplicateSuppressed {
        /// Its sequence number.
        seq: u64,
    },
    /// A due message was not sent and never will be.
    Dropped {
        /// Its sequence number.
        seq: u64,
        /// Why.
        why: DropReason,
    },
    /// A program under test said it is ready (its `ready` event).
    Ready,
    /// A program under test ended.
    Exited {
        /// Its exit code, when it exited.
        code: Option<i32>,
        /// The signal that ended it, when one did.
        signal: Option<i32>,
    },
    /// A program under test wrote a line wschaos could not take as an event.
    ProtocolError {
        /// The line's number on its stdout, from 1.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
}

/// Where clients send their events.
#[derive(Clone, Debug)]
pub struct ClientSink {
    sender: Option<mpsc::UnboundedSender<ClientEvent>>,
}

impl ClientSink {
    /// A sink and its receiver.
    pub fn channel() -> (ClientSink, mpsc::UnboundedReceiver<ClientEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (ClientSink { sender: Some(sender) }, receiver)
    }

    /// A sink that drops everything.
    pub fn discard() -> ClientSink {
        ClientSink { sender: None }
    }

    /// Records that `client` saw `kind` now.
    pub fn emit(&self, client: u32, kind: ClientEventKind) {
        if let Some(sender) = &self.sender {
            // Nobody listening any more is not the client's problem.
            let _ = sender.send(ClientEvent { at: Instant::now(), client, kind });
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::Broken => "broken",
            State::Waiting => "waiting",
            State::GaveUp => "gave_up",
            State::Closed => "closed",
        };
        f.write_str(name)
    }
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GiveUp::Permanent(reason) => write!(f, "permanent ({reason})"),
            GiveUp::MaxAttempts(limit) => write!(f, "max_attempts ({limit} failed attempts)"),
            GiveUp::StrategyExhausted => write!(f, "the strategy has no further delay"),
            GiveUp::FirstConnectFailed(reason) => write!(f, "the first connect failed ({reason})"),
            GiveUp::NormalClose(code) => write!(f, "normal close {code}"),
            GiveUp::Reported => write!(f, "the program said it gave up"),
        }
    }
}

impl fmt::Display for ClientEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        match self {
            ClientEventKind::Started { session } => write!(f, "started, session {session:016x}"),
            ClientEventKind::State(state) => write!(f, "state {state}"),
            ClientEventKind::Attempt { n } => write!(f, "attempt {n}"),
            ClientEventKind::AttemptFailed { n, reason } => write!(f, "attempt {n} failed: {reason}"),
            ClientEventKind::TlsEstablished { n, took } => {
                write!(f, "TLS established on attempt {n} in {:.1} ms", ms(took))
            }
            ClientEventKind::Opened { n, .. } => write!(f, "opened on attempt {n}"),
            ClientEventKind::Detected(reason) => write!(f, "detected: {reason}"),
            ClientEventKind::Waiting { delay, floor: None } => write!(f, "waiting {:.1} ms", ms(delay)),
            ClientEventKind::Waiting { delay, floor: Some(floor) } => {
                write!(f, "waiting {:.1} ms (server floor {:.1} ms)", ms(delay), ms(floor))
            }
            ClientEventKind::BackoffReset => write!(f, "backoff reset"),
            ClientEventKind::GaveUp(why) => write!(f, "gave up: {why}"),
            ClientEventKind::Offered { seq } => write!(f, "message {seq} due"),
            ClientEventKind::Sent { seq, resend: false } => write!(f, "message {seq} sent"),
            ClientEventKind::Sent { seq, resend: true } => write!(f, "message {seq} resent"),
            ClientEventKind::Echoed { seq, latency } => {
                write!(f, "message {seq} echoed after {:.1} ms", ms(latency))
            }
            ClientEventKind::Duplicate { seq } => write!(f, "message {seq} echoed again (duplicate)"),
            ClientEventKind::DuplicateSuppressed { seq } => {
                write!(f, "message {seq} echoed again (suppressed)")
            }
            ClientEventKind::Dropped { seq, why } => write!(f, "message {seq} dropped: {why:?}"),
            ClientEventKind::Ready => write!(f, "ready"),
            ClientEventKind::Exited { code: Some(code), .. } => write!(f, "exited with code {code}"),
            ClientEventKind::Exited { signal: Some(signal), .. } => write!(f, "killed by signal {signal}"),
            ClientEventKind::Exited { .. } => write!(f, "exited"),
            ClientEventKind::ProtocolError { line, message } => write!(f, "stdout line {line}: {message}"),
        }
    }
}
