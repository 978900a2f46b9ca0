//! `server.auth` (a bearer token or signed handshakes), the secrets it and `revoke_credentials`
//! name, and the rules that tie signed handshakes to the rest of the scenario: a revoke or a
//! `reuse_signed_url` strategy needs them, `max_age` must outlast a connect attempt, and a
//! client program cannot sign on the run's clock yet.

use std::time::Duration;

use super::Checker;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::spec::*;
use crate::units::format_duration;
use crate::wire::signature::{Secret, Window};

/// The shortest secret accepted: 128 bits, the least RFC 2104 §3 advises for HMAC keys
/// (no shorter than the hash's output is its ideal; 16 bytes is the floor most services set).
pub(super) const MIN_SECRET_BYTES: usize = 16;

/// How old a signature may be when the scenario does not say: a presigned URL's usual life.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30);

/// How far ahead of the server's clock a signature may be when the scenario does not say.
const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(2);

/// The bearer token and the signed-handshake settings: at most one of them.
pub(super) fn auth(check: &mut Checker, spec: Option<&ServerAuthSpec>) -> (Option<String>, Option<HmacAuth>) {
    let Some(spec) = spec else { return (None, None) };
    match (&spec.token, &spec.hmac) {
        (Some(_), Some(_)) => {
            check.report(
                Diagnostic::at("server.auth.hmac", "give `token` or `hmac`, not both")
                    .help("the echo server checks one kind of credential")
                    .on_key(),
            );
            (None, None)
        }
        (None, None) => {
            check.error("server.auth", "give `token` (bearer) or `hmac` (signed handshakes)");
            (None, None)
        }
        (Some(token), None) => {
            if token.is_empty() {
                check.error("server.auth.token", "the token is empty; remove `auth` to turn auth off");
            }
            (Some(token.clone()), None)
        }
        (None, Some(hmac)) => (None, Some(hmac_auth(check, hmac))),
    }
}

fn hmac_auth(check: &mut Checker, spec: &HmacSpec) -> HmacAuth {
    let secret = secret(check, "server.auth.hmac.secret", &spec.secret);
    let max_age = spec.max_age.as_ref().and_then(|text| check.positive("server.auth.hmac.max_age", text));
    let clock_skew =
        spec.clock_skew.as_ref().and_then(|text| check.duration("server.auth.hmac.clock_skew", text));
    let window = Window {
        max_age: max_age.unwrap_or(DEFAULT_MAX_AGE),
        clock_skew: clock_skew.unwrap_or(DEFAULT_CLOCK_SKEW),
    };
    HmacAuth { secret, window }
}

/// A secret of at least [`MIN_SECRET_BYTES`]; the message never repeats it.
pub(super) fn secret(check: &mut Checker, path: &str, text: &str) -> Secret {
    if text.len() < MIN_SECRET_BYTES {
        check.report(
            Diagnostic::at(
                path,
                format!(
                    "the secret is {} bytes; an HMAC secret needs at least {MIN_SECRET_BYTES}",
                    text.len()
                ),
            )
            .help("use a random string of 32 characters or more"),
        );
    }
    Secret::new(text)
}

/// What signed handshakes need from the rest of the scenario.
pub(super) fn signed_handshakes(
    check: &mut Checker,
    spec: &ScenarioSpec,
    server: &ServerConfig,
    strategies: &[ClientStrategy],
) {
    let Some(hmac) = &server.hmac else {
        for (i, fault) in spec.faults.iter().flatten().enumerate() {
            if fault.revoke_credentials.is_some() {
                check.report(
                    Diagnostic::at(
                        format!("faults[{i}].revoke_credentials"),
                        "revokes the echo server's secret, but the server has none",
                    )
                    .help("add `server.auth: { hmac: { secret: … } }`")
                    .on_key(),
                );
            }
        }
        for path in reuse_paths(spec) {
            check.report(
                Diagnostic::at(path, "reuses a signed URL, but the server does not ask for signatures")
                    .help("add `server.auth: { hmac: { secret: … } }`, or remove this field")
                    .on_key(),
            );
        }
        return;
    };
    if let Some(slowest) = strategies.iter().map(|s| s.settings.connect_timeout).max()
        && hmac.window.max_age < slowest
    {
        check.report(
            Diagnostic::at(
                "server.auth.hmac.max_age",
                format!(
                    "{} is shorter than the clients' connect timeout {}: a signature could expire during one attempt",
                    format_duration(hmac.window.max_age),
                    format_duration(slowest)
                ),
            )
            .help("raise `max_age`, or lower `clients.connect_timeout`"),
        );
    }
    if spec.clients.command.is_some() || super::program::is_program(spec) {
        check.report(
            Diagnostic::at(
                "server.auth.hmac",
                "signed handshakes with a client program are not supported yet: it cannot read the run's clock",
            )
            .help("use the reference client, or `server.auth: { token }`")
            .on_key(),
        );
    }
}

/// Where the file sets `reuse_signed_url: true`.
fn reuse_paths(spec: &ScenarioSpec) -> Vec<String> {
    let reuses = |entry: &WordOr<InlineStrategySpec>| matches!(entry, WordOr::Map(map) if map.reuse_signed_url == Some(true));
    let mut paths = Vec::new();
    if spec.clients.strategy.as_ref().is_some_and(reuses) {
        paths.push("clients.strategy.reuse_signed_url".to_string());
    }
    for (i, entry) in spec.strategies.iter().flatten().enumerate() {
        if reuses(entry) {
            paths.push(format!("strategies[{i}].reuse_signed_url"));
        }
    }
    paths
}
