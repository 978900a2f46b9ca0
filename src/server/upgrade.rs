//! One connection's upgrade, start to end: the TLS handshake for `wss://`, read the request head, answer what is not an
//! upgrade with 400 (426 for another version) as a real server does, agree on
//! permessage-deflate when the client offers it (and the server allows it), then let
//! tungstenite check the token and answer 101, the answer held back by the drawn latency. Every outcome
//! is counted here; the session gets an open WebSocket or nothing.

use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{WebSocketStream, accept_hdr_async_with_config};
use tracing::debug;

use super::admission::{Admit, Held, Service};
use super::capacity::Turned;
use super::handshake::{Authorize, DelayedAnswer, Prefixed, check_upgrade, header_values, read_head};
use super::session::{Shared, own_failure};
use crate::net::Stream;
use crate::wire::deflate::{self, Deflate};
use crate::wire::websocket_config;

/// The stream under an open WebSocket: the head already read, handed on; permessage-deflate
/// when agreed; and the answer's latency.
pub(crate) type Socket = Prefixed<Deflate<DelayedAnswer<Held<Stream>>>>;

/// Upgrades `stream`, its answer held back by `latency`; with a `service` (the capacity
/// model's share of this upgrade), its request is held for the service time and, under
/// contention, the upgrade is decided when it ends. `Ok(None)` when it did not become a
/// WebSocket (the peer left, was refused or rejected): counted, nothing more to do.
///
/// Errors: the server's own failure (see `session::own_failure`).
pub(crate) async fn upgrade(
    stream: Stream,
    shared: &Shared,
    latency: Duration,
    service: Option<Service>,
) -> io::Result<Option<WebSocketStream<Socket>>> {
    let stream = match &shared.tls {
        None => stream,
        Some(tls) => match tls.0.accept(stream).await {
            Ok(tls) => Stream::from(tls),
            Err(error) => {
                // A client that refused the certificate, or left: not the server's failure.
                debug!(%error, "TLS handshake failed");
                shared.ledger().handshake_failed();
                return Ok(None);
            }
        },
    };
    let mut stream = DelayedAnswer::new(Held::new(stream, service.clone()), latency);
    let head = match read_head(&mut stream).await {
        Ok(Some(head)) => head,
        Ok(None) | Err(_) => {
            shared.ledger().handshake_failed();
            return Ok(None);
        }
    };
    if let Err(refusal) = check_upgrade(&head) {
        shared.say_once("not_an_upgrade", &format!("answered {}: {}", refusal.status, refusal.why));
        shared.ledger().not_an_upgrade();
        // The answer is all there is to say; a peer that went away meanwhile misses nothing.
        let _ = stream.write_all(&refusal.answer()).await;
        let _ = stream.shutdown().await;
        return Ok(None);
    }
    let offers = if shared.deflate { header_values(&head, "sec-websocket-extensions") } else { Vec::new() };
    let deflate = deflate::negotiate(&offers.iter().map(String::as_str).collect::<Vec<_>>());
    let authorize = Authorize {
        token: shared.auth_token.clone(),
        signed: shared.signed.clone(),
        extensions: deflate.map(|params| params.answer()),
    };
    let stream = Prefixed::new(head, Deflate::server(stream, deflate));
    let admit = Admit { authorize, service };
    let upgraded = accept_hdr_async_with_config(stream, admit, Some(websocket_config())).await;
    match upgraded {
        Ok(ws) => Ok(Some(ws)),
        Err(WsError::Http(response)) => {
            debug!(status = %response.status(), "upgrade rejected");
            let mut ledger = shared.ledger();
            ledger.handshake_rejected();
            if response.status() == 401 {
                ledger.turned_away(Turned::Unauthorized);
            }
            Ok(None)
        }
        Err(error) => {
            debug!(%error, "upgrade failed");
            shared.ledger().handshake_failed();
            own_failure(&error, "upgrade").map(|()| None)
        }
    }
}
