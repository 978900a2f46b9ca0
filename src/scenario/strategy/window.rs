//! The window a delay is drawn from ([`Window`]): a uniform range and a cap applied after the
//! draw, with the arithmetic the formulas share (scaling that saturates at the cap, `2ⁿ`).

use std::time::Duration;

/// Scales a duration by a float, saturating at `cap` (which also absorbs overflow to infinity).
pub(super) fn scaled(base: Duration, by: f64, cap: Duration) -> Duration {
    let seconds = base.as_secs_f64() * by;
    if seconds.is_finite() && seconds < cap.as_secs_f64() { Duration::from_secs_f64(seconds) } else { cap }
}

/// `2ⁿ` as a float, without overflow worries (large n just gives infinity, then the cap).
pub(super) fn two_to(n: u32) -> f64 {
    2f64.powi(n.min(1024) as i32)
}

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
    pub(super) fn exact(delay: Duration) -> Window {
        Window { low: delay, high: delay, cap: UNCAPPED }
    }

    /// A plain uniform draw between `a` and `b`, in either order (the quirks' ranges).
    pub(crate) fn uniform(a: Duration, b: Duration) -> Window {
        Window::between(a, b, UNCAPPED)
    }

    /// A draw between `a` and `b`, in either order, then at most `cap`.
    pub(super) fn between(a: Duration, b: Duration, cap: Duration) -> Window {
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
pub(super) const UNCAPPED: Duration = Duration::MAX;
