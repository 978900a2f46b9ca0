//! The outbox: what happens to each message of the open-model workload under the four
//! delivery modes of docs/reference-client.md. Pure: it sees sequence numbers and whether the
//! connection is open.
//!
//! - `at_most_once` sends when open and drops otherwise (the background article's behaviour).
//! - `buffered` queues while offline and flushes on reconnect; what was in flight at a break is
//!   lost (socket.io's send buffer).
//! - `at_least_once` keeps every message until its echo arrives and resends the unechoed ones
//!   after a reconnect, so a message whose echo was merely late comes back twice.
//! - `exactly_once` is at-least-once plus deduplication: the application sees each echo once.
//!
//! The outbox holds at most `capacity` messages (queued plus awaiting an echo). A message that
//! does not fit is dropped with [`DropReason::OutboxFull`], never silently.

use std::collections::{BTreeSet, VecDeque};

use super::events::DropReason;
use crate::scenario::Delivery;
use crate::wire::{Seen, SeenSet};

/// What happens to a message that just became due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Write it now.
    Send,
    /// Keep it until the connection opens.
    Queued,
    /// It will never be sent.
    Dropped(DropReason),
}

/// What an arriving echo means to the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// The first echo of this message: delivered.
    First,
    /// Seen before, and passed to the application again.
    Duplicate,
    /// Seen before, and kept from the application (`exactly_once`).
    Suppressed,
}

/// One client's outbox.
#[derive(Debug)]
pub struct Outbox {
    mode: Delivery,
    capacity: usize,
    /// Due while offline, not written yet, oldest first.
    queued: VecDeque<u64>,
    /// Written and not echoed yet, kept for resending (`at_least_once`, `exactly_once`).
    unechoed: BTreeSet<u64>,
    /// Messages the application has received.
    delivered: SeenSet,
}

impl Outbox {
    /// An empty outbox.
    pub fn new(mode: Delivery, capacity: usize) -> Outbox {
        Outbox {
            mode,
            capacity,
            queued: VecDeque::new(),
            unechoed: BTreeSet::new(),
            delivered: SeenSet::default(),
        }
    }

    fn keeps_until_echoed(&self) -> bool {
        matches!(self.mode, Delivery::AtLeastOnce | Delivery::ExactlyOnce)
    }

    fn held(&self) -> usize {
        self.queued.len() + self.unechoed.len()
    }

    /// Message `seq` became due; `open` says whether the connection is open.
    pub fn due(&mut self, seq: u64, open: bool) -> Due {
        if open && self.queued.is_empty() {
            if self.keeps_until_echoed() {
                if self.held() >= self.capacity {
                    return Due::Dropped(DropReason::OutboxFull);
                }
                self.unechoed.insert(seq);
            }
            return Due::Send;
        }
        if self.mode == Delivery::AtMostOnce {
            return Due::Dropped(DropReason::NotOpen);
        }
        if self.held() >= self.capacity {
            return Due::Dropped(DropReason::OutboxFull);
        }
        self.queued.push_back(seq);
        Due::Queued
    }

    /// The connection opened: the messages to write now, in order, each with whether it is a
    /// resend. Unechoed messages come first (they are older), then the queue.
    pub fn on_open(&mut self) -> Vec<(u64, bool)> {
        let mut out: Vec<(u64, bool)> = self.unechoed.iter().map(|seq| (*seq, true)).collect();
        for seq in self.queued.drain(..) {
            if self.mode == Delivery::AtLeastOnce || self.mode == Delivery::ExactlyOnce {
                self.unechoed.insert(seq);
            }
            out.push((seq, false));
        }
        out
    }

    /// An echo of `seq` arrived.
    pub fn on_echo(&mut self, seq: u64) -> Echo {
        self.unechoed.remove(&seq);
        match self.delivered.insert(seq) {
            Seen::First | Seen::Untracked => Echo::First,
            Seen::Again if self.mode == Delivery::ExactlyOnce => Echo::Suppressed,
            Seen::Again => Echo::Duplicate,
        }
    }

    /// The write of `seq` failed as the connection broke. Returns whether the message is lost:
    /// `at_least_once` and `exactly_once` still hold it for resending.
    pub fn write_failed(&mut self, _seq: u64) -> bool {
        !self.keeps_until_echoed()
    }

    /// Messages waiting to be written or to be echoed.
    pub fn pending(&self) -> usize {
        self.held()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_once_drops_while_offline_and_never_resends() {
        let mut outbox = Outbox::new(Delivery::AtMostOnce, 10);
        assert_eq!(outbox.due(0, true), Due::Send);
        assert_eq!(outbox.due(1, false), Due::Dropped(DropReason::NotOpen));
        assert_eq!(outbox.on_open(), vec![], "message 0 was in flight: lost, not resent");
    }

    #[test]
    fn buffered_queues_while_offline_and_flushes_once() {
        let mut outbox = Outbox::new(Delivery::Buffered, 10);
        assert_eq!(outbox.due(0, true), Due::Send);
        assert_eq!(outbox.due(1, false), Due::Queued);
        assert_eq!(outbox.due(2, false), Due::Queued);
        assert_eq!(outbox.on_open(), vec![(1, false), (2, false)], "in-flight 0 is not resent");
        assert_eq!(outbox.on_open(), vec![]);
    }

    #[test]
    fn at_least_once_resends_unechoed_messages_and_sees_duplicates() {
        let mut outbox = Outbox::new(Delivery::AtLeastOnce, 10);
        assert_eq!(outbox.due(0, true), Due::Send);
        assert_eq!(outbox.due(1, true), Due::Send);
        assert_eq!(outbox.on_echo(0), Echo::First);
        assert_eq!(outbox.due(2, false), Due::Queued);
        assert_eq!(outbox.on_open(), vec![(1, true), (2, false)]);
        assert_eq!(outbox.on_echo(1), Echo::First);
        assert_eq!(outbox.on_echo(1), Echo::Duplicate, "the late first echo and the resend's");
        assert_eq!(outbox.on_echo(2), Echo::First);
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn exactly_once_suppresses_repeated_echoes() {
        let mut outbox = Outbox::new(Delivery::ExactlyOnce, 10);
        assert_eq!(outbox.due(5, true), Due::Send);
        assert_eq!(outbox.on_open(), vec![(5, true)]);
        assert_eq!(outbox.on_echo(5), Echo::First);
        assert_eq!(outbox.on_echo(5), Echo::Suppressed);
    }

    #[test]
    fn a_full_outbox_drops_with_a_reason() {
        let mut outbox = Outbox::new(Delivery::AtLeastOnce, 2);
        assert_eq!(outbox.due(0, true), Due::Send);
        assert_eq!(outbox.due(1, false), Due::Queued);
        assert_eq!(outbox.due(2, false), Due::Dropped(DropReason::OutboxFull), "one unechoed + one queued");
        assert_eq!(
            outbox.due(3, true),
            Due::Dropped(DropReason::OutboxFull),
            "open, but the queue is not drained"
        );
        let mut buffered = Outbox::new(Delivery::Buffered, 1);
        assert_eq!(buffered.due(0, false), Due::Queued);
        assert_eq!(buffered.due(1, false), Due::Dropped(DropReason::OutboxFull));
    }
}
