//! The recorder: consumes proxy and client events and derives incidents, message accounting,
//! availability and the herd figures (DESIGN.md §6). No I/O and no clock of its own: every
//! event carries its timestamp, converted here to seconds since [`Span::origin`].
//!
//! [`Recorder::finish`] drops events after [`Span::end_at`], sorts the rest by timestamp
//! (stably, so arrival order breaks ties between sources) and hands the one timeline to the
//! derivations, each in its own file: `incidents` (breaks and recoveries), `messages`
//! (the workload's accounting), `run` (availability, attempts, give-ups, fault outcomes),
//! `observed` (recovery as the proxy's frame observer saw it).
//! `jsonl` writes single events as lines of `events.jsonl`.

mod incidents;
mod jsonl;
mod messages;
mod observed;
mod run;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{ClientEvent, ClientEventKind};
use crate::proxy::{EventKind, ProxyEvent};
use crate::report::model::{FaultOutcome, Incident, MessageCounts};
use crate::scenario::slo::METRICS;

pub use jsonl::jsonl_line;

/// One event from any source.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// From the proxy.
    Proxy(ProxyEvent),
    /// From a client.
    Client(ClientEvent),
}

impl Recorded {
    /// When it happened.
    pub fn at(&self) -> Instant {
        match self {
            Recorded::Proxy(event) => event.at,
            Recorded::Client(event) => event.at,
        }
    }
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
    /// Per SLO metric name, its values: seconds for durations, plain numbers, fractions. Every
    /// name of [`METRICS`] has an entry, empty when nothing produced a value; events that are
    /// only counted (`incidents`, `messages_lost`, …) contribute one `1.0` each.
    pub samples: BTreeMap<&'static str, Vec<f64>>,
    /// Detect times (seconds) per detection reason, as the reason displays.
    pub detect_by_reason: BTreeMap<String, Vec<f64>>,
    /// Message accounting.
    pub messages: MessageCounts,
    /// Connection attempts over the run.
    pub attempts_total: u64,
    /// Attempts per second of the run: entry `i` counts attempts in `[i, i + 1)` seconds.
    pub attempts_per_second: Vec<u64>,
    /// Clients that gave up, sorted.
    pub gave_up: Vec<u32>,
    /// Clients not converged at the end: not open, or with messages never echoed.
    pub unconverged: Vec<u32>,
    /// Each fault occurrence, in `(plan, occurrence)` order.
    pub faults: Vec<FaultOutcome>,
    /// Every incident, in order of detection.
    pub incidents: Vec<Incident>,
}

/// Collects events and derives the figures.
#[derive(Debug)]
pub struct Recorder {
    span: Span,
    clients: u32,
    workload: bool,
    events: Vec<Recorded>,
}

/// One event on the run's clock, as the derivations see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timed<'a> {
    /// Seconds since [`Span::origin`].
    pub t: f64,
    /// What happened, and where.
    pub what: What<'a>,
}

/// An event's source and kind, borrowed from the recorded event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What<'a> {
    /// A proxy event.
    Proxy(&'a EventKind),
    /// A client event, with the client's index.
    Client(u32, &'a ClientEventKind),
}

/// The sorted timeline and the facts every derivation shares.
#[derive(Debug)]
pub(crate) struct Timeline<'a> {
    /// Events up to the end of the quiet period, in time order.
    pub events: Vec<Timed<'a>>,
    /// End of the quiet period, in seconds.
    pub end: f64,
    /// Whether the run has a workload, so that recovery waits for the first echo.
    pub workload: bool,
    /// When the workload stops (the heal), in seconds: after it, a client with nothing left to
    /// send recovers at its open, since no echo will come.
    pub workload_until: f64,
}

/// The messages each client has offered and not yet seen echoed or dropped: whether a client
/// that just opened still has an echo to wait for.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    outstanding: BTreeMap<u32, std::collections::BTreeSet<u64>>,
}

impl Backlog {
    /// Takes a client event into account.
    pub fn track(&mut self, client: u32, kind: &ClientEventKind) {
        match kind {
            ClientEventKind::Offered { seq } => {
                self.outstanding.entry(client).or_default().insert(*seq);
            }
            ClientEventKind::Echoed { seq, .. } | ClientEventKind::Dropped { seq, .. } => {
                if let Some(seqs) = self.outstanding.get_mut(&client) {
                    seqs.remove(seq);
                }
            }
            _ => {}
        }
    }

    /// Whether a client that opened at `t` recovers only at its next echo: the run has a
    /// workload, and messages are still due or some are unechoed.
    pub fn awaits_echo(&self, timeline: &Timeline<'_>, client: u32, t: f64) -> bool {
        timeline.workload
            && (t < timeline.workload_until
                || self.outstanding.get(&client).is_some_and(|seqs| !seqs.is_empty()))
    }
}

impl Recorder {
    /// A recorder for a run of `clients` clients; `workload` says whether they send messages,
    /// which decides whether a client counts as recovered at its open or at its first echo.
    pub fn new(span: Span, clients: u32, workload: bool) -> Recorder {
        Recorder { span, clients, workload, events: Vec::new() }
    }

    /// Takes one event, in any order.
    pub fn record(&mut self, event: Recorded) {
        self.events.push(event);
    }

    /// Derives everything.
    pub fn finish(mut self) -> RecorderOutput {
        let origin = self.span.origin;
        let end_at = self.span.end_at;
        self.events.retain(|event| event.at().saturating_duration_since(origin) <= end_at);
        // `sort_by_key` is stable: events with one timestamp keep their arrival order.
        self.events.sort_by_key(Recorded::at);
        let events = self
            .events
            .iter()
            .map(|event| Timed {
                t: seconds(event.at(), origin),
                what: match event {
                    Recorded::Proxy(e) => What::Proxy(&e.kind),
                    Recorded::Client(e) => What::Client(e.client, &e.kind),
                },
            })
            .collect();
        let timeline = Timeline {
            events,
            end: end_at.as_secs_f64(),
            workload: self.workload,
            workload_until: self.span.heal_at.as_secs_f64(),
        };

        let mut samples: BTreeMap<&'static str, Vec<f64>> =
            METRICS.iter().map(|metric| (metric.name, Vec::new())).collect();
        let derived_incidents = incidents::derive(&timeline);
        let messages = messages::derive(&timeline);
        let attempts = run::attempts(&timeline);
        let gave_up = run::gave_up(&timeline);
        let unconverged = run::unconverged(&timeline, self.clients);
        let availability = run::availability(&timeline, self.clients);

        let mut add = |name: &'static str, values: Vec<f64>| {
            debug_assert!(samples.contains_key(name), "{name} is not an SLO metric");
            samples.entry(name).or_default().extend(values);
        };
        for (name, values) in derived_incidents.samples {
            add(name, values);
        }
        add("incidents", vec![1.0; derived_incidents.incidents.len()]);
        add("messages_lost", vec![1.0; messages.counts.lost as usize]);
        add("messages_duplicated", vec![1.0; messages.counts.duplicated as usize]);
        add("messages_reordered", vec![1.0; messages.counts.reordered as usize]);
        add("message_latency", messages.latencies);
        add("availability", availability);
        add("gave_up", vec![1.0; gave_up.len()]);
        add("peak_attempts_per_second", vec![attempts.peak as f64]);
        add("observed_recovery_time", observed::recovery_times(&timeline));

        RecorderOutput {
            samples,
            detect_by_reason: derived_incidents.detect_by_reason,
            messages: messages.counts,
            attempts_total: attempts.total,
            attempts_per_second: attempts.per_second,
            gave_up,
            unconverged,
            faults: run::faults(&timeline),
            incidents: derived_incidents.incidents,
        }
    }
}

/// Seconds from `origin` to `at` (0 for anything before the origin).
fn seconds(at: Instant, origin: Instant) -> f64 {
    at.saturating_duration_since(origin).as_secs_f64()
}
