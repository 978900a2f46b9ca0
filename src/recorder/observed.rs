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
//! back before the end of the run.

use std::collections::{BTreeMap, BTreeSet};

use crate::fault::FaultId;
use crate::proxy::{EventKind, LinkId};
use crate::scenario::FaultKind;
use crate::ws::Way;

use super::{Timeline, What};

/// What the proxy said about one link.
#[derive(Debug, Default)]
struct LinkFacts {
    /// When the connection arrived at the proxy, if the timeline says.
    arrived: Option<f64>,
    identified: f64,
    opened: Option<f64>,
    first_echo: Option<f64>,
    closed: Option<f64>,
    hits: Vec<(f64, FaultId)>,
}

impl LinkFacts {
    /// Where the link stands in its client's order of attempts.
    fn start(&self) -> f64 {
        self.arrived.unwrap_or(self.identified)
    }

    fn useful(&self, timeline: &Timeline<'_>) -> Option<f64> {
        match self.opened {
            Some(opened) if timeline.workload && opened < timeline.workload_until => self.first_echo,
            opened => opened,
        }
    }
}

/// The observed recovery times, in seconds.
pub(super) fn recovery_times(timeline: &Timeline<'_>) -> Vec<f64> {
    let mut links: BTreeMap<LinkId, LinkFacts> = BTreeMap::new();
    let mut by_client: BTreeMap<u32, Vec<LinkId>> = BTreeMap::new();
    let mut ended: BTreeMap<FaultId, f64> = BTreeMap::new();
    let mut handshake_only: BTreeSet<FaultId> = BTreeSet::new();
    for event in &timeline.events {
        let What::Proxy(kind) = event.what else { continue };
        let t = event.t;
        match kind {
            EventKind::LinkOpened { link, .. } => links.entry(*link).or_default().arrived = Some(t),
            EventKind::LinkIdentified { link, client } => {
                links.entry(*link).or_default().identified = t;
                by_client.entry(*client).or_default().push(*link);
            }
            EventKind::Upgraded { link, status: 101 } => {
                links.entry(*link).or_default().opened.get_or_insert(t);
            }
            EventKind::FirstData { link, way: Way::Downstream } => {
                links.entry(*link).or_default().first_echo.get_or_insert(t);
            }
            EventKind::LinkClosed { link, .. } => {
                links.entry(*link).or_default().closed.get_or_insert(t);
            }
            EventKind::FaultHit { fault, link: Some(link) } => {
                links.entry(*link).or_default().hits.push((t, *fault))
            }
            EventKind::FaultEnded { fault } => {
                ended.entry(*fault).or_insert(t);
            }
            EventKind::FaultStarted { fault, name }
                if FaultKind::named(name).is_some_and(FaultKind::acts_on_new_connections) =>
            {
                handshake_only.insert(*fault);
            }
            _ => {}
        }
    }
    let mut times = Vec::new();
    for chain in by_client.values_mut() {
        chain.sort_by(|a, b| links[a].start().total_cmp(&links[b].start()).then(a.cmp(b)));
        for (index, link) in chain.iter().enumerate() {
            let facts = &links[link];
            let (Some(opened), Some(_)) = (facts.opened, facts.useful(timeline)) else { continue };
            let next_arrived = chain.get(index + 1).map(|next| links[next].start());
            let over = [facts.closed, next_arrived].into_iter().flatten().reduce(f64::min);
            let Some(over) = over else { continue };
            let breaks_open_links = |fault: &FaultId| {
                !handshake_only.contains(fault) && ended.get(fault).is_none_or(|end| *end > opened)
            };
            let t_break = facts
                .hits
                .iter()
                .find(|(t, fault)| *t >= opened && *t <= over && breaks_open_links(fault))
                .map_or(over, |(t, _)| *t);
            let back = chain[index + 1..].iter().find_map(|next| links[next].useful(timeline));
            if let Some(back) = back {
                times.push(back - t_break);
            }
        }
    }
    times
}
