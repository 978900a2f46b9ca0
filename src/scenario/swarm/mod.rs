//! The `swarm:` section: ranges over values the file sets, drawn anew for every seed of
//! `wschaos run --seeds` (swarm testing as TigerBeetle's VOPR does it: `options_swarm` in
//! tigerbeetle's src/vopr.zig derives every parameter of a run from its seed).
//!
//! The section is checked at load with the rest of the file: each key must name a field of
//! the format ([`fields`]) that the file sets, and each value must be a range of that field's
//! kind ([`range`]). A draw writes every drawn value into the file's text in place of the
//! token it varies (locate.rs knows its bytes) and loads the result like any scenario file, so
//! a drawn scenario is validated exactly as a written one is, contradictions included.

pub mod fields;
pub mod range;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use fields::FieldError;
use range::Range;

use super::error::{Diagnostic, ScenarioError};
use super::locate::{ByteSpan, Locations};
use super::model::Scenario;
use crate::seeds;

/// A validated `swarm:` section and the file text its draws are written into.
#[derive(Clone, Debug, PartialEq)]
pub struct Swarm {
    /// The entries in path order; an entry's position is its key index in
    /// `seeds::derive(seed, [SWARM, index])`.
    pub keys: Vec<SwarmKey>,
    /// The file name, for messages about a draw.
    file: String,
    /// The file's text.
    source: Arc<str>,
}

/// One entry: a field and the range it is drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct SwarmKey {
    /// The field path, as error messages write it: `faults[1].for`.
    pub path: String,
    /// The values it can take.
    pub range: Range,
    /// Where the file writes the value the draw replaces.
    span: ByteSpan,
}

/// One drawn value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawn {
    /// The field path.
    pub path: String,
    /// The value, as it is written into the file.
    pub value: String,
}

/// The drawn values of a seed, as `path = value, …`.
pub fn describe(drawn: &[Drawn]) -> String {
    let pairs: Vec<String> = drawn.iter().map(|d| format!("{} = {}", d.path, d.value)).collect();
    pairs.join(", ")
}

/// A seed's draw that the scenario does not accept.
#[derive(Debug)]
pub struct InvalidDraw {
    /// What was drawn.
    pub drawn: Vec<Drawn>,
    /// Every problem, located in the file as the draw rewrote it.
    pub error: ScenarioError,
}

impl InvalidDraw {
    /// The problems in one line each, without the source excerpts: `path: message`.
    pub fn problems(&self) -> Vec<String> {
        self.error
            .diagnostics
            .iter()
            .map(|d| if d.path.is_empty() { d.message.clone() } else { format!("{}: {}", d.path, d.message) })
            .collect()
    }
}

impl fmt::Display for InvalidDraw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the draw {} makes the scenario invalid:", describe(&self.drawn))?;
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for InvalidDraw {}

impl Swarm {
    /// The values `seed` draws, in path order.
    pub fn values(&self, seed: u64) -> Vec<Drawn> {
        self.keys
            .iter()
            .enumerate()
            .map(|(index, key)| {
                let mut rng = seeds::derive(seed, &[seeds::SWARM, index as u64]);
                Drawn { path: key.path.clone(), value: key.range.draw(&mut rng) }
            })
            .collect()
    }

    /// The scenario of `seed`: the file with each drawn value written in, loaded again.
    pub fn draw(&self, seed: u64) -> Result<(Scenario, Vec<Drawn>), InvalidDraw> {
        let drawn = self.values(seed);
        let mut text = self.source.to_string();
        let mut edits: Vec<(ByteSpan, &str)> =
            self.keys.iter().zip(&drawn).map(|(key, d)| (key.span, d.value.as_str())).collect();
        // From the end of the file backwards, so earlier spans keep their offsets.
        edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
        for (span, value) in edits {
            text.replace_range(span.range(), value);
        }
        match Scenario::parse(&text, &self.file) {
            Ok(scenario) => Ok((scenario, drawn)),
            Err(error) => Err(InvalidDraw { drawn, error }),
        }
    }
}

/// Checks the `swarm:` section against the file, reporting every problem.
pub(super) fn check(
    section: Option<&BTreeMap<String, String>>,
    locations: &Locations,
    text: &str,
    file: &str,
) -> Result<Option<Swarm>, Vec<Diagnostic>> {
    let Some(section) = section else { return Ok(None) };
    let mut problems = Vec::new();
    if section.is_empty() {
        problems.push(Diagnostic::at(
            "swarm",
            "the swarm section is empty; add entries `path: LOW..HIGH` or remove it",
        ));
    }
    let mut keys = Vec::new();
    for (path, written) in section {
        let at = format!("swarm.{path}");
        let kind = match fields::kind_of(path) {
            Ok(kind) => kind,
            Err(FieldError::Unknown { message, help }) => {
                problems.push(Diagnostic::at(&at, message).maybe_help(help).on_key());
                continue;
            }
            Err(FieldError::NotVariable(why)) => {
                problems.push(
                    Diagnostic::at(&at, format!("`{path}` cannot be varied: {why}"))
                        .help("a swarm varies durations, whole numbers, numbers, rates, byte rates, shares and sizes")
                        .on_key(),
                );
                continue;
            }
        };
        let span = match locations.get(path) {
            None => {
                problems.push(
                    Diagnostic::at(
                        &at,
                        format!("the file does not set `{path}`; swarm can only vary a value the file sets"),
                    )
                    .help(format!(
                        "write a value for `{path}` in the file; each seed replaces it with a draw"
                    ))
                    .on_key(),
                );
                None
            }
            Some(spot) => match spot.scalar {
                Some(span) if locations.inside_alias(path) || locations.repeated(span) => {
                    problems.push(
                        Diagnostic::at(&at, format!("`{path}` shares its value with other fields through an anchor, so a draw would change them too"))
                            .help("write the value out at this field")
                            .on_key(),
                    );
                    None
                }
                Some(span) => Some(span),
                None => {
                    problems.push(
                        Diagnostic::at(&at, format!("`{path}` is not a single value in the file")).on_key(),
                    );
                    None
                }
            },
        };
        match Range::parse(kind, written) {
            Ok(range) => keys.extend(span.map(|span| SwarmKey { path: path.clone(), range, span })),
            Err(message) => problems.push(Diagnostic::at(&at, message)),
        }
    }
    if problems.is_empty() {
        Ok(Some(Swarm { keys, file: file.to_string(), source: text.into() }))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests;
