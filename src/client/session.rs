//! One open connection: heartbeats, the read timeout, the workload's sends and the echoes,
//! until the connection breaks (with its reason) or the client is told to stop.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::connection::{Socket, reason};
use super::delivery::{Due, Echo};
use super::events::{ClientEventKind, DropReason, Reason};
use super::{Context, stopped};
use crate::wire::Header;

/// How long a stopping client waits for its Close frame to be written.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How an open connection ended.
pub(crate) enum Ended {
    /// The client was told to stop; it closed with 1000.
    Stopped,
    /// The connection broke.
    Broken {
        /// How the client noticed.
        reason: Reason,
        /// How long it had been open.
        uptime: Duration,
        /// The Close frame's reason text, if one came.
        close_reason: String,
    },
}

/// Heartbeat and read-timeout deadlines of one connection.
struct Deadlines {
    next_ping: Option<Instant>,
    pong_due: Option<Instant>,
    read_by: Option<Instant>,
}

/// Why a turn of the connection broke it: how the client noticed, and the Close frame's reason
/// text (empty without one).
type Break = (Reason, String);

/// A break without a Close frame.
fn broke(reason: Reason) -> Break {
    (reason, String::new())
}

/// Runs an open connection until it ends.
pub(crate) async fn run(ctx: &mut Context, mut socket: Socket) -> Ended {
    let opened = Instant::now();
    let settings = ctx.config.strategy.settings;
    let broken =
        |(reason, close_reason): Break| Ended::Broken { reason, uptime: opened.elapsed(), close_reason };
    let mut deadlines = Deadlines {
        next_ping: settings.heartbeat.map(|heartbeat| opened + heartbeat.ping_every),
        pong_due: None,
        read_by: settings.read_timeout.map(|timeout| opened + timeout),
    };
    let mut echoed_here = false;
    if let Err(why) = send_on_open(ctx, &mut socket, &deadlines).await {
        return broken(why);
    }

    // One stop future for the whole connection: made afresh on every turn of the loop, it
    // would join and leave the stop signal's waiter list once per message.
    let mut stop = ctx.stop.clone();
    let stop_signal = stopped(&mut stop);
    tokio::pin!(stop_signal);
    loop {
        let due = ctx.next_due();
        let turn = tokio::select! {
            biased;
            () = &mut stop_signal => return close_on_stop(&mut socket).await,
            () = sleep_until(deadlines.pong_due.unwrap_or_else(Instant::now)), if deadlines.pong_due.is_some() => {
                Err(broke(Reason::HeartbeatTimeout))
            }
            () = sleep_until(deadlines.read_by.unwrap_or_else(Instant::now)), if deadlines.read_by.is_some() => {
                Err(broke(Reason::ReadTimeout))
            }
            frame = socket.next() => on_frame(ctx, &mut socket, frame, &mut deadlines, &mut echoed_here).await,
            () = sleep_until(deadlines.next_ping.unwrap_or_else(Instant::now)), if deadlines.next_ping.is_some() => {
                ping(ctx, &mut socket, &mut deadlines).await
            }
            () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                message_due(ctx, &mut socket, &deadlines).await
            }
        };
        if let Err(why) = turn {
            return broken(why);
        }
    }
}

/// Sends what the outbox holds for a new connection, as the delivery mode says.
async fn send_on_open(ctx: &mut Context, socket: &mut Socket, deadlines: &Deadlines) -> Result<(), Break> {
    for (seq, resend) in ctx.outbox.on_open() {
        send(ctx, socket, seq, deadlines).await.map_err(broke)?;
        ctx.emit(ClientEventKind::Sent { seq, resend });
    }
    Ok(())
}

/// The client was told to stop: it closes with 1000, waiting at most [`CLOSE_GRACE`].
async fn close_on_stop(socket: &mut Socket) -> Ended {
    let frame = CloseFrame { code: CloseCode::Normal, reason: "run over".into() };
    let _ = tokio::time::timeout(CLOSE_GRACE, socket.close(Some(frame))).await;
    Ended::Stopped
}

/// A frame arrived, or the stream ended: pushes the read deadline back, then handles an echo,
/// a pong, a ping (flushing the pong tungstenite queued), a Close frame or the end.
async fn on_frame(
    ctx: &mut Context,
    socket: &mut Socket,
    frame: Option<Result<Message, WsError>>,
    deadlines: &mut Deadlines,
    echoed_here: &mut bool,
) -> Result<(), Break> {
    if let Some(timeout) = ctx.config.strategy.settings.read_timeout {
        deadlines.read_by = Some(Instant::now() + timeout);
    }
    match frame {
        Some(Ok(Message::Binary(bytes))) => {
            if let Some(header) = Header::decode(&bytes).filter(|h| h.client == ctx.config.index) {
                echoed(ctx, header, echoed_here);
            }
        }
        Some(Ok(Message::Pong(_))) => deadlines.pong_due = None,
        // tungstenite queued the pong; make sure it leaves now.
        Some(Ok(Message::Ping(_))) => socket.flush().await.map_err(|error| broke(reason(&error)))?,
        Some(Ok(Message::Close(frame))) => {
            let (code, text) =
                frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
            return Err((Reason::CloseFrame(code), text));
        }
        Some(Ok(Message::Text(_) | Message::Frame(_))) => {}
        Some(Err(error)) => return Err(broke(reason(&error))),
        None => return Err(broke(Reason::Eof)),
    }
    Ok(())
}

/// Time for a heartbeat: schedules the next ping and, if none is pending, the pong deadline,
/// then sends the ping.
async fn ping(ctx: &Context, socket: &mut Socket, deadlines: &mut Deadlines) -> Result<(), Break> {
    let heartbeat =
        ctx.config.strategy.settings.heartbeat.expect("pings are scheduled only with a heartbeat");
    deadlines.next_ping = deadlines.next_ping.map(|at| at + heartbeat.ping_every);
    if let Some(timeout) = heartbeat.pong_timeout {
        deadlines.pong_due = deadlines.pong_due.or(Some(Instant::now() + timeout));
    }
    write(socket, Message::Ping(Default::default()), deadlines).await.map_err(broke)
}

/// A message fell due: it is offered, then sent, queued or dropped as the delivery mode says.
async fn message_due(ctx: &mut Context, socket: &mut Socket, deadlines: &Deadlines) -> Result<(), Break> {
    let Some(schedule) = ctx.schedule.as_mut() else { return Ok(()) };
    let seq = schedule.take();
    ctx.emit(ClientEventKind::Offered { seq });
    match ctx.outbox.due(seq, true) {
        Due::Send => {
            send(ctx, socket, seq, deadlines).await.map_err(broke)?;
            ctx.emit(ClientEventKind::Sent { seq, resend: false });
        }
        Due::Queued => {}
        Due::Dropped(why) => ctx.emit(ClientEventKind::Dropped { seq, why }),
    }
    Ok(())
}

/// An echo of one of this client's messages arrived.
fn echoed(ctx: &mut Context, header: Header, echoed_here: &mut bool) {
    match ctx.outbox.on_echo(header.seq) {
        Echo::First => {
            let latency = Instant::now().saturating_duration_since(ctx.origin + header.intended);
            ctx.emit(ClientEventKind::Echoed { seq: header.seq, latency });
        }
        Echo::Duplicate => ctx.emit(ClientEventKind::Duplicate { seq: header.seq }),
        Echo::Suppressed => ctx.emit(ClientEventKind::DuplicateSuppressed { seq: header.seq }),
    }
    if !*echoed_here {
        *echoed_here = true;
        if ctx.policy.on_first_echo() {
            ctx.emit(ClientEventKind::BackoffReset);
        }
    }
}

/// Writes message `seq` of the workload. A failed write is reported as a drop when the
/// delivery mode will not resend the message, so no message vanishes without an event.
async fn send(ctx: &mut Context, socket: &mut Socket, seq: u64, deadlines: &Deadlines) -> Result<(), Reason> {
    let schedule = ctx.schedule.as_ref().expect("messages exist only with a workload");
    let header = Header { client: ctx.config.index, seq, intended: schedule.intended(seq) };
    let result = write(socket, Message::Binary(header.encode(schedule.size).into()), deadlines).await;
    if result.is_err() && ctx.outbox.write_failed(seq) {
        ctx.emit(ClientEventKind::Dropped { seq, why: DropReason::WriteFailed });
    }
    result
}

/// Writes a frame, giving up at the first heartbeat or read deadline: a write blocked by a
/// stalled link must not keep the client from noticing.
async fn write(socket: &mut Socket, message: Message, deadlines: &Deadlines) -> Result<(), Reason> {
    let limit = match (deadlines.pong_due, deadlines.read_by) {
        (Some(pong), Some(read)) => {
            Some((pong.min(read), if pong <= read { Reason::HeartbeatTimeout } else { Reason::ReadTimeout }))
        }
        (Some(pong), None) => Some((pong, Reason::HeartbeatTimeout)),
        (None, Some(read)) => Some((read, Reason::ReadTimeout)),
        (None, None) => None,
    };
    match limit {
        Some((deadline, missed)) => match tokio::time::timeout_at(deadline, socket.send(message)).await {
            Ok(result) => result.map_err(|error| reason(&error)),
            Err(_) => Err(missed),
        },
        None => socket.send(message).await.map_err(|error| reason(&error)),
    }
}
