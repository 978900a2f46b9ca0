//! One program under test as a child process: launched without a shell in its own process
//! group, its output kept in a log file and its last lines in memory, stopped with a signal and
//! a grace period, then SIGKILL. A [`Child`] that is dropped while the program still runs kills
//! its process group, so no program outlives the run on any exit path wschaos itself survives.
//! Only processes this module started are signalled, by their own process group id.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::process::ChildStdout;
use tokio::sync::watch;
use tokio::time::Instant;

/// How many of a program's last output lines are kept to show when it exits early.
pub const TAIL_LINES: usize = 30;

/// The most a program's log file takes; past it the rest is dropped and the log says so.
pub const MAX_LOG_BYTES: u64 = 64 << 20;

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

impl From<crate::scenario::program::StopSignal> for Signal {
    fn from(signal: crate::scenario::program::StopSignal) -> Signal {
        use crate::scenario::program::StopSignal;
        match signal {
            StopSignal::Term => Signal::SIGTERM,
            StopSignal::Int => Signal::SIGINT,
            StopSignal::Hup => Signal::SIGHUP,
            StopSignal::Quit => Signal::SIGQUIT,
            StopSignal::Usr1 => Signal::SIGUSR1,
            StopSignal::Usr2 => Signal::SIGUSR2,
            StopSignal::Kill => Signal::SIGKILL,
        }
    }
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// When wschaos saw it end.
    pub at: Instant,
}

impl std::fmt::Display for Exit {
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
pub enum Stopped {
    /// It had already ended by itself.
    Before(Exit),
    /// It ended within the grace period after the stop signal.
    Signalled(Exit),
    /// It outlived the grace period and was killed.
    Killed(Option<Exit>),
}

/// A running program.
#[derive(Debug)]
pub struct Child {
    name: String,
    pgid: Pid,
    exit: watch::Receiver<Option<Exit>>,
    output: Output,
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
            let _ = set_exit.send(Some(Exit { code, signal, at: Instant::now() }));
        });
        let pump = output.clone();
        tokio::spawn(async move { pump.pump(tokio::io::BufReader::new(stderr)).await });
        Ok((Child { name: launch.name.clone(), pgid: pid, exit, output }, stdout))
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
    pub fn exit_watch(&self) -> watch::Receiver<Option<Exit>> {
        self.exit.clone()
    }

    /// How it ended, if it has.
    pub fn exited(&self) -> Option<Exit> {
        *self.exit.borrow()
    }

    /// Waits until it ends.
    pub async fn wait(&mut self) -> Exit {
        loop {
            if let Some(exit) = *self.exit.borrow_and_update() {
                return exit;
            }
            if self.exit.changed().await.is_err() {
                // The waiter is gone without a status: treat the program as ended now.
                return Exit { code: None, signal: None, at: Instant::now() };
            }
        }
    }

    /// Sends `signal` to its process group, waits up to `grace` for it to end, then kills the
    /// group.
    pub async fn stop(&mut self, signal: Signal, grace: Duration) -> Stopped {
        if let Some(exit) = self.exited() {
            return Stopped::Before(exit);
        }
        self.signal(signal);
        if let Ok(exit) = tokio::time::timeout(grace, self.wait()).await {
            return Stopped::Signalled(exit);
        }
        self.signal(Signal::SIGKILL);
        Stopped::Killed(tokio::time::timeout(KILL_WAIT, self.wait()).await.ok())
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

/// A program's output: its log file (bounded by [`MAX_LOG_BYTES`]) and its last
/// [`TAIL_LINES`] lines. Shared by the tasks that read its stdout and stderr.
#[derive(Clone, Debug)]
pub struct Output(Arc<Mutex<OutputState>>);

#[derive(Debug)]
struct OutputState {
    file: Option<File>,
    path: Option<PathBuf>,
    written: u64,
    dropped: u64,
    tail: VecDeque<String>,
    error: Option<String>,
}

impl Output {
    fn open(path: Option<&Path>) -> io::Result<Output> {
        let file = path.map(File::create).transpose()?;
        Ok(Output(Arc::new(Mutex::new(OutputState {
            file,
            path: path.map(Path::to_path_buf),
            written: 0,
            dropped: 0,
            tail: VecDeque::with_capacity(TAIL_LINES),
            error: None,
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, OutputState> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps one line of output.
    pub fn line(&self, line: &str) {
        let mut state = self.lock();
        if state.tail.len() == TAIL_LINES {
            state.tail.pop_front();
        }
        state.tail.push_back(line.to_string());
        let bytes = line.len() as u64 + 1;
        if state.written + bytes > MAX_LOG_BYTES {
            state.dropped += bytes;
            return;
        }
        state.written += bytes;
        let OutputState { file, error, .. } = &mut *state;
        if let Some(handle) = file
            && let Err(problem) = writeln!(handle, "{line}")
        {
            error.get_or_insert_with(|| problem.to_string());
            *file = None;
        }
    }

    /// Reads `reader` line by line into the output until it ends.
    pub async fn pump(&self, mut reader: impl AsyncBufRead + Unpin) {
        while let Some(line) = next_line(&mut reader).await {
            match line {
                ReadLine::Line(line) => self.line(&line),
                ReadLine::Overlong => self.line("[wschaos: a line over 64 KiB was cut]"),
            }
        }
    }

    /// The last lines, oldest first.
    pub fn tail(&self) -> Vec<String> {
        self.lock().tail.iter().cloned().collect()
    }

    /// The log file, if there is one.
    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path.clone()
    }

    /// What went wrong with the log, in words: bytes dropped past the cap, a failed write.
    pub fn problems(&self) -> Vec<String> {
        let state = self.lock();
        let mut problems = Vec::new();
        if state.dropped > 0 {
            problems.push(format!(
                "wrote more than {} MiB of output; {} bytes past that were not logged",
                MAX_LOG_BYTES >> 20,
                state.dropped
            ));
        }
        if let Some(error) = &state.error {
            problems.push(format!("its log could not be written: {error}"));
        }
        problems
    }
}

/// One line read by [`next_line`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadLine {
    /// A line, without its ending (invalid UTF-8 replaced).
    Line(String),
    /// A line longer than [`super::protocol::MAX_LINE_BYTES`], skipped to its end.
    Overlong,
}

/// The next line of `reader`, holding at most [`super::protocol::MAX_LINE_BYTES`] of it in
/// memory whatever the program writes; `None` at the end.
pub async fn next_line(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<ReadLine> {
    let limit = super::protocol::MAX_LINE_BYTES;
    let mut line = Vec::new();
    let mut overlong = false;
    loop {
        let buffer = match reader.fill_buf().await {
            Ok(buffer) => buffer,
            Err(_) => &[][..],
        };
        if buffer.is_empty() {
            return match (line.is_empty(), overlong) {
                (true, false) => None,
                (_, true) => Some(ReadLine::Overlong),
                (false, false) => Some(ReadLine::Line(text(line))),
            };
        }
        let (chunk, ended) = match buffer.iter().position(|b| *b == b'\n') {
            Some(end) => (&buffer[..end], Some(end + 1)),
            None => (buffer, None),
        };
        if !overlong {
            if line.len() + chunk.len() > limit {
                overlong = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = ended.unwrap_or(buffer.len());
        reader.consume(used);
        if ended.is_some() {
            return Some(if overlong { ReadLine::Overlong } else { ReadLine::Line(text(line)) });
        }
    }
}

fn text(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8]) -> Vec<ReadLine> {
        let mut reader = tokio::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        while let Some(line) = next_line(&mut reader).await {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn lines_are_split_across_buffer_refills() {
        let got = lines(b"first line\r\nsecond\n\nlast without end").await;
        let want = ["first line", "second", "", "last without end"].map(|l| ReadLine::Line(l.into()));
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn an_overlong_line_is_skipped_and_the_next_one_read() {
        let long = "x".repeat(super::super::protocol::MAX_LINE_BYTES + 1);
        let got = lines(format!("{long}\nafter\n").as_bytes()).await;
        assert_eq!(got, [ReadLine::Overlong, ReadLine::Line("after".into())]);
    }

    #[test]
    fn the_tail_keeps_the_last_lines_and_the_log_stops_at_its_cap() {
        let output = Output::open(None).unwrap();
        for n in 0..100 {
            output.line(&format!("line {n}"));
        }
        let tail = output.tail();
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail.first().map(String::as_str), Some("line 70"));
        assert_eq!(tail.last().map(String::as_str), Some("line 99"));
        assert!(output.problems().is_empty());
        output.lock().written = MAX_LOG_BYTES;
        output.line("one more");
        assert!(output.problems()[0].contains("more than 64 MiB"), "{:?}", output.problems());
    }

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
        assert!(matches!(stopped, Stopped::Killed(Some(Exit { signal: Some(9), .. }))), "{stopped:?}");
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
        assert!(matches!(stopped, Stopped::Signalled(Exit { code: Some(0), .. })), "{stopped:?}");

        let (mut early, _stdout) = Child::spawn(&sh("exit 3")).unwrap();
        let exit = early.wait().await;
        assert_eq!((exit.code, exit.to_string()), (Some(3), "exited with code 3".to_string()));
        assert!(matches!(early.stop(Signal::SIGTERM, Duration::ZERO).await, Stopped::Before(_)));
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
