//! Where output goes wrong: a stdout whose reader went away (every subcommand ends quietly,
//! with its own exit code, or 141 when it still had work to do), and output that cannot be
//! written (exit 74 naming the file, the rest written, the summary still printed).

use std::process::{Command, Output, Stdio};

use crate::run::{out_dir, scenario_file};

/// A pipe whose reader is already gone: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

/// Runs `wschaos ARGS` from the crate root with stdout going to `stdout`.
fn wschaos_into(stdout: Stdio, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wschaos"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

const SMALL: &str = "version: 1\nname: small-piped\nduration: 10s\nquiet_period: 5s\nengine: sim\nclients:\n  count: 4\n  workload: { rate: 10/s }\nfaults:\n  - at: 2s\n    reset: {}\nslo:\n  recovery_time: [\"max < 1ms\"]\n";

#[test]
fn every_subcommand_ends_quietly_when_stdout_is_closed() {
    let scenario = scenario_file("small-piped", SMALL);
    let scenario = scenario.to_str().unwrap();
    let run_dir = out_dir("piped");
    let swarm_dir = out_dir("piped-swarm");
    let example = "reports/example/report.json";
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["validate", "scenarios/flaky.yaml", "scenarios/blackhole.yaml"], 0),
        (vec!["schema"], 0),
        (vec!["presets"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["completions", "zsh"], 0),
        (vec!["report", example], 0),
        (vec!["report", example, "--format", "junit"], 0),
        (vec!["report", example, "--format", "json"], 0),
        (vec!["report", example, "--format", "hgrm"], 0),
        (vec!["compare", example, example], 0),
        (vec!["run", "--help"], 0),
        // The run is done before its summary is printed: its exit code is its verdict's (an SLO
        // fails here), not the pipe's.
        (vec!["run", scenario, "--out", run_dir.to_str().unwrap()], 1),
        (vec!["run", scenario, "--seeds", "1..3", "--out", swarm_dir.to_str().unwrap()], 1),
        // The serve loops stop when nobody reads what they print, as after SIGPIPE.
        (vec!["echo", "--listen", "127.0.0.1:0"], 141),
        (vec!["proxy", "--upstream", "127.0.0.1:9"], 141),
        (vec!["client", "--url", "ws://127.0.0.1:9/"], 141),
    ];
    for (args, code) in cases {
        let output = wschaos_into(closed_pipe(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?} ends quietly: {stderr}");
    }
    assert!(run_dir.join("report.json").exists() && swarm_dir.join("swarm.json").exists());
}

#[test]
fn a_closed_stderr_loses_the_messages_but_never_panics() {
    let run_dir = out_dir("stderr-closed");
    let scenario = scenario_file("small-stderr", &SMALL.replace("small-piped", "small-stderr"));
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["validate", "scenarios/nope.yaml"], 2),
        (vec!["report", "reports/nope.json"], 2),
        (vec!["-vvv", "run", scenario.to_str().unwrap(), "--out", run_dir.to_str().unwrap()], 1),
    ];
    for (args, code) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_wschaos"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(closed_pipe())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn a_stdout_that_cannot_be_written_is_exit_74_naming_it() {
    for args in [vec!["schema"], vec!["presets"], vec!["report", "reports/example/report.json"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let output = wschaos_into(full.into(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(74), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: cannot write to stdout: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}
