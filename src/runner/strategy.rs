//! One strategy of the matrix, start to finish, as named steps over one [`StrategyRun`]:
//! [`StrategyRun::start`] (the stack, the clients, the timeline), [`StrategyRun::record`] (every
//! event to the log and the recorder until the end of the quiet period), [`StrategyRun::stop`]
//! (heal, clients closing, proxy and server down) and [`StrategyRun::report`] (the recorder's
//! figures judged against the SLOs).

use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::log::{EventLog, TaggedLines};
use super::{Interrupt, Progress, RunError, Tick, Update};
use crate::client::{self, ClientConfig, ClientEvent, ClientEventKind, ClientSink, State};
use crate::net::Transport;
use crate::outcome::stats::stats;
use crate::outcome::{StrategyReport, Verdict, judge};
use crate::proxy::ProxyEvent;
use crate::recorder::{Recorded, Recorder, Span};
use crate::scenario::{ClientStrategy, Scenario};
use crate::stack::Stack;

/// How often (in run time) events.jsonl is flushed and progress is reported.
const TICK: Duration = Duration::from_millis(250);

/// How long stopping clients get to close their connections at the end.
const DRAIN: Duration = Duration::from_secs(2);

/// Every client's last state, by index, for the diagnosis of a stalled simulation.
pub(super) type States = Mutex<BTreeMap<u32, State>>;

/// One strategy's run in progress.
pub(super) struct StrategyRun<'a> {
    scenario: Scenario,
    strategy: &'a ClientStrategy,
    span: Span,
    stack: Stack,
    proxy_events: mpsc::UnboundedReceiver<ProxyEvent>,
    client_events: mpsc::UnboundedReceiver<ClientEvent>,
    stop_clients: watch::Sender<bool>,
    clients: Vec<JoinHandle<State>>,
    recorder: Recorder,
    /// Breaks the clients detected so far, for the progress line.
    incidents: u64,
}

impl<'a> StrategyRun<'a> {
    /// Starts the stack for `scenario` under `seed`, its clients under `strategy`, and the
    /// fault timeline; the run's clock starts now.
    pub(super) async fn start(
        scenario: &Scenario,
        strategy: &'a ClientStrategy,
        seed: u64,
        transport: Transport,
    ) -> io::Result<StrategyRun<'a>> {
        let scenario = Scenario { seed, ..scenario.clone() };
        let origin = Instant::now();
        let span =
            Span { origin, heal_at: scenario.duration, end_at: scenario.duration + scenario.quiet_period };
        let recorder = Recorder::new(span, scenario.clients.count, scenario.clients.workload.is_some());
        let mut stack = Stack::for_scenario(&transport, &scenario, seed).record_events().start().await?;
        let proxy_events = stack.take_events();

        let (sink, client_events) = ClientSink::channel();
        let (stop_clients, stopped) = client::stop_signal();
        let clients = (0..scenario.clients.count)
            .map(|index| {
                let config = ClientConfig::from_scenario(&scenario, strategy, index, stack.proxy_addr());
                tokio::spawn(client::run(config, transport.clone(), sink.clone(), stopped.clone(), origin))
            })
            .collect();
        stack.play(&scenario.faults, scenario.duration, origin);
        Ok(StrategyRun {
            scenario,
            strategy,
            span,
            stack,
            proxy_events,
            client_events,
            stop_clients,
            clients,
            recorder,
            incidents: 0,
        })
    }

    /// Takes every event into `log` and the recorder until the end of the quiet period or an
    /// interrupt, flushing the log and reporting progress every [`TICK`]. Returns when an
    /// interrupt cut the run short, having told the recorder.
    pub(super) async fn record(
        &mut self,
        log: &mut dyn EventLog,
        states: &States,
        interrupt: &Interrupt,
        progress: &Progress,
    ) -> io::Result<Option<Instant>> {
        let mut lines = TaggedLines::new(&self.strategy.strategy.name);
        let origin = self.span.origin;
        let deadline = origin + self.span.end_at;
        let mut next_tick = origin;
        while !interrupt.triggered() {
            // `biased`: a fixed polling order, so the sim engine interleaves the two sources
            // the same way every run (tokio otherwise picks a branch at random).
            let event = tokio::select! {
                biased;
                Some(event) = self.proxy_events.recv() => Recorded::Proxy(event),
                Some(event) = self.client_events.recv() => Recorded::Client(event),
                () = tokio::time::sleep_until(deadline.min(next_tick)) => {
                    log.flush()?;
                    if Instant::now() >= deadline {
                        break;
                    }
                    next_tick += TICK;
                    progress(Update::Tick(self.tick()));
                    continue;
                }
            };
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
    pub(super) async fn stop(mut self) -> Recorder {
        self.stack.heal();
        let _ = self.stop_clients.send(true);
        let clients = std::mem::take(&mut self.clients);
        let _ = tokio::time::timeout(DRAIN, async {
            for task in clients {
                let _ = task.await;
            }
        })
        .await;
        self.stack.shutdown().await;
        self.recorder
    }

    /// The strategy's figures, judged against the scenario's SLOs; `interrupted_at` (seconds
    /// from the start) when an interrupt cut it short, which makes its verdict `interrupted`
    /// whatever the figures say: they cover only part of the run.
    pub(super) fn report(
        recorder: Recorder,
        scenario: &Scenario,
        strategy: &ClientStrategy,
        interrupted_at: Option<f64>,
    ) -> StrategyReport {
        let output = recorder.finish();
        if output.late_events > 0 {
            tracing::warn!(
                late = output.late_events,
                "events arrived too far out of time order for the recorder's window and were taken as they came"
            );
        }
        let slo = judge::evaluate(&scenario.slo, &output.samples);
        let verdict = if interrupted_at.is_some() {
            Verdict::Interrupted
        } else {
            judge::verdict(&slo, &output.faults)
        };
        let recovery_time_us = output
            .samples
            .get("recovery_time")
            .map(|values| values.iter().map(|seconds| (seconds * 1e6).round().max(0.0) as u64).collect())
            .unwrap_or_default();
        StrategyReport {
            name: strategy.strategy.name.clone(),
            description: strategy.strategy.describe(),
            verdict,
            interrupted_at,
            metrics: judge::summaries(&output.samples),
            detect_time_by_reason: output
                .detect_by_reason
                .iter()
                .map(|(k, v)| (k.clone(), stats(v)))
                .collect(),
            messages: output.messages,
            attempts_total: output.attempts_total,
            peak_attempts_per_second: output.attempts_per_second.iter().copied().max().unwrap_or(0),
            attempts_per_second: output.attempts_per_second,
            gave_up: output.gave_up,
            unconverged: output.unconverged,
            faults: output.faults,
            slo,
            incidents: output.incidents,
            recovery_time_us,
        }
    }
}

/// Runs one strategy start to finish on the current runtime.
pub(super) async fn run_strategy(
    scenario: &Scenario,
    strategy: &ClientStrategy,
    seed: u64,
    transport: Transport,
    log: &mut dyn EventLog,
    watch: (&States, &Interrupt, &Progress),
) -> Result<StrategyReport, RunError> {
    let (states, interrupt, progress) = watch;
    let mut run = StrategyRun::start(scenario, strategy, seed, transport).await?;
    let origin = run.span.origin;
    let recorded = run.record(log, states, interrupt, progress).await;
    let scenario = run.scenario.clone();
    let recorder = run.stop().await;
    let cut = recorded?;
    log.flush()?;
    let interrupted_at = cut.map(|cut| (cut - origin).as_secs_f64());
    Ok(StrategyRun::report(recorder, &scenario, strategy, interrupted_at))
}
