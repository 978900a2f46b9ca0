//! `close_frame`: the proxy says goodbye for the server. At the next frame boundary of the
//! downstream it sends the client a Close frame with the scenario's code and reason, stops
//! forwarding both ways, and closes the upstream; the client reacts as it would to a server
//! that is restarting (1012), overloaded (1013, with a back-off hint in the reason), and so on.

use bytes::Bytes;
use tokio::time::Instant;

use super::{LinkAction, LinkFault};
use crate::ws::Way;

/// Sends a Close frame with `code` and `reason`.
#[derive(Debug)]
pub struct CloseFrame {
    /// The frame, encoded once.
    frame: Bytes,
}

impl CloseFrame {
    /// A Close frame with `code` and `reason` (at most 123 bytes, as the validator ensures).
    pub fn new(code: u16, reason: &str) -> CloseFrame {
        CloseFrame { frame: encode(code, reason) }
    }
}

/// A server-to-client (unmasked) Close frame. RFC 6455 §5.5 caps a control frame's payload at
/// 125 bytes: 2 for the code and up to 123 of reason, which is cut at a character boundary if
/// a library caller passes more.
fn encode(code: u16, reason: &str) -> Bytes {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason.as_bytes()[..end];
    let mut frame = Vec::with_capacity(4 + reason.len());
    frame.push(0x88);
    frame.push(2 + reason.len() as u8);
    frame.extend_from_slice(&code.to_be_bytes());
    frame.extend_from_slice(reason);
    Bytes::from(frame)
}

impl LinkFault for CloseFrame {
    fn name(&self) -> &'static str {
        "close_frame"
    }

    fn needs_observer(&self, way: Way) -> bool {
        way == Way::Downstream
    }

    fn on_start(&mut self, _now: Instant) -> LinkAction {
        LinkAction::SendClose(self.frame.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_an_unmasked_close_with_code_and_reason() {
        assert_eq!(&encode(1012, "restart")[..], b"\x88\x09\x03\xf4restart");
        let long = "é".repeat(70);
        let frame = encode(1013, &long);
        assert_eq!(usize::from(frame[1]), frame.len() - 2);
        assert!(frame.len() - 2 <= 125);
        assert!(std::str::from_utf8(&frame[4..]).is_ok(), "cut at a character boundary");
    }
}
