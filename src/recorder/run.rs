//! Figures over the whole run: the fault table, connection attempts per second (the herd at the
//! server), the clients that gave up, and each client's availability.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::ClientEventKind;
use crate::fault::FaultId;
use crate::outcome::{FaultOutcome, Impersonation, Incident};
use crate::proxy::EventKind;

use super::{History, What};

/// What the timeline says about one fault occurrence.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FaultRow {
    /// The kind's name, from `FaultStarted`.
    pub name: &'static str,
    /// Start, in seconds.
    pub started: f64,
    /// End, in seconds; `None` for an instant fault (reset, close) or one that never healed.
    pub ended: Option<f64>,
    /// `FaultHit` events for it.
    pub hits: u64,
    /// Whether it hit an arriving connection that never became a link (refuse, accept_hang).
    pub admission: bool,
    /// Links it could not act on, per reason.
    pub not_applied: BTreeMap<String, u64>,
    /// What clients did with its bad certificate (`tls_bad_certificate`).
    pub impersonation: Option<Impersonation>,
}

impl FaultRow {
    /// When the fault stopped acting: its end, or its start when it has none (an instant fault
    /// acts once, at its start).
    pub fn healed(&self) -> f64 {
        self.ended.unwrap_or(self.started)
    }
}

/// Every fault that started, by id. Ends and hits of faults that never started are dropped:
/// they cannot be named. Starts are gathered first, so a hit stamped with its fault's start
/// instant counts whichever arrived first.
pub(super) fn fault_table(timeline: &History<'_>) -> BTreeMap<FaultId, FaultRow> {
    let mut table = BTreeMap::new();
    for event in &timeline.events {
        if let What::Proxy(EventKind::FaultStarted { fault, name }) = event.what {
            table.entry(*fault).or_insert(FaultRow {
                name,
                started: event.t,
                ended: None,
                hits: 0,
                admission: false,
                not_applied: BTreeMap::new(),
                impersonation: None,
            });
        }
    }
    for event in &timeline.events {
        match event.what {
            What::Proxy(EventKind::FaultEnded { fault }) => {
                if let Some(row) = table.get_mut(fault) {
                    row.ended.get_or_insert(event.t);
                }
            }
            What::Proxy(EventKind::FaultHit { fault, link }) => {
                if let Some(row) = table.get_mut(fault) {
                    row.hits += 1;
                    row.admission |= link.is_none();
                }
            }
            What::Proxy(EventKind::Impersonated { fault, accepted, bytes, credentials }) => {
                if let Some(row) = table.get_mut(fault) {
                    let seen = row.impersonation.get_or_insert_default();
                    seen.answered += 1;
                    seen.accepted += u64::from(*accepted);
                    seen.application_bytes += bytes;
                    seen.credentials_sent += u64::from(*credentials);
                }
            }
            What::Proxy(EventKind::FaultNotApplied { fault, why, .. }) => {
                if let Some(row) = table.get_mut(fault) {
                    *row.not_applied.entry(why.to_string()).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    table
}

/// One [`FaultOutcome`] per `FaultStarted`, in `(plan, occurrence)` order.
pub(super) fn faults(timeline: &History<'_>) -> Vec<FaultOutcome> {
    fault_table(timeline)
        .into_iter()
        .map(|(id, row)| FaultOutcome {
            plan: id.plan,
            occurrence: id.occurrence,
            name: row.name.to_string(),
            started: row.started,
            ended: row.ended,
            hits: row.hits,
            not_applied: row.not_applied,
            impersonation: row.impersonation,
        })
        .collect()
}

/// Connection attempts over the run.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Attempts {
    /// Every `Attempt` event.
    pub total: u64,
    /// Entry `i` counts the attempts in `[i, i + 1)` seconds; there are `ceil(end)` entries (at
    /// least one), and an attempt at exactly `end` on a whole second joins the last one, so the
    /// last second is closed at the end of the run.
    pub per_second: Vec<u64>,
    /// The largest entry of `per_second` (0 without attempts).
    pub peak: u64,
}

/// Counts attempts per second of the run.
pub(super) fn attempts(timeline: &History<'_>) -> Attempts {
    count_per_second(timeline, |what| matches!(what, What::Client(_, ClientEventKind::Attempt { .. })))
}

/// Connections that arrived at the proxy, per second: the attempts of clients that report
/// nothing.
pub(super) fn arrivals(timeline: &History<'_>) -> Attempts {
    count_per_second(timeline, |what| matches!(what, What::Proxy(EventKind::LinkOpened { .. })))
}

fn count_per_second(timeline: &History<'_>, counts: impl Fn(&What<'_>) -> bool) -> Attempts {
    let seconds = (timeline.end.ceil() as usize).max(1);
    let mut per_second = vec![0u64; seconds];
    let mut total = 0;
    for event in &timeline.events {
        if counts(&event.what) {
            total += 1;
            let second = (event.t.floor() as usize).min(seconds - 1);
            per_second[second] += 1;
        }
    }
    let peak = per_second.iter().copied().max().unwrap_or(0);
    Attempts { total, per_second, peak }
}

/// The clients with a `GaveUp` event, sorted, each once.
pub(super) fn gave_up(timeline: &History<'_>) -> Vec<u32> {
    let clients: BTreeSet<u32> = timeline
        .events
        .iter()
        .filter_map(|event| match event.what {
            What::Client(client, ClientEventKind::GaveUp(_)) => Some(client),
            _ => None,
        })
        .collect();
    clients.into_iter().collect()
}

/// Clients that had not converged by the end of the quiet period: not open at the end, or with
/// offered messages never echoed (`unechoed`). Sorted by index, over `clients`.
pub(super) fn unconverged(timeline: &History<'_>, clients: &[u32], unechoed: &BTreeSet<u32>) -> Vec<u32> {
    let mut open: BTreeMap<u32, bool> = clients.iter().map(|c| (*c, false)).collect();
    for event in &timeline.events {
        let What::Client(client, kind) = event.what else { continue };
        match kind {
            ClientEventKind::Opened { .. } => {
                open.insert(client, true);
            }
            ClientEventKind::Detected(_) | ClientEventKind::GaveUp(_) => {
                open.insert(client, false);
            }
            _ => {}
        }
    }
    open.into_iter().filter(|(client, open)| !open || unechoed.contains(client)).map(|(c, _)| c).collect()
}

/// Where a client stands, for availability.
#[derive(Clone, Copy, Debug, Default)]
struct Health {
    /// Its first `Attempt`, in seconds: where its time starts counting.
    first_attempt: Option<f64>,
    /// Opened, and (with a workload) waiting for the first echo to become healthy.
    awaiting_echo: bool,
    /// Healthy since this time.
    healthy_since: Option<f64>,
    /// Healthy seconds so far.
    healthy: f64,
}

impl Health {
    fn become_healthy(&mut self, t: f64) {
        self.awaiting_echo = false;
        self.healthy_since.get_or_insert(t);
    }

    fn become_unhealthy(&mut self, t: f64) {
        self.awaiting_echo = false;
        if let Some(since) = self.healthy_since.take() {
            self.healthy += t - since;
        }
    }
}

/// One fraction per client of `clients` (every client below the run's count and any other that
/// sent events, in index order): healthy time over the time from its first `Attempt` to the end of the run.
///
/// A client is healthy from each recovery point (the first `Echoed` after an `Opened` while it
/// has something to send, the `Opened` itself otherwise: see `incidents`) until the next
/// `Detected`, `GaveUp` or the end. A
/// client that never attempted, or whose first attempt came at the very end, scores 0: it was
/// never available.
pub(super) fn availability(timeline: &History<'_>, clients: &[u32]) -> Vec<f64> {
    let mut health: BTreeMap<u32, Health> = clients.iter().map(|c| (*c, Health::default())).collect();
    for event in &timeline.events {
        let What::Client(client, kind) = event.what else { continue };
        let state = health.entry(client).or_default();
        match kind {
            ClientEventKind::Attempt { .. } => {
                state.first_attempt.get_or_insert(event.t);
            }
            ClientEventKind::Opened { .. } if event.awaits_echo => state.awaiting_echo = true,
            ClientEventKind::Opened { .. } => state.become_healthy(event.t),
            ClientEventKind::Echoed { .. } if state.awaiting_echo => state.become_healthy(event.t),
            ClientEventKind::Detected(_) | ClientEventKind::GaveUp(_) => state.become_unhealthy(event.t),
            _ => {}
        }
    }
    health
        .into_values()
        .map(|mut state| {
            state.become_unhealthy(timeline.end);
            match state.first_attempt {
                Some(first) if timeline.end > first => {
                    (state.healthy / (timeline.end - first)).clamp(0.0, 1.0)
                }
                _ => 0.0,
            }
        })
        .collect()
}

/// From the first break to the last recovery, in seconds: how long the herd took to be back
/// (the AWS backoff article's "completion time"). `None` without incidents, or while any
/// client is still away, since then the herd never completed.
pub(super) fn completion_time(incidents: &[Incident]) -> Option<f64> {
    let first_break = incidents.iter().map(|incident| incident.t_break).reduce(f64::min)?;
    let mut last_back = first_break;
    for incident in incidents {
        last_back = last_back.max(incident.t_recovered?);
    }
    Some(last_back - first_break)
}
