//! Where output goes wrong: a stdout whose reader went away (every subcommand ends quietly,
//! with its own exit code, or 141 when it still had work to do), and output that cannot be
//! written (exit 74 naming the file, the rest written, the summary still printed).

use std::path::Path;
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

const SMALL: &str = "version: 1\nname: small-piped\nduration: 10s\nquiet_period: 5s\nengine: sim\nclients:\n  count: 4\n  workload: { rate: 10/s }\n  strategy: { kind: fixed, delay: 50ms }\nfaults:\n  - at: 2s\n    reset: {}\nslo:\n  recovery_time: [\"max < 1ms\"]\n";

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

/// Runs SMALL (a failing SLO: exit 1 when all is well) into `dir` with `prepare` applied to the
/// folder first; returns the output.
fn small_run_into(dir: &Path, prepare: impl FnOnce(&Path), extra: &[&str]) -> Output {
    std::fs::create_dir_all(dir).unwrap();
    prepare(dir);
    let scenario = scenario_file("small-outputs", &SMALL.replace("small-piped", "small-outputs"));
    let mut args = vec!["run", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    wschaos_into(Stdio::piped(), &args)
}

/// Every line of the file is a whole JSON object, and it ends with a newline (or is empty).
fn assert_whole_lines(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{} ends in part of a line", path.display());
    for line in text.lines() {
        let _: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a torn line {line:?}: {e}"));
    }
    text.lines().count()
}

#[test]
fn an_out_folder_that_cannot_be_written_is_refused_before_the_run() {
    // /proc/self is a folder nobody can create files in, root included.
    let output = small_run_into(Path::new("/proc/self"), |_| {}, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: --out /proc/self: cannot write there"), "{stderr}");
    assert!(!stderr.contains("strategy "), "refused before the run started: {stderr}");

    for (name, extra) in [("report.json", &[][..]), ("swarm.md", &["--seeds", "1..2"][..])] {
        let dir = out_dir(&format!("blocked-{name}"));
        let output = small_run_into(&dir, |dir| std::fs::create_dir(dir.join(name)).unwrap(), extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        let expected = format!("cannot write {}: it is a directory", dir.join(name).display());
        assert!(stderr.contains(&expected), "{name}: {stderr}");
        assert!(!dir.join("events.jsonl").exists() && !dir.join("swarm.json").exists(), "nothing ran");
    }
}

#[test]
fn a_full_disk_is_exit_74_naming_the_file_with_the_rest_written_and_the_summary_printed() {
    for full in ["report.json", "summary.md", "events.jsonl"] {
        let dir = out_dir(&format!("full-{full}"));
        let output =
            small_run_into(&dir, |dir| std::os::unix::fs::symlink("/dev/full", dir.join(full)).unwrap(), &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(74), "{full}: {stderr}");
        let named = format!("error: cannot write {}: No space left on device", dir.join(full).display());
        assert!(stderr.contains(&named), "{full}: {stderr}");
        assert!(stdout.starts_with("## FAIL · small-outputs"), "{full}: the summary is still printed");
        for other in ["report.json", "summary.md", "junit.xml", "fixed.hgrm", "events.jsonl"] {
            if other != full {
                let len = std::fs::metadata(dir.join(other)).unwrap().len();
                assert!(len > 0, "{full}: {other} is written all the same");
            }
        }
        if full != "events.jsonl" {
            assert_whole_lines(&dir.join("events.jsonl"));
        }
    }
    let dir = out_dir("full-swarm");
    let output = small_run_into(
        &dir,
        |dir| std::os::unix::fs::symlink("/dev/full", dir.join("swarm.json")).unwrap(),
        &["--seeds", "1..2"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains(&format!("cannot write {}", dir.join("swarm.json").display())), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("swarm of small-outputs"), "swarm.md printed");
    assert!(std::fs::metadata(dir.join("swarm.md")).unwrap().len() > 0);
}

#[test]
fn events_jsonl_cut_by_a_file_size_limit_ends_in_its_last_whole_line() {
    // A file-size limit of 400 blocks (200 KiB in dash, 400 KiB in bash: less than the ~600 KiB
    // of events of this 30-second run, more than any report) cuts events.jsonl mid-write, as a
    // full disk would, while the reports fit. SIGXFSZ is ignored so the write fails (EFBIG)
    // instead of killing.
    let dir = out_dir("fsize");
    std::fs::create_dir_all(&dir).unwrap();
    let longer = SMALL.replace("small-piped", "small-outputs").replace("duration: 10s", "duration: 30s");
    let scenario = scenario_file("small-outputs", &longer.replace("rate: 10/s", "rate: 20/s"));
    let output = Command::new("sh")
        .args(["-c", "trap '' XFSZ; ulimit -f 400; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_wschaos"))
        .args(["run", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(74), "{stderr}");
    let events = dir.join("events.jsonl");
    let lines = assert_whole_lines(&events);
    assert!(lines > 100, "the events before the limit are kept: {lines}");
    let said = format!(
        "error: cannot write {}: File too large (os error 27); it holds the first {lines} events, cut back to the last whole line",
        events.display()
    );
    assert!(stderr.contains(&said), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("## FAIL"), "the summary is printed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["verdict"], "fail", "the run itself went on to its end");
}

#[test]
fn devices_pipes_and_oversized_files_are_refused_as_inputs() {
    let dir = out_dir("inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let large = dir.join("large.json");
    // Sparse: 64 MiB + 1 byte of size, none of it on disk.
    std::fs::File::create(&large).unwrap().set_len((64 << 20) + 1).unwrap();
    let fifo = dir.join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (large, fifo) = (large.to_str().unwrap(), fifo.to_str().unwrap());
    let device = "cannot read the file: it is a device; wschaos reads regular files only";
    let too_large = "cannot read the file: it is larger than 64 MiB, the limit on input files";
    let pipe = "cannot read the file: it is a pipe; wschaos reads regular files only";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["validate", "/dev/zero"], format!("/dev/zero: {device}")),
        (vec!["validate", fifo], format!("{fifo}: {pipe}")),
        (vec!["validate", large], format!("{large}: {too_large}")),
        (vec!["run", "/dev/zero"], format!("/dev/zero: {device}")),
        (
            vec!["proxy", "--upstream", "127.0.0.1:9", "--scenario", "/dev/zero"],
            format!("/dev/zero: {device}"),
        ),
        (vec!["report", "/dev/zero"], format!("/dev/zero: {device}")),
        (vec!["report", large], format!("{large}: {too_large}")),
        (vec!["compare", "reports/example/report.json", "/dev/zero"], format!("/dev/zero: {device}")),
    ];
    for (args, message) in cases {
        let output = wschaos_into(Stdio::null(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("error: {message}")), "{args:?}: {stderr}");
    }
}
