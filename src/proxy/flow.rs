//! The pure core of one proxied link: which faults are active on it, what they decided, and
//! which bytes are due to leave each way. `link.rs` does the socket I/O and asks this.
//!
//! Pieces leave each way first-in first-out: a piece whose deadline has passed still waits for
//! the one ahead of it, so no fault can reorder bytes. A way whose gate is held (by `stall`)
//! neither reads nor writes. A fault that asked to close the link is honoured once everything it
//! let through has been written.

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;
use tokio::time::Instant;

use super::FaultId;
use crate::fault::{Ending, Gate, LinkAction, LinkFault, Piece, Step, Way};

/// Bytes queued in one way beyond which the link stops reading that way, so a slow fault
/// (bandwidth, latency) pushes back on the sender instead of buffering without bound.
pub const QUEUE_LIMIT_BYTES: usize = 256 * 1024;

/// The fault state and pending bytes of one link.
#[derive(Debug, Default)]
pub struct Flow {
    /// Active faults, in the order they started on this link.
    faults: Vec<(FaultId, Box<dyn LinkFault>)>,
    /// Pieces waiting to leave: [upstream, downstream].
    queues: [VecDeque<Piece>; 2],
    /// Bytes in each queue.
    queued_bytes: [usize; 2],
    /// The fault that asked to close the link after the queued bytes.
    closing: Option<FaultId>,
    /// Faults that have acted on this link (each is reported once).
    hit: BTreeSet<FaultId>,
    /// Hits not yet reported by the link.
    new_hits: Vec<FaultId>,
}

impl Flow {
    /// A link with no fault.
    pub fn new() -> Flow {
        Flow::default()
    }

    /// Whether bytes can take the plain copy path: no fault and nothing queued.
    pub fn is_clear(&self) -> bool {
        self.faults.is_empty() && self.queued_bytes == [0, 0]
    }

    /// Starts a fault on this link; the answer is what the link must do at once.
    pub fn start(&mut self, id: FaultId, mut fault: Box<dyn LinkFault>, now: Instant) -> LinkAction {
        let action = fault.on_start(now);
        let holds = Way::BOTH.iter().any(|way| fault.gate(*way) != Gate::Open);
        if action != LinkAction::Nothing || holds {
            self.record_hit(id);
        }
        if action == LinkAction::Nothing {
            self.faults.push((id, fault));
        }
        action
    }

    /// Ends a fault on this link, if it is active here.
    pub fn end(&mut self, id: FaultId) {
        if let Some(index) = self.faults.iter().position(|(active, _)| *active == id)
            && self.faults[index].1.on_end() == Ending::Remove
        {
            self.faults.remove(index);
        }
    }

    /// Whether `way` may move bytes now: held if any fault holds it, else swallowed if any fault
    /// swallows it.
    pub fn gate(&self, way: Way) -> Gate {
        let gates = || self.faults.iter().map(|(_, fault)| fault.gate(way));
        if gates().any(|gate| gate == Gate::Hold) {
            Gate::Hold
        } else if gates().any(|gate| gate == Gate::Swallow) {
            Gate::Swallow
        } else {
            Gate::Open
        }
    }

    /// Whether the link should read more from `way`'s source.
    pub fn accepts(&self, way: Way) -> bool {
        self.closing.is_none()
            && self.gate(way) != Gate::Hold
            && self.queued_bytes[way as usize] < QUEUE_LIMIT_BYTES
    }

    /// Runs a chunk that arrived on `way` at `now` through the active faults and queues what
    /// survives.
    pub fn on_chunk(&mut self, now: Instant, way: Way, bytes: Bytes) {
        let mut pieces = vec![Piece { bytes, not_before: now }];
        for index in 0..self.faults.len() {
            let mut next = Vec::with_capacity(pieces.len());
            let mut touched = false;
            for piece in pieces {
                let before = piece.clone();
                let step = self.faults[index].1.on_piece(now, way, piece);
                touched |= !matches!(&step, Step::Forward(out) if out.len() == 1 && out[0] == before);
                match step {
                    Step::Forward(out) => next.extend(out),
                    Step::Drop => {}
                    Step::CloseAfter(out) => {
                        next.extend(out);
                        self.closing = Some(self.faults[index].0);
                        touched = true;
                    }
                }
            }
            if touched {
                self.record_hit(self.faults[index].0);
            }
            pieces = next;
            if self.closing.is_some() {
                break;
            }
        }
        let slot = way as usize;
        for piece in pieces {
            self.queued_bytes[slot] += piece.bytes.len();
            self.queues[slot].push_back(piece);
        }
    }

    /// When the next piece of `way` may leave, if one is queued and the way is not held.
    pub fn next_deadline(&self, way: Way) -> Option<Instant> {
        if self.gate(way) == Gate::Hold {
            return None;
        }
        self.queues[way as usize].front().map(|piece| piece.not_before)
    }

    /// The bytes of `way` that may leave at `now`, if any.
    pub fn due(&self, way: Way, now: Instant) -> Option<&Bytes> {
        self.next_deadline(way)
            .filter(|at| *at <= now)
            .and_then(|_| self.queues[way as usize].front())
            .map(|p| &p.bytes)
    }

    /// Marks `written` bytes of `way`'s head piece as sent.
    pub fn consume(&mut self, way: Way, written: usize) {
        let slot = way as usize;
        if let Some(head) = self.queues[slot].front_mut() {
            let written = written.min(head.bytes.len());
            let _ = head.bytes.split_to(written);
            self.queued_bytes[slot] -= written;
            if head.bytes.is_empty() {
                self.queues[slot].pop_front();
            }
        }
    }

    /// Whether `way` has nothing left to write.
    pub fn drained(&self, way: Way) -> bool {
        self.queues[way as usize].is_empty()
    }

    /// The fault that asked to close the link, once everything it let through has left.
    pub fn should_close(&self) -> Option<FaultId> {
        self.closing.filter(|_| self.queues.iter().all(VecDeque::is_empty))
    }

    /// Faults that acted on the link since the last call, each reported once per link.
    pub fn take_hits(&mut self) -> Vec<FaultId> {
        std::mem::take(&mut self.new_hits)
    }

    fn record_hit(&mut self, id: FaultId) {
        if self.hit.insert(id) {
            self.new_hits.push(id);
        }
    }
}
