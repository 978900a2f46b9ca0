//! Faults: pure decisions about what happens to a link's bytes. One file per fault kind.
//!
//! A fault never touches a socket. The proxy's link (the only code doing socket I/O) asks the
//! link's [`Flow`](crate::proxy::flow::Flow), which asks each active fault, and then carries out
//! the answer: forward a piece now or at a deadline, hold the direction, drop a chunk, close or
//! reset the link, or refuse or hang a new connection. Frame faults (`drop_frames`,
//! `close_frame`, `reject_handshake`) decide on what the frame observer reads: whole frames,
//! the upgrade request; the link's frame stage carries that out.
//!
//! # The fault contract
//!
//! Every [`LinkFault`] keeps these promises; `proxy/contract.rs` checks them against every kind.
//!
//! 1. **Order and no loss.** Bytes leave in the order they arrived, and none are lost unless
//!    losing them is the fault's purpose (`blackhole`, and `limit`, `close`, `reset` which end
//!    the link). Splitting and retiming are fine; reordering never is.
//! 2. **Every wait can be cancelled.** A fault expresses waiting only as a deadline on a piece
//!    ([`Piece::not_before`]) or as [`Gate::Hold`]; it never sleeps. The link waits with a
//!    timer inside a `select!` that also listens for control messages, so stopping a fault or
//!    closing the link is never stuck behind a wait. Deadlines are finite.
//! 3. **Ending restores normal flow.** When a fault ends, held bytes are released in order and
//!    later chunks pass unchanged. The one exception is a link that `blackhole` swallowed bytes
//!    from: forwarding later bytes after a gap would corrupt the stream, so that link stays dead.
//!
//! # How to add a fault
//!
//! Add a file with a struct implementing [`LinkFault`] (override only the hooks it needs),
//! build it in [`build`], add its kind to `scenario::FaultKind`, and give `proxy/contract.rs`'s
//! `example` an entry for it (its exhaustive match will not compile until you do). A timing test
//! on the sim network goes to tests/suite/faults.rs.

mod accept_hang;
mod bandwidth;
mod blackhole;
mod close;
mod close_frame;
mod drop_frames;
mod handshake_delay;
mod latency;
mod limit;
mod refuse;
mod reject_handshake;
mod reset;
mod revoke_credentials;
mod slice;
mod stall;
mod tls_bad_certificate;

use std::fmt;

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use crate::scenario::Fault;
use crate::ws::Way;
use crate::ws::{Frame, Head};

pub use accept_hang::AcceptHang;
pub use bandwidth::Bandwidth;
pub use blackhole::Blackhole;
pub use close::Close;
pub use close_frame::CloseFrame;
pub use drop_frames::DropFrames;
pub use handshake_delay::HandshakeDelay;
pub use latency::Latency;
pub use limit::Limit;
pub use refuse::Refuse;
pub use reject_handshake::RejectHandshake;
pub use reset::Reset;
pub use revoke_credentials::RevokeCredentials;
pub use slice::Slice;
pub use stall::Stall;
pub use tls_bad_certificate::TlsBadCertificate;

/// One occurrence of a fault: its entry in the scenario's `faults:` list and, for a repeating
/// fault, which repetition (from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaultId {
    /// Index in `faults:`.
    pub plan: u64,
    /// Repetition, from 0.
    pub occurrence: u64,
}

impl fmt::Display for FaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "faults[{}]#{}", self.plan, self.occurrence)
    }
}

/// Bytes on their way through the proxy, with the earliest time they may leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The bytes.
    pub bytes: Bytes,
    /// They are written no earlier than this.
    pub not_before: Instant,
}

/// What a fault does with a piece.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Pass these pieces on (to the next fault, then to the socket), in this order.
    Forward(Vec<Piece>),
    /// Lose the piece.
    Drop,
    /// Pass these pieces on, then close the link gracefully.
    CloseAfter(Vec<Piece>),
}

/// Whether a way may move bytes at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Bytes flow.
    Open,
    /// Nothing is read or written on this way; bytes wait in the buffers, in order, and move
    /// again when the gate opens. Like a real stalled network, the sender eventually blocks.
    Hold,
    /// Bytes are read and lose their way, and so does the end of the stream: a FIN does not
    /// cross, as on a dead path.
    Swallow,
}

/// What a fault does to a link the moment it starts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkAction {
    /// Nothing yet; the fault acts on bytes.
    Nothing,
    /// Abort both sides now (RST), even if the link is idle.
    Reset,
    /// Close both sides gracefully now (FIN).
    Close,
    /// Send these bytes (a WebSocket Close frame) to the client at the next frame boundary of
    /// the downstream, then close both sides.
    SendClose(Bytes),
}

/// A frame fault's verdict on a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameVerdict {
    /// The frame goes on.
    Keep,
    /// The frame vanishes whole, header and payload (and, for the first frame of a fragmented
    /// message, the message's continuations with it), so the framing stays valid.
    Drop,
}

/// What happens to a connection arriving at the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Proxy it.
    Accept,
    /// Refuse it, as a server that is down.
    Refuse,
    /// Accept it and never answer or forward anything.
    Hang,
    /// Answer its TLS handshake with a certificate that fails this way, and forward nothing.
    Impersonate(crate::tls::BadCertificate),
}

/// What happens to a fault's state on a link when the fault ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The fault leaves the link, which flows normally again.
    Remove,
    /// The link stays as the fault left it (a blackholed link that lost bytes).
    KeepOnLink,
}

/// A fault acting on one link (or, for admission faults, on arriving connections).
///
/// Every hook has a neutral default, so a fault overrides only what it changes. See the module
/// documentation for the contract every implementation keeps.
pub trait LinkFault: fmt::Debug + Send + Sync {
    /// The kind's name, for events.
    fn name(&self) -> &'static str;

    /// Called once when the fault starts on a link.
    fn on_start(&mut self, _now: Instant) -> LinkAction {
        LinkAction::Nothing
    }

    /// Whether `way` may move bytes while the fault is active.
    fn gate(&self, _way: Way) -> Gate {
        Gate::Open
    }

    /// The fate of a piece that arrived on `way` at `now`.
    fn on_piece(&mut self, _now: Instant, _way: Way, piece: Piece) -> Step {
        Step::Forward(vec![piece])
    }

    /// Whether a connection arriving now is proxied.
    fn admit(&mut self) -> Admission {
        Admission::Accept
    }

    /// Called when the fault ends on a link.
    fn on_end(&mut self) -> Ending {
        Ending::Remove
    }

    /// Whether the fault needs the frame observer to follow `way`: frame faults do, and are
    /// reported as not applied on a link whose ways they need cannot be followed (TLS, say).
    fn needs_observer(&self, _way: Way) -> bool {
        false
    }

    /// The fate of a frame on `way`: a control frame, or the first frame of a data message
    /// (its continuations share it). Asked only of faults that need the observer on `way`.
    fn on_frame(&mut self, _way: Way, _frame: &Frame) -> FrameVerdict {
        FrameVerdict::Keep
    }

    /// Whether the link must hold the client's upgrade request until [`LinkFault::on_request`]
    /// has seen all of it.
    fn holds_request(&self) -> bool {
        false
    }

    /// An answer to send the client instead of forwarding its upgrade request, after which the
    /// link closes; `None` lets the request through.
    fn on_request(&mut self, _head: &Head) -> Option<Bytes> {
        None
    }
}

/// Builds the fault's per-link state; `rng` is the generator of this fault on this link.
///
pub fn build(fault: &Fault, rng: ChaCha8Rng) -> Box<dyn LinkFault> {
    match fault {
        Fault::Reset => Box::new(Reset),
        Fault::Close => Box::new(Close),
        Fault::Stall { direction } => Box::new(Stall::new(*direction)),
        Fault::Blackhole { direction } => Box::new(Blackhole::new(*direction)),
        Fault::Latency { delay, jitter, spread, direction } => {
            Box::new(Latency::new(*delay, *jitter, *spread, *direction, rng))
        }
        Fault::Bandwidth { bytes_per_second, direction } => {
            Box::new(Bandwidth::new(*bytes_per_second, *direction))
        }
        Fault::Slice { size_bytes, delay, direction } => {
            Box::new(Slice::new(*size_bytes, *delay, *direction))
        }
        Fault::Limit { bytes, direction } => Box::new(Limit::new(*bytes, *direction)),
        Fault::Refuse => Box::new(Refuse),
        Fault::AcceptHang => Box::new(AcceptHang),
        Fault::HandshakeDelay { delay } => Box::new(HandshakeDelay::new(*delay, rng)),
        Fault::DropFrames { kinds, direction, probability } => {
            Box::new(DropFrames::new(kinds.clone(), *direction, *probability, rng))
        }
        Fault::CloseFrame { code, reason } => Box::new(CloseFrame::new(*code, reason)),
        Fault::RejectHandshake { status, retry_after } => {
            Box::new(RejectHandshake::new(*status, *retry_after))
        }
        Fault::RevokeCredentials { .. } => Box::new(RevokeCredentials),
        Fault::TlsBadCertificate { kind } => Box::new(TlsBadCertificate::new(*kind)),
    }
}
