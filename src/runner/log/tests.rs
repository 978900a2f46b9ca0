//! events.jsonl lines: the strategy tag and its escaping, the file log, the comparison of two runs.

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
    let path = std::env::temp_dir().join(format!("wschaos-log-{}-{}.jsonl", std::process::id(), lines.len()));
    std::fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    path
}

#[test]
fn a_file_log_writes_whole_lines_and_says_when_it_cannot() {
    let path = std::env::temp_dir().join(format!("wschaos-log-{}-filelog.jsonl", std::process::id()));
    let mut log = FileLog::create(&path).unwrap();
    log.line("{\"a\":1}").unwrap();
    log.line("{\"b\":2}").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "lines wait for a flush");
    log.flush().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n{\"b\":2}\n");
    assert!(log.failure().is_none());
    std::fs::remove_file(&path).unwrap();

    // /dev/full takes no byte: the failure names the file, and the log stops asking for lines.
    let mut full = FileLog::create(Path::new("/dev/full")).unwrap();
    full.line("{}").unwrap();
    full.flush().unwrap();
    let failure = full.failure().expect("a full disk is a failure");
    assert_eq!(failure.lines, 0);
    assert_eq!(
        failure.to_string(),
        "cannot write /dev/full: No space left on device (os error 28); writing it stopped after the first 0 events"
    );
    assert!(!full.wants_lines());
    let missing = FileLog::create(Path::new("/nonexistent/wschaos/events.jsonl")).unwrap_err();
    assert!(missing.to_string().starts_with("cannot create /nonexistent/wschaos/events.jsonl"), "{missing}");
}

#[test]
fn the_first_differing_line_is_kept_with_both_versions() {
    let path = reference(&["a", "b", "c"]);
    let mut log = CompareLog::open(&path).unwrap();
    for line in ["a", "x", "y"] {
        log.line(line).unwrap();
    }
    let difference = log.finish().unwrap();
    assert_eq!(difference, Some(Difference { line: 2, first: Some("b".into()), second: Some("x".into()) }));
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
    assert_eq!(longer.finish().unwrap(), Some(Difference { line: 3, first: None, second: Some("c".into()) }));
    let mut same = CompareLog::open(&path).unwrap();
    same.line("a").unwrap();
    same.line("b").unwrap();
    assert_eq!(same.finish().unwrap(), None);
}
