//! `wschaos client`: one reference client against any server, printing every event, so people
//! can watch the reference behaviour (or a preset's) against their own server.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tokio::time::Instant;

use super::{ServeError, write_event};
use crate::client::{ClientConfig, ClientEvent, ClientEventKind, ClientSink, run, stop_signal};
use crate::net::Transport;
use crate::program::protocol;
use crate::scenario::strategy::Strategy;
use crate::scenario::{
    ClientHeartbeat, ClientStrategy, Delivery, NormalClose, OnUnauthorized, Workload, defaults,
};
use crate::tls::{self, TlsClient};

/// What the standalone client does.
pub struct ClientOptions {
    /// `ws://host:port/path` or `wss://…`.
    pub url: String,
    /// The strategy, with its preset settings.
    pub strategy: Strategy,
    /// Overrides the preset's heartbeat; `Some(None)` turns it off.
    pub heartbeat: Option<Option<ClientHeartbeat>>,
    /// Messages to send, if any.
    pub workload: Option<Workload>,
    /// The delivery guarantee.
    pub delivery: Delivery,
    /// The client index sent in `x-wschaos-client`.
    pub index: u32,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: Vec<String>,
    /// Extra upgrade-request headers, each checked by [`header`].
    pub headers: Vec<(String, String)>,
    /// Seed of the client's draws.
    pub seed: u64,
    /// Print the client event protocol instead of event lines.
    pub events: bool,
    /// For `wss://`: a PEM file of the CA certificates to trust (the only ones trusted).
    pub ca: Option<std::path::PathBuf>,
}

/// The host of a `ws://` or `wss://` URL (without its port), and whether it is `wss://`.
fn host_of(url: &str) -> Result<(&str, bool), String> {
    let (rest, secure) = match (url.strip_prefix("ws://"), url.strip_prefix("wss://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => return Err(format!("`{url}` is not a ws:// or wss:// URL")),
    };
    Ok((rest.split(['/', '?']).next().unwrap_or_default(), secure))
}

/// The socket address of a `ws://` or `wss://` URL (port 80 or 443 when it names none).
pub fn resolve(url: &str) -> Result<SocketAddr, String> {
    let (authority, secure) = host_of(url)?;
    let default_port = if secure { 443 } else { 80 };
    let with_port =
        if authority.contains(':') { authority.to_string() } else { format!("{authority}:{default_port}") };
    with_port
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve `{authority}`: {error}"))?
        .next()
        .ok_or_else(|| format!("`{authority}` has no address"))
}

/// Headers the client writes itself, which `--header` may not set: the upgrade's own, the
/// subprotocol offer (`--subprotocol`), and the extension offer (the reference client speaks
/// no extension, so offering one would break the link).
const OWN_HEADERS: [&str; 7] = [
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

/// Reads a `--header` value, `Name: value`: a valid header name that is not one the client
/// writes itself, and a value a header can carry.
pub fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not a header; write it like `X-Team: blue`"))?;
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(format!("`{name}` is not a header name"));
    }
    if OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        let instead = match name.to_ascii_lowercase().as_str() {
            "sec-websocket-protocol" => "; use --subprotocol",
            _ => "",
        };
        return Err(format!("the client writes `{name}` itself{instead}"));
    }
    if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(format!("the value of `{name}` holds a control character"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Reads a `--subprotocol` value: an HTTP token (RFC 6455 §4.1 asks for one per protocol).
pub fn subprotocol(text: &str) -> Result<String, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(format!("`{text}` is not a subprotocol name (letters, digits and !#$%&'*+-.^_`|~)"));
    }
    Ok(text.to_string())
}

/// What a person reads for a client event: the event's own words, except where those carry a
/// Rust name (an I/O error kind, a drop reason) or quotes, which get plain words.
pub fn plain(kind: &ClientEventKind) -> String {
    use crate::client::{DropReason, Reason};
    let reason = |reason: &Reason| match reason {
        Reason::ConnectFailed(kind) => format!("connect failed: {kind}"),
        Reason::HandshakeRejected(status) => format!("the server answered the upgrade with HTTP {status}"),
        Reason::CloseFrame(code) => format!("Close frame {code}"),
        Reason::Reported { code, text } => {
            let code = code.map(|code| format!(" {code}")).unwrap_or_default();
            let text = text.as_ref().map(|text| format!(": {text}")).unwrap_or_default();
            format!("closed{code}{text}")
        }
        other => other.to_string().replace('_', " "),
    };
    match kind {
        ClientEventKind::AttemptFailed { n, reason: why } => format!("attempt {n} failed: {}", reason(why)),
        ClientEventKind::Detected(why) => format!("detected: {}", reason(why)),
        ClientEventKind::Dropped { seq, why } => {
            let why = match why {
                DropReason::NotOpen => "not connected",
                DropReason::OutboxFull => "the outbox is full",
                DropReason::WriteFailed => "the write failed",
            };
            format!("message {seq} dropped: {why}")
        }
        ClientEventKind::State(state) => format!("state {}", state.to_string().replace('_', " ")),
        other => other.to_string(),
    }
}

/// The reference client's settings for `options`, connecting to `addr`.
fn config(options: ClientOptions, addr: SocketAddr) -> ClientConfig {
    let mut settings = options.strategy.defaults;
    if let Some(heartbeat) = options.heartbeat {
        settings.heartbeat = heartbeat;
    }
    ClientConfig {
        index: options.index,
        addr,
        url: options.url,
        strategy: ClientStrategy { strategy: options.strategy, settings },
        workload: options.workload,
        delivery: options.delivery,
        outbox: defaults::OUTBOX as usize,
        permanent_close_codes: defaults::PERMANENT_CLOSE_CODES.to_vec(),
        normal_close: NormalClose::Reconnect,
        credentials: None,
        on_unauthorized: OnUnauthorized::Stop,
        token: options.token,
        subprotocols: options.subprotocols,
        headers: options.headers,
        start_spread: Duration::ZERO,
        workload_until: None,
        seed: options.seed,
        tls: None,
    }
}

/// The TLS side of a `wss://` client: trust exactly the CAs of `--ca`, and ask for the URL's
/// host. `None` for `ws://`.
fn tls_for(url: &str, ca: Option<&std::path::Path>) -> Result<Option<TlsClient>, String> {
    let (authority, secure) = host_of(url)?;
    if !secure {
        return Ok(None);
    }
    let Some(ca) = ca else {
        return Err("wss:// needs --ca FILE: the CA certificate(s) to trust, in PEM (wschaos trusts \
                    no system roots)"
            .to_string());
    };
    let roots = tls::read_ca_file(ca).map_err(|error| format!("--ca {}: {error}", ca.display()))?;
    let config = tls::client_config(&roots).map_err(|error| format!("--ca {}: {error}", ca.display()))?;
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    TlsClient::new(std::sync::Arc::new(config), host).map(Some).map_err(|error| error.to_string())
}

/// Prints each client event (as an event line, or as a protocol line with `events_only`) and,
/// at the end, the counts; a write that fails is sent to `failed` and ends the printing.
async fn print_events(
    mut events: tokio::sync::mpsc::UnboundedReceiver<ClientEvent>,
    mut out: impl Write + Send + 'static,
    origin: Instant,
    events_only: bool,
    failed: tokio::sync::oneshot::Sender<std::io::Error>,
) -> Result<(), ServeError> {
    let (mut offered, mut echoed, mut duplicates, mut attempts) = (0u64, 0u64, 0u64, 0u64);
    while let Some(event) = events.recv().await {
        match event.kind {
            ClientEventKind::Offered { .. } => offered += 1,
            ClientEventKind::Echoed { .. } => echoed += 1,
            ClientEventKind::Duplicate { .. } => duplicates += 1,
            ClientEventKind::Attempt { .. } => attempts += 1,
            _ => {}
        }
        let written = if events_only {
            match protocol::line(&event.kind) {
                Some(line) => writeln!(out, "{line}").and_then(|()| out.flush()),
                None => Ok(()),
            }
        } else {
            write_event(&mut out, event.at.saturating_duration_since(origin), plain(&event.kind))
        };
        if let Err(error) = written {
            let _ = failed.send(error);
            return Ok(());
        }
    }
    if events_only {
        return Ok(());
    }
    writeln!(
        out,
        "attempts {attempts}, messages offered {offered}, echoed {echoed}, not echoed {}, duplicates {duplicates}",
        offered.saturating_sub(echoed)
    )
    .and_then(|()| out.flush())
    .map_err(ServeError::at_the_end)
}

/// Runs the client until `shutdown` (or until it gives up, or `out` cannot be written); prints
/// one line per event (time since start, event) and a summary line at the end.
pub async fn serve(
    options: ClientOptions,
    mut out: impl Write + Send + 'static,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let addr = resolve(&options.url).map_err(|message| {
        ServeError::Network(std::io::Error::new(std::io::ErrorKind::InvalidInput, message))
    })?;
    let tls = tls_for(&options.url, options.ca.as_deref()).map_err(|message| {
        ServeError::Network(std::io::Error::new(std::io::ErrorKind::InvalidInput, message))
    })?;
    let events_only = options.events;
    let url = options.url.clone();
    let config = ClientConfig { tls, ..config(options, addr) };
    let first = if events_only {
        protocol::line(&ClientEventKind::Ready).unwrap_or_default()
    } else {
        format!("connecting to {url} ({addr}) with {}", config.strategy.strategy.describe())
    };
    writeln!(out, "{first}").and_then(|()| out.flush()).map_err(ServeError::cut_short)?;
    let (sink, events) = ClientSink::channel();
    let (stop, stopped) = stop_signal();
    let origin = Instant::now();
    let client = tokio::spawn(run(config, Transport::Live, sink, stopped, origin));
    let (failed, printer_failed) = tokio::sync::oneshot::channel();
    let printer = tokio::spawn(print_events(events, out, origin, events_only, failed));
    tokio::pin!(client);
    let (cut, client_ended) = tokio::select! {
        biased;
        () = shutdown => (None, false),
        // A printer that ends without an error (the client ended) disables this branch.
        Ok(error) = printer_failed => (Some(error), false),
        _ = &mut client => (None, true),
    };
    if !client_ended {
        let _ = stop.send(true);
        let _ = (&mut client).await;
    }
    let printed = printer.await.unwrap_or(Ok(()));
    match cut {
        Some(error) => Err(ServeError::cut_short(error)),
        None => printed,
    }
}
