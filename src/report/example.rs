//! A hand-built [`RunReport`]: the fixture the report tests share, and a worked example of the
//! format. Two strategies, one failing SLO, a fault that hit nothing, and a few incidents.

use std::collections::BTreeMap;

use crate::outcome::{
    FaultOutcome, Incident, MessageCounts, RunReport, SCHEMA_VERSION, SloResult, Stats, StrategyReport,
    Verdict,
};

/// The example run: scenario `flaky-mobile-link`, engine `sim`, seed 42, strategies `socketio`
/// (its SLOs hold, but a fault hit nothing: inconclusive) and `fixed-1s` (fails `recovery_time p(99) < 5s`).
pub fn report() -> RunReport {
    RunReport {
        schema_version: SCHEMA_VERSION,
        wschaos_version: "0.1.0".to_string(),
        scenario: "flaky-mobile-link".to_string(),
        file: "scenarios/flaky.yaml".to_string(),
        description: Some("Resets and blackholes on a phone link.".to_string()),
        engine: "sim".to_string(),
        seed: 42,
        swarm_draw: BTreeMap::new(),
        duration: 120.0,
        quiet_period: 10.0,
        clients: 3,
        interrupted: false,
        verdict: Verdict::Fail,
        strategies: vec![socketio(), fixed()],
    }
}

/// Stats of `values` (nearest-rank percentiles), so the example's figures agree with each other.
pub fn stats(values: &[f64]) -> Stats {
    if values.is_empty() {
        return Stats::default();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank =
        |p: f64| sorted[((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    let sum: f64 = sorted.iter().sum();
    Stats {
        count: sorted.len() as u64,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        mean: sum / sorted.len() as f64,
        sum,
        p50: rank(50.0),
        p90: rank(90.0),
        p95: rank(95.0),
        p99: rank(99.0),
    }
}

fn incident(client: u32, t_break: f64, detect: f64, reason: &str, recovered: f64, cause: &str) -> Incident {
    Incident {
        client,
        t_break,
        t_detect: t_break + detect,
        reason: reason.to_string(),
        attempts: 2,
        t_open: Some(t_break + recovered - 0.01),
        t_recovered: Some(t_break + recovered),
        t_heal: Some(t_break + 0.5),
        causes: vec![cause.to_string()],
        tls_time: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn strategy(
    name: &str,
    description: &str,
    recovery: &[f64],
    excess: &[f64],
    availability: &[f64],
    messages: MessageCounts,
    faults: Vec<FaultOutcome>,
    slo: Vec<SloResult>,
) -> StrategyReport {
    let incidents: Vec<Incident> = recovery
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let (reason, detect) = if i % 2 == 0 { ("reset", 0.002) } else { ("pong_timeout", 3.0) };
            incident(i as u32 % 3, 10.0 * (i as f64 + 1.0), detect, reason, r, "faults[0]#0 reset")
        })
        .collect();
    let by_reason = |reason: &str| {
        let values: Vec<f64> =
            incidents.iter().filter(|i| i.reason == reason).map(|i| i.t_detect - i.t_break).collect();
        stats(&values)
    };
    let attempts_per_second = vec![0, 3, 1, 0, 6, 2];
    let mut metrics = BTreeMap::new();
    metrics.insert("recovery_time".to_string(), stats(recovery));
    metrics.insert("excess_after_heal".to_string(), stats(excess));
    metrics.insert("availability".to_string(), stats(availability));
    metrics.insert("attempts".to_string(), stats(&vec![2.0; recovery.len()]));
    StrategyReport {
        name: name.to_string(),
        description: description.to_string(),
        verdict: if !slo.iter().all(|s| s.passed) {
            Verdict::Fail
        } else if faults.iter().any(|f| f.hits == 0) {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        },
        interrupted_at: None,
        metrics,
        detect_time_by_reason: BTreeMap::from([
            ("pong_timeout".to_string(), by_reason("pong_timeout")),
            ("reset".to_string(), by_reason("reset")),
        ]),
        messages,
        attempts_total: attempts_per_second.iter().sum(),
        peak_attempts_per_second: 6,
        attempts_per_second,
        gave_up: vec![],
        unconverged: vec![],
        faults,
        slo,
        recovery_time_us: recovery.iter().map(|r| (r * 1e6).round() as u64).collect(),
        incidents,
        client_close_codes: BTreeMap::new(),
        attempts_turned_away: BTreeMap::new(),
        charts: None,
        program: None,
    }
}

fn fault(plan: u64, occurrence: u64, name: &str, started: f64, hits: u64) -> FaultOutcome {
    FaultOutcome {
        plan,
        occurrence,
        name: name.to_string(),
        started,
        ended: Some(started + 0.5),
        hits,
        not_applied: Default::default(),
        impersonation: None,
    }
}

fn slo(metric: &str, threshold: &str, measured: f64, measured_text: &str, passed: bool) -> SloResult {
    SloResult {
        metric: metric.to_string(),
        threshold: threshold.to_string(),
        measured: Some(measured),
        measured_text: measured_text.to_string(),
        passed,
    }
}

fn socketio() -> StrategyReport {
    strategy(
        "socketio",
        "exponential 1s..5s, ±50% jitter (socket.io-client 4.8)",
        &[0.45, 1.2, 0.8, 2.5],
        &[0.1, 0.3, 0.2, 0.9],
        &[0.995, 0.99, 0.985],
        MessageCounts {
            offered: 1000,
            sent: 1000,
            echoed: 998,
            lost: 2,
            unresolved: 0,
            duplicated: 1,
            reordered: 0,
        },
        vec![fault(0, 0, "reset", 10.0, 3), fault(1, 0, "blackhole", 60.0, 0)],
        vec![
            slo("recovery_time", "p(99) < 5s", 2.5, "2.5s", true),
            slo("messages_lost", "count <= 5", 2.0, "2", true),
        ],
    )
}

fn fixed() -> StrategyReport {
    strategy(
        "fixed-1s",
        "fixed 1s",
        &[1.5, 3.0, 6.2, 9.0],
        &[1.0, 1.8, 2.5, 4.0],
        &[0.97, 0.95, 0.96],
        MessageCounts {
            offered: 1000,
            sent: 990,
            echoed: 980,
            lost: 20,
            unresolved: 0,
            duplicated: 0,
            reordered: 3,
        },
        vec![fault(0, 0, "reset", 10.0, 3), fault(1, 0, "blackhole", 60.0, 2)],
        vec![
            slo("recovery_time", "p(99) < 5s", 9.0, "9s", false),
            slo("messages_lost", "count <= 5", 20.0, "20", false),
        ],
    )
}
