//! The command line: clap definitions and the dispatch to the library. Only this module and
//! main.rs know clap; each command returns an [`Exit`]. `run.rs` holds `wschaos run`.

mod run;
mod swarm;

pub use swarm::Seeds;
use swarm::parse_seeds;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::Poll;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::Exit;
use crate::scenario::strategy::{Backoff, Strategy, WSCHAOS_DEFAULTS};
use crate::scenario::values::{Jittered, Rate, parse_duration, parse_jittered, parse_rate, parse_size};
use crate::scenario::{
    self, ClientHeartbeat, Delivery, Scenario, ServerConfig, ServerHeartbeat, Workload, presets,
};
use crate::{proxy, report, server};

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
    /// The server's URL (ws:// only).
    #[arg(long)]
    pub url: String,
    /// A strategy preset, or `immediate`.
    #[arg(long, default_value = "aws-full-jitter")]
    pub strategy: String,
    /// Messages per second to send (none without it: heartbeats only).
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Bytes per message, header included.
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
    /// Bearer token for the handshake.
    #[arg(long, value_parser = parse_token)]
    pub token: Option<String>,
    /// Seed of the client's random draws.
    #[arg(long, default_value_t = 1)]
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
    /// Require `Authorization: Bearer SECRET` on every upgrade (answer 401 otherwise).
    #[arg(long, value_name = "SECRET", env = "WSCHAOS_ECHO_TOKEN", hide_env_values = true,
          value_parser = parse_token)]
    pub token: Option<String>,
    /// Seed of the handshake-latency draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `--format` values of `wschaos report`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// summary.md: verdict, a table per strategy, SLOs, repro lines.
    Md,
    /// junit.xml: a suite per strategy, a case per SLO.
    Junit,
    /// The HdrHistogram percentile distribution of one strategy's recovery times.
    Hgrm,
    /// report.json, re-serialized.
    Json,
}

impl FormatArg {
    /// The format's name in [`crate::report::format_named`].
    fn name(self) -> &'static str {
        match self {
            FormatArg::Md => "md",
            FormatArg::Junit => "junit",
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

/// Runs the parsed command, writing to stdout and stderr.
pub fn execute(cli: Cli) -> Exit {
    match cli.command {
        Command::Validate { files } => validate(&files),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&scenario::json_schema()).expect("schema serializes");
            println!("{text}");
            Exit::Ok
        }
        Command::Presets => {
            print!("{}", scenario::preset_table::render());
            Exit::Ok
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "wschaos", &mut std::io::stdout());
            Exit::Ok
        }
        Command::Run(args) => run::run(args),
        Command::Proxy { listen, upstream, scenario, seed } => {
            proxy(listen, upstream, scenario.as_deref(), seed)
        }
        Command::Report { file, format, strategy } => render_report(&file, format, strategy.as_deref()),
        Command::Compare { base, new, fail_on_regression } => compare(&base, &new, fail_on_regression),
        Command::Echo(args) => echo(args),
        Command::Client(args) => client(args),
    }
}

fn validate(files: &[PathBuf]) -> Exit {
    let mut exit = Exit::Ok;
    let mut stdout = std::io::stdout().lock();
    for file in files {
        match Scenario::load(file) {
            Ok(_) => {
                let _ = writeln!(stdout, "ok {}", file.display());
            }
            Err(error) => {
                eprintln!("{error}");
                exit = Exit::BadInput;
            }
        }
    }
    exit
}

/// `wschaos report`: re-render a report.json to stdout.
fn render_report(file: &Path, format: FormatArg, strategy: Option<&str>) -> Exit {
    let mut run = match report::json::read(file) {
        Ok(run) => run,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::BadInput;
        }
    };
    if let Some(name) = strategy {
        if !run.strategies.iter().any(|s| s.name == name) {
            let names: Vec<&str> = run.strategies.iter().map(|s| s.name.as_str()).collect();
            eprintln!(
                "error: --strategy {name}: the report has no strategy `{name}`; it has {}",
                names.join(", ")
            );
            return Exit::BadInput;
        }
        run.strategies.retain(|s| s.name == name);
    }
    let format = report::format_named(format.name()).expect("every --format value names a format");
    print!("{}", format.render(&run, run.strategies.first()));
    Exit::Ok
}

/// `wschaos compare`: print the comparison; exit 1 on a regression.
fn compare(base: &Path, new: &Path, fail_on_regression: Option<f64>) -> Exit {
    let (base, new) = match (report::json::read(base), report::json::read(new)) {
        (Ok(base), Ok(new)) => (base, new),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("error: {error}");
            return Exit::BadInput;
        }
    };
    let comparison = report::compare(&base, &new, fail_on_regression);
    print!("{}", comparison.text);
    if comparison.regressed { Exit::SloFailed } else { Exit::Ok }
}

/// Parses `--fail-on-regression PCT`: a finite percentage of at least 0 (`10` or `10%`).
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix('%').unwrap_or(text).trim();
    match number.parse::<f64>() {
        Ok(pct) if pct.is_finite() && pct >= 0.0 => Ok(pct),
        _ => Err(format!("`{text}` is not a percentage; write a number of at least 0, like `10`")),
    }
}

/// Parses `--heartbeat EVERY/TIMEOUT`, both durations above zero.
fn parse_heartbeat(text: &str) -> Result<ServerHeartbeat, String> {
    let (every, timeout) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not EVERY/TIMEOUT; write it like `10s/5s`"))?;
    let ping_every = parse_duration(every).map_err(|error| format!("EVERY: {error}"))?;
    let timeout = parse_duration(timeout).map_err(|error| format!("TIMEOUT: {error}"))?;
    if ping_every.is_zero() || timeout.is_zero() {
        return Err(format!("`{text}`: both EVERY and TIMEOUT must be longer than 0s"));
    }
    Ok(ServerHeartbeat { ping_every, timeout })
}

/// Parses `--token`: something a client can send in a header, with no spaces.
fn parse_token(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the token is empty; leave --token out to admit every client".to_string());
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err("a token may hold only visible ASCII characters, no spaces".to_string());
    }
    Ok(text.to_string())
}

/// `wschaos echo`: serve on live TCP until Ctrl-C, then print the counters.
fn echo(args: EchoArgs) -> Exit {
    let config = ServerConfig {
        heartbeat: args.heartbeat,
        handshake_latency: args.handshake_latency.unwrap_or_default(),
        accept_rate: args.accept_rate,
        auth_token: args.token,
    };
    let listen = args.listen;
    serve_until_ctrl_c(|shutdown| {
        server::standalone::serve(listen, config, args.seed, std::io::stdout(), shutdown)
    })
}

/// `wschaos client`: one reference client until Ctrl-C.
fn client(args: ClientArgs) -> Exit {
    let strategy = match strategy_named(&args.strategy) {
        Ok(strategy) => strategy,
        Err(message) => {
            eprintln!("error: --strategy {}: {message}", args.strategy);
            return Exit::BadInput;
        }
    };
    if let Err(message) = crate::client::standalone::resolve(&args.url) {
        eprintln!("error: --url {}: {message}", args.url);
        return Exit::BadInput;
    }
    let delivery = match args.delivery {
        DeliveryArg::AtMostOnce => Delivery::AtMostOnce,
        DeliveryArg::Buffered => Delivery::Buffered,
        DeliveryArg::AtLeastOnce => Delivery::AtLeastOnce,
        DeliveryArg::ExactlyOnce => Delivery::ExactlyOnce,
    };
    let options = crate::client::standalone::Options {
        url: args.url,
        strategy,
        heartbeat: args.heartbeat.map(|HeartbeatArg(heartbeat)| heartbeat),
        workload: args.rate.map(|rate| Workload { rate, size_bytes: args.size }),
        delivery,
        index: args.index,
        token: args.token,
        seed: args.seed,
    };
    serve_until_ctrl_c(|shutdown| crate::client::standalone::serve(options, std::io::stdout(), shutdown))
}

/// A preset by name, or the parameterless kind `immediate`.
fn strategy_named(name: &str) -> Result<Strategy, String> {
    if name == "immediate" {
        return Ok(Strategy {
            name: name.to_string(),
            backoff: Backoff::Immediate,
            quirks: Default::default(),
            defaults: WSCHAOS_DEFAULTS,
            source: None,
        });
    }
    presets::preset(name).ok_or_else(|| {
        let hint = crate::scenario::suggest::did_you_mean(name, presets::PRESET_NAMES.iter().copied())
            .unwrap_or_else(|| format!("the presets are {}", presets::PRESET_NAMES.join(", ")));
        format!("no such preset; {hint}")
    })
}

/// Parses `--heartbeat EVERY/TIMEOUT` or `off` for the client.
fn parse_client_heartbeat(text: &str) -> Result<HeartbeatArg, String> {
    if text == "off" {
        return Ok(HeartbeatArg(None));
    }
    let server = parse_heartbeat(text)?;
    Ok(HeartbeatArg(Some(ClientHeartbeat {
        ping_every: server.ping_every,
        pong_timeout: Some(server.timeout),
    })))
}

/// Parses `--size`: a size that holds the message header.
fn parse_message_size(text: &str) -> Result<u64, String> {
    let size = parse_size(text)?;
    if size < crate::wire::HEADER_LEN as u64 {
        return Err(format!("a message holds at least its {}B header", crate::wire::HEADER_LEN));
    }
    Ok(size)
}

/// `wschaos proxy`: forward and play the scenario's faults until Ctrl-C.
fn proxy(listen: SocketAddr, upstream: SocketAddr, scenario: Option<&Path>, seed: Option<u64>) -> Exit {
    let scenario = match scenario.map(Scenario::load).transpose() {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("{error}");
            return Exit::BadInput;
        }
    };
    let options = proxy::standalone::Options { listen, upstream, scenario, seed };
    serve_until_ctrl_c(|shutdown| proxy::standalone::serve(options, std::io::stdout(), shutdown))
}

/// Runs a long-lived command on a multi-thread runtime until Ctrl-C. The handler is installed
/// before `serve` starts (and prints its address), so an early Ctrl-C still stops it cleanly.
/// A failure to bind or serve is reported and exits 2.
fn serve_until_ctrl_c<F, Fut>(serve: F) -> Exit
where
    F: FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = std::io::Result<()>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Exit::Internal;
        }
    };
    runtime.block_on(async move {
        let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
        // The first poll installs the handler.
        let early = std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
        let shutdown = Box::pin(async move {
            let signal = match early {
                Poll::Ready(result) => result,
                Poll::Pending => ctrl_c.await,
            };
            if let Err(error) = signal {
                eprintln!("error: cannot wait for Ctrl-C ({error}); stopping");
            }
        });
        match serve(shutdown).await {
            Ok(()) => Exit::Ok,
            Err(error) => {
                eprintln!("error: {error}");
                Exit::BadInput
            }
        }
    })
}
