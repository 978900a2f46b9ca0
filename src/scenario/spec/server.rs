//! The raw `server:` section: the echo server's heartbeat, handshake latency, accept rate and
//! bearer token.

use schemars::JsonSchema;
use serde::Deserialize;

use super::values::{DurationText, JitteredText, RateText, WordOr};

/// The echo server.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Server-side pings; a peer silent for `timeout` after a ping is closed.
    pub heartbeat: Option<WordOr<ServerHeartbeatSpec>>,
    /// Time the server takes to answer an upgrade, `D` or `D ± J`.
    pub handshake_latency: Option<JitteredText>,
    /// New connections per second the server accepts (a token bucket).
    pub accept_rate: Option<RateText>,
    /// Require `Authorization: Bearer <token>` on the upgrade.
    pub auth: Option<AuthSpec>,
}

/// The server's heartbeat.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerHeartbeatSpec {
    /// Time between server pings.
    pub ping_every: DurationText,
    /// How long after a ping a silent peer is closed.
    pub timeout: DurationText,
}

/// A bearer token.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// The token; sent as `Authorization: Bearer <token>`.
    pub token: String,
}
