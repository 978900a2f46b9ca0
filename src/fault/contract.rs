//! The shared contract test: every fault kind, driven through a link's real [`Flow`] over a
//! simulated clock, must keep the promises written on [`LinkFault`](super::LinkFault).

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::{Admission, LinkAction, Way, build};
use crate::proxy::FaultId;
use crate::proxy::flow::Flow;
use crate::scenario::values::Jittered;
use crate::scenario::{Direction, Fault};
use crate::seeds;

const ID: FaultId = FaultId { plan: 0, occurrence: 0 };
const MS: Duration = Duration::from_millis(1);

/// Every fault kind this version plays, with typical parameters.
fn every_fault() -> Vec<Fault> {
    let both = Direction::Both;
    vec![
        Fault::Reset,
        Fault::Close,
        Fault::Stall { direction: both },
        Fault::Blackhole { direction: both },
        Fault::Latency { delay: 250 * MS, jitter: 50 * MS, direction: both },
        Fault::Bandwidth { bytes_per_second: 10_240.0, direction: both },
        Fault::Slice { size_bytes: 100, delay: 10 * MS, direction: both },
        Fault::Limit { bytes: 1000, direction: both },
        Fault::Refuse,
        Fault::AcceptHang,
        Fault::HandshakeDelay { delay: Jittered { base: 3000 * MS, jitter: 1000 * MS } },
    ]
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
    let mut flow = Flow::new();
    let action = flow.start(ID, build(fault, seeds::derive(7, &[1])), t0);
    let acts_at_once = action != LinkAction::Nothing;
    let mut run = Run { action, out: [vec![], vec![]], sent: [vec![], vec![]], closed: false };
    if acts_at_once {
        return run;
    }
    let mut arrivals: Vec<(Instant, Way, Bytes)> = (0..20u8)
        .flat_map(|k| {
            Way::BOTH.map(|way| (t0 + 50 * MS * u32::from(k), way, Bytes::from(vec![k * 2 + way as u8; 300])))
        })
        .chain(Way::BOTH.map(|way| (t0 + Duration::from_secs(10), way, Bytes::from_static(b"after"))))
        .collect();
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
                flow.on_chunk(now, way, bytes);
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
        match &fault {
            Fault::Refuse => {
                assert_eq!(build(&fault, seeds::derive(1, &[])).admit(), Admission::Refuse)
            }
            Fault::AcceptHang => {
                assert_eq!(build(&fault, seeds::derive(1, &[])).admit(), Admission::Hang)
            }
            _ => {
                assert_eq!(build(&fault, seeds::derive(1, &[])).admit(), Admission::Accept, "{name}")
            }
        }
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
    let run = drive(&Fault::Latency { delay: 250 * MS, jitter: Duration::ZERO, direction: Direction::Both });
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
