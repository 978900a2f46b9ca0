//! A `wschaos` process started by a test: its stdout line by line, signals by name, and a
//! `Drop` that kills it if the test ends (or fails) while it still runs, so no test leaves a
//! process behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `wschaos` process and its stdout.
pub struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Process {
    /// Starts `wschaos ARGS` with stdout captured and stderr passed through.
    pub fn start(args: &[&str]) -> Process {
        Process::start_in(args, Stdio::inherit(), None)
    }

    /// Starts `wschaos ARGS` with stderr going to `stderr`, in `dir` if given.
    pub fn start_in(args: &[&str], stderr: Stdio, dir: Option<&Path>) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wschaos"));
        command.args(args).stdout(Stdio::piped()).stderr(stderr);
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let mut child = command.spawn().expect("the wschaos binary starts");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Process { child, lines }
    }

    /// The next line that satisfies `wanted`, waiting up to 30 s for each line.
    pub fn line(&self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line =
                self.lines.recv_timeout(Duration::from_secs(30)).expect("the process printed the line");
            if wanted(&line) {
                return line;
            }
        }
    }

    /// Sends the signal `name` (`INT`, `TERM`, `HUP`) to the process, by its id.
    pub fn signal(&self, name: &str) {
        // `kill` keeps the tests free of a libc dependency.
        let sent = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status();
        assert!(sent.is_ok_and(|status| status.success()), "kill -{name} reaches the process");
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("the process can be waited for")
    }

    /// Sends Ctrl-C (SIGINT) and checks a clean exit.
    pub fn interrupt(mut self) {
        self.signal("INT");
        let status = self.wait();
        assert!(status.success(), "exits cleanly on Ctrl-C: {status}");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
