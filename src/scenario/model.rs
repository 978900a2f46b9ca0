//! The validated scenario: what every module outside scenario/ sees.
//!
//! Values here are typed and already checked against each other, so downstream code never has to
//! re-validate: durations are `Duration`, shares are fractions, client indices are in range, and a
//! fault has exactly one kind with a timeline that fits inside the run.

use std::time::Duration;

use super::slo::SloRule;
use super::strategy::Strategy;
use super::swarm::Swarm;
use crate::units::{Jittered, Rate};
pub use crate::ws::{Direction, FrameKind};

/// A validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name, safe to use as a folder name.
    pub name: String,
    /// What the scenario models.
    pub description: Option<String>,
    /// Default seed of every random choice.
    pub seed: u64,
    /// How long faults play.
    pub duration: Duration,
    /// After the heal at `duration`, how long clients have to converge.
    pub quiet_period: Duration,
    /// The engine the file asks for; the command line may override it.
    pub engine: Engine,
    /// The echo server.
    pub server: ServerConfig,
    /// The reference clients.
    pub clients: ClientsConfig,
    /// The strategy matrix; one entry when the file names a single strategy. Never empty.
    pub strategies: Vec<ClientStrategy>,
    /// The fault timeline, in file order.
    pub faults: Vec<FaultPlan>,
    /// Thresholds, sorted by metric name.
    pub slo: Vec<SloRule>,
    /// The `swarm:` ranges, which only `run --seeds` draws from.
    pub swarm: Option<Swarm>,
}

/// Which engine runs a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Real TCP on loopback, real time, multi-thread runtime.
    Live,
    /// In-memory network, paused virtual time, one seed.
    Sim,
}

impl Engine {
    /// The engine's name as scenarios, flags and reports write it: `live` or `sim`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Live => "live",
            Engine::Sim => "sim",
        }
    }
}

/// The echo server's settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerConfig {
    /// Server pings, if any.
    pub heartbeat: Option<ServerHeartbeat>,
    /// Time to answer an upgrade.
    pub handshake_latency: Jittered,
    /// New connections per second, if limited.
    pub accept_rate: Option<Rate>,
    /// Bearer token the upgrade must carry, if any.
    pub auth_token: Option<String>,
}

/// Server-side heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHeartbeat {
    /// Time between pings.
    pub ping_every: Duration,
    /// A peer silent this long after a ping is closed.
    pub timeout: Duration,
}

/// Settings shared by every client.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientsConfig {
    /// How many clients.
    pub count: u32,
    /// Connect times spread over this window.
    pub start_spread: Duration,
    /// The open-model workload, if any.
    pub workload: Option<Workload>,
    /// Delivery guarantee.
    pub delivery: Delivery,
    /// Outbox capacity in messages.
    pub outbox: u32,
    /// Close codes after which the client gives up.
    pub permanent_close_codes: Vec<CodeRange>,
    /// What a 1000/1001 close does.
    pub normal_close: NormalClose,
    /// The token the clients send, if any.
    pub auth_token: Option<String>,
}

/// One message stream per client.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// Messages per client.
    pub rate: Rate,
    /// Bytes per message, header included.
    pub size_bytes: u64,
}

/// Delivery guarantees across reconnects (DESIGN.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Send if open, else drop.
    AtMostOnce,
    /// Queue while offline, flush on reconnect.
    Buffered,
    /// Keep until echoed; resend after reconnect.
    AtLeastOnce,
    /// At-least-once plus deduplication.
    ExactlyOnce,
}

/// An inclusive range of close codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRange {
    /// First code.
    pub first: u16,
    /// Last code, inclusive.
    pub last: u16,
}

impl CodeRange {
    /// Whether `code` is in the range.
    pub fn contains(&self, code: u16) -> bool {
        (self.first..=self.last).contains(&code)
    }
}

/// The reaction to a normal close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalClose {
    /// Reconnect as after any break.
    Reconnect,
    /// Stop.
    GiveUp,
}

/// A strategy with the client settings resolved for it: the file's `clients:` values where
/// given, else the preset's, else wschaos's defaults. One per matrix entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientStrategy {
    /// The backoff and the preset behaviour.
    pub strategy: Strategy,
    /// The settings the clients run with under this strategy.
    pub settings: ClientSettings,
}

/// Per-strategy client settings: a preset carries its library's, and the file may override them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    /// Client pings, if any.
    pub heartbeat: Option<ClientHeartbeat>,
    /// No frame for this long means the connection is dead.
    pub read_timeout: Option<Duration>,
    /// Limit on TCP connect plus opening handshake.
    pub connect_timeout: Duration,
    /// Attempts before giving up; `None` is unlimited.
    pub max_attempts: Option<u32>,
    /// When the backoff starts over.
    pub backoff_reset: BackoffReset,
}

/// Client-side heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientHeartbeat {
    /// Time between pings.
    pub ping_every: Duration,
    /// A ping unanswered this long means a dead connection; `None` sends pings without checking.
    pub pong_timeout: Option<Duration>,
}

/// When the backoff attempt counter starts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackoffReset {
    /// When a handshake completes.
    OnOpen,
    /// When a connection has stayed open this long.
    AfterUptime(Duration),
    /// When the first echo arrives on a new connection.
    OnFirstEcho,
    /// Never: attempts add up over the whole run.
    Never,
}

/// One timeline entry: a fault kind, when it plays and what it hits.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// What the fault does.
    pub fault: Fault,
    /// When it plays.
    pub timeline: Timeline,
    /// Which links it hits.
    pub target: Target,
}

/// When a fault plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeline {
    /// Once, starting at `at`.
    Once {
        /// Start time from the beginning of the run.
        at: Duration,
        /// Length; `None` lasts until the heal (or is instant for `reset` and `close`).
        lasts: Option<Duration>,
    },
    /// Repeatedly.
    Every {
        /// Time between starts, with seeded jitter.
        period: Jittered,
        /// First start.
        from: Duration,
        /// No start after this.
        until: Duration,
        /// At most this many starts.
        times: Option<u32>,
        /// Length of each occurrence; `None` for instant faults.
        lasts: Option<Duration>,
    },
}

/// Which links a fault hits.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Which clients.
    pub clients: ClientSelector,
    /// Which of their links.
    pub links: Links,
}

/// Which clients a fault hits.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientSelector {
    /// Every client.
    All,
    /// This fraction of clients, drawn once from the seed.
    Share(f64),
    /// These indices, sorted and unique.
    Indices(Vec<u32>),
    /// Each link with this probability, drawn once per link.
    Probability(f64),
}

/// Which links of the selected clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Opened while the fault is active.
    New,
    /// Open when the fault starts.
    Existing,
    /// Both.
    All,
}

/// A fault kind with its parameters (DESIGN.md §4; docs/faults.md).
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
}

impl FaultKind {
    /// Every kind, in the order of DESIGN.md §4.
    pub const ALL: [FaultKind; 14] = [
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
        }
    }

    /// The kind a scenario names `name`.
    pub fn named(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether the fault acts once, at its start, and so cannot have a duration.
    pub fn is_instant(self) -> bool {
        matches!(self, FaultKind::Reset | FaultKind::Close | FaultKind::CloseFrame)
    }

    /// Whether the fault acts on new connections only (before or during their handshake).
    pub fn acts_on_new_connections(self) -> bool {
        matches!(
            self,
            FaultKind::Refuse
                | FaultKind::AcceptHang
                | FaultKind::HandshakeDelay
                | FaultKind::RejectHandshake
        )
    }

    /// Whether the fault acts before a connection has said which client it belongs to, so it
    /// can only pick links by chance, not by client.
    pub fn acts_before_identification(self) -> bool {
        matches!(self, FaultKind::Refuse | FaultKind::AcceptHang)
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
        }
    }

    /// The fault's name as the scenario writes it.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}
