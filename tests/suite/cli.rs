//! The `wschaos` binary as a user runs it: messages, exit codes, and every subcommand's help.

use assert_cmd::Command;
use clap::CommandFactory;
use predicates::prelude::*;

fn wschaos() -> Command {
    let mut command = Command::cargo_bin("wschaos").unwrap();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

#[test]
fn verify_cli() {
    wschaos::cli::Cli::command().debug_assert();
}

#[test]
fn validate_prints_ok_for_each_good_file() {
    wschaos()
        .args(["validate", "scenarios/flaky.yaml", "scenarios/blackhole.yaml"])
        .assert()
        .code(0)
        .stdout("ok scenarios/flaky.yaml\nok scenarios/blackhole.yaml\n");
}

#[test]
fn validate_locates_the_error_and_exits_2() {
    let dir = tempdir();
    let bad = dir.join("bad.yaml");
    let text = std::fs::read_to_string("scenarios/flaky.yaml")
        .unwrap()
        .replace("pong_timeout: 3s", "pong_timout: 3s");
    std::fs::write(&bad, text).unwrap();
    wschaos()
        .args(["validate", "scenarios/flaky.yaml"])
        .arg(&bad)
        .assert()
        .code(2)
        .stdout("ok scenarios/flaky.yaml\n")
        .stderr(
            predicate::str::contains("bad.yaml:24:32: clients.heartbeat.pong_timout: unknown field")
                .and(predicate::str::contains("did you mean `pong_timeout`?")),
        );
}

#[test]
fn validate_reports_several_errors_at_once() {
    let dir = tempdir();
    let bad = dir.join("several.yaml");
    let text = std::fs::read_to_string("scenarios/flaky.yaml")
        .unwrap()
        .replace("count: 20", "count: 0")
        .replace("ping_every: 5s, pong", "ping_every: 0s, pong")
        .replace("share: 50%", "share: 150%");
    std::fs::write(&bad, text).unwrap();
    wschaos().arg("validate").arg(&bad).assert().code(2).stderr(
        predicate::str::contains("clients.count: at least one client")
            .and(predicate::str::contains("clients.heartbeat.ping_every: must be longer than 0s"))
            .and(predicate::str::contains("faults[0].target.share: a share cannot exceed 100%"))
            .and(predicate::str::contains("3 errors in")),
    );
}

#[test]
fn validate_of_a_missing_file_says_so() {
    wschaos()
        .args(["validate", "scenarios/nope.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("scenarios/nope.yaml: cannot read the file"));
}

#[test]
fn schema_is_json_naming_the_top_level_fields() {
    let output = wschaos().arg("schema").assert().code(0).get_output().stdout.clone();
    let schema: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    for key in ["version", "duration", "clients", "faults", "slo", "strategies"] {
        assert!(properties.contains_key(key), "schema lacks {key}");
    }
}

#[test]
fn presets_lists_every_preset_with_its_source() {
    let assert = wschaos().arg("presets").assert().code(0);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for name in wschaos::scenario::presets::PRESET_NAMES {
        assert!(stdout.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} missing");
    }
    assert!(stdout.contains("0s, 2s, 10s, 30s, give up"), "SignalR's table");
    assert!(stdout.contains("DefaultReconnectPolicy.ts"), "SignalR's source");
    assert!(stdout.contains("500ms–1.5s, 1s–3s, 2s–5s, 4s–5s, 5s"), "socket.io's ranges");
}

#[test]
fn completions_for_bash() {
    wschaos().args(["completions", "bash"]).assert().code(0).stdout(predicate::str::contains("_wschaos()"));
}

#[test]
fn run_rejects_a_strategy_the_scenario_does_not_have() {
    wschaos()
        .args(["run", "scenarios/flaky.yaml", "--strategy", "socketio"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no strategy `socketio`; it has aws-full-jitter"));
}

#[test]
fn every_subcommand_help_shows_an_example() {
    for sub in [
        "validate",
        "schema",
        "presets",
        "completions",
        "run",
        "echo",
        "proxy",
        "client",
        "report",
        "compare",
    ] {
        wschaos().args([sub, "--help"]).assert().code(0).stdout(predicate::str::contains("Example:"));
    }
}

#[test]
fn client_size_is_bounded_like_a_scenarios_message_size() {
    wschaos().args(["client", "--url", "ws://127.0.0.1:9/", "--size", "100GiB"]).assert().code(2).stderr(
        predicate::str::contains(
            "a message is at most 16MiB (tungstenite's frame limit), as in a scenario's workload",
        ),
    );
}

#[test]
fn bad_usage_exits_2() {
    wschaos().arg("frobnicate").assert().code(2);
    wschaos().arg("validate").assert().code(2);
}

/// A fresh folder under the target directory for files a test writes.
fn tempdir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{}-{}",
        std::process::id(),
        std::thread::current().name().unwrap_or("t").replace("::", "-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
