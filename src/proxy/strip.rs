//! The upgrade request without its permessage-deflate offer: what `strip_deflate` forwards, so
//! that the server never compresses and frame faults can drop data frames. Pure: a complete
//! request head in, the rewritten head out.
//!
//! Only the `Sec-WebSocket-Extensions` lines change: their permessage-deflate offers go (with
//! their parameters), other offers stay in their order, and a line left empty goes too. A
//! server that gets no offer cannot accept one (RFC 6455 §9.1), so the 101 carries none and
//! neither side compresses.

use crate::ws::EXTENSIONS_HEADER;

/// The extension whose offers are removed (RFC 7692).
const DEFLATE: &str = "permessage-deflate";

/// `head` (a whole request head, blank line included) without its permessage-deflate offers,
/// or `None` when it has none to remove.
pub fn without_deflate_offer(head: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(head.len());
    let mut changed = false;
    for line in head.split_inclusive(|byte| *byte == b'\n') {
        match strip_line(line) {
            Some(replacement) => {
                changed = true;
                out.extend_from_slice(&replacement);
            }
            None => out.extend_from_slice(line),
        }
    }
    changed.then_some(out)
}

/// A header line (with its line end) rewritten without deflate offers: `Some(empty)` drops the
/// line, `None` keeps it as it is.
fn strip_line(line: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(line).ok()?;
    let (name, value) = text.split_once(':')?;
    if !name.trim().eq_ignore_ascii_case(EXTENSIONS_HEADER) {
        return None;
    }
    let body = value.trim_end_matches(['\r', '\n']);
    let ending = &value[body.len()..];
    let offers: Vec<&str> = body.split(',').map(str::trim).filter(|offer| !offer.is_empty()).collect();
    let kept: Vec<&str> = offers.iter().copied().filter(|offer| !is_deflate(offer)).collect();
    if kept.len() == offers.len() {
        return None;
    }
    if kept.is_empty() {
        return Some(Vec::new());
    }
    Some(format!("{name}: {}{ending}", kept.join(", ")).into_bytes())
}

/// Whether an offer (`name; param; param=value`) is permessage-deflate.
fn is_deflate(offer: &str) -> bool {
    offer.split(';').next().is_some_and(|name| name.trim().eq_ignore_ascii_case(DEFLATE))
}

#[cfg(test)]
mod tests {
    use super::without_deflate_offer;

    fn request(extension_lines: &str) -> String {
        format!(
            "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             {extension_lines}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
    }

    #[test]
    fn deflate_offers_go_and_everything_else_stays() {
        let cases = [
            ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n", Some("")),
            (
                "sec-websocket-extensions: x-foo, Permessage-Deflate;server_no_context_takeover, x-bar; a=1\r\n",
                Some("sec-websocket-extensions: x-foo, x-bar; a=1\r\n"),
            ),
            (
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15; \
                 server_max_window_bits=10, permessage-deflate\r\nX-Other: permessage-deflate\r\n",
                Some("X-Other: permessage-deflate\r\n"),
            ),
            ("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n", None),
            ("", None),
        ];
        for (lines, expected) in cases {
            let head = request(lines);
            let stripped =
                without_deflate_offer(head.as_bytes()).map(|bytes| String::from_utf8(bytes).unwrap());
            assert_eq!(stripped, expected.map(request), "{lines}");
        }
    }
}
