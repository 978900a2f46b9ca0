//! Runtime control of the proxy: start or stop a fault on all links or on selected ones, and
//! the registry of open links that makes that possible.
//!
//! Control never waits. It holds a mutex only for bookkeeping (never across an `.await`) and
//! talks to links over unbounded channels, so a link that is blocked writing to a slow peer, or
//! a flood of traffic, cannot make a start or stop hang. toxiproxy's API hangs when removing a
//! toxic under load (Shopify/toxiproxy #159, #210, #558); this design has nothing to hang on.
//!
//! Which links a fault hits is decided once, from the seed, when the fault starts (for links
//! already open) or when a link opens or identifies itself (for later ones), and never rolled
//! again. Probability 0 hits nothing and draws nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::seq::SliceRandom;
use tokio::sync::mpsc;

use super::LinkId;
use super::events::{CloseCause, EventKind, EventSink};
use super::impostor::Impostors;
use super::terminate::Termination;
use crate::fault::FaultId;
use crate::fault::{self, Admission, LinkFault};
use crate::scenario::{ClientSelector, Fault, FaultKind, Links, Target};
use crate::seeds;
use crate::tls::BadCertificate;
use crate::wire::signature::Credentials;

mod draws;

use draws::{PICK_ARRIVAL, chance, fault_rng};

/// A message from control to one link.
#[derive(Debug)]
pub enum LinkCommand {
    /// Start this fault on the link.
    Start(FaultId, Box<dyn LinkFault>),
    /// End this fault on the link.
    End(FaultId),
}

/// What a new link starts with.
#[derive(Debug)]
pub struct OpenedLink {
    /// Its id.
    pub link: LinkId,
    /// Where its commands arrive.
    pub commands: mpsc::UnboundedReceiver<LinkCommand>,
    /// The faults it opens under.
    pub initial: Vec<LinkCommand>,
    /// Whether it must hold the upgrade request until the request names its client.
    pub hold_request: bool,
    /// Whether it forwards the upgrade request without its permessage-deflate offer.
    pub strip_deflate: bool,
}

/// A handle to the proxy's fault state; clones share it.
#[derive(Clone, Debug)]
pub struct Control {
    state: Arc<Mutex<State>>,
    events: EventSink,
    /// The bad certificates of `tls_bad_certificate`.
    impostors: Arc<Impostors>,
}

/// What happens to an accepted connection before it becomes a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalFate {
    /// It is proxied.
    Proxy,
    /// `accept_hang` holds it unanswered.
    Hang(FaultId),
    /// `tls_bad_certificate` answers it with a bad certificate.
    Impersonate(FaultId, BadCertificate),
}

#[derive(Debug)]
struct State {
    seed: u64,
    /// Clients in the run, for `share` targets.
    client_count: u32,
    links: BTreeMap<LinkId, LinkEntry>,
    active: BTreeMap<FaultId, Active>,
    next_link: u64,
    /// Connections that arrived, admitted or not: the index of admission draws.
    arrivals: u64,
    /// Links forward upgrade requests without their permessage-deflate offer.
    strip_deflate: bool,
    /// The echo server's signed-handshake credentials, which `revoke_credentials` acts on.
    credentials: Option<Credentials>,
    /// `proxy.tls: terminate`: how links opened from now on end the client's TLS and open
    /// their own to the server.
    termination: Option<Arc<Termination>>,
}

#[derive(Debug)]
struct LinkEntry {
    commands: mpsc::UnboundedSender<LinkCommand>,
    /// The client index, once the upgrade request named it.
    client: Option<u32>,
    /// Faults started on this link.
    applied: BTreeSet<FaultId>,
}

#[derive(Debug)]
struct Active {
    fault: Fault,
    target: Target,
    /// For client selectors: the chosen client indices.
    chosen: Option<BTreeSet<u32>>,
    /// Links open when the fault started (the `existing` ones).
    existing: BTreeSet<LinkId>,
}

impl Control {
    /// Control for a proxy whose runs have `client_count` clients, drawing from `seed`.
    pub fn new(seed: u64, client_count: u32, events: EventSink) -> Control {
        let state = State {
            seed,
            client_count,
            links: BTreeMap::new(),
            active: BTreeMap::new(),
            next_link: 0,
            arrivals: 0,
            strip_deflate: false,
            credentials: None,
            termination: None,
        };
        Control { state: Arc::new(Mutex::new(state)), events, impostors: Arc::default() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes links opened from now on forward upgrade requests without their permessage-deflate
    /// offer (the `strip_deflate` proxy option), so no stream is compressed and frame faults
    /// can drop data frames.
    pub fn set_strip_deflate(&self, strip: bool) {
        self.lock().strip_deflate = strip;
    }

    /// Makes links opened from now on terminate TLS (`proxy.tls: terminate`) with
    /// `termination`, or pass it through (`None`, the default).
    pub fn set_tls_termination(&self, termination: Option<Termination>) {
        self.lock().termination = termination.map(Arc::new);
    }

    /// How a link opened now terminates TLS, if it does.
    pub fn tls_termination(&self) -> Option<Arc<Termination>> {
        self.lock().termination.clone()
    }

    /// The echo server's credentials, for `revoke_credentials` (the stack sets them).
    pub fn set_credentials(&self, credentials: Option<Credentials>) {
        self.lock().credentials = credentials;
    }

    /// The sink events go to.
    pub fn events(&self) -> &EventSink {
        &self.events
    }

    /// Starts a fault. Links already open get it now; instant faults (`reset`, `close`) act on
    /// them and are done, the others stay active for links that open later.
    pub fn start(&self, id: FaultId, fault: &Fault, target: &Target) {
        self.events.emit(EventKind::FaultStarted { fault: id, name: fault.name() });
        let mut state = self.lock();
        if let Fault::RevokeCredentials { rotate_to } = fault {
            // A fault on the server, not on links (fault/revoke_credentials.rs).
            if let Some(credentials) = &state.credentials {
                credentials.revoke(rotate_to.clone());
                self.events.emit(EventKind::FaultHit { fault: id, link: None });
            }
            return;
        }
        let chosen = state.choose_clients(id, &target.clients);
        let existing: BTreeSet<LinkId> = state.links.keys().copied().collect();
        let active = Active { fault: fault.clone(), target: target.clone(), chosen, existing };
        let kind = fault.kind();
        if !kind.acts_on_new_connections() && target.links != Links::New {
            let seed = state.seed;
            for (link, entry) in &mut state.links {
                if active.hits(seed, id, *link, entry.client) == Some(true) {
                    apply(seed, id, &active.fault, *link, entry);
                }
            }
        }
        if !kind.is_instant() {
            state.active.insert(id, active);
        }
    }

    /// Ends a fault: links it acted on flow normally again (held bytes are released).
    pub fn stop(&self, id: FaultId) {
        let mut state = self.lock();
        if state.active.remove(&id).is_some() {
            for entry in state.links.values_mut() {
                if entry.applied.contains(&id) {
                    let _ = entry.commands.send(LinkCommand::End(id));
                }
            }
            drop(state);
            self.events.emit(EventKind::FaultEnded { fault: id });
        }
    }

    /// Ends every active fault: the heal at the end of a scenario's fault period.
    pub fn heal(&self) {
        let ids: Vec<FaultId> = self.lock().active.keys().copied().collect();
        for id in ids {
            self.stop(id);
        }
    }

    /// The faults active now, in id order.
    pub fn active(&self) -> Vec<FaultId> {
        self.lock().active.keys().copied().collect()
    }

    /// Decides whether an arriving connection is refused (the `refuse` fault).
    pub fn admit(&self) -> bool {
        self.arrival(|fate| fate == Admission::Refuse).is_none()
    }

    /// Decides what becomes of an accepted connection: hung (`accept_hang`), answered by an
    /// impostor (`tls_bad_certificate`), or proxied. One arrival, one draw per fault.
    pub fn arrival_fate(&self) -> ArrivalFate {
        let caught = self.arrival(|fate| matches!(fate, Admission::Hang | Admission::Impersonate(_)));
        match caught {
            Some((id, Admission::Impersonate(kind))) => ArrivalFate::Impersonate(id, kind),
            Some((id, _)) => ArrivalFate::Hang(id),
            None => ArrivalFate::Proxy,
        }
    }

    /// The bad certificates `tls_bad_certificate` answers with.
    pub fn impostors(&self) -> &Impostors {
        &self.impostors
    }

    /// Counts an arriving connection and returns the active fault whose admission `fate`
    /// accepts, with that admission.
    fn arrival(&self, fate: impl Fn(Admission) -> bool) -> Option<(FaultId, Admission)> {
        let mut state = self.lock();
        let arrival = state.arrivals;
        state.arrivals += 1;
        let caught = state.admission_fault(arrival, fate);
        drop(state);
        if let Some((id, _)) = caught {
            self.events.emit(EventKind::FaultHit { fault: id, link: None });
        }
        caught
    }

    /// Registers a new link: its id, its command channel and the faults it opens under.
    /// `client` is the client it belongs to when the listener that accepted it says so (one
    /// listener per client); otherwise its upgrade request may name it later.
    pub fn open_link(&self, peer: SocketAddr, client: Option<u32>) -> OpenedLink {
        let (commands, receiver) = mpsc::unbounded_channel();
        let mut state = self.lock();
        let link = LinkId(state.next_link);
        state.next_link += 1;
        let mut entry = LinkEntry { commands, client, applied: BTreeSet::new() };
        let initial = state.faults_for(link, &mut entry);
        // A handshake fault that picks clients can only decide once the request names its
        // client, so the request must wait for that.
        let hold_request = client.is_none()
            && state.active.values().any(|active| {
                active.fault.kind() == FaultKind::RejectHandshake
                    && active.chosen.is_some()
                    && active.target.links != Links::Existing
            });
        let strip_deflate = state.strip_deflate;
        state.links.insert(link, entry);
        drop(state);
        self.events.emit(EventKind::LinkOpened { link, peer });
        if let Some(client) = client {
            self.events.emit(EventKind::LinkIdentified { link, client });
        }
        OpenedLink { link, commands: receiver, initial, hold_request, strip_deflate }
    }

    /// Records which client a link belongs to; returns the faults that now hit it because
    /// they target that client.
    pub fn identify(&self, link: LinkId, client: u32) -> Vec<LinkCommand> {
        let mut state = self.lock();
        let Some(mut entry) = state.links.remove(&link) else { return Vec::new() };
        if entry.client.is_some() {
            // Its listener already said whose it is; a header cannot change that.
            state.links.insert(link, entry);
            return Vec::new();
        }
        entry.client = Some(client);
        let started = state.faults_for(link, &mut entry);
        state.links.insert(link, entry);
        drop(state);
        self.events.emit(EventKind::LinkIdentified { link, client });
        started
    }

    /// Forgets a link that ended.
    pub fn close_link(&self, link: LinkId, cause: CloseCause) {
        self.lock().links.remove(&link);
        self.events.emit(EventKind::LinkClosed { link, cause });
    }

    /// Links open now.
    pub fn open_links(&self) -> usize {
        self.lock().links.len()
    }
}

impl State {
    /// The active link faults that hit `link` and are not applied to it yet; marks them applied.
    fn faults_for(&self, link: LinkId, entry: &mut LinkEntry) -> Vec<LinkCommand> {
        let mut started = Vec::new();
        for (id, active) in &self.active {
            let kind = active.fault.kind();
            let eligible = match active.target.links {
                Links::All => true,
                Links::New => !active.existing.contains(&link),
                Links::Existing => active.existing.contains(&link),
            };
            let new_only = kind.acts_on_new_connections();
            if entry.applied.contains(id)
                || !eligible
                || kind.acts_before_identification()
                || (new_only && active.existing.contains(&link))
                || active.hits(self.seed, *id, link, entry.client) != Some(true)
            {
                continue;
            }
            let fault = fault::build(&active.fault, fault_rng(self.seed, *id, link));
            entry.applied.insert(*id);
            started.push(LinkCommand::Start(*id, fault));
        }
        started
    }

    /// For client selectors, the clients a fault occurrence hits, drawn once from the seed.
    fn choose_clients(&self, id: FaultId, selector: &ClientSelector) -> Option<BTreeSet<u32>> {
        match selector {
            ClientSelector::All | ClientSelector::Probability(_) => None,
            ClientSelector::Indices(indices) => Some(indices.iter().copied().collect()),
            ClientSelector::Share(share) => {
                let mut clients: Vec<u32> = (0..self.client_count).collect();
                clients.shuffle(&mut seeds::derive(self.seed, &[seeds::FAULT, id.plan, id.occurrence]));
                let take = (share * f64::from(self.client_count)).round() as usize;
                Some(clients.into_iter().take(take).collect())
            }
        }
    }

    /// The active fault that gives arrival number `arrival` the fate `fate`, if one catches it.
    fn admission_fault(
        &self,
        arrival: u64,
        fate: impl Fn(Admission) -> bool,
    ) -> Option<(FaultId, Admission)> {
        self.active
            .iter()
            .filter(|(_, active)| active.fault.kind().acts_before_identification())
            .map(|(id, active)| {
                (id, active, fault::build(&active.fault, fault_rng(self.seed, *id, LinkId(arrival))).admit())
            })
            .filter(|(_, _, admission)| fate(*admission))
            .find(|(id, active, _)| chance(self.seed, **id, &[PICK_ARRIVAL, arrival], &active.target.clients))
            .map(|(id, _, admission)| (*id, admission))
    }
}

/// Sends a fault to a link that is already open.
fn apply(seed: u64, id: FaultId, fault: &Fault, link: LinkId, entry: &mut LinkEntry) {
    let built = fault::build(fault, fault_rng(seed, id, link));
    entry.applied.insert(id);
    // A link whose task has ended is about to be removed; nothing to do.
    let _ = entry.commands.send(LinkCommand::Start(id, built));
}
