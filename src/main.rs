//! The `wschaos` binary: parse the command line, set up logging, run, exit with its code.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wschaos::cli::{Cli, execute};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log line that cannot be written (stderr closed) is lost, not a panic: by default
        // the subscriber reports it with `eprintln!`, which panics on the same closed stderr.
        .log_internal_errors(false)
        .init();
    execute(cli).into()
}
