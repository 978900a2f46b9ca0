//! The echo server's validated settings (heartbeat, handshake latency, accept rate and token)
//! and the proxy's.

use std::time::Duration;

use crate::units::{Jittered, Rate};

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

/// How the fault proxy treats the traffic it forwards, beyond the faults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Upgrade requests go on without their permessage-deflate offer.
    pub strip_deflate: bool,
}
