//! The raw `faults:` entries: when a fault plays, which links it hits, and one optional field
//! per fault kind (validate/ checks that exactly one is set). The kinds' parameter structs are in
//! `fault_params`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::fault_params::{
    BandwidthParams, CloseFrameParams, DirectionParams, DropFramesParams, HandshakeDelayParams,
    LatencyParams, LimitParams, RejectHandshakeParams, RevokeCredentialsParams, SliceParams,
    TlsBadCertificateParams,
};
use super::values::{DurationText, JitteredText, ShareText, WordOr};

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
    /// From now on the echo server refuses signatures made with its current secret
    /// (`server.auth.hmac`); with `rotate_to` it accepts that secret instead.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<RevokeCredentialsParams>")]
    pub revoke_credentials: Option<RevokeCredentialsParams>,
    /// A man in the middle: new `wss://` connections are answered with a certificate that
    /// fails verification (`server.tls` only).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<TlsBadCertificateParams>")]
    pub tls_bad_certificate: Option<TlsBadCertificateParams>,
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
