//! The backoff formulas ([`Backoff`]): the window each one gives the delay before attempt n, the
//! bounds of that delay, and how each formula reads in `wschaos presets`.

use std::fmt;
use std::time::Duration;

use super::TableEnd;
use super::window::{UNCAPPED, Window, scaled, two_to};
use crate::units::{format_duration, trim_decimals, trim_float};

/// The backoff formulas (docs/scenario-language.md, "Formulas"). `n` is the attempt number,
/// starting at 1 after a break.
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
