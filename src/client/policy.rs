//! The reconnect policy: after a failed attempt or a broken connection, wait how long, or give
//! up. Pure: it sees reasons, uptimes and the seeded backoff, never a socket or a clock.
//!
//! Reason-aware rules (docs/reference-client.md): 401/403 and close codes listed as permanent stop the
//! client; `Retry-After` on 429/503 and close 1013 put a floor under the next delay; a normal
//! close (1000/1001) reconnects or stops as configured. The backoff starts over by the
//! configured rule, and `max_attempts` failed attempts since the last reset end the run.

use std::time::Duration;

use super::backoff::BackoffState;
use super::events::{GiveUp, Reason};
use crate::scenario::strategy::Quirks;
use crate::scenario::{BackoffReset, ClientSettings, CodeRange, NormalClose, OnUnauthorized};

/// The floor after close 1013 ("try again later") when its reason names no duration: the
/// delay a server that sends 1013 most plausibly wants, and long enough to matter in a herd.
pub const TRY_AGAIN_LATER_FLOOR: Duration = Duration::from_secs(5);

/// What the client does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Wait, then attempt again.
    Retry {
        /// The wait.
        delay: Duration,
        /// The server-imposed floor that applied, if any.
        floor: Option<Duration>,
    },
    /// Stop.
    GiveUp(GiveUp),
}

/// A client's reconnect policy and backoff state.
#[derive(Debug)]
pub struct Policy {
    settings: ClientSettings,
    quirks: Quirks,
    permanent: Vec<CodeRange>,
    normal_close: NormalClose,
    backoff: BackoffState,
    /// Whether any connection has opened yet.
    ever_opened: bool,
    /// Attempts that failed since the last reset.
    failed_since_reset: u32,
    /// What a 401 does.
    on_unauthorized: OnUnauthorized,
}

impl Policy {
    /// A policy for one client.
    pub fn new(
        settings: ClientSettings,
        quirks: Quirks,
        permanent: Vec<CodeRange>,
        normal_close: NormalClose,
        backoff: BackoffState,
    ) -> Policy {
        Policy {
            settings,
            quirks,
            permanent,
            normal_close,
            backoff,
            ever_opened: false,
            failed_since_reset: 0,
            on_unauthorized: OnUnauthorized::default(),
        }
    }

    /// The policy with `on_unauthorized` as its reaction to a 401.
    pub fn with_on_unauthorized(mut self, on_unauthorized: OnUnauthorized) -> Policy {
        self.on_unauthorized = on_unauthorized;
        self
    }

    /// Whether the client re-reads the server's credentials after a failed attempt: after a
    /// 401, under `on_unauthorized: refresh`.
    pub fn refreshes_after(&self, reason: &Reason) -> bool {
        *reason == Reason::HandshakeRejected(401) && self.on_unauthorized == OnUnauthorized::Refresh
    }

    /// A handshake completed. Returns whether the backoff started over.
    pub fn on_open(&mut self) -> bool {
        self.ever_opened = true;
        self.reset_if(self.settings.backoff_reset == BackoffReset::OnOpen)
    }

    /// The first echo arrived on the current connection. Returns whether the backoff started over.
    pub fn on_first_echo(&mut self) -> bool {
        self.reset_if(self.settings.backoff_reset == BackoffReset::OnFirstEcho)
    }

    /// An attempt failed before the connection opened.
    pub fn after_failed_attempt(&mut self, reason: &Reason, retry_after: Option<Duration>) -> Next {
        let permanent = match reason {
            Reason::HandshakeRejected(403) => true,
            Reason::HandshakeRejected(401) => self.on_unauthorized == OnUnauthorized::Stop,
            _ => false,
        };
        if permanent {
            return Next::GiveUp(GiveUp::Permanent(reason.clone()));
        }
        if !self.ever_opened && self.quirks.give_up_if_first_connect_fails {
            return Next::GiveUp(GiveUp::FirstConnectFailed(reason.clone()));
        }
        self.failed_since_reset += 1;
        if let Some(limit) = self.settings.max_attempts
            && self.failed_since_reset >= limit
        {
            return Next::GiveUp(GiveUp::MaxAttempts(limit));
        }
        let floor = match reason {
            Reason::HandshakeRejected(429 | 503) => retry_after,
            _ => None,
        };
        self.backed_off(floor)
    }

    /// The open connection broke after `uptime`; `close_reason` is the Close frame's text.
    pub fn after_break(&mut self, reason: &Reason, uptime: Duration, close_reason: &str) -> Next {
        if let Reason::CloseFrame(code) = reason {
            if self.permanent.iter().any(|range| range.contains(*code)) {
                return Next::GiveUp(GiveUp::Permanent(reason.clone()));
            }
            if matches!(code, 1000 | 1001) && self.normal_close == NormalClose::GiveUp {
                return Next::GiveUp(GiveUp::NormalClose(*code));
            }
        }
        if let BackoffReset::AfterUptime(needed) = self.settings.backoff_reset {
            self.reset_if(uptime >= needed);
        }
        if self.quirks.no_backoff_after_open {
            // Python websockets backs off only failed handshakes: a close after an open
            // connection goes straight back to connecting, with the backoff started over.
            self.backoff.reset();
            self.failed_since_reset = 0;
            return Next::Retry { delay: Duration::ZERO, floor: None };
        }
        let floor = match reason {
            Reason::CloseFrame(1013) => Some(parse_floor(close_reason).unwrap_or(TRY_AGAIN_LATER_FLOOR)),
            _ => None,
        };
        self.backed_off(floor)
    }

    /// Attempts that failed since the backoff last started over.
    pub fn failed_since_reset(&self) -> u32 {
        self.failed_since_reset
    }

    fn backed_off(&mut self, floor: Option<Duration>) -> Next {
        match self.backoff.next_delay() {
            Some(delay) => Next::Retry { delay: floor.map_or(delay, |floor| delay.max(floor)), floor },
            None => Next::GiveUp(GiveUp::StrategyExhausted),
        }
    }

    fn reset_if(&mut self, condition: bool) -> bool {
        if condition {
            self.backoff.reset();
            self.failed_since_reset = 0;
        }
        condition
    }
}

/// A floor named in a close reason such as `retry in 30s` or just `30`: the last word that
/// parses as a duration, or as whole seconds.
fn parse_floor(reason: &str) -> Option<Duration> {
    reason.split_whitespace().rev().find_map(|word| {
        crate::units::parse_duration(word).ok().or_else(|| word.parse::<u64>().ok().map(Duration::from_secs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::presets::preset;
    use crate::scenario::strategy::{Backoff, Strategy, WSCHAOS_DEFAULTS};
    use crate::seeds;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn policy_for(strategy: &Strategy, settings: ClientSettings) -> Policy {
        let backoff = BackoffState::new(strategy, seeds::derive(1, &[seeds::CLIENT, 0])).unwrap();
        Policy::new(
            settings,
            strategy.quirks,
            vec![CodeRange { first: 1008, last: 1008 }],
            NormalClose::Reconnect,
            backoff,
        )
    }

    fn fixed(delay: Duration) -> Strategy {
        Strategy {
            name: "fixed".into(),
            backoff: Backoff::Fixed { delay },
            quirks: Quirks::default(),
            defaults: WSCHAOS_DEFAULTS,
            source: None,
        }
    }

    #[test]
    fn auth_failures_and_permanent_codes_give_up_at_once() {
        let mut policy = policy_for(&fixed(S(1)), WSCHAOS_DEFAULTS);
        for status in [401, 403] {
            let reason = Reason::HandshakeRejected(status);
            assert_eq!(policy.after_failed_attempt(&reason, None), Next::GiveUp(GiveUp::Permanent(reason)));
        }
        let close = Reason::CloseFrame(1008);
        assert_eq!(policy.after_break(&close, S(1), ""), Next::GiveUp(GiveUp::Permanent(close)));
        let retry = policy.after_break(&Reason::CloseFrame(1011), S(1), "");
        assert_eq!(retry, Next::Retry { delay: S(1), floor: None }, "1011 is not permanent by default");
    }

    #[test]
    fn a_401_stops_retries_or_refreshes_as_configured() {
        let unauthorized = Reason::HandshakeRejected(401);
        let forbidden = Reason::HandshakeRejected(403);
        let busy = Reason::HandshakeRejected(503);
        let retry = Next::Retry { delay: S(1), floor: None };
        let give_up = |reason: &Reason| Next::GiveUp(GiveUp::Permanent(reason.clone()));
        // (setting, reason, next, refreshes)
        let cases = [
            (OnUnauthorized::Stop, &unauthorized, give_up(&unauthorized), false),
            (OnUnauthorized::Retry, &unauthorized, retry.clone(), false),
            (OnUnauthorized::Refresh, &unauthorized, retry.clone(), true),
            (OnUnauthorized::Retry, &forbidden, give_up(&forbidden), false),
            (OnUnauthorized::Refresh, &forbidden, give_up(&forbidden), false),
            (OnUnauthorized::Refresh, &busy, retry.clone(), false),
        ];
        for (setting, reason, next, refreshes) in cases {
            let mut policy = policy_for(&fixed(S(1)), WSCHAOS_DEFAULTS).with_on_unauthorized(setting);
            assert_eq!(policy.refreshes_after(reason), refreshes, "{setting:?} {reason:?}");
            assert_eq!(policy.after_failed_attempt(reason, None), next, "{setting:?} {reason:?}");
        }
        let mut default = policy_for(&fixed(S(1)), WSCHAOS_DEFAULTS);
        assert_eq!(
            default.after_failed_attempt(&unauthorized, None),
            give_up(&unauthorized),
            "stop by default"
        );
    }

    #[test]
    fn retry_after_and_1013_floor_the_next_delay() {
        let mut policy = policy_for(&fixed(S(1)), WSCHAOS_DEFAULTS);
        let busy = Reason::HandshakeRejected(503);
        assert_eq!(
            policy.after_failed_attempt(&busy, Some(S(5))),
            Next::Retry { delay: S(5), floor: Some(S(5)) }
        );
        assert_eq!(policy.after_failed_attempt(&busy, None), Next::Retry { delay: S(1), floor: None });
        let late = Reason::CloseFrame(1013);
        assert_eq!(
            policy.after_break(&late, S(1), "retry in 30s"),
            Next::Retry { delay: S(30), floor: Some(S(30)) }
        );
        assert_eq!(
            policy.after_break(&late, S(1), "overloaded"),
            Next::Retry { delay: TRY_AGAIN_LATER_FLOOR, floor: Some(TRY_AGAIN_LATER_FLOOR) }
        );
        let small =
            policy.after_failed_attempt(&Reason::HandshakeRejected(429), Some(Duration::from_millis(10)));
        assert_eq!(
            small,
            Next::Retry { delay: S(1), floor: Some(Duration::from_millis(10)) },
            "a floor never lowers"
        );
    }

    #[test]
    fn normal_close_follows_the_configuration() {
        let backoff = BackoffState::new(&fixed(S(1)), seeds::derive(1, &[])).unwrap();
        let mut stop = Policy::new(WSCHAOS_DEFAULTS, Quirks::default(), vec![], NormalClose::GiveUp, backoff);
        assert_eq!(
            stop.after_break(&Reason::CloseFrame(1001), S(1), ""),
            Next::GiveUp(GiveUp::NormalClose(1001))
        );
        let mut go_on = policy_for(&fixed(S(1)), WSCHAOS_DEFAULTS);
        assert!(matches!(go_on.after_break(&Reason::CloseFrame(1000), S(1), ""), Next::Retry { .. }));
    }

    #[test]
    fn max_attempts_counts_failures_since_the_last_reset() {
        let settings = ClientSettings { max_attempts: Some(3), ..WSCHAOS_DEFAULTS };
        let mut policy = policy_for(&fixed(S(1)), settings);
        let refused = Reason::ConnectFailed(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(policy.after_failed_attempt(&refused, None), Next::Retry { .. }));
        assert!(matches!(policy.after_failed_attempt(&refused, None), Next::Retry { .. }));
        assert!(policy.on_open(), "on_open resets");
        assert!(matches!(policy.after_failed_attempt(&refused, None), Next::Retry { .. }));
        assert!(matches!(policy.after_failed_attempt(&refused, None), Next::Retry { .. }));
        assert_eq!(policy.after_failed_attempt(&refused, None), Next::GiveUp(GiveUp::MaxAttempts(3)));
    }

    #[test]
    fn uptime_rule_resets_only_after_enough_uptime() {
        let settings = ClientSettings { backoff_reset: BackoffReset::AfterUptime(S(5)), ..WSCHAOS_DEFAULTS };
        let strategy = preset("aws-exponential").unwrap();
        let mut policy = policy_for(&strategy, settings);
        assert!(!policy.on_open());
        let first = policy.after_break(&Reason::Reset, S(1), "");
        let second = policy.after_break(&Reason::Reset, S(1), "");
        let third = policy.after_break(&Reason::Reset, S(6), "");
        let delay = |next: Next| match next {
            Next::Retry { delay, .. } => delay,
            other => panic!("{other:?}"),
        };
        assert!(delay(second.clone()) > delay(first.clone()), "short uptimes keep backing off");
        assert_eq!(delay(third), delay(first), "5 s of uptime starts over");
    }

    #[test]
    fn websockets_py_reconnects_at_once_after_an_open_connection_closes() {
        let strategy = preset("websockets-py").unwrap();
        let mut policy = policy_for(&strategy, strategy.defaults);
        assert!(policy.on_open());
        assert_eq!(
            policy.after_break(&Reason::CloseFrame(1000), S(0), ""),
            Next::Retry { delay: S(0), floor: None }
        );
        let failed = policy.after_failed_attempt(&Reason::HandshakeRejected(500), None);
        assert!(
            matches!(failed, Next::Retry { delay, .. } if delay <= S(5)),
            "failed handshakes back off: {failed:?}"
        );
    }

    #[test]
    fn stubborn_io_gives_up_when_the_first_connect_fails() {
        let strategy = preset("stubborn-io").unwrap();
        let mut policy = policy_for(&strategy, strategy.defaults);
        let refused = Reason::ConnectFailed(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            policy.after_failed_attempt(&refused, None),
            Next::GiveUp(GiveUp::FirstConnectFailed(refused))
        );
    }
}
