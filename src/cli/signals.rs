//! Stopping on a signal. SIGINT (Ctrl-C), SIGTERM (what `kill`, systemd, Docker and CI runners
//! send to cancel a job) and SIGHUP (the terminal went away) all ask a command to stop cleanly:
//! a run stops its faults, lets clients drain and writes what it recorded, marked interrupted;
//! a serve loop stops and prints its last line. Without handlers the default action of SIGTERM
//! and SIGHUP would end the process at once, with no report and the tail of events.jsonl still
//! in its buffer. A second signal, of any of the three, exits at once with 128 + its number:
//! the way out when the clean stop itself hangs (a reader that never drains stdout, say).

use std::io;
use std::sync::{Arc, OnceLock};

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::Exit;

/// A signal that asks the command to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StopSignal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    Hangup,
}

impl StopSignal {
    /// The signal's name, as `kill -l` spells it with the `SIG` prefix.
    pub(super) fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
        }
    }

    /// The exit code of a command this signal stopped: 128 + the signal's number.
    pub(super) fn exit(self) -> Exit {
        match self {
            StopSignal::Interrupt => Exit::Interrupted,
            StopSignal::Terminate => Exit::Terminated,
            StopSignal::Hangup => Exit::HungUp,
        }
    }
}

/// The first stop signal, once one has come.
#[derive(Clone, Debug, Default)]
pub(super) struct Stopped(Arc<OnceLock<StopSignal>>);

impl Stopped {
    /// The first signal that came, if any.
    pub(super) fn signal(&self) -> Option<StopSignal> {
        self.0.get().copied()
    }

    /// The exit code of a command that was interrupted: the first signal's, or 130 (Ctrl-C)
    /// when the interrupt came some other way.
    pub(super) fn exit(&self) -> Exit {
        self.signal().map_or(Exit::Interrupted, StopSignal::exit)
    }
}

/// Installs the handlers before returning, so a signal that arrives at once is already caught,
/// then waits for signals on a thread of its own (so it works whichever runtime the command is
/// on, a paused sim runtime included): the first calls `on_first`; a second exits the process
/// at once. If the handlers cannot be installed, the command runs without them and says so.
pub(super) fn watch(on_first: impl FnOnce(StopSignal) + Send + 'static) -> Stopped {
    let stopped = Stopped::default();
    match install() {
        Ok((runtime, mut signals)) => {
            let first = stopped.clone();
            let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
                runtime.block_on(async move {
                    let signal = next(&mut signals).await;
                    let _ = first.0.set(signal);
                    on_first(signal);
                    let again = next(&mut signals).await;
                    say!("{}: a second signal; exiting at once", again.name());
                    std::process::exit(again.exit().code().into());
                });
            });
            if let Err(error) = spawned {
                say!("warning: cannot watch for signals: {error}");
            }
        }
        Err(error) => say!("warning: cannot watch for signals: {error}"),
    }
    stopped
}

/// The three signal streams, registered with the watcher's runtime.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

fn install() -> io::Result<(tokio::runtime::Runtime, Signals)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let signals = {
        // Registering needs the runtime's signal driver; the handlers are in place on return.
        let _entered = runtime.enter();
        Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        }
    };
    Ok((runtime, signals))
}

/// The next signal of the three.
async fn next(signals: &mut Signals) -> StopSignal {
    tokio::select! {
        biased;
        Some(()) = signals.interrupt.recv() => StopSignal::Interrupt,
        Some(()) = signals.terminate.recv() => StopSignal::Terminate,
        Some(()) = signals.hangup.recv() => StopSignal::Hangup,
        // Every stream ended: the driver is gone, and no signal can come any more.
        else => std::future::pending().await,
    }
}
