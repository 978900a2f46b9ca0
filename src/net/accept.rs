//! What an accept loop does when `accept` fails, shared by the echo server's and the proxy's
//! loops: which errors are about one connection (try the next one at once), which are about
//! the process running short of something (back off, count, warn at most once a second) and
//! which mean the listener itself is broken (stop, and say so: it is wschaos's own failure,
//! never the client's).
//!
//! Running out of descriptors (EMFILE) is the usual case: the kernel keeps the connection in
//! the backlog, so the listener stays readable and an accept loop that retries at once spins
//! on the same error, thousands of warnings a second. One that gives up at once ends the
//! server while clients wait in its backlog and look "lost". Here it waits 10 ms, doubling to
//! 1 s, and gives up only when no accept has succeeded for [`PERSIST`].

use std::io;
use std::time::Duration;

use nix::errno::Errno;
use tokio::time::Instant;

/// The first wait after a resource error: long enough for a few connections to close and free
/// their descriptors, short enough that a passing shortage costs clients little.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// The longest wait between two tries: a listener that recovers is used again within a second.
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How long resource errors may go on, with no accept succeeding in between, before the
/// listener is taken as failed. Five seconds outlasts a burst of reconnects releasing their
/// descriptors (they close within a round trip) and is short against any scenario's quiet
/// period, so a run that cannot accept ends as the harness's failure long before its clients'
/// figures could be taken for theirs.
pub const PERSIST: Duration = Duration::from_secs(5);

/// At most one warning line per this long; the line counts the failures it stands for.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// What an accept error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptErrorKind {
    /// One connection that failed before it could be accepted (aborted, reset, a network
    /// error the kernel passes on from the new socket): the next accept is unaffected.
    Connection,
    /// The process or the system is short of descriptors, buffers or memory: EMFILE, ENFILE,
    /// ENOBUFS, ENOMEM. It may pass; retried with backoff.
    Resource,
    /// Anything else: the listener itself is unusable.
    Listener,
}

/// Sorts an accept error. Linux's accept(2) asks for ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN,
/// ENONET, EHOSTUNREACH, EOPNOTSUPP and ENETUNREACH to be treated as "try again", as they
/// belong to the connection; ECONNABORTED is a connection reset while in the backlog.
pub fn classify(error: &io::Error) -> AcceptErrorKind {
    if let Some(code) = error.raw_os_error() {
        return match Errno::from_raw(code) {
            Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM => AcceptErrorKind::Resource,
            Errno::ECONNABORTED
            | Errno::ECONNRESET
            | Errno::ECONNREFUSED
            | Errno::EINTR
            | Errno::EAGAIN
            | Errno::EPERM
            | Errno::ETIMEDOUT
            | Errno::ENETDOWN
            | Errno::EPROTO
            | Errno::ENOPROTOOPT
            | Errno::EHOSTDOWN
            | Errno::ENONET
            | Errno::EHOSTUNREACH
            | Errno::EOPNOTSUPP
            | Errno::ENETUNREACH => AcceptErrorKind::Connection,
            _ => AcceptErrorKind::Listener,
        };
    }
    // Errors without an OS code come from our own layers: setting TCP_NODELAY on a connection
    // that is already gone (InvalidInput), or the sim network.
    match error.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::InvalidInput
        | io::ErrorKind::Interrupted => AcceptErrorKind::Connection,
        io::ErrorKind::OutOfMemory => AcceptErrorKind::Resource,
        _ => AcceptErrorKind::Listener,
    }
}

/// One accept loop's handling of failed accepts: the backoff, the streak of resource errors
/// and the rate-limited warning. Pure apart from the warning: the caller passes the time and
/// does the waiting, so the sim engine's paused clock governs it.
#[derive(Debug)]
pub struct AcceptRetry {
    /// Names the loop in warnings and errors: `echo server`, `proxy`.
    component: String,
    /// Since when resource errors have gone on with no accept succeeding, and the next wait.
    streak: Option<(Instant, Duration)>,
    /// Every failed accept so far.
    errors: u64,
    /// Failed accepts since the last warning line.
    unreported: u64,
    /// When the last warning line went out.
    last_warning: Option<Instant>,
    /// Warning lines written so far.
    warnings: u64,
}

impl AcceptRetry {
    /// The retry state of the loop named `component`.
    pub fn new(component: impl Into<String>) -> AcceptRetry {
        AcceptRetry {
            component: component.into(),
            streak: None,
            errors: 0,
            unreported: 0,
            last_warning: None,
            warnings: 0,
        }
    }

    /// Every accept that failed so far, of whatever kind.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Warning lines written so far: at most one a second however fast accepts fail.
    pub fn warnings(&self) -> u64 {
        self.warnings
    }

    /// An accept succeeded: a streak of resource errors is over. Failures not yet warned
    /// about are counted in the next warning, whenever that comes.
    pub fn accepted(&mut self) {
        self.streak = None;
    }

    /// An accept failed at `now` with `error`: how long to wait before the next one, or the
    /// error that ends the loop (a broken listener, or resource errors that went on for
    /// [`PERSIST`]), worded for a person and naming the component.
    pub fn failed(&mut self, error: &io::Error, now: Instant) -> Result<Duration, io::Error> {
        self.errors += 1;
        match classify(error) {
            AcceptErrorKind::Connection => {
                tracing::debug!(%error, "{}: a connection failed before it was accepted", self.component);
                Ok(Duration::ZERO)
            }
            AcceptErrorKind::Listener => {
                Err(io::Error::new(error.kind(), format!("{}: its listener failed: {error}", self.component)))
            }
            AcceptErrorKind::Resource => self.resource_error(error, now),
        }
    }

    fn resource_error(&mut self, error: &io::Error, now: Instant) -> Result<Duration, io::Error> {
        let (since, delay) = *self.streak.get_or_insert((now, FIRST_BACKOFF));
        let failing_for = now.saturating_duration_since(since);
        if failing_for >= PERSIST {
            return Err(io::Error::new(
                error.kind(),
                format!(
                    "{}: accepting connections failed for {}s without a success ({} failed accepts; the last: {error})",
                    self.component,
                    PERSIST.as_secs(),
                    self.errors
                ),
            ));
        }
        self.unreported += 1;
        if self.last_warning.is_none_or(|last| now.saturating_duration_since(last) >= WARN_EVERY) {
            tracing::warn!(
                "{}: {} accepts failed since the last warning ({error}); retrying with backoff, giving up after {}s without a success",
                self.component,
                self.unreported,
                PERSIST.as_secs()
            );
            self.unreported = 0;
            self.warnings += 1;
            self.last_warning = Some(now);
        }
        // The last wait ends exactly when the streak would persist, so the verdict comes on
        // time rather than up to a backoff later.
        let wait = delay.min(PERSIST - failing_for);
        self.streak = Some((since, (delay * 2).min(MAX_BACKOFF)));
        Ok(wait)
    }
}

/// What ended a task that should not have ended, from its `JoinError`: `panicked: MESSAGE` or
/// `was cancelled`. The accept loops and whoever watches them (the stack, the runner) report a
/// task of theirs that panicked as the harness's failure with it.
pub fn task_failure(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return "was cancelled".to_string();
    }
    let payload = error.into_panic();
    let text = match payload.downcast_ref::<String>() {
        Some(text) => text.clone(),
        None => payload.downcast_ref::<&str>().map_or("(no message)".to_string(), |text| text.to_string()),
    };
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: Errno) -> io::Error {
        io::Error::from_raw_os_error(errno as i32)
    }

    #[test]
    fn errors_sort_into_connection_resource_and_listener() {
        let cases = [
            (os(Errno::EMFILE), AcceptErrorKind::Resource),
            (os(Errno::ENFILE), AcceptErrorKind::Resource),
            (os(Errno::ENOBUFS), AcceptErrorKind::Resource),
            (os(Errno::ENOMEM), AcceptErrorKind::Resource),
            (os(Errno::ECONNABORTED), AcceptErrorKind::Connection),
            (os(Errno::EPROTO), AcceptErrorKind::Connection),
            (os(Errno::EHOSTUNREACH), AcceptErrorKind::Connection),
            (os(Errno::EBADF), AcceptErrorKind::Listener),
            (os(Errno::EINVAL), AcceptErrorKind::Listener),
            (io::Error::from(io::ErrorKind::InvalidInput), AcceptErrorKind::Connection),
            (io::Error::from(io::ErrorKind::NotConnected), AcceptErrorKind::Listener),
        ];
        for (error, kind) in cases {
            assert_eq!(classify(&error), kind, "{error}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn resource_errors_back_off_doubling_to_a_second_and_persist_after_five_seconds() {
        let mut retry = AcceptRetry::new("echo server");
        let start = Instant::now();
        let mut now = start;
        let mut waits = Vec::new();
        let failure = loop {
            match retry.failed(&os(Errno::EMFILE), now) {
                Ok(wait) => {
                    waits.push(wait.as_millis());
                    now += wait;
                }
                Err(error) => break error,
            }
        };
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 730]);
        assert_eq!(now - start, PERSIST, "given up exactly when the streak reaches 5 s");
        // Failures at 0, 10 ms, … 1.27 s, 2.27 s, 3.27 s, 4.27 s: a line at 0, 1.27, 2.27,
        // 3.27 and 4.27 s, each counting the failures since the one before.
        assert_eq!(retry.warnings(), 5);
        let message = failure.to_string();
        assert!(message.starts_with("echo server: accepting connections failed for 5s"), "{message}");
        assert!(message.contains("12 failed accepts") && message.contains("os error 24"), "{message}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_failures_a_second_make_one_warning_a_second() {
        let mut retry = AcceptRetry::new("proxy");
        let start = Instant::now();
        // Resource errors that another loop's successes keep from persisting: a streak ends
        // every 100 ms, and failures come every millisecond for 3 s.
        for ms in 0..3000u64 {
            if ms % 100 == 0 {
                retry.accepted();
            }
            retry.failed(&os(Errno::EMFILE), start + Duration::from_millis(ms)).unwrap();
        }
        assert_eq!(retry.errors(), 3000);
        assert_eq!(retry.warnings(), 3, "one line at 0, 1 and 2 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_ends_the_streak_and_the_backoff_starts_over() {
        let mut retry = AcceptRetry::new("proxy");
        let start = Instant::now();
        assert_eq!(retry.failed(&os(Errno::EMFILE), start).unwrap(), FIRST_BACKOFF);
        assert_eq!(retry.failed(&os(Errno::EMFILE), start + PERSIST / 2).unwrap(), 2 * FIRST_BACKOFF);
        retry.accepted();
        let later = start + PERSIST * 2;
        assert_eq!(retry.failed(&os(Errno::EMFILE), later).unwrap(), FIRST_BACKOFF, "a new streak");
        assert!(retry.failed(&os(Errno::EMFILE), later + PERSIST).is_err());
        assert_eq!(retry.errors(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn connection_errors_retry_at_once_and_listener_errors_end_the_loop() {
        let mut retry = AcceptRetry::new("proxy");
        let now = Instant::now();
        assert_eq!(retry.failed(&os(Errno::ECONNABORTED), now).unwrap(), Duration::ZERO);
        let broken = retry.failed(&os(Errno::EBADF), now).unwrap_err();
        assert!(broken.to_string().starts_with("proxy: its listener failed:"), "{broken}");
        assert_eq!(retry.errors(), 2);
    }
}
