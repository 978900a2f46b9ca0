//! `wschaos run`: load the scenario and check the flags against it ([`plan`]), run it (twice
//! with `--check-determinism`), write the reports, print the summary, and turn the verdict
//! into the exit code. `--seeds N` runs seed N's draw of the `swarm:` ranges here; a range of
//! seeds is swarm.rs's.

use std::path::{Path, PathBuf};

use super::args::{EngineArg, RunArgs};
use super::github::report_to_github;
use super::input::load_scenario;
use super::output::{prepare_out_dir, print, print_written, terminal_bar};
use super::signals::{self, Stopped};
use super::swarm::{self, Seeds};
use crate::Exit;
use crate::outcome::{RunReport, Verdict};
use crate::report;
use crate::runner::{self, CompareLog, Difference, EventLog, FileLog, RunError, RunOptions};
use crate::scenario::swarm::Drawn;
use crate::scenario::{self, Engine, Scenario};

/// A run the flags and the scenario agree on.
struct Plan {
    scenario: Scenario,
    /// What a `--seeds N` run drew; empty otherwise.
    drawn: Vec<Drawn>,
    options: RunOptions,
    out: PathBuf,
    check_determinism: bool,
}

/// What the command line asks for.
enum Next {
    /// One run (of a scenario, or of one seed's draw).
    Run(Box<Plan>),
    /// A swarm over a range of seeds.
    Swarm {
        scenario: Box<Scenario>,
        file: PathBuf,
        seeds: Seeds,
        jobs: Option<u16>,
        strategies: Vec<String>,
        out: Option<PathBuf>,
    },
}

/// `wschaos run`.
pub(super) fn run(args: RunArgs) -> Exit {
    let plan = match plan(args) {
        Ok(Next::Run(plan)) => plan,
        Ok(Next::Swarm { scenario, file, seeds, jobs, strategies, out }) => {
            return swarm::run(&scenario, &file, seeds, jobs, strategies, out);
        }
        Err(exit) => return exit,
    };
    let names = plan.scenario.matrix_names();
    let strategies: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| {
            plan.options.strategies.is_empty() || plan.options.strategies.iter().any(|n| n == name)
        })
        .collect();
    let files: Vec<String> =
        std::iter::once(EVENTS.to_string()).chain(report::file_names(&strategies)).collect();
    if let Err(exit) = prepare_out_dir(&plan.out, &files) {
        return exit;
    }
    let repro = repro_line(&plan.options, !plan.drawn.is_empty());
    if plan.check_determinism {
        say!("checking determinism: two runs with seed {}; repro: {repro}", plan.options.seed);
    }
    let interrupt = runner::Interrupt::default();
    let stopped = interrupt_on_signal(
        &interrupt,
        "stopping the faults, letting clients drain, writing what was recorded",
    );
    let events_path = plan.out.join(EVENTS);
    let (mut report, log_failure) = match run_once(&plan, &events_path, &interrupt) {
        Ok(ran) => ran,
        Err(exit) => return exit,
    };
    if plan.check_determinism && !interrupt.triggered() {
        if log_failure.is_some() {
            say!("determinism not checked: the first run's events.jsonl is incomplete");
        } else if let Err(exit) = check_determinism(&plan, &report, &events_path, &interrupt, &repro) {
            return exit;
        }
    }
    report.swarm_draw = plan.drawn.iter().map(|d| (d.path.clone(), d.value.clone())).collect();
    finish(&report, &plan.out, &stopped, log_failure)
}

/// The event log's file name in the report folder.
const EVENTS: &str = "events.jsonl";

/// Loads the scenario and checks the flags against it and each other.
fn plan(args: RunArgs) -> Result<Next, Exit> {
    let RunArgs { file, engine, seed, seeds, jobs, strategy: strategies, out, check_determinism } = args;
    let engine_flag = engine.map(|engine| match engine {
        EngineArg::Live => Engine::Live,
        EngineArg::Sim => Engine::Sim,
    });
    let scenario = load_scenario(&file, engine_flag).map_err(|error| {
        say!("{error}");
        Exit::BadInput
    })?;
    let names = scenario.matrix_names();
    for name in &strategies {
        if !names.contains(name) {
            return Err(usage(&format!(
                "--strategy {name}: the scenario has no strategy `{name}`; it has {}",
                names.join(", ")
            )));
        }
    }
    let engine = match engine {
        Some(EngineArg::Live) => Engine::Live,
        Some(EngineArg::Sim) => Engine::Sim,
        None => scenario.engine,
    };
    if check_determinism && engine != Engine::Sim {
        return Err(usage(
            "--check-determinism needs the sim engine (add --engine sim): a live run depends on the machine",
        ));
    }
    if seeds.is_some() && engine != Engine::Sim {
        return Err(usage(
            "--seeds runs on the sim engine only (add --engine sim): a swarm needs runs that the seed alone decides",
        ));
    }
    let (scenario, drawn) = match seeds {
        Some(seeds) if seeds.first != seeds.last => {
            if check_determinism {
                return Err(usage(
                    "--check-determinism repeats one run; give it a single seed (--seeds N) rather than a range",
                ));
            }
            return Ok(Next::Swarm { scenario: Box::new(scenario), file, seeds, jobs, strategies, out });
        }
        Some(seeds) => draw(&scenario, seeds.first)?,
        None => {
            if scenario.swarm.is_some() {
                say!(
                    "note: the swarm section applies only with --seeds; this run uses the file's own values"
                );
            }
            (scenario, Vec::new())
        }
    };
    let seed = seeds.map(|seeds| seeds.first).or(seed).unwrap_or(scenario.seed);
    let out = out.unwrap_or_else(|| Path::new("reports").join(&scenario.name));
    let logs = scenario.program.is_some().then(|| out.clone());
    let options = RunOptions { file: file.display().to_string(), engine, seed, strategies, logs };
    Ok(Next::Run(Box::new(Plan { scenario, drawn, options, out, check_determinism })))
}

/// A usage error: the message, exit 2.
fn usage(message: &str) -> Exit {
    say!("error: {message}");
    Exit::BadInput
}

/// Runs the plan once, writing events.jsonl; returns the report and, if events.jsonl could not
/// be written whole, why (the run goes on without it).
fn run_once(
    plan: &Plan,
    events_path: &Path,
    interrupt: &runner::Interrupt,
) -> Result<(RunReport, Option<String>), Exit> {
    let mut log = FileLog::create(events_path).map_err(|error| {
        say!("error: {error}");
        Exit::IoError
    })?;
    let report = runner::run(&plan.scenario, &plan.options, &mut log, interrupt, progress_display())
        .map_err(|error| run_failed(&error))?;
    let _ = log.flush();
    Ok((report, log.failure().map(ToString::to_string)))
}

/// Runs the plan again, comparing its events with the first run's events.jsonl as they come
/// and its report.json with the first one's; exit 4 at the first difference.
fn check_determinism(
    plan: &Plan,
    first: &RunReport,
    events_path: &Path,
    interrupt: &runner::Interrupt,
    repro: &str,
) -> Result<(), Exit> {
    let second = CompareLog::open(events_path).map_err(RunError::Io).and_then(|mut log| {
        let report = runner::run(&plan.scenario, &plan.options, &mut log, interrupt, progress_display())?;
        Ok((report, log.finish()?))
    });
    match second {
        Err(error) => Err(run_failed(&error)),
        Ok(_) if interrupt.triggered() => Ok(()),
        Ok((_, Some(difference))) => Err(nondeterministic(&difference, events_path, repro)),
        Ok((again, None)) if report::json::render(&again) != report::json::render(first) => {
            say!("non-determinism: the events matched but report.json differs");
            say!("seed {} · repro: {repro}", plan.options.seed);
            Err(Exit::NonDeterministic)
        }
        Ok((again, None)) if report::html::render(&again) != report::html::render(first) => {
            say!("non-determinism: the events and report.json matched but report.html differs");
            say!("seed {} · repro: {repro}", plan.options.seed);
            Err(Exit::NonDeterministic)
        }
        Ok(_) => {
            say!("deterministic: both runs gave the same events, report.json and report.html");
            Ok(())
        }
    }
}

/// Seed `seed`'s draw of the scenario's `swarm:` ranges (the scenario itself without any),
/// printed first; an invalid draw is a failed seed.
fn draw(scenario: &Scenario, seed: u64) -> Result<(Scenario, Vec<Drawn>), Exit> {
    let Some(swarm) = &scenario.swarm else {
        return Ok((scenario.clone(), Vec::new()));
    };
    match swarm.draw(seed) {
        Ok((drawn_scenario, drawn)) => {
            say!("seed {seed} draws {}", scenario::swarm::describe(&drawn));
            Ok((drawn_scenario, drawn))
        }
        Err(invalid) => {
            say!("seed {seed}: {invalid}");
            Err(Exit::SloFailed)
        }
    }
}

/// The command that repeats this run: `--seeds` for a swarm seed's draw.
fn repro_line(options: &RunOptions, drawn: bool) -> String {
    let strategies: Vec<&str> = options.strategies.iter().map(String::as_str).collect();
    if drawn {
        return report::swarm_repro_command(&options.file, options.seed, &strategies);
    }
    report::repro_command(&options.file, options.engine.name(), options.seed, &strategies)
}

fn run_failed(error: &RunError) -> Exit {
    if let RunError::Preflight(what) = error {
        say!("error: {what}");
        return Exit::BadInput;
    }
    match error {
        RunError::Program(what) => say!("error: the program under test could not run: {what}"),
        RunError::Harness(failure) => say!(
            "error: wschaos itself failed, not the client under test: its {} {}; the run has no verdict (events.jsonl ends with the harness_error event)",
            failure.component,
            failure.cause
        ),
        _ => say!("error: the run failed: {error}"),
    }
    Exit::Internal
}

/// Reports the first event where the two runs parted, with the seed and the repro line.
fn nondeterministic(difference: &Difference, events: &Path, repro: &str) -> Exit {
    let show = |line: &Option<String>| line.clone().unwrap_or_else(|| "(no more events)".to_string());
    say!("non-determinism: the runs differ at event {} of {}", difference.line, events.display());
    say!("  first run:  {}", show(&difference.first));
    say!("  second run: {}", show(&difference.second));
    say!("repro: {repro} --check-determinism");
    Exit::NonDeterministic
}

/// Writes the reports, prints the summary and maps the verdict to the exit code (an interrupted
/// run's is the signal's). The summary is printed whatever happened to the files; a file that
/// could not be written (or events.jsonl cut short, `log_failure`) is named, and is exit 74.
pub(super) fn finish(report: &RunReport, out: &Path, stopped: &Stopped, log_failure: Option<String>) -> Exit {
    let written = report::write_all(report, out);
    let printed = print(report::markdown::render(report));
    if !written.paths.is_empty() {
        print_written(&written.paths);
    }
    let mut output_failed = false;
    for failure in log_failure.into_iter().chain(written.failed.iter().map(ToString::to_string)) {
        say!("error: {failure}");
        output_failed = true;
    }
    let github = report_to_github(report);
    if output_failed {
        return Exit::IoError;
    }
    match printed.and(github) {
        Ok(()) => exit_for(report.verdict, stopped),
        Err(exit) => exit,
    }
}

/// The exit code of a verdict; an interrupted one's is 128 + the signal that stopped it.
pub(super) fn exit_for(verdict: Verdict, stopped: &Stopped) -> Exit {
    match verdict {
        Verdict::Pass => Exit::Ok,
        Verdict::Fail => Exit::SloFailed,
        Verdict::Inconclusive => Exit::Inconclusive,
        Verdict::Interrupted => stopped.exit(),
    }
}

/// Draws the run's progress on stderr: a live line (indicatif) on a terminal, plain lines every
/// 10 s of run time otherwise (CI logs).
fn progress_display() -> runner::Progress {
    use std::sync::Mutex;

    let bar: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);
    let last_line = Mutex::new(0u64);
    std::sync::Arc::new(move |update| {
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match update {
            runner::Update::Strategy { name, description } => {
                *bar = terminal_bar("{prefix} {bar:30} {msg}", 0).map(|new| new.with_prefix(name.clone()));
                if bar.is_none() {
                    say!("strategy {name}: {description}");
                    *last_line.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = 0;
                }
            }
            runner::Update::Tick(tick) => {
                let text = format!(
                    "{:.0}s / {:.0}s · {} links open · {} faults active · {} incidents",
                    tick.elapsed.as_secs_f64(),
                    tick.total.as_secs_f64(),
                    tick.links,
                    tick.active_faults,
                    tick.incidents
                );
                if let Some(bar) = bar.as_ref() {
                    bar.set_length(tick.total.as_millis() as u64);
                    bar.set_position(tick.elapsed.as_millis() as u64);
                    bar.set_message(text);
                } else {
                    let mut last = last_line.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    let ten_seconds = tick.elapsed.as_secs() / 10;
                    if ten_seconds > *last {
                        *last = ten_seconds;
                        say!("  {text}");
                    }
                }
            }
            runner::Update::Done { name, verdict } => {
                if let Some(bar) = bar.take() {
                    bar.finish_and_clear();
                }
                say!("strategy {name}: {}", report::verdict_word(verdict));
            }
        }
    })
}

/// Triggers `interrupt` at the first SIGINT, SIGTERM or SIGHUP, saying `what_now`; a second
/// signal exits at once.
pub(super) fn interrupt_on_signal(interrupt: &runner::Interrupt, what_now: &'static str) -> Stopped {
    let interrupt = interrupt.clone();
    signals::watch(move |signal| {
        say!("interrupted by {}: {what_now}; a second signal exits at once", signal.name());
        interrupt.trigger();
    })
}
