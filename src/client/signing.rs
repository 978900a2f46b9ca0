//! Signed upgrades for the reference client (`server.auth.hmac`): the URL of each attempt,
//! signed with the secret the client holds at the run clock's current time, or the first
//! signed URL again under the `reuse_signed_url` quirk; and the refresh that `on_unauthorized:
//! refresh` does after a 401. The format is `wire::signature`'s.

use crate::wire::signature::{Claim, Credentials, Secret};

/// One client's signing state.
#[derive(Debug)]
pub struct Signer {
    /// The server's credentials: its clock, and its current secret for a refresh.
    credentials: Credentials,
    /// The secret this client signs with: the server's when the client started or last
    /// refreshed (`None` if it was revoked with no successor by then).
    secret: Option<Secret>,
    /// Sign once and reuse the URL (the `reuse_signed_url` quirk).
    reuse: bool,
    /// The URL signed at the first attempt, under `reuse`.
    reused: Option<String>,
}

impl Signer {
    /// A signer holding the server's current secret.
    pub fn new(credentials: Credentials, reuse: bool) -> Signer {
        let secret = credentials.current();
        Signer { credentials, secret, reuse, reused: None }
    }

    /// The upgrade URL of the next attempt: `base` with the signed query, or unchanged when
    /// the client holds no secret.
    pub fn url(&mut self, base: &str, client: u32, session: u64) -> String {
        if let Some(url) = &self.reused {
            return url.clone();
        }
        let Some(secret) = &self.secret else { return base.to_string() };
        let claim = Claim { ts_ms: self.credentials.now_ms(), client, session };
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}{}", claim.signed_query(secret));
        if self.reuse {
            self.reused = Some(url.clone());
        }
        url
    }

    /// Re-reads the server's current secret (a token-refresh call); the next URL is signed
    /// afresh with it, even under `reuse`.
    pub fn refresh(&mut self) {
        self.secret = self.credentials.current();
        self.reused = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::wire::signature::{EPOCH_MS, Window, verify};

    const WINDOW: Window = Window { max_age: Duration::from_secs(30), clock_skew: Duration::from_secs(2) };

    fn query(url: &str) -> Option<&str> {
        url.split_once('?').map(|(_, query)| query)
    }

    #[tokio::test(start_paused = true)]
    async fn re_signing_stays_fresh_and_reusing_goes_stale() {
        let credentials = Credentials::new(Secret::new("a-secret-of-16-bytes"));
        let mut fresh = Signer::new(credentials.clone(), false);
        let mut reusing = Signer::new(credentials.clone(), true);
        let first = reusing.url("ws://proxy/", 1, 7);
        assert!(first.starts_with(&format!("ws://proxy/?wschaos_ts={EPOCH_MS}&wschaos_client=1&")));
        tokio::time::sleep(Duration::from_secs(31)).await;
        let now = credentials.now_ms();
        let secret = credentials.current();
        assert_eq!(verify(query(&fresh.url("ws://proxy/", 0, 9)), secret.as_ref(), now, WINDOW), Ok(()));
        assert_eq!(reusing.url("ws://proxy/", 1, 7), first, "the quirk reuses the first URL");
        assert!(verify(query(&first), secret.as_ref(), now, WINDOW).is_err());
        reusing.refresh();
        assert_eq!(verify(query(&reusing.url("ws://proxy/", 1, 7)), secret.as_ref(), now, WINDOW), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_refresh_picks_up_a_rotated_secret() {
        let credentials = Credentials::new(Secret::new("a-secret-of-16-bytes"));
        let mut signer = Signer::new(credentials.clone(), false);
        credentials.revoke(Some(Secret::new("the-next-secret-16b")));
        let (now, current) = (credentials.now_ms(), credentials.current());
        let stale = signer.url("ws://proxy/", 0, 1);
        assert!(verify(query(&stale), current.as_ref(), now, WINDOW).is_err(), "still the old secret");
        signer.refresh();
        assert_eq!(verify(query(&signer.url("ws://proxy/", 0, 1)), current.as_ref(), now, WINDOW), Ok(()));
        credentials.revoke(None);
        signer.refresh();
        assert_eq!(signer.url("ws://proxy/", 0, 1), "ws://proxy/", "nothing to sign with");
    }
}
