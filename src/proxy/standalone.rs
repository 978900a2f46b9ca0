//! `wschaos proxy`: the proxy on its own, in front of any server, for any client, playing a
//! scenario's fault timeline with time counted from proxy start. Events are printed as they
//! happen, one line each, so a user can line them up with what their client logged.

use std::io::Write;
use std::net::SocketAddr;

use tokio::time::Instant;

use super::timeline::{self, Step};
use super::{Control, EventKind, EventSink, Proxy, ProxyEvent};
use crate::net::Transport;
use crate::scenario::values::format_duration;
use crate::scenario::{ClientSelector, Scenario};

/// What the standalone proxy plays.
pub struct Options {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// The server to forward to.
    pub upstream: SocketAddr,
    /// The scenario whose faults play, if any.
    pub scenario: Option<Scenario>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
}

/// Runs the proxy until `shutdown`; writes the bound address as the first line of `out`, then
/// one line per event.
pub async fn serve(
    options: Options,
    mut out: impl Write + Send + 'static,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let seed = options.seed.or(options.scenario.as_ref().map(|s| s.seed)).unwrap_or(1);
    let client_count = options.scenario.as_ref().map_or(0, |s| s.clients.count);
    let (events, mut receiver) = EventSink::channel();
    let control = Control::new(seed, client_count, events);
    let proxy = Proxy::bind(&Transport::Live, options.listen, options.upstream, control.clone())
        .await
        .map_err(|error| crate::server::standalone::cannot_listen(options.listen, error))?;
    writeln!(out, "listening on {}, forwarding to {}", proxy.local_addr()?, options.upstream)?;
    let start = Instant::now();
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
    out.flush()?;
    let printer = tokio::spawn(async move {
        while let Some(event) = receiver.recv().await {
            if writeln!(out, "{}", describe(&event, start)).and_then(|()| out.flush()).is_err() {
                break;
            }
        }
    });
    let player = options.scenario.map(|scenario| {
        let control = control.clone();
        tokio::spawn(async move {
            let steps: Vec<Step> = timeline::schedule(&scenario.faults, scenario.duration, seed);
            timeline::play(&scenario.faults, &steps, &control, start, scenario.duration).await;
        })
    });
    proxy.run(shutdown).await;
    if let Some(player) = player {
        player.abort();
    }
    drop(control);
    printer.abort();
    Ok(())
}

/// One event as a log line: seconds since start, then what happened.
pub fn describe(event: &ProxyEvent, start: Instant) -> String {
    let at = event.at.saturating_duration_since(start);
    let what = match &event.kind {
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
    };
    format!("{:>9.3}s  {what}", at.as_secs_f64())
}
