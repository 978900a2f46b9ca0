//! Errors a user can cause in a scenario file, and how they are shown.
//!
//! A [`Diagnostic`] names the field path, the location, what was expected and, where one exists,
//! a fix. A [`ScenarioError`] holds every diagnostic of one file and renders them with the
//! offending source line, so `wschaos validate` can print all of them at once.

use std::fmt;

/// A line and column in the scenario file, both 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Field path such as `clients.heartbeat.ping_every` or `faults[2].for`; empty for the
    /// document itself.
    pub path: String,
    /// Where in the file; `None` only when the file could not be read at all.
    pub position: Option<Position>,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it, when there is a likely fix ("did you mean `pong_timeout`?").
    pub help: Option<String>,
    /// Point at the field's key rather than its value (for "this field should not be here").
    pub points_at_key: bool,
}

impl Diagnostic {
    /// A diagnostic without a position yet; the loader fills it in from the path.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), position: None, message: message.into(), help: None, points_at_key: false }
    }

    /// Points the diagnostic at the field's key.
    pub fn on_key(mut self) -> Self {
        self.points_at_key = true;
        self
    }

    /// Adds a hint on how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a hint when there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// Every problem found in one scenario file.
#[derive(Debug)]
pub struct ScenarioError {
    /// The file name as the user gave it.
    pub file: String,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text, for showing the offending lines; empty if it could not be read.
    pub source: String,
}

impl ScenarioError {
    fn locate(&self, diagnostic: &Diagnostic) -> String {
        let place = match diagnostic.position {
            Some(p) => format!("{}:{}:{}", self.file, p.line, p.column),
            None => self.file.clone(),
        };
        if diagnostic.path.is_empty() {
            format!("{place}: {}", diagnostic.message)
        } else {
            format!("{place}: {}: {}", diagnostic.path, diagnostic.message)
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            writeln!(f, "error: {}", self.locate(diagnostic))?;
            if let Some(position) = diagnostic.position
                && let Some(line) = self.source.lines().nth(position.line as usize - 1)
            {
                let number = position.line.to_string();
                let pad = " ".repeat(number.len());
                writeln!(f, "{pad} |")?;
                // Tabs shown as one space each, so the caret's column count lines up.
                writeln!(f, "{number} | {}", line.replace('\t', " "))?;
                let caret = " ".repeat(position.column.saturating_sub(1) as usize);
                writeln!(f, "{pad} | {caret}^")?;
            }
            if let Some(help) = &diagnostic.help {
                writeln!(f, "  = help: {help}")?;
            }
        }
        if self.diagnostics.len() > 1 {
            write!(f, "\n{} errors in {}", self.diagnostics.len(), self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}
