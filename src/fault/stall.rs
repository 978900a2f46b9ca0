//! `stall`: stop moving bytes; when the fault ends they flow again, in order, on the same
//! connection.
//!
//! The link holds a stalled way by neither reading nor writing it, so the bytes wait in socket
//! buffers exactly as on a frozen network, and the sender blocks once they are full. Nothing is
//! dropped and the connection is kept: toxiproxy's `timeout` closes the connection when it is
//! removed, which makes "stall, then recover on the same connection" untestable (`Cleanup` in
//! toxiproxy's toxics/timeout.go closes the link, since Shopify/toxiproxy PR #168).

use super::{Gate, LinkFault};
use crate::scenario::Direction;
use crate::ws::Way;

/// Holds the chosen directions while active.
#[derive(Debug)]
pub struct Stall {
    direction: Direction,
}

impl Stall {
    /// A stall of `direction`.
    pub fn new(direction: Direction) -> Stall {
        Stall { direction }
    }
}

impl LinkFault for Stall {
    fn name(&self) -> &'static str {
        "stall"
    }

    fn gate(&self, way: Way) -> Gate {
        if way.is_in(self.direction) { Gate::Hold } else { Gate::Open }
    }
}
