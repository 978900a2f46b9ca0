//! One event as one line of `events.jsonl`: `{"t": …, "source": "proxy"|"client", "client": N,
//! "event": "snake_case_kind", …fields}`. Keys come in that order, then the kind's fields in
//! declaration order, so the same run writes the same bytes.
//!
//! Times and durations are seconds (`f64`); reasons, causes and give-up explanations are text
//! as they display; faults are `faults[i]#k` and links their number.

use serde::Serialize;
use tokio::time::Instant;

use crate::client::{ClientEventKind, DropReason};
use crate::proxy::{CloseCause, EventKind};

use super::{Recorded, seconds};

/// One line's fixed head; the event's own fields are flattened after it.
#[derive(Serialize)]
struct Line {
    t: f64,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<u32>,
    #[serde(flatten)]
    event: Fields,
}

/// The event's kind, as `"event"`, and its fields.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Fields {
    LinkOpened {
        link: u64,
        peer: String,
    },
    LinkIdentified {
        link: u64,
        client: u32,
    },
    LinkClosed {
        link: u64,
        cause: String,
    },
    FaultStarted {
        fault: String,
        name: &'static str,
    },
    FaultEnded {
        fault: String,
    },
    FaultHit {
        fault: String,
        link: Option<u64>,
    },
    Impersonated {
        fault: String,
        accepted: bool,
        bytes: u64,
        credentials: bool,
    },
    FaultNotApplied {
        fault: String,
        link: u64,
        why: String,
    },
    Upgraded {
        link: u64,
        status: u16,
    },
    FirstData {
        link: u64,
        way: &'static str,
    },
    ControlFrame {
        link: u64,
        way: &'static str,
        kind: &'static str,
        code: Option<u16>,
        /// Written only when true, so the lines of frames that went through stay as they were.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        swallowed: bool,
    },
    ObserverStopped {
        link: u64,
        way: &'static str,
        why: String,
    },
    Started {
        session: String,
    },
    State {
        state: String,
    },
    Attempt {
        n: u64,
    },
    AttemptFailed {
        n: u64,
        reason: String,
    },
    TlsEstablished {
        n: u64,
        took: f64,
    },
    Opened {
        n: u64,
        local: Option<String>,
    },
    Detected {
        reason: String,
    },
    Waiting {
        delay: f64,
        floor: Option<f64>,
    },
    BackoffReset,
    GaveUp {
        why: String,
    },
    Offered {
        seq: u64,
    },
    Sent {
        seq: u64,
        resend: bool,
    },
    Echoed {
        seq: u64,
        latency: f64,
    },
    Duplicate {
        seq: u64,
    },
    DuplicateSuppressed {
        seq: u64,
    },
    Dropped {
        seq: u64,
        why: &'static str,
    },
    Ready,
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    ProtocolError {
        line: u64,
        message: String,
    },
    HarnessError {
        component: String,
        cause: String,
    },
}

/// One event as a line of events.jsonl (no trailing newline), its time in seconds since
/// `origin`.
pub fn jsonl_line(event: &Recorded, origin: Instant) -> String {
    let mut line = Vec::new();
    write_jsonl_line(&mut line, event, origin);
    String::from_utf8(line).expect("serde_json writes UTF-8")
}

/// Appends [`jsonl_line`]'s bytes to `out`: the runner reuses one buffer for every line of a
/// run, which a run of millions of events notices.
pub fn write_jsonl_line(out: &mut Vec<u8>, event: &Recorded, origin: Instant) {
    let line = match event {
        Recorded::Proxy(e) => {
            Line { t: seconds(e.at, origin), source: "proxy", client: None, event: proxy_fields(&e.kind) }
        }
        Recorded::Client(e) => Line {
            t: seconds(e.at, origin),
            source: "client",
            client: Some(e.client),
            event: client_fields(&e.kind),
        },
    };
    serde_json::to_writer(out, &line).expect("an event line has only string keys and finite numbers")
}

/// The line of a `harness_error` event: wschaos's own `component` (its echo server, its proxy,
/// …) failed with `cause`, which ends the run without a verdict. `{"t": …, "source":
/// "harness", "event": "harness_error", "component": …, "cause": …}`.
pub fn write_harness_error_line(
    out: &mut Vec<u8>,
    since_start: std::time::Duration,
    component: &str,
    cause: &str,
) {
    let line = Line {
        t: since_start.as_secs_f64(),
        source: "harness",
        client: None,
        event: Fields::HarnessError { component: component.to_string(), cause: cause.to_string() },
    };
    serde_json::to_writer(out, &line).expect("an event line has only string keys and finite numbers")
}

fn proxy_fields(kind: &EventKind) -> Fields {
    match kind {
        EventKind::LinkOpened { link, peer } => Fields::LinkOpened { link: link.0, peer: peer.to_string() },
        EventKind::LinkIdentified { link, client } => {
            Fields::LinkIdentified { link: link.0, client: *client }
        }
        EventKind::LinkClosed { link, cause } => {
            Fields::LinkClosed { link: link.0, cause: cause_text(cause) }
        }
        EventKind::FaultStarted { fault, name } => Fields::FaultStarted { fault: fault.to_string(), name },
        EventKind::FaultEnded { fault } => Fields::FaultEnded { fault: fault.to_string() },
        EventKind::FaultHit { fault, link } => {
            Fields::FaultHit { fault: fault.to_string(), link: link.map(|link| link.0) }
        }
        EventKind::Impersonated { fault, accepted, bytes, credentials } => Fields::Impersonated {
            fault: fault.to_string(),
            accepted: *accepted,
            bytes: *bytes,
            credentials: *credentials,
        },
        EventKind::FaultNotApplied { fault, link, why } => {
            Fields::FaultNotApplied { fault: fault.to_string(), link: link.0, why: why.to_string() }
        }
        EventKind::Upgraded { link, status } => Fields::Upgraded { link: link.0, status: *status },
        EventKind::FirstData { link, way } => Fields::FirstData { link: link.0, way: way.name() },
        EventKind::ControlFrame { link, way, kind, close_code, swallowed } => Fields::ControlFrame {
            link: link.0,
            way: way.name(),
            kind: kind.name(),
            code: *close_code,
            swallowed: *swallowed,
        },
        EventKind::ObserverStopped { link, way, why } => {
            Fields::ObserverStopped { link: link.0, way: way.name(), why: why.to_string() }
        }
    }
}

fn client_fields(kind: &ClientEventKind) -> Fields {
    match kind {
        ClientEventKind::Started { session } => Fields::Started { session: format!("{session:016x}") },
        ClientEventKind::State(state) => Fields::State { state: state.to_string() },
        ClientEventKind::Attempt { n } => Fields::Attempt { n: *n },
        ClientEventKind::AttemptFailed { n, reason } => {
            Fields::AttemptFailed { n: *n, reason: reason.to_string() }
        }
        ClientEventKind::TlsEstablished { n, took } => {
            Fields::TlsEstablished { n: *n, took: took.as_secs_f64() }
        }
        ClientEventKind::Opened { n, local } => Fields::Opened { n: *n, local: local.map(|a| a.to_string()) },
        ClientEventKind::Detected(reason) => Fields::Detected { reason: reason.to_string() },
        ClientEventKind::Waiting { delay, floor } => {
            Fields::Waiting { delay: delay.as_secs_f64(), floor: floor.map(|f| f.as_secs_f64()) }
        }
        ClientEventKind::BackoffReset => Fields::BackoffReset,
        ClientEventKind::GaveUp(why) => Fields::GaveUp { why: why.to_string() },
        ClientEventKind::Offered { seq } => Fields::Offered { seq: *seq },
        ClientEventKind::Sent { seq, resend } => Fields::Sent { seq: *seq, resend: *resend },
        ClientEventKind::Echoed { seq, latency } => {
            Fields::Echoed { seq: *seq, latency: latency.as_secs_f64() }
        }
        ClientEventKind::Duplicate { seq } => Fields::Duplicate { seq: *seq },
        ClientEventKind::DuplicateSuppressed { seq } => Fields::DuplicateSuppressed { seq: *seq },
        ClientEventKind::Dropped { seq, why } => Fields::Dropped { seq: *seq, why: drop_text(*why) },
        ClientEventKind::Ready => Fields::Ready,
        ClientEventKind::Exited { code, signal } => Fields::Exited { code: *code, signal: *signal },
        ClientEventKind::ProtocolError { line, message } => {
            Fields::ProtocolError { line: *line, message: message.clone() }
        }
    }
}

/// A link's close cause as text: `finished`, `client_error(ConnectionReset)`,
/// `fault_reset(faults[0]#1)`, ….
fn cause_text(cause: &CloseCause) -> String {
    match cause {
        CloseCause::Finished => "finished".to_string(),
        CloseCause::ClientError(kind) => format!("client_error({kind:?})"),
        CloseCause::ServerError(kind) => format!("server_error({kind:?})"),
        CloseCause::FaultReset(fault) => format!("fault_reset({fault})"),
        CloseCause::FaultClosed(fault) => format!("fault_closed({fault})"),
        CloseCause::UpstreamUnreachable(kind) => format!("upstream_unreachable({kind:?})"),
        CloseCause::Hung(fault) => format!("hung({fault})"),
        CloseCause::HandshakeTimeout => "handshake_timeout".to_string(),
        CloseCause::ClientTlsFailed(kind) => format!("client_tls_failed({kind:?})"),
        CloseCause::ServerTlsFailed(kind) => format!("server_tls_failed({kind:?})"),
    }
}

fn drop_text(why: DropReason) -> &'static str {
    match why {
        DropReason::NotOpen => "not_open",
        DropReason::OutboxFull => "outbox_full",
        DropReason::WriteFailed => "write_failed",
    }
}
