//! The SLO vocabulary: metric names, aggregates and thresholds parsed, and bad ones refused.

use super::*;

fn parse(metric: &str, text: &str) -> Result<Threshold, String> {
    parse_threshold(find_metric(metric).unwrap(), text).map_err(|(message, _)| message)
}

#[test]
fn thresholds_parse_into_their_parts() {
    let t = parse("recovery_time", "p(99) < 8s").unwrap();
    assert_eq!(t.aggregate, Aggregate::Percentile(99.0));
    assert_eq!(t.operator, Operator::Less);
    assert_eq!(t.bound, Bound::Duration(Duration::from_secs(8)));
    assert_eq!(t.to_string(), "p(99) < 8s");
    assert_eq!(parse("messages_lost", "count == 0").unwrap().bound, Bound::Number(0.0));
    assert_eq!(parse("availability", "mean >= 99.5%").unwrap().bound, Bound::Number(0.995));
    assert_eq!(parse("peak_attempts_per_second", "value <= 200").unwrap().operator, Operator::LessOrEqual);
    assert_eq!(parse("recovery_time", "count>=1").unwrap().aggregate, Aggregate::Count);
}

#[test]
fn bad_thresholds_explain_themselves() {
    let cases = [
        ("recovery_time", "p(99) 8s", "no comparison"),
        ("recovery_time", "p(101) < 8s", "at most 100"),
        ("recovery_time", "median < 8s", "unknown aggregate"),
        ("recovery_time", "p(99) < 8", "has no unit"),
        ("messages_lost", "p(99) < 1", "does not apply"),
        ("peak_attempts_per_second", "max < 3", "use one of value"),
        ("availability", "min > 120%", "between 0 and 1"),
        ("attempts", "max < 50%", "only fits availability"),
        ("attempts", "max < lots", "not a number"),
    ];
    for (metric, text, phrase) in cases {
        let error = parse(metric, text).unwrap_err();
        assert!(error.contains(phrase), "{text}: {error}");
    }
    assert!(parse_metric("recovery").unwrap_err().1.unwrap().contains("recovery_time"));
}

#[test]
fn comparisons_hold_as_written() {
    assert!(Operator::Less.holds(1.0, 2.0));
    assert!(!Operator::Less.holds(2.0, 2.0));
    assert!(Operator::LessOrEqual.holds(2.0, 2.0));
    assert!(Operator::NotEqual.holds(1.0, 2.0));
    assert!(Operator::GreaterOrEqual.holds(2.0, 2.0));
    assert!(!Operator::Equal.holds(1.0, 2.0));
}
