//! One fault entry: exactly one kind, and that kind's parameters.

use super::timeline::{target, timeline};
use std::time::Duration;

use super::{Checker, MAX_CLOSE_REASON};
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::scenario::values::{self, format_duration};

fn direction(spec: Option<DirectionSpec>) -> Direction {
    match spec {
        Some(DirectionSpec::Upstream) => Direction::Upstream,
        Some(DirectionSpec::Downstream) => Direction::Downstream,
        Some(DirectionSpec::Both) | None => Direction::Both,
    }
}

/// One fault entry: its kind, timeline and target.
pub(super) fn fault(
    check: &mut Checker,
    path: &str,
    spec: &FaultSpec,
    duration: Duration,
    client_count: u32,
) -> Option<FaultPlan> {
    let parsed = fault_kind(check, path, spec);
    // With bad parameters, the timing and target are still checked against the kind, so that
    // every problem of the entry is reported at once.
    let kind = parsed.clone().or_else(|| stand_in(kinds_set(spec).as_slice()))?;
    let timeline = timeline(check, path, spec, &kind, duration);
    let target = target(check, path, spec.target.as_ref(), &kind, client_count);
    Some(FaultPlan { fault: parsed?, timeline: timeline?, target: target? })
}

/// A fault of the one kind named, with placeholder parameters; only its kind-level traits
/// (instant, acts on new connections, …) are used.
fn stand_in(kinds: &[&str]) -> Option<Fault> {
    let both = Direction::Both;
    let zero = Duration::ZERO;
    Some(match kinds {
        ["stall"] => Fault::Stall { direction: both },
        ["blackhole"] => Fault::Blackhole { direction: both },
        ["latency"] => Fault::Latency { delay: zero, jitter: zero, direction: both },
        ["bandwidth"] => Fault::Bandwidth { bytes_per_second: 1.0, direction: both },
        ["slice"] => Fault::Slice { size_bytes: 1, delay: zero, direction: both },
        ["limit"] => Fault::Limit { bytes: 1, direction: both },
        ["handshake_delay"] => Fault::HandshakeDelay { delay: Default::default() },
        ["drop_frames"] => Fault::DropFrames { kinds: Vec::new(), direction: both, probability: 1.0 },
        ["close_frame"] => Fault::CloseFrame { code: 1000, reason: String::new() },
        ["reject_handshake"] => Fault::RejectHandshake { status: 503, retry_after: None },
        _ => return None,
    })
}

/// The names of the fault kinds set in `spec`, in catalogue order.
fn kinds_set(spec: &FaultSpec) -> Vec<&'static str> {
    [
        ("reset", spec.reset.is_some()),
        ("close", spec.close.is_some()),
        ("stall", spec.stall.is_some()),
        ("blackhole", spec.blackhole.is_some()),
        ("latency", spec.latency.is_some()),
        ("bandwidth", spec.bandwidth.is_some()),
        ("slice", spec.slice.is_some()),
        ("limit", spec.limit.is_some()),
        ("refuse", spec.refuse.is_some()),
        ("accept_hang", spec.accept_hang.is_some()),
        ("handshake_delay", spec.handshake_delay.is_some()),
        ("drop_frames", spec.drop_frames.is_some()),
        ("close_frame", spec.close_frame.is_some()),
        ("reject_handshake", spec.reject_handshake.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

fn fault_kind(check: &mut Checker, path: &str, spec: &FaultSpec) -> Option<Fault> {
    let kinds = kinds_set(spec);
    match kinds.as_slice() {
        [] => {
            check.report(
                Diagnostic::at(path, "this fault has no kind")
                    .help("add one of reset, close, stall, blackhole, latency, bandwidth, slice, limit, refuse, accept_hang, handshake_delay, drop_frames, close_frame, reject_handshake"),
            );
            return None;
        }
        [_] => {}
        [_, second, ..] => {
            check.report(
                Diagnostic::at(
                    format!("{path}.{second}"),
                    format!("one fault entry has one kind, but this one has {}", kinds.join(" and ")),
                )
                .help("split it into separate entries with the same timing")
                .on_key(),
            );
            return None;
        }
    }
    let p = |name: &str, field: &str| format!("{path}.{name}.{field}");
    let fault = if spec.reset.is_some() {
        Fault::Reset
    } else if spec.close.is_some() {
        Fault::Close
    } else if let Some(s) = &spec.stall {
        Fault::Stall { direction: direction(s.direction) }
    } else if let Some(s) = &spec.blackhole {
        Fault::Blackhole { direction: direction(s.direction) }
    } else if let Some(s) = &spec.latency {
        let delay = check.positive(&p("latency", "delay"), &s.delay)?;
        let jitter = match &s.jitter {
            Some(text) => check.duration(&p("latency", "jitter"), text)?,
            None => Duration::ZERO,
        };
        if jitter > delay {
            check.error(
                p("latency", "jitter"),
                format!(
                    "the jitter {} exceeds the delay {}, which would allow negative delays",
                    format_duration(jitter),
                    format_duration(delay)
                ),
            );
        }
        Fault::Latency { delay, jitter, direction: direction(s.direction) }
    } else if let Some(s) = &spec.bandwidth {
        let bytes_per_second = check.parse(&p("bandwidth", "rate"), &s.rate.0, values::parse_byte_rate)?;
        Fault::Bandwidth { bytes_per_second, direction: direction(s.direction) }
    } else if let Some(s) = &spec.slice {
        let size_bytes = check.parse(&p("slice", "size"), &s.size.0, values::parse_size)?;
        if size_bytes == 0 {
            check.error(p("slice", "size"), "a slice of 0B moves nothing; use at least 1B");
        }
        let delay = match &s.delay {
            Some(text) => check.duration(&p("slice", "delay"), text)?,
            None => Duration::ZERO,
        };
        Fault::Slice { size_bytes, delay, direction: direction(s.direction) }
    } else if let Some(s) = &spec.limit {
        let bytes = check.parse(&p("limit", "bytes"), &s.bytes.0, values::parse_size)?;
        if bytes == 0 {
            check.error(p("limit", "bytes"), "a limit of 0B closes links before any byte moves; use `close`");
        }
        Fault::Limit { bytes, direction: direction(s.direction) }
    } else if spec.refuse.is_some() {
        Fault::Refuse
    } else if spec.accept_hang.is_some() {
        Fault::AcceptHang
    } else if let Some(s) = &spec.handshake_delay {
        let delay = check.jittered(&p("handshake_delay", "delay"), &s.delay)?;
        if delay.base.is_zero() {
            check.error(p("handshake_delay", "delay"), "must be longer than 0s");
        }
        Fault::HandshakeDelay { delay }
    } else if let Some(s) = &spec.drop_frames {
        drop_frames(check, &format!("{path}.drop_frames"), s)?
    } else if let Some(s) = &spec.close_frame {
        close_frame(check, &format!("{path}.close_frame"), s)?
    } else if let Some(s) = &spec.reject_handshake {
        reject_handshake(check, &format!("{path}.reject_handshake"), s)?
    } else {
        unreachable!("kinds_set found exactly one kind")
    };
    Some(fault)
}

fn drop_frames(check: &mut Checker, path: &str, spec: &DropFramesParams) -> Option<Fault> {
    if spec.kinds.is_empty() {
        check.error(format!("{path}.kinds"), "list at least one frame kind: ping, pong, text, binary, close");
        return None;
    }
    let mut kinds: Vec<FrameKind> = spec
        .kinds
        .iter()
        .map(|k| match k {
            FrameKindSpec::Ping => FrameKind::Ping,
            FrameKindSpec::Pong => FrameKind::Pong,
            FrameKindSpec::Text => FrameKind::Text,
            FrameKindSpec::Binary => FrameKind::Binary,
            FrameKindSpec::Close => FrameKind::Close,
        })
        .collect();
    kinds.sort();
    if kinds.windows(2).any(|w| w[0] == w[1]) {
        check.error(format!("{path}.kinds"), "a frame kind is listed twice");
    }
    kinds.dedup();
    let probability = check.fraction(&format!("{path}.probability"), spec.probability.unwrap_or(1.0))?;
    Some(Fault::DropFrames { kinds, direction: direction(spec.direction), probability })
}

fn close_frame(check: &mut Checker, path: &str, spec: &CloseFrameParams) -> Option<Fault> {
    // RFC 6455 §7.4: 1005, 1006 and 1015 must never be sent in a Close frame; 1004 and
    // 1016–2999 are reserved; codes above 4999 do not exist.
    let code = spec.code;
    let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    if !sendable {
        check.error(
            format!("{path}.code"),
            format!("{code} cannot be sent in a Close frame; use 1000–1003, 1007–1014 or 3000–4999 (RFC 6455 §7.4)"),
        );
        return None;
    }
    let reason = spec.reason.clone().unwrap_or_default();
    if reason.len() > MAX_CLOSE_REASON {
        check.error(
            format!("{path}.reason"),
            format!("the reason is {} bytes; a Close frame has room for {MAX_CLOSE_REASON}", reason.len()),
        );
        return None;
    }
    Some(Fault::CloseFrame { code, reason })
}

fn reject_handshake(check: &mut Checker, path: &str, spec: &RejectHandshakeParams) -> Option<Fault> {
    let status = spec.status;
    if !(400..=599).contains(&status) {
        check.error(
            format!("{path}.status"),
            format!("{status} is not an HTTP error; use a 4xx or 5xx status"),
        );
        return None;
    }
    let retry_after = match &spec.retry_after {
        None => None,
        Some(text) => {
            let after = check.duration(&format!("{path}.retry_after"), text)?;
            if !matches!(status, 429 | 503) {
                check.report(
                    Diagnostic::at(
                        format!("{path}.retry_after"),
                        format!("Retry-After is sent with 429 and 503, not {status}"),
                    )
                    .on_key(),
                );
            }
            if after.subsec_nanos() != 0 || after.is_zero() {
                check.error(
                    format!("{path}.retry_after"),
                    "Retry-After is whole seconds, at least 1s (HTTP has no finer unit)",
                );
            }
            Some(after)
        }
    };
    Some(Fault::RejectHandshake { status, retry_after })
}
