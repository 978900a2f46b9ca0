//! A strategy whose clients are the user's own program (and perhaps its server): the programs
//! launched around the stack, their readiness checked against `ready_timeout`, early exits and
//! malformed event lines kept for the report, and every program stopped at the end.

use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Interrupt, RunError};

/// How often the wait for readiness looks at the interrupt flag.
const READY_POLL: std::time::Duration = std::time::Duration::from_millis(100);
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
    /// When the first client was launched: readiness is measured from here.
    launched: Instant,
    /// The run's clock: when every client was ready (exits are timed from here).
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
        ca: Option<PathBuf>,
        sink: &ClientSink,
        server: Option<Child>,
    ) -> Result<Programs, RunError> {
        let urls = match program.identity {
            Identity::Port => client_urls,
            Identity::Query => (0..count).map(|i| format!("{url}?{CLIENT_QUERY}={i}")).collect(),
            Identity::Header => (0..count).map(|_| url.to_string()).collect(),
        };
        let launched = Instant::now();
        let clients_logs = logs.as_ref().map(|folder| folder.join("clients"));
        let launch = FleetLaunch { program, command, urls, seed, logs: clients_logs.clone(), ca };
        let fleet = Fleet::launch(&launch, sink).map_err(|error| RunError::Program(error.to_string()))?;
        Ok(Programs {
            program: program.clone(),
            command: command.to_vec(),
            fleet,
            server,
            launched,
            origin: launched,
            logs: clients_logs,
            ready: vec![None; count as usize],
            exits: Vec::new(),
            protocol_errors: 0,
            protocol_samples: Vec::new(),
        })
    }

    /// Takes what a recorded event says about the programs.
    pub(super) fn note(&mut self, event: &Recorded) {
        let t = event.at().saturating_duration_since(self.origin).as_secs_f64();
        let since_launch = event.at().saturating_duration_since(self.launched).as_secs_f64();
        match event {
            Recorded::Client(ClientEvent { client, kind, .. }) => match kind {
                ClientEventKind::Ready => self.mark_ready(*client, since_launch),
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
                    self.mark_ready(*client, since_launch);
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

    /// Whether the clients report events on their stdout.
    pub(super) fn reports_events(&self) -> bool {
        self.program.events == EventSource::Stdout
    }

    /// Waits until every client is ready (or has exited, which the report shows), taking the
    /// events that come meanwhile: they belong to the run, whose clock starts when this
    /// returns. A client not ready within `ready_timeout` of the launch is an error naming it.
    pub(super) async fn wait_ready(
        &mut self,
        proxy_events: &mut mpsc::UnboundedReceiver<ProxyEvent>,
        client_events: &mut mpsc::UnboundedReceiver<ClientEvent>,
        interrupt: &Interrupt,
    ) -> Result<Vec<Recorded>, RunError> {
        let deadline = self.launched + self.program.ready_timeout;
        let mut seen = Vec::new();
        // An interrupt while waiting starts the run at once, which then stops at once: the
        // report says interrupted, and the programs are stopped as at any end.
        while self.waiting_for().is_some() && !interrupt.triggered() {
            // `biased`, like the recording loop: one polling order.
            let event = tokio::select! {
                biased;
                Some(event) = proxy_events.recv() => Recorded::Proxy(event),
                Some(event) = client_events.recv() => Recorded::Client(event),
                () = tokio::time::sleep_until(deadline) => return Err(self.not_ready()),
                // The interrupt is a flag: look at it a few times a second.
                () = tokio::time::sleep(READY_POLL) => continue,
            };
            self.note(&event);
            seen.push(event);
        }
        self.origin = Instant::now();
        Ok(seen)
    }

    /// The first client neither ready nor ended.
    fn waiting_for(&self) -> Option<usize> {
        self.ready.iter().enumerate().find_map(|(index, ready)| {
            let ended = self.exits.iter().any(|e| e.client as usize == index);
            (ready.is_none() && !ended).then_some(index)
        })
    }

    /// The error naming the first client that was not ready in time, with its last lines.
    fn not_ready(&self) -> RunError {
        let index = self.waiting_for().unwrap_or(0);
        let what = match self.program.events {
            EventSource::Stdout => "did not report {\"event\":\"ready\"} on its stdout",
            EventSource::None => "did not connect to the proxy",
        };
        let tail = self.fleet.output(index as u32).map(server::tail).unwrap_or_default();
        RunError::Program(format!(
            "client {index} {what} within {} (clients.ready_timeout){tail}",
            crate::units::format_duration(self.program.ready_timeout)
        ))
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
