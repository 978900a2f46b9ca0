//! Run-wide figures: availability, attempts per second and their peak, give-ups, fault outcomes,
//! and the sample map's shape.

use std::collections::BTreeMap;

use super::{Script, assert_close, fault};
use crate::client::Reason;
use crate::outcome::FaultOutcome;
use crate::proxy::{EventKind, LinkId, NotApplied};
use crate::ws::observer::Stop;

fn not_applied(plan: u64, link: u64, why: Stop) -> EventKind {
    EventKind::FaultNotApplied { fault: fault(plan, 0), link: LinkId(link), why: NotApplied::Unfollowed(why) }
}
use crate::scenario::slo::METRICS;

#[test]
fn availability_is_healthy_time_over_time_since_the_first_attempt() {
    let cases: Vec<(&str, Script, &[f64])> = vec![
        (
            "with a workload, healthy from the first echo after each open",
            Script::new(3, true, 10.0)
                // Client 0: healthy 2–6 and 8–10 of 0–10.
                .attempt(0.0, 0, 1)
                .opened(1.0, 0, 1)
                .echoed(2.0, 0, 0, 10)
                .detected(6.0, 0, Reason::Reset)
                .attempt(6.5, 0, 2)
                .opened(7.0, 0, 2)
                .echoed(8.0, 0, 1, 10)
                // Client 1: starts at 2, healthy 3–10, an echo before its open changes nothing.
                .echoed(2.5, 1, 9, 10)
                .attempt(2.0, 1, 1)
                .opened(2.5, 1, 1)
                .echoed(3.0, 1, 0, 10),
            // Client 2 never attempted.
            &[0.6, 0.875, 0.0],
        ),
        (
            "without a workload, healthy from each open; giving up ends it",
            Script::new(2, false, 10.0)
                .attempt(0.0, 0, 1)
                .opened(1.0, 0, 1)
                .detected(3.0, 0, Reason::Eof)
                .attempt(3.5, 0, 2)
                .opened(4.0, 0, 2)
                .detected(5.0, 0, Reason::Eof)
                .gave_up(5.5, 0)
                .attempt(5.0, 1, 1)
                .opened(5.0, 1, 1),
            &[0.3, 1.0],
        ),
    ];
    for (name, script, expected) in cases {
        assert_close(&script.finish().samples["availability"], expected, name);
    }
}

#[test]
fn attempts_are_counted_per_second_and_the_peak_is_their_max() {
    let output = Script::new(2, false, 10.0)
        .attempt(0.0, 0, 1)
        .attempt(0.5, 1, 1)
        .attempt(0.99, 0, 2)
        .attempt(1.0, 1, 2)
        .attempt(3.2, 0, 3)
        .attempt(10.0, 1, 3)
        .attempt(10.5, 0, 4)
        .finish();
    assert_eq!(output.attempts_total, 6, "the attempt after the end is ignored");
    assert_eq!(output.attempts_per_second, [3, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(output.samples["peak_attempts_per_second"], [3.0]);

    let quiet = Script::new(1, false, 2.5).finish();
    assert_eq!(quiet.attempts_total, 0);
    assert_eq!(quiet.attempts_per_second, [0, 0, 0]);
    assert_eq!(quiet.samples["peak_attempts_per_second"], [0.0]);
}

#[test]
fn clients_that_gave_up_are_listed_once_in_order() {
    let output = Script::new(3, false, 10.0).gave_up(1.0, 2).gave_up(2.0, 0).gave_up(3.0, 2).finish();
    assert_eq!(output.gave_up, [0, 2]);
    assert_eq!(output.samples["gave_up"], [1.0, 1.0]);
}

#[test]
fn faults_are_listed_in_plan_order_with_their_hits() {
    let output = Script::new(1, false, 10.0)
        .started(2.0, fault(1, 0), "latency")
        .started(5.0, fault(0, 1), "reset")
        .hit(5.0, fault(0, 1), Some(0))
        .hit(5.0, fault(0, 1), Some(1))
        .started(1.0, fault(0, 0), "refuse")
        .hit(1.5, fault(0, 0), None)
        .ended(3.0, fault(0, 0))
        .ended(4.0, fault(1, 0))
        .hit(6.0, fault(7, 0), Some(0))
        .started(11.0, fault(2, 0), "close")
        .proxy(2.5, not_applied(1, 4, Stop::NotHttp))
        .proxy(2.6, not_applied(1, 5, Stop::NotHttp))
        .proxy(2.7, not_applied(1, 6, Stop::NotUpgraded(401)))
        .finish();
    let outcome = |plan, occurrence, name: &str, started, ended, hits| FaultOutcome {
        plan,
        occurrence,
        name: name.into(),
        started,
        ended,
        hits,
        not_applied: BTreeMap::new(),
        impersonation: None,
    };
    let mut latency = outcome(1, 0, "latency", 2.0, Some(4.0), 0);
    latency.not_applied =
        BTreeMap::from([(Stop::NotHttp.to_string(), 2), (Stop::NotUpgraded(401).to_string(), 1)]);
    assert_eq!(
        output.faults,
        [outcome(0, 0, "refuse", 1.0, Some(3.0), 1), outcome(0, 1, "reset", 5.0, None, 2), latency]
    );
}

#[test]
fn every_metric_has_samples_even_for_an_empty_run() {
    let output = Script::new(0, true, 5.0).finish();
    let names: Vec<&str> = output.samples.keys().copied().collect();
    let mut expected: Vec<&str> = METRICS.iter().map(|metric| metric.name).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for (name, values) in &output.samples {
        let expected: &[f64] = if *name == "peak_attempts_per_second" { &[0.0] } else { &[] };
        assert_eq!(values, expected, "{name}");
    }
}

#[test]
fn clients_converge_when_open_at_the_end_with_every_message_echoed() {
    let output = Script::new(4, true, 10.0)
        // 0: open, its one message echoed: converged.
        .opened(0.0, 0, 1)
        .offered(1.0, 0, 0)
        .echoed(1.0, 0, 0, 1)
        // 1: open, but message 0 never came back.
        .opened(0.0, 1, 1)
        .offered(1.0, 1, 0)
        // 2: broke and never reopened.
        .opened(0.0, 2, 1)
        .detected(5.0, 2, Reason::Reset)
        // 3: broke, reopened, all echoed: converged.
        .opened(0.0, 3, 1)
        .detected(2.0, 3, Reason::Reset)
        .opened(3.0, 3, 2)
        .offered(4.0, 3, 0)
        .echoed(4.0, 3, 0, 1)
        .finish();
    assert_eq!(output.unconverged, [1, 2]);
}
