//! `wschaos run` end to end: every example on the sim engine, verdicts and exit codes, the same
//! seed giving the same bytes, a shortened flaky run over real TCP, and Ctrl-C mid-run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use wschaos::runner::{self, CompareLog, EventLog, FileLog, Interrupt, RunOptions};
use wschaos::scenario::{Engine, Scenario};

use crate::process::Process;

pub fn wschaos() -> Command {
    let mut command = Command::cargo_bin("wschaos").unwrap();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// A fresh folder for one test's reports.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("run-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// Writes a scenario file for a test and returns its path.
pub fn scenario_file(name: &str, text: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_example_runs_on_sim_and_writes_every_report() {
    let mut examples: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .collect();
    examples.sort();
    assert!(examples.len() >= 7);
    for example in examples {
        let name = example.file_stem().unwrap().to_string_lossy().to_string();
        let dir = out_dir(&name);
        let output = wschaos()
            .arg("run")
            .arg(&example)
            .args(["--engine", "sim", "--check-determinism", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        let code = output.status.code().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("deterministic: both runs gave the same events, report.json and report.html"),
            "{name}: {stderr}"
        );
        assert!(code == 0 || code == 1, "{name}: exit {code}: {stderr}");
        let report = report(&dir);
        assert_eq!(report["engine"], "sim");
        for file in ["report.json", "summary.md", "junit.xml", "events.jsonl"] {
            assert!(dir.join(file).metadata().unwrap().len() > 0, "{name}: {file}");
        }
        for strategy in report["strategies"].as_array().unwrap() {
            let stem = strategy["name"].as_str().unwrap();
            assert!(dir.join(format!("{stem}.hgrm")).exists(), "{name}: {stem}.hgrm");
        }
        let summary = String::from_utf8_lossy(&output.stdout);
        assert!(summary.starts_with(if code == 0 { "## PASS" } else { "## FAIL" }), "{name}: verdict first");
    }
}

#[test]
fn flaky_tells_its_story_on_sim() {
    let dir = out_dir("flaky-story");
    wschaos().args(["run", "scenarios/flaky.yaml", "--engine", "sim", "--out"]).arg(&dir).assert().code(0);
    let report = report(&dir);
    assert_eq!(report["verdict"], "pass");
    let strategy = &report["strategies"][0];
    assert_eq!(strategy["messages"]["lost"], 0, "at_least_once loses nothing");
    assert_eq!(strategy["messages"]["duplicated"], 0);
    assert_eq!(strategy["unconverged"], serde_json::json!([]), "every client open and drained at the end");
    let offered = strategy["messages"]["offered"].as_u64().unwrap();
    assert!(offered > 20 * 20 * 59, "20 clients at 20/s until the heal at 60 s: {offered}");
    let incidents = strategy["incidents"].as_array().unwrap();
    let resets = incidents.iter().filter(|i| i["reason"] == "reset").count();
    assert_eq!(resets, 10 + 20, "half of 20 clients at 5 s, all of them at 33 s");
    let heartbeat = incidents.iter().filter(|i| i["reason"] == "heartbeat_timeout").count();
    assert_eq!(
        heartbeat,
        20 + 2 * 20,
        "the stall, then each of the two bursts of pong loss, for every client"
    );
    assert!(strategy["faults"].as_array().unwrap().iter().all(|f| f["hits"].as_u64().unwrap() > 0));
    let excess_p95 = strategy["metrics"]["excess_after_heal"]["p95"].as_f64().unwrap();
    assert!(excess_p95 < 1.0, "back within a second of each heal: {excess_p95}");
    // The proxy's frame observer, on its own, sees the same recoveries as the clients do: on
    // the sim engine an echo crosses the proxy at the instant the client reads it.
    let metrics = &strategy["metrics"];
    for figure in ["count", "p50", "p90", "p99", "max"] {
        assert_eq!(
            metrics["observed_recovery_time"][figure], metrics["recovery_time"][figure],
            "observed_recovery_time {figure}"
        );
    }
}

#[test]
fn the_same_seed_gives_byte_identical_reports_on_sim() {
    let (first, second) = (out_dir("same-seed-a"), out_dir("same-seed-b"));
    for dir in [&first, &second] {
        wschaos()
            .args(["run", "scenarios/flaky.yaml", "--engine", "sim", "--seed", "7", "--out"])
            .arg(dir)
            .assert()
            .code(0);
    }
    for file in ["report.json", "summary.md", "junit.xml", "events.jsonl", "aws-full-jitter.hgrm"] {
        let a = std::fs::read(first.join(file)).unwrap();
        let b = std::fs::read(second.join(file)).unwrap();
        assert!(a == b, "{file} differs between two runs with seed 7");
    }
    let third = out_dir("same-seed-c");
    wschaos()
        .args(["run", "scenarios/flaky.yaml", "--engine", "sim", "--seed", "8", "--out"])
        .arg(&third)
        .assert()
        .code(0);
    assert_ne!(
        std::fs::read(first.join("events.jsonl")).unwrap(),
        std::fs::read(third.join("events.jsonl")).unwrap()
    );
}

const SMALL: &str = "version: 1\nname: small\nduration: 10s\nquiet_period: 5s\nengine: sim\nclients:\n  count: 4\n  strategy: { kind: fixed, delay: 500ms }\n  workload: { rate: 10/s }\n";

#[test]
fn a_failing_slo_exits_1_and_shows_in_junit() {
    let path = scenario_file(
        "failing-slo",
        &format!("{SMALL}faults:\n  - at: 2s\n    reset: {{}}\nslo:\n  recovery_time: [\"max < 1ms\"]\n"),
    );
    let dir = out_dir("failing-slo");
    wschaos()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(&dir)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("## FAIL"));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("recovery_time measured 5"), "the measured value is in the failure: {junit}");
}

#[test]
fn a_fault_that_hits_nothing_exits_3() {
    // A limit of 1 GiB on a link that carries a few KiB never acts.
    let path = scenario_file(
        "unhit",
        &format!("{SMALL}faults:\n  - at: 2s\n    for: 5s\n    limit: {{ bytes: 1GiB }}\n"),
    );
    let dir = out_dir("unhit");
    wschaos().arg("run").arg(&path).arg("--out").arg(&dir).assert().code(3);
    assert_eq!(report(&dir)["verdict"], "inconclusive");
}

#[tokio::test]
async fn ctrl_c_mid_run_writes_an_interrupted_report() {
    let text = "version: 1\nname: long\nduration: 60s\nquiet_period: 10s\nengine: live\nclients:\n  count: 3\n  workload: { rate: 10/s }\nfaults:\n  - at: 1s\n    reset: {}\n";
    let path = scenario_file("long", text);
    let dir = out_dir("interrupted");
    let mut child = Process::start_in(
        &["run", path.to_str().unwrap(), "--out", dir.to_str().unwrap()],
        Stdio::null(),
        None,
    );
    // Wait until the reset at 1 s has been recorded (events.jsonl is flushed every 250 ms of
    // run time), then press Ctrl-C.
    let events = dir.join("events.jsonl");
    let mut recorded = false;
    for _ in 0..300 {
        recorded = std::fs::read_to_string(&events).is_ok_and(|text| text.contains("fault_hit"));
        if recorded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recorded, "the reset was recorded within 15 s");
    child.signal("INT");
    let status = child.wait();
    assert_eq!(status.code(), Some(130), "exit 130 after Ctrl-C");
    let report = report(&dir);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["verdict"], "interrupted");
    let strategy = &report["strategies"][0];
    assert_eq!(strategy["verdict"], "interrupted", "the strategy cut short is not failed");
    assert!(strategy["interrupted_at"].as_f64().unwrap() >= 1.0, "cut after the reset at 1 s");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(!junit.contains("<failure") && junit.contains("<skipped"), "{junit}");
    let text = std::fs::read_to_string(&events).unwrap();
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        let _: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("a torn line {line:?}: {e}"));
    }
}

/// At-least-once clients through a 20 s stall from 2 s that no heartbeat notices; the stall
/// releases what it held, so the whole run loses nothing.
const STALLED: &str = "version: 1\nname: stalled\nduration: 40s\nquiet_period: 10s\nengine: sim\nclients:\n  count: 5\n  workload: { rate: 50/s }\n  delivery: at_least_once\n  heartbeat: { ping_every: 30s, pong_timeout: 30s }\nfaults:\n  - at: 2s\n    for: 20s\n    stall: { direction: both }\nslo:\n  messages_lost: [\"count == 0\"]\n  availability: [\"mean > 0.5\"]\n";

/// Runs STALLED on sim, interrupted at the first progress tick at or after `cut` seconds of
/// run time (the paused clock makes that instant exact).
fn stalled_run_cut_at(cut: f64) -> wschaos::outcome::RunReport {
    let scenario = Scenario::parse(STALLED, "stalled.yaml").unwrap();
    let options = RunOptions {
        file: "stalled.yaml".into(),
        engine: Engine::Sim,
        seed: 3,
        strategies: Vec::new(),
        logs: None,
    };
    let interrupt = Interrupt::default();
    let pressed = interrupt.clone();
    let progress: runner::Progress = Arc::new(move |update| {
        if let runner::Update::Tick(tick) = update
            && tick.elapsed.as_secs_f64() >= cut
        {
            pressed.trigger();
        }
    });
    runner::run(&scenario, &options, &mut runner::NoLog, &interrupt, progress).unwrap()
}

#[test]
fn an_interrupt_during_a_stall_is_not_a_failure_and_leaves_the_held_messages_unresolved() {
    let report = stalled_run_cut_at(7.0);
    assert!(report.interrupted);
    assert_eq!(report.verdict, wschaos::Verdict::Interrupted);
    let strategy = &report.strategies[0];
    assert_eq!(strategy.verdict, wschaos::Verdict::Interrupted, "not failed: it did not run to its end");
    assert_eq!(strategy.interrupted_at, Some(7.0));
    let messages = strategy.messages;
    // At-least-once keeps every message until it is echoed: none was given up on, and the
    // ones the stall holds at the cut are unresolved, not lost.
    assert_eq!(messages.lost, 0, "{messages:?}");
    assert!(messages.unresolved >= 5 * 50 * 4, "5 s of messages held by the stall: {messages:?}");
    assert_eq!(messages.echoed + messages.unresolved, messages.offered, "{messages:?}");
    assert_eq!(strategy.attempts_per_second.len(), 7, "the figures end at the cut");

    let junit = wschaos::report::junit::render(&report);
    assert!(!junit.contains("<failure"), "{junit}");
    assert_eq!(junit.matches("<skipped").count(), 3, "two SLOs and the coverage case: {junit}");
    let summary = wschaos::report::markdown::render(&report);
    assert!(!summary.contains("**FAIL**") && summary.contains("not judged (interrupted)"), "{summary}");
    let json = wschaos::report::json::render(&report);
    assert!(json.contains(&format!("\"unresolved\": {}", messages.unresolved)), "{json}");

    // The same cut on the paused clock gives the same report.
    assert_eq!(stalled_run_cut_at(7.0), report);
    // Run to its end, the stall releases what it held: nothing is lost, and the run passes.
    let whole = stalled_run_cut_at(f64::INFINITY);
    assert!(!whole.interrupted);
    assert_eq!(whole.verdict, wschaos::Verdict::Pass);
    assert_eq!((whole.strategies[0].messages.lost, whole.strategies[0].messages.unresolved), (0, 0));
}

#[test]
fn the_committed_example_reports_are_current() {
    // reports/example/ is produced by the command in README.md; the sim engine makes it exact.
    let dir = out_dir("example");
    wschaos()
        .args(["run", "scenarios/blackhole.yaml", "--engine", "sim", "--out"])
        .arg(&dir)
        .assert()
        .code(0);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example");
    for file in ["report.json", "summary.md", "junit.xml", "events.jsonl", "socketio.hgrm"] {
        let fresh = std::fs::read_to_string(dir.join(file)).unwrap();
        let kept = std::fs::read_to_string(committed.join(file)).unwrap();
        assert!(
            fresh == kept,
            "reports/example/{file} is stale: run `cargo run --release -- run scenarios/blackhole.yaml --engine sim --out reports/example`"
        );
    }
}

/// pong-loss.yaml as shipped, on `engine`: a pass, every break found by the heartbeat.
pub fn pong_loss_on(engine: &str) -> Value {
    let dir = out_dir(&format!("pong-loss-{engine}"));
    wschaos()
        .args(["run", "scenarios/pong-loss.yaml", "--engine", engine, "--out"])
        .arg(&dir)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("## PASS"));
    let report = report(&dir);
    let strategy = &report["strategies"][0];
    assert_eq!(strategy["messages"]["lost"], 0, "{engine}: at-least-once loses nothing");
    let incidents = strategy["incidents"].as_array().unwrap();
    assert!(incidents.len() >= 8, "{engine}: every client lost a pong at least once");
    assert!(
        incidents.iter().all(|i| i["reason"] == "heartbeat_timeout"),
        "{engine}: only the heartbeat can tell"
    );
    let dropped = &strategy["faults"][0];
    assert_eq!(dropped["name"], "drop_frames");
    assert!(dropped["hits"].as_u64().unwrap() >= 8, "{engine}");
    report
}

#[test]
fn pong_loss_runs_end_to_end_on_sim() {
    let report = pong_loss_on("sim");
    let detect = &report["strategies"][0]["metrics"]["detect_time"];
    // The pong of a ping sent during the fault vanishes as it crosses the proxy: the client
    // finds out exactly pong_timeout (2 s) later.
    assert_eq!((detect["min"].as_f64(), detect["max"].as_f64()), (Some(2.0), Some(2.0)));
}

#[test]
fn check_determinism_needs_the_sim_engine() {
    wschaos()
        .args(["run", "scenarios/flaky.yaml", "--engine", "live", "--check-determinism", "--out"])
        .arg(out_dir("determinism-live"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--check-determinism needs the sim engine"));
}

/// Runs SMALL with a reset at 2 s on sim with `seed`, sending events to `log`.
fn small_run(seed: u64, log: &mut dyn EventLog) {
    let text = format!(
        "{SMALL}faults:\n  - every: 2s ± 1s\n    from: 1s\n    reset: {{}}\n    target: {{ probability: 0.5 }}\n"
    );
    let scenario = Scenario::parse(&text, "small.yaml").unwrap();
    let options = RunOptions {
        file: "small.yaml".into(),
        engine: Engine::Sim,
        seed,
        strategies: Vec::new(),
        logs: None,
    };
    runner::run(&scenario, &options, log, &Interrupt::default(), Arc::new(|_| {})).unwrap();
}

#[test]
fn a_run_that_differs_is_caught_at_its_first_differing_event() {
    let dir = out_dir("determinism-oracle");
    std::fs::create_dir_all(&dir).unwrap();
    let (one, two) = (dir.join("seed-1.jsonl"), dir.join("seed-2.jsonl"));
    small_run(1, &mut FileLog::create(&one).unwrap());
    small_run(2, &mut FileLog::create(&two).unwrap());
    let (one_text, two_text) =
        (std::fs::read_to_string(&one).unwrap(), std::fs::read_to_string(&two).unwrap());
    let first_difference = one_text.lines().zip(two_text.lines()).position(|(a, b)| a != b).unwrap();

    // The same seed again compares equal; another seed differs exactly where the oracle says.
    let mut same = CompareLog::open(&one).unwrap();
    small_run(1, &mut same);
    assert_eq!(same.finish().unwrap(), None);
    let mut other = CompareLog::open(&one).unwrap();
    small_run(2, &mut other);
    let difference = other.finish().unwrap().expect("seed 2 is another run");
    assert_eq!(difference.line, first_difference as u64 + 1);
    assert_eq!(difference.first.as_deref(), one_text.lines().nth(first_difference));
    assert_eq!(difference.second.as_deref(), two_text.lines().nth(first_difference));
}
