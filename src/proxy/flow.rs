//! The pure core of one proxied link: what the frame observer reads on it, which faults are
//! active on it, what they decided, and which bytes are due to leave each way. `link.rs` does
//! the socket I/O and asks this.
//!
//! A chunk read from a way is first labelled by the [`LinkObserver`], then passes the frame
//! stage ([`Framing`]: frame faults), then the byte faults in the order they started. Pieces
//! leave each way first-in first-out: a piece whose deadline has passed still waits for the one
//! ahead of it, so no fault can reorder bytes. A way whose gate is held (by `stall`) neither
//! reads nor writes. A fault that asked to close the link is honoured once everything it let
//! through has been written.

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;
use tokio::time::Instant;

use super::events::NotApplied;
use super::framing::{CloseStart, Framing, Goodbye};
use crate::fault::FaultId;
use crate::fault::{Ending, Gate, LinkAction, LinkFault, Piece, Step};
use crate::ws::Way;
use crate::ws::observer::{LinkObserver, Standing, Stop, Token, is_data};

mod judging;
use judging::Judging;

/// Bytes queued in one way beyond which the link stops reading that way, so a slow fault
/// (bandwidth, latency) pushes back on the sender instead of buffering without bound.
pub const QUEUE_LIMIT_BYTES: usize = 256 * 1024;

/// The fault state and pending bytes of one link.
#[derive(Debug, Default)]
pub struct Flow {
    /// What the link's bytes are, as far as the observer can tell.
    observer: LinkObserver,
    /// The tokens of the chunk last observed, and which way and length they are for.
    tokens: Vec<Token>,
    tokens_for: Option<(Way, usize)>,
    /// Whether they were only skimmed (the chunk was bound for the copy path).
    skimmed: bool,
    /// For each control frame that ended in the chunk last observed, in order: whether a fault
    /// kept it from the other side. Empty for a chunk that took the copy path.
    control_fates: Vec<bool>,
    /// Carries out the frame faults.
    framing: Framing,
    /// Active faults, in the order they started on this link.
    faults: Vec<(FaultId, Box<dyn LinkFault>)>,
    /// Pieces waiting to leave: [upstream, downstream].
    queues: [VecDeque<Piece>; 2],
    /// Bytes in each queue.
    queued_bytes: [usize; 2],
    /// The fault that asked to close the link after the queued bytes.
    closing: Option<FaultId>,
    /// Which faults acted, and which could not act, on this link.
    hits: Hits,
}

/// Faults that acted on the link, and frame faults that cannot act on it; each reported once.
#[derive(Debug, Default)]
struct Hits {
    hit: BTreeSet<FaultId>,
    /// Hits not yet reported by the link.
    new: Vec<FaultId>,
    not_applied: BTreeSet<FaultId>,
    /// Not-applied faults not yet reported, with the reason the observer gave up.
    new_not_applied: Vec<(FaultId, NotApplied)>,
}

impl Hits {
    fn record(&mut self, id: FaultId) {
        if self.hit.insert(id) {
            self.new.push(id);
        }
    }

    fn not_applied(&mut self, id: FaultId, why: NotApplied) {
        if self.not_applied.insert(id) {
            self.new_not_applied.push((id, why));
        }
    }
}

impl Flow {
    /// A link with no fault, whose bytes the observer follows.
    pub fn new() -> Flow {
        Flow::default()
    }

    /// A link whose bytes are not observed (every byte opaque, frame faults not applied).
    pub fn unobserved() -> Flow {
        Flow { observer: LinkObserver::off(), ..Flow::default() }
    }

    /// Whether bytes can take the plain copy path: no fault, nothing queued, nothing under way
    /// in the frame stage.
    pub fn is_clear(&self) -> bool {
        self.faults.is_empty() && self.queued_bytes == [0, 0] && self.framing.is_neutral()
    }

    /// Shows the observer a chunk just read from `way` (whichever path it then takes) and
    /// returns what it found, for the link's events. [`Flow::on_chunk`] reuses the labels.
    ///
    /// A chunk bound for the copy path (the flow is clear and the way past its head, so nothing
    /// in it can start a fault) is only skimmed: no byte labels, no token per data frame.
    pub fn observe(&mut self, way: Way, bytes: &[u8]) -> &[Token] {
        self.tokens.clear();
        self.control_fates.clear();
        self.skimmed = self.is_clear() && self.observer.standing(way) != Standing::Handshake;
        if self.skimmed {
            self.observer.skim(way, bytes, &mut self.tokens);
        } else {
            self.observer.feed(way, bytes, &mut self.tokens);
        }
        self.tokens_for = Some((way, bytes.len()));
        if self.tokens.iter().any(|token| matches!(token, Token::Stopped { .. })) {
            self.check_applicable();
        }
        &self.tokens
    }

    /// Whether the `nth` control frame (from 0) that ended in the chunk last observed was kept
    /// from the other side by a fault: swallowed by a blackhole, dropped by `drop_frames`, or
    /// discarded after the proxy's goodbye. Asked once the chunk has been through the faults.
    pub fn control_frame_swallowed(&self, nth: usize) -> bool {
        // Frames after a goodbye are not judged: everything after it is discarded.
        self.control_fates.get(nth).copied().unwrap_or(self.framing.is_over())
    }

    /// Holds the client's upgrade request until its head is complete: a handshake fault that
    /// targets clients may apply once the request names its client.
    pub fn hold_request(&mut self) {
        self.framing.hold_request();
    }

    /// Whether the client's upgrade request is being held (its head not complete yet): the
    /// link closes it after [`HANDSHAKE_TIMEOUT`](crate::wire::HANDSHAKE_TIMEOUT).
    pub fn holds_request(&self) -> bool {
        self.framing.holds_request()
    }

    /// Forwards the client's upgrade request without its permessage-deflate offer
    /// (`strip_deflate`): the request is held until its head is complete, then rewritten.
    pub fn strip_deflate(&mut self) {
        self.framing.strip_deflate();
    }

    /// Starts a fault on this link; the answer is what the link must do at once.
    pub fn start(&mut self, id: FaultId, mut fault: Box<dyn LinkFault>, now: Instant) -> LinkAction {
        let action = fault.on_start(now);
        if let LinkAction::SendClose(frame) = action {
            let goodbye = Goodbye { fault: id, bytes: frame };
            match self.framing.close(goodbye, self.observer.standing(Way::Downstream)) {
                CloseStart::Now(goodbye) => self.say(now, goodbye),
                CloseStart::Later | CloseStart::NotOpen => {}
                CloseStart::NotApplied(why) => self.hits.not_applied(id, NotApplied::Unfollowed(why)),
            }
            return LinkAction::Nothing;
        }
        if fault.holds_request() {
            if !self.framing.request_pending(self.observer.standing(Way::Upstream)) {
                // The request has gone by: a fault on new upgrades has nothing to act on here.
                return LinkAction::Nothing;
            }
            self.framing.hold_request();
        }
        let holds = Way::BOTH.iter().any(|way| fault.gate(*way) != Gate::Open);
        if action != LinkAction::Nothing || holds {
            self.hits.record(id);
        }
        if action == LinkAction::Nothing {
            self.faults.push((id, fault));
            self.check_applicable();
        }
        action
    }

    /// Frame faults all of whose needed ways the observer cannot follow are noted as not
    /// applied.
    fn check_applicable(&mut self) {
        for (id, fault) in &self.faults {
            let mut needed = Way::BOTH.into_iter().filter(|way| fault.needs_observer(*way)).peekable();
            if needed.peek().is_none() {
                continue;
            }
            let stops: Vec<Stop> = needed
                .map(|way| match self.observer.standing(way) {
                    Standing::Stopped(why) => Some(why),
                    _ => None,
                })
                .collect::<Option<_>>()
                .unwrap_or_default();
            if let Some(why) = stops.first() {
                self.hits.not_applied(*id, NotApplied::Unfollowed(*why));
            }
        }
    }

    /// Queues the proxy's own goodbye for the client, after what is already queued for it, and
    /// closes the link once it is written. Nothing more is forwarded upstream.
    fn say(&mut self, now: Instant, goodbye: Goodbye) {
        self.hits.record(goodbye.fault);
        let up = Way::Upstream as usize;
        self.queues[up].clear();
        self.queued_bytes[up] = 0;
        let down = Way::Downstream as usize;
        self.queued_bytes[down] += goodbye.bytes.len();
        self.queues[down].push_back(Piece { bytes: goodbye.bytes, not_before: now });
        self.closing = Some(goodbye.fault);
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

    /// Runs a chunk that arrived on `way` at `now` through the frame stage and the active
    /// faults, and queues what survives.
    pub fn on_chunk(&mut self, now: Instant, way: Way, bytes: Bytes) {
        if self.tokens_for != Some((way, bytes.len())) {
            self.observe(way, &bytes);
        }
        self.tokens_for = None;
        // A blackhole on this way swallows every piece, so every frame that ends in it.
        let swallowing = self.gate(way) == Gate::Swallow;
        if self.skimmed {
            // Observed for the copy path, yet here: the frame stage is neutral, so the chunk
            // goes on as it is.
            let control_ends = self.tokens.iter().filter(|token| is_control_end(token)).count();
            self.control_fates.extend(std::iter::repeat_n(swallowing, control_ends));
            self.run_faults(now, way, bytes);
            return;
        }
        let filtering = self.faults.iter().any(|(_, fault)| fault.needs_observer(way));
        let tokens = std::mem::take(&mut self.tokens);
        let mut judge = Judging { faults: &mut self.faults, hits: &mut self.hits, observer: &self.observer };
        let mut pieces = Vec::new();
        let goodbye = self.framing.apply(way, &bytes, &tokens, filtering, &mut judge, &mut pieces);
        let dropped = self.framing.control_ends().iter();
        self.control_fates.extend(dropped.map(|dropped| *dropped || swallowing));
        for token in &tokens {
            if let Token::Stopped { way: other, .. } = token
                && *other != way
            {
                for held in self.framing.release(*other) {
                    self.run_faults(now, *other, held);
                }
            }
        }
        self.tokens = tokens;
        for piece in pieces {
            self.run_faults(now, way, piece);
        }
        if let Some(goodbye) = goodbye {
            self.say(now, goodbye);
        }
    }

    /// Runs bytes that passed the frame stage through the byte faults and queues what survives.
    fn run_faults(&mut self, now: Instant, way: Way, bytes: Bytes) {
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
                self.hits.record(self.faults[index].0);
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
        std::mem::take(&mut self.hits.new)
    }

    /// Frame faults found unable to act on this link since the last call, with the reason the
    /// observer gave up; each reported once per link.
    pub fn take_not_applied(&mut self) -> Vec<(FaultId, NotApplied)> {
        std::mem::take(&mut self.hits.new_not_applied)
    }
}

/// Whether `token` ends a control frame (ping, pong, close).
pub fn is_control_end(token: &Token) -> bool {
    matches!(token, Token::FrameEnd(end) if !is_data(end.kind))
}
