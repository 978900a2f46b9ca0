//! Incidents: a client's open connection breaks, and what followed until it recovered, gave up
//! or the run ended (docs/measurement.md, "What is measured").
//!
//! Definitions:
//! - A client's links are the ones whose `LinkIdentified` names it; its **current link** is the
//!   link whose peer address is the local address of its last `Opened` (the last link opened
//!   from that address before the open: ports are reused over a long run), or else the last
//!   one identified for it.
//! - An incident starts when a client that was open gets `Detected(reason)`, at **t_detect**.
//! - **t_break** is the earliest of (a) the first `FaultHit` on the current link since the client
//!   last opened and (b) the proxy's `LinkClosed` of that link, counting only those at or before
//!   t_detect; with neither, t_break = t_detect.
//! - **t_open** is the first `Opened` after t_detect; **attempts** counts the `Attempt` events
//!   from t_detect up to and including the one that opened (all of them if none did).
//! - **t_recovered** is the first `Echoed` after t_open when the run has a workload and the
//!   client still has something to send (messages still fall due, or some are unechoed), else
//!   t_open: after the heal the workload stops, and a client with nothing left to send gets no
//!   echo to recover by.
//! - A `Detected` after t_open but before t_recovered (a break during resync) continues the
//!   incident: attempts keep counting, and t_open becomes the next `Opened`, the one the client
//!   recovers from (so reconnect_time and resync_time still add up to t_recovered − t_detect).
//! - `GaveUp` ends the incident unrecovered; so does the end of the run.
//! - **causes** are the faults that hit the client's links during [t_break, t_open or the
//!   incident's end], plus the admission faults (a `FaultHit` without a link: refuse,
//!   accept_hang) whose active span overlaps that window; formatted `faults[i]#k name`.
//! - **t_heal** is the latest end among the causes (an instant fault, which has no
//!   `FaultEnded`, contributes its start); `None` without causes. A fault that healed before
//!   detection still counts, so t_heal may precede t_detect.
//!
//! Samples per incident, in seconds: recovery_time = t_recovered − t_break, detect_time =
//! t_detect − t_break, reconnect_time = t_open − t_detect, resync_time = t_recovered − t_open,
//! excess_after_heal = max(0, t_recovered − max(t_heal, t_break)), and attempts; on `wss://`,
//! tls_time = the TLS handshakes' time between t_detect and t_open (a part of reconnect_time). An unrecovered incident
//! contributes only detect_time and attempts.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::ClientEventKind;
use crate::fault::FaultId;
use crate::outcome::Incident;
use crate::proxy::{EventKind, LinkId};

use super::run::{FaultRow, fault_table};
use super::{History, What};

/// The incidents and what they contribute to the samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Incidents {
    /// Every incident, in order of detection.
    pub incidents: Vec<Incident>,
    /// Per-incident metrics: recovery_time, detect_time, reconnect_time, resync_time,
    /// excess_after_heal and attempts.
    pub samples: Vec<(&'static str, Vec<f64>)>,
    /// Detect times per reason.
    pub detect_by_reason: BTreeMap<String, Vec<f64>>,
}

/// What the proxy said about its links, gathered before the pass over clients.
#[derive(Debug, Default)]
struct Links {
    /// The client each link belongs to.
    client_of: BTreeMap<LinkId, u32>,
    /// Fault hits per link, in time order.
    hits: BTreeMap<LinkId, Vec<(f64, FaultId)>>,
    /// When each link closed.
    closed: BTreeMap<LinkId, f64>,
    /// When each fault ended.
    ended: BTreeMap<FaultId, f64>,
    /// Fault hits on each client's links (its identified ones), by client.
    hits_by_client: BTreeMap<u32, Vec<(f64, FaultId)>>,
}

impl Links {
    fn gather(timeline: &History<'_>) -> Links {
        let mut links = Links::default();
        for event in &timeline.events {
            let What::Proxy(kind) = event.what else { continue };
            match kind {
                EventKind::LinkIdentified { link, client } => {
                    links.client_of.insert(*link, *client);
                }
                EventKind::FaultHit { fault, link: Some(link) } => {
                    links.hits.entry(*link).or_default().push((event.t, *fault));
                }
                EventKind::LinkClosed { link, .. } => {
                    links.closed.entry(*link).or_insert(event.t);
                }
                EventKind::FaultEnded { fault } => {
                    links.ended.entry(*fault).or_insert(event.t);
                }
                _ => {}
            }
        }
        for (link, hits) in &links.hits {
            if let Some(client) = links.client_of.get(link) {
                links.hits_by_client.entry(*client).or_default().extend(hits);
            }
        }
        links
    }

    /// t_break for a client whose connection on `link`, open since `opened`, was noticed broken
    /// at `detected`.
    fn t_break(&self, link: Option<LinkId>, opened: f64, detected: f64) -> f64 {
        let Some(link) = link else { return detected };
        let first_hit = self.hits.get(&link).and_then(|hits| {
            // On the live engine a link may report a hit a moment after the client saw it
            // open; a fault that had already ended by then cannot have broken it.
            let still_active = |fault: &FaultId| self.ended.get(fault).is_none_or(|end| *end > opened);
            hits.iter()
                .find(|(t, fault)| *t >= opened && *t <= detected && still_active(fault))
                .map(|(t, _)| *t)
        });
        let closed = self.closed.get(&link).copied().filter(|t| *t <= detected);
        first_hit.into_iter().chain(closed).fold(detected, f64::min)
    }
}

/// Where a client stands in the incident pass.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Never opened, or gave up: a `Detected` now starts nothing.
    Down,
    /// Open and healthy.
    Open,
    /// In incident `index`, reconnecting.
    Reconnecting(usize),
    /// In incident `index`, open again and waiting for the first echo.
    Resyncing(usize),
}

/// One client's standing.
#[derive(Clone, Copy, Debug)]
struct ClientState {
    phase: Phase,
    /// The last link identified for it.
    link: Option<LinkId>,
    /// Its last `Opened`.
    opened: f64,
    /// Whether `link` was matched by address, so late identifications of abandoned attempts
    /// cannot replace it.
    pinned: bool,
}

/// An incident being built.
#[derive(Clone, Debug)]
struct Building {
    incident: Incident,
    /// When it stopped: its `GaveUp`, or the end of the run; the recovery otherwise.
    end: f64,
}

/// Derives the incidents from the timeline: a state-machine pass builds them from the events,
/// then a second pass attributes their causes and measures them.
pub(super) fn derive(timeline: &History<'_>) -> Incidents {
    let links = Links::gather(timeline);
    let faults = fault_table(timeline);
    let building = IncidentPass::build(timeline, &links);
    measure(building, &links, &faults)
}

/// The state-machine pass: one walk over the events that follows each client through its
/// phases and opens, continues and ends incidents as it goes.
struct IncidentPass<'l> {
    links: &'l Links,
    /// End of the run, where an incident that never stopped ends.
    end: f64,
    clients: BTreeMap<u32, ClientState>,
    building: Vec<Building>,
    /// The link each client address opened last, so far: addresses are reused over a long run
    /// (ports wrap), so a client's open is matched with the link its address opened before it.
    by_peer: BTreeMap<std::net::SocketAddr, LinkId>,
}

impl<'l> IncidentPass<'l> {
    /// Walks the timeline once and returns the incidents it built, in order of detection.
    fn build(timeline: &History<'_>, links: &'l Links) -> Vec<Building> {
        let mut pass = IncidentPass {
            links,
            end: timeline.end,
            clients: BTreeMap::new(),
            building: Vec::new(),
            by_peer: BTreeMap::new(),
        };
        for event in &timeline.events {
            match event.what {
                What::Proxy(kind) => pass.proxy_event(kind),
                What::Client(client, kind) => pass.client_event(client, kind, event.t, event.awaits_echo),
            }
        }
        pass.building
    }

    /// Notes which client a link belongs to and which address opened it.
    fn proxy_event(&mut self, kind: &EventKind) {
        match kind {
            EventKind::LinkIdentified { link, client } => {
                let state = self.clients.entry(*client).or_insert(ClientState::new());
                if !state.pinned {
                    state.link = Some(*link);
                }
            }
            EventKind::LinkOpened { link, peer } => {
                self.by_peer.insert(*peer, *link);
            }
            _ => {}
        }
    }

    /// Moves `client` through its phases on one of its events at `t`.
    fn client_event(&mut self, client: u32, kind: &ClientEventKind, t: f64, awaits_echo: bool) {
        let state = self.clients.entry(client).or_insert(ClientState::new());
        // The connection that opened is the link whose peer is the client's local address: a
        // stalled earlier attempt may identify itself later, so the last identified link is
        // only the fallback.
        if let ClientEventKind::Opened { local: Some(local), .. } = kind
            && let Some(link) = self.by_peer.get(local)
        {
            state.link = Some(*link);
            state.pinned = true;
        }
        let building = &mut self.building;
        match (state.phase, kind) {
            (Phase::Reconnecting(index), ClientEventKind::Opened { .. }) => {
                state.opened = t;
                let incident = &mut building[index].incident;
                incident.t_open = Some(t);
                if awaits_echo {
                    state.phase = Phase::Resyncing(index);
                } else {
                    incident.t_recovered = Some(t);
                    state.phase = Phase::Open;
                }
            }
            (_, ClientEventKind::Opened { .. }) => {
                state.opened = t;
                state.phase = Phase::Open;
            }
            (Phase::Resyncing(index), ClientEventKind::Echoed { .. }) => {
                building[index].incident.t_recovered = Some(t);
                state.phase = Phase::Open;
            }
            (Phase::Open, ClientEventKind::Detected(reason)) => {
                let t_break = self.links.t_break(state.link, state.opened, t);
                building.push(Building::detected(client, t_break, t, reason.to_string(), self.end));
                state.phase = Phase::Reconnecting(building.len() - 1);
            }
            (Phase::Resyncing(index), ClientEventKind::Detected(_)) => {
                // A break during resync continues the incident; the next open replaces t_open.
                building[index].incident.t_open = None;
                state.phase = Phase::Reconnecting(index);
            }
            (Phase::Reconnecting(index), ClientEventKind::Attempt { .. }) => {
                building[index].incident.attempts += 1;
            }
            (Phase::Reconnecting(index), ClientEventKind::TlsEstablished { took, .. }) => {
                let tls_time = &mut building[index].incident.tls_time;
                *tls_time = Some(tls_time.unwrap_or(0.0) + took.as_secs_f64());
            }
            (Phase::Reconnecting(index) | Phase::Resyncing(index), ClientEventKind::GaveUp(_)) => {
                building[index].end = t;
                state.phase = Phase::Down;
            }
            (_, ClientEventKind::GaveUp(_)) => state.phase = Phase::Down,
            _ => {}
        }
    }
}

/// The measuring pass: attributes each built incident's causes and t_heal, and derives the
/// samples from its instants.
fn measure(building: Vec<Building>, links: &Links, faults: &BTreeMap<FaultId, FaultRow>) -> Incidents {
    let mut out = Incidents::default();
    let mut samples = IncidentSamples::default();
    for Building { mut incident, end } in building {
        let until = incident.t_open.unwrap_or(end);
        let causes = causes(links, faults, incident.client, incident.t_break, until);
        incident.t_heal = causes.iter().map(|id| faults[id].healed()).reduce(f64::max);
        incident.causes = causes.iter().map(|id| format!("{id} {}", faults[id].name)).collect();

        let detected_after = incident.t_detect - incident.t_break;
        out.detect_by_reason.entry(incident.reason.clone()).or_default().push(detected_after);
        samples.add(&incident, detected_after);
        out.incidents.push(incident);
    }
    out.samples = samples.named();
    out
}

/// The per-incident samples, gathered by [`measure`].
#[derive(Debug, Default)]
struct IncidentSamples {
    recovery_time: Vec<f64>,
    detect_time: Vec<f64>,
    reconnect_time: Vec<f64>,
    resync_time: Vec<f64>,
    excess_after_heal: Vec<f64>,
    attempts: Vec<f64>,
    tls_time: Vec<f64>,
}

impl IncidentSamples {
    /// Adds what `incident` contributes, detected `detected_after` seconds after its break: an
    /// unrecovered one only its detect time and attempts.
    fn add(&mut self, incident: &Incident, detected_after: f64) {
        self.detect_time.push(detected_after);
        self.attempts.push(incident.attempts as f64);
        if let (Some(t_open), Some(t_recovered)) = (incident.t_open, incident.t_recovered) {
            let network_healthy = incident.t_heal.map_or(incident.t_break, |h| h.max(incident.t_break));
            self.recovery_time.push(t_recovered - incident.t_break);
            self.reconnect_time.push(t_open - incident.t_detect);
            self.resync_time.push(t_recovered - t_open);
            if let Some(tls_time) = incident.tls_time {
                self.tls_time.push(tls_time);
            }
            // Back before the heal (new links were spared, say): no time lost after it.
            self.excess_after_heal.push((t_recovered - network_healthy).max(0.0));
        }
    }

    /// The samples under their metric names, in the report's order.
    fn named(self) -> Vec<(&'static str, Vec<f64>)> {
        let tls = (!self.tls_time.is_empty()).then_some(("tls_time", self.tls_time));
        let mut named = vec![
            ("recovery_time", self.recovery_time),
            ("detect_time", self.detect_time),
            ("reconnect_time", self.reconnect_time),
            ("resync_time", self.resync_time),
            ("excess_after_heal", self.excess_after_heal),
            ("attempts", self.attempts),
        ];
        // Only wss:// runs have it, so plain runs' reports stay as they were.
        named.extend(tls);
        named
    }
}

impl Building {
    /// A new incident of `client`, broken at `t_break` and noticed at `t_detect` for `reason`,
    /// that runs until `end` unless it stops sooner.
    fn detected(client: u32, t_break: f64, t_detect: f64, reason: String, end: f64) -> Building {
        Building {
            incident: Incident {
                client,
                t_break,
                t_detect,
                reason,
                attempts: 0,
                t_open: None,
                t_recovered: None,
                t_heal: None,
                causes: Vec::new(),
                tls_time: None,
            },
            end,
        }
    }
}

impl ClientState {
    fn new() -> ClientState {
        ClientState { phase: Phase::Down, link: None, opened: 0.0, pinned: false }
    }
}

/// The faults behind an incident of `client` over `[from, until]`: those that hit one of its
/// links then, and the admission faults active then.
fn causes(
    links: &Links,
    faults: &BTreeMap<FaultId, FaultRow>,
    client: u32,
    from: f64,
    until: f64,
) -> BTreeSet<FaultId> {
    let on_links = links
        .hits_by_client
        .get(&client)
        .into_iter()
        .flatten()
        .filter(|(t, _)| *t >= from && *t <= until)
        .map(|(_, fault)| *fault);
    let admission = faults
        .iter()
        .filter(|(_, row)| row.admission && row.started <= until && row.healed() >= from)
        .map(|(id, _)| *id);
    on_links.chain(admission).filter(|id| faults.contains_key(id)).collect()
}
