//! Reports: one file per format over one serializable result ([`model::RunReport`]).
//!
//! Every format is a pure function from a `&RunReport` to a `String` behind the small
//! [`Format`] trait; the only I/O here is [`write_all`] (the files of a run's report directory),
//! [`json::read`], and the GitHub step summary append.

pub mod compare;
pub mod example;
pub mod github;
pub mod hgrm;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod swarm;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

pub use compare::{Comparison, compare};
pub use github::{github_annotations, github_summary};
pub use model::{
    FaultOutcome, Incident, MessageCounts, RunReport, SCHEMA_VERSION, SloResult, Stats, StrategyReport,
    Verdict,
};

/// One output format.
pub trait Format {
    /// The name `wschaos report --format` takes.
    fn name(&self) -> &'static str;
    /// Whether the format renders one file per strategy (`<strategy>.hgrm`) or one per run.
    fn per_strategy(&self) -> bool {
        false
    }
    /// The file name in a report directory; per-strategy formats get the strategy's name.
    fn file_name(&self, strategy: Option<&str>) -> String;
    /// Renders the report. Per-strategy formats render `strategy` (nothing recorded when
    /// `None`); run-wide formats ignore it.
    fn render(&self, report: &RunReport, strategy: Option<&StrategyReport>) -> String;
}

/// Every format, in the order [`write_all`] writes them.
pub const FORMATS: [&dyn Format; 4] = [&json::Json, &markdown::Markdown, &junit::Junit, &hgrm::Hgrm];

/// The format called `name` (`json`, `md`, `junit`, `hgrm`).
pub fn format_named(name: &str) -> Option<&'static dyn Format> {
    FORMATS.into_iter().find(|format| format.name() == name)
}

/// Writes `report.json`, `summary.md`, `junit.xml` and one `<strategy>.hgrm` per strategy into
/// `dir` (created if missing), returning the paths in that order.
pub fn write_all(report: &RunReport, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for format in FORMATS {
        if format.per_strategy() {
            let names: Vec<&str> = report.strategies.iter().map(|s| s.name.as_str()).collect();
            for (strategy, stem) in report.strategies.iter().zip(file_stems(&names)) {
                let path = dir.join(format.file_name(Some(&stem)));
                std::fs::write(&path, format.render(report, Some(strategy)))?;
                written.push(path);
            }
        } else {
            let path = dir.join(format.file_name(None));
            std::fs::write(&path, format.render(report, None))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// A name made safe for a file name: ASCII letters, digits, `-`, `_` and `.` kept, anything else
/// becomes `_`; a name that would be empty or start with a dot gets a `_` in front, so it can
/// never be hidden, `.` or `..`.
pub fn sanitize_file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    if stem.is_empty() || stem.starts_with('.') { format!("_{stem}") } else { stem }
}

/// Sanitized stems for `names`, made unique with `-2`, `-3`… in order, so two strategies whose
/// names sanitize alike (`a/b`, `a_b`) never overwrite each other's file.
fn file_stems(names: &[&str]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    names
        .iter()
        .map(|name| {
            let base = sanitize_file_stem(name);
            let mut stem = base.clone();
            let mut n = 2;
            while !taken.insert(stem.clone()) {
                stem = format!("{base}-{n}");
                n += 1;
            }
            stem
        })
        .collect()
}

/// The verdict as one upper-case word.
pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::Interrupted => "INTERRUPTED",
    }
}

/// Seconds for people: `0s`, `850µs`, `450ms`, `12.5ms`, `1.23s`, `95.1s`.
pub fn format_seconds(seconds: f64) -> String {
    use crate::scenario::values::trim_float;
    if !seconds.is_finite() {
        return "n/a".to_string();
    }
    let magnitude = seconds.abs();
    if magnitude == 0.0 {
        "0s".to_string()
    } else if magnitude < 1e-3 {
        format!("{}µs", trim_float(seconds * 1e6))
    } else if magnitude < 1.0 {
        format!("{}ms", trim_float(seconds * 1e3))
    } else {
        format!("{}s", trim_float(seconds))
    }
}

/// The command that reruns one strategy of this run: with `--seeds` when the run was a swarm
/// seed's draw, which `--seed` alone would not repeat.
pub fn repro_line(report: &RunReport, strategy: &str) -> String {
    if report.swarm_draw.is_empty() {
        repro_command(&report.file, &report.engine, report.seed, &[strategy])
    } else {
        swarm_repro_command(&report.file, report.seed, &[strategy])
    }
}

/// The `wschaos run` command for `file` on `engine` with `seed`, limited to `strategies` when
/// any are given, quoted for a POSIX shell.
pub fn repro_command(file: &str, engine: &str, seed: u64, strategies: &[&str]) -> String {
    run_command(file, engine, &format!("--seed {seed}"), strategies)
}

/// The command that repeats one seed of a swarm (its draw and its run) on the sim engine,
/// limited to `strategies` when any are given.
pub fn swarm_repro_command(file: &str, seed: u64, strategies: &[&str]) -> String {
    run_command(file, "sim", &format!("--seeds {seed}"), strategies)
}

fn run_command(file: &str, engine: &str, seed: &str, strategies: &[&str]) -> String {
    let mut line = format!("wschaos run {} --engine {} {seed}", shell_quote(file), shell_quote(engine));
    for strategy in strategies {
        line.push_str(" --strategy ");
        line.push_str(&shell_quote(strategy));
    }
    line
}

/// Whether a larger figure of `metric` is better (availability); every other metric is
/// lower-is-better.
pub fn higher_is_better(metric: &str) -> bool {
    metric == "availability"
}

/// A value in its metric's unit: times as `1.23s`, availability as a percentage, else a number.
pub fn format_metric_value(metric: &str, value: f64) -> String {
    use crate::scenario::slo::{MetricShape, find_metric};
    match find_metric(metric).map(|m| m.shape) {
        Some(MetricShape::Duration) => format_seconds(value),
        Some(MetricShape::Fraction) => {
            format!("{}%", crate::scenario::values::trim_decimals(value * 100.0, 2))
        }
        _ => crate::scenario::values::trim_decimals(value, 3),
    }
}

/// Text safe inside a Markdown table cell: pipes escaped, line breaks flattened.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Quotes a word for a POSIX shell only when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@'));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// The faults of a strategy that acted on nothing, as `faults[plan]#occurrence name`.
pub fn unhit_faults(strategy: &StrategyReport) -> Vec<String> {
    strategy
        .faults
        .iter()
        .filter(|fault| fault.hits == 0)
        .map(|fault| format!("faults[{}]#{} {}", fault.plan, fault.occurrence, fault.name))
        .collect()
}

/// The frame faults of a strategy that some links could not take, as
/// `faults[plan]#occurrence name: N links (reason)`.
pub fn not_applied_faults(strategy: &StrategyReport) -> Vec<String> {
    strategy
        .faults
        .iter()
        .flat_map(|fault| {
            fault.not_applied.iter().map(move |(why, links)| {
                let plural = if *links == 1 { "" } else { "s" };
                format!(
                    "faults[{}]#{} {}: {links} link{plural} ({why})",
                    fault.plan, fault.occurrence, fault.name
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_like_a_person_writes_them() {
        let cases = [
            (0.0, "0s"),
            (0.00085, "850µs"),
            (0.45, "450ms"),
            (0.0125, "12.5ms"),
            (1.234, "1.23s"),
            (95.1, "95.1s"),
            (f64::NAN, "n/a"),
        ];
        for (seconds, text) in cases {
            assert_eq!(format_seconds(seconds), text, "{seconds}");
        }
    }

    #[test]
    fn file_stems_are_safe_and_unique() {
        assert_eq!(sanitize_file_stem("aws-full-jitter"), "aws-full-jitter");
        assert_eq!(sanitize_file_stem("../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_file_stem(""), "_");
        assert_eq!(file_stems(&["a/b", "a_b", "a b"]), ["a_b", "a_b-2", "a_b-3"]);
    }

    #[test]
    fn repro_quotes_only_what_a_shell_would_split() {
        let mut report = example::report();
        report.file = "my scenarios/it's.yaml".to_string();
        assert_eq!(
            repro_line(&report, "socketio"),
            r"wschaos run 'my scenarios/it'\''s.yaml' --engine sim --seed 42 --strategy socketio"
        );
    }

    #[test]
    fn write_all_writes_every_file_once() {
        let dir = std::env::temp_dir().join(format!("wschaos-report-write-all-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let written = write_all(&example::report(), &dir).unwrap();
        let names: Vec<String> =
            written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["report.json", "summary.md", "junit.xml", "socketio.hgrm", "fixed-1s.hgrm"]);
        let back = json::read(&dir.join("report.json")).unwrap();
        assert_eq!(back, example::report());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn formats_are_found_by_name() {
        for name in ["json", "md", "junit", "hgrm"] {
            assert_eq!(format_named(name).map(|f| f.name()), Some(name));
        }
        assert!(format_named("html").is_none());
    }
}
