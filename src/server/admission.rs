//! The shell around the capacity model (`capacity`): holds a connection whose SYN the full
//! backlog dropped until its retransmit, answers shed connections, queues the rest for a
//! handshake slot, holds each upgrade's request for its service time and decides, when that is
//! over, whether it won under contention.
//!
//! Everything here runs inside the server, on both engines, so sim and live follow one model:
//! live keeps the kernel's own backlog large (the listener's default) and never drops a SYN
//! itself; this file stands in for the kernel's queue. A dropped SYN is modelled by not reading
//! the connection: the client's upgrade stalls exactly as its connect would, and its request is
//! read when the retransmit arrives (the SYN-ACK a real client would then get). One difference
//! from a kernel: a client that gave up meanwhile still "retransmits" here, finds its peer gone
//! on the first read and frees its place at once.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Sleep, sleep, timeout};
use tokio_tungstenite::accept_hdr_async_with_config;
use tokio_tungstenite::tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tracing::debug;

use super::capacity::{Admission, Arrival, Ticket, Turned, syn_retransmit_after};
use super::handshake::{Authorize, Prefixed};
use super::session::{self, SHUTDOWN_GRACE, SessionStop, Shared};
use crate::net::Stream;
use crate::scenario::{Capacity, Shed};
use crate::wire::websocket_config;

/// A read buffer for the first chunk of an upgrade request: a whole request from the
/// reference client (about 300 bytes) fits, and a longer one is simply read in more chunks.
const FIRST_READ: usize = 4096;

/// The capacity state every connection of one server shares.
#[derive(Debug)]
pub(crate) struct Gate {
    /// The queue and the commits, behind a lock never held across an `.await`.
    admission: Mutex<Admission>,
    /// Handshake slots, if limited; tokio's semaphore serves waiters first-come first-served.
    slots: Option<Arc<Semaphore>>,
    /// The rules, for drawing service times.
    capacity: Capacity,
}

impl Gate {
    /// The gate for `capacity`, with an empty queue.
    pub(crate) fn new(capacity: &Capacity) -> Arc<Gate> {
        Arc::new(Gate {
            admission: Mutex::new(Admission::new(capacity)),
            slots: capacity.concurrent.map(|k| Arc::new(Semaphore::new(k as usize))),
            capacity: capacity.clone(),
        })
    }

    /// Draws one upgrade's service time; called by the accept loop in accept order, so the
    /// draws follow the seed and not task scheduling.
    pub(crate) fn draw_service(&self, rng: &mut ChaCha8Rng) -> Duration {
        self.capacity.service_time.draw_with(self.capacity.service_spread, rng)
    }

    fn admission(&self) -> MutexGuard<'_, Admission> {
        // A panic while holding the lock is a bug elsewhere; the queue stays usable.
        self.admission.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One upgrade's share of the capacity model, handed to the session: its service time, the
/// ticket taken when its request arrived, and its handshake slot until the upgrade is decided.
#[derive(Clone, Debug)]
pub(crate) struct Service {
    gate: Arc<Gate>,
    shared: Arc<Shared>,
    time: Duration,
    ticket: Arc<Mutex<Option<Ticket>>>,
    permit: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

/// Runs one accepted connection through the capacity rules, then serves it as a session.
pub(crate) async fn admit(
    stream: Stream,
    shared: Arc<Shared>,
    gate: Arc<Gate>,
    latency: Duration,
    service_time: Duration,
    mut stop: SessionStop,
) -> std::io::Result<()> {
    let mut retransmit = 0;
    loop {
        let arrival = gate.admission().arrive();
        match arrival {
            Arrival::Wait => break,
            Arrival::Drop => {
                shared.ledger().turned_away(Turned::BacklogFull);
                let Some(after) = syn_retransmit_after(retransmit) else {
                    debug!("SYN retries spent: the connect times out");
                    shared.ledger().handshake_failed();
                    return Ok(());
                };
                retransmit += 1;
                tokio::select! {
                    biased;
                    () = stop.wait() => {
                        shared.ledger().handshake_failed();
                        return Ok(());
                    }
                    () = sleep(after) => {}
                }
            }
            Arrival::Shed(answer) => {
                shed(stream, &shared, answer, &mut stop).await;
                return Ok(());
            }
        }
    }
    let permit = match &gate.slots {
        None => None,
        Some(slots) => tokio::select! {
            biased;
            () = stop.wait() => {
                gate.admission().leave_queue();
                shared.ledger().handshake_failed();
                return Ok(());
            }
            permit = slots.clone().acquire_owned() => Some(permit.expect("the slots are never closed")),
        },
    };
    gate.admission().leave_queue();
    let service = Service {
        gate,
        shared: shared.clone(),
        time: service_time,
        ticket: Arc::default(),
        permit: Arc::new(Mutex::new(permit)),
    };
    session::run(stream, shared, latency, stop, Some(service)).await
}

/// Answers a shed connection: an HTTP error to its upgrade, or the upgrade and then a Close.
/// Shedding sits before authentication, as a load shedder in front of a server does.
async fn shed(stream: Stream, shared: &Shared, answer: Shed, stop: &mut SessionStop) {
    let answered = match answer {
        Shed::Status { code, retry_after } => {
            let refuse = Refuse { code, retry_after };
            let handshake = accept_hdr_async_with_config(stream, refuse, Some(websocket_config()));
            tokio::select! {
                biased;
                () = stop.wait() => false,
                outcome = handshake => outcome.is_err(),
            }
        }
        Shed::Close(code) => {
            let open = Authorize { token: None, signed: None, extensions: None };
            let handshake = accept_hdr_async_with_config(stream, open, Some(websocket_config()));
            let ws = tokio::select! {
                biased;
                () = stop.wait() => None,
                outcome = handshake => outcome.ok(),
            };
            match ws {
                Some(mut ws) => {
                    let close = CloseFrame {
                        code: CloseCode::from(code),
                        reason: "overloaded, try again later".into(),
                    };
                    let _ = timeout(SHUTDOWN_GRACE, ws.close(Some(close))).await;
                    true
                }
                None => false,
            }
        }
    };
    let mut ledger = shared.ledger();
    if answered {
        ledger.turned_away(match answer {
            Shed::Status { code, .. } => Turned::ShedStatus(code),
            Shed::Close(code) => Turned::ShedClose(code),
        });
        if matches!(answer, Shed::Status { .. }) {
            ledger.handshake_rejected();
        }
    } else {
        ledger.handshake_failed();
    }
}

/// The upgrade check with the capacity model's decision after it: the token is checked first
/// (a 401 commits nothing), then, under contention, whether the upgrade won.
pub(crate) struct Admit {
    /// The bearer-token check.
    pub(crate) authorize: Authorize,
    /// The upgrade's share of the capacity model, with capacity rules.
    pub(crate) service: Option<Service>,
}

impl Callback for Admit {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        let response = self.authorize.on_request(request, response)?;
        let Some(service) = self.service else { return Ok(response) };
        let ticket = service.ticket.lock().unwrap_or_else(|p| p.into_inner()).take();
        let won = ticket.is_none_or(|ticket| service.gate.admission().commit(ticket));
        // The upgrade is decided: its slot goes to the next in the queue.
        drop(service.permit.lock().unwrap_or_else(|p| p.into_inner()).take());
        if won {
            Ok(response)
        } else {
            service.shared.ledger().turned_away(Turned::ContentionLost);
            Err(unavailable(None))
        }
    }
}

/// A shedding answer as a tungstenite callback.
struct Refuse {
    code: u16,
    retry_after: Option<Duration>,
}

impl Callback for Refuse {
    fn on_request(self, _: &Request, _: Response) -> Result<Response, ErrorResponse> {
        let mut answer = unavailable(self.retry_after);
        *answer.status_mut() = StatusCode::from_u16(self.code).expect("validated as 429 or 503");
        Err(answer)
    }
}

/// A 503 with `Retry-After` if given; `Connection: close` tells the client the server hangs up.
fn unavailable(retry_after: Option<Duration>) -> ErrorResponse {
    let body = "overloaded, try again later\n";
    let mut builder = http::Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CONNECTION, "close");
    if let Some(after) = retry_after {
        builder = builder.header(header::RETRY_AFTER, after.as_secs());
    }
    builder.body(Some(body.to_string())).expect("a fixed response with valid headers")
}

/// A stream that holds an upgrade's request for its service time: the first chunk read starts
/// the service (and takes the contention ticket), and is handed on only when the service time
/// is over, so tungstenite's check (and [`Admit`]'s decision) runs at the end of the service.
#[derive(Debug)]
pub(crate) struct Held<S> {
    /// The connection, with the held first chunk handed out first once the service is over.
    inner: Prefixed<S>,
    service: Option<Service>,
    /// The first chunk, read and not yet handed on.
    held: Vec<u8>,
    /// The service time running; `None` before the first chunk and once it is over.
    timer: Option<Pin<Box<Sleep>>>,
    started: bool,
}

impl<S> Held<S> {
    /// Wraps `inner`; without a service, reads pass straight through.
    pub(crate) fn new(inner: S, service: Option<Service>) -> Held<S> {
        Held {
            inner: Prefixed::new(Vec::new(), inner),
            service,
            held: Vec::new(),
            timer: None,
            started: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(service) = &this.service else { return Pin::new(&mut this.inner).poll_read(cx, buf) };
        if !this.started {
            let mut chunk = vec![0u8; FIRST_READ];
            let mut first = ReadBuf::new(&mut chunk);
            ready!(Pin::new(this.inner.inner_mut()).poll_read(cx, &mut first))?;
            let read = first.filled().len();
            if read == 0 {
                return Poll::Ready(Ok(()));
            }
            chunk.truncate(read);
            this.held = chunk;
            this.started = true;
            let ticket = service.gate.admission().begin();
            *service.ticket.lock().unwrap_or_else(|p| p.into_inner()) = Some(ticket);
            this.timer = Some(Box::pin(sleep(service.time)));
        }
        if let Some(timer) = &mut this.timer {
            ready!(timer.as_mut().poll(cx));
            this.timer = None;
            this.inner.set_prefix(std::mem::take(&mut this.held));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
