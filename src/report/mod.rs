//! Reports: one file per format over one serializable result ([`RunReport`]).
//!
//! Every format is a pure function from a `&RunReport` to a `String` behind the small
//! [`Format`] trait; the only I/O here is [`write_all`] (the files of a run's report directory,
//! each tried whatever happens to the others),
//! [`json::read`], and [`github::append_summary`].

pub mod compare;
pub mod example;
pub mod github;
pub mod hgrm;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod side_by_side;
pub mod swarm;
mod text;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

pub use compare::{Comparison, compare};
pub use text::{
    cell, format_metric_value, higher_is_better, impersonation_rows, not_applied_faults, repro_command,
    repro_line, swarm_repro_command, unhit_faults, verdict_word,
};

use crate::outcome::{RunReport, StrategyReport};

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
pub const FORMATS: [&dyn Format; 5] =
    [&json::Json, &markdown::Markdown, &junit::Junit, &html::Html, &hgrm::Hgrm];

/// The format called `name` (`json`, `md`, `junit`, `html`, `hgrm`).
pub fn format_named(name: &str) -> Option<&'static dyn Format> {
    FORMATS.into_iter().find(|format| format.name() == name)
}

/// A report file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file (or the folder, when it could not be created).
    pub path: PathBuf,
    /// The cause.
    pub source: io::Error,
}

/// What [`write_all`] did. Every file is tried whatever happened to the others, so one that
/// cannot be written (a directory in its place, a full disk) costs only itself; a file whose
/// write failed may hold part of its text.
#[derive(Debug, Default)]
pub struct Written {
    /// The files written, in the order of [`file_names`].
    pub paths: Vec<PathBuf>,
    /// The files that could not be.
    pub failed: Vec<WriteError>,
}

/// The files [`write_all`] writes for a run of these strategies, in order: `report.json`,
/// `summary.md`, `junit.xml`, then one `<strategy>.hgrm` per strategy. The command line checks
/// them before a run starts.
pub fn file_names(strategies: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    for format in FORMATS {
        if format.per_strategy() {
            names.extend(file_stems(strategies).iter().map(|stem| format.file_name(Some(stem))));
        } else {
            names.push(format.file_name(None));
        }
    }
    names
}

/// Writes `report.json`, `summary.md`, `junit.xml` and one `<strategy>.hgrm` per strategy into
/// `dir` (created if missing), in the order of [`file_names`].
pub fn write_all(report: &RunReport, dir: &Path) -> Written {
    let mut files = Vec::new();
    for format in FORMATS {
        if format.per_strategy() {
            let names: Vec<&str> = report.strategies.iter().map(|s| s.name.as_str()).collect();
            for (strategy, stem) in report.strategies.iter().zip(file_stems(&names)) {
                files.push((format.file_name(Some(&stem)), format.render(report, Some(strategy))));
            }
        } else {
            files.push((format.file_name(None), format.render(report, None)));
        }
    }
    write_files(dir, files)
}

/// Writes each `(name, text)` into `dir` (created if missing), trying every one.
pub(crate) fn write_files(dir: &Path, files: Vec<(String, String)>) -> Written {
    let mut written = Written::default();
    if let Err(source) = std::fs::create_dir_all(dir) {
        written.failed.push(WriteError { path: dir.to_path_buf(), source });
        return written;
    }
    for (name, text) in files {
        let path = dir.join(name);
        match std::fs::write(&path, text) {
            Ok(()) => written.paths.push(path),
            Err(source) => written.failed.push(WriteError { path, source }),
        }
    }
    written
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_and_unique() {
        assert_eq!(sanitize_file_stem("aws-full-jitter"), "aws-full-jitter");
        assert_eq!(sanitize_file_stem("../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_file_stem(""), "_");
        assert_eq!(file_stems(&["a/b", "a_b", "a b"]), ["a_b", "a_b-2", "a_b-3"]);
    }

    #[test]
    fn write_all_writes_every_file_once() {
        let dir = std::env::temp_dir().join(format!("wschaos-report-write-all-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let written = write_all(&example::report(), &dir);
        assert!(written.failed.is_empty(), "{:?}", written.failed);
        let names: Vec<String> =
            written.paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["report.json", "summary.md", "junit.xml", "report.html", "socketio.hgrm", "fixed-1s.hgrm"]
        );
        assert_eq!(names, file_names(&["socketio", "fixed-1s"]));
        let back = json::read(&dir.join("report.json")).unwrap();
        assert_eq!(back, example::report());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_written_is_named_and_the_others_are_written() {
        let dir = std::env::temp_dir().join(format!("wschaos-report-write-fail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("summary.md")).unwrap();
        let written = write_all(&example::report(), &dir);
        let failed: Vec<&Path> = written.failed.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(failed, [dir.join("summary.md")]);
        assert!(
            written.failed[0]
                .to_string()
                .starts_with(&format!("cannot write {}", dir.join("summary.md").display()))
        );
        assert_eq!(written.paths.len(), 5, "the other files are written: {:?}", written.paths);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn formats_are_found_by_name() {
        for name in ["json", "md", "junit", "html", "hgrm"] {
            assert_eq!(format_named(name).map(|f| f.name()), Some(name));
        }
        assert!(format_named("pdf").is_none());
    }
}
