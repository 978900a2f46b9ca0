//! A strategy's report: what its recorder took, judged against the scenario's SLOs (and, for a
//! client program, against its clients' early exits). The runner and the standalone proxy both
//! report through [`strategy_report`].

use std::collections::BTreeMap;

use crate::outcome::stats::stats;
use crate::outcome::{ProgramReport, StrategyReport, Verdict, judge};
use crate::recorder::Recorder;
use crate::scenario::Scenario;

/// A strategy's report from what its recorder took: the figures judged against the scenario's
/// SLOs (and, for a client program, against its clients' early exits), under `label` (name,
/// description). `interrupted_at` (seconds from the start) when an interrupt cut it short,
/// which makes the verdict `interrupted` whatever the figures say: they cover only part of
/// the run. The standalone proxy reports through this too.
pub fn strategy_report(
    recorder: Recorder,
    program: Option<ProgramReport>,
    scenario: &Scenario,
    label: (&str, String),
    interrupted_at: Option<f64>,
) -> StrategyReport {
    let (name, description) = label;
    let output = recorder.finish();
    if output.late_events > 0 {
        tracing::warn!(
            late = output.late_events,
            "events arrived too far out of time order for the recorder's window and were taken as they came"
        );
    }
    let slo = judge::evaluate(&scenario.slo, &output.samples);
    let exited = program.as_ref().is_some_and(|p| !p.allow_exit && !p.exits.is_empty());
    let verdict = if interrupted_at.is_some() {
        Verdict::Interrupted
    } else if exited {
        judge::verdict(&slo, &output.faults).max(Verdict::Fail)
    } else {
        judge::verdict(&slo, &output.faults)
    };
    let recovery_time_us = output
        .samples
        .get("recovery_time")
        .map(|values| values.iter().map(|seconds| (seconds * 1e6).round().max(0.0) as u64).collect())
        .unwrap_or_default();
    let mut metrics = judge::summaries(&output.samples);
    if !scenario.server.tls {
        // Only wss:// runs have TLS handshakes: plain reports stay as they were (docs/tls.md).
        metrics.remove("tls_time");
    }
    StrategyReport {
        name: name.to_string(),
        description,
        verdict,
        interrupted_at,
        metrics,
        detect_time_by_reason: output.detect_by_reason.iter().map(|(k, v)| (k.clone(), stats(v))).collect(),
        messages: output.messages,
        attempts_total: output.attempts_total,
        peak_attempts_per_second: output.attempts_per_second.iter().copied().max().unwrap_or(0),
        attempts_per_second: output.attempts_per_second,
        gave_up: output.gave_up,
        unconverged: output.unconverged,
        faults: output.faults,
        slo,
        incidents: output.incidents,
        recovery_time_us,
        client_close_codes: output.client_close_codes,
        attempts_turned_away: BTreeMap::new(),
        charts: Some(output.charts),
        program,
    }
}
