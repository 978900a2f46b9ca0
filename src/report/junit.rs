//! `junit.xml` (Jenkins dialect, via `quick-junit`): a suite per scenario × strategy, a test
//! case per SLO threshold, and a "faults hit something" case. No timestamps, times or host
//! names, so the same report gives the same bytes.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Format, repro_line, unhit_faults};
use crate::outcome::{RunReport, StrategyReport};
use crate::units::format_seconds;

/// The JUnit XML format.
pub struct Junit;

impl Format for Junit {
    fn name(&self) -> &'static str {
        "junit"
    }

    fn file_name(&self, _strategy: Option<&str>) -> String {
        "junit.xml".to_string()
    }

    fn render(&self, report: &RunReport, _strategy: Option<&StrategyReport>) -> String {
        render(report)
    }
}

/// The name of the coverage case every suite carries.
pub const FAULTS_HIT_CASE: &str = "faults hit something";

/// The name of the case a client program's suite carries: no client ended before the run.
pub const PROGRAMS_RAN_CASE: &str = "client programs ran to the end";

/// The JUnit XML of the report.
pub fn render(report: &RunReport) -> String {
    let mut junit = Report::new(format!("wschaos {}", report.scenario));
    for strategy in &report.strategies {
        junit.add_test_suite(suite(report, strategy));
    }
    junit.to_string().expect("quick-junit serializes to a String without I/O errors")
}

fn suite(report: &RunReport, strategy: &StrategyReport) -> TestSuite {
    let name = format!("{}/{}", report.scenario, strategy.name);
    let mut suite = TestSuite::new(name.as_str());
    suite.add_properties([
        Property::new("seed", report.seed.to_string()),
        Property::new("engine", report.engine.as_str()),
        Property::new("file", report.file.as_str()),
        Property::new("wschaos_version", report.wschaos_version.as_str()),
        Property::new("verdict", format!("{:?}", strategy.verdict).to_lowercase()),
    ]);
    // A strategy cut short is measured, not judged: each of its cases is skipped, saying why,
    // so CI shows neither a pass nor a failure it did not earn.
    let skipped = strategy.interrupted_at.map(|at| {
        let mut status = TestCaseStatus::skipped();
        status.set_type("interrupted").set_message(format!(
            "interrupted at {} of {}: not judged",
            format_seconds(at),
            format_seconds(report.duration + report.quiet_period)
        ));
        status
    });
    for slo in &strategy.slo {
        let status = if let Some(skipped) = &skipped {
            skipped.clone()
        } else if slo.passed {
            TestCaseStatus::success()
        } else {
            let measured = if slo.measured.is_some() { slo.measured_text.as_str() } else { "no values" };
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_type("threshold")
                .set_message(format!("{} measured {measured}, want {}", slo.metric, slo.threshold));
            status
        };
        let mut case = TestCase::new(format!("{} {}", slo.metric, slo.threshold), status);
        case.set_classname(name.as_str());
        suite.add_test_case(case);
    }
    let unhit = unhit_faults(strategy);
    let status = if let Some(skipped) = skipped {
        skipped
    } else if unhit.is_empty() {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type("coverage").set_message(format!("inconclusive: hit nothing: {}", unhit.join(", ")));
        status
    };
    let mut case = TestCase::new(FAULTS_HIT_CASE, status);
    case.set_classname(name.as_str());
    suite.add_test_case(case);
    if let Some(program) = &strategy.program {
        let status = match program.exits.first() {
            Some(exit) if !program.allow_exit => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let others = program.exits.len() - 1;
                let more = if others > 0 { format!(" (and {others} more)") } else { String::new() };
                status
                    .set_type("client_exited")
                    .set_message(format!("client {} {} at {:.3}s{more}", exit.client, exit.status, exit.t));
                status.set_description(exit.last_lines.join("\n"));
                status
            }
            _ => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(PROGRAMS_RAN_CASE, status);
        case.set_classname(name.as_str());
        suite.add_test_case(case);
    }
    suite.set_system_out(format!("repro: {}\n", repro_line(report, &strategy.name)));
    suite
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example;

    fn parsed() -> Report {
        Report::deserialize_from_str(&render(&example::report())).expect("our XML parses")
    }

    #[test]
    fn a_suite_per_strategy_and_a_case_per_threshold() {
        let junit = parsed();
        let suites: Vec<&str> = junit.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(suites, ["flaky-mobile-link/socketio", "flaky-mobile-link/fixed-1s"]);
        let cases: Vec<&str> = junit.test_suites[1].test_cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cases, ["recovery_time p(99) < 5s", "messages_lost count <= 5", FAULTS_HIT_CASE]);
        assert_eq!(junit.tests, 6);
        assert_eq!(junit.failures, 3);
    }

    #[test]
    fn failures_carry_the_measured_value() {
        let text = render(&example::report());
        assert!(
            text.contains(r#"message="recovery_time measured 9s, want p(99) &lt; 5s" type="threshold""#),
            "{text}"
        );
        assert!(text.contains(r#"message="messages_lost measured 20, want count &lt;= 5""#), "{text}");
    }

    #[test]
    fn an_unhit_fault_fails_the_coverage_case_by_name() {
        let junit = parsed();
        let socketio = &junit.test_suites[0];
        assert_eq!(socketio.failures, 1);
        let case = socketio.test_cases.iter().find(|c| c.name.as_str() == FAULTS_HIT_CASE).unwrap();
        match &case.status {
            TestCaseStatus::NonSuccess { message, .. } => assert_eq!(
                message.as_ref().map(|m| m.as_str()),
                Some("inconclusive: hit nothing: faults[1]#0 blackhole")
            ),
            other => panic!("expected a failure, got {other:?}"),
        }
        let fixed = &junit.test_suites[1];
        let case = fixed.test_cases.iter().find(|c| c.name.as_str() == FAULTS_HIT_CASE).unwrap();
        assert!(matches!(case.status, TestCaseStatus::Success { .. }));
    }

    #[test]
    fn a_strategy_cut_short_has_its_cases_skipped_with_the_reason() {
        let mut report = example::report();
        report.strategies[1].verdict = crate::outcome::Verdict::Interrupted;
        report.strategies[1].interrupted_at = Some(12.5);
        let junit = Report::deserialize_from_str(&render(&report)).expect("our XML parses");
        let fixed = &junit.test_suites[1];
        assert_eq!((fixed.failures, fixed.skipped), (0, 3), "no failure from a strategy cut short");
        for case in &fixed.test_cases {
            match &case.status {
                TestCaseStatus::Skipped { message, .. } => assert_eq!(
                    message.as_ref().map(|m| m.as_str()),
                    Some("interrupted at 12.5s of 130s: not judged"),
                    "{:?}",
                    case.name
                ),
                other => panic!("{:?}: expected skipped, got {other:?}", case.name),
            }
        }
        assert_eq!(junit.test_suites[0].failures, 1, "the strategy that finished keeps its failure");
    }

    #[test]
    fn output_is_deterministic_with_properties_and_repro() {
        let text = render(&example::report());
        assert_eq!(text, render(&example::report()));
        assert!(!text.contains("timestamp") && !text.contains("hostname") && !text.contains(" time="));
        assert!(text.contains(r#"<property name="seed" value="42"/>"#), "{text}");
        assert!(
            text.contains(
                "repro: wschaos run scenarios/flaky.yaml --engine sim --seed 42 --strategy fixed-1s"
            )
        );
    }
}
