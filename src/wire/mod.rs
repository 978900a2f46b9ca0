//! What travels inside the WebSocket traffic the harness generates: the message header and the
//! handshake header a client uses to say who it is. Client, server, proxy and recorder all read
//! these definitions, so the format lives only here.
//!
//! A message is a binary frame that starts with a fixed 24-byte header, big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | `wsc1`: the mark of a wschaos message, and its format's version |
//! | 4..8 | client index (`u32`) |
//! | 8..16 | sequence number within the client (`u64`, from 0) |
//! | 16..24 | intended send time, microseconds since the run started (`u64`) |
//!
//! The mark keeps any other binary frame (a client of the user's speaking its own protocol to
//! the echo server) from being counted as a wschaos message with a made-up client and number.
//!
//! The rest of the frame is padding up to the workload's message size.
//!
//! Also here, because both ends use them: permessage-deflate ([`deflate`]), the WebSocket buffer sizes ([`websocket_config`]) and
//! the per-client set of sequence numbers seen ([`SeenSet`]), with which the server counts
//! duplicates and an exactly-once client drops them, and signed handshakes ([`signature`]).

pub mod deflate;
mod seen;
pub mod signature;

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use seen::{Seen, SeenSet};

/// Bytes of the message header; a workload message is never smaller.
pub const HEADER_LEN: usize = 24;

/// The first four bytes of every wschaos message: `wsc` and the header format's version.
pub const MAGIC: [u8; 4] = *b"wsc1";

/// The upgrade-request header that carries the client index, so the proxy can target faults by
/// client and the server can keep per-client accounting across reconnects.
pub const CLIENT_HEADER: &str = "x-wschaos-client";

/// The query parameter that names a client when it cannot send [`CLIENT_HEADER`]
/// (`identity: query`: `ws://127.0.0.1:PORT/?wschaos_client=3`).
pub const CLIENT_QUERY: &str = "wschaos_client";

/// How long a connection may take to finish its upgrade request, wherever wschaos holds one
/// unanswered: the proxy closes a link whose request its observer is holding (for a
/// `reject_handshake` that waits for the request to name its client, or to strip an extension
/// offer) after this long from the link's start. Without it a client that never finishes its
/// request (a slowloris) would hold two descriptors for good. A real client writes its whole
/// request at once, so only one that stalls mid-request meets this; 10 s is Python
/// websockets' `open_timeout` and the proxy's own upstream connect timeout. The echo server's
/// handshake timeout, where it has one, is meant to be this same value.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes tungstenite allocates up front to read frames into. Workload messages are 64 B by
/// default and rarely above a few KiB; a bigger frame makes the buffer grow for as long as it is
/// needed. tungstenite's default (`WebSocketConfig::read_buffer_size`) is 128 KiB, which alone
/// would be twice the budget of 64 KiB for a whole client + proxy + server chain (README.md,
/// "Performance"). 4 KiB leaves the server's share of that budget at about 8 KiB with the task,
/// the socket and the small write buffer.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// The largest message (and frame) the server accepts: 16 MiB, the largest workload message a
/// scenario may ask for (`scenario::defaults::MAX_MESSAGE_SIZE_BYTES` is this), tungstenite's
/// frame limit.
/// It is a cap, not an allocation; it keeps one runaway peer below tungstenite's default 64 MiB.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// The cap on queued outgoing bytes: one largest message plus room for its frame header and a
/// control frame (a pong or a ping). Every send is awaited before the next frame is read, so
/// nothing else can queue; the cap only turns a bug into an error instead of a leak.
const MAX_WRITE_BUFFER_BYTES: usize = MAX_MESSAGE_BYTES + 1024;

/// The WebSocket settings of both ends the harness runs: every echo-server connection and every
/// reference client, and tests that stand in for either.
///
/// `write_buffer_size` is 0: each frame is written through at once. An echo server answers one
/// frame at a time and flushes each answer, so batching would only add latency and memory.
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// The header at the start of every workload message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Which client sent it.
    pub client: u32,
    /// Its position in that client's stream, from 0.
    pub seq: u64,
    /// When the open-model workload meant it to be sent, from the start of the run.
    pub intended: Duration,
}

impl Header {
    /// The message bytes: the header, then zero padding up to `size` (at least the header).
    pub fn encode(&self, size: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(size.max(HEADER_LEN));
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&self.client.to_be_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        let micros = u64::try_from(self.intended.as_micros()).unwrap_or(u64::MAX);
        bytes.extend_from_slice(&micros.to_be_bytes());
        bytes.resize(size.max(HEADER_LEN), 0);
        bytes
    }

    /// Reads the header of a message; `None` when it is too short to carry one or does not
    /// start with [`MAGIC`]: not a wschaos message.
    pub fn decode(bytes: &[u8]) -> Option<Header> {
        if bytes.get(0..4)? != MAGIC {
            return None;
        }
        let client = u32::from_be_bytes(bytes.get(4..8)?.try_into().ok()?);
        let seq = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
        let micros = u64::from_be_bytes(bytes.get(16..24)?.try_into().ok()?);
        Some(Header { client, seq, intended: Duration::from_micros(micros) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads() {
        let header = Header { client: 7, seq: 1 << 40, intended: Duration::from_micros(123_456_789) };
        let bytes = header.encode(64);
        assert_eq!(bytes.len(), 64);
        assert_eq!(Header::decode(&bytes), Some(header));
        assert_eq!(header.encode(4).len(), HEADER_LEN, "never shorter than the header");
        assert_eq!(Header::decode(&bytes[..HEADER_LEN - 1]), None);
    }

    #[test]
    fn only_frames_with_the_mark_are_messages() {
        let header = Header { client: 1, seq: 2, intended: Duration::ZERO };
        let mut bytes = header.encode(64);
        assert_eq!(Header::decode(&bytes), Some(header));
        bytes[0] = b'x';
        assert_eq!(Header::decode(&bytes), None, "a frame of someone else's protocol");
        assert_eq!(Header::decode(&[0u8; 64]), None, "zeros are not a message of client 0");
    }
}
