//! Every malformed scenario in tests/fixtures/bad/ fails to load with the located, helpful errors
//! written at its top.
//!
//! A fixture opens with one or more lines `# expect: LINE:COL PHRASE` (the comment itself is line
//! 1). For each of them the loader must return a diagnostic at exactly that line and column whose
//! own text (field path, message or help) contains the phrase. Matching the diagnostic's text
//! rather than the whole rendered error keeps a phrase from passing by accident because it appears
//! in the quoted source line, the file name, or another error. A fixture with N expectations must
//! give at least N diagnostics, and no diagnostic may be reported twice.
//!
//! Every fixture is checked and all failures are reported together, each with the file, the
//! unmet expectations and the full rendered error.

use std::fs;
use std::path::{Path, PathBuf};

use wschaos::Scenario;
use wschaos::scenario::{Diagnostic, Position};

/// The header line that states one expected error.
const EXPECT: &str = "# expect:";
/// Fewer fixtures than this means the directory was emptied or moved by mistake.
const MIN_FIXTURES: usize = 40;

/// One `# expect: LINE:COL PHRASE` line.
#[derive(Debug, PartialEq)]
struct Expectation {
    position: Position,
    phrase: String,
}

impl Expectation {
    fn describe(&self) -> String {
        format!("{}:{} {:?}", self.position.line, self.position.column, self.phrase)
    }
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.yaml` in tests/fixtures/bad/, sorted.
fn fixture_files() -> Vec<PathBuf> {
    let dir = manifest_dir().join("tests/fixtures/bad");
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// The expectations in the header: the `# expect:` lines at the very top of the file.
fn parse_expectations(text: &str) -> Result<Vec<Expectation>, String> {
    text.lines().map_while(|line| line.strip_prefix(EXPECT)).map(parse_expectation).collect()
}

/// Parses `LINE:COL PHRASE`, the part after `# expect:`.
fn parse_expectation(spec: &str) -> Result<Expectation, String> {
    let spec = spec.trim();
    let malformed = || format!("`{EXPECT} {spec}` is not of the form `{EXPECT} LINE:COL PHRASE`");
    let (place, phrase) = spec.split_once(' ').ok_or_else(malformed)?;
    let (line, column) = place.split_once(':').ok_or_else(malformed)?;
    let number = |text: &str| text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(malformed);
    let position = Position { line: number(line)?, column: number(column)? };
    let phrase = phrase.trim();
    if phrase.is_empty() {
        return Err(malformed());
    }
    Ok(Expectation { position, phrase: phrase.to_string() })
}

/// Whether the diagnostic's own text (path, message or help) contains `phrase`.
fn mentions(diagnostic: &Diagnostic, phrase: &str) -> bool {
    diagnostic.path.contains(phrase)
        || diagnostic.message.contains(phrase)
        || diagnostic.help.as_deref().is_some_and(|help| help.contains(phrase))
}

/// Checks one fixture; returns a report of everything wrong with it, or `None` if it passes.
fn check_fixture(path: &Path) -> Option<String> {
    let name = path.strip_prefix(manifest_dir()).unwrap_or(path).display().to_string();
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Some(format!("{name}: cannot read the fixture: {e}")),
    };
    let expectations = match parse_expectations(&text) {
        Ok(list) if list.is_empty() => {
            return Some(format!("{name}: line 1 must be `{EXPECT} LINE:COL PHRASE`"));
        }
        Ok(list) => list,
        Err(message) => return Some(format!("{name}: {message}")),
    };
    let error = match Scenario::load(path) {
        Ok(_) => {
            let wanted: Vec<String> = expectations.iter().map(Expectation::describe).collect();
            return Some(format!(
                "{name}: loaded without any error, but expected:\n  {}",
                wanted.join("\n  ")
            ));
        }
        Err(error) => error,
    };

    let mut problems = Vec::new();
    for expectation in &expectations {
        let at_position: Vec<&Diagnostic> =
            error.diagnostics.iter().filter(|d| d.position == Some(expectation.position)).collect();
        if at_position.is_empty() {
            problems.push(format!(
                "expected {}: no error at {}:{}",
                expectation.describe(),
                expectation.position.line,
                expectation.position.column
            ));
        } else if !at_position.iter().any(|d| mentions(d, &expectation.phrase)) {
            problems.push(format!(
                "expected {}: the error at that position does not mention {:?}",
                expectation.describe(),
                expectation.phrase
            ));
        }
    }
    if error.diagnostics.len() < expectations.len() {
        problems.push(format!(
            "expected at least {} errors, got {}",
            expectations.len(),
            error.diagnostics.len()
        ));
    }
    for (index, diagnostic) in error.diagnostics.iter().enumerate() {
        if error.diagnostics[..index].contains(diagnostic) {
            problems.push(format!(
                "the error `{}: {}` is reported more than once",
                diagnostic.path, diagnostic.message
            ));
        }
    }

    if problems.is_empty() {
        None
    } else {
        Some(format!("{name}:\n  - {}\nThe full error was:\n{error}", problems.join("\n  - ")))
    }
}

#[test]
fn there_are_enough_fixtures() {
    let count = fixture_files().len();
    assert!(
        count >= MIN_FIXTURES,
        "expected at least {MIN_FIXTURES} fixtures in tests/fixtures/bad/, found {count}"
    );
}

#[test]
fn every_fixture_fails_with_the_errors_it_expects() {
    let files = fixture_files();
    let failures: Vec<String> = files.iter().filter_map(|path| check_fixture(path)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures in tests/fixtures/bad/ did not fail as expected:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn expectation_headers_parse() {
    let text = "# expect: 3:7 did you mean `stall`?\n# expect: 12:1 two  spaces\nversion: 1\n";
    let parsed = parse_expectations(text).unwrap();
    assert_eq!(
        parsed,
        [
            Expectation {
                position: Position { line: 3, column: 7 },
                phrase: "did you mean `stall`?".to_string()
            },
            Expectation { position: Position { line: 12, column: 1 }, phrase: "two  spaces".to_string() },
        ]
    );
    assert!(parse_expectations("version: 1\n").unwrap().is_empty());
    for bad in ["# expect: 3:7", "# expect: 3 phrase", "# expect: 0:1 phrase", "# expect: a:b phrase"] {
        assert!(parse_expectations(bad).is_err(), "{bad} should be rejected");
    }
}
