//! Signals as a user, a CI runner or systemd sends them: SIGTERM and SIGHUP stop `wschaos run`,
//! a swarm and the serve loops as cleanly as Ctrl-C does (reports written and marked
//! interrupted, the exit code 128 + the signal), and a second signal exits at once.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::process::Process;
use crate::run::{out_dir, report, scenario_file};

/// A live run long enough to be cut: 3 clients sending, a reset at 1 s.
const LONG: &str = "version: 1\nname: long\nduration: 60s\nquiet_period: 10s\nengine: live\nclients:\n  count: 3\n  workload: { rate: 10/s }\nfaults:\n  - at: 1s\n    reset: {}\n";

/// Polls `ready` every 20 ms for up to 30 s.
async fn wait_for(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..1500 {
        if ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} within 30 s");
}

fn file_contains(path: &Path, text: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|content| content.contains(text))
}

/// Every line of events.jsonl is a whole JSON object, and the file ends with a newline.
fn assert_whole_lines(events: &Path) {
    let text = std::fs::read_to_string(events).unwrap();
    assert!(text.ends_with('\n'), "events.jsonl ends with a whole line");
    for line in text.lines() {
        let _: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("a torn line {line:?}: {e}"));
    }
}

#[tokio::test]
async fn sigterm_and_sighup_mid_run_write_an_interrupted_report_and_exit_128_plus_the_signal() {
    let path = scenario_file("long-signalled", LONG);
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let dir = out_dir(&format!("signalled-{signal}"));
        let mut run = Process::start_in(
            &["run", path.to_str().unwrap(), "--out", dir.to_str().unwrap()],
            Stdio::null(),
            None,
        );
        // The reset at 1 s recorded means the run is well under way (and its handlers are in).
        let events = dir.join("events.jsonl");
        wait_for("the reset recorded", || file_contains(&events, "fault_hit")).await;
        run.signal(signal);
        let status = run.wait();
        assert_eq!(status.code(), Some(code), "SIG{signal}: exit 128 + the signal, not killed by it");
        let report = report(&dir);
        assert_eq!(report["interrupted"], true, "SIG{signal}");
        assert_eq!(report["verdict"], "interrupted", "SIG{signal}");
        for file in ["summary.md", "junit.xml", "aws-full-jitter.hgrm"] {
            assert!(dir.join(file).metadata().unwrap().len() > 0, "SIG{signal}: {file} written");
        }
        assert_whole_lines(&events);
    }
}

#[tokio::test]
async fn a_swarm_stopped_by_sigterm_writes_its_reports_marked_interrupted() {
    let text = "version: 1\nname: swarm-signalled\nduration: 600s\nengine: sim\nclients:\n  count: 20\n  workload: { rate: 20/s }\nfaults:\n  - every: 5s\n    reset: {}\nswarm:\n  clients.count: 10..20\n";
    let path = scenario_file("swarm-signalled", text);
    let dir = out_dir("swarm-signalled");
    std::fs::create_dir_all(&dir).unwrap();
    let stderr_path = dir.join("stderr.txt");
    let mut swarm = Process::start_in(
        &[
            "run",
            path.to_str().unwrap(),
            "--seeds",
            "1..100000",
            "--jobs",
            "1",
            "--out",
            dir.to_str().unwrap(),
        ],
        Stdio::from(File::create(&stderr_path).unwrap()),
        None,
    );
    // The first line is printed once the handlers are in.
    wait_for("the swarm's first line", || file_contains(&stderr_path, "swarm: 100000 seeds")).await;
    swarm.signal("TERM");
    let status = swarm.wait();
    assert_eq!(status.code(), Some(143), "{}", std::fs::read_to_string(&stderr_path).unwrap());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("swarm.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["verdict"], "interrupted");
    let markdown = std::fs::read_to_string(dir.join("swarm.md")).unwrap();
    assert!(markdown.contains("The swarm was interrupted"), "{markdown}");
}

#[test]
fn the_serve_loops_stop_cleanly_on_sigterm_and_sighup() {
    for signal in ["TERM", "HUP"] {
        let mut echo = Process::start(&["echo", "--listen", "127.0.0.1:0"]);
        let url = echo.line(|line| line.starts_with("listening on ws://")).replace("listening on ", "");
        let addr = url.trim_start_matches("ws://").to_string();
        let mut proxy = Process::start(&["proxy", "--upstream", &addr]);
        let first = proxy.line(|line| line.starts_with("listening on "));
        let proxy_addr = first.trim_start_matches("listening on ").split(',').next().unwrap().to_string();
        let mut client =
            Process::start(&["client", "--url", &format!("ws://{proxy_addr}/"), "--rate", "50/s"]);
        client.line(|line| line.contains("message 5 echoed"));

        client.signal(signal);
        let summary = client.line(|line| line.starts_with("attempts "));
        assert!(summary.contains("duplicates 0"), "SIG{signal}: {summary}");
        assert!(client.wait().success(), "SIG{signal}: the client stops cleanly");
        proxy.signal(signal);
        assert!(proxy.wait().success(), "SIG{signal}: the proxy stops cleanly");
        echo.signal(signal);
        let counters = echo.line(|line| line.starts_with("connections "));
        assert!(
            counters.starts_with("connections 1,"),
            "SIG{signal}: one connection, the proxy's: {counters}"
        );
        assert!(echo.wait().success(), "SIG{signal}: the echo server stops cleanly, with its counters");
    }
}

#[tokio::test]
async fn a_second_signal_exits_at_once_when_the_clean_stop_hangs() {
    // stdout is a pipe nobody reads, kept full by a thread of the test's own: the run's
    // summary can never be written, so its clean end hangs on it, as behind a stuck `less`.
    let (reader, mut writer) = std::io::pipe().unwrap();
    let child_stdout = writer.try_clone().unwrap();
    std::thread::spawn(move || while writer.write_all(&[b'.'; 4096]).is_ok() {});

    let text = "version: 1\nname: stuck\nduration: 10s\nquiet_period: 5s\nengine: sim\nclients:\n  count: 4\n  workload: { rate: 10/s }\n";
    let path = scenario_file("stuck", text);
    let dir = out_dir("stuck");
    std::fs::create_dir_all(&dir).unwrap();
    let stderr_path = dir.join("stderr.txt");
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_wschaos"))
        .args(["run", path.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .stdout(child_stdout)
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    // report.json is written just before the summary is printed.
    wait_for("the reports written", || dir.join("out/report.json").exists()).await;
    run_signal(run.id(), "TERM");
    wait_for("the first signal taken", || file_contains(&stderr_path, "interrupted by SIGTERM")).await;
    assert!(run.try_wait().unwrap().is_none(), "the clean stop is stuck on stdout, as arranged");
    run_signal(run.id(), "TERM");
    let mut status = None;
    for _ in 0..500 {
        status = run.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(status) = status else {
        let _ = run.kill();
        panic!("still running 10 s after the second signal");
    };
    assert_eq!(status.code(), Some(143));
    assert!(file_contains(&stderr_path, "SIGTERM: a second signal; exiting at once"));
    drop(reader);
}

/// `kill -NAME pid`, as [`Process::signal`] does for a process started without it.
fn run_signal(pid: u32, name: &str) {
    let sent = std::process::Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status();
    assert!(sent.is_ok_and(|status| status.success()), "kill -{name} reaches the process");
}
