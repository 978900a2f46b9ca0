//! Fuzz target `frame_stage`: a link's pure core (`Flow`: observer, frame stage, faults) over
//! arbitrary bytes on both ways, split and interleaved arbitrarily, driven as the link and
//! `src/proxy/framing/tests.rs`'s `pass()` drive it: observe the chunk, then the plain copy path
//! if the flow `is_clear()`, else `on_chunk` and drain what is `due`.
//!
//! The input may start one frame fault (`drop_frames`, `close_frame` or `reject_handshake`,
//! with input-chosen parameters) before any chunk, and end it later; it may also hold the
//! upgrade request (`Flow::hold_request`) and write what is due in two halves.
//!
//! Checks, on every input:
//! - no panic;
//! - with no fault started (and no request held), each way's output is its input, byte for byte;
//! - with a fault, each way's output is never longer than its input plus the proxy's own
//!   goodbye (≤ 256 bytes, downstream only), and is a subsequence of the input (then the
//!   goodbye): nothing is duplicated, invented or reordered;
//! - the output is exactly what a model of the frame stage's documented behaviour predicts:
//!   frames judged `Drop` by the fault (every verdict is recorded) vanish whole, header and
//!   payload, and so do the continuations of a dropped message; everything else goes on in
//!   order; a Close goes out at the next downstream frame boundary; a rejected request never
//!   goes on and is answered;
//! - `is_clear()`, the faults reported as hit and as not applied agree with that model.
//! A `close_frame` that waits for a frame boundary the observer never finds (it gives up on the
//! downstream first) is reported as not applied.

#![no_main]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tokio::time::Instant;
use wschaos::fault::{self, Admission, Ending, Gate, LinkAction, LinkFault, Piece, Step, FrameVerdict, Way};
use wschaos::fault::FaultId;
use wschaos::proxy::flow::Flow;
use wschaos::ws::observer::{Frame, Head, LinkObserver, Part, Standing, Stop, Token};
use wschaos::scenario::{Direction, Fault, FrameKind};

use common::Reader;

const ID: FaultId = FaultId { plan: 0, occurrence: 0 };
/// The longest goodbye the proxy says itself: a Close frame (≤ 127 bytes) or an HTTP answer.
const GOODBYE_LIMIT: usize = 256;

fuzz_target!(|data: &[u8]| run(data));


type Log = Arc<Mutex<Vec<(Way, Frame, FrameVerdict)>>>;

/// A fault that records every verdict it gives, so the model knows what was decided.
#[derive(Debug)]
struct Recorded {
    inner: Box<dyn LinkFault>,
    log: Log,
}

impl LinkFault for Recorded {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn on_start(&mut self, now: Instant) -> LinkAction {
        self.inner.on_start(now)
    }
    fn gate(&self, way: Way) -> Gate {
        self.inner.gate(way)
    }
    fn on_piece(&mut self, now: Instant, way: Way, piece: Piece) -> Step {
        self.inner.on_piece(now, way, piece)
    }
    fn admit(&mut self) -> Admission {
        self.inner.admit()
    }
    fn on_end(&mut self) -> Ending {
        self.inner.on_end()
    }
    fn needs_observer(&self, way: Way) -> bool {
        self.inner.needs_observer(way)
    }
    fn on_frame(&mut self, way: Way, frame: &Frame) -> FrameVerdict {
        let verdict = self.inner.on_frame(way, frame);
        self.log.lock().expect("log").push((way, *frame, verdict));
        verdict
    }
    fn holds_request(&self) -> bool {
        self.inner.holds_request()
    }
    fn on_request(&mut self, head: &Head) -> Option<Bytes> {
        self.inner.on_request(head)
    }
}

/// The fault the input chose.
#[derive(Clone, Debug)]
enum Spec {
    None,
    Drop { kinds: Vec<FrameKind>, direction: Direction, probability: f64 },
    Close { code: u16, reason: String },
    Reject { status: u16, retry_after: Option<Duration> },
}

impl Spec {
    fn decode(kind: u8, p: [u8; 3]) -> Spec {
        match kind % 4 {
            0 => Spec::None,
            1 => {
                let all = [FrameKind::Ping, FrameKind::Pong, FrameKind::Text, FrameKind::Binary, FrameKind::Close];
                let kinds = all.iter().enumerate().filter(|(i, _)| p[0] >> i & 1 == 1).map(|(_, k)| *k).collect();
                let direction = match (p[0] >> 5) % 3 {
                    0 => Direction::Upstream,
                    1 => Direction::Downstream,
                    _ => Direction::Both,
                };
                let probability = match p[1] % 4 {
                    0 => 0.0,
                    1 => 1.0,
                    2 => 0.5,
                    _ => f64::from(p[1]) / 255.0,
                };
                Spec::Drop { kinds, direction, probability }
            }
            2 => {
                let reason = "restart é€ ".chars().cycle().take(usize::from(p[2] % 160)).collect();
                Spec::Close { code: u16::from_le_bytes([p[0], p[1]]), reason }
            }
            _ => {
                let retry_after = match p[2] {
                    0 => None,
                    255 => Some(Duration::from_secs(u64::MAX)),
                    s => Some(Duration::from_secs(u64::from(s))),
                };
                Spec::Reject { status: u16::from_le_bytes([p[0], p[1]]), retry_after }
            }
        }
    }

    fn fault(&self) -> Option<Fault> {
        Some(match self.clone() {
            Spec::None => return None,
            Spec::Drop { kinds, direction, probability } => Fault::DropFrames { kinds, direction, probability },
            Spec::Close { code, reason } => Fault::CloseFrame { code, reason },
            Spec::Reject { status, retry_after } => Fault::RejectHandshake { status, retry_after },
        })
    }
}

fn run(data: &[u8]) {
    let mut input = Reader::new(data);
    let kind = input.u8();
    let start_at = usize::from(input.u8());
    let end_after = input.u8();
    let params = [input.u8(), input.u8(), input.u8()];
    let link = common::decode(&mut input, false);
    let spec = Spec::decode(kind, params);
    let hold = link.extra & 1 != 0;
    let halves = link.extra & 2 != 0;

    let now = Instant::now();
    let log: Log = Log::default();
    let mut flow = Flow::new();
    let mut reference = LinkObserver::new();
    let mut model = Model::new(spec.clone(), hold);
    if hold {
        flow.hold_request();
    }
    let n = link.pieces.len();
    let start = start_at.min(n);
    let end = (end_after != 0).then(|| start + usize::from(end_after));
    let mut out = [Vec::new(), Vec::new()];
    let mut consumed = [0usize; 2];
    let mut hits = BTreeSet::new();
    let mut not_applied = Vec::new();
    let mut started = false;

    for i in 0..=n {
        if i == start
            && let Some(fault) = spec.fault()
        {
            model.start(&reference);
            let inner = fault::build(&fault, wschaos::seeds::derive(7, &[0]));
            let action = flow.start(ID, Box::new(Recorded { inner, log: log.clone() }), now);
            assert_eq!(action, LinkAction::Nothing, "frame faults act on bytes");
            started = true;
        }
        if started && end == Some(i) {
            flow.end(ID);
            model.end();
        }
        drain(&mut flow, &mut out, now, halves);
        hits.extend(flow.take_hits());
        not_applied.extend(flow.take_not_applied());
        assert_eq!(flow.is_clear(), model.clear(), "is_clear, before piece {i}: {model:?}");
        if flow.should_close().is_some() || i == n {
            break;
        }
        let (way, range) = link.pieces[i].clone();
        assert!(flow.accepts(way), "the link reads {way:?}");
        let chunk = &link.stream(way)[range];
        let mut expected = Vec::new();
        reference.feed(way, chunk, &mut expected);
        let tokens = flow.observe(way, chunk).to_vec();
        assert_eq!(tokens, expected, "the flow's observer is the observer");
        if flow.is_clear() {
            out[way as usize].extend_from_slice(chunk);
        } else {
            flow.on_chunk(now, way, Bytes::copy_from_slice(chunk));
        }
        consumed[way as usize] += chunk.len();
        drain(&mut flow, &mut out, now, halves);
        hits.extend(flow.take_hits());
        not_applied.extend(flow.take_not_applied());
        model.chunk(way, chunk, &tokens, &reference, &log);
    }

    let input_of = |way: Way| &link.stream(way)[..consumed[way as usize]];

    // The brief's contract first, in its plainest form.
    if !started && !hold {
        for way in Way::BOTH {
            assert!(out[way as usize] == input_of(way), "{way:?}: with no fault the output is the input");
        }
    }
    for way in Way::BOTH {
        let extra = if way == Way::Downstream { GOODBYE_LIMIT } else { 0 };
        let (got, sent) = (&out[way as usize], input_of(way));
        assert!(got.len() <= sent.len() + extra, "{way:?}: {} bytes out of {} in", got.len(), sent.len());
        let forwarded = match (way, model.goodbye_at) {
            (Way::Downstream, Some(at)) => &got[..at.min(got.len())],
            _ => &got[..],
        };
        assert!(is_subsequence(forwarded, sent), "{way:?}: the output is not the input less some bytes");
    }

    // The model.
    let up = Way::Upstream as usize;
    assert!(out[up] == model.ways[up].out, "upstream: out {:?}\nexpected {:?}", out[up], model.ways[up].out);
    let down = Way::Downstream as usize;
    match (&model.goodbye_at, &spec) {
        (Some(at), Spec::Reject { status, retry_after }) => {
            assert!(out[down].len() >= *at && out[down][..*at] == model.ways[down].out[..], "downstream before the answer");
            let answer = String::from_utf8(out[down][*at..].to_vec()).expect("an HTTP answer");
            assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
            assert!(answer.ends_with("\r\n\r\n") && answer.len() <= GOODBYE_LIMIT, "{answer}");
            let retry = retry_after.map(|after| format!("Retry-After: {}\r\n", after.as_secs()));
            assert_eq!(retry.is_some_and(|line| answer.contains(&line)), retry_after.is_some(), "{answer}");
        }
        _ => assert!(
            out[down] == model.ways[down].out,
            "downstream: out {:?}\nexpected {:?}",
            out[down],
            model.ways[down].out
        ),
    }
    let log = log.lock().expect("log");
    assert_eq!(model.judged, log.len(), "every verdict was on a frame the stage should have judged: {log:?}");
    let expected_hits: BTreeSet<FaultId> = model.hit.then_some(ID).into_iter().collect();
    assert_eq!(hits, expected_hits, "hits");
    assert_eq!(not_applied, model.not_applied, "not applied");
}

fn drain(flow: &mut Flow, out: &mut [Vec<u8>; 2], now: Instant, halves: bool) {
    for way in Way::BOTH {
        while let Some(bytes) = flow.due(way, now).cloned() {
            let written = if halves { bytes.len().div_ceil(2) } else { bytes.len() };
            flow.consume(way, written);
            out[way as usize].extend_from_slice(&bytes[..written]);
        }
        assert!(flow.drained(way));
    }
}

fn is_subsequence(small: &[u8], big: &[u8]) -> bool {
    let mut big = big.iter();
    small.iter().all(|b| big.any(|c| c == b))
}

/// What one way of the model has let out and holds.
#[derive(Debug, Default)]
struct WayModel {
    out: Vec<u8>,
    /// Bytes held: the upgrade request, or a frame header whose fate waits on its end.
    held: Vec<u8>,
    /// Header bytes of the frame under way that went out unheld.
    eager: usize,
    /// The payload of the current frame vanishes.
    dropping: bool,
    /// The verdict on the fragmented data message under way.
    message: Option<FrameVerdict>,
}

/// The frame stage as documented in `src/proxy/framing.rs`, written from its documentation.
#[derive(Debug)]
struct Model {
    spec: Spec,
    ways: [WayModel; 2],
    /// The fault is among the flow's active faults.
    active: bool,
    /// The upgrade request is held until its head is complete.
    holding: bool,
    pending_close: bool,
    over: bool,
    goodbye_at: Option<usize>,
    judged: usize,
    hit: bool,
    not_applied: Vec<(FaultId, Stop)>,
}

impl Model {
    fn new(spec: Spec, holding: bool) -> Model {
        Model {
            spec,
            ways: Default::default(),
            active: false,
            holding,
            pending_close: false,
            over: false,
            goodbye_at: None,
            judged: 0,
            hit: false,
            not_applied: Vec::new(),
        }
    }

    /// Whether the active fault needs the observer on `way` (the frame stage filters it).
    fn filtering(&self, way: Way) -> bool {
        self.active
            && match &self.spec {
                Spec::Drop { direction, .. } => way.is_in(*direction),
                Spec::Reject { .. } => way == Way::Upstream,
                Spec::None | Spec::Close { .. } => false,
            }
    }

    fn needed(&self) -> Vec<Way> {
        Way::BOTH.into_iter().filter(|way| {
            match &self.spec {
                Spec::Drop { direction, .. } => way.is_in(*direction),
                Spec::Reject { .. } => *way == Way::Upstream,
                Spec::None | Spec::Close { .. } => false,
            }
        }).collect()
    }

    fn clear(&self) -> bool {
        !self.active
            && !self.holding
            && !self.pending_close
            && !self.over
            && self.ways.iter().all(|w| w.held.is_empty() && !w.dropping && w.message != Some(FrameVerdict::Drop))
    }

    fn say(&mut self, goodbye: Option<Vec<u8>>) {
        self.over = true;
        self.hit = true;
        let down = &mut self.ways[Way::Downstream as usize];
        self.goodbye_at = Some(down.out.len());
        if let Some(bytes) = goodbye {
            down.out.extend_from_slice(&bytes);
        }
    }

    fn check_applicable(&mut self, observer: &LinkObserver) {
        if !self.active || self.not_applied.iter().any(|(id, _)| *id == ID) {
            return;
        }
        let stops: Option<Vec<Stop>> = self
            .needed()
            .into_iter()
            .map(|way| match observer.standing(way) {
                Standing::Stopped(why) => Some(why),
                _ => None,
            })
            .collect();
        if let Some(why) = stops.unwrap_or_default().first() {
            self.not_applied.push((ID, *why));
        }
    }

    fn start(&mut self, observer: &LinkObserver) {
        match &self.spec {
            Spec::None => {}
            Spec::Drop { .. } => {
                self.active = true;
                self.check_applicable(observer);
            }
            Spec::Close { code, reason } => match observer.standing(Way::Downstream) {
                Standing::Handshake => {}
                Standing::Stopped(why) => self.not_applied.push((ID, why)),
                Standing::Frames { boundary: true } => {
                    let goodbye = close_frame(*code, reason);
                    self.say(Some(goodbye));
                }
                Standing::Frames { boundary: false } => self.pending_close = true,
            },
            Spec::Reject { .. } => {
                if observer.standing(Way::Upstream) == Standing::Handshake {
                    self.active = true;
                    self.holding = true;
                    self.check_applicable(observer);
                }
            }
        }
    }

    fn end(&mut self) {
        self.active = false;
    }

    fn chunk(&mut self, way: Way, chunk: &[u8], tokens: &[Token], observer: &LinkObserver, log: &Log) {
        if tokens.iter().any(|t| matches!(t, Token::Stopped { .. })) {
            self.check_applicable(observer);
        }
        if self.over {
            return;
        }
        let filtering = self.filtering(way);
        let w = way as usize;
        for token in tokens {
            match token {
                Token::Bytes { range, part } => {
                    let bytes = &chunk[range.clone()];
                    let stage = &mut self.ways[w];
                    match part {
                        Part::Head if way == Way::Upstream && self.holding => stage.held.extend_from_slice(bytes),
                        Part::Header
                            if filtering || !stage.held.is_empty() || stage.message == Some(FrameVerdict::Drop) =>
                        {
                            stage.held.extend_from_slice(bytes)
                        }
                        Part::Header => {
                            stage.out.extend_from_slice(bytes);
                            stage.eager += bytes.len();
                        }
                        Part::Payload if stage.dropping => {}
                        Part::Head | Part::Payload | Part::Opaque => stage.out.extend_from_slice(bytes),
                    }
                }
                Token::Head(_) if way == Way::Upstream && self.holding => {
                    self.holding = false;
                    let answers = self.active && matches!(self.spec, Spec::Reject { .. });
                    let stage = &mut self.ways[w];
                    if answers {
                        stage.held.clear();
                        self.say(None);
                        return;
                    }
                    let held = std::mem::take(&mut stage.held);
                    stage.out.extend(held);
                }
                Token::Head(_) => {}
                Token::Frame(frame) => {
                    let stage = &self.ways[w];
                    let verdict = if frame.continuation {
                        stage.message.unwrap_or(FrameVerdict::Keep)
                    } else if filtering && stage.held.len() == frame.header_len {
                        self.judge(way, frame, log)
                    } else {
                        FrameVerdict::Keep
                    };
                    let stage = &mut self.ways[w];
                    if matches!(frame.kind, FrameKind::Text | FrameKind::Binary) {
                        stage.message = (!frame.fin).then_some(verdict);
                    }
                    match verdict {
                        FrameVerdict::Keep => {
                            let held = std::mem::take(&mut stage.held);
                            stage.out.extend(held);
                        }
                        FrameVerdict::Drop => {
                            assert!(
                                stage.eager == 0,
                                "{way:?}: {frame:?} is dropped but {} bytes of its header already went out",
                                stage.eager
                            );
                            stage.held.clear();
                        }
                    }
                    stage.eager = 0;
                    stage.dropping = verdict == FrameVerdict::Drop;
                }
                Token::FrameEnd(_) => {
                    self.ways[w].dropping = false;
                    if way == Way::Downstream && self.pending_close {
                        self.pending_close = false;
                        let Spec::Close { code, reason } = &self.spec else { unreachable!() };
                        let goodbye = close_frame(*code, reason);
                        self.say(Some(goodbye));
                        return;
                    }
                }
                Token::Stopped { way: stopped, why } => {
                    let stage = &mut self.ways[*stopped as usize];
                    let held = std::mem::take(&mut stage.held);
                    stage.out.extend(held);
                    stage.eager = 0;
                    stage.dropping = false;
                    stage.message = None;
                    if *stopped == Way::Upstream {
                        self.holding = false;
                    }
                    if *stopped == Way::Downstream && self.pending_close {
                        self.pending_close = false;
                        self.not_applied.push((ID, *why));
                    }
                }
            }
        }
    }

    /// The next recorded verdict, which must be on this frame and fit the fault.
    fn judge(&mut self, way: Way, frame: &Frame, log: &Log) -> FrameVerdict {
        let log = log.lock().expect("log");
        let Some(&(logged_way, logged, verdict)) = log.get(self.judged) else {
            panic!("{way:?}: {frame:?} should have been judged; verdicts: {log:?}")
        };
        self.judged += 1;
        assert_eq!((logged_way, &logged), (way, frame), "judged in order");
        if let Spec::Drop { kinds, direction, probability } = &self.spec {
            let matches = way.is_in(*direction) && kinds.contains(&frame.kind);
            if !matches || *probability <= 0.0 {
                assert_eq!(verdict, FrameVerdict::Keep, "{frame:?} does not match {kinds:?} at p={probability}");
            } else if *probability >= 1.0 {
                assert_eq!(verdict, FrameVerdict::Drop, "{frame:?} matches {kinds:?} at p=1");
            }
        } else {
            assert_eq!(verdict, FrameVerdict::Keep);
        }
        if verdict == FrameVerdict::Drop {
            self.hit = true;
        }
        verdict
    }
}

/// A server's Close frame with `code` and `reason`, the reason cut to 123 bytes at a character
/// boundary (RFC 6455 §5.5: a control frame's payload is at most 125 bytes).
fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut frame = vec![0x88, 2 + end as u8];
    frame.extend_from_slice(&code.to_be_bytes());
    frame.extend_from_slice(&reason.as_bytes()[..end]);
    frame
}
