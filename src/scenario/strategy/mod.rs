//! Reconnect strategies as data: the backoff formula, the library quirks a preset reproduces,
//! and the client settings the preset brings along.
//!
//! Each formula is written once, in `Backoff::window`: the uniform range a delay is drawn from
//! and the cap applied after the draw. Two readers share it: [`Strategy::delay_bounds`] answers
//! "what can the delay before attempt n be?" without any randomness (`wschaos presets` prints it
//! and the preset tests check it against sequences worked out by hand from each library's
//! defaults), and the client's sampler (`client::backoff`) draws an actual delay from its seeded
//! generator.
//!
//! This module holds the named [`Strategy`] with its quirks and settings; the formulas are in
//! `backoff` and the draw windows they produce in `window`.

mod backoff;
mod window;

use std::time::Duration;

use super::model::{BackoffReset, ClientSettings};
use crate::units::format_duration;

pub use backoff::Backoff;
pub(crate) use window::Window;

/// What a table strategy does after its last entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableEnd {
    /// Keep waiting this long before every further attempt.
    Repeat(Duration),
    /// Stop reconnecting (SignalR's default policy).
    GiveUp,
}

/// Library behaviours beyond the formula, reproduced by presets ("Quirks modelled as data" in
/// docs/scenario-language.md; each preset's doc comment names the library source).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quirks {
    /// The first delay after a reset is drawn from this range, and the second delay is the
    /// formula's attempt 1 (Python websockets: `U(0, 5 s)`, then `3.1 s × 1.618ᵏ`).
    pub first_delay: Option<(Duration, Duration)>,
    /// The formula's base is drawn once per client from this range, and kept across resets
    /// (reconnecting-websocket evaluates `1000 + random·4000` once per module load).
    pub base_drawn_once: Option<(Duration, Duration)>,
    /// After a connection that opened successfully closes, reconnect at once instead of backing
    /// off (Python websockets backs off only failed handshakes).
    pub no_backoff_after_open: bool,
    /// Give up if the very first connect fails (stubborn-io's `exit_if_first_connect_fails`).
    pub give_up_if_first_connect_fails: bool,
    /// With signed handshakes: sign the upgrade URL at the first attempt and reuse it on every
    /// later one, so once it is older than `max_age` every attempt is refused (a client that
    /// caches a presigned URL).
    pub reuse_signed_url: bool,
}

/// A named strategy: formula, quirks, the settings it brings and where its numbers come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Strategy {
    /// The preset name, the inline `name`, or the kind.
    pub name: String,
    /// The delay formula.
    pub backoff: Backoff,
    /// Library behaviours beyond the formula.
    pub quirks: Quirks,
    /// Heartbeat, timeouts, give-up and reset rule, used where the file does not set them.
    pub defaults: ClientSettings,
    /// For presets: the library, version and source of the numbers.
    pub source: Option<&'static str>,
}

/// The settings an inline strategy starts from. The 10 s ping interval is the background
/// article's heartbeat ticker; the other values are wschaos's own choices, written down in
/// ARCHITECTURE.md.
pub const WSCHAOS_DEFAULTS: ClientSettings = ClientSettings {
    heartbeat: Some(super::model::ClientHeartbeat {
        ping_every: Duration::from_secs(10),
        pong_timeout: Some(Duration::from_secs(5)),
    }),
    read_timeout: None,
    connect_timeout: Duration::from_secs(10),
    max_attempts: None,
    backoff_reset: BackoffReset::OnOpen,
};

/// Every backoff kind's name, as `kind:` accepts it.
pub const KINDS: &[&str] = &[
    "immediate",
    "fixed",
    "table",
    "linear",
    "exponential",
    "exponential_jitter",
    "full_jitter",
    "equal_jitter",
    "decorrelated_jitter",
];

impl Strategy {
    /// The smallest and largest delay before reconnect attempt `attempt` (1-based) after a
    /// break, with every quirk applied; `None` when the strategy gives up before it.
    pub fn delay_bounds(&self, attempt: u32) -> Option<(Duration, Duration)> {
        assert!(attempt >= 1, "attempts are numbered from 1");
        if self.defaults.max_attempts.is_some_and(|limit| attempt > limit) {
            return None;
        }
        let formula_attempt = match self.quirks.first_delay {
            Some((low, high)) if attempt == 1 => return Some((low, high)),
            Some(_) => attempt - 1,
            None => attempt,
        };
        match self.quirks.base_drawn_once {
            // Every formula grows with its base, so the ends of the range give the ends here.
            Some((low, high)) => {
                let (min, _) = self.backoff.bounds(formula_attempt, Some(low))?;
                let (_, max) = self.backoff.bounds(formula_attempt, Some(high))?;
                Some((min, max))
            }
            None => self.backoff.bounds(formula_attempt, None),
        }
    }

    /// A one-line description of the formula with its quirks.
    pub fn describe(&self) -> String {
        let mut text = self.backoff.to_string();
        match self.quirks.first_delay {
            Some((Duration::ZERO, Duration::ZERO)) => text = format!("first attempt at once, then {text}"),
            Some((low, high)) => {
                text = format!("first U({}, {}), then {text}", format_duration(low), format_duration(high))
            }
            None => {}
        }
        if let Some((low, high)) = self.quirks.base_drawn_once {
            text.push_str(&format!(
                "; base drawn once per client from U({}, {})",
                format_duration(low),
                format_duration(high)
            ));
        }
        if self.quirks.no_backoff_after_open {
            text.push_str("; no delay after a close on an open connection");
        }
        if self.quirks.give_up_if_first_connect_fails {
            text.push_str("; gives up if the first connect fails");
        }
        if self.quirks.reuse_signed_url {
            text.push_str("; reuses its first signed URL");
        }
        text
    }
}

/// Formats a delay range as `500ms–1.5s`, or one value when exact.
pub fn format_bounds(bounds: Option<(Duration, Duration)>) -> String {
    match bounds {
        None => "give up".to_string(),
        Some((low, high)) if low == high => format_duration(low),
        Some((low, high)) => format!("{}–{}", format_duration(low), format_duration(high)),
    }
}
