//! The command line's shape: every subcommand and flag as clap types, with the help texts and
//! examples `--help` prints. Values are parsed by `parse.rs`; the commands live beside this file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use super::parse::{
    parse_client_heartbeat, parse_heartbeat, parse_message_size, parse_percent, parse_positive_duration,
    parse_seeds, parse_token,
};
use super::swarm::Seeds;
use crate::scenario::{ClientHeartbeat, ServerHeartbeat, defaults};
use crate::units::{Jittered, Rate, parse_jittered, parse_rate};

/// Chaos test harness and simulator for WebSocket reconnection.
#[derive(Debug, Parser)]
#[command(name = "wschaos", version, about, propagate_version = true)]
#[command(
    after_help = "Example:\n  wschaos validate scenarios/*.yaml\n  wschaos run scenarios/flaky.yaml --engine sim"
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scenario files and print `ok FILE` or every error found.
    #[command(
        after_help = "Example:\n  wschaos validate scenarios/flaky.yaml scenarios/blackhole.yaml\n\nExit code 0 when every file is valid, 2 when any is not."
    )]
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the scenario format (for editors and CI).
    #[command(after_help = "Example:\n  wschaos schema > scenarios/scenario.schema.json")]
    Schema,
    /// List the reconnect strategy presets: delays, heartbeat, reset rule, give-up rule, source.
    #[command(after_help = "Example:\n  wschaos presets")]
    Presets,
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  wschaos completions bash > /etc/bash_completion.d/wschaos")]
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Run a scenario and judge it against its SLOs.
    #[command(
        after_help = "Example:\n  wschaos run scenarios/flaky.yaml --engine sim --seed 7 --strategy socketio\n  \
wschaos run scenarios/blackhole.yaml --engine sim --seeds 1..200\n\n\
With --seeds A..B every seed draws its own values from the scenario's `swarm:` ranges; the\n\
exit code is 1 if any seed failed an SLO or drew an invalid scenario, else 3 if any was\n\
inconclusive. --seeds N repeats one seed of a swarm with the full report set."
    )]
    Run(RunArgs),
    /// Run the fault-injecting proxy on its own, in front of any server, for any client.
    #[command(
        after_help = "Example:\n  wschaos proxy --listen 127.0.0.1:9000 --upstream 127.0.0.1:8080 --scenario scenarios/blackhole.yaml\n\nThe scenario's faults play with time counted from proxy start; its server and client\nsettings are not used. Prints the bound address first, then one line per event.\nStops on Ctrl-C."
    )]
    Proxy {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The server to forward to.
        #[arg(long)]
        upstream: SocketAddr,
        /// Scenario whose fault timeline to play; without one the proxy only forwards.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Record what the proxy sees and, when the scenario ends (or on Ctrl-C), write
        /// report.json, summary.md and junit.xml here, judged against the scenario's SLOs with
        /// the exit codes of `wschaos run`.
        #[arg(long, requires = "scenario", value_name = "DIR")]
        out: Option<PathBuf>,
        /// Remove the permessage-deflate offer from every upgrade request, so the server never
        /// compresses and drop_frames can drop data frames (a scenario's
        /// `proxy: { strip_deflate: true }` does the same).
        #[arg(long)]
        strip_deflate: bool,
    },
    /// Run the echo server alone, for any WebSocket client, until Ctrl-C.
    #[command(after_help = "Example:\n  wschaos echo --listen 127.0.0.1:9000 --heartbeat 10s/5s \
--handshake-latency '2ms ± 1ms' --accept-rate 500/s --token secret\n\n\
The first line on stdout is `listening on ws://ADDR`; on Ctrl-C a one-line summary follows.")]
    Echo(EchoArgs),
    /// Re-render a run's report.json in another format, to stdout.
    #[command(
        after_help = "Example:\n  wschaos report reports/flaky-mobile-link/report.json --format md\n  \
wschaos report report.json --format hgrm --strategy socketio > socketio.hgrm\n\n\
Exit code 0 when rendered, 2 when the file cannot be read or the strategy does not exist."
    )]
    Report {
        /// The report.json a run wrote.
        file: PathBuf,
        /// The output format.
        #[arg(long, value_enum, default_value = "md")]
        format: FormatArg,
        /// Render only this strategy (hgrm renders one: the first without this flag).
        #[arg(long)]
        strategy: Option<String>,
    },
    /// Compare two runs' report.json: per strategy and metric, base → new and the change.
    #[command(
        after_help = "Example:\n  wschaos compare main/report.json report.json --fail-on-regression 10\n\n\
Every metric is lower-is-better except availability. A regression is a p99 or mean worse by\n\
more than PCT percent of the base. Exit code 0 without one (or without --fail-on-regression),\n\
1 on a regression, 2 when a file cannot be read."
    )]
    Compare {
        /// The baseline report.json.
        base: PathBuf,
        /// The report.json to judge against it.
        new: PathBuf,
        /// Fail (exit 1) when a p99 or mean worsens by more than PCT percent.
        #[arg(long, value_name = "PCT", value_parser = parse_percent)]
        fail_on_regression: Option<f64>,
    },
    /// Run one reference client against any WebSocket server, printing every event.
    #[command(
        after_help = "Example:\n  wschaos client --url ws://127.0.0.1:9000/ --strategy socketio --rate 5/s\n\n\
Prints one line per event (attempts, detections, waits, sends, echoes) and a summary on Ctrl-C.\n\
The strategy is a preset (see `wschaos presets`) or `immediate`."
    )]
    Client(ClientArgs),
}

/// `wschaos run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Override the scenario's engine.
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// A swarm on the sim engine: run every seed of A..B (inclusive), each with its own draw of
    /// the scenario's `swarm:` ranges, and write swarm.json and swarm.md; or repeat the single
    /// seed N of a swarm with the full report set.
    #[arg(long, value_name = "A..B|N", value_parser = parse_seeds, conflicts_with = "seed")]
    pub seeds: Option<Seeds>,
    /// Worker threads for a range of --seeds (default: the machine's available parallelism).
    /// The report is the same whatever the number.
    #[arg(long, value_name = "N", requires = "seeds", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Run only these strategies of the matrix (repeatable).
    #[arg(long)]
    pub strategy: Vec<String>,
    /// Where reports go (default reports/<scenario name>/, for a range of --seeds
    /// reports/<scenario name>/swarm/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run twice on the sim engine and compare the events line by line and the reports byte by
    /// byte; exit 4 naming the first event that differs.
    #[arg(long)]
    pub check_determinism: bool,
}

/// `wschaos client` options.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's URL, ws:// or wss:// (with --ca).
    #[arg(long)]
    pub url: String,
    /// For wss://: the CA certificate(s) to trust, a PEM file (`wschaos echo --tls` prints
    /// where it wrote its CA). No system roots are trusted.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// A strategy preset, or `immediate`.
    #[arg(long, default_value = "aws-full-jitter")]
    pub strategy: String,
    /// Messages per second to send (none without it: heartbeats only).
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Bytes per message, header included, up to 16MiB (as in a scenario's workload).
    #[arg(long, value_name = "SIZE", default_value = "64B", value_parser = parse_message_size)]
    pub size: u64,
    /// Delivery guarantee.
    #[arg(long, value_enum, default_value = "at-least-once")]
    pub delivery: DeliveryArg,
    /// Client pings: EVERY/PONG_TIMEOUT, or `off` (default: the preset's).
    #[arg(long, value_name = "EVERY/TIMEOUT|off", value_parser = parse_client_heartbeat)]
    pub heartbeat: Option<HeartbeatArg>,
    /// The client index sent in `x-wschaos-client`.
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    /// Print the client event protocol (docs/client-protocol.md: one JSON object per line)
    /// instead of event lines, so `wschaos run` can judge this client as a program under test.
    #[arg(long)]
    pub events: bool,
    /// Bearer token for the handshake.
    #[arg(long, value_parser = parse_token)]
    pub token: Option<String>,
    /// Offer this subprotocol in `Sec-WebSocket-Protocol` (repeatable, in order of preference),
    /// for servers that refuse an upgrade without one.
    #[arg(long = "subprotocol", value_name = "NAME", value_parser = crate::standalone::client::subprotocol)]
    pub subprotocols: Vec<String>,
    /// Add a header to the upgrade request, `'Name: value'` (repeatable): a cookie, an API key.
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = crate::standalone::client::header)]
    pub headers: Vec<(String, String)>,
    /// Seed of the client's random draws.
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,
}

/// `--heartbeat` for the client: pings, or `off`.
#[derive(Clone, Copy, Debug)]
pub struct HeartbeatArg(pub Option<ClientHeartbeat>);

/// `--delivery` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DeliveryArg {
    /// Send if open, else drop.
    AtMostOnce,
    /// Queue while offline, flush on reconnect.
    Buffered,
    /// Keep until echoed; resend after a reconnect.
    AtLeastOnce,
    /// At-least-once plus deduplication.
    ExactlyOnce,
}

/// `wschaos echo` options: the `server:` section of a scenario, as flags.
#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Ping every EVERY; close a peer that has not answered a ping within TIMEOUT.
    #[arg(long, value_name = "EVERY/TIMEOUT", value_parser = parse_heartbeat)]
    pub heartbeat: Option<ServerHeartbeat>,
    /// Time to answer each upgrade, drawn uniformly from D − J to D + J.
    #[arg(long, value_name = "D[ ± J]", value_parser = parse_jittered)]
    pub handshake_latency: Option<Jittered>,
    /// New connections served per second; the excess waits, it is not rejected.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub accept_rate: Option<Rate>,
    /// Close a connection that has not completed its upgrade this long after it was taken (a
    /// half-sent request, a slowloris).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration)]
    pub handshake_timeout: std::time::Duration,
    /// Refuse permessage-deflate (compression) even when a client offers it; by default it is
    /// accepted, as real servers do.
    #[arg(long)]
    pub no_deflate: bool,
    /// Require `Authorization: Bearer SECRET` on every upgrade (answer 401 otherwise).
    #[arg(long, value_name = "SECRET", env = "WSCHAOS_ECHO_TOKEN", hide_env_values = true,
          value_parser = parse_token)]
    pub token: Option<String>,
    /// Connections that may wait to be served; beyond, a connection is left unread until
    /// its SYN retransmit (1 s, 3 s, 7 s … after it came), as a full kernel queue drops SYNs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub backlog: Option<u32>,
    /// Upgrades in progress at once; the rest wait in the backlog.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrent_handshakes: Option<u32>,
    /// What one upgrade costs from its request to its answer, drawn per upgrade.
    #[arg(long, value_name = "D[ ± J]", value_parser = parse_jittered)]
    pub service_time: Option<Jittered>,
    /// Draw the service time as |N(D, J)| instead of uniformly.
    #[arg(long, requires = "service_time")]
    pub service_normal: bool,
    /// Shed new connections while more than N wait (answered 503, or Close 1013 with
    /// --shed-close); below --backlog.
    #[arg(long, value_name = "N")]
    pub shed_above: Option<u32>,
    /// Shed by completing the upgrade and closing with 1013 instead of answering 503.
    #[arg(long, requires = "shed_above")]
    pub shed_close: bool,
    /// Retry-After (whole seconds) on the 503 of a shed upgrade.
    #[arg(long, value_name = "SECONDS", requires = "shed_above", conflicts_with = "shed_close")]
    pub retry_after: Option<u64>,
    /// Read-then-write contention: an upgrade succeeds only if no other completed during its
    /// service time (the AWS backoff simulator's workload).
    #[arg(long, requires = "service_time")]
    pub contention: bool,
    /// Speak TLS (wss://) with a certificate made for this server: a CA and a leaf for
    /// 127.0.0.1, localhost and *.wschaos.test. The CA is written as ca.pem (see --tls-out)
    /// and its path printed, for clients to trust.
    #[arg(long)]
    pub tls: bool,
    /// With --tls: the folder to write ca.pem into (default: a new folder under the system's
    /// temporary directory).
    #[arg(long, value_name = "DIR", requires = "tls")]
    pub tls_out: Option<std::path::PathBuf>,
    /// Seed of the handshake-latency draws.
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,
}

/// `--format` values of `wschaos report`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// summary.md: verdict, a table per strategy, SLOs, repro lines.
    Md,
    /// junit.xml: a suite per strategy, a case per SLO.
    Junit,
    /// report.html: one self-contained page with charts (no script, works offline).
    Html,
    /// The HdrHistogram percentile distribution of one strategy's recovery times.
    Hgrm,
    /// report.json, re-serialized.
    Json,
}

impl FormatArg {
    /// The format's name in [`crate::report::format_named`].
    pub(super) fn name(self) -> &'static str {
        match self {
            FormatArg::Md => "md",
            FormatArg::Junit => "junit",
            FormatArg::Html => "html",
            FormatArg::Hgrm => "hgrm",
            FormatArg::Json => "json",
        }
    }
}

/// `--engine` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EngineArg {
    /// Real TCP on loopback.
    Live,
    /// In-memory network with virtual time.
    Sim,
}
