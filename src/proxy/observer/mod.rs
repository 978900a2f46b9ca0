//! The frame observer: follows the byte stream of a plain `ws://` link in both directions, the
//! HTTP upgrade first and then RFC 6455 frames, and says what each byte is.
//!
//! It is passive and pure. [`LinkObserver::feed`] takes the bytes a link just read and returns
//! [`Token`]s: byte ranges of the input labelled head, frame header, payload or opaque, and, in
//! stream order between them, what completed (a head, a frame header, a frame). It copies
//! nothing but an incomplete HTTP head (bounded by [`HEAD_LIMIT_BYTES`]) and the at most 14
//! bytes of a frame header, so it never holds bytes up and never buffers without bound: whether
//! bytes wait (a frame header whose fate depends on its opcode) or vanish (a dropped frame) is
//! for the link's frame stage to decide, and only while a frame fault needs it.
//!
//! On anything it cannot parse (TLS, another protocol, broken framing) it stops observing that
//! way for good, says why in a [`Token::Stopped`], and labels every later byte opaque: the link
//! forwards them unchanged and never breaks because of the observer.

mod frame;
mod http;

use std::fmt;
use std::ops::Range;

pub use frame::{Frame, FrameEnd, MAX_HEADER_BYTES};
pub use http::{HEAD_LIMIT_BYTES, Head};

use self::frame::{Found, FrameReader};
use self::http::{HeadReader, Progress, Side};
use crate::fault::Way;

/// What a range of bytes is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The HTTP request or response head.
    Head,
    /// A frame header (a header may span several inputs).
    Header,
    /// A frame's payload.
    Payload,
    /// Bytes the observer does not follow.
    Opaque,
}

/// What the observer found, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// `range` of the input is part of `part`.
    Bytes {
        /// Indices into the input just fed.
        range: Range<usize>,
        /// What those bytes are.
        part: Part,
    },
    /// The head ended with the bytes before this token.
    Head(Head),
    /// A frame header ended with the bytes before this token; its payload follows.
    Frame(Frame),
    /// The current frame's payload ended with the bytes before this token.
    FrameEnd(FrameEnd),
    /// The observer stopped following `way`; later bytes of that way are opaque.
    Stopped {
        /// The way given up. A refused upgrade stops both ways, so this may be the other one.
        way: Way,
        /// Why.
        why: Stop,
    },
}

/// Why the observer stopped following a way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The bytes are not HTTP: TLS, or another protocol.
    NotHttp,
    /// No end of the head within [`HEAD_LIMIT_BYTES`].
    HeadTooLong,
    /// An HTTP request that is not a WebSocket upgrade.
    NotUpgrade,
    /// The server answered the upgrade with this status instead of 101.
    NotUpgraded(u16),
    /// A frame with a reserved opcode.
    ReservedOpcode(u8),
    /// A control frame that is fragmented or longer than 125 bytes.
    BadControlFrame,
    /// A continuation frame with no message to continue.
    UnexpectedContinuation,
    /// A new data message while a fragmented one is unfinished.
    UnfinishedMessage,
    /// An unmasked frame from the client, or a masked one from the server.
    MaskMismatch,
    /// A 64-bit length with its top bit set.
    LengthTooLarge,
    /// Observation is switched off for this link.
    Off,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::NotHttp => write!(f, "not plain HTTP (TLS or another protocol)"),
            Stop::HeadTooLong => write!(f, "HTTP head longer than {HEAD_LIMIT_BYTES} bytes"),
            Stop::NotUpgrade => write!(f, "not a WebSocket upgrade request"),
            Stop::NotUpgraded(status) => write!(f, "upgrade answered {status}"),
            Stop::ReservedOpcode(opcode) => write!(f, "frame with reserved opcode {opcode}"),
            Stop::BadControlFrame => write!(f, "fragmented or oversized control frame"),
            Stop::UnexpectedContinuation => write!(f, "continuation frame without a message"),
            Stop::UnfinishedMessage => write!(f, "new message inside a fragmented one"),
            Stop::MaskMismatch => write!(f, "frame masked on the wrong side"),
            Stop::LengthTooLarge => write!(f, "frame length over 2^63"),
            Stop::Off => write!(f, "observation off"),
        }
    }
}

/// Where a way stands.
#[derive(Debug)]
enum Phase {
    Head(HeadReader),
    Frames(FrameReader),
    Stopped(Stop),
}

/// What the observer knows of one way, for the frame stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The HTTP head is still coming.
    Handshake,
    /// Frames; `boundary` when between two frames.
    Frames {
        /// No frame header or payload is partly through.
        boundary: bool,
    },
    /// Not followed any more.
    Stopped(Stop),
}

/// The observer of one link: the request and frames upstream, the response and frames
/// downstream.
#[derive(Debug)]
pub struct LinkObserver {
    ways: [Phase; 2],
}

impl Default for LinkObserver {
    fn default() -> Self {
        LinkObserver::new()
    }
}

impl LinkObserver {
    /// An observer at the start of a link.
    pub fn new() -> LinkObserver {
        LinkObserver {
            ways: [Phase::Head(HeadReader::new(Side::Request)), Phase::Head(HeadReader::new(Side::Response))],
        }
    }

    /// An observer that follows nothing: every byte is opaque.
    pub fn off() -> LinkObserver {
        LinkObserver { ways: [Phase::Stopped(Stop::Off), Phase::Stopped(Stop::Off)] }
    }

    /// Where `way` stands.
    pub fn standing(&self, way: Way) -> Standing {
        match &self.ways[way as usize] {
            Phase::Head(_) => Standing::Handshake,
            Phase::Frames(reader) => Standing::Frames { boundary: reader.at_boundary() },
            Phase::Stopped(why) => Standing::Stopped(*why),
        }
    }

    /// Labels the next bytes of `way`, appending to `tokens`. The ranges of the `Bytes` tokens
    /// cover `input` exactly, in order.
    pub fn feed(&mut self, way: Way, input: &[u8], tokens: &mut Vec<Token>) {
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            let bytes = |used: usize, part: Part| Token::Bytes { range: at..at + used, part };
            match &mut self.ways[way as usize] {
                Phase::Head(reader) => match reader.feed(rest) {
                    Progress::More => {
                        tokens.push(bytes(rest.len(), Part::Head));
                        at = input.len();
                    }
                    Progress::Done { used, head } => {
                        tokens.push(bytes(used, Part::Head));
                        at += used;
                        let stop = match head {
                            Head::Response { status, .. } if status != 101 => Some(Stop::NotUpgraded(status)),
                            Head::Request { upgrade: false, .. } => Some(Stop::NotUpgrade),
                            _ => None,
                        };
                        tokens.push(Token::Head(head));
                        match stop {
                            // A refused upgrade leaves no WebSocket on either way.
                            Some(why @ Stop::NotUpgraded(_)) => {
                                self.stop(way, why, tokens);
                                let other =
                                    if way == Way::Upstream { Way::Downstream } else { Way::Upstream };
                                self.stop(other, why, tokens);
                            }
                            Some(why) => self.stop(way, why, tokens),
                            None => {
                                self.ways[way as usize] =
                                    Phase::Frames(FrameReader::new(way == Way::Upstream))
                            }
                        }
                    }
                    Progress::Failed(why) => self.stop(way, why, tokens),
                },
                Phase::Frames(reader) => match reader.step(rest) {
                    Found::HeaderPart { used } => {
                        tokens.push(bytes(used, Part::Header));
                        at += used;
                    }
                    Found::Header { used, frame } => {
                        tokens.push(bytes(used, Part::Header));
                        at += used;
                        tokens.push(Token::Frame(frame));
                        if let Some(end) = reader.end_empty() {
                            tokens.push(Token::FrameEnd(end));
                        }
                    }
                    Found::Payload { used, end } => {
                        tokens.push(bytes(used, Part::Payload));
                        at += used;
                        if let Some(end) = end {
                            tokens.push(Token::FrameEnd(end));
                        }
                    }
                    Found::Invalid(why) => self.stop(way, why, tokens),
                },
                Phase::Stopped(_) => {
                    tokens.push(bytes(rest.len(), Part::Opaque));
                    at = input.len();
                }
            }
        }
    }

    /// Gives up `way`, once.
    fn stop(&mut self, way: Way, why: Stop, tokens: &mut Vec<Token>) {
        if !matches!(self.ways[way as usize], Phase::Stopped(_)) {
            self.ways[way as usize] = Phase::Stopped(why);
            tokens.push(Token::Stopped { way, why });
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
