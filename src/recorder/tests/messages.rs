//! Message accounting: offered, sent, echoed, lost, duplicated, reordered and latency.

use super::{Script, assert_close};
use crate::client::ClientEventKind;
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
    MessageCounts { offered, sent, echoed, lost, duplicated, reordered }
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
