//! From a strategy's values to figures and verdicts: summaries per metric, each SLO threshold
//! evaluated k6-style, and the verdict of a strategy. Pure: it takes the values by metric name
//! (what the recorder derived) and the fault outcomes, not the recorder itself.

use std::collections::BTreeMap;
use std::time::Duration;

use super::stats::{aggregate, stats};
use super::{FaultOutcome, SloResult, Stats, Verdict};
use crate::scenario::slo::{Aggregate, Bound, MetricShape, SloRule};
use crate::units::{format_duration, trim_decimals};

/// Values per metric name: seconds for durations, plain numbers, fractions.
pub type Samples = BTreeMap<&'static str, Vec<f64>>;

/// Evaluates every threshold of `rules` over `samples`. A threshold over a metric with no
/// values (no incident, say) holds: nothing violated it.
pub fn evaluate(rules: &[SloRule], samples: &Samples) -> Vec<SloResult> {
    let mut results = Vec::new();
    for rule in rules {
        let values = samples.get(rule.metric.name).map(Vec::as_slice).unwrap_or(&[]);
        for threshold in &rule.thresholds {
            let measured = aggregate(values, threshold.aggregate);
            let limit = match threshold.bound {
                Bound::Duration(duration) => duration.as_secs_f64(),
                Bound::Number(number) => number,
            };
            let passed = measured.is_none_or(|measured| threshold.operator.holds(measured, limit));
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
pub fn summaries(samples: &Samples) -> BTreeMap<String, Stats> {
    samples.iter().map(|(name, values)| (name.to_string(), stats(values))).collect()
}

/// The verdict of one strategy: a failed SLO fails it; otherwise a fault entry none of whose
/// occurrences hit anything makes it inconclusive.
pub fn verdict(slo: &[SloResult], faults: &[FaultOutcome]) -> Verdict {
    if slo.iter().any(|result| !result.passed) {
        return Verdict::Fail;
    }
    let mut hits_per_plan: BTreeMap<u64, u64> = BTreeMap::new();
    for fault in faults {
        *hits_per_plan.entry(fault.plan).or_default() += fault.hits;
    }
    if hits_per_plan.values().any(|hits| *hits == 0) { Verdict::Inconclusive } else { Verdict::Pass }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn rules(slo: &str) -> Vec<SloRule> {
        let text = format!(
            "version: 1\nname: t\nduration: 10s\nclients: {{ count: 2, workload: {{ rate: 1/s }} }}\nslo:\n{slo}"
        );
        Scenario::parse(&text, "t.yaml").unwrap().slo
    }

    fn samples(samples: &[(&'static str, Vec<f64>)]) -> Samples {
        samples.iter().cloned().collect()
    }

    #[test]
    fn thresholds_compare_in_the_metric_unit() {
        let rules = rules(
            "  recovery_time: [\"p(99) < 8s\", \"max < 2s\"]\n  messages_lost: [\"count == 0\"]\n  availability: [\"mean > 80%\"]\n",
        );
        let samples = samples(&[
            ("recovery_time", vec![1.0, 2.5, 7.9]),
            ("messages_lost", vec![]),
            ("availability", vec![0.9, 0.75]),
        ]);
        let results = evaluate(&rules, &samples);
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
        assert_eq!(verdict(&results, &[]), Verdict::Fail);
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
            impersonation: None,
        };
        let mut faults = vec![fault(0, 0, 0), fault(0, 1, 3), fault(1, 0, 0)];
        assert_eq!(verdict(&[], &faults), Verdict::Inconclusive, "entry 1 never hit");
        faults.pop();
        assert_eq!(verdict(&[], &faults), Verdict::Pass, "one occurrence of entry 0 hit");
    }
}
