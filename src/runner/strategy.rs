//! One strategy of the matrix, start to finish, as named steps over one [`StrategyRun`]:
//! [`StrategyRun::start`] (the stack, the clients, the timeline), [`StrategyRun::record`] (every
//! event to the log and the recorder until the end of the quiet period), [`StrategyRun::stop`]
//! (heal, clients closing, proxy and server down) and [`StrategyRun::report`] (the recorder's
//! figures judged against the SLOs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::clients::{Clients, spawn_reference_clients, tls_failure, write_ca};
use super::log::{EventLog, TaggedLines};
use super::programs::{Programs, launch_server};
use super::report::strategy_report;
use super::{Interrupt, Progress, RunError, Tick, Update};
use crate::client::{ClientEvent, ClientEventKind, ClientSink, State};
use crate::net::Transport;
use crate::outcome::{ProgramReport, StrategyReport};
use crate::proxy::ProxyEvent;
use crate::recorder::{Recorded, Recorder, Span};
use crate::scenario::program::{Identity, ProgramEntry, ServerUnderTest};
use crate::scenario::{ClientStrategy, Scenario};
use crate::stack::{HarnessError, Stack};
use crate::tls::RunCertificates;

/// How often (in run time) events.jsonl is flushed and progress is reported.
const TICK: Duration = Duration::from_millis(250);

/// How long stopping clients get to close their connections at the end.
const DRAIN: Duration = Duration::from_secs(2);

/// Every client's last state, by index, for the diagnosis of a stalled simulation.
pub(super) type States = Mutex<BTreeMap<u32, State>>;

/// One entry of the matrix: a strategy of the reference client, or a command of the user's
/// client program.
#[derive(Clone, Debug)]
pub(super) enum MatrixEntry<'a> {
    /// The reference client under a strategy.
    Reference(&'a ClientStrategy),
    /// The user's client program under this entry's command.
    Program(ProgramEntry),
}

impl MatrixEntry<'_> {
    /// Its name in reports and on the command line.
    pub(super) fn name(&self) -> &str {
        match self {
            MatrixEntry::Reference(strategy) => &strategy.strategy.name,
            MatrixEntry::Program(entry) => &entry.name,
        }
    }

    /// Its one-line description in reports.
    pub(super) fn describe(&self) -> String {
        match self {
            MatrixEntry::Reference(strategy) => strategy.strategy.describe(),
            MatrixEntry::Program(entry) => format!("your program: {}", entry.command.join(" ")),
        }
    }
}

/// One strategy's run in progress.
pub(super) struct StrategyRun<'a> {
    scenario: Scenario,
    entry: MatrixEntry<'a>,
    span: Span,
    stack: Stack,
    proxy_events: mpsc::UnboundedReceiver<ProxyEvent>,
    client_events: mpsc::UnboundedReceiver<ClientEvent>,
    clients: Clients,
    recorder: Recorder,
    /// Events that came before the run's clock started (a program's first connections), taken
    /// first by [`StrategyRun::record`].
    pending: Vec<Recorded>,
    /// Breaks the clients detected so far, for the progress line.
    incidents: u64,
}

impl<'a> StrategyRun<'a> {
    /// Starts the stack for `scenario` under `seed`, its clients under `entry`, and the fault
    /// timeline; the run's clock starts now. Program logs go under `logs`.
    pub(super) async fn start(
        scenario: &Scenario,
        entry: MatrixEntry<'a>,
        seed: u64,
        transport: Transport,
        logs: Option<&PathBuf>,
        interrupt: &Interrupt,
    ) -> Result<StrategyRun<'a>, RunError> {
        let scenario = Scenario { seed, ..scenario.clone() };
        // wss://: a CA and leaf made for this strategy's run; the echo server presents the
        // leaf and the reference clients trust exactly the CA.
        let certs = match scenario.server.tls {
            true => Some(Arc::new(RunCertificates::generate().map_err(tls_failure)?)),
            false => None,
        };
        let (server, builder) = match &scenario.upstream {
            ServerUnderTest::Echo => (None, Stack::for_scenario(&transport, &scenario, seed)),
            ServerUnderTest::Upstream(addr) => (None, Stack::upstream(&transport, *addr)),
            ServerUnderTest::Program(program) => {
                let (child, addr) = launch_server(program, seed, logs).await?;
                (Some(child), Stack::upstream(&transport, addr))
            }
        };
        let builder = builder
            .seed(seed)
            .clients(scenario.clients.count)
            .strip_deflate(scenario.proxy.strip_deflate)
            .tls(certs.clone())
            .proxy_tls(scenario.proxy.tls)
            .record_events();
        let builder = match &scenario.program {
            Some(program) if program.identity == Identity::Port => builder.client_listeners(),
            _ => builder,
        };
        let mut stack = builder.start().await?;
        let mut proxy_events = stack.take_events();
        let (sink, mut client_events) = ClientSink::channel();
        // Programs start first, and the run's clock when every one is ready; what happened
        // meanwhile (their first connections) is the run's first events.
        let (programs, pending) = match (&entry, &scenario.program) {
            (MatrixEntry::Program(program_entry), Some(program)) => {
                let ca = match &certs {
                    Some(certs) => Some(write_ca(certs, logs)?),
                    None => None,
                };
                let mut programs = Programs::launch(
                    program,
                    &program_entry.command,
                    &stack.url(),
                    stack.client_urls(),
                    scenario.clients.count,
                    seed,
                    logs.cloned(),
                    ca,
                    &sink,
                    server,
                )?;
                let pending = programs.wait_ready(&mut proxy_events, &mut client_events, interrupt).await?;
                (Some(programs), pending)
            }
            _ => (None, Vec::new()),
        };
        let origin = Instant::now();
        let span =
            Span { origin, heal_at: scenario.duration, end_at: scenario.duration + scenario.quiet_period };
        let (clients, recorder) = match (&entry, programs) {
            (MatrixEntry::Program(_), Some(programs)) => {
                let events = programs.reports_events();
                let recorder = Recorder::for_programs(span, scenario.clients.count, events);
                (Clients::Programs(Box::new(programs)), recorder)
            }
            (MatrixEntry::Reference(strategy), _) => {
                let tls = match &certs {
                    Some(certs) => Some(certs.client().map_err(tls_failure)?),
                    None => None,
                };
                let clients =
                    spawn_reference_clients(&scenario, strategy, &stack, &transport, &sink, origin, tls)?;
                let workload = scenario.clients.workload.is_some();
                (clients, Recorder::new(span, scenario.clients.count, workload))
            }
            (MatrixEntry::Program(_), None) => {
                unreachable!("program entries come from the scenario's program")
            }
        };
        stack.play(&scenario.faults, scenario.duration, origin);
        Ok(StrategyRun {
            scenario,
            entry,
            span,
            stack,
            proxy_events,
            client_events,
            clients,
            recorder,
            pending,
            incidents: 0,
        })
    }

    /// Takes every event into `log` and the recorder until the end of the quiet period or an
    /// interrupt, flushing the log and reporting progress every [`TICK`]. Returns when an
    /// interrupt cut the run short, having told the recorder.
    ///
    /// Errors: besides the log's and the programs', [`RunError::Harness`] as soon as a part of
    /// the stack ends early (checked with every event) or a reference client's task panics
    /// (checked every tick), after writing a `harness_error` event to the log.
    pub(super) async fn record(
        &mut self,
        log: &mut dyn EventLog,
        states: &States,
        interrupt: &Interrupt,
        progress: &Progress,
    ) -> Result<Option<Instant>, RunError> {
        let mut lines = TaggedLines::new(self.entry.name());
        let origin = self.span.origin;
        let deadline = origin + self.span.end_at;
        let mut next_tick = origin;
        for event in std::mem::take(&mut self.pending) {
            self.note(&event, states);
            lines.write(&event, origin, log)?;
            self.recorder.record(event);
        }
        while !interrupt.triggered() {
            // `biased`: a fixed polling order, so the sim engine interleaves the two sources
            // the same way every run (tokio otherwise picks a branch at random).
            let event = tokio::select! {
                biased;
                Some(event) = self.proxy_events.recv() => Recorded::Proxy(event),
                Some(event) = self.client_events.recv() => Recorded::Client(event),
                failure = self.stack.failure() => return Err(harness_failed(failure, origin, &mut lines, log)),
                () = tokio::time::sleep_until(deadline.min(next_tick)) => {
                    log.flush()?;
                    if Instant::now() >= deadline {
                        break;
                    }
                    if let Some(failure) = self.clients.failure().await {
                        return Err(harness_failed(failure, origin, &mut lines, log));
                    }
                    next_tick += TICK;
                    progress(Update::Tick(self.tick()));
                    continue;
                }
            };
            if let Clients::Programs(programs) = &mut self.clients {
                programs.note(&event);
            }
            self.note(&event, states);
            lines.write(&event, origin, log)?;
            self.recorder.record(event);
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        let cut = Instant::now();
        self.recorder.cut(cut);
        Ok(Some(cut))
    }

    /// Keeps what the progress line and a stall's diagnosis need.
    fn note(&mut self, event: &Recorded, states: &States) {
        let Recorded::Client(ClientEvent { kind, client, .. }) = event else { return };
        match kind {
            ClientEventKind::Detected(_) => self.incidents += 1,
            ClientEventKind::State(state) => {
                states.lock().unwrap_or_else(|p| p.into_inner()).insert(*client, *state);
            }
            _ => {}
        }
    }

    fn tick(&self) -> Tick {
        Tick {
            elapsed: Instant::now() - self.span.origin,
            total: self.span.end_at,
            links: self.stack.control().open_links(),
            active_faults: self.stack.control().active().len(),
            incidents: self.incidents,
        }
    }

    /// Heals, stops the clients (they close), then the proxy and the server. What the
    /// teardown reports (links closing as clients stop) is not part of the run: it happens
    /// after the quiet period, and its order depends on how tasks are torn down.
    pub(super) async fn stop(mut self) -> (Recorder, Option<ProgramReport>, BTreeMap<String, u64>) {
        self.stack.heal();
        let program = match self.clients {
            Clients::Reference { stop, tasks } => {
                let _ = stop.send(true);
                let _ = tokio::time::timeout(DRAIN, async {
                    for task in tasks.into_iter().flatten() {
                        let _ = task.await;
                    }
                })
                .await;
                None
            }
            Clients::Programs(programs) => {
                let server_stop = match &self.scenario.upstream {
                    ServerUnderTest::Program(server) => Some(server.stop),
                    _ => None,
                };
                Some(programs.stop(server_stop).await)
            }
        };
        // What the echo server's capacity rules turned away (nothing for a server of the
        // user's own, which reports no counters).
        let turned_away = self.stack.shutdown().await.map(|stats| stats.turned_away).unwrap_or_default();
        (self.recorder, program, turned_away)
    }

    /// The strategy's figures, judged against the scenario's SLOs (and, for a client program,
    /// against its clients' early exits); `interrupted_at` (seconds from the start) when an
    /// interrupt cut it short, which makes its verdict `interrupted` whatever the figures say:
    /// they cover only part of the run.
    pub(super) fn report(
        recorder: Recorder,
        program: Option<ProgramReport>,
        scenario: &Scenario,
        entry: &MatrixEntry<'_>,
        interrupted_at: Option<f64>,
    ) -> StrategyReport {
        let label = (entry.name(), entry.describe());
        strategy_report(recorder, program, scenario, label, interrupted_at)
    }
}

/// Writes the `harness_error` event for `failure` and flushes the log, so events.jsonl ends
/// with what stopped the run; the run's error.
fn harness_failed(
    failure: HarnessError,
    origin: Instant,
    lines: &mut TaggedLines,
    log: &mut dyn EventLog,
) -> RunError {
    tracing::debug!(%failure, "the harness failed");
    // The run is over either way; a log that cannot take the line has said so already.
    let _ = lines.write_harness_error(&failure.component, &failure.cause, Instant::now() - origin, log);
    let _ = log.flush();
    RunError::Harness(failure)
}

/// Runs one strategy start to finish on the current runtime.
pub(super) async fn run_strategy(
    scenario: &Scenario,
    entry: MatrixEntry<'_>,
    seed: u64,
    transport: Transport,
    log: &mut dyn EventLog,
    watch: (&States, &Interrupt, &Progress, Option<&PathBuf>),
) -> Result<StrategyReport, RunError> {
    let (states, interrupt, progress, logs) = watch;
    let mut run = StrategyRun::start(scenario, entry.clone(), seed, transport, logs, interrupt).await?;
    let origin = run.span.origin;
    let recorded = run.record(log, states, interrupt, progress).await;
    let scenario = run.scenario.clone();
    let (recorder, program, turned_away) = run.stop().await;
    let cut = recorded?;
    log.flush()?;
    let interrupted_at = cut.map(|cut| (cut - origin).as_secs_f64());
    let mut report = StrategyRun::report(recorder, program, &scenario, &entry, interrupted_at);
    report.attempts_turned_away = turned_away;
    Ok(report)
}

#[cfg(test)]
mod tests;
