//! The client's socket side: opening a connection (TCP, TLS for `wss://`, and the WebSocket
//! handshake, under one timeout) and reading the failures tungstenite reports as the detection reasons of
//! docs/reference-client.md.

use std::net::SocketAddr;
use std::time::Duration;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Response};
use tokio_tungstenite::tungstenite::{Error, error::ProtocolError};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use super::events::Reason;
use crate::net::{Stream, Transport};
use crate::tls::{TlsClient, is_certificate_error};
use crate::wire::CLIENT_HEADER;
use crate::wire::websocket_config;

/// An open WebSocket over either engine's stream.
pub type Socket = WebSocketStream<Stream>;

/// The header that carries a client's session id, so a server can tell runs of one client apart.
pub const SESSION_HEADER: &str = "x-wschaos-session";

/// Who is connecting, and where.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The address to open TCP to.
    pub addr: SocketAddr,
    /// The URL of the upgrade request (`ws://host:port/path`).
    pub url: String,
    /// The client's index, sent in `x-wschaos-client`.
    pub client: u32,
    /// The session id, sent in `x-wschaos-session`.
    pub session: u64,
    /// A bearer token for `Authorization`, if any.
    pub token: Option<String>,
    /// Subprotocols to offer, in order of preference; none when empty.
    pub subprotocols: Vec<String>,
    /// Extra headers, checked by whoever built the endpoint (`standalone::client::header`).
    pub headers: Vec<(String, String)>,
    /// TLS for `wss://`: the config that trusts the server's CA and the name asked for.
    pub tls: Option<TlsClient>,
}

/// An opened connection, and how long its TLS handshake took (`None` for `ws://`).
pub struct Opened {
    /// The open WebSocket.
    pub socket: Socket,
    /// From the TCP connect to the end of the TLS handshake.
    pub tls: Option<Duration>,
}

/// A failed attempt: why, and the server's `Retry-After` if it sent one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Why the attempt failed.
    pub reason: Reason,
    /// The `Retry-After` of a 429 or 503, in seconds form.
    pub retry_after: Option<Duration>,
}

impl From<Reason> for Failure {
    fn from(reason: Reason) -> Failure {
        Failure { reason, retry_after: None }
    }
}

/// Opens TCP, TLS for `wss://`, and completes the handshake, all within `timeout`.
pub async fn open(transport: &Transport, target: &Endpoint, timeout: Duration) -> Result<Opened, Failure> {
    let attempt = async {
        let stream =
            transport.connect(target.addr).await.map_err(|error| Reason::ConnectFailed(error.kind()))?;
        let (stream, tls) = match &target.tls {
            None => (stream, None),
            Some(tls) => {
                let started = tokio::time::Instant::now();
                let stream = tls.connector.connect(tls.name.clone(), stream).await.map_err(|error| {
                    if is_certificate_error(&error) {
                        Reason::TlsRejected
                    } else if error.kind() == std::io::ErrorKind::UnexpectedEof {
                        Reason::Eof
                    } else {
                        Reason::Reset
                    }
                })?;
                (Stream::from(stream), Some(started.elapsed()))
            }
        };
        let mut request =
            target.url.as_str().into_client_request().map_err(|_| Reason::HandshakeRejected(400))?;
        let headers = request.headers_mut();
        headers.insert(CLIENT_HEADER, HeaderValue::from(target.client));
        headers.insert(SESSION_HEADER, HeaderValue::from(target.session));
        if let Some(token) = &target.token
            && let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}"))
        {
            headers.insert("authorization", value);
        }
        if !target.subprotocols.is_empty()
            && let Ok(value) = HeaderValue::from_str(&target.subprotocols.join(", "))
        {
            headers.insert("sec-websocket-protocol", value);
        }
        for (name, value) in &target.headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            {
                headers.append(name, value);
            }
        }
        match client_async_with_config(request, stream, Some(websocket_config())).await {
            Ok((socket, _)) => Ok(Opened { socket, tls }),
            Err(Error::Http(response)) => Err(rejected(&response)),
            Err(error) => Err(Failure::from(reason(&error))),
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Reason::HandshakeTimeout.into()),
    }
}

/// A handshake answered with an HTTP error.
fn rejected<T>(response: &Response<T>) -> Failure {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Failure { reason: Reason::HandshakeRejected(response.status().as_u16()), retry_after }
}

/// The reason behind a tungstenite error on an open or opening connection.
pub fn reason(error: &Error) -> Reason {
    match error {
        Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => Reason::Eof,
        Error::Io(_) => Reason::Reset,
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake | ProtocolError::HandshakeIncomplete) => {
            Reason::Eof
        }
        Error::ConnectionClosed | Error::AlreadyClosed => Reason::Eof,
        _ => Reason::Reset,
    }
}
