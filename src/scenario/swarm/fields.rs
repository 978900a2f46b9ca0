//! What a field path (`faults[1].for`) names in the scenario format, and which [`Kind`] of
//! range can vary it.
//!
//! The answer is read from the JSON Schema that spec/ generates, walked along the path, so
//! every field the format has is known here without a second list to keep in step: a new
//! field of a text type (`DurationText`, `RateText`, …) or a number can be varied the day it
//! is added. The schema is built once per process.

use std::sync::OnceLock;

use serde_json::Value;

use super::range::Kind;
use crate::suggest::did_you_mean;

/// Fields the schema types as free text that are durations when set to one.
const DURATION_WORDS: &[&str] = &["clients.read_timeout"];

/// Numeric fields that a swarm must not vary, and why.
const FIXED: &[(&str, &str)] = &[
    ("seed", "the seed of each run comes from --seeds, so the swarm does not draw it"),
    ("version", "the format version is not a setting"),
];

/// Why a path cannot be varied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// The path names no field of the format.
    Unknown {
        /// What is wrong.
        message: String,
        /// The closest field name, when one is close.
        help: Option<String>,
    },
    /// The field exists but holds no value a range describes.
    NotVariable(String),
}

/// One step of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `faults[1].drop_frames.kinds[0]` into its steps.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        steps.push(Step::Key(name));
        while let Some(inner) = rest.strip_prefix('[') {
            let (index, after) = inner.split_once(']')?;
            let plain = !index.is_empty() && index.chars().all(|c| c.is_ascii_digit());
            if !plain || (index.len() > 1 && index.starts_with('0')) {
                return None;
            }
            steps.push(Step::Index(index.parse().ok()?));
            rest = after;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(steps)
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(crate::scenario::json_schema)
}

/// The definition a `$ref` points at, or the node itself.
fn resolve(node: &Value) -> &Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/$defs/"))
        .and_then(|name| schema()["$defs"].get(name))
        .unwrap_or(node)
}

/// The shapes a field may take: an `Option` or a word-or-map is an `anyOf` of several, and an
/// optional word-or-map nests one in the other.
fn alternatives(node: &Value) -> Vec<&Value> {
    let node = resolve(node);
    match node.get("anyOf").and_then(Value::as_array) {
        Some(list) => list.iter().flat_map(alternatives).collect(),
        None if node["type"] == "null" => Vec::new(),
        None => vec![node],
    }
}

/// The name of the text type a field is written in (`DurationText`), if it is one.
fn text_type(node: &Value) -> Option<&str> {
    let direct = std::iter::once(node);
    let listed = node.get("anyOf").and_then(Value::as_array).into_iter().flatten();
    direct.chain(listed).find_map(|alt| alt.get("$ref").and_then(Value::as_str)?.strip_prefix("#/$defs/"))
}

/// Whether a schema's `type` (a word or a list of them) includes `wanted`.
fn has_type(node: &Value, wanted: &str) -> bool {
    match &node["type"] {
        Value::String(name) => name == wanted,
        Value::Array(names) => names.iter().any(|name| name == wanted),
        _ => false,
    }
}

/// The kind of range that varies the field at `path`.
pub fn kind_of(path: &str) -> Result<Kind, FieldError> {
    let Some(steps) = steps(path) else {
        return Err(FieldError::Unknown {
            message: format!(
                "`{path}` is not a field path; write one like `clients.heartbeat.ping_every` or `faults[1].for`"
            ),
            help: None,
        });
    };
    let mut node = schema();
    let mut walked = String::new();
    for step in steps {
        let shapes = alternatives(node);
        node = match step {
            Step::Key(name) => {
                let field = shapes.iter().find_map(|shape| {
                    shape["properties"]
                        .get(name)
                        .or_else(|| shape.get("additionalProperties").filter(|v| v.is_object()))
                });
                match field {
                    Some(field) => field,
                    None => return Err(unknown_field(&walked, name, &shapes)),
                }
            }
            Step::Index(_) => match shapes.iter().find_map(|shape| shape.get("items")) {
                Some(items) => items,
                None => return Err(FieldError::NotVariable(format!("`{walked}` is not a list"))),
            },
        };
        walked = match step {
            Step::Key(name) if walked.is_empty() => name.to_string(),
            Step::Key(name) => format!("{walked}.{name}"),
            Step::Index(index) => format!("{walked}[{index}]"),
        };
    }
    if let Some((_, why)) = FIXED.iter().find(|(fixed, _)| *fixed == path) {
        return Err(FieldError::NotVariable(why.to_string()));
    }
    if DURATION_WORDS.contains(&path) {
        return Ok(Kind::Duration);
    }
    leaf_kind(node).ok_or_else(|| FieldError::NotVariable(format!("it is {}", describe(node))))
}

/// The kind of a field's value, if a range can describe it.
fn leaf_kind(node: &Value) -> Option<Kind> {
    let kind = match text_type(node) {
        Some("DurationText") => Kind::Duration,
        Some("RateText") => Kind::Rate,
        Some("ByteRateText") => Kind::ByteRate,
        Some("SizeText") => Kind::Size,
        Some("ShareText") => Kind::Share,
        Some("CountText") => Kind::Integer { max: u32::MAX.into() },
        Some(_) => return None,
        None if has_type(node, "integer") => {
            let max = match node["format"].as_str() {
                Some("uint8") => u8::MAX.into(),
                Some("uint16") => u16::MAX.into(),
                Some("uint32") => u32::MAX.into(),
                _ => u64::MAX,
            };
            Kind::Integer { max }
        }
        None if has_type(node, "number") => Kind::Number,
        None => return None,
    };
    Some(kind)
}

/// What a field that no range describes holds, for the message.
fn describe(node: &Value) -> String {
    match text_type(node) {
        Some("JitteredText") => {
            return "a duration with a spread (`10s ± 3s`), which a range cannot describe".into();
        }
        Some("CodeRangeText") => return "a close code range".into(),
        _ => {}
    }
    let shapes = alternatives(node);
    let shape = |test: &dyn Fn(&Value) -> bool| shapes.iter().any(|s| test(s));
    if shape(&|s| s.get("properties").is_some() || has_type(s, "object")) {
        "a map; name one of its values".into()
    } else if shape(&|s| s.get("items").is_some()) {
        "a list; name one of its items, like `[0]`".into()
    } else if shape(&|s| s.get("enum").is_some() || s.get("oneOf").is_some()) {
        "a choice of words".into()
    } else if shape(&|s| has_type(s, "boolean")) {
        "true or false".into()
    } else {
        "text".into()
    }
}

fn unknown_field(parent: &str, name: &str, shapes: &[&Value]) -> FieldError {
    let fields: Vec<&str> = shapes
        .iter()
        .filter_map(|shape| shape["properties"].as_object())
        .flat_map(|properties| properties.keys().map(String::as_str))
        .collect();
    let place = if parent.is_empty() { "a scenario".to_string() } else { format!("`{parent}`") };
    let message = if fields.is_empty() {
        format!("{place} has no fields, so `{name}` is not one")
    } else {
        format!("{place} has no field `{name}`; its fields are {}", fields.join(", "))
    };
    FieldError::Unknown { message, help: did_you_mean(name, fields.iter().copied()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_varied_kind_is_found_along_its_path() {
        let cases = [
            ("duration", Kind::Duration),
            ("clients.heartbeat.ping_every", Kind::Duration),
            ("clients.read_timeout", Kind::Duration),
            ("clients.count", Kind::Integer { max: u32::MAX.into() }),
            ("clients.max_attempts", Kind::Integer { max: u32::MAX.into() }),
            ("clients.workload.rate", Kind::Rate),
            ("clients.workload.size", Kind::Size),
            ("clients.strategy.base", Kind::Duration),
            ("clients.strategy.factor", Kind::Number),
            ("strategies[2].delays[0]", Kind::Duration),
            ("server.accept_rate", Kind::Rate),
            ("faults[1].for", Kind::Duration),
            ("faults[0].target.share", Kind::Share),
            ("faults[0].target.probability", Kind::Number),
            ("faults[3].bandwidth.rate", Kind::ByteRate),
            ("faults[3].close_frame.code", Kind::Integer { max: u16::MAX.into() }),
        ];
        for (path, kind) in cases {
            assert_eq!(kind_of(path), Ok(kind), "{path}");
        }
    }

    #[test]
    fn unknown_and_unvaried_fields_say_why() {
        let unknown = |path: &str| match kind_of(path) {
            Err(FieldError::Unknown { message, help }) => (message, help),
            other => panic!("{path}: {other:?}"),
        };
        let (message, help) = unknown("clients.heartbeat.ping_evry");
        assert!(
            message.starts_with("`clients.heartbeat` has no field `ping_evry`; its fields are"),
            "{message}"
        );
        assert_eq!(help.as_deref(), Some("did you mean `ping_every`?"));
        assert!(unknown("faults[1]..for").0.contains("is not a field path"));
        assert!(unknown("faults[01].for").0.contains("is not a field path"));
        assert!(unknown("clients.count.x").0.contains("`clients.count` has no fields"));
        let not_variable = |path: &str| match kind_of(path) {
            Err(FieldError::NotVariable(why)) => why,
            other => panic!("{path}: {other:?}"),
        };
        assert!(not_variable("name").contains("text"));
        assert!(not_variable("clients.heartbeat").contains("a map"));
        assert!(not_variable("faults").contains("a list"));
        assert!(not_variable("clients.delivery").contains("a choice of words"));
        assert!(not_variable("faults[0].every").contains("spread"));
        assert!(not_variable("seed").contains("--seeds"));
        assert!(not_variable("clients[0]").contains("`clients` is not a list"));
    }
}
