//! What a run does when it runs under GitHub Actions: append summary.md to the job summary
//! when `GITHUB_STEP_SUMMARY` names a file, and print `::error` annotations for failed SLOs
//! when `GITHUB_ACTIONS` is set. The environment is read here, at the edge, not in the library.

use std::io;
use std::path::PathBuf;

use super::output::print;
use crate::Exit;
use crate::outcome::RunReport;
use crate::report;

/// When `GITHUB_STEP_SUMMARY` is set, appends the report's summary.md to that file and returns
/// its path; does nothing otherwise.
fn github_summary(report: &RunReport) -> io::Result<Option<PathBuf>> {
    match std::env::var_os("GITHUB_STEP_SUMMARY") {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            report::github::append_summary(report, &path)?;
            Ok(Some(path))
        }
        _ => Ok(None),
    }
}

/// Appends the job summary and prints the annotations, as the environment asks; exit 74 if
/// stdout could not take them (said on stderr).
pub(super) fn report_to_github(report: &RunReport) -> Result<(), Exit> {
    if let Err(error) = github_summary(report) {
        say!("warning: cannot append to GITHUB_STEP_SUMMARY: {error}");
    }
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        let lines: String =
            report::github::github_annotations(report).into_iter().map(|line| line + "\n").collect();
        print(lines)?;
    }
    Ok(())
}
