//! One proxied connection: the only code in wschaos that reads and writes proxied sockets.
//!
//! A link moves bytes both ways between the client's stream and the server's. With no fault
//! active it is a plain copy loop over a reused buffer per way (the fast path). With faults it
//! hands each chunk to its [`Flow`] and writes what the flow says is due, when it is due. All of
//! it runs in one `poll_fn`, so a control message, a read, a write or a deadline is handled in
//! whichever order it happens, and no wait can block another: that is what makes every fault's
//! wait cancellable and lets a reset hit an idle link at once.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use super::control::{Command, Control};
use super::events::{CloseCause, EventKind};
use super::flow::Flow;
use super::{FaultId, LinkId};
use crate::fault::{Gate, LinkAction, Way};
use crate::net::Stream;
use crate::wire::CLIENT_HEADER;

/// A way's copy buffer starts this small, so the many idle WebSocket links of a large run cost
/// little memory (DESIGN.md §8: 64 KiB per client chain).
const FIRST_BUFFER_BYTES: usize = 4 * 1024;
/// A buffer that a read fills completely doubles, up to this, so bulk transfers get the large
/// buffers that loopback throughput needs.
const MAX_BUFFER_BYTES: usize = 64 * 1024;
/// The upgrade request is looked at for the client header only within its first bytes.
const SNIFF_LIMIT_BYTES: usize = 8 * 1024;

/// One way's copy state.
#[derive(Debug)]
struct Copy {
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

impl Copy {
    fn new() -> Copy {
        Copy {
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
}

/// What woke the link.
enum Wake {
    Command(Option<Command>),
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
}

/// Runs a link until it ends; reports its events through `control`.
pub(super) async fn run(
    link: LinkId,
    mut client: Stream,
    mut server: Stream,
    control: Control,
    mut commands: mpsc::UnboundedReceiver<Command>,
    initial: Vec<Command>,
) {
    let mut flow = Flow::new();
    let mut copies = [Copy::new(), Copy::new()];
    let mut sniffed = 0usize;
    let mut commands_open = true;
    let timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(timer);

    let mut end = None;
    for command in initial {
        end = end.or(obey(&mut flow, command));
    }
    let end = loop {
        for fault in flow.take_hits() {
            control.events().emit(EventKind::FaultHit { fault, link: Some(link) });
        }
        if let Some(end) = end.take() {
            break end;
        }
        if let Some(id) = flow.should_close() {
            break End::Close(id);
        }
        if copies.iter().all(|copy| copy.eof && copy.shut) {
            break End::Finished;
        }
        let wake = poll_fn(|cx| {
            poll_link(
                cx,
                &mut client,
                &mut server,
                &mut copies,
                &flow,
                &mut commands,
                commands_open,
                timer.as_mut(),
            )
        })
        .await;
        match wake {
            Wake::Command(None) => commands_open = false,
            Wake::Command(Some(command)) => end = obey(&mut flow, command),
            Wake::Read(way, Ok(0)) => {
                copies[way as usize].eof = true;
                copies[way as usize].eof_swallowed = flow.gate(way) == Gate::Swallow;
            }
            Wake::Read(way, Ok(read)) => {
                let copy = &mut copies[way as usize];
                if way == Way::Upstream && sniffed < SNIFF_LIMIT_BYTES {
                    sniffed += read;
                    if let Some(client_index) = client_index(&copy.buffer[..read]) {
                        for command in control.identify(link, client_index) {
                            end = end.or(obey(&mut flow, command));
                        }
                    }
                }
                if flow.is_clear() {
                    copy.filled = read;
                    copy.written = 0;
                } else {
                    flow.on_chunk(Instant::now(), way, Bytes::copy_from_slice(&copy.buffer[..read]));
                }
                if read == copy.buffer.len() && copy.buffer.len() < MAX_BUFFER_BYTES {
                    copy.buffer.resize(copy.buffer.len() * 2, 0);
                }
            }
            Wake::Read(Way::Upstream, Err(error)) => end = Some(End::ClientError(error.kind())),
            Wake::Read(Way::Downstream, Err(error)) => end = Some(End::ServerError(error.kind())),
            Wake::Wrote { way, result: Ok(0), .. } | Wake::Wrote { way, result: Err(_), .. } => {
                end = Some(match way {
                    Way::Upstream => End::ServerError(io::ErrorKind::WriteZero),
                    Way::Downstream => End::ClientError(io::ErrorKind::WriteZero),
                })
            }
            Wake::Wrote { way, fast: true, result: Ok(written) } => {
                let copy = &mut copies[way as usize];
                copy.written += written;
                if !copy.pending() {
                    copy.filled = 0;
                    copy.written = 0;
                }
            }
            Wake::Wrote { way, fast: false, result: Ok(written) } => flow.consume(way, written),
            Wake::Shut(way) => copies[way as usize].shut = true,
            Wake::Timer => {}
        }
    };
    let cause = match end {
        End::Finished => CloseCause::Finished,
        End::Reset(id) => {
            client.reset();
            server.reset();
            control.close_link(link, CloseCause::FaultReset(id));
            return;
        }
        End::Close(id) => {
            let _ = client.shutdown().await;
            let _ = server.shutdown().await;
            CloseCause::FaultClosed(id)
        }
        End::ClientError(kind) => {
            mirror(kind, server).await;
            CloseCause::ClientError(kind)
        }
        End::ServerError(kind) => {
            mirror(kind, client).await;
            CloseCause::ServerError(kind)
        }
    };
    control.close_link(link, cause);
}

/// Passes a failure on to the other side: a reset as a reset, anything else as a close.
async fn mirror(kind: io::ErrorKind, mut other: Stream) {
    if kind == io::ErrorKind::ConnectionReset {
        other.reset();
    } else {
        let _ = other.shutdown().await;
    }
}

/// Applies a control command; returns how the link ends if the command ends it.
fn obey(flow: &mut Flow, command: Command) -> Option<End> {
    match command {
        Command::Start(id, fault) => match flow.start(id, fault, Instant::now()) {
            LinkAction::Nothing => None,
            LinkAction::Reset => Some(End::Reset(id)),
            LinkAction::Close => Some(End::Close(id)),
        },
        Command::End(id) => {
            flow.end(id);
            None
        }
    }
}

/// Polls everything the link waits on, in priority order: control first, so a reset is never
/// stuck behind traffic; then each way's writes before its reads, so bytes drain before more
/// come in; then the earliest deadline.
#[allow(clippy::too_many_arguments)]
fn poll_link(
    cx: &mut Context<'_>,
    client: &mut Stream,
    server: &mut Stream,
    copies: &mut [Copy; 2],
    flow: &Flow,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    commands_open: bool,
    mut timer: Pin<&mut Sleep>,
) -> Poll<Wake> {
    if commands_open && let Poll::Ready(command) = commands.poll_recv(cx) {
        return Poll::Ready(Wake::Command(command));
    }
    let now = Instant::now();
    let mut earliest: Option<Instant> = None;
    for way in Way::BOTH {
        let (source, sink) = match way {
            Way::Upstream => (&mut *client, &mut *server),
            Way::Downstream => (&mut *server, &mut *client),
        };
        let copy = &mut copies[way as usize];
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

/// The client index in an upgrade request's `x-wschaos-client` header, if this chunk has one.
fn client_index(request: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(request).ok().or_else(|| {
        // A chunk may end inside a multi-byte character; the headers we need are ASCII.
        let valid = std::str::from_utf8(request).err()?.valid_up_to();
        std::str::from_utf8(&request[..valid]).ok()
    })?;
    let head = text.split("\r\n\r\n").next()?;
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if name.trim().eq_ignore_ascii_case(CLIENT_HEADER) { value.trim().parse().ok() } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::client_index;

    #[test]
    fn finds_the_client_header_in_an_upgrade_request() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Wschaos-Client: 17\r\nUpgrade: websocket\r\n\r\n";
        assert_eq!(client_index(request), Some(17));
        assert_eq!(
            client_index(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nx-wschaos-client: 3\r\n"),
            None,
            "body ignored"
        );
        assert_eq!(client_index(b"GET / HTTP/1.1\r\nx-wschaos-client: many\r\n\r\n"), None);
    }
}
