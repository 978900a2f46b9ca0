//! `wschaos run` with the user's own programs, over loopback TCP: `wschaos client --events`
//! and small shell scripts stand in for a user's client (and `wschaos echo` for a user's
//! server), so these tests need nothing beyond the binary and `sh`. Runs are a few seconds
//! long; they assert behaviour (verdicts, messages, processes ended), not speed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::run::{out_dir, report, wschaos};

const BIN: &str = env!("CARGO_BIN_EXE_wschaos");

/// Writes a scenario into its own folder (programs run in the scenario's folder) and returns
/// its path.
fn scenario(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("programs-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text.replace("BIN", BIN)).unwrap();
    path
}

/// The reference client as a program under test, reporting the protocol on stdout.
const REFERENCE_PROGRAM: &str = r#"["BIN", "client", "--url", "{url}", "--events", "--rate", "20/s", "--heartbeat", "1s/1s", "--strategy", "aws-full-jitter", "--seed", "{index}"]"#;

fn metric(report: &Value, strategy: usize, name: &str, field: &str) -> f64 {
    report["strategies"][strategy]["metrics"][name][field].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn a_program_that_reports_events_is_judged_and_the_proxy_agrees_with_it() {
    let file = scenario(
        "events",
        &format!(
            r#"version: 1
name: events
duration: 4s
quiet_period: 3s
clients:
  count: 3
  command: {REFERENCE_PROGRAM}
  events: stdout
faults:
  - at: 1500ms
    reset: {{}}
  - at: 2500ms
    for: 1500ms
    blackhole: {{ direction: both }}
    target: {{ clients: [1], links: existing }}
slo:
  recovery_time: ["p(99) < 4s"]
  messages_lost: ["count == 0"]
"#
        ),
    );
    let out = out_dir("programs-events");
    let output = wschaos().arg("run").arg(&file).arg("--out").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report = report(&out);
    let strategy = &report["strategies"][0];
    assert_eq!(strategy["name"], "program");
    // Three resets and one blackhole detected by the client's own heartbeat.
    assert_eq!(metric(&report, 0, "recovery_time", "count"), 4.0, "{stdout}");
    assert!(strategy["messages"]["offered"].as_u64().unwrap() > 100);
    assert_eq!(strategy["messages"]["lost"], 0);
    assert_eq!(strategy["program"]["events"], true);
    assert_eq!(strategy["program"]["ready_after"].as_array().unwrap().len(), 3);
    assert!(stdout.contains("| command | `"), "{stdout}");
    // What the proxy saw agrees with what the clients said, per percentile: within 50 ms or 5 %.
    for field in ["p50", "p99", "max"] {
        let client = metric(&report, 0, "recovery_time", field);
        let proxy = metric(&report, 0, "observed_recovery_time", field);
        let tolerance = (client * 0.05).max(0.050);
        assert!((client - proxy).abs() <= tolerance, "{field}: clients {client} s, proxy {proxy} s");
    }
    for index in 0..3 {
        assert!(out.join(format!("clients/{index}.log")).is_file());
    }
}

#[test]
fn a_client_that_exits_early_fails_with_client_exited_and_its_last_lines() {
    let file = scenario(
        "exits",
        r#"version: 1
name: exits
duration: 2s
quiet_period: 1s
clients:
  count: 2
  command: ["sh", "-c", "echo starting client {index} >&2; echo '{{\"event\":\"ready\"}}'; if [ {index} = 1 ]; then sleep 0.5; echo 'out of memory' >&2; exit 3; fi; exec sleep 30"]
  events: stdout
  ready_timeout: 20s
"#,
    );
    let out = out_dir("programs-exits");
    let output = wschaos().arg("run").arg(&file).arg("--out").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Client 1 exited with code 3 at"), "{stdout}");
    assert!(stdout.contains("out of memory"), "{stdout}");
    assert!(stdout.contains("client_exited"), "{stdout}");
    let report = report(&out);
    let exits = report["strategies"][0]["program"]["exits"].as_array().unwrap().clone();
    assert_eq!(exits.len(), 1);
    assert_eq!(exits[0]["client"], 1);
    assert_eq!(exits[0]["last_lines"], serde_json::json!(["starting client 1", "out of memory"]));
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("type=\"client_exited\""), "{junit}");
    assert_eq!(std::fs::read_to_string(out.join("clients/0.log")).unwrap(), "starting client 0\n");
}

#[test]
fn allow_exit_lets_a_client_leave() {
    let file = scenario(
        "allow-exit",
        r#"version: 1
name: allow-exit
duration: 1s
quiet_period: 1s
clients:
  count: 1
  command: ["sh", "-c", "exit 0"]
  allow_exit: true
"#,
    );
    let out = out_dir("programs-allow-exit");
    let output = wschaos().arg("run").arg(&file).arg("--out").arg(&out).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains("allowed: `allow_exit: true`"));
}

#[test]
fn a_program_that_cannot_start_or_never_connects_is_exit_70_naming_it() {
    let missing = scenario(
        "missing",
        r#"version: 1
name: missing
duration: 1s
clients:
  count: 1
  command: ["wschaos-no-such-program", "{url}"]
"#,
    );
    let output =
        wschaos().arg("run").arg(&missing).arg("--out").arg(out_dir("programs-missing")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("client 0: cannot start `wschaos-no-such-program`: no such program"), "{stderr}");

    // A client that never connects: its pid is written where the test can check it was ended.
    let silent = scenario(
        "silent",
        r#"version: 1
name: silent
duration: 5s
clients:
  count: 2
  command: ["sh", "-c", "echo waiting >&2; echo $$ > pid-{index}; exec sleep 30"]
  ready_timeout: 1s
"#,
    );
    let output =
        wschaos().arg("run").arg(&silent).arg("--out").arg(out_dir("programs-silent")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(
        stderr.contains("client 0 did not connect to the proxy within 1s (clients.ready_timeout)"),
        "{stderr}"
    );
    assert!(stderr.contains("waiting"), "its last lines are shown: {stderr}");
    for index in 0..2 {
        let pid = std::fs::read_to_string(silent.parent().unwrap().join(format!("pid-{index}"))).unwrap();
        assert!(gone(pid.trim()), "client {index} (pid {pid}) outlived the run");
    }
}

/// The trimmed text of a file another process writes, once it has some (up to 20 s).
#[allow(clippy::disallowed_methods, reason = "waits on another process in real time")]
fn wait_for_file(path: &Path) -> String {
    for _ in 0..1000 {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return text.trim().to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} was never written", path.display());
}

/// Whether process `pid` has ended (a zombie waiting for init counts as ended).
fn gone(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.is_empty() || stat.contains(") Z ")
}

#[test]
fn programs_run_on_the_live_engine_only_with_a_located_error() {
    let file = scenario(
        "sim",
        r#"version: 1
name: sim
duration: 1s
clients:
  count: 1
  command: ["sh", "-c", "sleep 1"]
"#,
    );
    let output = wschaos().arg("run").arg(&file).args(["--engine", "sim"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("sim.yaml:6:12"), "{stderr}");
    assert!(stderr.contains("a client program runs on the live engine only"), "{stderr}");
}

#[test]
fn malformed_event_lines_are_reported_with_their_line_and_the_run_goes_on() {
    let file = scenario(
        "malformed",
        r#"version: 1
name: malformed
duration: 1s
quiet_period: 1s
clients:
  count: 1
  command: ["sh", "-c", "echo '{{\"event\":\"ready\"}}'; echo 'plain log line'; echo '{{\"event\":\"opne\"}}'; echo '{{\"event\":\"received\",\"id\":7}}'; exec sleep 30"]
  events: stdout
"#,
    );
    let out = out_dir("programs-malformed");
    let output = wschaos().arg("run").arg(&file).arg("--out").arg(&out).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let program = report(&out)["strategies"][0]["program"].clone();
    assert_eq!(program["protocol_errors"], 2);
    assert_eq!(
        program["protocol_error_samples"],
        serde_json::json!([
            "client 0 line 3: unknown event `opne`: did you mean `open`?",
            "client 0 line 4: received id \"7\", which it never reported as sent",
        ])
    );
    let log = std::fs::read_to_string(out.join("clients/0.log")).unwrap();
    assert!(log.starts_with("plain log line\n[wschaos: stdout line 3: unknown event"), "{log}");
}

#[test]
fn a_server_program_is_launched_on_a_free_port_and_judged_with_the_clients() {
    let file = scenario(
        "server",
        &format!(
            r#"version: 1
name: server
duration: 3s
quiet_period: 2s
server:
  command: ["BIN", "echo", "--listen", "127.0.0.1:{{port}}"]
clients:
  count: 2
  command: {REFERENCE_PROGRAM}
  events: stdout
  identity: query
faults:
  - at: 1s
    reset: {{}}
slo:
  recovery_time: ["count == 2"]
"#
        ),
    );
    let out = out_dir("programs-server");
    let output = wschaos().arg("run").arg(&file).arg("--out").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let log = std::fs::read_to_string(out.join("server.log")).unwrap();
    assert!(log.starts_with("listening on ws://127.0.0.1:"), "{log}");
    // identity: query names every link's client.
    let events = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    let identified = events.lines().filter(|line| line.contains("\"event\":\"link_identified\"")).count();
    assert!(identified >= 4, "{identified} links identified");

    let broken = scenario(
        "server-silent",
        r#"version: 1
name: server-silent
duration: 1s
server:
  command: ["sh", "-c", "echo 'binding...'; exec sleep 30"]
  ready_timeout: 500ms
  stop: { signal: SIGTERM, grace: 1s }
clients:
  count: 1
  command: ["sh", "-c", "sleep 1"]
"#,
    );
    let output = wschaos()
        .arg("run")
        .arg(&broken)
        .arg("--out")
        .arg(out_dir("programs-server-silent"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("the server did not accept connections on 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("binding..."), "{stderr}");
}

#[test]
fn ctrl_c_ends_every_client_program() {
    let file = scenario(
        "ctrl-c",
        r#"version: 1
name: ctrl-c
duration: 30s
clients:
  count: 3
  command: ["sh", "-c", "trap '' TERM; echo $$ > pid-{index}; exec sleep 60"]
  stop: { signal: SIGTERM, grace: 500ms }
  ready_timeout: 60s
"#,
    );
    let out = out_dir("programs-ctrl-c");
    let mut process =
        crate::process::Process::start(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let pids: Vec<String> =
        (0..3).map(|index| wait_for_file(&file.parent().unwrap().join(format!("pid-{index}")))).collect();
    process.signal("INT");
    let status = process.wait();
    assert_eq!(status.code(), Some(130));
    // The clients ignore SIGTERM: they were killed after the grace.
    for pid in pids {
        assert!(gone(&pid), "pid {pid} outlived the run");
    }
}

#[test]
fn a_matrix_of_two_commands_is_judged_side_by_side() {
    let file = scenario(
        "matrix",
        r#"version: 1
name: matrix
duration: 3s
quiet_period: 2s
clients:
  count: 2
strategies:
  - { name: steady, command: ["BIN", "client", "--url", "{url}", "--heartbeat", "500ms/500ms"] }
  - { name: no-heartbeat, command: ["BIN", "client", "--url", "{url}", "--heartbeat", "off"] }
faults:
  - at: 1s
    for: 1s
    blackhole: { direction: both }
    target: { links: existing }
slo:
  unconverged: ["count == 0"]
"#,
    );
    let out = out_dir("programs-matrix");
    let output = wschaos().arg("run").arg(&file).arg("--out").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report = report(&out);
    let verdicts: Vec<(&str, &str)> = report["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(verdicts, [("steady", "pass"), ("no-heartbeat", "fail")]);
    // Measured at the proxy alone: the steady client noticed and came back, the other never did.
    assert_eq!(metric(&report, 0, "observed_recovery_time", "count"), 2.0, "{stdout}");
    assert!(metric(&report, 0, "observed_detect_time", "max") < 1.5, "{stdout}");
    assert_eq!(report["strategies"][1]["unconverged"], serde_json::json!([0, 1]));
    assert!(stdout.contains("### steady · PASS") && stdout.contains("### no-heartbeat · FAIL"), "{stdout}");
    for name in ["steady", "no-heartbeat"] {
        assert!(out.join(format!("{name}/clients/0.log")).is_file(), "{name}'s logs");
    }
}
