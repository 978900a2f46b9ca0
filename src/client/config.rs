//! What one reference client is given: where to connect, its strategy and settings, its
//! workload, and (for `wss://`) its TLS side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::scenario::{ClientStrategy, CodeRange, Delivery, NormalClose, OnUnauthorized, Scenario, Workload};
use crate::tls::{self, TlsClient};
use crate::wire::signature::Credentials;

/// Everything one client needs to run.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The client's index, from 0.
    pub index: u32,
    /// Where to connect: the proxy in a run, any server standalone.
    pub addr: SocketAddr,
    /// The upgrade request's URL.
    pub url: String,
    /// The strategy and the settings resolved for it.
    pub strategy: ClientStrategy,
    /// The messages to send, if any.
    pub workload: Option<Workload>,
    /// The delivery guarantee.
    pub delivery: Delivery,
    /// Outbox capacity, in messages.
    pub outbox: usize,
    /// Close codes after which the client gives up.
    pub permanent_close_codes: Vec<CodeRange>,
    /// What a 1000/1001 close does.
    pub normal_close: NormalClose,
    /// Bearer token for the handshake.
    pub token: Option<String>,
    /// The server's credentials to sign upgrades with (`server.auth.hmac`), if the client signs.
    pub credentials: Option<Credentials>,
    /// What a 401 answer does.
    pub on_unauthorized: OnUnauthorized,
    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference (none in a
    /// run: the echo server needs none).
    pub subprotocols: Vec<String>,
    /// Extra upgrade-request headers, name and value (`wschaos client --header`).
    pub headers: Vec<(String, String)>,
    /// Start offsets are drawn from [0, start_spread].
    pub start_spread: Duration,
    /// No message falls due after this time from the start of the run (the heal, in a run:
    /// the quiet period is for clients to converge, and messages still in flight at its end
    /// would otherwise count as lost). `None`: until stopped.
    pub workload_until: Option<Duration>,
    /// The run's seed.
    pub seed: u64,
    /// TLS for `wss://`, if the server speaks it.
    pub tls: Option<TlsClient>,
}

impl ClientConfig {
    /// Client `index` of `scenario` under its matrix entry `strategy`, connecting to `addr`.
    pub fn from_scenario(
        scenario: &Scenario,
        strategy: &ClientStrategy,
        index: u32,
        addr: SocketAddr,
    ) -> Self {
        let clients = &scenario.clients;
        ClientConfig {
            index,
            addr,
            url: format!("ws://{addr}/"),
            strategy: strategy.clone(),
            workload: clients.workload,
            delivery: clients.delivery,
            outbox: clients.outbox as usize,
            permanent_close_codes: clients.permanent_close_codes.clone(),
            normal_close: clients.normal_close,
            token: clients.auth_token.clone(),
            credentials: None,
            on_unauthorized: clients.on_unauthorized,
            subprotocols: Vec::new(),
            headers: Vec::new(),
            start_spread: clients.start_spread,
            workload_until: Some(scenario.duration),
            seed: scenario.seed,
            tls: None,
        }
    }

    /// The same client over `wss://`, trusting what `config` trusts: it asks for the server as
    /// `c<index>.wschaos.test` (the run's certificate covers it, and the proxy reads the name
    /// to tell clients apart) while connecting to the same address.
    pub fn over_tls(mut self, config: Arc<rustls::ClientConfig>) -> std::io::Result<ClientConfig> {
        let name = tls::client_name(self.index);
        self.url = format!("wss://{name}:{}/", self.addr.port());
        self.tls = Some(TlsClient::new(config, &name)?);
        Ok(self)
    }
}
