//! Table-driven tests of the recorder over hand-written event lists: a [`Script`] builds events
//! at `origin + seconds` and runs them through [`Recorder`].

mod incidents;
mod jsonl;
mod messages;
mod observed;
mod run;
mod window;

use std::time::Duration;

use tokio::time::Instant;

use super::{Recorded, Recorder, RecorderOutput, Span};
use crate::client::{ClientEvent, ClientEventKind, GiveUp, Reason};
use crate::fault::FaultId;
use crate::proxy::{CloseCause, EventKind, LinkId, ProxyEvent};

/// Fault occurrence `occurrence` of plan entry `plan`.
fn fault(plan: u64, occurrence: u64) -> FaultId {
    FaultId { plan, occurrence }
}

/// Asserts two lists of seconds are equal to the nanosecond `Duration` rounding.
#[track_caller]
fn assert_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: {actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{what}: {actual:?} vs {expected:?}");
    }
}

/// A hand-written run: its events, in the order they arrive.
#[derive(Clone, Debug)]
struct Script {
    origin: Instant,
    clients: u32,
    workload: bool,
    end: f64,
    /// The heal, where the workload stops; the end unless set.
    heal: Option<f64>,
    events: Vec<Recorded>,
}

impl Script {
    fn new(clients: u32, workload: bool, end: f64) -> Script {
        Script { origin: Instant::now(), clients, workload, end, heal: None, events: Vec::new() }
    }

    fn healed_at(mut self, heal: f64) -> Script {
        self.heal = Some(heal);
        self
    }

    fn at(&self, t: f64) -> Instant {
        self.origin + Duration::from_secs_f64(t)
    }

    fn client(mut self, t: f64, client: u32, kind: ClientEventKind) -> Script {
        let at = self.at(t);
        self.events.push(Recorded::Client(ClientEvent { at, client, kind }));
        self
    }

    fn proxy(mut self, t: f64, kind: EventKind) -> Script {
        let at = self.at(t);
        self.events.push(Recorded::Proxy(ProxyEvent { at, kind }));
        self
    }

    fn attempt(self, t: f64, client: u32, n: u64) -> Script {
        self.client(t, client, ClientEventKind::Attempt { n })
    }

    fn failed(self, t: f64, client: u32, n: u64) -> Script {
        let reason = Reason::ConnectFailed(std::io::ErrorKind::ConnectionRefused);
        self.client(t, client, ClientEventKind::AttemptFailed { n, reason })
    }

    fn opened(self, t: f64, client: u32, n: u64) -> Script {
        self.client(t, client, ClientEventKind::Opened { n, local: None })
    }

    fn detected(self, t: f64, client: u32, reason: Reason) -> Script {
        self.client(t, client, ClientEventKind::Detected(reason))
    }

    fn gave_up(self, t: f64, client: u32) -> Script {
        self.client(t, client, ClientEventKind::GaveUp(GiveUp::MaxAttempts(3)))
    }

    fn offered(self, t: f64, client: u32, seq: u64) -> Script {
        self.client(t, client, ClientEventKind::Offered { seq })
    }

    fn sent(self, t: f64, client: u32, seq: u64, resend: bool) -> Script {
        self.client(t, client, ClientEventKind::Sent { seq, resend })
    }

    fn echoed(self, t: f64, client: u32, seq: u64, latency_ms: u64) -> Script {
        self.client(t, client, ClientEventKind::Echoed { seq, latency: Duration::from_millis(latency_ms) })
    }

    /// Attempt, identification of `link` and open, in one go, starting at `t`.
    fn connect(self, t: f64, client: u32, n: u64, link: u64) -> Script {
        self.attempt(t, client, n)
            .proxy(t + 0.01, EventKind::LinkIdentified { link: LinkId(link), client })
            .opened(t + 0.02, client, n)
    }

    fn identified(self, t: f64, link: u64, client: u32) -> Script {
        self.proxy(t, EventKind::LinkIdentified { link: LinkId(link), client })
    }

    fn closed(self, t: f64, link: u64) -> Script {
        let cause = CloseCause::ServerError(std::io::ErrorKind::ConnectionReset);
        self.proxy(t, EventKind::LinkClosed { link: LinkId(link), cause })
    }

    fn started(self, t: f64, id: FaultId, name: &'static str) -> Script {
        self.proxy(t, EventKind::FaultStarted { fault: id, name })
    }

    fn ended(self, t: f64, id: FaultId) -> Script {
        self.proxy(t, EventKind::FaultEnded { fault: id })
    }

    fn hit(self, t: f64, id: FaultId, link: Option<u64>) -> Script {
        self.proxy(t, EventKind::FaultHit { fault: id, link: link.map(LinkId) })
    }

    fn span(&self) -> Span {
        let end_at = Duration::from_secs_f64(self.end);
        let heal_at = self.heal.map_or(end_at, Duration::from_secs_f64);
        Span { origin: self.origin, heal_at, end_at }
    }

    fn finish(&self) -> RecorderOutput {
        let mut recorder = Recorder::new(self.span(), self.clients, self.workload);
        for event in &self.events {
            recorder.record(event.clone());
        }
        recorder.finish()
    }
}
