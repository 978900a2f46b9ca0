//! SLO thresholds: the metric vocabulary of docs/measurement.md and k6-style expressions over it
//! (`p(99) < 8s`, `count == 0`, `mean >= 99%`).

use std::fmt;
use std::time::Duration;

use crate::suggest::did_you_mean;
use crate::units::{format_duration, parse_duration, trim_float};

/// What one value of a metric is, which decides the aggregates and units it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricShape {
    /// A duration per incident or per message: p(N), min, max, mean, sum in time; count.
    Duration,
    /// A number per incident: p(N), min, max, mean, sum, count.
    Number,
    /// Events that are only counted: count.
    Events,
    /// A fraction per client (0–1): p(N), min, max, mean.
    Fraction,
    /// One figure per run: value.
    Single,
}

/// One metric of the SLO vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Name used in `slo:`.
    pub name: &'static str,
    /// What a value is.
    pub shape: MetricShape,
    /// Whether the metric needs a workload (messages) to exist.
    pub needs_workload: bool,
}

const fn metric(name: &'static str, shape: MetricShape, needs_workload: bool) -> Metric {
    Metric { name, shape, needs_workload }
}

/// The SLO vocabulary: the figures docs/measurement.md defines, and the ones measured at the
/// proxy that docs/programs.md adds ("What is measured"); `wschaos schema` lists every name.
pub const METRICS: &[Metric] = &[
    metric("recovery_time", MetricShape::Duration, false),
    metric("detect_time", MetricShape::Duration, false),
    metric("reconnect_time", MetricShape::Duration, false),
    metric("resync_time", MetricShape::Duration, false),
    metric("tls_time", MetricShape::Duration, false),
    metric("excess_after_heal", MetricShape::Duration, false),
    metric("attempts", MetricShape::Number, false),
    metric("incidents", MetricShape::Events, false),
    metric("messages_lost", MetricShape::Events, true),
    metric("messages_duplicated", MetricShape::Events, true),
    metric("messages_reordered", MetricShape::Events, true),
    metric("message_latency", MetricShape::Duration, true),
    metric("availability", MetricShape::Fraction, false),
    metric("gave_up", MetricShape::Events, false),
    metric("peak_attempts_per_second", MetricShape::Single, false),
    // One value per run: from the first break to the last client back (the AWS article's
    // "completion time", docs/measurement.md).
    metric("completion_time", MetricShape::Duration, false),
    metric("observed_recovery_time", MetricShape::Duration, false),
    metric("observed_detect_time", MetricShape::Duration, false),
    metric("observed_attempts", MetricShape::Number, false),
    metric("attempt_interval", MetricShape::Duration, false),
    metric("client_ping_interval", MetricShape::Duration, false),
    metric("unanswered_pings", MetricShape::Events, false),
    metric("unconverged", MetricShape::Events, false),
];

/// Looks a metric up by name.
pub fn find_metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// How a metric's values are reduced to one figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregate {
    /// The N-th percentile, 0 < N ≤ 100.
    Percentile(f64),
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Arithmetic mean.
    Mean,
    /// Number of values (events).
    Count,
    /// Sum of values.
    Sum,
    /// The metric's single figure.
    Value,
}

const AGGREGATE_NAMES: &[&str] = &["p(N)", "min", "max", "mean", "count", "sum", "value"];

impl Aggregate {
    /// Whether this aggregate applies to metrics of `shape`.
    fn applies_to(self, shape: MetricShape) -> bool {
        use MetricShape as S;
        match self {
            Aggregate::Percentile(_) | Aggregate::Min | Aggregate::Max | Aggregate::Mean => {
                matches!(shape, S::Duration | S::Number | S::Fraction)
            }
            Aggregate::Sum => matches!(shape, S::Duration | S::Number),
            Aggregate::Count => matches!(shape, S::Duration | S::Number | S::Events),
            Aggregate::Value => shape == S::Single,
        }
    }

    /// The aggregates that apply to `shape`, for error messages.
    fn valid_for(shape: MetricShape) -> Vec<&'static str> {
        let all = [
            ("p(N)", Aggregate::Percentile(50.0)),
            ("min", Aggregate::Min),
            ("max", Aggregate::Max),
            ("mean", Aggregate::Mean),
            ("count", Aggregate::Count),
            ("sum", Aggregate::Sum),
            ("value", Aggregate::Value),
        ];
        all.iter().filter(|(_, a)| a.applies_to(shape)).map(|(n, _)| *n).collect()
    }

    /// Whether the aggregated figure is a duration (for durations other than count).
    fn yields_duration(self, shape: MetricShape) -> bool {
        shape == MetricShape::Duration && self != Aggregate::Count
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregate::Percentile(p) => write!(f, "p({})", trim_float(*p)),
            Aggregate::Min => write!(f, "min"),
            Aggregate::Max => write!(f, "max"),
            Aggregate::Mean => write!(f, "mean"),
            Aggregate::Count => write!(f, "count"),
            Aggregate::Sum => write!(f, "sum"),
            Aggregate::Value => write!(f, "value"),
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

impl Operator {
    /// Whether `measured <op> limit` holds.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Operator::Less => measured < limit,
            Operator::LessOrEqual => measured <= limit,
            Operator::Greater => measured > limit,
            Operator::GreaterOrEqual => measured >= limit,
            Operator::Equal => measured == limit,
            Operator::NotEqual => measured != limit,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
        }
    }
}

/// The right-hand side of a threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// A duration, for time metrics.
    Duration(Duration),
    /// A plain number (counts, attempts, fractions, rates).
    Number(f64),
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Duration(d) => write!(f, "{}", format_duration(*d)),
            Bound::Number(n) => write!(f, "{}", trim_float(*n)),
        }
    }
}

/// One parsed threshold such as `p(99) < 8s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    /// How values are reduced.
    pub aggregate: Aggregate,
    /// The comparison operator.
    pub operator: Operator,
    /// The value it compares against.
    pub bound: Bound,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.aggregate, self.operator.symbol(), self.bound)
    }
}

/// Every threshold on one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct SloRule {
    /// The metric.
    pub metric: &'static Metric,
    /// Its thresholds, in file order.
    pub thresholds: Vec<Threshold>,
}

/// Checks a metric name, suggesting the closest and listing all when unknown.
pub fn parse_metric(name: &str) -> Result<&'static Metric, (String, Option<String>)> {
    find_metric(name).ok_or_else(|| {
        let names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        (
            format!("unknown SLO metric `{name}`; the metrics are {}", names.join(", ")),
            did_you_mean(name, names.iter().copied()),
        )
    })
}

fn parse_aggregate(text: &str) -> Result<Aggregate, (String, Option<String>)> {
    let named = match text {
        "min" => Some(Aggregate::Min),
        "max" => Some(Aggregate::Max),
        "mean" | "avg" => Some(Aggregate::Mean),
        "count" => Some(Aggregate::Count),
        "sum" => Some(Aggregate::Sum),
        "value" => Some(Aggregate::Value),
        _ => None,
    };
    if let Some(aggregate) = named {
        return Ok(aggregate);
    }
    if let Some(inner) = text.strip_prefix("p(").and_then(|rest| rest.strip_suffix(')')) {
        let percent: f64 = inner
            .trim()
            .parse()
            .map_err(|_| (format!("`{text}`: the percentile must be a number, like p(99)"), None))?;
        if !(percent > 0.0 && percent <= 100.0) {
            return Err((format!("`{text}`: the percentile must be above 0 and at most 100"), None));
        }
        return Ok(Aggregate::Percentile(percent));
    }
    Err((
        format!("unknown aggregate `{text}`; expected one of {}", AGGREGATE_NAMES.join(", ")),
        did_you_mean(text, ["min", "max", "mean", "count", "sum", "value", "p(99)"]),
    ))
}

/// Parses one threshold expression for `metric`. Errors carry a message and maybe a hint.
pub fn parse_threshold(metric: &Metric, text: &str) -> Result<Threshold, (String, Option<String>)> {
    const OPERATORS: &[(&str, Operator)] = &[
        ("<=", Operator::LessOrEqual),
        (">=", Operator::GreaterOrEqual),
        ("==", Operator::Equal),
        ("!=", Operator::NotEqual),
        ("<", Operator::Less),
        (">", Operator::Greater),
    ];
    for (wrong, right) in [("=>", ">="), ("=<", "<="), ("<>", "!=")] {
        if text.contains(wrong) {
            return Err((
                format!("`{text}`: `{wrong}` is not a comparison"),
                Some(format!("did you mean `{right}`?")),
            ));
        }
    }
    let found = OPERATORS
        .iter()
        .filter_map(|(symbol, comparison)| text.find(symbol).map(|at| (at, *symbol, *comparison)));
    let Some((at, symbol, comparison)) = found.min_by_key(|(at, symbol, _)| (*at, usize::MAX - symbol.len()))
    else {
        if text.contains('=') {
            return Err((
                format!("`{text}`: `=` is not a comparison"),
                Some("did you mean `==`?".to_string()),
            ));
        }
        if text.contains('=') {
            return Err((
                format!("`{text}`: `=` is not a comparison"),
                Some("did you mean `==`?".to_string()),
            ));
        }
        return Err((
            format!("`{text}` has no comparison; write it like `p(99) < 8s` (<, <=, >, >=, ==, !=)"),
            None,
        ));
    };
    let left = text[..at].trim();
    let right = text[at + symbol.len()..].trim();
    let aggregate = parse_aggregate(left)?;
    if !aggregate.applies_to(metric.shape) {
        return Err((
            format!(
                "`{aggregate}` does not apply to {}; use one of {}",
                metric.name,
                Aggregate::valid_for(metric.shape).join(", ")
            ),
            None,
        ));
    }
    let limit = parse_bound(metric, aggregate, right)?;
    Ok(Threshold { aggregate, operator: comparison, bound: limit })
}

fn parse_bound(metric: &Metric, aggregate: Aggregate, text: &str) -> Result<Bound, (String, Option<String>)> {
    if text.is_empty() {
        return Err(("the threshold has no value after the comparison".to_string(), None));
    }
    if aggregate.yields_duration(metric.shape) {
        return parse_duration(text)
            .map(Bound::Duration)
            .map_err(|message| (format!("{} {aggregate} is a duration: {message}", metric.name), None));
    }
    let (number, percent) = match text.strip_suffix('%') {
        Some(number) => (number.trim(), true),
        None => (text, false),
    };
    let value: f64 = number.parse().map_err(|_| {
        (format!("`{text}` is not a number; {} {aggregate} is compared with a number", metric.name), None)
    })?;
    if percent && metric.shape != MetricShape::Fraction {
        return Err((format!("a percentage only fits availability, not {}", metric.name), None));
    }
    let value = if percent { value / 100.0 } else { value };
    if metric.shape == MetricShape::Fraction && !(0.0..=1.0).contains(&value) {
        return Err((format!("availability is between 0 and 1 (or 0% and 100%); got `{text}`"), None));
    }
    if !value.is_finite() || value < 0.0 {
        return Err((format!("`{text}`: the limit must be a finite number, 0 or more"), None));
    }
    Ok(Bound::Number(value))
}

#[cfg(test)]
mod tests;
