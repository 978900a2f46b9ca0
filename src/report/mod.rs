//! Reports: one file per format over one serializable result ([`model::RunReport`]).

pub mod model;

pub use model::{Incident, MessageCounts, RunReport, SCHEMA_VERSION, Stats, StrategyReport, Verdict};
