//! wschaos: a chaos test harness and simulator for WebSocket reconnection.
//!
//! A fault-injecting proxy sits between reference reconnecting clients and an echo server, plays
//! a YAML scenario's fault timeline, and a recorder measures recovery. See ARCHITECTURE.md for the
//! code map. So far the scenario language ([`scenario`]) and the exit codes ([`exit`]) exist; the
//! engine modules land with their issues.

pub mod cli;
pub mod exit;
pub mod scenario;

pub use exit::Exit;
pub use scenario::{Scenario, ScenarioError};
