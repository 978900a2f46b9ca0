//! Signed handshakes (`server.auth.hmac`) end to end on the sim engine: re-signing clients
//! ride out a reset after `max_age`, `reuse_signed_url` clients meet a 401 storm,
//! `revoke_credentials` with each `on_unauthorized`, no secret in any output, and one short
//! live run.

use wschaos::outcome::StrategyReport;
use wschaos::scenario::{Engine, Scenario};

use crate::run::{out_dir, scenario_file, wschaos};

const SECRET: &str = "zebra-quartz-hmac-secret-7731";
const ROTATED: &str = "okapi-nimbus-rotated-secret-4402";

/// A 3-client scenario signing with [`SECRET`] (max_age 10s), a reset at 20s so every client
/// must handshake again, `clients_extra` under `clients:` and `faults_extra` under `faults:`.
fn text(engine: &str, clients_extra: &str, faults_extra: &str) -> String {
    format!(
        "version: 1\nname: signed\nduration: 30s\nquiet_period: 10s\nengine: {engine}\n\
         server:\n  auth: {{ hmac: {{ secret: {SECRET}, max_age: 10s, clock_skew: 1s }} }}\n\
         clients:\n  count: 3\n  connect_timeout: 5s\n  workload: {{ rate: 2/s }}\n{clients_extra}\
         faults:\n  - at: 20s\n    reset: {{}}\n{faults_extra}"
    )
}

fn run(text: &str) -> Vec<StrategyReport> {
    let scenario = Scenario::parse(text, "signed.yaml").unwrap_or_else(|error| panic!("{error}"));
    wschaos::run(&scenario, Engine::Sim).unwrap().strategies
}

fn unauthorized(report: &StrategyReport) -> u64 {
    report.attempts_turned_away.get("unauthorized_401").copied().unwrap_or(0)
}

const MATRIX: &str = "  on_unauthorized: retry\nstrategies:\n  - { name: re-signing, kind: fixed, delay: 1s }\n  - { name: reusing, kind: fixed, delay: 1s, reuse_signed_url: true }\n";

#[test]
fn re_signing_clients_survive_and_reused_urls_storm_after_max_age() {
    let reports = run(&text("sim", MATRIX, ""));
    let (fresh, reusing) = (&reports[0], &reports[1]);
    assert_eq!(unauthorized(fresh), 0, "{:?}", fresh.attempts_turned_away);
    assert!(fresh.gave_up.is_empty() && fresh.unconverged.is_empty());
    assert!(reusing.description.contains("reuses its first signed URL"), "{}", reusing.description);
    // From the reset at 20 s to the end of the quiet period at 40 s, each of 3 clients tries
    // about once a second with its expired URL, and never gets in.
    assert!(unauthorized(reusing) >= 3 * 15, "{:?}", reusing.attempts_turned_away);
    assert_eq!(reusing.unconverged, vec![0, 1, 2]);
    assert!(reusing.attempts_total > fresh.attempts_total + 40);
    let before_reset: u64 = reusing.attempts_per_second[..20].iter().sum();
    assert_eq!(before_reset, 3, "only the first attempts before max_age: {:?}", reusing.attempts_per_second);
}

fn revoked(on_unauthorized: &str) -> StrategyReport {
    let clients = format!("  strategy: {{ kind: fixed, delay: 1s }}\n  on_unauthorized: {on_unauthorized}\n");
    let faults = format!("  - at: 19s\n    revoke_credentials: {{ rotate_to: {ROTATED} }}\n");
    run(&text("sim", &clients, &faults)).remove(0)
}

#[test]
fn after_a_revoke_refresh_recovers_stop_gives_up_and_retry_storms() {
    let refresh = revoked("refresh");
    assert_eq!(unauthorized(&refresh), 3, "one 401 each, then the new secret");
    assert!(refresh.gave_up.is_empty() && refresh.unconverged.is_empty(), "{refresh:?}");
    assert!(refresh.faults.iter().all(|fault| fault.hits > 0), "{:?}", refresh.faults);

    let stop = revoked("stop");
    assert_eq!(unauthorized(&stop), 3);
    assert_eq!(stop.gave_up, vec![0, 1, 2]);

    let retry = revoked("retry");
    assert!(unauthorized(&retry) >= 3 * 15, "{:?}", retry.attempts_turned_away);
    assert!(retry.gave_up.is_empty());
    assert_eq!(retry.unconverged, vec![0, 1, 2]);
}

#[test]
fn no_secret_reaches_any_output() {
    let faults = format!("  - at: 19s\n    revoke_credentials: {{ rotate_to: {ROTATED} }}\n");
    let clients = MATRIX.replace("on_unauthorized: retry", "on_unauthorized: refresh");
    let path = scenario_file("signed-secrets", &text("sim", &clients, &faults));
    let dir = out_dir("signed-secrets");
    let output = wschaos().arg("run").arg(&path).arg("--out").arg(&dir).arg("-v").output().unwrap();
    let mut texts = vec![
        ("stdout".to_string(), String::from_utf8_lossy(&output.stdout).into_owned()),
        ("stderr".to_string(), String::from_utf8_lossy(&output.stderr).into_owned()),
    ];
    let mut folders = vec![dir.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                texts.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
                ));
            }
        }
    }
    let names: Vec<&str> = texts.iter().map(|(name, _)| name.as_str()).collect();
    for file in ["report.json", "summary.md", "junit.xml", "report.html", "events.jsonl"] {
        assert!(names.iter().any(|name| name.ends_with(file)), "{file} written: {names:?}");
    }
    for (name, text) in &texts {
        for secret in [SECRET, ROTATED] {
            assert!(!text.contains(secret), "{name} shows a secret");
        }
    }
    // The run did sign and revoke: the report shows the rejections the revoke caused.
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(report.contains("unauthorized_401"), "{report}");
    let scenario = Scenario::parse(&text("sim", &clients, &faults), "s.yaml").unwrap();
    let debug = format!("{scenario:?}");
    assert!(!debug.contains(SECRET) && !debug.contains(ROTATED), "Debug of the model redacts");
}

#[test]
fn signed_handshakes_pass_live() {
    let text = text("live", "  strategy: { kind: fixed, delay: 200ms }\n", "")
        .replace("duration: 30s\nquiet_period: 10s", "duration: 3s\nquiet_period: 2s")
        .replace("at: 20s", "at: 1s");
    let reports = run_live(&text);
    assert_eq!(unauthorized(&reports[0]), 0, "{:?}", reports[0].attempts_turned_away);
    assert!(reports[0].attempts_total >= 6, "every client connected twice: {}", reports[0].attempts_total);
    assert!(reports[0].gave_up.is_empty() && reports[0].unconverged.is_empty());
}

fn run_live(text: &str) -> Vec<StrategyReport> {
    let scenario = Scenario::parse(text, "signed.yaml").unwrap_or_else(|error| panic!("{error}"));
    wschaos::run(&scenario, Engine::Live).unwrap().strategies
}
