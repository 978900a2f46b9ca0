//! `drop_frames`: whole WebSocket frames of the chosen kinds vanish on the chosen ways, each
//! with a probability drawn from the link's seeded generator. A data message is judged at its
//! first frame and its continuations go with it, so the framing the peer sees stays valid.
//! Dropping pongs downstream stalls the client's heartbeat while data still flows.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{FrameVerdict, LinkFault};
use crate::scenario::{Direction, FrameKind};
use crate::ws::Way;
use crate::ws::observer::Frame;

/// Drops frames of `kinds`.
#[derive(Debug)]
pub struct DropFrames {
    kinds: Vec<FrameKind>,
    direction: Direction,
    /// Chance that a matching frame is dropped; 1 drops every one and draws nothing.
    probability: f64,
    rng: ChaCha8Rng,
}

impl DropFrames {
    /// Drops frames of `kinds` on `direction`, each with `probability`.
    pub fn new(kinds: Vec<FrameKind>, direction: Direction, probability: f64, rng: ChaCha8Rng) -> DropFrames {
        DropFrames { kinds, direction, probability, rng }
    }
}

impl LinkFault for DropFrames {
    fn name(&self) -> &'static str {
        "drop_frames"
    }

    fn needs_observer(&self, way: Way) -> bool {
        way.is_in(self.direction)
    }

    fn on_frame(&mut self, way: Way, frame: &Frame) -> FrameVerdict {
        let matches = way.is_in(self.direction) && self.kinds.contains(&frame.kind);
        let drop = matches
            && (self.probability >= 1.0
                || (self.probability > 0.0 && self.rng.random_bool(self.probability)));
        if drop { FrameVerdict::Drop } else { FrameVerdict::Keep }
    }
}
