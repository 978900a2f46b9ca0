//! The raw scenario file, exactly as serde reads it from YAML, and the source of the JSON Schema.
//!
//! Every struct denies unknown keys. Nothing here uses `#[serde(flatten)]`, which would silently
//! turn `deny_unknown_fields` off: a fault is one flat struct with an optional field per fault
//! kind, and validate.rs checks that exactly one is set. Typed values (durations, rates, sizes,
//! shares) stay text here and are parsed in validate.rs, so that every bad value in a file is
//! reported, not only the first.
//!
//! The doc comments on fields become the descriptions in `scenario.schema.json`, which editors
//! show on hover: write them for the person editing a scenario.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// Declares a text value type: a YAML scalar kept as text, with a schema pattern for editors.
macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $example:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": ["string", "number"],
                    "pattern": $pattern,
                    "examples": [$example],
                })
            }
        }
    };
}

text_value!(
    /// A duration with a unit: `250ms`, `5s`, `2m`, `1h`.
    DurationText,
    r"^\s*[0-9.]+\s*(ns|us|µs|ms|s|m|h)\s*$",
    "5s"
);
text_value!(
    /// A duration with an optional symmetric spread: `10s ± 3s` (or `10s +- 3s`).
    JitteredText,
    r"^\s*[0-9.]+\s*(ns|us|µs|ms|s|m|h)\s*((±|\+-)\s*[0-9.]+\s*(ns|us|µs|ms|s|m|h)\s*)?$",
    "10s ± 3s"
);
text_value!(
    /// An event rate: `20/s`, `1200/m`, `3/h`.
    RateText,
    r"^\s*[0-9.]+\s*/\s*(s|m|h)\s*$",
    "20/s"
);
text_value!(
    /// A size: `64B`, `16KiB`, `1MiB`.
    SizeText,
    r"^\s*[0-9.]+\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)\s*$",
    "16KiB"
);
text_value!(
    /// A byte rate: `10KiB/s`.
    ByteRateText,
    r"^\s*[0-9.]+\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)\s*/\s*(s|m|h)\s*$",
    "10KiB/s"
);
text_value!(
    /// A share of clients or links, as a percentage: `50%`.
    ShareText,
    r"^\s*[0-9.]+\s*%\s*$",
    "50%"
);
text_value!(
    /// A whole number, or `unlimited`.
    CountText,
    r"^\s*([0-9]+|unlimited)\s*$",
    "unlimited"
);
text_value!(
    /// A close code (`1008`) or an inclusive range of them (`4000-4099`).
    CodeRangeText,
    r"^\s*[0-9]+\s*(-\s*[0-9]+\s*)?$",
    "4000-4099"
);

/// Either a bare word (`off`, `all`, a preset name) or a map of settings.
#[derive(Clone, Debug, PartialEq)]
pub enum WordOr<T> {
    /// The bare word, checked by validate.rs against the words the field accepts.
    Word(String),
    /// The map form.
    Map(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for WordOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WordOrVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for WordOrVisitor<T> {
            type Value = WordOr<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a word or a map")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(WordOr::Word(value.to_string()))
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                // YAML 1.1 habits: `off` may arrive as the boolean false.
                Ok(WordOr::Word(if value { "on" } else { "off" }.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(WordOr::Map)
            }
        }

        deserializer.deserialize_any(WordOrVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for WordOr<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("WordOr_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let map = generator.subschema_for::<T>();
        json_schema!({ "anyOf": [{ "type": "string" }, map] })
    }
}

/// A fault kind that takes no parameters: written `reset: {}` or just `reset:`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Reads a fault kind's parameters: a key that is present means `Some`, even written bare
/// (`stall:`), in which case the parameters are read from an empty map, so defaults apply and a
/// required parameter is reported missing.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    match Option::<T>::deserialize(deserializer)? {
        Some(params) => Ok(Some(params)),
        None => {
            let empty =
                de::value::MapDeserializer::<_, D::Error>::new(std::iter::empty::<(String, String)>());
            T::deserialize(empty).map(Some)
        }
    }
}

/// The whole scenario file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "wschaos scenario")]
pub struct ScenarioSpec {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Short name; reports go to `reports/<name>/`. Letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// What the scenario models, in a sentence or two.
    pub description: Option<String>,
    /// Default seed for every random choice; `--seed` overrides it. Default 1.
    pub seed: Option<u64>,
    /// How long faults play.
    pub duration: DurationText,
    /// After `duration`, every fault is healed and clients must converge within this time.
    /// Default 15s.
    pub quiet_period: Option<DurationText>,
    /// `live` (real TCP on loopback) or `sim` (virtual time); `--engine` overrides. Default live.
    pub engine: Option<EngineSpec>,
    /// The echo server behind the proxy.
    pub server: Option<ServerSpec>,
    /// The reference clients.
    pub clients: ClientsSpec,
    /// A strategy matrix: the run repeats once per entry with the same seed.
    pub strategies: Option<Vec<WordOr<InlineStrategySpec>>>,
    /// The fault timeline.
    pub faults: Option<Vec<FaultSpec>>,
    /// k6-style thresholds per metric, such as `recovery_time: ["p(99) < 8s"]`.
    // `default` tells schemars the field is optional, which `schema_with` hides from it.
    #[serde(default)]
    #[schemars(schema_with = "slo_schema")]
    pub slo: Option<BTreeMap<String, Vec<String>>>,
    /// Ranges that `wschaos run --seeds` draws from anew for each seed: a field path the file
    /// sets (`clients.heartbeat.ping_every`, `faults[1].for`) and `LOW..HIGH` in that field's
    /// kind (`5s..20s`, `10..50`, `10/s..50/s`, `10%..40%`, `64B..1KiB`). Without `--seeds`
    /// the file's own values are used.
    #[serde(default)]
    #[schemars(schema_with = "swarm_schema")]
    pub swarm: Option<BTreeMap<String, String>>,
}

fn swarm_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": { "pattern": r"^[a-z_]+(\[[0-9]+\])*(\.[a-z_]+(\[[0-9]+\])*)*$" },
        "additionalProperties": { "type": "string", "pattern": r"^.+\.\..+$", "examples": ["5s..20s"] },
    })
}

fn slo_schema(_: &mut SchemaGenerator) -> Schema {
    let metrics: Vec<&str> = crate::scenario::slo::METRICS.iter().map(|m| m.name).collect();
    json_schema!({
        "type": "object",
        "propertyNames": { "enum": metrics },
        "additionalProperties": { "type": "array", "items": { "type": "string" } },
    })
}

/// Which engine runs the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngineSpec {
    /// Real TCP on 127.0.0.1, real time.
    Live,
    /// In-memory network, paused virtual time, deterministic.
    Sim,
}

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
    /// `server` (send the server's token, the default), `none`, or `{ token: … }`.
    pub auth: Option<WordOr<AuthSpec>>,
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
    /// `full_jitter`, `equal_jitter` or `decorrelated_jitter`.
    pub kind: String,
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
}

/// One entry of the fault timeline: when, which links, and exactly one fault kind.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Start once at this time.
    pub at: Option<DurationText>,
    /// How long each occurrence lasts. Without it, the fault lasts until the heal at `duration`.
    #[serde(rename = "for")]
    pub lasts: Option<DurationText>,
    /// Start repeatedly: `10s ± 3s` between starts, with seeded jitter.
    pub every: Option<JitteredText>,
    /// With `every`: first start. Default 0s.
    pub from: Option<DurationText>,
    /// With `every`: no start after this time. Default `duration`.
    pub until: Option<DurationText>,
    /// With `every`: at most this many occurrences.
    pub times: Option<u32>,
    /// Which clients' links the fault hits: `all` (default) or a map.
    pub target: Option<WordOr<TargetSpec>>,

    /// Abort matched links now (RST).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<NoParams>")]
    pub reset: Option<NoParams>,
    /// Close matched links gracefully (FIN both ways).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<NoParams>")]
    pub close: Option<NoParams>,
    /// Stop forwarding; held bytes are released in order when the fault ends.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<DirectionParams>")]
    pub stall: Option<DirectionParams>,
    /// Stop forwarding and never release: a silently dead, half-open link.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<DirectionParams>")]
    pub blackhole: Option<DirectionParams>,
    /// Delay every chunk.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<LatencyParams>")]
    pub latency: Option<LatencyParams>,
    /// Throttle to a byte rate.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<BandwidthParams>")]
    pub bandwidth: Option<BandwidthParams>,
    /// Split writes into small pieces.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<SliceParams>")]
    pub slice: Option<SliceParams>,
    /// Close the link after N bytes.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<LimitParams>")]
    pub limit: Option<LimitParams>,
    /// Refuse new connections (server down).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<NoParams>")]
    pub refuse: Option<NoParams>,
    /// Accept new connections and never answer.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<NoParams>")]
    pub accept_hang: Option<NoParams>,
    /// Delay the server's handshake response.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<HandshakeDelayParams>")]
    pub handshake_delay: Option<HandshakeDelayParams>,
    /// Make whole WebSocket frames vanish.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<DropFramesParams>")]
    pub drop_frames: Option<DropFramesParams>,
    /// Send the client a Close frame and close the upstream.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<CloseFrameParams>")]
    pub close_frame: Option<CloseFrameParams>,
    /// Answer new upgrades with an HTTP error.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<RejectHandshakeParams>")]
    pub reject_handshake: Option<RejectHandshakeParams>,
}

/// Which clients a fault hits, and which of their links.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// This share of clients, drawn once from the seed.
    pub share: Option<ShareText>,
    /// These client indices (0-based).
    pub clients: Option<Vec<u32>>,
    /// Each link independently with this probability (0 to 1), drawn once per link.
    pub probability: Option<f64>,
    /// `new` (opened while the fault is active), `existing` (open when it starts) or `all`.
    pub links: Option<LinksSpec>,
}

/// Which links of the targeted clients a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinksSpec {
    /// Links opened while the fault is active.
    New,
    /// Links already open when the fault starts.
    Existing,
    /// Both.
    All,
}

/// Which way bytes flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectionSpec {
    /// Client to server.
    Upstream,
    /// Server to client.
    Downstream,
    /// Both ways.
    Both,
}

/// Parameters of `stall` and `blackhole`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectionParams {
    /// Default both.
    pub direction: Option<DirectionSpec>,
}

/// Parameters of `latency`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyParams {
    /// Added to every chunk.
    pub delay: DurationText,
    /// ± spread of the delay, seeded. Default 0s.
    pub jitter: Option<DurationText>,
    /// Default both.
    pub direction: Option<DirectionSpec>,
}

/// Parameters of `bandwidth`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthParams {
    /// Bytes per unit of time, such as `10KiB/s`.
    pub rate: ByteRateText,
    /// Default both.
    pub direction: Option<DirectionSpec>,
}

/// Parameters of `slice`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SliceParams {
    /// Largest piece.
    pub size: SizeText,
    /// Pause between pieces. Default 0s.
    pub delay: Option<DurationText>,
    /// Default both.
    pub direction: Option<DirectionSpec>,
}

/// Parameters of `limit`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitParams {
    /// The link closes after this many bytes.
    pub bytes: SizeText,
    /// Default both.
    pub direction: Option<DirectionSpec>,
}

/// Parameters of `handshake_delay`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakeDelayParams {
    /// Extra time before the server's handshake response, `D` or `D ± J`.
    pub delay: JitteredText,
}

/// A WebSocket frame type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameKindSpec {
    /// Ping control frames.
    Ping,
    /// Pong control frames.
    Pong,
    /// Text data frames.
    Text,
    /// Binary data frames.
    Binary,
    /// Close control frames.
    Close,
}

/// Parameters of `drop_frames`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropFramesParams {
    /// Frame types that vanish.
    pub kinds: Vec<FrameKindSpec>,
    /// Default both.
    pub direction: Option<DirectionSpec>,
    /// Chance that a matching frame vanishes, 0 to 1. Default 1.
    pub probability: Option<f64>,
}

/// Parameters of `close_frame`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseFrameParams {
    /// The close code sent to the client (1001, 1011, 1012, 1013, 4000–4999, …).
    pub code: u16,
    /// Reason text, at most 123 bytes. Default empty.
    pub reason: Option<String>,
}

/// Parameters of `reject_handshake`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectHandshakeParams {
    /// HTTP status of the answer (401, 403, 429, 503, …).
    pub status: u16,
    /// `Retry-After` header, in whole seconds; only with 429 and 503.
    pub retry_after: Option<DurationText>,
}
