//! Strategies side by side: one row per strategy with the figures people compare (verdict,
//! recovery p50 and p99, excess after heal p99, detect p99, attempts, peak attempts per second,
//! messages lost, availability), ranked, with the best value of each column marked. Pure: the
//! Markdown summary and the HTML page both render this table.
//!
//! The ranking key is the metric of the first SLO that failed (in any strategy), else of the
//! first SLO the scenario sets, else `recovery_time`; strategies are ordered by that metric's
//! figure (its threshold's aggregate, or p99), best first, ties and missing figures by file
//! order. The table says which metric ranked it.

use crate::outcome::{RunReport, Stats, StrategyReport, Verdict};

use super::text::higher_is_better;

/// A figure of one column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// Seconds.
    Seconds(f64),
    /// A count.
    Count(u64),
    /// A fraction in [0, 1].
    Fraction(f64),
    /// Nothing measured.
    Missing,
}

impl Figure {
    fn value(self) -> Option<f64> {
        match self {
            Figure::Seconds(v) | Figure::Fraction(v) => Some(v),
            Figure::Count(n) => Some(n as f64),
            Figure::Missing => None,
        }
    }
}

/// The columns, in order: header, and whether a higher figure is better.
pub const COLUMNS: [(&str, bool); 9] = [
    ("recovery p50", false),
    ("recovery p99", false),
    ("excess after heal p99", false),
    ("detect p99", false),
    ("attempts", false),
    ("peak attempts/s", false),
    ("messages lost", false),
    ("availability", true),
    ("unconverged", false),
];

/// One strategy's row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The strategy.
    pub name: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// One figure per [`COLUMNS`] entry.
    pub figures: [Figure; 9],
    /// Per column, whether this row holds the best figure (ties all marked; a column where
    /// every row is equal, or only one row has a figure, marks nothing).
    pub best: [bool; 9],
}

/// The table: rows best first, and what ranked them.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The rows.
    pub rows: Vec<Row>,
    /// The metric that ranked them, and the figure of it used (`p99`, `count`, …).
    pub ranked_by: (String, String),
    /// Why that metric: `the first SLO that failed`, `the first SLO`, or `no SLO: recovery p99`.
    pub because: &'static str,
}

/// The table for `report`.
pub fn table(report: &RunReport) -> Table {
    let (ranked_by, because) = ranking_key(report);
    let mut rows: Vec<(usize, Option<f64>, Row)> = report
        .strategies
        .iter()
        .enumerate()
        .map(|(index, strategy)| (index, key(strategy, &ranked_by), row(strategy)))
        .collect();
    let higher = higher_is_better(&ranked_by.0);
    rows.sort_by(|a, b| {
        let order = match (a.1, b.1) {
            (Some(x), Some(y)) if higher => y.total_cmp(&x),
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        order.then(a.0.cmp(&b.0))
    });
    let mut rows: Vec<Row> = rows.into_iter().map(|(_, _, row)| row).collect();
    mark_best(&mut rows);
    Table { rows, ranked_by, because }
}

/// The ranking metric and aggregate, and why it was chosen.
fn ranking_key(report: &RunReport) -> ((String, String), &'static str) {
    let slos = report.strategies.iter().flat_map(|s| s.slo.iter());
    if let Some(failed) = slos.clone().find(|slo| !slo.passed) {
        return ((failed.metric.clone(), aggregate_of(&failed.threshold)), "the first SLO that failed");
    }
    if let Some(first) = slos.clone().next() {
        return ((first.metric.clone(), aggregate_of(&first.threshold)), "the first SLO");
    }
    (("recovery_time".to_string(), "p99".to_string()), "no SLO")
}

/// `p(99) < 8s` → `p99`; `count == 0` → `count`; `max < 8s` → `max`.
fn aggregate_of(threshold: &str) -> String {
    let head = threshold.split_whitespace().next().unwrap_or("p99");
    match head.strip_prefix("p(").and_then(|rest| rest.strip_suffix(')')) {
        Some(percent) => match percent {
            "50" => "p50",
            "90" => "p90",
            "95" => "p95",
            _ => "p99",
        }
        .to_string(),
        None => head.to_string(),
    }
}

/// The figure of `metric`'s `aggregate` for `strategy`.
fn key(strategy: &StrategyReport, (metric, aggregate): &(String, String)) -> Option<f64> {
    let stats = strategy.metrics.get(metric).filter(|s| s.count > 0)?;
    Some(match aggregate.as_str() {
        "p50" => stats.p50,
        "p90" => stats.p90,
        "p95" => stats.p95,
        "min" => stats.min,
        "max" => stats.max,
        "mean" => stats.mean,
        "count" => stats.count as f64,
        "sum" | "value" => stats.sum,
        _ => stats.p99,
    })
}

fn row(strategy: &StrategyReport) -> Row {
    let stats = |metric: &str| strategy.metrics.get(metric).copied().filter(|s: &Stats| s.count > 0);
    let seconds = |metric: &str, pick: fn(&Stats) -> f64| {
        stats(metric).map_or(Figure::Missing, |s| Figure::Seconds(pick(&s)))
    };
    let figures = [
        seconds("recovery_time", |s| s.p50),
        seconds("recovery_time", |s| s.p99),
        seconds("excess_after_heal", |s| s.p99),
        stats("detect_time")
            .or(stats("observed_detect_time"))
            .map_or(Figure::Missing, |s| Figure::Seconds(s.p99)),
        Figure::Count(strategy.attempts_total),
        Figure::Count(strategy.peak_attempts_per_second),
        if strategy.messages.offered > 0 { Figure::Count(strategy.messages.lost) } else { Figure::Missing },
        stats("availability").map_or(Figure::Missing, |s| Figure::Fraction(s.mean)),
        Figure::Count(strategy.unconverged.len() as u64),
    ];
    Row { name: strategy.name.clone(), verdict: strategy.verdict, figures, best: [false; 9] }
}

fn mark_best(rows: &mut [Row]) {
    for (column, (_, higher)) in COLUMNS.iter().enumerate() {
        let values: Vec<Option<f64>> = rows.iter().map(|row| row.figures[column].value()).collect();
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        if present.len() < 2 || present.iter().all(|v| *v == present[0]) {
            continue;
        }
        let best = if *higher {
            present.iter().copied().fold(f64::MIN, f64::max)
        } else {
            present.iter().copied().fold(f64::MAX, f64::min)
        };
        for (row, value) in rows.iter_mut().zip(values) {
            row.best[column] = value == Some(best);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn rows_are_ranked_by_the_first_failed_slo_and_the_best_marked() {
        let mut report = example::report();
        // File order puts the slower strategy first: the ranking must not follow it.
        report.strategies.reverse();
        let table = table(&report);
        let names: Vec<&str> = table.rows.iter().map(|row| row.name.as_str()).collect();
        assert_eq!(table.because, "the first SLO that failed");
        assert_eq!(table.ranked_by, ("recovery_time".to_string(), "p99".to_string()));
        // socketio recovers faster than fixed-1s in the example report.
        assert_eq!(names, ["socketio", "fixed-1s"]);
        let lost = COLUMNS.iter().position(|(name, _)| *name == "messages lost").unwrap();
        assert_eq!(table.rows[0].figures[lost], Figure::Count(2));
        assert!(table.rows[0].best[lost] && !table.rows[1].best[lost]);
        assert!(table.rows[0].best[1], "socketio has the best recovery p99");
        assert!(!table.rows[1].best[1]);
    }

    #[test]
    fn aggregates_are_read_off_thresholds() {
        assert_eq!(aggregate_of("p(99) < 8s"), "p99");
        assert_eq!(aggregate_of("p(50) < 1s"), "p50");
        assert_eq!(aggregate_of("count == 0"), "count");
        assert_eq!(aggregate_of("max < 8s"), "max");
    }

    #[test]
    fn a_column_where_all_are_equal_marks_nothing() {
        let report = example::report();
        let table = table(&report);
        let column = COLUMNS.iter().position(|(name, _)| *name == "unconverged").unwrap();
        if table.rows.iter().all(|row| row.figures[column] == table.rows[0].figures[column]) {
            assert!(table.rows.iter().all(|row| !row.best[column]));
        }
    }
}
