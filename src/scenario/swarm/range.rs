//! One `swarm:` range, `LOW..HIGH` in the kind of the field it varies, and uniform draws from
//! it. Pure: text in, a range or a message out; a generator in, the text of a value out.
//!
//! A draw is written as text, because it is substituted into the scenario file and validated
//! with it. The values a range can draw are its two ends, written exactly as the file writes
//! them (so both ends are always possible and exact), and a grid of points strictly between
//! them: whole numbers for counts and sizes, whole bytes per second for byte rates, whole
//! milliseconds for durations (microseconds or nanoseconds when an end needs them), and for
//! rates, shares and plain numbers the fewest decimals that give at least
//! [`DECIMAL_POINTS`] points between the ends. Every value is equally likely.

use std::fmt;

use rand::RngExt;

use crate::units::{parse_byte_rate, parse_duration, parse_rate, parse_share, parse_size, trim_decimals};

/// The fewest grid points a decimal range has between its ends (when it is wide enough).
pub const DECIMAL_POINTS: f64 = 1000.0;

/// The largest grid point: past 2⁵³ an `f64` no longer counts whole steps exactly.
const MAX_POINT: f64 = 9_007_199_254_740_992.0;

/// The most decimals a decimal grid uses.
const MAX_DECIMALS: i32 = 6;

/// The kind of value a field holds, which decides how its range is read and drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `250ms`, `5s`.
    Duration,
    /// A whole number up to `max`.
    Integer {
        /// The largest value the field's type holds.
        max: u64,
    },
    /// A plain number: a factor, a probability.
    Number,
    /// An event rate, `20/s`.
    Rate,
    /// A byte rate, `10KiB/s`.
    ByteRate,
    /// A share, `50%`.
    Share,
    /// A size, `64B`.
    Size,
}

impl Kind {
    /// What a value of this kind is, for messages ("a duration").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Duration => "a duration",
            Kind::Integer { .. } => "a whole number",
            Kind::Number => "a number",
            Kind::Rate => "a rate",
            Kind::ByteRate => "a byte rate",
            Kind::Share => "a share",
            Kind::Size => "a size",
        }
    }

    /// A range of this kind, for messages.
    pub fn example(self) -> &'static str {
        match self {
            Kind::Duration => "5s..20s",
            Kind::Integer { .. } => "10..50",
            Kind::Number => "0.1..0.5",
            Kind::Rate => "10/s..50/s",
            Kind::ByteRate => "10KiB/s..1MiB/s",
            Kind::Share => "10%..40%",
            Kind::Size => "64B..16KiB",
        }
    }

    /// Reads one value of this kind onto the kind's scale: nanoseconds, the number itself,
    /// events or bytes per second, percent, bytes.
    pub fn parse(self, text: &str) -> Result<f64, String> {
        match self {
            Kind::Duration => parse_duration(text).map(|d| d.as_nanos() as f64),
            Kind::Integer { max } => {
                let number: u64 =
                    text.trim().parse().map_err(|_| format!("`{text}` is not a whole number"))?;
                if number > max {
                    return Err(format!("{number} is more than this field holds ({max})"));
                }
                Ok(number as f64)
            }
            Kind::Number => match text.trim().parse::<f64>() {
                Ok(number) if number.is_finite() && number >= 0.0 => Ok(number),
                Ok(number) if number < 0.0 => Err(format!("{number} is negative; no such field takes one")),
                _ => Err(format!("`{text}` is not a number")),
            },
            Kind::Rate => parse_rate(text).map(|rate| rate.per_second),
            Kind::ByteRate => parse_byte_rate(text),
            Kind::Share => parse_share(text).map(|share| share * 100.0),
            Kind::Size => parse_size(text).map(|bytes| bytes as f64),
        }
    }

    /// The grid between the ends of a range: grid point `i` is `i × step / per`, so that both
    /// factors are whole numbers and every point is exact.
    fn grid(self, low: f64, high: f64) -> Grid {
        match self {
            Kind::Duration => {
                let whole = |step: f64| low % step == 0.0 && high % step == 0.0;
                let step = [1e6, 1e3].into_iter().find(|step| whole(*step)).unwrap_or(1.0);
                Grid { step, per: 1.0, decimals: 0 }
            }
            Kind::Integer { .. } | Kind::Size | Kind::ByteRate => Grid { step: 1.0, per: 1.0, decimals: 0 },
            Kind::Number | Kind::Rate | Kind::Share => {
                let decimals = (0..MAX_DECIMALS)
                    .find(|d| (high - low) * 10f64.powi(*d) >= DECIMAL_POINTS)
                    .unwrap_or(MAX_DECIMALS);
                Grid { step: 1.0, per: 10f64.powi(decimals), decimals: decimals as usize }
            }
        }
    }

    /// Writes a grid value the way the field reads it.
    fn format(self, value: f64, decimals: usize) -> String {
        match self {
            Kind::Duration => exact_duration(value as u64),
            Kind::Integer { .. } => format!("{value:.0}"),
            Kind::Size => format!("{value:.0}B"),
            Kind::ByteRate => format!("{value:.0}B/s"),
            Kind::Number => trim_decimals(value, decimals),
            Kind::Rate => format!("{}/s", trim_decimals(value, decimals)),
            Kind::Share => format!("{}%", trim_decimals(value, decimals)),
        }
    }
}

/// Evenly spaced values: point `i` is `i × step / per`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Grid {
    step: f64,
    per: f64,
    decimals: usize,
}

impl Grid {
    /// Where `value` falls on the grid, in points; snapped to a whole point when it is one but
    /// for the rounding of the decimal it came from (`0.1 × 10⁴`).
    fn position(&self, value: f64) -> f64 {
        let position = value * self.per / self.step;
        if (position - position.round()).abs() < 1e-6 { position.round() } else { position }
    }

    fn value(&self, point: u64) -> f64 {
        point as f64 * self.step / self.per
    }
}

/// A duration in nanoseconds, in the largest unit that keeps it whole (`7s`, `7345ms`, `12µs`).
fn exact_duration(nanos: u64) -> String {
    for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("µs", 1_000)] {
        if nanos.is_multiple_of(scale) {
            return format!("{}{unit}", nanos / scale);
        }
    }
    format!("{nanos}ns")
}

/// One end of a range.
#[derive(Clone, Debug, PartialEq)]
struct End {
    /// As the file writes it.
    text: String,
    /// On the kind's scale.
    value: f64,
}

/// A validated range `LOW..HIGH`, LOW ≤ HIGH, both of the field's kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    kind: Kind,
    low: End,
    high: End,
    grid: Grid,
    /// The first grid point above `low`.
    first_inner: u64,
    /// Grid points strictly between the ends.
    inner: u64,
}

impl Range {
    /// Reads `LOW..HIGH` as a range of `kind`, or says what is wrong with it.
    pub fn parse(kind: Kind, text: &str) -> Result<Range, String> {
        let not_a_range = || {
            format!(
                "`{text}` is not a range; write `LOW..HIGH` in the field's kind, like `{}`",
                kind.example()
            )
        };
        let (low, high) = text.split_once("..").ok_or_else(not_a_range)?;
        if high.contains("..") || low.trim().is_empty() || high.trim().is_empty() {
            return Err(not_a_range());
        }
        let end = |which: &str, written: &str| -> Result<End, String> {
            let written = written.trim();
            kind.parse(written)
                .map(|value| End { text: written.to_string(), value })
                .map_err(|message| format!("the {which} end is not {}: {message}", kind.describe()))
        };
        let (low, high) = (end("low", low)?, end("high", high)?);
        if low.value > high.value {
            return Err(format!(
                "the range is backwards: {} is more than {}; write `{}..{}`",
                low.text, high.text, high.text, low.text
            ));
        }
        let grid = kind.grid(low.value, high.value);
        if grid.position(high.value) > MAX_POINT {
            return Err(format!("the high end {} is too large to draw from", high.text));
        }
        let first_inner = grid.position(low.value).floor() + 1.0;
        let last_inner = grid.position(high.value).ceil() - 1.0;
        let inner = (last_inner - first_inner + 1.0).max(0.0);
        Ok(Range { kind, low, high, grid, first_inner: first_inner as u64, inner: inner as u64 })
    }

    /// The kind of its values.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// How many values a draw can give.
    pub fn values(&self) -> u64 {
        if self.low.value == self.high.value { 1 } else { self.inner + 2 }
    }

    /// A value drawn uniformly from the range, as the text the field is written with.
    pub fn draw(&self, rng: &mut impl rand::Rng) -> String {
        let count = self.values();
        let index = if count == 1 { 0 } else { rng.random_range(0..count) };
        if index == 0 {
            self.low.text.clone()
        } else if index == count - 1 {
            self.high.text.clone()
        } else {
            let point = self.grid.value(self.first_inner + index - 1);
            self.kind.format(point, self.grid.decimals)
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.low.text, self.high.text)
    }
}

#[cfg(test)]
mod tests;
