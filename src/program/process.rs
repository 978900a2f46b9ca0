//! One program under test as a child process: launched without a shell in its own process
//! group, its output kept in a log file and its last lines in memory, stopped with a signal and
//! a grace period, then SIGKILL. A [`Child`] that is dropped while the program still runs kills
//! its process group, so no program outlives the run on any exit path wschaos itself survives.
//! Only processes this module started are signalled, by their own process group id.

use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::output::Output;
use tokio::process::ChildStdout;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a program gets to die after SIGKILL before wschaos stops waiting for it.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Who it is in messages: `client 3`, `the server`.
    pub name: String,
    /// The program and its arguments, placeholders already filled in.
    pub argv: Vec<String>,
    /// Variables added to wschaos's own environment.
    pub env: Vec<(String, String)>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Where its output goes, if anywhere besides the kept last lines.
    pub log: Option<PathBuf>,
}

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The executable does not exist (or is not on `PATH`).
    #[error("{name}: cannot start `{program}`: no such program (looked in {where_})")]
    NotFound {
        /// Who.
        name: String,
        /// `argv[0]`.
        program: String,
        /// Where it was looked for.
        where_: String,
    },
    /// Any other failure to start it, or to open its log.
    #[error("{name}: cannot start `{program}`: {error}")]
    Io {
        /// Who.
        name: String,
        /// `argv[0]`.
        program: String,
        /// The error.
        error: io::Error,
    },
}

impl From<crate::scenario::program::ProgramSignal> for Signal {
    fn from(signal: crate::scenario::program::ProgramSignal) -> Signal {
        use crate::scenario::program::ProgramSignal;
        match signal {
            ProgramSignal::Term => Signal::SIGTERM,
            ProgramSignal::Int => Signal::SIGINT,
            ProgramSignal::Hup => Signal::SIGHUP,
            ProgramSignal::Quit => Signal::SIGQUIT,
            ProgramSignal::Usr1 => Signal::SIGUSR1,
            ProgramSignal::Usr2 => Signal::SIGUSR2,
            ProgramSignal::Kill => Signal::SIGKILL,
        }
    }
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramEnd {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// When wschaos saw it end.
    pub at: Instant,
}

impl std::fmt::Display for ProgramEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exited with code {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(signal) => write!(f, "killed by {}", signal.as_str()),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
            (None, None) => write!(f, "ended"),
        }
    }
}

/// How [`Child::stop`] ended a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopOutcome {
    /// It had already ended by itself.
    Before(ProgramEnd),
    /// It ended within the grace period after the stop signal.
    Signalled(ProgramEnd),
    /// It outlived the grace period and was killed.
    Killed(Option<ProgramEnd>),
}

/// A running program.
#[derive(Debug)]
pub struct Child {
    name: String,
    pgid: Pid,
    exit: watch::Receiver<Option<ProgramEnd>>,
    output: Output,
    /// True once its stderr has ended and every line of it is in `output`.
    output_drained: watch::Receiver<bool>,
}

impl Child {
    /// Starts `launch` in a process group of its own, with stdin closed, stderr pumped into its
    /// output, and stdout handed back for the caller to read (events, or [`Output::pump`]).
    pub fn spawn(launch: &Launch) -> Result<(Child, ChildStdout), LaunchError> {
        let io_error = |error| LaunchError::Io {
            name: launch.name.clone(),
            program: launch.argv.first().cloned().unwrap_or_default(),
            error,
        };
        let output = Output::open(launch.log.as_deref()).map_err(io_error)?;
        let Some((program, args)) = launch.argv.split_first() else {
            return Err(io_error(io::Error::new(io::ErrorKind::InvalidInput, "the command is empty")));
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&launch.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => LaunchError::NotFound {
                name: launch.name.clone(),
                program: program.clone(),
                where_: if program.contains('/') {
                    format!("{}", launch.cwd.display())
                } else {
                    "PATH".to_string()
                },
            },
            _ => io_error(error),
        })?;
        let pid = child.id().map(|id| Pid::from_raw(id as i32));
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (Some(pid), Some(stdout), Some(stderr)) = (pid, stdout, stderr) else {
            return Err(io_error(io::Error::other("the program ended before it could be watched")));
        };
        let (set_exit, exit) = watch::channel(None);
        tokio::spawn(async move {
            let status = child.wait().await;
            let (code, signal) = match status {
                Ok(status) => {
                    use std::os::unix::process::ExitStatusExt;
                    (status.code(), status.signal())
                }
                Err(_) => (None, None),
            };
            let _ = set_exit.send(Some(ProgramEnd { code, signal, at: Instant::now() }));
        });
        let pump = output.clone();
        let (drained, output_drained) = watch::channel(false);
        tokio::spawn(async move {
            pump.pump(tokio::io::BufReader::new(stderr)).await;
            let _ = drained.send(true);
        });
        Ok((Child { name: launch.name.clone(), pgid: pid, exit, output, output_drained }, stdout))
    }

    /// Who it is in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its output: the log file and the last lines.
    pub fn output(&self) -> &Output {
        &self.output
    }

    /// A receiver that holds how it ended, once it has.
    pub fn exit_watch(&self) -> watch::Receiver<Option<ProgramEnd>> {
        self.exit.clone()
    }

    /// A receiver that turns true once its stderr has ended and been read to the last line,
    /// so what it wrote before exiting is in its output (a process it left behind may keep
    /// stderr open: wait for this with a timeout).
    pub fn output_drained(&self) -> watch::Receiver<bool> {
        self.output_drained.clone()
    }

    /// How it ended, if it has.
    pub fn exited(&self) -> Option<ProgramEnd> {
        *self.exit.borrow()
    }

    /// Waits until it ends.
    pub async fn wait(&mut self) -> ProgramEnd {
        loop {
            if let Some(exit) = *self.exit.borrow_and_update() {
                return exit;
            }
            if self.exit.changed().await.is_err() {
                // The waiter is gone without a status: treat the program as ended now.
                return ProgramEnd { code: None, signal: None, at: Instant::now() };
            }
        }
    }

    /// Sends `signal` to its process group, waits up to `grace` for it to end, then kills the
    /// group.
    pub async fn stop(&mut self, signal: Signal, grace: Duration) -> StopOutcome {
        if let Some(exit) = self.exited() {
            return StopOutcome::Before(exit);
        }
        self.signal(signal);
        if let Ok(exit) = tokio::time::timeout(grace, self.wait()).await {
            return StopOutcome::Signalled(exit);
        }
        self.signal(Signal::SIGKILL);
        StopOutcome::Killed(tokio::time::timeout(KILL_WAIT, self.wait()).await.ok())
    }

    fn signal(&self, signal: Signal) {
        if self.exited().is_none() {
            // ESRCH: it ended between the check and the signal; nothing to do.
            let _ = killpg(self.pgid, signal);
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::output::{ReadLine, next_line};

    fn sh(script: &str) -> Launch {
        Launch {
            name: "client 0".into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![("GREETING".into(), "hello".into())],
            cwd: std::env::temp_dir(),
            log: None,
        }
    }

    #[tokio::test]
    async fn a_program_that_ignores_the_stop_signal_is_killed_after_the_grace() {
        let script = "trap '' TERM; echo $GREETING >&2; echo trapped; sleep 30";
        let (mut child, stdout) = Child::spawn(&sh(script)).unwrap();
        // The signal must come after the trap is set.
        let mut stdout = tokio::io::BufReader::new(stdout);
        assert_eq!(next_line(&mut stdout).await, Some(ReadLine::Line("trapped".into())));
        let started = Instant::now();
        let stopped = child.stop(Signal::SIGTERM, Duration::from_millis(300)).await;
        assert!(
            matches!(stopped, StopOutcome::Killed(Some(ProgramEnd { signal: Some(9), .. }))),
            "{stopped:?}"
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(child.output().tail(), ["hello"]);
    }

    #[tokio::test]
    async fn a_program_that_exits_on_the_signal_is_signalled_and_an_early_exit_is_seen() {
        let script = "trap 'exit 0' TERM; echo trapped; while :; do sleep 0.05; done";
        let (mut child, stdout) = Child::spawn(&sh(script)).unwrap();
        let mut stdout = tokio::io::BufReader::new(stdout);
        assert_eq!(next_line(&mut stdout).await, Some(ReadLine::Line("trapped".into())));
        let stopped = child.stop(Signal::SIGTERM, Duration::from_secs(5)).await;
        assert!(matches!(stopped, StopOutcome::Signalled(ProgramEnd { code: Some(0), .. })), "{stopped:?}");

        let (mut early, _stdout) = Child::spawn(&sh("exit 3")).unwrap();
        let exit = early.wait().await;
        assert_eq!((exit.code, exit.to_string()), (Some(3), "exited with code 3".to_string()));
        assert!(matches!(early.stop(Signal::SIGTERM, Duration::ZERO).await, StopOutcome::Before(_)));
    }

    #[tokio::test]
    async fn dropping_a_child_kills_its_whole_process_group() {
        // The shell starts a grandchild and reports its pid; both must be gone after the drop.
        let (child, stdout) = Child::spawn(&sh("sleep 30 & echo $!; wait")).unwrap();
        let mut stdout = tokio::io::BufReader::new(stdout);
        let Some(ReadLine::Line(pid)) = next_line(&mut stdout).await else { panic!("no pid") };
        let grandchild = Pid::from_raw(pid.trim().parse().unwrap());
        assert!(nix::sys::signal::kill(grandchild, None).is_ok(), "the grandchild runs");
        drop(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        // A killed process whose parent died stays a zombie until init reaps it: that is gone too.
        let alive = |pid: Pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            !stat.is_empty() && !stat.contains(") Z ")
        };
        while alive(grandchild) {
            assert!(Instant::now() < deadline, "the grandchild survived its group's kill");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[test]
    fn a_missing_program_is_named() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let launch = Launch { argv: vec!["wschaos-no-such-program".into()], ..sh("") };
        let error = runtime.block_on(async { Child::spawn(&launch).map(|_| ()) }).unwrap_err();
        assert_eq!(
            error.to_string(),
            "client 0: cannot start `wschaos-no-such-program`: no such program (looked in PATH)"
        );
    }
}
