//! `wschaos report` and `wschaos compare` as processes: re-rendering a report.json, and the
//! comparison's exit codes (0 equal, 1 regressed, 2 unreadable).

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use wschaos::outcome::RunReport;
use wschaos::report::{example, json};

fn wschaos() -> Command {
    Command::cargo_bin("wschaos").unwrap()
}

/// A fresh directory for one test under the target's temporary directory.
fn tempdir(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `report` as `dir/name` and returns the path.
fn write(dir: &std::path::Path, name: &str, report: &RunReport) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json::render(report)).unwrap();
    path
}

#[test]
fn report_renders_the_markdown_summary() {
    let dir = tempdir("md");
    let file = write(&dir, "report.json", &example::report());
    wschaos()
        .arg("report")
        .arg(&file)
        .args(["--format", "md"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("## FAIL · flaky-mobile-link · engine sim · seed 42\n"))
        .stdout(predicate::str::contains(
            "wschaos run scenarios/flaky.yaml --engine sim --seed 42 --strategy fixed-1s",
        ));
}

#[test]
fn report_renders_one_strategys_histogram() {
    let dir = tempdir("hgrm");
    let file = write(&dir, "report.json", &example::report());
    wschaos()
        .arg("report")
        .arg(&file)
        .args(["--format", "hgrm", "--strategy", "fixed-1s"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n"))
        .stdout(predicate::str::contains("Total count    =            4]"))
        // fixed-1s's slowest recovery is 9 s; socketio's is 2.5 s.
        .stdout(predicate::str::contains("#[Max     =     9003.007"));
    wschaos()
        .arg("report")
        .arg(&file)
        .args(["--format", "hgrm", "--strategy", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no strategy `nope`; it has socketio, fixed-1s"));
}

#[test]
fn report_rejects_another_schema_version_with_exit_2() {
    let dir = tempdir("schema");
    let mut old = example::report();
    old.schema_version = 0;
    let file = write(&dir, "old.json", &old);
    wschaos()
        .arg("report")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has schema_version 0, but this wschaos"));
}

#[test]
fn compare_exit_codes() {
    let dir = tempdir("compare");
    let base = write(&dir, "base.json", &example::report());
    let mut slower = example::report();
    slower.strategies[1].metrics.get_mut("recovery_time").unwrap().p99 *= 1.2;
    let slower = write(&dir, "slower.json", &slower);

    wschaos()
        .arg("compare")
        .args([&base, &base])
        .args(["--fail-on-regression", "10"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no regression beyond 10% on p99 or mean"));
    wschaos()
        .arg("compare")
        .args([&base, &slower])
        .args(["--fail-on-regression", "10"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED beyond 10%: fixed-1s recovery_time p99 9s → 10.8s"));
    wschaos().arg("compare").args([&base, &slower]).assert().code(0);
    wschaos()
        .arg("compare")
        .arg(&base)
        .arg(dir.join("missing.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
    wschaos().arg("compare").args([&base, &base]).args(["--fail-on-regression", "-5"]).assert().code(2);
}
