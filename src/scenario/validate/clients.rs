//! The `clients:` settings every client shares: count, start spread, workload, delivery,
//! outbox, close codes and token, each checked against the run and the server. The settings
//! that depend on the strategy are in `settings`.

use std::time::Duration;

use super::Checker;
use crate::scenario::defaults;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::units::{self, format_duration};

/// The shared client settings, with a fallback for every bad value so checking carries on.
pub(super) fn clients(
    check: &mut Checker,
    spec: &ClientsSpec,
    server: &ServerConfig,
    duration: Duration,
    engine: Engine,
) -> ClientsConfig {
    if spec.count == 0 {
        check.error("clients.count", "at least one client is needed");
    }
    count_cap(check, spec.count, engine);
    let start_spread = start_spread(check, spec.start_spread.as_ref(), duration);
    let workload = spec.workload.as_ref().and_then(|w| workload(check, w));
    let delivery = delivery(check, spec);
    let outbox = outbox(check, spec.outbox, delivery);
    let (permanent_close_codes, normal_close) = close_codes(check, spec.close_codes.as_ref());
    let auth_token = auth_token(check, spec.auth.as_ref(), server);
    let sign = server.hmac.is_some()
        && match &spec.auth {
            None => true,
            Some(WordOr::Word(word)) => word == "server",
            Some(WordOr::Map(_)) => false,
        };
    let on_unauthorized = on_unauthorized(check, spec.on_unauthorized.as_deref());
    ClientsConfig {
        count: spec.count,
        start_spread,
        workload,
        delivery,
        outbox,
        permanent_close_codes,
        normal_close,
        auth_token,
        sign,
        on_unauthorized,
    }
}

/// `clients.on_unauthorized`: `stop` (the default), `retry` or `refresh`.
fn on_unauthorized(check: &mut Checker, word: Option<&str>) -> OnUnauthorized {
    match word {
        None | Some("stop") => OnUnauthorized::Stop,
        Some("retry") => OnUnauthorized::Retry,
        Some("refresh") => OnUnauthorized::Refresh,
        Some(other) => {
            check.report(
                crate::scenario::error::Diagnostic::at(
                    "clients.on_unauthorized",
                    format!("`{other}` is not valid here; expected `stop`, `retry` or `refresh`"),
                )
                .maybe_help(crate::suggest::did_you_mean(other, ["stop", "retry", "refresh"])),
            );
            OnUnauthorized::Stop
        }
    }
}

/// The engine's cap on clients (see `defaults`), so a run too big for any machine is refused
/// before it starts rather than aborting half-way.
fn count_cap(check: &mut Checker, count: u32, engine: Engine) {
    let (cap, why) = match engine {
        Engine::Sim => (defaults::MAX_CLIENTS_SIM, "about 40 KiB of memory each"),
        Engine::Live => (
            defaults::MAX_CLIENTS_LIVE,
            "4 file descriptors and 2 loopback connections each; for more, use the sim engine",
        ),
    };
    if count > cap {
        check.error(
            "clients.count",
            format!("{count} clients is more than the {} engine runs: at most {cap} ({why})", engine.name()),
        );
    }
}

/// The window connect times are spread over (0s by default), which must end within the run.
fn start_spread(check: &mut Checker, spec: Option<&DurationText>, duration: Duration) -> Duration {
    let start_spread = spec.and_then(|t| check.duration("clients.start_spread", t)).unwrap_or_default();
    if start_spread > duration {
        check.error(
            "clients.start_spread",
            format!(
                "clients would still be starting after the faults end: start_spread {} is longer than duration {}",
                format_duration(start_spread),
                format_duration(duration)
            ),
        );
    }
    start_spread
}

/// The workload's rate and message size, the size between the header and the frame limit.
fn workload(check: &mut Checker, spec: &WorkloadSpec) -> Option<Workload> {
    // Both are parsed before either can end the check, so both get reported.
    let rate = check.parse("clients.workload.rate", &spec.rate.0, units::parse_rate);
    let size = match &spec.size {
        Some(text) => check.parse("clients.workload.size", &text.0, units::parse_size),
        None => Some(defaults::MESSAGE_SIZE_BYTES),
    };
    if size
        .is_some_and(|size| size < crate::wire::HEADER_LEN as u64 || size > defaults::MAX_MESSAGE_SIZE_BYTES)
    {
        check.error(
            "clients.workload.size",
            format!(
                "a message is between {}B (its header: client, sequence number, send time) and 16MiB (tungstenite's frame limit)",
                crate::wire::HEADER_LEN
            ),
        );
    }
    Some(Workload { rate: rate?, size_bytes: size? })
}

/// The delivery guarantee (at least once by default), which only a workload gives meaning to.
fn delivery(check: &mut Checker, spec: &ClientsSpec) -> Delivery {
    let delivery = match spec.delivery {
        Some(DeliverySpec::AtMostOnce) => Delivery::AtMostOnce,
        Some(DeliverySpec::Buffered) => Delivery::Buffered,
        Some(DeliverySpec::AtLeastOnce) | None => Delivery::AtLeastOnce,
        Some(DeliverySpec::ExactlyOnce) => Delivery::ExactlyOnce,
    };
    if spec.delivery.is_some() && spec.workload.is_none() {
        check.error(
            "clients.delivery",
            "delivery has no effect without a workload; add `clients.workload` or remove it",
        );
    }
    delivery
}

/// The outbox capacity: at least one message, and set only under a guarantee that keeps one.
fn outbox(check: &mut Checker, spec: Option<u32>, delivery: Delivery) -> u32 {
    match spec {
        Some(0) => {
            check.error("clients.outbox", "the outbox must hold at least one message");
            defaults::OUTBOX
        }
        Some(size) => {
            if delivery == Delivery::AtMostOnce {
                check.error(
                    "clients.outbox",
                    "at_most_once keeps no outbox; remove `outbox` or change `delivery`",
                );
            }
            size
        }
        None => defaults::OUTBOX,
    }
}

/// The token the clients send: the server's by default, none, or their own.
fn auth_token(check: &mut Checker, spec: Option<&WordOr<AuthSpec>>, server: &ServerConfig) -> Option<String> {
    match spec {
        None => server.auth_token.clone(),
        Some(WordOr::Word(word)) => {
            check.word("clients.auth", word, &["server", "none"]);
            (word == "server").then(|| server.auth_token.clone()).flatten()
        }
        Some(WordOr::Map(auth)) => Some(auth.token.clone()),
    }
}

/// The close codes after which clients give up, and what a normal close does.
fn close_codes(check: &mut Checker, spec: Option<&CloseCodesSpec>) -> (Vec<CodeRange>, NormalClose) {
    let default_permanent = defaults::PERMANENT_CLOSE_CODES.to_vec();
    let Some(spec) = spec else {
        return (default_permanent, NormalClose::Reconnect);
    };
    let permanent = match &spec.permanent {
        None => default_permanent,
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, text)| {
                let path = format!("clients.close_codes.permanent[{i}]");
                check.parse(&path, &text.0, parse_code_range)
            })
            .collect(),
    };
    let normal = match spec.normal {
        Some(NormalCloseSpec::GiveUp) => NormalClose::GiveUp,
        Some(NormalCloseSpec::Reconnect) | None => NormalClose::Reconnect,
    };
    (permanent, normal)
}

/// Reads a close code (`1008`) or an inclusive range of them (`4000-4099`).
fn parse_code_range(text: &str) -> Result<CodeRange, String> {
    let number = |part: &str| -> Result<u16, String> {
        if part.trim().is_empty() {
            return Err(format!(
                "`{text}` is missing a code; write a code like `1008` or a range like `4000-4099`"
            ));
        }
        let code: u16 = part.trim().parse().map_err(|_| format!("`{}` is not a close code", part.trim()))?;
        if !(1000..=4999).contains(&code) {
            return Err(format!("close codes are 1000–4999; got {code}"));
        }
        Ok(code)
    };
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => {
            let code = number(text)?;
            (code, code)
        }
    };
    if last < first {
        return Err(format!("the range {first}-{last} is backwards"));
    }
    Ok(CodeRange { first, last })
}
