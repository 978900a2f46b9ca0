//! The `server:` capacity rules (`backlog`, `handshakes`, `overload`, `contention`) checked
//! into a [`Capacity`]: every bad value and contradiction gets a located error.

use std::time::Duration;

use super::Checker;
use super::Diagnostic;
use crate::scenario::model::{Capacity, Overload, Shed};
use crate::scenario::spec::{OverloadSpec, ServerSpec};
use crate::units::{Jittered, Spread};

/// The capacity rules of the `server:` section; [`Capacity::default`] (none) where absent.
pub(super) fn capacity(check: &mut Checker, spec: &ServerSpec) -> Capacity {
    let backlog = spec.backlog.filter(|&backlog| {
        let ok = backlog > 0;
        if !ok {
            check.error(
                "server.backlog",
                "a backlog of 0 drops every connection; use at least 1, or remove `backlog` for no limit",
            );
        }
        ok
    });
    let mut capacity = Capacity { backlog, ..Capacity::default() };
    if let Some(handshakes) = &spec.handshakes {
        capacity.concurrent = handshakes.concurrent.filter(|&concurrent| {
            let ok = concurrent > 0;
            if !ok {
                check.error(
                    "server.handshakes.concurrent",
                    "0 upgrades at once serves nobody; use at least 1, or remove it for no limit",
                );
            }
            ok
        });
        capacity.service_time = check
            .jittered("server.handshakes.service_time", &handshakes.service_time)
            .unwrap_or(Jittered { base: Duration::ZERO, jitter: Duration::ZERO });
        capacity.service_spread =
            check.spread("server.handshakes.distribution", handshakes.distribution.as_deref());
    }
    if let Some(overload) = &spec.overload {
        capacity.overload = self::overload(check, overload, backlog);
    }
    capacity.contention = spec.contention.unwrap_or(false);
    if capacity.contention && capacity.service_time.base.is_zero() {
        check.report(
            Diagnostic::at(
                "server.contention",
                "contention needs a service time: an upgrade that takes no time never overlaps another",
            )
            .help("add `handshakes: { service_time: 10ms ± 2ms }`")
            .on_key(),
        );
    }
    capacity
}

/// `overload:`: a depth no deeper than the backlog, and exactly one way of answering.
fn overload(check: &mut Checker, spec: &OverloadSpec, backlog: Option<u32>) -> Option<Overload> {
    let path = "server.overload";
    if let Some(backlog) = backlog
        && spec.above >= backlog
    {
        check.error(
            format!("{path}.above"),
            format!(
                "shedding above {} waiting connections never happens with a backlog of {backlog}: \
                 the backlog drops them first; use a depth below the backlog",
                spec.above
            ),
        );
        return None;
    }
    let answer = match (spec.answer, spec.close) {
        (Some(_), Some(_)) => {
            check.error(path, "`answer` and `close` are two ways of shedding; keep one");
            return None;
        }
        (_, Some(code)) => {
            if spec.retry_after.is_some() {
                check.report(
                    Diagnostic::at(
                        format!("{path}.retry_after"),
                        "Retry-After goes with `answer`, not `close`",
                    )
                    .on_key(),
                );
            }
            // 1013 (try again later) and 1011/1012 are the codes RFC 6455 §7.4.1 and the IANA
            // registry give an overloaded or restarting server; 4000–4999 are private.
            if !matches!(code, 1011..=1013 | 4000..=4999) {
                check.error(
                    format!("{path}.close"),
                    format!("{code} is not a code for an overloaded server; use 1013 (try again later), 1011, 1012 or 4000–4999"),
                );
                return None;
            }
            Shed::Close(code)
        }
        (status, None) => {
            let code = status.unwrap_or(503);
            if !matches!(code, 429 | 503) {
                check.error(
                    format!("{path}.answer"),
                    format!("{code} is not an overload answer; use 503 (Service Unavailable) or 429 (Too Many Requests)"),
                );
                return None;
            }
            let retry_after = match &spec.retry_after {
                None => None,
                Some(text) => {
                    let after = check.duration(&format!("{path}.retry_after"), text)?;
                    if after.subsec_nanos() != 0 || after.is_zero() {
                        check.error(
                            format!("{path}.retry_after"),
                            "Retry-After is whole seconds, at least 1s (HTTP has no finer unit)",
                        );
                    }
                    Some(after)
                }
            };
            Shed::Status { code, retry_after }
        }
    };
    Some(Overload { above: spec.above, answer })
}

/// The longest one upgrade can take in service, for the connect-timeout check: the top of a
/// uniform spread, or three standard deviations above a normal one's mean (99.87 % of draws).
pub(super) fn longest_service(capacity: &Capacity) -> Duration {
    match capacity.service_spread {
        Spread::Uniform => capacity.service_time.max(),
        Spread::Normal => capacity.service_time.base + capacity.service_time.jitter * 3,
    }
}
