//! The frame stage through a link's real [`Flow`]: frames dropped whole at any split, messages
//! dropped with their continuations, faults that start or end mid-frame, upgrades answered,
//! Close frames at the next boundary, links that cannot be followed, and transparency.

use bytes::Bytes;
use tokio::time::Instant;

use crate::fault::FaultId;
use crate::fault::{LinkAction, build};
use crate::proxy::NotApplied;
use crate::proxy::flow::Flow;
use crate::scenario::{Direction, Fault, FrameKind};
use crate::seeds;
use crate::ws::Way;
use crate::ws::observer::Stop;
use crate::ws::observer::tests::{REQUEST, RESPONSE, frame};

const FAULT: FaultId = FaultId { plan: 0, occurrence: 0 };
const KEY: [u8; 4] = [9, 8, 7, 6];

fn drop_kinds(kinds: &[FrameKind], direction: Direction) -> Fault {
    Fault::DropFrames { kinds: kinds.to_vec(), direction, probability: 1.0 }
}

fn start(flow: &mut Flow, fault: &Fault) -> LinkAction {
    flow.start(FAULT, build(fault, seeds::derive(3, &[0])), Instant::now())
}

/// Feeds `chunks` of `way` as the link does (observe, then the copy path when the flow is clear,
/// else the flow) and returns what leaves that way.
fn pass(flow: &mut Flow, way: Way, chunks: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in chunks {
        flow.observe(way, chunk);
        if flow.is_clear() {
            out.extend_from_slice(chunk);
        } else {
            flow.on_chunk(Instant::now(), way, Bytes::copy_from_slice(chunk));
        }
        out.extend(drain(flow, way));
    }
    out
}

fn drain(flow: &mut Flow, way: Way) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = flow.due(way, Instant::now()).cloned() {
        flow.consume(way, bytes.len());
        out.extend_from_slice(&bytes);
    }
    out
}

/// A flow past its handshake on both ways.
fn open_flow() -> Flow {
    let mut flow = Flow::new();
    assert_eq!(pass(&mut flow, Way::Upstream, &[REQUEST]), REQUEST);
    assert_eq!(pass(&mut flow, Way::Downstream, &[RESPONSE]), RESPONSE);
    flow
}

fn server_frames() -> (Vec<u8>, Vec<u8>) {
    let keep = [
        frame(2, true, b"one", None, false),
        frame(1, false, b"frag", None, false),
        frame(0, true, b"ment", None, false),
        frame(2, true, &[5; 300], None, false),
        frame(9, true, b"ping", None, false),
    ];
    let pongs = [frame(10, true, b"p1", None, false), frame(10, true, b"", None, false)];
    let all = [&keep[0][..], &pongs[0], &keep[1], &keep[2], &pongs[1], &keep[3], &keep[4]].concat();
    (all, keep.concat())
}

#[test]
fn dropped_pongs_vanish_whole_wherever_the_stream_is_split() {
    let (all, without_pongs) = server_frames();
    for split in 0..=all.len() {
        let mut flow = open_flow();
        assert_eq!(
            start(&mut flow, &drop_kinds(&[FrameKind::Pong], Direction::Downstream)),
            LinkAction::Nothing
        );
        let out = pass(&mut flow, Way::Downstream, &[&all[..split], &all[split..]]);
        assert_eq!(out, without_pongs, "split at {split}");
    }
}

#[test]
fn a_dropped_message_takes_its_continuations_and_spares_the_control_frames_between() {
    let stream = [
        frame(1, false, b"frag", Some(KEY), false),
        frame(9, true, b"between", Some(KEY), false),
        frame(0, false, b"men", Some(KEY), false),
        frame(0, true, b"t", Some(KEY), false),
        frame(2, true, b"binary", Some(KEY), false),
    ];
    let mut flow = open_flow();
    start(&mut flow, &drop_kinds(&[FrameKind::Text], Direction::Both));
    let out = pass(&mut flow, Way::Upstream, &[&stream.concat()]);
    assert_eq!(out, [&stream[1][..], &stream[4]].concat());
    assert_eq!(flow.take_hits(), vec![FAULT]);
    let downstream = frame(1, true, b"down", None, false);
    assert!(pass(&mut flow, Way::Downstream, &[&downstream]).is_empty(), "both ways");
}

#[test]
fn with_nothing_to_drop_the_stage_is_byte_for_byte_transparent() {
    let (all, _) = server_frames();
    for split in (0..all.len()).step_by(3) {
        let mut flow = open_flow();
        start(&mut flow, &drop_kinds(&[FrameKind::Close], Direction::Downstream));
        assert!(!flow.is_clear(), "the stage is engaged");
        let out =
            pass(&mut flow, Way::Downstream, &[&all[..split], &all[split..split + 1], &all[split + 1..]]);
        assert_eq!(out, all, "split at {split}");
    }
}

#[test]
fn a_frame_already_started_when_the_fault_begins_is_kept() {
    let pong = frame(10, true, b"late", None, false);
    let mut flow = open_flow();
    let mut out = pass(&mut flow, Way::Downstream, &[&pong[..1]]);
    start(&mut flow, &drop_kinds(&[FrameKind::Pong], Direction::Downstream));
    out.extend(pass(&mut flow, Way::Downstream, &[&pong[1..], &pong]));
    assert_eq!(out, pong, "the first pong was under way and goes on; the second vanishes");
}

#[test]
fn a_fault_that_ends_mid_frame_still_drops_the_rest_of_it() {
    let big = frame(2, true, &[1; 1000], None, false);
    let next = frame(2, true, b"next", None, false);
    let mut flow = open_flow();
    start(&mut flow, &drop_kinds(&[FrameKind::Binary], Direction::Downstream));
    let mut out = pass(&mut flow, Way::Downstream, &[&big[..500]]);
    flow.end(FAULT);
    assert!(!flow.is_clear(), "half a dropped frame is still to come");
    out.extend(pass(&mut flow, Way::Downstream, &[&big[500..], &next]));
    assert_eq!(out, next);
    assert!(flow.is_clear());
}

#[test]
fn reject_handshake_answers_the_request_instead_of_forwarding_it() {
    let mut flow = Flow::new();
    let fault = Fault::RejectHandshake { status: 503, retry_after: Some(std::time::Duration::from_secs(5)) };
    start(&mut flow, &fault);
    let (a, b) = REQUEST.split_at(20);
    assert!(pass(&mut flow, Way::Upstream, &[a, b]).is_empty(), "the server never sees the request");
    let answer = drain(&mut flow, Way::Downstream);
    assert!(
        answer.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(String::from_utf8_lossy(&answer).contains("Retry-After: 5\r\n"));
    assert_eq!(flow.should_close(), Some(FAULT));
    assert_eq!(flow.take_hits(), vec![FAULT]);
}

#[test]
fn a_held_request_that_no_fault_answers_goes_on_whole() {
    let mut flow = Flow::new();
    flow.hold_request();
    let (a, b) = REQUEST.split_at(30);
    assert!(pass(&mut flow, Way::Upstream, &[a]).is_empty(), "held until complete");
    assert_eq!(pass(&mut flow, Way::Upstream, &[b]), REQUEST);
    assert!(flow.is_clear());
}

#[test]
fn close_frame_waits_for_the_frame_under_way_then_closes() {
    let first = frame(2, true, &[3; 200], None, false);
    let second = frame(2, true, b"never", None, false);
    let mut flow = open_flow();
    let mut out = pass(&mut flow, Way::Downstream, &[&first[..50]]);
    let fault = Fault::CloseFrame { code: 1012, reason: "restart".into() };
    assert_eq!(start(&mut flow, &fault), LinkAction::Nothing);
    assert_eq!(flow.should_close(), None);
    out.extend(pass(&mut flow, Way::Downstream, &[&[&first[50..], &second[..]].concat()]));
    assert_eq!(out, [&first[..], b"\x88\x09\x03\xf4restart"].concat());
    assert!(pass(&mut flow, Way::Upstream, &[&frame(2, true, b"late", Some(KEY), false)]).is_empty());
    assert_eq!(flow.should_close(), Some(FAULT));
}

#[test]
fn close_frame_between_frames_goes_out_at_once() {
    let mut flow = open_flow();
    start(&mut flow, &Fault::CloseFrame { code: 1013, reason: String::new() });
    assert_eq!(drain(&mut flow, Way::Downstream), b"\x88\x02\x03\xf5");
    assert_eq!(flow.should_close(), Some(FAULT));
}

#[test]
fn frame_faults_on_a_link_that_cannot_be_followed_are_not_applied() {
    let tls_hello = [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5];
    let mut flow = Flow::new();
    start(&mut flow, &drop_kinds(&[FrameKind::Ping], Direction::Upstream));
    assert_eq!(pass(&mut flow, Way::Upstream, &[&tls_hello]), tls_hello, "forwarded unchanged");
    assert_eq!(flow.take_not_applied(), vec![(FAULT, NotApplied::Unfollowed(Stop::Tls))]);

    let mut flow = Flow::new();
    pass(&mut flow, Way::Upstream, &[&tls_hello]);
    pass(&mut flow, Way::Downstream, &[b"\x16\x03\x01"]);
    start(&mut flow, &Fault::CloseFrame { code: 1012, reason: String::new() });
    assert_eq!(flow.take_not_applied(), vec![(FAULT, NotApplied::Unfollowed(Stop::Tls))]);
    assert_eq!(flow.should_close(), None, "the link is left alone");

    let mut flow = Flow::new();
    start(&mut flow, &drop_kinds(&[FrameKind::Pong], Direction::Both));
    pass(&mut flow, Way::Upstream, &[REQUEST]);
    assert!(flow.take_not_applied().is_empty(), "still applicable downstream");
}

#[test]
fn continuations_of_a_dropped_message_vanish_whole_after_the_fault_ends() {
    // Found by the frame_stage fuzz target (fuzz/regressions/frame_stage/): the continuation's
    // payload was dropped but its header went out, leaving the client a continuation with no
    // message.
    let mut flow = open_flow();
    start(&mut flow, &drop_kinds(&[FrameKind::Text], Direction::Downstream));
    let mut out = pass(&mut flow, Way::Downstream, &[&frame(1, false, b"", None, false)]);
    flow.end(FAULT);
    let after = frame(2, true, b"kept", None, false);
    out.extend(pass(&mut flow, Way::Downstream, &[&frame(0, true, b"gone", None, false), &after]));
    assert_eq!(out, after);
    assert!(flow.is_clear());
}

#[test]
fn a_close_waiting_for_a_boundary_that_never_comes_is_reported_not_applied() {
    // Also from the fuzz target: a Close pending mid-header, then the header proves invalid.
    let mut flow = open_flow();
    let mut out = pass(&mut flow, Way::Downstream, &[&[0x82]]);
    start(&mut flow, &Fault::CloseFrame { code: 1000, reason: String::new() });
    out.extend(pass(&mut flow, Way::Downstream, &[&[0x81, 0x00]]));
    assert_eq!(out, [0x82, 0x81, 0x00], "the bytes go on unchanged");
    assert_eq!(flow.take_not_applied(), vec![(FAULT, NotApplied::Unfollowed(Stop::MaskMismatch))]);
    assert_eq!(flow.should_close(), None);
    assert!(flow.is_clear(), "back on the copy path");
}

/// A flow past a handshake whose 101 accepted permessage-deflate with `parameters`.
fn deflate_flow(parameters: &str) -> Flow {
    let mut flow = Flow::new();
    assert_eq!(pass(&mut flow, Way::Upstream, &[REQUEST]), REQUEST);
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Extensions: permessage-deflate{parameters}\r\n\r\n"
    );
    assert_eq!(pass(&mut flow, Way::Downstream, &[response.as_bytes()]), response.as_bytes());
    flow
}

/// `frame` with RSV1 set: the first frame of a compressed message.
fn compressed(mut frame: Vec<u8>) -> Vec<u8> {
    frame[0] |= 0x40;
    frame
}

#[test]
fn compressed_messages_under_context_takeover_are_kept_and_the_fault_says_why() {
    let mut flow = deflate_flow("; client_max_window_bits=15");
    start(&mut flow, &drop_kinds(&[FrameKind::Binary, FrameKind::Ping], Direction::Downstream));
    let zipped = compressed(frame(2, true, b"zip", None, false));
    let fragmented =
        [compressed(frame(2, false, b"frag", None, false)), frame(0, true, b"ment", None, false)].concat();
    let plain = frame(2, true, b"raw", None, false);
    let ping = frame(9, true, b"p", None, false);
    let stream = [&zipped[..], &ping, &fragmented, &plain].concat();
    for split in 0..=stream.len() {
        let mut flow = deflate_flow("");
        start(&mut flow, &drop_kinds(&[FrameKind::Binary, FrameKind::Ping], Direction::Downstream));
        let (a, b) = stream.split_at(split);
        assert_eq!(
            pass(&mut flow, Way::Downstream, &[a, b]),
            [&zipped[..], &fragmented].concat(),
            "split at {split}: compressed messages go on whole; the ping and the uncompressed message \
             (which never entered the compression context) are dropped"
        );
        assert_eq!(flow.take_not_applied(), vec![(FAULT, NotApplied::Compressed(Way::Downstream))]);
        assert_eq!(flow.take_hits(), vec![FAULT], "control frames are still dropped");
    }
    let up = compressed(frame(1, true, b"up", Some(KEY), false));
    assert_eq!(pass(&mut flow, Way::Upstream, &[&up]), up);
    assert_eq!(flow.take_not_applied(), vec![], "the fault covers the downstream only");
}

#[test]
fn without_context_takeover_in_a_direction_its_compressed_messages_may_vanish() {
    let mut flow = deflate_flow("; server_no_context_takeover");
    start(&mut flow, &drop_kinds(&[FrameKind::Text], Direction::Both));
    let down = compressed(frame(1, true, b"alone", None, false));
    assert_eq!(pass(&mut flow, Way::Downstream, &[&down]), b"", "each server message stands alone");
    let up = compressed(frame(1, true, b"chained", Some(KEY), false));
    assert_eq!(pass(&mut flow, Way::Upstream, &[&up]), up, "the client keeps its context");
    assert_eq!(flow.take_not_applied(), vec![(FAULT, NotApplied::Compressed(Way::Upstream))]);
    assert_eq!(flow.take_hits(), vec![FAULT]);
}

#[test]
fn without_permessage_deflate_messages_are_dropped_as_before() {
    let mut flow = open_flow();
    start(&mut flow, &drop_kinds(&[FrameKind::Text], Direction::Downstream));
    assert_eq!(pass(&mut flow, Way::Downstream, &[&frame(1, true, b"text", None, false)]), b"");
    assert_eq!(flow.take_not_applied(), vec![]);
}
