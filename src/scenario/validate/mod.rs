//! From the raw spec to the validated [`Scenario`]: parse every text value, resolve presets, and
//! check that the parts agree with each other.
//!
//! Validation never stops at the first problem: each check records a [`Diagnostic`] with its
//! field path and carries on with a fallback, so a file with five mistakes gets five messages.

use std::time::Duration;

mod faults;
mod settings;
mod strategies;
mod target;
mod timeline;

use faults::fault;
use strategies::strategies;

use super::defaults;
use super::error::Diagnostic;
use super::model::*;
use super::slo::{SloRule, parse_metric, parse_threshold};
use super::spec::*;
use crate::suggest::did_you_mean;
use crate::units::{self, Jittered, format_duration};

/// The only scenario format version.
pub const VERSION: u32 = 1;
/// Collects diagnostics while reading values.
#[derive(Default)]
struct Checker {
    problems: Vec<Diagnostic>,
}

impl Checker {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.problems.push(diagnostic);
    }

    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.report(Diagnostic::at(path, message));
    }

    /// Parses a text value with `parse`, reporting failure at `path`.
    fn parse<T>(&mut self, path: &str, text: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        parse(text).map_err(|message| self.error(path, message)).ok()
    }

    fn duration(&mut self, path: &str, text: &DurationText) -> Option<Duration> {
        self.parse(path, &text.0, units::parse_duration)
    }

    /// A duration that must be above zero.
    fn positive(&mut self, path: &str, text: &DurationText) -> Option<Duration> {
        let duration = self.duration(path, text)?;
        if duration.is_zero() {
            self.error(path, "must be longer than 0s");
            return None;
        }
        Some(duration)
    }

    fn jittered(&mut self, path: &str, text: &JitteredText) -> Option<Jittered> {
        self.parse(path, &text.0, units::parse_jittered)
    }

    fn fraction(&mut self, path: &str, value: f64) -> Option<f64> {
        if (0.0..=1.0).contains(&value) {
            Some(value)
        } else {
            self.error(path, format!("a probability is between 0 and 1; got {value}"));
            None
        }
    }

    /// Checks a bare word against the accepted ones, suggesting the closest.
    fn word(&mut self, path: &str, word: &str, accepted: &[&str]) -> bool {
        if accepted.contains(&word) {
            return true;
        }
        let list: Vec<String> = accepted.iter().map(|w| format!("`{w}`")).collect();
        self.report(
            Diagnostic::at(
                path,
                format!("`{word}` is not valid here; expected {} or a map", list.join(", ")),
            )
            .maybe_help(did_you_mean(word, accepted.iter().copied())),
        );
        false
    }
}

/// Validates a spec into a scenario, or returns every problem found.
pub fn validate(spec: &ScenarioSpec) -> Result<Scenario, Vec<Diagnostic>> {
    let mut check = Checker::default();
    if spec.version != VERSION {
        check.error(
            "version",
            format!("unsupported version {}; this wschaos reads version {VERSION}", spec.version),
        );
    }
    check_name(&mut check, &spec.name);
    let duration = check.positive("duration", &spec.duration).unwrap_or(Duration::from_secs(1));
    let quiet_period = match &spec.quiet_period {
        Some(text) => check.positive("quiet_period", text).unwrap_or(defaults::QUIET_PERIOD),
        None => defaults::QUIET_PERIOD,
    };
    let engine = match spec.engine {
        Some(EngineSpec::Sim) => Engine::Sim,
        Some(EngineSpec::Live) | None => Engine::Live,
    };
    let server = server(&mut check, spec.server.as_ref());
    let clients = clients(&mut check, &spec.clients, &server, duration);
    let strategies = strategies(&mut check, spec, &server, &clients);
    let faults = match &spec.faults {
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, f)| fault(&mut check, &format!("faults[{i}]"), f, duration, clients.count))
            .collect(),
        None => Vec::new(),
    };
    let slo = slo(&mut check, spec.slo.as_ref(), spec.clients.workload.is_some());

    if check.problems.is_empty() {
        Ok(Scenario {
            name: spec.name.clone(),
            description: spec.description.clone(),
            seed: spec.seed.unwrap_or(defaults::SEED),
            duration,
            quiet_period,
            engine,
            server,
            clients,
            strategies,
            faults,
            slo,
            swarm: None,
        })
    } else {
        Err(check.problems)
    }
}

fn check_name(check: &mut Checker, name: &str) {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || !name.chars().all(safe) || name.starts_with('.') {
        check.error(
            "name",
            format!(
                "`{name}` cannot name a report folder; use letters, digits, `-`, `_` and `.` (not first)"
            ),
        );
    }
}

fn server(check: &mut Checker, spec: Option<&ServerSpec>) -> ServerConfig {
    let Some(spec) = spec else {
        return ServerConfig::default();
    };
    let heartbeat = match &spec.heartbeat {
        None => None,
        Some(WordOr::Word(word)) => {
            check.word("server.heartbeat", word, &["off"]);
            None
        }
        Some(WordOr::Map(h)) => {
            let ping_every = check.positive("server.heartbeat.ping_every", &h.ping_every);
            let timeout = check.positive("server.heartbeat.timeout", &h.timeout);
            ping_every.zip(timeout).map(|(ping_every, timeout)| ServerHeartbeat { ping_every, timeout })
        }
    };
    let handshake_latency = spec
        .handshake_latency
        .as_ref()
        .and_then(|t| check.jittered("server.handshake_latency", t))
        .unwrap_or(Jittered { base: Duration::ZERO, jitter: Duration::ZERO });
    let accept_rate =
        spec.accept_rate.as_ref().and_then(|t| check.parse("server.accept_rate", &t.0, units::parse_rate));
    let auth_token = spec.auth.as_ref().map(|auth| {
        if auth.token.is_empty() {
            check.error("server.auth.token", "the token is empty; remove `auth` to turn auth off");
        }
        auth.token.clone()
    });
    ServerConfig { heartbeat, handshake_latency, accept_rate, auth_token }
}

fn clients(
    check: &mut Checker,
    spec: &ClientsSpec,
    server: &ServerConfig,
    duration: Duration,
) -> ClientsConfig {
    if spec.count == 0 {
        check.error("clients.count", "at least one client is needed");
    }
    let start_spread = spec
        .start_spread
        .as_ref()
        .and_then(|t| check.duration("clients.start_spread", t))
        .unwrap_or_default();
    if start_spread > duration {
        check.error(
            "clients.start_spread",
            format!(
                "clients would still be starting after the faults end: start_spread {} is longer than duration {}",
                format_duration(start_spread),
                format_duration(duration)
            ),
        );
    }
    let workload = spec.workload.as_ref().and_then(|w| {
        // Both are parsed before either can end the check, so both get reported.
        let rate = check.parse("clients.workload.rate", &w.rate.0, units::parse_rate);
        let size = match &w.size {
            Some(text) => check.parse("clients.workload.size", &text.0, units::parse_size),
            None => Some(defaults::MESSAGE_SIZE_BYTES),
        };
        if size.is_some_and(|size| size < crate::wire::HEADER_LEN as u64 || size > defaults::MAX_MESSAGE_SIZE_BYTES) {
            check.error(
                "clients.workload.size",
                format!(
                    "a message is between {}B (its header: client, sequence number, send time) and 16MiB (tungstenite's frame limit)",
                    crate::wire::HEADER_LEN
                ),
            );
        }
        Some(Workload { rate: rate?, size_bytes: size? })
    });
    let delivery = match spec.delivery {
        Some(DeliverySpec::AtMostOnce) => Delivery::AtMostOnce,
        Some(DeliverySpec::Buffered) => Delivery::Buffered,
        Some(DeliverySpec::AtLeastOnce) | None => Delivery::AtLeastOnce,
        Some(DeliverySpec::ExactlyOnce) => Delivery::ExactlyOnce,
    };
    if spec.delivery.is_some() && spec.workload.is_none() {
        check.error(
            "clients.delivery",
            "delivery has no effect without a workload; add `clients.workload` or remove it",
        );
    }
    let outbox = match spec.outbox {
        Some(0) => {
            check.error("clients.outbox", "the outbox must hold at least one message");
            defaults::OUTBOX
        }
        Some(size) => {
            if delivery == Delivery::AtMostOnce {
                check.error(
                    "clients.outbox",
                    "at_most_once keeps no outbox; remove `outbox` or change `delivery`",
                );
            }
            size
        }
        None => defaults::OUTBOX,
    };
    let (permanent_close_codes, normal_close) = close_codes(check, spec.close_codes.as_ref());
    let auth_token = match &spec.auth {
        None => server.auth_token.clone(),
        Some(WordOr::Word(word)) => {
            check.word("clients.auth", word, &["server", "none"]);
            (word == "server").then(|| server.auth_token.clone()).flatten()
        }
        Some(WordOr::Map(auth)) => Some(auth.token.clone()),
    };
    ClientsConfig {
        count: spec.count,
        start_spread,
        workload,
        delivery,
        outbox,
        permanent_close_codes,
        normal_close,
        auth_token,
    }
}

fn close_codes(check: &mut Checker, spec: Option<&CloseCodesSpec>) -> (Vec<CodeRange>, NormalClose) {
    let default_permanent = defaults::PERMANENT_CLOSE_CODES.to_vec();
    let Some(spec) = spec else {
        return (default_permanent, NormalClose::Reconnect);
    };
    let permanent = match &spec.permanent {
        None => default_permanent,
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, text)| {
                let path = format!("clients.close_codes.permanent[{i}]");
                check.parse(&path, &text.0, parse_code_range)
            })
            .collect(),
    };
    let normal = match spec.normal {
        Some(NormalCloseSpec::GiveUp) => NormalClose::GiveUp,
        Some(NormalCloseSpec::Reconnect) | None => NormalClose::Reconnect,
    };
    (permanent, normal)
}

fn parse_code_range(text: &str) -> Result<CodeRange, String> {
    let number = |part: &str| -> Result<u16, String> {
        if part.trim().is_empty() {
            return Err(format!(
                "`{text}` is missing a code; write a code like `1008` or a range like `4000-4099`"
            ));
        }
        let code: u16 = part.trim().parse().map_err(|_| format!("`{}` is not a close code", part.trim()))?;
        if !(1000..=4999).contains(&code) {
            return Err(format!("close codes are 1000–4999; got {code}"));
        }
        Ok(code)
    };
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => {
            let code = number(text)?;
            (code, code)
        }
    };
    if last < first {
        return Err(format!("the range {first}-{last} is backwards"));
    }
    Ok(CodeRange { first, last })
}

/// The strategy list (matrix or single), each resolved against the `clients:` overrides.
fn slo(
    check: &mut Checker,
    spec: Option<&std::collections::BTreeMap<String, Vec<String>>>,
    has_workload: bool,
) -> Vec<SloRule> {
    let Some(map) = spec else { return Vec::new() };
    let mut rules = Vec::new();
    for (name, list) in map {
        let path = format!("slo.{name}");
        let metric = match parse_metric(name) {
            Ok(metric) => metric,
            Err((message, hint)) => {
                check.report(Diagnostic::at(&path, message).maybe_help(hint).on_key());
                continue;
            }
        };
        if metric.needs_workload && !has_workload {
            check.report(
                Diagnostic::at(&path, format!("{name} counts messages, but the clients have no workload"))
                    .help("add `clients.workload` or remove this threshold")
                    .on_key(),
            );
        }
        if list.is_empty() {
            check.error(&path, "the threshold list is empty");
        }
        let thresholds = list
            .iter()
            .enumerate()
            .filter_map(|(i, text)| {
                parse_threshold(metric, text)
                    .map_err(|(message, hint)| {
                        check.report(Diagnostic::at(format!("{path}[{i}]"), message).maybe_help(hint))
                    })
                    .ok()
            })
            .collect();
        rules.push(SloRule { metric, thresholds });
    }
    rules
}
