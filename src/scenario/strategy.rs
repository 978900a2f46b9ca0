//! Reconnect strategies as data: the backoff formula, the library quirks a preset reproduces,
//! and the client settings the preset brings along.
//!
//! Each formula is written once, in `Backoff::window`: the uniform range a delay is drawn from
//! and the cap applied after the draw. Two readers share it: [`Strategy::delay_bounds`] answers
//! "what can the delay before attempt n be?" without any randomness (`wschaos presets` prints it
//! and the preset tests check it against shared/research/reconnect.md §2.2), and the client's
//! sampler (`client::backoff`) draws an actual delay from its seeded generator.

use std::fmt;
use std::time::Duration;

use super::model::{BackoffReset, ClientSettings};
use crate::units::{format_duration, trim_decimals, trim_float};

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

/// The delay before one attempt, before any randomness: a uniform draw from `low..=high`, then at
/// most `cap`. When the range is one value, or lies wholly at or above the cap, the delay is exact
/// and nothing is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// Smallest value of the uniform draw.
    pub(crate) low: Duration,
    /// Largest value of the uniform draw.
    pub(crate) high: Duration,
    /// Applied after the draw; [`UNCAPPED`] when the formula caps before any jitter.
    pub(crate) cap: Duration,
}

impl Window {
    /// Exactly `delay`.
    fn exact(delay: Duration) -> Window {
        Window { low: delay, high: delay, cap: UNCAPPED }
    }

    /// A plain uniform draw between `a` and `b`, in either order (the quirks' ranges).
    pub(crate) fn uniform(a: Duration, b: Duration) -> Window {
        Window::between(a, b, UNCAPPED)
    }

    /// A draw between `a` and `b`, in either order, then at most `cap`.
    fn between(a: Duration, b: Duration, cap: Duration) -> Window {
        Window { low: a.min(b), high: a.max(b), cap }
    }

    /// The smallest and largest delay this window gives.
    pub(crate) fn bounds(&self) -> (Duration, Duration) {
        (self.low.min(self.cap), self.high.min(self.cap))
    }

    /// The delay, when it needs no draw.
    pub(crate) fn exact_value(&self) -> Option<Duration> {
        let (low, high) = self.bounds();
        (low == high).then_some(low)
    }
}

/// No cap: for the steps of a formula that caps before it jitters.
const UNCAPPED: Duration = Duration::MAX;

impl Backoff {
    /// The window the delay before attempt `n` (1-based) is drawn from, or `None` when the
    /// strategy gives up before that attempt. `base_override` replaces the formula's base (the
    /// drawn-once quirk); `previous` is decorrelated jitter's previous delay, `None` meaning the
    /// start (the base). The only definition of each formula: bounds and draws both use it.
    pub(crate) fn window(
        &self,
        n: u32,
        base_override: Option<Duration>,
        previous: Option<Duration>,
    ) -> Option<Window> {
        let exact = |d: Duration| Some(Window::exact(d));
        let growth = |factor: &f64| factor.powi(n.saturating_sub(1).min(4096) as i32);
        match self {
            Backoff::Immediate => exact(Duration::ZERO),
            Backoff::Fixed { delay } => exact(*delay),
            Backoff::Table { delays, then } => match n.checked_sub(1).and_then(|i| delays.get(i as usize)) {
                Some(delay) => exact(*delay),
                None => match then {
                    TableEnd::Repeat(delay) => exact(*delay),
                    TableEnd::GiveUp => None,
                },
            },
            Backoff::Linear { step, cap } => exact(scaled(*step, f64::from(n), *cap)),
            Backoff::Exponential { base, factor, cap } => {
                exact(scaled(base_override.unwrap_or(*base), growth(factor), *cap))
            }
            Backoff::ExponentialJitter { base, factor, cap, randomization, jitter_before_cap } => {
                let base = base_override.unwrap_or(*base);
                let (low, high) = (1.0 - randomization, 1.0 + randomization);
                if *jitter_before_cap {
                    // socket.io: jitter the raw exponential value, then cap, so it collapses.
                    let growth = growth(factor);
                    Some(Window::between(
                        scaled(base, growth * low, UNCAPPED),
                        scaled(base, growth * high, UNCAPPED),
                        *cap,
                    ))
                } else {
                    // gRPC: cap, then jitter, so the spread survives at the cap.
                    let value = scaled(base, growth(factor), *cap);
                    Some(Window::between(
                        scaled(value, low, UNCAPPED),
                        scaled(value, high, UNCAPPED),
                        UNCAPPED,
                    ))
                }
            }
            Backoff::FullJitter { base, cap, floor } => {
                let window = scaled(base_override.unwrap_or(*base), two_to(n), *cap);
                Some(Window::between(*floor, floor.saturating_add(window), *cap))
            }
            Backoff::EqualJitter { base, cap } => {
                let t = scaled(base_override.unwrap_or(*base), two_to(n), *cap);
                Some(Window::between(t / 2, t, UNCAPPED))
            }
            Backoff::DecorrelatedJitter { base, cap } => {
                let base = base_override.unwrap_or(*base);
                let previous = previous.unwrap_or(base);
                Some(Window::between(base, scaled(previous, 3.0, UNCAPPED), *cap))
            }
        }
    }

    /// The smallest and largest delay before attempt `n` (1-based), or `None` when the strategy
    /// gives up before that attempt. `base_override` replaces the formula's base.
    pub(crate) fn bounds(&self, n: u32, base_override: Option<Duration>) -> Option<(Duration, Duration)> {
        // Only decorrelated jitter remembers a previous delay. Each draw is at most three times
        // the one before, so the largest previous delay before attempt n is base · 3^(n−1).
        let largest_previous = match self {
            Backoff::DecorrelatedJitter { base, cap } => Some(scaled(
                base_override.unwrap_or(*base),
                3f64.powi(n.saturating_sub(1).min(1024) as i32),
                *cap,
            )),
            _ => None,
        };
        self.window(n, base_override, largest_previous).map(|window| window.bounds())
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
