//! The echo server's check of a signed upgrade (`server.auth.hmac`): the URL's query against
//! the server's current secret and the run's clock, and the 401 that answers a missing,
//! malformed, wrong or stale signature. The format and the pure check are `wire::signature`'s.

use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http::{self, StatusCode, header};

use crate::wire::signature::{Credentials, Rejection, Window, verify};

/// What the server checks signatures with: the shared credentials (which `revoke_credentials`
/// changes) and how old a signature may be.
#[derive(Clone, Debug)]
pub(crate) struct SignatureCheck {
    /// The current secret and the run's clock.
    pub(crate) credentials: Credentials,
    /// `max_age` and `clock_skew`.
    pub(crate) window: Window,
}

impl SignatureCheck {
    /// Whether `request` carries a valid signature now.
    pub(crate) fn check(&self, request: &Request) -> Result<(), Rejection> {
        let secret = self.credentials.current();
        verify(request.uri().query(), secret.as_ref(), self.credentials.now_ms(), self.window)
    }
}

/// The 401 answer to a refused signature, saying why (never with the secret) and, in
/// `x-wschaos-time`, the server's clock, so a client of your own can correct its skew.
pub(crate) fn unauthorized(rejection: Rejection, now_ms: u64) -> ErrorResponse {
    let body = format!("{}\n", rejection.why());
    http::Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::WWW_AUTHENTICATE, "wschaos-hmac")
        .header("x-wschaos-time", now_ms)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CONNECTION, "close")
        .body(Some(body))
        .expect("a fixed response with valid headers")
}
