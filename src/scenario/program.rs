//! The validated model of programs under test: the user's own client program (launched
//! `clients.count` times instead of the reference client) and server (launched, or already
//! running at an upstream address). Only the live engine runs them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How long a client program gets to become ready when the file sets nothing.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a program gets to exit after its stop signal when the file sets nothing.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// The user's client program.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientProgram {
    /// argv with placeholders (`{url}`, `{index}`, `{count}`, `{seed}`).
    pub command: Vec<String>,
    /// The matrix: each entry runs its own command under its name. Empty when the file has no
    /// `strategies:`, in which case `command` runs under the name [`PROGRAM_ENTRY`].
    pub entries: Vec<ProgramEntry>,
    /// How the proxy tells the clients apart.
    pub identity: Identity,
    /// Whether the program reports events on its stdout.
    pub events: EventSource,
    /// How long each client gets to be ready: its `ready` event, or else its first connection.
    pub ready_timeout: Duration,
    /// How it is stopped at the end of the run.
    pub stop: StopPolicy,
    /// Extra environment variables, by name.
    pub env: Vec<(String, String)>,
    /// Whether a client may exit before the end without failing its strategy.
    pub allow_exit: bool,
    /// The folder the programs run in: the scenario file's.
    pub dir: PathBuf,
}

/// What a run of `clients.command` alone is called in reports.
pub const PROGRAM_ENTRY: &str = "program";

/// One entry of a client program's matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramEntry {
    /// Its name in reports.
    pub name: String,
    /// Its command, placeholders unfilled.
    pub command: Vec<String>,
}

impl ClientProgram {
    /// The matrix as it runs: the entries, or `command` alone as [`PROGRAM_ENTRY`].
    pub fn matrix(&self) -> Vec<ProgramEntry> {
        if self.entries.is_empty() {
            vec![ProgramEntry { name: PROGRAM_ENTRY.to_string(), command: self.command.clone() }]
        } else {
            self.entries.clone()
        }
    }
}

/// How the proxy tells the clients apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// Each client gets its own proxy listener, so nothing is asked of the client.
    Port,
    /// The URL carries `?wschaos_client=N`, which the client must keep across reconnects.
    Query,
    /// The client sends `x-wschaos-client: N` in its upgrade request.
    Header,
}

impl Identity {
    /// The names a scenario uses.
    pub const NAMES: [&'static str; 3] = ["port", "query", "header"];
}

/// Where a client program's events come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    /// Nowhere: wschaos measures from the proxy alone.
    None,
    /// One JSON object per line on its stdout (docs/client-protocol.md).
    Stdout,
}

impl EventSource {
    /// The names a scenario uses.
    pub const NAMES: [&'static str; 2] = ["none", "stdout"];

    /// The value of `WSCHAOS_EVENTS` that tells the program.
    pub fn name(self) -> &'static str {
        match self {
            EventSource::None => "none",
            EventSource::Stdout => "stdout",
        }
    }
}

/// How a program is stopped: a signal, a grace period, then SIGKILL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopPolicy {
    /// The signal sent first.
    pub signal: ProgramSignal,
    /// How long it gets to exit before SIGKILL.
    pub grace: Duration,
}

impl Default for StopPolicy {
    fn default() -> Self {
        StopPolicy { signal: ProgramSignal::Term, grace: STOP_GRACE }
    }
}

/// The signals a program may be stopped with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramSignal {
    /// SIGTERM.
    Term,
    /// SIGINT.
    Int,
    /// SIGHUP.
    Hup,
    /// SIGQUIT.
    Quit,
    /// SIGUSR1.
    Usr1,
    /// SIGUSR2.
    Usr2,
    /// SIGKILL: no grace.
    Kill,
}

impl ProgramSignal {
    /// Every signal with its name.
    pub const ALL: [(ProgramSignal, &'static str); 7] = [
        (ProgramSignal::Term, "SIGTERM"),
        (ProgramSignal::Int, "SIGINT"),
        (ProgramSignal::Hup, "SIGHUP"),
        (ProgramSignal::Quit, "SIGQUIT"),
        (ProgramSignal::Usr1, "SIGUSR1"),
        (ProgramSignal::Usr2, "SIGUSR2"),
        (ProgramSignal::Kill, "SIGKILL"),
    ];

    /// Its name, `SIGTERM` and so on.
    pub fn name(self) -> &'static str {
        ProgramSignal::ALL.iter().find(|(signal, _)| *signal == self).map_or("SIGTERM", |(_, name)| name)
    }

    /// The signal named `name` (`SIGTERM` or `TERM`, any case).
    pub fn named(name: &str) -> Option<ProgramSignal> {
        let upper = name.to_ascii_uppercase();
        let full = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
        ProgramSignal::ALL.iter().find(|(_, n)| *n == full).map(|(signal, _)| *signal)
    }
}

/// The server the proxy forwards to.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerUnderTest {
    /// wschaos's echo server, with the scenario's `server:` settings.
    Echo,
    /// The user's server program, launched for each strategy.
    Program(ServerProgram),
    /// A server that already runs at this address (loopback or a private test address).
    Upstream(SocketAddr),
}

/// The user's server program.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerProgram {
    /// argv with the `{port}` placeholder.
    pub command: Vec<String>,
    /// The port it listens on; 0 lets wschaos pick a free one and pass it as `{port}`.
    pub port: u16,
    /// How long it gets to accept connections on that port.
    pub ready_timeout: Duration,
    /// How it is stopped at the end of each strategy.
    pub stop: StopPolicy,
    /// Extra environment variables, by name.
    pub env: Vec<(String, String)>,
    /// The folder it runs in: the scenario file's.
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named_with_or_without_sig() {
        assert_eq!(ProgramSignal::named("SIGTERM"), Some(ProgramSignal::Term));
        assert_eq!(ProgramSignal::named("int"), Some(ProgramSignal::Int));
        assert_eq!(ProgramSignal::named("SigHup"), Some(ProgramSignal::Hup));
        assert_eq!(ProgramSignal::named("SIGSTOP"), None);
        for (signal, name) in ProgramSignal::ALL {
            assert_eq!(ProgramSignal::named(name), Some(signal));
            assert_eq!(signal.name(), name);
        }
    }
}
