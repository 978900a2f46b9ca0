//! The committed JSON Schema matches the one generated from the spec types, and the example
//! scenarios validate against it, so editors that use it give the same answers as wschaos.

use std::path::{Path, PathBuf};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn committed_schema() -> serde_json::Value {
    let text = std::fs::read_to_string(scenarios_dir().join("scenario.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn yaml_as_json(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap()
}

#[test]
fn committed_schema_is_up_to_date() {
    assert!(
        committed_schema() == wschaos::scenario::json_schema(),
        "scenarios/scenario.schema.json is stale: run `cargo run -- schema > scenarios/scenario.schema.json`"
    );
}

#[test]
fn every_example_validates_against_the_schema() {
    let validator = jsonschema::validator_for(&committed_schema()).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let instance = yaml_as_json(&std::fs::read_to_string(&path).unwrap());
            let errors: Vec<String> = validator.iter_errors(&instance).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} examples found");
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let validator = jsonschema::validator_for(&committed_schema()).unwrap();
    let flaky = std::fs::read_to_string(scenarios_dir().join("flaky.yaml")).unwrap();
    let bad = [
        flaky.replace("ping_every: 5s, pong_timeout: 3s", "ping_every: 5s, pong_timout: 3s"),
        flaky.replace("stall: { direction: both }", "stall: { direction: both, colour: red }"),
        flaky.replace("engine: live", "engine: turbo"),
        flaky.replace("messages_lost:", "messages_lots:"),
    ];
    for text in bad {
        assert!(!validator.is_valid(&yaml_as_json(&text)), "schema accepted:\n{text}");
        assert!(wschaos::Scenario::parse(&text, "mutated.yaml").is_err());
    }
}

#[test]
fn the_schema_requires_only_what_the_loader_requires() {
    // `slo` and `swarm` have hand-written schemas; they must stay optional all the same.
    let minimal = "version: 1\nname: minimal\nduration: 10s\nclients: { count: 1 }\n";
    assert!(wschaos::Scenario::parse(minimal, "minimal.yaml").is_ok());
    let validator = jsonschema::validator_for(&committed_schema()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&yaml_as_json(minimal)).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}
