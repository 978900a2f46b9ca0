//! The clients' validated settings: those shared by every client (count, workload, delivery,
//! close codes, token) and those resolved per strategy (heartbeat, timeouts, give-up and reset
//! rule).

use std::time::Duration;

use crate::scenario::strategy::Strategy;
use crate::units::Rate;

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
    /// Whether the clients sign their upgrades (the server asks for signatures and
    /// `clients.auth` is not `none`).
    pub sign: bool,
    /// What a 401 answer to an upgrade does.
    pub on_unauthorized: OnUnauthorized,
}

/// The reaction to an upgrade answered 401 (`clients.on_unauthorized`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnUnauthorized {
    /// Give up: the credentials will not get better by themselves.
    #[default]
    Stop,
    /// Back off and try again with the same credentials.
    Retry,
    /// Back off, re-read the server's current credentials (a token-refresh call), and sign
    /// the next attempt with them.
    Refresh,
}

/// One message stream per client.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// Messages per client.
    pub rate: Rate,
    /// Bytes per message, header included.
    pub size_bytes: u64,
}

/// Delivery guarantees across reconnects (docs/reference-client.md, "Delivery modes").
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
