//! `reject_handshake`: new upgrades are answered by the proxy with an HTTP error (401, 429,
//! 503 …, with `Retry-After` when set) instead of reaching the server, as a gateway under load
//! or an expired credential would. The request is held until its head is complete, so the
//! server never sees it; then the answer goes out and the link closes.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::LinkFault;
use crate::ws::Way;
use crate::ws::observer::Head;

/// Answers upgrade requests with `status`.
#[derive(Debug)]
pub struct RejectHandshake {
    /// The answer, built once.
    answer: Bytes,
}

impl RejectHandshake {
    /// Answers with `status` and, if set, `Retry-After` in whole seconds.
    pub fn new(status: u16, retry_after: Option<std::time::Duration>) -> RejectHandshake {
        RejectHandshake { answer: answer(status, retry_after) }
    }
}

/// The HTTP answer: status line, an empty body, `Connection: close`, and the headers a client
/// acts on (`Retry-After`; `WWW-Authenticate` on a 401, as RFC 9110 §11.6.1 requires).
fn answer(status: u16, retry_after: Option<std::time::Duration>) -> Bytes {
    let phrase = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    let mut text = format!("HTTP/1.1 {status} {phrase}\r\nContent-Length: 0\r\nConnection: close\r\n");
    if let Some(after) = retry_after {
        text.push_str(&format!("Retry-After: {}\r\n", after.as_secs()));
    }
    if status == 401 {
        text.push_str("WWW-Authenticate: Bearer\r\n");
    }
    text.push_str("\r\n");
    Bytes::from(text)
}

impl LinkFault for RejectHandshake {
    fn name(&self) -> &'static str {
        "reject_handshake"
    }

    fn needs_observer(&self, way: Way) -> bool {
        way == Way::Upstream
    }

    fn holds_request(&self) -> bool {
        true
    }

    fn on_request(&mut self, head: &Head) -> Option<Bytes> {
        matches!(head, Head::Request { .. }).then(|| self.answer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::answer;
    use std::time::Duration;

    #[test]
    fn answers_with_the_status_and_the_headers_a_client_acts_on() {
        assert_eq!(
            &answer(503, Some(Duration::from_secs(5)))[..],
            &b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 5\r\n\r\n"[..]
        );
        let unauthorized = answer(401, None);
        assert!(unauthorized.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
        assert!(unauthorized.ends_with(b"WWW-Authenticate: Bearer\r\n\r\n"));
    }
}
