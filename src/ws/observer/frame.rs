//! RFC 6455 frames, read incrementally: a frame header is gathered byte by byte (it may be
//! split anywhere), checked, and then its payload is counted through without being copied.
//!
//! Only what framing needs is checked: reserved opcodes, control frames that are fragmented or
//! longer than 125 bytes, continuations without a message, a new message inside a fragmented
//! one, the mask bit for the side, and the top bit of a 64-bit length. RSV bits belong to
//! extensions (permessage-deflate sets RSV1) and pass unexamined.

use crate::ws::FrameKind;

use super::Stop;

/// The longest frame header: 2 bytes, a 64-bit length and a mask key.
pub const MAX_HEADER_BYTES: usize = 14;

/// A frame whose header is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What the frame carries; a continuation has its message's kind.
    pub kind: FrameKind,
    /// Whether this continues a fragmented message (opcode 0).
    pub continuation: bool,
    /// The FIN bit: the last frame of its message.
    pub fin: bool,
    /// The three RSV bits, as the high bits of the first byte.
    pub rsv: u8,
    /// The masking key, for frames from the client.
    pub mask: Option<[u8; 4]>,
    /// Bytes of payload that follow the header.
    pub payload_len: u64,
    /// Bytes of the header itself, 2 to 14.
    pub header_len: usize,
}

/// The end of a frame's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameEnd {
    /// The frame's kind.
    pub kind: FrameKind,
    /// For a Close frame with a body, its status code.
    pub close_code: Option<u16>,
}

/// What one call to [`FrameReader::step`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// `used` bytes went into a header that is still incomplete.
    HeaderPart { used: usize },
    /// The header completed after `used` bytes.
    Header { used: usize, frame: Frame },
    /// `used` bytes of payload; `end` is set when they finished the frame.
    Payload { used: usize, end: Option<FrameEnd> },
    /// The frame header is not valid framing.
    Invalid(Stop),
}

/// The frame reader of one way.
#[derive(Debug)]
pub struct FrameReader {
    /// Whether frames on this way come from the client (and so must be masked).
    from_client: bool,
    /// The header gathered so far.
    header: [u8; MAX_HEADER_BYTES],
    have: usize,
    /// The frame whose payload is being counted.
    current: Option<Current>,
    /// The kind of the fragmented data message in progress, if one is.
    message: Option<FrameKind>,
}

#[derive(Debug)]
struct Current {
    frame: Frame,
    /// Payload bytes still to come.
    left: u64,
    /// Payload bytes seen (for unmasking and the close code).
    seen: u64,
    /// The first two payload bytes of a Close frame, unmasked.
    code: [u8; 2],
}

impl FrameReader {
    /// A reader for frames from the client (`from_client`) or from the server.
    pub fn new(from_client: bool) -> FrameReader {
        FrameReader { from_client, header: [0; MAX_HEADER_BYTES], have: 0, current: None, message: None }
    }

    /// Whether the reader stands between two frames.
    pub fn at_boundary(&self) -> bool {
        self.have == 0 && self.current.is_none()
    }

    /// Reads from the start of `input` (which must not be empty) up to the next thing found.
    pub fn step(&mut self, input: &[u8]) -> Found {
        if let Some(current) = &mut self.current {
            let found = current.payload(input);
            if matches!(found, Found::Payload { end: Some(_), .. }) {
                self.current = None;
            }
            return found;
        }
        // A whole header in the input (the usual case) is checked once, not byte by byte.
        if self.have == 0 && input.len() >= 2 {
            let len = header_len(input[1]);
            if input.len() >= len {
                self.header[..len].copy_from_slice(&input[..len]);
                self.have = len;
                return match self.check() {
                    Err(stop) => Found::Invalid(stop),
                    Ok(Some(frame)) => {
                        self.have = 0;
                        self.start(frame);
                        Found::Header { used: len, frame }
                    }
                    Ok(None) => unreachable!("a header of {len} bytes is complete"),
                };
            }
        }
        let mut used = 0;
        while used < input.len() {
            self.header[self.have] = input[used];
            self.have += 1;
            used += 1;
            match self.check() {
                Err(stop) => return Found::Invalid(stop),
                Ok(None) => {}
                Ok(Some(frame)) => {
                    self.have = 0;
                    self.start(frame);
                    return Found::Header { used, frame };
                }
            }
        }
        Found::HeaderPart { used }
    }

    /// Checks the header gathered so far: `Some` once it is complete.
    fn check(&self) -> Result<Option<Frame>, Stop> {
        let h = &self.header[..self.have];
        let opcode = h[0] & 0x0f;
        let fin = h[0] & 0x80 != 0;
        let kind = match opcode {
            0 => self.message.ok_or(Stop::UnexpectedContinuation)?,
            1 | 2 if self.message.is_some() => return Err(Stop::UnfinishedMessage),
            1 => FrameKind::Text,
            2 => FrameKind::Binary,
            8 => FrameKind::Close,
            9 => FrameKind::Ping,
            10 => FrameKind::Pong,
            other => return Err(Stop::ReservedOpcode(other)),
        };
        let control = opcode >= 8;
        if control && !fin {
            return Err(Stop::BadControlFrame);
        }
        if h.len() < 2 {
            return Ok(None);
        }
        let masked = h[1] & 0x80 != 0;
        if masked != self.from_client {
            return Err(Stop::MaskMismatch);
        }
        let short = h[1] & 0x7f;
        if control && short > 125 {
            return Err(Stop::BadControlFrame);
        }
        let extended = match short {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        if extended == 8 && h.len() >= 3 && h[2] & 0x80 != 0 {
            return Err(Stop::LengthTooLarge);
        }
        let header_len = 2 + extended + if masked { 4 } else { 0 };
        if h.len() < header_len {
            return Ok(None);
        }
        let payload_len = match extended {
            0 => u64::from(short),
            2 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            _ => u64::from_be_bytes(h[2..10].try_into().expect("eight bytes")),
        };
        let mask = masked.then(|| h[header_len - 4..header_len].try_into().expect("four bytes"));
        Ok(Some(Frame {
            kind,
            continuation: opcode == 0,
            fin,
            rsv: h[0] & 0x70,
            mask,
            payload_len,
            header_len,
        }))
    }

    /// A header completed: track its message and its payload.
    fn start(&mut self, frame: Frame) {
        let data = matches!(frame.kind, FrameKind::Text | FrameKind::Binary);
        if data {
            self.message = if frame.fin { None } else { Some(frame.kind) };
        }
        self.current = Some(Current { frame, left: frame.payload_len, seen: 0, code: [0; 2] });
    }

    /// Finishes a frame with no payload, right after its header.
    pub fn end_empty(&mut self) -> Option<FrameEnd> {
        match &self.current {
            Some(current) if current.left == 0 => {
                let end = current.end();
                self.current = None;
                Some(end)
            }
            _ => None,
        }
    }
}

/// The length of a frame header whose second byte is `second`.
fn header_len(second: u8) -> usize {
    let extended = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + extended + if second & 0x80 != 0 { 4 } else { 0 }
}

impl Current {
    fn payload(&mut self, input: &[u8]) -> Found {
        let used = usize::try_from(self.left).map_or(input.len(), |left| left.min(input.len()));
        if self.frame.kind == FrameKind::Close {
            for (i, byte) in input[..used].iter().enumerate() {
                let at = self.seen + i as u64;
                if at >= 2 {
                    break;
                }
                let key = self.frame.mask.map_or(0, |mask| mask[(at % 4) as usize]);
                self.code[at as usize] = byte ^ key;
            }
        }
        self.seen += used as u64;
        self.left -= used as u64;
        Found::Payload { used, end: (self.left == 0).then(|| self.end()) }
    }

    fn end(&self) -> FrameEnd {
        let close_code = (self.frame.kind == FrameKind::Close && self.frame.payload_len >= 2)
            .then(|| u16::from_be_bytes(self.code));
        FrameEnd { kind: self.frame.kind, close_code }
    }
}
