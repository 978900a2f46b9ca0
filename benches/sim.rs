//! The sim engine's speed, in wall-clock time. Two groups:
//!
//! - `sim_round_trip`: 64-byte WebSocket echoes, client → proxy → echo server → back, over the
//!   in-memory network on the sim engine's paused runtime ([`SimRuntime`]). `1_client` is one
//!   client's sequential round trips; `100_clients` is 100 clients each doing one round trip
//!   per iteration at once. Criterion's throughput is round trips per wall-clock second.
//! - `sim_speed`: the sim-speed target of README.md's Performance section, 1,000 clients ×
//!   10 msg/s, as a whole run of the runner (server, proxy, reference clients, recorder;
//!   events.jsonl not written: see benches/scale.sh for the full command). Its throughput
//!   "elements" are the run's virtual seconds, so criterion's elem/s is virtual seconds per wall
//!   second (target ≥ 50).
//!
//! - `sim_connect`: the cost of one new connection through the proxy (TCP on the in-memory
//!   network, the upgrade, and the close), `ws` against `wss` (a full TLS 1.3 handshake with
//!   the run's Ed25519 certificate, no resumption): what TLS adds to every reconnect of a herd.
//!
//! Run with `cargo bench --bench sim`; `python3 benches/summarize.py sim` then writes the
//! medians to reports/sim-bench.md.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wschaos::Scenario;
use wschaos::client::connection::{Endpoint, Socket, open};
use wschaos::net::Transport;
use wschaos::runner::{self, Interrupt, NoLog, RunOptions, SimRuntime};
use wschaos::scenario::{Engine, ServerConfig};
use wschaos::stack::Stack;
use wschaos::tls::{RunCertificates, TlsClient};
use wschaos::wire::Header;

/// Bytes per message, header included.
const MESSAGE_BYTES: usize = 64;

/// The sim-speed target's run: 1,000 clients × 10 msg/s with heartbeats, 10 s plus 1 s of quiet.
const SPEED_SCENARIO: &str = "
version: 1
name: sim-speed
duration: 10s
quiet_period: 1s
engine: sim
clients:
  count: 1000
  start_spread: 1s
  workload: { rate: 10/s, size: 64B }
  heartbeat: { ping_every: 10s, pong_timeout: 5s }
";
/// Its virtual length, in seconds.
const SPEED_VIRTUAL_SECONDS: u64 = 11;

/// The wall clock. Everything inside a sim run reads virtual time; a benchmark of the engine
/// needs the real time it took.
#[allow(clippy::disallowed_types, clippy::disallowed_methods, reason = "a sim bench measures wall time")]
fn wall_clock() -> impl Fn() -> Duration {
    let start = std::time::Instant::now();
    move || start.elapsed()
}

/// An echo server and a fault-free proxy in front of it, on `net`.
async fn stack(net: &Transport) -> Stack {
    Stack::echo(net, ServerConfig::default()).start().await.unwrap()
}

/// Client `index`'s WebSocket through the proxy at `addr`.
async fn client(net: &Transport, addr: std::net::SocketAddr, index: u32) -> Socket {
    connect(net, addr, index, None).await
}

/// Client `index`'s WebSocket through the proxy at `addr`, over TLS when `tls` is given.
async fn connect(net: &Transport, addr: std::net::SocketAddr, index: u32, tls: Option<TlsClient>) -> Socket {
    let target = Endpoint {
        addr,
        url: format!("ws://{addr}/"),
        client: index,
        session: u64::from(index),
        token: None,
        subprotocols: Vec::new(),
        headers: Vec::new(),
        tls,
    };
    open(net, &target, Duration::from_secs(10)).await.expect("the handshake succeeds").socket
}

/// One message of `index` and its echo.
async fn round_trip(socket: &mut Socket, index: u32, seq: u64) {
    let header = Header { client: index, seq, intended: Duration::ZERO };
    socket.send(Message::Binary(header.encode(MESSAGE_BYTES).into())).await.unwrap();
    loop {
        match socket.next().await {
            Some(Ok(Message::Binary(_))) => return,
            Some(Ok(_)) => continue,
            other => panic!("the echo did not come: {other:?}"),
        }
    }
}

fn round_trips(c: &mut Criterion) {
    let runtime = SimRuntime::new().unwrap();
    let net = Transport::sim();
    let mut group = c.benchmark_group("sim_round_trip");
    group.measurement_time(Duration::from_secs(5));
    for count in [1u32, 100] {
        let (sockets, _stack) = runtime
            .run(async {
                let stack = stack(&net).await;
                let mut sockets = Vec::new();
                for index in 0..count {
                    sockets.push(client(&net, stack.proxy_addr(), index).await);
                }
                (sockets, stack)
            })
            .expect("the setup does not stall");
        let sockets = RefCell::new(sockets);
        let seq = RefCell::new(0u64);
        group.throughput(Throughput::Elements(u64::from(count)));
        let name = if count == 1 { "1_client".to_string() } else { format!("{count}_clients") };
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let (mut sockets, mut seq) = (sockets.borrow_mut(), seq.borrow_mut());
                let first = *seq;
                *seq += iters;
                runtime
                    .run(async {
                        let elapsed = wall_clock();
                        for n in first..first + iters {
                            let each = sockets
                                .iter_mut()
                                .enumerate()
                                .map(|(index, socket)| round_trip(socket, index as u32, n));
                            futures_util::future::join_all(each).await;
                        }
                        elapsed()
                    })
                    .expect("the round trips do not stall")
            })
        });
    }
    group.finish();
}

fn speed(c: &mut Criterion) {
    let scenario = Scenario::parse(SPEED_SCENARIO, "sim-speed").expect("the speed scenario is valid");
    let options = RunOptions::for_scenario(&scenario, Engine::Sim);
    let mut group = c.benchmark_group("sim_speed");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(SPEED_VIRTUAL_SECONDS));
    group.bench_function("1000_clients_10_per_s", |b| {
        b.iter_custom(|iters| {
            let elapsed = wall_clock();
            for _ in 0..iters {
                let report = runner::run(
                    &scenario,
                    &options,
                    &mut NoLog,
                    &Interrupt::default(),
                    std::sync::Arc::new(|_| {}),
                )
                .expect("the run completes");
                assert_eq!(report.strategies[0].messages.lost, 0, "a healthy run loses nothing");
            }
            elapsed()
        })
    });
    group.finish();
}

fn connects(c: &mut Criterion) {
    let runtime = SimRuntime::new().unwrap();
    let net = Transport::sim();
    let certs = Arc::new(RunCertificates::generate().unwrap());
    let mut group = c.benchmark_group("sim_connect");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    for secure in [false, true] {
        let stack = runtime
            .run(async {
                let config = ServerConfig { tls: secure, ..ServerConfig::default() };
                let certs = secure.then(|| certs.clone());
                Stack::echo(&net, config).tls(certs).start().await.unwrap()
            })
            .expect("the setup does not stall");
        let tls =
            secure.then(|| TlsClient::new(certs.client().unwrap(), &wschaos::tls::client_name(0)).unwrap());
        group.bench_function(if secure { "wss" } else { "ws" }, |b| {
            b.iter_custom(|iters| {
                runtime
                    .run(async {
                        let elapsed = wall_clock();
                        for _ in 0..iters {
                            let mut socket = connect(&net, stack.proxy_addr(), 0, tls.clone()).await;
                            socket.close(None).await.unwrap();
                        }
                        elapsed()
                    })
                    .expect("the connections do not stall")
            })
        });
        drop(stack);
    }
    group.finish();
}

criterion_group!(benches, round_trips, speed, connects);
criterion_main!(benches);
