//! The server heartbeat's schedule as a pure decision: when to ping, and when a peer has been
//! silent too long. The session asks it what is due when its timer fires; it does no I/O and
//! reads no clock.
//!
//! Only a Pong answers a ping. Data frames do not count as liveness, exactly like a Go server
//! whose read deadline is extended only by its pong handler (the background article's pattern),
//! so a fault that drops pongs while data still flows gets the peer closed, as it would in
//! production.

use std::time::Duration;

use tokio::time::Instant;

use crate::scenario::ServerHeartbeat;

/// What the heartbeat asks the session to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Send a Ping now.
    Ping,
    /// The peer has not answered a ping within the timeout: close the connection.
    Overdue,
}

/// One connection's heartbeat schedule.
#[derive(Clone, Debug)]
pub(crate) struct Heartbeat {
    /// Time between pings.
    ping_every: Duration,
    /// How long after a ping its pong may come.
    timeout: Duration,
    /// When the next ping is due.
    next_ping: Instant,
    /// When the oldest ping not yet answered was due; `None` when every ping has been answered.
    /// A later ping does not move it: the peer owes an answer since this one.
    unanswered_since: Option<Instant>,
}

impl Heartbeat {
    /// The schedule of a connection opened at `opened`: the first ping one period later.
    pub(crate) fn new(config: ServerHeartbeat, opened: Instant) -> Heartbeat {
        Heartbeat {
            ping_every: config.ping_every,
            timeout: config.timeout,
            next_ping: opened + config.ping_every,
            unanswered_since: None,
        }
    }

    /// When the peer will be overdue if no pong comes, if a ping is outstanding.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.unanswered_since.map(|since| since + self.timeout)
    }

    /// The next time something may be due: a ping or the deadline, whichever is first.
    pub(crate) fn wake_at(&self) -> Instant {
        self.deadline().map_or(self.next_ping, |deadline| deadline.min(self.next_ping))
    }

    /// What is due at `now`, if anything. The deadline wins a tie with a ping: a peer silent
    /// for the whole timeout is closed rather than pinged once more.
    ///
    /// A ping counts as sent at its scheduled time even when the session could only write it
    /// later (the peer was not reading), so the timeout is measured from the schedule and
    /// never drifts. Pings missed while the session was blocked are skipped, not sent in a burst.
    pub(crate) fn due(&mut self, now: Instant) -> Option<Beat> {
        if self.deadline().is_some_and(|deadline| deadline <= now) {
            return Some(Beat::Overdue);
        }
        if self.next_ping > now {
            return None;
        }
        self.unanswered_since.get_or_insert(self.next_ping);
        while self.next_ping <= now {
            self.next_ping += self.ping_every;
        }
        Some(Beat::Ping)
    }

    /// A Pong arrived: every outstanding ping is answered.
    pub(crate) fn on_pong(&mut self) {
        self.unanswered_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn heartbeat(every: u64, timeout: u64) -> (Heartbeat, Instant) {
        let opened = Instant::now();
        (Heartbeat::new(ServerHeartbeat { ping_every: secs(every), timeout: secs(timeout) }, opened), opened)
    }

    /// Runs the schedule by waking whenever it asks, answering pongs at the given offsets, and
    /// returns every beat with its offset, up to the first `Overdue` or `until`.
    fn play(every: u64, timeout: u64, pongs_at: &[u64], until: u64) -> Vec<(u64, Beat)> {
        let (mut hb, opened) = heartbeat(every, timeout);
        let mut pongs = pongs_at.iter().map(|&p| opened + secs(p)).peekable();
        let mut beats = Vec::new();
        loop {
            let wake = hb.wake_at();
            while pongs.next_if(|&pong| pong < wake).is_some() {
                hb.on_pong();
            }
            let wake = hb.wake_at();
            if wake > opened + secs(until) {
                return beats;
            }
            if let Some(beat) = hb.due(wake) {
                beats.push(((wake - opened).as_secs(), beat));
                if beat == Beat::Overdue {
                    return beats;
                }
            }
        }
    }

    #[test]
    fn a_silent_peer_is_overdue_at_ping_every_plus_timeout() {
        assert_eq!(play(10, 5, &[], 100), [(10, Beat::Ping), (15, Beat::Overdue)]);
    }

    #[test]
    fn a_peer_that_answers_is_pinged_forever() {
        let beats = play(10, 5, &[11, 21, 31, 41], 45);
        assert_eq!(beats, [(10, Beat::Ping), (20, Beat::Ping), (30, Beat::Ping), (40, Beat::Ping)]);
    }

    #[test]
    fn the_deadline_counts_from_the_oldest_unanswered_ping() {
        // Timeout longer than the period: pings keep going, the deadline stays on the first.
        assert_eq!(
            play(2, 5, &[], 100),
            [(2, Beat::Ping), (4, Beat::Ping), (6, Beat::Ping), (7, Beat::Overdue)]
        );
        // One late answer, then silence: the clock restarts at the next ping.
        assert_eq!(play(10, 5, &[12], 100), [(10, Beat::Ping), (20, Beat::Ping), (25, Beat::Overdue)]);
    }

    #[test]
    fn the_deadline_wins_a_tie_with_a_ping() {
        assert_eq!(play(5, 5, &[], 100), [(5, Beat::Ping), (10, Beat::Overdue)]);
    }

    #[test]
    fn nothing_is_due_early_and_missed_pings_are_skipped() {
        let (mut hb, opened) = heartbeat(10, 100);
        assert_eq!(hb.due(opened + secs(9)), None);
        assert_eq!(hb.due(opened + secs(35)), Some(Beat::Ping), "one ping for three missed periods");
        assert_eq!(hb.wake_at(), opened + secs(40), "back on the original grid");
        assert_eq!(hb.deadline(), Some(opened + secs(110)), "measured from the first missed ping");
        hb.on_pong();
        assert_eq!(hb.deadline(), None);
    }
}
