//! The one seam between the engines: a [`Transport`] binds listeners and opens streams, either on
//! real loopback TCP (live) or on the in-memory network of [`sim`] (sim).
//!
//! Everything above this module (proxy, server, client) is written once against [`Listener`] and
//! [`Stream`]; which engine runs is decided by the `Transport` value handed in. Enums rather than
//! trait objects keep the fast copy path free of dynamic dispatch and boxing.

pub mod accept;
pub mod sim;

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

pub use sim::{SimListener, SimNet, SimStream};

/// The listen backlog every live listener asks for, at least: the queue of connections the
/// kernel has completed but nobody has accepted yet. `tokio::net::TcpListener::bind` asks for
/// 128 (mio 1.2 copies the standard library's value). After a mass reset 4,000 clients
/// reconnect within milliseconds, and with 128 the kernel dropped 26,633 SYNs at the proxy
/// (`TcpExtListenOverflows`, issue 13): clients waited out SYN retransmits (1 s, 3 s, …) that
/// no fault had asked for, and the harness blamed their strategy. The kernel still caps the
/// request at `net.core.somaxconn` (4096 by default since Linux 5.4).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Where Linux keeps the cap on listen backlogs.
const SOMAXCONN_PATH: &str = "/proc/sys/net/core/somaxconn";

/// The backlog live listeners ask for: [`LISTEN_BACKLOG`], or the kernel's `somaxconn` when
/// that is larger (a machine tuned for many connections should get what it was tuned for).
pub fn listen_backlog() -> u32 {
    static BACKLOG: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *BACKLOG.get_or_init(|| {
        let somaxconn =
            std::fs::read_to_string(SOMAXCONN_PATH).ok().and_then(|text| text.trim().parse().ok());
        somaxconn.unwrap_or(0).max(LISTEN_BACKLOG)
    })
}

/// Decides whether a connection arriving at a listener is admitted (`true`) or refused.
///
/// The proxy installs one to play the `refuse` fault. It is called once per arriving connection,
/// in arrival order, so a seeded decision inside it stays deterministic on the sim engine.
pub type AdmitFn = Arc<dyn Fn() -> bool + Send + Sync>;

thread_local! {
    /// Set while a sim run owns this thread: real sockets would break its paused clock.
    static SIM_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Refuses real sockets on this thread until the guard drops. The sim engine holds one while
/// it runs: tokio's paused clock jumps to the next timer whenever every task is idle, and a
/// task waiting on a real socket looks idle, so one real socket would turn timeouts into
/// instant failures that depend on the machine (docs/simulation.md, "No real sockets in sim").
pub fn refuse_real_sockets() -> RealSocketGuard {
    RealSocketGuard { before: SIM_THREAD.with(|flag| flag.replace(true)) }
}

/// Whether this thread may open real sockets now.
pub fn real_sockets_allowed() -> bool {
    !SIM_THREAD.with(Cell::get)
}

/// Restores the thread's permission to open real sockets when dropped.
#[derive(Debug)]
pub struct RealSocketGuard {
    before: bool,
}

impl Drop for RealSocketGuard {
    fn drop(&mut self) {
        SIM_THREAD.with(|flag| flag.set(self.before));
    }
}

fn refused() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "the sim engine refuses real sockets: use the sim transport")
}

/// Where listeners and streams come from.
#[derive(Clone, Debug)]
pub enum Transport {
    /// Real TCP. Addresses should be on loopback; tests bind `127.0.0.1:0`.
    Live,
    /// The in-memory network: no socket is ever opened.
    Sim(SimNet),
}

impl Transport {
    /// A fresh in-memory network.
    pub fn sim() -> Transport {
        Transport::Sim(SimNet::new())
    }

    /// Binds a listener; port 0 picks a free port (read it back with [`Listener::local_addr`]).
    /// Live listeners get a backlog of [`listen_backlog`].
    pub async fn bind(&self, addr: SocketAddr) -> io::Result<Listener> {
        match self {
            Transport::Live if !real_sockets_allowed() => Err(refused()),
            Transport::Live => Ok(Listener::Live { inner: bind_live(addr)?, admission: None }),
            Transport::Sim(net) => Ok(Listener::Sim(net.bind(addr)?)),
        }
    }

    /// Opens a stream to a listener. A missing or refusing listener gives `ConnectionRefused`.
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<Stream> {
        match self {
            Transport::Live if !real_sockets_allowed() => Err(refused()),
            Transport::Live => {
                #[allow(clippy::disallowed_methods, reason = "the one place real connections are made")]
                let stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                Ok(Stream::Live(stream))
            }
            Transport::Sim(net) => Ok(Stream::Sim(net.connect(addr)?)),
        }
    }

    /// Whether this is the in-memory network.
    pub fn is_sim(&self) -> bool {
        matches!(self, Transport::Sim(_))
    }
}

/// A TCP listener on `addr` with the backlog of [`listen_backlog`]. SO_REUSEADDR is set as
/// `TcpListener::bind` sets it on Unix, so a port of a run that just ended can be bound again
/// while its old connections sit in TIME-WAIT.
#[allow(clippy::disallowed_methods, reason = "the one place real listeners are made")]
fn bind_live(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(listen_backlog())
}

/// A bound listener.
pub enum Listener {
    /// A TCP listener, with the admission rule the proxy may install.
    Live {
        /// The socket.
        inner: TcpListener,
        /// Refused connections are reset as soon as they are accepted.
        admission: Option<AdmitFn>,
    },
    /// An in-memory listener.
    Sim(SimListener),
}

impl Listener {
    /// The bound address, with the real port when 0 was asked for.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Listener::Live { inner, .. } => inner.local_addr(),
            Listener::Sim(listener) => Ok(listener.local_addr()),
        }
    }

    /// Installs the rule that admits or refuses each arriving connection.
    ///
    /// On the sim network a refused `connect` fails with `ConnectionRefused`. On live TCP the
    /// kernel completes the handshake before any program sees the connection, so a refused one
    /// is accepted and reset at once: the client sees `ConnectionReset` before the upgrade
    /// answer, the closest an application can come to a refusal (toxiproxy #72).
    pub fn set_admission(&mut self, rule: AdmitFn) {
        match self {
            Listener::Live { admission, .. } => *admission = Some(rule),
            Listener::Sim(listener) => listener.set_admission(rule),
        }
    }

    /// Waits for the next admitted connection.
    pub async fn accept(&mut self) -> io::Result<(Stream, SocketAddr)> {
        match self {
            Listener::Live { inner, admission } => loop {
                let (stream, peer) = inner.accept().await?;
                if admission.as_ref().is_some_and(|admit| !admit()) {
                    let _ = stream.set_zero_linger();
                    drop(stream);
                    continue;
                }
                stream.set_nodelay(true)?;
                return Ok((Stream::Live(stream), peer));
            },
            Listener::Sim(listener) => {
                let (stream, peer) = listener.accept().await?;
                Ok((Stream::Sim(stream), peer))
            }
        }
    }
}

/// A byte stream from either engine.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Live(TcpStream),
    /// One end of an in-memory pipe.
    Sim(SimStream),
    /// TLS over either of the others (`wss://`): the client's or the server's side, from
    /// tokio-rustls. Boxed: a TLS connection carries about 1 KiB of state.
    Tls(Box<tokio_rustls::TlsStream<Stream>>),
}

impl Stream {
    /// This end's address; the proxy reports the client's as the link's peer, so the two can
    /// be matched.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Stream::Live(stream) => stream.local_addr().ok(),
            Stream::Sim(stream) => stream.local_addr(),
            Stream::Tls(stream) => stream.get_ref().0.local_addr(),
        }
    }

    /// Aborts the connection: the peer's next read or write fails with `ConnectionReset`.
    ///
    /// Live streams get SO_LINGER 0 here, at the moment of the reset and on this socket only,
    /// so that dropping them sends an RST; setting it at link start, as toxiproxy does, turns
    /// every later close into a reset whether a fault fired or not (toxiproxy #603).
    pub fn reset(self) {
        match self {
            Stream::Live(stream) => {
                let _ = stream.set_zero_linger();
            }
            Stream::Sim(stream) => stream.reset(),
            Stream::Tls(stream) => match *stream {
                tokio_rustls::TlsStream::Client(stream) => stream.into_inner().0.reset(),
                tokio_rustls::TlsStream::Server(stream) => stream.into_inner().0.reset(),
            },
        }
    }
}

impl From<tokio_rustls::client::TlsStream<Stream>> for Stream {
    fn from(stream: tokio_rustls::client::TlsStream<Stream>) -> Stream {
        Stream::Tls(Box::new(tokio_rustls::TlsStream::Client(stream)))
    }
}

impl From<tokio_rustls::server::TlsStream<Stream>> for Stream {
    fn from(stream: tokio_rustls::server::TlsStream<Stream>) -> Stream {
        Stream::Tls(Box::new(tokio_rustls::TlsStream::Server(stream)))
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Live(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Sim(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Live(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Sim(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Live(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Sim(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Live(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Sim(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The loopback address with port 0: what tests and the runner bind.
pub fn any_loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
