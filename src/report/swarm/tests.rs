//! The swarm report: seed figures, verdicts, the distribution and swarm.md, over hand-built
//! seeds made from the example report.

use super::*;
use crate::report::example;
use crate::scenario::slo::find_metric;

fn drawn(value: &str) -> Vec<Drawn> {
    vec![Drawn { path: "clients.heartbeat.ping_every".to_string(), value: value.to_string() }]
}

/// The example run as seed `seed`, with its recovery times scaled by `scale`.
fn seed(seed: u64, scale: f64) -> SeedResult {
    let mut run = example::report();
    for strategy in &mut run.strategies {
        let recovery = strategy.metrics.get_mut("recovery_time").unwrap();
        recovery.p99 *= scale;
    }
    seed_ran(seed, &drawn(&format!("{seed}s")), &run)
}

fn header() -> SwarmHeader {
    SwarmHeader {
        scenario: "flaky-mobile-link".to_string(),
        file: "scenarios/flaky.yaml".to_string(),
        seeds: (1, 4),
        ranges: [("clients.heartbeat.ping_every".to_string(), "1s..20s".to_string())].into(),
        strategies: vec!["socketio".to_string(), "fixed-1s".to_string()],
        workload: true,
    }
}

#[test]
fn each_shape_has_its_seed_figure() {
    let summary = example::stats(&[1.0, 2.0, 3.0, 10.0]);
    let figure_of = |name: &str| figure(find_metric(name).unwrap(), &summary);
    assert_eq!(figure_of("recovery_time"), Some(10.0), "p99 of a duration");
    assert_eq!(figure_of("attempts"), Some(10.0), "p99 of a number per incident");
    assert_eq!(figure_of("messages_lost"), Some(4.0), "count of events");
    assert_eq!(figure_of("availability"), Some(4.0), "mean of a fraction");
    assert_eq!(figure(find_metric("recovery_time").unwrap(), &Stats::default()), None, "no incident");
    assert_eq!(figure(find_metric("incidents").unwrap(), &Stats::default()), Some(0.0), "none counted");
}

#[test]
fn a_seed_keeps_its_draw_verdict_failed_slos_and_figures() {
    let result = seed(3, 1.0);
    assert_eq!(result.verdict, SeedVerdict::Fail, "fixed-1s fails");
    assert_eq!(result.drawn["clients.heartbeat.ping_every"], "3s");
    let names: Vec<&str> = result.strategies.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["socketio", "fixed-1s"]);
    assert!(result.strategies[0].failed_slos.is_empty());
    let failed: Vec<&str> = result.strategies[1].failed_slos.iter().map(|s| s.threshold.as_str()).collect();
    assert_eq!(failed, ["p(99) < 5s", "count <= 5"]);
    assert_eq!(result.strategies[1].metrics["recovery_time"], Some(9.0));
}

#[test]
fn the_distribution_spans_the_seed_figures_and_names_the_worst_seed() {
    let seeds = vec![seed(4, 0.5), seed(2, 3.0), seed(1, 1.0), seed(3, 2.0)];
    let report = assemble(header(), seeds, false);
    assert_eq!(report.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(), [1, 2, 3, 4], "seed order");
    let row = |strategy: &str, metric: &str| {
        report.distribution.iter().find(|r| r.strategy == strategy && r.metric == metric).unwrap()
    };
    let recovery = row("fixed-1s", "recovery_time");
    assert_eq!((recovery.figure.as_str(), recovery.seeds), ("p99", 4));
    assert_eq!((recovery.min, recovery.max, recovery.worst_seed), (4.5, 27.0, 2));
    // Availability is better higher: its worst seed has the smallest mean (all equal here:
    // the lowest seed).
    assert_eq!(row("socketio", "availability").worst_seed, 1);
    // Metrics nobody measured are left out; the rows follow the matrix, then the vocabulary.
    assert!(report.distribution.iter().all(|r| r.metric != "detect_time"));
    assert_eq!(report.distribution[0].strategy, "socketio");
    assert_eq!(report.verdict, Verdict::Fail);
}

#[test]
fn invalid_draws_fail_inconclusive_seeds_come_next_and_an_interrupt_outranks_both() {
    let mut inconclusive = seed(1, 1.0);
    inconclusive.strategies.truncate(1);
    inconclusive.verdict = SeedVerdict::Inconclusive;
    let mut passing = inconclusive.clone();
    passing.verdict = SeedVerdict::Pass;
    let invalid = SeedResult {
        seed: 2,
        drawn: drawn_map(&drawn("0s")),
        verdict: SeedVerdict::InvalidDraw,
        invalid: vec!["clients.heartbeat.ping_every: must be longer than 0s".to_string()],
        strategies: Vec::new(),
    };
    let verdict = |seeds: Vec<SeedResult>, interrupted| assemble(header(), seeds, interrupted).verdict;
    assert_eq!(verdict(vec![passing.clone()], false), Verdict::Pass);
    assert_eq!(verdict(vec![passing.clone(), inconclusive.clone()], false), Verdict::Inconclusive);
    assert_eq!(verdict(vec![inconclusive.clone(), invalid.clone()], false), Verdict::Fail);
    assert_eq!(verdict(vec![passing], true), Verdict::Interrupted);

    let text = markdown::render(&assemble(header(), vec![inconclusive, invalid], false));
    assert!(text.starts_with("## FAIL · swarm of flaky-mobile-link · seeds 1..4 · engine sim\n"), "{text}");
    assert!(text.contains("2 seeds: 0 passed, 0 failed, 1 inconclusive, 1 invalid draws"), "{text}");
    assert!(text.contains(
        "| 2 | INVALID DRAW | `clients.heartbeat.ping_every` = 0s | clients.heartbeat.ping_every: must be longer than 0s | `wschaos run scenarios/flaky.yaml --engine sim --seeds 2` |"
    ), "{text}");
    assert!(text.contains("| 1 | INCONCLUSIVE |"), "{text}");
    assert!(text.contains("socketio: inconclusive | `wschaos run scenarios/flaky.yaml --engine sim --seeds 1 --strategy socketio` |"), "{text}");
}

#[test]
fn swarm_md_lists_each_failing_strategy_with_its_repro_and_the_table_in_metric_units() {
    let report = assemble(header(), vec![seed(1, 1.0), seed(2, 3.0)], false);
    let text = markdown::render(&report);
    assert!(text.contains("| `clients.heartbeat.ping_every` | `1s..20s` |"), "{text}");
    assert!(text.contains("| fixed-1s | recovery_time | p99 | 2 | 9s | 9s | 27s | 27s | 2 |"), "{text}");
    assert!(text.contains("| socketio | availability | mean | 2 | 99% | 99% | 99% | 99% | 1 |"), "{text}");
    for n in [1, 2] {
        let line =
            format!("`wschaos run scenarios/flaky.yaml --engine sim --seeds {n} --strategy fixed-1s` |");
        assert!(text.contains(&line), "{line}\n{text}");
        assert!(text.contains(&format!("| {n} | FAIL | `clients.heartbeat.ping_every` = {n}s | fixed-1s: recovery_time `p(99) < 5s` measured 9s, messages_lost `count <= 5` measured 20 |")), "{text}");
    }
    // socketio passed its SLOs but a fault hit nothing: listed too, as inconclusive.
    assert!(text.contains("| 2 | FAIL | `clients.heartbeat.ping_every` = 2s | socketio: inconclusive | `wschaos run scenarios/flaky.yaml --engine sim --seeds 2 --strategy socketio` |"), "{text}");
    assert_eq!(render_json(&report), render_json(&report.clone()));
    let back: SwarmReport = serde_json::from_str(&render_json(&report)).unwrap();
    assert_eq!(back, report);
}

#[test]
fn swarm_html_draws_each_varied_metric_and_lists_the_failing_seeds() {
    let seeds = vec![seed(1, 1.0), seed(2, 2.0), seed(3, 0.5)];
    let report = assemble(header(), seeds, false);
    let page = crate::report::html::swarm::render(&report);
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let doc = roxmltree::Document::parse_with_options(&page, options).expect("swarm.html is well-formed");
    let curve = doc
        .descendants()
        .find(|n| {
            n.attribute("data-metric") == Some("recovery_time")
                && n.attribute("data-strategy") == Some("socketio")
        })
        .expect("a recovery_time curve for socketio");
    // socketio's p99 (2.5 s) scaled by each seed's factor, sorted.
    assert_eq!(curve.attribute("data-values"), Some("1.25 2.5 5"));
    let failing: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("failing-seed"))
        .filter_map(|n| n.attribute("data-seed"))
        .collect();
    // A row per strategy that did not pass: fixed-1s fails and socketio is inconclusive (a
    // fault hit nothing) in every seed.
    assert_eq!(failing, ["1", "1", "2", "2", "3", "3"]);
    assert!(page.contains("wschaos run scenarios/flaky.yaml --engine sim --seeds 2 --strategy fixed-1s"));
}
