//! `wschaos compare BASE NEW`: per strategy and metric, base → new and the change, and whether
//! the new run regressed.
//!
//! Direction: every metric is "lower is better" (times, counts, attempts) except
//! `availability`, where higher is better. A **regression** is a worsening of a metric's `p99`
//! or `mean` by more than the given percentage of the base value (strictly more; a base of 0
//! that worsens at all counts as an infinite change). `p50` and `max` are shown but never gate:
//! p50 rarely moves alone, and max is one sample. For `availability` only the mean gates: its
//! bad tail is the low end, which p99 does not see. Without a percentage nothing gates — the text
//! is information only, as criterion's. In sim mode runs are deterministic, so no noise band is
//! needed; a live-mode user picks a percentage above the noise.

use std::fmt::Write;

use super::{format_metric_value as format_value, higher_is_better, verdict_word};
use crate::outcome::{RunReport, Stats, StrategyReport};
use crate::units::trim_decimals;

/// The result of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The text to print.
    pub text: String,
    /// Whether a gating figure worsened beyond the percentage.
    pub regressed: bool,
}

/// One compared statistic: its name, how to read it, and whether it can gate.
type Figure = (&'static str, fn(&Stats) -> f64, bool);

/// The statistics compared.
const FIGURES: [Figure; 4] = [
    ("p50", |s| s.p50, false),
    ("p99", |s| s.p99, true),
    ("max", |s| s.max, false),
    ("mean", |s| s.mean, true),
];

/// Compares `new` against `base`. See the file header for the rules.
pub fn compare(base: &RunReport, new: &RunReport, fail_on_regression_pct: Option<f64>) -> Comparison {
    let mut out = String::new();
    let mut regressions = Vec::new();
    // Infallible: writing to a String.
    let _ = writeln!(out, "base: {}", describe(base));
    let _ = writeln!(out, "new:  {}", describe(new));
    if (&base.scenario, &base.engine, base.seed) != (&new.scenario, &new.engine, new.seed) {
        out.push_str("note: the runs differ in scenario, engine or seed; changes may not be like for like\n");
    }
    for strategy in &base.strategies {
        let Some(other) = new.strategies.iter().find(|s| s.name == strategy.name) else {
            continue;
        };
        strategy_section(&mut out, strategy, other, fail_on_regression_pct, &mut regressions);
    }
    let only = |one: &RunReport, other: &RunReport| -> Vec<String> {
        one.strategies
            .iter()
            .filter(|s| !other.strategies.iter().any(|o| o.name == s.name))
            .map(|s| s.name.clone())
            .collect()
    };
    let (only_base, only_new) = (only(base, new), only(new, base));
    if !only_base.is_empty() {
        let _ = writeln!(out, "\nonly in base: {}", only_base.join(", "));
    }
    if !only_new.is_empty() {
        let _ = writeln!(out, "\nonly in new: {}", only_new.join(", "));
    }
    out.push('\n');
    match fail_on_regression_pct {
        None => out.push_str("no --fail-on-regression given: nothing gates\n"),
        Some(pct) if regressions.is_empty() => {
            let _ = writeln!(out, "no regression beyond {}% on p99 or mean", trim_decimals(pct, 2));
        }
        Some(pct) => {
            let _ = writeln!(out, "REGRESSED beyond {}%: {}", trim_decimals(pct, 2), regressions.join("; "));
        }
    }
    Comparison { text: out, regressed: !regressions.is_empty() }
}

fn describe(report: &RunReport) -> String {
    format!(
        "{} · engine {} · seed {} · {} · wschaos {}",
        report.scenario,
        report.engine,
        report.seed,
        verdict_word(report.verdict),
        report.wschaos_version
    )
}

fn strategy_section(
    out: &mut String,
    base: &StrategyReport,
    new: &StrategyReport,
    pct: Option<f64>,
    regressions: &mut Vec<String>,
) {
    let _ = writeln!(out, "\n{} ({} → {})", base.name, verdict_word(base.verdict), verdict_word(new.verdict));
    let _ = writeln!(out, "  {:<28} {:<5} {:>12} {:>12} {:>9}", "metric", "stat", "base", "new", "change");
    for (metric, base_stats) in &base.metrics {
        let Some(new_stats) = new.metrics.get(metric) else {
            let _ = writeln!(out, "  {metric:<28} only in base");
            continue;
        };
        let higher_is_better = higher_is_better(metric);
        for (figure, get, gates) in FIGURES {
            let (old, now) = (get(base_stats), get(new_stats));
            let change = percent_change(old, now);
            let worsening = if higher_is_better { -change } else { change };
            let mut line = format!(
                "  {metric:<28} {figure:<5} {:>12} {:>12} {:>9}",
                format_value(metric, old),
                format_value(metric, now),
                format_change(change)
            );
            let gates = gates && !(higher_is_better && figure == "p99");
            if let Some(pct) = pct.filter(|&pct| gates && worsening > pct) {
                line.push_str("  REGRESSED");
                regressions.push(format!(
                    "{} {metric} {figure} {} → {} ({}, limit {}%)",
                    base.name,
                    format_value(metric, old),
                    format_value(metric, now),
                    format_change(change),
                    trim_decimals(pct, 2)
                ));
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    for metric in new.metrics.keys().filter(|m| !base.metrics.contains_key(*m)) {
        let _ = writeln!(out, "  {metric:<28} only in new");
    }
}

/// `(new − base) / |base|` in percent; 0 when both are 0, ±∞ from a zero base.
fn percent_change(base: f64, new: f64) -> f64 {
    if base == new {
        0.0
    } else if base == 0.0 {
        if new > 0.0 { f64::INFINITY } else { f64::NEG_INFINITY }
    } else {
        (new - base) / base.abs() * 100.0
    }
}

fn format_change(change: f64) -> String {
    if change.is_infinite() {
        if change > 0.0 { "+inf%".to_string() } else { "-inf%".to_string() }
    } else {
        format!("{change:+.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    fn with_p99_scaled(factor: f64) -> RunReport {
        let mut report = example::report();
        let stats = report.strategies[1].metrics.get_mut("recovery_time").unwrap();
        stats.p99 *= factor;
        report
    }

    #[test]
    fn a_20_percent_p99_regression_fails_at_10() {
        let comparison = compare(&example::report(), &with_p99_scaled(1.2), Some(10.0));
        assert!(comparison.regressed, "{}", comparison.text);
        assert!(
            comparison.text.contains(
                "recovery_time                p99             9s        10.8s    +20.0%  REGRESSED"
            ),
            "{}",
            comparison.text
        );
        assert!(
            comparison
                .text
                .contains("REGRESSED beyond 10%: fixed-1s recovery_time p99 9s → 10.8s (+20.0%, limit 10%)"),
            "{}",
            comparison.text
        );
    }

    #[test]
    fn the_same_regression_passes_a_looser_limit_and_without_a_limit() {
        assert!(!compare(&example::report(), &with_p99_scaled(1.2), Some(25.0)).regressed);
        let ungated = compare(&example::report(), &with_p99_scaled(1.2), None);
        assert!(!ungated.regressed);
        assert!(ungated.text.ends_with("no --fail-on-regression given: nothing gates\n"), "{}", ungated.text);
    }

    #[test]
    fn an_equal_run_passes_with_zero_change() {
        let comparison = compare(&example::report(), &example::report(), Some(0.0));
        assert!(!comparison.regressed, "{}", comparison.text);
        assert!(comparison.text.contains("+0.0%"));
        assert!(!comparison.text.contains("+20"));
        assert!(comparison.text.ends_with("no regression beyond 0% on p99 or mean\n"));
    }

    #[test]
    fn an_improvement_is_not_a_regression_and_availability_points_up() {
        assert!(!compare(&example::report(), &with_p99_scaled(0.5), Some(10.0)).regressed);
        let mut worse = example::report();
        worse.strategies[0].metrics.get_mut("availability").unwrap().mean *= 0.8;
        let comparison = compare(&example::report(), &worse, Some(10.0));
        assert!(comparison.regressed, "{}", comparison.text);
        let mut high_tail_only = example::report();
        high_tail_only.strategies[0].metrics.get_mut("availability").unwrap().p99 *= 0.8;
        assert!(!compare(&example::report(), &high_tail_only, Some(10.0)).regressed);
        assert!(
            comparison.text.contains("socketio availability mean 99% → 79.2% (-20.0%"),
            "{}",
            comparison.text
        );
    }

    #[test]
    fn a_zero_base_that_grows_regresses_and_one_sided_strategies_are_listed() {
        let mut base = example::report();
        base.strategies[0].metrics.get_mut("excess_after_heal").unwrap().mean = 0.0;
        base.strategies.push(StrategyReport { name: "old-only".to_string(), ..base.strategies[0].clone() });
        let comparison = compare(&base, &example::report(), Some(1000.0));
        assert!(comparison.regressed, "{}", comparison.text);
        assert!(comparison.text.contains("+inf%"));
        assert!(comparison.text.contains("only in base: old-only"), "{}", comparison.text);
    }

    #[test]
    fn percent_change_edges() {
        assert_eq!(percent_change(0.0, 0.0), 0.0);
        assert_eq!(percent_change(2.0, 3.0), 50.0);
        assert_eq!(percent_change(2.0, 1.0), -50.0);
        assert_eq!(percent_change(0.0, 1.0), f64::INFINITY);
    }
}
