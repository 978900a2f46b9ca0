//! GitHub Actions: the job summary (appended to the file `$GITHUB_STEP_SUMMARY` names; the
//! command line reads the variable) and `::error` annotations.
//!
//! GitHub caps a step's summary at 1 MiB and drops the whole upload past it ("upload aborted,
//! supports content up to a size of 1024k"), so the summary is cut to fit what the step has
//! already written, with a note saying so. Annotations follow the workflow-command syntax, with
//! `%`, CR, LF (and in properties `:` and `,`) escaped as the runner expects.

use std::io::{self, Write};
use std::path::Path;

use super::markdown;
use crate::outcome::RunReport;

/// The step summary limit: 1 MiB.
pub const STEP_SUMMARY_LIMIT: usize = 1 << 20;

/// The note that ends a cut summary.
pub const TRUNCATION_NOTE: &str =
    "\n\n_Summary truncated to fit GitHub's 1 MiB step-summary limit; the full text is in summary.md._\n";

/// Appends the summary to `path`, cut so the file stays under [`STEP_SUMMARY_LIMIT`].
pub fn append_summary(report: &RunReport, path: &Path) -> io::Result<()> {
    let existing = match std::fs::metadata(path) {
        Ok(metadata) => usize::try_from(metadata.len()).unwrap_or(usize::MAX),
        Err(error) if error.kind() == io::ErrorKind::NotFound => 0,
        Err(error) => return Err(error),
    };
    // Keep a byte of headroom: the limit is "up to" 1 MiB.
    let budget = (STEP_SUMMARY_LIMIT - 1).saturating_sub(existing);
    let text = fit(&markdown::render(report), budget);
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// `text` if it fits in `budget` bytes; else its longest prefix of whole lines that fits with
/// [`TRUNCATION_NOTE`] after it; empty when not even the note fits.
pub fn fit(text: &str, budget: usize) -> String {
    if text.len() <= budget {
        return text.to_string();
    }
    let Some(room) = budget.checked_sub(TRUNCATION_NOTE.len()) else {
        return String::new();
    };
    let mut cut = room;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    // Cut at a line end so no table row or code fence is left half-written.
    let kept = text[..cut].rfind('\n').map_or("", |end| &text[..end]);
    format!("{kept}{TRUNCATION_NOTE}")
}

/// One `::error title=SLO failed::…` line per failed SLO, for the caller to print when
/// `GITHUB_ACTIONS` is set. A strategy cut short by an interrupt is not judged, so it has none.
pub fn github_annotations(report: &RunReport) -> Vec<String> {
    report
        .strategies
        .iter()
        .filter(|strategy| strategy.interrupted_at.is_none())
        .flat_map(|strategy| {
            strategy.slo.iter().filter(|slo| !slo.passed).map(move |slo| {
                let measured = if slo.measured.is_some() { slo.measured_text.as_str() } else { "no values" };
                format!(
                    "::error title={}::{}",
                    escape_property("SLO failed"),
                    escape_data(&format!(
                        "{}/{}: {} {} (measured {measured})",
                        report.scenario, strategy.name, slo.metric, slo.threshold
                    ))
                )
            })
        })
        .collect()
}

/// Escapes a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    #[test]
    fn one_annotation_per_failed_slo() {
        assert_eq!(
            github_annotations(&example::report()),
            [
                "::error title=SLO failed::flaky-mobile-link/fixed-1s: recovery_time p(99) < 5s (measured 9s)",
                "::error title=SLO failed::flaky-mobile-link/fixed-1s: messages_lost count <= 5 (measured 20)",
            ]
        );
        assert_eq!(escape_data("50%\nx"), "50%25%0Ax");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn a_long_summary_is_cut_at_a_line_with_a_note() {
        let text = &format!("line one\nline two\n{}\n", "x".repeat(200));
        assert_eq!(fit(text, 1000), *text);
        let cut = fit(text, TRUNCATION_NOTE.len() + 12);
        assert_eq!(cut, format!("line one{TRUNCATION_NOTE}"));
        assert!(cut.len() <= TRUNCATION_NOTE.len() + 12);
        assert_eq!(fit(text, 5), "");
        // Never splits a multi-byte character.
        let wide = "µµµµµµµµµµ\n".repeat(1000);
        assert!(fit(&wide, 3000).len() <= 3000);
    }

    #[test]
    fn appending_respects_what_the_step_already_wrote() {
        let path = std::env::temp_dir().join(format!("wschaos-step-summary-{}", std::process::id()));
        std::fs::write(&path, "x".repeat(STEP_SUMMARY_LIMIT - 200)).unwrap();
        append_summary(&example::report(), &path).unwrap();
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        assert!(len < STEP_SUMMARY_LIMIT, "{len}");
        std::fs::write(&path, "").unwrap();
        append_summary(&example::report(), &path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), markdown::render(&example::report()));
        std::fs::remove_file(path).unwrap();
    }
}
