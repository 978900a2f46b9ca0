//! From the raw spec to the validated [`Scenario`]: parse every text value, resolve presets, and
//! check that the parts agree with each other.
//!
//! Validation never stops at the first problem: each check records a [`Diagnostic`] with its
//! field path and carries on with a fallback, so a file with five mistakes gets five messages.

use std::time::Duration;

mod capacity;
mod clients;
mod faults;
pub(super) mod program;
mod server_auth;
mod settings;
mod strategies;
mod target;
mod timeline;
mod tls;

use clients::clients;
use faults::fault;
use strategies::strategies;

use super::defaults;
use super::error::Diagnostic;
use super::model::*;
use super::program::EventSource;
use super::slo::{SloRule, parse_metric, parse_threshold};
use super::spec::*;
use crate::suggest::did_you_mean;
use crate::units::{self, Jittered, Spread};

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

    /// A `distribution:` word: `uniform` (the default when absent) or `normal`.
    fn spread(&mut self, path: &str, word: Option<&str>) -> Spread {
        const WORDS: [&str; 2] = ["uniform", "normal"];
        match word {
            None | Some("uniform") => Spread::Uniform,
            Some("normal") => Spread::Normal,
            Some(other) => {
                self.report(
                    Diagnostic::at(
                        path,
                        format!("`{other}` is not a distribution; expected `uniform` or `normal`"),
                    )
                    .maybe_help(did_you_mean(other, WORDS)),
                );
                Spread::Uniform
            }
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

/// Validates a spec into a scenario, or returns every problem found. `engine` is the engine
/// the command line asks for, which overrides the file's.
pub fn validate(spec: &ScenarioSpec, engine: Option<Engine>) -> Result<Scenario, Vec<Diagnostic>> {
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
    let engine_override = engine;
    let engine = match spec.engine {
        Some(EngineSpec::Sim) => Engine::Sim,
        Some(EngineSpec::Live) | None => Engine::Live,
    };
    let runs_on = engine_override.unwrap_or(engine);
    let program = program::client_program(&mut check, spec, runs_on);
    let upstream = program::server_under_test(&mut check, spec.server.as_ref(), runs_on);
    let server = server(&mut check, spec.server.as_ref());
    let clients = clients(&mut check, &spec.clients, &server, duration, runs_on);
    let strategies = strategies(&mut check, spec, &server, &clients);
    let faults = match &spec.faults {
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, f)| fault(&mut check, &format!("faults[{i}]"), f, duration, clients.count))
            .collect(),
        None => Vec::new(),
    };
    tls::tls(&mut check, spec);
    server_auth::signed_handshakes(&mut check, spec, &server, &strategies);
    // A program that reports its events reports its messages too.
    let reports_messages = program.as_ref().is_some_and(|p| p.events == EventSource::Stdout);
    let slo = slo(&mut check, spec.slo.as_ref(), spec.clients.workload.is_some() || reports_messages);

    if check.problems.is_empty() {
        Ok(Scenario {
            name: spec.name.clone(),
            description: spec.description.clone(),
            seed: spec.seed.unwrap_or(defaults::SEED),
            duration,
            quiet_period,
            engine,
            server,
            proxy: ProxyConfig {
                strip_deflate: spec.proxy.as_ref().and_then(|proxy| proxy.strip_deflate).unwrap_or(false),
                tls: tls::proxy_tls(spec),
            },
            clients,
            strategies,
            faults,
            slo,
            swarm: None,
            program,
            upstream,
        })
    } else {
        Err(check.problems)
    }
}

/// Reports a name that cannot be a report folder.
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

/// The echo server's settings; none at all without a `server:` section.
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
    let (auth_token, hmac) = server_auth::auth(check, spec.auth.as_ref());
    let handshake_timeout = handshake_timeout(check, spec, handshake_latency);
    let deflate = match spec.deflate.as_deref() {
        None | Some("on") => true,
        Some("off") => false,
        Some(word) => {
            check.report(
                Diagnostic::at(
                    "server.deflate",
                    format!("`{word}` is not valid here; expected `on` or `off`"),
                )
                .maybe_help(did_you_mean(word, ["on", "off"])),
            );
            true
        }
    };
    let capacity = capacity::capacity(check, spec);
    ServerConfig {
        heartbeat,
        handshake_latency,
        accept_rate,
        auth_token,
        hmac,
        handshake_timeout,
        deflate,
        capacity,
        tls: spec.tls.unwrap_or(false),
    }
}

/// The upgrade's time limit, longer than the slowest drawn handshake latency (or every
/// upgrade would be cut off before its answer).
fn handshake_timeout(check: &mut Checker, spec: &ServerSpec, latency: Jittered) -> Duration {
    let Some(text) = &spec.handshake_timeout else { return defaults::HANDSHAKE_TIMEOUT };
    let Some(timeout) = check.positive("server.handshake_timeout", text) else {
        return defaults::HANDSHAKE_TIMEOUT;
    };
    if timeout <= latency.max() {
        check.error(
            "server.handshake_timeout",
            format!(
                "{} is not longer than the slowest handshake_latency ({}): every upgrade that slow would be cut off",
                units::format_duration(timeout),
                units::format_duration(latency.max())
            ),
        );
    }
    timeout
}

/// The `slo:` thresholds, one rule per metric, each metric known and measurable in this run.
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
