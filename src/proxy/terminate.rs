//! `proxy.tls: terminate`: the proxy ends the client's TLS with the run's certificate and opens
//! TLS of its own to the server, so a link carries plaintext between the two and the frame
//! observer, frame faults and `strip_deflate` work on `wss://` as on `ws://`.
//!
//! Each link pays two full handshakes (client to proxy, proxy to server), both before the link
//! runs, so link faults act on the decrypted bytes and never on a handshake. The proxy asks the
//! server for the name the client asked the proxy for (`c7.wschaos.test`), which the run's leaf
//! covers, and that name identifies the link's client as the ClientHello does in passthrough.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::UPSTREAM_CONNECT_TIMEOUT;
use super::control::{Control, OpenedLink};
use super::events::CloseCause;
use crate::net::Stream;
use crate::tls::{self, RunCertificates};
use crate::wire::HANDSHAKE_TIMEOUT;

/// The name the proxy asks the server for when the client sent none (a ClientHello without
/// SNI, as clients connecting to an IP address send).
pub const DEFAULT_SERVER_NAME: &str = "localhost";

/// What a terminating proxy needs: the certificate it presents to clients, and the CA it
/// trusts when it connects to the server.
#[derive(Clone)]
pub struct Termination {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
}

impl fmt::Debug for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Termination").finish_non_exhaustive()
    }
}

impl Termination {
    /// Presents `server`'s certificate to clients and connects to the server with `client`.
    pub fn new(server: Arc<rustls::ServerConfig>, client: Arc<rustls::ClientConfig>) -> Termination {
        Termination { acceptor: TlsAcceptor::from(server), connector: TlsConnector::from(client) }
    }

    /// Terminates with the run's certificates: the leaf the echo server presents, and trust in
    /// exactly the run's CA toward it.
    pub fn for_run(certs: &RunCertificates) -> io::Result<Termination> {
        Ok(Termination::new(certs.server()?, certs.client()?))
    }
}

/// Accepts TLS from a link's client within [`HANDSHAKE_TIMEOUT`] and identifies the link by the
/// name the client asked for; returns the decrypted stream and that name. A handshake that
/// fails or times out closes the link (`ClientTlsFailed`) and returns `None`: there is no
/// upstream to dial for it.
pub(super) async fn client_side(
    termination: &Termination,
    client: Stream,
    opened: &mut OpenedLink,
    control: &Control,
) -> Option<(Stream, String)> {
    let failed = match tokio::time::timeout(HANDSHAKE_TIMEOUT, termination.acceptor.accept(client)).await {
        Ok(Ok(stream)) => {
            let name = stream.get_ref().1.server_name().unwrap_or(DEFAULT_SERVER_NAME).to_string();
            if let Some(client) = tls::client_of_name(&name) {
                // Before the link runs, so the faults that target this client act on its first
                // bytes, as they do when a passthrough link reads the name off the ClientHello.
                opened.initial.extend(control.identify(opened.link, client));
            }
            return Some((Stream::from(stream), name));
        }
        Ok(Err(error)) => error.kind(),
        Err(_) => io::ErrorKind::TimedOut,
    };
    control.close_link(opened.link, CloseCause::ClientTlsFailed(failed));
    None
}

/// Opens TLS to the server over `server` within [`UPSTREAM_CONNECT_TIMEOUT`], asking for
/// `name`; the error's kind when it fails (a certificate the run's CA did not sign is
/// `InvalidData`).
pub(super) async fn server_side(
    termination: &Termination,
    server: Stream,
    name: &str,
) -> Result<Stream, io::ErrorKind> {
    let name = ServerName::try_from(name.to_string())
        .unwrap_or_else(|_| ServerName::try_from(DEFAULT_SERVER_NAME).expect("localhost is a DNS name"));
    match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, termination.connector.connect(name, server)).await {
        Ok(Ok(stream)) => Ok(Stream::from(stream)),
        Ok(Err(error)) => Err(error.kind()),
        Err(_) => Err(io::ErrorKind::TimedOut),
    }
}
