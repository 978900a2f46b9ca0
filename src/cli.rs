//! The command line: clap definitions and the dispatch to the library. Only this file and
//! main.rs know clap; each command returns an [`Exit`].

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::Exit;
use crate::proxy::standalone;
use crate::scenario::{self, Scenario};

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
        after_help = "Example:\n  wschaos run scenarios/flaky.yaml --engine sim --seed 7 --strategy socketio"
    )]
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Override the scenario's engine.
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Run only these strategies of the matrix (repeatable).
        #[arg(long)]
        strategy: Vec<String>,
        /// Where reports go (default reports/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
        Command::Run { file, strategy, .. } => run(&file, &strategy),
        Command::Proxy { listen, upstream, scenario, seed } => {
            proxy(listen, upstream, scenario.as_deref(), seed)
        }
    }
}

fn proxy(listen: SocketAddr, upstream: SocketAddr, scenario: Option<&Path>, seed: Option<u64>) -> Exit {
    let scenario = match scenario.map(Scenario::load_playable).transpose() {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("{error}");
            return Exit::BadInput;
        }
    };
    let options = standalone::Options { listen, upstream, scenario, seed };
    serve_until_ctrl_c(|shutdown| standalone::serve(options, std::io::stdout(), shutdown))
}

/// Runs a long-lived command on a multi-thread runtime until Ctrl-C.
fn serve_until_ctrl_c<F, Fut>(serve: F) -> Exit
where
    F: FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = std::io::Result<()>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return Exit::Internal;
        }
    };
    let shutdown = Box::pin(async {
        // If the handler cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    });
    match runtime.block_on(serve(shutdown)) {
        Ok(()) => Exit::Ok,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::BadInput
        }
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

fn run(file: &Path, strategies: &[String]) -> Exit {
    let scenario = match Scenario::load(file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("{error}");
            return Exit::BadInput;
        }
    };
    for name in strategies {
        if !scenario.strategies.iter().any(|s| &s.strategy.name == name) {
            let names: Vec<&str> = scenario.strategies.iter().map(|s| s.strategy.name.as_str()).collect();
            eprintln!(
                "error: --strategy {name}: the scenario has no strategy `{name}`; it has {}",
                names.join(", ")
            );
            return Exit::BadInput;
        }
    }
    eprintln!(
        "{} is valid, but the run engine is not built yet: wschaos cannot run scenarios in this version",
        file.display()
    );
    Exit::BadInput
}
