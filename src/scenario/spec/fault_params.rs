//! The parameters of each fault kind that takes any: directions, delays, rates, sizes, frame
//! kinds, close frames and handshake rejections.

use schemars::JsonSchema;
use serde::Deserialize;

use super::values::{ByteRateText, DurationText, JitteredText, SizeText};

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
    /// How the delay spreads: `uniform` in `delay ± jitter` (the default) or `normal`, where
    /// `jitter` is the standard deviation and a draw is `|N(delay, jitter)|`.
    pub distribution: Option<String>,
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

/// Parameters of `tls_bad_certificate`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsBadCertificateParams {
    /// How the certificate fails a correct client's check: `expired`, `wrong_host`,
    /// `untrusted` (signed by another CA) or `self_signed`.
    pub kind: String,
}

/// Parameters of `revoke_credentials`.
#[derive(Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeCredentialsParams {
    /// The secret the server accepts from then on, at least 16 bytes; without it, no signature
    /// is accepted any more.
    pub rotate_to: Option<String>,
}

impl std::fmt::Debug for RevokeCredentialsParams {
    /// Without the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rotate_to = self.rotate_to.as_ref().map(|_| "<redacted>");
        f.debug_struct("RevokeCredentialsParams").field("rotate_to", &rotate_to).finish()
    }
}
