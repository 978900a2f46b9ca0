//! `wschaos run` on scenarios/external/: the example clients of examples/clients/ (Python
//! `websockets`, Node `ws`) as real processes under live faults over loopback. The reconnecting
//! clients pass with every fault recovered and nothing lost, their `--weak` variants (no
//! heartbeat) fail because they never notice a blackholed link, and what the proxy saw agrees
//! with what the clients reported. They need the venv and node_modules that
//! examples/clients/setup.sh makes, so CI runs them as a step of their own after it; without
//! them every test fails saying so. Each run is bounded: wschaos ends it after duration + quiet
//! period and stops the clients; past a limit well beyond that the test interrupts it (Ctrl-C,
//! then SIGKILL) and fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::run::{out_dir, report};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn clients_dir() -> PathBuf {
    repo().join("examples/clients")
}

/// Fails the test, with the fix, unless the example clients are installed and run.
fn require_setup() {
    let python = clients_dir().join("python-websockets/.venv/bin/python");
    let ws = clients_dir().join("node-ws/node_modules/ws/package.json");
    let fix = "run examples/clients/setup.sh first (it makes the Python venv and runs npm ci)";
    let python_ok = Command::new(&python)
        .args(["-c", "import websockets"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(python_ok, "{} cannot import websockets: {fix}", python.display());
    assert!(ws.is_file(), "{} is missing: {fix}", ws.display());
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(node_ok, "`node` does not run: install Node 18 or later, then {fix}");
}

/// `wschaos run scenarios/external/NAME.yaml`, interrupted (and the test failed) if it outlives
/// `limit`.
#[allow(clippy::disallowed_methods, reason = "waits on another process in real time")]
fn run(name: &str, limit: Duration) -> (Output, PathBuf) {
    require_setup();
    let out = out_dir(&format!("external-{name}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_wschaos"))
        .current_dir(repo())
        .arg("run")
        .arg(format!("scenarios/external/{name}.yaml"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wschaos binary starts");
    // Drain the pipes on threads so a chatty run never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let stdout = std::thread::spawn(move || std::io::read_to_string(&mut stdout).unwrap_or_default());
    let stderr = std::thread::spawn(move || std::io::read_to_string(&mut stderr).unwrap_or_default());
    // Polled every 100 ms. Past the limit, Ctrl-C first, so wschaos ends the client programs
    // it started (a SIGKILL would leave them running), then SIGKILL if that did not end it.
    let polls = |limit: Duration| limit.as_millis() / 100;
    let mut waited = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the run can be waited for") {
            break status;
        }
        waited += 1;
        if waited == polls(limit) {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        }
        if waited > polls(limit + Duration::from_secs(15)) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`wschaos run scenarios/external/{name}.yaml` still ran after {limit:?} and Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(waited < polls(limit), "`wschaos run scenarios/external/{name}.yaml` took over {limit:?}");
    let output = Output {
        status,
        stdout: stdout.join().unwrap().into_bytes(),
        stderr: stderr.join().unwrap().into_bytes(),
    };
    (output, out)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn metric(strategy: &Value, name: &str, field: &str) -> f64 {
    strategy["metrics"][name][field].as_f64().unwrap_or(f64::NAN)
}

/// Within 50 ms or 5 %, whichever is wider.
fn agree(a: f64, b: f64) -> bool {
    (a - b).abs() <= (a.abs() * 0.05).max(0.050)
}

/// The recovery times the proxy saw match the ones the clients reported, per percentile.
fn proxy_agrees_on_recovery(strategy: &Value) {
    for field in ["p50", "p90", "p99", "max"] {
        let client = metric(strategy, "recovery_time", field);
        let proxy = metric(strategy, "observed_recovery_time", field);
        assert!(
            agree(client, proxy),
            "{} recovery {field}: clients {client} s, proxy {proxy} s",
            strategy["name"]
        );
    }
}

/// How many incidents each `detect_time (reason)` counted.
fn reasons(strategy: &Value) -> Vec<(String, u64)> {
    let by_reason = strategy["detect_time_by_reason"].as_object().unwrap();
    by_reason.iter().map(|(reason, stats)| (reason.clone(), stats["count"].as_u64().unwrap())).collect()
}

/// What every passing example client run shares: the SLOs passed, three faults recovered by
/// each of the 4 clients, nothing lost, every client ready promptly, none exited early, no
/// malformed event line, and the logs kept.
fn passed_every_fault(report: &Value, out: &Path, stdout: &str) -> Value {
    let strategy = report["strategies"][0].clone();
    assert_eq!(strategy["verdict"], "pass", "{stdout}");
    // 4 clients × (a reset, a blackhole, pong loss): each one detected and recovered.
    assert_eq!(metric(&strategy, "recovery_time", "count"), 12.0, "{stdout}");
    assert_eq!(metric(&strategy, "observed_recovery_time", "count"), 12.0, "{stdout}");
    assert_eq!(strategy["unconverged"], serde_json::json!([]), "{stdout}");
    assert_eq!(strategy["gave_up"], serde_json::json!([]), "{stdout}");
    // The first connection and one reconnect per fault, no more: an immediate or short jittered
    // retry into a link that was only blackholed for existing links succeeds at once.
    assert_eq!(strategy["attempts_total"], 16, "{stdout}");
    let messages = &strategy["messages"];
    assert_eq!(messages["lost"], 0, "{stdout}");
    // 4 clients at 10 messages/s for the 24 s of workload (SEND_FOR), none during the quiet
    // period, less the moments between a detection and the next open.
    let offered = messages["offered"].as_u64().unwrap();
    assert!((700..=4 * 10 * 24).contains(&offered), "{offered} offered: {stdout}");
    assert_eq!(messages["echoed"], messages["offered"], "{stdout}");
    let program = &strategy["program"];
    assert_eq!(program["events"], true);
    let ready = program["ready_after"].as_array().unwrap();
    assert_eq!(ready.len(), 4, "every client said ready: {stdout}");
    assert!(
        ready.iter().all(|t| t.as_f64().unwrap() < 3.0),
        "ready before the first fault at 3 s: {ready:?}"
    );
    assert_eq!(program["exits"], serde_json::json!([]), "{stdout}");
    assert_eq!(program["protocol_errors"], 0, "{stdout}");
    for index in 0..4 {
        let log = std::fs::read_to_string(out.join(format!("clients/{index}.log"))).unwrap();
        assert!(log.contains("open"), "client {index}'s stderr is its log: {log}");
    }
    proxy_agrees_on_recovery(&strategy);
    strategy
}

#[test]
fn python_websockets_notices_every_fault_and_loses_nothing() {
    let (output, out) = run("python-websockets", Duration::from_secs(90));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", text(&output.stderr));
    let strategy = passed_every_fault(&report(&out), &out, &stdout);
    // The reset closes at once; the blackhole and the pong loss are found by the keepalive.
    assert_eq!(
        reasons(&strategy),
        [("closed(1006, \"\")".to_string(), 4), ("closed(1006, \"keepalive ping timeout\")".to_string(), 8)],
        "{stdout}"
    );
    // Ping every 2 s + 3 s for the pong + 1 s CLOSE_TIMEOUT waiting for a Close that cannot come.
    let detect = metric(&strategy, "detect_time", "max");
    assert!((2.9..6.5).contains(&detect), "detect max {detect} s: {stdout}");
    // The proxy sees the client's reaction, its 1011 Close, when the keepalive fails; the client
    // reports `closed` only after CLOSE_TIMEOUT (1 s) more. Both clocks agree on that gap.
    let observed = metric(&strategy, "observed_detect_time", "max");
    assert!(agree(detect - 1.0, observed), "detect max {detect} s, proxy {observed} s");
    assert_eq!(strategy["client_close_codes"]["1011"], 8, "{stdout}");
}

/// Python websockets over wss:// through the proxy: it trusts the run's CA from WSCHAOS_CA,
/// survives a reset and a blackhole passed through as encrypted bytes, and refuses a man in the
/// middle, sending it nothing.
#[test]
fn python_websockets_over_wss_recovers_and_refuses_the_impostor() {
    let (output, out) = run("python-websockets-wss", Duration::from_secs(100));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", text(&output.stderr));
    let report = report(&out);
    let strategy = &report["strategies"][0];
    assert_eq!(strategy["verdict"], "pass", "{stdout}");
    // 4 clients × (the reset, the blackhole, the reset into the impostor), every one recovered.
    assert_eq!(metric(strategy, "recovery_time", "count"), 12.0, "{stdout}");
    assert_eq!(strategy["messages"]["lost"], 0, "{stdout}");
    let impostor = strategy["faults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fault| fault["name"] == "tls_bad_certificate")
        .expect("the fault's outcome");
    let seen = &impostor["impersonation"];
    assert!(seen["answered"].as_u64().unwrap() >= 4, "every client met the impostor: {seen}");
    assert_eq!(
        (&seen["accepted"], &seen["application_bytes"]),
        (&serde_json::json!(0), &serde_json::json!(0))
    );
    let ca = std::fs::read_to_string(out.join("ca.pem")).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "the CA the clients trusted is kept");
}

/// Python `websockets` with an `ssl` context trusting the CA `wschaos echo --tls` wrote, through
/// `wschaos proxy` in front of that TLS server: the proxy passes TLS through, the echo comes back.
#[test]
fn python_websockets_reaches_echo_tls_through_the_standalone_proxy() {
    require_setup();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("external-tls");
    let _ = std::fs::remove_dir_all(&dir);
    let echo = crate::process::Process::start(&[
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--tls",
        "--tls-out",
        dir.to_str().unwrap(),
    ]);
    let first = echo.line(|line| line.starts_with("listening on wss://"));
    let echo_addr = first.trim_start_matches("listening on wss://").split(' ').next().unwrap().to_string();
    let proxy = crate::process::Process::start(&["proxy", "--upstream", &echo_addr]);
    let listening = proxy.line(|line| line.starts_with("listening on "));
    let proxy_addr = listening.trim_start_matches("listening on ").split(',').next().unwrap().to_string();
    let script = r#"
import asyncio, ssl, sys
from websockets.asyncio.client import connect
async def main():
    context = ssl.create_default_context(cafile=sys.argv[2])
    async with connect(sys.argv[1], ssl=context, proxy=None) as ws:
        await ws.send('over wss')
        print(await ws.recv())
asyncio.run(main())
"#;
    let python = clients_dir().join("python-websockets/.venv/bin/python");
    let output = Command::new(python)
        .args(["-c", script, &format!("wss://{proxy_addr}/"), dir.join("ca.pem").to_str().unwrap()])
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "over wss");
    // A context that trusts nothing wschaos made is refused, as a man in the middle would be.
    let refused = Command::new(clients_dir().join("python-websockets/.venv/bin/python"))
        .args([
            "-c",
            &script.replace("cafile=sys.argv[2]", "cafile=None"),
            &format!("wss://{proxy_addr}/"),
            "x",
        ])
        .output()
        .expect("python runs");
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("CERTIFICATE_VERIFY_FAILED"), "{}", text(&refused.stderr));
    proxy.interrupt();
    echo.interrupt();
}

#[test]
fn node_ws_notices_every_fault_and_loses_nothing() {
    let (output, out) = run("node-ws", Duration::from_secs(90));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", text(&output.stderr));
    let strategy = passed_every_fault(&report(&out), &out, &stdout);
    assert_eq!(
        reasons(&strategy),
        [("closed(1006, \"\")".to_string(), 4), ("closed(1006, \"pong timeout\")".to_string(), 8)],
        "{stdout}"
    );
    // Ping every 2 s + 3 s for the pong, then terminate(): no Close frame, so the proxy's first
    // sign of the client's reaction is its next connection, a backoff of at most 100 ms later.
    let detect = metric(&strategy, "detect_time", "max");
    assert!((2.9..5.5).contains(&detect), "detect max {detect} s: {stdout}");
    for field in ["p50", "p99", "max"] {
        let client = metric(&strategy, "detect_time", field);
        let proxy = metric(&strategy, "observed_detect_time", field);
        assert!(
            (0.0..=0.150).contains(&(proxy - client)),
            "detect {field}: clients {client} s, proxy {proxy} s"
        );
    }
}

#[test]
fn without_a_heartbeat_the_blackhole_goes_unnoticed_and_the_summary_says_so() {
    let (output, out) = run("weak-blackhole", Duration::from_secs(200));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", text(&output.stderr));
    let report = report(&out);
    let strategies = report["strategies"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> =
        strategies.iter().map(|s| (s["name"].as_str().unwrap(), s["verdict"].as_str().unwrap())).collect();
    assert_eq!(
        verdicts,
        [
            ("python-keepalive", "pass"),
            ("python-no-heartbeat", "fail"),
            ("node-keepalive", "pass"),
            ("node-no-heartbeat", "fail")
        ]
    );
    for strategy in strategies {
        let name = strategy["name"].as_str().unwrap();
        if strategy["verdict"] == "pass" {
            // Each client noticed the dead link by its heartbeat, came back and resent.
            assert_eq!(metric(strategy, "recovery_time", "count"), 4.0, "{name}: {stdout}");
            assert_eq!(strategy["messages"]["lost"], 0, "{name}: {stdout}");
            assert_eq!(strategy["attempts_total"], 8, "{name}: {stdout}");
            proxy_agrees_on_recovery(strategy);
            continue;
        }
        // Never noticed: no detection, no second attempt, so no recovery to time...
        assert_eq!(metric(strategy, "detect_time", "count"), 0.0, "{name}: {stdout}");
        assert_eq!(metric(strategy, "recovery_time", "count"), 0.0, "{name}: {stdout}");
        assert_eq!(metric(strategy, "observed_recovery_time", "count"), 0.0, "{name}: {stdout}");
        assert_eq!(strategy["attempts_total"], 4, "{name}: only the first connections: {stdout}");
        // ...and what it wrote into the dead link from 3 s on (10 messages/s each) never came back.
        let lost = strategy["messages"]["lost"].as_u64().unwrap();
        assert!(lost >= 4 * 10 * 9, "{name}: {lost} lost: {stdout}");
        assert_eq!(strategy["unconverged"], serde_json::json!([0, 1, 2, 3]), "{name}: {stdout}");
        let failed: Vec<&str> = strategy["slo"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|slo| slo["passed"] == false)
            .map(|slo| slo["metric"].as_str().unwrap())
            .collect();
        assert_eq!(
            failed,
            ["detect_time", "messages_lost", "recovery_time", "unconverged"],
            "{name}: {stdout}"
        );
        // The summary gives the reason beside the verdict: nothing detected, nothing recovered.
        assert!(stdout.contains(&format!("### {name} · FAIL")), "{stdout}");
        for row in [
            "detect_time | `count == 4` | 0",
            "recovery_time | `count == 4` | 0",
            "unconverged | `count == 0` | 4",
        ] {
            assert!(stdout.contains(&format!("| {name} | {row} | **FAIL** |")), "{row}: {stdout}");
        }
        // A threshold on a percentile alone has no values to judge here, and passes.
        assert!(
            stdout.contains(&format!("| {name} | detect_time | `max < 7s` | no values | pass |")),
            "{stdout}"
        );
    }
    assert_eq!(stdout.matches("| clients not converged at the end | 4 (clients 0, 1, 2, 3) |").count(), 2);
    assert!(
        stdout.contains("never notice the dead link: no detection"),
        "the description tells why: {stdout}"
    );
}

#[test]
fn every_external_scenario_names_its_client_relative_to_itself() {
    require_setup();
    let dir = repo().join("scenarios/external");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["node-ws.yaml", "python-websockets-wss.yaml", "python-websockets.yaml", "weak-blackhole.yaml"]
    );
    for name in &names {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next(), Some("# yaml-language-server: $schema=../scenario.schema.json"));
        let scenario = wschaos::Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{}.yaml", scenario.name), *name);
        assert!(scenario.description.as_ref().is_some_and(|d| d.len() > 200), "{name} needs a story");
        // Every script a command names exists relative to the scenario's folder, where wschaos
        // starts the programs.
        let mut scripts = 0;
        for word in text.split(['[', ']', ',']).map(str::trim) {
            if word.ends_with(".py") || word.ends_with(".js") || word.ends_with("/python") {
                assert!(dir.join(word).is_file(), "{name}: {word} is not there");
                scripts += 1;
            }
        }
        assert!(scripts >= 1, "{name} names no client");
    }
}
