//! The backoff sampler: the delay before each reconnect attempt, drawn from the client's seeded
//! generator. Pure: no I/O, no clock.
//!
//! The formulas live once, in `scenario::strategy` ([`Backoff`]'s window); this file draws from
//! them. [`draw`] is one delay for a given attempt; [`BackoffState`] is one client's sampler,
//! which counts attempts, remembers decorrelated jitter's previous delay and applies the
//! library quirks that change the sequence (a random first delay, a base drawn once). Giving up
//! after `max_attempts` is the client's policy, not the sampler's.
//!
//! A delay that needs no randomness takes nothing from the generator, so adding an exact step
//! (a table entry, a capped value) never shifts the draws after it.

use std::time::Duration;

use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use crate::scenario::strategy::{Backoff, Strategy, Window};
use crate::units::format_duration;

/// The delay before attempt `n` (1-based) after a break, or `None` when the strategy gives up
/// before it (a table ending in `give_up`).
///
/// `previous` is decorrelated jitter's previous delay (`None` at the start, meaning the base);
/// `base` replaces the formula's base (reconnecting-websocket's base drawn once). Exact values
/// take nothing from `rng`. Every delay lies within the bounds [`Strategy::delay_bounds`] gives.
///
/// # Panics
///
/// If `n` is 0: attempts are numbered from 1.
pub fn draw(
    backoff: &Backoff,
    n: u32,
    previous: Option<Duration>,
    base: Option<Duration>,
    rng: &mut impl Rng,
) -> Option<Duration> {
    assert!(n >= 1, "attempts are numbered from 1");
    backoff.window(n, base, previous).map(|window| sample(window, rng))
}

/// One delay from `window`: exact without touching `rng`, otherwise uniform then capped.
fn sample(window: Window, rng: &mut impl Rng) -> Duration {
    match window.exact_value() {
        Some(delay) => delay,
        None => rng.random_range(window.low..=window.high).min(window.cap),
    }
}

/// Why a strategy cannot drive a [`BackoffState`].
#[derive(Clone, Debug, PartialEq, Error)]
pub enum InvalidBackoff {
    /// An exponential factor that is not a finite number above 1 (the delay would not grow).
    #[error("the factor must be a finite number above 1; got {0}")]
    Factor(f64),
    /// A jitter spread outside [0, 1) (a delay could be negative).
    #[error("randomization is a fraction in [0, 1); got {0}")]
    Randomization(f64),
    /// A base of zero, which never grows.
    #[error("a base of 0s never grows; use kind immediate")]
    ZeroBase,
    /// A linear step of zero, which never grows.
    #[error("a linear step of 0s never grows; use kind immediate")]
    ZeroStep,
    /// A cap below the base: the formula would be capped before it starts.
    #[error("the cap {} is below the base {}", format_duration(*.cap), format_duration(*.base))]
    CapBelowBase {
        /// The base, or the largest base the drawn-once quirk can pick.
        base: Duration,
        /// The cap.
        cap: Duration,
    },
    /// A full-jitter floor above the cap.
    #[error("the floor {} is above the cap {}", format_duration(*.floor), format_duration(*.cap))]
    FloorAboveCap {
        /// The floor.
        floor: Duration,
        /// The cap.
        cap: Duration,
    },
    /// A table with no delays.
    #[error("the table is empty; list at least one delay")]
    EmptyTable,
    /// A quirk's range whose low end is above its high end.
    #[error("the {quirk} range {}–{} is reversed", format_duration(*.low), format_duration(*.high))]
    ReversedRange {
        /// The quirk's field name in [`Quirks`](crate::scenario::strategy::Quirks).
        quirk: &'static str,
        /// The low end.
        low: Duration,
        /// The high end.
        high: Duration,
    },
    /// `base_drawn_once` on a kind without a base, where it would be silently ignored.
    #[error("`base_drawn_once` needs a kind with a base, and {kind} has none")]
    NoBaseToDraw {
        /// The kind.
        kind: &'static str,
    },
}

/// One client's backoff sampler: the attempt counter, the previous delay, and the quirks.
#[derive(Clone, Debug)]
pub struct BackoffState {
    /// The formula.
    backoff: Backoff,
    /// Python websockets' random first delay after a reset, if the strategy has it.
    first_delay: Option<(Duration, Duration)>,
    /// The base drawn once at construction (reconnecting-websocket), kept across resets.
    base: Option<Duration>,
    /// The client's seeded generator (`seeds::derive(seed, &[seeds::CLIENT, index, …])`).
    rng: ChaCha8Rng,
    /// Delays drawn since the last reset.
    attempt: u32,
    /// Decorrelated jitter's previous delay; `None` at the start (the base).
    previous: Option<Duration>,
}

impl BackoffState {
    /// A sampler for `strategy`, drawing from `rng`. Draws the base now when the strategy has
    /// the `base_drawn_once` quirk.
    ///
    /// The scenario validator already rejects every invalid strategy a file can express; this
    /// check is the library API's own guard, for strategies built in code. It accepts everything
    /// the validator accepts.
    pub fn new(strategy: &Strategy, mut rng: ChaCha8Rng) -> Result<BackoffState, InvalidBackoff> {
        let quirks = &strategy.quirks;
        check(&strategy.backoff, None)?;
        if let Some((low, high)) = quirks.first_delay {
            ordered("first_delay", low, high)?;
        }
        let base = match quirks.base_drawn_once {
            Some((low, high)) => {
                ordered("base_drawn_once", low, high)?;
                if !has_base(&strategy.backoff) {
                    return Err(InvalidBackoff::NoBaseToDraw { kind: strategy.backoff.kind() });
                }
                check(&strategy.backoff, Some(low))?;
                check(&strategy.backoff, Some(high))?;
                Some(sample(Window::uniform(low, high), &mut rng))
            }
            None => None,
        };
        Ok(BackoffState {
            backoff: strategy.backoff.clone(),
            first_delay: quirks.first_delay,
            base,
            rng,
            attempt: 0,
            previous: None,
        })
    }

    /// The delay before the next attempt, or `None` when the strategy gives up (a table ending
    /// in `give_up`). Advances the attempt counter, even past the give-up. Does not apply
    /// `max_attempts`: that is the client's policy.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.attempt = self.attempt.saturating_add(1);
        let formula_attempt = match self.first_delay {
            Some((low, high)) if self.attempt == 1 => {
                return Some(sample(Window::uniform(low, high), &mut self.rng));
            }
            Some(_) => self.attempt - 1,
            None => self.attempt,
        };
        let delay = draw(&self.backoff, formula_attempt, self.previous, self.base, &mut self.rng)?;
        self.previous = Some(delay);
        Some(delay)
    }

    /// Starts the sequence over: the attempt counter and decorrelated jitter's previous delay
    /// go back to the start. A base drawn once stays.
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.previous = None;
    }

    /// How many delays were drawn since the last reset (the attempt the last delay preceded).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}

/// Whether the kind has a base that `base_drawn_once` can replace.
fn has_base(backoff: &Backoff) -> bool {
    matches!(
        backoff,
        Backoff::Exponential { .. }
            | Backoff::ExponentialJitter { .. }
            | Backoff::FullJitter { .. }
            | Backoff::EqualJitter { .. }
            | Backoff::DecorrelatedJitter { .. }
    )
}

/// Rejects a reversed quirk range.
fn ordered(quirk: &'static str, low: Duration, high: Duration) -> Result<(), InvalidBackoff> {
    if low > high { Err(InvalidBackoff::ReversedRange { quirk, low, high }) } else { Ok(()) }
}

/// Checks a formula's parameters, with `base_override` in place of its base.
fn check(backoff: &Backoff, base_override: Option<Duration>) -> Result<(), InvalidBackoff> {
    let base_and_cap = |base: &Duration, cap: &Duration| {
        let base = base_override.unwrap_or(*base);
        if base.is_zero() {
            Err(InvalidBackoff::ZeroBase)
        } else if *cap < base {
            Err(InvalidBackoff::CapBelowBase { base, cap: *cap })
        } else {
            Ok(())
        }
    };
    let factor_above_one = |factor: f64| {
        if factor.is_finite() && factor > 1.0 { Ok(()) } else { Err(InvalidBackoff::Factor(factor)) }
    };
    match backoff {
        Backoff::Immediate | Backoff::Fixed { .. } => Ok(()),
        Backoff::Table { delays, .. } if delays.is_empty() => Err(InvalidBackoff::EmptyTable),
        Backoff::Table { .. } => Ok(()),
        Backoff::Linear { step, .. } if step.is_zero() => Err(InvalidBackoff::ZeroStep),
        Backoff::Linear { .. } => Ok(()),
        Backoff::Exponential { base, factor, cap } => {
            factor_above_one(*factor)?;
            base_and_cap(base, cap)
        }
        Backoff::ExponentialJitter { base, factor, cap, randomization, .. } => {
            factor_above_one(*factor)?;
            if !(0.0..1.0).contains(randomization) {
                return Err(InvalidBackoff::Randomization(*randomization));
            }
            base_and_cap(base, cap)
        }
        Backoff::FullJitter { floor, cap, .. } if floor > cap => {
            Err(InvalidBackoff::FloorAboveCap { floor: *floor, cap: *cap })
        }
        Backoff::FullJitter { base, cap, .. }
        | Backoff::EqualJitter { base, cap }
        | Backoff::DecorrelatedJitter { base, cap } => base_and_cap(base, cap),
    }
}

#[cfg(test)]
mod tests;
