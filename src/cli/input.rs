//! Reading the files a user names (scenarios, report.json files): regular files of at most
//! [`MAX_INPUT_BYTES`]. Reading whatever is named to its end would let `wschaos validate
//! /dev/zero` grow without bound (5 GB before it was stopped), and a FIFO would wait for a
//! writer forever; both are refused, with exit 2, before anything is read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::outcome::RunReport;
use crate::report::json::{self, ReadError};
use crate::scenario::{Diagnostic, Engine, Scenario, ScenarioError};

/// The largest input file: 64 MiB. A scenario is a few KiB. A report.json grows with its
/// incidents: scenarios/scale/herd-100k.yaml cut to 1,000 clients writes 358 KiB, so the full
/// herd's is about 36 MiB, within the limit, but a matrix of two strategies over that herd
/// would not be (docs/interrupts-and-outputs.md says so).
pub(super) const MAX_INPUT_BYTES: u64 = 64 << 20;

/// The text of `path`, or why it is refused: not a regular file, larger than
/// [`MAX_INPUT_BYTES`], or unreadable. The message does not repeat the path.
pub(super) fn read_input(path: &Path) -> Result<String, String> {
    // Checked by path before opening: opening a FIFO would wait for a writer.
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read the file: {error}"))?;
    check(&metadata)?;
    let file = File::open(path).map_err(|error| format!("cannot read the file: {error}"))?;
    // Checked again on the open file, which is what is read.
    check(&file.metadata().map_err(|error| format!("cannot read the file: {error}"))?)?;
    let mut text = String::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|error| format!("cannot read the file: {error}"))?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

fn check(metadata: &std::fs::Metadata) -> Result<(), String> {
    if !metadata.is_file() {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_fifo() {
            "a pipe"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(format!("cannot read the file: it is {what}; wschaos reads regular files only"));
    }
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(too_large());
    }
    Ok(())
}

fn too_large() -> String {
    "cannot read the file: it is larger than 64 MiB, the limit on input files".to_string()
}

/// Loads and validates a scenario file, refusing what [`read_input`] refuses.
pub(super) fn load_scenario(path: &Path, engine: Option<Engine>) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    match read_input(path) {
        Ok(text) => {
            let mut scenario = Scenario::parse_for(&text, &file, engine)?;
            let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
            scenario.set_program_dir(dir);
            Ok(scenario)
        }
        Err(message) => {
            Err(ScenarioError { file, diagnostics: vec![Diagnostic::at("", message)], source: String::new() })
        }
    }
}

/// Reads a report.json, refusing what [`read_input`] refuses.
pub(super) fn load_report(path: &Path) -> Result<RunReport, ReadError> {
    let text =
        read_input(path).map_err(|message| ReadError::Refused { path: path.to_path_buf(), message })?;
    json::from_text(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_pipes_are_refused_before_they_are_read() {
        for (path, what) in [("/dev/zero", "a device"), ("/tmp", "a directory")] {
            let error = read_input(Path::new(path)).unwrap_err();
            assert_eq!(
                error,
                format!("cannot read the file: it is {what}; wschaos reads regular files only")
            );
        }
    }

    #[test]
    fn a_file_over_the_limit_is_refused_without_reading_it() {
        let path = std::env::temp_dir().join(format!("wschaos-input-{}-large", std::process::id()));
        let file = File::create(&path).unwrap();
        // Sparse: 64 MiB + 1 byte of size, none of it on disk.
        file.set_len(MAX_INPUT_BYTES + 1).unwrap();
        assert_eq!(
            read_input(&path).unwrap_err(),
            "cannot read the file: it is larger than 64 MiB, the limit on input files"
        );
        file.set_len(3).unwrap();
        assert_eq!(read_input(&path).unwrap(), "\0\0\0");
        std::fs::remove_file(&path).unwrap();
    }
}
