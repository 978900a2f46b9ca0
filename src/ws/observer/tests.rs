//! The observer over hand-built streams: fragmentation, interleaved control frames, 64-bit
//! lengths, masking on each side, closes mid-stream, broken framing, and splits at every byte.

use proptest::prelude::*;

use super::*;
use crate::ws::FrameKind;

pub(crate) const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nx-wschaos-client: 3\r\n\r\n";
pub(crate) const RESPONSE: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

/// One frame on the wire: `opcode`, FIN, payload, and a mask key for client frames. `wide`
/// forces the 64-bit length form.
pub(crate) fn frame(opcode: u8, fin: bool, payload: &[u8], mask: Option<[u8; 4]>, wide: bool) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if wide || len > 0xffff {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    } else if len > 125 {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | len as u8);
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, byte)| byte ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// What an observer saw, with byte ranges merged by part across inputs, so that the same
/// stream fed in different pieces gives the same trace.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Traced {
    Bytes(Part, Vec<u8>),
    Token(Token),
}

pub(crate) fn trace(observer: &mut LinkObserver, way: Way, stream: &[u8], splits: &[usize]) -> Vec<Traced> {
    let mut seen: Vec<Traced> = Vec::new();
    let mut cuts: Vec<usize> = splits.iter().copied().filter(|&s| s <= stream.len()).collect();
    cuts.push(0);
    cuts.push(stream.len());
    cuts.sort_unstable();
    cuts.dedup();
    for pair in cuts.windows(2) {
        let input = &stream[pair[0]..pair[1]];
        let mut tokens = Vec::new();
        observer.feed(way, input, &mut tokens);
        let mut covered = 0;
        for token in tokens {
            match token {
                Token::Bytes { range, part } => {
                    assert_eq!(range.start, covered, "ranges cover the input in order");
                    assert!(range.end > range.start, "no empty ranges");
                    covered = range.end;
                    match seen.last_mut() {
                        Some(Traced::Bytes(last, bytes)) if *last == part => {
                            bytes.extend_from_slice(&input[range])
                        }
                        _ => seen.push(Traced::Bytes(part, input[range].to_vec())),
                    }
                }
                other => seen.push(Traced::Token(other)),
            }
        }
        assert_eq!(covered, input.len(), "ranges cover the whole input");
    }
    seen
}

fn frames_of(seen: &[Traced]) -> Vec<Frame> {
    seen.iter().filter_map(|s| if let Traced::Token(Token::Frame(f)) = s { Some(*f) } else { None }).collect()
}

fn ends_of(seen: &[Traced]) -> Vec<FrameEnd> {
    seen.iter()
        .filter_map(|s| if let Traced::Token(Token::FrameEnd(e)) = s { Some(*e) } else { None })
        .collect()
}

const KEY: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// A client stream after its request: a text message in three fragments with a ping between
/// the first two, a 70,000-byte binary message (64-bit length), a small binary in 64-bit form,
/// a pong, a close with 1001, and a text frame after the close.
fn client_stream() -> Vec<u8> {
    let big = vec![7u8; 70_000];
    [
        REQUEST.to_vec(),
        frame(1, false, b"hel", Some(KEY), false),
        frame(9, true, b"are you there", Some(KEY), false),
        frame(0, false, b"lo ", Some(KEY), false),
        frame(0, true, b"world", Some(KEY), false),
        frame(2, true, &big, Some(KEY), false),
        frame(2, true, b"wide", Some(KEY), true),
        frame(10, true, b"", Some(KEY), false),
        frame(8, true, &[0x03, 0xe9, b'b', b'y', b'e'], Some(KEY), false),
        frame(1, true, b"after", Some(KEY), false),
    ]
    .concat()
}

#[test]
fn a_client_stream_is_read_frame_by_frame() {
    let stream = client_stream();
    let seen = trace(&mut LinkObserver::new(), Way::Upstream, &stream, &[]);
    assert_eq!(seen[0], Traced::Bytes(Part::Head, REQUEST.to_vec()));
    assert_eq!(seen[1], Traced::Token(Token::Head(Head::Request { client: Some(3), upgrade: true })));
    let frames = frames_of(&seen);
    let shape: Vec<(FrameKind, bool, bool, u64)> =
        frames.iter().map(|f| (f.kind, f.continuation, f.fin, f.payload_len)).collect();
    assert_eq!(
        shape,
        vec![
            (FrameKind::Text, false, false, 3),
            (FrameKind::Ping, false, true, 13),
            (FrameKind::Text, true, false, 3),
            (FrameKind::Text, true, true, 5),
            (FrameKind::Binary, false, true, 70_000),
            (FrameKind::Binary, false, true, 4),
            (FrameKind::Pong, false, true, 0),
            (FrameKind::Close, false, true, 5),
            (FrameKind::Text, false, true, 5),
        ]
    );
    assert!(frames.iter().all(|f| f.mask == Some(KEY)), "client frames carry their key");
    assert_eq!(frames[4].header_len, 2 + 8 + 4, "64-bit length");
    assert_eq!(frames[5].header_len, 2 + 8 + 4, "64-bit form of a short length");
    let closes: Vec<Option<u16>> =
        ends_of(&seen).iter().filter(|e| e.kind == FrameKind::Close).map(|e| e.close_code).collect();
    assert_eq!(closes, vec![Some(1001)], "the close code is unmasked");
    assert_eq!(ends_of(&seen).len(), frames.len(), "every frame ends, the empty pong too");
    assert!(!seen.iter().any(|s| matches!(s, Traced::Token(Token::Stopped { .. }))));
}

#[test]
fn a_server_stream_is_read_unmasked_after_the_101() {
    let stream = [
        RESPONSE.to_vec(),
        frame(2, true, b"echo", None, false),
        frame(9, true, b"", None, false),
        frame(8, true, &[0x03, 0xf4], None, false),
    ]
    .concat();
    let seen = trace(&mut LinkObserver::new(), Way::Downstream, &stream, &[]);
    assert_eq!(
        seen[1],
        Traced::Token(Token::Head(Head::Response {
            status: 101,
            retry_after: None,
            extensions: Default::default(),
        }))
    );
    let kinds: Vec<FrameKind> = frames_of(&seen).iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FrameKind::Binary, FrameKind::Ping, FrameKind::Close]);
    assert_eq!(ends_of(&seen)[2].close_code, Some(1012));
}

#[test]
fn a_refused_upgrade_stops_both_ways() {
    let mut observer = LinkObserver::new();
    let mut tokens = Vec::new();
    observer.feed(Way::Upstream, REQUEST, &mut tokens);
    observer.feed(Way::Downstream, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", &mut tokens);
    let stops: Vec<(Way, Stop)> = tokens
        .iter()
        .filter_map(|t| if let Token::Stopped { way, why } = t { Some((*way, *why)) } else { None })
        .collect();
    assert_eq!(
        stops,
        vec![(Way::Downstream, Stop::NotUpgraded(401)), (Way::Upstream, Stop::NotUpgraded(401))]
    );
    assert_eq!(observer.standing(Way::Upstream), Standing::Stopped(Stop::NotUpgraded(401)));
}

#[test]
fn broken_framing_stops_the_way_and_the_rest_is_opaque() {
    let cases: Vec<(Way, Vec<u8>, Stop)> = vec![
        (Way::Downstream, vec![0x83, 0x00], Stop::ReservedOpcode(3)),
        (Way::Downstream, vec![0x82, 0x81, 1, 2, 3, 4, 0], Stop::MaskMismatch),
        (Way::Upstream, vec![0x82, 0x01, 0], Stop::MaskMismatch),
        (Way::Downstream, vec![0x09, 0x00], Stop::BadControlFrame),
        (Way::Downstream, vec![0x89, 126, 0, 200], Stop::BadControlFrame),
        (Way::Downstream, vec![0x80, 0x00], Stop::UnexpectedContinuation),
        (
            Way::Downstream,
            [frame(1, false, b"a", None, false), frame(2, true, b"b", None, false)].concat(),
            Stop::UnfinishedMessage,
        ),
        (Way::Downstream, vec![0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0], Stop::LengthTooLarge),
    ];
    for (way, frames, why) in cases {
        let head = if way == Way::Upstream { REQUEST } else { RESPONSE };
        let stream = [head, &frames[..], b"tail"].concat();
        let seen = trace(&mut LinkObserver::new(), way, &stream, &[]);
        let stop =
            seen.iter().position(|s| matches!(s, Traced::Token(Token::Stopped { .. }))).expect("stops");
        assert_eq!(seen[stop], Traced::Token(Token::Stopped { way, why }), "{why}");
        match &seen[stop + 1..] {
            [Traced::Bytes(Part::Opaque, rest)] => assert!(rest.ends_with(b"tail"), "{why}"),
            other => panic!("{why}: after the stop {other:?}"),
        }
    }
}

#[test]
fn a_frame_header_split_anywhere_holds_at_most_its_own_bytes() {
    let stream = [RESPONSE.to_vec(), frame(2, true, &[1; 300], None, false)].concat();
    for split in RESPONSE.len()..RESPONSE.len() + 4 {
        let mut observer = LinkObserver::new();
        let mut tokens = Vec::new();
        observer.feed(Way::Downstream, &stream[..split], &mut tokens);
        let boundary = split == RESPONSE.len();
        assert_eq!(observer.standing(Way::Downstream), Standing::Frames { boundary });
    }
}

/// A valid server stream of many small and large frames, for the split tests.
fn mixed_server_stream() -> Vec<u8> {
    let mut stream = RESPONSE.to_vec();
    for k in 0..20u8 {
        stream.extend(frame(2, true, &vec![k; usize::from(k) * 37], None, k % 5 == 0));
        if k % 3 == 0 {
            stream.extend(frame(9, true, &[k], None, false));
            stream.extend(frame(1, false, b"frag", None, false));
            stream.extend(frame(10, true, b"", None, false));
            stream.extend(frame(0, true, b"ment", None, false));
        }
    }
    stream.extend(frame(8, true, &[0x03, 0xe8], None, false));
    stream
}

#[test]
fn every_single_split_parses_like_the_whole_stream() {
    for (way, stream) in [(Way::Upstream, client_stream()), (Way::Downstream, mixed_server_stream())] {
        let whole = trace(&mut LinkObserver::new(), way, &stream, &[]);
        // Every boundary of the first 2 KiB, then every 97th: the big frame is 70 kB of payload.
        for split in (0..stream.len()).filter(|s| *s < 2048 || s % 97 == 0) {
            let parts = trace(&mut LinkObserver::new(), way, &stream, &[split]);
            assert_eq!(parts, whole, "{way:?} split at {split}");
        }
    }
}

#[test]
fn an_observer_that_is_off_labels_everything_opaque() {
    let seen = trace(&mut LinkObserver::off(), Way::Upstream, &client_stream(), &[100, 200]);
    assert_eq!(seen, vec![Traced::Bytes(Part::Opaque, client_stream())]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes, after a valid head or not, at arbitrary split points: no panic, and the
    /// tokens always cover the input.
    #[test]
    fn arbitrary_bytes_never_panic(
        prefix in 0usize..3,
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        splits in proptest::collection::vec(0usize..700, 0..12),
        downstream in any::<bool>(),
    ) {
        let way = if downstream { Way::Downstream } else { Way::Upstream };
        let head: &[u8] = match prefix { 0 => b"", 1 if downstream => RESPONSE, 1 => REQUEST, _ => b"GET / HTTP/1.1\r\n" };
        let stream = [head, &bytes[..]].concat();
        trace(&mut LinkObserver::new(), way, &stream, &splits);
    }

    /// A valid stream cut into arbitrary pieces parses exactly as the whole stream.
    #[test]
    fn valid_streams_parse_the_same_in_any_pieces(
        sizes in proptest::collection::vec(0usize..300, 1..12),
        kinds in proptest::collection::vec(0u8..6, 12),
        splits in proptest::collection::vec(0usize..4000, 0..20),
        masked in any::<bool>(),
    ) {
        let (way, head, mask) = if masked { (Way::Upstream, REQUEST, Some(KEY)) } else { (Way::Downstream, RESPONSE, None) };
        let mut stream = head.to_vec();
        for (i, size) in sizes.iter().enumerate() {
            let payload = vec![i as u8; *size];
            match kinds[i] {
                0 => stream.extend(frame(1, true, &payload, mask, false)),
                1 => stream.extend(frame(2, true, &payload, mask, true)),
                2 => stream.extend(frame(9, true, &payload[..size.min(&125).to_owned()], mask, false)),
                3 => stream.extend(frame(10, true, &payload[..size.min(&125).to_owned()], mask, false)),
                4 => {
                    stream.extend(frame(2, false, &payload, mask, false));
                    stream.extend(frame(9, true, b"", mask, false));
                    stream.extend(frame(0, true, &payload, mask, false));
                }
                _ => stream.extend(frame(8, true, &[0x03, 0xe8], mask, false)),
            }
        }
        let whole = trace(&mut LinkObserver::new(), way, &stream, &[]);
        let stopped = whole.iter().any(|s| matches!(s, Traced::Token(Token::Stopped { .. })));
        prop_assert!(!stopped, "a valid stream is followed to its end");
        let parts = trace(&mut LinkObserver::new(), way, &stream, &splits);
        prop_assert_eq!(parts, whole);
    }
}

#[test]
fn skimming_finds_what_the_links_events_need_and_nothing_else() {
    let stream = client_stream();
    let (head, frames) = stream.split_at(REQUEST.len());
    for split in [0, 1, 7, 300, 5000] {
        let (mut full, mut skimmed) = (LinkObserver::new(), LinkObserver::new());
        let (mut all, mut notable) = (Vec::new(), Vec::new());
        full.feed(Way::Upstream, head, &mut all);
        skimmed.skim(Way::Upstream, head, &mut notable);
        let (a, b) = frames.split_at(split.min(frames.len()));
        for piece in [a, b] {
            full.feed(Way::Upstream, piece, &mut all);
            skimmed.skim(Way::Upstream, piece, &mut notable);
        }
        let mut first_data = true;
        let expected: Vec<Token> = all
            .into_iter()
            .filter(|token| match token {
                Token::Bytes { .. } => false,
                Token::Frame(frame) if is_data(frame.kind) => std::mem::replace(&mut first_data, false),
                Token::FrameEnd(end) => !is_data(end.kind),
                _ => true,
            })
            .collect();
        assert_eq!(notable, expected, "split at {split}");
        assert_eq!(full.standing(Way::Upstream), skimmed.standing(Way::Upstream));
    }
}
