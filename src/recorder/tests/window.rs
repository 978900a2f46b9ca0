//! Runs longer than the recorder's reorder window: events are let go and derived while the run
//! goes, and the result is the same as for a short script held whole until the end.

use super::{Script, assert_close};
use crate::client::Reason;
use crate::outcome::MessageCounts;
use crate::recorder::window::WINDOW_EVENTS;

/// Messages client 0 sends, three events each: the window fills and lets events go long
/// before the end.
const MESSAGES: u64 = 30_000;
/// Of those, the ones before its connection breaks.
const BEFORE_BREAK: u64 = 1_000;

/// Client 0 sends a message every millisecond, echoed half a millisecond later; its connection
/// breaks at 2 s, reopens at 2.12 s, and the next message (sent at 3 s) is echoed at 3.0005 s,
/// tens of thousands of events before the end. Client 1 opens and offers one message at 50 s
/// that is never echoed.
fn long_run() -> Script {
    let mut script = Script::new(2, true, 60.0).connect(0.0, 0, 1, 0).connect(0.0, 1, 1, 1);
    for seq in 0..MESSAGES {
        if seq == BEFORE_BREAK {
            script = script.detected(2.0, 0, Reason::Reset).connect(2.1, 0, 2, 2);
        }
        let start = if seq < BEFORE_BREAK { 0.1 } else { 3.0 - BEFORE_BREAK as f64 * 0.001 };
        let t = start + seq as f64 * 0.001;
        script = script.offered(t, 0, seq).sent(t, 0, seq, false).echoed(t + 0.0005, 0, seq, 1);
    }
    script.offered(50.0, 1, 0)
}

#[test]
fn a_run_longer_than_the_window_is_derived_as_it_streams() {
    let script = long_run();
    assert!(script.events.len() > WINDOW_EVENTS, "the window must let events go before the end");
    let output = script.finish();
    assert_eq!(
        output.messages,
        MessageCounts {
            offered: MESSAGES + 1,
            sent: MESSAGES,
            echoed: MESSAGES,
            lost: 1,
            unresolved: 0,
            duplicated: 0,
            reordered: 0
        }
    );
    assert_eq!(output.samples["message_latency"].len() as u64, MESSAGES);
    assert_eq!(output.incidents.len(), 1);
    // The reopen at 2.12 s awaits an echo (the workload still runs), which comes at 3.0005 s.
    assert_close(&output.samples["recovery_time"], &[1.0005], "recovery_time");
    assert_close(&output.samples["resync_time"], &[0.8805], "resync_time");
    assert_eq!(output.unconverged, [1], "client 1's message was never echoed");
    assert_eq!(output.late_events, 0);
}

#[test]
fn disorder_within_the_window_does_not_change_the_result() {
    let in_order = long_run();
    let mut shuffled = in_order.clone();
    // Swap neighbours across the whole run: every event arrives one place off.
    for pair in shuffled.events.chunks_mut(2) {
        pair.reverse();
    }
    let output = shuffled.finish();
    assert_eq!(output, in_order.finish());
    assert_eq!(output.late_events, 0);
}

#[test]
fn an_event_later_than_the_window_is_taken_and_counted() {
    let mut script = Script::new(1, false, 1000.0);
    for n in 0..WINDOW_EVENTS as u64 + 10 {
        script = script.attempt(1.0 + n as f64 * 0.001, 0, n + 1);
    }
    let script = script.attempt(0.5, 0, 0);
    let output = script.finish();
    assert_eq!(output.late_events, 1);
    assert_eq!(output.attempts_total, WINDOW_EVENTS as u64 + 11, "a late event still counts");
}
