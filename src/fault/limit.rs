//! `limit`: close the link gracefully once a number of bytes has passed.
//!
//! Bytes are counted from when the fault starts on the link, over every direction it covers
//! together. The bytes up to the limit are delivered; then the link closes both ways, as
//! toxiproxy's `limit_data` does.

use tokio::time::Instant;

use super::{LinkFault, Piece, Step};
use crate::scenario::Direction;
use crate::ws::Way;

/// Closes the link after `bytes`.
#[derive(Debug)]
pub struct Limit {
    remaining: u64,
    direction: Direction,
}

impl Limit {
    /// A limit of `bytes` on `direction`.
    pub fn new(bytes: u64, direction: Direction) -> Limit {
        Limit { remaining: bytes, direction }
    }
}

impl LinkFault for Limit {
    fn name(&self) -> &'static str {
        "limit"
    }

    fn on_piece(&mut self, _now: Instant, way: Way, piece: Piece) -> Step {
        if !way.is_in(self.direction) {
            return Step::Forward(vec![piece]);
        }
        let len = piece.bytes.len() as u64;
        if len < self.remaining {
            self.remaining -= len;
            return Step::Forward(vec![piece]);
        }
        let keep = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        self.remaining = 0;
        let pieces =
            if keep == 0 { Vec::new() } else { vec![Piece { bytes: piece.bytes.slice(..keep), ..piece }] };
        Step::CloseAfter(pieces)
    }
}
