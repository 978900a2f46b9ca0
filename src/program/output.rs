//! A program's output: its log file (bounded) and its last lines in memory, fed line by line
//! from its stdout and stderr without ever holding more than one bounded line of it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// How many of a program's last output lines are kept to show when it exits early.
pub const TAIL_LINES: usize = 30;

/// The most a program's log file takes; past it the rest is dropped and the log says so.
pub const MAX_LOG_BYTES: u64 = 64 << 20;

/// A program's output: its log file (bounded by [`MAX_LOG_BYTES`]) and its last
/// [`TAIL_LINES`] lines. Shared by the tasks that read its stdout and stderr.
#[derive(Clone, Debug)]
pub struct Output(Arc<Mutex<OutputState>>);

#[derive(Debug)]
struct OutputState {
    file: Option<File>,
    path: Option<PathBuf>,
    written: u64,
    dropped: u64,
    tail: VecDeque<String>,
    error: Option<String>,
}

impl Output {
    pub(super) fn open(path: Option<&Path>) -> io::Result<Output> {
        let file = path.map(File::create).transpose()?;
        Ok(Output(Arc::new(Mutex::new(OutputState {
            file,
            path: path.map(Path::to_path_buf),
            written: 0,
            dropped: 0,
            tail: VecDeque::with_capacity(TAIL_LINES),
            error: None,
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, OutputState> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps one line of output.
    pub fn line(&self, line: &str) {
        let mut state = self.lock();
        if state.tail.len() == TAIL_LINES {
            state.tail.pop_front();
        }
        state.tail.push_back(line.to_string());
        let bytes = line.len() as u64 + 1;
        if state.written + bytes > MAX_LOG_BYTES {
            state.dropped += bytes;
            return;
        }
        state.written += bytes;
        let OutputState { file, error, .. } = &mut *state;
        if let Some(handle) = file
            && let Err(problem) = writeln!(handle, "{line}")
        {
            error.get_or_insert_with(|| problem.to_string());
            *file = None;
        }
    }

    /// Reads `reader` line by line into the output until it ends.
    pub async fn pump(&self, mut reader: impl AsyncBufRead + Unpin) {
        while let Some(line) = next_line(&mut reader).await {
            match line {
                ReadLine::Line(line) => self.line(&line),
                ReadLine::Overlong => self.line("[wschaos: a line over 64 KiB was cut]"),
            }
        }
    }

    /// The last lines, oldest first.
    pub fn tail(&self) -> Vec<String> {
        self.lock().tail.iter().cloned().collect()
    }

    /// The log file, if there is one.
    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path.clone()
    }

    /// What went wrong with the log, in words: bytes dropped past the cap, a failed write.
    pub fn problems(&self) -> Vec<String> {
        let state = self.lock();
        let mut problems = Vec::new();
        if state.dropped > 0 {
            problems.push(format!(
                "wrote more than {} MiB of output; {} bytes past that were not logged",
                MAX_LOG_BYTES >> 20,
                state.dropped
            ));
        }
        if let Some(error) = &state.error {
            problems.push(format!("its log could not be written: {error}"));
        }
        problems
    }
}

/// One line read by [`next_line`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadLine {
    /// A line, without its ending (invalid UTF-8 replaced).
    Line(String),
    /// A line longer than [`super::protocol::MAX_LINE_BYTES`], skipped to its end.
    Overlong,
}

/// The next line of `reader`, holding at most [`super::protocol::MAX_LINE_BYTES`] of it in
/// memory whatever the program writes; `None` at the end.
pub async fn next_line(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<ReadLine> {
    let limit = super::protocol::MAX_LINE_BYTES;
    let mut line = Vec::new();
    let mut overlong = false;
    loop {
        let buffer = match reader.fill_buf().await {
            Ok(buffer) => buffer,
            Err(_) => &[][..],
        };
        if buffer.is_empty() {
            return match (line.is_empty(), overlong) {
                (true, false) => None,
                (_, true) => Some(ReadLine::Overlong),
                (false, false) => Some(ReadLine::Line(text(line))),
            };
        }
        let (chunk, ended) = match buffer.iter().position(|b| *b == b'\n') {
            Some(end) => (&buffer[..end], Some(end + 1)),
            None => (buffer, None),
        };
        if !overlong {
            if line.len() + chunk.len() > limit {
                overlong = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = ended.unwrap_or(buffer.len());
        reader.consume(used);
        if ended.is_some() {
            return Some(if overlong { ReadLine::Overlong } else { ReadLine::Line(text(line)) });
        }
    }
}

fn text(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8]) -> Vec<ReadLine> {
        let mut reader = tokio::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        while let Some(line) = next_line(&mut reader).await {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn lines_are_split_across_buffer_refills() {
        let got = lines(b"first line\r\nsecond\n\nlast without end").await;
        let want = ["first line", "second", "", "last without end"].map(|l| ReadLine::Line(l.into()));
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn an_overlong_line_is_skipped_and_the_next_one_read() {
        let long = "x".repeat(super::super::protocol::MAX_LINE_BYTES + 1);
        let got = lines(format!("{long}\nafter\n").as_bytes()).await;
        assert_eq!(got, [ReadLine::Overlong, ReadLine::Line("after".into())]);
    }

    #[test]
    fn the_tail_keeps_the_last_lines_and_the_log_stops_at_its_cap() {
        let output = Output::open(None).unwrap();
        for n in 0..100 {
            output.line(&format!("line {n}"));
        }
        let tail = output.tail();
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail.first().map(String::as_str), Some("line 70"));
        assert_eq!(tail.last().map(String::as_str), Some("line 99"));
        assert!(output.problems().is_empty());
        output.lock().written = MAX_LOG_BYTES;
        output.line("one more");
        assert!(output.problems()[0].contains("more than 64 MiB"), "{:?}", output.problems());
    }
}
