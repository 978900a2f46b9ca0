//! The integration tests, in one binary (one link step, one place to look). Each module below
//! covers one surface; unit tests of pure pieces live next to their code in src/.
//!
//! - `examples`: every file in scenarios/ validates and maps to the values its story needs.
//! - `fixtures`: every malformed scenario in tests/fixtures/bad/ fails with the located,
//!   helpful error written in its first line.
//! - `mutations`: thousands of seeded random mutations of the examples never panic the loader.
//! - `cli`: the binary's commands, messages and exit codes, run as a process.
//! - `layers`: every `crate::` import in src/ is an edge of the layer table, which has no cycle.
//! - `run`: `wschaos run` end to end: every example on sim, verdicts and exit codes, determinism,
//!   Ctrl-C mid-run.
//! - `slow`: whole live runs in real time (a short flaky run, pong loss as shipped, sim against
//!   live); CI runs them as a step of their own.
//! - `schema`: the committed JSON Schema is current and the examples validate against it.
//! - `swarm`: `wschaos run --seeds`: the failing seeds listed are the ones that fail alone,
//!   their repro lines repeat them, the distribution spans the seeds, the same bytes on 1 or 2
//!   threads, invalid draws, Ctrl-C, and misuse.
//! - `client`: the reference client on sim with paused time: detection times, reason-aware
//!   reconnects, delivery guarantees over 100 seeds of resets, library quirks.
//! - `faults`: each fault through the real proxy on the sim network, paused time: exact
//!   timings, order, and what the client sees.
//! - `frames`: the frame faults through the proxy with the reference client (pong loss, Close
//!   codes, rejected upgrades) and the frame observer's transparency.
//! - `proxy`: runtime control, targeting drawn once from the seed, events, the timeline.
//! - `proxy_live`: one test per fault family through the proxy over real loopback TCP.
//! - `deflate_faults`: frame faults on hand-made permessage-deflate streams on sim: compressed messages
//!   kept (not applied, with the reason), control frames dropped, `strip_deflate`.
//! - `deflate_live`: Python websockets and Node ws with permessage-deflate through the proxy
//!   under drop_frames, with and without `strip_deflate`; needs examples/clients/setup.sh, so
//!   CI runs it in a step of its own after that.
//! - `link_ends`: when a link ends: both peers gone (blackholed or not), sim and live; a held
//!   upgrade request past the handshake timeout.
//! - `net_live`: the live transport: a listener's backlog holds a burst of connections.
//! - `standalone`: `wschaos echo` and `wschaos proxy --scenario` as processes, with a client
//!   through them meeting the scheduled fault, and `wschaos proxy --out` judging what it saw.
//! - `report`: `wschaos report` re-rendering a report.json, and `wschaos compare`'s exit codes.
//! - `support`: the shared harness (a proxy in front of a bare upstream listener, and an echo
//!   server behind the proxy for reference clients), on `wschaos::stack::Stack`.
//! - `outputs`: a closed stdout never panics a subcommand; output that cannot be written is
//!   exit 74 naming the file.
//! - `process`: a `wschaos` process a test starts, killed on drop.
//! - `programs`: `wschaos run` with the user's own client and server programs, live: verdicts,
//!   early exits, programs that cannot start or never connect, malformed event lines, the
//!   proxy's figures against the client's own, Ctrl-C ending every program.
//! - `external`: `wschaos run` on scenarios/external/ with the example clients of
//!   examples/clients/ (Python `websockets`, Node `ws`) as real processes: the clients pass, their
//!   no-heartbeat variants fail on the blackhole, the proxy agrees with the clients. They need
//!   examples/clients/setup.sh; CI runs them as a step of their own.
//! - `wss`: wss:// on sim: the example passes with clients told apart by their TLS server
//!   name, a client refuses a certificate it does not trust without a storm, and what TLS
//!   passthrough cannot do is refused at validation.
//! - `wss_terminate`: `proxy.tls: terminate` on sim: pong loss over wss:// found by the
//!   heartbeat, the frame observer reading terminated links, client-targeted frame faults,
//!   a client refusing the proxy's certificate, determinism, the validation; one live run.
//! - `signed`: signed handshakes on sim: re-signing against `reuse_signed_url` after `max_age`,
//!   `revoke_credentials` under each `on_unauthorized`, no secret in any output; one live run.
//! - `signals`: SIGTERM and SIGHUP stop a run, a swarm and the serve loops as Ctrl-C does,
//!   and a second signal exits at once.
//! - `deflate`: permessage-deflate with the echo server (agreed, declined, 1007, 1009) and
//!   compressed links through the proxy meeting frame faults, on sim.
//! - `harness`: the harness's own failures (accepts failing for want of descriptors, on sim
//!   and live) retried with backoff, then ending the server or proxy, surfaced by the stack.
//! - `server`: the echo server's echo, heartbeat, pacing, latency, auth, accounting and
//!   shutdown on the sim network under paused time.
//! - `capacity`: the echo server's capacity rules (backlog, slots, shedding, contention), each
//!   on sim and on live loopback, which must agree.
//! - `server_live`: the echo server once over loopback TCP, and `wschaos echo` as a process.

#[path = "suite/capacity.rs"]
mod capacity;
#[path = "suite/cli.rs"]
mod cli;
#[path = "suite/client.rs"]
mod client;
#[path = "suite/deflate.rs"]
mod deflate;
#[path = "suite/deflate_faults.rs"]
mod deflate_faults;
#[path = "suite/deflate_live.rs"]
mod deflate_live;
#[path = "suite/examples.rs"]
mod examples;
#[path = "suite/external.rs"]
mod external;
#[path = "suite/faults.rs"]
mod faults;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/frames.rs"]
mod frames;
#[path = "suite/harness.rs"]
mod harness;
#[path = "suite/layers.rs"]
mod layers;
#[path = "suite/link_ends.rs"]
mod link_ends;
#[path = "suite/mutations.rs"]
mod mutations;
#[path = "suite/net_live.rs"]
mod net_live;
#[path = "suite/outputs.rs"]
mod outputs;
#[path = "suite/process.rs"]
mod process;
#[path = "suite/programs.rs"]
mod programs;
#[path = "suite/proxy.rs"]
mod proxy;
#[path = "suite/proxy_live.rs"]
mod proxy_live;
#[path = "suite/report.rs"]
mod report;
#[path = "suite/run.rs"]
mod run;
#[path = "suite/schema.rs"]
mod schema;
#[path = "suite/server.rs"]
mod server;
#[path = "suite/server_live.rs"]
mod server_live;
#[path = "suite/signals.rs"]
mod signals;
#[path = "suite/signed.rs"]
mod signed;
#[path = "suite/slow.rs"]
mod slow;
#[path = "suite/standalone.rs"]
mod standalone;
#[path = "suite/support.rs"]
mod support;
#[path = "suite/swarm.rs"]
mod swarm;
#[path = "suite/wss.rs"]
mod wss;
#[path = "suite/wss_terminate.rs"]
mod wss_terminate;
