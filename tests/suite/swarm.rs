//! `wschaos run --seeds`: a swarm lists exactly the seeds whose own runs fail, its repro lines
//! repeat them, its distribution spans the seeds' figures, its output does not depend on the
//! thread count, invalid draws fail their seed, Ctrl-C keeps the finished seeds, and misuse is
//! a usage error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use wschaos::report::format_metric_value;
use wschaos::report::json::read as read_report;
use wschaos::report::swarm::figure;
use wschaos::runner::{Interrupt, SwarmOptions, run_swarm};
use wschaos::scenario::Scenario;
use wschaos::scenario::slo::find_metric;
use wschaos::units::parse_duration;

use crate::run::{out_dir, scenario_file, wschaos};

/// A blackhole that only heartbeats can find; pings every 1 s to 20 s against an 8 s limit
/// on detection, so some seeds pass and some fail.
const DETECT: &str = "version: 1
name: swarm-detect
duration: 30s
quiet_period: 30s
engine: sim
clients:
  count: 4
  workload: { rate: 2/s }
  strategy: { kind: fixed, delay: 500ms }
  heartbeat: { ping_every: 5s, pong_timeout: 1s }
faults:
  - at: 5s
    for: 10s
    blackhole: {}
slo:
  detect_time: [\"max < 8s\"]
swarm:
  clients.heartbeat.ping_every: 1s..20s
";

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs a swarm of `text` over `seeds` with `jobs` threads into its own folder; returns the
/// folder, the exit code and stdout.
fn swarm(name: &str, text: &str, seeds: &str, jobs: &str) -> (std::path::PathBuf, i32, String) {
    let path = scenario_file(name, text);
    let dir = out_dir(&format!("{name}-{jobs}"));
    let output = wschaos()
        .arg("run")
        .arg(&path)
        .args(["--seeds", seeds, "--jobs", jobs, "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (dir, output.status.code().unwrap(), stdout)
}

/// The rows of swarm.md's "did not pass" table: seed → repro commands.
fn listed_seeds(markdown: &str) -> BTreeMap<u64, Vec<String>> {
    let table = markdown.split("### Seeds that did not pass").nth(1).unwrap();
    let mut rows: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| seed")) {
        let seed = line.trim_start_matches("| ").split(' ').next().unwrap().parse().unwrap();
        let repro = line.rsplit('`').nth(1).unwrap().to_string();
        rows.entry(seed).or_default().push(repro);
    }
    rows
}

#[test]
fn a_swarm_lists_exactly_the_seeds_that_fail_alone_and_their_repro_lines_repeat_them() {
    let (dir, code, stdout) = swarm("swarm-detect", DETECT, "1..20", "2");
    let summary = std::fs::read_to_string(dir.join("swarm.md")).unwrap();
    assert_eq!(stdout, summary, "swarm.md is what the command prints");
    let swarm = json(&dir.join("swarm.json"));
    assert_eq!(swarm["schema_version"], 1);
    let seeds = swarm["seeds"].as_array().unwrap();
    assert_eq!(
        seeds.iter().map(|s| s["seed"].as_u64().unwrap()).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
    let failing: BTreeSet<u64> =
        seeds.iter().filter(|s| s["verdict"] != "pass").map(|s| s["seed"].as_u64().unwrap()).collect();
    assert!(!failing.is_empty() && failing.len() < 20, "some seeds fail, some pass: {failing:?}");
    assert_eq!(code, 1, "a failing seed fails the swarm");
    let listed = listed_seeds(&summary);
    assert_eq!(listed.keys().copied().collect::<BTreeSet<_>>(), failing, "{summary}");

    let drawn: BTreeSet<&str> =
        seeds.iter().map(|s| s["drawn"]["clients.heartbeat.ping_every"].as_str().unwrap()).collect();
    assert!(drawn.len() >= 18, "seeds draw their own values: {drawn:?}");
    for value in &drawn {
        let ping = parse_duration(value).unwrap();
        assert!((parse_duration("1s").unwrap()..=parse_duration("20s").unwrap()).contains(&ping), "{value}");
    }

    let path = scenario_file("swarm-detect", DETECT);
    for recorded in seeds {
        let seed = recorded["seed"].as_u64().unwrap();
        let repro = match listed.get(&seed) {
            Some(lines) => {
                assert_eq!(lines.len(), 1, "one strategy");
                lines[0].clone()
            }
            None => format!("wschaos run {} --engine sim --seeds {seed}", path.display()),
        };
        let expected = format!("wschaos run {} --engine sim --seeds {seed}", path.display());
        assert!(repro.starts_with(&expected), "{repro}");
        let one = out_dir(&format!("swarm-detect-seed-{seed}"));
        let output =
            wschaos().args(repro.split_whitespace().skip(1)).arg("--out").arg(&one).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let value = recorded["drawn"]["clients.heartbeat.ping_every"].as_str().unwrap();
        assert!(
            stderr.starts_with(&format!("seed {seed} draws clients.heartbeat.ping_every = {value}\n")),
            "the draw comes first: {stderr}"
        );
        let alone = read_report(&one.join("report.json")).unwrap();
        assert_eq!(output.status.code(), Some(if failing.contains(&seed) { 1 } else { 0 }), "seed {seed}");
        assert_eq!(alone.seed, seed);
        assert_eq!(alone.swarm_draw["clients.heartbeat.ping_every"], value);
        let strategy = &alone.strategies[0];
        assert_eq!(serde_json::to_value(strategy.verdict).unwrap(), recorded["strategies"][0]["verdict"]);
        for (name, figure_in_swarm) in recorded["strategies"][0]["metrics"].as_object().unwrap() {
            let own = figure(find_metric(name).unwrap(), &strategy.metrics[name.as_str()]);
            assert_eq!(own, figure_in_swarm.as_f64(), "seed {seed} {name}");
        }
        for file in ["summary.md", "junit.xml", "events.jsonl", "fixed.hgrm"] {
            assert!(one.join(file).exists(), "seed {seed}: the full report set, {file}");
        }
        let summary = std::fs::read_to_string(one.join("summary.md")).unwrap();
        assert!(summary.contains(&format!("{expected} --strategy fixed\n")), "its own repro line: {summary}");
    }
}

#[test]
fn the_distribution_spans_the_seed_figures_in_json_and_in_the_table() {
    let (dir, _, summary) =
        swarm("swarm-spread", &DETECT.replace("swarm-detect", "swarm-spread"), "1..12", "2");
    let swarm = json(&dir.join("swarm.json"));
    let rows = swarm["distribution"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["metric"] == "detect_time"));
    for row in rows {
        let metric = row["metric"].as_str().unwrap();
        let figures: Vec<(u64, f64)> = swarm["seeds"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| Some((s["seed"].as_u64()?, s["strategies"][0]["metrics"][metric].as_f64()?)))
            .collect();
        let min = figures.iter().map(|f| f.1).fold(f64::INFINITY, f64::min);
        let max = figures.iter().map(|f| f.1).fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((row["min"].as_f64(), row["max"].as_f64()), (Some(min), Some(max)), "{metric}");
        assert_eq!(row["seeds"].as_u64(), Some(figures.len() as u64), "{metric}");
        let worst = if metric == "availability" { min } else { max };
        let worst_seed = figures.iter().find(|f| f.1 == worst).unwrap().0;
        assert_eq!(row["worst_seed"].as_u64(), Some(worst_seed), "{metric}");
        let line = summary.lines().find(|l| l.starts_with(&format!("| fixed | {metric} |"))).unwrap();
        let cells: Vec<&str> = line.split(" | ").collect();
        assert_eq!(cells[4], format_metric_value(metric, min), "{line}");
        assert_eq!(cells[7], format_metric_value(metric, max), "{line}");
    }
}

#[test]
fn one_thread_or_two_give_the_same_bytes() {
    let text = DETECT.replace("swarm-detect", "swarm-threads");
    let (one, _, stdout_one) = swarm("swarm-threads", &text, "1..12", "1");
    let (two, _, stdout_two) = swarm("swarm-threads", &text, "1..12", "2");
    let bytes = |dir: &Path, file: &str| std::fs::read(dir.join(file)).unwrap();
    assert!(
        bytes(&one, "swarm.json") == bytes(&two, "swarm.json"),
        "swarm.json differs between --jobs 1 and 2"
    );
    assert!(bytes(&one, "swarm.md") == bytes(&two, "swarm.md"));
    assert_eq!(stdout_one, stdout_two);
    assert!(!one.join("events.jsonl").exists(), "no per-seed events in a swarm");
}

#[test]
fn a_draw_the_scenario_rejects_fails_its_seed_and_says_what_was_drawn() {
    // Clients still starting after the faults end (start_spread > duration) is invalid.
    let text = DETECT
        .replace("swarm-detect", "swarm-invalid")
        .replace("  count: 4\n", "  count: 4\n  start_spread: 1s\n")
        + "  clients.start_spread: 1s..60s\n";
    let (dir, code, summary) = swarm("swarm-invalid", &text, "1..10", "2");
    assert_eq!(code, 1);
    let swarm = json(&dir.join("swarm.json"));
    let invalid: Vec<&Value> =
        swarm["seeds"].as_array().unwrap().iter().filter(|s| s["verdict"] == "invalid_draw").collect();
    assert!(!invalid.is_empty(), "some spreads are over 30s");
    for seed in &invalid {
        let spread = parse_duration(seed["drawn"]["clients.start_spread"].as_str().unwrap()).unwrap();
        assert!(spread > parse_duration("30s").unwrap(), "{seed}");
        assert!(
            seed["invalid"][0]
                .as_str()
                .unwrap()
                .starts_with("clients.start_spread: clients would still be starting")
        );
        assert_eq!(seed["strategies"], serde_json::json!([]), "nothing ran");
        let number = seed["seed"].as_u64().unwrap();
        assert_eq!(
            listed_seeds(&summary)[&number],
            [format!(
                "wschaos run {} --engine sim --seeds {number}",
                scenario_file("swarm-invalid", &text).display()
            )]
        );
    }
    // Its repro line says the same and fails too.
    let number = invalid[0]["seed"].as_u64().unwrap().to_string();
    let output = wschaos()
        .arg("run")
        .arg(scenario_file("swarm-invalid", &text))
        .args(["--engine", "sim", "--seeds", &number])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let value = invalid[0]["drawn"]["clients.start_spread"].as_str().unwrap();
    assert!(stderr.contains("the draw clients.heartbeat.ping_every = "), "{stderr}");
    assert!(
        stderr.contains(&format!("clients.start_spread = {value} makes the scenario invalid")),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_keeps_the_seeds_that_finished_and_starts_no_more() {
    let scenario = Scenario::parse(&DETECT.replace("1s..20s", "1s..3s"), "detect.yaml").unwrap();
    let options = SwarmOptions { file: "detect.yaml".into(), seeds: 1..=50, jobs: 1, strategies: Vec::new() };
    let interrupt = Interrupt::default();
    let pressed = interrupt.clone();
    let report = run_swarm(&scenario, &options, &interrupt, &move |_| pressed.trigger()).unwrap();
    assert!(report.interrupted);
    assert_eq!(serde_json::to_value(report.verdict).unwrap(), "interrupted");
    assert_eq!(
        report.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(),
        [1],
        "one worker, stopped after seed 1"
    );
}

#[test]
fn a_plain_run_of_a_swarm_file_says_so_and_uses_the_files_own_values() {
    let with = scenario_file("swarm-plain", &DETECT.replace("swarm-detect", "swarm-plain"));
    let without = scenario_file(
        "swarm-plain-none",
        DETECT.replace("swarm-detect", "swarm-plain").split("swarm:").next().unwrap(),
    );
    let (a, b) = (out_dir("swarm-plain-a"), out_dir("swarm-plain-b"));
    let output = wschaos().arg("run").arg(&with).arg("--out").arg(&a).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("note: the swarm section applies only with --seeds").count(), 1, "{stderr}");
    wschaos().arg("run").arg(&without).arg("--out").arg(&b).output().unwrap();
    let (a, b) = (read_report(&a.join("report.json")).unwrap(), read_report(&b.join("report.json")).unwrap());
    assert!(a.swarm_draw.is_empty());
    assert_eq!(a.strategies, b.strategies, "the file's values, as if there were no swarm section");
}

#[test]
fn seeds_misuse_is_a_usage_error_that_says_why() {
    let path = scenario_file("swarm-misuse", &DETECT.replace("swarm-detect", "swarm-misuse"));
    let live = scenario_file("swarm-misuse-live", &DETECT.replace("engine: sim", "engine: live"));
    let cases: [(&Path, &[&str], &str); 7] = [
        (
            &path,
            &["--seeds", "1..3", "--engine", "live"],
            "--seeds runs on the sim engine only (add --engine sim)",
        ),
        (&live, &["--seeds", "1..3"], "--seeds runs on the sim engine only"),
        (
            &path,
            &["--seeds", "1..3", "--seed", "4"],
            "'--seeds <A..B|N>' cannot be used with '--seed <SEED>'",
        ),
        (&path, &["--seeds", "5..1"], "`5..1` is backwards; write `1..5`"),
        (&path, &["--seeds", "one"], "`one` is not a seed"),
        (&path, &["--jobs", "2"], "--seeds <A..B|N>"),
        (&path, &["--seeds", "1..3", "--check-determinism"], "give it a single seed (--seeds N)"),
    ];
    for (file, args, phrase) in cases {
        let output = wschaos().arg("run").arg(file).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(phrase), "{args:?}: {stderr}");
    }
}
