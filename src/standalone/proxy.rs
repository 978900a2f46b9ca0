//! `wschaos proxy`: the proxy on its own, in front of any server, for any client, playing a
//! scenario's fault timeline with time counted from proxy start. Events are printed as they
//! happen, one line each, so a user can line them up with what their client logged.
//!
//! With a report asked for (`--out`), the proxy also records what it saw, as `wschaos run`
//! records a client program that reports nothing, stops by itself when the scenario ends
//! (duration plus quiet period), and returns the run's report: the figures the proxy alone can
//! give, judged against the scenario's SLOs. Clients are told apart by `x-wschaos-client` or
//! `?wschaos_client=N`; links that never say which client they are count for no client.

use std::io::Write;
use std::net::SocketAddr;

use tokio::time::Instant;

use super::{ServeError, cannot_listen, write_event};
use crate::net::Transport;
use crate::outcome::RunReport;
use crate::proxy::{EventKind, ProxyEvent};
use crate::recorder::{Recorded, Recorder, Span};
use crate::runner::{RunOptions, run_report, strategy_report};
use crate::scenario::{ClientSelector, Engine, Scenario, defaults};
use crate::stack::Stack;
use crate::units::format_duration;

/// What the standalone proxy plays.
pub struct ProxyOptions {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// The server to forward to.
    pub upstream: SocketAddr,
    /// The scenario whose faults play, if any.
    pub scenario: Option<Scenario>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Record what the proxy sees and report it when the scenario ends: the scenario file as
    /// the user named it, for the report and its repro line.
    pub report: Option<String>,
}

/// How the standalone proxy's run ended, with its report when one was asked for.
#[derive(Debug)]
pub struct Served {
    /// The report (`--out`), its verdict `interrupted` when the shutdown came first.
    pub report: Option<RunReport>,
}

/// The strategy name of the standalone proxy's report.
pub const OBSERVED: &str = "observed";

/// Runs the proxy until `shutdown`, or until `out` cannot be written, or (with a report) until
/// the scenario ends; writes the bound address as the first line of `out`, then one line per
/// event.
pub async fn serve(
    options: ProxyOptions,
    mut out: impl Write + Send + 'static,
    shutdown: impl Future<Output = ()>,
) -> Result<Served, ServeError> {
    let seed = options.seed.or(options.scenario.as_ref().map(|s| s.seed)).unwrap_or(defaults::SEED);
    let client_count = options.scenario.as_ref().map_or(0, |s| s.clients.count);
    let mut stack = Stack::upstream(&Transport::Live, options.upstream)
        .listen(options.listen)
        .seed(seed)
        .clients(client_count)
        .record_events()
        .start()
        .await
        .map_err(|error| ServeError::Network(cannot_listen(options.listen, error)))?;
    let start = Instant::now();
    if let Err(error) = introduce(&mut out, &stack, &options, seed) {
        stack.shutdown().await;
        return Err(ServeError::cut_short(error));
    }
    if let Some(scenario) = &options.scenario {
        stack.play(&scenario.faults, scenario.duration, start);
    }
    let recording = match (&options.scenario, &options.report) {
        (Some(scenario), Some(_)) => {
            let span = Span {
                origin: start,
                heal_at: scenario.duration,
                end_at: scenario.duration + scenario.quiet_period,
            };
            Some((Recorder::for_programs(span, client_count, false), start + span.end_at))
        }
        _ => None,
    };
    let end = recording.as_ref().map(|(_, end)| *end);
    let recorder = recording.map(|(recorder, _)| recorder);
    let (stop, printer) = spawn_printer(stack.take_events(), out, start, recorder);
    let scenario_end = async {
        match end {
            Some(end) => tokio::time::sleep_until(end).await,
            None => std::future::pending().await,
        }
    };
    let interrupted_at = tokio::select! {
        biased;
        () = shutdown => Some(Instant::now()),
        () = scenario_end => None,
    };
    stack.heal();
    let _ = stop.send(());
    let (recorder, failed) = printer.await.unwrap_or((None, None));
    stack.shutdown().await;
    if let Some(error) = failed {
        return Err(ServeError::cut_short(error));
    }
    let report = match (recorder, &options.scenario, options.report) {
        (Some(recorder), Some(scenario), Some(file)) => {
            Some(observed_report(recorder, scenario, file, seed, start, interrupted_at))
        }
        _ => None,
    };
    Ok(Served { report })
}

/// What the printer gives back: its recorder, and the write error that ended it early.
type Printed = (Option<Recorder>, Option<std::io::Error>);

/// The task that prints each proxy event to `out` (and records it, with a recorder) until it
/// is told to stop, then records what was still queued; it gives back the recorder, and the
/// write error that ended it early, if one did.
fn spawn_printer(
    mut events: tokio::sync::mpsc::UnboundedReceiver<ProxyEvent>,
    mut out: impl Write + Send + 'static,
    start: Instant,
    mut recorder: Option<Recorder>,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<Printed>) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let printer = tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                biased;
                _ = &mut stopped => break,
                event = events.recv() => match event {
                    Some(event) => event,
                    None => break,
                },
            };
            if let Err(error) =
                write_event(&mut out, event.at.saturating_duration_since(start), describe(&event))
            {
                return (recorder, Some(error));
            }
            if let Some(recorder) = &mut recorder {
                recorder.record(Recorded::Proxy(event));
            }
        }
        // What came before the stop is still the run's.
        while let Ok(event) = events.try_recv() {
            if let Some(recorder) = &mut recorder {
                recorder.record(Recorded::Proxy(event));
            }
        }
        (recorder, None)
    });
    (stop, printer)
}

/// The report of what the proxy saw, judged against `scenario`'s SLOs; cut at
/// `interrupted_at` when a signal stopped the proxy before the scenario's end.
fn observed_report(
    mut recorder: Recorder,
    scenario: &Scenario,
    file: String,
    seed: u64,
    start: Instant,
    interrupted_at: Option<Instant>,
) -> RunReport {
    if let Some(at) = interrupted_at {
        recorder.cut(at);
    }
    let cut = interrupted_at.map(|at| (at - start).as_secs_f64());
    let label = (OBSERVED, "clients as the proxy saw them (wschaos proxy)".to_string());
    let strategy = strategy_report(recorder, None, scenario, label, cut);
    let options = RunOptions { file, engine: Engine::Live, seed, strategies: Vec::new(), logs: None };
    run_report(scenario, &options, vec![strategy], interrupted_at.is_some())
}

/// The first lines: where the proxy listens and what it plays.
fn introduce(out: &mut impl Write, stack: &Stack, options: &ProxyOptions, seed: u64) -> std::io::Result<()> {
    writeln!(out, "listening on {}, forwarding to {}", stack.proxy_addr(), options.upstream)?;
    if let Some(scenario) = &options.scenario {
        let count = scenario.faults.len();
        let plural = if count == 1 { "" } else { "s" };
        let duration = format_duration(scenario.duration);
        writeln!(
            out,
            "playing {} (seed {seed}): {count} fault{plural} over {duration}, then healed",
            scenario.name
        )?;
        for (index, plan) in scenario.faults.iter().enumerate() {
            if !matches!(plan.target.clients, ClientSelector::All | ClientSelector::Probability(_)) {
                writeln!(
                    out,
                    "note: faults[{index}] targets clients by index or share; it hits only clients that send the x-wschaos-client header"
                )?;
            }
        }
    }
    out.flush()
}

/// What one event says, for its log line.
pub fn describe(event: &ProxyEvent) -> String {
    match &event.kind {
        EventKind::LinkOpened { link, peer } => format!("{link} opened from {peer}"),
        EventKind::LinkIdentified { link, client } => format!("{link} is client {client}"),
        EventKind::LinkClosed { link, cause } => format!("{link} closed: {cause:?}"),
        EventKind::FaultStarted { fault, name } => format!("{fault} {name} started"),
        EventKind::FaultEnded { fault } => format!("{fault} ended"),
        EventKind::FaultHit { fault, link: Some(link) } => format!("{fault} hit {link}"),
        EventKind::FaultHit { fault, link: None } => format!("{fault} hit an arriving connection"),
        EventKind::FaultNotApplied { fault, link, why } => format!("{fault} not applied to {link}: {why}"),
        EventKind::Upgraded { link, status } => format!("{link} upgrade answered {status}"),
        EventKind::FirstData { link, way } => format!("{link} first data frame {}", way.name()),
        EventKind::ControlFrame { link, way, kind, close_code: Some(code) } => {
            format!("{link} {} {} {code}", kind.name(), way.name())
        }
        EventKind::ControlFrame { link, way, kind, close_code: None } => {
            format!("{link} {} {}", kind.name(), way.name())
        }
        EventKind::ObserverStopped { link, way, why } => {
            format!("{link} {} not followed: {why}", way.name())
        }
    }
}
