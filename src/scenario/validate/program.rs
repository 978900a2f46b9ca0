//! The user's own programs: `clients.command` (with `identity`, `events`, `ready_timeout`,
//! `stop`, `env`, `allow_exit`), matrix entries `{ name, command }`, and `server.command` or
//! `server.upstream`. Fields of the reference client or of the echo server beside a program are
//! errors, never ignored; so are programs on the sim engine, which cannot host a process.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::Checker;
use crate::scenario::command::{CLIENT_PLACEHOLDERS, SERVER_PLACEHOLDERS, placeholders};
use crate::scenario::error::Diagnostic;
use crate::scenario::model::Engine;
use crate::scenario::program::*;
use crate::scenario::spec::*;
use crate::suggest::{closest, did_you_mean};

/// The most client programs one run launches: each is a process with its pipes and, with
/// `identity: port`, a listener of its own (docs/programs.md).
pub const MAX_PROGRAM_CLIENTS: u32 = 1_000;

/// Why a program cannot run on the sim engine, said once for every place that asks.
const SIM_CANNOT_HOST: &str =
    "the sim engine runs on virtual time inside wschaos and cannot host another process";

/// The client program, when `clients.command` is set; `engine` is the engine the run will use
/// (the file's, or the command line's).
pub(super) fn client_program(
    check: &mut Checker,
    spec: &ScenarioSpec,
    engine: Engine,
) -> Option<ClientProgram> {
    let clients = &spec.clients;
    if !is_program(spec) {
        for field in program_only_fields(clients) {
            check.report(
                Diagnostic::at(format!("clients.{field}"), "applies to a client program only")
                    .help("set `clients.command` to run your own client, or remove this field"),
            );
        }
        return None;
    }
    let entries = matrix_commands(check, spec);
    if let Some(command) = &clients.command {
        command_words(check, "clients.command", command, &CLIENT_PLACEHOLDERS);
    }
    for field in reference_only_fields(clients) {
        check.report(
            Diagnostic::at(format!("clients.{field}"), "applies to the reference client only")
                .help("your program has its own settings; remove this field, or the program's `command`"),
        );
    }
    let listed = spec.strategies.as_ref().map_or(0, Vec::len);
    if spec.strategies.is_some() && entries.len() != listed {
        check.error(
            "strategies",
            "with a client program, every entry is `{ name, command }`: presets and backoff kinds apply to the reference client only",
        );
    }
    if engine == Engine::Sim {
        let at = if clients.command.is_some() { "clients.command" } else { "strategies" };
        check.report(
            Diagnostic::at(at, format!("a client program runs on the live engine only: {SIM_CANNOT_HOST}"))
                .help("use `engine: live` (the default) and leave out `--engine sim`"),
        );
    }
    if clients.count > MAX_PROGRAM_CLIENTS {
        check.error(
            "clients.count",
            format!("at most {MAX_PROGRAM_CLIENTS} client programs run at once; got {}", clients.count),
        );
    }
    let ready_timeout = clients
        .ready_timeout
        .as_ref()
        .and_then(|t| check.positive("clients.ready_timeout", t))
        .unwrap_or(READY_TIMEOUT);
    Some(ClientProgram {
        command: clients.command.clone().unwrap_or_default(),
        entries,
        identity: match clients.identity {
            Some(IdentitySpec::Port) | None => Identity::Port,
            Some(IdentitySpec::Query) => Identity::Query,
            Some(IdentitySpec::Header) => Identity::Header,
        },
        events: match clients.events {
            Some(EventsSpec::None) | None => EventSource::None,
            Some(EventsSpec::Stdout) => EventSource::Stdout,
        },
        ready_timeout,
        stop: stop_policy(check, "clients.stop", clients.stop.as_ref()),
        env: environment(check, "clients.env", clients.env.as_ref()),
        allow_exit: clients.allow_exit.unwrap_or(false),
        dir: PathBuf::from("."),
    })
}

/// Whether the scenario runs the user's client program: `clients.command` is set, or a matrix
/// entry has a `command`.
pub(super) fn is_program(spec: &ScenarioSpec) -> bool {
    let entry_command =
        |entry: &WordOr<InlineStrategySpec>| matches!(entry, WordOr::Map(map) if map.command.is_some());
    spec.clients.command.is_some() || spec.strategies.iter().flatten().any(entry_command)
}

/// The `{ name, command }` entries of the matrix, checked.
fn matrix_commands(check: &mut Checker, spec: &ScenarioSpec) -> Vec<ProgramEntry> {
    let Some(list) = &spec.strategies else { return Vec::new() };
    let mut entries: Vec<ProgramEntry> = Vec::new();
    for (index, entry) in list.iter().enumerate() {
        let WordOr::Map(map) = entry else { continue };
        let Some(command) = &map.command else { continue };
        let path = format!("strategies[{index}]");
        command_words(check, &format!("{path}.command"), command, &CLIENT_PLACEHOLDERS);
        let backoff_fields = [
            ("kind", map.kind.is_some()),
            ("delay", map.delay.is_some()),
            ("delays", map.delays.is_some()),
            ("then", map.then.is_some()),
            ("step", map.step.is_some()),
            ("base", map.base.is_some()),
            ("factor", map.factor.is_some()),
            ("cap", map.cap.is_some()),
            ("randomization", map.randomization.is_some()),
        ];
        for (field, _) in backoff_fields.iter().filter(|(_, set)| *set) {
            check.report(
                Diagnostic::at(format!("{path}.{field}"), "applies to the reference client only")
                    .help("an entry with a `command` runs your program, which has its own backoff"),
            );
        }
        let Some(name) = &map.name else {
            check.error(&path, "an entry with a `command` needs a `name` to show in the reports");
            continue;
        };
        if entries.iter().any(|e| &e.name == name) {
            check.error(format!("{path}.name"), format!("the name `{name}` is used twice"));
        }
        entries.push(ProgramEntry { name: name.clone(), command: command.clone() });
    }
    entries
}

/// The server under test.
pub(super) fn server_under_test(
    check: &mut Checker,
    spec: Option<&ServerSpec>,
    engine: Engine,
) -> ServerUnderTest {
    let Some(spec) = spec else { return ServerUnderTest::Echo };
    let program_fields = [
        ("port", spec.port.is_some()),
        ("ready_timeout", spec.ready_timeout.is_some()),
        ("stop", spec.stop.is_some()),
        ("env", spec.env.is_some()),
    ];
    let echo_fields = [
        ("heartbeat", spec.heartbeat.is_some()),
        ("handshake_latency", spec.handshake_latency.is_some()),
        ("accept_rate", spec.accept_rate.is_some()),
        ("auth", spec.auth.is_some()),
        ("handshake_timeout", spec.handshake_timeout.is_some()),
        ("deflate", spec.deflate.is_some()),
    ];
    let set = |fields: &[(&'static str, bool)]| -> Vec<&'static str> {
        fields.iter().filter(|(_, set)| *set).map(|(name, _)| *name).collect()
    };
    if spec.command.is_some() || spec.upstream.is_some() {
        for field in set(&echo_fields) {
            check.report(
                Diagnostic::at(format!("server.{field}"), "applies to wschaos's echo server only")
                    .help("your server has its own settings; remove this field"),
            );
        }
        if engine == Engine::Sim {
            let which = if spec.command.is_some() { "server.command" } else { "server.upstream" };
            check.report(
                Diagnostic::at(
                    which,
                    format!("a server of your own runs on the live engine only: {SIM_CANNOT_HOST}"),
                )
                .help("use `engine: live` (the default) and leave out `--engine sim`"),
            );
        }
    }
    match (&spec.command, &spec.upstream) {
        (Some(_), Some(_)) => {
            check.error(
                "server.upstream",
                "give `command` (a server wschaos starts) or `upstream` (one already running), not both",
            );
            ServerUnderTest::Echo
        }
        (None, upstream) => {
            for field in set(&program_fields) {
                check.report(
                    Diagnostic::at(format!("server.{field}"), "applies to a server program only")
                        .help("set `server.command` to run your own server, or remove this field"),
                );
            }
            match upstream {
                None => ServerUnderTest::Echo,
                Some(text) => {
                    upstream_addr(check, text).map_or(ServerUnderTest::Echo, ServerUnderTest::Upstream)
                }
            }
        }
        (Some(command), None) => {
            command_words(check, "server.command", command, &SERVER_PLACEHOLDERS);
            ServerUnderTest::Program(ServerProgram {
                command: command.clone(),
                port: spec.port.unwrap_or(0),
                ready_timeout: spec
                    .ready_timeout
                    .as_ref()
                    .and_then(|t| check.positive("server.ready_timeout", t))
                    .unwrap_or(READY_TIMEOUT),
                stop: stop_policy(check, "server.stop", spec.stop.as_ref()),
                env: environment(check, "server.env", spec.env.as_ref()),
                dir: PathBuf::from("."),
            })
        }
    }
}

/// `HOST:PORT` of a running server: loopback or a private test address, never the internet.
fn upstream_addr(check: &mut Checker, text: &str) -> Option<SocketAddr> {
    let Ok(addr) = text.parse::<SocketAddr>() else {
        check.report(
            Diagnostic::at("server.upstream", format!("`{text}` is not an address with a port"))
                .help("write it like `127.0.0.1:8080` or `[::1]:8080`"),
        );
        return None;
    };
    let private = match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_private(),
        IpAddr::V6(ip) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
    };
    if !private {
        check.report(
            Diagnostic::at(
                "server.upstream",
                format!("{addr} is neither loopback nor a private test address"),
            )
            .help("wschaos sends its faults only to servers on this machine or a private test network"),
        );
        return None;
    }
    Some(addr)
}

/// Checks a command's words: not empty, and only `allowed` placeholders.
fn command_words(check: &mut Checker, path: &str, command: &[String], allowed: &[&str]) {
    if command.first().is_none_or(|program| program.trim().is_empty()) {
        check.error(path, "the command is empty; give the program and its arguments, like [\"python3\", \"client.py\", \"{url}\"]");
        return;
    }
    for (index, word) in command.iter().enumerate() {
        match placeholders(word) {
            Err(message) => check.error(format!("{path}[{index}]"), message),
            Ok(names) => {
                for name in names.into_iter().filter(|name| !allowed.contains(name)) {
                    let list: Vec<String> = allowed.iter().map(|a| format!("{{{a}}}")).collect();
                    check.report(
                        Diagnostic::at(
                            format!("{path}[{index}]"),
                            format!(
                                "unknown placeholder `{{{name}}}`; this command takes {}",
                                list.join(", ")
                            ),
                        )
                        .maybe_help(
                            closest(name, allowed.iter().copied())
                                .map(|best| format!("did you mean `{{{best}}}`?")),
                        ),
                    );
                }
            }
        }
    }
}

fn stop_policy(check: &mut Checker, path: &str, spec: Option<&StopSpec>) -> StopPolicy {
    let Some(spec) = spec else { return StopPolicy::default() };
    let signal = match &spec.signal {
        None => ProgramSignal::Term,
        Some(name) => ProgramSignal::named(name).unwrap_or_else(|| {
            let names: Vec<&str> = ProgramSignal::ALL.iter().map(|(_, n)| *n).collect();
            check.report(
                Diagnostic::at(
                    format!("{path}.signal"),
                    format!(
                        "`{name}` is not a signal wschaos stops programs with; expected one of {}",
                        names.join(", ")
                    ),
                )
                .maybe_help(did_you_mean(name, names.iter().copied())),
            );
            ProgramSignal::Term
        }),
    };
    let grace = match &spec.grace {
        None => STOP_GRACE,
        Some(text) => check.duration(&format!("{path}.grace"), text).unwrap_or(STOP_GRACE),
    };
    if grace > Duration::from_secs(60) {
        check.error(format!("{path}.grace"), "at most 60s: a run waits this long for each program");
    }
    StopPolicy { signal, grace }
}

fn environment(
    check: &mut Checker,
    path: &str,
    env: Option<&BTreeMap<String, String>>,
) -> Vec<(String, String)> {
    let Some(env) = env else { return Vec::new() };
    for name in env.keys() {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            check.error(format!("{path}.{name}"), "not an environment variable name");
        } else if name.starts_with("WSCHAOS_") {
            check.error(format!("{path}.{name}"), "WSCHAOS_ variables are set by wschaos itself");
        }
    }
    env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The reference-client fields set beside `command`.
fn reference_only_fields(spec: &ClientsSpec) -> Vec<&'static str> {
    [
        ("start_spread", spec.start_spread.is_some()),
        ("workload", spec.workload.is_some()),
        ("strategy", spec.strategy.is_some()),
        ("heartbeat", spec.heartbeat.is_some()),
        ("read_timeout", spec.read_timeout.is_some()),
        ("connect_timeout", spec.connect_timeout.is_some()),
        ("max_attempts", spec.max_attempts.is_some()),
        ("backoff_reset", spec.backoff_reset.is_some()),
        ("delivery", spec.delivery.is_some()),
        ("outbox", spec.outbox.is_some()),
        ("close_codes", spec.close_codes.is_some()),
        ("auth", spec.auth.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// The program fields set without `command`.
fn program_only_fields(spec: &ClientsSpec) -> Vec<&'static str> {
    [
        ("identity", spec.identity.is_some()),
        ("events", spec.events.is_some()),
        ("ready_timeout", spec.ready_timeout.is_some()),
        ("stop", spec.stop.is_some()),
        ("env", spec.env.is_some()),
        ("allow_exit", spec.allow_exit.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}
