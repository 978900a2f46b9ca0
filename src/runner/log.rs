//! A run's events.jsonl lines: how an event becomes its line, tagged with the strategy
//! ([`TaggedLines`]), and where the lines go: a file as they happen, whole lines only, nowhere (swarm runs keep
//! only the reports), or a comparison with the lines an earlier run wrote
//! (`--check-determinism`).

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Lines, Write};
use std::path::{Path, PathBuf};

use tokio::time::Instant;

use crate::recorder::{Recorded, write_harness_error_line, write_jsonl_line};

/// Makes each event's events.jsonl line: `{"strategy":NAME,` then the event's own fields
/// ([`write_jsonl_line`]), through buffers reused for the whole run (a run writes millions).
#[derive(Debug)]
pub struct TaggedLines {
    /// `{"strategy":"NAME",`, made once.
    tag: String,
    /// The event's own JSON object.
    object: Vec<u8>,
    /// The line handed to the log.
    line: String,
}

impl TaggedLines {
    /// Lines of strategy `strategy`.
    pub fn new(strategy: &str) -> TaggedLines {
        let tag = format!("{{\"strategy\":{},", serde_json::Value::String(strategy.to_string()));
        TaggedLines { tag, object: Vec::new(), line: String::new() }
    }

    /// Sends `event`'s line, its time counted from `origin`, to `out`.
    pub fn write(&mut self, event: &Recorded, origin: Instant, out: &mut dyn EventLog) -> io::Result<()> {
        if !out.wants_lines() {
            return Ok(());
        }
        self.object.clear();
        write_jsonl_line(&mut self.object, event, origin);
        self.line.clear();
        self.line.push_str(&self.tag);
        // The object's own `{` gives way to the tag's.
        self.line.push_str(std::str::from_utf8(&self.object[1..]).expect("serde_json writes UTF-8"));
        out.line(&self.line)
    }
}

impl TaggedLines {
    /// Sends the `harness_error` line: wschaos's own `component` failed with `cause`,
    /// `since_start` into the run. It is the log's last line.
    pub fn write_harness_error(
        &mut self,
        component: &str,
        cause: &str,
        since_start: std::time::Duration,
        out: &mut dyn EventLog,
    ) -> io::Result<()> {
        if !out.wants_lines() {
            return Ok(());
        }
        self.object.clear();
        write_harness_error_line(&mut self.object, since_start, component, cause);
        self.line.clear();
        self.line.push_str(&self.tag);
        self.line.push_str(std::str::from_utf8(&self.object[1..]).expect("serde_json writes UTF-8"));
        out.line(&self.line)
    }
}

/// Takes a run's event lines in order.
pub trait EventLog {
    /// One event, as its events.jsonl line (without the newline).
    fn line(&mut self, line: &str) -> io::Result<()>;
    /// Makes what was taken so far durable (the runner calls it on every tick, so a crash
    /// keeps what was recorded).
    fn flush(&mut self) -> io::Result<()>;
    /// Whether lines are wanted at all; a log that drops them spares the run their formatting.
    fn wants_lines(&self) -> bool {
        true
    }
}

/// Writes the lines to a file, whole lines only: lines gather in a buffer that goes to the file
/// on [`EventLog::flush`] (every tick) or when it holds [`FileLog::BUFFER`] bytes, and a write
/// that fails (a full disk) stops the writing and cuts the file back to its last whole line,
/// so events.jsonl never ends in part of one. The run goes on without it: its reports matter
/// more than its events. [`FileLog::failure`] says what happened.
#[derive(Debug)]
pub struct FileLog {
    path: PathBuf,
    file: File,
    /// Whole lines not written yet.
    buffer: Vec<u8>,
    /// How many lines `buffer` holds.
    buffered_lines: u64,
    /// Bytes in the file: whole lines only.
    written_bytes: u64,
    /// Lines in the file.
    written_lines: u64,
    /// Why writing stopped, once it has.
    failure: Option<LogFailure>,
}

/// Why a [`FileLog`] stopped writing, and what its file holds.
#[derive(Debug)]
pub struct LogFailure {
    /// The file.
    pub path: PathBuf,
    /// The write's error.
    pub error: io::Error,
    /// The whole lines written before the failure: the run's first events.
    pub lines: u64,
    /// What became of the part of a line the failed write may have left.
    pub cut_back: CutBack,
}

/// Whether a [`FileLog`]'s file was cut back to its last whole line after a failed write.
#[derive(Debug)]
pub enum CutBack {
    /// It was: the file holds whole lines only.
    Done,
    /// It is not a regular file (a device such as /dev/full, a pipe): nothing to cut.
    NotAFile,
    /// Cutting it failed, so it may end in part of a line.
    Failed(io::Error),
}

impl fmt::Display for LogFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write {}: {}; ", self.path.display(), self.error)?;
        let lines = self.lines;
        match &self.cut_back {
            CutBack::Done => write!(f, "it holds the first {lines} events, cut back to the last whole line"),
            CutBack::NotAFile => write!(f, "writing it stopped after the first {lines} events"),
            CutBack::Failed(error) => write!(
                f,
                "writing it stopped after the first {lines} events, and it may end in part of a line (cutting it back failed: {error})"
            ),
        }
    }
}

impl FileLog {
    /// How many bytes of lines gather before they are written.
    pub const BUFFER: usize = 64 * 1024;

    /// Creates (or truncates) `path`; the error names it.
    pub fn create(path: &Path) -> io::Result<FileLog> {
        let file = File::create(path).map_err(|error| {
            io::Error::new(error.kind(), format!("cannot create {}: {error}", path.display()))
        })?;
        Ok(FileLog {
            path: path.to_path_buf(),
            file,
            buffer: Vec::with_capacity(FileLog::BUFFER),
            buffered_lines: 0,
            written_bytes: 0,
            written_lines: 0,
            failure: None,
        })
    }

    /// Why writing stopped, if it did.
    pub fn failure(&self) -> Option<&LogFailure> {
        self.failure.as_ref()
    }

    /// Writes the buffered lines; on failure, stops for good and cuts the file back.
    fn write_buffer(&mut self) {
        if self.failure.is_some() || self.buffer.is_empty() {
            return;
        }
        match self.file.write_all(&self.buffer) {
            Ok(()) => {
                self.written_bytes += self.buffer.len() as u64;
                self.written_lines += self.buffered_lines;
            }
            Err(error) => {
                // Part of the buffer may be in the file: cut it off.
                let cut_back = match self.file.metadata() {
                    Ok(metadata) if !metadata.is_file() => CutBack::NotAFile,
                    _ => match self.file.set_len(self.written_bytes) {
                        Ok(()) => CutBack::Done,
                        Err(error) => CutBack::Failed(error),
                    },
                };
                self.failure =
                    Some(LogFailure { path: self.path.clone(), error, lines: self.written_lines, cut_back });
            }
        }
        self.buffer.clear();
        self.buffered_lines = 0;
    }
}

impl EventLog for FileLog {
    /// Never fails: a failure to write is kept for [`FileLog::failure`].
    fn line(&mut self, line: &str) -> io::Result<()> {
        if self.failure.is_some() {
            return Ok(());
        }
        self.buffer.extend_from_slice(line.as_bytes());
        self.buffer.push(b'\n');
        self.buffered_lines += 1;
        if self.buffer.len() >= FileLog::BUFFER {
            self.write_buffer();
        }
        Ok(())
    }

    /// Never fails: a failure to write is kept for [`FileLog::failure`].
    fn flush(&mut self) -> io::Result<()> {
        self.write_buffer();
        Ok(())
    }

    fn wants_lines(&self) -> bool {
        self.failure.is_none()
    }
}

impl Drop for FileLog {
    /// Writes what is still buffered, as `BufWriter` would; a failure is lost with the log.
    fn drop(&mut self) {
        self.write_buffer();
    }
}

/// Drops the lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLog;

impl EventLog for NoLog {
    fn line(&mut self, _line: &str) -> io::Result<()> {
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn wants_lines(&self) -> bool {
        false
    }
}

/// The first line where two runs differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Its number in events.jsonl, from 1.
    pub line: u64,
    /// The first run's line, or `None` where the first run had ended.
    pub first: Option<String>,
    /// The second run's line, or `None` where the second run had ended.
    pub second: Option<String>,
}

/// Compares the lines with those of an earlier run's events.jsonl, reading it as it goes, and
/// keeps the first difference.
#[derive(Debug)]
pub struct CompareLog {
    reference: Lines<BufReader<File>>,
    line: u64,
    difference: Option<Difference>,
}

impl CompareLog {
    /// Compares against the lines of `path`.
    pub fn open(path: &Path) -> io::Result<CompareLog> {
        Ok(CompareLog { reference: BufReader::new(File::open(path)?).lines(), line: 0, difference: None })
    }

    /// The first difference, once the second run is over (lines the first run had beyond the
    /// second's end are a difference too).
    pub fn finish(mut self) -> io::Result<Option<Difference>> {
        if self.difference.is_none()
            && let Some(extra) = self.reference.next()
        {
            self.difference = Some(Difference { line: self.line + 1, first: Some(extra?), second: None });
        }
        Ok(self.difference)
    }
}

impl EventLog for CompareLog {
    fn line(&mut self, line: &str) -> io::Result<()> {
        self.line += 1;
        if self.difference.is_some() {
            return Ok(());
        }
        let expected = self.reference.next().transpose()?;
        if expected.as_deref() != Some(line) {
            self.difference =
                Some(Difference { line: self.line, first: expected, second: Some(line.to_string()) });
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
