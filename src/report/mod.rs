//! Reports: one file per format over one serializable result ([`model::RunReport`]).
//!
//! STAND-IN: the formats land from the report branch; until then only report.json is written.

pub mod model;

use std::io;
use std::path::{Path, PathBuf};

pub use model::{Incident, MessageCounts, RunReport, SCHEMA_VERSION, Stats, StrategyReport, Verdict};

/// Writes every report file into `dir`.
pub fn write_all(report: &RunReport, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(report).map_err(io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(vec![path])
}

/// Summary.md (stand-in).
pub mod markdown {
    use super::RunReport;

    /// The summary.
    pub fn render(report: &RunReport) -> String {
        format!("{:?} {}\n", report.verdict, report.scenario)
    }
}

/// GitHub step summary and annotations (stand-in).
pub fn publish_to_ci(_report: &RunReport) {}
