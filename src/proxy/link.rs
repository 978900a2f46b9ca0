//! One proxied connection: the only code in wschaos that reads and writes proxied sockets.
//!
//! A link moves bytes both ways between the client's stream and the server's. Every chunk read
//! is shown to the frame observer (through its [`Flow`]), whose findings become events: the
//! upgrade answer, the first data frame, control frames, and the client's index from the
//! upgrade request, which lets faults target clients. With no fault active the bytes then take
//! a plain copy loop over a reused buffer per way (the fast path). With faults the link hands
//! each chunk to its flow and writes what the flow says is due, when it is due. All of it runs
//! in one `poll_fn`, so a control message, a read, a write or a deadline is handled in
//! whichever order it happens, and no wait can block another: that is what makes every fault's
//! wait cancellable and lets a reset hit an idle link at once.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use super::LinkId;
use super::control::{Control, LinkCommand, OpenedLink};
use super::events::{CloseCause, EventKind};
use super::flow::Flow;
use crate::fault::FaultId;
use crate::fault::Gate;
use crate::net::Stream;
use crate::tls;
use crate::wire::HANDSHAKE_TIMEOUT;
use crate::ws::Way;
use crate::ws::observer::{Head, Token};

mod findings;
use findings::{obey, report};

/// A way's copy buffer starts this small, so the many idle WebSocket links of a large run cost
/// little memory (the budget is 64 KiB per client chain: README.md, "Performance").
const FIRST_BUFFER_BYTES: usize = 4 * 1024;
/// A buffer that a read fills completely doubles, up to this, so bulk transfers get the large
/// buffers that loopback throughput needs.
const MAX_BUFFER_BYTES: usize = 64 * 1024;
/// After a graceful close by a fault, the client's last bytes (its answer to a Close frame, say)
/// are read and discarded for up to this long before the socket is dropped: dropping a TCP
/// socket with unread bytes sends an RST, which could overtake what was sent before it.
const LINGER: Duration = Duration::from_secs(1);

/// One way's copy state.
#[derive(Debug)]
struct CopyState {
    /// Bytes read on the fast path and not yet written.
    buffer: Vec<u8>,
    filled: usize,
    written: usize,
    /// The source reached end of file.
    eof: bool,
    /// The destination has been shut down (FIN sent) after the end of file.
    shut: bool,
    /// The end of file arrived while a fault swallowed this way: it is never passed on.
    eof_swallowed: bool,
}

impl CopyState {
    fn new() -> CopyState {
        CopyState {
            buffer: vec![0; FIRST_BUFFER_BYTES],
            filled: 0,
            written: 0,
            eof: false,
            shut: false,
            eof_swallowed: false,
        }
    }

    fn pending(&self) -> bool {
        self.written < self.filled
    }

    /// Whether this way is over: its source closed, and the close was passed on or swallowed.
    /// A link whose two ways are over has no peer left, blackholed or not, so it ends: a
    /// swallowed FIN is never passed on, and waiting for that would keep both sockets (in
    /// CLOSE-WAIT) and let later faults count hits on a link nobody is on.
    fn finished(&self) -> bool {
        self.eof && (self.shut || self.eof_swallowed)
    }
}

/// What woke the link.
enum Wake {
    Command(Option<LinkCommand>),
    Read(Way, io::Result<usize>),
    Wrote { way: Way, fast: bool, result: io::Result<usize> },
    Shut(Way),
    Timer,
}

/// How the link ended, and what to do to its streams.
enum End {
    Finished,
    Reset(FaultId),
    Close(FaultId),
    ClientError(io::ErrorKind),
    ServerError(io::ErrorKind),
    HandshakeTimeout,
}

/// What the observer found in the chunks of one link, beyond each frame: for its events.
#[derive(Debug, Default)]
struct LinkFindings {
    /// Whether a data frame has crossed each way yet.
    data: [bool; 2],
    /// The findings of the chunk being handled (a reused buffer).
    findings: Vec<Token>,
}

/// A running link: its two streams, its flow, and what its loop keeps from one turn to the
/// next.
struct Link {
    // In the order the teardown drops them: the streams last, the client after the server.
    seen: LinkFindings,
    copies: [CopyState; 2],
    flow: Flow,
    commands: mpsc::UnboundedReceiver<LinkCommand>,
    control: Control,
    server: Stream,
    client: Stream,
    id: LinkId,
    /// Whether `commands` may still deliver a command.
    commands_open: bool,
    /// When a held upgrade request must be complete: [`HANDSHAKE_TIMEOUT`] after the link
    /// opened.
    handshake_deadline: Instant,
}

/// Runs a link until it ends; reports its events through `control`.
pub(super) async fn run(opened: OpenedLink, client: Stream, server: Stream, control: Control) {
    let timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(timer);
    let (mut link, end) = Link::open(opened, client, server, control);
    let end = link.pump(end, timer).await;
    link.close(end).await;
}

impl Link {
    /// Setup: a link with empty copy buffers, its flow under the faults it opens under (and
    /// holding the upgrade request if it must); returns how those faults end it, if they do.
    fn open(opened: OpenedLink, client: Stream, server: Stream, control: Control) -> (Link, Option<End>) {
        let OpenedLink { link: id, commands, initial, hold_request, strip_deflate } = opened;
        let mut flow = Flow::new();
        if hold_request {
            flow.hold_request();
        }
        if strip_deflate {
            flow.strip_deflate();
        }
        let mut end = None;
        for command in initial {
            end = end.or(obey(&mut flow, command));
        }
        let (copies, seen) = ([CopyState::new(), CopyState::new()], LinkFindings::default());
        let handshake_deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        let link = Link {
            id,
            client,
            server,
            control,
            commands,
            flow,
            copies,
            seen,
            commands_open: true,
            handshake_deadline,
        };
        (link, end)
    }

    /// The I/O loop: reports and checks, waits for whatever comes first, handles it, until the
    /// link ends (`end` is how the initial commands ended it, if they did).
    async fn pump(&mut self, mut end: Option<End>, mut timer: Pin<&mut Sleep>) -> End {
        loop {
            if let Some(end) = self.ends(end.take()) {
                return end;
            }
            let wake = poll_fn(|cx| self.poll(cx, timer.as_mut())).await;
            end = self.handle(wake);
        }
    }

    /// Polls everything the link waits on, in priority order: control first, so a reset is never
    /// stuck behind traffic; then each way's writes before its reads, so bytes drain before more
    /// come in; then the earliest deadline.
    fn poll(&mut self, cx: &mut Context<'_>, mut timer: Pin<&mut Sleep>) -> Poll<Wake> {
        if self.commands_open
            && let Poll::Ready(command) = self.commands.poll_recv(cx)
        {
            return Poll::Ready(Wake::Command(command));
        }
        let flow = &self.flow;
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        for way in Way::BOTH {
            let (source, sink) = match way {
                Way::Upstream => (&mut self.client, &mut self.server),
                Way::Downstream => (&mut self.server, &mut self.client),
            };
            let copy = &mut self.copies[way as usize];
            if flow.gate(way) != Gate::Hold {
                if copy.pending() {
                    let bytes = &copy.buffer[copy.written..copy.filled];
                    if let Poll::Ready(result) = Pin::new(&mut *sink).poll_write(cx, bytes) {
                        return Poll::Ready(Wake::Wrote { way, fast: true, result });
                    }
                } else if let Some(bytes) = flow.due(way, now) {
                    if let Poll::Ready(result) = Pin::new(&mut *sink).poll_write(cx, bytes) {
                        return Poll::Ready(Wake::Wrote { way, fast: false, result });
                    }
                } else if let Some(at) = flow.next_deadline(way) {
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                } else if copy.eof && !copy.shut && !copy.eof_swallowed && flow.drained(way) {
                    // The shutdown result does not matter: the peer is gone either way.
                    if Pin::new(&mut *sink).poll_shutdown(cx).is_ready() {
                        return Poll::Ready(Wake::Shut(way));
                    }
                }
            }
            if !copy.eof && !copy.pending() && flow.accepts(way) {
                let mut buf = ReadBuf::new(&mut copy.buffer);
                if let Poll::Ready(result) = Pin::new(&mut *source).poll_read(cx, &mut buf) {
                    let filled = buf.filled().len();
                    return Poll::Ready(Wake::Read(way, result.map(|()| filled)));
                }
            }
        }
        if self.flow.holds_request() {
            let at = self.handshake_deadline;
            earliest = Some(earliest.map_or(at, |e| e.min(at)));
        }
        if let Some(at) = earliest {
            if timer.deadline() != at {
                timer.as_mut().reset(at);
            }
            if timer.poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
        }
        Poll::Pending
    }

    /// The top of each turn: emits the fault hits and the faults not applied since the last
    /// turn, then says whether the link ends now: by `end`, by a fault closing it, or because
    /// both peers are gone.
    fn ends(&mut self, end: Option<End>) -> Option<End> {
        let link = self.id;
        for fault in self.flow.take_hits() {
            self.control.events().emit(EventKind::FaultHit { fault, link: Some(link) });
        }
        for (fault, why) in self.flow.take_not_applied() {
            self.control.events().emit(EventKind::FaultNotApplied { fault, link, why });
        }
        if end.is_some() {
            return end;
        }
        if let Some(id) = self.flow.should_close() {
            return Some(End::Close(id));
        }
        if self.flow.holds_request() && Instant::now() >= self.handshake_deadline {
            return Some(End::HandshakeTimeout);
        }
        self.copies.iter().all(CopyState::finished).then_some(End::Finished)
    }

    /// Handles what woke the link; returns how the link ends if that ends it.
    fn handle(&mut self, wake: Wake) -> Option<End> {
        match wake {
            Wake::Command(None) => self.commands_open = false,
            Wake::Command(Some(command)) => return obey(&mut self.flow, command),
            Wake::Read(way, Ok(0)) => {
                self.copies[way as usize].eof = true;
                self.copies[way as usize].eof_swallowed = self.flow.gate(way) == Gate::Swallow;
            }
            Wake::Read(way, Ok(read)) => return self.on_chunk(way, read),
            Wake::Read(Way::Upstream, Err(error)) => return Some(End::ClientError(error.kind())),
            Wake::Read(Way::Downstream, Err(error)) => return Some(End::ServerError(error.kind())),
            Wake::Wrote { way, result: Ok(0), .. } | Wake::Wrote { way, result: Err(_), .. } => {
                return Some(match way {
                    Way::Upstream => End::ServerError(io::ErrorKind::WriteZero),
                    Way::Downstream => End::ClientError(io::ErrorKind::WriteZero),
                });
            }
            Wake::Wrote { way, fast: true, result: Ok(written) } => {
                let copy = &mut self.copies[way as usize];
                copy.written += written;
                if !copy.pending() {
                    copy.filled = 0;
                    copy.written = 0;
                }
            }
            Wake::Wrote { way, fast: false, result: Ok(written) } => self.flow.consume(way, written),
            Wake::Shut(way) => self.copies[way as usize].shut = true,
            Wake::Timer => {}
        }
        None
    }

    /// A chunk of `read` bytes arrived on `way`, in its copy buffer: the observer sees it and
    /// its findings are reported, then the bytes take the fast path (a clear flow) or go to the
    /// flow; a full read grows the buffer.
    fn on_chunk(&mut self, way: Way, read: usize) -> Option<End> {
        let mut end = None;
        let copy = &mut self.copies[way as usize];
        let seen = &mut self.seen;
        seen.findings.clear();
        let findings = self.flow.observe(way, &copy.buffer[..read]);
        seen.findings.extend(findings.iter().filter(|t| !matches!(t, Token::Bytes { .. })).cloned());
        // Identification first: the faults it starts act on this very chunk.
        for finding in &seen.findings {
            // The upgrade request names the client; on wss:// the ClientHello's server name.
            let client = match finding {
                Token::Head(Head::Request { client: Some(client), .. }) => Some(*client),
                Token::ServerName(Some(name)) => tls::client_of_name(name),
                _ => None,
            };
            if let Some(client) = client {
                for command in self.control.identify(self.id, client) {
                    end = end.take().or(obey(&mut self.flow, command));
                }
            }
        }
        if self.flow.is_clear() {
            copy.filled = read;
            copy.written = 0;
        } else {
            self.flow.on_chunk(Instant::now(), way, Bytes::copy_from_slice(&copy.buffer[..read]));
        }
        // Then the events, once the faults have said which control frames go on.
        let mut control_ends = 0;
        for finding in &seen.findings {
            report(self.id, way, finding, &mut seen.data, &self.control, &self.flow, &mut control_ends);
        }
        if read == copy.buffer.len() && copy.buffer.len() < MAX_BUFFER_BYTES {
            copy.buffer.resize(copy.buffer.len() * 2, 0);
        }
        end
    }

    /// Teardown: does to the streams what `end` calls for, and reports the link closed.
    async fn close(mut self, end: End) {
        let cause = match end {
            End::Finished => CloseCause::Finished,
            End::Reset(id) => {
                self.client.reset();
                self.server.reset();
                self.control.close_link(self.id, CloseCause::FaultReset(id));
                return;
            }
            End::Close(id) => {
                let _ = self.client.shutdown().await;
                let _ = self.server.shutdown().await;
                drop(self.server);
                self.control.close_link(self.id, CloseCause::FaultClosed(id));
                linger(self.client).await;
                return;
            }
            End::ClientError(kind) => {
                mirror(kind, self.server).await;
                CloseCause::ClientError(kind)
            }
            End::ServerError(kind) => {
                mirror(kind, self.client).await;
                CloseCause::ServerError(kind)
            }
            End::HandshakeTimeout => {
                // The server never saw a byte of the request; both sides get a plain close.
                let _ = self.server.shutdown().await;
                let _ = self.client.shutdown().await;
                CloseCause::HandshakeTimeout
            }
        };
        self.control.close_link(self.id, cause);
    }
}

/// Reads and discards what the client still sends after a graceful close, until it closes too
/// or [`LINGER`] passes.
async fn linger(mut client: Stream) {
    let mut discard = [0u8; 1024];
    let drain = async { while matches!(client.read(&mut discard).await, Ok(read) if read > 0) {} };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// Passes a failure on to the other side: a reset as a reset, anything else as a close.
async fn mirror(kind: io::ErrorKind, mut other: Stream) {
    if kind == io::ErrorKind::ConnectionReset {
        other.reset();
    } else {
        let _ = other.shutdown().await;
    }
}
