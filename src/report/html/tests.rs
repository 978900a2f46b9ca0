//! The page read back with an XML parser: the charts hold the data of a hand-built report
//! (curve points, fault band positions, state series, lanes), the ranking order is the side by
//! side table's, nothing is loaded from elsewhere, and the size stays bounded.

use roxmltree::{Document, Node, ParsingOptions};

use super::render;
use super::svg::{Plot, Scale};
use crate::outcome::{Charts, Lane, LaneSpan, RunReport};
use crate::report::example;

/// The example report with charts: 20 buckets of 6.5 s, a CDF, two lanes.
fn report() -> RunReport {
    let mut report = example::report();
    for (i, strategy) in report.strategies.iter_mut().enumerate() {
        let buckets = 20;
        strategy.charts = Some(Charts {
            bucket: 6.5,
            open: (0..buckets).map(|b| 3 - (b % 3) as u32).collect(),
            connecting: (0..buckets).map(|b| (b % 3) as u32).collect(),
            waiting: vec![0; buckets],
            gone: vec![0; buckets],
            attempts: (0..buckets as u64).map(|b| b * (i as u64 + 1)).collect(),
            latency: (0..buckets).map(|b| (b % 2 == 0).then_some([0.01, 0.02, 0.05, 0.09])).collect(),
            recovery_cdf: vec![[0.45, 0.25], [0.8, 0.5], [1.2, 0.75], [2.5 + i as f64, 1.0]],
            lanes: vec![Lane {
                client: 2,
                why: "slowest recovery".into(),
                recovery: Some(2.5),
                spans: vec![
                    LaneSpan { from: 0.0, to: 10.0, state: "open".into() },
                    LaneSpan { from: 10.0, to: 11.0, state: "down".into() },
                    LaneSpan { from: 11.0, to: 12.5, state: "trying".into() },
                    LaneSpan { from: 12.5, to: 130.0, state: "open".into() },
                ],
                attempts: vec![11.0, 12.0],
            }],
        });
    }
    report
}

/// The page as a DOM; its `<!DOCTYPE html>` is a DTD to an XML parser.
fn parse(page: &str) -> Document<'_> {
    let options = ParsingOptions { allow_dtd: true, ..ParsingOptions::default() };
    Document::parse_with_options(page, options).expect("report.html is well-formed XML")
}

fn class_is(node: &Node<'_, '_>, class: &str) -> bool {
    node.attribute("class").is_some_and(|c| c.split(' ').any(|part| part == class))
}

fn all<'a, 'input>(doc: &'a Document<'input>, class: &str) -> Vec<Node<'a, 'input>> {
    doc.descendants().filter(|n| class_is(n, class)).collect()
}

#[test]
fn the_page_parses_and_holds_the_report_s_data() {
    let report = report();
    let page = render(&report);
    let doc = parse(&page);

    // The CDF: one curve per strategy, holding its points.
    let curves = all(&doc, "cdf");
    assert_eq!(curves.len(), 2);
    assert_eq!(curves[0].attribute("data-strategy"), Some("socketio"));
    assert_eq!(curves[0].attribute("data-points"), Some("0.45:0.25 0.8:0.5 1.2:0.75 2.5:1"));
    assert_eq!(curves[1].attribute("data-points"), Some("0.45:0.25 0.8:0.5 1.2:0.75 3.5:1"));

    // Fault bands: every occurrence of each strategy, at its times; the reset is instant.
    let bands = all(&doc, "fault");
    let per_strategy = bands.len() / 2 / 3; // timeline, latency and lanes charts per strategy
    assert_eq!(per_strategy, 2, "two faults per strategy");
    let reset = &bands[0];
    assert_eq!(reset.attribute("data-name"), Some("reset"));
    assert_eq!((reset.attribute("data-from"), reset.attribute("data-to")), (Some("10"), Some("10.5")));
    let blackhole = &bands[1];
    assert_eq!(blackhole.attribute("data-name"), Some("blackhole"));
    assert_eq!(blackhole.attribute("data-from"), Some("60"));
    // Its rectangle starts where the time axis puts 60 s of 130.
    let rect = blackhole.children().find(|n| n.has_tag_name("rect")).unwrap();
    let plot = Plot::new(Scale::Linear { min: 0.0, max: 130.0 }, Scale::Linear { min: 0.0, max: 3.0 });
    assert_eq!(rect.attribute("x"), Some(plot.px(60.0).to_string().as_str()));

    // The states and attempts of the first strategy.
    let open = all(&doc, "state").into_iter().find(|n| n.attribute("data-state") == Some("open")).unwrap();
    let expected: Vec<String> =
        report.strategies[0].charts.as_ref().unwrap().open.iter().map(u32::to_string).collect();
    assert_eq!(open.attribute("data-values"), Some(expected.join(" ").as_str()));
    assert_eq!(all(&doc, "attempts").len(), 2);

    // Latency: four percentile lines per strategy, a point per bucket with echoes.
    let latency = all(&doc, "latency");
    assert_eq!(latency.len(), 8);
    assert!(latency[0].attribute("data-points").unwrap().starts_with("0:0.01 2:0.01"));

    // Lanes: one per chosen client, a span per state.
    let lanes = all(&doc, "lane");
    assert_eq!(lanes.len(), 2);
    assert_eq!(lanes[0].attribute("data-client"), Some("2"));
    assert_eq!(lanes[0].descendants().filter(|n| class_is(n, "span")).count(), 4);
}

#[test]
fn the_ranking_table_follows_the_side_by_side_order() {
    let mut report = report();
    report.strategies.reverse();
    let page = render(&report);
    let doc = parse(&page);
    let rows: Vec<&str> =
        all(&doc, "strategy-row").iter().filter_map(|n| n.attribute("data-strategy")).collect();
    assert_eq!(rows, ["socketio", "fixed-1s"]);
    let best: Vec<String> = doc
        .descendants()
        .filter(|n| class_is(n, "best"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    assert!(best.contains(&"2".to_string()), "socketio's 2 lost messages are the best: {best:?}");
}

#[test]
fn the_page_loads_nothing_from_elsewhere_and_is_the_same_twice() {
    let report = report();
    let page = render(&report);
    assert_eq!(page, render(&report));
    for forbidden in ["<script", "src=", "href=\"http", "url(", "@import"] {
        assert!(!page.contains(forbidden), "the page contains {forbidden}");
    }
}

#[test]
fn the_largest_charts_keep_the_page_small() {
    // The most a strategy's charts hold: 600 buckets of every series, 200 CDF points and 10
    // lanes of 100 spans and attempts (the recorder's caps), values changing every bucket.
    let mut report = example::report();
    report.strategies.truncate(1);
    let buckets = 600;
    let wave = |b: usize| (b * 7919 % 1000) as u32;
    report.strategies[0].charts = Some(Charts {
        bucket: 0.1,
        open: (0..buckets).map(wave).collect(),
        connecting: (0..buckets).map(|b| wave(b + 1) / 2).collect(),
        waiting: (0..buckets).map(|b| wave(b + 2) / 3).collect(),
        gone: vec![0; buckets],
        attempts: (0..buckets).map(|b| u64::from(wave(b + 3))).collect(),
        latency: (0..buckets)
            .map(|b| Some([0.001 * b as f64, 0.002 * b as f64, 0.003 * b as f64, 0.004 * b as f64]))
            .collect(),
        recovery_cdf: (1..=200).map(|i| [i as f64 * 0.05, i as f64 / 200.0]).collect(),
        lanes: (0..10)
            .map(|c| Lane {
                client: c,
                why: "ordinary".into(),
                recovery: None,
                spans: (0..100)
                    .map(|s| LaneSpan {
                        from: s as f64 * 0.6,
                        to: s as f64 * 0.6 + 0.3,
                        state: "open".into(),
                    })
                    .collect(),
                attempts: (0..100).map(|s| s as f64 * 0.6).collect(),
            })
            .collect(),
    });
    let page = render(&report);
    assert!(page.len() < 500 * 1024, "{} bytes", page.len());
}

#[test]
fn the_breakdown_shows_the_tls_share_of_the_reconnect_only_on_wss() {
    let mut plain = report();
    for strategy in &mut plain.strategies {
        strategy.metrics.insert("reconnect_time".into(), example::stats(&[0.5, 1.0]));
    }
    let page = render(&plain);
    assert!(page.contains("id=\"breakdown\"") && !page.contains("of the reconnect, TLS"), "no TLS on ws://");
    let mut secure = plain;
    secure.strategies[0].metrics.insert("tls_time".into(), example::stats(&[0.0012, 0.0059]));
    let page = render(&secure);
    let doc = parse(&page);
    let table = doc
        .descendants()
        .find(|node| {
            node.has_tag_name("table") && node.ancestors().any(|a| a.attribute("id") == Some("breakdown"))
        })
        .expect("the breakdown's numbers");
    let cells: Vec<&str> =
        table.descendants().filter(|n| n.has_tag_name("td")).filter_map(|n| n.text()).collect();
    assert!(page.contains("of the reconnect, TLS"));
    assert!(cells.contains(&"1.2ms") && cells.contains(&"5.9ms"), "{cells:?}");
    assert!(cells.contains(&"n/a"), "a strategy without TLS figures says so: {cells:?}");
}
