//! The echo server's validated settings (heartbeat, handshake latency, accept rate, token,
//! handshake timeout, deflate and capacity: backlog, handshake slots, shedding, contention) and
//! the proxy's.

use std::time::Duration;

use crate::units::{Jittered, Rate, Spread};
use crate::wire::signature::{Secret, Window};

/// The echo server's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    /// Server pings, if any.
    pub heartbeat: Option<ServerHeartbeat>,
    /// Time to answer an upgrade.
    pub handshake_latency: Jittered,
    /// New connections per second, if limited.
    pub accept_rate: Option<Rate>,
    /// Bearer token the upgrade must carry, if any.
    pub auth_token: Option<String>,
    /// Signed handshakes, if required (never with `auth_token`).
    pub hmac: Option<HmacAuth>,
    /// Backlog, handshake slots, shedding and contention; none by default.
    pub capacity: Capacity,
    /// How long a connection may take, from when it is served, to complete its upgrade; one
    /// that has not (a half-sent request, a slowloris) is closed.
    pub handshake_timeout: Duration,
    /// Whether the server accepts permessage-deflate when a client offers it.
    pub deflate: bool,
    /// Whether the server speaks TLS (`wss://`) with the run's certificate.
    pub tls: bool,
}

impl Default for ServerConfig {
    /// No heartbeat, no latency, no accept rate, no token, the default handshake timeout,
    /// permessage-deflate accepted.
    fn default() -> ServerConfig {
        ServerConfig {
            heartbeat: None,
            handshake_latency: Jittered::default(),
            accept_rate: None,
            auth_token: None,
            hmac: None,
            handshake_timeout: super::super::defaults::HANDSHAKE_TIMEOUT,
            deflate: true,
            capacity: Capacity::default(),
            tls: false,
        }
    }
}

/// Signed handshakes (docs/echo-server.md, "Signed handshakes").
#[derive(Clone, Debug, PartialEq)]
pub struct HmacAuth {
    /// The secret the server starts with; its `Debug` is redacted.
    pub secret: Secret,
    /// How old and how far ahead a signature may be.
    pub window: Window,
}

/// How much load the server takes before it suffers (docs/echo-server.md, "Capacity").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Capacity {
    /// Connections that may wait to be served; `None` for no limit.
    pub backlog: Option<u32>,
    /// Upgrades in progress at once; `None` for no limit.
    pub concurrent: Option<u32>,
    /// What one upgrade costs, from its request's arrival to its answer; zero for nothing.
    pub service_time: Jittered,
    /// How the service time spreads.
    pub service_spread: Spread,
    /// Load shedding past a queue depth, if any.
    pub overload: Option<Overload>,
    /// An upgrade succeeds only if no other completed during its service time.
    pub contention: bool,
}

impl Capacity {
    /// Whether any rule is set, so the server runs its admission at all.
    pub fn is_set(&self) -> bool {
        self.backlog.is_some()
            || self.concurrent.is_some()
            || !self.service_time.base.is_zero()
            || self.overload.is_some()
            || self.contention
    }
}

/// Load shedding: past `above` waiting connections, new ones are answered at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overload {
    /// Shed while more than this many connections wait.
    pub above: u32,
    /// How they are answered.
    pub answer: Shed,
}

/// How a shed connection is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shed {
    /// An HTTP error to the upgrade, with `Retry-After` if set.
    Status {
        /// 503 or 429.
        code: u16,
        /// The `Retry-After` sent, whole seconds.
        retry_after: Option<Duration>,
    },
    /// The upgrade completes and the connection is closed at once with this code.
    Close(u16),
}

/// Server-side heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHeartbeat {
    /// Time between pings.
    pub ping_every: Duration,
    /// A peer silent this long after a ping is closed.
    pub timeout: Duration,
}

/// How the fault proxy treats the traffic it forwards, beyond the faults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Upgrade requests go on without their permessage-deflate offer.
    pub strip_deflate: bool,
    /// What the proxy does with TLS when the server speaks it (`server.tls`).
    pub tls: ProxyTls,
}

/// How the proxy treats a `wss://` link (docs/tls.md, "What the proxy can do to TLS").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProxyTls {
    /// Forward the encrypted bytes: link faults act on them, frame faults cannot.
    #[default]
    Passthrough,
    /// Decrypt at the proxy with the run's certificate and encrypt again toward the server, so
    /// the frame observer, frame faults and `strip_deflate` work on the plaintext.
    Terminate,
}
