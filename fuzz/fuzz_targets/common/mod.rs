//! Decoding a fuzz input into the two byte streams of a link and the order in which their
//! pieces arrive. Shared by both targets.
//!
//! Layout (every field reads as 0 when the input runs out):
//!
//! ```text
//! [flags: 1] [cut: u16 LE] [n: 1] [n × split: u16 LE] [schedule: u32 LE] [data …]
//! ```
//!
//! - `flags` bits 0-1: where `data` goes: 0 all upstream, 1 all downstream, 2-3 both, cut at
//!   `cut % (len + 1)`. Bits 2-3: what precedes the upstream bytes (nothing, a valid upgrade
//!   request, a plain `GET`, or an unfinished upgrade request head). Bits 4-5: what precedes
//!   the downstream bytes (nothing, a 101 answer, a 401 with `Retry-After`, or an unfinished
//!   101 status line). Bits 6-7 are left to the target.
//! - `n % 33` split points: bit 0 of each picks the way, the rest is an offset into that way's
//!   stream (modulo its length + 1). Equal offsets give empty pieces, when the target allows them.
//! - `schedule`: bit `i % 32` says whether the `i`th piece comes from downstream (1) or
//!   upstream (0); once a way has no pieces left the other's follow.

#![allow(dead_code)]

use std::ops::Range;

use wschaos::ws::Way;

/// A valid WebSocket upgrade request, naming client 3.
pub const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nx-wschaos-client: 3\r\n\r\n";
/// A request that is not an upgrade.
pub const PLAIN_GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
/// The start of an upgrade request; the stream's bytes finish (or break) it.
pub const REQUEST_START: &[u8] = b"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n";
/// The server accepting the upgrade.
pub const RESPONSE: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
/// The server refusing it.
pub const REFUSED: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n";
/// The start of an accepting answer.
pub const RESPONSE_START: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n";

/// Reads fields off the front of the input.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// The two streams of a link and the order their pieces arrive in.
#[derive(Debug)]
pub struct Link {
    /// [upstream, downstream].
    pub streams: [Vec<u8>; 2],
    /// Pieces in arrival order: which way, which bytes of that way's stream.
    pub pieces: Vec<(Way, Range<usize>)>,
    /// `flags` bits 6 and 7, for the target.
    pub extra: u8,
}

impl Link {
    pub fn stream(&self, way: Way) -> &[u8] {
        &self.streams[way as usize]
    }
}

/// Decodes `input` (see the module documentation). `empty` keeps empty pieces.
pub fn decode(input: &mut Reader<'_>, empty: bool) -> Link {
    let flags = input.u8();
    let cut = usize::from(input.u16());
    let n = usize::from(input.u8() % 33);
    let splits: Vec<u16> = (0..n).map(|_| input.u16()).collect();
    let schedule = input.u32();
    let data = std::mem::replace(input, Reader::new(&[])).rest();

    let (up_data, down_data): (&[u8], &[u8]) = match flags & 3 {
        0 => (data, &[]),
        1 => (&[], data),
        _ => data.split_at(cut % (data.len() + 1)),
    };
    let up_head: &[u8] = match (flags >> 2) & 3 {
        0 => b"",
        1 => REQUEST,
        2 => PLAIN_GET,
        _ => REQUEST_START,
    };
    let down_head: &[u8] = match (flags >> 4) & 3 {
        0 => b"",
        1 => RESPONSE,
        2 => REFUSED,
        _ => RESPONSE_START,
    };
    let streams = [[up_head, up_data].concat(), [down_head, down_data].concat()];

    let mut cuts: [Vec<usize>; 2] = [vec![0], vec![0]];
    for split in splits {
        let way = usize::from(split & 1);
        cuts[way].push(usize::from(split >> 1) % (streams[way].len() + 1));
    }
    let mut per_way: [Vec<Range<usize>>; 2] = [Vec::new(), Vec::new()];
    for way in 0..2 {
        let len = streams[way].len();
        cuts[way].push(len);
        cuts[way].sort_unstable();
        per_way[way] = cuts[way]
            .windows(2)
            .map(|pair| pair[0]..pair[1])
            .filter(|range| empty || !range.is_empty())
            .collect();
    }
    let mut pieces = Vec::new();
    let mut next = [0usize; 2];
    let mut i = 0u32;
    while next[0] < per_way[0].len() || next[1] < per_way[1].len() {
        let want = (schedule >> (i % 32)) & 1;
        i += 1;
        let way = if next[want as usize] < per_way[want as usize].len() { want as usize } else { 1 - want as usize };
        let w = if way == 0 { Way::Upstream } else { Way::Downstream };
        pieces.push((w, per_way[way][next[way]].clone()));
        next[way] += 1;
    }
    Link { streams, pieces, extra: flags >> 6 }
}

/// The other way.
pub fn other(way: Way) -> Way {
    match way {
        Way::Upstream => Way::Downstream,
        Way::Downstream => Way::Upstream,
    }
}
