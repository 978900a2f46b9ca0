//! Reconnect strategies as data: the backoff formula, the library quirks a preset reproduces,
//! and the client settings the preset brings along.
//!
//! This file also answers "what can the delay before attempt n be?" without any randomness
//! ([`Strategy::delay_bounds`]), which `wschaos presets` prints and the preset tests check against
//! shared/research/reconnect.md §2.2. Drawing an actual delay from the seeded generator belongs to
//! the client.

use std::fmt;
use std::time::Duration;

use super::model::{BackoffReset, ClientSettings};
use super::values::{format_duration, trim_decimals, trim_float};

/// The backoff formulas of DESIGN.md §5. `n` is the attempt number, starting at 1 after a break.
#[derive(Clone, Debug, PartialEq)]
pub enum Backoff {
    /// No delay.
    Immediate,
    /// The same delay every time.
    Fixed {
        /// The delay.
        delay: Duration,
    },
    /// A table of delays (SignalR, Phoenix).
    Table {
        /// Delay before attempt 1, 2, ….
        delays: Vec<Duration>,
        /// What happens after the table.
        then: TableEnd,
    },
    /// `min(cap, step · n)`.
    Linear {
        /// Growth per attempt.
        step: Duration,
        /// Largest delay.
        cap: Duration,
    },
    /// `min(cap, base · factor^(n−1))`: the first delay is `base`.
    Exponential {
        /// First delay.
        base: Duration,
        /// Growth per attempt, above 1.
        factor: f64,
        /// Largest delay.
        cap: Duration,
    },
    /// The exponential value `v` with a uniform `± r·v` spread (socket.io, gRPC, stubborn-io).
    ExponentialJitter {
        /// First delay before jitter.
        base: Duration,
        /// Growth per attempt, above 1.
        factor: f64,
        /// Largest delay.
        cap: Duration,
        /// The spread, as a fraction in [0, 1).
        randomization: f64,
        /// socket.io's quirk: jitter applied before the cap, so it collapses at the cap.
        jitter_before_cap: bool,
    },
    /// AWS "Full Jitter": `floor + U(0, min(cap, base · 2ⁿ))`, at most `cap`.
    FullJitter {
        /// The AWS base.
        base: Duration,
        /// Largest delay.
        cap: Duration,
        /// Added to every draw; zero for AWS, 500 ms for centrifuge-js.
        floor: Duration,
    },
    /// AWS "Equal Jitter": `t/2 + U(0, t/2)` with `t = min(cap, base · 2ⁿ)`.
    EqualJitter {
        /// The AWS base.
        base: Duration,
        /// Largest delay.
        cap: Duration,
    },
    /// AWS "Decorrelated Jitter": `min(cap, U(base, previous · 3))`, previous starting at base.
    DecorrelatedJitter {
        /// Smallest delay and the starting point.
        base: Duration,
        /// Largest delay.
        cap: Duration,
    },
}

/// What a table strategy does after its last entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableEnd {
    /// Keep waiting this long before every further attempt.
    Repeat(Duration),
    /// Stop reconnecting (SignalR's default policy).
    GiveUp,
}

/// Library behaviours beyond the formula, reproduced by presets (reconnect.md §2.3).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quirks {
    /// The first delay is drawn from this range, and the formula starts at attempt 2
    /// (Python websockets: `U(0, 5 s)`, then `3.1 s × 1.618ᵏ`).
    pub first_delay: Option<(Duration, Duration)>,
    /// The exponential base is drawn once per client from this range
    /// (reconnecting-websocket evaluates `1000 + random·4000` once per module load).
    pub base_drawn_once: Option<(Duration, Duration)>,
    /// After a connection that opened successfully closes, reconnect at once instead of backing
    /// off (Python websockets backs off only failed handshakes).
    pub no_backoff_after_open: bool,
    /// Give up if the very first connect fails (stubborn-io's `exit_if_first_connect_fails`).
    pub give_up_if_first_connect_fails: bool,
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

/// Scales a duration by a float, saturating at `cap` (which also absorbs overflow to infinity).
fn scaled(base: Duration, by: f64, cap: Duration) -> Duration {
    let seconds = base.as_secs_f64() * by;
    if seconds.is_finite() && seconds < cap.as_secs_f64() { Duration::from_secs_f64(seconds) } else { cap }
}

/// `2ⁿ` as a float, without overflow worries (large n just gives infinity, then the cap).
fn two_to(n: u32) -> f64 {
    2f64.powi(n.min(1024) as i32)
}

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

impl Backoff {
    /// The smallest and largest delay before attempt `n` (1-based), or `None` when the strategy
    /// gives up before that attempt. `base` overrides the formula's base (drawn-once quirk).
    fn bounds(&self, n: u32, base_override: Option<Duration>) -> Option<(Duration, Duration)> {
        let exact = |d: Duration| Some((d, d));
        match self {
            Backoff::Immediate => exact(Duration::ZERO),
            Backoff::Fixed { delay } => exact(*delay),
            Backoff::Table { delays, then } => match delays.get(n as usize - 1) {
                Some(delay) => exact(*delay),
                None => match then {
                    TableEnd::Repeat(delay) => exact(*delay),
                    TableEnd::GiveUp => None,
                },
            },
            Backoff::Linear { step, cap } => exact(scaled(*step, f64::from(n), *cap)),
            Backoff::Exponential { base, factor, cap } => {
                let base = base_override.unwrap_or(*base);
                exact(scaled(base, factor.powi((n - 1).min(4096) as i32), *cap))
            }
            Backoff::ExponentialJitter { base, factor, cap, randomization, jitter_before_cap } => {
                let growth = factor.powi((n - 1).min(4096) as i32);
                let (low, high) = (1.0 - randomization, 1.0 + randomization);
                if *jitter_before_cap {
                    Some((scaled(*base, growth * low, *cap), scaled(*base, growth * high, *cap)))
                } else {
                    let value = scaled(*base, growth, *cap);
                    let far = Duration::MAX;
                    Some((scaled(value, low, far), scaled(value, high, far)))
                }
            }
            Backoff::FullJitter { base, cap, floor } => {
                let window = scaled(*base, two_to(n), *cap);
                Some((*floor.min(cap), (*floor + window).min(*cap)))
            }
            Backoff::EqualJitter { base, cap } => {
                let t = scaled(*base, two_to(n), *cap);
                Some((t / 2, t))
            }
            Backoff::DecorrelatedJitter { base, cap } => {
                // The previous delay is at most base · 3^(n−1), so this draw is at most base · 3ⁿ.
                Some((*base.min(cap), scaled(*base, 3f64.powi(n.min(1024) as i32), *cap)))
            }
        }
    }

    /// The kind's name as a scenario writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Backoff::Immediate => "immediate",
            Backoff::Fixed { .. } => "fixed",
            Backoff::Table { .. } => "table",
            Backoff::Linear { .. } => "linear",
            Backoff::Exponential { .. } => "exponential",
            Backoff::ExponentialJitter { .. } => "exponential_jitter",
            Backoff::FullJitter { .. } => "full_jitter",
            Backoff::EqualJitter { .. } => "equal_jitter",
            Backoff::DecorrelatedJitter { .. } => "decorrelated_jitter",
        }
    }
}

impl fmt::Display for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |d: &Duration| format_duration(*d);
        match self {
            Backoff::Immediate => write!(f, "immediate"),
            Backoff::Fixed { delay } => write!(f, "fixed {}", d(delay)),
            Backoff::Table { delays, then } => {
                let list: Vec<String> = delays.iter().map(d).collect();
                let end = match then {
                    TableEnd::Repeat(delay) => format!("then {}", d(delay)),
                    TableEnd::GiveUp => "then give up".to_string(),
                };
                write!(f, "table [{}] {end}", list.join(", "))
            }
            Backoff::Linear { step, cap } => write!(f, "linear {} × n, cap {}", d(step), d(cap)),
            Backoff::Exponential { base, factor, cap } => {
                write!(f, "exponential {} × {}ⁿ⁻¹, cap {}", d(base), trim_decimals(*factor, 3), d(cap))
            }
            Backoff::ExponentialJitter { base, factor, cap, randomization, jitter_before_cap } => {
                let order = if *jitter_before_cap { "before" } else { "after" };
                write!(
                    f,
                    "exponential {} × {}ⁿ⁻¹ ± {}%, cap {} (jitter {order} cap)",
                    d(base),
                    trim_decimals(*factor, 3),
                    trim_float(randomization * 100.0),
                    d(cap)
                )
            }
            Backoff::FullJitter { base, cap, floor } if floor.is_zero() => {
                write!(f, "full jitter U(0, {} × 2ⁿ), cap {}", d(base), d(cap))
            }
            Backoff::FullJitter { base, cap, floor } => {
                write!(f, "{} + full jitter U(0, {} × 2ⁿ), cap {}", d(floor), d(base), d(cap))
            }
            Backoff::EqualJitter { base, cap } => {
                write!(f, "equal jitter t/2 + U(0, t/2), t = {} × 2ⁿ, cap {}", d(base), d(cap))
            }
            Backoff::DecorrelatedJitter { base, cap } => {
                write!(f, "decorrelated jitter U({}, previous × 3), cap {}", d(base), d(cap))
            }
        }
    }
}

impl Strategy {
    /// The smallest and largest delay before reconnect attempt `attempt` (1-based) after a
    /// break, with every quirk applied; `None` when the strategy gives up before it.
    pub fn delay_bounds(&self, attempt: u32) -> Option<(Duration, Duration)> {
        assert!(attempt >= 1, "attempts are numbered from 1");
        if self.defaults.max_attempts.is_some_and(|limit| attempt > limit) {
            return None;
        }
        if let Some((low, high)) = self.quirks.first_delay {
            return if attempt == 1 { Some((low, high)) } else { self.backoff.bounds(attempt - 1, None) };
        }
        match self.quirks.base_drawn_once {
            Some((low, high)) => {
                let (min, _) = self.backoff.bounds(attempt, Some(low))?;
                let (_, max) = self.backoff.bounds(attempt, Some(high))?;
                Some((min, max))
            }
            None => self.backoff.bounds(attempt, None),
        }
    }

    /// A one-line description of the formula with its quirks.
    pub fn describe(&self) -> String {
        let mut text = self.backoff.to_string();
        if let Some((low, high)) = self.quirks.first_delay {
            text = format!("first U({}, {}), then {text}", format_duration(low), format_duration(high));
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
