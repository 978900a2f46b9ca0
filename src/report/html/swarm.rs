//! `swarm.html`: a swarm (`wschaos run --seeds A..B`) as one self-contained page: per metric
//! that varied, the distribution of the seeds' figures as a CDF per strategy, and the seeds that
//! did not pass with their drawn values and repro lines. Drawn from the swarm report alone, so
//! the same swarm gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::svg::{self, Plot, Scale, colour, escape, trim};
use crate::report::swarm::{SeedVerdict, SwarmReport};
use crate::report::{format_metric_value, swarm_repro_command, verdict_word};

/// The page.
pub fn render(report: &SwarmReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let count = |verdict: SeedVerdict| report.seeds.iter().filter(|s| s.verdict == verdict).count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{} · swarm of {} · wschaos</title><style>{}</style></head><body><header><h1>{} · swarm of {}</h1><p class=\"meta\">seeds {}..{} · {} seeds: {} passed, {} failed, {} inconclusive, {} invalid draws · <code>{}</code> · wschaos {}</p>",
        verdict_word(report.verdict),
        escape(&report.scenario),
        include_str!("style.css"),
        verdict_word(report.verdict),
        escape(&report.scenario),
        report.first_seed,
        report.last_seed,
        report.seeds.len(),
        count(SeedVerdict::Pass),
        count(SeedVerdict::Fail),
        count(SeedVerdict::Inconclusive),
        count(SeedVerdict::InvalidDraw),
        escape(&report.file),
        escape(&report.wschaos_version)
    );
    if !report.ranges.is_empty() {
        out.push_str("<table><tr><th>swarm field</th><th>range</th></tr>");
        for (path, range) in &report.ranges {
            let _ = write!(out, "<tr><td><code>{}</code></td><td>{}</td></tr>", escape(path), escape(range));
        }
        out.push_str("</table>");
    }
    out.push_str("</header>");
    distributions(&mut out, report);
    failing_seeds(&mut out, report);
    out.push_str("</body></html>\n");
    out
}

/// One CDF chart per metric whose figure varied across the seeds.
fn distributions(out: &mut String, report: &SwarmReport) {
    // Per metric, per strategy, the seeds' figures.
    let mut by_metric: BTreeMap<&str, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for seed in &report.seeds {
        for strategy in &seed.strategies {
            let index = report.strategies.iter().position(|s| *s == strategy.name).unwrap_or(0);
            for (metric, value) in &strategy.metrics {
                if let Some(value) = value {
                    by_metric.entry(metric).or_default().entry(index).or_default().push(*value);
                }
            }
        }
    }
    out.push_str("<section id=\"distributions\"><h2>Distributions over the seeds</h2>");
    let mut drawn = 0;
    for (metric, strategies) in &by_metric {
        if metric_chart(out, report, metric, strategies) {
            drawn += 1;
        }
    }
    if drawn == 0 {
        out.push_str("<p class=\"empty\">No metric varied across the seeds.</p>");
    }
    out.push_str("</section>");
}

/// The seeds that did not pass: what they drew, why, and the command that repeats each.
fn failing_seeds(out: &mut String, report: &SwarmReport) {
    out.push_str("<section id=\"failing\"><h2>Seeds that did not pass</h2>");
    let listed: Vec<_> = report.seeds.iter().filter(|s| s.verdict != SeedVerdict::Pass).collect();
    if listed.is_empty() {
        out.push_str("<p>None.</p></section>");
        return;
    }
    out.push_str(
        "<table id=\"failing-seeds\"><tr><th>seed</th><th>drawn</th><th>why</th><th>repro</th></tr>",
    );
    for seed in listed {
        let drawn: Vec<String> = seed.drawn.iter().map(|(path, value)| format!("{path} = {value}")).collect();
        let mut rows: Vec<(String, Option<&str>)> = Vec::new();
        if seed.verdict == SeedVerdict::InvalidDraw {
            rows.push((seed.invalid.join("; "), None));
        }
        for strategy in seed.strategies.iter().filter(|s| s.verdict != crate::outcome::Verdict::Pass) {
            let failed: Vec<String> = strategy
                .failed_slos
                .iter()
                .map(|slo| format!("{} {} measured {}", slo.metric, slo.threshold, slo.measured_text))
                .collect();
            let why = if failed.is_empty() {
                format!("{}: {}", strategy.name, verdict_word(strategy.verdict).to_lowercase())
            } else {
                format!("{}: {}", strategy.name, failed.join(", "))
            };
            rows.push((why, Some(strategy.name.as_str())));
        }
        for (why, strategy) in rows {
            let repro = swarm_repro_command(&report.file, seed.seed, strategy.as_slice());
            let _ = write!(
                out,
                r#"<tr class="failing-seed" data-seed="{}"><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>"#,
                seed.seed,
                seed.seed,
                escape(&drawn.join(", ")),
                escape(&why),
                escape(&repro)
            );
        }
    }
    out.push_str("</table></section>");
}

/// One metric's chart and table, when its figure varied across the seeds; whether it drew.
fn metric_chart(
    out: &mut String,
    report: &SwarmReport,
    metric: &str,
    strategies: &BTreeMap<usize, Vec<f64>>,
) -> bool {
    let all = strategies.values().flatten();
    let (low, high) = all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if high <= low {
        return false;
    }
    let figure =
        report.distribution.iter().find(|d| d.metric == *metric).map_or("figure", |d| d.figure.as_str());
    let plot = Plot::new(Scale::Linear { min: low, max: high }, Scale::Linear { min: 0.0, max: 1.0 });
    let _ = write!(out, "<h3>{} ({figure} per seed)</h3>", escape(metric));
    svg::open(
        out,
        &format!("dist-{metric}"),
        &format!("{metric}: distribution over the seeds, per strategy"),
        svg::HEIGHT,
    );
    plot.axes(
        out,
        &format!("{metric} ({figure})"),
        "share of seeds",
        |v| format_metric_value(metric, v),
        |f| format!("{}%", trim(f * 100.0)),
    );
    for (index, values) in strategies {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let mut points = vec![(sorted[0], 0.0)];
        for (i, v) in sorted.iter().enumerate() {
            points.push((*v, i as f64 / n));
            points.push((*v, (i + 1) as f64 / n));
        }
        let name = report.strategies.get(*index).map_or("", String::as_str);
        let values: Vec<String> = sorted.iter().map(|v| trim(*v)).collect();
        let _ = write!(
            out,
            r#"<path class="seed-cdf series" data-metric="{}" data-strategy="{}" data-values="{}" stroke="{}" d="{}"><title>{}</title></path>"#,
            escape(metric),
            escape(name),
            values.join(" "),
            colour(*index),
            plot.line(points),
            escape(name)
        );
    }
    out.push_str("</svg><table class=\"numbers\"><tr><th>strategy</th><th>seeds</th><th>min</th><th>p50</th><th>p90</th><th>max</th><th>worst seed</th></tr>");
    for d in report.distribution.iter().filter(|d| d.metric == *metric) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.strategy),
            d.seeds,
            escape(&format_metric_value(metric, d.min)),
            escape(&format_metric_value(metric, d.p50)),
            escape(&format_metric_value(metric, d.p90)),
            escape(&format_metric_value(metric, d.max)),
            d.worst_seed
        );
    }
    out.push_str("</table>");
    true
}
