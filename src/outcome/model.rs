//! The one serializable result of a run: `report.json` is [`RunReport`], verbatim, and every
//! report format renders it.
//!
//! Times are seconds (`f64`) from the start of the run; durations are seconds. Every map is a
//! `BTreeMap`, so the JSON is byte-identical for the same run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of this format; bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// The outcome of a run or of one strategy, declared from the least to the most severe, so the
/// derived order is the severity order: the verdict of several is their `max()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every SLO holds.
    Pass,
    /// A fault hit nothing, so the run proves nothing about it.
    Inconclusive,
    /// An SLO failed.
    Fail,
    /// The run was stopped before its end (Ctrl-C, SIGTERM, SIGHUP): for a strategy, it was
    /// running at the cut, and its figures cover only what ran.
    Interrupted,
}

/// Everything one `wschaos run` produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The wschaos version that ran it.
    pub wschaos_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub file: String,
    /// The scenario's description.
    pub description: Option<String>,
    /// `live` or `sim`.
    pub engine: String,
    /// The seed every random choice came from.
    pub seed: u64,
    /// What a `--seeds` run drew for the scenario's `swarm:` ranges, by field path; empty for a
    /// plain run. A run with draws is repeated with `--seeds SEED`, which draws them again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub swarm_draw: BTreeMap<String, String>,
    /// Seconds of faults.
    pub duration: f64,
    /// Seconds of quiet period after the heal.
    pub quiet_period: f64,
    /// Number of clients.
    pub clients: u32,
    /// Whether the run was cut short.
    pub interrupted: bool,
    /// The overall verdict: the worst of the strategies' (interrupted beats everything).
    pub verdict: Verdict,
    /// One entry per strategy of the matrix, in file order.
    pub strategies: Vec<StrategyReport>,
}

/// The results of one strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyReport {
    /// The strategy's name.
    pub name: String,
    /// Its formula and quirks in one line.
    pub description: String,
    /// Its verdict: `interrupted` when the run was cut short while this strategy ran.
    pub verdict: Verdict,
    /// When the run was cut short, seconds from this strategy's start; its figures cover
    /// only the time before it, and its SLOs are measured but not judged. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_at: Option<f64>,
    /// Per SLO metric name, the summary of its values (seconds for durations, counts, fractions).
    pub metrics: BTreeMap<String, Stats>,
    /// Detect time summaries per detection reason.
    pub detect_time_by_reason: BTreeMap<String, Stats>,
    /// Message accounting.
    pub messages: MessageCounts,
    /// Connection attempts over the run.
    pub attempts_total: u64,
    /// Attempts in each second of the run, from 0.
    pub attempts_per_second: Vec<u64>,
    /// The largest of those.
    pub peak_attempts_per_second: u64,
    /// Attempts the echo server turned away, per reason: its capacity rules (`backlog_full`,
    /// `shed_503`, `shed_close_1013`, `contention_lost`) and its auth check
    /// (`unauthorized_401`); absent when none were.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attempts_turned_away: BTreeMap<String, u64>,
    /// Clients that gave up, by index.
    pub gave_up: Vec<u32>,
    /// Clients that had not converged when the quiet period ended (not connected, or with
    /// messages never echoed), by index.
    #[serde(default)]
    pub unconverged: Vec<u32>,
    /// Each fault occurrence and whether it hit anything.
    pub faults: Vec<FaultOutcome>,
    /// Each SLO threshold and its result.
    pub slo: Vec<SloResult>,
    /// Every incident.
    pub incidents: Vec<Incident>,
    /// Recovery times in microseconds, for the HdrHistogram file.
    pub recovery_time_us: Vec<u64>,
    /// Close frames the clients sent, per code (`none` for a Close without one), as the
    /// proxy saw them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub client_close_codes: BTreeMap<String, u64>,
    /// What the HTML page draws: bucketed time series, the recovery CDF, a few clients' lanes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charts: Option<Charts>,
    /// For the user's own client program: how the programs fared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramReport>,
}

/// What the HTML page draws for one strategy, bounded whatever the client count: at most 600
/// time buckets, 200 CDF points and 10 lanes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Charts {
    /// Seconds per time bucket; bucket `i` covers `[i × bucket, (i + 1) × bucket)`.
    pub bucket: f64,
    /// Clients connected at each bucket's end.
    pub open: Vec<u32>,
    /// Clients trying to connect at each bucket's end.
    pub connecting: Vec<u32>,
    /// Clients neither connected nor trying (not started, broken, or between attempts).
    pub waiting: Vec<u32>,
    /// Clients that gave up or stopped.
    pub gone: Vec<u32>,
    /// Connection attempts in each bucket.
    pub attempts: Vec<u64>,
    /// Message latency of the echoes in each bucket, seconds: p50, p90, p99, max.
    pub latency: Vec<Option<[f64; 4]>>,
    /// The recovery-time distribution: `[seconds, share of recoveries within]`, ascending.
    pub recovery_cdf: Vec<[f64; 2]>,
    /// A few clients' stories: the slowest recoveries and some ordinary clients.
    pub lanes: Vec<Lane>,
}

/// One client's story, for a swim lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// The client.
    pub client: u32,
    /// Why it was chosen: `slowest recovery` or `ordinary`.
    pub why: String,
    /// Its longest recovery, seconds, if it had one.
    pub recovery: Option<f64>,
    /// Its states over time.
    pub spans: Vec<LaneSpan>,
    /// When it began each connection attempt.
    pub attempts: Vec<f64>,
}

/// A span of one state in a lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaneSpan {
    /// Start, seconds.
    pub from: f64,
    /// End, seconds.
    pub to: f64,
    /// `open`, `trying`, `down` or `gone`.
    pub state: String,
}

/// How the user's client programs fared in one strategy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProgramReport {
    /// The command, placeholders unfilled.
    pub command: Vec<String>,
    /// Whether clients reported events on stdout.
    pub events: bool,
    /// Seconds from launch until each client was ready (its `ready` event, or else its first
    /// connection at the proxy), for the clients that were, in index order.
    pub ready_after: Vec<f64>,
    /// Clients that ended before the run did.
    pub exits: Vec<ProgramExit>,
    /// Whether exits before the end are allowed (`allow_exit`); without it any fails the strategy.
    pub allow_exit: bool,
    /// Stdout lines that were not valid events, in all.
    pub protocol_errors: u64,
    /// The first of them, `client N line L: what is wrong`.
    pub protocol_error_samples: Vec<String>,
    /// Problems with the clients' logs (too much output, a failed write), `client N: …`.
    pub log_problems: Vec<String>,
    /// Where the clients' logs are, if they were kept.
    pub logs: Option<String>,
}

/// A client program that ended before the run did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramExit {
    /// The client.
    pub client: u32,
    /// When, seconds from the start.
    pub t: f64,
    /// How: `exited with code 1`, `killed by SIGSEGV`.
    pub status: String,
    /// Its last lines of output.
    pub last_lines: Vec<String>,
}

/// Whether a count is 0, so that a field new to the format is left out where it says nothing
/// and the reports of runs it does not concern keep their bytes.
fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// A metric's values reduced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of values.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Sum.
    pub sum: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// What happened to the workload's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    /// Messages that fell due.
    pub offered: u64,
    /// Messages written at least once.
    pub sent: u64,
    /// Messages whose echo arrived by the end of the quiet period.
    pub echoed: u64,
    /// Offered and never echoed by the end. In a run cut short, only the messages the client
    /// had given up on (dropped): the others are `unresolved`.
    pub lost: u64,
    /// In a run cut short (Ctrl-C, SIGTERM, SIGHUP): messages still due or in flight at the
    /// cut, neither echoed nor dropped; whether they would have arrived is unknown, so they
    /// are not counted as lost. Always 0 in a run that reached its end; absent from older
    /// reports, which read as 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unresolved: u64,
    /// Echoes the application saw a second time or more.
    pub duplicated: u64,
    /// First echoes that arrived after a later message's.
    pub reordered: u64,
}

/// One fault occurrence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultOutcome {
    /// Index in `faults:`.
    pub plan: u64,
    /// Repetition, from 0.
    pub occurrence: u64,
    /// Kind name.
    pub name: String,
    /// Start, seconds from the run's start.
    pub started: f64,
    /// End, if it had one.
    pub ended: Option<f64>,
    /// Links or connections it acted on.
    pub hits: u64,
    /// Links a frame fault could not act on because the frame observer could not follow them,
    /// counted per reason (`not plain HTTP (TLS or another protocol)`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_applied: BTreeMap<String, u64>,
    /// `tls_bad_certificate` only: what the clients did with the bad certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonation: Option<Impersonation>,
}

/// What clients did when a man in the middle (`tls_bad_certificate`) answered them. A correct
/// client refuses every time: `accepted`, `application_bytes` and `credentials_sent` are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impersonation {
    /// Connections the impostor answered.
    pub answered: u64,
    /// Of those, the ones whose client accepted the bad certificate.
    pub accepted: u64,
    /// Application bytes those clients sent to the impostor.
    pub application_bytes: u64,
    /// Connections whose bytes carried credentials (a token, a signature, a cookie).
    pub credentials_sent: u64,
}

/// A client's connection broke, and what followed (docs/measurement.md, "What is measured").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The client.
    pub client: u32,
    /// When the link broke, or the fault that broke it began.
    pub t_break: f64,
    /// When the client noticed.
    pub t_detect: f64,
    /// How it noticed.
    pub reason: String,
    /// Connection attempts until it was open again.
    pub attempts: u64,
    /// When a handshake completed again.
    pub t_open: Option<f64>,
    /// When the first echo arrived on the new connection (the open, without a workload).
    pub t_recovered: Option<f64>,
    /// When the faults behind it ended.
    pub t_heal: Option<f64>,
    /// The faults that acted on the client during the incident (`faults[i]#k name`).
    pub causes: Vec<String>,
    /// `wss://` only: seconds its reconnect spent in TLS handshakes (a part of reconnect_time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_time: Option<f64>,
}

/// One SLO threshold's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    /// The metric.
    pub metric: String,
    /// The threshold as written (`p(99) < 8s`).
    pub threshold: String,
    /// The measured figure, in the metric's unit (seconds for durations); `None` without values.
    pub measured: Option<f64>,
    /// The measured figure formatted like the threshold (`7.2s`).
    pub measured_text: String,
    /// Whether it holds.
    pub passed: bool,
}
