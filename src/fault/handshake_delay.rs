//! `handshake_delay`: the server's answer to the opening handshake, the first bytes that flow
//! downstream on a new link, leaves `delay` after it arrived at the proxy (D ± J, drawn from
//! the link's seeded generator). Later bytes queue behind it, so order is kept; after the first
//! chunk the link flows normally. Acts only on links opened while the fault is active.

use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use super::{LinkFault, Piece, Step};
use crate::units::Jittered;
use crate::ws::Way;

/// Delays the first downstream chunk of a new link.
#[derive(Debug)]
pub struct HandshakeDelay {
    delay: Jittered,
    rng: ChaCha8Rng,
    /// Whether the handshake answer has gone by.
    done: bool,
}

impl HandshakeDelay {
    /// A delay of `delay` on the handshake answer.
    pub fn new(delay: Jittered, rng: ChaCha8Rng) -> HandshakeDelay {
        HandshakeDelay { delay, rng, done: false }
    }
}

impl LinkFault for HandshakeDelay {
    fn name(&self) -> &'static str {
        "handshake_delay"
    }

    fn on_piece(&mut self, now: Instant, way: Way, piece: Piece) -> Step {
        if way != Way::Downstream || self.done {
            return Step::Forward(vec![piece]);
        }
        self.done = true;
        let not_before = piece.not_before.max(now + self.delay.draw(&mut self.rng));
        Step::Forward(vec![Piece { not_before, ..piece }])
    }
}
