//! Typed scenario values written as text: durations (`250ms`), jittered durations (`2ms ± 1ms`),
//! event rates (`20/s`), sizes (`16KiB`), byte rates (`10KiB/s`), shares (`50%`) and counts
//! (`10` or `unlimited`).
//!
//! Each parser is a pure function from the text to the value, returning a message that says what
//! was expected. The caller (scenario/validate/) attaches the field path and the source location.

use std::fmt;
use std::time::Duration;

use crate::suggest::closest;

/// Units a duration may carry, longest first so that `ms` wins over `m`.
const DURATION_UNITS: &[(&str, f64)] =
    &[("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];

/// Units a size may carry. Binary units (KiB) are powers of 1024, decimal ones (kB) of 1000.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
];

/// Per-time units for rates.
const RATE_UNITS: &[(&str, f64)] = &[("s", 1.0), ("m", 60.0), ("h", 3600.0)];

/// The longest duration a scenario may name: a week. Longer values are almost certainly typos
/// (`5000h`), and keeping them bounded keeps every later `Duration` arithmetic free of overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Splits `"250ms"` into the number and the unit.
fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .map_or(text.len(), |(i, _)| i);
    (text[..end].trim(), text[end..].trim())
}

fn parse_number(number: &str, what: &str, example: &str) -> Result<f64, String> {
    parse_number_in(number, number, what, example)
}

/// Like `parse_number`, naming the whole `text` the user wrote in messages.
fn parse_number_in(number: &str, text: &str, what: &str, example: &str) -> Result<f64, String> {
    if number.is_empty() {
        return Err(format!("expected {what} starting with a number, like `{example}`"));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{number}` is not a number; expected {what} like `{example}`"))?;
    if !value.is_finite() {
        return Err(format!("`{number}` is not a finite number"));
    }
    if value < 0.0 {
        return Err(format!("{what} cannot be negative (got `{text}`)"));
    }
    Ok(value)
}

fn unknown_unit(unit: &str, valid: &[&str], what: &str) -> String {
    let mut message = format!(
        "unknown {what} unit `{unit}`; expected one of {}",
        valid.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
    );
    if let Some(best) = closest(unit, valid.iter().copied()) {
        message.push_str(&format!(" (did you mean `{best}`?)"));
    }
    message
}

/// Parses a duration such as `250ms`, `5s`, `2m`, `1h` or `1.5s`. A bare number is rejected,
/// because `5` could mean seconds or milliseconds and guessing wrong silently skews every figure.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = split_number(text);
    let value = parse_number_in(number, text, "a duration", "5s")?;
    if unit.contains('±') || unit.contains("+-") {
        return Err(format!(
            "`{text}` has a spread, but this field takes one duration (latency takes its spread in `jitter`)"
        ));
    }
    if unit.contains(char::is_whitespace) || unit.contains('~') {
        return Err(format!(
            "`{text}` is not a duration; write one like `5s`, or `10s ± 3s` (also `10s +- 3s`) where a spread is allowed"
        ));
    }
    if unit.is_empty() {
        return Err(format!("`{text}` has no unit; write a duration like `{number}s` or `{number}ms`"));
    }
    let scale =
        DURATION_UNITS.iter().find(|(name, _)| *name == unit).map(|(_, scale)| *scale).ok_or_else(|| {
            let names: Vec<&str> = DURATION_UNITS.iter().map(|(n, _)| *n).collect();
            unknown_unit(unit, &names, "duration")
        })?;
    let seconds = value * scale;
    if seconds > MAX_DURATION.as_secs_f64() {
        return Err(format!("`{text}` is longer than the longest duration allowed, 168h"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration with a symmetric random spread: `10s ± 3s` (also written `10s +- 3s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Jittered {
    /// The centre value.
    pub base: Duration,
    /// The spread either side of `base`; zero when no `±` part was written.
    pub jitter: Duration,
}

impl Jittered {
    /// The smallest value a draw can take.
    pub fn min(&self) -> Duration {
        self.base.saturating_sub(self.jitter)
    }

    /// The largest value a draw can take.
    pub fn max(&self) -> Duration {
        self.base + self.jitter
    }

    /// A value drawn uniformly from [`min`](Self::min)..=[`max`](Self::max); exactly `base`
    /// (and no draw) when there is no jitter.
    pub fn draw(&self, rng: &mut impl rand::Rng) -> Duration {
        use rand::RngExt;
        if self.jitter.is_zero() { self.base } else { rng.random_range(self.min()..=self.max()) }
    }
}

/// How a [`Jittered`] value spreads around its base.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spread {
    /// Uniform in `[base − jitter, base + jitter]`.
    #[default]
    Uniform,
    /// `|N(base, jitter)|`: a normal distribution with `jitter` as its standard deviation,
    /// folded at zero. This is the network delay of the AWS backoff simulator
    /// (`abs(normal(10, 2))` ms in aws-samples/aws-arch-backoff-simulator,
    /// shared/research/reconnect.md §1.1).
    Normal,
}

impl Spread {
    /// The word the scenario language uses for it.
    pub fn word(self) -> &'static str {
        match self {
            Spread::Uniform => "uniform",
            Spread::Normal => "normal",
        }
    }
}

impl Jittered {
    /// A value drawn with `spread`: [`Jittered::draw`] for uniform; for normal, `|N(base,
    /// jitter)|` from two uniform draws (Box–Muller), so it needs no distribution crate and
    /// repeats with the seed. No jitter draws nothing, whatever the spread.
    pub fn draw_with(&self, spread: Spread, rng: &mut impl rand::Rng) -> Duration {
        use rand::RngExt;
        match spread {
            Spread::Uniform => self.draw(rng),
            Spread::Normal if self.jitter.is_zero() => self.base,
            Spread::Normal => {
                // u1 in (0, 1] keeps the logarithm finite.
                let u1: f64 = 1.0 - rng.random::<f64>();
                let u2: f64 = rng.random::<f64>();
                let standard = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let seconds = self.base.as_secs_f64() + standard * self.jitter.as_secs_f64();
                Duration::from_secs_f64(seconds.abs().min(MAX_DURATION.as_secs_f64()))
            }
        }
    }
}

impl fmt::Display for Jittered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.jitter.is_zero() {
            write!(f, "{}", format_duration(self.base))
        } else {
            write!(f, "{} ± {}", format_duration(self.base), format_duration(self.jitter))
        }
    }
}

/// Parses `D`, `D ± J` or `D +- J`. The jitter may not exceed the base: a negative draw has no
/// meaning for a delay.
pub fn parse_jittered(text: &str) -> Result<Jittered, String> {
    let (base, jitter) = match text.split_once('±').or_else(|| text.split_once("+-")) {
        Some((base, jitter)) => (base, Some(jitter)),
        None => (text, None),
    };
    let base = parse_duration(base)?;
    let jitter = jitter.map(parse_duration).transpose()?.unwrap_or_default();
    if jitter > base {
        return Err(format!(
            "the jitter ({}) is larger than the value ({}), which would allow negative draws",
            format_duration(jitter),
            format_duration(base)
        ));
    }
    Ok(Jittered { base, jitter })
}

/// Events per second, written `20/s`, `1200/m` or `3/h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Events per second; always finite and positive.
    pub per_second: f64,
}

impl Rate {
    /// The time between two events at this rate.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", trim_float(self.per_second))
    }
}

fn split_per(text: &str, what: &str, example: &str) -> Result<(String, f64), String> {
    let text = text.trim();
    let (amount, unit) =
        text.split_once('/').ok_or_else(|| format!("`{text}` is not {what}; write it like `{example}`"))?;
    let unit = unit.trim();
    let scale =
        RATE_UNITS.iter().find(|(name, _)| *name == unit).map(|(_, scale)| *scale).ok_or_else(|| {
            let names: Vec<&str> = RATE_UNITS.iter().map(|(n, _)| *n).collect();
            unknown_unit(unit, &names, "rate")
        })?;
    Ok((amount.trim().to_string(), scale))
}

/// Parses an event rate. Zero is rejected: a rate of nothing is written by leaving the field out.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let (amount, scale) = split_per(text, "a rate", "20/s")?;
    let count = parse_number(&amount, "a rate", "20/s")?;
    if count == 0.0 {
        return Err("a rate must be above zero".to_string());
    }
    Ok(Rate { per_second: count / scale })
}

/// Parses a size such as `64B`, `16KiB` or `1MiB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = split_number(text);
    let value = parse_number(number, "a size", "16KiB")?;
    if unit.is_empty() {
        return Err(format!("`{text}` has no unit; write a size like `{number}B` or `{number}KiB`"));
    }
    let scale =
        SIZE_UNITS.iter().find(|(name, _)| *name == unit).map(|(_, scale)| *scale).ok_or_else(|| {
            let names: Vec<&str> = SIZE_UNITS.iter().map(|(n, _)| *n).collect();
            unknown_unit(unit, &names, "size")
        })?;
    let bytes = value * scale as f64;
    if bytes.fract() != 0.0 {
        return Err(format!("`{text}` is not a whole number of bytes"));
    }
    if bytes > (1u64 << 40) as f64 {
        return Err(format!("`{text}` is larger than 1TiB"));
    }
    Ok(bytes as u64)
}

/// Parses a byte rate such as `10KiB/s`, in bytes per second.
pub fn parse_byte_rate(text: &str) -> Result<f64, String> {
    let (amount, scale) = split_per(text, "a byte rate", "10KiB/s")?;
    let bytes = parse_size(&amount)?;
    if bytes == 0 {
        return Err("a byte rate must be above zero".to_string());
    }
    Ok(bytes as f64 / scale)
}

/// Parses a share written as a percentage, `50%` or `12.5%`, into a fraction of one.
pub fn parse_share(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let number = text
        .strip_suffix('%')
        .ok_or_else(|| format!("`{text}` is not a share; write a percentage like `50%`"))?;
    let value = parse_number(number.trim(), "a share", "50%")?;
    if value > 100.0 {
        return Err(format!("a share cannot exceed 100% (got `{text}`)"));
    }
    Ok(value / 100.0)
}

/// Formats a duration the way a scenario writes it: `250ms`, `1.5s`, `2m`, `1h`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if duration.is_zero() {
        "0s".to_string()
    } else if seconds < 1e-3 {
        format!("{}µs", trim_float(seconds * 1e6))
    } else if seconds < 1.0 {
        format!("{}ms", trim_float(seconds * 1e3))
    } else if seconds >= 3600.0 && (seconds / 3600.0).fract() == 0.0 {
        format!("{}h", seconds / 3600.0)
    } else if seconds >= 60.0 && (seconds / 60.0).fract() == 0.0 {
        format!("{}m", seconds / 60.0)
    } else {
        format!("{}s", trim_float(seconds))
    }
}

/// Formats a size in the largest binary unit that keeps it whole.
pub fn format_size(bytes: u64) -> String {
    for (unit, scale) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= scale && bytes.is_multiple_of(scale) {
            return format!("{}{unit}", bytes / scale);
        }
    }
    format!("{bytes}B")
}

/// Prints a float with at most two decimals and no trailing zeros: `1.5`, `3.1`, `90`.
pub fn trim_float(value: f64) -> String {
    trim_decimals(value, 2)
}

/// Prints a float with at most `places` decimals and no trailing zeros.
pub fn trim_decimals(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Seconds for people: `0s`, `850µs`, `450ms`, `12.5ms`, `1.23s`, `95.1s`.
pub fn format_seconds(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "n/a".to_string();
    }
    let magnitude = seconds.abs();
    if magnitude == 0.0 {
        "0s".to_string()
    } else if magnitude < 1e-3 {
        format!("{}µs", trim_float(seconds * 1e6))
    } else if magnitude < 1.0 {
        format!("{}ms", trim_float(seconds * 1e3))
    } else {
        format!("{}s", trim_float(seconds))
    }
}

#[cfg(test)]
mod tests;
