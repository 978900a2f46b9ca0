//! From the raw spec to the validated [`Scenario`]: parse every text value, resolve presets, and
//! check that the parts agree with each other.
//!
//! Validation never stops at the first problem: each check records a [`Diagnostic`] with its
//! field path and carries on with a fallback, so a file with five mistakes gets five messages.

use std::collections::BTreeSet;
use std::time::Duration;

use super::error::Diagnostic;
use super::model::*;
use super::presets::{PRESET_NAMES, preset};
use super::slo::{SloRule, parse_metric, parse_threshold};
use super::spec::*;
use super::strategy::{Backoff, Quirks, Strategy, TableEnd, WSCHAOS_DEFAULTS};
use super::suggest::did_you_mean;
use super::values::{self, Jittered, format_duration};

/// The only scenario format version.
pub const VERSION: u32 = 1;
/// Quiet period when the file sets none.
const DEFAULT_QUIET_PERIOD: Duration = Duration::from_secs(15);
/// Message size when the workload sets none.
const DEFAULT_MESSAGE_SIZE: u64 = 64;
/// Outbox capacity when the file sets none.
const DEFAULT_OUTBOX: u32 = 10_000;
/// Largest message: tungstenite's default `max_frame_size` is 16 MiB.
const MAX_MESSAGE_SIZE: u64 = 16 << 20;
/// A close reason fits a control frame: 125 bytes of payload less the 2-byte code (RFC 6455 §5.5).
const MAX_CLOSE_REASON: usize = 123;
/// The strategy when the file names none.
const DEFAULT_STRATEGY: &str = "aws-full-jitter";
/// The bare kinds a `strategy:` word may name besides presets.
const KINDS: &[&str] = &[
    "immediate",
    "fixed",
    "table",
    "linear",
    "exponential",
    "exponential_jitter",
    "full_jitter",
    "equal_jitter",
    "decorrelated_jitter",
];

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
        self.parse(path, &text.0, values::parse_duration)
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
        self.parse(path, &text.0, values::parse_jittered)
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
            Diagnostic::at(path, format!("`{word}` is not valid here; expected {} or a map", list.join(", ")))
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
        Some(text) => check.positive("quiet_period", text).unwrap_or(DEFAULT_QUIET_PERIOD),
        None => DEFAULT_QUIET_PERIOD,
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
    let slo = slo(&mut check, spec.slo.as_ref(), clients.workload.is_some());

    if check.problems.is_empty() {
        Ok(Scenario {
            name: spec.name.clone(),
            description: spec.description.clone(),
            seed: spec.seed.unwrap_or(1),
            duration,
            quiet_period,
            engine,
            server,
            clients,
            strategies,
            faults,
            slo,
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
    let Some(spec) = spec else { return ServerConfig::default() };
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
    let accept_rate_per_second = spec
        .accept_rate
        .as_ref()
        .and_then(|t| check.parse("server.accept_rate", &t.0, values::parse_rate))
        .map(|rate| rate.per_second);
    let auth_token = spec.auth.as_ref().map(|auth| {
        if auth.token.is_empty() {
            check.error("server.auth.token", "the token is empty; remove `auth` to turn auth off");
        }
        auth.token.clone()
    });
    ServerConfig { heartbeat, handshake_latency, accept_rate_per_second, auth_token }
}

fn clients(check: &mut Checker, spec: &ClientsSpec, server: &ServerConfig, duration: Duration) -> ClientsConfig {
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
        let rate = check.parse("clients.workload.rate", &w.rate.0, values::parse_rate)?;
        let size = match &w.size {
            Some(text) => check.parse("clients.workload.size", &text.0, values::parse_size)?,
            None => DEFAULT_MESSAGE_SIZE,
        };
        if size == 0 || size > MAX_MESSAGE_SIZE {
            check.error("clients.workload.size", "a message is between 1B and 16MiB (tungstenite's frame limit)");
        }
        Some(Workload { rate_per_second: rate.per_second, size_bytes: size })
    });
    let delivery = match spec.delivery {
        Some(DeliverySpec::AtMostOnce) => Delivery::AtMostOnce,
        Some(DeliverySpec::Buffered) => Delivery::Buffered,
        Some(DeliverySpec::AtLeastOnce) | None => Delivery::AtLeastOnce,
        Some(DeliverySpec::ExactlyOnce) => Delivery::ExactlyOnce,
    };
    if spec.delivery.is_some() && spec.workload.is_none() {
        check.error("clients.delivery", "delivery has no effect without a workload; add `clients.workload` or remove it");
    }
    let outbox = match spec.outbox {
        Some(0) => {
            check.error("clients.outbox", "the outbox must hold at least one message");
            DEFAULT_OUTBOX
        }
        Some(size) => {
            if delivery == Delivery::AtMostOnce {
                check.error("clients.outbox", "at_most_once keeps no outbox; remove `outbox` or change `delivery`");
            }
            size
        }
        None => DEFAULT_OUTBOX,
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
    let default_permanent = vec![CodeRange { first: 1008, last: 1008 }];
    let Some(spec) = spec else { return (default_permanent, NormalClose::Reconnect) };
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
fn strategies(check: &mut Checker, spec: &ScenarioSpec, server: &ServerConfig, clients: &ClientsConfig) -> Vec<ClientStrategy> {
    let resolved: Vec<Strategy> = match (&spec.strategies, &spec.clients.strategy) {
        (Some(_), Some(_)) => {
            check.report(
                Diagnostic::at("strategies", "both `strategies` and `clients.strategy` are set; the matrix would ignore `clients.strategy`")
                    .help("move the strategy into the `strategies` list")
                    .on_key(),
            );
            Vec::new()
        }
        (Some(list), None) => {
            if list.is_empty() {
                check.error("strategies", "the strategy matrix is empty; list at least one strategy or remove `strategies`");
            }
            let resolved: Vec<Strategy> = list
                .iter()
                .enumerate()
                .filter_map(|(i, s)| strategy(check, &format!("strategies[{i}]"), s))
                .collect();
            let mut seen = BTreeSet::new();
            for (i, s) in resolved.iter().enumerate() {
                if !seen.insert(s.name.clone()) {
                    check.report(
                        Diagnostic::at(format!("strategies[{i}]"), format!("the matrix names `{}` twice", s.name))
                            .help("give inline strategies distinct `name`s"),
                    );
                }
            }
            resolved
        }
        (None, Some(s)) => strategy(check, "clients.strategy", s).into_iter().collect(),
        (None, None) => preset(DEFAULT_STRATEGY).into_iter().collect(),
    };
    resolved
        .into_iter()
        .map(|strategy| {
            let settings = settings(check, &spec.clients, &strategy, server, clients);
            ClientStrategy { strategy, settings }
        })
        .collect()
}

/// One strategy entry: a preset, a bare kind, or an inline map.
fn strategy(check: &mut Checker, path: &str, spec: &WordOr<InlineStrategySpec>) -> Option<Strategy> {
    match spec {
        WordOr::Word(word) => {
            if let Some(strategy) = preset(word) {
                return Some(strategy);
            }
            if word == "immediate" {
                return Some(inline(Backoff::Immediate, word));
            }
            let hint = if KINDS.contains(&word.as_str()) {
                Some(format!("the kind `{word}` needs parameters: write `{{ kind: {word}, … }}`"))
            } else {
                did_you_mean(word, PRESET_NAMES.iter().chain(KINDS).copied())
            };
            check.report(
                Diagnostic::at(path, format!("unknown strategy `{word}`; the presets are {}", PRESET_NAMES.join(", ")))
                    .maybe_help(hint),
            );
            None
        }
        WordOr::Map(map) => inline_strategy(check, path, map),
    }
}

fn inline(backoff: Backoff, name: &str) -> Strategy {
    Strategy { name: name.to_string(), backoff, quirks: Quirks::default(), defaults: WSCHAOS_DEFAULTS, source: None }
}

fn inline_strategy(check: &mut Checker, path: &str, spec: &InlineStrategySpec) -> Option<Strategy> {
    let kind = spec.kind.as_str();
    if !KINDS.contains(&kind) {
        check.report(
            Diagnostic::at(format!("{path}.kind"), format!("unknown strategy kind `{kind}`; expected one of {}", KINDS.join(", ")))
                .maybe_help(did_you_mean(kind, KINDS.iter().copied())),
        );
        return None;
    }
    // Which parameters each kind takes; anything else set is a mistake, not silently ignored.
    let takes: &[&str] = match kind {
        "immediate" => &[],
        "fixed" => &["delay"],
        "table" => &["delays", "then"],
        "linear" => &["step", "cap"],
        "exponential" => &["base", "factor", "cap"],
        "exponential_jitter" => &["base", "factor", "cap", "randomization"],
        _ => &["base", "cap"],
    };
    let given = [
        ("delay", spec.delay.is_some()),
        ("delays", spec.delays.is_some()),
        ("then", spec.then.is_some()),
        ("step", spec.step.is_some()),
        ("base", spec.base.is_some()),
        ("factor", spec.factor.is_some()),
        ("cap", spec.cap.is_some()),
        ("randomization", spec.randomization.is_some()),
    ];
    let mut ok = true;
    for (param, set) in given {
        if set && !takes.contains(&param) {
            let accepted = if takes.is_empty() { "none".to_string() } else { takes.join(", ") };
            check.report(
                Diagnostic::at(format!("{path}.{param}"), format!("`{param}` does not apply to kind {kind}; it takes: {accepted}"))
                    .on_key(),
            );
            ok = false;
        }
    }
    let need = |check: &mut Checker, param: &str, value: &Option<DurationText>| -> Option<Duration> {
        match value {
            Some(text) => check.duration(&format!("{path}.{param}"), text),
            None => {
                check.error(path, format!("kind {kind} needs `{param}`"));
                None
            }
        }
    };
    let base = || Duration::ZERO;
    let backoff = match kind {
        "immediate" => Some(Backoff::Immediate),
        "fixed" => need(check, "delay", &spec.delay).map(|delay| Backoff::Fixed { delay }),
        "table" => table(check, path, spec),
        "linear" => {
            let step = need(check, "step", &spec.step);
            let cap = need(check, "cap", &spec.cap);
            match (step, cap) {
                (Some(step), Some(cap)) if !step.is_zero() => Some(Backoff::Linear { step, cap }),
                (Some(_), Some(_)) => {
                    check.error(format!("{path}.step"), "a linear step of 0s never grows; use kind immediate");
                    None
                }
                _ => None,
            }
        }
        _ => {
            let base = need(check, "base", &spec.base).unwrap_or_else(base);
            let cap = need(check, "cap", &spec.cap);
            if base.is_zero() && spec.base.is_some() {
                check.error(format!("{path}.base"), "a base of 0s never grows; use kind immediate");
            }
            let factor = spec.factor.unwrap_or(2.0);
            if kind.starts_with("exponential") && !(factor > 1.0 && factor <= 100.0) {
                check.error(format!("{path}.factor"), format!("the factor must be above 1 (and at most 100); got {factor}"));
            }
            let randomization = spec.randomization.unwrap_or(0.5);
            if !(0.0..1.0).contains(&randomization) {
                check.error(
                    format!("{path}.randomization"),
                    format!("randomization is a fraction in [0, 1); got {randomization}"),
                );
            }
            let cap = cap?;
            if cap < base {
                check.error(
                    format!("{path}.cap"),
                    format!("the cap {} is below the base {}", format_duration(cap), format_duration(base)),
                );
            }
            match kind {
                "exponential" => Some(Backoff::Exponential { base, factor, cap }),
                "exponential_jitter" => Some(Backoff::ExponentialJitter {
                    base,
                    factor,
                    cap,
                    randomization,
                    jitter_before_cap: false,
                }),
                "full_jitter" => Some(Backoff::FullJitter { base, cap, floor: Duration::ZERO }),
                "equal_jitter" => Some(Backoff::EqualJitter { base, cap }),
                _ => Some(Backoff::DecorrelatedJitter { base, cap }),
            }
        }
    };
    let name = spec.name.clone().unwrap_or_else(|| kind.to_string());
    if name.is_empty() {
        check.error(format!("{path}.name"), "the name is empty");
    }
    if PRESET_NAMES.contains(&name.as_str()) {
        check.error(format!("{path}.name"), format!("`{name}` is a preset's name; pick another so reports are not confused"));
    }
    backoff.filter(|_| ok).map(|backoff| inline(backoff, &name))
}

fn table(check: &mut Checker, path: &str, spec: &InlineStrategySpec) -> Option<Backoff> {
    let Some(list) = &spec.delays else {
        check.error(path, "kind table needs `delays`");
        return None;
    };
    if list.is_empty() {
        check.error(format!("{path}.delays"), "the table is empty; list at least one delay");
        return None;
    }
    let delays: Vec<Duration> = list
        .iter()
        .enumerate()
        .filter_map(|(i, text)| check.duration(&format!("{path}.delays[{i}]"), text))
        .collect();
    let then = match spec.then.as_deref() {
        None => TableEnd::Repeat(*delays.last()?),
        Some("give_up") => TableEnd::GiveUp,
        Some(text) => TableEnd::Repeat(check.parse(&format!("{path}.then"), text, |t| {
            values::parse_duration(t).map_err(|e| format!("expected a delay to repeat or `give_up`: {e}"))
        })?),
    };
    (delays.len() == list.len()).then_some(Backoff::Table { delays, then })
}

/// Resolves the client settings for one strategy: file values override the strategy's.
fn settings(
    check: &mut Checker,
    spec: &ClientsSpec,
    strategy: &Strategy,
    server: &ServerConfig,
    clients: &ClientsConfig,
) -> ClientSettings {
    let mut settings = strategy.defaults;
    match &spec.heartbeat {
        None => {}
        Some(WordOr::Word(word)) => {
            if check.word("clients.heartbeat", word, &["off"]) {
                settings.heartbeat = None;
            }
        }
        Some(WordOr::Map(h)) => {
            let ping_every = check.positive("clients.heartbeat.ping_every", &h.ping_every);
            let pong_timeout = h.pong_timeout.as_ref().and_then(|t| check.positive("clients.heartbeat.pong_timeout", t));
            if let Some(ping_every) = ping_every {
                settings.heartbeat = Some(ClientHeartbeat { ping_every, pong_timeout });
            }
        }
    }
    match spec.read_timeout.as_deref() {
        None => {}
        Some("off") => settings.read_timeout = None,
        Some(text) => {
            settings.read_timeout = check.parse("clients.read_timeout", text, |t| {
                let d = values::parse_duration(t).map_err(|e| format!("expected a duration or `off`: {e}"))?;
                if d.is_zero() { Err("must be longer than 0s (or `off`)".to_string()) } else { Ok(d) }
            })
        }
    }
    if let Some(text) = &spec.connect_timeout {
        settings.connect_timeout = check.positive("clients.connect_timeout", text).unwrap_or(settings.connect_timeout);
    }
    if let Some(text) = &spec.max_attempts {
        settings.max_attempts = check.parse("clients.max_attempts", &text.0, |t| match t.trim() {
            "unlimited" => Ok(None),
            number => match number.parse::<u32>() {
                Ok(0) => Err("at least 1 attempt is needed; use `unlimited` for no limit".to_string()),
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(format!("`{number}` is not a whole number or `unlimited`")),
            },
        })
        .unwrap_or(settings.max_attempts);
    }
    if let Some(text) = &spec.backoff_reset {
        if let Some(reset) = check.parse("clients.backoff_reset", text, parse_backoff_reset) {
            settings.backoff_reset = reset;
        }
    }
    if let BackoffReset::OnFirstEcho = settings.backoff_reset {
        if clients.workload.is_none() && spec.backoff_reset.is_some() {
            check.error("clients.backoff_reset", "on_first_echo needs a workload: without messages there is no echo");
        }
    }
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
    // A read timeout shorter than the longest silence of a healthy link drops healthy links.
    if let Some(read_timeout) = settings.read_timeout {
        let silences = [
            settings.heartbeat.map(|h| h.ping_every),
            server.heartbeat.map(|h| h.ping_every),
            clients.workload.map(|w| Duration::from_secs_f64(1.0 / w.rate_per_second)),
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
        let uptime = values::parse_duration(rest).map_err(|e| format!("after_uptime needs a duration, like `after_uptime 5s`: {e}"))?;
        if uptime.is_zero() {
            return Err("after_uptime 0s is on_open; write `on_open`".to_string());
        }
        return Ok(BackoffReset::AfterUptime(uptime));
    }
    let rules = ["on_open", "after_uptime", "on_first_echo", "never"];
    let first = text.split_whitespace().next().unwrap_or(text);
    let mut message = format!("unknown reset rule `{text}`; expected on_open, after_uptime D, on_first_echo or never");
    if let Some(hint) = did_you_mean(first, rules) {
        message.push_str(&format!(" ({hint})"));
    }
    Err(message)
}

fn direction(spec: Option<DirectionSpec>) -> Direction {
    match spec {
        Some(DirectionSpec::Upstream) => Direction::Upstream,
        Some(DirectionSpec::Downstream) => Direction::Downstream,
        Some(DirectionSpec::Both) | None => Direction::Both,
    }
}

/// One fault entry: its kind, timeline and target.
fn fault(check: &mut Checker, path: &str, spec: &FaultSpec, duration: Duration, client_count: u32) -> Option<FaultPlan> {
    let fault = fault_kind(check, path, spec)?;
    let timeline = timeline(check, path, spec, &fault, duration);
    let target = target(check, path, spec.target.as_ref(), &fault, client_count);
    Some(FaultPlan { fault, timeline: timeline?, target: target? })
}

/// The names of the fault kinds set in `spec`, in catalogue order.
fn kinds_set(spec: &FaultSpec) -> Vec<&'static str> {
    [
        ("reset", spec.reset.is_some()),
        ("close", spec.close.is_some()),
        ("stall", spec.stall.is_some()),
        ("blackhole", spec.blackhole.is_some()),
        ("latency", spec.latency.is_some()),
        ("bandwidth", spec.bandwidth.is_some()),
        ("slice", spec.slice.is_some()),
        ("limit", spec.limit.is_some()),
        ("refuse", spec.refuse.is_some()),
        ("accept_hang", spec.accept_hang.is_some()),
        ("handshake_delay", spec.handshake_delay.is_some()),
        ("drop_frames", spec.drop_frames.is_some()),
        ("close_frame", spec.close_frame.is_some()),
        ("reject_handshake", spec.reject_handshake.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

fn fault_kind(check: &mut Checker, path: &str, spec: &FaultSpec) -> Option<Fault> {
    let kinds = kinds_set(spec);
    match kinds.as_slice() {
        [] => {
            check.report(
                Diagnostic::at(path, "this fault has no kind")
                    .help("add one of reset, close, stall, blackhole, latency, bandwidth, slice, limit, refuse, accept_hang, handshake_delay, drop_frames, close_frame, reject_handshake"),
            );
            return None;
        }
        [_] => {}
        [_, second, ..] => {
            check.report(
                Diagnostic::at(format!("{path}.{second}"), format!("one fault entry has one kind, but this one has {}", kinds.join(" and ")))
                    .help("split it into separate entries with the same timing")
                    .on_key(),
            );
            return None;
        }
    }
    let p = |name: &str, field: &str| format!("{path}.{name}.{field}");
    let fault = if spec.reset.is_some() {
        Fault::Reset
    } else if spec.close.is_some() {
        Fault::Close
    } else if let Some(s) = &spec.stall {
        Fault::Stall { direction: direction(s.direction) }
    } else if let Some(s) = &spec.blackhole {
        Fault::Blackhole { direction: direction(s.direction) }
    } else if let Some(s) = &spec.latency {
        let delay = check.positive(&p("latency", "delay"), &s.delay)?;
        let jitter = match &s.jitter {
            Some(text) => check.duration(&p("latency", "jitter"), text)?,
            None => Duration::ZERO,
        };
        if jitter > delay {
            check.error(
                p("latency", "jitter"),
                format!("the jitter {} exceeds the delay {}, which would allow negative delays", format_duration(jitter), format_duration(delay)),
            );
        }
        Fault::Latency { delay, jitter, direction: direction(s.direction) }
    } else if let Some(s) = &spec.bandwidth {
        let bytes_per_second = check.parse(&p("bandwidth", "rate"), &s.rate.0, values::parse_byte_rate)?;
        Fault::Bandwidth { bytes_per_second, direction: direction(s.direction) }
    } else if let Some(s) = &spec.slice {
        let size_bytes = check.parse(&p("slice", "size"), &s.size.0, values::parse_size)?;
        if size_bytes == 0 {
            check.error(p("slice", "size"), "a slice of 0B moves nothing; use at least 1B");
        }
        let delay = match &s.delay {
            Some(text) => check.duration(&p("slice", "delay"), text)?,
            None => Duration::ZERO,
        };
        Fault::Slice { size_bytes, delay, direction: direction(s.direction) }
    } else if let Some(s) = &spec.limit {
        let bytes = check.parse(&p("limit", "bytes"), &s.bytes.0, values::parse_size)?;
        Fault::Limit { bytes, direction: direction(s.direction) }
    } else if spec.refuse.is_some() {
        Fault::Refuse
    } else if spec.accept_hang.is_some() {
        Fault::AcceptHang
    } else if let Some(s) = &spec.handshake_delay {
        let delay = check.jittered(&p("handshake_delay", "delay"), &s.delay)?;
        if delay.base.is_zero() {
            check.error(p("handshake_delay", "delay"), "must be longer than 0s");
        }
        Fault::HandshakeDelay { delay }
    } else if let Some(s) = &spec.drop_frames {
        drop_frames(check, &format!("{path}.drop_frames"), s)?
    } else if let Some(s) = &spec.close_frame {
        close_frame(check, &format!("{path}.close_frame"), s)?
    } else if let Some(s) = &spec.reject_handshake {
        reject_handshake(check, &format!("{path}.reject_handshake"), s)?
    } else {
        unreachable!("kinds_set found exactly one kind")
    };
    Some(fault)
}

fn drop_frames(check: &mut Checker, path: &str, spec: &DropFramesParams) -> Option<Fault> {
    if spec.kinds.is_empty() {
        check.error(format!("{path}.kinds"), "list at least one frame kind: ping, pong, text, binary, close");
        return None;
    }
    let mut kinds: Vec<FrameKind> = spec
        .kinds
        .iter()
        .map(|k| match k {
            FrameKindSpec::Ping => FrameKind::Ping,
            FrameKindSpec::Pong => FrameKind::Pong,
            FrameKindSpec::Text => FrameKind::Text,
            FrameKindSpec::Binary => FrameKind::Binary,
            FrameKindSpec::Close => FrameKind::Close,
        })
        .collect();
    kinds.sort();
    if kinds.windows(2).any(|w| w[0] == w[1]) {
        check.error(format!("{path}.kinds"), "a frame kind is listed twice");
    }
    kinds.dedup();
    let probability = check.fraction(&format!("{path}.probability"), spec.probability.unwrap_or(1.0))?;
    Some(Fault::DropFrames { kinds, direction: direction(spec.direction), probability })
}

fn close_frame(check: &mut Checker, path: &str, spec: &CloseFrameParams) -> Option<Fault> {
    // RFC 6455 §7.4: 1005, 1006 and 1015 must never be sent in a Close frame; 1004 and
    // 1016–2999 are reserved; codes above 4999 do not exist.
    let code = spec.code;
    let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    if !sendable {
        check.error(
            format!("{path}.code"),
            format!("{code} cannot be sent in a Close frame; use 1000–1003, 1007–1014 or 3000–4999 (RFC 6455 §7.4)"),
        );
        return None;
    }
    let reason = spec.reason.clone().unwrap_or_default();
    if reason.len() > MAX_CLOSE_REASON {
        check.error(
            format!("{path}.reason"),
            format!("the reason is {} bytes; a Close frame has room for {MAX_CLOSE_REASON}", reason.len()),
        );
        return None;
    }
    Some(Fault::CloseFrame { code, reason })
}

fn reject_handshake(check: &mut Checker, path: &str, spec: &RejectHandshakeParams) -> Option<Fault> {
    let status = spec.status;
    if !(400..=599).contains(&status) {
        check.error(format!("{path}.status"), format!("{status} is not an HTTP error; use a 4xx or 5xx status"));
        return None;
    }
    let retry_after = match &spec.retry_after {
        None => None,
        Some(text) => {
            let after = check.duration(&format!("{path}.retry_after"), text)?;
            if !matches!(status, 429 | 503) {
                check.report(
                    Diagnostic::at(format!("{path}.retry_after"), format!("Retry-After is sent with 429 and 503, not {status}"))
                        .on_key(),
                );
            }
            if after.subsec_nanos() != 0 || after.is_zero() {
                check.error(
                    format!("{path}.retry_after"),
                    "Retry-After is whole seconds, at least 1s (HTTP has no finer unit)",
                );
            }
            Some(after)
        }
    };
    Some(Fault::RejectHandshake { status, retry_after })
}

fn timeline(check: &mut Checker, path: &str, spec: &FaultSpec, fault: &Fault, duration: Duration) -> Option<Timeline> {
    let field = |name: &str| format!("{path}.{name}");
    let lasts = match &spec.lasts {
        Some(_) if fault.is_instant() => {
            check.report(
                Diagnostic::at(field("for"), format!("`{}` acts once and has no duration; remove `for`", fault.name()))
                    .on_key(),
            );
            None
        }
        Some(text) => check.positive(&field("for"), text),
        None => None,
    };
    let past_end = |check: &mut Checker, name: &str, at: Duration| {
        if at >= duration {
            check.error(
                field(name),
                format!(
                    "{} is not before the end of the faults at duration {}; faults play in [0s, duration)",
                    format_duration(at),
                    format_duration(duration)
                ),
            );
        }
    };
    match (&spec.at, &spec.every) {
        (Some(_), Some(_)) => {
            check.report(
                Diagnostic::at(field("every"), "a fault starts either `at` one time or `every` period, not both").on_key(),
            );
            None
        }
        (None, None) => {
            check.report(Diagnostic::at(path, "this fault has no start time").help("add `at: 5s` or `every: 10s`"));
            None
        }
        (Some(at), None) => {
            for (name, set) in [("from", spec.from.is_some()), ("until", spec.until.is_some()), ("times", spec.times.is_some())] {
                if set {
                    check.report(
                        Diagnostic::at(field(name), format!("`{name}` only applies with `every`"))
                            .help("use `at` and `for` for one occurrence")
                            .on_key(),
                    );
                }
            }
            let at = check.duration(&field("at"), at)?;
            past_end(check, "at", at);
            if let Some(lasts) = lasts {
                if at + lasts > duration {
                    check.report(
                        Diagnostic::at(
                            field("for"),
                            format!(
                                "the fault would end at {}, after duration {}",
                                format_duration(at + lasts),
                                format_duration(duration)
                            ),
                        )
                        .help("shorten `for`, or remove it to last until the heal at `duration`"),
                    );
                }
            }
            Some(Timeline::Once { at, lasts })
        }
        (None, Some(every)) => {
            let period = check.jittered(&field("every"), every)?;
            if period.min().is_zero() {
                check.error(field("every"), "the period must stay above 0s, jitter included");
                return None;
            }
            let from = match &spec.from {
                Some(text) => check.duration(&field("from"), text)?,
                None => Duration::ZERO,
            };
            past_end(check, "from", from);
            let until = match &spec.until {
                Some(text) => {
                    let until = check.duration(&field("until"), text)?;
                    if until > duration {
                        check.error(
                            field("until"),
                            format!("{} is after duration {}", format_duration(until), format_duration(duration)),
                        );
                    }
                    if until <= from {
                        check.error(
                            field("until"),
                            format!("`until` {} is not after `from` {}", format_duration(until), format_duration(from)),
                        );
                    }
                    until
                }
                None => duration,
            };
            if spec.times == Some(0) {
                check.error(field("times"), "a fault that happens 0 times does nothing; remove the entry");
            }
            if let Some(lasts) = lasts {
                if lasts >= period.min() {
                    check.report(
                        Diagnostic::at(
                            field("for"),
                            format!(
                                "each occurrence lasts {}, but the next can start after {}: occurrences would overlap",
                                format_duration(lasts),
                                format_duration(period.min())
                            ),
                        )
                        .help("make `for` shorter than `every` minus its jitter"),
                    );
                }
            }
            Some(Timeline::Every { period, from, until, times: spec.times, lasts })
        }
    }
}

fn target(check: &mut Checker, path: &str, spec: Option<&WordOr<TargetSpec>>, fault: &Fault, count: u32) -> Option<Target> {
    let tpath = format!("{path}.target");
    let map = match spec {
        None => return Some(Target { clients: ClientSelector::All, links: Links::All }),
        Some(WordOr::Word(word)) => {
            return check.word(&tpath, word, &["all"]).then_some(Target { clients: ClientSelector::All, links: Links::All });
        }
        Some(WordOr::Map(map)) => map,
    };
    let selectors: Vec<&str> = [("share", map.share.is_some()), ("clients", map.clients.is_some()), ("probability", map.probability.is_some())]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
    if selectors.len() > 1 {
        check.report(
            Diagnostic::at(format!("{tpath}.{}", selectors[1]), format!("choose one of share, clients and probability; this target sets {}", selectors.join(" and ")))
                .on_key(),
        );
        return None;
    }
    let clients = if let Some(share) = &map.share {
        let share = check.parse(&format!("{tpath}.share"), &share.0, values::parse_share)?;
        if share == 0.0 {
            check.error(format!("{tpath}.share"), "a share of 0% hits nothing; remove the fault or raise the share");
        }
        ClientSelector::Share(share)
    } else if let Some(list) = &map.clients {
        if list.is_empty() {
            check.error(format!("{tpath}.clients"), "the client list is empty");
        }
        for (i, index) in list.iter().enumerate() {
            if *index >= count {
                check.error(
                    format!("{tpath}.clients[{i}]"),
                    format!("client {index} does not exist; clients are numbered 0 to {}", count.saturating_sub(1)),
                );
            }
        }
        let mut sorted = list.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != list.len() {
            check.error(format!("{tpath}.clients"), "a client is listed twice");
        }
        ClientSelector::Indices(sorted)
    } else if let Some(p) = map.probability {
        ClientSelector::Probability(check.fraction(&format!("{tpath}.probability"), p)?)
    } else {
        ClientSelector::All
    };
    if fault.acts_before_identification() && matches!(clients, ClientSelector::Share(_) | ClientSelector::Indices(_)) {
        check.error(
            tpath.clone(),
            format!(
                "`{}` acts before a connection says which client it is, so it cannot pick clients; use `probability` or no target",
                fault.name()
            ),
        );
    }
    let links = match map.links {
        Some(LinksSpec::New) => Links::New,
        Some(LinksSpec::Existing) => Links::Existing,
        Some(LinksSpec::All) | None => Links::All,
    };
    if fault.acts_on_new_connections() && links == Links::Existing {
        check.error(format!("{tpath}.links"), format!("`{}` acts on new connections only; `links: existing` leaves it nothing to hit", fault.name()));
    }
    if fault.is_instant() && links == Links::New {
        check.error(format!("{tpath}.links"), format!("`{}` acts once at its start, when there are no new links yet; use `existing` or `all`", fault.name()));
    }
    Some(Target { clients, links })
}

fn slo(check: &mut Checker, spec: Option<&std::collections::BTreeMap<String, Vec<String>>>, has_workload: bool) -> Vec<SloRule> {
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
                    .map_err(|(message, hint)| check.report(Diagnostic::at(format!("{path}[{i}]"), message).maybe_help(hint)))
                    .ok()
            })
            .collect();
        rules.push(SloRule { metric, thresholds });
    }
    rules
}
