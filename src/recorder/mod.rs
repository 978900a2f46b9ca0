//! The recorder: consumes proxy and client events and derives incidents, message accounting,
//! availability and the herd figures (DESIGN.md §6). No I/O and no clock of its own: every
//! event carries its timestamp.
//!
//! STAND-IN: the derivations land from the recorder branch; this keeps the API compiling.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::ClientEvent;
use crate::proxy::ProxyEvent;
use crate::report::model::{FaultOutcome, Incident, MessageCounts};

/// One event from any source.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// From the proxy.
    Proxy(ProxyEvent),
    /// From a client.
    Client(ClientEvent),
}

/// The run's time frame.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// Start of the run: every time is measured from here.
    pub origin: Instant,
    /// When every fault is healed (the scenario's `duration`).
    pub heal_at: Duration,
    /// End of the quiet period: nothing after it counts.
    pub end_at: Duration,
}

/// What the recorder derived.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecorderOutput {
    /// Per SLO metric name, its values: seconds for durations, plain numbers, fractions.
    pub samples: BTreeMap<&'static str, Vec<f64>>,
    /// Detect times (seconds) per detection reason.
    pub detect_by_reason: BTreeMap<String, Vec<f64>>,
    /// Message accounting.
    pub messages: MessageCounts,
    /// Connection attempts over the run.
    pub attempts_total: u64,
    /// Attempts per second of the run.
    pub attempts_per_second: Vec<u64>,
    /// Clients that gave up.
    pub gave_up: Vec<u32>,
    /// Each fault occurrence.
    pub faults: Vec<FaultOutcome>,
    /// Every incident.
    pub incidents: Vec<Incident>,
}

/// Collects events and derives the figures.
#[derive(Debug)]
pub struct Recorder {
    span: Span,
    events: Vec<Recorded>,
}

impl Recorder {
    /// A recorder for a run of `clients` clients.
    pub fn new(span: Span, _clients: u32, _workload: bool) -> Recorder {
        Recorder { span, events: Vec::new() }
    }

    /// Takes one event.
    pub fn record(&mut self, event: Recorded) {
        self.events.push(event);
    }

    /// Derives everything.
    pub fn finish(self) -> RecorderOutput {
        let _ = self.span;
        RecorderOutput::default()
    }
}

/// One event as a line of events.jsonl.
pub fn jsonl_line(event: &Recorded, origin: Instant) -> String {
    let at = match event {
        Recorded::Proxy(e) => e.at,
        Recorded::Client(e) => e.at,
    };
    serde_json::json!({ "t": at.saturating_duration_since(origin).as_secs_f64(), "event": format!("{event:?}") })
        .to_string()
}
