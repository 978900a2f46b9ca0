//! The integration tests, in one binary (one link step, one place to look). Each module below
//! covers one surface; unit tests of pure pieces live next to their code in src/.
//!
//! - `examples`: every file in scenarios/ validates and maps to the values its story needs.
//! - `fixtures`: every malformed scenario in tests/fixtures/bad/ fails with the located,
//!   helpful error written in its first line.
//! - `mutations`: thousands of seeded random mutations of the examples never panic the loader.
//! - `cli`: the binary's commands, messages and exit codes, run as a process.
//! - `schema`: the committed JSON Schema is current and the examples validate against it.
//! - `server`: the echo server's echo, heartbeat, pacing, latency, auth and accounting on the
//!   sim network under paused time, once over loopback TCP, and `wschaos echo` as a process.

#[path = "suite/cli.rs"]
mod cli;
#[path = "suite/examples.rs"]
mod examples;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/mutations.rs"]
mod mutations;
#[path = "suite/schema.rs"]
mod schema;
#[path = "suite/server.rs"]
mod server;
