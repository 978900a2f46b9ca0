//! The raw `server:` section (the echo server's heartbeat, handshake latency, accept rate and
//! bearer token, or the user's own server) and the `proxy:` section in front of it.

use schemars::JsonSchema;
use serde::Deserialize;

use std::collections::BTreeMap;

use super::clients::StopSpec;
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
    /// Your own server program instead of the echo server, as argv (no shell), run in the
    /// scenario file's folder; `{port}` is the port it must listen on. Live engine only.
    pub command: Option<Vec<String>>,
    /// With `command`: the port it listens on on 127.0.0.1; 0 (the default) lets wschaos pick
    /// a free one.
    pub port: Option<u16>,
    /// A server that already runs, `HOST:PORT` on loopback or a private test address, instead
    /// of the echo server. Live engine only.
    pub upstream: Option<String>,
    /// With `command`: how long it gets to accept connections on its port. Default 10s.
    pub ready_timeout: Option<DurationText>,
    /// With `command`: how it is stopped after each strategy. Default SIGTERM, 5s, SIGKILL.
    pub stop: Option<StopSpec>,
    /// With `command`: extra environment variables.
    pub env: Option<BTreeMap<String, String>>,
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

/// The fault proxy.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxySpec {
    /// Remove the permessage-deflate offer from every upgrade request, so the server never
    /// compresses and `drop_frames` can drop data frames. Without it, data messages of a stream
    /// compressed with context takeover are never dropped (that would corrupt the rest of the
    /// stream): the fault is reported as not applied. Default false.
    pub strip_deflate: Option<bool>,
}
