//! The `tls_bad_certificate` fault's side of the proxy: it answers an arriving connection's TLS
//! handshake itself with a bad certificate, as a man in the middle would, and reports what the
//! client did: refuse (a correct client), or accept and send its upgrade request to the
//! impostor, whose bytes and credentials are counted and never forwarded.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::AsyncReadExt;

use super::control::Control;
use super::events::EventKind;
use crate::fault::FaultId;
use crate::net::Stream;
use crate::tls::{BadCertificate, RunCertificates};
use crate::wire::HANDSHAKE_TIMEOUT;

/// How long the impostor listens to a client that accepted its certificate: long enough for
/// the upgrade request, which a client sends at once.
const LISTEN_FOR: Duration = Duration::from_secs(2);

/// At most this many bytes are read from a client that accepted the impostor.
const LISTEN_AT_MOST: usize = 64 * 1024;

/// The bad certificates' server configs, made once per kind from the run's certificates (or,
/// for a proxy without them, from certificates of its own: any CA but the client's is bad).
#[derive(Debug, Default)]
pub struct Impostors {
    inner: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    certs: Option<Arc<RunCertificates>>,
    configs: BTreeMap<BadCertificate, Arc<ServerConfig>>,
}

impl Impostors {
    /// Makes the bad certificates from `certs` (the run's CA signs the expired and wrong-host
    /// ones, so only their flaw fails them).
    pub fn set_certificates(&self, certs: Arc<RunCertificates>) {
        let mut store = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        store.certs = Some(certs);
        store.configs.clear();
    }

    /// The server config presenting a certificate that fails as `kind`.
    fn config(&self, kind: BadCertificate) -> io::Result<Arc<ServerConfig>> {
        let mut store = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(config) = store.configs.get(&kind) {
            return Ok(config.clone());
        }
        let certs = match &store.certs {
            Some(certs) => certs.clone(),
            None => {
                let certs = Arc::new(RunCertificates::generate()?);
                store.certs = Some(certs.clone());
                certs
            }
        };
        let config = certs.bad_server(kind)?;
        store.configs.insert(kind, config.clone());
        Ok(config)
    }
}

/// What the client sent the impostor, if it accepted it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Taken {
    /// Application bytes (decrypted) the client sent.
    pub bytes: u64,
    /// Whether they carried credentials: an `Authorization` header, a signed URL, a token.
    pub credentials: bool,
}

/// Whether `bytes` (an upgrade request, or anything a client sends first) carry credentials.
pub fn carries_credentials(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    ["authorization:", "wschaos_sig=", "cookie:", "token="].iter().any(|mark| text.contains(mark))
}

/// Plays the man in the middle on `client` with a certificate failing as `kind`, then reports
/// it as `fault`'s event. The connection is never forwarded.
pub async fn impersonate(client: Stream, kind: BadCertificate, fault: FaultId, control: &Control) {
    let (accepted, taken) = match control.impostors().config(kind) {
        Ok(config) => answer(client, config).await,
        Err(error) => {
            tracing::warn!(%error, "tls_bad_certificate: cannot make the certificate");
            (false, Taken::default())
        }
    };
    control.events().emit(EventKind::Impersonated {
        fault,
        accepted,
        bytes: taken.bytes,
        credentials: taken.credentials,
    });
}

/// The TLS handshake with the bad certificate; if the client completes it, what it sends.
async fn answer(client: Stream, config: Arc<ServerConfig>) -> (bool, Taken) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let mut stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(client)).await {
        Ok(Ok(stream)) => stream,
        // Refused (the client's alert), left, or never finished: nothing was sent.
        _ => return (false, Taken::default()),
    };
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + LISTEN_FOR;
    while seen.len() < LISTEN_AT_MOST {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => seen.extend_from_slice(&buffer[..read]),
            _ => break,
        }
    }
    Stream::from(stream).reset();
    (true, Taken { bytes: seen.len() as u64, credentials: carries_credentials(&seen) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_recognised_in_any_case() {
        assert!(carries_credentials(b"GET / HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n"));
        assert!(carries_credentials(b"GET /?wschaos_ts=1&wschaos_sig=ab HTTP/1.1\r\n\r\n"));
        assert!(!carries_credentials(b"GET / HTTP/1.1\r\nHost: c1.wschaos.test\r\n\r\n"));
        assert!(!carries_credentials(&[0xff, 0x00, 0x16]));
    }
}
