//! Everything about answering an upgrade: the bearer-token check,
//! the seeded handshake latency, and the stream wrapper that holds the answer back for it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Sleep, sleep};
use tokio_tungstenite::tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderMap, StatusCode, header};

use crate::units::Jittered;

/// Draws one handshake latency, uniformly in `[base − jitter, base + jitter]`. A fixed latency
/// (jitter 0) draws nothing, so adding jitter to one run never shifts another's draws.
pub(crate) fn draw_latency(rng: &mut ChaCha8Rng, latency: Jittered) -> Duration {
    if latency.jitter.is_zero() { latency.base } else { rng.random_range(latency.min()..=latency.max()) }
}

/// The upgrade check handed to tungstenite: with a token, the request must carry
/// `Authorization: Bearer <token>`; otherwise it is answered 401.
pub(crate) struct Authorize {
    /// The required token; `None` admits everyone.
    pub(crate) token: Option<Arc<str>>,
}

impl Callback for Authorize {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        match &self.token {
            Some(token) if !carries_bearer(request.headers(), token) => Err(unauthorized()),
            _ => Ok(response),
        }
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
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn headers(authorization: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in authorization {
            map.append(header::AUTHORIZATION, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn bearer_check_table() {
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["Bearer secret"], true),
            (&["bearer secret"], true),
            (&["BEARER  secret "], true),
            (&["Bearer Secret"], false),
            (&["Bearer secre"], false),
            (&["Bearer secret2"], false),
            (&["Basic c2VjcmV0"], false),
            (&["secret"], false),
            (&["Bearer"], false),
            (&["Basic x", "Bearer secret"], true),
        ];
        for (values, expected) in cases {
            assert_eq!(carries_bearer(&headers(values), "secret"), *expected, "{values:?}");
        }
    }

    #[test]
    fn latency_draws_stay_in_range_cover_it_and_repeat_with_the_seed() {
        let latency = Jittered { base: Duration::from_millis(10), jitter: Duration::from_millis(4) };
        let draws = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..1000).map(|_| draw_latency(&mut rng, latency)).collect::<Vec<_>>()
        };
        let first = draws(7);
        assert_eq!(first, draws(7), "same seed, same draws");
        assert_ne!(first, draws(8));
        assert!(first.iter().all(|d| (latency.min()..=latency.max()).contains(d)));
        assert!(first.iter().any(|d| *d < Duration::from_millis(7)), "reaches the low end");
        assert!(first.iter().any(|d| *d > Duration::from_millis(13)), "reaches the high end");
    }

    #[test]
    fn a_fixed_latency_draws_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let fixed = Jittered { base: Duration::from_millis(5), jitter: Duration::ZERO };
        assert_eq!(draw_latency(&mut rng, fixed), Duration::from_millis(5));
        assert_eq!(rng, ChaCha8Rng::seed_from_u64(1), "the generator did not move");
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_first_write_waits() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::time::Instant;

        let (near, mut far) = tokio::io::duplex(64);
        let mut delayed = DelayedAnswer::new(near, Duration::from_millis(30));
        let start = Instant::now();
        delayed.write_all(b"101").await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(30));
        delayed.write_all(b"frame").await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(30), "later writes pass at once");
        let mut buf = [0u8; 8];
        far.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"101frame");
    }
}
