//! wss:// for a run: the certificates made for it, and the rustls configurations every part
//! (echo server, reference client, proxy) builds from them.
//!
//! - **One crypto provider, chosen here.** Every config is built with
//!   `builder_with_details(ring, time)`: rustls never looks for a process-level default, so
//!   nothing can panic because two providers were compiled in.
//! - **No wall clock.** Certificates are checked against [`RUN_DATE`], a fixed instant, through
//!   rustls's `TimeProvider`. The run's certificates are valid from 2020 to 2100, the expired
//!   one of the `tls_bad_certificate` fault ended in 2000, so the verdicts do not depend on the
//!   machine's date, and the sim engine stays deterministic.
//! - **No resumption.** Resumed and full handshakes differ in length and would depend on what
//!   an earlier connection left behind; every handshake here is a full one, the same bytes long
//!   for the same certificates (Ed25519 keys give certificates of a fixed length).
//! - **Who is who.** A client reaches the server as `c<index>.wschaos.test` ([`client_name`]),
//!   which the run's wildcard leaf covers: the name travels in clear in the ClientHello (SNI),
//!   so the proxy can tell clients apart when the upgrade headers are encrypted.

mod certs;

use std::io;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::NoServerSessionStorage;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

pub use certs::{BadCertificate, RunCertificates};

/// The domain under which clients are named; the run's leaf covers `*.wschaos.test`.
pub const DOMAIN: &str = "wschaos.test";

/// The instant TLS believes it is: 2026-01-01T00:00:00Z, in seconds since the epoch.
pub const RUN_DATE: u64 = 1_767_225_600;

/// The name client `index` sends in its ClientHello: `c7.wschaos.test`.
pub fn client_name(index: u32) -> String {
    format!("c{index}.{DOMAIN}")
}

/// The client a ClientHello's server name stands for: `c7.wschaos.test` is 7; any other name
/// (a user's own client naming its server) is nobody's.
pub fn client_of_name(name: &str) -> Option<u32> {
    let label = name.strip_suffix(DOMAIN)?.strip_suffix('.')?;
    let digits = label.strip_prefix('c')?;
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0') && digits != "0"
    {
        return None;
    }
    digits.parse().ok()
}

/// The fixed clock of [`RUN_DATE`].
#[derive(Debug)]
struct RunDate;

impl TimeProvider for RunDate {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(RUN_DATE)))
    }
}

/// ring, the one provider. rustls 0.23.48 marks ring's provider deprecated because it has no
/// post-quantum key exchange; that keeps the ClientHello at about 240 bytes rather than 1.2 KB,
/// which byte-counting faults (`limit`, `slice`) see, and halves the build time.
///
/// Key exchange: X25519 first, as browsers and most TLS stacks prefer. rustls 0.23.48 lists
/// P-384 first for ring, and ring's P-384 runs without hardware help here: it made a handshake
/// cost 3.3 ms instead of a few hundred microseconds (measured with `cargo bench --bench sim --
/// sim_connect`, perf showed 60 % of the time in P-384's Montgomery multiplication).
#[allow(deprecated, reason = "ring is chosen on purpose; see above")]
fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
    Arc::new(CryptoProvider {
        kx_groups: vec![X25519, SECP256R1, SECP384R1],
        ..rustls::crypto::ring::default_provider()
    })
}

fn config_error(error: rustls::Error) -> io::Error {
    io::Error::other(format!("TLS configuration: {error}"))
}

/// A server config presenting `chain` (leaf first) with `key`: no session tickets, no cache.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<ServerConfig> {
    let mut config = ServerConfig::builder_with_details(provider(), Arc::new(RunDate))
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(config_error)?;
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    Ok(config)
}

/// A client config that trusts exactly `roots`, without resumption.
pub fn client_config(roots: &[CertificateDer<'static>]) -> io::Result<ClientConfig> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).map_err(config_error)?;
    }
    let mut config = ClientConfig::builder_with_details(provider(), Arc::new(RunDate))
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    Ok(config)
}

/// The CA certificates of a PEM file (`wschaos client --ca FILE`), or an error naming it.
pub fn read_ca_file(path: &std::path::Path) -> io::Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path)?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    match certs {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(io::Error::new(io::ErrorKind::InvalidData, "no CERTIFICATE block in it")),
        Err(error) => {
            Err(io::Error::new(io::ErrorKind::InvalidData, format!("not PEM certificates: {error}")))
        }
    }
}

/// What a client needs to open TLS: its config and the name it asks for.
#[derive(Clone)]
pub struct TlsClient {
    /// The client's rustls config.
    pub connector: tokio_rustls::TlsConnector,
    /// The server name sent (SNI) and verified.
    pub name: ServerName<'static>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient").field("name", &self.name).finish_non_exhaustive()
    }
}

impl TlsClient {
    /// A client with `config` asking for `name` (a DNS name or an IP address).
    pub fn new(config: Arc<ClientConfig>, name: &str) -> io::Result<TlsClient> {
        let name = ServerName::try_from(name.to_string())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("not a server name: {name}")))?;
        Ok(TlsClient { connector: tokio_rustls::TlsConnector::from(config), name })
    }
}

/// Whether a failed TLS handshake was the client refusing the server's certificate (a bad
/// certificate, a man in the middle) rather than the connection breaking.
pub fn is_certificate_error(error: &io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|error| matches!(error, rustls::Error::InvalidCertificate(_)))
}

#[cfg(test)]
mod tests;
