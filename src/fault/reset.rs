//! `reset`: abort matched links at once with an RST, whether or not bytes are flowing.
//!
//! toxiproxy's `reset_peer` waits for the next chunk before it fires, so an idle WebSocket
//! between pings is not reset until traffic flows (`Pipe` in toxiproxy's toxics/reset_peer.go
//! starts its timer only when a chunk arrives on `stub.Input`). Here the reset is the fault's
//! start action, carried out by the link immediately.

use tokio::time::Instant;

use super::{LinkAction, LinkFault};

/// Resets the link when the fault starts.
#[derive(Debug)]
pub struct Reset;

impl LinkFault for Reset {
    fn name(&self) -> &'static str {
        "reset"
    }

    fn on_start(&mut self, _now: Instant) -> LinkAction {
        LinkAction::Reset
    }
}
