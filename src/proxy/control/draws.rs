//! The seeded draws behind targeting: whether a fault hits a link or an arriving connection,
//! and each fault's generator on a link. Every draw is derived from the seed and the fault's
//! occurrence, never rolled twice (invariant 9, ARCHITECTURE.md).

use rand::RngExt;

use super::super::LinkId;
use super::Active;
use crate::fault::FaultId;
use crate::scenario::ClientSelector;
use crate::seeds;

/// Path part that separates a fault's per-link generators from its selection draws.
pub(super) const PER_LINK: u64 = 1;
/// Path part of the draw that decides whether a link is hit.
pub(super) const PICK_LINK: u64 = 2;
/// Path part of the draw that decides an arriving connection's fate.
pub(super) const PICK_ARRIVAL: u64 = 3;

impl Active {
    /// Whether the fault hits `link`: `None` while that depends on a client not yet known.
    pub(super) fn hits(&self, seed: u64, id: FaultId, link: LinkId, client: Option<u32>) -> Option<bool> {
        match (&self.chosen, client) {
            (Some(chosen), Some(client)) => Some(chosen.contains(&client)),
            (Some(_), None) => None,
            (None, _) => Some(chance(seed, id, &[PICK_LINK, link.0], &self.target.clients)),
        }
    }
}

/// For `all` and `probability` selectors: whether the draw at `path` is a hit. Probability 0
/// and 1 draw nothing.
pub(super) fn chance(seed: u64, id: FaultId, path: &[u64], selector: &ClientSelector) -> bool {
    match selector {
        ClientSelector::Probability(p) if *p <= 0.0 => false,
        ClientSelector::Probability(p) if *p < 1.0 => {
            let mut full = vec![seeds::FAULT, id.plan, id.occurrence];
            full.extend_from_slice(path);
            seeds::derive(seed, &full).random_bool(*p)
        }
        _ => true,
    }
}

/// The generator a fault occurrence uses on one link (latency jitter, handshake delay).
pub(super) fn fault_rng(seed: u64, id: FaultId, link: LinkId) -> rand_chacha::ChaCha8Rng {
    seeds::derive(seed, &[seeds::FAULT, id.plan, id.occurrence, PER_LINK, link.0])
}
