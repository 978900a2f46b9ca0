//! `report.json`: the [`RunReport`] verbatim, pretty-printed, and reading it back.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Format;
use crate::outcome::{RunReport, SCHEMA_VERSION, StrategyReport};

/// The JSON format.
pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn file_name(&self, _strategy: Option<&str>) -> String {
        "report.json".to_string()
    }

    fn render(&self, report: &RunReport, _strategy: Option<&StrategyReport>) -> String {
        render(report)
    }
}

/// The report as pretty JSON with a final newline. Maps are ordered, so the text is the same
/// for the same report.
pub fn render(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a RunReport always serializes");
    text.push('\n');
    text
}

/// Why a report file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file was refused before it was read (not a regular file, too large); the message
    /// says why.
    #[error("{}: {message}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        message: String,
    },
    /// The file is not a report: bad JSON, or a field missing or of the wrong type.
    #[error("{} is not a wschaos report: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause, with line and column.
        source: serde_json::Error,
    },
    /// The file is a report of another format version.
    #[error(
        "{} has schema_version {found}, but this wschaos (version {}) reads schema_version {expected}; \
         re-render it with the wschaos that wrote it, or rerun the scenario",
        path.display(),
        env!("CARGO_PKG_VERSION")
    )]
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// [`SCHEMA_VERSION`].
        expected: u32,
    },
}

/// Reads a `report.json`, checking its `schema_version` before anything else so a report of
/// another version says so instead of failing on some renamed field.
pub fn read(path: &Path) -> Result<RunReport, ReadError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ReadError::Io { path: path.to_path_buf(), source })?;
    from_text(&text, path)
}

/// Parses the text of a `report.json` read from `path` (which names it in errors), as [`read`]
/// does.
pub fn from_text(text: &str, path: &Path) -> Result<RunReport, ReadError> {
    parse(text).map_err(|error| match error {
        ParseError::Json(source) => ReadError::Parse { path: path.to_path_buf(), source },
        ParseError::Version(found) => {
            ReadError::SchemaVersion { path: path.to_path_buf(), found, expected: SCHEMA_VERSION }
        }
    })
}

enum ParseError {
    Json(serde_json::Error),
    Version(u32),
}

/// Only the version, read first; every other field is ignored.
#[derive(Deserialize)]
struct Versioned {
    schema_version: u32,
}

fn parse(text: &str) -> Result<RunReport, ParseError> {
    let Versioned { schema_version } = serde_json::from_str(text).map_err(ParseError::Json)?;
    if schema_version != SCHEMA_VERSION {
        return Err(ParseError::Version(schema_version));
    }
    serde_json::from_str(text).map_err(ParseError::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("wschaos-json-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn round_trips_exactly() {
        let report = example::report();
        let path = temp_file("round-trip.json", &render(&report));
        assert_eq!(read(&path).unwrap(), report);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn rendering_is_deterministic_and_pretty() {
        let text = render(&example::report());
        assert_eq!(text, render(&example::report()));
        assert!(text.starts_with("{\n  \"schema_version\": 1,"), "{text}");
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn another_schema_version_is_named_in_the_error() {
        let text = render(&example::report()).replace("\"schema_version\": 1,", "\"schema_version\": 9,");
        let path = temp_file("v9.json", &text);
        let error = read(&path).unwrap_err();
        assert!(matches!(error, ReadError::SchemaVersion { found: 9, expected: 1, .. }), "{error:?}");
        assert!(error.to_string().contains("has schema_version 9"), "{error}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_broken_file_is_a_parse_error_with_its_path() {
        let path = temp_file("broken.json", "{\"schema_version\": 1, \"scenario\": 3}");
        let error = read(&path).unwrap_err();
        assert!(matches!(error, ReadError::Parse { .. }), "{error:?}");
        assert!(error.to_string().contains("is not a wschaos report"), "{error}");
        std::fs::remove_file(path).unwrap();
        let missing = read(Path::new("/nonexistent/wschaos/report.json")).unwrap_err();
        assert!(matches!(missing, ReadError::Io { .. }), "{missing:?}");
    }
}
