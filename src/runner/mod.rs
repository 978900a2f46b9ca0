//! One `wschaos run`: for each strategy of the matrix, an echo server, the proxy in front of it
//! and N reference clients on the chosen engine; the fault timeline, the heal at `duration`,
//! the quiet period; every event streamed to events.jsonl and into the recorder; then the
//! verdict. The sim engine runs each strategy on a fresh paused current-thread runtime over
//! the in-memory network, so the same seed gives the same bytes.

pub mod log;
pub mod swarm;
pub mod verdict;
pub mod watchdog;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

pub use log::{CompareLog, Difference, EventLog, FileLog, NoLog, TaggedLines};
pub use swarm::{SwarmError, SwarmOptions, run_swarm};
pub use watchdog::{SimRuntime, Stalled};

use crate::client::{self, ClientConfig, ClientSink, State};
use crate::net::{Transport, any_loopback};
use crate::proxy::{Control, EventSink, Proxy, timeline};
use crate::recorder::{Recorded, Recorder, Span};
use crate::report::model::{RunReport, SCHEMA_VERSION, StrategyReport, Verdict};
use crate::scenario::{ClientStrategy, Engine, Scenario};
use crate::seeds;
use crate::server::Server;

/// How often (in run time) events.jsonl is flushed and progress is reported.
const TICK: Duration = Duration::from_millis(250);

/// How long stopping clients get to close their connections at the end.
const DRAIN: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The scenario file as the user named it (for the report and the repro line).
    pub file: String,
    /// The engine.
    pub engine: Engine,
    /// The seed.
    pub seed: u64,
    /// Only these strategies of the matrix; all when empty.
    pub strategies: Vec<String>,
}

/// Why a run produced no report.
#[derive(Debug)]
pub enum RunError {
    /// Events could not be written, or a runtime could not be built.
    Io(io::Error),
    /// The simulated system stopped: every task waited and no timer was pending.
    Stalled {
        /// The strategy being run.
        strategy: String,
        /// Run time at the stall.
        at: Duration,
        /// Every client's last state, by index.
        clients: Vec<(u32, State)>,
    },
}

impl From<io::Error> for RunError {
    fn from(error: io::Error) -> RunError {
        RunError::Io(error)
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Io(error) => write!(f, "{error}"),
            RunError::Stalled { strategy, at, clients } => {
                writeln!(
                    f,
                    "the simulation stalled at {:.3}s of strategy {strategy}: every task waits and no timer is pending",
                    at.as_secs_f64()
                )?;
                let mut by_state: BTreeMap<String, Vec<u32>> = BTreeMap::new();
                for (client, state) in clients {
                    by_state.entry(state.to_string()).or_default().push(*client);
                }
                for (state, indices) in by_state {
                    let list: Vec<String> = indices.iter().map(u32::to_string).collect();
                    writeln!(f, "  {state}: clients {}", list.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for RunError {}

/// Set from outside (Ctrl-C) to stop the run early; the report is then marked interrupted.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Asks the run to stop.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether it was asked to stop.
    pub fn triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the runner reports while it runs, for a progress display.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// A strategy of the matrix starts.
    Strategy {
        /// Its name.
        name: String,
        /// Its formula.
        description: String,
    },
    /// A few times per (run) second.
    Tick(Tick),
    /// A strategy finished.
    Done {
        /// Its name.
        name: String,
        /// Its verdict.
        verdict: Verdict,
    },
}

/// Where a strategy's run stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tick {
    /// Run time so far.
    pub elapsed: Duration,
    /// Duration plus quiet period.
    pub total: Duration,
    /// Links open at the proxy.
    pub links: usize,
    /// Faults active now.
    pub active_faults: usize,
    /// Breaks clients have detected so far.
    pub incidents: u64,
}

/// Receives progress updates (the command line draws them).
pub type Progress = Arc<dyn Fn(Update) + Send + Sync>;

/// Runs every selected strategy, sending every event line to `events`, and returns the report.
pub fn run(
    scenario: &Scenario,
    options: &RunOptions,
    events: &mut dyn EventLog,
    interrupt: &Interrupt,
    progress: Progress,
) -> Result<RunReport, RunError> {
    let mut strategies = Vec::new();
    for strategy in scenario
        .strategies
        .iter()
        .filter(|s| options.strategies.is_empty() || options.strategies.contains(&s.strategy.name))
    {
        if interrupt.triggered() {
            break;
        }
        progress(Update::Strategy {
            name: strategy.strategy.name.clone(),
            description: strategy.strategy.describe(),
        });
        let states = Mutex::new(BTreeMap::new());
        let report = match options.engine {
            Engine::Sim => {
                let runtime = SimRuntime::new()?;
                let run = run_strategy(
                    scenario,
                    strategy,
                    options.seed,
                    Transport::sim(),
                    &mut *events,
                    &states,
                    interrupt,
                    progress.clone(),
                );
                runtime.run(run).unwrap_or_else(|Stalled { after }| {
                    let clients =
                        states.lock().unwrap_or_else(|p| p.into_inner()).clone().into_iter().collect();
                    Err(RunError::Stalled { strategy: strategy.strategy.name.clone(), at: after, clients })
                })?
            }
            Engine::Live => {
                tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run_strategy(
                    scenario,
                    strategy,
                    options.seed,
                    Transport::Live,
                    &mut *events,
                    &states,
                    interrupt,
                    progress.clone(),
                ))?
            }
        };
        progress(Update::Done { name: report.name.clone(), verdict: report.verdict });
        strategies.push(report);
    }
    events.flush()?;
    let interrupted = interrupt.triggered();
    let verdict = if interrupted {
        Verdict::Interrupted
    } else {
        strategies.iter().map(|s| s.verdict).max_by_key(|v| severity(*v)).unwrap_or(Verdict::Pass)
    };
    Ok(RunReport {
        schema_version: SCHEMA_VERSION,
        wschaos_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: scenario.name.clone(),
        file: options.file.clone(),
        description: scenario.description.clone(),
        engine: match options.engine {
            Engine::Sim => "sim",
            Engine::Live => "live",
        }
        .to_string(),
        seed: options.seed,
        swarm_draw: BTreeMap::new(),
        duration: scenario.duration.as_secs_f64(),
        quiet_period: scenario.quiet_period.as_secs_f64(),
        clients: scenario.clients.count,
        interrupted,
        verdict,
        strategies,
    })
}

/// Failure outranks inconclusive outranks pass.
fn severity(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Pass => 0,
        Verdict::Inconclusive => 1,
        Verdict::Fail => 2,
        Verdict::Interrupted => 3,
    }
}

/// One strategy of the matrix, start to finish. `states` keeps every client's last state, for
/// the diagnosis of a stalled simulation.
#[allow(clippy::too_many_arguments)]
async fn run_strategy(
    scenario: &Scenario,
    strategy: &ClientStrategy,
    seed: u64,
    transport: Transport,
    events_out: &mut dyn EventLog,
    states: &Mutex<BTreeMap<u32, State>>,
    interrupt: &Interrupt,
    progress: Progress,
) -> Result<StrategyReport, RunError> {
    let scenario = Scenario { seed, ..scenario.clone() };
    let origin = Instant::now();
    let end_at = scenario.duration + scenario.quiet_period;
    let span = Span { origin, heal_at: scenario.duration, end_at };
    let workload = scenario.clients.workload.is_some();
    let mut recorder = Recorder::new(span, scenario.clients.count, workload);

    let listener = transport.bind(any_loopback()).await?;
    let server_addr = listener.local_addr()?;
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = Server::new(scenario.server.clone(), seeds::derive(seed, &[seeds::SERVER]));
    let server_task = tokio::spawn(server.serve(listener, async {
        let _ = server_stopped.await;
    }));

    let (proxy_sink, mut proxy_events) = EventSink::channel();
    let control = Control::new(seed, scenario.clients.count, proxy_sink);
    let proxy = Proxy::bind(&transport, any_loopback(), server_addr, control.clone()).await?;
    let proxy_addr = proxy.local_addr()?;
    let (stop_proxy, proxy_stopped) = tokio::sync::oneshot::channel::<()>();
    let proxy_task = tokio::spawn(proxy.run(async {
        let _ = proxy_stopped.await;
    }));

    let (client_sink, mut client_events) = ClientSink::channel();
    let (stop_clients, clients_stopped) = client::stop_signal();
    let mut clients = Vec::new();
    for index in 0..scenario.clients.count {
        let config = ClientConfig::from_scenario(&scenario, strategy, index, proxy_addr);
        let task =
            client::run(config, transport.clone(), client_sink.clone(), clients_stopped.clone(), origin);
        clients.push(tokio::spawn(task));
    }
    drop(client_sink);

    let steps = timeline::schedule(&scenario.faults, scenario.duration, seed);
    let player = {
        let (control, faults, duration) = (control.clone(), scenario.faults.clone(), scenario.duration);
        tokio::spawn(async move { timeline::play(&faults, &steps, &control, origin, duration).await })
    };

    let mut lines = TaggedLines::new(&strategy.strategy.name);
    let incidents = std::cell::Cell::new(0u64);
    let mut write = |event: Recorded, out: &mut dyn EventLog| -> io::Result<()> {
        match &event {
            Recorded::Client(client::ClientEvent { kind: client::ClientEventKind::Detected(_), .. }) => {
                incidents.set(incidents.get() + 1);
            }
            Recorded::Client(client::ClientEvent {
                kind: client::ClientEventKind::State(state),
                client,
                ..
            }) => {
                states.lock().unwrap_or_else(|p| p.into_inner()).insert(*client, *state);
            }
            _ => {}
        }
        lines.write(&event, origin, out)?;
        recorder.record(event);
        Ok(())
    };

    // Record until the end of the quiet period, or an interrupt.
    let deadline = origin + end_at;
    let mut next_tick = origin;
    loop {
        if interrupt.triggered() {
            break;
        }
        let tick = deadline.min(next_tick);
        // `biased`: a fixed polling order, so the sim engine interleaves the two sources the
        // same way every run (tokio otherwise picks a branch at random).
        tokio::select! {
            biased;
            Some(event) = proxy_events.recv() => write(Recorded::Proxy(event), events_out)?,
            Some(event) = client_events.recv() => write(Recorded::Client(event), events_out)?,
            () = tokio::time::sleep_until(tick) => {
                events_out.flush()?;
                if Instant::now() >= deadline {
                    break;
                }
                next_tick += TICK;
                let update = Tick {
                    elapsed: Instant::now() - origin,
                    total: end_at,
                    links: control.open_links(),
                    active_faults: control.active().len(),
                    incidents: incidents.get(),
                };
                progress(Update::Tick(update));
            }
        }
    }

    // Heal, stop the clients (they close), then the proxy and the server.
    player.abort();
    control.heal();
    let _ = stop_clients.send(true);
    let _ = tokio::time::timeout(DRAIN, async {
        for task in clients {
            let _ = task.await;
        }
    })
    .await;
    let _ = stop_proxy.send(());
    let _ = stop_server.send(());
    let _ = proxy_task.await;
    let _ = tokio::time::timeout(DRAIN, server_task).await;
    // What the teardown itself reports (links closing as clients stop) is not part of the run:
    // it happens after the quiet period, and its order depends on how tasks are torn down.
    events_out.flush()?;

    let output = recorder.finish();
    if output.late_events > 0 {
        tracing::warn!(
            late = output.late_events,
            "events arrived too far out of time order for the recorder's window and were taken as they came"
        );
    }
    let slo = verdict::evaluate(&scenario.slo, &output);
    let verdict = verdict::verdict(&slo, &output);
    let recovery_time_us = output
        .samples
        .get("recovery_time")
        .map(|values| values.iter().map(|seconds| (seconds * 1e6).round().max(0.0) as u64).collect())
        .unwrap_or_default();
    Ok(StrategyReport {
        name: strategy.strategy.name.clone(),
        description: strategy.strategy.describe(),
        verdict,
        metrics: verdict::summaries(&output),
        detect_time_by_reason: output
            .detect_by_reason
            .iter()
            .map(|(k, v)| (k.clone(), verdict::stats(v)))
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
    })
}
