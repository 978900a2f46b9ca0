//! `wschaos echo`: the echo server on its own, on live TCP, for any WebSocket client.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::{ServeError, cannot_listen};
use crate::net::Transport;
use crate::scenario::ServerConfig;
use crate::seeds;
use crate::server::Server;
use crate::tls::RunCertificates;

/// Serves on `listen` until `shutdown`; writes `listening on ws://ADDR` as the first line of
/// `out` and the counters as the last. If the first line cannot be written, it does not serve.
///
/// With `tls` (a folder), it speaks `wss://` with certificates made now, writes their CA to
/// `ca.pem` in that folder, and says so on the first line.
pub async fn serve(
    listen: SocketAddr,
    config: ServerConfig,
    seed: u64,
    tls: Option<PathBuf>,
    mut out: impl Write,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let listener = Transport::Live
        .bind(listen)
        .await
        .map_err(|error| ServeError::Network(cannot_listen(listen, error)))?;
    let addr = listener.local_addr().map_err(ServeError::Network)?;
    let (first, tls) = match tls {
        None => (format!("listening on ws://{addr}"), None),
        Some(dir) => {
            let certs = RunCertificates::generate().map_err(ServeError::Harness)?;
            let ca = certs.write_ca(&dir).map_err(ServeError::Network)?;
            let config = certs.server().map_err(ServeError::Harness)?;
            (format!("listening on wss://{addr} (CA certificate: {})", ca.display()), Some(config))
        }
    };
    writeln!(out, "{first}").and_then(|()| out.flush()).map_err(ServeError::cut_short)?;
    let server = Server::with_tls(config, seeds::derive(seed, &[seeds::SERVER]), tls);
    let stats = server.serve(listener, shutdown).await.map_err(ServeError::Harness)?;
    writeln!(out, "{}", stats.summary()).and_then(|()| out.flush()).map_err(ServeError::at_the_end)
}
