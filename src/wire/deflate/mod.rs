//! permessage-deflate (RFC 7692), which every real client offers (browsers, Python websockets,
//! Node ws) and tungstenite 0.30 does not speak: the negotiation of its parameters here, the
//! per-message compression in [`Codec`], and in `stream` a byte-stream adapter ([`Deflate`])
//! that sits under tungstenite and turns compressed frames into plain ones and back, so
//! tungstenite and the echo server above it never see a compressed byte.
//!
//! What is supported, as a server: `server_no_context_takeover` and `client_no_context_takeover`
//! (honoured; without them both sides keep their window across messages), `server_max_window_bits`
//! 9 to 15 (the server compresses within it; an offer of 8 is declined, as zlib cannot make raw
//! deflate with a 256-byte window), and `client_max_window_bits` with or without a value (the
//! server inflates with a 32 KiB window, which reads any smaller one, so it never asks the
//! client to shrink its own). Offers are taken in the client's order; one with an unknown,
//! repeated or malformed parameter is declined and the next is tried (§5.1). As a client
//! ([`Deflate::client`], for tests), the adapter offers [`CLIENT_OFFER`] and follows what the
//! server answers.

mod frames;
mod stream;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

pub use stream::{Deflate, Role};

/// The extension's name in `Sec-WebSocket-Extensions`.
const NAME: &str = "permessage-deflate";

/// The offer a test client makes: Python websockets' and Chrome's shape (a plain offer that
/// lets the server bound the client's window).
pub const CLIENT_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// The four bytes a sync flush ends with, which RFC 7692 §7.2.1 removes from each message and
/// the receiver adds back before inflating.
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What the two ends agreed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// The server starts each message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts each message with an empty window.
    pub client_no_context_takeover: bool,
    /// The server's compression window, 2^bits bytes (9 to 15).
    pub server_max_window_bits: u8,
    /// The client's compression window, when the server bounded it.
    pub client_max_window_bits: Option<u8>,
    /// Whether the offer named `server_max_window_bits` (the answer repeats it, §7.1.2.1).
    server_bits_named: bool,
}

/// One parsed `permessage-deflate` offer or answer; `None` for one this code cannot honour.
fn parse_params(params: &str) -> Option<Params> {
    let mut agreed = Params {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: None,
        server_bits_named: false,
    };
    let mut seen = Vec::new();
    for param in params.split(';').map(str::trim).filter(|param| !param.is_empty()) {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (param, None),
        };
        if seen.contains(&name) {
            return None;
        }
        seen.push(name);
        let bits =
            |value: Option<&str>| value.and_then(|v| v.parse::<u8>().ok()).filter(|b| (8..=15).contains(b));
        match (name, value) {
            ("server_no_context_takeover", None) => agreed.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => agreed.client_no_context_takeover = true,
            ("server_max_window_bits", value) => {
                agreed.server_max_window_bits = bits(value)?;
                agreed.server_bits_named = true;
            }
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", value) => agreed.client_max_window_bits = Some(bits(value)?),
            _ => return None,
        }
    }
    Some(agreed)
}

/// The offers of a request's `Sec-WebSocket-Extensions` values, in order, as `(name, params)`.
fn extensions<'a>(values: &'a [&'a str]) -> impl Iterator<Item = (&'a str, &'a str)> {
    values.iter().flat_map(|value| value.split(',')).map(|offer| {
        let offer = offer.trim();
        offer.split_once(';').map_or((offer, ""), |(name, params)| (name.trim(), params))
    })
}

/// The server's choice among a request's offers (the values of its `Sec-WebSocket-Extensions`
/// headers): the first `permessage-deflate` offer it can honour, or none.
pub fn negotiate(values: &[&str]) -> Option<Params> {
    extensions(values)
        .filter(|(name, _)| name.eq_ignore_ascii_case(NAME))
        .filter_map(|(_, params)| parse_params(params))
        // zlib makes no raw deflate stream with a 256-byte window.
        .find(|params| params.server_max_window_bits >= 9)
}

/// What a client learns from the server's answer: the parameters it accepted, or `None` when it
/// accepted no compression (or answered something this code cannot follow).
pub fn accepted(values: &[&str]) -> Option<Params> {
    extensions(values)
        .find(|(name, _)| name.eq_ignore_ascii_case(NAME))
        .and_then(|(_, params)| parse_params(params))
}

impl Params {
    /// The server's `Sec-WebSocket-Extensions` answer for these parameters.
    pub fn answer(&self) -> String {
        let mut answer = NAME.to_string();
        if self.server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        if self.server_bits_named {
            answer.push_str(&format!("; server_max_window_bits={}", self.server_max_window_bits));
        }
        answer
    }
}

/// Why a compressed message could not be read: the peer's breach (the connection is failed
/// with 1007, invalid payload data).
#[derive(Debug, thiserror::Error)]
#[error("invalid compressed data in a permessage-deflate message")]
pub struct InvalidCompressedData;

/// One direction's compression state for one connection: the compressor of what this end
/// sends, the decompressor of what it receives, each made on first use (a connection that
/// never sends a compressed message never pays for a window).
pub(crate) struct Codec {
    /// The window bits this end compresses with.
    send_bits: u8,
    /// Whether this end starts each message it sends with an empty window.
    send_resets: bool,
    compressor: Option<Compress>,
    decompressor: Option<Decompress>,
}

impl Codec {
    /// The codec of `role`'s end under `params`.
    pub(crate) fn new(params: Params, role: Role) -> Codec {
        let (send_bits, send_resets) = match role {
            Role::Server => (params.server_max_window_bits, params.server_no_context_takeover),
            Role::Client => {
                (params.client_max_window_bits.unwrap_or(15).max(9), params.client_no_context_takeover)
            }
        };
        Codec { send_bits, send_resets, compressor: None, decompressor: None }
    }

    /// One message's payload compressed (without the sync tail).
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Vec<u8> {
        let bits = self.send_bits;
        let compressor = self
            .compressor
            .get_or_insert_with(|| Compress::new_with_window_bits(Compression::default(), false, bits));
        let mut out = Vec::new();
        let mut input = payload;
        loop {
            out.reserve(input.len() / 2 + 1024);
            let before = compressor.total_in();
            compressor
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .expect("deflate in memory cannot fail");
            input = &input[(compressor.total_in() - before) as usize..];
            // zlib stops a sync flush early only when the output is full: room left means done.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&SYNC_TAIL) {
            out.truncate(out.len() - SYNC_TAIL.len());
        }
        if out.is_empty() {
            // Nothing new to flush (an empty message): zlib writes nothing, and the receiver's
            // added tail alone would not parse. RFC 7692 §7.2.3.6 sends a lone 0x00 for it.
            out.push(0x00);
        }
        if self.send_resets {
            compressor.reset();
        }
        out
    }

    /// One message's compressed payload inflated: at most `limit` bytes, or why not.
    pub(crate) fn decompress(&mut self, payload: &[u8], limit: usize) -> Result<Vec<u8>, Inflated> {
        /// Output grows by at most this much at a time, so a small bomb cannot make a big
        /// allocation before the limit is seen.
        const STEP: usize = 64 * 1024;
        let decompressor =
            self.decompressor.get_or_insert_with(|| Decompress::new_with_window_bits(false, 15));
        let input = [payload, &SYNC_TAIL[..]].concat();
        let mut out = Vec::new();
        let mut read = 0;
        loop {
            if out.len() > limit {
                return Err(Inflated::TooBig);
            }
            out.reserve(STEP.min(limit + 1 - out.len()));
            let (before_in, before_out) = (decompressor.total_in(), decompressor.total_out());
            let status = decompressor
                .decompress_vec(&input[read..], &mut out, FlushDecompress::Sync)
                .map_err(|_| Inflated::Invalid)?;
            read += (decompressor.total_in() - before_in) as usize;
            if status == Status::StreamEnd || (read == input.len() && out.len() < out.capacity()) {
                break;
            }
            let stuck = decompressor.total_in() == before_in && decompressor.total_out() == before_out;
            if stuck && out.len() < out.capacity() {
                // Nothing more came out though there was room: done if all the input is in,
                // else the input cannot be deflate data.
                if read == input.len() {
                    break;
                }
                return Err(Inflated::Invalid);
            }
        }
        if out.len() > limit {
            return Err(Inflated::TooBig);
        }
        Ok(out)
    }
}

/// Why a compressed message was not inflated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inflated {
    /// It inflates to more than the limit.
    TooBig,
    /// It is not deflate data.
    Invalid,
}

#[cfg(test)]
mod tests;
