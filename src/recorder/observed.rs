//! Recovery measured at the proxy, from the frame observer's events alone: the figure wschaos
//! can give for clients that are not its own, which report nothing. In a run of our clients it
//! sits beside the client-side `recovery_time` as a cross-check.
//!
//! Definitions, per client over the links that named it (`LinkIdentified`), in the order they
//! arrived at the proxy (`LinkOpened`): a stalled attempt may name its client later than the
//! next attempt does, but a client opens its attempts one after another.
//! - A link is **open** from its `Upgraded` with status 101, and **useful** from then or, when
//!   the run has a workload and the link opened before it stopped, from its first downstream
//!   data frame (the first echo). Only useful links count: an attempt the client gave up on may
//!   still be answered 101 after it left.
//! - A useful link is **over** at the earlier of its `LinkClosed` and the arrival of the
//!   client's next link: a client that moved on may leave a blackholed link open for good.
//! - **t_break** is the first `FaultHit` on the link at or after it opened and not after it was
//!   over, from a fault that had not ended before it opened and that acts on open links (not
//!   `handshake_delay` and the like, whose hit comes as the 101 passes); without one, when it
//!   was over.
//! - **t_recovered** is when the client's next useful link became useful.
//!
//! `observed_recovery_time` = t_recovered − t_break, one value per over link whose client came
//! back before the end of the run. For a break a fault caused (t_break is a hit), and whether
//! or not the client came back:
//! - `observed_detect_time` = the client's first reaction − t_break, where its reaction is the
//!   earliest of a Close frame it sent on the link, the link failing on its side (a reset by
//!   the client), and the arrival of its next link;
//! - `observed_attempts` = the client's links that arrived after the break, up to the useful
//!   one (all of them when none became useful), and `attempt_interval` the times between
//!   their arrivals.
//!
//! A client has **converged** at the end when its last link opened, is still open, and was
//! never hit by a fault that breaks links (`reset`, `close`, `blackhole`, `limit`,
//! `close_frame`): it came back after every break. That is how programs that report nothing
//! are judged; clients that report events are judged by their own (`run`).

use std::collections::{BTreeMap, BTreeSet};

use crate::fault::FaultId;
use crate::proxy::{CloseCause, EventKind, LinkId};
use crate::scenario::{FaultKind, FrameKind};
use crate::ws::Way;

use super::{History, What};

/// What the proxy said about one link.
#[derive(Debug, Default)]
struct LinkFacts {
    /// When the connection arrived at the proxy, if the timeline says.
    arrived: Option<f64>,
    identified: f64,
    opened: Option<f64>,
    first_echo: Option<f64>,
    closed: Option<f64>,
    /// When the link failed on the client's side (a reset or error there).
    client_failed: Option<f64>,
    /// When the client first sent a Close frame on it.
    client_close: Option<f64>,
    hits: Vec<(f64, FaultId)>,
}

impl LinkFacts {
    /// Where the link stands in its client's order of attempts.
    fn start(&self) -> f64 {
        self.arrived.unwrap_or(self.identified)
    }

    fn useful(&self, timeline: &History<'_>) -> Option<f64> {
        match self.opened {
            Some(opened) if timeline.workload && opened < timeline.workload_until => self.first_echo,
            opened => opened,
        }
    }
}

/// What the proxy's events say about the clients, in seconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Observed {
    /// `observed_recovery_time` values.
    pub recovery_times: Vec<f64>,
    /// `observed_detect_time` values.
    pub detect_times: Vec<f64>,
    /// `observed_attempts` values.
    pub attempts: Vec<f64>,
    /// `attempt_interval` values.
    pub attempt_intervals: Vec<f64>,
    /// Clients of `clients` that had not converged at the end, sorted.
    pub unconverged: Vec<u32>,
}

/// The faults that end a link (or leave it dead) when they hit it.
fn breaks_links(name: &str) -> bool {
    matches!(
        FaultKind::named(name),
        Some(
            FaultKind::Reset
                | FaultKind::Close
                | FaultKind::Blackhole
                | FaultKind::Limit
                | FaultKind::CloseFrame
        )
    )
}

/// What the proxy's events say, gathered by link and by client.
#[derive(Debug, Default)]
struct Gathered {
    links: BTreeMap<LinkId, LinkFacts>,
    /// Each client's links, in the order they arrived (after [`Gathered::order`]).
    by_client: BTreeMap<u32, Vec<LinkId>>,
    ended: BTreeMap<FaultId, f64>,
    /// Faults that act on new connections only.
    handshake_only: BTreeSet<FaultId>,
    /// Faults that break links ([`breaks_links`]).
    breaking: BTreeSet<FaultId>,
}

impl Gathered {
    fn from(timeline: &History<'_>) -> Gathered {
        let mut gathered = Gathered::default();
        for event in &timeline.events {
            if let What::Proxy(kind) = event.what {
                gathered.take(kind, event.t);
            }
        }
        let links = &gathered.links;
        for chain in gathered.by_client.values_mut() {
            chain.sort_by(|a, b| links[a].start().total_cmp(&links[b].start()).then(a.cmp(b)));
        }
        gathered
    }

    fn take(&mut self, kind: &EventKind, t: f64) {
        match kind {
            EventKind::LinkOpened { link, .. } => self.links.entry(*link).or_default().arrived = Some(t),
            EventKind::LinkIdentified { link, client } => {
                self.links.entry(*link).or_default().identified = t;
                self.by_client.entry(*client).or_default().push(*link);
            }
            EventKind::Upgraded { link, status: 101 } => {
                self.links.entry(*link).or_default().opened.get_or_insert(t);
            }
            EventKind::FirstData { link, way: Way::Downstream } => {
                self.links.entry(*link).or_default().first_echo.get_or_insert(t);
            }
            EventKind::ControlFrame { link, way: Way::Upstream, kind: FrameKind::Close, .. } => {
                self.links.entry(*link).or_default().client_close.get_or_insert(t);
            }
            EventKind::LinkClosed { link, cause } => {
                let facts = self.links.entry(*link).or_default();
                facts.closed.get_or_insert(t);
                if matches!(cause, CloseCause::ClientError(_)) {
                    facts.client_failed.get_or_insert(t);
                }
            }
            EventKind::FaultHit { fault, link: Some(link) } => {
                self.links.entry(*link).or_default().hits.push((t, *fault))
            }
            EventKind::FaultEnded { fault } => {
                self.ended.entry(*fault).or_insert(t);
            }
            EventKind::FaultStarted { fault, name } => {
                if FaultKind::named(name).is_some_and(FaultKind::acts_on_new_connections) {
                    self.handshake_only.insert(*fault);
                }
                if breaks_links(name) {
                    self.breaking.insert(*fault);
                }
            }
            _ => {}
        }
    }

    /// Measures the break of the `index`th link of `chain`, if it was useful and is over.
    fn measure(&self, timeline: &History<'_>, chain: &[LinkId], index: usize, observed: &mut Observed) {
        let links = &self.links;
        let facts = &links[&chain[index]];
        let (Some(opened), Some(_)) = (facts.opened, facts.useful(timeline)) else { return };
        let next_arrived = chain.get(index + 1).map(|next| links[next].start());
        let Some(over) = [facts.closed, next_arrived].into_iter().flatten().reduce(f64::min) else { return };
        let breaks_open_links = |fault: &FaultId| {
            !self.handshake_only.contains(fault) && self.ended.get(fault).is_none_or(|end| *end > opened)
        };
        let hit = facts
            .hits
            .iter()
            .find(|(t, fault)| *t >= opened && *t <= over && breaks_open_links(fault))
            .map(|(t, _)| *t);
        let t_break = hit.unwrap_or(over);
        let later = &chain[index + 1..];
        let back = later.iter().position(|next| links[next].useful(timeline).is_some());
        if let Some(back) = back
            && let Some(useful) = links[&later[back]].useful(timeline)
        {
            observed.recovery_times.push(useful - t_break);
        }
        if hit.is_none() {
            return;
        }
        let reaction = [facts.client_close, facts.client_failed]
            .into_iter()
            .flatten()
            .filter(|t| *t >= t_break)
            .chain(next_arrived)
            .reduce(f64::min);
        if let Some(reaction) = reaction {
            observed.detect_times.push(reaction - t_break);
        }
        let tries = &later[..back.map_or(later.len(), |back| back + 1)];
        observed.attempts.push(tries.len() as f64);
        let arrivals: Vec<f64> = tries.iter().map(|next| links[next].start()).collect();
        observed.attempt_intervals.extend(arrivals.windows(2).map(|pair| pair[1] - pair[0]));
    }

    /// Whether `client`'s last link opened, is still open and was never hit by a breaking fault.
    fn converged(&self, client: u32) -> bool {
        let last = self.by_client.get(&client).and_then(|chain| chain.last()).map(|link| &self.links[link]);
        last.is_some_and(|facts| {
            facts.opened.is_some()
                && facts.closed.is_none()
                && !facts.hits.iter().any(|(_, fault)| self.breaking.contains(fault))
        })
    }
}

/// Everything the proxy saw, per link and per client, for `clients`.
pub(super) fn observe(timeline: &History<'_>, clients: &[u32]) -> Observed {
    let gathered = Gathered::from(timeline);
    let mut observed = Observed::default();
    for chain in gathered.by_client.values() {
        for index in 0..chain.len() {
            gathered.measure(timeline, chain, index, &mut observed);
        }
    }
    observed.unconverged = clients.iter().copied().filter(|client| !gathered.converged(*client)).collect();
    observed
}
