//! Before a run starts: what it will ask of the machine (file descriptors on the live engine,
//! memory on both), the soft descriptor limit raised to cover it, and a refusal, with the
//! numbers, when the machine cannot give it. A run that ran out of descriptors half-way used
//! to report the clients' connections as failing and their messages as lost; a refusal up
//! front says whose limit it is.
//!
//! The figures are estimates from measurements (docs/measurement.md), generous rather than
//! exact: they refuse only runs that cannot work, and raise the limit with room to spare.

use std::fmt;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

use crate::scenario::program::ServerUnderTest;
use crate::scenario::{Engine, Scenario};

/// Descriptors the process holds whatever the run: stdio, the runtime's epoll and wakers, the
/// signal pipe, events.jsonl and the report files, the program logs' folder.
const BASE_DESCRIPTORS: u64 = 64;

/// Memory one simulated client costs: `herd-100k` peaked at 3.5 GiB for 100,000 clients
/// (37 KiB each; reports/scale.md), rounded up.
const SIM_BYTES_PER_CLIENT: u64 = 40 * 1024;

/// Memory one live client chain costs in this process: DESIGN.md §8's budget of 64 KiB for a
/// client, its proxy link and its server session (the kernel's socket buffers are not ours).
const LIVE_BYTES_PER_CLIENT: u64 = 64 * 1024;

/// Memory the recorder keeps per workload message offered: `hour-1k` (3.6 million messages)
/// peaked at 213 MiB with 1,000 clients, about 60 bytes a message; rounded up.
const BYTES_PER_MESSAGE: u64 = 64;

/// What a run will ask of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needs {
    /// File descriptors open at once at the peak (0 on sim: it opens none per client).
    pub descriptors: u64,
    /// How the descriptor figure is made up, for the message.
    pub descriptors_per_client: u64,
    /// Bytes of memory at the peak.
    pub memory_bytes: u64,
}

/// The estimate for `scenario` on `engine`.
///
/// Live, per client: the client's socket (a reference client's, in this process), the
/// proxy's two (the client's side and its dial to the server), the echo server's one; with
/// `identity: port`, the client's own proxy listener; a client program instead holds its two
/// output pipes and its log here (its socket is in its own process). A server program holds
/// its pipes and log once. Strategies run one after another, so the matrix does not multiply
/// anything.
pub fn needs(scenario: &Scenario, engine: Engine) -> Needs {
    let clients = u64::from(scenario.clients.count);
    let messages = scenario.clients.workload.as_ref().map_or(0, |workload| {
        let seconds = scenario.duration.as_secs_f64();
        (workload.rate.per_second * seconds * clients as f64).ceil() as u64
    });
    let message_bytes = messages.saturating_mul(BYTES_PER_MESSAGE);
    if engine == Engine::Sim {
        return Needs {
            descriptors: 0,
            descriptors_per_client: 0,
            memory_bytes: clients * SIM_BYTES_PER_CLIENT + message_bytes,
        };
    }
    let server = match scenario.upstream {
        ServerUnderTest::Echo => 1,
        ServerUnderTest::Upstream(_) | ServerUnderTest::Program(_) => 0,
    };
    let (client, listener) = match &scenario.program {
        None => (1, 0),
        Some(program) => (3, u64::from(program.identity == crate::scenario::program::Identity::Port)),
    };
    let per_client = 2 + server + client + listener;
    let server_program = if matches!(scenario.upstream, ServerUnderTest::Program(_)) { 3 } else { 0 };
    Needs {
        descriptors: BASE_DESCRIPTORS + server_program + clients * per_client,
        descriptors_per_client: per_client,
        memory_bytes: clients * LIVE_BYTES_PER_CLIENT + message_bytes,
    }
}

/// Why a run cannot start on this machine; the message has the numbers and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The soft descriptor limit to ask for: twice the estimate, for the links a reconnect storm
/// keeps open beside their replacements, within the hard limit; never lower than it is.
/// `Err` when even the hard limit is below the estimate.
pub fn descriptor_limit(need: u64, soft: u64, hard: u64) -> Result<Option<u64>, u64> {
    if need > hard {
        return Err(hard);
    }
    let wanted = need.saturating_mul(2).min(hard);
    Ok((wanted > soft).then_some(wanted))
}

/// Checks the machine for `scenario` on `engine`, raising the soft descriptor limit when it
/// is below what the run needs (a process-wide change, which the programs under test inherit).
pub fn check(scenario: &Scenario, engine: Engine) -> Result<(), Refused> {
    let needs = needs(scenario, engine);
    if let Some(available) = available_memory()
        && needs.memory_bytes > available
    {
        return Err(Refused(format!(
            "this run needs about {} of memory ({} clients on the {} engine), but the machine has {} available; run fewer clients or a shorter workload",
            mebibytes(needs.memory_bytes),
            scenario.clients.count,
            engine.name(),
            mebibytes(available),
        )));
    }
    if needs.descriptors == 0 {
        return Ok(());
    }
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return Ok(()) };
    match descriptor_limit(needs.descriptors, soft, hard) {
        Ok(None) => Ok(()),
        Ok(Some(raised)) => {
            setrlimit(Resource::RLIMIT_NOFILE, raised, hard).map_err(|error| {
                Refused(format!(
                    "this run needs about {} file descriptors and the limit is {soft}; raising it to {raised} failed: {error}",
                    needs.descriptors
                ))
            })?;
            tracing::info!(from = soft, to = raised, "raised the open-file limit for the run");
            Ok(())
        }
        Err(hard) => Err(Refused(format!(
            "this run needs about {} file descriptors ({} clients × {} each, plus {BASE_DESCRIPTORS} for the process), but this process may open at most {hard} (the hard limit, `ulimit -Hn`); raise the hard limit to at least {} (limits.conf, systemd's LimitNOFILE, docker --ulimit nofile) or run at most {} clients",
            needs.descriptors,
            scenario.clients.count,
            needs.descriptors_per_client,
            needs.descriptors,
            hard.saturating_sub(BASE_DESCRIPTORS) / needs.descriptors_per_client.max(1),
        ))),
    }
}

/// `MemAvailable` of /proc/meminfo in bytes; `None` where there is none (not Linux).
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn mebibytes(bytes: u64) -> String {
    format!("{} MiB", bytes.div_ceil(1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(clients: &str) -> Scenario {
        let text = format!(
            "version: 1\nname: pre\nduration: 10s\nclients:\n  count: {clients}\n  workload: {{ rate: 10/s }}\n"
        );
        Scenario::parse(&text, "pre.yaml").unwrap()
    }

    #[test]
    fn live_needs_four_descriptors_a_client_and_sim_none() {
        let scenario = scenario("300");
        let live = needs(&scenario, Engine::Live);
        assert_eq!((live.descriptors, live.descriptors_per_client), (64 + 300 * 4, 4));
        assert_eq!(live.memory_bytes, 300 * 64 * 1024 + 300 * 10 * 10 * 64);
        let sim = needs(&scenario, Engine::Sim);
        assert_eq!(sim.descriptors, 0);
        assert_eq!(sim.memory_bytes, 300 * 40 * 1024 + 300 * 10 * 10 * 64);
    }

    #[test]
    fn the_soft_limit_is_raised_to_twice_the_need_within_the_hard_one() {
        let cases = [
            ((1264, 1024, 20_000), Ok(Some(2528))),
            ((1264, 1024, 2000), Ok(Some(2000))),
            ((1264, 4096, 20_000), Ok(None)),
            ((1264, 1024, 1024), Err(1024)),
            ((30_064, 1024, 20_000), Err(20_000)),
        ];
        for ((need, soft, hard), expected) in cases {
            assert_eq!(descriptor_limit(need, soft, hard), expected, "need {need}, soft {soft}, hard {hard}");
        }
    }
}
