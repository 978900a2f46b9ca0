//! When a fault plays (at / for / every ± jitter / from / until / times); what it hits is in `target`.

use std::time::Duration;

use super::Checker;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::units::format_duration;

pub(super) fn timeline(
    check: &mut Checker,
    path: &str,
    spec: &FaultSpec,
    fault: FaultKind,
    duration: Duration,
) -> Option<Timeline> {
    let field = |name: &str| format!("{path}.{name}");
    let lasts = match &spec.lasts {
        Some(_) if fault.is_instant() => {
            check.report(
                Diagnostic::at(
                    field("for"),
                    format!("`{}` acts once and has no duration; remove `for`", fault.name()),
                )
                .on_key(),
            );
            None
        }
        Some(text) => check.positive(&field("for"), text),
        None => None,
    };
    let past_end = |check: &mut Checker, name: &str, at: Duration| {
        if at >= duration {
            check.error(
                field(name),
                format!(
                    "{} is not before the end of the faults at duration {}; faults play in [0s, duration)",
                    format_duration(at),
                    format_duration(duration)
                ),
            );
        }
    };
    match (&spec.at, &spec.every) {
        (Some(_), Some(_)) => {
            check.report(
                Diagnostic::at(
                    field("every"),
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
        (Some(at), None) => {
            for (name, set) in [
                ("from", spec.from.is_some()),
                ("until", spec.until.is_some()),
                ("times", spec.times.is_some()),
            ] {
                if set {
                    check.report(
                        Diagnostic::at(field(name), format!("`{name}` only applies with `every`"))
                            .help("use `at` and `for` for one occurrence")
                            .on_key(),
                    );
                }
            }
            let at = check.duration(&field("at"), at)?;
            past_end(check, "at", at);
            if let Some(lasts) = lasts
                && at + lasts > duration
            {
                check.report(
                    Diagnostic::at(
                        field("for"),
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
        (None, Some(every)) => {
            let period = check.jittered(&field("every"), every)?;
            if period.min().is_zero() {
                check.error(field("every"), "the period must stay above 0s, jitter included");
                return None;
            }
            let from = match &spec.from {
                Some(text) => check.duration(&field("from"), text)?,
                None => Duration::ZERO,
            };
            past_end(check, "from", from);
            let until = match &spec.until {
                Some(text) => {
                    let until = check.duration(&field("until"), text)?;
                    if until > duration {
                        check.error(
                            field("until"),
                            format!(
                                "{} is after duration {}",
                                format_duration(until),
                                format_duration(duration)
                            ),
                        );
                    }
                    if until <= from {
                        check.error(
                            field("until"),
                            format!(
                                "`until` {} is not after `from` {}",
                                format_duration(until),
                                format_duration(from)
                            ),
                        );
                    }
                    until
                }
                None => duration,
            };
            if spec.times == Some(0) {
                check.error(field("times"), "a fault that happens 0 times does nothing; remove the entry");
            }
            if let Some(lasts) = lasts
                && lasts >= period.min()
            {
                check.report(
                        Diagnostic::at(
                            field("for"),
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
    }
}
