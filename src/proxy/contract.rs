//! The shared contract test: every fault kind, driven through a link's real [`Flow`] over a
//! simulated clock, must keep the promises written on [`LinkFault`](crate::fault::LinkFault).
//! Byte faults run over opaque bytes; frame faults also run over a WebSocket stream, where they
//! must keep the framing valid.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::fault::{Admission, FaultId, LinkAction, build};
use crate::proxy::flow::Flow;
use crate::scenario::{Direction, Fault, FaultKind};
use crate::seeds;
use crate::units::Jittered;
use crate::ws::observer::tests::{REQUEST, RESPONSE, frame};
use crate::ws::{FrameKind, LinkObserver, Stop, Token, Way};

const ID: FaultId = FaultId { plan: 0, occurrence: 0 };
const MS: Duration = Duration::from_millis(1);

/// A fault of `kind` with typical parameters. The match is exhaustive, so a new kind does not
/// compile until it joins the contract.
fn example(kind: FaultKind) -> Fault {
    let both = Direction::Both;
    match kind {
        FaultKind::Reset => Fault::Reset,
        FaultKind::Close => Fault::Close,
        FaultKind::Stall => Fault::Stall { direction: both },
        FaultKind::Blackhole => Fault::Blackhole { direction: both },
        FaultKind::Latency => Fault::Latency {
            delay: 250 * MS,
            jitter: 50 * MS,
            spread: crate::units::Spread::Uniform,
            direction: both,
        },
        FaultKind::Bandwidth => Fault::Bandwidth { bytes_per_second: 10_240.0, direction: both },
        FaultKind::Slice => Fault::Slice { size_bytes: 100, delay: 10 * MS, direction: both },
        FaultKind::Limit => Fault::Limit { bytes: 1000, direction: both },
        FaultKind::Refuse => Fault::Refuse,
        FaultKind::AcceptHang => Fault::AcceptHang,
        FaultKind::HandshakeDelay => {
            Fault::HandshakeDelay { delay: Jittered { base: 3000 * MS, jitter: 1000 * MS } }
        }
        FaultKind::DropFrames => {
            Fault::DropFrames { kinds: vec![FrameKind::Ping], direction: both, probability: 1.0 }
        }
        FaultKind::CloseFrame => Fault::CloseFrame { code: 1012, reason: "restart".to_string() },
        FaultKind::RejectHandshake => Fault::RejectHandshake { status: 503, retry_after: None },
        FaultKind::RevokeCredentials => Fault::RevokeCredentials { rotate_to: None },
        FaultKind::TlsBadCertificate => {
            Fault::TlsBadCertificate { kind: crate::tls::BadCertificate::Expired }
        }
    }
}

/// Every fault kind this version plays, with typical parameters.
fn every_fault() -> Vec<Fault> {
    FaultKind::ALL.into_iter().map(example).collect()
}

/// What came out of a link driven under one fault.
struct Run {
    action: LinkAction,
    /// Per way: (time written, bytes).
    out: [Vec<(Instant, Bytes)>; 2],
    /// Per way: (arrival, bytes) of what went in.
    sent: [Vec<(Instant, Bytes)>; 2],
    closed: bool,
}

/// Chunks of 300 bytes every 50 ms on both ways for 1 s, and a last one at 10 s when every
/// fault's effect is long gone; the fault is active from 0 to 500 ms.
fn drive(fault: &Fault) -> Run {
    let t0 = Instant::now();
    drive_with(fault, t0, &[], opaque_arrivals(t0))
}

/// 300-byte chunks every 50 ms on both ways for 1 s, and a last one at 10 s.
fn opaque_arrivals(t0: Instant) -> Vec<(Instant, Way, Bytes)> {
    (0..20u8)
        .flat_map(|k| {
            Way::BOTH.map(|way| (t0 + 50 * MS * u32::from(k), way, Bytes::from(vec![k * 2 + way as u8; 300])))
        })
        .chain(Way::BOTH.map(|way| (t0 + Duration::from_secs(10), way, Bytes::from_static(b"after"))))
        .collect()
}

/// Drives `fault` (active from `t0` to 500 ms later) over `arrivals`, the way a link does: each
/// chunk is shown to the observer, then takes the copy path when the flow is clear, else goes
/// through the flow. `before` passes at `t0` before the fault starts.
fn drive_with(
    fault: &Fault,
    t0: Instant,
    before: &[(Way, &[u8])],
    mut arrivals: Vec<(Instant, Way, Bytes)>,
) -> Run {
    let mut flow = Flow::new();
    let mut run =
        Run { action: LinkAction::Nothing, out: [vec![], vec![]], sent: [vec![], vec![]], closed: false };
    for (way, bytes) in before {
        flow.observe(*way, bytes);
        assert!(flow.is_clear(), "nothing holds bytes before the fault");
        run.sent[*way as usize].push((t0, Bytes::copy_from_slice(bytes)));
        run.out[*way as usize].push((t0, Bytes::copy_from_slice(bytes)));
    }
    run.action = flow.start(ID, build(fault, seeds::derive(7, &[1])), t0);
    if run.action != LinkAction::Nothing {
        return run;
    }
    arrivals.reverse();
    let end_at = t0 + 500 * MS;
    let mut ended = false;
    let mut now = t0;
    let mut waiting: [Vec<(Instant, Bytes)>; 2] = [vec![], vec![]];
    loop {
        if !ended && now >= end_at {
            flow.end(ID);
            ended = true;
        }
        while arrivals.last().is_some_and(|(at, _, _)| *at <= now) {
            let (at, way, bytes) = arrivals.pop().unwrap();
            waiting[way as usize].push((at, bytes));
        }
        for way in Way::BOTH {
            // A held way reads nothing: its chunks wait at the sender, in order.
            while flow.accepts(way) && !waiting[way as usize].is_empty() {
                let (at, bytes) = waiting[way as usize].remove(0);
                run.sent[way as usize].push((at, bytes.clone()));
                flow.observe(way, &bytes);
                if flow.is_clear() {
                    run.out[way as usize].push((now, bytes));
                } else {
                    flow.on_chunk(now, way, bytes);
                }
            }
            while let Some(bytes) = flow.due(way, now).cloned() {
                flow.consume(way, bytes.len());
                run.out[way as usize].push((now, bytes));
            }
        }
        if flow.should_close().is_some() {
            run.closed = true;
            return run;
        }
        let next = [arrivals.last().map(|(at, _, _)| *at), (!ended).then_some(end_at)]
            .into_iter()
            .chain(Way::BOTH.map(|way| flow.next_deadline(way)))
            .flatten()
            .min();
        match next {
            Some(at) => {
                assert!(at >= now, "{}: a deadline in the past", fault.name());
                assert!(
                    at <= t0 + Duration::from_secs(60),
                    "{}: a wait longer than any parameter",
                    fault.name()
                );
                now = at;
            }
            None if waiting.iter().all(Vec::is_empty) => return run,
            None => panic!("{}: chunks wait with nothing left to release them", fault.name()),
        }
    }
}

fn concat(pieces: &[(Instant, Bytes)]) -> Vec<u8> {
    pieces.iter().flat_map(|(_, bytes)| bytes.iter().copied()).collect()
}

#[test]
fn every_fault_keeps_the_contract() {
    for fault in every_fault() {
        let name = fault.name();
        let run = drive(&fault);
        match &fault {
            Fault::Reset => assert_eq!(run.action, LinkAction::Reset, "reset acts at once, idle or not"),
            Fault::Close => assert_eq!(run.action, LinkAction::Close),
            _ => assert_eq!(run.action, LinkAction::Nothing, "{name}: only reset and close act at start"),
        }
        if run.action != LinkAction::Nothing {
            continue;
        }
        for way in Way::BOTH {
            let (sent, out) = (&run.sent[way as usize], &run.out[way as usize]);
            let (sent_bytes, out_bytes) = (concat(sent), concat(out));
            // 1. Order, and no loss unless that is the fault's purpose.
            match &fault {
                Fault::Blackhole { .. } => {
                    assert!(out_bytes.is_empty(), "{name}: a swallowing link stays dead")
                }
                Fault::Limit { bytes, .. } => {
                    assert!(run.closed, "{name}: closes after the limit");
                    assert!(sent_bytes.starts_with(&out_bytes), "{name}: delivers a prefix");
                    assert!(out_bytes.len() as u64 <= *bytes);
                }
                _ => assert_eq!(out_bytes, sent_bytes, "{name} {way:?}: every byte, in order"),
            }
            // 2. Waits are deadlines, in order.
            assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "{name}: writes go out in time order");
            // 3. After the end, chunks pass unchanged (unless the link is gone).
            if !matches!(fault, Fault::Blackhole { .. } | Fault::Limit { .. }) {
                let last_in = sent.last().expect("chunks were sent").0;
                let last_out = out.last().expect("chunks came out").0;
                assert_eq!(last_out, last_in, "{name}: normal flow after the fault ends");
            }
        }
        let admission = match &fault {
            Fault::Refuse => Admission::Refuse,
            Fault::AcceptHang => Admission::Hang,
            Fault::TlsBadCertificate { kind } => Admission::Impersonate(*kind),
            _ => Admission::Accept,
        };
        assert_eq!(build(&fault, seeds::derive(1, &[])).admit(), admission, "{name}");
    }
}

#[test]
fn stall_releases_held_bytes_when_it_ends() {
    let run = drive(&Fault::Stall { direction: Direction::Upstream });
    let t0 = run.sent[1][0].0;
    assert_eq!(run.out[1][0].0, t0, "the other way flows");
    assert_eq!(run.out[0][0].0, t0 + 500 * MS, "held bytes leave when the stall ends");
    assert_eq!(
        run.out[0].iter().filter(|(at, _)| *at == t0 + 500 * MS).count(),
        11,
        "all of them at once, in order"
    );
}

#[test]
fn latency_does_not_accumulate_under_sustained_traffic() {
    let run = drive(&Fault::Latency {
        delay: 250 * MS,
        jitter: Duration::ZERO,
        spread: crate::units::Spread::Uniform,
        direction: Direction::Both,
    });
    for way in Way::BOTH {
        let (sent, out) = (&run.sent[way as usize], &run.out[way as usize]);
        for ((arrived, _), (left, _)) in sent.iter().zip(out).take(10) {
            assert_eq!(*left - *arrived, 250 * MS, "every chunk delayed by exactly the delay");
        }
    }
}

#[test]
fn bandwidth_spreads_bytes_at_the_rate() {
    let run = drive(&Fault::Bandwidth { bytes_per_second: 6000.0, direction: Direction::Upstream });
    let t0 = run.sent[0][0].0;
    // 10 chunks of 300 B arrive in the first 500 ms at 6000 B/s: 3000 B take exactly 0.5 s.
    let by = |at: Duration| -> usize {
        run.out[0].iter().filter(|(when, _)| *when <= t0 + at).map(|(_, bytes)| bytes.len()).sum()
    };
    // Chunk k (300 B, arriving at 50k ms) finishes crossing at 50(k+1) ms: exactly the rate.
    assert_eq!(by(499 * MS), 2700);
    assert_eq!(by(250 * MS), 1500);
    // At 500 ms the last throttled chunk is through and the fault ends: the next one passes.
    assert_eq!(by(500 * MS), 3300);
}

/// The frames of a WebSocket link after its upgrade: every 50 ms for 1 s one frame per way (a
/// binary frame, every third a ping instead, every fifth a pong), masked upstream as a client
/// must, and a last binary frame at 10 s.
fn websocket_frames(t0: Instant) -> Vec<(Instant, Way, Bytes)> {
    let key = |way: Way| (way == Way::Upstream).then_some([1, 2, 3, 4]);
    let mut arrivals = Vec::new();
    for k in 1..=20u32 {
        for way in Way::BOTH {
            let opcode = match k {
                _ if k % 3 == 0 => 0x9,
                _ if k % 5 == 0 => 0xA,
                _ => 0x2,
            };
            let payload = vec![k as u8; if opcode == 0x2 { 300 } else { 4 }];
            arrivals.push((
                t0 + 50 * MS * k,
                way,
                Bytes::from(frame(opcode, true, &payload, key(way), false)),
            ));
        }
    }
    for way in Way::BOTH {
        arrivals.push((
            t0 + Duration::from_secs(10),
            way,
            Bytes::from(frame(0x2, true, b"after", key(way), false)),
        ));
    }
    arrivals
}

/// The frames (kind and whole bytes) of one way's stream after its head, and whether the
/// observer followed it to the end without finding broken framing.
fn frames_of(way: Way, head: &[u8], stream: &[u8]) -> (Vec<(FrameKind, Vec<u8>)>, Option<Stop>) {
    let mut observer = LinkObserver::new();
    let mut tokens = Vec::new();
    if way == Way::Downstream {
        observer.feed(Way::Upstream, REQUEST, &mut tokens);
    }
    tokens.clear();
    observer.feed(way, stream, &mut tokens);
    let body = &stream[head.len().min(stream.len())..];
    let (mut frames, mut at, mut stop) = (Vec::new(), 0, None);
    for token in &tokens {
        match token {
            Token::Frame(frame) => {
                let len = frame.header_len + frame.payload_len as usize;
                frames.push((frame.kind, body[at..(at + len).min(body.len())].to_vec()));
                at += len;
            }
            Token::Stopped { why, .. } => stop = Some(*why),
            _ => {}
        }
    }
    (frames, stop)
}

#[test]
fn frame_faults_keep_websocket_framing_valid() {
    let frame_kinds = FaultKind::ALL.into_iter().filter(|kind| {
        matches!(kind, FaultKind::DropFrames | FaultKind::CloseFrame | FaultKind::RejectHandshake)
    });
    for kind in frame_kinds {
        let fault = example(kind);
        let t0 = Instant::now();
        let heads = [(Way::Upstream, REQUEST), (Way::Downstream, RESPONSE)];
        // A handshake fault starts before the upgrade; the others on an open link.
        let run = if kind.acts_on_new_connections() {
            let mut arrivals = websocket_frames(t0);
            arrivals.splice(0..0, heads.map(|(way, head)| (t0, way, Bytes::from_static(head))));
            drive_with(&fault, t0, &[], arrivals)
        } else {
            drive_with(&fault, t0, &heads, websocket_frames(t0))
        };
        for way in Way::BOTH {
            let head = if way == Way::Upstream { REQUEST } else { RESPONSE };
            let (sent, out) = (concat(&run.sent[way as usize]), concat(&run.out[way as usize]));
            let (sent_frames, _) = frames_of(way, head, &sent);
            if kind == FaultKind::RejectHandshake {
                // The request never reaches the server; the client gets the answer, then the end.
                match way {
                    Way::Upstream => assert!(out.is_empty(), "{kind:?}: the request is held back"),
                    Way::Downstream => {
                        assert!(
                            out.starts_with(b"HTTP/1.1 503 "),
                            "{kind:?}: {:?}",
                            String::from_utf8_lossy(&out)
                        );
                        assert!(
                            !out.windows(4).any(|w| w == b"\x82\x7e\x01\x2c"),
                            "no frame after the answer"
                        );
                    }
                }
                assert!(run.closed, "{kind:?}: the link closes after answering");
                continue;
            }
            assert!(out.starts_with(head), "{kind:?} {way:?}: the handshake passes");
            let (out_frames, stop) = frames_of(way, head, &out);
            assert_eq!(stop, None, "{kind:?} {way:?}: what leaves is valid framing");
            // Whole frames, in order: what leaves is what came, with some frames removed and,
            // for close_frame, a Close frame added downstream.
            let mut remaining = sent_frames.iter();
            for (frame_kind, bytes) in &out_frames {
                if kind == FaultKind::CloseFrame && *frame_kind == FrameKind::Close {
                    assert_eq!(way, Way::Downstream, "the Close frame goes to the client");
                    assert_eq!(&bytes[2..4], &1012u16.to_be_bytes(), "with the fault's code");
                    continue;
                }
                assert!(
                    remaining.any(|(_, sent)| sent == bytes),
                    "{kind:?} {way:?}: a frame that left was not sent, or left out of order"
                );
            }
            match kind {
                FaultKind::DropFrames => {
                    let pings_kept = out_frames.iter().filter(|(k, _)| *k == FrameKind::Ping).count();
                    let data_kept = out_frames.iter().filter(|(k, _)| *k == FrameKind::Binary).count();
                    let data_sent = sent_frames.iter().filter(|(k, _)| *k == FrameKind::Binary).count();
                    // Pings at 150, 300 and 450 ms fall inside the fault; 600 … 900 ms after it.
                    assert_eq!(pings_kept, 3, "{way:?}: pings during the fault vanish, later ones pass");
                    assert_eq!(data_kept, data_sent, "{way:?}: data frames are not the fault's kind");
                }
                FaultKind::CloseFrame => {
                    assert!(run.closed, "the link closes after the Close frame");
                    let closes = out_frames.iter().filter(|(k, _)| *k == FrameKind::Close).count();
                    assert_eq!(
                        closes,
                        usize::from(way == Way::Downstream),
                        "{way:?}: one Close, to the client"
                    );
                }
                _ => unreachable!("only frame faults are driven here"),
            }
        }
    }
}
