//! The recorder: consumes proxy and client events and derives incidents, message accounting,
//! availability and the herd figures (docs/measurement.md). No I/O and no clock of its own: every
//! event carries its timestamp, converted here to seconds since [`Span::origin`].
//!
//! Events pass through a reorder window (`window`) that lets them go in time order (a stable
//! sort: ties keep arrival order); events after [`Span::end_at`] are dropped there. The message
//! events, which are most of a run, are then accounted for at once (`messages`), so memory
//! does not grow with the workload; the other events the derivations read are kept as
//! [`Kept`], and [`Recorder::finish`] hands that one timeline to the derivations, each in its
//! own file: `incidents` (breaks and recoveries), `run` (availability, attempts, give-ups,
//! fault outcomes), `observed` (recovery as the proxy's frame observer saw it).
//! `jsonl` writes single events as lines of `events.jsonl` (every event, whatever is kept).

mod charts;
mod frames;
mod incidents;
mod jsonl;
mod messages;
mod observed;
mod run;
mod seqset;
mod window;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{ClientEvent, ClientEventKind};
use crate::outcome::{Charts, FaultOutcome, Incident, MessageCounts};
use crate::proxy::{EventKind, ProxyEvent};
use crate::scenario::FrameKind;
use crate::scenario::slo::METRICS;
use crate::ws::Way;

pub use jsonl::{jsonl_line, write_harness_error_line, write_jsonl_line};

use messages::{Accounting, Keep};
use window::ReorderWindow;

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
    /// Close frames the clients sent, per code (`none` without one).
    pub client_close_codes: BTreeMap<String, u64>,
    /// What the HTML page draws.
    pub charts: Charts,
    /// Events that arrived too late for the reorder window and were taken out of time order
    /// (0 on the sim engine, which delivers in order).
    pub late_events: u64,
}

/// Collects events and derives the figures.
#[derive(Debug)]
pub struct Recorder {
    span: Span,
    clients: u32,
    workload: bool,
    window: ReorderWindow,
    accounting: Accounting,
    /// The events the end-of-run derivations read, in time order.
    kept: Vec<Kept>,
    /// Clients from `clients` up that sent events: they are listed too.
    extra_clients: BTreeSet<u32>,
    /// The clients' control frames, taken as they pass.
    frames: frames::Frames,
    /// What the charts draw, taken as the events pass.
    charts: charts::ChartStream,
    /// The clients report nothing (programs with `events: none`): convergence and attempts
    /// come from the proxy.
    silent_clients: bool,
    /// The run was cut short (see [`Recorder::cut`]).
    cut_short: bool,
}

/// An event kept for the end of the run.
#[derive(Debug)]
struct Kept {
    event: Recorded,
    /// See [`Timed::awaits_echo`].
    awaits_echo: bool,
}

/// One event on the run's clock, as the derivations see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timed<'a> {
    /// Seconds since [`Span::origin`].
    pub t: f64,
    /// What happened, and where.
    pub what: What<'a>,
    /// For an `Opened`: the run has a workload and the client still had something to send
    /// (messages still due, or some unechoed), so it recovers at its next echo, not at the
    /// open. The message events that decide it are not in the timeline.
    pub awaits_echo: bool,
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
pub(crate) struct History<'a> {
    /// The kept events up to the end of the quiet period, in time order: every proxy event but
    /// control frames and observer stops, and the client events `messages` keeps.
    pub events: Vec<Timed<'a>>,
    /// End of the quiet period, in seconds.
    pub end: f64,
    /// Whether the run has a workload, so that recovery waits for the first echo.
    pub workload: bool,
    /// When the workload stops (the heal), in seconds.
    pub workload_until: f64,
}

impl Recorder {
    /// A recorder for a run of `clients` clients; `workload` says whether they send messages,
    /// which decides whether a client counts as recovered at its open or at its first echo.
    pub fn new(span: Span, clients: u32, workload: bool) -> Recorder {
        Recorder {
            span,
            clients,
            workload,
            window: ReorderWindow::new(),
            accounting: Accounting::new(workload, span.heal_at.as_secs_f64()),
            kept: Vec::new(),
            extra_clients: BTreeSet::new(),
            frames: frames::Frames::default(),
            charts: charts::ChartStream::new(span.end_at.as_secs_f64(), clients, false),
            silent_clients: false,
            cut_short: false,
        }
    }

    /// A recorder for a run of `clients` programs under test. With `events`, they report
    /// their own messages (if any): a client recovers at its open, or at its next echo when it
    /// has messages outstanding. Without, everything comes from the proxy: attempts are the
    /// links that arrived, and a client has converged when its last link is open and unbroken.
    pub fn for_programs(span: Span, clients: u32, events: bool) -> Recorder {
        // Not `workload`: at the proxy a program's link counts as back at its 101, since wschaos
        // cannot know whether the program has anything to send.
        Recorder {
            accounting: Accounting::reported(span.heal_at.as_secs_f64(), span.end_at.as_secs_f64()),
            silent_clients: !events,
            charts: charts::ChartStream::new(span.end_at.as_secs_f64(), clients, !events),
            ..Recorder::new(span, clients, false)
        }
    }

    /// Ends the run at `at`, before its planned end (an interrupt): the figures then cover the
    /// time up to the cut (availability over that time, attempts per second up to it), and
    /// messages still due or in flight are unresolved rather than lost.
    pub fn cut(&mut self, at: Instant) {
        self.span.end_at = self.span.end_at.min(at.saturating_duration_since(self.span.origin));
        self.cut_short = true;
    }

    /// Takes one event. Arrival order does not matter within the reorder window (the last
    /// 64 Ki events); both engines deliver events far closer to time order than that, and the
    /// sim engine in time order exactly. An event later than that is taken where it arrives and
    /// counted in [`RecorderOutput::late_events`].
    pub fn record(&mut self, event: Recorded) {
        if let Some(due) = self.window.push(event) {
            self.take(due);
        }
    }

    /// Takes an event let go by the window.
    fn take(&mut self, event: Recorded) {
        if event.at().saturating_duration_since(self.span.origin) > self.span.end_at {
            return;
        }
        let awaits_echo = match &event {
            Recorded::Proxy(e) => {
                let t = seconds(e.at, self.span.origin);
                self.frames.take(&e.kind, t);
                self.charts.proxy(&e.kind, t);
                match e.kind {
                    // A client's Close frame is kept: it is its reaction to a break (`observed`).
                    EventKind::ControlFrame { kind: FrameKind::Close, way: Way::Upstream, .. } => false,
                    EventKind::ControlFrame { .. } | EventKind::ObserverStopped { .. } => return,
                    _ => false,
                }
            }
            Recorded::Client(e) => {
                if e.client >= self.clients {
                    self.extra_clients.insert(e.client);
                }
                let t = seconds(e.at, self.span.origin);
                self.charts.client(e.client, &e.kind, t);
                match self.accounting.take(e.client, &e.kind, t) {
                    Keep::No => return,
                    Keep::Yes { awaits_echo } => awaits_echo,
                }
            }
        };
        self.kept.push(Kept { event, awaits_echo });
    }

    /// Derives everything.
    pub fn finish(mut self) -> RecorderOutput {
        while let Some(due) = self.window.pop() {
            self.take(due);
        }
        let late_events = self.window.late();
        if late_events > 0 {
            // Late events were kept where they arrived; `sort_by_key` is stable.
            self.kept.sort_by_key(|kept| kept.event.at());
        }
        let messages = self.accounting.finish(self.cut_short);
        let frames = self.frames.finish();
        let timeline = timeline(&self.kept, &self.span, self.workload);
        let clients: Vec<u32> = (0..self.clients).chain(self.extra_clients.iter().copied()).collect();
        let derived_incidents = incidents::derive(&timeline);
        let attempts = if self.silent_clients { run::arrivals(&timeline) } else { run::attempts(&timeline) };
        let gave_up = run::gave_up(&timeline);
        let observed = observed::observe(&timeline, &clients);
        let unconverged = if self.silent_clients {
            observed.unconverged.clone()
        } else {
            run::unconverged(&timeline, &clients, &messages.unechoed)
        };
        // Availability is the clients' own account of being connected and echoing; clients
        // that report nothing give none (the proxy cannot tell a dead open link from a live one).
        let availability =
            if self.silent_clients { Vec::new() } else { run::availability(&timeline, &clients) };

        let mut samples: BTreeMap<&'static str, Vec<f64>> =
            METRICS.iter().map(|metric| (metric.name, Vec::new())).collect();
        let mut add = |name: &'static str, values: Vec<f64>| {
            debug_assert!(samples.contains_key(name), "{name} is not an SLO metric");
            samples.entry(name).or_default().extend(values);
        };
        for (name, values) in derived_incidents.samples {
            add(name, values);
        }
        let events = |count: usize| vec![1.0; count];
        add("incidents", events(derived_incidents.incidents.len()));
        add("messages_lost", events(messages.counts.lost as usize));
        add("messages_duplicated", events(messages.counts.duplicated as usize));
        add("messages_reordered", events(messages.counts.reordered as usize));
        add("message_latency", messages.latencies);
        add("availability", availability);
        add("gave_up", events(gave_up.len()));
        add("unconverged", events(unconverged.len()));
        add("peak_attempts_per_second", vec![attempts.peak as f64]);
        add("completion_time", run::completion_time(&derived_incidents.incidents).into_iter().collect());
        add("observed_recovery_time", observed.recovery_times);
        add("observed_detect_time", observed.detect_times);
        add("observed_attempts", observed.attempts);
        add("attempt_interval", observed.attempt_intervals);
        add("client_ping_interval", frames.ping_intervals);
        add("unanswered_pings", events(frames.unanswered as usize));

        // Clients that report nothing recover as the proxy saw them.
        let recovery = if self.silent_clients { "observed_recovery_time" } else { "recovery_time" };
        let charts = self.charts.finish(&timeline, &samples[recovery], &derived_incidents.incidents);
        RecorderOutput {
            samples,
            charts,
            detect_by_reason: derived_incidents.detect_by_reason,
            messages: messages.counts,
            attempts_total: attempts.total,
            attempts_per_second: attempts.per_second,
            gave_up,
            unconverged,
            faults: run::faults(&timeline),
            incidents: derived_incidents.incidents,
            client_close_codes: frames.close_codes,
            late_events,
        }
    }
}

/// The kept events as the derivations read them, on the run's clock.
fn timeline<'a>(kept: &'a [Kept], span: &Span, workload: bool) -> History<'a> {
    let origin = span.origin;
    let events = kept
        .iter()
        .map(|kept| Timed {
            t: seconds(kept.event.at(), origin),
            what: match &kept.event {
                Recorded::Proxy(e) => What::Proxy(&e.kind),
                Recorded::Client(e) => What::Client(e.client, &e.kind),
            },
            awaits_echo: kept.awaits_echo,
        })
        .collect();
    History { events, end: span.end_at.as_secs_f64(), workload, workload_until: span.heal_at.as_secs_f64() }
}

/// Seconds from `origin` to `at` (0 for anything before the origin).
fn seconds(at: Instant, origin: Instant) -> f64 {
    at.saturating_duration_since(origin).as_secs_f64()
}
