//! The harness's parts on their own, on live TCP, for programs wschaos does not start:
//! `wschaos echo` (the echo server), `wschaos proxy` (the fault proxy in front of any server)
//! and `wschaos client` (one reference client against any server). Each runs until a shutdown
//! future completes and writes one line per event, as the seconds since it started and what
//! happened, so a user can line them up with what their own program logged.

pub mod client;
pub mod echo;
pub mod proxy;

use std::fmt::Display;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

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
