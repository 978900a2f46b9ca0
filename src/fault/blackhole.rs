//! `blackhole`: bytes vanish and are never delivered; the link is silently dead (half-open).
//!
//! The link keeps reading, so the sender's writes succeed and only a heartbeat or read timeout
//! can reveal the problem; a close (FIN) is swallowed too. Once a chunk has been swallowed the link stays dead after the fault
//! ends: delivering later bytes after a gap would corrupt the stream. A link that was idle for
//! the whole fault lost nothing and flows again.

use tokio::time::Instant;

use super::{Ending, Gate, LinkFault, Piece, Step};
use crate::scenario::Direction;
use crate::ws::Way;

/// Drops every piece on the chosen directions.
#[derive(Debug)]
pub struct Blackhole {
    direction: Direction,
    /// Whether a piece has been dropped on this link.
    swallowed: bool,
}

impl Blackhole {
    /// A blackhole on `direction`.
    pub fn new(direction: Direction) -> Blackhole {
        Blackhole { direction, swallowed: false }
    }
}

impl LinkFault for Blackhole {
    fn name(&self) -> &'static str {
        "blackhole"
    }

    fn gate(&self, way: Way) -> Gate {
        if way.is_in(self.direction) { Gate::Swallow } else { Gate::Open }
    }

    fn on_piece(&mut self, _now: Instant, way: Way, piece: Piece) -> Step {
        if !way.is_in(self.direction) {
            return Step::Forward(vec![piece]);
        }
        self.swallowed = true;
        Step::Drop
    }

    fn on_end(&mut self) -> Ending {
        if self.swallowed { Ending::KeepOnLink } else { Ending::Remove }
    }
}
