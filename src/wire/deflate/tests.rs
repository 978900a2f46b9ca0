//! permessage-deflate: the negotiation table, RFC 7692's own examples, round trips with and
//! without context takeover, the limits, and the stream adapter on both ends of a pipe.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

#[test]
fn the_server_takes_the_first_offer_it_can_honour() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["permessage-deflate"], Some("permessage-deflate")),
        (&["permessage-deflate; client_max_window_bits"], Some("permessage-deflate")),
        // Python websockets' default offer.
        (
            &["permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"],
            Some("permessage-deflate; server_max_window_bits=12"),
        ),
        (
            &["permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        (
            &["permessage-deflate; server_max_window_bits=\"10\""],
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        // 8 bits cannot be honoured; the next offer is.
        (
            &["permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9"],
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (&["x-webkit-deflate-frame", "permessage-deflate"], Some("permessage-deflate")),
        (&["permessage-deflate; unknown_param"], None),
        (&["permessage-deflate; server_no_context_takeover; server_no_context_takeover"], None),
        (&["permessage-deflate; server_max_window_bits=16"], None),
        (&["permessage-deflate; server_no_context_takeover=1"], None),
        (&["x-webkit-deflate-frame"], None),
        (&[], None),
    ];
    for (offers, answer) in cases {
        assert_eq!(negotiate(offers).map(|params| params.answer()).as_deref(), *answer, "{offers:?}");
    }
}

#[test]
fn rfc_7692_examples_inflate() {
    // §7.2.3.1: "Hello" compressed, without the sync tail.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut codec = Codec::new(negotiate(&["permessage-deflate"]).unwrap(), Role::Server);
    assert_eq!(codec.decompress(&hello, 1024).unwrap(), b"Hello");
    // §7.2.3.2: a second "Hello" that refers back to the first (context taken over).
    assert_eq!(codec.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], 1024).unwrap(), b"Hello");
}

#[test]
fn messages_round_trip_with_and_without_context_takeover() {
    for offer in
        ["permessage-deflate", "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"]
    {
        let params = negotiate(&[offer]).unwrap();
        let mut server = Codec::new(params, Role::Server);
        let mut client = Codec::new(params, Role::Client);
        let messages: Vec<Vec<u8>> = vec![
            b"Hello".to_vec(),
            b"Hello".to_vec(),
            Vec::new(),
            "{\"type\":\"update\",\"value\":42}".repeat(5000).into_bytes(),
            (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect(),
        ];
        let mut sizes = Vec::new();
        for message in &messages {
            let compressed = server.compress(message);
            sizes.push(compressed.len());
            assert_eq!(client.decompress(&compressed, 1 << 20).unwrap(), *message, "{offer}");
        }
        assert!(sizes[3] < messages[3].len() / 20, "repetitive JSON shrinks: {sizes:?}");
        if params.server_no_context_takeover {
            assert_eq!(sizes[0], sizes[1], "each message on its own");
        } else {
            assert!(sizes[1] < sizes[0], "the second refers back to the first: {sizes:?}");
        }
    }
}

#[test]
fn a_message_inflating_past_the_limit_or_not_deflate_is_refused() {
    let params = negotiate(&["permessage-deflate"]).unwrap();
    let bomb = Codec::new(params, Role::Client).compress(&vec![0u8; 10 << 20]);
    assert!(bomb.len() < 20 * 1024, "{}", bomb.len());
    let mut server = Codec::new(params, Role::Server);
    assert_eq!(server.decompress(&bomb, 1 << 20), Err(Inflated::TooBig));
    let mut server = Codec::new(params, Role::Server);
    assert_eq!(server.decompress(&[0xff, 0xff, 0xff, 0xff], 1024), Err(Inflated::Invalid));
}

/// A masked client frame.
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    put_frame_for_test(&mut frame, first, Some([1, 2, 3, 4]), payload);
    frame
}

fn put_frame_for_test(out: &mut Vec<u8>, first: u8, mask: Option<[u8; 4]>, payload: &[u8]) {
    out.push(first);
    out.push(if mask.is_some() { 0x80 } else { 0 } | payload.len() as u8);
    let key = mask.unwrap_or_default();
    if mask.is_some() {
        out.extend_from_slice(&key);
    }
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
}

#[tokio::test]
async fn the_server_stream_inflates_what_comes_in_and_deflates_what_goes_out() {
    let (near, mut far) = tokio::io::duplex(1 << 16);
    let mut server = Deflate::server(near, negotiate(&["permessage-deflate"]));
    // In: "Hello" compressed in two fragments, a ping between them, then a plain frame.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut wire = client_frame(0x40 | 0x01, &hello[..3]);
    wire.extend(client_frame(0x89, b"p"));
    wire.extend(client_frame(0x80, &hello[3..]));
    wire.extend(client_frame(0x82, b"raw"));
    far.write_all(&wire).await.unwrap();
    let mut expected = client_frame(0x89, b"p");
    expected.extend([0x81, 0x85, 0, 0, 0, 0]);
    expected.extend(b"Hello");
    expected.extend(client_frame(0x82, b"raw"));
    let mut read = vec![0u8; expected.len()];
    server.read_exact(&mut read).await.unwrap();
    assert_eq!(read, expected, "control frames keep their place, the message comes whole");
    // Out: the 101 passes, then a text frame goes out compressed, a ping as it is.
    server.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").await.unwrap();
    server.write_all(&[0x81, 0x05]).await.unwrap();
    server.write_all(b"Hello").await.unwrap();
    server.write_all(&[0x89, 0x00]).await.unwrap();
    server.flush().await.unwrap();
    let mut out = vec![0u8; 36 + 9 + 2];
    far.read_exact(&mut out).await.unwrap();
    assert_eq!(&out[36..], &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x89, 0x00]);
}

#[tokio::test]
async fn a_non_101_answer_turns_compression_off() {
    let (near, mut far) = tokio::io::duplex(1 << 16);
    let mut server = Deflate::server(near, negotiate(&["permessage-deflate"]));
    let answer = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\n\x81\x05Hello";
    server.write_all(answer).await.unwrap();
    server.flush().await.unwrap();
    let mut out = vec![0u8; answer.len()];
    far.read_exact(&mut out).await.unwrap();
    assert_eq!(out, answer, "the body passes untouched");
    assert!(!server.compressing());
}

#[tokio::test]
async fn a_compressed_message_over_the_limit_is_announced_over_it() {
    let (near, mut far) = tokio::io::duplex(1 << 16);
    let mut server = Deflate::server(near, negotiate(&["permessage-deflate"]));
    let bomb = Codec::new(negotiate(&["permessage-deflate"]).unwrap(), Role::Client).compress(&vec![
        0u8;
        crate::wire::MAX_MESSAGE_BYTES
            + 1
    ]);
    let mut frame = vec![0xc2, 0xfe];
    frame.extend_from_slice(&(bomb.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(&bomb);
    far.write_all(&frame).await.unwrap();
    let mut head = [0u8; 14];
    server.read_exact(&mut head).await.unwrap();
    assert_eq!(head[..2], [0x82, 0xff]);
    assert_eq!(
        u64::from_be_bytes(head[2..10].try_into().unwrap()),
        crate::wire::MAX_MESSAGE_BYTES as u64 + 1
    );
}
