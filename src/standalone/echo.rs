//! `wschaos echo`: the echo server on its own, on live TCP, for any WebSocket client.

use std::io::Write;
use std::net::SocketAddr;

use super::{ServeError, cannot_listen};
use crate::net::Transport;
use crate::scenario::ServerConfig;
use crate::seeds;
use crate::server::Server;

/// Serves on `listen` until `shutdown`; writes `listening on ws://ADDR` as the first line of
/// `out` and the counters as the last. If the first line cannot be written, it does not serve.
pub async fn serve(
    listen: SocketAddr,
    config: ServerConfig,
    seed: u64,
    mut out: impl Write,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let listener = Transport::Live
        .bind(listen)
        .await
        .map_err(|error| ServeError::Network(cannot_listen(listen, error)))?;
    let addr = listener.local_addr().map_err(ServeError::Network)?;
    writeln!(out, "listening on ws://{addr}").and_then(|()| out.flush()).map_err(ServeError::cut_short)?;
    let server = Server::new(config, seeds::derive(seed, &[seeds::SERVER]));
    let stats = server.serve(listener, shutdown).await.map_err(ServeError::Harness)?;
    writeln!(out, "{}", stats.summary()).and_then(|()| out.flush()).map_err(ServeError::at_the_end)
}
