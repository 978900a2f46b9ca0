//! wschaos: a chaos test harness and simulator for WebSocket reconnection.
//!
//! A fault-injecting proxy sits between reference reconnecting clients and an echo server, plays
//! a YAML scenario's fault timeline, and a recorder measures recovery. See ARCHITECTURE.md for the
//! code map. Built so far: the scenario language ([`scenario`]), the transport seam ([`net`]), the
//! faults ([`fault`]), the proxy ([`proxy`]), the echo server ([`server`]) and the exit codes.

pub mod cli;
pub mod client;
pub mod exit;
pub mod fault;
pub mod net;
pub mod proxy;
pub mod recorder;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod seeds;
pub mod server;
pub mod wire;

pub use exit::Exit;
pub use scenario::{Scenario, ScenarioError};
