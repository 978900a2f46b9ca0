//! The harness's parts on their own, on live TCP, for programs wschaos does not start:
//! `wschaos echo` (the echo server), `wschaos proxy` (the fault proxy in front of any server)
//! and `wschaos client` (one reference client against any server). Each runs until a shutdown
//! future completes and writes one line per event, as the seconds since it started and what
//! happened, so a user can line them up with what their own program logged.
//!
//! Their output is the point of running them: when it can no longer be written (the reader of
//! a pipe went away, the disk behind a redirect is full) a part stops, as a Unix tool ended by
//! SIGPIPE would, and says so with [`ServeError::Output`] rather than serving on unseen.

pub mod client;
pub mod echo;
pub mod proxy;

use std::fmt::Display;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// Why a part stopped other than by its shutdown future.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// It could not listen, or its listener failed; the message says where.
    #[error("{0}")]
    Network(io::Error),
    /// It failed on its own once serving (a listener that could not accept for seconds, a
    /// task that panicked): wschaos's failure, not the peer's. The message names the part.
    #[error("{0}")]
    Harness(io::Error),
    /// Its output could not be written.
    #[error("cannot write the output: {error}")]
    Output {
        /// The write's error: `ErrorKind::BrokenPipe` when the reader went away.
        error: io::Error,
        /// Whether it cut the part's work short (a line while serving), rather than coming at
        /// the very end (the last line, after the shutdown).
        cut_short: bool,
    },
}

impl ServeError {
    /// An output failure while serving: the part stops.
    pub(crate) fn cut_short(error: io::Error) -> ServeError {
        ServeError::Output { error, cut_short: true }
    }

    /// An output failure in the last line, once the part had stopped anyway.
    pub(crate) fn at_the_end(error: io::Error) -> ServeError {
        ServeError::Output { error, cut_short: false }
    }
}

/// A bind failure that names the flag and address, for the command line.
pub fn cannot_listen(listen: SocketAddr, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("--listen {listen}: cannot listen there: {error}"))
}

/// Writes one event line, `   12.345s  what`, and flushes it; an error means the reader went
/// away and the printer should stop.
pub(crate) fn write_event(out: &mut impl Write, since_start: Duration, what: impl Display) -> io::Result<()> {
    writeln!(out, "{:>9.3}s  {what}", since_start.as_secs_f64())?;
    out.flush()
}
