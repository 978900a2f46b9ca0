//! From the recorder's values to figures and verdicts: summaries per metric, each SLO
//! threshold evaluated k6-style, and the verdict of a strategy. Pure.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::recorder::RecorderOutput;
use crate::report::model::{SloResult, Stats, Verdict};
use crate::scenario::slo::{Aggregate, Limit, MetricShape, SloRule};
use crate::scenario::values::{format_duration, trim_decimals};

/// The nearest-rank percentile `p` (0 < p ≤ 100) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Reduces values to their summary; all zeros when there are none.
pub fn stats(values: &[f64]) -> Stats {
    if values.is_empty() {
        return Stats::default();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let sum: f64 = sorted.iter().sum();
    Stats {
        count: sorted.len() as u64,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        mean: sum / sorted.len() as f64,
        sum,
        p50: percentile(&sorted, 50.0),
        p90: percentile(&sorted, 90.0),
        p95: percentile(&sorted, 95.0),
        p99: percentile(&sorted, 99.0),
    }
}

/// One aggregate of `values`; `None` when it needs values and there are none.
pub fn aggregate(values: &[f64], aggregate: Aggregate) -> Option<f64> {
    match aggregate {
        Aggregate::Count => return Some(values.len() as f64),
        Aggregate::Sum => return Some(values.iter().sum()),
        _ if values.is_empty() => return None,
        _ => {}
    }
    let summary = stats(values);
    Some(match aggregate {
        Aggregate::Percentile(p) => {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            percentile(&sorted, p)
        }
        Aggregate::Min => summary.min,
        Aggregate::Max => summary.max,
        Aggregate::Mean => summary.mean,
        Aggregate::Value => values[0],
        Aggregate::Count | Aggregate::Sum => unreachable!("handled above"),
    })
}

/// Evaluates every threshold of `rules` over the recorder's values. A threshold over a metric
/// with no values (no incident, say) holds: nothing violated it.
pub fn evaluate(rules: &[SloRule], output: &RecorderOutput) -> Vec<SloResult> {
    let mut results = Vec::new();
    for rule in rules {
        let values = output.samples.get(rule.metric.name).map(Vec::as_slice).unwrap_or(&[]);
        for threshold in &rule.thresholds {
            let measured = aggregate(values, threshold.aggregate);
            let limit = match threshold.limit {
                Limit::Duration(duration) => duration.as_secs_f64(),
                Limit::Number(number) => number,
            };
            let passed = measured.is_none_or(|measured| threshold.comparison.holds(measured, limit));
            let in_time =
                rule.metric.shape == MetricShape::Duration && threshold.aggregate != Aggregate::Count;
            let measured_text = match measured {
                None => "no data".to_string(),
                Some(value) if in_time => format_duration(Duration::from_secs_f64(value.max(0.0))),
                Some(value) if rule.metric.shape == MetricShape::Fraction => {
                    format!("{}%", trim_decimals(value * 100.0, 2))
                }
                Some(value) => trim_decimals(value, 3),
            };
            results.push(SloResult {
                metric: rule.metric.name.to_string(),
                threshold: threshold.to_string(),
                measured,
                measured_text,
                passed,
            });
        }
    }
    results
}

/// Summaries of every metric.
pub fn summaries(output: &RecorderOutput) -> BTreeMap<String, Stats> {
    output.samples.iter().map(|(name, values)| (name.to_string(), stats(values))).collect()
}

/// The verdict of one strategy: a failed SLO fails it; otherwise a fault entry none of whose
/// occurrences hit anything makes it inconclusive.
pub fn verdict(slo: &[SloResult], output: &RecorderOutput) -> Verdict {
    if slo.iter().any(|result| !result.passed) {
        return Verdict::Fail;
    }
    let mut hits_per_plan: BTreeMap<u64, u64> = BTreeMap::new();
    for fault in &output.faults {
        *hits_per_plan.entry(fault.plan).or_default() += fault.hits;
    }
    if hits_per_plan.values().any(|hits| *hits == 0) { Verdict::Inconclusive } else { Verdict::Pass }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::FaultOutcome;
    use crate::scenario::Scenario;

    fn rules(slo: &str) -> Vec<SloRule> {
        let text = format!(
            "version: 1\nname: t\nduration: 10s\nclients: {{ count: 2, workload: {{ rate: 1/s }} }}\nslo:\n{slo}"
        );
        Scenario::parse(&text, "t.yaml").unwrap().slo
    }

    fn output(samples: &[(&'static str, Vec<f64>)]) -> RecorderOutput {
        RecorderOutput { samples: samples.iter().cloned().collect(), ..RecorderOutput::default() }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(aggregate(&values, Aggregate::Percentile(99.0)), Some(99.0));
        assert_eq!(aggregate(&values, Aggregate::Percentile(50.0)), Some(50.0));
        assert_eq!(aggregate(&values, Aggregate::Percentile(100.0)), Some(100.0));
        assert_eq!(aggregate(&[3.0], Aggregate::Percentile(1.0)), Some(3.0));
        assert_eq!(aggregate(&[], Aggregate::Max), None);
        assert_eq!(aggregate(&[], Aggregate::Count), Some(0.0));
    }

    #[test]
    fn thresholds_compare_in_the_metric_unit() {
        let rules = rules(
            "  recovery_time: [\"p(99) < 8s\", \"max < 2s\"]\n  messages_lost: [\"count == 0\"]\n  availability: [\"mean > 80%\"]\n",
        );
        let output = output(&[
            ("recovery_time", vec![1.0, 2.5, 7.9]),
            ("messages_lost", vec![]),
            ("availability", vec![0.9, 0.75]),
        ]);
        let results = evaluate(&rules, &output);
        let summary: Vec<(&str, &str, bool)> =
            results.iter().map(|r| (r.threshold.as_str(), r.measured_text.as_str(), r.passed)).collect();
        assert_eq!(
            summary,
            vec![
                ("mean > 0.8", "82.5%", true),
                ("count == 0", "0", true),
                ("p(99) < 8s", "7.9s", true),
                ("max < 2s", "7.9s", false),
            ]
        );
        assert_eq!(verdict(&results, &output), Verdict::Fail);
    }

    #[test]
    fn a_fault_entry_that_hit_nothing_is_inconclusive() {
        let fault = |plan, occurrence, hits| FaultOutcome {
            plan,
            occurrence,
            name: "reset".into(),
            started: 1.0,
            ended: None,
            hits,
            not_applied: Default::default(),
        };
        let mut output = RecorderOutput {
            faults: vec![fault(0, 0, 0), fault(0, 1, 3), fault(1, 0, 0)],
            ..RecorderOutput::default()
        };
        assert_eq!(verdict(&[], &output), Verdict::Inconclusive, "entry 1 never hit");
        output.faults.pop();
        assert_eq!(verdict(&[], &output), Verdict::Pass, "one occurrence of entry 0 hit");
    }
}
