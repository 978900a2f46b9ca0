//! wschaos: a chaos test harness and simulator for WebSocket reconnection.
//!
//! A fault-injecting proxy sits between reconnecting clients and a server, plays a YAML
//! scenario's fault timeline (resets, stalls, blackholes, slow or refused handshakes, lost
//! pongs), and a recorder measures how long clients take to notice and recover and whether
//! messages are lost. The same scenario runs live (TCP on loopback) or simulated (in-memory
//! pipes on virtual time, byte-identical for a seed).
//!
//! # Run a scenario from your own tests
//!
//! One call runs every strategy of a scenario and returns the report, whose `verdict` says
//! whether its SLOs held:
//!
//! ```
//! use wschaos::{Engine, Scenario, Verdict};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scenario = Scenario::load("scenarios/blackhole.yaml")?;
//! let report = wschaos::run(&scenario, Engine::Sim)?;
//! assert_eq!(report.verdict, Verdict::Pass, "{}", wschaos::report::markdown::render(&report));
//! # Ok(())
//! # }
//! ```
//!
//! # Put the fault proxy in front of your own server
//!
//! A [`Stack`](stack::Stack) is the proxy in front of a server: wschaos's echo server or one of
//! yours. Point your client at its URL and start faults through its
//! [`Control`](proxy::Control), or play a scenario's timeline:
//!
//! ```no_run
//! use wschaos::net::Transport;
//! use wschaos::stack::Stack;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let scenario = wschaos::Scenario::load("scenarios/blackhole.yaml")?;
//! let mut stack = Stack::upstream(&Transport::Live, "127.0.0.1:8080".parse()?).start().await?;
//! stack.play(&scenario.faults, scenario.duration, tokio::time::Instant::now());
//! println!("point your client at {}", stack.url());
//! tokio::time::sleep(scenario.duration).await;
//! stack.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! From the bottom up; a module imports only from the layers below it (a test,
//! `tests/suite/layers.rs`, keeps that true, and ARCHITECTURE.md shows the table):
//!
//! - vocabulary: [`units`], [`suggest`], [`seeds`], [`wire`], [`ws`], [`exit`];
//! - the language: [`scenario`] (YAML in, a validated [`Scenario`] out);
//! - the outcome: [`outcome`] (the report model, its statistics, SLO judging);
//! - components: [`net`] (the engines' seam), [`fault`], [`proxy`], [`server`], [`client`],
//!   [`program`] (the user's own clients and servers as child processes);
//! - measurement and rendering: [`recorder`], [`report`];
//! - wiring: [`stack`], then [`runner`] (a whole run), then [`standalone`] (each part alone);
//! - the command line: [`cli`].

#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod exit;
pub mod fault;
pub mod net;
pub mod outcome;
pub mod program;
pub mod proxy;
pub mod recorder;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod seeds;
pub mod server;
pub mod stack;
pub mod standalone;
pub mod suggest;
pub mod tls;
pub mod units;
pub mod wire;
pub mod ws;

pub use exit::Exit;
pub use outcome::{RunReport, Verdict};
pub use runner::RunError;
pub use scenario::{Engine, Scenario, ScenarioError};

/// Runs every strategy of `scenario` on `engine` with the scenario's seed, keeping no
/// events.jsonl, and returns the report. The report's `verdict` is [`Verdict::Pass`] when
/// every SLO held.
///
/// For a chosen seed, a subset of strategies, events or progress, call [`runner::run`].
pub fn run(scenario: &Scenario, engine: Engine) -> Result<RunReport, RunError> {
    let options = runner::RunOptions::for_scenario(scenario, engine);
    let progress: runner::Progress = std::sync::Arc::new(|_| {});
    runner::run(scenario, &options, &mut runner::NoLog, &runner::Interrupt::default(), progress)
}
