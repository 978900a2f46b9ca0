//! `wschaos echo`: the echo server on its own, on live TCP, for any WebSocket client.

use std::io::Write;
use std::net::SocketAddr;

use super::cannot_listen;
use crate::net::Transport;
use crate::scenario::ServerConfig;
use crate::seeds;
use crate::server::Server;

/// Serves on `listen` until `shutdown`; writes `listening on ws://ADDR` as the first line of
/// `out` and the counters as the last.
pub async fn serve(
    listen: SocketAddr,
    config: ServerConfig,
    seed: u64,
    mut out: impl Write,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = Transport::Live.bind(listen).await.map_err(|error| cannot_listen(listen, error))?;
    writeln!(out, "listening on ws://{}", listener.local_addr()?)?;
    out.flush()?;
    let server = Server::new(config, seeds::derive(seed, &[seeds::SERVER]));
    let stats = server.serve(listener, shutdown).await?;
    writeln!(out, "{}", stats.summary())?;
    out.flush()
}
