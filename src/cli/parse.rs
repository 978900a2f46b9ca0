//! The value parsers clap calls for flags: each takes the text and returns the value or a
//! message saying what was expected. Scenario values (durations, rates, sizes) reuse the
//! scenario language's parsers from [`crate::units`].

use super::args::HeartbeatArg;
use crate::scenario::{ClientHeartbeat, ServerHeartbeat, defaults};
use crate::units::{format_size, parse_duration, parse_size};

pub(super) use super::swarm::parse_seeds;

/// Parses `--fail-on-regression PCT`: a finite percentage of at least 0 (`10` or `10%`).
pub(super) fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix('%').unwrap_or(text).trim();
    match number.parse::<f64>() {
        Ok(pct) if pct.is_finite() && pct >= 0.0 => Ok(pct),
        _ => Err(format!("`{text}` is not a percentage; write a number of at least 0, like `10`")),
    }
}

/// Parses `--heartbeat EVERY/TIMEOUT`, both durations above zero.
pub(super) fn parse_heartbeat(text: &str) -> Result<ServerHeartbeat, String> {
    let (every, timeout) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not EVERY/TIMEOUT; write it like `10s/5s`"))?;
    let ping_every = parse_duration(every).map_err(|error| format!("EVERY: {error}"))?;
    let timeout = parse_duration(timeout).map_err(|error| format!("TIMEOUT: {error}"))?;
    if ping_every.is_zero() || timeout.is_zero() {
        return Err(format!("`{text}`: both EVERY and TIMEOUT must be longer than 0s"));
    }
    Ok(ServerHeartbeat { ping_every, timeout })
}

/// Parses `--token`: something a client can send in a header, with no spaces.
/// A duration above zero: `10s`, `500ms`.
pub(super) fn parse_positive_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration = crate::units::parse_duration(text)?;
    if duration.is_zero() {
        return Err("must be longer than 0s".to_string());
    }
    Ok(duration)
}

pub(super) fn parse_token(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the token is empty; leave --token out to admit every client".to_string());
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err("a token may hold only visible ASCII characters, no spaces".to_string());
    }
    Ok(text.to_string())
}

/// Parses `--heartbeat EVERY/TIMEOUT` or `off` for the client.
pub(super) fn parse_client_heartbeat(text: &str) -> Result<HeartbeatArg, String> {
    if text == "off" {
        return Ok(HeartbeatArg(None));
    }
    let server = parse_heartbeat(text)?;
    Ok(HeartbeatArg(Some(ClientHeartbeat {
        ping_every: server.ping_every,
        pong_timeout: Some(server.timeout),
    })))
}

/// Parses `--size`: a size that holds the message header and that the WebSocket ends accept,
/// the bounds of a scenario's `clients.workload.size` (the client would otherwise try to
/// allocate whatever it was given: `--size 100GiB` aborted).
pub(super) fn parse_message_size(text: &str) -> Result<u64, String> {
    let size = parse_size(text)?;
    if size < crate::wire::HEADER_LEN as u64 {
        return Err(format!("a message holds at least its {}B header", crate::wire::HEADER_LEN));
    }
    if size > defaults::MAX_MESSAGE_SIZE_BYTES {
        return Err(format!(
            "a message is at most {} (tungstenite's frame limit), as in a scenario's workload",
            format_size(defaults::MAX_MESSAGE_SIZE_BYTES)
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_size_is_within_the_workload_bounds() {
        assert_eq!(parse_message_size("64B"), Ok(64));
        assert_eq!(parse_message_size("16MiB"), Ok(defaults::MAX_MESSAGE_SIZE_BYTES));
        for too_large in ["16777217B", "17MiB", "100GiB"] {
            let error = parse_message_size(too_large).unwrap_err();
            assert_eq!(
                error,
                "a message is at most 16MiB (tungstenite's frame limit), as in a scenario's workload"
            );
        }
        assert!(parse_message_size("8B").unwrap_err().contains("header"));
    }
}
