//! Every default of the scenario format in one place: the validator fills them in, and the
//! standalone commands and their flags (`wschaos client`, `wschaos proxy`, `wschaos echo`) use
//! the same values, so a file and a command line that leave a setting out mean the same thing.

use std::time::Duration;

use super::model::CodeRange;
use crate::wire;

/// Seed when neither the file nor the command line sets one.
pub const SEED: u64 = 1;
/// Quiet period after the heal when the file sets none.
pub const QUIET_PERIOD: Duration = Duration::from_secs(15);
/// Strategy when the file names none: the AWS article's recommendation.
pub const STRATEGY: &str = "aws-full-jitter";
/// How long the echo server gives a connection to complete its upgrade: Go's and nginx's
/// common read-header timeouts are of this order, long enough for any client on a slow link
/// and short enough that a half-sent request does not hold a descriptor for the whole run.
pub const HANDSHAKE_TIMEOUT: Duration = wire::HANDSHAKE_TIMEOUT;
/// Bytes per workload message when the workload sets none.
pub const MESSAGE_SIZE_BYTES: u64 = 64;
/// The largest workload message: what the WebSocket ends accept ([`wire::MAX_MESSAGE_BYTES`]).
pub const MAX_MESSAGE_SIZE_BYTES: u64 = wire::MAX_MESSAGE_BYTES as u64;
/// The most clients a run takes on the sim engine: about 40 KiB each (100,000 peaked at
/// 3.5 GiB, reports/scale.md), so 200,000 fit in 8 GiB; a million used to abort at 5.7 GB.
pub const MAX_CLIENTS_SIM: u32 = 200_000;
/// The most clients a run takes on the live engine: each holds about 4 descriptors and two
/// loopback TCP connections, and 10,000 make 20,000 connections, within a default Linux's
/// 28,232 ephemeral ports. The run's preflight then checks this machine's descriptor limit.
pub const MAX_CLIENTS_LIVE: u32 = 10_000;
/// Outbox capacity, in messages, when the file sets none.
pub const OUTBOX: u32 = 10_000;
/// Close codes after which a client gives up when the file lists none: 1008 (policy
/// violation), the code servers send to clients that must not come back (RFC 6455 §7.4.1).
pub const PERMANENT_CLOSE_CODES: [CodeRange; 1] = [CodeRange { first: 1008, last: 1008 }];
