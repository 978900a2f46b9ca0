//! The long-running commands: `wschaos echo`, `wschaos proxy` and `wschaos client`, each a part
//! of the harness on its own ([`crate::standalone`]) on a multi-thread runtime until Ctrl-C,
//! SIGTERM or SIGHUP.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;

use super::args::{ClientArgs, DeliveryArg, EchoArgs, HeartbeatArg};
use super::input::load_scenario;
use super::output::prepare_out_dir;
use super::run::finish;
use super::signals;
use crate::Exit;
use crate::report;
use crate::scenario::strategy::{Backoff, Strategy, WSCHAOS_DEFAULTS};
use std::time::Duration;

use crate::scenario::{Capacity, Delivery, Overload, ServerConfig, Shed, Workload, presets};
use crate::standalone::{self, ServeError};
use crate::suggest::did_you_mean;
use crate::units::Spread;

/// `wschaos echo`: serve on live TCP until Ctrl-C, then print the counters.
pub(super) fn echo(args: EchoArgs) -> Exit {
    // The scenario's rule (src/scenario/validate/capacity.rs): a depth at or past the backlog
    // never sheds, because the backlog drops first.
    if let (Some(above), Some(backlog)) = (args.shed_above, args.backlog)
        && above >= backlog
    {
        say!(
            "error: --shed-above {above} is not below --backlog {backlog}: the backlog drops those connections first"
        );
        return Exit::BadInput;
    }
    let overload = args.shed_above.map(|above| Overload {
        above,
        answer: if args.shed_close {
            Shed::Close(1013)
        } else {
            Shed::Status { code: 503, retry_after: args.retry_after.map(Duration::from_secs) }
        },
    });
    let capacity = Capacity {
        backlog: args.backlog,
        concurrent: args.concurrent_handshakes,
        service_time: args.service_time.unwrap_or_default(),
        service_spread: if args.service_normal { Spread::Normal } else { Spread::Uniform },
        overload,
        contention: args.contention,
    };
    let config = ServerConfig {
        heartbeat: args.heartbeat,
        handshake_latency: args.handshake_latency.unwrap_or_default(),
        accept_rate: args.accept_rate,
        auth_token: args.token,
        hmac: None,
        capacity,
        handshake_timeout: args.handshake_timeout,
        deflate: !args.no_deflate,
        tls: args.tls,
    };
    if let Some(slowest) = Some(config.handshake_latency.max()).filter(|max| config.handshake_timeout <= *max)
    {
        say!(
            "error: --handshake-timeout {}: not longer than the slowest --handshake-latency ({}); every upgrade would be cut off",
            crate::units::format_duration(config.handshake_timeout),
            crate::units::format_duration(slowest)
        );
        return Exit::BadInput;
    }
    let listen = args.listen;
    let tls = match (args.tls, args.tls_out) {
        (false, _) => None,
        (true, Some(dir)) => Some(dir),
        (true, None) => Some(std::env::temp_dir().join(format!("wschaos-echo-{}", std::process::id()))),
    };
    serve_until_signal(|shutdown| {
        standalone::echo::serve(listen, config, args.seed, tls, std::io::stdout(), shutdown)
    })
}

/// `wschaos client`: one reference client until Ctrl-C.
pub(super) fn client(args: ClientArgs) -> Exit {
    let strategy = match strategy_named(&args.strategy) {
        Ok(strategy) => strategy,
        Err(message) => {
            say!("error: --strategy {}: {message}", args.strategy);
            return Exit::BadInput;
        }
    };
    if let Err(message) = standalone::client::resolve(&args.url) {
        say!("error: --url {}: {message}", args.url);
        return Exit::BadInput;
    }
    let delivery = match args.delivery {
        DeliveryArg::AtMostOnce => Delivery::AtMostOnce,
        DeliveryArg::Buffered => Delivery::Buffered,
        DeliveryArg::AtLeastOnce => Delivery::AtLeastOnce,
        DeliveryArg::ExactlyOnce => Delivery::ExactlyOnce,
    };
    let options = standalone::client::ClientOptions {
        url: args.url,
        strategy,
        heartbeat: args.heartbeat.map(|HeartbeatArg(heartbeat)| heartbeat),
        workload: args.rate.map(|rate| Workload { rate, size_bytes: args.size }),
        delivery,
        index: args.index,
        token: args.token,
        subprotocols: args.subprotocols,
        headers: args.headers,
        seed: args.seed,
        events: args.events,
        ca: args.ca,
    };
    serve_until_signal(|shutdown| standalone::client::serve(options, std::io::stdout(), shutdown))
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
        let hint = did_you_mean(name, presets::PRESET_NAMES.iter().copied())
            .unwrap_or_else(|| format!("the presets are {}", presets::PRESET_NAMES.join(", ")));
        format!("no such preset; {hint}")
    })
}

/// `wschaos proxy`: forward and play the scenario's faults until Ctrl-C.
pub(super) fn proxy(
    listen: SocketAddr,
    upstream: SocketAddr,
    scenario_file: Option<&Path>,
    seed: Option<u64>,
    out: Option<&Path>,
    strip_deflate: bool,
) -> Exit {
    let scenario = match scenario_file.map(|file| load_scenario(file, None)).transpose() {
        Ok(scenario) => scenario,
        Err(error) => {
            say!("{error}");
            return Exit::BadInput;
        }
    };
    let report = out.zip(scenario_file).map(|(_, file)| file.display().to_string());
    let options = standalone::proxy::ProxyOptions { listen, upstream, scenario, seed, report, strip_deflate };
    match out {
        None => serve_until_signal(|shutdown| async move {
            standalone::proxy::serve(options, std::io::stdout(), shutdown).await.map(|_| ())
        }),
        Some(out) => proxy_with_report(options, out),
    }
}

/// `wschaos proxy --out DIR`: the proxy runs until its scenario ends (or a signal), then its
/// report is written and judged as `wschaos run`'s is, with the same exit codes.
fn proxy_with_report(options: standalone::proxy::ProxyOptions, out: &Path) -> Exit {
    let files: Vec<String> = report::file_names(&[standalone::proxy::OBSERVED]);
    if let Err(exit) = prepare_out_dir(out, &files) {
        return exit;
    }
    let (signalled, signal) = tokio::sync::oneshot::channel::<()>();
    let stopped = signals::watch(move |signal| {
        say!("interrupted by {}: writing what the proxy saw; a second signal exits at once", signal.name());
        let _ = signalled.send(());
    });
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    let served = runtime.block_on(async move {
        let shutdown = async move {
            if signal.await.is_err() {
                // No watcher (it could not be installed, and said so): run to the scenario's end.
                std::future::pending::<()>().await;
            }
        };
        // The event lines first, then (from `finish`) the summary, all on stdout.
        standalone::proxy::serve(options, std::io::stdout(), shutdown).await
    });
    match served {
        Ok(standalone::proxy::Served { report: Some(report) }) => finish(&report, out, &stopped, None),
        Ok(standalone::proxy::Served { report: None }) => Exit::Internal,
        Err(error) => exit_for_serve_error(error),
    }
}

/// A multi-thread runtime for a long-lived command, or exit 70 saying why there is none.
fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|error| {
        say!("error: cannot start the async runtime: {error}");
        Exit::Internal
    })
}

/// The exit of a serve loop that stopped on an error: 2 for a failure to bind, 70 for the
/// part's own failure while serving, and for output that can no longer be written, 141 when
/// the reader went away (0 if only the last line was lost), else 74 saying why.
fn exit_for_serve_error(error: ServeError) -> Exit {
    match error {
        ServeError::Network(error) => {
            say!("error: {error}");
            Exit::BadInput
        }
        ServeError::Harness(error) => {
            say!("error: wschaos itself failed: {error}");
            Exit::Internal
        }
        ServeError::Output { error, cut_short } if error.kind() == ErrorKind::BrokenPipe => {
            if cut_short {
                Exit::BrokenPipe
            } else {
                Exit::Ok
            }
        }
        ServeError::Output { error, .. } => {
            say!("error: cannot write to stdout: {error}");
            Exit::IoError
        }
    }
}

/// Runs a long-lived command on a multi-thread runtime until SIGINT (Ctrl-C), SIGTERM or
/// SIGHUP. The handlers are installed before `serve` starts (and prints its address), so an
/// early signal still stops it cleanly; a second signal exits at once. Stopping is how these
/// commands end, so a clean stop exits 0. A failure to bind is reported and exits 2; the part's
/// own failure while serving (say, a listener that could not accept for seconds) exits 70.
/// Output that can no longer be written stops the command: quietly when the reader went away
/// (exit 141, as a shell reports a program SIGPIPE ended; 0 if only the last line was lost),
/// else saying why (exit 74).
fn serve_until_signal<F, Fut>(serve: F) -> Exit
where
    F: FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = Result<(), ServeError>>,
{
    let (signalled, signal) = tokio::sync::oneshot::channel();
    signals::watch(move |signal| {
        let _ = signalled.send(signal);
    });
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    runtime.block_on(async move {
        let shutdown = Box::pin(async move {
            match signal.await {
                Ok(signal) => say!("{}: stopping; a second signal exits at once", signal.name()),
                // No watcher (it could not be installed, and said so): run until killed.
                Err(_) => std::future::pending().await,
            }
        });
        match serve(shutdown).await {
            Ok(()) => Exit::Ok,
            Err(error) => exit_for_serve_error(error),
        }
    })
}
