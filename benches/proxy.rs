//! Proxy overhead on live loopback: bulk throughput and 64-byte round trips, straight to the
//! server and through a fault-free proxy, in the same run (the targets of README.md's Performance
//! section: throughput ≥ 0.7 × direct, round-trip p50 ≤ 1.15 × direct).
//!
//! Run with `cargo bench --bench proxy`; `python3 benches/summarize.py` then writes the medians
//! to reports/proxy-bench.md.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wschaos::net::{Stream, Transport, any_loopback};

/// Bytes per throughput iteration.
const BULK_BYTES: usize = 8 * 1024 * 1024;
/// Bytes per round trip.
const MESSAGE_BYTES: usize = 64;

/// An echo server on loopback.
async fn echo_server() -> SocketAddr {
    let mut listener = Transport::Live.bind(any_loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                while let Ok(read) = stream.read(&mut buf).await {
                    if read == 0 || stream.write_all(&buf[..read]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn connect(addr: SocketAddr) -> Stream {
    Transport::Live.connect(addr).await.unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (sink, echo) =
        runtime.block_on(async { (common::counting_sink(0, BULK_BYTES).await, echo_server().await) });
    let (sink_stack, echo_stack) =
        runtime.block_on(async { (common::proxy(sink).await, common::proxy(echo).await) });
    let (sink_proxy, echo_proxy) = (sink_stack.proxy_addr(), echo_stack.proxy_addr());

    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Bytes(BULK_BYTES as u64));
    group.measurement_time(Duration::from_secs(5));
    for (name, addr) in [("direct", sink), ("proxy", sink_proxy)] {
        let mut stream = runtime.block_on(connect(addr));
        let bytes = vec![0x5au8; BULK_BYTES];
        group.bench_function(name, |b| {
            b.iter_custom(|iters| runtime.block_on(common::bulk(&mut stream, &bytes, iters)))
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
