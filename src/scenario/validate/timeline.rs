//! When a fault plays: once (`at`, `for`) or repeatedly (`every` ± jitter, `from`, `until`,
//! `times`), always inside the run.

use std::time::Duration;

use super::Checker;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::units::format_duration;

/// The fault's timeline: a start `at` one time or `every` period, never both and never neither.
pub(super) fn timeline(
    check: &mut Checker,
    path: &str,
    spec: &FaultSpec,
    fault: FaultKind,
    duration: Duration,
) -> Option<Timeline> {
    let lasts = lasts(check, path, spec, fault);
    match (&spec.at, &spec.every) {
        (Some(_), Some(_)) => {
            check.report(
                Diagnostic::at(
                    field(path, "every"),
                    "a fault starts either `at` one time or `every` period, not both",
                )
                .on_key(),
            );
            None
        }
        (None, None) => {
            check.report(
                Diagnostic::at(path, "this fault has no start time").help("add `at: 5s` or `every: 10s`"),
            );
            None
        }
        (Some(at), None) => once(check, path, spec, at, lasts, duration),
        (None, Some(every)) => repeated(check, path, spec, every, lasts, duration),
    }
}

/// The path of the entry's field `name`.
fn field(path: &str, name: &str) -> String {
    format!("{path}.{name}")
}

/// How long each occurrence lasts (`for`), which a fault that acts once may not set.
fn lasts(check: &mut Checker, path: &str, spec: &FaultSpec, fault: FaultKind) -> Option<Duration> {
    match &spec.lasts {
        Some(_) if fault.is_instant() => {
            check.report(
                Diagnostic::at(
                    field(path, "for"),
                    format!("`{}` acts once and has no duration; remove `for`", fault.name()),
                )
                .on_key(),
            );
            None
        }
        Some(text) => check.positive(&field(path, "for"), text),
        None => None,
    }
}

/// Reports a start (field `name`, at `at`) that is not before the end of the faults.
fn before_end(check: &mut Checker, path: &str, name: &str, at: Duration, duration: Duration) {
    if at >= duration {
        check.error(
            field(path, name),
            format!(
                "{} is not before the end of the faults at duration {}; faults play in [0s, duration)",
                format_duration(at),
                format_duration(duration)
            ),
        );
    }
}

/// A fault that starts once, `at`: no `every`-only fields, and over by `duration`.
fn once(
    check: &mut Checker,
    path: &str,
    spec: &FaultSpec,
    at: &DurationText,
    lasts: Option<Duration>,
    duration: Duration,
) -> Option<Timeline> {
    for (name, set) in
        [("from", spec.from.is_some()), ("until", spec.until.is_some()), ("times", spec.times.is_some())]
    {
        if set {
            check.report(
                Diagnostic::at(field(path, name), format!("`{name}` only applies with `every`"))
                    .help("use `at` and `for` for one occurrence")
                    .on_key(),
            );
        }
    }
    let at = check.duration(&field(path, "at"), at)?;
    before_end(check, path, "at", at, duration);
    if let Some(lasts) = lasts
        && at + lasts > duration
    {
        check.report(
            Diagnostic::at(
                field(path, "for"),
                format!(
                    "the fault would end at {}, after duration {}",
                    format_duration(at + lasts),
                    format_duration(duration)
                ),
            )
            .help("shorten `for`, or remove it to last until the heal at `duration`"),
        );
    }
    Some(Timeline::Once { at, lasts })
}

/// A fault that starts every period from `from` until `until`, its occurrences never
/// overlapping.
fn repeated(
    check: &mut Checker,
    path: &str,
    spec: &FaultSpec,
    every: &JitteredText,
    lasts: Option<Duration>,
    duration: Duration,
) -> Option<Timeline> {
    let period = check.jittered(&field(path, "every"), every)?;
    if period.min().is_zero() {
        check.error(field(path, "every"), "the period must stay above 0s, jitter included");
        return None;
    }
    let from = match &spec.from {
        Some(text) => check.duration(&field(path, "from"), text)?,
        None => Duration::ZERO,
    };
    before_end(check, path, "from", from, duration);
    let until = until(check, path, spec, from, duration)?;
    if spec.times == Some(0) {
        check.error(field(path, "times"), "a fault that happens 0 times does nothing; remove the entry");
    }
    if let Some(lasts) = lasts
        && lasts >= period.min()
    {
        check.report(
            Diagnostic::at(
                field(path, "for"),
                format!(
                    "each occurrence lasts {}, but the next can start after {}: occurrences would overlap",
                    format_duration(lasts),
                    format_duration(period.min())
                ),
            )
            .help("make `for` shorter than `every` minus its jitter"),
        );
    }
    Some(Timeline::Every { period, from, until, times: spec.times, lasts })
}

/// The time after which a repeated fault starts no more: `until`, not after `duration` and
/// after `from`, or `duration` when left out.
fn until(
    check: &mut Checker,
    path: &str,
    spec: &FaultSpec,
    from: Duration,
    duration: Duration,
) -> Option<Duration> {
    let Some(text) = &spec.until else {
        return Some(duration);
    };
    let until = check.duration(&field(path, "until"), text)?;
    if until > duration {
        check.error(
            field(path, "until"),
            format!("{} is after duration {}", format_duration(until), format_duration(duration)),
        );
    }
    if until <= from {
        check.error(
            field(path, "until"),
            format!("`until` {} is not after `from` {}", format_duration(until), format_duration(from)),
        );
    }
    Some(until)
}
