//! The user's server program: launched on a port (a free one wschaos picks for `port: 0`),
//! ready once that port accepts a connection, stopped at the end of each strategy.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use super::output::Output;
use super::process::{Child, Launch, LaunchError};
use crate::net::Transport;
use crate::scenario::command::expand;
use crate::scenario::program::ServerProgram;

/// How often the port is tried while the server starts.
const POLL: Duration = Duration::from_millis(25);

/// Why the server program is not serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// It could not be started.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// It ended before it accepted a connection.
    #[error("the server {exit} before it accepted connections on {addr}{tail}")]
    Exited {
        /// How it ended.
        exit: String,
        /// Where it was to listen.
        addr: SocketAddr,
        /// Its last lines of output, formatted.
        tail: String,
    },
    /// It did not accept a connection in time.
    #[error("the server did not accept connections on {addr} within {waited:?}{tail}")]
    NotReady {
        /// Where it was to listen.
        addr: SocketAddr,
        /// How long it was given.
        waited: Duration,
        /// Its last lines of output, formatted.
        tail: String,
    },
}

/// Starts `program` with `seed`, its output logged to `log`, and waits until its port accepts.
pub async fn launch(
    program: &ServerProgram,
    seed: u64,
    log: Option<&Path>,
) -> Result<(Child, SocketAddr), ServerError> {
    let port = match program.port {
        0 => free_port().await.map_err(|error| LaunchError::Io {
            name: "the server".into(),
            program: program.command.first().cloned().unwrap_or_default(),
            error,
        })?,
        port => port,
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let value = |name: &str| (name == "port").then(|| port.to_string());
    let argv = program
        .command
        .iter()
        .map(|word| expand(word, value).expect("validation checked the server's placeholders"))
        .collect();
    let mut env = program.env.clone();
    env.push(("WSCHAOS_PORT".into(), port.to_string()));
    env.push(("WSCHAOS_SEED".into(), seed.to_string()));
    let launch = Launch {
        name: "the server".into(),
        argv,
        env,
        cwd: program.dir.clone(),
        log: log.map(Path::to_path_buf),
    };
    let (mut child, stdout) = Child::spawn(&launch)?;
    let output = child.output().clone();
    tokio::spawn(async move { output.pump(tokio::io::BufReader::new(stdout)).await });
    let deadline = Instant::now() + program.ready_timeout;
    loop {
        if Transport::Live.connect(addr).await.is_ok() {
            return Ok((child, addr));
        }
        if let Some(exit) = child.exited() {
            return Err(ServerError::Exited { exit: exit.to_string(), addr, tail: tail(child.output()) });
        }
        if Instant::now() >= deadline {
            let tail = tail(child.output());
            child.stop(program.stop.signal.into(), program.stop.grace).await;
            return Err(ServerError::NotReady { addr, waited: program.ready_timeout, tail });
        }
        tokio::select! {
            biased;
            _ = child.wait() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// A port nobody listens on now: bound and released. Another program could take it in
/// between, which the readiness check would then report.
async fn free_port() -> std::io::Result<u16> {
    let listener = Transport::Live.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    Ok(listener.local_addr()?.port())
}

/// A program's last lines, indented under a heading, or nothing when it printed nothing.
pub fn tail(output: &Output) -> String {
    let lines = output.tail();
    if lines.is_empty() {
        return String::new();
    }
    let mut text = String::from("\n  its last lines:");
    for line in lines {
        text.push_str("\n    ");
        text.push_str(&line);
    }
    text
}
