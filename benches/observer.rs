//! What the frame observer costs. Two groups:
//!
//! - `observer_parse`: the pure observer (`LinkObserver::feed`) over a client's stream of
//!   masked binary frames, 64 B and 16 KiB each, in 64 KiB reads: parsing speed alone.
//! - `proxy_ws_bulk_*`: 8 MiB of masked binary frames through the live, fault-free proxy.
//!   `followed` sends them after a WebSocket upgrade request, so the observer reads every
//!   frame header; `opaque` sends the same frames with no request, so the observer gives up at
//!   the first byte and only the copy loop runs. The ratio is the observer's cost in
//!   throughput.
//!
//! Run with `cargo bench --bench observer`; `python3 benches/summarize.py observer` writes
//! the medians to reports/observer-bench.md.

mod common;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::AsyncWriteExt;
use wschaos::net::Transport;
use wschaos::ws::Way;
use wschaos::ws::observer::LinkObserver;

/// Bytes of frames per proxy iteration (rounded down to whole frames).
const BULK_BYTES: usize = 8 * 1024 * 1024;
/// How much the observer is handed at a time, like a link's largest read.
const READ_BYTES: usize = 64 * 1024;

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

/// Masked binary frames of `payload` bytes each, `total` bytes in all (whole frames).
fn frames(payload: usize, total: usize) -> Vec<u8> {
    let mut one = vec![0x82];
    match payload {
        0..=125 => one.push(0x80 | payload as u8),
        126..=0xffff => {
            one.push(0x80 | 126);
            one.extend_from_slice(&(payload as u16).to_be_bytes());
        }
        _ => {
            one.push(0x80 | 127);
            one.extend_from_slice(&(payload as u64).to_be_bytes());
        }
    }
    one.extend_from_slice(&[1, 2, 3, 4]);
    one.extend(std::iter::repeat_n(0x5a, payload));
    let count = total / one.len();
    one.repeat(count)
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("observer_parse");
    for (name, payload) in [("frames_64B", 64), ("frames_16KiB", 16 * 1024)] {
        let stream = frames(payload, 4 * 1024 * 1024);
        group.throughput(Throughput::Bytes(stream.len() as u64));
        let mut tokens = Vec::new();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut observer = LinkObserver::new();
                tokens.clear();
                observer.feed(Way::Upstream, REQUEST, &mut tokens);
                for read in stream.chunks(READ_BYTES) {
                    tokens.clear();
                    observer.feed(Way::Upstream, read, &mut tokens);
                }
                tokens.len()
            })
        });
    }
    group.finish();
}

fn through_proxy(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for (group_name, payload) in [("proxy_ws_bulk_16KiB", 16 * 1024), ("proxy_ws_bulk_64B", 64)] {
        // Whole frames only, so every iteration starts on a frame boundary.
        let iteration = frames(payload, BULK_BYTES);
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Bytes(iteration.len() as u64));
        group.measurement_time(Duration::from_secs(5));
        for (name, head) in [("followed", REQUEST), ("opaque", &b""[..])] {
            let (mut stream, _stack) = runtime.block_on(async {
                let upstream = common::counting_sink(head.len(), iteration.len()).await;
                let stack = common::proxy(upstream).await;
                let mut stream = Transport::Live.connect(stack.proxy_addr()).await.unwrap();
                stream.write_all(head).await.unwrap();
                (stream, stack)
            });
            group.bench_function(name, |b| {
                b.iter_custom(|iters| runtime.block_on(common::bulk(&mut stream, &iteration, iters)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, parse, through_proxy);
criterion_main!(benches);
