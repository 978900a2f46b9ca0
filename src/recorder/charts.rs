//! What the HTML page draws, aggregated so that its size does not grow with the clients: at most
//! [`MAX_BUCKETS`] time buckets of a "nice" width, taken as the events stream by (client states
//! at each bucket's end, connection attempts, message latency percentiles), then at the end a
//! recovery-time CDF of at most [`CDF_POINTS`] points and the stories (swim lanes) of a few
//! clients chosen deterministically: the slowest recoveries, and a few ordinary clients spread
//! over the indices.
//!
//! Memory: one state byte per client, a few counters per bucket and a latency histogram per
//! bucket that saw an echo; the lanes are read off the events the recorder keeps anyway.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::client::{ClientEventKind, State};
use crate::outcome::{Charts, Incident, Lane, LaneSpan};
use crate::proxy::EventKind;

use super::{History, What};

/// The most time buckets a chart has.
pub const MAX_BUCKETS: usize = 600;

/// The most points of a recovery CDF.
pub const CDF_POINTS: usize = 200;

/// How many of the slowest recoveries get a swim lane, and how many ordinary clients.
const SLOWEST_LANES: usize = 5;
const ORDINARY_LANES: usize = 5;

/// The most spans (and attempt marks) one lane keeps; a client that flapped more has its later
/// ones dropped. With ten lanes this keeps the page's lanes near 200 KB at worst.
const MAX_SPANS: usize = 100;

/// Bucket widths, seconds: the smallest that fits the run in [`MAX_BUCKETS`] is used.
const WIDTHS: [f64; 16] =
    [0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// A client's state, as the charts group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Shown {
    /// Not started, broken, or between attempts.
    Waiting = 0,
    /// Trying to connect.
    Connecting = 1,
    /// Connected.
    Open = 2,
    /// Gave up or stopped.
    Gone = 3,
}

/// The charts' streaming state.
#[derive(Debug)]
pub(super) struct ChartStream {
    width: f64,
    buckets: usize,
    /// Each client's state now.
    states: Vec<Shown>,
    /// Clients in each state now.
    counts: [u32; 4],
    /// The state counts at each finished bucket's end.
    snapshots: Vec<[u32; 4]>,
    attempts: Vec<u64>,
    /// Whether attempts are counted at the proxy (clients that report nothing).
    attempts_at_proxy: bool,
    latency: BTreeMap<usize, Histogram<u64>>,
}

impl ChartStream {
    /// For a run of `end` seconds and `clients` clients.
    pub fn new(end: f64, clients: u32, attempts_at_proxy: bool) -> ChartStream {
        let width = WIDTHS.iter().copied().find(|w| end / w <= MAX_BUCKETS as f64).unwrap_or(3600.0);
        let buckets = ((end / width).ceil() as usize).clamp(1, MAX_BUCKETS);
        let mut counts = [0; 4];
        counts[Shown::Waiting as usize] = clients;
        ChartStream {
            width,
            buckets,
            states: vec![Shown::Waiting; clients as usize],
            counts,
            snapshots: Vec::with_capacity(buckets),
            attempts: vec![0; buckets],
            attempts_at_proxy,
            latency: BTreeMap::new(),
        }
    }

    fn bucket(&self, t: f64) -> usize {
        ((t / self.width).floor() as usize).min(self.buckets - 1)
    }

    /// Closes every bucket that ended by `t`.
    fn advance(&mut self, t: f64) {
        while self.snapshots.len() < self.buckets && (self.snapshots.len() + 1) as f64 * self.width <= t {
            self.snapshots.push(self.counts);
        }
    }

    /// Takes a proxy event at `t` seconds (in time order).
    pub fn proxy(&mut self, kind: &EventKind, t: f64) {
        self.advance(t);
        if self.attempts_at_proxy && matches!(kind, EventKind::LinkOpened { .. }) {
            let bucket = self.bucket(t);
            self.attempts[bucket] += 1;
        }
    }

    /// Takes `client`'s event at `t` seconds (in time order).
    pub fn client(&mut self, client: u32, kind: &ClientEventKind, t: f64) {
        self.advance(t);
        let shown = match kind {
            ClientEventKind::Attempt { .. } if !self.attempts_at_proxy => {
                let bucket = self.bucket(t);
                self.attempts[bucket] += 1;
                return;
            }
            ClientEventKind::Echoed { latency, .. } => {
                let bucket = self.bucket(t);
                let micros = (latency.as_micros() as u64).max(1);
                let histogram = self.latency.entry(bucket).or_insert_with(|| {
                    Histogram::new(2).expect("2 significant figures is a valid histogram precision")
                });
                // An auto-resizing histogram takes any value.
                let _ = histogram.record(micros);
                return;
            }
            ClientEventKind::State(State::Connecting) => Shown::Connecting,
            ClientEventKind::State(State::Open) => Shown::Open,
            ClientEventKind::State(State::Broken | State::Waiting) => Shown::Waiting,
            ClientEventKind::State(State::GaveUp | State::Closed) | ClientEventKind::Exited { .. } => {
                Shown::Gone
            }
            _ => return,
        };
        let Some(state) = self.states.get_mut(client as usize) else { return };
        self.counts[*state as usize] -= 1;
        self.counts[shown as usize] += 1;
        *state = shown;
    }

    /// The charts, with the recovery CDF and the lanes.
    pub fn finish(mut self, history: &History<'_>, recovery: &[f64], incidents: &[Incident]) -> Charts {
        self.advance(f64::INFINITY);
        let column = |state: Shown| self.snapshots.iter().map(|counts| counts[state as usize]).collect();
        let latency = (0..self.buckets)
            .map(|bucket| {
                self.latency.get(&bucket).map(|h| {
                    let at = |q: f64| h.value_at_quantile(q) as f64 / 1e6;
                    [at(0.5), at(0.9), at(0.99), h.max() as f64 / 1e6]
                })
            })
            .collect();
        Charts {
            bucket: self.width,
            open: column(Shown::Open),
            connecting: column(Shown::Connecting),
            waiting: column(Shown::Waiting),
            gone: column(Shown::Gone),
            attempts: self.attempts,
            latency,
            recovery_cdf: cdf(recovery),
            lanes: lanes(history, incidents, self.states.len() as u32),
        }
    }
}

/// The empirical CDF of `values` at up to [`CDF_POINTS`] evenly spaced ranks: `[value, share]`.
fn cdf(values: &[f64]) -> Vec<[f64; 2]> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let points = n.min(CDF_POINTS);
    (1..=points)
        .map(|i| {
            let rank = (i * n).div_ceil(points);
            [sorted[rank - 1], rank as f64 / n as f64]
        })
        .collect()
}

/// The clients whose stories are drawn: the slowest recoveries (longest first, ties by index),
/// then ordinary clients spread evenly over the indices.
fn chosen(incidents: &[Incident], clients: u32) -> Vec<(u32, &'static str, Option<f64>)> {
    let mut slowest: BTreeMap<u32, f64> = BTreeMap::new();
    for incident in incidents {
        if let Some(recovered) = incident.t_recovered {
            let time = recovered - incident.t_break;
            let entry = slowest.entry(incident.client).or_insert(time);
            *entry = entry.max(time);
        }
    }
    let mut ranked: Vec<(u32, f64)> = slowest.iter().map(|(c, t)| (*c, *t)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<(u32, &'static str, Option<f64>)> =
        ranked.iter().take(SLOWEST_LANES).map(|(c, t)| (*c, "slowest recovery", Some(*t))).collect();
    let step = (clients as usize / ORDINARY_LANES).max(1);
    for client in (0..clients).step_by(step) {
        if chosen.len() >= SLOWEST_LANES + ORDINARY_LANES {
            break;
        }
        if !chosen.iter().any(|(c, _, _)| *c == client) {
            chosen.push((client, "ordinary", slowest.get(&client).copied()));
        }
    }
    chosen
}

/// The swim lanes of the chosen clients, from the events the recorder kept: open from each
/// `Opened` to the next `Detected`, trying from an attempt after a break to the open, down in
/// between; a `GaveUp` or exit ends the lane.
fn lanes(history: &History<'_>, incidents: &[Incident], clients: u32) -> Vec<Lane> {
    let chosen = chosen(incidents, clients);
    let mut open: BTreeMap<u32, (Shown, f64)> = BTreeMap::new();
    let mut spans: BTreeMap<u32, Vec<LaneSpan>> = BTreeMap::new();
    let mut attempts: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (client, ..) in &chosen {
        open.insert(*client, (Shown::Waiting, 0.0));
    }
    let mut close = |client: u32, now: f64, next: Shown, open: &mut BTreeMap<u32, (Shown, f64)>| {
        let Some((state, from)) = open.get(&client).copied() else { return };
        if state == next {
            return;
        }
        let lane = spans.entry(client).or_default();
        if now > from && lane.len() < MAX_SPANS {
            lane.push(LaneSpan { from, to: now, state: name(state).to_string() });
        }
        open.insert(client, (next, now));
    };
    for event in &history.events {
        let What::Client(client, kind) = event.what else { continue };
        if !open.contains_key(&client) {
            continue;
        }
        let next = match kind {
            ClientEventKind::Attempt { .. } => {
                let marks = attempts.entry(client).or_default();
                if marks.len() < MAX_SPANS {
                    marks.push(event.t);
                }
                if open[&client].0 == Shown::Open { continue } else { Shown::Connecting }
            }
            ClientEventKind::Opened { .. } => Shown::Open,
            ClientEventKind::Detected(_) => Shown::Waiting,
            ClientEventKind::GaveUp(_) | ClientEventKind::Exited { .. } => Shown::Gone,
            _ => continue,
        };
        close(client, event.t, next, &mut open);
    }
    for (client, ..) in &chosen {
        close(*client, history.end, Shown::Gone, &mut open);
    }
    chosen
        .into_iter()
        .map(|(client, why, recovery)| Lane {
            client,
            why: why.to_string(),
            recovery,
            spans: spans.remove(&client).unwrap_or_default(),
            attempts: attempts.remove(&client).unwrap_or_default(),
        })
        .collect()
}

fn name(state: Shown) -> &'static str {
    match state {
        Shown::Waiting => "down",
        Shown::Connecting => "trying",
        Shown::Open => "open",
        Shown::Gone => "gone",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_width_keeps_the_count_bounded() {
        for (end, width, buckets) in
            [(10.0, 0.05, 200), (60.0, 0.1, 600), (75.0, 0.2, 375), (3615.0, 10.0, 362)]
        {
            let stream = ChartStream::new(end, 3, false);
            assert_eq!((stream.width, stream.buckets), (width, buckets), "{end}");
        }
    }

    #[test]
    fn states_are_counted_at_each_bucket_end() {
        let mut stream = ChartStream::new(1.0, 2, false);
        stream.client(0, &ClientEventKind::State(State::Connecting), 0.01);
        stream.client(0, &ClientEventKind::State(State::Open), 0.12);
        stream.client(1, &ClientEventKind::State(State::Connecting), 0.13);
        stream.client(1, &ClientEventKind::Attempt { n: 1 }, 0.13);
        stream.client(0, &ClientEventKind::State(State::GaveUp), 0.22);
        let history = History { events: Vec::new(), end: 1.0, workload: false, workload_until: 1.0 };
        let charts = stream.finish(&history, &[], &[]);
        // Buckets of 50 ms: at 0.05 client 0 connects; at 0.15 it is open and client 1 connects.
        assert_eq!(charts.connecting[..5], [1, 1, 1, 1, 1]);
        assert_eq!(charts.open[..5], [0, 0, 1, 1, 0]);
        assert_eq!(charts.waiting[..3], [1, 1, 0]);
        assert_eq!(charts.gone[4..6], [1, 1]);
        assert_eq!(charts.attempts[2], 1);
        assert_eq!(charts.open.len(), 20);
    }

    #[test]
    fn the_cdf_has_at_most_its_points_and_ends_at_one() {
        let values: Vec<f64> = (1..=1000).map(|i| i as f64 / 100.0).collect();
        let cdf = cdf(&values);
        assert_eq!(cdf.len(), CDF_POINTS);
        assert_eq!(cdf.last(), Some(&[10.0, 1.0]));
        assert_eq!(cdf[0], [0.05, 0.005]);
        assert_eq!(super::cdf(&[2.0, 1.0]), [[1.0, 0.5], [2.0, 1.0]]);
    }

    #[test]
    fn lanes_go_to_the_slowest_recoveries_then_ordinary_clients() {
        let incident = |client, recovered| Incident {
            client,
            t_break: 1.0,
            t_detect: 1.0,
            reason: "reset".into(),
            attempts: 1,
            t_open: Some(recovered),
            t_recovered: Some(recovered),
            t_heal: None,
            causes: Vec::new(),
            tls_time: None,
        };
        let incidents: Vec<Incident> = (0..20).map(|c| incident(c, 2.0 + (c % 7) as f64)).collect();
        let picked: Vec<(u32, &str)> =
            chosen(&incidents, 20).into_iter().map(|(c, why, _)| (c, why)).collect();
        assert_eq!(
            &picked[..5],
            [
                (6, "slowest recovery"),
                (13, "slowest recovery"),
                (5, "slowest recovery"),
                (12, "slowest recovery"),
                (19, "slowest recovery")
            ]
        );
        assert_eq!(&picked[5..], [(0, "ordinary"), (4, "ordinary"), (8, "ordinary"), (16, "ordinary")]);
    }
}
