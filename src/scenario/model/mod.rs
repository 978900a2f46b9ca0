//! The validated scenario: what every module outside scenario/ sees.
//!
//! Values here are typed and already checked against each other, so downstream code never has to
//! re-validate: durations are `Duration`, shares are fractions, client indices are in range, and a
//! fault has exactly one kind with a timeline that fits inside the run.
//!
//! This module holds the root [`Scenario`] and its [`Engine`]; each part's types live in a
//! submodule and are re-exported here, so `scenario::X` and `scenario::model::X` name them all.

mod clients;
mod faults;
mod server;
mod timeline;

use std::time::Duration;

use super::program::{ClientProgram, ServerUnderTest};
use super::slo::SloRule;
use super::swarm::Swarm;
pub use crate::ws::{Direction, FrameKind};

pub use clients::*;
pub use faults::*;
pub use server::*;
pub use timeline::*;

/// A validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name, safe to use as a folder name.
    pub name: String,
    /// What the scenario models.
    pub description: Option<String>,
    /// Default seed of every random choice.
    pub seed: u64,
    /// How long faults play.
    pub duration: Duration,
    /// After the heal at `duration`, how long clients have to converge.
    pub quiet_period: Duration,
    /// The engine the file asks for; the command line may override it.
    pub engine: Engine,
    /// The echo server.
    pub server: ServerConfig,
    /// The proxy's treatment of the traffic, beyond the faults.
    pub proxy: ProxyConfig,
    /// The reference clients.
    pub clients: ClientsConfig,
    /// The strategy matrix; one entry when the file names a single strategy. Never empty.
    pub strategies: Vec<ClientStrategy>,
    /// The fault timeline, in file order.
    pub faults: Vec<FaultPlan>,
    /// Thresholds, sorted by metric name.
    pub slo: Vec<SloRule>,
    /// The `swarm:` ranges, which only `run --seeds` draws from.
    pub swarm: Option<Swarm>,
    /// The user's own client program, when `clients.command` is set: it runs instead of the
    /// reference client, and its matrix replaces `strategies`.
    pub program: Option<ClientProgram>,
    /// The server the proxy forwards to.
    pub upstream: ServerUnderTest,
}

/// Which engine runs a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Real TCP on loopback, real time, multi-thread runtime.
    Live,
    /// In-memory network, paused virtual time, one seed.
    Sim,
}

impl Engine {
    /// The engine's name as scenarios, flags and reports write it: `live` or `sim`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Live => "live",
            Engine::Sim => "sim",
        }
    }
}
