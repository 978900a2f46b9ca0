//! The RFC 6455 frame and HTTP head pieces the permessage-deflate stream reads and writes:
//! frame headers parsed and written, masking, and what a 101 answer agreed to.

use super::{Params, accepted};

/// A frame's header.
pub(super) struct Head {
    pub(super) fin: bool,
    /// RSV1–RSV3 as they sit in the first byte (`0x70` mask).
    pub(super) rsv: u8,
    pub(super) opcode: u8,
    pub(super) mask: Option<[u8; 4]>,
    pub(super) len: u64,
    /// Bytes of the header itself.
    pub(super) size: usize,
}

/// Reads a frame header; `None` until enough bytes are there.
pub(super) fn parse_head(bytes: &[u8]) -> Option<Head> {
    let (first, second) = (*bytes.first()?, *bytes.get(1)?);
    let (len, mut size) = match second & 0x7f {
        126 => (u64::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)), 4),
        127 => (u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?), 10),
        short => (u64::from(short), 2),
    };
    let mask = if second & 0x80 != 0 {
        let key: [u8; 4] = bytes.get(size..size + 4)?.try_into().ok()?;
        size += 4;
        Some(key)
    } else {
        None
    };
    Some(Head { fin: first & 0x80 != 0, rsv: first & 0x70, opcode: first & 0x0f, mask, len, size })
}

/// XORs `bytes` with the masking key (RFC 6455 §5.3); masking and unmasking are the same.
pub(super) fn apply_mask(bytes: &mut [u8], key: [u8; 4]) {
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte ^= key[index % 4];
    }
}

/// Appends a frame: `first` (FIN, RSV, opcode), masked with `mask` when given.
pub(super) fn put_frame(out: &mut Vec<u8>, first: u8, mask: Option<[u8; 4]>, payload: &[u8]) {
    put_head(out, first, mask, payload.len() as u64);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key);
    }
}

/// Appends a frame header announcing `len` payload bytes.
pub(super) fn put_head(out: &mut Vec<u8>, first: u8, mask: Option<[u8; 4]>, len: u64) {
    out.push(first);
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match len {
        0..=125 => out.push(masked | len as u8),
        126..=0xffff => {
            out.push(masked | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(masked | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// Where an HTTP head ends (after its blank line), if it has.
pub(super) fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|window| window == b"\r\n\r\n").map(|at| at + 4)
}

/// What an answer's head agreed to: `permessage-deflate` parameters on a 101, else none.
pub(super) fn answer_params(head: &[u8]) -> Option<Params> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let status = lines.next()?;
    if !status.starts_with("HTTP/1.1 101") {
        return None;
    }
    let values: Vec<&str> = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.trim())
        .collect();
    accepted(&values)
}
