//! What the echo server counts: connections, rejected and failed handshakes, heartbeat closes,
//! and per client the workload messages received and the duplicates among them.
//!
//! A session here is a client index read from the [`wire::Header`] of each binary frame, not a
//! connection: a client that reconnects keeps its ledger, so a message resent after a reconnect
//! is recognised as a duplicate. Which sequence numbers a client has sent live in a
//! [`SeenSet`], one bit per number. Everything is kept in `BTreeMap`s so snapshots and summaries come out in
//! client order, never in hash order.

use std::collections::BTreeMap;

use serde::Serialize;

use super::capacity::Turned;
use crate::wire::{self, Seen, SeenSet};

/// A snapshot of the server's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerStats {
    /// TCP (or sim) connections taken from the listener.
    pub connections_accepted: u64,
    /// Upgrades answered with an HTTP error (401 for a missing or wrong token).
    pub handshakes_rejected: u64,
    /// Upgrades that never completed for another reason: the peer left, sent something that is
    /// not an upgrade, or the server shut down first.
    pub handshakes_failed: u64,
    /// Connections closed because their upgrade had not completed within the handshake
    /// timeout: a half-sent request, a slowloris, a peer that connected and said nothing.
    pub handshake_timeouts: u64,
    /// Requests that were not WebSocket upgrades, answered 400 (426 for another version).
    pub not_upgrades: u64,
    /// Connections closed with 1009, 1007 or 1002 for the peer's breach of the protocol: a
    /// message over the limit, text that is not UTF-8, a malformed frame.
    pub protocol_closes: u64,
    /// Connections the server heartbeat closed because a ping went unanswered.
    pub heartbeat_closes: u64,
    /// Connection attempts the capacity rules turned away, per reason (`backlog_full`,
    /// `shed_503`, `shed_close_1013`, `contention_lost`, …), in name order.
    pub turned_away: BTreeMap<String, u64>,
    /// Accepts that failed: a connection gone before it was taken, or the process short of
    /// descriptors or memory (retried with backoff).
    pub accept_errors: u64,
    /// Text and binary frames echoed, workload messages or not.
    pub frames_echoed: u64,
    /// Per client index, what its workload messages looked like, in index order.
    pub clients: BTreeMap<u32, ClientStats>,
}

/// Workload messages received from one client, over all its connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientStats {
    /// Binary frames carrying this client's header, duplicates included.
    pub received: u64,
    /// Messages whose sequence number this client had already sent.
    pub duplicates: u64,
    /// Messages too far ahead of the client's lowest missing number to be tracked, so whether
    /// they were duplicates is unknown (see `SeenSet`). Zero for any well-behaved client.
    pub untracked: u64,
}

impl ServerStats {
    /// Workload messages received from every client.
    pub fn messages_received(&self) -> u64 {
        self.clients.values().map(|client| client.received).sum()
    }

    /// Duplicates received from every client.
    pub fn duplicates(&self) -> u64 {
        self.clients.values().map(|client| client.duplicates).sum()
    }

    /// One line for a person: what `wschaos echo` prints when it stops.
    pub fn summary(&self) -> String {
        format!(
            "connections {}, rejected {}, not upgrades {}, failed handshakes {}, handshake timeouts {}, \
             protocol closes {}, heartbeat closes {}, frames echoed {}, \
             clients {}, messages {}, duplicates {}, accept errors {}",
            self.connections_accepted,
            self.handshakes_rejected,
            self.not_upgrades,
            self.handshakes_failed,
            self.handshake_timeouts,
            self.protocol_closes,
            self.heartbeat_closes,
            self.frames_echoed,
            self.clients.len(),
            self.messages_received(),
            self.duplicates(),
            self.accept_errors,
        )
    }
}

/// The server's counters as sessions update them (behind one lock in the server).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// The counters a snapshot copies, per-client entries included.
    stats: ServerStats,
    /// The seen-set of each client, kept apart so snapshots do not copy bitsets.
    seen: BTreeMap<u32, SeenSet>,
}

impl Ledger {
    /// A copy of the counters.
    pub(crate) fn snapshot(&self) -> ServerStats {
        self.stats.clone()
    }

    /// A connection came off the listener.
    pub(crate) fn connection_accepted(&mut self) {
        self.stats.connections_accepted += 1;
    }

    /// An accept failed.
    pub(crate) fn accept_failed(&mut self) {
        self.stats.accept_errors += 1;
    }

    /// An upgrade was answered with an HTTP error.
    pub(crate) fn handshake_rejected(&mut self) {
        self.stats.handshakes_rejected += 1;
    }

    /// The capacity rules turned an attempt away.
    pub(crate) fn turned_away(&mut self, why: Turned) {
        *self.stats.turned_away.entry(why.key()).or_default() += 1;
    }

    /// An upgrade did not complete for another reason.
    pub(crate) fn handshake_failed(&mut self) {
        self.stats.handshakes_failed += 1;
    }

    /// An upgrade did not complete within the handshake timeout.
    pub(crate) fn handshake_timed_out(&mut self) {
        self.stats.handshake_timeouts += 1;
    }

    /// A request that was not an upgrade got its HTTP answer.
    pub(crate) fn not_an_upgrade(&mut self) {
        self.stats.not_upgrades += 1;
    }

    /// A connection was closed for the peer's breach of the protocol.
    pub(crate) fn protocol_close(&mut self) {
        self.stats.protocol_closes += 1;
    }

    /// The heartbeat closed a connection.
    pub(crate) fn heartbeat_close(&mut self) {
        self.stats.heartbeat_closes += 1;
    }

    /// A data frame is about to be echoed; binary frames with a header count for their client.
    pub(crate) fn frame(&mut self, payload: &[u8], binary: bool) {
        self.stats.frames_echoed += 1;
        if let Some(header) = binary.then(|| wire::Header::decode(payload)).flatten() {
            self.message(header);
        }
    }

    /// A workload message from `header.client`.
    fn message(&mut self, header: wire::Header) {
        let client = self.stats.clients.entry(header.client).or_default();
        client.received += 1;
        match self.seen.entry(header.client).or_default().insert(header.seq) {
            Seen::First => {}
            Seen::Again => client.duplicates += 1,
            Seen::Untracked => client.untracked += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn message(client: u32, seq: u64) -> Vec<u8> {
        wire::Header { client, seq, intended: Duration::ZERO }.encode(64)
    }

    #[test]
    fn ledger_counts_per_client_and_ignores_frames_without_a_header() {
        let mut ledger = Ledger::default();
        ledger.frame(&message(7, 0), true);
        ledger.frame(&message(7, 1), true);
        ledger.frame(&message(3, 0), true);
        ledger.frame(&message(7, 1), true);
        ledger.frame(&message(7, 0), true);
        ledger.frame(b"short", true);
        ledger.frame(&message(9, 0), false);
        ledger.frame(&[0u8; 64], true);
        let stats = ledger.snapshot();
        assert_eq!(stats.frames_echoed, 8);
        let clients: Vec<(u32, ClientStats)> = stats.clients.into_iter().collect();
        assert_eq!(
            clients,
            [
                (3, ClientStats { received: 1, duplicates: 0, untracked: 0 }),
                (7, ClientStats { received: 4, duplicates: 2, untracked: 0 }),
            ],
            "neither a text frame that looks like a header nor 64 zero bytes is a workload message"
        );
    }

    #[test]
    fn summary_names_every_counter() {
        let mut ledger = Ledger::default();
        ledger.connection_accepted();
        ledger.connection_accepted();
        ledger.handshake_rejected();
        ledger.handshake_failed();
        ledger.handshake_timed_out();
        ledger.not_an_upgrade();
        ledger.protocol_close();
        ledger.heartbeat_close();
        ledger.accept_failed();
        ledger.frame(&message(1, 0), true);
        ledger.frame(&message(1, 0), true);
        assert_eq!(
            ledger.snapshot().summary(),
            "connections 2, rejected 1, not upgrades 1, failed handshakes 1, handshake timeouts 1, \
             protocol closes 1, heartbeat closes 1, frames echoed 2, \
             clients 1, messages 2, duplicates 1, accept errors 1"
        );
    }
}
