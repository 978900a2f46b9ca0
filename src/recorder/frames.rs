//! The clients' control frames as the proxy's observer saw them, taken as they stream by (they
//! are too many to keep): how often clients ping, whether they answer the server's pings, and
//! the close codes they send. This is what wschaos can say about a client program that reports
//! nothing.
//!
//! Definitions:
//! - **client_ping_interval**: the time between two pings a client sent on the same link;
//! - **unanswered_pings**: server pings followed by another server ping on the same link with
//!   no pong from the client in between, counting only pings sent while no fault was active
//!   (a fault may have swallowed the ping or the pong: that is not the client's doing). A ping
//!   still pending when its link closes or the run ends is not counted;
//! - **close codes**: the code of each Close frame a client sent (`none` without one).

use std::collections::BTreeMap;

use crate::proxy::{EventKind, LinkId};
use crate::scenario::FrameKind;
use crate::ws::Way;

/// The streaming state.
#[derive(Debug, Default)]
pub(super) struct Frames {
    /// The last ping a client sent, per link.
    last_client_ping: BTreeMap<LinkId, f64>,
    /// A server ping not yet answered, per link, and whether a fault was active when it went.
    pending: BTreeMap<LinkId, bool>,
    /// Faults active now.
    active_faults: u64,
    out: FrameFigures,
}

/// What [`Frames`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct FrameFigures {
    /// Seconds between a client's pings on a link.
    pub ping_intervals: Vec<f64>,
    /// Server pings answered with a pong.
    pub answered: u64,
    /// Server pings left unanswered outside faults.
    pub unanswered: u64,
    /// Close frames clients sent, per code (`none` without one).
    pub close_codes: BTreeMap<String, u64>,
}

impl Frames {
    /// Takes one proxy event at `t` seconds (in time order).
    pub fn take(&mut self, kind: &EventKind, t: f64) {
        match kind {
            EventKind::FaultStarted { .. } => self.active_faults += 1,
            EventKind::FaultEnded { .. } => self.active_faults = self.active_faults.saturating_sub(1),
            // Swallowed or not, a frame counts as sent: these figures are about what clients do.
            EventKind::ControlFrame { link, way, kind, close_code, .. } => match (way, kind) {
                (Way::Upstream, FrameKind::Ping) => {
                    if let Some(last) = self.last_client_ping.insert(*link, t) {
                        self.out.ping_intervals.push(t - last);
                    }
                }
                (Way::Downstream, FrameKind::Ping) => {
                    let during_fault = self.active_faults > 0;
                    if let Some(earlier_during_fault) = self.pending.insert(*link, during_fault)
                        && !earlier_during_fault
                        && !during_fault
                    {
                        self.out.unanswered += 1;
                    }
                }
                (Way::Upstream, FrameKind::Pong) if self.pending.remove(link).is_some() => {
                    self.out.answered += 1;
                }
                (Way::Upstream, FrameKind::Close) => {
                    let code = close_code.map_or_else(|| "none".to_string(), |code| code.to_string());
                    *self.out.close_codes.entry(code).or_default() += 1;
                }
                _ => {}
            },
            EventKind::LinkClosed { link, .. } => {
                self.last_client_ping.remove(link);
                self.pending.remove(link);
            }
            _ => {}
        }
    }

    /// The figures.
    pub fn finish(self) -> FrameFigures {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::FaultId;

    fn frame(link: u64, way: Way, kind: FrameKind, close_code: Option<u16>) -> EventKind {
        EventKind::ControlFrame { link: LinkId(link), way, kind, close_code, swallowed: false }
    }

    #[test]
    fn pings_pongs_and_close_codes_are_counted() {
        let fault = FaultId { plan: 0, occurrence: 0 };
        let events = [
            (0.0, frame(1, Way::Upstream, FrameKind::Ping, None)),
            (0.5, frame(1, Way::Downstream, FrameKind::Ping, None)),
            (0.6, frame(1, Way::Upstream, FrameKind::Pong, None)),
            (2.0, frame(1, Way::Upstream, FrameKind::Ping, None)),
            (3.0, frame(1, Way::Downstream, FrameKind::Ping, None)),
            // Unanswered, and no fault: counted when the next ping goes.
            (5.0, frame(1, Way::Downstream, FrameKind::Ping, None)),
            (5.5, EventKind::FaultStarted { fault, name: "blackhole" }),
            // Pings during a fault are not the client's fault.
            (6.0, frame(1, Way::Downstream, FrameKind::Ping, None)),
            (7.0, frame(1, Way::Downstream, FrameKind::Ping, None)),
            (7.5, EventKind::FaultEnded { fault }),
            (8.0, frame(2, Way::Downstream, FrameKind::Ping, None)),
            // A pending ping on a closed link is not counted.
            (8.5, EventKind::LinkClosed { link: LinkId(2), cause: crate::proxy::CloseCause::Finished }),
            (9.0, frame(1, Way::Upstream, FrameKind::Close, Some(1001))),
            (9.0, frame(3, Way::Upstream, FrameKind::Close, None)),
        ];
        let mut frames = Frames::default();
        for (t, event) in &events {
            frames.take(event, *t);
        }
        let figures = frames.finish();
        assert_eq!(figures.ping_intervals, [2.0]);
        assert_eq!((figures.answered, figures.unanswered), (1, 1));
        let codes: Vec<(&str, u64)> = figures.close_codes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(codes, [("1001", 1), ("none", 1)]);
    }
}
