//! Process exit codes (README.md, "Exit codes"), in one place so the binary and the tests agree.

/// Why the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every SLO holds, or the command succeeded.
    Ok = 0,
    /// An SLO failed.
    SloFailed = 1,
    /// A bad scenario, bad usage, or a feature that is not built yet.
    BadInput = 2,
    /// Inconclusive: a fault hit nothing.
    Inconclusive = 3,
    /// The same seed gave different results.
    NonDeterministic = 4,
    /// A bug in wschaos.
    Internal = 70,
    /// An output file (or stdout) could not be written: sysexits.h's `EX_IOERR`.
    IoError = 74,
    /// Stopped by SIGHUP, its terminal gone (128 + 1, the shell convention).
    HungUp = 129,
    /// Interrupted by Ctrl-C (128 + SIGINT, the shell convention).
    Interrupted = 130,
    /// Its stdout was closed while it still had work to do (128 + SIGPIPE, what a shell
    /// reports for a program the signal ended).
    BrokenPipe = 141,
    /// Stopped by SIGTERM, as `kill`, systemd, Docker and CI runners send (128 + 15).
    Terminated = 143,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
