//! The `swarm:` section: what it accepts, and that a draw rewrites exactly the values it varies.

use std::time::Duration;

use super::range::Kind;
use super::*;

const BASE: &str = "version: 1
name: swarmed
duration: 30s
engine: sim
clients:
  count: 8
  start_spread: 1s
  heartbeat: { ping_every: 5s, pong_timeout: \"2s\" }
faults:
  - at: 5s
    for: 10s
    blackhole: {}
";

fn load(swarm: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(&format!("{BASE}swarm:\n{swarm}"), "swarmed.yaml")
}

fn messages(error: &ScenarioError) -> Vec<String> {
    error.diagnostics.iter().map(|d| format!("{}: {}", d.path, d.message)).collect()
}

#[test]
fn keys_are_kept_in_path_order_with_their_kinds() {
    let scenario =
        load("  faults[0].for: 5s..15s\n  clients.count: 10..50\n  clients.heartbeat.pong_timeout: 1s..4s\n")
            .unwrap();
    let swarm = scenario.swarm.unwrap();
    let keys: Vec<(&str, Kind, String)> =
        swarm.keys.iter().map(|k| (k.path.as_str(), k.range.kind(), k.range.to_string())).collect();
    assert_eq!(
        keys,
        [
            ("clients.count", Kind::Integer { max: u32::MAX.into() }, "10..50".to_string()),
            ("clients.heartbeat.pong_timeout", Kind::Duration, "1s..4s".to_string()),
            ("faults[0].for", Kind::Duration, "5s..15s".to_string()),
        ]
    );
    // Without --seeds the file's own values hold.
    assert_eq!(scenario.clients.count, 8);
}

#[test]
fn a_draw_writes_each_value_in_place_and_nothing_else() {
    let scenario = load("  clients.count: 10..50\n  clients.heartbeat.pong_timeout: 1s..4s\n").unwrap();
    let swarm = scenario.swarm.as_ref().unwrap();
    let (drawn, values) = swarm.draw(11).unwrap();
    assert_eq!(values, swarm.values(11), "the values are the seed's");
    let count: u32 = values[0].value.parse().unwrap();
    assert!((10..=50).contains(&count));
    assert_eq!(drawn.clients.count, count);
    let pong = drawn.strategies[0].settings.heartbeat.unwrap().pong_timeout.unwrap();
    assert_eq!(
        Some(pong),
        range::Kind::Duration.parse(&values[1].value).ok().map(|n| Duration::from_nanos(n as u64))
    );
    // Everything the swarm does not name is as the file has it (the quoted value too).
    let mut expected = scenario.clone();
    expected.clients.count = count;
    expected.strategies[0].settings.heartbeat.as_mut().unwrap().pong_timeout = Some(pong);
    assert_eq!(Scenario { swarm: None, ..drawn }, Scenario { swarm: None, ..expected });
}

#[test]
fn the_same_seed_draws_the_same_scenario_and_seeds_differ() {
    let scenario = load("  clients.count: 10..50\n  faults[0].for: 5s..15s\n").unwrap();
    let swarm = scenario.swarm.unwrap();
    assert_eq!(swarm.draw(5).unwrap().0, swarm.draw(5).unwrap().0);
    let distinct: std::collections::BTreeSet<String> =
        (1..=20).map(|seed| describe(&swarm.values(seed))).collect();
    assert!(distinct.len() >= 19, "20 seeds, almost surely 20 draws: {distinct:?}");
}

#[test]
fn a_draw_the_scenario_rejects_names_what_was_drawn() {
    // Clients still starting after the faults end is a contradiction the validator catches.
    let scenario = load("  clients.start_spread: 1s..60s\n").unwrap();
    let swarm = scenario.swarm.unwrap();
    let invalid = (1..=50).find_map(|seed| swarm.draw(seed).err()).expect("some start_spread over 30s");
    let spread = Kind::Duration.parse(&invalid.drawn[0].value).unwrap();
    assert!(spread > 30e9, "{}", invalid.drawn[0].value);
    assert_eq!(invalid.problems().len(), 1);
    assert!(invalid.problems()[0].starts_with("clients.start_spread: clients would still be starting"));
    assert!(invalid.to_string().starts_with(&format!(
        "the draw clients.start_spread = {} makes the scenario invalid:",
        invalid.drawn[0].value
    )));
}

#[test]
fn every_problem_in_the_section_is_reported_at_once() {
    let error = load(
        "  clients.heartbeat.ping_evry: 1s..2s\n  clients.read_timeout: 10s..20s\n  clients.count: 50..10\n  faults[0].for: 5..15s\n  name: a..b\n",
    )
    .unwrap_err();
    assert_eq!(
        messages(&error),
        [
            "swarm.clients.heartbeat.ping_evry: `clients.heartbeat` has no field `ping_evry`; its fields are ping_every, pong_timeout",
            "swarm.clients.read_timeout: the file does not set `clients.read_timeout`; swarm can only vary a value the file sets",
            "swarm.clients.count: the range is backwards: 50 is more than 10; write `10..50`",
            "swarm.faults[0].for: the low end is not a duration: `5` has no unit; write a duration like `5s` or `5ms`",
            "swarm.name: `name` cannot be varied: it is text",
        ]
    );
    assert!(error.diagnostics.windows(2).all(|pair| pair[0].position < pair[1].position), "in file order");
}

#[test]
fn an_alias_varies_alone_but_an_anchored_or_shared_value_cannot() {
    let faults = "faults:
  - at: 5s
    for: &long 10s
    blackhole: {}
    target: &half { share: 50% }
  - at: 20s
    for: *long
    stall: {}
    target: *half
";
    let text = BASE.split("faults:").next().unwrap().to_string() + faults;
    // An alias of a scalar is a token of its own: the draw changes that use only.
    let alias = Scenario::parse(&format!("{text}swarm:\n  faults[1].for: 1s..5s\n"), "a.yaml").unwrap();
    let (drawn, values) = alias.swarm.as_ref().unwrap().draw(3).unwrap();
    assert_eq!(drawn.faults[0].timeline, alias.faults[0].timeline);
    assert_ne!(drawn.faults[1].timeline, alias.faults[1].timeline, "{values:?}");
    // The anchored value itself, and a value inside an aliased map or the map it aliases, are
    // written once for both faults.
    for (path, range) in [
        ("faults[0].for", "1s..5s"),
        ("faults[1].target.share", "10%..90%"),
        ("faults[0].target.share", "10%..90%"),
    ] {
        let error = Scenario::parse(&format!("{text}swarm:\n  {path}: {range}\n"), "a.yaml").unwrap_err();
        assert_eq!(
            messages(&error),
            [format!(
                "swarm.{path}: `{path}` shares its value with other fields through an anchor, so a draw would change them too"
            )]
        );
    }
}
