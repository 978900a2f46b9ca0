//! `server.tls` and `proxy.tls`: what works over `wss://` and what cannot.
//!
//! Through a passthrough proxy the bytes are encrypted: link faults act on them as on any
//! bytes, but nothing that must read or rewrite the WebSocket traffic can work, so those
//! fields are errors that say why (and name `terminate`, which makes them work) instead of
//! faults that would silently never hit. A terminating proxy reads the plaintext, so they are
//! allowed there.

use super::super::error::Diagnostic;
use super::super::model::ProxyTls;
use super::super::spec::{IdentitySpec, ScenarioSpec};
use super::Checker;
use crate::suggest::did_you_mean;

/// The fault kinds that read or rewrite frames or the upgrade, which TLS hides.
const NEEDS_PLAINTEXT: [&str; 3] = ["drop_frames", "close_frame", "reject_handshake"];

/// The words `proxy.tls` takes.
const MODES: [&str; 2] = ["passthrough", "terminate"];

/// The proxy's TLS mode as the spec says it; an unknown word (reported by [`tls`]) is taken as
/// the default, passthrough.
pub(super) fn proxy_tls(spec: &ScenarioSpec) -> ProxyTls {
    match spec.proxy.as_ref().and_then(|proxy| proxy.tls.as_deref()) {
        Some("terminate") => ProxyTls::Terminate,
        _ => ProxyTls::Passthrough,
    }
}

/// Checks the TLS settings against each other and the faults.
pub(super) fn tls(check: &mut Checker, spec: &ScenarioSpec) {
    let server_tls = spec.server.as_ref().and_then(|server| server.tls).unwrap_or(false);
    let proxy = spec.proxy.as_ref();
    if let Some(word) = proxy.and_then(|proxy| proxy.tls.as_deref())
        && !MODES.contains(&word)
    {
        check.report(
            Diagnostic::at(
                "proxy.tls",
                format!("`{word}` is not valid here; expected `passthrough` or `terminate`"),
            )
            .maybe_help(did_you_mean(word, MODES)),
        );
    }
    if !server_tls {
        for (i, fault) in spec.faults.iter().flatten().enumerate() {
            if fault.tls_bad_certificate.is_some() {
                check.error(
                    format!("faults[{i}].tls_bad_certificate"),
                    "there is no TLS handshake to answer with a bad certificate: set `server.tls: true`",
                );
            }
        }
        if proxy.and_then(|proxy| proxy.tls.as_ref()).is_some() {
            check.error("proxy.tls", "there is no TLS to pass through or terminate: set `server.tls: true`");
        }
        return;
    }
    unsupported_with_tls(check, spec);
    if proxy_tls(spec) == ProxyTls::Terminate {
        return;
    }
    identity_through_passthrough(check, spec);
    if proxy.and_then(|proxy| proxy.strip_deflate) == Some(true) {
        check.error(
            "proxy.strip_deflate",
            "the upgrade request is encrypted on its way through the proxy under `server.tls`, so \
             the proxy cannot remove its permessage-deflate offer; set `proxy.tls: terminate` to \
             decrypt it at the proxy",
        );
    }
    for (i, fault) in spec.faults.iter().flatten().enumerate() {
        let kinds =
            [fault.drop_frames.is_some(), fault.close_frame.is_some(), fault.reject_handshake.is_some()];
        for (kind, set) in NEEDS_PLAINTEXT.iter().zip(kinds) {
            if set {
                check.error(
                    format!("faults[{i}].{kind}"),
                    format!(
                        "`{kind}` reads the WebSocket traffic, which TLS encrypts on its way through \
                         the proxy (`proxy.tls: passthrough`); set `proxy.tls: terminate` to decrypt \
                         it at the proxy"
                    ),
                );
            }
        }
    }
}

/// What `server.tls` does not work with in either mode: servers wschaos did not make the
/// certificates for.
fn unsupported_with_tls(check: &mut Checker, spec: &ScenarioSpec) {
    if let Some(server) = &spec.server {
        for (field, set) in [("command", server.command.is_some()), ("upstream", server.upstream.is_some())] {
            if set {
                check.error(
                    "server.tls",
                    format!(
                        "`tls` with `server.{field}` is not supported yet: wschaos makes the certificate \
                         of its own echo server, and cannot know which CA your server's comes from"
                    ),
                );
            }
        }
    }
}

/// Your own clients get `wss://127.0.0.1:PORT/` and the CA in WSCHAOS_CA. A URL with an
/// address sends no server name, and through a passthrough proxy the query and headers are
/// encrypted, so only their own listener (identity: port) tells the proxy who they are.
fn identity_through_passthrough(check: &mut Checker, spec: &ScenarioSpec) {
    if spec.clients.command.is_some()
        && let Some(identity) = spec.clients.identity
        && identity != IdentitySpec::Port
    {
        check.error(
            "clients.identity",
            "through `proxy.tls: passthrough` the proxy cannot read the query or the headers (they \
             are encrypted) and a client given an address sends no server name: use `identity: \
             port`, or `proxy.tls: terminate`",
        );
    }
}
