//! A strategy's run whose own echo server fails: the run ends with the harness's error, naming
//! the server, and events.jsonl ends with the `harness_error` event, never with a verdict.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use nix::errno::Errno;

use super::*;
use crate::net::SimNet;

/// Keeps the lines in memory.
struct Lines(Vec<String>);

impl EventLog for Lines {
    fn line(&mut self, line: &str) -> io::Result<()> {
        self.0.push(line.to_string());
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const SCENARIO: &str = "version: 1\nname: harness-failure\nengine: sim\nduration: 20s\nquiet_period: 5s\n\
    clients:\n  count: 3\n  strategy: { kind: fixed, delay: 500ms }\n  workload: { rate: 10/s }\n\
    faults:\n  - at: 2s\n    reset: {}\n";

#[tokio::test(start_paused = true)]
async fn a_server_whose_accepts_keep_failing_ends_the_run_as_the_harness_s_failure() {
    let scenario = Scenario::parse(SCENARIO, "harness-failure.yaml").unwrap();
    let net = SimNet::new();
    // The stack binds its echo server first, on the sim network's first port. From 1 s on
    // it is out of descriptors; the reset at 2 s sends every client back to it.
    let server: SocketAddr = "127.0.0.1:1024".parse().unwrap();
    let breaker = net.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        breaker.fail_accepts(server, Some(Errno::EMFILE as i32));
    });
    let mut log = Lines(Vec::new());
    let states = States::default();
    let progress: Progress = Arc::new(|_| {});
    let entry = MatrixEntry::Reference(&scenario.strategies[0]);
    let watch = (&states, &Interrupt::default(), &progress, None);
    let ran = run_strategy(&scenario, entry, 1, Transport::Sim(net), &mut log, watch).await;
    let Err(RunError::Harness(failure)) = ran else { panic!("not the harness's failure: {ran:?}") };
    assert_eq!(failure.component, "echo server");
    assert!(failure.cause.starts_with("accepting connections failed for 5s"), "{}", failure.cause);
    let last: serde_json::Value = serde_json::from_str(log.0.last().unwrap()).unwrap();
    assert_eq!(last["event"], "harness_error", "{last}");
    assert_eq!(last["source"], "harness");
    assert_eq!(last["component"], "echo server");
    assert_eq!(last["t"], 7.5, "the reset at 2 s, the retry 500 ms later, then 5 s of failed accepts");
    assert!(log.0[..log.0.len() - 1].iter().all(|line| !line.contains("harness_error")));
}
