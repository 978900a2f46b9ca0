//! The raw `server:` section (the echo server's heartbeat, handshake latency, accept rate and
//! bearer token or signed handshakes, or the user's own server) and the `proxy:` section in front of it.

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
    /// How long a connection gets to complete its upgrade before the server closes it (a
    /// half-sent request, a slowloris). Default 10s; longer than the slowest handshake_latency.
    pub handshake_timeout: Option<DurationText>,
    /// permessage-deflate for clients that offer it: `on` (the default, as real servers and
    /// every browser do) or `off`.
    pub deflate: Option<String>,
    /// New connections per second the server accepts (a token bucket).
    pub accept_rate: Option<RateText>,
    /// Require `Authorization: Bearer <token>` (`{ token }`) or a signed URL (`{ hmac }`) on
    /// the upgrade.
    pub auth: Option<ServerAuthSpec>,
    /// Connections that may wait to be served; one arriving when that many wait is dropped
    /// as a kernel drops a SYN when its queue is full, and comes back on the client's SYN
    /// retransmit schedule (1 s, 3 s, 7 s … after its first try). Default: unbounded.
    pub backlog: Option<u32>,
    /// Upgrades the server works on at once, and what each costs.
    pub handshakes: Option<HandshakesSpec>,
    /// Load shedding: past a queue depth, new connections are answered at once with an HTTP
    /// error or a Close frame instead of waiting.
    pub overload: Option<OverloadSpec>,
    /// Read-then-write contention, as in the AWS backoff simulator: an upgrade succeeds only
    /// if no other upgrade completed while it was in service; otherwise it is answered 503.
    /// Needs `handshakes.service_time`. Default false.
    pub contention: Option<bool>,
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
    /// Speak TLS (`wss://`) with a certificate made for the run (a CA and a leaf for
    /// 127.0.0.1, localhost and *.wschaos.test); the reference clients trust exactly that CA.
    /// Default false.
    pub tls: Option<bool>,
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

/// The server's upgrade capacity.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakesSpec {
    /// Upgrades in progress at once; the rest wait in the backlog. Default: unlimited.
    pub concurrent: Option<u32>,
    /// What one upgrade costs from its request's arrival to its answer, `D` or `D ± J`,
    /// seeded per upgrade.
    pub service_time: JitteredText,
    /// How `service_time` spreads: `uniform` (default) or `normal` (`±` is the standard
    /// deviation; a draw is `|N(D, J)|`).
    pub distribution: Option<String>,
}

/// Load shedding.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverloadSpec {
    /// Shed new connections while more than this many wait; at most `backlog`.
    pub above: u32,
    /// Answer shed upgrades with this HTTP status, 503 or 429. Default 503 unless `close`.
    pub answer: Option<u16>,
    /// With `answer`: the `Retry-After` sent, in whole seconds.
    pub retry_after: Option<DurationText>,
    /// Complete shed upgrades, then close them at once with this code (1013, try again later).
    pub close: Option<u16>,
}

/// A bearer token.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// The token; sent as `Authorization: Bearer <token>`.
    pub token: String,
}

/// The server's authentication: exactly one of `token` and `hmac`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerAuthSpec {
    /// A bearer token; sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Signed handshakes: the client signs the time, its index and session with HMAC-SHA256
    /// in the upgrade URL's query (docs/echo-server.md, "Signed handshakes").
    pub hmac: Option<HmacSpec>,
}

/// Signed handshakes.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacSpec {
    /// The shared secret, at least 16 bytes. Never written to any report or log.
    pub secret: String,
    /// A signature older than this is refused (401). Default 30s.
    pub max_age: Option<DurationText>,
    /// A signature up to this far ahead of the server's clock is accepted. Default 2s.
    pub clock_skew: Option<DurationText>,
}

impl std::fmt::Debug for HmacSpec {
    /// Without the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacSpec")
            .field("secret", &"<redacted>")
            .field("max_age", &self.max_age)
            .field("clock_skew", &self.clock_skew)
            .finish()
    }
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
    /// With `server.tls`: `passthrough` (the default) forwards the encrypted bytes, so link
    /// faults act on them and clients are told apart by the server name they send;
    /// `terminate` decrypts at the proxy with the run's certificate and encrypts again toward
    /// the server, so frame faults and `strip_deflate` work on wss:// (two TLS handshakes per
    /// link, and TLS is no longer end to end).
    pub tls: Option<String>,
}
