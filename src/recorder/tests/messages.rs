//! Message accounting: offered, sent, echoed, lost, duplicated, reordered and latency.

use super::{Script, assert_close};
use crate::client::{ClientEventKind, DropReason};
use crate::outcome::MessageCounts;

/// `count` messages offered and sent by `client` at 1.0, 1.1, ….
fn offer(mut script: Script, client: u32, count: u64) -> Script {
    for seq in 0..count {
        let t = 1.0 + seq as f64 / 10.0;
        script = script.offered(t, client, seq).sent(t, client, seq, false);
    }
    script
}

fn counts(offered: u64, sent: u64, echoed: u64, lost: u64, duplicated: u64, reordered: u64) -> MessageCounts {
    MessageCounts { offered, sent, echoed, lost, unresolved: 0, duplicated, reordered }
}

#[test]
fn messages_are_accounted_per_definition() {
    let cases: Vec<(&str, Script, MessageCounts, &[f64])> = vec![
        (
            "every message echoed in order",
            offer(Script::new(1, true, 10.0), 0, 3)
                .echoed(2.0, 0, 0, 10)
                .echoed(2.1, 0, 1, 20)
                .echoed(2.2, 0, 2, 30),
            counts(3, 3, 3, 0, 0, 0),
            &[0.01, 0.02, 0.03],
        ),
        (
            "one echo overtaken by a later one is reordered",
            offer(Script::new(1, true, 10.0), 0, 4)
                .echoed(2.0, 0, 0, 10)
                .echoed(2.1, 0, 2, 10)
                .echoed(2.2, 0, 1, 10)
                .echoed(2.3, 0, 3, 10),
            counts(4, 4, 4, 0, 0, 1),
            &[0.01; 4],
        ),
        (
            "every echo below the highest so far counts",
            offer(Script::new(1, true, 10.0), 0, 4)
                .echoed(2.0, 0, 0, 10)
                .echoed(2.1, 0, 3, 10)
                .echoed(2.2, 0, 1, 10)
                .echoed(2.3, 0, 2, 10),
            counts(4, 4, 4, 0, 0, 2),
            &[0.01; 4],
        ),
        (
            "order is per client",
            offer(offer(Script::new(2, true, 10.0), 0, 6), 1, 4).echoed(2.0, 0, 5, 10).echoed(2.1, 1, 3, 10),
            counts(10, 10, 2, 8, 0, 0),
            &[0.01, 0.01],
        ),
        (
            "a resend is not sent again; a duplicate counts, a suppressed one does not",
            offer(Script::new(1, true, 10.0), 0, 1)
                .sent(3.0, 0, 0, true)
                .echoed(3.1, 0, 0, 2100)
                .client(3.2, 0, ClientEventKind::Duplicate { seq: 0 })
                .client(3.3, 0, ClientEventKind::DuplicateSuppressed { seq: 0 })
                .client(3.4, 0, ClientEventKind::Duplicate { seq: 0 }),
            counts(1, 1, 1, 0, 2, 0),
            &[2.1],
        ),
        (
            "an echo after the quiet period is ignored and its message lost",
            offer(Script::new(1, true, 10.0), 0, 2).echoed(10.0, 0, 0, 9000).echoed(10.5, 0, 1, 9400),
            counts(2, 2, 1, 1, 0, 0),
            &[9.0],
        ),
        (
            "an offered message never sent is lost",
            Script::new(1, true, 10.0).offered(1.0, 0, 0),
            counts(1, 0, 0, 1, 0, 0),
            &[],
        ),
    ];
    for (name, script, expected, latencies) in cases {
        let output = script.finish();
        assert_eq!(output.messages, expected, "{name}");
        assert_close(&output.samples["message_latency"], latencies, name);
        assert_eq!(output.samples["messages_lost"], vec![1.0; expected.lost as usize], "{name}");
        assert_eq!(output.samples["messages_duplicated"], vec![1.0; expected.duplicated as usize], "{name}");
        assert_eq!(output.samples["messages_reordered"], vec![1.0; expected.reordered as usize], "{name}");
    }
}

#[test]
fn a_run_cut_short_counts_messages_still_due_or_in_flight_as_unresolved_not_lost() {
    // Client 0: seqs 0..5 offered and sent; 0 and 1 echoed, 2 dropped (given up on), 3 and 4
    // in flight; seq 5 fell due but was never sent (queued while offline).
    let script = offer(Script::new(1, true, 75.0), 0, 5)
        .echoed(2.0, 0, 0, 10)
        .echoed(2.1, 0, 1, 10)
        .client(2.2, 0, ClientEventKind::Dropped { seq: 2, why: DropReason::NotOpen })
        .offered(2.3, 0, 5)
        .echoed(20.0, 0, 3, 10);
    let mut recorder = super::super::Recorder::new(script.span(), 1, true);
    for event in &script.events {
        recorder.record(event.clone());
    }
    // The interrupt comes at 10 s: an echo after it does not count.
    recorder.cut(script.at(10.0));
    let output = recorder.finish();
    let expected = MessageCounts { unresolved: 3, ..counts(6, 5, 2, 1, 0, 0) };
    assert_eq!(output.messages, expected, "3, 4 and 5 unresolved; only the dropped 2 lost");
    assert_eq!(output.samples["messages_lost"], vec![1.0]);
    assert_eq!(output.attempts_per_second.len(), 10, "the figures end at the cut");

    // The same events without the cut: at the end of the run every unechoed message is lost.
    let whole = offer(Script::new(1, true, 75.0), 0, 5)
        .echoed(2.0, 0, 0, 10)
        .echoed(2.1, 0, 1, 10)
        .client(2.2, 0, ClientEventKind::Dropped { seq: 2, why: DropReason::NotOpen })
        .offered(2.3, 0, 5)
        .finish();
    assert_eq!(whole.messages, counts(6, 5, 2, 4, 0, 0));
}
