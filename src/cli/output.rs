//! The way out: stdout written without panics (a reader that went away ends the output
//! quietly), stderr lines that a closed stderr cannot turn into a panic, and what `run` and a
//! swarm share: the report folder, the list of files written, the progress bar on a terminal.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::Exit;

/// Writes `text` to stdout and flushes it. A reader that went away (EPIPE, as after
/// `| head -n 1` or `| true`) is not an error: the rest has nowhere to go, and the command ends
/// as it would have. Any other failure (a full disk behind `>`) is said on stderr, naming
/// stdout, and is exit 74.
pub(super) fn print(text: impl AsRef<[u8]>) -> Result<(), Exit> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_ref()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => {
            say!("error: cannot write to stdout: {error}");
            Err(Exit::IoError)
        }
    }
}

/// Prints `text`, then ends with `exit`, or with 74 if stdout could not take it.
pub(super) fn print_then(text: impl AsRef<[u8]>, exit: Exit) -> Exit {
    print(text).map_or_else(|failed| failed, |()| exit)
}

/// Creates the report folder and checks, before anything runs, that the command can write
/// there: a file can be created in it, and none of `files` is in the way (a directory of that
/// name, a file that cannot be opened for writing). Exit 2 naming the path: better said now than
/// after a 75-second run. What no check can foresee (a disk that fills up) is found when the
/// files are written, and is exit 74.
pub(super) fn prepare_out_dir(out: &Path, files: &[String]) -> Result<(), Exit> {
    let refuse = |what: String| {
        say!("error: --out {}: {what}", out.display());
        Exit::BadInput
    };
    std::fs::create_dir_all(out).map_err(|error| refuse(format!("cannot create it: {error}")))?;
    let probe = out.join(format!(".wschaos-write-test-{}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(error) => return Err(refuse(format!("cannot write there: {error}"))),
    }
    for name in files {
        let path = out.join(name);
        // Following symlinks: report.json may point anywhere. Only directories and regular
        // files are checked; opening a FIFO would wait for its reader, and a device is the
        // user's choice.
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        let blocked = if metadata.is_dir() {
            Some("it is a directory".to_string())
        } else if metadata.is_file() {
            // Opened without truncating: an earlier run's file stays as it is until replaced.
            std::fs::OpenOptions::new().write(true).open(&path).err().map(|error| error.to_string())
        } else {
            None
        };
        if let Some(why) = blocked {
            return Err(refuse(format!("cannot write {}: {why}", path.display())));
        }
    }
    Ok(())
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
