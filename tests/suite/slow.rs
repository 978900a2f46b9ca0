//! The slow live tests: whole runs over loopback TCP in real time (12 s to 60 s each). They
//! assert behaviour, never speed, and run as their own CI step after the fast tests
//! (`cargo test --test tests slow::`), so a failure says which kind it is.

use crate::run::{out_dir, pong_loss_on, report, scenario_file, wschaos};

#[test]
fn a_shortened_flaky_run_over_real_tcp_gives_a_consistent_report() {
    let text = "version: 1\nname: flaky-live\nseed: 42\nduration: 8s\nquiet_period: 4s\nengine: live\nclients:\n  count: 10\n  workload: { rate: 20/s }\n  strategy: aws-full-jitter\n  heartbeat: { ping_every: 1s, pong_timeout: 500ms }\n  delivery: at_least_once\nfaults:\n  - at: 1s\n    reset: {}\n    target: { share: 50% }\n  - at: 3s\n    for: 2s\n    stall: { direction: both }\n  - at: 6s\n    reset: {}\nslo:\n  messages_lost: [\"count == 0\"]\n";
    let path = scenario_file("flaky-live", text);
    let dir = out_dir("flaky-live");
    let output = wschaos().arg("run").arg(&path).arg("--out").arg(&dir).output().unwrap();
    assert!(output.status.code() == Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report = report(&dir);
    assert_eq!(report["engine"], "live");
    let strategy = &report["strategies"][0];
    let messages = &strategy["messages"];
    let (offered, echoed, lost) = (
        messages["offered"].as_u64().unwrap(),
        messages["echoed"].as_u64().unwrap(),
        messages["lost"].as_u64().unwrap(),
    );
    assert_eq!(lost, 0);
    assert_eq!(offered, echoed + lost, "every offered message is echoed or lost");
    let incidents = strategy["incidents"].as_array().unwrap();
    assert!(incidents.len() >= 5 + 10, "the resets broke links: {}", incidents.len());
    for incident in incidents {
        let (t_break, t_detect) =
            (incident["t_break"].as_f64().unwrap(), incident["t_detect"].as_f64().unwrap());
        assert!(t_break <= t_detect, "breaks come before their detection: {incident}");
        if incident["reason"] == "reset" {
            assert!(t_detect - t_break < 1.0, "a reset is noticed at once: {incident}");
        }
        if let Some(t_recovered) = incident["t_recovered"].as_f64() {
            assert!(incident["t_open"].as_f64().unwrap() <= t_recovered);
        }
    }
    assert!(strategy["faults"].as_array().unwrap().iter().all(|f| f["hits"].as_u64().unwrap() > 0));
}

#[test]
fn pong_loss_runs_end_to_end_live() {
    // 60 s of real time: the scenario as shipped, over loopback TCP.
    let report = pong_loss_on("live");
    let detect = report["strategies"][0]["metrics"]["detect_time"]["max"].as_f64().unwrap();
    assert!((2.0..3.0).contains(&detect), "pong timeout plus loopback noise: {detect}");
}

/// A scenario whose figures depend only on its timers, not on the machine: a reset and a
/// blackhole found by the heartbeat, a fixed backoff, new links spared.
const TIMERS_ONLY: &str = "version: 1\nname: sim-vs-live\nseed: 3\nduration: 10s\nquiet_period: 4s\nclients:\n  count: 5\n  strategy: { kind: fixed, delay: 500ms }\n  heartbeat: { ping_every: 1s, pong_timeout: 500ms }\n  workload: { rate: 20/s }\nfaults:\n  - at: 2s\n    reset: {}\n  - at: 5s\n    for: 3s\n    blackhole: { direction: both }\n    target: { links: existing }\n";

#[test]
fn sim_and_live_agree_on_recovery_within_the_stated_tolerance() {
    // ARCHITECTURE.md states the tolerance: every percentile within 50 ms or 5 %, whichever is
    // larger. Live adds loopback hops, timer granularity and scheduling; the sim has none.
    let path = scenario_file("sim-vs-live", TIMERS_ONLY);
    let figures = |engine: &str| {
        let dir = out_dir(&format!("sim-vs-live-{engine}"));
        wschaos().arg("run").arg(&path).args(["--engine", engine, "--out"]).arg(&dir).assert().code(0);
        report(&dir)["strategies"][0]["metrics"].clone()
    };
    let (sim, live) = (figures("sim"), figures("live"));
    for metric in ["recovery_time", "detect_time", "observed_recovery_time"] {
        assert_eq!(sim[metric]["count"], live[metric]["count"], "{metric}: the same incidents");
        for figure in ["p50", "p90", "max"] {
            let (s, l) = (sim[metric][figure].as_f64().unwrap(), live[metric][figure].as_f64().unwrap());
            let tolerance = (0.05 * s).max(0.050);
            assert!((s - l).abs() <= tolerance, "{metric} {figure}: sim {s} s, live {l} s");
        }
    }
    assert_eq!(
        sim["recovery_time"]["max"].as_f64(),
        Some(1.5),
        "detect 1 s after the blackhole, back 500 ms later"
    );
}
