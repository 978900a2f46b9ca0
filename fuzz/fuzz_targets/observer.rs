//! Fuzz target `observer`: the pure WebSocket frame observer (`LinkObserver`) over arbitrary
//! bytes, on both ways of a link, fed in arbitrary pieces interleaved between the ways.
//!
//! Checks, on every input:
//! - `feed` never panics; an empty input yields no token;
//! - the `Bytes` ranges of each feed cover its input exactly, in order, none empty;
//! - the tokens follow the grammar of a link: a head, then frame headers and payloads, a
//!   `Frame` after exactly `header_len` header bytes (whose fields match an independent decode
//!   of those bytes), a `FrameEnd` after exactly `payload_len` payload bytes (with the Close
//!   code unmasked), and at most one `Stopped` per way, for a reason those bytes bear out;
//! - once a way is reported `Stopped` (by its own bytes or by a refused upgrade on the other
//!   way), every later `Bytes` token of that way is `Opaque`, and no other token follows;
//! - `standing(way)` after every feed agrees with the tokens;
//! - the same streams fed whole into a fresh observer give the same trace (consecutive bytes of
//!   the same part merged, other tokens kept) as the pieces did. One difference is by design
//!   and is normalised away: when a way stops in the middle of a frame header or of an HTTP
//!   head, the bytes of that header or head that arrived in *earlier* pieces were already
//!   labelled `Header`/`Head`, while fed whole they are labelled `Opaque`. Set
//!   `WSCHAOS_FUZZ_STRICT=1` to compare without that normalisation.

#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wschaos::ws::Way;
use wschaos::ws::observer::{Frame, HEAD_LIMIT_BYTES, Head, LinkObserver, MAX_HEADER_BYTES, Part, Standing, Stop, Token};
use wschaos::scenario::FrameKind;

use common::{Link, Reader, other};

fuzz_target!(|data: &[u8]| run(data));

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("WSCHAOS_FUZZ_STRICT").is_some_and(|v| v != "0"))
}

fn run(data: &[u8]) {
    let link = common::decode(&mut Reader::new(data), true);

    // The pieces, interleaved.
    let mut observer = LinkObserver::new();
    let mut traces = [Trace::new(&link, Way::Upstream, !strict()), Trace::new(&link, Way::Downstream, !strict())];
    let mut cross_stop: [Option<usize>; 2] = [None, None];
    for (way, range) in &link.pieces {
        let way = *way;
        let input = &link.stream(way)[range.clone()];
        let mut tokens = Vec::new();
        observer.feed(way, input, &mut tokens);
        if input.is_empty() {
            assert!(tokens.is_empty(), "an empty input gives no token: {tokens:?}");
        }
        let at_other = traces[other(way) as usize].at;
        if feed_tokens(&mut traces, way, input, range.start, &tokens).is_some() {
            cross_stop[other(way) as usize] = Some(at_other);
        }
        for w in Way::BOTH {
            assert_eq!(observer.standing(w), traces[w as usize].standing(), "standing of {w:?} after {tokens:?}");
        }
    }
    for trace in &mut traces {
        trace.finish();
    }

    // The same streams, whole. A way stopped by the other way's refused upgrade is cut where
    // that happened, so that the stop falls at the same byte.
    let mut whole_observer = LinkObserver::new();
    let mut whole = [Trace::new(&link, Way::Upstream, false), Trace::new(&link, Way::Downstream, false)];
    for t in &mut whole {
        t.whole = true;
    }
    let order: Vec<(Way, std::ops::Range<usize>)> = match (cross_stop[0], cross_stop[1]) {
        (Some(u), _) => vec![
            (Way::Upstream, 0..u),
            (Way::Downstream, 0..link.streams[1].len()),
            (Way::Upstream, u..link.streams[0].len()),
        ],
        (None, Some(d)) => vec![
            (Way::Downstream, 0..d),
            (Way::Upstream, 0..link.streams[0].len()),
            (Way::Downstream, d..link.streams[1].len()),
        ],
        (None, None) => {
            vec![(Way::Upstream, 0..link.streams[0].len()), (Way::Downstream, 0..link.streams[1].len())]
        }
    };
    for (way, range) in order {
        if range.is_empty() {
            continue;
        }
        let input = &link.stream(way)[range.clone()];
        let mut tokens = Vec::new();
        whole_observer.feed(way, input, &mut tokens);
        feed_tokens(&mut whole, way, input, range.start, &tokens);
        for w in Way::BOTH {
            assert_eq!(whole_observer.standing(w), whole[w as usize].standing());
        }
    }
    for trace in &mut whole {
        trace.finish();
    }
    for w in Way::BOTH {
        let (split, whole) = (&traces[w as usize].seen, &whole[w as usize].seen);
        assert!(split == whole, "{w:?}: pieces and whole differ\npieces: {split:?}\nwhole:  {whole:?}");
    }
}

/// Checks one feed's tokens and adds them to the traces; `start` is where `input` begins in
/// `way`'s stream. Returns the reason if this feed stopped the other way.
fn feed_tokens(traces: &mut [Trace<'_>; 2], way: Way, input: &[u8], start: usize, tokens: &[Token]) -> Option<Stop> {
    let mut covered = 0;
    let mut cross = None;
    traces[way as usize].feed_end = start + input.len();
    for token in tokens {
        match token {
            Token::Bytes { range, part } => {
                assert_eq!(range.start, covered, "ranges cover the input in order: {tokens:?}");
                assert!(range.end > range.start, "no empty range: {tokens:?}");
                assert!(range.end <= input.len(), "range inside the input: {tokens:?}");
                covered = range.end;
                assert_eq!(traces[way as usize].at, start + range.start, "trace offset");
                traces[way as usize].bytes(*part, &input[range.clone()]);
            }
            Token::Stopped { way: stopped, why } if *stopped != way => {
                assert!(matches!(why, Stop::NotUpgraded(_)), "only a refused upgrade stops the other way: {why}");
                assert!(
                    matches!(traces[way as usize].state, State::MustStop(w) | State::Stopped(w) if w == *why),
                    "{stopped:?} stopped for {why} by {way:?}, which did not refuse"
                );
                traces[*stopped as usize].stopped(*why, true);
                cross = Some(*why);
            }
            Token::Stopped { why, .. } => traces[way as usize].stopped(*why, false),
            other => traces[way as usize].token(other),
        }
    }
    assert_eq!(covered, input.len(), "ranges cover the whole input: {tokens:?}");
    traces[way as usize].end_of_feed();
    // A refused upgrade leaves the other way stopped (now, or already).
    if let Some(Head::Response { status, .. }) = traces[way as usize].head
        && status != 101
    {
        assert!(
            matches!(traces[other(way) as usize].state, State::Stopped(_)),
            "a refused upgrade ({status}) stops the other way too"
        );
    }
    cross
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Bytes(Part, Vec<u8>),
    Token(Token),
}

#[derive(Debug)]
enum State {
    Handshake,
    /// A head ended that the observer must give up right after.
    MustStop(Stop),
    Frames {
        /// The bytes of the frame header under way.
        header: Vec<u8>,
        /// The frame whose payload is being counted: it, bytes left, the first payload bytes.
        frame: Option<(Frame, u64, Vec<u8>)>,
    },
    Stopped(Stop),
}

/// What one way showed, checked as it comes.
struct Trace<'a> {
    way: Way,
    stream: &'a [u8],
    /// Offset in `stream` of the next byte.
    at: usize,
    /// Where the current feed ends in `stream`.
    feed_end: usize,
    state: State,
    /// The kind of the fragmented data message under way.
    message: Option<FrameKind>,
    header_start: usize,
    head: Option<Head>,
    seen: Vec<Seen>,
    /// Relabel the bytes before a stop as the whole stream would (see the module docs).
    normalize: bool,
    /// Fed whole: no such bytes can exist.
    whole: bool,
}

impl<'a> Trace<'a> {
    fn new(link: &'a Link, way: Way, normalize: bool) -> Trace<'a> {
        Trace {
            way,
            stream: link.stream(way),
            at: 0,
            feed_end: 0,
            state: State::Handshake,
            message: None,
            header_start: 0,
            head: None,
            seen: Vec::new(),
            normalize,
            whole: false,
        }
    }

    fn push_bytes(&mut self, part: Part, bytes: &[u8]) {
        match self.seen.last_mut() {
            Some(Seen::Bytes(last, merged)) if *last == part => merged.extend_from_slice(bytes),
            _ => self.seen.push(Seen::Bytes(part, bytes.to_vec())),
        }
    }

    fn bytes(&mut self, part: Part, bytes: &[u8]) {
        assert_eq!(&self.stream[self.at..self.at + bytes.len()], bytes, "bytes in stream order");
        let at = self.at;
        match (&mut self.state, part) {
            (State::Handshake, Part::Head) => {}
            (State::Frames { header, frame: None }, Part::Header) => {
                if header.is_empty() {
                    self.header_start = at;
                }
                header.extend_from_slice(bytes);
                assert!(header.len() <= MAX_HEADER_BYTES, "header of {} bytes", header.len());
            }
            (State::Frames { header, frame: Some((_, left, first)) }, Part::Payload) => {
                assert!(header.is_empty());
                assert!(bytes.len() as u64 <= *left, "{} payload bytes with {left} left", bytes.len());
                *left -= bytes.len() as u64;
                let room = 2usize.saturating_sub(first.len()).min(bytes.len());
                first.extend_from_slice(&bytes[..room]);
            }
            (State::Stopped(_), Part::Opaque) => {}
            (state, part) => panic!("{:?}: {part:?} bytes at {at} while {state:?}", self.way),
        }
        self.at += bytes.len();
        self.push_bytes(part, bytes);
    }

    fn token(&mut self, token: &Token) {
        match (&mut self.state, token) {
            (State::Handshake, Token::Head(head)) => {
                let end = self.at;
                let request = matches!(head, Head::Request { .. });
                assert_eq!(request, self.way == Way::Upstream, "{head:?} on {:?}", self.way);
                assert!(end <= HEAD_LIMIT_BYTES);
                let bytes = &self.stream[..end];
                assert!(bytes.ends_with(b"\r\n\r\n"), "a head ends at its blank line");
                assert!(!bytes[..end - 1].windows(4).any(|w| w == b"\r\n\r\n"), "at the first blank line");
                for (prefix, expected) in [
                    (common::REQUEST, Head::Request { client: Some(3), upgrade: true }),
                    (common::PLAIN_GET, Head::Request { client: None, upgrade: false }),
                    (common::RESPONSE, Head::Response { status: 101, retry_after: None }),
                    (common::REFUSED, Head::Response { status: 401, retry_after: Some(7) }),
                ] {
                    if self.stream.starts_with(prefix) {
                        assert_eq!((end, head), (prefix.len(), &expected), "the known head");
                    }
                }
                self.state = match head {
                    Head::Request { upgrade: false, .. } => State::MustStop(Stop::NotUpgrade),
                    Head::Response { status, .. } if *status != 101 => State::MustStop(Stop::NotUpgraded(*status)),
                    _ => State::Frames { header: Vec::new(), frame: None },
                };
                self.head = Some(head.clone());
            }
            (State::Frames { header, frame: frame @ None }, Token::Frame(found)) => {
                assert_eq!(header.len(), found.header_len, "header bytes before {found:?}");
                assert!((2..=MAX_HEADER_BYTES).contains(&found.header_len));
                let from_client = self.way == Way::Upstream;
                for k in 1..header.len() {
                    assert_eq!(decode_header(&header[..k], from_client, self.message), Ok(None), "prefix {k} of {header:?}");
                }
                let decoded = decode_header(header, from_client, self.message);
                assert_eq!(decoded, Ok(Some(*found)), "header {header:?}");
                let data = matches!(found.kind, FrameKind::Text | FrameKind::Binary);
                if data {
                    self.message = (!found.fin).then_some(found.kind);
                }
                header.clear();
                *frame = Some((*found, found.payload_len, Vec::new()));
            }
            (State::Frames { header, frame: frame @ Some(_) }, Token::FrameEnd(end)) => {
                assert!(header.is_empty());
                let (found, left, first) = frame.take().expect("a frame");
                assert_eq!(left, 0, "{found:?} ended with {left} bytes left");
                assert_eq!(end.kind, found.kind);
                let code = (found.kind == FrameKind::Close && found.payload_len >= 2).then(|| {
                    let key = found.mask.unwrap_or([0; 4]);
                    u16::from_be_bytes([first[0] ^ key[0], first[1] ^ key[1]])
                });
                assert_eq!(end.close_code, code, "close code of {found:?}");
            }
            (state, token) => panic!("{:?}: {token:?} at {} while {state:?}", self.way, self.at),
        }
        self.seen.push(Seen::Token(token.clone()));
    }

    /// The observer gave up this way: by its own bytes, or (`cross`) by the other way's.
    fn stopped(&mut self, why: Stop, cross: bool) {
        let token = Token::Stopped { way: self.way, why };
        match &self.state {
            State::Stopped(before) => panic!("{:?} stopped twice: {before} then {why}", self.way),
            State::MustStop(must) => assert_eq!(*must, why, "{:?}", self.way),
            _ if cross => {}
            State::Handshake => {
                assert!(matches!(why, Stop::NotHttp | Stop::HeadTooLong), "{why} in the handshake");
                if why == Stop::HeadTooLong {
                    assert!(self.feed_end >= HEAD_LIMIT_BYTES, "head too long after {} bytes", self.feed_end);
                }
            }
            State::Frames { frame: Some(frame), .. } => panic!("{:?} stopped ({why}) inside {frame:?}", self.way),
            State::Frames { header, frame: None } => {
                // The header that broke starts where this header started (or here) and is read
                // byte by byte: every prefix is fine until the byte, within this feed, that gives `why`.
                let start = if header.is_empty() { self.at } else { self.header_start };
                let from_client = self.way == Way::Upstream;
                let mut result = Ok(None);
                let mut end = start;
                while end < self.feed_end && end - start < MAX_HEADER_BYTES {
                    end += 1;
                    result = decode_header(&self.stream[start..end], from_client, self.message);
                    if result != Ok(None) {
                        break;
                    }
                }
                assert_eq!(result, Err(why), "{:?}: header {:?}", self.way, &self.stream[start..end]);
            }
        }
        let trailing = matches!(self.seen.last(), Some(Seen::Bytes(Part::Head | Part::Header, _)));
        if self.whole && !cross {
            assert!(!trailing, "fed whole, no head or header bytes stand before a stop");
        }
        if self.normalize && !cross && trailing {
            let Some(Seen::Bytes(_, bytes)) = self.seen.pop() else { unreachable!() };
            self.seen.push(Seen::Token(token));
            self.seen.push(Seen::Bytes(Part::Opaque, bytes));
        } else {
            self.seen.push(Seen::Token(token));
        }
        self.state = State::Stopped(why);
        self.message = None;
    }

    fn end_of_feed(&mut self) {
        match &self.state {
            State::MustStop(why) => panic!("{:?}: should have stopped ({why})", self.way),
            State::Frames { frame: Some((frame, 0, _)), .. } => panic!("{:?}: {frame:?} never ended", self.way),
            _ => {}
        }
    }

    fn standing(&self) -> Standing {
        match &self.state {
            State::Handshake => Standing::Handshake,
            State::MustStop(_) => unreachable!("checked at the end of the feed"),
            State::Frames { header, frame } => Standing::Frames { boundary: header.is_empty() && frame.is_none() },
            State::Stopped(why) => Standing::Stopped(*why),
        }
    }

    /// The stream is over: a header under way is a valid, unfinished one.
    fn finish(&mut self) {
        assert_eq!(self.at, self.stream.len(), "{:?}: every byte was labelled", self.way);
        if let State::Frames { header, frame: None } = &self.state {
            let from_client = self.way == Way::Upstream;
            for k in 1..=header.len() {
                assert_eq!(decode_header(&header[..k], from_client, self.message), Ok(None), "unfinished {header:?}");
            }
        }
    }
}

/// An independent reading of RFC 6455 §5.2 for the checks the observer makes: `Ok(None)` for
/// a valid but unfinished header, the frame once complete, or why the bytes cannot be one.
fn decode_header(h: &[u8], from_client: bool, message: Option<FrameKind>) -> Result<Option<Frame>, Stop> {
    let fin = h[0] & 0x80 != 0;
    let opcode = h[0] & 0x0f;
    let (kind, continuation) = match opcode {
        0x0 => (message.ok_or(Stop::UnexpectedContinuation)?, true),
        0x1 | 0x2 if message.is_some() => return Err(Stop::UnfinishedMessage),
        0x1 => (FrameKind::Text, false),
        0x2 => (FrameKind::Binary, false),
        0x8 => (FrameKind::Close, false),
        0x9 => (FrameKind::Ping, false),
        0xA => (FrameKind::Pong, false),
        reserved => return Err(Stop::ReservedOpcode(reserved)),
    };
    let control = opcode & 0x8 != 0;
    if control && !fin {
        return Err(Stop::BadControlFrame);
    }
    let Some(&second) = h.get(1) else { return Ok(None) };
    let masked = second & 0x80 != 0;
    if masked != from_client {
        return Err(Stop::MaskMismatch);
    }
    let short = second & 0x7f;
    if control && short > 125 {
        return Err(Stop::BadControlFrame);
    }
    let length_bytes = match short {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    if length_bytes == 8 && h.get(2).is_some_and(|b| b & 0x80 != 0) {
        return Err(Stop::LengthTooLarge);
    }
    let header_len = 2 + length_bytes + if masked { 4 } else { 0 };
    if h.len() < header_len {
        return Ok(None);
    }
    let payload_len =
        if length_bytes == 0 { u64::from(short) } else { h[2..2 + length_bytes].iter().fold(0, |n, b| n << 8 | u64::from(*b)) };
    let mask = masked.then(|| [h[header_len - 4], h[header_len - 3], h[header_len - 2], h[header_len - 1]]);
    Ok(Some(Frame { kind, continuation, fin, rsv: h[0] & 0x70, mask, payload_len, header_len }))
}
