//! What `run` and a swarm share on the way out: the report folder, the list of files written,
//! and the progress bar on a terminal.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::Exit;

/// Creates the report folder, or says why it cannot (exit 2).
pub(super) fn create_out_dir(out: &Path) -> Result<(), Exit> {
    std::fs::create_dir_all(out).map_err(|error| {
        say!("error: --out {}: cannot create it: {error}", out.display());
        Exit::BadInput
    })
}

/// `reports: a, b, c` on stderr.
pub(super) fn print_written(paths: &[PathBuf]) {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    say!("reports: {}", names.join(", "));
}

/// A progress bar on stderr drawn with `template`, when stderr is a terminal; `None` in CI logs,
/// which get plain lines instead.
pub(super) fn terminal_bar(template: &str, length: u64) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let style = indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        indicatif::ProgressBar::new(length).with_style(style)
    })
}

/// Writes one line to stderr, ignoring a failure: see [`say!`].
pub(super) fn say(message: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}
