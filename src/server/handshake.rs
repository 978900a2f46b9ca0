//! Everything about answering an upgrade: reading the request head and refusing what is not an
//! upgrade (400, or 426 for another protocol version), the bearer-token check, the seeded
//! handshake latency, and the stream wrappers that hold the answer back for it and hand the
//! head already read on to tungstenite.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::time::{Sleep, sleep};
use tokio_tungstenite::tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderMap, StatusCode, header};

use super::signed::SignatureCheck;
use crate::units::Jittered;

/// Draws one handshake latency, uniformly in `[base − jitter, base + jitter]`. A fixed latency
/// (jitter 0) draws nothing, so adding jitter to one run never shifts another's draws.
pub(crate) fn draw_latency(rng: &mut ChaCha8Rng, latency: Jittered) -> Duration {
    if latency.jitter.is_zero() { latency.base } else { rng.random_range(latency.min()..=latency.max()) }
}

/// The upgrade check handed to tungstenite: with a token, the request must carry
/// `Authorization: Bearer <token>`; otherwise it is answered 401. A request that offers
/// subprotocols gets the first one chosen: an echo server speaks them all, and clients that
/// ask for one (graphql-ws, a chat protocol) refuse a server that picks none.
pub(crate) struct Authorize {
    /// The required token; `None` admits everyone.
    pub(crate) token: Option<Arc<str>>,
    /// The signature check, with signed handshakes.
    pub(crate) signed: Option<SignatureCheck>,
    /// The `Sec-WebSocket-Extensions` answer, when an extension was agreed.
    pub(crate) extensions: Option<String>,
}

impl Callback for Authorize {
    fn on_request(self, request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
        if let Some(token) = &self.token
            && !carries_bearer(request.headers(), token)
        {
            return Err(unauthorized());
        }
        if let Some(signed) = &self.signed
            && let Err(rejection) = signed.check(request)
        {
            return Err(super::signed::unauthorized(rejection, signed.credentials.now_ms()));
        }
        let offered = request.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL).iter();
        let first = offered
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .find(|protocol| !protocol.is_empty());
        if let Some(value) = first.and_then(|protocol| http::HeaderValue::from_str(protocol).ok()) {
            response.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        if let Some(value) =
            self.extensions.as_deref().and_then(|answer| http::HeaderValue::from_str(answer).ok())
        {
            response.headers_mut().insert(header::SEC_WEBSOCKET_EXTENSIONS, value);
        }
        Ok(response)
    }
}

/// Whether `headers` hold `Authorization: Bearer <token>`. The scheme is case-insensitive
/// (RFC 9110 §11.1); the token is compared exactly.
fn carries_bearer(headers: &HeaderMap, token: &str) -> bool {
    headers.get_all(header::AUTHORIZATION).iter().any(|value| {
        let Ok(value) = value.to_str() else { return false };
        let Some((scheme, credentials)) = value.trim().split_once(' ') else { return false };
        scheme.eq_ignore_ascii_case("bearer") && credentials.trim() == token
    })
}

/// The 401 answer. `WWW-Authenticate` names the scheme as RFC 6750 §3 asks; `Content-Length`
/// and `Connection: close` let a plain HTTP client read the body and know the server hangs up.
fn unauthorized() -> ErrorResponse {
    let body = "missing or wrong bearer token\n";
    http::Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::WWW_AUTHENTICATE, "Bearer")
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CONNECTION, "close")
        .body(Some(body.to_string()))
        .expect("a fixed response with valid headers")
}

/// The longest request head read: far above any browser's or library's upgrade (a few hundred
/// bytes with cookies), and a cap on what a peer can make the server hold.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Reads until the end of the request head (`\r\n\r\n`), returning every byte read (a peer that
/// sends frames before the answer has them here too). `Ok(None)` when the peer left first.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        let scan_from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..read]);
        if head[scan_from..].windows(4).any(|end| end == b"\r\n\r\n") || head.len() > MAX_HEAD_BYTES {
            return Ok(Some(head));
        }
    }
}

/// Why a request is not a WebSocket upgrade, and the HTTP answer it gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NotAnUpgrade {
    /// 400, or 426 for a WebSocket version other than 13.
    pub(crate) status: StatusCode,
    /// What is wrong, for the answer's body and the log.
    pub(crate) why: String,
}

impl NotAnUpgrade {
    fn new(status: StatusCode, why: impl Into<String>) -> NotAnUpgrade {
        NotAnUpgrade { status, why: why.into() }
    }

    /// The answer's bytes: the status, a text body saying what was wrong, and
    /// `Connection: close` (with `Sec-WebSocket-Version: 13` on a 426, as RFC 6455 §4.4 asks).
    pub(crate) fn answer(&self) -> Vec<u8> {
        let body = format!("this is a WebSocket echo server: {}\n", self.why);
        let version =
            if self.status == StatusCode::UPGRADE_REQUIRED { "Sec-WebSocket-Version: 13\r\n" } else { "" };
        format!(
            "HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{version}Connection: close\r\n\r\n{body}",
            self.status,
            body.len()
        )
        .into_bytes()
    }
}

/// Checks that `head` is a WebSocket upgrade request (RFC 6455 §4.2.1): a GET with `Upgrade:
/// websocket`, `Connection: upgrade`, a `Sec-WebSocket-Key` and version 13. tungstenite drops
/// anything else without a word; a real server answers it.
pub(crate) fn check_upgrade(head: &[u8]) -> Result<(), NotAnUpgrade> {
    let bad = |why: String| NotAnUpgrade::new(StatusCode::BAD_REQUEST, why);
    if head.len() > MAX_HEAD_BYTES && !head.windows(4).any(|end| end == b"\r\n\r\n") {
        return Err(bad(format!("the request head is over {} KiB", MAX_HEAD_BYTES / 1024)));
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(bad("the request head is incomplete".to_string())),
        Err(error) => return Err(bad(format!("not an HTTP request ({error})"))),
    }
    let values = |name: &str| -> Vec<&str> {
        request
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect()
    };
    let has_token = |name: &str, token: &str| {
        values(name)
            .iter()
            .flat_map(|value| value.split(','))
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    };
    if request.method != Some("GET") {
        return Err(bad(format!("a WebSocket upgrade is a GET, not {}", request.method.unwrap_or("?"))));
    }
    if !has_token("upgrade", "websocket") {
        return Err(bad("not a WebSocket upgrade (no `Upgrade: websocket` header)".to_string()));
    }
    if !has_token("connection", "upgrade") {
        return Err(bad("the upgrade has no `Connection: Upgrade` header".to_string()));
    }
    if values("sec-websocket-key").is_empty() {
        return Err(bad("the upgrade has no `Sec-WebSocket-Key` header".to_string()));
    }
    if !values("sec-websocket-version").iter().any(|version| version.trim() == "13") {
        return Err(NotAnUpgrade::new(
            StatusCode::UPGRADE_REQUIRED,
            "this server speaks WebSocket version 13",
        ));
    }
    Ok(())
}

/// The values of the request head's `name` headers (a head `check_upgrade` passed).
pub(crate) fn header_values(head: &[u8], name: &str) -> Vec<String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if request.parse(head).is_err() {
        return Vec::new();
    }
    request
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .filter_map(|h| std::str::from_utf8(h.value).ok())
        .map(str::to_string)
        .collect()
}

/// A stream whose first reads return bytes already read from it (the request head), then
/// read on from the stream itself.
#[derive(Debug)]
pub(crate) struct Prefixed<S> {
    /// Bytes still to hand out before reading from `inner`.
    prefix: Vec<u8>,
    /// How many of them went out already.
    taken: usize,
    /// The connection.
    inner: S,
}

impl<S> Prefixed<S> {
    /// Reads `prefix` first, then `inner`.
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Prefixed<S> {
        Prefixed { prefix, taken: 0, inner }
    }

    /// The stream itself, past whatever prefix is still to be handed out.
    pub(crate) fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Hands `bytes` out before anything more is read from the stream; the earlier prefix must
    /// be out already.
    pub(crate) fn set_prefix(&mut self, bytes: Vec<u8>) {
        debug_assert!(self.taken >= self.prefix.len(), "the earlier prefix is out");
        self.prefix = bytes;
        self.taken = 0;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.taken < this.prefix.len() {
            let rest = &this.prefix[this.taken..];
            let count = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..count]);
            this.taken += count;
            if this.taken == this.prefix.len() {
                // Given out: its memory is not kept for the life of the connection.
                this.prefix = Vec::new();
                this.taken = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A stream that holds back its first write for a fixed time: the handshake latency.
///
/// tungstenite writes the upgrade answer (101 or 401) right after it has read the whole request
/// and run the [`Authorize`] check, in the same poll. Holding that first write therefore delays
/// the answer by exactly the latency *after the request arrived*, which is what a slow server
/// looks like, and a late request (say, behind a proxy's latency fault) adds to it rather than
/// hiding inside it. Once the first write is through, the wrapper only forwards.
#[derive(Debug)]
pub(crate) struct DelayedAnswer<S> {
    /// The connection.
    inner: S,
    /// The wait still to come before the first write; `None` once it has passed, or for none.
    delay: Option<Duration>,
    /// The running wait, started by the first write attempt.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<S> DelayedAnswer<S> {
    /// Wraps `inner`, holding its first write back by `delay`.
    pub(crate) fn new(inner: S, delay: Duration) -> DelayedAnswer<S> {
        DelayedAnswer { inner, delay: (!delay.is_zero()).then_some(delay), timer: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for DelayedAnswer<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DelayedAnswer<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(delay) = this.delay {
            ready!(this.timer.get_or_insert_with(|| Box::pin(sleep(delay))).as_mut().poll(cx));
            this.delay = None;
            this.timer = None;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
