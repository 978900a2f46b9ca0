//! The workload's accounting: what was offered, sent, echoed, lost, duplicated and reordered,
//! and each message's latency. Kept as the events go by (in time order, from the recorder's
//! window), so a long run costs a few ranges per client rather than every message event.
//!
//! Definitions, all per client and counted up to the end of the quiet period (an echo after it
//! is not seen, so its message is lost):
//! - **offered**: `Offered` events; **sent**: `Sent` events that are not resends;
//! - **echoed**: distinct seqs with an `Echoed` event;
//! - **lost**: the offered seqs that were never echoed; in a run cut short, only those the
//!   client dropped;
//! - **unresolved** (a run cut short only): the offered seqs neither echoed nor dropped at the
//!   cut, still due or in flight: whether they would have arrived is unknown;
//! - **duplicated**: `Duplicate` events (the application saw the echo again);
//! - **reordered**: first echoes whose seq is below the highest seq already echoed;
//! - **latency**: each first echo's `latency`, from the message's intended send time.
//!
//! It also answers, at each `Opened`, whether the client still waits for an echo to recover
//! (see `incidents`), and picks the `Echoed` events the end-of-run derivations need: the first
//! after each `Opened`. Every other message event is consumed here.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::ClientEventKind;
use crate::outcome::MessageCounts;

use super::seqset::SeqSet;

/// The accounting and the latency samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Messages {
    /// The counts.
    pub counts: MessageCounts,
    /// Seconds from intended send to first echo, one per echoed message, in echo order.
    pub latencies: Vec<f64>,
    /// Clients with offered messages never echoed.
    pub unechoed: BTreeSet<u32>,
}

/// What the end-of-run derivations need of a client event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keep {
    /// Nothing: it has been accounted for here.
    No,
    /// The event; for an `Opened`, whether the client recovers only at its next echo.
    Yes {
        /// The run has a workload and the client had something to send at the open: messages
        /// still falling due, or some unechoed.
        awaits_echo: bool,
    },
}

/// One client's messages.
#[derive(Debug, Default)]
struct Ledger {
    /// Seqs offered.
    offered: SeqSet,
    /// Seqs echoed at least once.
    echoed: SeqSet,
    /// The highest seq echoed so far, to spot echoes that arrive out of order.
    highest: Option<u64>,
    /// Seqs offered and since neither echoed nor dropped, in event order.
    outstanding: SeqSet,
    /// The client opened since the last `Echoed` that was kept.
    echo_awaited: bool,
    /// A program's seqs first sent in the run's last [`IN_FLIGHT_AT_END`]: not echoed by the
    /// end, they were in flight, not lost.
    late: SeqSet,
}

/// How close to the end of the run a program's message may first be sent and still count as
/// in flight (unresolved) rather than lost when its answer has not come: far above a loopback
/// round trip through the proxy, well below any recovery a scenario would accept. The
/// reference client stops sending at the heal, so this applies to programs only.
pub(super) const IN_FLIGHT_AT_END: f64 = 1.0;

/// The accounting as it stands.
#[derive(Debug)]
pub(super) struct Accounting {
    workload: bool,
    /// The messages are a program's, reported as it sent them: none falls due on a schedule.
    reported: bool,
    /// The end of the run, in seconds (for a program's messages in flight at the end).
    end: f64,
    /// When the workload stops (the heal), in seconds.
    workload_until: f64,
    out: Messages,
    ledgers: BTreeMap<u32, Ledger>,
}

impl Accounting {
    /// Accounting for a run with or without a workload that stops at `workload_until`.
    pub fn new(workload: bool, workload_until: f64) -> Accounting {
        Accounting {
            workload,
            reported: false,
            end: f64::INFINITY,
            workload_until,
            out: Messages::default(),
            ledgers: BTreeMap::new(),
        }
    }

    /// Accounting for programs under test, which report the messages they send rather than
    /// follow wschaos's workload.
    pub fn reported(workload_until: f64, end: f64) -> Accounting {
        Accounting { reported: true, end, ..Accounting::new(true, workload_until) }
    }

    /// Takes `client`'s event at `t` seconds (events come in time order) and says whether the
    /// end-of-run derivations need it.
    pub fn take(&mut self, client: u32, kind: &ClientEventKind, t: f64) -> Keep {
        let counts = &mut self.out.counts;
        match kind {
            ClientEventKind::Offered { seq } => {
                counts.offered += 1;
                let ledger = self.ledgers.entry(client).or_default();
                ledger.offered.insert(*seq);
                ledger.outstanding.insert(*seq);
                if self.reported && t >= self.end - IN_FLIGHT_AT_END {
                    ledger.late.insert(*seq);
                }
            }
            ClientEventKind::Sent { resend: false, .. } => counts.sent += 1,
            ClientEventKind::Echoed { seq, latency } => {
                let ledger = self.ledgers.entry(client).or_default();
                ledger.outstanding.remove(*seq);
                // A second `Echoed` for a seq is not a first echo; `Duplicate` reports those.
                if ledger.echoed.insert(*seq) {
                    counts.echoed += 1;
                    self.out.latencies.push(latency.as_secs_f64());
                    if ledger.highest.is_some_and(|highest| *seq < highest) {
                        counts.reordered += 1;
                    }
                    ledger.highest = ledger.highest.max(Some(*seq));
                }
                if std::mem::take(&mut ledger.echo_awaited) {
                    return Keep::Yes { awaits_echo: false };
                }
            }
            ClientEventKind::Duplicate { .. } => counts.duplicated += 1,
            ClientEventKind::Dropped { seq, .. } => {
                if let Some(ledger) = self.ledgers.get_mut(&client) {
                    ledger.outstanding.remove(*seq);
                }
            }
            ClientEventKind::Opened { .. } => {
                if !self.workload {
                    return Keep::Yes { awaits_echo: false };
                }
                let ledger = self.ledgers.entry(client).or_default();
                ledger.echo_awaited = true;
                // A program's messages are not due on a schedule wschaos knows: it recovers at
                // an echo only when it has messages outstanding.
                let still_due = !self.reported && t < self.workload_until;
                let awaits_echo = still_due || !ledger.outstanding.is_empty();
                return Keep::Yes { awaits_echo };
            }
            ClientEventKind::Attempt { .. }
            | ClientEventKind::TlsEstablished { .. }
            | ClientEventKind::Detected(_)
            | ClientEventKind::GaveUp(_)
            | ClientEventKind::Exited { .. } => {
                return Keep::Yes { awaits_echo: false };
            }
            ClientEventKind::Sent { resend: true, .. }
            | ClientEventKind::DuplicateSuppressed { .. }
            | ClientEventKind::Started { .. }
            | ClientEventKind::State(_)
            | ClientEventKind::AttemptFailed { .. }
            | ClientEventKind::Waiting { .. }
            | ClientEventKind::BackoffReset
            | ClientEventKind::Ready
            | ClientEventKind::ProtocolError { .. } => {}
        }
        Keep::No
    }

    /// The accounting at the end of the run; `cut_short` when it was interrupted, which makes
    /// the messages still outstanding unresolved rather than lost.
    pub fn finish(mut self, cut_short: bool) -> Messages {
        for (client, ledger) in &self.ledgers {
            let unechoed = ledger.offered.count_missing_from(&ledger.echoed);
            // Outstanding seqs are offered, so those not echoed are part of `unechoed`.
            let unresolved = if cut_short {
                ledger.outstanding.count_missing_from(&ledger.echoed)
            } else {
                ledger.late.count_missing_from(&ledger.echoed)
            };
            self.out.counts.lost += unechoed.saturating_sub(unresolved);
            self.out.counts.unresolved += unresolved;
            if unechoed > 0 {
                self.out.unechoed.insert(*client);
            }
        }
        self.out
    }
}
