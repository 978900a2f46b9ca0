//! The clients of one strategy's run: the reference clients as tasks (over `wss://` when the
//! server speaks TLS), or the user's programs; and the run's CA written for programs to trust.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::RunError;
use super::programs::Programs;
use crate::client::{self, ClientConfig, ClientSink, State};
use crate::net::Transport;
use crate::net::accept::task_failure;
use crate::scenario::{ClientStrategy, Scenario};
use crate::stack::{HarnessError, Stack};
use crate::tls::RunCertificates;

/// The clients of a run.
pub(super) enum Clients {
    /// wschaos's reference clients, as tasks by index (`None` once one has ended and been
    /// checked), and the signal that stops them.
    Reference { stop: watch::Sender<bool>, tasks: Vec<Option<JoinHandle<State>>> },
    /// The user's client programs.
    Programs(Box<Programs>),
}

/// The reference clients of `strategy`, one task each, and the signal that stops them.
pub(super) fn spawn_reference_clients(
    scenario: &Scenario,
    strategy: &ClientStrategy,
    stack: &Stack,
    transport: &Transport,
    sink: &ClientSink,
    origin: Instant,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Clients, RunError> {
    let (stop, stopped) = client::stop_signal();
    let mut tasks = Vec::with_capacity(scenario.clients.count as usize);
    for index in 0..scenario.clients.count {
        let mut config = ClientConfig::from_scenario(scenario, strategy, index, stack.proxy_addr());
        if scenario.clients.sign {
            config.credentials = stack.credentials().cloned();
        }
        if let Some(tls) = &tls {
            config = config.over_tls(tls.clone()).map_err(tls_failure)?;
        }
        tasks.push(Some(tokio::spawn(client::run(
            config,
            transport.clone(),
            sink.clone(),
            stopped.clone(),
            origin,
        ))));
    }
    Ok(Clients::Reference { stop, tasks })
}

impl Clients {
    /// A reference client's task that panicked, as the harness's failure. Tasks that ended
    /// are taken out as they are found, whether they panicked or gave up (a client's normal
    /// end), so none is polled twice.
    pub(super) async fn failure(&mut self) -> Option<HarnessError> {
        let Clients::Reference { tasks, .. } = self else { return None };
        for (index, slot) in tasks.iter_mut().enumerate() {
            let Some(task) = slot.take_if(|task| task.is_finished()) else { continue };
            if let Err(error) = task.await
                && error.is_panic()
            {
                return Some(HarnessError::new(
                    format!("client {index}"),
                    format!("its task {}", task_failure(error)),
                ));
            }
        }
        None
    }
}

/// Writes the run's CA to `ca.pem` in the run's output folder (or a fresh temporary one), for
/// client programs to trust on `wss://`; returns its path.
pub(super) fn write_ca(certs: &RunCertificates, logs: Option<&PathBuf>) -> Result<PathBuf, RunError> {
    let dir = match logs {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("wschaos-ca-{}", std::process::id())),
    };
    certs.write_ca(&dir).map_err(tls_failure)
}

/// A failure of the run's TLS setup (its certificates, a client's config, the CA file): the
/// harness's own, never a client's.
pub(super) fn tls_failure(error: std::io::Error) -> RunError {
    RunError::Harness(HarnessError::new("TLS", error.to_string()))
}
