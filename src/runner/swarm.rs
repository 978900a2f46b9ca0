//! A swarm: every seed of `--seeds A..B`, each with its own draw of the scenario's `swarm:`
//! ranges, run on the sim engine by a pool of worker threads.
//!
//! Each worker takes the next seed, draws its scenario, and runs it with [`run`] (fresh sim
//! runtimes, one per strategy, on the worker's own thread; events discarded). Results are
//! gathered by seed, so the report does not depend on how many workers there were or which
//! finished first. Ctrl-C stops workers from taking new seeds; a seed cut short is dropped,
//! and the report holds the seeds that finished, marked interrupted.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Interrupt, NoLog, RunError, RunOptions, run};
use crate::report::swarm::{self as report, SeedResult, SwarmHeader, SwarmReport};
use crate::scenario::{Engine, Scenario};

/// What a swarm runs.
#[derive(Clone, Debug)]
pub struct SwarmOptions {
    /// The scenario file as the user named it.
    pub file: String,
    /// The seeds, inclusive.
    pub seeds: RangeInclusive<u64>,
    /// Worker threads; at least 1, and never more than there are seeds.
    pub jobs: usize,
    /// Only these strategies of the matrix; all when empty.
    pub strategies: Vec<String>,
}

/// A seed's run that failed outright (a stalled simulation, say): a bug, not a verdict.
#[derive(Debug)]
pub struct SwarmError {
    /// The seed.
    pub seed: u64,
    /// Why its run failed.
    pub error: RunError,
}

impl fmt::Display for SwarmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed {}: {}", self.seed, self.error)
    }
}

impl std::error::Error for SwarmError {}

/// Runs every seed and returns the report. `finished` is called from the workers after each
/// seed, in whatever order they finish.
pub fn run_swarm(
    scenario: &Scenario,
    options: &SwarmOptions,
    interrupt: &Interrupt,
    finished: &(dyn Fn(&SeedResult) + Sync),
) -> Result<SwarmReport, SwarmError> {
    let strategies: Vec<String> = scenario
        .strategies
        .iter()
        .map(|s| s.strategy.name.clone())
        .filter(|name| options.strategies.is_empty() || options.strategies.contains(name))
        .collect();
    let header = SwarmHeader {
        scenario: scenario.name.clone(),
        file: options.file.clone(),
        seeds: (*options.seeds.start(), *options.seeds.end()),
        ranges: scenario
            .swarm
            .iter()
            .flat_map(|swarm| &swarm.keys)
            .map(|key| (key.path.clone(), key.range.to_string()))
            .collect(),
        strategies,
        workload: scenario.clients.workload.is_some(),
    };
    let next = Mutex::new(options.seeds.clone());
    let results = Mutex::new(BTreeMap::new());
    let failure = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let seeds = options.seeds.end().saturating_sub(*options.seeds.start()).saturating_add(1);
    let jobs = options.jobs.clamp(1, usize::try_from(seeds).unwrap_or(usize::MAX));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) && !interrupt.triggered() {
                    let Some(seed) = lock(&next).next() else { break };
                    match run_seed(scenario, options, seed, interrupt) {
                        Ok(Some(result)) => {
                            finished(&result);
                            lock(&results).insert(seed, result);
                        }
                        Ok(None) => {}
                        Err(error) => {
                            stop.store(true, Ordering::SeqCst);
                            lock(&failure).get_or_insert(SwarmError { seed, error });
                        }
                    }
                }
            });
        }
    });
    if let Some(error) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(report::assemble(header, results.into_values().collect(), interrupt.triggered()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One seed: its draw and its run; `None` when Ctrl-C cut the run short.
fn run_seed(
    scenario: &Scenario,
    options: &SwarmOptions,
    seed: u64,
    interrupt: &Interrupt,
) -> Result<Option<SeedResult>, RunError> {
    let (drawn_scenario, drawn) = match &scenario.swarm {
        None => (scenario.clone(), Vec::new()),
        Some(swarm) => match swarm.draw(seed) {
            Ok(drawn) => drawn,
            Err(invalid) => return Ok(Some(report::seed_invalid(seed, &invalid))),
        },
    };
    let run_options = RunOptions {
        file: options.file.clone(),
        engine: Engine::Sim,
        seed,
        strategies: options.strategies.clone(),
        logs: None,
    };
    let ran = run(&drawn_scenario, &run_options, &mut NoLog, interrupt, std::sync::Arc::new(|_| {}))?;
    Ok((!ran.interrupted).then(|| report::seed_ran(seed, &drawn, &ran)))
}
