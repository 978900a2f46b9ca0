//! `wschaos run`: load the scenario, run it (twice with `--check-determinism`), write the
//! reports, print the summary, and turn the verdict into the exit code. `--seeds N` runs seed
//! N's draw of the `swarm:` ranges here; a range of seeds is swarm.rs's.

use std::io::Write;
use std::path::Path;

use super::{EngineArg, RunArgs};
use crate::Exit;
use crate::report::{self, Verdict};
use crate::runner::{self, CompareLog, Difference, EventLog, FileLog, RunError};
use crate::scenario::swarm::Drawn;
use crate::scenario::{self, Scenario};

/// `wschaos run`.
pub(super) fn run(args: RunArgs) -> Exit {
    let RunArgs { file, engine, seed, seeds, jobs, strategy: strategies, out, check_determinism } = args;
    let scenario = match Scenario::load(&file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("{error}");
            return Exit::BadInput;
        }
    };
    for name in &strategies {
        if !scenario.strategies.iter().any(|s| &s.strategy.name == name) {
            let names: Vec<&str> = scenario.strategies.iter().map(|s| s.strategy.name.as_str()).collect();
            eprintln!(
                "error: --strategy {name}: the scenario has no strategy `{name}`; it has {}",
                names.join(", ")
            );
            return Exit::BadInput;
        }
    }
    let engine = match engine {
        Some(EngineArg::Live) => scenario::Engine::Live,
        Some(EngineArg::Sim) => scenario::Engine::Sim,
        None => scenario.engine,
    };
    if check_determinism && engine != scenario::Engine::Sim {
        eprintln!(
            "error: --check-determinism needs the sim engine (add --engine sim): a live run depends on the machine"
        );
        return Exit::BadInput;
    }
    if seeds.is_some() && engine != scenario::Engine::Sim {
        eprintln!(
            "error: --seeds runs on the sim engine only (add --engine sim): a swarm needs runs that the seed alone decides"
        );
        return Exit::BadInput;
    }
    let (scenario, drawn) = match seeds {
        Some(seeds) if seeds.first != seeds.last => {
            if check_determinism {
                eprintln!(
                    "error: --check-determinism repeats one run; give it a single seed (--seeds N) rather than a range"
                );
                return Exit::BadInput;
            }
            return super::swarm::run(&scenario, &file, seeds, jobs, strategies, out);
        }
        Some(seeds) => match draw(&scenario, seeds.first) {
            Ok(drawn) => drawn,
            Err(exit) => return exit,
        },
        None => {
            if scenario.swarm.is_some() {
                eprintln!(
                    "note: the swarm section applies only with --seeds; this run uses the file's own values"
                );
            }
            (scenario, Vec::new())
        }
    };
    let seed = seeds.map(|seeds| seeds.first).or(seed);
    let out = out.unwrap_or_else(|| Path::new("reports").join(&scenario.name));
    if let Err(error) = std::fs::create_dir_all(&out) {
        eprintln!("error: --out {}: cannot create it: {error}", out.display());
        return Exit::BadInput;
    }
    let options = runner::RunOptions {
        file: file.display().to_string(),
        engine,
        seed: seed.unwrap_or(scenario.seed),
        strategies,
    };
    let repro = repro_line(&options, !drawn.is_empty());
    if check_determinism {
        eprintln!("checking determinism: two runs with seed {}; repro: {repro}", options.seed);
    }
    let interrupt = runner::Interrupt::default();
    watch_ctrl_c(interrupt.clone(), "stopping the faults, letting clients drain, writing what was recorded");
    let events_path = out.join("events.jsonl");
    let first = FileLog::create(&events_path).map_err(RunError::Io).and_then(|mut log| {
        let report = runner::run(&scenario, &options, &mut log, &interrupt, progress_display());
        log.flush()?;
        report
    });
    let mut report = match first {
        Ok(report) => report,
        Err(error) => return run_failed(&error),
    };
    if check_determinism && !interrupt.triggered() {
        let second = CompareLog::open(&events_path).map_err(RunError::Io).and_then(|mut log| {
            let report = runner::run(&scenario, &options, &mut log, &interrupt, progress_display())?;
            Ok((report, log.finish()?))
        });
        match second {
            Err(error) => return run_failed(&error),
            Ok(_) if interrupt.triggered() => {}
            Ok((_, Some(difference))) => return nondeterministic(&difference, &events_path, &repro),
            Ok((again, None)) => {
                if report::json::render(&again) != report::json::render(&report) {
                    eprintln!("non-determinism: the events matched but report.json differs");
                    eprintln!("seed {} · repro: {repro}", options.seed);
                    return Exit::NonDeterministic;
                }
                eprintln!("deterministic: both runs gave the same events and the same report");
            }
        }
    }
    report.swarm_draw = drawn.into_iter().map(|d| (d.path, d.value)).collect();
    finish(&report, &out)
}

/// Seed `seed`'s draw of the scenario's `swarm:` ranges (the scenario itself without any),
/// printed first; an invalid draw is a failed seed.
fn draw(scenario: &Scenario, seed: u64) -> Result<(Scenario, Vec<Drawn>), Exit> {
    let Some(swarm) = &scenario.swarm else {
        return Ok((scenario.clone(), Vec::new()));
    };
    match swarm.draw(seed) {
        Ok((drawn_scenario, drawn)) => {
            eprintln!("seed {seed} draws {}", scenario::swarm::describe(&drawn));
            Ok((drawn_scenario, drawn))
        }
        Err(invalid) => {
            eprintln!("seed {seed}: {invalid}");
            Err(Exit::SloFailed)
        }
    }
}

/// The command that repeats this run: `--seeds` for a swarm seed's draw.
fn repro_line(options: &runner::RunOptions, drawn: bool) -> String {
    let strategies: Vec<&str> = options.strategies.iter().map(String::as_str).collect();
    if drawn {
        return report::swarm_repro_command(&options.file, options.seed, &strategies);
    }
    let engine = match options.engine {
        scenario::Engine::Sim => "sim",
        scenario::Engine::Live => "live",
    };
    report::repro_command(&options.file, engine, options.seed, &strategies)
}

fn run_failed(error: &RunError) -> Exit {
    eprintln!("error: the run failed: {error}");
    Exit::Internal
}

/// Reports the first event where the two runs parted, with the seed and the repro line.
fn nondeterministic(difference: &Difference, events: &Path, repro: &str) -> Exit {
    let show = |line: &Option<String>| line.clone().unwrap_or_else(|| "(no more events)".to_string());
    eprintln!("non-determinism: the runs differ at event {} of {}", difference.line, events.display());
    eprintln!("  first run:  {}", show(&difference.first));
    eprintln!("  second run: {}", show(&difference.second));
    eprintln!("repro: {repro} --check-determinism");
    Exit::NonDeterministic
}

/// Writes the reports, prints the summary and maps the verdict to the exit code.
fn finish(report: &report::model::RunReport, out: &Path) -> Exit {
    match report::write_all(report, out) {
        Ok(paths) => {
            print!("{}", report::markdown::render(report));
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            eprintln!("reports: {}", names.join(", "));
        }
        Err(error) => {
            eprintln!("error: cannot write the reports to {}: {error}", out.display());
            return Exit::Internal;
        }
    }
    if let Err(error) = report::github::github_summary(report) {
        eprintln!("warning: cannot append to GITHUB_STEP_SUMMARY: {error}");
    }
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        let mut stdout = std::io::stdout().lock();
        for line in report::github::github_annotations(report) {
            let _ = writeln!(stdout, "{line}");
        }
    }
    exit_for(report.verdict)
}

/// The exit code of a verdict (DESIGN.md §7).
pub(super) fn exit_for(verdict: Verdict) -> Exit {
    match verdict {
        Verdict::Pass => Exit::Ok,
        Verdict::Fail => Exit::SloFailed,
        Verdict::Inconclusive => Exit::Inconclusive,
        Verdict::Interrupted => Exit::Interrupted,
    }
}

/// Draws the run's progress on stderr: a live line (indicatif) on a terminal, plain lines every
/// 10 s of run time otherwise (CI logs).
fn progress_display() -> runner::Progress {
    use std::io::IsTerminal;
    use std::sync::Mutex;

    let terminal = std::io::stderr().is_terminal();
    let bar: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);
    let last_line = Mutex::new(0u64);
    std::sync::Arc::new(move |update| {
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match update {
            runner::Update::Strategy { name, description } => {
                if terminal {
                    let style = indicatif::ProgressStyle::with_template("{prefix} {bar:30} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                    let new = indicatif::ProgressBar::new(0).with_style(style).with_prefix(name);
                    *bar = Some(new);
                } else {
                    eprintln!("strategy {name}: {description}");
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
                        eprintln!("  {text}");
                    }
                }
            }
            runner::Update::Done { name, verdict } => {
                if let Some(bar) = bar.take() {
                    bar.finish_and_clear();
                }
                eprintln!("strategy {name}: {}", report::verdict_word(verdict));
            }
        }
    })
}

/// Triggers `interrupt` on Ctrl-C, from a thread of its own so it works whichever runtime the
/// run is on (a paused sim runtime included).
pub(super) fn watch_ctrl_c(interrupt: runner::Interrupt, what_now: &'static str) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: {what_now}");
                interrupt.trigger();
            }
        });
    });
}
