//! The small pieces of text every format shares: the verdict word, repro commands quoted for
//! a shell, metric values in their units, Markdown cells, and the lists of faults that hit
//! nothing or could not be applied.

use crate::outcome::{RunReport, StrategyReport, Verdict};
use crate::units::{format_seconds, trim_decimals};

/// The verdict as one upper-case word.
pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::Interrupted => "INTERRUPTED",
    }
}

/// The command that reruns one strategy of this run: with `--seeds` when the run was a swarm
/// seed's draw, which `--seed` alone would not repeat.
pub fn repro_line(report: &RunReport, strategy: &str) -> String {
    if report.swarm_draw.is_empty() {
        repro_command(&report.file, &report.engine, report.seed, &[strategy])
    } else {
        swarm_repro_command(&report.file, report.seed, &[strategy])
    }
}

/// The `wschaos run` command for `file` on `engine` with `seed`, limited to `strategies` when
/// any are given, quoted for a POSIX shell.
pub fn repro_command(file: &str, engine: &str, seed: u64, strategies: &[&str]) -> String {
    run_command(file, engine, &format!("--seed {seed}"), strategies)
}

/// The command that repeats one seed of a swarm (its draw and its run) on the sim engine,
/// limited to `strategies` when any are given.
pub fn swarm_repro_command(file: &str, seed: u64, strategies: &[&str]) -> String {
    run_command(file, "sim", &format!("--seeds {seed}"), strategies)
}

fn run_command(file: &str, engine: &str, seed: &str, strategies: &[&str]) -> String {
    let mut line = format!("wschaos run {} --engine {} {seed}", shell_quote(file), shell_quote(engine));
    for strategy in strategies {
        line.push_str(" --strategy ");
        line.push_str(&shell_quote(strategy));
    }
    line
}

/// Whether a larger figure of `metric` is better (availability); every other metric is
/// lower-is-better.
pub fn higher_is_better(metric: &str) -> bool {
    metric == "availability"
}

/// A value in its metric's unit: times as `1.23s`, availability as a percentage, else a number.
pub fn format_metric_value(metric: &str, value: f64) -> String {
    use crate::scenario::slo::{MetricShape, find_metric};
    match find_metric(metric).map(|m| m.shape) {
        Some(MetricShape::Duration) => format_seconds(value),
        Some(MetricShape::Fraction) => {
            format!("{}%", trim_decimals(value * 100.0, 2))
        }
        _ => trim_decimals(value, 3),
    }
}

/// Text safe inside a Markdown table cell: pipes escaped, line breaks flattened.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Quotes a word for a POSIX shell only when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@'));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// The faults of a strategy that acted on nothing, as `faults[plan]#occurrence name`.
pub fn unhit_faults(strategy: &StrategyReport) -> Vec<String> {
    strategy
        .faults
        .iter()
        .filter(|fault| fault.hits == 0)
        .map(|fault| format!("faults[{}]#{} {}", fault.plan, fault.occurrence, fault.name))
        .collect()
}

/// One summary row per `tls_bad_certificate` occurrence that answered someone: how many
/// connections it answered, how many clients accepted its certificate, and what they sent it.
pub fn impersonation_rows(strategy: &StrategyReport) -> Vec<String> {
    strategy
        .faults
        .iter()
        .filter_map(|fault| {
            let seen = fault.impersonation?;
            Some(format!(
                "| faults[{}]#{} {}: connections answered with a bad certificate, accepted, \
                 application bytes and credentials sent to it | {}, {}, {}, {} |",
                fault.plan,
                fault.occurrence,
                fault.name,
                seen.answered,
                seen.accepted,
                seen.application_bytes,
                seen.credentials_sent
            ))
        })
        .collect()
}

/// The frame faults of a strategy that some links could not take, as
/// `faults[plan]#occurrence name: N links (reason)`.
pub fn not_applied_faults(strategy: &StrategyReport) -> Vec<String> {
    strategy
        .faults
        .iter()
        .flat_map(|fault| {
            fault.not_applied.iter().map(move |(why, links)| {
                let plural = if *links == 1 { "" } else { "s" };
                format!(
                    "faults[{}]#{} {}: {links} link{plural} ({why})",
                    fault.plan, fault.occurrence, fault.name
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn repro_quotes_only_what_a_shell_would_split() {
        let mut report = example::report();
        report.file = "my scenarios/it's.yaml".to_string();
        assert_eq!(
            repro_line(&report, "socketio"),
            r"wschaos run 'my scenarios/it'\''s.yaml' --engine sim --seed 42 --strategy socketio"
        );
    }
}
