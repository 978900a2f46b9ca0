//! The sim engine's runtime, and the watchdog that keeps a stuck simulation from hanging.
//!
//! On a paused current-thread runtime, tokio jumps the clock to the next timer whenever every
//! task is idle, so the thread only really sleeps when nothing at all can happen: every task
//! waits and no timer is pending (the sim network has no I/O to wake it). That is a deadlock
//! of the simulated system, and without the watchdog the run would hang forever. The runtime's
//! park and unpark hooks tell a watchdog thread when the thread sleeps; if it sleeps through
//! [`STALL_CHECKS`] checks [`CHECK_EVERY`] apart, the watchdog wakes the run, which ends with
//! [`Stalled`]. The watchdog only ever reads these flags: it cannot change what the simulated
//! system does, so it does not touch determinism.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::net;

/// How often (in wall time) the watchdog looks.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// Checks in a row that find the thread asleep, with no wake in between, before it is a stall.
const STALL_CHECKS: u32 = 8;

/// The simulated system stopped: every task waits and no timer is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stalled {
    /// Virtual time from the start of the future to the stall.
    pub after: Duration,
}

/// The sim engine's runtime, with the hooks the watchdog reads.
#[derive(Debug)]
pub struct SimRuntime {
    runtime: Runtime,
    asleep: Arc<AtomicBool>,
    wakes: Arc<AtomicU64>,
}

impl SimRuntime {
    /// A current-thread runtime with a paused clock.
    pub fn new() -> std::io::Result<SimRuntime> {
        let asleep = Arc::new(AtomicBool::new(false));
        let wakes = Arc::new(AtomicU64::new(0));
        let (park, unpark, count) = (asleep.clone(), asleep.clone(), wakes.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .on_thread_park(move || park.store(true, Ordering::SeqCst))
            .on_thread_unpark(move || {
                unpark.store(false, Ordering::SeqCst);
                count.fetch_add(1, Ordering::SeqCst);
            })
            .build()?;
        Ok(SimRuntime { runtime, asleep, wakes })
    }

    /// Runs `future` to its end on this thread, refusing real sockets meanwhile
    /// ([`net::refuse_real_sockets`]), or until the simulated system stalls.
    pub fn run<F: Future>(&self, future: F) -> Result<F::Output, Stalled> {
        let _no_sockets = net::refuse_real_sockets();
        let stall = Arc::new(Notify::new());
        let done = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let (asleep, wakes, stall, done) =
                (self.asleep.clone(), self.wakes.clone(), stall.clone(), done.clone());
            std::thread::spawn(move || watch(&asleep, &wakes, &stall, &done))
        };
        let outcome = self.runtime.block_on(async {
            let start = Instant::now();
            tokio::select! {
                biased;
                output = future => Ok(output),
                () = stall.notified() => Err(Stalled { after: start.elapsed() }),
            }
        });
        done.store(true, Ordering::SeqCst);
        watchdog.thread().unpark();
        let _ = watchdog.join();
        outcome
    }
}

/// The watchdog's loop: wakes the run through `stall` once the thread has slept through
/// [`STALL_CHECKS`] checks with no wake, then stops; stops too once `done`.
fn watch(asleep: &AtomicBool, wakes: &AtomicU64, stall: &Notify, done: &AtomicBool) {
    let mut quiet = 0;
    let mut seen = wakes.load(Ordering::SeqCst);
    while !done.load(Ordering::SeqCst) {
        std::thread::park_timeout(CHECK_EVERY);
        let now = wakes.load(Ordering::SeqCst);
        quiet = if asleep.load(Ordering::SeqCst) && now == seen { quiet + 1 } else { 0 };
        seen = now;
        if quiet >= STALL_CHECKS {
            stall.notify_one();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_with_timers_runs_to_its_end_in_virtual_time() {
        let runtime = SimRuntime::new().unwrap();
        let output = runtime.run(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            7
        });
        assert_eq!(output, Ok(7), "an hour of virtual time is no stall");
    }

    #[test]
    fn waiting_forever_with_no_timer_is_a_stall_not_a_hang() {
        let runtime = SimRuntime::new().unwrap();
        let (_keep, never) = tokio::sync::oneshot::channel::<()>();
        let outcome = runtime.run(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let _ = never.await;
        });
        assert_eq!(outcome, Err(Stalled { after: Duration::from_secs(5) }));
    }

    #[test]
    fn real_sockets_are_refused_inside_a_sim_run() {
        let runtime = SimRuntime::new().unwrap();
        let errors = runtime.run(async {
            let bind = net::Transport::Live.bind(net::any_loopback()).await.err().map(|e| e.kind());
            let connect =
                net::Transport::Live.connect("127.0.0.1:9".parse().unwrap()).await.err().map(|e| e.kind());
            (bind, connect)
        });
        assert_eq!(
            errors,
            Ok((Some(std::io::ErrorKind::Unsupported), Some(std::io::ErrorKind::Unsupported)))
        );
        // Outside the sim run the same thread may open sockets again.
        assert!(net::real_sockets_allowed());
    }
}
