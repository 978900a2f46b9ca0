//! Values reduced to figures: nearest-rank percentiles and the aggregates SLO thresholds use.
//! Pure; recorder, runner and report all reduce values through here.

use crate::outcome::Stats;
use crate::scenario::slo::Aggregate;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
