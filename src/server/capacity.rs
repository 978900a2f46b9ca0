//! The echo server's capacity as a pure model: how many connections may wait (`backlog`), when
//! one is shed (`overload`), and whether an upgrade wins under read-then-write contention. The
//! same rules serve both engines, because the server applies them itself (docs/echo-server.md,
//! "Capacity"); `admission` is the shell that sleeps, reads and answers.
//!
//! No I/O and no clock: the caller says what happened, the model says what to do.

use std::time::Duration;

use crate::scenario::{Capacity, Shed};

/// Linux's initial retransmission timeout for a SYN, `TCP_TIMEOUT_INIT` (1 s,
/// include/net/tcp.h), which is RFC 6298 §2.1's "RTO ← 1 second"; RFC 6298 §5.5 doubles it on
/// every expiry, and §5.7 keeps the 1 s start for the SYN.
pub(crate) const SYN_INITIAL_RTO: Duration = Duration::from_secs(1);

/// Linux's default `net.ipv4.tcp_syn_retries` (6, Documentation/networking/ip-sysctl.rst): a
/// connect gives up after the SYN and six retransmits, 127 s after it began.
pub(crate) const SYN_RETRIES: u32 = 6;

/// When a dropped SYN comes back: after the `retransmit`-th drop (0 for the first SYN), the
/// client's kernel resends it `1 s · 2^retransmit` later, so a connect that keeps being dropped
/// tries at 0, 1, 3, 7, 15, 31 and 63 s; `None` once the retries are spent and the connect
/// fails (ETIMEDOUT at 127 s, unless the client's own connect timeout ends it first).
pub(crate) fn syn_retransmit_after(retransmit: u32) -> Option<Duration> {
    (retransmit < SYN_RETRIES).then(|| SYN_INITIAL_RTO * 2u32.pow(retransmit))
}

/// What happens to a connection that arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// It joins the queue and waits for a handshake slot.
    Wait,
    /// The backlog is full: it is dropped as a SYN is, and comes back on its retransmit.
    Drop,
    /// The queue is past the shedding depth: it is answered at once with this.
    Shed(Shed),
}

/// Why an attempt was turned away, as the report counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turned {
    /// Its SYN was dropped because the backlog was full (every drop counts, retransmits too).
    BacklogFull,
    /// Shed with this HTTP status.
    ShedStatus(u16),
    /// Shed with this Close code after the upgrade.
    ShedClose(u16),
    /// Another upgrade completed while it was in service.
    ContentionLost,
    /// Answered 401 by the server's auth check (a missing, wrong or stale credential).
    Unauthorized,
}

impl Turned {
    /// The key in report.json's `attempts_turned_away`.
    pub(crate) fn key(self) -> String {
        match self {
            Turned::BacklogFull => "backlog_full".into(),
            Turned::ShedStatus(code) => format!("shed_{code}"),
            Turned::ShedClose(code) => format!("shed_close_{code}"),
            Turned::ContentionLost => "contention_lost".into(),
            Turned::Unauthorized => "unauthorized_401".into(),
        }
    }
}

/// What a started upgrade saw when it began: the number of upgrades committed until then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

/// The queue and the commit count: the state the capacity rules read.
#[derive(Debug)]
pub(crate) struct Admission {
    /// Connections that may wait; `None` for no limit.
    backlog: Option<usize>,
    /// Shedding, if any.
    overload: Option<(usize, Shed)>,
    /// Whether upgrades contend.
    contention: bool,
    /// Connections admitted and not yet given a handshake slot.
    waiting: usize,
    /// Upgrades that succeeded so far.
    committed: u64,
}

impl Admission {
    /// An empty queue under `capacity`.
    pub(crate) fn new(capacity: &Capacity) -> Admission {
        Admission {
            backlog: capacity.backlog.map(|b| b as usize),
            overload: capacity.overload.map(|o| (o.above as usize, o.answer)),
            contention: capacity.contention,
            waiting: 0,
            committed: 0,
        }
    }

    /// A connection (or a retransmitted SYN) arrives. The backlog is checked first, as the
    /// kernel drops before the application sees anything; then shedding, which the server
    /// decides once it holds the connection.
    pub(crate) fn arrive(&mut self) -> Arrival {
        if self.backlog.is_some_and(|backlog| self.waiting >= backlog) {
            return Arrival::Drop;
        }
        if let Some((above, answer)) = self.overload
            && self.waiting >= above
        {
            return Arrival::Shed(answer);
        }
        self.waiting += 1;
        Arrival::Wait
    }

    /// A waiting connection got a handshake slot (or gave up waiting): it leaves the queue.
    pub(crate) fn leave_queue(&mut self) {
        self.waiting = self.waiting.checked_sub(1).expect("only a waiting connection leaves the queue");
    }

    /// An upgrade's request arrived: its service starts now.
    pub(crate) fn begin(&self) -> Ticket {
        Ticket(self.committed)
    }

    /// The upgrade that began with `ticket` is done with its service: does it succeed? Under
    /// contention only if no other succeeded since it began (the AWS simulator's read-then-write
    /// on one row: a write with a stale version fails); otherwise always.
    pub(crate) fn commit(&mut self, ticket: Ticket) -> bool {
        let won = !self.contention || ticket.0 == self.committed;
        if won {
            self.committed += 1;
        }
        won
    }

    /// Connections waiting now.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Overload;

    fn capacity(backlog: Option<u32>, shed_above: Option<u32>, contention: bool) -> Capacity {
        Capacity {
            backlog,
            overload: shed_above
                .map(|above| Overload { above, answer: Shed::Status { code: 503, retry_after: None } }),
            contention,
            ..Capacity::default()
        }
    }

    /// One step of a queue script: `a` arrive, `l` leave the queue.
    fn run(model: &mut Admission, script: &str) -> String {
        script
            .chars()
            .map(|step| match step {
                'a' => match model.arrive() {
                    Arrival::Wait => 'w',
                    Arrival::Drop => 'd',
                    Arrival::Shed(_) => 's',
                },
                'l' => {
                    model.leave_queue();
                    '.'
                }
                other => panic!("unknown step {other}"),
            })
            .collect()
    }

    /// A queue case: name, backlog, shedding depth, script, what each step got, waiting after.
    type QueueCase = (&'static str, Option<u32>, Option<u32>, &'static str, &'static str, usize);

    /// A contention case: name, begin (b) and commit (c) steps by upgrade index, who wins.
    type ContentionCase = (&'static str, &'static [(char, usize)], &'static [bool]);

    #[test]
    fn queue_arithmetic_table() {
        let cases: &[QueueCase] = &[
            ("no limits: everyone waits", None, None, "aaaaa", "wwwww", 5),
            ("backlog 2: the third is dropped", Some(2), None, "aaa", "wwd", 2),
            ("a leave makes room again", Some(2), None, "aaala", "wwd.w", 2),
            ("shedding at 2 below a backlog of 4", Some(4), Some(2), "aaaa", "wwss", 2),
            ("shedding without a backlog", None, Some(1), "aala", "ws.w", 1),
            ("backlog 1, shedding never reached", Some(1), None, "aaa", "wdd", 1),
        ];
        for (name, backlog, above, script, expected, waiting) in cases {
            let mut model = Admission::new(&capacity(*backlog, *above, false));
            assert_eq!(run(&mut model, script), *expected, "{name}");
            assert_eq!(model.waiting(), *waiting, "{name}: waiting");
        }
    }

    #[test]
    fn contention_table() {
        // Each case: the order in which upgrades begin (b) and commit (c), by upgrade index,
        // and which of them win.
        let cases: &[ContentionCase] = &[
            ("one alone wins", &[('b', 0), ('c', 0)], &[true]),
            ("back to back both win", &[('b', 0), ('c', 0), ('b', 1), ('c', 1)], &[true, true]),
            (
                "overlapping: the first to commit wins",
                &[('b', 0), ('b', 1), ('c', 1), ('c', 0)],
                &[false, true],
            ),
            (
                "three overlap: only the first commit wins",
                &[('b', 0), ('b', 1), ('b', 2), ('c', 0), ('c', 1), ('c', 2)],
                &[true, false, false],
            ),
            (
                "a loser does not spoil the next",
                &[('b', 0), ('b', 1), ('c', 0), ('c', 1), ('b', 2), ('c', 2)],
                &[true, false, true],
            ),
        ];
        for (name, script, expected) in cases {
            let mut model = Admission::new(&capacity(None, None, true));
            let mut tickets = vec![None; expected.len()];
            let mut won = vec![None; expected.len()];
            for &(step, index) in *script {
                match step {
                    'b' => tickets[index] = Some(model.begin()),
                    _ => won[index] = Some(model.commit(tickets[index].expect("began"))),
                }
            }
            let won: Vec<bool> = won.into_iter().map(|w| w.expect("committed")).collect();
            assert_eq!(won, *expected, "{name}");
        }
    }

    #[test]
    fn without_contention_overlaps_all_win() {
        let mut model = Admission::new(&capacity(None, None, false));
        let (first, second) = (model.begin(), model.begin());
        assert!(model.commit(second));
        assert!(model.commit(first));
    }

    #[test]
    fn syn_retransmits_follow_linux() {
        let mut at = Duration::ZERO;
        let mut tries = vec![at];
        let mut retransmit = 0;
        while let Some(after) = syn_retransmit_after(retransmit) {
            at += after;
            tries.push(at);
            retransmit += 1;
        }
        let seconds: Vec<u64> = tries.iter().map(Duration::as_secs).collect();
        assert_eq!(seconds, [0, 1, 3, 7, 15, 31, 63], "the SYN and six retransmits");
        assert_eq!(at + SYN_INITIAL_RTO * 64, Duration::from_secs(127), "ETIMEDOUT at 127 s");
    }

    #[test]
    fn turned_away_keys() {
        let keys: Vec<String> =
            [Turned::BacklogFull, Turned::ShedStatus(503), Turned::ShedClose(1013), Turned::ContentionLost]
                .into_iter()
                .map(Turned::key)
                .collect();
        assert_eq!(keys, ["backlog_full", "shed_503", "shed_close_1013", "contention_lost"]);
    }
}
