//! The client event protocol (docs/client-protocol.md), pure: one line of a client program's
//! stdout read as an event, an ordinary log line, or a malformed line with a message that
//! names what is wrong. No I/O and no clock: the caller timestamps a line when it reads it.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::client::{ClientEventKind, Reason};
use crate::suggest::did_you_mean;

/// The longest line read as one; a longer line is malformed and the rest of it is skipped.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The event names, in the order the protocol page lists them.
pub const EVENTS: [&str; 7] = ["ready", "connecting", "open", "closed", "sent", "received", "gave_up"];

/// What one stdout line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StdoutLine {
    /// A protocol event.
    Event(ProgramEvent),
    /// Not an event (it does not start with `{`): it goes to the client's log.
    Log,
    /// It starts with `{` but is not a valid event: why, in words.
    Malformed(String),
}

/// An event a client program reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramEvent {
    /// Started and ready: the fault timeline may begin.
    Ready,
    /// A connection attempt begins.
    Connecting,
    /// The handshake completed; `local` is the socket's local address, when given.
    Open {
        /// The connection's local address, which the proxy sees as the link's peer.
        local: Option<SocketAddr>,
    },
    /// The connection or the attempt ended.
    Closed {
        /// The close code the client saw (1006 for an abnormal close), when given.
        code: Option<u16>,
        /// The reason in the client's words, when given.
        reason: Option<String>,
    },
    /// An application message was written (again, when the id was sent before).
    Sent {
        /// The message's id, numbers written as decimal text.
        id: String,
    },
    /// The answer to a message reached the application.
    Received {
        /// The message's id, numbers written as decimal text.
        id: String,
    },
    /// The client stopped reconnecting for good.
    GaveUp,
}

/// The line as JSON, before the event's own fields are checked. Unknown fields are ignored,
/// so a client written for a later version of the protocol still works.
#[derive(Deserialize)]
struct Raw {
    event: Option<serde_json::Value>,
    local: Option<serde_json::Value>,
    code: Option<serde_json::Value>,
    reason: Option<serde_json::Value>,
    id: Option<serde_json::Value>,
}

/// Reads one line (without its line ending).
pub fn parse(line: &str) -> StdoutLine {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return StdoutLine::Log;
    }
    if line.len() > MAX_LINE_BYTES {
        return StdoutLine::Malformed(format!("the line is longer than {} KiB", MAX_LINE_BYTES / 1024));
    }
    let raw: Raw = match serde_json::from_str(trimmed) {
        Ok(raw) => raw,
        Err(error) => return StdoutLine::Malformed(format!("not a JSON object: {error}")),
    };
    match event(raw) {
        Ok(event) => StdoutLine::Event(event),
        Err(message) => StdoutLine::Malformed(message),
    }
}

fn event(raw: Raw) -> Result<ProgramEvent, String> {
    let name = match raw.event {
        Some(serde_json::Value::String(name)) => name,
        Some(other) => return Err(format!("`event` must be a string, not {}", kind(&other))),
        None => return Err(format!("no `event` field; expected one of {}", EVENTS.join(", "))),
    };
    Ok(match name.as_str() {
        "ready" => ProgramEvent::Ready,
        "connecting" => ProgramEvent::Connecting,
        "open" => ProgramEvent::Open { local: local(raw.local)? },
        "closed" => ProgramEvent::Closed { code: code(raw.code)?, reason: text("reason", raw.reason)? },
        "sent" => ProgramEvent::Sent { id: id(&name, raw.id)? },
        "received" => ProgramEvent::Received { id: id(&name, raw.id)? },
        "gave_up" => ProgramEvent::GaveUp,
        other => {
            let hint = did_you_mean(other, EVENTS)
                .unwrap_or_else(|| format!("expected one of {}", EVENTS.join(", ")));
            return Err(format!("unknown event `{other}`: {hint}"));
        }
    })
}

fn local(value: Option<serde_json::Value>) -> Result<Option<SocketAddr>, String> {
    match text("local", value)? {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| format!("`local` must be an address like \"127.0.0.1:53012\", not \"{text}\"")),
    }
}

fn code(value: Option<serde_json::Value>) -> Result<Option<u16>, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
            Some(code) => Ok(Some(code)),
            None => Err(format!("`code` must be a close code from 0 to 65535, not {n}")),
        },
        Some(other) => Err(format!("`code` must be a number, not {}", kind(&other))),
    }
}

fn text(field: &str, value: Option<serde_json::Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!("`{field}` must be a string, not {}", kind(&other))),
    }
}

fn id(event: &str, value: Option<serde_json::Value>) -> Result<String, String> {
    match value {
        Some(serde_json::Value::String(id)) => Ok(id),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!("`id` must be a string or a number, not {}", kind(&other))),
        None => Err(format!("a `{event}` event needs an `id`")),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The protocol line that says what a reference client event says, if it says anything the
/// protocol has words for: how `wschaos client --events` speaks it.
pub fn line(kind: &ClientEventKind) -> Option<String> {
    let value = match kind {
        ClientEventKind::Ready => serde_json::json!({ "event": "ready" }),
        ClientEventKind::Attempt { .. } => serde_json::json!({ "event": "connecting" }),
        ClientEventKind::Opened { local, .. } => match local {
            Some(local) => serde_json::json!({ "event": "open", "local": local.to_string() }),
            None => serde_json::json!({ "event": "open" }),
        },
        ClientEventKind::Detected(reason) | ClientEventKind::AttemptFailed { reason, .. } => match reason {
            Reason::CloseFrame(code) => {
                serde_json::json!({ "event": "closed", "code": code, "reason": reason.to_string() })
            }
            _ => serde_json::json!({ "event": "closed", "code": 1006, "reason": reason.to_string() }),
        },
        ClientEventKind::Sent { seq, .. } => serde_json::json!({ "event": "sent", "id": seq }),
        ClientEventKind::Echoed { seq, .. } | ClientEventKind::Duplicate { seq } => {
            serde_json::json!({ "event": "received", "id": seq })
        }
        ClientEventKind::GaveUp(_) => serde_json::json!({ "event": "gave_up" }),
        _ => return None,
    };
    Some(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(line: &str) -> ProgramEvent {
        match parse(line) {
            StdoutLine::Event(event) => event,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn malformed(line: &str) -> String {
        match parse(line) {
            StdoutLine::Malformed(message) => message,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn every_event_of_the_protocol_page_reads() {
        assert_eq!(event(r#"{"event":"ready"}"#), ProgramEvent::Ready);
        assert_eq!(event(r#"{"event":"connecting"}"#), ProgramEvent::Connecting);
        assert_eq!(
            event(r#"{"event":"open","local":"127.0.0.1:53012"}"#),
            ProgramEvent::Open { local: Some("127.0.0.1:53012".parse().unwrap()) }
        );
        assert_eq!(event(r#"{"event":"open"}"#), ProgramEvent::Open { local: None });
        assert_eq!(
            event(r#"{"event":"closed","code":1006,"reason":"keepalive ping timeout"}"#),
            ProgramEvent::Closed { code: Some(1006), reason: Some("keepalive ping timeout".into()) }
        );
        assert_eq!(event(r#"{"event":"closed"}"#), ProgramEvent::Closed { code: None, reason: None });
        assert_eq!(event(r#"{"event":"sent","id":"42"}"#), ProgramEvent::Sent { id: "42".into() });
        assert_eq!(event(r#"{"event":"received","id":42}"#), ProgramEvent::Received { id: "42".into() });
        assert_eq!(event(r#"{"event":"gave_up"}"#), ProgramEvent::GaveUp);
    }

    #[test]
    fn unknown_fields_and_surrounding_space_are_accepted() {
        assert_eq!(event(r#"  {"event":"ready","version":2,"extra":[1]}  "#), ProgramEvent::Ready);
    }

    #[test]
    fn lines_that_are_not_objects_are_log_lines() {
        for line in ["", "INFO connected", "[1, 2]", "  starting up", "\"ready\""] {
            assert_eq!(parse(line), StdoutLine::Log, "{line:?}");
        }
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let cases = [
            (r#"{"event":"opne"}"#, "unknown event `opne`: did you mean `open`?"),
            (r#"{"event":"launch"}"#, "unknown event `launch`: expected one of ready, connecting"),
            (r#"{"id":"1"}"#, "no `event` field"),
            (r#"{"event":7}"#, "`event` must be a string, not a number"),
            (r#"{"event":"sent"}"#, "a `sent` event needs an `id`"),
            (r#"{"event":"received","id":[1]}"#, "`id` must be a string or a number, not an array"),
            (r#"{"event":"closed","code":70000}"#, "`code` must be a close code from 0 to 65535"),
            (r#"{"event":"closed","code":"1006"}"#, "`code` must be a number, not a string"),
            (r#"{"event":"open","local":"somewhere"}"#, "`local` must be an address"),
            (r#"{"event":"ready""#, "not a JSON object"),
        ];
        for (line, expected) in cases {
            let message = malformed(line);
            assert!(message.contains(expected), "{line}: {message}");
        }
    }

    #[test]
    fn reference_client_events_are_written_as_lines_that_read_back() {
        let kinds = [
            (ClientEventKind::Ready, ProgramEvent::Ready),
            (ClientEventKind::Attempt { n: 3 }, ProgramEvent::Connecting),
            (
                ClientEventKind::Opened { n: 3, local: Some("127.0.0.1:4000".parse().unwrap()) },
                ProgramEvent::Open { local: Some("127.0.0.1:4000".parse().unwrap()) },
            ),
            (
                ClientEventKind::Detected(Reason::HeartbeatTimeout),
                ProgramEvent::Closed { code: Some(1006), reason: Some("heartbeat_timeout".into()) },
            ),
            (
                ClientEventKind::Detected(Reason::CloseFrame(1012)),
                ProgramEvent::Closed { code: Some(1012), reason: Some("close_frame(1012)".into()) },
            ),
            (ClientEventKind::Sent { seq: 9, resend: true }, ProgramEvent::Sent { id: "9".into() }),
            (
                ClientEventKind::Echoed { seq: 9, latency: std::time::Duration::ZERO },
                ProgramEvent::Received { id: "9".into() },
            ),
        ];
        for (kind, event) in kinds {
            let line = line(&kind).unwrap();
            assert_eq!(parse(&line), StdoutLine::Event(event), "{line}");
        }
        assert_eq!(line(&ClientEventKind::BackoffReset), None);
    }

    #[test]
    fn an_overlong_line_is_malformed() {
        let line = format!(r#"{{"event":"sent","id":"{}"}}"#, "x".repeat(MAX_LINE_BYTES));
        assert!(malformed(&line).contains("longer than 64 KiB"));
    }
}
