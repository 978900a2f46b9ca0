//! The fault kinds with their validated parameters ([`Fault`]), and the kinds alone
//! ([`FaultKind`]) with the rules that depend on the kind only.

use std::time::Duration;

use crate::tls::BadCertificate;
use crate::units::{Jittered, Spread};
use crate::wire::signature::Secret;
use crate::ws::{Direction, FrameKind};

/// A fault kind with its parameters (docs/faults.md).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Abort links (RST).
    Reset,
    /// Graceful close (FIN) both ways.
    Close,
    /// Hold bytes; release in order when the fault ends.
    Stall {
        /// Which ways are held.
        direction: Direction,
    },
    /// Drop bytes forever.
    Blackhole {
        /// Which ways lose their bytes.
        direction: Direction,
    },
    /// Delay every chunk.
    Latency {
        /// The delay of each chunk, counted from its arrival.
        delay: Duration,
        /// Each chunk's delay is drawn from `delay ± jitter`.
        jitter: Duration,
        /// How the draw spreads: uniform, or normal with `jitter` as standard deviation.
        spread: Spread,
        /// Which ways are delayed.
        direction: Direction,
    },
    /// Throttle to a byte rate.
    Bandwidth {
        /// The rate bytes may cross at.
        bytes_per_second: f64,
        /// Which ways are throttled.
        direction: Direction,
    },
    /// Split writes into pieces.
    Slice {
        /// Bytes per piece.
        size_bytes: u64,
        /// Time between pieces.
        delay: Duration,
        /// Which ways are sliced.
        direction: Direction,
    },
    /// Close after N bytes.
    Limit {
        /// Bytes delivered before the link closes, over the ways it covers together.
        bytes: u64,
        /// Which ways count.
        direction: Direction,
    },
    /// Refuse new connections.
    Refuse,
    /// Accept new connections and never answer.
    AcceptHang,
    /// Delay the handshake response.
    HandshakeDelay {
        /// How long the first downstream bytes wait, drawn per link.
        delay: Jittered,
    },
    /// Drop whole frames.
    DropFrames {
        /// The frame kinds that vanish.
        kinds: Vec<FrameKind>,
        /// Which ways lose them.
        direction: Direction,
        /// The chance each frame (each data message) is dropped.
        probability: f64,
    },
    /// Send a Close frame to the client and close upstream.
    CloseFrame {
        /// The Close frame's status code.
        code: u16,
        /// Its reason text.
        reason: String,
    },
    /// Answer upgrades with an HTTP error.
    RejectHandshake {
        /// The HTTP status of the answer.
        status: u16,
        /// The `Retry-After` it carries, if any.
        retry_after: Option<Duration>,
    },
    /// Answer new TLS handshakes with a certificate that fails verification.
    TlsBadCertificate {
        /// How it fails.
        kind: BadCertificate,
    },
    /// The echo server stops accepting signatures made with its current secret.
    RevokeCredentials {
        /// The secret it accepts from then on, if any; its `Debug` is redacted.
        rotate_to: Option<Secret>,
    },
}

/// A fault kind without its parameters: what the timeline and targeting rules depend on.
/// Each variant is the [`Fault`] of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "each variant names the Fault variant that documents it")]
pub enum FaultKind {
    Reset,
    Close,
    Stall,
    Blackhole,
    Latency,
    Bandwidth,
    Slice,
    Limit,
    Refuse,
    AcceptHang,
    HandshakeDelay,
    DropFrames,
    CloseFrame,
    RejectHandshake,
    TlsBadCertificate,
    RevokeCredentials,
}

impl FaultKind {
    /// Every kind, in the order README.md lists them: the link faults, the frame faults, then
    /// the server's.
    pub const ALL: [FaultKind; 16] = [
        FaultKind::Reset,
        FaultKind::Close,
        FaultKind::Stall,
        FaultKind::Blackhole,
        FaultKind::Latency,
        FaultKind::Bandwidth,
        FaultKind::Slice,
        FaultKind::Limit,
        FaultKind::Refuse,
        FaultKind::AcceptHang,
        FaultKind::HandshakeDelay,
        FaultKind::DropFrames,
        FaultKind::CloseFrame,
        FaultKind::RejectHandshake,
        FaultKind::TlsBadCertificate,
        FaultKind::RevokeCredentials,
    ];

    /// The kind's name as the scenario writes it.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Reset => "reset",
            FaultKind::Close => "close",
            FaultKind::Stall => "stall",
            FaultKind::Blackhole => "blackhole",
            FaultKind::Latency => "latency",
            FaultKind::Bandwidth => "bandwidth",
            FaultKind::Slice => "slice",
            FaultKind::Limit => "limit",
            FaultKind::Refuse => "refuse",
            FaultKind::AcceptHang => "accept_hang",
            FaultKind::HandshakeDelay => "handshake_delay",
            FaultKind::DropFrames => "drop_frames",
            FaultKind::CloseFrame => "close_frame",
            FaultKind::RejectHandshake => "reject_handshake",
            FaultKind::TlsBadCertificate => "tls_bad_certificate",
            FaultKind::RevokeCredentials => "revoke_credentials",
        }
    }

    /// The kind a scenario names `name`.
    pub fn named(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether the fault acts once, at its start, and so cannot have a duration.
    pub fn is_instant(self) -> bool {
        matches!(
            self,
            FaultKind::Reset | FaultKind::Close | FaultKind::CloseFrame | FaultKind::RevokeCredentials
        )
    }

    /// Whether the fault acts on the echo server rather than on links, so it has no target.
    pub fn acts_on_server(self) -> bool {
        self == FaultKind::RevokeCredentials
    }

    /// Whether the fault acts on new connections only (before or during their handshake).
    pub fn acts_on_new_connections(self) -> bool {
        matches!(
            self,
            FaultKind::Refuse
                | FaultKind::AcceptHang
                | FaultKind::HandshakeDelay
                | FaultKind::RejectHandshake
                | FaultKind::TlsBadCertificate
        )
    }

    /// Whether the fault acts before a connection has said which client it belongs to, so it
    /// can only pick links by chance, not by client.
    pub fn acts_before_identification(self) -> bool {
        matches!(self, FaultKind::Refuse | FaultKind::AcceptHang | FaultKind::TlsBadCertificate)
    }
}

impl Fault {
    /// The fault's kind.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Reset => FaultKind::Reset,
            Fault::Close => FaultKind::Close,
            Fault::Stall { .. } => FaultKind::Stall,
            Fault::Blackhole { .. } => FaultKind::Blackhole,
            Fault::Latency { .. } => FaultKind::Latency,
            Fault::Bandwidth { .. } => FaultKind::Bandwidth,
            Fault::Slice { .. } => FaultKind::Slice,
            Fault::Limit { .. } => FaultKind::Limit,
            Fault::Refuse => FaultKind::Refuse,
            Fault::AcceptHang => FaultKind::AcceptHang,
            Fault::HandshakeDelay { .. } => FaultKind::HandshakeDelay,
            Fault::DropFrames { .. } => FaultKind::DropFrames,
            Fault::CloseFrame { .. } => FaultKind::CloseFrame,
            Fault::RejectHandshake { .. } => FaultKind::RejectHandshake,
            Fault::TlsBadCertificate { .. } => FaultKind::TlsBadCertificate,
            Fault::RevokeCredentials { .. } => FaultKind::RevokeCredentials,
        }
    }

    /// The fault's name as the scenario writes it.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}
