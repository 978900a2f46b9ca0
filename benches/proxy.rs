//! Proxy overhead on live loopback: bulk throughput and 64-byte round trips, straight to the
//! server and through a fault-free proxy, in the same run (DESIGN.md §8 targets: throughput
//! ≥ 0.7 × direct, round-trip p50 ≤ 1.15 × direct).
//!
//! Run with `cargo bench --bench proxy`; `python3 benches/summarize.py` then writes the medians
//! to reports/proxy-bench.md.

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wschaos::net::{Stream, Transport, any_loopback};
use wschaos::proxy::{Control, EventSink, Proxy};

/// Bytes per throughput iteration.
const BULK_BYTES: usize = 8 * 1024 * 1024;
/// Bytes per round trip.
const MESSAGE_BYTES: usize = 64;

/// Starts a server on loopback: it echoes when `echo`, otherwise it counts what it reads and
/// answers one byte per `BULK_BYTES` received.
async fn server(echo: bool) -> SocketAddr {
    let mut listener = Transport::Live.bind(any_loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                let mut received = 0usize;
                while let Ok(read) = stream.read(&mut buf).await {
                    if read == 0 {
                        break;
                    }
                    if echo {
                        if stream.write_all(&buf[..read]).await.is_err() {
                            break;
                        }
                    } else {
                        received += read;
                        while received >= BULK_BYTES {
                            received -= BULK_BYTES;
                            if stream.write_all(&[1]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A fault-free proxy in front of `upstream`.
async fn proxy(upstream: SocketAddr) -> SocketAddr {
    let control = Control::new(1, 0, EventSink::discard());
    let proxy = Proxy::bind(&Transport::Live, any_loopback(), upstream, control).await.unwrap();
    let addr = proxy.local_addr().unwrap();
    tokio::spawn(proxy.run(std::future::pending()));
    addr
}

async fn connect(addr: SocketAddr) -> Stream {
    Transport::Live.connect(addr).await.unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (sink, echo) = runtime.block_on(async { (server(false).await, server(true).await) });
    let (sink_proxy, echo_proxy) = runtime.block_on(async { (proxy(sink).await, proxy(echo).await) });

    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Bytes(BULK_BYTES as u64));
    group.measurement_time(Duration::from_secs(5));
    for (name, addr) in [("direct", sink), ("proxy", sink_proxy)] {
        let mut stream = runtime.block_on(connect(addr));
        let chunk = vec![0x5au8; 256 * 1024];
        group.bench_function(name, |b| {
            b.iter_custom(|iters| runtime.block_on(bulk(&mut stream, &chunk, iters)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("round_trip_64B");
    group.measurement_time(Duration::from_secs(5));
    for (name, addr) in [("direct", echo), ("proxy", echo_proxy)] {
        let mut stream = runtime.block_on(connect(addr));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| runtime.block_on(round_trips(&mut stream, iters)))
        });
    }
    group.finish();
}

/// Sends `iters` × `BULK_BYTES` and waits for each acknowledgement.
async fn bulk(stream: &mut Stream, chunk: &[u8], iters: u64) -> Duration {
    let start = Instant::now();
    let mut ack = [0u8; 1];
    for _ in 0..iters {
        for _ in 0..BULK_BYTES / chunk.len() {
            stream.write_all(chunk).await.unwrap();
        }
        stream.read_exact(&mut ack).await.unwrap();
    }
    start.elapsed()
}

/// `iters` sequential 64-byte echoes.
async fn round_trips(stream: &mut Stream, iters: u64) -> Duration {
    let message = [0x42u8; MESSAGE_BYTES];
    let mut reply = [0u8; MESSAGE_BYTES];
    let start = Instant::now();
    for _ in 0..iters {
        stream.write_all(&message).await.unwrap();
        stream.read_exact(&mut reply).await.unwrap();
    }
    start.elapsed()
}

criterion_group!(benches, bench);
criterion_main!(benches);
