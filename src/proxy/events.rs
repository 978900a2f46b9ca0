//! What the proxy reports: links opening and closing, faults starting, ending and hitting.
//!
//! Every event carries a `tokio::time::Instant`, so on the sim engine it is virtual time. The
//! proxy sends events into an unbounded channel and never waits on the consumer (the recorder,
//! or a log printer for the standalone proxy), so a slow consumer cannot stall the data path.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::LinkId;
use crate::fault::FaultId;
use crate::scenario::FrameKind;
use crate::ws::Way;
use crate::ws::observer::Stop;

/// One thing that happened in the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyEvent {
    /// When it happened.
    pub at: Instant,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of proxy events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A connection was accepted and its upstream dialled.
    LinkOpened {
        /// The link.
        link: LinkId,
        /// The client's address.
        peer: SocketAddr,
    },
    /// A link said which client it belongs to, in its upgrade request.
    LinkIdentified {
        /// The link.
        link: LinkId,
        /// The client index from the `x-wschaos-client` header.
        client: u32,
    },
    /// `tls_bad_certificate` answered an arriving connection with a bad certificate.
    Impersonated {
        /// Which occurrence.
        fault: FaultId,
        /// Whether the client accepted the certificate (it should not).
        accepted: bool,
        /// Application bytes the client then sent to the impostor.
        bytes: u64,
        /// Whether they carried credentials (a token, a signature, a cookie).
        credentials: bool,
    },
    /// A link ended.
    LinkClosed {
        /// The link.
        link: LinkId,
        /// Why.
        cause: CloseCause,
    },
    /// A fault began.
    FaultStarted {
        /// Which occurrence.
        fault: FaultId,
        /// The kind's name.
        name: &'static str,
    },
    /// A fault ended (healed).
    FaultEnded {
        /// Which occurrence.
        fault: FaultId,
    },
    /// A fault acted on a link or on an arriving connection.
    FaultHit {
        /// Which occurrence.
        fault: FaultId,
        /// The link, or `None` for a refused connection that never became one.
        link: Option<LinkId>,
    },
    /// A frame fault cannot act on a link: the observer cannot follow its frames (TLS, another
    /// protocol, broken framing), or acting would corrupt a compressed stream. Recorded rather
    /// than silently ignored.
    FaultNotApplied {
        /// Which occurrence.
        fault: FaultId,
        /// The link.
        link: LinkId,
        /// Why.
        why: NotApplied,
    },
    /// The server answered a link's upgrade request (seen by the frame observer).
    Upgraded {
        /// The link.
        link: LinkId,
        /// The answer's status: 101 when the WebSocket opened.
        status: u16,
    },
    /// The first data frame (text or binary) of a link crossed the proxy on `way`.
    FirstData {
        /// The link.
        link: LinkId,
        /// Which way.
        way: Way,
    },
    /// A control frame reached the proxy on `way`: what the peer sent, whether or not it was
    /// passed on (`swallowed` says).
    ControlFrame {
        /// The link.
        link: LinkId,
        /// Which way.
        way: Way,
        /// Ping, pong or close.
        kind: FrameKind,
        /// A Close frame's status code, when it has one.
        close_code: Option<u16>,
        /// A fault kept it from the other side: a blackhole on its way, `drop_frames`, or the
        /// link closing behind the proxy's own goodbye. The observer reads frames before the
        /// faults act, so this is settled once the frame's last byte has been through them.
        swallowed: bool,
    },
    /// The frame observer stopped following a way of a link; its bytes still flow unchanged.
    ObserverStopped {
        /// The link.
        link: LinkId,
        /// Which way.
        way: Way,
        /// Why.
        why: Stop,
    },
}

/// Why a frame fault could not act on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotApplied {
    /// The observer cannot follow a way the fault needs.
    Unfollowed(Stop),
    /// Dropping a data message on this way would corrupt the rest of the stream: it is
    /// compressed by permessage-deflate with context takeover (or by an unknown extension), so
    /// the messages after it refer back to it. The message went on; control frames, which are
    /// never compressed, are still dropped.
    Compressed(Way),
}

impl fmt::Display for NotApplied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotApplied::Unfollowed(why) => write!(f, "{why}"),
            NotApplied::Compressed(way) => write!(
                f,
                "{} messages compressed with context takeover (permessage-deflate): dropping one \
                 would corrupt the ones after it",
                way.name()
            ),
        }
    }
}

/// Why a link ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseCause {
    /// The client closed its side, and then the server did (or the reverse): a normal end.
    Finished,
    /// A read or write on the client's side failed (usually a reset by the client).
    ClientError(io::ErrorKind),
    /// A read or write on the server's side failed.
    ServerError(io::ErrorKind),
    /// A fault reset the link.
    FaultReset(FaultId),
    /// A fault closed the link.
    FaultClosed(FaultId),
    /// The upstream could not be reached; the client was reset.
    UpstreamUnreachable(io::ErrorKind),
    /// The connection was hung by `accept_hang` and the client gave up on it.
    Hung(FaultId),
    /// The proxy held the client's upgrade request (for a handshake fault) and the request was
    /// still incomplete after [`HANDSHAKE_TIMEOUT`](crate::wire::HANDSHAKE_TIMEOUT).
    HandshakeTimeout,
    /// `proxy.tls: terminate`: the client's TLS handshake with the proxy failed or timed out
    /// (a client that does not trust the run's CA, one that sent no TLS); no upstream was
    /// dialed.
    ClientTlsFailed(io::ErrorKind),
    /// `proxy.tls: terminate`: the proxy's TLS handshake with the server failed or timed out;
    /// the client was reset.
    ServerTlsFailed(io::ErrorKind),
}

impl fmt::Display for CloseCause {
    /// The cause in words, for log lines (`wschaos proxy`); events.jsonl keeps its own tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseCause::Finished => write!(f, "the client and the server both closed"),
            CloseCause::ClientError(io::ErrorKind::ConnectionReset) => {
                write!(f, "the client reset the connection")
            }
            CloseCause::ClientError(kind) => write!(f, "the client's side failed ({kind})"),
            CloseCause::ServerError(io::ErrorKind::ConnectionReset) => {
                write!(f, "the server reset the connection")
            }
            CloseCause::ServerError(kind) => write!(f, "the server's side failed ({kind})"),
            CloseCause::FaultReset(fault) => write!(f, "reset by {fault}"),
            CloseCause::FaultClosed(fault) => write!(f, "closed by {fault}"),
            CloseCause::UpstreamUnreachable(kind) => {
                write!(f, "the upstream could not be reached ({kind}), so the client was reset")
            }
            CloseCause::Hung(fault) => write!(f, "hung by {fault} until the client gave up"),
            CloseCause::HandshakeTimeout => write!(
                f,
                "the upgrade request was still incomplete after {} s",
                crate::wire::HANDSHAKE_TIMEOUT.as_secs()
            ),
            CloseCause::ClientTlsFailed(kind) => {
                write!(f, "the client's TLS handshake with the proxy failed ({kind})")
            }
            CloseCause::ServerTlsFailed(kind) => {
                write!(
                    f,
                    "the proxy's TLS handshake with the server failed ({kind}), so the client was reset"
                )
            }
        }
    }
}

/// Where the proxy sends its events.
#[derive(Clone, Debug)]
pub struct EventSink {
    sender: Option<mpsc::UnboundedSender<ProxyEvent>>,
}

impl EventSink {
    /// A sink and the receiver that reads it.
    pub fn channel() -> (EventSink, mpsc::UnboundedReceiver<ProxyEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (EventSink { sender: Some(sender) }, receiver)
    }

    /// A sink that drops everything.
    pub fn discard() -> EventSink {
        EventSink { sender: None }
    }

    /// Records an event that happened now.
    pub fn emit(&self, kind: EventKind) {
        if let Some(sender) = &self.sender {
            // A closed receiver means nobody is recording any more; the proxy carries on.
            let _ = sender.send(ProxyEvent { at: Instant::now(), kind });
        }
    }
}
