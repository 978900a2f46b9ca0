//! The frame stage of a link: carries out what the frame faults decide, over the observer's
//! [`Token`]s. Pure, like the rest of [`Flow`](super::flow::Flow), which owns it.
//!
//! - A frame header is held while a frame fault covers its way, until the header is complete
//!   (at most 14 bytes), because whether the frame goes on depends on what it is. Then the
//!   frame goes on whole or vanishes whole: header, payload and, for the first frame of a
//!   fragmented message, every continuation of that message. A frame whose first bytes went by
//!   before a fault started is kept: half a frame cannot be taken back.
//! - While a handshake fault may answer it, the client's upgrade request is held until its head
//!   is complete; then it is answered (and the link closes) or let through.
//! - A Close frame for the client goes out at the next frame boundary of the downstream.
//!
//! The stage is *neutral* when none of that is under way; only then may the link use its plain
//! copy path, so a fault that ends in the middle of a dropped frame still drops the rest of it.

use bytes::Bytes;

use super::strip::without_deflate_offer;
use crate::fault::FaultId;
use crate::fault::FrameVerdict;
use crate::scenario::FrameKind;
use crate::ws::Way;
use crate::ws::observer::{Frame, Head, Part, Standing, Stop, Token, is_data};

/// Who decides: the link's active frame faults.
pub trait Judge {
    /// The verdict on a control frame or on the first frame of a data message on `way`.
    fn frame(&mut self, way: Way, frame: &Frame) -> FrameVerdict;
    /// The answer to the client's upgrade request, and the fault that gives it, if any does.
    fn request(&mut self, head: &Head) -> Option<(FaultId, Bytes)>;
    /// A fault that was under way cannot act after all: the observer gave up on the way.
    fn cannot_apply(&mut self, fault: FaultId, why: Stop);
}

/// Bytes the proxy itself sends the client before closing the link: a Close frame, or the HTTP
/// answer to a rejected upgrade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goodbye {
    /// The fault that says it.
    pub fault: FaultId,
    /// What goes to the client.
    pub bytes: Bytes,
}

/// How a `close_frame` fares on the link the moment it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseStart {
    /// The downstream stands between frames: send this now.
    Now(Goodbye),
    /// A frame is partly through: the Close follows its end.
    Later,
    /// The WebSocket is not open yet (still in its handshake): nothing to close.
    NotOpen,
    /// The observer cannot follow the downstream, so no frame boundary can be found.
    NotApplied(Stop),
}

/// The frame stage of one link.
#[derive(Debug, Default)]
pub struct Framing {
    ways: [WayStage; 2],
    /// Hold the upgrade request until its head is complete.
    hold_request: bool,
    /// Forward the held request without its permessage-deflate offer (`strip_deflate`).
    strip_deflate: bool,
    /// A Close frame waiting for the end of the downstream's current frame.
    pending_close: Option<Goodbye>,
    /// A goodbye has been said: everything read from now on is discarded.
    over: bool,
    /// For each control frame that ended in the chunk last applied, in order: whether the stage
    /// kept it from the other side. Frames after a goodbye are not listed (all are discarded).
    control_ends: Vec<bool>,
}

#[derive(Debug, Default)]
struct WayStage {
    /// Header (or upgrade request) bytes waiting for their fate, in order.
    held: Vec<Bytes>,
    held_len: usize,
    /// The payload of the current frame vanishes.
    dropping: bool,
    /// The verdict on the fragmented data message in progress, if the stage saw it start.
    message: Option<FrameVerdict>,
}

impl WayStage {
    fn hold(&mut self, bytes: Bytes) {
        self.held_len += bytes.len();
        self.held.push(bytes);
    }

    fn release(&mut self, out: &mut Vec<Bytes>) {
        self.held_len = 0;
        out.append(&mut self.held);
    }

    fn discard(&mut self) {
        self.held_len = 0;
        self.held.clear();
    }
}

impl Framing {
    /// A stage with nothing under way.
    pub fn new() -> Framing {
        Framing::default()
    }

    /// Whether nothing is held, dropped, pending or over, so bytes may skip the stage.
    pub fn is_neutral(&self) -> bool {
        !self.hold_request
            && self.pending_close.is_none()
            && !self.over
            && self
                .ways
                .iter()
                .all(|way| way.held.is_empty() && !way.dropping && way.message != Some(FrameVerdict::Drop))
    }

    /// Holds the upgrade request until its head is complete.
    pub fn hold_request(&mut self) {
        self.hold_request = true;
    }

    /// Holds the upgrade request until its head is complete and forwards it without its
    /// permessage-deflate offer, so that neither side compresses.
    pub fn strip_deflate(&mut self) {
        self.hold_request = true;
        self.strip_deflate = true;
    }

    /// Whether the upgrade request is held until its head is complete.
    pub fn holds_request(&self) -> bool {
        self.hold_request
    }

    /// Whether the upgrade request has not gone by yet (held, or still to come).
    pub fn request_pending(&self, upstream: Standing) -> bool {
        self.hold_request || upstream == Standing::Handshake
    }

    /// For each control frame that ended in the chunk last applied, in order, whether the stage
    /// dropped it; frames after a goodbye are missing (see [`Framing::is_over`]).
    pub fn control_ends(&self) -> &[bool] {
        &self.control_ends
    }

    /// Whether a goodbye has been said and the link is closing.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Starts a `close_frame` fault's goodbye, given where the downstream stands.
    pub fn close(&mut self, goodbye: Goodbye, downstream: Standing) -> CloseStart {
        if self.over || self.pending_close.is_some() {
            return CloseStart::Later;
        }
        match downstream {
            Standing::Handshake => CloseStart::NotOpen,
            Standing::Stopped(why) => CloseStart::NotApplied(why),
            Standing::Frames { boundary: true } if self.ways[Way::Downstream as usize].held.is_empty() => {
                self.over = true;
                CloseStart::Now(goodbye)
            }
            Standing::Frames { .. } => {
                self.pending_close = Some(goodbye);
                CloseStart::Later
            }
        }
    }

    /// Runs one chunk of `way` (its `tokens` from the observer) through the stage, appending
    /// the pieces that go on to `out`. `filtering` says whether a frame fault covers the way
    /// now. Returns a goodbye to send the client when the chunk ends the link's traffic.
    pub fn apply(
        &mut self,
        way: Way,
        bytes: &Bytes,
        tokens: &[Token],
        filtering: bool,
        judge: &mut impl Judge,
        out: &mut Vec<Bytes>,
    ) -> Option<Goodbye> {
        self.control_ends.clear();
        for token in tokens {
            if self.over {
                break;
            }
            let goodbye = match token {
                Token::Bytes { range, part } => {
                    self.route(way, bytes.slice(range.clone()), *part, filtering, out);
                    None
                }
                Token::Head(head) if way == Way::Upstream && self.hold_request => {
                    self.answer_request(head, judge, out)
                }
                Token::Head(_) | Token::ServerName(_) => None,
                Token::Frame(frame) => {
                    self.ways[way as usize].judge_frame(way, frame, filtering, judge, out);
                    None
                }
                Token::FrameEnd(end) => {
                    if !is_data(end.kind) {
                        self.control_ends.push(self.ways[way as usize].dropping);
                    }
                    self.frame_end(way)
                }
                Token::Stopped { way: stopped, why } if *stopped == way => {
                    self.let_go(way, out);
                    // A Close waiting for a frame boundary will never find one now.
                    if way == Way::Downstream
                        && let Some(close) = self.pending_close.take()
                    {
                        judge.cannot_apply(close.fault, *why);
                    }
                    None
                }
                Token::Stopped { .. } => None,
            };
            // A goodbye ends the link's traffic: nothing after it is read.
            if goodbye.is_some() {
                return goodbye;
            }
        }
        None
    }

    /// A piece of `way`'s bytes that is `part`: held while its fate is open (the upgrade
    /// request under a hold, a frame header under a frame fault), skipped in a dropped
    /// frame's payload, passed on to `out` otherwise.
    fn route(&mut self, way: Way, piece: Bytes, part: Part, filtering: bool, out: &mut Vec<Bytes>) {
        let stage = &mut self.ways[way as usize];
        match part {
            Part::Head if way == Way::Upstream && self.hold_request => stage.hold(piece),
            // A continuation of a dropped message must be held too, even once the fault has
            // ended, so that its header goes with its payload.
            Part::Header
                if filtering || !stage.held.is_empty() || stage.message == Some(FrameVerdict::Drop) =>
            {
                stage.hold(piece)
            }
            Part::Payload if stage.dropping => {}
            Part::Head | Part::Header | Part::Payload | Part::Opaque => out.push(piece),
        }
    }

    /// The held upgrade request's head is complete: a handshake fault answers it (the goodbye),
    /// or it goes on to `out`.
    fn answer_request(
        &mut self,
        head: &Head,
        judge: &mut impl Judge,
        out: &mut Vec<Bytes>,
    ) -> Option<Goodbye> {
        self.hold_request = false;
        let stage = &mut self.ways[Way::Upstream as usize];
        match judge.request(head) {
            Some((fault, answer)) => {
                stage.discard();
                self.over = true;
                Some(Goodbye { fault, bytes: answer })
            }
            None => {
                let stripped =
                    self.strip_deflate.then(|| without_deflate_offer(&stage.held.concat())).flatten();
                match stripped {
                    Some(head) => {
                        stage.discard();
                        out.push(Bytes::from(head));
                    }
                    None => stage.release(out),
                }
                None
            }
        }
    }

    /// A frame of `way` ended: a pending Close for the client goes out now (the goodbye).
    fn frame_end(&mut self, way: Way) -> Option<Goodbye> {
        self.ways[way as usize].dropping = false;
        if way == Way::Downstream
            && let Some(close) = self.pending_close.take()
        {
            self.over = true;
            return Some(close);
        }
        None
    }

    /// What `way` holds, given up: the observer stopped following it from the other way (a
    /// refused upgrade). The bytes go on as they came.
    pub fn release(&mut self, way: Way) -> Vec<Bytes> {
        let mut out = Vec::new();
        self.let_go(way, &mut out);
        out
    }

    /// Stops acting on `way`: what it holds goes on to `out`, and nothing is dropped or held
    /// any more.
    fn let_go(&mut self, way: Way, out: &mut Vec<Bytes>) {
        let stage = &mut self.ways[way as usize];
        stage.release(out);
        stage.dropping = false;
        stage.message = None;
        if way == Way::Upstream {
            self.hold_request = false;
        }
    }
}

impl WayStage {
    /// A frame of `way` starts, its header complete: the verdict (the message's, for a
    /// continuation; the judge's, for a frame header held whole under a frame fault) keeps its
    /// held header (to `out`) or discards it, and the payload follows.
    fn judge_frame(
        &mut self,
        way: Way,
        frame: &Frame,
        filtering: bool,
        judge: &mut impl Judge,
        out: &mut Vec<Bytes>,
    ) {
        let verdict = if frame.continuation {
            self.message.unwrap_or(FrameVerdict::Keep)
        } else if filtering && self.held_len == frame.header_len {
            judge.frame(way, frame)
        } else {
            FrameVerdict::Keep
        };
        let data = matches!(frame.kind, FrameKind::Text | FrameKind::Binary);
        if data {
            self.message = (!frame.fin).then_some(verdict);
        }
        match verdict {
            FrameVerdict::Keep => self.release(out),
            FrameVerdict::Drop => self.discard(),
        }
        self.dropping = verdict == FrameVerdict::Drop;
    }
}

#[cfg(test)]
mod tests;
