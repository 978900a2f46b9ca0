//! What the live-loopback benches share: a counting sink server, a fault-free proxy, and the
//! bulk-transfer loop.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wschaos::net::{Stream, Transport, any_loopback};
use wschaos::stack::Stack;

/// A server on loopback that, per connection, skips the first `skip` bytes (a request), then
/// answers one byte for every `per_ack` bytes it reads.
pub async fn counting_sink(skip: usize, per_ack: usize) -> SocketAddr {
    let mut listener = Transport::Live.bind(any_loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                let mut skip = skip;
                let mut received = 0usize;
                while let Ok(read) = stream.read(&mut buf).await {
                    if read == 0 {
                        break;
                    }
                    received += read.saturating_sub(skip);
                    skip = skip.saturating_sub(read);
                    while received >= per_ack {
                        received -= per_ack;
                        if stream.write_all(&[1]).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A fault-free proxy on loopback in front of `upstream`; it runs while the stack is kept.
pub async fn proxy(upstream: SocketAddr) -> Stack {
    Stack::upstream(&Transport::Live, upstream).start().await.unwrap()
}

/// Sends `bytes` `iters` times, in 256 KiB writes, waiting after each for the sink's one-byte
/// acknowledgement; returns the time taken.
pub async fn bulk(stream: &mut Stream, bytes: &[u8], iters: u64) -> Duration {
    let start = Instant::now();
    let mut ack = [0u8; 1];
    for _ in 0..iters {
        for chunk in bytes.chunks(256 * 1024) {
            stream.write_all(chunk).await.unwrap();
        }
        stream.read_exact(&mut ack).await.unwrap();
    }
    start.elapsed()
}
