//! `bandwidth`: throttle a direction to a byte rate.
//!
//! Each way is a pipe that is busy while it "transmits": a chunk starts when it arrives or
//! when the pipe frees up, whichever is later, and is cut into slices of a tenth of a second's
//! worth of bytes (toxiproxy's slice size too). Each slice leaves when its last byte would have
//! crossed the link, so N bytes at R bytes/s arrive exactly N/R after they start, give or take
//! one slice. Times are computed from the start of the chunk, so rounding does not build up.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::{LinkFault, Piece, Step};
use crate::scenario::Direction;
use crate::ws::Way;

/// Slices are this fraction of a second's worth of bytes.
const SLICES_PER_SECOND: f64 = 10.0;

/// Throttles the chosen directions.
#[derive(Debug)]
pub struct Bandwidth {
    bytes_per_second: f64,
    direction: Direction,
    /// When each way's pipe is free again: [upstream, downstream].
    free_at: [Option<Instant>; 2],
}

impl Bandwidth {
    /// A limit of `bytes_per_second` (positive, as validation guarantees) on `direction`.
    pub fn new(bytes_per_second: f64, direction: Direction) -> Bandwidth {
        Bandwidth { bytes_per_second, direction, free_at: [None, None] }
    }

    fn slice_bytes(&self) -> usize {
        ((self.bytes_per_second / SLICES_PER_SECOND).ceil() as usize).max(1)
    }

    fn transmit_time(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64(bytes as f64 / self.bytes_per_second)
    }
}

impl LinkFault for Bandwidth {
    fn name(&self) -> &'static str {
        "bandwidth"
    }

    fn on_piece(&mut self, now: Instant, way: Way, piece: Piece) -> Step {
        if !way.is_in(self.direction) {
            return Step::Forward(vec![piece]);
        }
        let slot = way as usize;
        let start = piece.not_before.max(now).max(self.free_at[slot].unwrap_or(now));
        let slice = self.slice_bytes();
        let mut pieces = Vec::with_capacity(piece.bytes.len().div_ceil(slice));
        let mut sent = 0;
        while sent < piece.bytes.len() {
            let end = (sent + slice).min(piece.bytes.len());
            let bytes: Bytes = piece.bytes.slice(sent..end);
            pieces.push(Piece { bytes, not_before: start + self.transmit_time(end) });
            sent = end;
        }
        self.free_at[slot] = Some(start + self.transmit_time(piece.bytes.len()));
        Step::Forward(pieces)
    }
}
