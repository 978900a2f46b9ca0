//! The user's client program launched once per client: each with its URL and index filled in,
//! its output logged to `clients/<index>.log`, its stdout read for events when it reports them
//! (translated into client events for the recorder, malformed lines reported with their line
//! number), and its end reported as an `Exited` event. Stopping the fleet stops every client
//! at once (signal, grace, SIGKILL); dropping it kills them.

use std::path::{Path, PathBuf};

use tokio::io::BufReader;
use tokio::process::ChildStdout;

use super::output::{Output, ReadLine, next_line};
use super::process::{Child, Launch, LaunchError, StopOutcome};
use super::protocol::{self, ProgramEvent, StdoutLine};
use super::translate::Translator;
use crate::client::{ClientEventKind, ClientSink};
use crate::scenario::command::expand;
use crate::scenario::program::{ClientProgram, EventSource, StopPolicy};

/// How long an exited client's output may take to be read to its end (a process it left
/// behind can hold its stderr open) before its exit is reported anyway.
const OUTPUT_AFTER_EXIT: std::time::Duration = std::time::Duration::from_secs(1);

/// What to launch.
#[derive(Clone, Debug)]
pub struct FleetLaunch<'a> {
    /// The program's settings.
    pub program: &'a ClientProgram,
    /// The command of this strategy (the program's own, or a matrix entry's).
    pub command: &'a [String],
    /// Each client's URL, by index.
    pub urls: Vec<String>,
    /// The run's seed, passed as `{seed}`.
    pub seed: u64,
    /// The folder for the clients' logs, if they are kept.
    pub logs: Option<PathBuf>,
    /// On `wss://`: the run's CA certificate, a PEM file the clients should trust
    /// (`WSCHAOS_CA`).
    pub ca: Option<PathBuf>,
}

/// The running clients, by index.
#[derive(Debug)]
pub struct Fleet {
    clients: Vec<Child>,
}

impl Fleet {
    /// Starts every client; their events go to `sink`. A client that cannot start stops the
    /// ones already started (they are dropped, which kills them).
    pub fn launch(launch: &FleetLaunch<'_>, sink: &ClientSink) -> Result<Fleet, LaunchError> {
        if let Some(folder) = &launch.logs {
            std::fs::create_dir_all(folder).map_err(|error| LaunchError::Io {
                name: "the clients".into(),
                program: launch.command.first().cloned().unwrap_or_default(),
                error,
            })?;
        }
        let count = launch.urls.len();
        let mut clients = Vec::with_capacity(count);
        for (index, url) in launch.urls.iter().enumerate() {
            let child = start_one(launch, index as u32, count, url, sink)?;
            clients.push(child);
        }
        Ok(Fleet { clients })
    }

    /// Client `index`'s output.
    pub fn output(&self, index: u32) -> Option<&Output> {
        self.clients.get(index as usize).map(Child::output)
    }

    /// How many clients run.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether the fleet has no clients.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Stops every client at once by `policy`, returning how each ended, by index.
    pub async fn stop(mut self, policy: StopPolicy) -> Vec<StopOutcome> {
        let stops = self.clients.iter_mut().map(|child| child.stop(policy.signal.into(), policy.grace));
        futures_util::future::join_all(stops).await
    }
}

fn start_one(
    launch: &FleetLaunch<'_>,
    index: u32,
    count: usize,
    url: &str,
    sink: &ClientSink,
) -> Result<Child, LaunchError> {
    let value = |name: &str| match name {
        "url" => Some(url.to_string()),
        "index" => Some(index.to_string()),
        "count" => Some(count.to_string()),
        "seed" => Some(launch.seed.to_string()),
        _ => None,
    };
    let argv = launch
        .command
        .iter()
        .map(|word| expand(word, value).expect("validation checked the client's placeholders"))
        .collect();
    let mut env = launch.program.env.clone();
    env.extend([
        ("WSCHAOS_URL".to_string(), url.to_string()),
        ("WSCHAOS_CLIENT_INDEX".to_string(), index.to_string()),
        ("WSCHAOS_COUNT".to_string(), count.to_string()),
        ("WSCHAOS_SEED".to_string(), launch.seed.to_string()),
        ("WSCHAOS_EVENTS".to_string(), launch.program.events.name().to_string()),
    ]);
    if let Some(ca) = &launch.ca {
        env.push(("WSCHAOS_CA".to_string(), ca.display().to_string()));
    }
    let log = launch.logs.as_deref().map(|folder: &Path| folder.join(format!("{index}.log")));
    let spec = Launch { name: format!("client {index}"), argv, env, cwd: launch.program.dir.clone(), log };
    let (child, stdout) = Child::spawn(&spec)?;
    let output = child.output().clone();
    match launch.program.events {
        EventSource::Stdout => {
            tokio::spawn(read_events(stdout, index, sink.clone(), output));
        }
        EventSource::None => {
            tokio::spawn(async move { output.pump(BufReader::new(stdout)).await });
        }
    }
    let mut exit = child.exit_watch();
    let mut drained = child.output_drained();
    let sink = sink.clone();
    tokio::spawn(async move {
        let Ok(ended) = exit.wait_for(Option::is_some).await.map(|ended| *ended) else { return };
        let Some(ended) = ended else { return };
        // Its last words first: the report quotes the output as it stands at the exit.
        let _ = tokio::time::timeout(OUTPUT_AFTER_EXIT, drained.wait_for(|done| *done)).await;
        sink.emit(index, ClientEventKind::Exited { code: ended.code, signal: ended.signal });
    });
    Ok(child)
}

/// Reads a client's stdout to its end: events to `sink` (timestamped now, as they are read),
/// other lines to its output, malformed lines to both.
async fn read_events(stdout: ChildStdout, client: u32, sink: ClientSink, output: Output) {
    let mut reader = BufReader::new(stdout);
    let mut translator = Translator::default();
    let mut number = 0u64;
    while let Some(read) = next_line(&mut reader).await {
        number += 1;
        let line = match read {
            ReadLine::Line(line) => line,
            ReadLine::Overlong => {
                let message = format!("the line is longer than {} KiB", protocol::MAX_LINE_BYTES / 1024);
                output.line(&format!("[wschaos: stdout line {number}: {message}]"));
                sink.emit(client, ClientEventKind::ProtocolError { line: number, message });
                continue;
            }
        };
        let error = match protocol::parse(&line) {
            StdoutLine::Log => {
                output.line(&line);
                continue;
            }
            StdoutLine::Malformed(message) => message,
            StdoutLine::Event(ProgramEvent::Ready) => {
                sink.emit(client, ClientEventKind::Ready);
                continue;
            }
            StdoutLine::Event(event) => match translator.translate(event, tokio::time::Instant::now()) {
                Ok(kinds) => {
                    for kind in kinds {
                        sink.emit(client, kind);
                    }
                    continue;
                }
                Err(message) => message,
            },
        };
        output.line(&format!("[wschaos: stdout line {number}: {error}] {line}"));
        sink.emit(client, ClientEventKind::ProtocolError { line: number, message: error });
    }
}
