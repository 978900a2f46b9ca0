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

mod client_hello;
mod frame;
mod http;

use std::fmt;
use std::ops::Range;

pub use frame::{Frame, FrameEnd, MAX_HEADER_BYTES};
pub use http::{EXTENSIONS_HEADER, Extensions, HEAD_LIMIT_BYTES, Head};

use self::client_hello::{HANDSHAKE_RECORD, Hello};
use self::frame::{Found, FrameReader};
use self::http::{HeadProgress, HeadReader, Side};
use crate::ws::FrameKind;
use crate::ws::Way;

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
    /// The client opened TLS (`wss://`): its ClientHello named this server (SNI), if any.
    /// Both ways are encrypted from here on; the observer stops following them.
    ServerName(Option<String>),
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
    /// TLS: the bytes are encrypted.
    Tls,
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
            Stop::Tls => write!(f, "TLS (encrypted)"),
        }
    }
}

/// Where a way stands.
#[derive(Debug)]
enum Phase {
    Head(HeadReader),
    /// A TLS ClientHello is arriving (upstream only); the bytes so far.
    Hello(Vec<u8>),
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
    /// Whether a data frame has completed its header on each way yet.
    data_seen: [bool; 2],
    /// The extensions the server's 101 accepted (none before it).
    extensions: Extensions,
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
            data_seen: [false; 2],
            extensions: Extensions::default(),
        }
    }

    /// An observer that follows nothing: every byte is opaque.
    pub fn off() -> LinkObserver {
        LinkObserver {
            ways: [Phase::Stopped(Stop::Off), Phase::Stopped(Stop::Off)],
            data_seen: [true; 2],
            extensions: Extensions::default(),
        }
    }

    /// Where `way` stands.
    pub fn standing(&self, way: Way) -> Standing {
        match &self.ways[way as usize] {
            Phase::Head(_) | Phase::Hello(_) => Standing::Handshake,
            Phase::Frames(reader) => Standing::Frames { boundary: reader.at_boundary() },
            Phase::Stopped(why) => Standing::Stopped(*why),
        }
    }

    /// The extensions the server's 101 accepted; none before it (or without one).
    pub fn extensions(&self) -> Extensions {
        self.extensions
    }

    /// Whether the data message that `frame` starts on `way` cannot vanish without breaking
    /// the peer: it is compressed (RSV1, under permessage-deflate) and the sender keeps its
    /// compression context from message to message in that direction, so the messages after
    /// it refer back to it; or it carries RSV bits of an extension the observer does not
    /// know. A message sent uncompressed (RSV bits clear) never enters the context: Node's
    /// `ws` sends messages under 1 KiB that way. Control frames are never compressed.
    pub fn compressed_with_context(&self, way: Way, frame: &Frame) -> bool {
        if !is_data(frame.kind) || frame.continuation || frame.rsv == 0 {
            return false;
        }
        let ext = self.extensions;
        let independent = match way {
            Way::Upstream => ext.client_no_context_takeover,
            Way::Downstream => ext.server_no_context_takeover,
        };
        // RSV bits with nothing negotiated break the protocol anyway: keep such frames too.
        ext.other || !ext.deflate || !independent
    }

    /// Labels the next bytes of `way`, appending to `tokens`. The ranges of the `Bytes` tokens
    /// cover `input` exactly, in order.
    pub fn feed(&mut self, way: Way, input: &[u8], tokens: &mut Vec<Token>) {
        self.feed_into(way, input, &mut All(tokens));
    }

    /// Follows the next bytes of `way` like [`LinkObserver::feed`], but appends only what a
    /// link's events need when its bytes take the plain copy path: heads, stops, control
    /// frames' ends, and the first data frame of each way. No byte ranges, so no cost per
    /// data frame beyond reading its header.
    pub fn skim(&mut self, way: Way, input: &[u8], notable: &mut Vec<Token>) {
        self.feed_into(way, input, &mut Notable(notable));
    }

    fn feed_into(&mut self, way: Way, input: &[u8], sink: &mut impl Sink) {
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            match &mut self.ways[way as usize] {
                Phase::Head(reader) if reader.is_fresh() && rest[0] == HANDSHAKE_RECORD => {
                    if way == Way::Upstream {
                        self.ways[way as usize] = Phase::Hello(Vec::new());
                    } else {
                        self.stop(way, Stop::Tls, sink);
                    }
                }
                Phase::Hello(bytes) => {
                    bytes.extend_from_slice(rest);
                    sink.bytes(at..input.len(), Part::Opaque);
                    at = input.len();
                    match client_hello::read(bytes) {
                        Hello::More => {}
                        Hello::Read(name) => {
                            sink.token(Token::ServerName(name));
                            self.stop(Way::Upstream, Stop::Tls, sink);
                            self.stop(Way::Downstream, Stop::Tls, sink);
                        }
                        Hello::Invalid => {
                            self.stop(Way::Upstream, Stop::Tls, sink);
                            self.stop(Way::Downstream, Stop::Tls, sink);
                        }
                    }
                }
                Phase::Head(reader) => match reader.feed(rest) {
                    HeadProgress::More => {
                        sink.bytes(at..input.len(), Part::Head);
                        at = input.len();
                    }
                    HeadProgress::Done { used, head } => {
                        sink.bytes(at..at + used, Part::Head);
                        at += used;
                        if let Head::Response { status: 101, extensions, .. } = head {
                            self.extensions = extensions;
                        }
                        let stop = match head {
                            Head::Response { status, .. } if status != 101 => Some(Stop::NotUpgraded(status)),
                            Head::Request { upgrade: false, .. } => Some(Stop::NotUpgrade),
                            _ => None,
                        };
                        sink.token(Token::Head(head));
                        match stop {
                            // A refused upgrade leaves no WebSocket on either way.
                            Some(why @ Stop::NotUpgraded(_)) => {
                                self.stop(way, why, sink);
                                let other =
                                    if way == Way::Upstream { Way::Downstream } else { Way::Upstream };
                                self.stop(other, why, sink);
                            }
                            Some(why) => self.stop(way, why, sink),
                            None => {
                                self.ways[way as usize] =
                                    Phase::Frames(FrameReader::new(way == Way::Upstream))
                            }
                        }
                    }
                    HeadProgress::Failed(why) => self.stop(way, why, sink),
                },
                Phase::Frames(reader) => match reader.step(rest) {
                    Found::HeaderPart { used } => {
                        sink.bytes(at..at + used, Part::Header);
                        at += used;
                    }
                    Found::Header { used, frame } => {
                        sink.bytes(at..at + used, Part::Header);
                        at += used;
                        let data = is_data(frame.kind);
                        let first = data && !std::mem::replace(&mut self.data_seen[way as usize], true);
                        sink.frame(frame, first);
                        if let Some(end) = reader.end_empty() {
                            sink.frame_end(end);
                        }
                    }
                    Found::Payload { used, end } => {
                        sink.bytes(at..at + used, Part::Payload);
                        at += used;
                        if let Some(end) = end {
                            sink.frame_end(end);
                        }
                    }
                    Found::Invalid(why) => self.stop(way, why, sink),
                },
                Phase::Stopped(_) => {
                    sink.bytes(at..input.len(), Part::Opaque);
                    at = input.len();
                }
            }
        }
    }

    /// Gives up `way`, once.
    fn stop(&mut self, way: Way, why: Stop, sink: &mut impl Sink) {
        if !matches!(self.ways[way as usize], Phase::Stopped(_)) {
            self.ways[way as usize] = Phase::Stopped(why);
            sink.token(Token::Stopped { way, why });
        }
    }
}

/// Whether frames of `kind` carry data (text or binary), as opposed to control frames.
pub fn is_data(kind: FrameKind) -> bool {
    matches!(kind, FrameKind::Text | FrameKind::Binary)
}

/// Where [`LinkObserver`] puts what it finds.
trait Sink {
    /// A range of the input, labelled.
    fn bytes(&mut self, range: Range<usize>, part: Part);
    /// A head or a stop.
    fn token(&mut self, token: Token);
    /// A frame header completed; `first` when it is the first data frame of its way.
    fn frame(&mut self, frame: Frame, first: bool);
    /// A frame's payload ended.
    fn frame_end(&mut self, end: FrameEnd);
}

/// Keeps every token ([`LinkObserver::feed`]).
struct All<'a>(&'a mut Vec<Token>);

impl Sink for All<'_> {
    fn bytes(&mut self, range: Range<usize>, part: Part) {
        self.0.push(Token::Bytes { range, part });
    }
    fn token(&mut self, token: Token) {
        self.0.push(token);
    }
    fn frame(&mut self, frame: Frame, _first: bool) {
        self.0.push(Token::Frame(frame));
    }
    fn frame_end(&mut self, end: FrameEnd) {
        self.0.push(Token::FrameEnd(end));
    }
}

/// Keeps what the link's events need ([`LinkObserver::skim`]).
struct Notable<'a>(&'a mut Vec<Token>);

impl Sink for Notable<'_> {
    fn bytes(&mut self, _range: Range<usize>, _part: Part) {}
    fn token(&mut self, token: Token) {
        self.0.push(token);
    }
    fn frame(&mut self, frame: Frame, first: bool) {
        if first || !is_data(frame.kind) {
            self.0.push(Token::Frame(frame));
        }
    }
    fn frame_end(&mut self, end: FrameEnd) {
        if !is_data(end.kind) {
            self.0.push(Token::FrameEnd(end));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
