//! `summary.md`: GitHub-flavoured Markdown for people and `$GITHUB_STEP_SUMMARY` — the verdict
//! first, the strategies side by side, a table per strategy, the SLO table, and the repro lines.

use std::fmt::Write;

use super::{
    Format, cell, impersonation_rows, not_applied_faults, repro_line, side_by_side, unhit_faults,
    verdict_word,
};
use crate::outcome::{ProgramReport, RunReport, Stats, StrategyReport};
use crate::units::format_seconds;

/// The Markdown summary format.
pub struct Markdown;

impl Format for Markdown {
    fn name(&self) -> &'static str {
        "md"
    }

    fn file_name(&self, _strategy: Option<&str>) -> String {
        "summary.md".to_string()
    }

    fn render(&self, report: &RunReport, _strategy: Option<&StrategyReport>) -> String {
        render(report)
    }
}

/// The duration metrics shown per strategy, in this order.
const TIME_METRICS: [&str; 4] =
    ["recovery_time", "excess_after_heal", "observed_recovery_time", "observed_detect_time"];

/// The summary. Deterministic: the same report gives the same bytes.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    // A strategy cut short is measured, not judged: its thresholds are counted apart.
    let judged = || report.strategies.iter().filter(|s| s.interrupted_at.is_none());
    let thresholds: usize = judged().map(|s| s.slo.len()).sum();
    let failed: usize = judged().map(|s| s.slo.iter().filter(|slo| !slo.passed).count()).sum();
    let not_judged: usize =
        report.strategies.iter().filter(|s| s.interrupted_at.is_some()).map(|s| s.slo.len()).sum();
    let not_judged =
        if not_judged > 0 { format!(", {not_judged} not judged (interrupted)") } else { String::new() };
    // Infallible: writing to a String.
    let _ = writeln!(
        out,
        "## {} · {} · engine {} · seed {}\n",
        verdict_word(report.verdict),
        cell(&report.scenario),
        cell(&report.engine),
        report.seed
    );
    let _ = writeln!(
        out,
        "{failed} of {thresholds} thresholds failed{not_judged} · {} clients · {} of faults + {} quiet · `{}` · wschaos {}",
        report.clients,
        format_seconds(report.duration),
        format_seconds(report.quiet_period),
        cell(&report.file),
        cell(&report.wschaos_version)
    );
    if report.interrupted {
        out.push_str("\nThe run was interrupted before its end: the figures cover only what ran.\n");
    }
    if !report.swarm_draw.is_empty() {
        let drawn: Vec<String> = report
            .swarm_draw
            .iter()
            .map(|(path, value)| format!("`{}` = {}", cell(path), cell(value)))
            .collect();
        let _ = writeln!(out, "\nSwarm draw of seed {}: {}.", report.seed, drawn.join(", "));
    }
    if let Some(description) = &report.description {
        let _ = writeln!(out, "\n{}", description.trim());
    }
    side_by_side(&mut out, report);
    for strategy in &report.strategies {
        strategy_section(&mut out, report, strategy);
    }
    slo_table(&mut out, report);
    out.push_str("\n### Repro\n\n```sh\n");
    for strategy in &report.strategies {
        let _ = writeln!(out, "{}", repro_line(report, &strategy.name));
    }
    out.push_str("```\n");
    out
}

/// The strategies side by side, ranked, the best figure of each column in bold.
fn side_by_side(out: &mut String, report: &RunReport) {
    let table = side_by_side::table(report);
    let (metric, aggregate) = &table.ranked_by;
    let _ = writeln!(
        out,
        "\n### Strategies side by side\n\nRanked by {} {} ({}); **bold** marks the best of each column.\n",
        cell(metric),
        cell(aggregate),
        table.because
    );
    out.push_str("| strategy | verdict |");
    for (name, _) in side_by_side::COLUMNS {
        let _ = write!(out, " {name} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(side_by_side::COLUMNS.len()));
    out.push('\n');
    for row in &table.rows {
        let _ = write!(out, "| {} | {} |", cell(&row.name), verdict_word(row.verdict));
        for (figure, best) in row.figures.iter().zip(row.best) {
            let text = figure_text(*figure);
            if best {
                let _ = write!(out, " **{text}** |");
            } else {
                let _ = write!(out, " {text} |");
            }
        }
        out.push('\n');
    }
}

/// A side-by-side figure in its unit.
pub(super) fn figure_text(figure: side_by_side::Figure) -> String {
    match figure {
        side_by_side::Figure::Seconds(seconds) => format_seconds(seconds),
        side_by_side::Figure::Count(count) => count.to_string(),
        side_by_side::Figure::Fraction(fraction) => format!("{:.2}%", fraction * 100.0),
        side_by_side::Figure::Missing => "n/a".to_string(),
    }
}

fn strategy_section(out: &mut String, report: &RunReport, strategy: &StrategyReport) {
    let _ = writeln!(out, "\n### {} · {}\n", cell(&strategy.name), verdict_word(strategy.verdict));
    if !strategy.description.is_empty() {
        let _ = writeln!(out, "{}\n", cell(&strategy.description));
    }
    if let Some(at) = strategy.interrupted_at {
        let _ = writeln!(
            out,
            "Interrupted at {} of {}: the figures cover only that time, and the SLOs are measured, not judged.\n",
            format_seconds(at),
            format_seconds(report.duration + report.quiet_period)
        );
    }
    out.push_str("| metric | n | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n");
    for name in TIME_METRICS {
        time_row(out, name, strategy.metrics.get(name));
    }
    for (reason, stats) in &strategy.detect_time_by_reason {
        time_row(out, &format!("detect_time ({reason})"), Some(stats));
    }
    let availability = strategy
        .metrics
        .get("availability")
        .filter(|stats| stats.count > 0)
        .map_or_else(|| "n/a".to_string(), |stats| format!("{:.2}%", stats.mean * 100.0));
    let unhit = unhit_faults(strategy);
    let unhit = if unhit.is_empty() { "none".to_string() } else { unhit.join(", ") };
    let not_applied = not_applied_faults(strategy);
    let not_applied = if not_applied.is_empty() { "none".to_string() } else { not_applied.join(", ") };
    let gave_up = if strategy.gave_up.is_empty() {
        "0".to_string()
    } else {
        let clients: Vec<String> = strategy.gave_up.iter().map(u32::to_string).collect();
        format!("{} (clients {})", strategy.gave_up.len(), clients.join(", "))
    };
    let unconverged = if strategy.unconverged.is_empty() {
        "0".to_string()
    } else {
        let clients: Vec<String> = strategy.unconverged.iter().map(u32::to_string).collect();
        format!("{} (clients {})", strategy.unconverged.len(), clients.join(", "))
    };
    let messages = &strategy.messages;
    out.push_str("\n| figure | value |\n|---|---|\n");
    let _ = writeln!(out, "| messages lost | {} of {} offered |", messages.lost, messages.offered);
    if strategy.interrupted_at.is_some() || messages.unresolved > 0 {
        let _ = writeln!(
            out,
            "| messages unresolved (due or in flight at the interrupt) | {} |",
            messages.unresolved
        );
    }
    for (figure, value) in [
        ("messages duplicated", messages.duplicated.to_string()),
        ("availability (mean)", availability),
        ("attempts", strategy.attempts_total.to_string()),
        ("peak attempts/s", strategy.peak_attempts_per_second.to_string()),
        ("clients that gave up", gave_up),
        ("clients not converged at the end", unconverged),
        ("close codes the clients sent", close_codes(strategy)),
        ("server pings left unanswered (outside faults)", count_of(strategy, "unanswered_pings")),
        ("faults that hit nothing", cell(&unhit)),
        ("frame faults not applied", cell(&not_applied)),
    ] {
        let _ = writeln!(out, "| {figure} | {value} |");
    }
    // A man in the middle (`tls_bad_certificate`): what the clients sent it.
    impersonation_rows(strategy).iter().for_each(|row| out.push_str(&format!("{row}\n")));
    // The herd's cost at the server: shown only when the echo server has capacity rules.
    if !strategy.attempts_turned_away.is_empty() {
        let turned: Vec<String> =
            strategy.attempts_turned_away.iter().map(|(why, count)| format!("{why} {count}")).collect();
        let _ = writeln!(out, "| attempts turned away by the server | {} |", turned.join(", "));
    }
    if let Some(program) = &strategy.program {
        program_section(out, program);
    }
}

/// How the user's client programs fared: readiness, early exits with their last lines,
/// malformed event lines, log trouble.
fn program_section(out: &mut String, program: &ProgramReport) {
    let ready = match program.ready_after.iter().copied().reduce(f64::max) {
        Some(slowest) => {
            format!("{} clients, the slowest after {}", program.ready_after.len(), format_seconds(slowest))
        }
        None => "none".to_string(),
    };
    let exits = match (program.exits.len(), program.allow_exit) {
        (0, _) => "none".to_string(),
        (n, true) => format!("{n} (allowed: `allow_exit: true`)"),
        (n, false) => format!("{n}: **client_exited** fails the strategy"),
    };
    let events = if program.events { "stdout" } else { "none (measured at the proxy)" };
    out.push_str("\n| program | value |\n|---|---|\n");
    let _ = writeln!(out, "| command | `{}` |", cell(&program.command.join(" ")));
    let _ = writeln!(out, "| events | {events} |");
    let _ = writeln!(out, "| ready | {ready} |");
    let _ = writeln!(out, "| exited before the end | {exits} |");
    let _ = writeln!(out, "| malformed event lines | {} |", program.protocol_errors);
    if let Some(logs) = &program.logs {
        let _ = writeln!(out, "| logs | `{}` |", cell(logs));
    }
    for exit in &program.exits {
        let _ = writeln!(
            out,
            "\nClient {} {} at {} (client_exited).",
            exit.client,
            exit.status,
            format_seconds(exit.t)
        );
        if !exit.last_lines.is_empty() {
            let _ = writeln!(out, "Its last {} lines:\n\n```text", exit.last_lines.len());
            for line in &exit.last_lines {
                // A fence in the program's output would end the block early.
                let _ = writeln!(out, "{}", line.replace("```", "` ` `"));
            }
            out.push_str("```\n");
        }
    }
    for sample in &program.protocol_error_samples {
        let _ = writeln!(out, "\n- malformed: {}", cell(sample));
    }
    for problem in &program.log_problems {
        let _ = writeln!(out, "\n- log: {}", cell(problem));
    }
}

/// The close codes clients sent, `1000 ×3, none ×1`, or `none seen`.
fn close_codes(strategy: &StrategyReport) -> String {
    if strategy.client_close_codes.is_empty() {
        return "none seen".to_string();
    }
    let codes: Vec<String> =
        strategy.client_close_codes.iter().map(|(code, n)| format!("{code} ×{n}")).collect();
    cell(&codes.join(", "))
}

/// The count of an event metric's values, `0` without any.
fn count_of(strategy: &StrategyReport, metric: &str) -> String {
    strategy.metrics.get(metric).map_or(0, |stats| stats.count).to_string()
}

fn time_row(out: &mut String, name: &str, stats: Option<&Stats>) {
    match stats.filter(|stats| stats.count > 0) {
        Some(s) => {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(name),
                s.count,
                format_seconds(s.p50),
                format_seconds(s.p90),
                format_seconds(s.p99),
                format_seconds(s.max)
            );
        }
        None => {
            let _ = writeln!(out, "| {} | 0 | n/a | n/a | n/a | n/a |", cell(name));
        }
    }
}

fn slo_table(out: &mut String, report: &RunReport) {
    out.push_str("\n### SLOs\n\n");
    if report.strategies.iter().all(|s| s.slo.is_empty()) {
        out.push_str("No thresholds.\n");
        return;
    }
    out.push_str("| strategy | metric | threshold | measured | result |\n|---|---|---|---:|---|\n");
    for strategy in &report.strategies {
        for slo in &strategy.slo {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                cell(&strategy.name),
                cell(&slo.metric),
                cell(&slo.threshold),
                if slo.measured.is_some() { cell(&slo.measured_text) } else { "no values".to_string() },
                match (strategy.interrupted_at, slo.passed) {
                    (Some(_), _) => "not judged (interrupted)",
                    (None, true) => "pass",
                    (None, false) => "**FAIL**",
                }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Verdict;
    use crate::report::example;

    #[test]
    fn the_verdict_comes_first() {
        let text = render(&example::report());
        let first = text.lines().next().unwrap();
        assert_eq!(first, "## FAIL · flaky-mobile-link · engine sim · seed 42");
        assert!(text.lines().nth(2).unwrap().starts_with("2 of 4 thresholds failed · 3 clients"), "{text}");
    }

    #[test]
    fn each_strategy_has_its_table_with_human_times() {
        let text = render(&example::report());
        assert!(text.contains("### socketio · INCONCLUSIVE\n"), "{text}");
        assert!(text.contains("### fixed-1s · FAIL\n"), "{text}");
        // socketio recovery: 0.45, 0.8, 1.2, 2.5 s (nearest rank).
        assert!(text.contains("| recovery_time | 4 | 800ms | 2.5s | 2.5s | 2.5s |"), "{text}");
        assert!(text.contains("| detect_time (reset) | 2 | 2ms | 2ms | 2ms | 2ms |"), "{text}");
        assert!(text.contains("| availability (mean) | 99.00% |"), "{text}");
        assert!(text.contains("| faults that hit nothing | faults[1]#0 blackhole |"), "{text}");
        assert!(text.contains("| messages lost | 20 of 1000 offered |"), "{text}");
        assert!(text.contains("| peak attempts/s | 6 |"), "{text}");
    }

    #[test]
    fn slo_table_marks_failures_with_the_measured_value() {
        let text = render(&example::report());
        assert!(text.contains("| fixed-1s | recovery_time | `p(99) < 5s` | 9s | **FAIL** |"), "{text}");
        assert!(text.contains("| socketio | recovery_time | `p(99) < 5s` | 2.5s | pass |"), "{text}");
    }

    #[test]
    fn repro_lines_close_the_summary() {
        let text = render(&example::report());
        assert!(text.ends_with(
            "wschaos run scenarios/flaky.yaml --engine sim --seed 42 --strategy socketio\n\
             wschaos run scenarios/flaky.yaml --engine sim --seed 42 --strategy fixed-1s\n```\n"
        ));
    }

    #[test]
    fn a_strategy_cut_short_is_interrupted_not_failed_and_counts_unresolved_messages() {
        let mut report = example::report();
        report.interrupted = true;
        report.verdict = Verdict::Interrupted;
        let fixed = &mut report.strategies[1];
        fixed.verdict = Verdict::Interrupted;
        fixed.interrupted_at = Some(12.5);
        fixed.messages.lost = 3;
        fixed.messages.unresolved = 17;
        let text = render(&report);
        assert!(text.starts_with("## INTERRUPTED · "), "{text}");
        assert!(text.contains("0 of 2 thresholds failed, 2 not judged (interrupted) · "), "{text}");
        assert!(text.contains("### fixed-1s · INTERRUPTED\n"), "{text}");
        assert!(text.contains("Interrupted at 12.5s of 130s: the figures cover only that time"), "{text}");
        assert!(text.contains("| messages lost | 3 of 1000 offered |"), "{text}");
        assert!(text.contains("| messages unresolved (due or in flight at the interrupt) | 17 |"), "{text}");
        assert!(
            text.contains("| fixed-1s | recovery_time | `p(99) < 5s` | 9s | not judged (interrupted) |"),
            "{text}"
        );
        assert!(!text.contains("**FAIL**"), "nothing of an interrupted strategy reads as failed: {text}");
        // The strategy that finished before the cut keeps its verdict.
        assert!(text.contains("### socketio · INCONCLUSIVE\n"), "{text}");
    }

    #[test]
    fn same_report_same_bytes_and_missing_metrics_say_so() {
        let mut report = example::report();
        assert_eq!(render(&report), render(&report));
        report.strategies[0].metrics.clear();
        let text = render(&report);
        assert!(text.contains("| excess_after_heal | 0 | n/a | n/a | n/a | n/a |"), "{text}");
        assert!(text.contains("| availability (mean) | n/a |"), "{text}");
    }
}
