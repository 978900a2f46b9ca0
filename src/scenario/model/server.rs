//! The echo server's validated settings: heartbeat, handshake latency, accept rate and token.

use std::time::Duration;

use crate::units::{Jittered, Rate};

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
    /// How long a connection may take, from when it is served, to complete its upgrade; one
    /// that has not (a half-sent request, a slowloris) is closed.
    pub handshake_timeout: Duration,
    /// Whether the server accepts permessage-deflate when a client offers it.
    pub deflate: bool,
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
            handshake_timeout: super::super::defaults::HANDSHAKE_TIMEOUT,
            deflate: true,
        }
    }
}

/// Server-side heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHeartbeat {
    /// Time between pings.
    pub ping_every: Duration,
    /// A peer silent this long after a ping is closed.
    pub timeout: Duration,
}
