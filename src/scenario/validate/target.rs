//! What a fault hits: which clients (all, a share, a list, or each link by chance) and which of
//! their links (new, existing or all), each checked against what the fault kind can reach.

use super::Checker;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::units;

/// The fault's target: every link when left out or `all`, else the map's clients and links.
pub(super) fn target(
    check: &mut Checker,
    path: &str,
    spec: Option<&WordOr<TargetSpec>>,
    fault: FaultKind,
    count: u32,
) -> Option<Target> {
    let tpath = format!("{path}.target");
    let map = match spec {
        None => {
            return Some(Target { clients: ClientSelector::All, links: Links::All });
        }
        Some(WordOr::Word(word)) => {
            return check
                .word(&tpath, word, &["all"])
                .then_some(Target { clients: ClientSelector::All, links: Links::All });
        }
        Some(WordOr::Map(map)) => map,
    };
    if fault.acts_on_server() {
        check.report(
            Diagnostic::at(
                tpath,
                format!(
                    "`{}` acts on the echo server, not on links, so it cannot have a target",
                    fault.name()
                ),
            )
            .help("remove `target`: the change applies to every connection from then on")
            .on_key(),
        );
        return None;
    }
    let clients = clients(check, &tpath, map, count)?;
    if fault.acts_before_identification()
        && matches!(clients, ClientSelector::Share(_) | ClientSelector::Indices(_))
    {
        check.error(
            tpath.clone(),
            format!(
                "`{}` acts before a connection says which client it is, so it cannot pick clients; use `probability` or no target",
                fault.name()
            ),
        );
    }
    let links = links(check, &tpath, map.links, fault);
    Some(Target { clients, links })
}

/// Which clients the map picks, by its one selector (`share`, `clients` or `probability`), or
/// all of them when it sets none.
fn clients(check: &mut Checker, tpath: &str, map: &TargetSpec, count: u32) -> Option<ClientSelector> {
    if !one_selector_at_most(check, tpath, map) {
        return None;
    }
    if let Some(share) = &map.share {
        share_of_clients(check, tpath, share)
    } else if let Some(list) = &map.clients {
        Some(listed_clients(check, tpath, list, count))
    } else if let Some(p) = map.probability {
        Some(ClientSelector::Probability(check.fraction(&format!("{tpath}.probability"), p)?))
    } else {
        Some(ClientSelector::All)
    }
}

/// Reports a map that sets more than one of share, clients and probability; true when it is fine.
fn one_selector_at_most(check: &mut Checker, tpath: &str, map: &TargetSpec) -> bool {
    let selectors: Vec<&str> = [
        ("share", map.share.is_some()),
        ("clients", map.clients.is_some()),
        ("probability", map.probability.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if selectors.len() > 1 {
        check.report(
            Diagnostic::at(
                format!("{tpath}.{}", selectors[1]),
                format!(
                    "choose one of share, clients and probability; this target sets {}",
                    selectors.join(" and ")
                ),
            )
            .on_key(),
        );
        return false;
    }
    true
}

/// `share`: a percentage of the clients, which must be above 0%.
fn share_of_clients(check: &mut Checker, tpath: &str, share: &ShareText) -> Option<ClientSelector> {
    let share = check.parse(&format!("{tpath}.share"), &share.0, units::parse_share)?;
    if share == 0.0 {
        check.error(
            format!("{tpath}.share"),
            "a share of 0% hits nothing; remove the fault or raise the share",
        );
    }
    Some(ClientSelector::Share(share))
}

/// `clients`: indices that exist, each listed once, kept sorted.
fn listed_clients(check: &mut Checker, tpath: &str, list: &[u32], count: u32) -> ClientSelector {
    if list.is_empty() {
        check.error(format!("{tpath}.clients"), "the client list is empty");
    }
    for (i, index) in list.iter().enumerate() {
        if *index >= count {
            check.error(
                format!("{tpath}.clients[{i}]"),
                format!(
                    "client {index} does not exist; clients are numbered 0 to {}",
                    count.saturating_sub(1)
                ),
            );
        }
    }
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != list.len() {
        check.error(format!("{tpath}.clients"), "a client is listed twice");
    }
    ClientSelector::Indices(sorted)
}

/// `links`: all by default, and never a choice that leaves the fault kind nothing to hit.
fn links(check: &mut Checker, tpath: &str, spec: Option<LinksSpec>, fault: FaultKind) -> Links {
    let links = match spec {
        Some(LinksSpec::New) => Links::New,
        Some(LinksSpec::Existing) => Links::Existing,
        Some(LinksSpec::All) | None => Links::All,
    };
    if fault.acts_on_new_connections() && links == Links::Existing {
        check.error(
            format!("{tpath}.links"),
            format!(
                "`{}` acts on new connections only; `links: existing` leaves it nothing to hit",
                fault.name()
            ),
        );
    }
    if fault.is_instant() && links == Links::New {
        check.error(
            format!("{tpath}.links"),
            format!(
                "`{}` acts once at its start, when there are no new links yet; use `existing` or `all`",
                fault.name()
            ),
        );
    }
    links
}
