//! `wschaos proxy`: the proxy on its own, in front of any server, for any client, playing a
//! scenario's fault timeline with time counted from proxy start. Events are printed as they
//! happen, one line each, so a user can line them up with what their client logged.
//!
//! With a report asked for (`--out`), the proxy also records what it saw, as `wschaos run`
//! records a client program that reports nothing, stops by itself when the scenario ends
//! (duration plus quiet period), and returns the run's report: the figures the proxy alone can
//! give, judged against the scenario's SLOs. Clients are told apart by `x-wschaos-client` or
//! `?wschaos_client=N`; links that never say which client they are count for no client.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;

use tokio::time::Instant;

use super::{ServeError, cannot_listen, write_event};
use crate::net::Transport;
use crate::outcome::RunReport;
use crate::proxy::{EventKind, LinkId, ProxyEvent};
use crate::recorder::{Recorded, Recorder, Span};
use crate::runner::{RunOptions, run_report, strategy_report};
use crate::scenario::{ClientSelector, Engine, FaultKind, FaultPlan, Scenario, defaults};
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
    /// Forward upgrade requests without their permessage-deflate offer (`--strip-deflate`);
    /// the scenario's `proxy.strip_deflate` turns it on too.
    pub strip_deflate: bool,
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
    let strip_deflate = options.strip_deflate
        || options.scenario.as_ref().is_some_and(|scenario| scenario.proxy.strip_deflate);
    let mut stack = Stack::upstream(&Transport::Live, options.upstream)
        .listen(options.listen)
        .seed(seed)
        .clients(client_count)
        .strip_deflate(strip_deflate)
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
    let unnamed = UnnamedTargets::new(options.scenario.as_ref());
    let (stop, printer) = spawn_printer(stack.take_events(), out, start, recorder, unnamed);
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
/// write error that ended it early, if one did. `unnamed` adds its warnings between the events.
fn spawn_printer(
    mut events: tokio::sync::mpsc::UnboundedReceiver<ProxyEvent>,
    mut out: impl Write + Send + 'static,
    start: Instant,
    mut recorder: Option<Recorder>,
    mut unnamed: UnnamedTargets,
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
            let since_start = event.at.saturating_duration_since(start);
            let warning = unnamed.see(&event.kind);
            let written = write_event(&mut out, since_start, describe(&event))
                .and_then(|()| warning.map_or(Ok(()), |warning| write_event(&mut out, since_start, warning)));
            if let Err(error) = written {
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
    if options.strip_deflate || options.scenario.as_ref().is_some_and(|s| s.proxy.strip_deflate) {
        writeln!(out, "removing the permessage-deflate offer from every upgrade request")?;
    }
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

/// Watches for faults that target clients by index (`clients: […]`, `share:`) while no link
/// says which client it is: on such links they can never act, and the proxy would otherwise
/// only print that they started. `wschaos run` calls such a run inconclusive (the fault hit
/// nothing); here, where clients are not wschaos's, a warning says why at the fault's end.
#[derive(Debug, Default)]
struct UnnamedTargets {
    /// Per fault entry: whether it targets clients by index.
    by_index: Vec<bool>,
    /// Open links, and whether each said which client it is.
    open: BTreeMap<LinkId, bool>,
    /// Running faults that target by index, by (entry, repetition), and whether a link said
    /// which client it is while they ran.
    running: BTreeMap<(u64, u64), bool>,
    /// Entries already warned about: once each, not once per repetition.
    warned: BTreeSet<u64>,
}

impl UnnamedTargets {
    fn new(scenario: Option<&Scenario>) -> UnnamedTargets {
        let by_index = scenario.map_or_else(Vec::new, |scenario| {
            let by_index = |plan: &FaultPlan| {
                matches!(plan.target.clients, ClientSelector::Indices(_) | ClientSelector::Share(_))
            };
            scenario.faults.iter().map(by_index).collect()
        });
        UnnamedTargets { by_index, ..UnnamedTargets::default() }
    }

    /// Takes in the next event; returns a warning to print after it, if the event ends (or,
    /// for an instant fault, starts) a fault that targets by index while no link had said
    /// which client it is.
    fn see(&mut self, kind: &EventKind) -> Option<String> {
        let ended = match kind {
            EventKind::LinkOpened { link, .. } => {
                self.open.insert(*link, false);
                None
            }
            EventKind::LinkIdentified { link, .. } => {
                self.open.insert(*link, true);
                self.running.values_mut().for_each(|named| *named = true);
                None
            }
            EventKind::LinkClosed { link, .. } => {
                self.open.remove(link);
                None
            }
            EventKind::FaultStarted { fault, name }
                if self.by_index.get(fault.plan as usize) == Some(&true) =>
            {
                let named = self.open.values().any(|named| *named);
                if FaultKind::named(name).is_some_and(FaultKind::is_instant) {
                    Some((fault.plan, named))
                } else {
                    self.running.insert((fault.plan, fault.occurrence), named);
                    None
                }
            }
            EventKind::FaultEnded { fault } => {
                self.running.remove(&(fault.plan, fault.occurrence)).map(|named| (fault.plan, named))
            }
            _ => None,
        };
        let (plan, named) = ended?;
        (!named && self.warned.insert(plan)).then(|| {
            format!(
                "warning: faults[{plan}] targets clients by index but no link said which client it is \
                 (a client names itself with the x-wschaos-client header or ?wschaos_client=N)"
            )
        })
    }
}

/// What one event says, for its log line.
pub fn describe(event: &ProxyEvent) -> String {
    match &event.kind {
        EventKind::LinkOpened { link, peer } => format!("{link} opened from {peer}"),
        EventKind::LinkIdentified { link, client } => format!("{link} is client {client}"),
        EventKind::LinkClosed { link, cause } => format!("{link} closed: {cause}"),
        EventKind::FaultStarted { fault, name } => format!("{fault} {name} started"),
        EventKind::FaultEnded { fault } => format!("{fault} ended"),
        EventKind::FaultHit { fault, link: Some(link) } => format!("{fault} hit {link}"),
        EventKind::FaultHit { fault, link: None } => format!("{fault} hit an arriving connection"),
        EventKind::Impersonated { fault, accepted: false, .. } => {
            format!("{fault}: the client refused the bad certificate")
        }
        EventKind::Impersonated { fault, accepted: true, bytes, credentials } => {
            let secrets = if *credentials { ", credentials among them" } else { "" };
            format!("{fault}: the client ACCEPTED the bad certificate and sent {bytes} bytes{secrets}")
        }
        EventKind::FaultNotApplied { fault, link, why } => format!("{fault} not applied to {link}: {why}"),
        EventKind::Upgraded { link, status } => format!("{link} upgrade answered {status}"),
        EventKind::FirstData { link, way } => format!("{link} first data frame {}", way.name()),
        EventKind::ControlFrame { link, way, kind, close_code, swallowed } => {
            let code = close_code.map(|code| format!(" {code}")).unwrap_or_default();
            let fate = if *swallowed { " (swallowed by a fault)" } else { "" };
            format!("{link} {} {}{code}{fate}", kind.name(), way.name())
        }
        EventKind::ObserverStopped { link, way, why } => {
            format!("{link} {} not followed: {why}", way.name())
        }
    }
}

#[cfg(test)]
mod tests;
