//! events.jsonl lines: one JSON object each, with the head keys first and real fields.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Script, fault};
use crate::client::{ClientEventKind, DropReason, GiveUp, Reason, State};
use crate::proxy::{CloseCause, EventKind, LinkId};
use crate::recorder::jsonl_line;
use crate::scenario::FrameKind;
use crate::ws::Way;

/// Asserts that each event of `script` writes one line, which parses to its `expected` fields.
fn assert_lines(script: &Script, expected: Vec<Value>) {
    for (event, expected) in script.events.iter().zip(expected) {
        let line = jsonl_line(event, script.origin);
        assert!(!line.contains('\n'), "{line}");
        let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(parsed, expected, "{line}");
    }
}

#[test]
fn every_proxy_event_kind_writes_its_fields() {
    let peer = "127.0.0.1:4000".parse().unwrap();
    let proxy: Vec<(EventKind, Value)> = vec![
        (
            EventKind::LinkOpened { link: LinkId(3), peer },
            json!({"event": "link_opened", "link": 3, "peer": "127.0.0.1:4000"}),
        ),
        (
            EventKind::LinkIdentified { link: LinkId(3), client: 7 },
            json!({"event": "link_identified", "link": 3, "client": 7}),
        ),
        (
            EventKind::LinkClosed { link: LinkId(3), cause: CloseCause::FaultReset(fault(1, 2)) },
            json!({"event": "link_closed", "link": 3, "cause": "fault_reset(faults[1]#2)"}),
        ),
        (
            EventKind::LinkClosed { link: LinkId(4), cause: CloseCause::HandshakeTimeout },
            json!({"event": "link_closed", "link": 4, "cause": "handshake_timeout"}),
        ),
        (
            EventKind::LinkClosed {
                link: LinkId(5),
                cause: CloseCause::ClientTlsFailed(std::io::ErrorKind::InvalidData),
            },
            json!({"event": "link_closed", "link": 5, "cause": "client_tls_failed(InvalidData)"}),
        ),
        (
            EventKind::LinkClosed {
                link: LinkId(6),
                cause: CloseCause::ServerTlsFailed(std::io::ErrorKind::TimedOut),
            },
            json!({"event": "link_closed", "link": 6, "cause": "server_tls_failed(TimedOut)"}),
        ),
        (
            EventKind::FaultStarted { fault: fault(1, 2), name: "reset" },
            json!({"event": "fault_started", "fault": "faults[1]#2", "name": "reset"}),
        ),
        (
            EventKind::FaultEnded { fault: fault(0, 0) },
            json!({"event": "fault_ended", "fault": "faults[0]#0"}),
        ),
        (
            EventKind::FaultHit { fault: fault(0, 0), link: None },
            json!({"event": "fault_hit", "fault": "faults[0]#0", "link": null}),
        ),
        (
            EventKind::ControlFrame {
                link: LinkId(2),
                way: Way::Upstream,
                kind: FrameKind::Close,
                close_code: Some(1000),
                swallowed: false,
            },
            json!({"event": "control_frame", "link": 2, "way": "upstream", "kind": "close", "code": 1000}),
        ),
        (
            EventKind::ControlFrame {
                link: LinkId(2),
                way: Way::Downstream,
                kind: FrameKind::Ping,
                close_code: None,
                swallowed: true,
            },
            json!({"event": "control_frame", "link": 2, "way": "downstream", "kind": "ping", "code": null, "swallowed": true}),
        ),
    ];
    let mut script = Script::new(8, true, 10.0);
    let mut expected = Vec::new();
    for (kind, mut fields) in proxy {
        script = script.proxy(1.25, kind);
        fields["t"] = json!(1.25);
        fields["source"] = json!("proxy");
        expected.push(fields);
    }
    assert_lines(&script, expected);
}

#[test]
fn every_client_event_kind_writes_its_fields() {
    let ms = Duration::from_millis;
    let client: Vec<(ClientEventKind, Value)> = vec![
        (
            ClientEventKind::Started { session: 255 },
            json!({"event": "started", "session": "00000000000000ff"}),
        ),
        (ClientEventKind::State(State::Waiting), json!({"event": "state", "state": "waiting"})),
        (ClientEventKind::Attempt { n: 4 }, json!({"event": "attempt", "n": 4})),
        (
            ClientEventKind::AttemptFailed { n: 4, reason: Reason::HandshakeRejected(503) },
            json!({"event": "attempt_failed", "n": 4, "reason": "handshake_rejected(503)"}),
        ),
        (ClientEventKind::Opened { n: 4, local: None }, json!({"event": "opened", "n": 4, "local": null})),
        (ClientEventKind::Detected(Reason::Reset), json!({"event": "detected", "reason": "reset"})),
        (
            ClientEventKind::Waiting { delay: ms(1500), floor: Some(ms(250)) },
            json!({"event": "waiting", "delay": 1.5, "floor": 0.25}),
        ),
        (ClientEventKind::BackoffReset, json!({"event": "backoff_reset"})),
        (
            ClientEventKind::GaveUp(GiveUp::StrategyExhausted),
            json!({"event": "gave_up", "why": "the strategy has no further delay"}),
        ),
        (ClientEventKind::Offered { seq: 9 }, json!({"event": "offered", "seq": 9})),
        (ClientEventKind::Sent { seq: 9, resend: true }, json!({"event": "sent", "seq": 9, "resend": true})),
        (
            ClientEventKind::Echoed { seq: 9, latency: ms(125) },
            json!({"event": "echoed", "seq": 9, "latency": 0.125}),
        ),
        (ClientEventKind::Duplicate { seq: 9 }, json!({"event": "duplicate", "seq": 9})),
        (ClientEventKind::DuplicateSuppressed { seq: 9 }, json!({"event": "duplicate_suppressed", "seq": 9})),
        (
            ClientEventKind::Dropped { seq: 9, why: DropReason::OutboxFull },
            json!({"event": "dropped", "seq": 9, "why": "outbox_full"}),
        ),
    ];
    let mut script = Script::new(8, true, 10.0);
    let mut expected = Vec::new();
    for (kind, mut fields) in client {
        script = script.client(2.5, 7, kind);
        fields["t"] = json!(2.5);
        fields["source"] = json!("client");
        fields["client"] = json!(7);
        expected.push(fields);
    }
    assert_lines(&script, expected);
}

#[test]
fn the_head_keys_come_first_in_a_fixed_order() {
    let script = Script::new(1, false, 10.0).attempt(0.5, 3, 1).closed(0.75, 2);
    let lines: Vec<String> = script.events.iter().map(|event| jsonl_line(event, script.origin)).collect();
    assert_eq!(lines[0], r#"{"t":0.5,"source":"client","client":3,"event":"attempt","n":1}"#);
    assert_eq!(
        lines[1],
        r#"{"t":0.75,"source":"proxy","event":"link_closed","link":2,"cause":"server_error(ConnectionReset)"}"#
    );
}
