//! `slice`: split writes into small pieces with a pause between them, as a congested or
//! fragmenting network does. Exercises a client's handling of partial frames.
//!
//! The first piece of a chunk leaves as soon as it may; each later one `delay` after the one
//! before. A chunk that arrives while the previous one is still being sliced continues the
//! cadence instead of overlapping it, so pieces never bunch up.

use std::time::Duration;

use tokio::time::Instant;

use super::{LinkFault, Piece, Step};
use crate::scenario::Direction;
use crate::ws::Way;

/// Slices the chosen directions.
#[derive(Debug)]
pub struct Slice {
    size_bytes: usize,
    delay: Duration,
    direction: Direction,
    /// When each way's previous piece left: [upstream, downstream].
    last: [Option<Instant>; 2],
}

impl Slice {
    /// Pieces of `size_bytes` (positive, as validation guarantees), `delay` apart.
    pub fn new(size_bytes: u64, delay: Duration, direction: Direction) -> Slice {
        let size_bytes = usize::try_from(size_bytes).unwrap_or(usize::MAX).max(1);
        Slice { size_bytes, delay, direction, last: [None, None] }
    }
}

impl LinkFault for Slice {
    fn name(&self) -> &'static str {
        "slice"
    }

    fn on_piece(&mut self, now: Instant, way: Way, piece: Piece) -> Step {
        if !way.is_in(self.direction) {
            return Step::Forward(vec![piece]);
        }
        let slot = way as usize;
        let mut at = piece.not_before.max(now);
        if let Some(last) = self.last[slot] {
            at = at.max(last + self.delay);
        }
        let mut pieces = Vec::with_capacity(piece.bytes.len().div_ceil(self.size_bytes));
        for (index, start) in (0..piece.bytes.len()).step_by(self.size_bytes).enumerate() {
            if index > 0 {
                at += self.delay;
            }
            let end = (start + self.size_bytes).min(piece.bytes.len());
            pieces.push(Piece { bytes: piece.bytes.slice(start..end), not_before: at });
        }
        self.last[slot] = Some(at);
        Step::Forward(pieces)
    }
}
