//! The raw `clients:` section: how many clients, their workload, heartbeat, timeouts, delivery
//! guarantee and close-code rules, and the inline backoff strategy that `clients.strategy` and
//! the `strategies:` matrix both accept.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::server::AuthSpec;
use super::values::{CodeRangeText, CountText, DurationText, RateText, SizeText, WordOr};

/// The reference clients.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientsSpec {
    /// How many clients connect.
    pub count: u32,
    /// Connect times are spread evenly over this window. Default 0s.
    pub start_spread: Option<DurationText>,
    /// Messages each client sends; leave out for heartbeats only.
    pub workload: Option<WorkloadSpec>,
    /// A preset name, a bare kind (`immediate`) or an inline strategy. Default `aws-full-jitter`.
    pub strategy: Option<WordOr<InlineStrategySpec>>,
    /// Client pings with a pong deadline, or `off`. Overrides the preset's heartbeat.
    pub heartbeat: Option<WordOr<ClientHeartbeatSpec>>,
    /// Declare a connection dead when no frame at all arrived for this long, or `off`.
    pub read_timeout: Option<String>,
    /// Limit on the TCP connect plus the opening handshake.
    pub connect_timeout: Option<DurationText>,
    /// Reconnect attempts before giving up, or `unlimited`.
    pub max_attempts: Option<CountText>,
    /// When the backoff starts over: `on_open`, `after_uptime D`, `on_first_echo` or `never`.
    pub backoff_reset: Option<String>,
    /// `at_most_once`, `buffered`, `at_least_once` or `exactly_once`. Default at_least_once.
    pub delivery: Option<DeliverySpec>,
    /// Messages the outbox holds while offline or unacknowledged; overflow is recorded as loss.
    /// Default 10000.
    pub outbox: Option<u32>,
    /// What close codes mean to the client.
    pub close_codes: Option<CloseCodesSpec>,
    /// `server` (send the server's token, or sign with its secret; the default), `none`, or
    /// `{ token: … }`.
    pub auth: Option<WordOr<AuthSpec>>,
    /// What a client does when its upgrade is answered 401: `stop` (give up, the default),
    /// `retry` (keep backing off with the same credentials) or `refresh` (re-read the server's
    /// current secret, as a token-refresh call would, and sign with it at the next attempt).
    pub on_unauthorized: Option<String>,
    /// Your own client program instead of the reference client, as argv (no shell), run in the
    /// scenario file's folder: `["python3", "client.py", "{url}"]`. Placeholders `{url}`,
    /// `{index}`, `{count}`, `{seed}`. Live engine only.
    pub command: Option<Vec<String>>,
    /// With `command`: how the proxy tells clients apart: `port` (each its own listener, the
    /// default), `query` (`?wschaos_client=N` in the URL) or `header` (`x-wschaos-client: N`).
    pub identity: Option<IdentitySpec>,
    /// With `command`: `none` (the default: measure at the proxy) or `stdout` (the program
    /// reports events as JSON lines, docs/client-protocol.md).
    pub events: Option<EventsSpec>,
    /// With `command`: how long each client gets to be ready (its `ready` event with
    /// `events: stdout`, else its first connection). Default 10s.
    pub ready_timeout: Option<DurationText>,
    /// With `command`: how the programs are stopped at the end. Default SIGTERM, 5s grace,
    /// then SIGKILL.
    pub stop: Option<StopSpec>,
    /// With `command`: extra environment variables.
    pub env: Option<BTreeMap<String, String>>,
    /// With `command`: a client may exit before the end without failing. Default false.
    pub allow_exit: Option<bool>,
}

/// How the proxy tells a program's clients apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySpec {
    /// Each client connects to a proxy listener of its own.
    Port,
    /// The URL carries `?wschaos_client=N`.
    Query,
    /// The client sends `x-wschaos-client: N`.
    Header,
}

/// Where a program's events come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventsSpec {
    /// Nowhere: measured at the proxy.
    None,
    /// JSON lines on the program's stdout.
    Stdout,
}

/// How a program is stopped.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopSpec {
    /// The signal sent first: `SIGTERM` (default), `SIGINT`, `SIGHUP`, `SIGQUIT`, `SIGUSR1`,
    /// `SIGUSR2` or `SIGKILL`.
    pub signal: Option<String>,
    /// How long the program gets to exit before SIGKILL. Default 5s.
    pub grace: Option<DurationText>,
}

/// The open-model workload of each client.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Messages per client per unit of time.
    pub rate: RateText,
    /// Size of each message, header included. Default 64B.
    pub size: Option<SizeText>,
}

/// The client's ping heartbeat.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientHeartbeatSpec {
    /// Time between client pings.
    pub ping_every: DurationText,
    /// A ping unanswered for this long means the connection is dead. Leave out to send pings
    /// without checking the answers (the background article's client).
    pub pong_timeout: Option<DurationText>,
}

/// What close codes mean to the client.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCodesSpec {
    /// Codes after which the client gives up for good. Default `[1008]`.
    pub permanent: Option<Vec<CodeRangeText>>,
    /// What 1000 and 1001 do: `reconnect` (default) or `give_up`.
    pub normal: Option<NormalCloseSpec>,
}

/// The reaction to a normal close (1000, 1001).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NormalCloseSpec {
    /// Reconnect as after any other break.
    Reconnect,
    /// Stop: the server asked politely.
    GiveUp,
}

/// Delivery guarantees across reconnects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliverySpec {
    /// Send if open, else drop.
    AtMostOnce,
    /// Queue while offline, flush on reconnect; in-flight messages can be lost.
    Buffered,
    /// Keep every message until its echo arrives; resend after reconnect.
    AtLeastOnce,
    /// At-least-once plus deduplication by (client, seq).
    ExactlyOnce,
}

/// An inline backoff strategy. Which parameters apply depends on `kind`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineStrategySpec {
    /// Name shown in reports; needed to tell matrix entries apart. Default: the kind.
    pub name: Option<String>,
    /// `immediate`, `fixed`, `table`, `linear`, `exponential`, `exponential_jitter`,
    /// `full_jitter`, `equal_jitter` or `decorrelated_jitter`. Required, except beside `command`.
    pub kind: Option<String>,
    /// With `clients.command`: this entry's own command, so two builds or configurations of
    /// your client are compared side by side (`{ name, command }`).
    pub command: Option<Vec<String>>,
    /// `fixed`: the delay between attempts.
    pub delay: Option<DurationText>,
    /// `table`: the delay before attempt 1, 2, ….
    pub delays: Option<Vec<DurationText>>,
    /// `table`: after the table, a delay to repeat, or `give_up`. Default: repeat the last delay.
    pub then: Option<String>,
    /// `linear`: attempt n waits n × step.
    pub step: Option<DurationText>,
    /// Exponential kinds: the first delay (`exponential*`) or the AWS base (`*_jitter`).
    pub base: Option<DurationText>,
    /// `exponential*`: growth per attempt, above 1. Default 2.
    pub factor: Option<f64>,
    /// The largest delay.
    pub cap: Option<DurationText>,
    /// `exponential_jitter`: ± share of the delay, as a fraction in [0, 1). Default 0.5.
    pub randomization: Option<f64>,
    /// With `server.auth.hmac`: sign the upgrade URL once, at the first attempt, and reuse it
    /// on every later attempt (a client that caches its signed URL). Default false.
    pub reuse_signed_url: Option<bool>,
}
