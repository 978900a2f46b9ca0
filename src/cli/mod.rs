//! The command line: clap definitions (`args.rs`) and their value parsers (`parse.rs`), and the
//! dispatch to one file per kind of command: `run.rs` (`wschaos run`, and `swarm.rs` for
//! `--seeds A..B`), `serve.rs` (the long-running standalone parts), `report.rs` (the commands
//! that read files and print). Only this module and main.rs know clap; each command returns an
//! [`Exit`].
//!
//! Output goes through `output.rs`: stderr lines by [`say!`], which a closed stderr cannot turn
//! into a panic as `say!` would, and stdout by writes whose errors are handled.

/// `say!` that cannot panic: a message to a closed stderr has nowhere to go, and the
/// command carries on (its exit code still says how it ended).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::say(format_args!($($arg)*))
    };
}

mod args;
mod github;
mod input;
mod output;
mod parse;
mod report;
mod run;
mod serve;
mod signals;
mod swarm;

pub use args::{
    Cli, ClientArgs, Command, DeliveryArg, EchoArgs, EngineArg, FormatArg, HeartbeatArg, RunArgs,
};
pub use swarm::Seeds;

use clap::CommandFactory;

use crate::Exit;
use crate::scenario;

/// Runs the parsed command, writing to stdout and stderr.
pub fn execute(cli: Cli) -> Exit {
    match cli.command {
        Command::Validate { files } => report::validate(&files),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&scenario::json_schema()).expect("schema serializes");
            output::print_then(format!("{text}\n"), Exit::Ok)
        }
        Command::Presets => output::print_then(scenario::preset_table::render(), Exit::Ok),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wschaos", &mut script);
            output::print_then(script, Exit::Ok)
        }
        Command::Run(args) => run::run(args),
        Command::Proxy { listen, upstream, scenario, seed, out, strip_deflate } => {
            serve::proxy(listen, upstream, scenario.as_deref(), seed, out.as_deref(), strip_deflate)
        }
        Command::Report { file, format, strategy } => {
            report::render_report(&file, format, strategy.as_deref())
        }
        Command::Compare { base, new, fail_on_regression } => {
            report::compare(&base, &new, fail_on_regression)
        }
        Command::Echo(args) => serve::echo(args),
        Command::Client(args) => serve::client(args),
    }
}
