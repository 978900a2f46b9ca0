//! The workload's accounting: what was offered, sent, echoed, lost, duplicated and reordered,
//! and each message's latency.
//!
//! Definitions, all per client and counted up to the end of the quiet period (an echo after it
//! is not seen, so its message is lost):
//! - **offered**: `Offered` events; **sent**: `Sent` events that are not resends;
//! - **echoed**: distinct seqs with an `Echoed` event;
//! - **lost**: the offered seqs that were never echoed;
//! - **duplicated**: `Duplicate` events (the application saw the echo again);
//! - **reordered**: first echoes whose seq is below the highest seq already echoed;
//! - **latency**: each first echo's `latency`, from the message's intended send time.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::ClientEventKind;
use crate::report::model::MessageCounts;

use super::{Timeline, What};

/// The accounting and the latency samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Messages {
    /// The counts.
    pub counts: MessageCounts,
    /// Seconds from intended send to first echo, one per echoed message, in echo order.
    pub latencies: Vec<f64>,
}

/// One client's messages.
#[derive(Debug, Default)]
struct Ledger {
    /// Seqs offered.
    offered: BTreeSet<u64>,
    /// Seqs echoed at least once.
    echoed: BTreeSet<u64>,
    /// The highest seq echoed so far, to spot echoes that arrive out of order.
    highest: Option<u64>,
}

/// Derives the accounting from the timeline.
pub(super) fn derive(timeline: &Timeline<'_>) -> Messages {
    let mut out = Messages::default();
    let mut ledgers: BTreeMap<u32, Ledger> = BTreeMap::new();
    for event in &timeline.events {
        let What::Client(client, kind) = event.what else { continue };
        match kind {
            ClientEventKind::Offered { seq } => {
                out.counts.offered += 1;
                ledgers.entry(client).or_default().offered.insert(*seq);
            }
            ClientEventKind::Sent { resend: false, .. } => out.counts.sent += 1,
            ClientEventKind::Echoed { seq, latency } => {
                let ledger = ledgers.entry(client).or_default();
                if !ledger.echoed.insert(*seq) {
                    // A second `Echoed` for a seq is not a first echo; `Duplicate` reports those.
                    continue;
                }
                out.counts.echoed += 1;
                out.latencies.push(latency.as_secs_f64());
                if ledger.highest.is_some_and(|highest| *seq < highest) {
                    out.counts.reordered += 1;
                }
                ledger.highest = ledger.highest.max(Some(*seq));
            }
            ClientEventKind::Duplicate { .. } => out.counts.duplicated += 1,
            _ => {}
        }
    }
    out.counts.lost =
        ledgers.values().map(|ledger| ledger.offered.difference(&ledger.echoed).count() as u64).sum();
    out
}
