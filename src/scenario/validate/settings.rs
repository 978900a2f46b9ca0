//! The client settings each strategy runs with: the `clients:` values that override a strategy's
//! own (heartbeat, timeouts, give-up and reset rule), merged over the strategy's, then checked
//! against the server and the workload.

use std::time::Duration;

use super::Checker;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::scenario::strategy::Strategy;
use crate::suggest::did_you_mean;
use crate::units::{self, format_duration};

/// The client settings the file writes under `clients:`; `None` leaves the strategy's own.
pub(super) struct Overrides {
    /// `Some(None)` is `heartbeat: off`.
    heartbeat: Option<Option<ClientHeartbeat>>,
    /// `Some(None)` is `read_timeout: off`.
    read_timeout: Option<Option<Duration>>,
    connect_timeout: Option<Duration>,
    /// `Some(None)` is `unlimited`.
    max_attempts: Option<Option<u32>>,
    backoff_reset: Option<BackoffReset>,
}

/// Reads the `clients:` settings that override a strategy's, reporting bad values once.
pub(super) fn overrides(check: &mut Checker, spec: &ClientsSpec) -> Overrides {
    let heartbeat = match &spec.heartbeat {
        None => None,
        Some(WordOr::Word(word)) => check.word("clients.heartbeat", word, &["off"]).then_some(None),
        Some(WordOr::Map(h)) => {
            let ping_every = check.positive("clients.heartbeat.ping_every", &h.ping_every);
            let pong_timeout =
                h.pong_timeout.as_ref().and_then(|t| check.positive("clients.heartbeat.pong_timeout", t));
            ping_every.map(|ping_every| Some(ClientHeartbeat { ping_every, pong_timeout }))
        }
    };
    let read_timeout = spec.read_timeout.as_deref().and_then(|text| match text {
        "off" => Some(None),
        text => check
            .parse("clients.read_timeout", text, |t| {
                let d = units::parse_duration(t).map_err(|e| format!("expected a duration or `off`: {e}"))?;
                if d.is_zero() { Err("must be longer than 0s (or `off`)".to_string()) } else { Ok(d) }
            })
            .map(Some),
    });
    let connect_timeout =
        spec.connect_timeout.as_ref().and_then(|text| check.positive("clients.connect_timeout", text));
    let max_attempts = spec.max_attempts.as_ref().and_then(|text| {
        check.parse("clients.max_attempts", &text.0, |t| match t.trim() {
            "unlimited" => Ok(None),
            number => match number.parse::<u32>() {
                Ok(0) => Err("at least 1 attempt is needed; use `unlimited` for no limit".to_string()),
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(format!("`{number}` is not a whole number or `unlimited`")),
            },
        })
    });
    let backoff_reset = spec
        .backoff_reset
        .as_ref()
        .and_then(|text| check.parse("clients.backoff_reset", text, parse_backoff_reset));
    if backoff_reset == Some(BackoffReset::OnFirstEcho) && spec.workload.is_none() {
        check.error(
            "clients.backoff_reset",
            "on_first_echo needs a workload: without messages there is no echo",
        );
    }
    Overrides { heartbeat, read_timeout, connect_timeout, max_attempts, backoff_reset }
}

/// The settings clients run with under `strategy`: the file's values over the strategy's, then
/// checked against the server and the workload.
pub(super) fn resolve(
    check: &mut Checker,
    overrides: &Overrides,
    strategy: &Strategy,
    server: &ServerConfig,
    clients: &ClientsConfig,
) -> ClientSettings {
    let defaults = strategy.defaults;
    let settings = ClientSettings {
        heartbeat: overrides.heartbeat.unwrap_or(defaults.heartbeat),
        read_timeout: overrides.read_timeout.unwrap_or(defaults.read_timeout),
        connect_timeout: overrides.connect_timeout.unwrap_or(defaults.connect_timeout),
        max_attempts: overrides.max_attempts.unwrap_or(defaults.max_attempts),
        backoff_reset: overrides.backoff_reset.unwrap_or(defaults.backoff_reset),
    };
    // A connect limit below the server's fastest handshake makes every attempt time out.
    if settings.connect_timeout <= server.handshake_latency.min() {
        check.error(
            "clients.connect_timeout",
            format!(
                "connect_timeout {} is not longer than the server's handshake latency {}: every handshake would time out",
                format_duration(settings.connect_timeout),
                server.handshake_latency
            ),
        );
    }
    // An upgrade that costs more than the client waits can never complete.
    let service = super::capacity::longest_service(&server.capacity);
    if !service.is_zero() && settings.connect_timeout <= service {
        check.error(
            "server.handshakes.service_time",
            format!(
                "a service time of up to {} is not shorter than the clients' connect_timeout {}: those upgrades would always time out",
                format_duration(service),
                format_duration(settings.connect_timeout)
            ),
        );
    }
    // A read timeout shorter than the longest silence of a healthy link drops healthy links.
    if let Some(read_timeout) = settings.read_timeout {
        let silences = [
            settings.heartbeat.map(|h| h.ping_every),
            server.heartbeat.map(|h| h.ping_every),
            clients.workload.map(|w| w.rate.interval()),
        ];
        let longest_quiet = silences.iter().flatten().min().copied();
        match longest_quiet {
            Some(gap) if read_timeout > gap => {}
            Some(gap) => check.error(
                "clients.read_timeout",
                format!(
                    "read_timeout {} under `{}` is not longer than the {} a healthy link can stay silent; healthy connections would be dropped",
                    format_duration(read_timeout),
                    strategy.name,
                    format_duration(gap)
                ),
            ),
            None => check.report(
                Diagnostic::at(
                    "clients.read_timeout",
                    format!(
                        "with `{}` a healthy link carries no frames at all (no pings, no server heartbeat, no workload), so read_timeout {} would drop every connection",
                        strategy.name,
                        format_duration(read_timeout)
                    ),
                )
                .help("add a heartbeat or a workload, or set `read_timeout: off`"),
            ),
        }
    }
    settings
}

fn parse_backoff_reset(text: &str) -> Result<BackoffReset, String> {
    let text = text.trim();
    match text {
        "on_open" => return Ok(BackoffReset::OnOpen),
        "on_first_echo" => return Ok(BackoffReset::OnFirstEcho),
        "never" => return Ok(BackoffReset::Never),
        _ => {}
    }
    if let Some(rest) = text.strip_prefix("after_uptime") {
        let uptime = units::parse_duration(rest)
            .map_err(|e| format!("after_uptime needs a duration, like `after_uptime 5s`: {e}"))?;
        if uptime.is_zero() {
            return Err("after_uptime 0s is on_open; write `on_open`".to_string());
        }
        return Ok(BackoffReset::AfterUptime(uptime));
    }
    let rules = ["on_open", "after_uptime", "on_first_echo", "never"];
    let first = text.split_whitespace().next().unwrap_or(text);
    let mut message =
        format!("unknown reset rule `{text}`; expected on_open, after_uptime D, on_first_echo or never");
    if let Some(hint) = did_you_mean(first, rules) {
        message.push_str(&format!(" ({hint})"));
    }
    Err(message)
}
