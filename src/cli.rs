//! The command line: clap definitions and the dispatch to the library. Only this file and
//! main.rs know clap; each command returns an [`Exit`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::Exit;
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
