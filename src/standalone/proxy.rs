//! `wschaos proxy`: the proxy on its own, in front of any server, for any client, playing a
//! scenario's fault timeline with time counted from proxy start. Events are printed as they
//! happen, one line each, so a user can line them up with what their client logged.

use std::io::Write;
use std::net::SocketAddr;

use tokio::time::Instant;

use super::{ServeError, cannot_listen, write_event};
use crate::net::Transport;
use crate::proxy::{EventKind, ProxyEvent};
use crate::scenario::{ClientSelector, Scenario, defaults};
use crate::stack::Stack;
use crate::units::format_duration;

/// What the standalone proxy plays.
pub struct ProxyOptions {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// The server to forward to.
    pub upstream: SocketAddr,
    /// The scenario whose faults play, if any.
    pub scenario: Option<Scenario>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
}

/// Runs the proxy until `shutdown`, or until `out` cannot be written; writes the bound address
/// as the first line of `out`, then one line per event.
pub async fn serve(
    options: ProxyOptions,
    mut out: impl Write + Send + 'static,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let seed = options.seed.or(options.scenario.as_ref().map(|s| s.seed)).unwrap_or(defaults::SEED);
    let client_count = options.scenario.as_ref().map_or(0, |s| s.clients.count);
    let mut stack = Stack::upstream(&Transport::Live, options.upstream)
        .listen(options.listen)
        .seed(seed)
        .clients(client_count)
        .record_events()
        .start()
        .await
        .map_err(|error| ServeError::Network(cannot_listen(options.listen, error)))?;
    let start = Instant::now();
    if let Err(error) = introduce(&mut out, &stack, &options, seed) {
        stack.shutdown().await;
        return Err(ServeError::cut_short(error));
    }
    if let Some(scenario) = &options.scenario {
        stack.play(&scenario.faults, scenario.duration, start);
    }
    let mut events = stack.take_events();
    let (failed, printer_failed) = tokio::sync::oneshot::channel();
    let printer = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let Err(error) =
                write_event(&mut out, event.at.saturating_duration_since(start), describe(&event))
            {
                let _ = failed.send(error);
                return;
            }
        }
    });
    let cut = tokio::select! {
        biased;
        () = shutdown => None,
        // A printer that ends without an error (its events ended) disables this branch.
        Ok(error) = printer_failed => Some(error),
    };
    stack.shutdown().await;
    printer.abort();
    cut.map_or(Ok(()), |error| Err(ServeError::cut_short(error)))
}

/// The first lines: where the proxy listens and what it plays.
fn introduce(out: &mut impl Write, stack: &Stack, options: &ProxyOptions, seed: u64) -> std::io::Result<()> {
    writeln!(out, "listening on {}, forwarding to {}", stack.proxy_addr(), options.upstream)?;
    if let Some(scenario) = &options.scenario {
        let count = scenario.faults.len();
        let plural = if count == 1 { "" } else { "s" };
        let duration = format_duration(scenario.duration);
        writeln!(
            out,
            "playing {} (seed {seed}): {count} fault{plural} over {duration}, then healed",
            scenario.name
        )?;
        for (index, plan) in scenario.faults.iter().enumerate() {
            if !matches!(plan.target.clients, ClientSelector::All | ClientSelector::Probability(_)) {
                writeln!(
                    out,
                    "note: faults[{index}] targets clients by index or share; it hits only clients that send the x-wschaos-client header"
                )?;
            }
        }
    }
    out.flush()
}

/// What one event says, for its log line.
pub fn describe(event: &ProxyEvent) -> String {
    match &event.kind {
        EventKind::LinkOpened { link, peer } => format!("{link} opened from {peer}"),
        EventKind::LinkIdentified { link, client } => format!("{link} is client {client}"),
        EventKind::LinkClosed { link, cause } => format!("{link} closed: {cause:?}"),
        EventKind::FaultStarted { fault, name } => format!("{fault} {name} started"),
        EventKind::FaultEnded { fault } => format!("{fault} ended"),
        EventKind::FaultHit { fault, link: Some(link) } => format!("{fault} hit {link}"),
        EventKind::FaultHit { fault, link: None } => format!("{fault} hit an arriving connection"),
        EventKind::FaultNotApplied { fault, link, why } => format!("{fault} not applied to {link}: {why}"),
        EventKind::Upgraded { link, status } => format!("{link} upgrade answered {status}"),
        EventKind::FirstData { link, way } => format!("{link} first data frame {}", way.name()),
        EventKind::ControlFrame { link, way, kind, close_code: Some(code) } => {
            format!("{link} {} {} {code}", kind.name(), way.name())
        }
        EventKind::ControlFrame { link, way, kind, close_code: None } => {
            format!("{link} {} {}", kind.name(), way.name())
        }
        EventKind::ObserverStopped { link, way, why } => {
            format!("{link} {} not followed: {why}", way.name())
        }
    }
}
