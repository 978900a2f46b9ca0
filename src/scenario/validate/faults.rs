//! One fault entry: exactly one kind, and that kind's parameters.

use std::time::Duration;

use super::Checker;
use super::target::target;
use super::timeline::timeline;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::suggest::did_you_mean;
use crate::tls::BadCertificate;
use crate::units::{self, format_duration};

/// A close reason fits a control frame: 125 bytes of payload less the 2-byte code (RFC 6455 §5.5).
const MAX_CLOSE_REASON: usize = 123;

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
    let kind = single_kind(check, path, spec)?;
    // Timing and target depend only on the kind, so they are checked even when the parameters
    // are bad: every problem of the entry is reported at once.
    let fault = parameters(check, path, spec, kind);
    let timeline = timeline(check, path, spec, kind, duration);
    let target = target(check, path, spec.target.as_ref(), kind, client_count);
    Some(FaultPlan { fault: fault?, timeline: timeline?, target: target? })
}

/// Whether `spec` sets `kind`.
fn is_set(spec: &FaultSpec, kind: FaultKind) -> bool {
    match kind {
        FaultKind::Reset => spec.reset.is_some(),
        FaultKind::Close => spec.close.is_some(),
        FaultKind::Stall => spec.stall.is_some(),
        FaultKind::Blackhole => spec.blackhole.is_some(),
        FaultKind::Latency => spec.latency.is_some(),
        FaultKind::Bandwidth => spec.bandwidth.is_some(),
        FaultKind::Slice => spec.slice.is_some(),
        FaultKind::Limit => spec.limit.is_some(),
        FaultKind::Refuse => spec.refuse.is_some(),
        FaultKind::AcceptHang => spec.accept_hang.is_some(),
        FaultKind::HandshakeDelay => spec.handshake_delay.is_some(),
        FaultKind::DropFrames => spec.drop_frames.is_some(),
        FaultKind::CloseFrame => spec.close_frame.is_some(),
        FaultKind::RejectHandshake => spec.reject_handshake.is_some(),
        FaultKind::RevokeCredentials => spec.revoke_credentials.is_some(),
        FaultKind::TlsBadCertificate => spec.tls_bad_certificate.is_some(),
    }
}

/// The one kind the entry sets, or a report of none or several.
fn single_kind(check: &mut Checker, path: &str, spec: &FaultSpec) -> Option<FaultKind> {
    let kinds: Vec<FaultKind> = FaultKind::ALL.into_iter().filter(|&kind| is_set(spec, kind)).collect();
    match kinds.as_slice() {
        [kind] => Some(*kind),
        [] => {
            let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
            check.report(
                Diagnostic::at(path, "this fault has no kind")
                    .help(format!("add one of {}", names.join(", "))),
            );
            None
        }
        [_, second, ..] => {
            let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            check.report(
                Diagnostic::at(
                    format!("{path}.{}", second.name()),
                    format!("one fault entry has one kind, but this one has {}", names.join(" and ")),
                )
                .help("split it into separate entries with the same timing")
                .on_key(),
            );
            None
        }
    }
}

/// The parameters of `kind`, which `spec` sets.
fn parameters(check: &mut Checker, path: &str, spec: &FaultSpec, kind: FaultKind) -> Option<Fault> {
    let p = |field: &str| format!("{path}.{}.{field}", kind.name());
    let fault = match kind {
        FaultKind::Reset => Fault::Reset,
        FaultKind::Close => Fault::Close,
        FaultKind::Refuse => Fault::Refuse,
        FaultKind::AcceptHang => Fault::AcceptHang,
        FaultKind::Stall => Fault::Stall { direction: direction(spec.stall.as_ref()?.direction) },
        FaultKind::Blackhole => Fault::Blackhole { direction: direction(spec.blackhole.as_ref()?.direction) },
        FaultKind::Latency => {
            let s = spec.latency.as_ref()?;
            let delay = check.positive(&p("delay"), &s.delay)?;
            let jitter = match &s.jitter {
                Some(text) => check.duration(&p("jitter"), text)?,
                None => Duration::ZERO,
            };
            if jitter > delay {
                check.error(
                    p("jitter"),
                    format!(
                        "the jitter {} exceeds the delay {}, which would allow negative delays",
                        format_duration(jitter),
                        format_duration(delay)
                    ),
                );
            }
            let spread = check.spread(&p("distribution"), s.distribution.as_deref());
            Fault::Latency { delay, jitter, spread, direction: direction(s.direction) }
        }
        FaultKind::Bandwidth => {
            let s = spec.bandwidth.as_ref()?;
            let bytes_per_second = check.parse(&p("rate"), &s.rate.0, units::parse_byte_rate)?;
            Fault::Bandwidth { bytes_per_second, direction: direction(s.direction) }
        }
        FaultKind::Slice => {
            let s = spec.slice.as_ref()?;
            let size_bytes = check.parse(&p("size"), &s.size.0, units::parse_size)?;
            if size_bytes == 0 {
                check.error(p("size"), "a slice of 0B moves nothing; use at least 1B");
            }
            let delay = match &s.delay {
                Some(text) => check.duration(&p("delay"), text)?,
                None => Duration::ZERO,
            };
            Fault::Slice { size_bytes, delay, direction: direction(s.direction) }
        }
        FaultKind::Limit => {
            let s = spec.limit.as_ref()?;
            let bytes = check.parse(&p("bytes"), &s.bytes.0, units::parse_size)?;
            if bytes == 0 {
                check.error(p("bytes"), "a limit of 0B closes links before any byte moves; use `close`");
            }
            Fault::Limit { bytes, direction: direction(s.direction) }
        }
        FaultKind::HandshakeDelay => {
            let delay = check.jittered(&p("delay"), &spec.handshake_delay.as_ref()?.delay)?;
            if delay.base.is_zero() {
                check.error(p("delay"), "must be longer than 0s");
            }
            Fault::HandshakeDelay { delay }
        }
        FaultKind::DropFrames => {
            drop_frames(check, &format!("{path}.drop_frames"), spec.drop_frames.as_ref()?)?
        }
        FaultKind::CloseFrame => {
            close_frame(check, &format!("{path}.close_frame"), spec.close_frame.as_ref()?)?
        }
        FaultKind::RejectHandshake => {
            reject_handshake(check, &format!("{path}.reject_handshake"), spec.reject_handshake.as_ref()?)?
        }
        FaultKind::TlsBadCertificate => {
            let word = spec.tls_bad_certificate.as_ref()?.kind.as_str();
            let names = BadCertificate::ALL.map(BadCertificate::name);
            let Some(kind) = BadCertificate::ALL.into_iter().find(|kind| kind.name() == word) else {
                check.report(
                    Diagnostic::at(
                        p("kind"),
                        format!("`{word}` is not valid here; expected one of {}", names.join(", ")),
                    )
                    .maybe_help(did_you_mean(word, names)),
                );
                return None;
            };
            Fault::TlsBadCertificate { kind }
        }
        FaultKind::RevokeCredentials => {
            let rotate_to = spec.revoke_credentials.as_ref()?.rotate_to.as_deref();
            let rotate_to = rotate_to.map(|text| super::server_auth::secret(check, &p("rotate_to"), text));
            Fault::RevokeCredentials { rotate_to }
        }
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
