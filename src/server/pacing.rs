//! The echo server's capacity limit, `accept_rate`, as a pure decision: given when a connection
//! arrived, when may the server start serving it?
//!
//! The rule is a token bucket of depth 1, that is, strict pacing. Connections are served in
//! arrival order; the k-th of a burst is served no earlier than the first plus k/rate. A
//! connection over the limit waits (the listener's queue plays the kernel's accept backlog); it is
//! never rejected, because a server that is merely slow must look slow to clients, not broken.
//! Depth 1 rather than a deeper bucket keeps the schedule exact and easy to check: no burst is
//! ever served faster than the rate, so a herd after an outage shows up as a queue at the server.
//!
//! No I/O and no clock of its own: the caller passes `tokio::time::Instant` values and sleeps.

use std::time::Duration;

use tokio::time::Instant;

use crate::units::Rate;

/// Nanoseconds in a second, for turning a count at a rate into a duration.
const NANOS_PER_SECOND: f64 = 1e9;

/// When each arriving connection may be served under an accept rate.
#[derive(Clone, Debug)]
pub struct AcceptPacing {
    /// Connections per second; finite and positive, as [`Rate`] guarantees.
    per_second: f64,
    /// When the current burst started being served; `None` before the first connection.
    anchor: Option<Instant>,
    /// Connections served since `anchor`, the anchor's own included.
    served: u64,
}

impl AcceptPacing {
    /// A pacing at `rate` that has served nothing yet.
    pub fn new(rate: Rate) -> AcceptPacing {
        AcceptPacing { per_second: rate.per_second, anchor: None, served: 0 }
    }

    /// Takes the connection that arrived at `arrived` and returns when it may be served: at
    /// once if the bucket holds its token, otherwise at the next slot of the current burst.
    ///
    /// Slots are computed from the burst's start (`anchor + k/rate`, rounded up to the next
    /// nanosecond) rather than by adding one interval after another, so rounding never drifts
    /// and no slot is ever early: at 3/s the third connection waits exactly 1 s, not 999,999,999 ns.
    pub fn admit(&mut self, arrived: Instant) -> Instant {
        match self.next_slot() {
            Some(slot) if slot > arrived => {
                self.served += 1;
                slot
            }
            // The bucket refilled while the server was idle: this connection starts a new burst.
            _ => {
                self.anchor = Some(arrived);
                self.served = 1;
                arrived
            }
        }
    }

    /// The earliest time the next connection could be served, if a burst has started.
    fn next_slot(&self) -> Option<Instant> {
        let anchor = self.anchor?;
        // `as u64` saturates; a burst long enough to reach that is centuries of virtual time.
        let nanos = (self.served as f64 * NANOS_PER_SECOND / self.per_second).ceil() as u64;
        Some(anchor + Duration::from_nanos(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// Feeds arrivals (offsets from a start time) and returns when each is served (offsets).
    fn schedule(per_second: f64, arrivals: &[Duration]) -> Vec<Duration> {
        let start = Instant::now();
        let mut pacing = AcceptPacing::new(Rate { per_second });
        arrivals.iter().map(|&at| pacing.admit(start + at) - start).collect()
    }

    #[test]
    fn a_burst_is_served_one_interval_apart_in_arrival_order() {
        let served = schedule(10.0, &[ms(0); 5]);
        assert_eq!(served, [ms(0), ms(100), ms(200), ms(300), ms(400)]);
    }

    #[test]
    fn table_of_arrival_patterns() {
        let cases: &[(&str, f64, &[u64], &[u64])] = &[
            ("spaced wider than the interval: never wait", 10.0, &[0, 150, 300], &[0, 150, 300]),
            ("exactly one interval apart: never wait", 10.0, &[0, 100, 200], &[0, 100, 200]),
            ("second arrives early: waits for its slot", 10.0, &[0, 30], &[0, 100]),
            ("a queue forms, then drains", 10.0, &[0, 10, 20, 500], &[0, 100, 200, 500]),
            ("idle refills the single token only", 4.0, &[0, 1000, 1000, 1000], &[0, 1000, 1250, 1500]),
            ("arrival inside a burst keeps the burst's grid", 10.0, &[0, 0, 150], &[0, 100, 200]),
        ];
        for (name, rate, arrivals, expected) in cases {
            let arrivals: Vec<Duration> = arrivals.iter().map(|&a| ms(a)).collect();
            let expected: Vec<Duration> = expected.iter().map(|&e| ms(e)).collect();
            assert_eq!(schedule(*rate, &arrivals), expected, "{name}");
        }
    }

    #[test]
    fn slots_do_not_drift_and_are_never_early() {
        let served = schedule(3.0, &[Duration::ZERO; 7]);
        assert_eq!(served[3], Duration::from_secs(1), "3 slots at 3/s is exactly one second");
        assert_eq!(served[6], Duration::from_secs(2));
        for (k, at) in served.iter().enumerate() {
            assert!(at.as_secs_f64() >= k as f64 / 3.0, "slot {k} at {at:?} is early");
        }
    }

    #[test]
    fn slow_rates_work_in_whole_seconds() {
        let served = schedule(0.5, &[Duration::ZERO; 3]);
        assert_eq!(served, [Duration::ZERO, Duration::from_secs(2), Duration::from_secs(4)]);
    }
}
