//! A program's reported events turned into the reference client's event kinds, so the
//! recorder computes the same figures for both (recovery, detection, message loss, duplicates,
//! order, availability). Pure: one [`Translator`] per client, fed in the order the lines came.
//!
//! The mapping (docs/client-protocol.md):
//! - `connecting` is an attempt; when the program was open and did not say it closed, the
//!   break is detected first (reason `closed`);
//! - `open` is the attempt's success (an `open` without `connecting` counts as an attempt);
//! - `closed` while open is a detected break; while connecting, a failed attempt;
//! - `sent` of a new id offers and sends a message (ids get sequence numbers in order of
//!   first sending, so order is judged by when messages were first sent); a known id is a
//!   resend; `received` of a sent id is its echo, with the latency since it was first sent,
//!   and a duplicate after that;
//! - `gave_up` is a give-up; `ready` is not a client event.

use std::collections::BTreeMap;

use tokio::time::Instant;

use super::protocol::ProgramEvent;
use crate::client::{ClientEventKind, GiveUp, Reason, State};

/// Where the program stands, as its events tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not connected and not trying.
    Idle,
    /// An attempt is under way.
    Connecting,
    /// Connected.
    Open,
}

/// One message by its id.
#[derive(Clone, Copy, Debug)]
struct Message {
    seq: u64,
    first_sent: Instant,
    received: bool,
}

/// One client's events, translated.
#[derive(Debug)]
pub struct Translator {
    phase: Phase,
    attempts: u64,
    messages: BTreeMap<String, Message>,
}

impl Default for Translator {
    fn default() -> Self {
        Translator { phase: Phase::Idle, attempts: 0, messages: BTreeMap::new() }
    }
}

impl Translator {
    /// The client event kinds `event`, read at `at`, stands for; an error in words when it
    /// cannot be taken (a `received` of an id never sent).
    pub fn translate(&mut self, event: ProgramEvent, at: Instant) -> Result<Vec<ClientEventKind>, String> {
        let mut out = Vec::new();
        match event {
            ProgramEvent::Ready => {}
            ProgramEvent::Connecting => {
                if self.phase == Phase::Open {
                    out.push(ClientEventKind::Detected(Reason::Reported { code: None, text: None }));
                    out.push(ClientEventKind::State(State::Broken));
                }
                self.attempt(&mut out);
            }
            ProgramEvent::Open { local } => {
                if self.phase != Phase::Connecting {
                    self.attempt(&mut out);
                }
                self.phase = Phase::Open;
                out.push(ClientEventKind::Opened { n: self.attempts, local });
                out.push(ClientEventKind::State(State::Open));
            }
            ProgramEvent::Closed { code, reason } => {
                let reason = Reason::Reported { code, text: reason };
                match self.phase {
                    Phase::Open => {
                        out.push(ClientEventKind::Detected(reason));
                        out.push(ClientEventKind::State(State::Broken));
                    }
                    Phase::Connecting => {
                        out.push(ClientEventKind::AttemptFailed { n: self.attempts, reason })
                    }
                    Phase::Idle => {}
                }
                self.phase = Phase::Idle;
            }
            ProgramEvent::Sent { id } => {
                let next = self.messages.len() as u64;
                match self.messages.get(&id) {
                    Some(message) => out.push(ClientEventKind::Sent { seq: message.seq, resend: true }),
                    None => {
                        self.messages.insert(id, Message { seq: next, first_sent: at, received: false });
                        out.push(ClientEventKind::Offered { seq: next });
                        out.push(ClientEventKind::Sent { seq: next, resend: false });
                    }
                }
            }
            ProgramEvent::Received { id } => {
                let Some(message) = self.messages.get_mut(&id) else {
                    return Err(format!("received id {id:?}, which it never reported as sent"));
                };
                if message.received {
                    out.push(ClientEventKind::Duplicate { seq: message.seq });
                } else {
                    message.received = true;
                    out.push(ClientEventKind::Echoed { seq: message.seq, latency: at - message.first_sent });
                }
            }
            ProgramEvent::GaveUp => {
                self.phase = Phase::Idle;
                out.push(ClientEventKind::GaveUp(GiveUp::Reported));
                out.push(ClientEventKind::State(State::GaveUp));
            }
        }
        Ok(out)
    }

    fn attempt(&mut self, out: &mut Vec<ClientEventKind>) {
        self.attempts += 1;
        self.phase = Phase::Connecting;
        out.push(ClientEventKind::State(State::Connecting));
        out.push(ClientEventKind::Attempt { n: self.attempts });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::program::protocol::{StdoutLine, parse};

    /// Feeds protocol lines, one per millisecond, and lists what came out in words.
    fn run(lines: &[&str]) -> Vec<String> {
        let start = Instant::now();
        let mut translator = Translator::default();
        let mut out = Vec::new();
        for (ms, line) in lines.iter().enumerate() {
            let StdoutLine::Event(event) = parse(line) else { panic!("{line}") };
            match translator.translate(event, start + Duration::from_millis(ms as u64)) {
                Ok(kinds) => out.extend(kinds.iter().map(ToString::to_string)),
                Err(error) => out.push(format!("error: {error}")),
            }
        }
        out
    }

    #[test]
    fn a_break_and_a_reconnect_read_as_the_reference_client_s_events() {
        let got = run(&[
            r#"{"event":"connecting"}"#,
            r#"{"event":"open","local":"127.0.0.1:5000"}"#,
            r#"{"event":"closed","code":1006,"reason":"ping timeout"}"#,
            r#"{"event":"connecting"}"#,
            r#"{"event":"closed","code":1006}"#,
            r#"{"event":"connecting"}"#,
            r#"{"event":"open"}"#,
        ]);
        let want = [
            "state connecting",
            "attempt 1",
            "opened on attempt 1",
            "state open",
            "detected: closed(1006, \"ping timeout\")",
            "state broken",
            "state connecting",
            "attempt 2",
            "attempt 2 failed: closed(1006)",
            "state connecting",
            "attempt 3",
            "opened on attempt 3",
            "state open",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn events_left_out_are_inferred() {
        // A reconnect without `closed`, and an `open` without `connecting`.
        let got = run(&[r#"{"event":"open"}"#, r#"{"event":"connecting"}"#, r#"{"event":"open"}"#]);
        let want = [
            "state connecting",
            "attempt 1",
            "opened on attempt 1",
            "state open",
            "detected: closed",
            "state broken",
            "state connecting",
            "attempt 2",
            "opened on attempt 2",
            "state open",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn messages_get_sequence_numbers_by_first_send() {
        let got = run(&[
            r#"{"event":"sent","id":"a"}"#,
            r#"{"event":"sent","id":7}"#,
            r#"{"event":"sent","id":"a"}"#,
            r#"{"event":"received","id":"7"}"#,
            r#"{"event":"received","id":"a"}"#,
            r#"{"event":"received","id":"a"}"#,
            r#"{"event":"received","id":"zz"}"#,
        ]);
        let want = [
            "message 0 due",
            "message 0 sent",
            "message 1 due",
            "message 1 sent",
            "message 0 resent",
            "message 1 echoed after 2.0 ms",
            "message 0 echoed after 4.0 ms",
            "message 0 echoed again (duplicate)",
            "error: received id \"zz\", which it never reported as sent",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn giving_up_and_ready() {
        let got = run(&[r#"{"event":"ready"}"#, r#"{"event":"gave_up"}"#]);
        assert_eq!(got, ["gave up: the program said it gave up", "state gave_up"]);
    }
}
