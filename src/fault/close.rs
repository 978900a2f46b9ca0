//! `close`: close matched links gracefully (FIN) in both directions, at once.

use tokio::time::Instant;

use super::{LinkAction, LinkFault};

/// Closes the link when the fault starts.
#[derive(Debug)]
pub struct Close;

impl LinkFault for Close {
    fn name(&self) -> &'static str {
        "close"
    }

    fn on_start(&mut self, _now: Instant) -> LinkAction {
        LinkAction::Close
    }
}
