//! `latency`: every chunk leaves `delay ± jitter` after it arrived (uniform), or
//! `|N(delay, jitter)|` after it with `distribution: normal` (the AWS backoff simulator's network).
//!
//! The deadline is counted from each chunk's arrival, not from the previous chunk's departure,
//! so delays do not add up under sustained traffic (toxiproxy PR #47; noxious sleeps in
//! sequence and accumulates). Jitter is uniform in [delay − jitter, delay + jitter], drawn from
//! the link's seeded generator, and clamped at zero. Order is kept by the link's queue, which
//! releases pieces first-in first-out: a chunk drawn a shorter delay waits for the one ahead.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use super::{LinkFault, Piece, Step};
use crate::scenario::Direction;
use crate::units::{Jittered, Spread};
use crate::ws::Way;

/// Delays pieces on the chosen directions.
#[derive(Debug)]
pub struct Latency {
    delay: Jittered,
    spread: Spread,
    direction: Direction,
    rng: ChaCha8Rng,
}

impl Latency {
    /// A delay of `delay ± jitter` (spread as `spread` says) on `direction`.
    pub fn new(
        delay: Duration,
        jitter: Duration,
        spread: Spread,
        direction: Direction,
        rng: ChaCha8Rng,
    ) -> Latency {
        Latency { delay: Jittered { base: delay, jitter }, spread, direction, rng }
    }
}

impl LinkFault for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn on_piece(&mut self, now: Instant, way: Way, piece: Piece) -> Step {
        if !way.is_in(self.direction) {
            return Step::Forward(vec![piece]);
        }
        let not_before = piece.not_before.max(now + self.delay.draw_with(self.spread, &mut self.rng));
        Step::Forward(vec![Piece { not_before, ..piece }])
    }
}
