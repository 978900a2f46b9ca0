//! `wschaos run --seeds A..B`: the swarm. Runs every seed on the sim engine across worker
//! threads, writes swarm.json and swarm.md, prints swarm.md, and turns the swarm's verdict into
//! the exit code. Also the `--seeds` value itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::output::{prepare_out_dir, print, print_written, terminal_bar};
use super::run::{exit_for, interrupt_on_signal};
use crate::Exit;
use crate::report::swarm::{self, SeedResult, SeedVerdict};
use crate::runner::{self, SwarmOptions};
use crate::scenario::Scenario;

/// `--seeds`: the first and the last seed, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    /// The first seed.
    pub first: u64,
    /// The last seed; equal to `first` for a single seed.
    pub last: u64,
}

/// Parses `--seeds A..B` (inclusive, A ≤ B) or `--seeds N`.
pub(super) fn parse_seeds(text: &str) -> Result<Seeds, String> {
    let seed = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{}` is not a seed (a whole number, 0 or more)", part.trim()))
    };
    let (first, last) = match text.split_once("..") {
        Some((first, last)) => (seed(first)?, seed(last)?),
        None => {
            let only = seed(text)?;
            (only, only)
        }
    };
    if first > last {
        return Err(format!("`{text}` is backwards; write `{last}..{first}`"));
    }
    Ok(Seeds { first, last })
}

/// `wschaos run FILE --seeds A..B`.
pub(super) fn run(
    scenario: &Scenario,
    file: &Path,
    seeds: Seeds,
    jobs: Option<u16>,
    strategies: Vec<String>,
    out: Option<PathBuf>,
) -> Exit {
    let out = out.unwrap_or_else(|| Path::new("reports").join(&scenario.name).join("swarm"));
    let files = swarm::FILE_NAMES.map(String::from);
    if let Err(exit) = prepare_out_dir(&out, &files) {
        return exit;
    }
    let count = (seeds.last - seeds.first).saturating_add(1);
    let jobs = jobs
        .map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get), usize::from);
    let threads = u64::try_from(jobs).unwrap_or(u64::MAX).min(count);
    let options =
        SwarmOptions { file: file.display().to_string(), seeds: seeds.first..=seeds.last, jobs, strategies };
    let interrupt = runner::Interrupt::default();
    let stopped = interrupt_on_signal(&interrupt, "starting no new seeds; reporting the seeds that finished");
    say!(
        "swarm: {count} seeds ({}..{}) of {} on the sim engine, {threads} threads",
        seeds.first,
        seeds.last,
        scenario.name
    );
    let report = match runner::run_swarm(scenario, &options, &interrupt, &progress(count)) {
        Ok(report) => report,
        Err(error) => {
            say!("error: the swarm failed at {error}");
            say!("repro: {}", crate::report::swarm_repro_command(&options.file, error.seed, &[]));
            return Exit::Internal;
        }
    };
    // swarm.md is printed whatever happened to the files; one that could not be written is
    // named, and is exit 74.
    let written = swarm::write(&report, &out);
    let printed = print(swarm::markdown::render(&report));
    if !written.paths.is_empty() {
        print_written(&written.paths);
    }
    for error in &written.failed {
        say!("error: {error}");
    }
    if !written.failed.is_empty() {
        return Exit::IoError;
    }
    printed.map_or_else(|exit| exit, |()| exit_for(report.verdict, &stopped))
}

/// Shows the swarm's progress on stderr: a bar on a terminal, a line per tenth of the seeds
/// otherwise (CI logs).
fn progress(count: u64) -> impl Fn(&SeedResult) + Sync {
    let bar = terminal_bar("seeds {bar:30} {pos}/{len} {msg}", count);
    let (done, not_passed) = (AtomicU64::new(0), AtomicU64::new(0));
    move |seed: &SeedResult| {
        let done = done.fetch_add(1, Ordering::SeqCst) + 1;
        let not_passed = not_passed.fetch_add(u64::from(seed.verdict != SeedVerdict::Pass), Ordering::SeqCst)
            + u64::from(seed.verdict != SeedVerdict::Pass);
        match &bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(format!("· {not_passed} not passed"));
                if done == count {
                    bar.finish_and_clear();
                }
            }
            None if done * 10 / count != (done - 1) * 10 / count => {
                say!("  {done} / {count} seeds · {not_passed} not passed");
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_a_range_or_one_seed() {
        assert_eq!(parse_seeds("1..200"), Ok(Seeds { first: 1, last: 200 }));
        assert_eq!(parse_seeds("7"), Ok(Seeds { first: 7, last: 7 }));
        assert_eq!(parse_seeds("3..3"), Ok(Seeds { first: 3, last: 3 }));
        assert!(parse_seeds("9..2").unwrap_err().contains("backwards; write `2..9`"));
        assert!(parse_seeds("1..").unwrap_err().contains("`` is not a seed"));
        assert!(parse_seeds("-1").unwrap_err().contains("`-1` is not a seed"));
    }
}
