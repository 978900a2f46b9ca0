//! The in-memory network of the sim engine: named listeners in a registry, and streams that are
//! the two ends of a `tokio::io::duplex` pipe.
//!
//! No real socket is ever opened. That is what lets the sim engine run on a paused
//! current-thread runtime: tokio advances the clock only when every task is idle, and a real
//! socket would make "idle" depend on the kernel. Every call here completes without I/O, so
//! connection order (and therefore every seeded decision) depends only on task scheduling,
//! which is deterministic on one thread.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;

use super::AdmitFn;

/// Bytes a pipe holds in each direction before a writer has to wait, like a socket buffer.
const PIPE_BUFFER_BYTES: usize = 64 * 1024;

/// First port handed out for port 0, above the privileged range as a real kernel would.
const FIRST_EPHEMERAL_PORT: u16 = 1024;

/// An in-memory network. Clones share the same registry.
#[derive(Clone, Debug, Default)]
pub struct SimNet {
    registry: Arc<Mutex<Registry>>,
}

#[derive(Default)]
struct Registry {
    /// Bound listeners by address; a `BTreeMap` so nothing depends on hash order.
    listeners: BTreeMap<SocketAddr, Entry>,
    /// The next port to try for port 0 binds and for the client end of connections.
    next_port: u16,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("listeners", &self.listeners.keys()).finish()
    }
}

struct Entry {
    /// Where new connections are queued for `accept`.
    queue: mpsc::UnboundedSender<(SimStream, SocketAddr)>,
    /// The rule that may refuse a connection.
    admission: Option<AdmitFn>,
    /// A test hook ([`SimNet::fail_accepts`]): the OS error every accept fails with while set.
    accept_failure: Option<i32>,
}

impl SimNet {
    /// An empty network.
    pub fn new() -> SimNet {
        SimNet::default()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding this lock is a bug elsewhere; the registry itself stays valid.
        self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Binds `addr`; port 0 picks the next free port.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<SimListener> {
        let mut registry = self.lock();
        let addr = if addr.port() == 0 {
            let port = registry.free_port(addr)?;
            SocketAddr::new(addr.ip(), port)
        } else {
            addr
        };
        if registry.listeners.contains_key(&addr) {
            return Err(io::Error::new(io::ErrorKind::AddrInUse, format!("{addr} is already bound")));
        }
        let (queue, incoming) = mpsc::unbounded_channel();
        registry.listeners.insert(addr, Entry { queue, admission: None, accept_failure: None });
        Ok(SimListener { net: self.clone(), addr, incoming, pending: None })
    }

    /// Connects to the listener at `addr`.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<SimStream> {
        let refused =
            || io::Error::new(io::ErrorKind::ConnectionRefused, format!("{addr} refused the connection"));
        let mut registry = self.lock();
        let local = SocketAddr::new(addr.ip(), registry.free_port(addr)?);
        let entry = registry.listeners.get(&addr).ok_or_else(refused)?;
        if entry.admission.as_ref().is_some_and(|admit| !admit()) {
            return Err(refused());
        }
        let (mut client, mut server) = SimStream::pair();
        client.local = Some(local);
        server.local = Some(addr);
        entry.queue.send((server, local)).map_err(|_| refused())?;
        Ok(client)
    }
}

impl SimNet {
    /// A test hook: while `errno` is set, every accept on the listener at `addr` fails with
    /// that OS error once a connection waits, and the connection stays queued, as with a
    /// process out of descriptors (EMFILE leaves it in the kernel's backlog); `None` lets
    /// accepts through again. Tests of the accept loops' backoff use it.
    pub fn fail_accepts(&self, addr: SocketAddr, errno: Option<i32>) {
        if let Some(entry) = self.lock().listeners.get_mut(&addr) {
            entry.accept_failure = errno;
        }
    }
}

impl Registry {
    /// A port not bound on `addr`'s IP, taken from a counter that wraps inside the ephemeral range.
    fn free_port(&mut self, addr: SocketAddr) -> io::Result<u16> {
        for _ in 0..=u16::MAX {
            if self.next_port < FIRST_EPHEMERAL_PORT {
                self.next_port = FIRST_EPHEMERAL_PORT;
            }
            let port = self.next_port;
            self.next_port = self.next_port.wrapping_add(1);
            if !self.listeners.contains_key(&SocketAddr::new(addr.ip(), port)) {
                return Ok(port);
            }
        }
        Err(io::Error::new(io::ErrorKind::AddrNotAvailable, "the sim network has no free port"))
    }
}

/// A listener on the in-memory network. Dropping it unbinds the address.
#[derive(Debug)]
pub struct SimListener {
    net: SimNet,
    addr: SocketAddr,
    incoming: mpsc::UnboundedReceiver<(SimStream, SocketAddr)>,
    /// A connection taken off the queue whose accept failed (the test hook): the next accept
    /// hands it out.
    pending: Option<(SimStream, SocketAddr)>,
}

impl SimListener {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Installs the rule consulted by every `connect` to this listener.
    pub fn set_admission(&mut self, rule: AdmitFn) {
        if let Some(entry) = self.net.lock().listeners.get_mut(&self.addr) {
            entry.admission = Some(rule);
        }
    }

    /// Waits for the next connection.
    pub async fn accept(&mut self) -> io::Result<(SimStream, SocketAddr)> {
        if self.pending.is_none() {
            // The sender lives in the registry until this listener drops, so `None` cannot
            // happen while `self` exists; map it to an error rather than trusting that.
            let next =
                self.incoming.recv().await.ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotConnected, "the sim listener was unbound")
                })?;
            self.pending = Some(next);
        }
        let failure = self.net.lock().listeners.get(&self.addr).and_then(|entry| entry.accept_failure);
        match failure {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => Ok(self.pending.take().expect("filled above")),
        }
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        self.net.lock().listeners.remove(&self.addr);
    }
}

/// Shared by both ends of a pipe: once reset, every read and write on either end fails.
#[derive(Debug, Default)]
struct ResetState {
    reset: AtomicBool,
    /// Tasks blocked on either end, woken by a reset so they see it at once.
    waiting: Mutex<[Option<Waker>; 4]>,
}

impl ResetState {
    /// Fails once reset; otherwise makes sure slot `slot` holds the polling task's waker.
    /// `published` is this end's copy of what it last put in the slot: while the same task
    /// polls, the shared slot already holds its waker and the lock is skipped (most polls).
    fn check(&self, cx: &Context<'_>, slot: usize, published: &mut Option<Waker>) -> io::Result<()> {
        if self.reset.load(Ordering::Acquire) {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer"));
        }
        if published.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
            return Ok(());
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match &mut waiting[slot] {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        *published = waiting[slot].clone();
        Ok(())
    }

    fn trip(&self) {
        self.reset.store(true, Ordering::Release);
        let mut waiting = self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for waker in waiting.iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }
}

/// One end of an in-memory connection.
#[derive(Debug)]
pub struct SimStream {
    pipe: DuplexStream,
    /// This end's address (the client end gets an ephemeral port).
    local: Option<SocketAddr>,
    state: Arc<ResetState>,
    /// 0 or 1: which end this is, to pick its waker slots.
    end: usize,
    /// The wakers this end last put in its read and write slots.
    published: [Option<Waker>; 2],
}

impl SimStream {
    /// Two connected ends.
    pub fn pair() -> (SimStream, SimStream) {
        let (a, b) = tokio::io::duplex(PIPE_BUFFER_BYTES);
        let state = Arc::new(ResetState::default());
        (
            SimStream { pipe: a, local: None, state: state.clone(), end: 0, published: [None, None] },
            SimStream { pipe: b, local: None, state, end: 1, published: [None, None] },
        )
    }

    /// This end's address, when it came from `connect` or `accept`.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// Aborts the connection, as an RST does: both ends' next read or write fails with
    /// `ConnectionReset`, and a task blocked on either end wakes to see it.
    pub fn reset(self) {
        self.state.trip();
    }
}

impl AsyncRead for SimStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.state.check(cx, this.end * 2, &mut this.published[0])?;
        Pin::new(&mut this.pipe).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.state.check(cx, this.end * 2 + 1, &mut this.published[1])?;
        Pin::new(&mut this.pipe).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.state.check(cx, this.end * 2 + 1, &mut this.published[1])?;
        Pin::new(&mut this.pipe).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.state.check(cx, this.end * 2 + 1, &mut this.published[1])?;
        Pin::new(&mut this.pipe).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[tokio::test(start_paused = true)]
    async fn connect_accept_and_exchange_bytes() {
        let net = SimNet::new();
        let mut listener = net.bind(addr(0)).unwrap();
        assert!(listener.local_addr().port() >= FIRST_EPHEMERAL_PORT);
        let mut client = net.connect(listener.local_addr()).unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_ne!(peer, listener.local_addr());
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.shutdown().await.unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 0, "shutdown is seen as EOF");
    }

    #[tokio::test(start_paused = true)]
    async fn refused_without_listener_or_by_admission_and_after_unbind() {
        let net = SimNet::new();
        let missing = net.connect(addr(9)).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::ConnectionRefused);

        let mut listener = net.bind(addr(0)).unwrap();
        let at = listener.local_addr();
        assert_eq!(net.bind(at).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        listener.set_admission(Arc::new(|| false));
        assert_eq!(net.connect(at).unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
        listener.set_admission(Arc::new(|| true));
        assert!(net.connect(at).is_ok());
        drop(listener);
        assert_eq!(net.connect(at).unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    }

    #[tokio::test(start_paused = true)]
    async fn reset_fails_both_ends_and_wakes_a_blocked_reader() {
        let (mut a, b) = SimStream::pair();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            a.read(&mut buf).await.unwrap_err().kind()
        });
        tokio::task::yield_now().await;
        let (mut c, d) = SimStream::pair();
        d.reset();
        assert_eq!(c.write_all(b"x").await.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        b.reset();
        assert_eq!(reader.await.unwrap(), io::ErrorKind::ConnectionReset);
    }
}
