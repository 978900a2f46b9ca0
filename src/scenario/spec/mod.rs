//! The raw scenario file, exactly as serde reads it from YAML, and the source of the JSON Schema.
//! This module holds the root of the file; each topic's structs live in a submodule and are
//! re-exported here, so `spec::X` names every one of them.
//!
//! Every struct denies unknown keys. Nothing here uses `#[serde(flatten)]`, which would silently
//! turn `deny_unknown_fields` off: a fault is one flat struct with an optional field per fault
//! kind, and validate/ checks that exactly one is set. Typed values (durations, rates, sizes,
//! shares) stay text here and are parsed in validate/, so that every bad value in a file is
//! reported, not only the first.
//!
//! The doc comments on fields become the descriptions in `scenario.schema.json`, which editors
//! show on hover: write them for the person editing a scenario. Moving a struct between these
//! files does not change the schema; rewording a comment does.

mod clients;
mod fault_params;
mod faults;
mod server;
mod values;

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

pub use clients::*;
pub use fault_params::*;
pub use faults::*;
pub use server::*;
pub use values::*;

/// The whole scenario file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "wschaos scenario")]
pub struct ScenarioSpec {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Short name; reports go to `reports/<name>/`. Letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// What the scenario models, in a sentence or two.
    pub description: Option<String>,
    /// Default seed for every random choice; `--seed` overrides it. Default 1.
    pub seed: Option<u64>,
    /// How long faults play.
    pub duration: DurationText,
    /// After `duration`, every fault is healed and clients must converge within this time.
    /// Default 15s.
    pub quiet_period: Option<DurationText>,
    /// `live` (real TCP on loopback) or `sim` (virtual time); `--engine` overrides. Default live.
    pub engine: Option<EngineSpec>,
    /// The echo server behind the proxy.
    pub server: Option<ServerSpec>,
    /// How the fault proxy treats the traffic it forwards, beyond the faults.
    pub proxy: Option<ProxySpec>,
    /// The reference clients.
    pub clients: ClientsSpec,
    /// A strategy matrix: the run repeats once per entry with the same seed.
    pub strategies: Option<Vec<WordOr<InlineStrategySpec>>>,
    /// The fault timeline.
    pub faults: Option<Vec<FaultSpec>>,
    /// k6-style thresholds per metric, such as `recovery_time: ["p(99) < 8s"]`.
    // `default` tells schemars the field is optional, which `schema_with` hides from it.
    #[serde(default)]
    #[schemars(schema_with = "slo_schema")]
    pub slo: Option<BTreeMap<String, Vec<String>>>,
    /// Ranges that `wschaos run --seeds` draws from anew for each seed: a field path the file
    /// sets (`clients.heartbeat.ping_every`, `faults[1].for`) and `LOW..HIGH` in that field's
    /// kind (`5s..20s`, `10..50`, `10/s..50/s`, `10%..40%`, `64B..1KiB`). Without `--seeds`
    /// the file's own values are used.
    #[serde(default)]
    #[schemars(schema_with = "swarm_schema")]
    pub swarm: Option<BTreeMap<String, String>>,
}

fn swarm_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": { "pattern": r"^[a-z_]+(\[[0-9]+\])*(\.[a-z_]+(\[[0-9]+\])*)*$" },
        "additionalProperties": { "type": "string", "pattern": r"^.+\.\..+$", "examples": ["5s..20s"] },
    })
}

fn slo_schema(_: &mut SchemaGenerator) -> Schema {
    let metrics: Vec<&str> = crate::scenario::slo::METRICS.iter().map(|m| m.name).collect();
    json_schema!({
        "type": "object",
        "propertyNames": { "enum": metrics },
        "additionalProperties": { "type": "array", "items": { "type": "string" } },
    })
}

/// Which engine runs the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngineSpec {
    /// Real TCP on 127.0.0.1, real time.
    Live,
    /// In-memory network, paused virtual time, deterministic.
    Sim,
}
