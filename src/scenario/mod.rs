//! The scenario language: YAML in, a validated [`Scenario`] out. Only this module knows YAML.
//!
//! Loading runs three passes, each reporting problems with file, line, column and field path:
//! 1. [`locate`] reads the file as a bare tree, which catches YAML syntax errors and records
//!    where every field is;
//! 2. serde reads the tree into the raw structs of [`spec`], which catches unknown keys and wrong
//!    shapes (the first such error ends this pass: serde cannot resume after it);
//! 3. [`validate`] parses every typed value and checks the parts against each other, and
//!    [`swarm`] checks the `swarm:` ranges against the fields they vary, reporting every
//!    problem they find.

pub mod command;
pub mod defaults;
pub mod error;
pub(crate) mod locate;
pub mod model;
pub mod preset_table;
pub mod presets;
pub mod program;
pub mod slo;
pub(crate) mod spec;
pub mod strategy;
pub mod swarm;
pub(crate) mod validate;

use std::path::Path;

use serde::Deserialize;

pub use error::{Diagnostic, Position, ScenarioError};
pub use model::*;

use locate::Locations;
use spec::ScenarioSpec;

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        Scenario::load_for(path, None)
    }

    /// Reads and validates a scenario file for a run on `engine` (the command line's choice,
    /// which overrides the file's): a scenario that cannot run there is a located error.
    /// Programs it names run in the file's folder.
    pub fn load_for(path: impl AsRef<Path>, engine: Option<Engine>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut scenario = Scenario::parse_for(&text, &file, engine)?;
                let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
                scenario.set_program_dir(dir);
                Ok(scenario)
            }
            Err(error) => Err(ScenarioError {
                file,
                diagnostics: vec![Diagnostic::at("", format!("cannot read the file: {error}"))],
                source: String::new(),
            }),
        }
    }

    /// Validates scenario text; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_for(text, file, None)
    }

    /// The names of the matrix entries that run: the client program's, or the strategies'.
    pub fn matrix_names(&self) -> Vec<String> {
        match &self.program {
            Some(program) => program.matrix().into_iter().map(|entry| entry.name).collect(),
            None => self.strategies.iter().map(|s| s.strategy.name.clone()).collect(),
        }
    }

    /// Sets the folder the scenario's programs run in (and their relative paths start from).
    pub fn set_program_dir(&mut self, dir: &Path) {
        if let Some(program) = &mut self.program {
            program.dir = dir.to_path_buf();
        }
        if let program::ServerUnderTest::Program(server) = &mut self.upstream {
            server.dir = dir.to_path_buf();
        }
    }

    /// Validates scenario text for a run on `engine`, as [`Scenario::load_for`] does.
    pub fn parse_for(text: &str, file: &str, engine: Option<Engine>) -> Result<Scenario, ScenarioError> {
        let fail = |diagnostics: Vec<Diagnostic>| ScenarioError {
            file: file.to_string(),
            diagnostics,
            source: text.to_string(),
        };
        let has_content = text.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if !has_content {
            let empty = Diagnostic::at("", "the file has no scenario in it")
                .help("a scenario needs at least `version`, `name`, `duration` and `clients`");
            return Err(fail(vec![Diagnostic { position: Some(Position { line: 1, column: 1 }), ..empty }]));
        }
        let locations = match Locations::index(text) {
            Ok(locations) => locations,
            Err(error) => return Err(fail(vec![yaml_error(&error, String::new())])),
        };
        let spec = read_spec(text).map_err(|diagnostic| {
            let mut diagnostic = *diagnostic;
            if diagnostic.message.starts_with("missing field") {
                // The library points after the map; the map's own key says where it is.
                diagnostic.position = locations.key(&diagnostic.path);
            }
            if diagnostic.position.is_none() {
                diagnostic.position = locations.key(&diagnostic.path);
            }
            fail(vec![diagnostic])
        })?;
        let swarm = swarm::check(spec.swarm.as_ref(), &locations, text, file);
        match (validate::validate(&spec, engine), swarm) {
            (Ok(scenario), Ok(swarm)) => Ok(Scenario { swarm, ..scenario }),
            (validated, swarm) => {
                let diagnostics =
                    validated.err().unwrap_or_default().into_iter().chain(swarm.err().unwrap_or_default());
                Err(fail(locate(diagnostics, &locations)))
            }
        }
    }
}

/// Gives each validation diagnostic its position, in file order, each once.
fn locate(diagnostics: impl Iterator<Item = Diagnostic>, locations: &Locations) -> Vec<Diagnostic> {
    let mut located: Vec<Diagnostic> = diagnostics
        .map(|mut d| {
            d.position = if d.points_at_key { locations.key(&d.path) } else { locations.value(&d.path) };
            d
        })
        .collect();
    located.sort_by(|a, b| (a.position, &a.path, &a.message).cmp(&(b.position, &b.path, &b.message)));
    // Settings checked once per matrix entry would otherwise repeat the same problem.
    located.dedup();
    located
}

/// Pass 2: serde into the raw structs, remembering the path of a failure.
fn read_spec(text: &str) -> Result<ScenarioSpec, Box<Diagnostic>> {
    let mut failed_at = None;
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |deserializer| {
        let mut track = serde_path_to_error::Track::new();
        let tracked = serde_path_to_error::Deserializer::new(deserializer, &mut track);
        ScenarioSpec::deserialize(tracked).inspect_err(|_| failed_at = Some(track.path().to_string()))
    })
    .map_err(|error| {
        let path = failed_at.unwrap_or_default();
        Box::new(yaml_error(&error, if path == "." { String::new() } else { path }))
    })
}

/// Turns a serde-saphyr error into a diagnostic: its bare message, made friendlier, with a
/// suggestion for a misspelt key or variant.
fn yaml_error(error: &serde_saphyr::Error, path: String) -> Diagnostic {
    let position = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| Position { line: l.line() as u32, column: l.column().max(1) as u32 });
    let text = error.to_string();
    let mut message = text.lines().next().unwrap_or_default().trim().to_string();
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_string();
    }
    // Library advice that means nothing to a scenario author.
    message = message.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    // serde-saphyr appends (or prefixes) the location; the diagnostic shows it once, up front.
    if let Some(p) = position {
        for decoration in [
            format!(" at line {}, column {}", p.line, p.column),
            format!("line {} column {}: ", p.line, p.column),
        ] {
            message = message.replace(&decoration, "");
        }
    }
    // Through an alias the library appends its own location text; the diagnostic has it already.
    if let Some(cut) = message.find(" at line ") {
        message.truncate(cut);
    }
    let message = friendlier(&message, &path);
    let help = suggestion(&message).or_else(|| {
        message.starts_with("mapping values are not allowed").then(|| {
            "check the indentation: this key is probably indented more or less than its siblings".to_string()
        })
    });
    let mut diagnostic = Diagnostic::at(path, message).maybe_help(help);
    diagnostic.position = position;
    diagnostic
}

/// Rewrites serde's terse type names into what a scenario author understands.
fn friendlier(message: &str, path: &str) -> String {
    // A parameterless fault kind (`reset: { code: 1006 }`) lists no expected fields.
    if message.starts_with("unknown field") && message.trim_end().ends_with("expected one of") {
        let kind = path.rsplit('.').nth(1).unwrap_or("this fault");
        return format!("`{kind}` takes no parameters; write `{kind}: {{}}`");
    }
    const REWRITES: &[(&str, &str)] = &[
        ("invalid u32", "expected a whole number, 0 or more"),
        ("invalid u64", "expected a whole number, 0 or more"),
        ("invalid u16", "expected a whole number from 0 to 65535"),
        ("invalid f64", "expected a number"),
        ("invalid floating point", "expected a number"),
        ("expected string scalar", "expected a single value, not a list or a map"),
        ("expected mapping start", "expected a map of `key: value` entries here"),
        ("budget breached: Depth", "the file nests too deeply to be a scenario"),
        ("recursion limit exceeded", "the file nests too deeply to be a scenario"),
        ("expected sequence start", "expected a list here"),
    ];
    for (from, to) in REWRITES {
        if message.starts_with(from) {
            return format!("{to} ({message})");
        }
    }
    message.to_string()
}

/// For "unknown field `x`, expected one of …" and "unknown variant …", the closest valid name.
fn suggestion(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field ").or_else(|| message.strip_prefix("unknown variant "))?;
    let (word, expected) = rest.split_once(", expected ")?;
    let word = word.trim_matches('`');
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    let candidates: Vec<&str> = expected
        .split([',', ' '])
        .map(|c| c.trim().trim_matches('`'))
        .filter(|c| !c.is_empty() && *c != "or")
        .collect();
    crate::suggest::did_you_mean(word, candidates.iter().copied())
}

/// The JSON Schema of the scenario format, generated from the raw structs.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ScenarioSpec);
    serde_json::to_value(schema).expect("a JSON schema always serializes")
}
