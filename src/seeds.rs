//! Per-component random generators derived from the one scenario seed.
//!
//! Every random choice in a run comes from a ChaCha8 generator made here from the seed and a
//! path naming the component (`[FAULT, plan, occurrence, link]`, say). ChaCha rather than
//! `StdRng` because `StdRng`'s algorithm may change between rand versions, which would change
//! every report; derivation rather than one shared generator so that adding a draw in one
//! component never shifts the draws of another.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Tag of the generators that faults use for jitter and for picking links.
pub const FAULT: u64 = 1;
/// Tag of the generators of the fault timeline (when a repeating fault starts).
pub const TIMELINE: u64 = 2;
/// Tag of the echo server's generators (handshake latency).
pub const SERVER: u64 = 3;
/// Tag of the clients' generators.
pub const CLIENT: u64 = 4;
/// Tag of the swarm's generators: `[SWARM, key]` draws the value of the key-th `swarm:` entry
/// (in path order) for a seed of `--seeds`.
pub const SWARM: u64 = 5;

/// The generator for `path` under `seed`.
pub fn derive(seed: u64, path: &[u64]) -> ChaCha8Rng {
    let mut state = splitmix(seed);
    for part in path {
        state = splitmix(state ^ splitmix(*part));
    }
    ChaCha8Rng::seed_from_u64(state)
}

/// SplitMix64's finaliser: a bijective mix, so distinct paths give unrelated seeds.
fn splitmix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_path_same_draws_different_path_different_draws() {
        let draw = |seed, path: &[u64]| derive(seed, path).random::<u64>();
        assert_eq!(draw(42, &[FAULT, 0, 3]), draw(42, &[FAULT, 0, 3]));
        assert_ne!(draw(42, &[FAULT, 0, 3]), draw(42, &[FAULT, 0, 4]));
        assert_ne!(draw(42, &[FAULT, 0, 3]), draw(43, &[FAULT, 0, 3]));
        assert_ne!(draw(42, &[FAULT, 1]), draw(42, &[FAULT, 1, 0]));
    }
}
