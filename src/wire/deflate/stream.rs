//! [`Deflate`]: a byte stream under tungstenite that speaks permessage-deflate on the wire and
//! plain RFC 6455 above. Each direction passes its HTTP head through, then reads frames: a
//! compressed message coming in (RSV1 on its first frame) is gathered, inflated and handed up
//! as one plain frame; a whole data frame going out is deflated and sent with RSV1 set. Control
//! frames and uncompressed messages pass as they are.
//!
//! Anything it cannot or should not transform (a frame over the message limit, reserved bits
//! where none belong, an answer other than 101, no extension agreed) is passed on untouched
//! and the direction stops transforming: tungstenite above then fails the connection for what
//! it is (1009, 1002), just as without the adapter.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::frames::{answer_params, apply_mask, head_end, parse_head, put_frame, put_head};
use super::{Codec, Inflated, InvalidCompressedData, Params};
use crate::wire::MAX_MESSAGE_BYTES;

/// Which end of the connection this stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// It answers the upgrade; what it receives is masked.
    Server,
    /// It sends the upgrade; what it sends is masked.
    Client,
}

/// Where a direction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Passing the HTTP head through until its blank line.
    Head,
    /// Reading frames and transforming compressed ones.
    Frames,
    /// Passing everything through untouched, for good.
    Through,
}

/// The longest HTTP head looked for; past it the direction passes everything through.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Bytes waiting to go out above which a write waits for the socket: one large message's
/// worth, so memory stays bounded while a slow peer reads.
const HIGH_WATER: usize = 256 * 1024;

/// A stream that speaks permessage-deflate below and plain WebSocket above.
pub struct Deflate<S> {
    inner: S,
    role: Role,
    /// The agreed compression; `None` until agreed (a client) or when none was.
    codec: Option<Codec>,
    reading: Reading,
    writing: Writing,
}

/// The incoming direction.
struct Reading {
    phase: Phase,
    /// Bytes read from the socket and not handled yet.
    raw: Vec<u8>,
    /// Bytes ready for the reader above, from `ready_at` on.
    ready: Vec<u8>,
    ready_at: usize,
    /// A compressed message being gathered: its opcode and the payload so far.
    message: Option<(u8, Vec<u8>)>,
    /// The socket has ended.
    eof: bool,
}

/// The outgoing direction.
struct Writing {
    phase: Phase,
    /// Bytes written from above and not handled yet (a head or a frame not whole yet).
    taken: Vec<u8>,
    /// Bytes for the socket, from `out_at` on.
    out: Vec<u8>,
    out_at: usize,
}

impl<S> Deflate<S> {
    /// The server's end of a connection whose upgrade agreed on `params` (none: the stream
    /// only passes bytes). The request head has been read already; the answer is written
    /// through this stream, and a non-101 answer turns the compression off.
    pub fn server(inner: S, params: Option<Params>) -> Deflate<S> {
        let (read_phase, write_phase) =
            if params.is_some() { (Phase::Frames, Phase::Head) } else { (Phase::Through, Phase::Through) };
        Deflate::new(
            inner,
            Role::Server,
            params.map(|p| Codec::new(p, Role::Server)),
            read_phase,
            write_phase,
        )
    }

    /// The client's end, before its upgrade (which offers [`super::CLIENT_OFFER`]): the server's
    /// answer says whether, and how, to compress.
    pub fn client(inner: S) -> Deflate<S> {
        Deflate::new(inner, Role::Client, None, Phase::Head, Phase::Head)
    }

    fn new(inner: S, role: Role, codec: Option<Codec>, read: Phase, write: Phase) -> Deflate<S> {
        Deflate {
            inner,
            role,
            codec,
            reading: Reading {
                phase: read,
                raw: Vec::new(),
                ready: Vec::new(),
                ready_at: 0,
                message: None,
                eof: false,
            },
            writing: Writing { phase: write, taken: Vec::new(), out: Vec::new(), out_at: 0 },
        }
    }

    /// Whether the connection compresses (known once the upgrade is answered).
    pub fn compressing(&self) -> bool {
        self.codec.is_some() && self.reading.phase != Phase::Through
    }

    /// The stream below.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S> Deflate<S> {
    /// Handles what `raw` holds, putting what the reader above gets into `ready`.
    fn handle_incoming(&mut self) -> io::Result<()> {
        loop {
            let reading = &mut self.reading;
            match reading.phase {
                Phase::Through => {
                    reading.ready.append(&mut reading.raw);
                    return Ok(());
                }
                Phase::Head => {
                    let Some(end) = head_end(&reading.raw) else {
                        if reading.raw.len() > MAX_HEAD_BYTES {
                            reading.phase = Phase::Through;
                            continue;
                        }
                        return Ok(());
                    };
                    let head: Vec<u8> = reading.raw.drain(..end).collect();
                    // A client learns here what the server agreed to.
                    self.codec = answer_params(&head).map(|params| Codec::new(params, self.role));
                    reading.ready.extend_from_slice(&head);
                    reading.phase = if self.codec.is_some() { Phase::Frames } else { Phase::Through };
                }
                Phase::Frames => {
                    if !self.incoming_frame()? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Handles one whole frame at the start of `raw`; `false` when there is none yet.
    fn incoming_frame(&mut self) -> io::Result<bool> {
        let reading = &mut self.reading;
        let Some(head) = parse_head(&reading.raw) else { return Ok(false) };
        let gathered = reading.message.as_ref().map_or(0, |(_, payload)| payload.len() as u64);
        if head.len.saturating_add(gathered) > MAX_MESSAGE_BYTES as u64 {
            // Too big to gather: tungstenite fails it (1009) from the header it is handed,
            // this one or, for a message gathered so far, one announcing it over the limit.
            if let Some((opcode, _)) = reading.message.take() {
                let mask = (self.role == Role::Server).then_some([0; 4]);
                put_head(&mut reading.ready, 0x80 | opcode, mask, MAX_MESSAGE_BYTES as u64 + 1);
                reading.raw.clear();
            }
            reading.phase = Phase::Through;
            return Ok(true);
        }
        let total = head.size + head.len as usize;
        if reading.raw.len() < total {
            return Ok(false);
        }
        let control = head.opcode >= 8;
        let compressed_start = head.rsv == 0x40 && matches!(head.opcode, 1 | 2) && reading.message.is_none();
        let continuation = head.opcode == 0 && head.rsv == 0 && reading.message.is_some();
        if !(compressed_start || continuation) {
            if head.rsv != 0 || (control && head.len > 125) {
                // Reserved bits this extension does not define: tungstenite fails it (1002).
                reading.phase = Phase::Through;
                return Ok(true);
            }
            reading.ready.extend(reading.raw.drain(..total));
            return Ok(true);
        }
        let mut payload: Vec<u8> = reading.raw.drain(..total).skip(head.size).collect();
        if let Some(key) = head.mask {
            apply_mask(&mut payload, key);
        }
        let (opcode, mut whole) = match reading.message.take() {
            Some((opcode, mut gathered)) => {
                gathered.extend_from_slice(&payload);
                (opcode, gathered)
            }
            None => (head.opcode, payload),
        };
        if !head.fin {
            reading.message = Some((opcode, whole));
            return Ok(true);
        }
        let codec = self.codec.as_mut().expect("frames are transformed only with a codec");
        // What the peer sends comes masked from a client; a zero key leaves it as it is.
        let mask = (self.role == Role::Server).then_some([0; 4]);
        match codec.decompress(&whole, MAX_MESSAGE_BYTES) {
            Ok(message) => put_frame(&mut self.reading.ready, 0x80 | opcode, mask, &message),
            Err(Inflated::TooBig) => {
                // Announce a frame over the limit: tungstenite fails it with 1009.
                put_head(&mut self.reading.ready, 0x80 | opcode, mask, MAX_MESSAGE_BYTES as u64 + 1);
                self.reading.phase = Phase::Through;
            }
            Err(Inflated::Invalid) => {
                whole.clear();
                return Err(io::Error::new(io::ErrorKind::InvalidData, InvalidCompressedData));
            }
        }
        Ok(true)
    }

    /// Takes `bytes` written from above, putting what goes to the socket into `out`.
    fn handle_outgoing(&mut self, bytes: &[u8]) {
        let writing = &mut self.writing;
        if writing.phase == Phase::Through {
            writing.out.extend_from_slice(bytes);
            return;
        }
        writing.taken.extend_from_slice(bytes);
        loop {
            let writing = &mut self.writing;
            match writing.phase {
                Phase::Through => {
                    writing.out.append(&mut writing.taken);
                    return;
                }
                Phase::Head => {
                    let Some(end) = head_end(&writing.taken) else {
                        if writing.taken.len() > MAX_HEAD_BYTES {
                            writing.phase = Phase::Through;
                            continue;
                        }
                        return;
                    };
                    let head: Vec<u8> = writing.taken.drain(..end).collect();
                    // A server whose answer is not a 101 (a 401) sends a body, not frames.
                    let upgraded = self.role == Role::Client || head.starts_with(b"HTTP/1.1 101");
                    writing.out.extend_from_slice(&head);
                    writing.phase = if upgraded { Phase::Frames } else { Phase::Through };
                    if !upgraded {
                        self.codec = None;
                        self.reading.phase = Phase::Through;
                    }
                }
                Phase::Frames => {
                    let Some(codec) = self.codec.as_mut() else {
                        // A client whose offer the server declined.
                        writing.phase = Phase::Through;
                        continue;
                    };
                    let Some(head) = parse_head(&writing.taken) else { return };
                    let total = head.size.saturating_add(head.len as usize);
                    if writing.taken.len() < total {
                        return;
                    }
                    let whole_data = head.fin && head.rsv == 0 && matches!(head.opcode, 1 | 2);
                    if !whole_data {
                        writing.out.extend(writing.taken.drain(..total));
                        continue;
                    }
                    let mut payload: Vec<u8> = writing.taken.drain(..total).skip(head.size).collect();
                    if let Some(key) = head.mask {
                        apply_mask(&mut payload, key);
                    }
                    let compressed = codec.compress(&payload);
                    put_frame(&mut writing.out, 0x80 | 0x40 | head.opcode, head.mask, &compressed);
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Deflate<S> {
    /// Writes out what `out` holds until it is empty or the socket is full.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let writing = &mut self.writing;
        while writing.out_at < writing.out.len() {
            let written =
                std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &writing.out[writing.out_at..]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            writing.out_at += written;
        }
        writing.out.clear();
        writing.out_at = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deflate<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let reading = &mut this.reading;
            if reading.ready_at < reading.ready.len() {
                let count = (reading.ready.len() - reading.ready_at).min(buf.remaining());
                buf.put_slice(&reading.ready[reading.ready_at..reading.ready_at + count]);
                reading.ready_at += count;
                if reading.ready_at == reading.ready.len() {
                    reading.ready.clear();
                    reading.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if reading.phase == Phase::Through && reading.raw.is_empty() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            this.handle_incoming()?;
            let reading = &mut this.reading;
            if !reading.ready.is_empty() {
                continue;
            }
            if reading.eof {
                // A frame cut short by the end: handed up as it is, then the end.
                reading.ready.append(&mut reading.raw);
                if reading.ready.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let mut chunk = [0u8; 8 * 1024];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf))?;
            let filled = chunk_buf.filled();
            if filled.is_empty() {
                this.reading.eof = true;
            } else {
                this.reading.raw.extend_from_slice(filled);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deflate<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let writing = &this.writing;
        if writing.phase == Phase::Through && writing.out.is_empty() && writing.taken.is_empty() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        if this.poll_drain(cx)?.is_pending() && this.writing.out.len() - this.writing.out_at > HIGH_WATER {
            return Poll::Pending;
        }
        this.handle_outgoing(buf);
        // Start sending at once; what the socket cannot take yet goes on the next write or
        // flush (tungstenite flushes after every message).
        let _ = this.poll_drain(cx)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Deflate<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("inner", &self.inner)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}
