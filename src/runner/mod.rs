//! One `wschaos run`: for each strategy of the matrix, an echo server, the proxy in front of it
//! and N reference clients on the chosen engine; the fault timeline, the heal at `duration`,
//! the quiet period; every event streamed to events.jsonl and into the recorder; then the
//! verdict. The sim engine runs each strategy on a fresh paused current-thread runtime over
//! the in-memory network, so the same seed gives the same bytes.

mod clients;
pub mod log;
pub mod preflight;
mod programs;
mod report;
mod strategy;
pub mod swarm;
pub mod watchdog;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use log::{CompareLog, CutBack, Difference, EventLog, FileLog, LogFailure, NoLog, TaggedLines};
pub use swarm::{SwarmError, SwarmOptions, run_swarm};
pub use watchdog::{SimRuntime, Stalled};

use crate::client::State;
use crate::net::Transport;
use crate::outcome::{RunReport, SCHEMA_VERSION, StrategyReport, Verdict};
use crate::scenario::{Engine, Scenario};
use crate::stack::HarnessError;
pub use report::strategy_report;
use strategy::{MatrixEntry, run_strategy};

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
    /// Where the logs of programs under test go (`clients/<index>.log`, `server.log`), if
    /// they are kept; the last lines of each are in the report either way.
    pub logs: Option<std::path::PathBuf>,
}

impl RunOptions {
    /// Every strategy of `scenario` on `engine` with the scenario's own seed; the report names
    /// the file as `<scenario name>.yaml`.
    pub fn for_scenario(scenario: &Scenario, engine: Engine) -> RunOptions {
        RunOptions {
            file: format!("{}.yaml", scenario.name),
            engine,
            seed: scenario.seed,
            strategies: Vec::new(),
            logs: None,
        }
    }
}

/// Why a run produced no report.
#[derive(Debug)]
pub enum RunError {
    /// Events could not be written, or a runtime could not be built.
    Io(io::Error),
    /// A program under test could not be started, or was not ready in time: what happened,
    /// naming the program.
    Program(String),
    /// The machine cannot give the run what it needs (file descriptors, memory): what it
    /// needs, what there is, and what to do. Nothing ran.
    Preflight(String),
    /// A part of wschaos itself failed (its echo server, its proxy, its fault timeline, a
    /// reference client's task): the run ends without a verdict, since what it measured so
    /// far says nothing about the client. events.jsonl ends with a `harness_error` event.
    Harness(HarnessError),
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
            RunError::Program(what) => write!(f, "{what}"),
            RunError::Harness(failure) => write!(f, "{failure}"),
            RunError::Preflight(what) => write!(f, "{what}"),
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
/// First checks that the machine can give the run what it needs ([`preflight::check`]),
/// raising the process's soft open-file limit for a live run when it is too low.
pub fn run(
    scenario: &Scenario,
    options: &RunOptions,
    events: &mut dyn EventLog,
    interrupt: &Interrupt,
    progress: Progress,
) -> Result<RunReport, RunError> {
    preflight::check(scenario, options.engine).map_err(|refused| RunError::Preflight(refused.0))?;
    let mut strategies = Vec::new();
    // Whether an interrupt cut a strategy short or kept one from starting.
    let mut cut_short = false;
    let matrix: Vec<MatrixEntry<'_>> = match &scenario.program {
        Some(program) => program.matrix().into_iter().map(MatrixEntry::Program).collect(),
        None => scenario.strategies.iter().map(MatrixEntry::Reference).collect(),
    };
    for entry in matrix
        .into_iter()
        .filter(|entry| options.strategies.is_empty() || options.strategies.iter().any(|n| n == entry.name()))
    {
        if interrupt.triggered() {
            cut_short = true;
            break;
        }
        progress(Update::Strategy { name: entry.name().to_string(), description: entry.describe() });
        let states = Mutex::new(BTreeMap::new());
        let logs = match (&options.logs, scenario.program.as_ref().map(|p| p.matrix().len())) {
            (Some(folder), Some(entries)) if entries > 1 => Some(folder.join(entry.name())),
            (logs, _) => logs.clone(),
        };
        let watch = (&states, interrupt, &progress, logs.as_ref());
        let name = entry.name().to_string();
        let report = match options.engine {
            Engine::Sim => {
                let runtime = SimRuntime::new()?;
                let run = run_strategy(scenario, entry, options.seed, Transport::sim(), &mut *events, watch);
                runtime.run(run).unwrap_or_else(|Stalled { after }| {
                    let clients =
                        states.lock().unwrap_or_else(|p| p.into_inner()).clone().into_iter().collect();
                    Err(RunError::Stalled { strategy: name, at: after, clients })
                })?
            }
            Engine::Live => tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(
                run_strategy(scenario, entry, options.seed, Transport::Live, &mut *events, watch),
            )?,
        };
        progress(Update::Done { name: report.name.clone(), verdict: report.verdict });
        cut_short |= report.verdict == Verdict::Interrupted;
        strategies.push(report);
    }
    events.flush()?;
    // An interrupt that comes after the last strategy ended cuts nothing: the run is whole.
    Ok(run_report(scenario, options, strategies, cut_short))
}

/// The run's report over its strategies' reports: the verdict is the worst of theirs, or
/// `interrupted` when the run was cut short.
pub fn run_report(
    scenario: &Scenario,
    options: &RunOptions,
    strategies: Vec<StrategyReport>,
    interrupted: bool,
) -> RunReport {
    let verdict = if interrupted {
        Verdict::Interrupted
    } else {
        strategies.iter().map(|s| s.verdict).max().unwrap_or(Verdict::Pass)
    };
    RunReport {
        schema_version: SCHEMA_VERSION,
        wschaos_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: scenario.name.clone(),
        file: options.file.clone(),
        description: scenario.description.clone(),
        engine: options.engine.name().to_string(),
        seed: options.seed,
        swarm_draw: BTreeMap::new(),
        duration: scenario.duration.as_secs_f64(),
        quiet_period: scenario.quiet_period.as_secs_f64(),
        clients: scenario.clients.count,
        interrupted,
        verdict,
        strategies,
    }
}
