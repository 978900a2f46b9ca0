//! A validated timeline entry: the fault, when it plays and which links it hits.

use std::time::Duration;

use super::faults::Fault;
use crate::units::Jittered;

/// One timeline entry: a fault kind, when it plays and what it hits.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// What the fault does.
    pub fault: Fault,
    /// When it plays.
    pub timeline: Timeline,
    /// Which links it hits.
    pub target: Target,
}

/// When a fault plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeline {
    /// Once, starting at `at`.
    Once {
        /// Start time from the beginning of the run.
        at: Duration,
        /// Length; `None` lasts until the heal (or is instant for `reset` and `close`).
        lasts: Option<Duration>,
    },
    /// Repeatedly.
    Every {
        /// Time between starts, with seeded jitter.
        period: Jittered,
        /// First start.
        from: Duration,
        /// No start after this.
        until: Duration,
        /// At most this many starts.
        times: Option<u32>,
        /// Length of each occurrence; `None` for instant faults.
        lasts: Option<Duration>,
    },
}

/// Which links a fault hits.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Which clients.
    pub clients: ClientSelector,
    /// Which of their links.
    pub links: Links,
}

/// Which clients a fault hits.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientSelector {
    /// Every client.
    All,
    /// This fraction of clients, drawn once from the seed.
    Share(f64),
    /// These indices, sorted and unique.
    Indices(Vec<u32>),
    /// Each link with this probability, drawn once per link.
    Probability(f64),
}

/// Which links of the selected clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Opened while the fault is active.
    New,
    /// Open when the fault starts.
    Existing,
    /// Both.
    All,
}
