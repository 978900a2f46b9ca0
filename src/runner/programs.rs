//! A strategy whose clients are the user's own program (and perhaps its server): the programs
//! launched around the stack, their readiness checked against `ready_timeout`, early exits and
//! malformed event lines kept for the report, and every program stopped at the end.

use std::path::PathBuf;

use tokio::time::Instant;

use super::RunError;
use crate::client::{ClientEvent, ClientEventKind, ClientSink};
use crate::outcome::{ProgramExit, ProgramReport};
use crate::program::fleet::{Fleet, FleetLaunch};
use crate::program::process::Child;
use crate::program::server;
use crate::proxy::{EventKind, ProxyEvent};
use crate::recorder::Recorded;
use crate::scenario::program::{ClientProgram, EventSource, Identity, ServerProgram};
use crate::wire::CLIENT_QUERY;

/// How many malformed lines the report quotes.
const PROTOCOL_SAMPLES: usize = 10;

/// The server program of a strategy, launched before the stack.
pub(super) async fn launch_server(
    program: &ServerProgram,
    seed: u64,
    logs: Option<&PathBuf>,
) -> Result<(Child, std::net::SocketAddr), RunError> {
    let log = logs.map(|folder| folder.join("server.log"));
    if let Some(folder) = logs {
        std::fs::create_dir_all(folder)?;
    }
    server::launch(program, seed, log.as_deref()).await.map_err(|error| RunError::Program(error.to_string()))
}

/// The client programs of one strategy while it runs.
#[derive(Debug)]
pub(super) struct Programs {
    program: ClientProgram,
    command: Vec<String>,
    fleet: Fleet,
    server: Option<Child>,
    origin: Instant,
    logs: Option<PathBuf>,
    /// When each client became ready, by index.
    ready: Vec<Option<f64>>,
    exits: Vec<ProgramExit>,
    protocol_errors: u64,
    protocol_samples: Vec<String>,
}

impl Programs {
    /// Launches `count` clients of `program` running `command` against the proxy: its
    /// per-client URLs (`identity: port`) or `url` with the client named in the query or
    /// header.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn launch(
        program: &ClientProgram,
        command: &[String],
        url: &str,
        client_urls: Vec<String>,
        count: u32,
        seed: u64,
        logs: Option<PathBuf>,
        sink: &ClientSink,
        server: Option<Child>,
    ) -> Result<Programs, RunError> {
        let urls = match program.identity {
            Identity::Port => client_urls,
            Identity::Query => (0..count).map(|i| format!("{url}?{CLIENT_QUERY}={i}")).collect(),
            Identity::Header => (0..count).map(|_| url.to_string()).collect(),
        };
        let clients_logs = logs.as_ref().map(|folder| folder.join("clients"));
        let launch = FleetLaunch { program, command, urls, seed, logs: clients_logs.clone() };
        let fleet = Fleet::launch(&launch, sink).map_err(|error| RunError::Program(error.to_string()))?;
        Ok(Programs {
            program: program.clone(),
            command: command.to_vec(),
            fleet,
            server,
            origin: Instant::now(),
            logs: clients_logs,
            ready: vec![None; count as usize],
            exits: Vec::new(),
            protocol_errors: 0,
            protocol_samples: Vec::new(),
        })
    }

    /// Takes what a recorded event says about the programs.
    pub(super) fn note(&mut self, event: &Recorded) {
        let t = (event.at() - self.origin).as_secs_f64();
        match event {
            Recorded::Client(ClientEvent { client, kind, .. }) => match kind {
                ClientEventKind::Ready => self.mark_ready(*client, t),
                ClientEventKind::Exited { code, signal } => {
                    let exit = crate::program::ProgramEnd { code: *code, signal: *signal, at: event.at() };
                    let last_lines = self.fleet.output(*client).map(|o| o.tail()).unwrap_or_default();
                    self.exits.push(ProgramExit { client: *client, t, status: exit.to_string(), last_lines });
                }
                ClientEventKind::ProtocolError { line, message } => {
                    self.protocol_errors += 1;
                    if self.protocol_samples.len() < PROTOCOL_SAMPLES {
                        self.protocol_samples.push(format!("client {client} line {line}: {message}"));
                    }
                }
                _ => {}
            },
            Recorded::Proxy(ProxyEvent { kind: EventKind::LinkIdentified { client, .. }, .. }) => {
                if self.program.events == EventSource::None {
                    self.mark_ready(*client, t);
                }
            }
            Recorded::Proxy(_) => {}
        }
    }

    fn mark_ready(&mut self, client: u32, t: f64) {
        if let Some(ready) = self.ready.get_mut(client as usize) {
            ready.get_or_insert(t);
        }
    }

    /// At `now`, an error naming the first client that is not ready although its
    /// `ready_timeout` has passed (and was not ended early, which the report shows instead).
    pub(super) fn check_ready(&self, now: Instant) -> Result<(), RunError> {
        let waited = now - self.origin;
        if waited < self.program.ready_timeout {
            return Ok(());
        }
        let late = self.ready.iter().enumerate().find(|(index, ready)| {
            ready.is_none() && !self.exits.iter().any(|e| e.client as usize == *index)
        });
        let Some((index, _)) = late else { return Ok(()) };
        let what = match self.program.events {
            EventSource::Stdout => "did not report {\"event\":\"ready\"} on its stdout",
            EventSource::None => "did not connect to the proxy",
        };
        let tail = self.fleet.output(index as u32).map(server::tail).unwrap_or_default();
        Err(RunError::Program(format!(
            "client {index} {what} within {} (clients.ready_timeout){tail}",
            crate::units::format_duration(self.program.ready_timeout)
        )))
    }

    /// Stops every client, then the server program.
    pub(super) async fn stop(
        self,
        server_stop: Option<crate::scenario::program::StopPolicy>,
    ) -> ProgramReport {
        let Programs {
            program,
            command,
            fleet,
            server,
            logs,
            ready,
            exits,
            protocol_errors,
            protocol_samples,
            ..
        } = self;
        let log_problems = (0..fleet.len() as u32)
            .flat_map(|i| {
                let problems = fleet.output(i).map(|o| o.problems()).unwrap_or_default();
                problems.into_iter().map(move |p| format!("client {i}: {p}"))
            })
            .collect();
        fleet.stop(program.stop).await;
        if let (Some(mut server), Some(policy)) = (server, server_stop) {
            server.stop(policy.signal.into(), policy.grace).await;
        }
        ProgramReport {
            command,
            events: program.events == EventSource::Stdout,
            ready_after: ready.into_iter().flatten().collect(),
            exits,
            allow_exit: program.allow_exit,
            protocol_errors,
            protocol_error_samples: protocol_samples,
            log_problems,
            logs: logs.map(|path| path.display().to_string()),
        }
    }
}
