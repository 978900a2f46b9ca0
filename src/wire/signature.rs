//! Signed handshakes (`server.auth.hmac`): what a client puts in its upgrade URL, how the echo
//! server checks it, and the server's current secret, which `revoke_credentials` changes
//! mid-run. Client, server and proxy share these definitions, so the format lives only here
//! (docs/echo-server.md, "Signed handshakes", spells it out for a client of your own).
//!
//! The upgrade URL's query carries four parameters:
//! `wschaos_ts` (milliseconds on the run's clock), `wschaos_client` (the client index),
//! `wschaos_session` (the session id) and `wschaos_sig`, the lowercase hex HMAC-SHA256, keyed
//! by the secret, of `"{ts}\n{client}\n{session}"`.
//!
//! The run's clock is [`EPOCH_MS`] plus the time since the server started, read from tokio's
//! clock: never the wall clock, so a sim run signs and checks the same numbers every time.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::time::Instant;

/// The run clock's reading when the server starts: 2023-11-14T22:13:20Z in Unix milliseconds,
/// a fixed, plausible "now" so that signed timestamps look like real ones.
pub const EPOCH_MS: u64 = 1_700_000_000_000;

/// The query parameter with the signing time, in milliseconds on the run's clock.
pub const TS_PARAM: &str = "wschaos_ts";
/// The query parameter with the client index (the same one `clients.identity: query` uses).
pub const CLIENT_PARAM: &str = "wschaos_client";
/// The query parameter with the session id.
pub const SESSION_PARAM: &str = "wschaos_session";
/// The query parameter with the signature.
pub const SIG_PARAM: &str = "wschaos_sig";

/// A shared secret. Its `Debug` never shows it, so no report, log or error can leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// A secret from its text.
    pub fn new(text: &str) -> Secret {
        Secret(Arc::from(text))
    }

    /// The key bytes.
    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What a client signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    /// Milliseconds on the run's clock.
    pub ts_ms: u64,
    /// The client index.
    pub client: u32,
    /// The session id.
    pub session: u64,
}

impl Claim {
    fn message(&self) -> String {
        format!("{}\n{}\n{}", self.ts_ms, self.client, self.session)
    }

    fn mac(&self, secret: &Secret) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes()).expect("HMAC takes a key of any length");
        mac.update(self.message().as_bytes());
        mac
    }

    /// The query string (without `?`) that carries this claim signed with `secret`.
    pub fn signed_query(&self, secret: &Secret) -> String {
        let sig: String =
            self.mac(secret).finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
        format!(
            "{TS_PARAM}={}&{CLIENT_PARAM}={}&{SESSION_PARAM}={}&{SIG_PARAM}={sig}",
            self.ts_ms, self.client, self.session
        )
    }
}

/// How old, or how far ahead, a signature may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// A signature older than this is stale.
    pub max_age: Duration,
    /// A signature this far ahead of the server's clock is still accepted.
    pub clock_skew: Duration,
}

/// Why a signed upgrade is refused (each is answered 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The query lacks one of the four parameters.
    Missing,
    /// A parameter is not a number, or the signature not hex.
    Malformed,
    /// The signature does not match the server's current secret (or there is none: revoked).
    WrongSignature,
    /// Signed longer ago than `max_age`.
    Stale,
    /// Signed further ahead than `clock_skew`.
    FromTheFuture,
}

impl Rejection {
    /// The answer's body, for a person.
    pub fn why(self) -> &'static str {
        match self {
            Rejection::Missing => "missing signature parameters",
            Rejection::Malformed => "malformed signature parameters",
            Rejection::WrongSignature => "wrong signature",
            Rejection::Stale => "signature expired",
            Rejection::FromTheFuture => "signature from the future",
        }
    }
}

/// Checks the query of an upgrade URL against `secret` (`None`: revoked, nothing verifies) at
/// `now_ms` on the run's clock. The signature is compared in constant time.
pub fn verify(
    query: Option<&str>,
    secret: Option<&Secret>,
    now_ms: u64,
    window: Window,
) -> Result<(), Rejection> {
    let param = |name: &str| {
        query?
            .split('&')
            .find_map(|pair| pair.split_once('=').filter(|(key, _)| *key == name).map(|(_, v)| v))
    };
    let (Some(ts), Some(client), Some(session), Some(sig)) =
        (param(TS_PARAM), param(CLIENT_PARAM), param(SESSION_PARAM), param(SIG_PARAM))
    else {
        return Err(Rejection::Missing);
    };
    let claim = match (ts.parse(), client.parse(), session.parse()) {
        (Ok(ts_ms), Ok(client), Ok(session)) => Claim { ts_ms, client, session },
        _ => return Err(Rejection::Malformed),
    };
    let sig = decode_hex(sig).ok_or(Rejection::Malformed)?;
    let secret = secret.ok_or(Rejection::WrongSignature)?;
    claim.mac(secret).verify_slice(&sig).map_err(|_| Rejection::WrongSignature)?;
    let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if claim.ts_ms > now_ms.saturating_add(millis(window.clock_skew)) {
        return Err(Rejection::FromTheFuture);
    }
    if now_ms.saturating_sub(claim.ts_ms) > millis(window.max_age) {
        return Err(Rejection::Stale);
    }
    Ok(())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The server's current secret and the run's clock, shared by the echo server (which checks),
/// the fault timeline (which revokes) and the reference clients (which sign, and re-read it
/// when they refresh).
#[derive(Clone, Debug)]
pub struct Credentials {
    current: Arc<Mutex<Option<Secret>>>,
    /// Where the run's clock reads [`EPOCH_MS`].
    origin: Instant,
}

impl Credentials {
    /// `secret`, with the run's clock starting now.
    pub fn new(secret: Secret) -> Credentials {
        Credentials { current: Arc::new(Mutex::new(Some(secret))), origin: Instant::now() }
    }

    /// The secret signatures must be made with now; `None` once revoked without a successor.
    pub fn current(&self) -> Option<Secret> {
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// From now on, signatures made with the current secret are refused; `rotate_to`, if any,
    /// becomes the secret.
    pub fn revoke(&self, rotate_to: Option<Secret>) {
        *self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = rotate_to;
    }

    /// Milliseconds on the run's clock.
    pub fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        EPOCH_MS.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests;
