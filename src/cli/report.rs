//! The commands that read files and print: `wschaos validate` (scenarios), `wschaos report`
//! (re-render a report.json) and `wschaos compare` (two runs' figures side by side).

use std::path::{Path, PathBuf};

use super::args::FormatArg;
use super::input::{load_report, load_scenario};
use super::output::{print, print_then};
use crate::Exit;
use crate::report;

/// `wschaos validate`: `ok FILE` for each valid file, every error of the others; exit 2 if any
/// is invalid (74 if stdout could not take the list).
pub(super) fn validate(files: &[PathBuf]) -> Exit {
    let mut exit = Exit::Ok;
    let mut printed = Ok(());
    for file in files {
        match load_scenario(file, None) {
            Ok(_) => printed = printed.and_then(|()| print(format!("ok {}\n", file.display()))),
            Err(error) => {
                say!("{error}");
                exit = Exit::BadInput;
            }
        }
    }
    printed.map_or_else(|failed| failed, |()| exit)
}

/// `wschaos report`: re-render a report.json to stdout.
pub(super) fn render_report(file: &Path, format: FormatArg, strategy: Option<&str>) -> Exit {
    let mut run = match load_report(file) {
        Ok(run) => run,
        Err(error) => {
            say!("error: {error}");
            return Exit::BadInput;
        }
    };
    if let Some(name) = strategy {
        if !run.strategies.iter().any(|s| s.name == name) {
            let names: Vec<&str> = run.strategies.iter().map(|s| s.name.as_str()).collect();
            say!(
                "error: --strategy {name}: the report has no strategy `{name}`; it has {}",
                names.join(", ")
            );
            return Exit::BadInput;
        }
        run.strategies.retain(|s| s.name == name);
    }
    let format = report::format_named(format.name()).expect("every --format value names a format");
    print_then(format.render(&run, run.strategies.first()), Exit::Ok)
}

/// `wschaos compare`: print the comparison; exit 1 on a regression.
pub(super) fn compare(base: &Path, new: &Path, fail_on_regression: Option<f64>) -> Exit {
    let (base, new) = match (load_report(base), load_report(new)) {
        (Ok(base), Ok(new)) => (base, new),
        (Err(error), _) | (_, Err(error)) => {
            say!("error: {error}");
            return Exit::BadInput;
        }
    };
    let comparison = report::compare(&base, &new, fail_on_regression);
    print_then(comparison.text, if comparison.regressed { Exit::SloFailed } else { Exit::Ok })
}
