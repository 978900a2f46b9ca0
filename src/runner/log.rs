//! A run's events.jsonl lines: how an event becomes its line, tagged with the strategy
//! ([`TaggedLines`]), and where the lines go: a file as they happen, nowhere (swarm runs keep
//! only the reports), or a comparison with the lines an earlier run wrote
//! (`--check-determinism`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Lines, Write};
use std::path::Path;

use tokio::time::Instant;

use crate::recorder::{Recorded, write_jsonl_line};

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

/// Writes the lines to a file.
#[derive(Debug)]
pub struct FileLog(BufWriter<File>);

impl FileLog {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> io::Result<FileLog> {
        Ok(FileLog(BufWriter::new(File::create(path)?)))
    }
}

impl EventLog for FileLog {
    fn line(&mut self, line: &str) -> io::Result<()> {
        self.0.write_all(line.as_bytes())?;
        self.0.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
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
mod tests {
    use super::*;
    use crate::client::{ClientEvent, ClientEventKind};
    use crate::recorder::jsonl_line;

    /// Keeps the lines.
    impl EventLog for Vec<String> {
        fn line(&mut self, line: &str) -> io::Result<()> {
            self.push(line.to_string());
            Ok(())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_is_the_strategy_tag_then_the_events_own_fields() {
        let origin = Instant::now();
        let event = |n| {
            let at = origin + std::time::Duration::from_millis(1500);
            Recorded::Client(ClientEvent { at, client: 7, kind: ClientEventKind::Attempt { n } })
        };
        let mut lines = TaggedLines::new("my \"odd\" name");
        let mut out = Vec::new();
        lines.write(&event(1), origin, &mut out).unwrap();
        lines.write(&event(22), origin, &mut out).unwrap();
        assert_eq!(
            out,
            [
                r#"{"strategy":"my \"odd\" name","t":1.5,"source":"client","client":7,"event":"attempt","n":1}"#,
                r#"{"strategy":"my \"odd\" name","t":1.5,"source":"client","client":7,"event":"attempt","n":22}"#,
            ]
        );
        assert_eq!(out[1][r#"{"strategy":"my \"odd\" name","#.len()..], jsonl_line(&event(22), origin)[1..]);
    }

    fn reference(lines: &[&str]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("wschaos-log-{}-{}.jsonl", std::process::id(), lines.len()));
        std::fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        path
    }

    #[test]
    fn the_first_differing_line_is_kept_with_both_versions() {
        let path = reference(&["a", "b", "c"]);
        let mut log = CompareLog::open(&path).unwrap();
        for line in ["a", "x", "y"] {
            log.line(line).unwrap();
        }
        let difference = log.finish().unwrap();
        assert_eq!(
            difference,
            Some(Difference { line: 2, first: Some("b".into()), second: Some("x".into()) })
        );
    }

    #[test]
    fn a_run_that_is_shorter_or_longer_differs_where_it_ends() {
        let path = reference(&["a", "b"]);
        let mut shorter = CompareLog::open(&path).unwrap();
        shorter.line("a").unwrap();
        assert_eq!(
            shorter.finish().unwrap(),
            Some(Difference { line: 2, first: Some("b".into()), second: None })
        );
        let mut longer = CompareLog::open(&path).unwrap();
        for line in ["a", "b", "c"] {
            longer.line(line).unwrap();
        }
        assert_eq!(
            longer.finish().unwrap(),
            Some(Difference { line: 3, first: None, second: Some("c".into()) })
        );
        let mut same = CompareLog::open(&path).unwrap();
        same.line("a").unwrap();
        same.line("b").unwrap();
        assert_eq!(same.finish().unwrap(), None);
    }
}
