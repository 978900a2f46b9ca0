//! TEMPORARY stand-in until the sampler lands from the backoff-wt branch.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use crate::scenario::strategy::Strategy;

/// Placeholder error.
#[derive(Debug)]
pub struct InvalidBackoff;

/// Placeholder sampler: lower bounds only.
#[derive(Debug)]
pub struct BackoffState {
    strategy: Strategy,
    attempt: u32,
}

impl BackoffState {
    /// Placeholder.
    pub fn new(strategy: &Strategy, _rng: ChaCha8Rng) -> Result<BackoffState, InvalidBackoff> {
        Ok(BackoffState {
            strategy: Strategy { defaults: crate::scenario::strategy::WSCHAOS_DEFAULTS, ..strategy.clone() },
            attempt: 0,
        })
    }
    /// Placeholder.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.attempt += 1;
        self.strategy.delay_bounds(self.attempt).map(|(low, _)| low)
    }
    /// Placeholder.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
    /// Placeholder.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}
