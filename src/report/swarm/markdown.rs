//! `swarm.md`: the swarm for people — the verdict and the counts first, the ranges, the
//! distribution of every metric across the seeds, then every seed that did not pass with its
//! failed SLOs and the line that repeats it.

use std::fmt::Write;

use super::{SeedResult, SeedVerdict, SwarmReport};
use crate::report::{cell, format_metric_value, swarm_repro_command, verdict_word};

/// The summary. Deterministic: the same report gives the same bytes.
pub fn render(report: &SwarmReport) -> String {
    let mut out = String::new();
    let count = |verdict: SeedVerdict| report.seeds.iter().filter(|s| s.verdict == verdict).count();
    // Infallible: writing to a String.
    let _ = writeln!(
        out,
        "## {} · swarm of {} · seeds {}..{} · engine {}\n",
        verdict_word(report.verdict),
        cell(&report.scenario),
        report.first_seed,
        report.last_seed,
        cell(&report.engine)
    );
    let _ = writeln!(
        out,
        "{} seeds: {} passed, {} failed, {} inconclusive, {} invalid draws · `{}` · wschaos {}",
        report.seeds.len(),
        count(SeedVerdict::Pass),
        count(SeedVerdict::Fail),
        count(SeedVerdict::Inconclusive),
        count(SeedVerdict::InvalidDraw),
        cell(&report.file),
        cell(&report.wschaos_version)
    );
    if report.interrupted {
        out.push_str("\nThe swarm was interrupted: only the seeds that finished are listed.\n");
    }
    if report.ranges.is_empty() {
        out.push_str("\nThe scenario has no `swarm:` ranges: each seed ran the file's own values.\n");
    } else {
        out.push_str("\n| swarm field | range |\n|---|---|\n");
        for (path, range) in &report.ranges {
            let _ = writeln!(out, "| `{}` | `{}` |", cell(path), cell(range));
        }
    }
    distribution_table(&mut out, report);
    not_passed(&mut out, report);
    out
}

fn distribution_table(out: &mut String, report: &SwarmReport) {
    out.push_str("\n### Across the seeds\n\n");
    if report.distribution.is_empty() {
        out.push_str("No seed ran.\n");
        return;
    }
    out.push_str("Each seed's figure (p99, count, mean or value), then its spread over the seeds.\n\n");
    out.push_str("| strategy | metric | figure | seeds | min | p50 | p90 | max | worst seed |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for row in &report.distribution {
        let value = |v: f64| format_metric_value(&row.metric, v);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&row.strategy),
            cell(&row.metric),
            row.figure,
            row.seeds,
            value(row.min),
            value(row.p50),
            value(row.p90),
            value(row.max),
            row.worst_seed
        );
    }
}

fn not_passed(out: &mut String, report: &SwarmReport) {
    let listed: Vec<&SeedResult> = report.seeds.iter().filter(|s| s.verdict != SeedVerdict::Pass).collect();
    out.push_str("\n### Seeds that did not pass\n\n");
    if listed.is_empty() {
        out.push_str("None.\n");
        return;
    }
    out.push_str("| seed | verdict | drawn | why | repro |\n|---:|---|---|---|---|\n");
    for seed in listed {
        let drawn: Vec<String> =
            seed.drawn.iter().map(|(path, value)| format!("`{path}` = {value}")).collect();
        let drawn = if drawn.is_empty() { "—".to_string() } else { drawn.join(", ") };
        let verdict = match seed.verdict {
            SeedVerdict::Pass => "PASS",
            SeedVerdict::Fail => "FAIL",
            SeedVerdict::Inconclusive => "INCONCLUSIVE",
            SeedVerdict::InvalidDraw => "INVALID DRAW",
        };
        // One row per strategy that did not pass; an invalid draw ran none.
        let mut rows: Vec<(String, Option<&str>)> = Vec::new();
        if seed.verdict == SeedVerdict::InvalidDraw {
            rows.push((seed.invalid.join("; "), None));
        }
        for strategy in seed.strategies.iter().filter(|s| s.verdict != crate::outcome::Verdict::Pass) {
            let why = if strategy.failed_slos.is_empty() {
                format!("{}: {}", strategy.name, verdict_word(strategy.verdict).to_lowercase())
            } else {
                let failed: Vec<String> = strategy
                    .failed_slos
                    .iter()
                    .map(|slo| format!("{} `{}` measured {}", slo.metric, slo.threshold, slo.measured_text))
                    .collect();
                format!("{}: {}", strategy.name, failed.join(", "))
            };
            rows.push((why, Some(strategy.name.as_str())));
        }
        for (why, strategy) in rows {
            let repro = swarm_repro_command(&report.file, seed.seed, strategy.as_slice());
            let _ = writeln!(
                out,
                "| {} | {verdict} | {} | {} | `{}` |",
                seed.seed,
                cell(&drawn),
                cell(&why),
                cell(&repro)
            );
        }
    }
}
