//! The result of a swarm (`wschaos run --seeds A..B`): per seed what it drew and how it went,
//! and per strategy and metric how the seed's figure is distributed across the seeds.
//! `swarm.json` is [`SwarmReport`] verbatim; `swarm.md` ([`markdown`]) is for people.
//!
//! Pure: the runner hands in each seed's [`RunReport`] (or its invalid draw) and gets the
//! summary back. Seeds are kept in seed order and every map is a `BTreeMap`, so the same swarm
//! gives the same bytes however many threads ran it.

pub mod markdown;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::outcome::stats::stats;
use crate::outcome::{RunReport, SloResult, Stats, Verdict};
use crate::scenario::slo::{METRICS, Metric, MetricShape};
use crate::scenario::swarm::{Drawn, InvalidDraw};

use super::{Written, write_files};

/// Version of the swarm.json format; bump it when a field changes meaning or disappears.
pub const SWARM_SCHEMA_VERSION: u32 = 1;

/// Everything one swarm produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwarmReport {
    /// [`SWARM_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The wschaos version that ran it.
    pub wschaos_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub file: String,
    /// Always `sim`: a swarm runs on the sim engine only.
    pub engine: String,
    /// The first seed of `--seeds`.
    pub first_seed: u64,
    /// The last seed of `--seeds`, inclusive.
    pub last_seed: u64,
    /// The `swarm:` ranges, by field path, as the file writes them.
    pub ranges: BTreeMap<String, String>,
    /// The strategies each seed ran, in matrix order.
    pub strategies: Vec<String>,
    /// Whether Ctrl-C stopped the swarm; `seeds` then holds only the seeds that finished.
    pub interrupted: bool,
    /// Fail when any seed failed an SLO or drew an invalid scenario, else inconclusive when any
    /// was, else pass; interrupted after Ctrl-C.
    pub verdict: Verdict,
    /// Every finished seed, in seed order.
    pub seeds: Vec<SeedResult>,
    /// Per strategy and metric, the seeds' figures summarised.
    pub distribution: Vec<Distribution>,
}

/// How one seed went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedVerdict {
    /// Every strategy passed.
    Pass,
    /// A strategy failed an SLO.
    Fail,
    /// No strategy failed, but one was inconclusive.
    Inconclusive,
    /// The drawn values make the scenario invalid, so nothing ran.
    InvalidDraw,
}

/// One seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed: of the draw and of the run.
    pub seed: u64,
    /// The drawn value of each `swarm:` field, as written into the scenario.
    pub drawn: BTreeMap<String, String>,
    /// Its verdict.
    pub verdict: SeedVerdict,
    /// Why the draw is invalid, one problem per entry; empty when it ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
    /// Each strategy's outcome, in matrix order; empty for an invalid draw.
    pub strategies: Vec<SeedStrategy>,
}

/// One strategy of one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedStrategy {
    /// The strategy.
    pub name: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// The thresholds it failed.
    pub failed_slos: Vec<SloResult>,
    /// Per metric of the SLO vocabulary, the seed's figure ([`figure_name`]); `null` when the
    /// run gave the metric no value (no incident, say).
    pub metrics: BTreeMap<String, Option<f64>>,
}

/// One metric of one strategy across the seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// The strategy.
    pub strategy: String,
    /// The metric.
    pub metric: String,
    /// Which figure of a seed is summarised: `p99`, `count`, `mean` or `value`.
    pub figure: String,
    /// Seeds that gave the metric a value.
    pub seeds: u64,
    /// The smallest seed figure.
    pub min: f64,
    /// The median seed figure (nearest rank).
    pub p50: f64,
    /// The 90th percentile seed figure.
    pub p90: f64,
    /// The largest seed figure.
    pub max: f64,
    /// The seed with the worst figure (the largest; for availability the smallest), the
    /// lowest such seed on a tie.
    pub worst_seed: u64,
}

/// Which figure stands for a metric in one seed: the p99 of durations and per-incident
/// numbers, the count of events, the mean of a fraction, a single figure itself.
pub fn figure_name(shape: MetricShape) -> &'static str {
    match shape {
        MetricShape::Duration | MetricShape::Number => "p99",
        MetricShape::Events => "count",
        MetricShape::Fraction => "mean",
        MetricShape::Single => "value",
    }
}

/// A seed's figure for `metric` from its summary; `None` without values (a count of none is 0).
pub fn figure(metric: &Metric, summary: &Stats) -> Option<f64> {
    match metric.shape {
        MetricShape::Events => Some(summary.count as f64),
        _ if summary.count == 0 => None,
        MetricShape::Duration | MetricShape::Number => Some(summary.p99),
        MetricShape::Fraction => Some(summary.mean),
        MetricShape::Single => Some(summary.max),
    }
}

fn drawn_map(drawn: &[Drawn]) -> BTreeMap<String, String> {
    drawn.iter().map(|d| (d.path.clone(), d.value.clone())).collect()
}

/// The result of a seed that ran to its end (the runner drops an interrupted one).
pub fn seed_ran(seed: u64, drawn: &[Drawn], report: &RunReport) -> SeedResult {
    let strategies: Vec<SeedStrategy> = report
        .strategies
        .iter()
        .map(|strategy| SeedStrategy {
            name: strategy.name.clone(),
            verdict: strategy.verdict,
            failed_slos: strategy.slo.iter().filter(|slo| !slo.passed).cloned().collect(),
            metrics: METRICS
                .iter()
                .filter_map(|metric| {
                    let summary = strategy.metrics.get(metric.name)?;
                    Some((metric.name.to_string(), figure(metric, summary)))
                })
                .collect(),
        })
        .collect();
    // The run's verdict is already the worst of its strategies'. A run cut short proves
    // nothing (the runner drops those seeds anyway).
    let verdict = match report.verdict {
        Verdict::Pass => SeedVerdict::Pass,
        Verdict::Fail => SeedVerdict::Fail,
        Verdict::Inconclusive | Verdict::Interrupted => SeedVerdict::Inconclusive,
    };
    SeedResult { seed, drawn: drawn_map(drawn), verdict, invalid: Vec::new(), strategies }
}

/// The result of a seed whose draw the scenario rejects.
pub fn seed_invalid(seed: u64, invalid: &InvalidDraw) -> SeedResult {
    SeedResult {
        seed,
        drawn: drawn_map(&invalid.drawn),
        verdict: SeedVerdict::InvalidDraw,
        invalid: invalid.problems(),
        strategies: Vec::new(),
    }
}

/// What a swarm is about, before any seed ran.
#[derive(Clone, Debug, PartialEq)]
pub struct SwarmHeader {
    /// The scenario's name.
    pub scenario: String,
    /// The file as given.
    pub file: String,
    /// The seeds asked for, inclusive.
    pub seeds: (u64, u64),
    /// The ranges as written.
    pub ranges: BTreeMap<String, String>,
    /// The strategies each seed runs.
    pub strategies: Vec<String>,
    /// Whether the clients have a workload (message metrics exist only then).
    pub workload: bool,
}

/// The swarm's report from its finished seeds (in any order).
pub fn assemble(header: SwarmHeader, mut seeds: Vec<SeedResult>, interrupted: bool) -> SwarmReport {
    seeds.sort_by_key(|seed| seed.seed);
    let verdict = if interrupted {
        Verdict::Interrupted
    } else if seeds.iter().any(|s| matches!(s.verdict, SeedVerdict::Fail | SeedVerdict::InvalidDraw)) {
        Verdict::Fail
    } else if seeds.iter().any(|s| s.verdict == SeedVerdict::Inconclusive) {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    let distribution = distribution(&header, &seeds);
    SwarmReport {
        schema_version: SWARM_SCHEMA_VERSION,
        wschaos_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: header.scenario,
        file: header.file,
        engine: "sim".to_string(),
        first_seed: header.seeds.0,
        last_seed: header.seeds.1,
        ranges: header.ranges,
        strategies: header.strategies,
        interrupted,
        verdict,
        seeds,
        distribution,
    }
}

/// Per strategy (matrix order) and metric (vocabulary order), the seeds' figures summarised;
/// a metric no seed gave a value is left out.
fn distribution(header: &SwarmHeader, seeds: &[SeedResult]) -> Vec<Distribution> {
    let mut rows = Vec::new();
    for strategy in &header.strategies {
        for metric in METRICS.iter().filter(|m| header.workload || !m.needs_workload) {
            let figures: Vec<(u64, f64)> = seeds
                .iter()
                .filter_map(|seed| {
                    let ran = seed.strategies.iter().find(|s| &s.name == strategy)?;
                    Some((seed.seed, (*ran.metrics.get(metric.name)?)?))
                })
                .collect();
            if figures.is_empty() {
                continue;
            }
            let values: Vec<f64> = figures.iter().map(|(_, value)| *value).collect();
            let summary = stats(&values);
            let worst = if super::higher_is_better(metric.name) { summary.min } else { summary.max };
            let worst_seed = figures.iter().find(|(_, value)| *value == worst).map_or(0, |(seed, _)| *seed);
            rows.push(Distribution {
                strategy: strategy.clone(),
                metric: metric.name.to_string(),
                figure: figure_name(metric.shape).to_string(),
                seeds: summary.count,
                min: summary.min,
                p50: summary.p50,
                p90: summary.p90,
                max: summary.max,
                worst_seed,
            });
        }
    }
    rows
}

/// The report as pretty JSON with a final newline.
pub fn render_json(report: &SwarmReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a SwarmReport always serializes");
    text.push('\n');
    text
}

/// Writes `swarm.json`, `swarm.md` and `swarm.html` into `dir` (created if missing), trying each.
pub fn write(report: &SwarmReport, dir: &Path) -> Written {
    let pages = [render_json(report), markdown::render(report), super::html::swarm::render(report)];
    let files = FILE_NAMES.into_iter().map(String::from).zip(pages);
    write_files(dir, files.collect())
}

/// The files [`write`] writes, in order.
pub const FILE_NAMES: [&str; 3] = ["swarm.json", "swarm.md", "swarm.html"];

#[cfg(test)]
mod tests;
