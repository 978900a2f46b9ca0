//! One open connection: heartbeats, the read timeout, the workload's sends and the echoes,
//! until the connection breaks (with its reason) or the client is told to stop.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

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

/// Runs an open connection until it ends.
pub(crate) async fn run(ctx: &mut Context, mut socket: Socket) -> Ended {
    let opened = Instant::now();
    let settings = ctx.config.strategy.settings;
    let broken = |reason: Reason, close_reason: String| Ended::Broken {
        reason,
        uptime: opened.elapsed(),
        close_reason,
    };
    let mut deadlines = Deadlines {
        next_ping: settings.heartbeat.map(|heartbeat| opened + heartbeat.ping_every),
        pong_due: None,
        read_by: settings.read_timeout.map(|timeout| opened + timeout),
    };
    let mut echoed_here = false;

    for (seq, resend) in ctx.outbox.on_open() {
        if let Err(reason) = send(ctx, &mut socket, seq, &deadlines).await {
            return broken(reason, String::new());
        }
        ctx.emit(ClientEventKind::Sent { seq, resend });
    }

    // One stop future for the whole connection: made afresh on every turn of the loop, it
    // would join and leave the stop signal's waiter list once per message.
    let mut stop = ctx.stop.clone();
    let stop_signal = stopped(&mut stop);
    tokio::pin!(stop_signal);
    loop {
        let due = ctx.next_due();
        tokio::select! {
            biased;
            () = &mut stop_signal => {
                let frame = CloseFrame { code: CloseCode::Normal, reason: "run over".into() };
                let _ = tokio::time::timeout(CLOSE_GRACE, socket.close(Some(frame))).await;
                return Ended::Stopped;
            }
            () = sleep_until(deadlines.pong_due.unwrap_or_else(Instant::now)), if deadlines.pong_due.is_some() => {
                return broken(Reason::HeartbeatTimeout, String::new());
            }
            () = sleep_until(deadlines.read_by.unwrap_or_else(Instant::now)), if deadlines.read_by.is_some() => {
                return broken(Reason::ReadTimeout, String::new());
            }
            frame = socket.next() => {
                if let Some(timeout) = settings.read_timeout {
                    deadlines.read_by = Some(Instant::now() + timeout);
                }
                match frame {
                    Some(Ok(Message::Binary(bytes))) => {
                        if let Some(header) = Header::decode(&bytes).filter(|h| h.client == ctx.config.index) {
                            echoed(ctx, header, &mut echoed_here);
                        }
                    }
                    Some(Ok(Message::Pong(_))) => deadlines.pong_due = None,
                    Some(Ok(Message::Ping(_))) => {
                        // tungstenite queued the pong; make sure it leaves now.
                        if let Err(error) = socket.flush().await {
                            return broken(reason(&error), String::new());
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, text) = frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
                        return broken(Reason::CloseFrame(code), text);
                    }
                    Some(Ok(Message::Text(_) | Message::Frame(_))) => {}
                    Some(Err(error)) => return broken(reason(&error), String::new()),
                    None => return broken(Reason::Eof, String::new()),
                }
            }
            () = sleep_until(deadlines.next_ping.unwrap_or_else(Instant::now)), if deadlines.next_ping.is_some() => {
                let heartbeat = settings.heartbeat.expect("pings are scheduled only with a heartbeat");
                deadlines.next_ping = deadlines.next_ping.map(|at| at + heartbeat.ping_every);
                if let Some(timeout) = heartbeat.pong_timeout {
                    deadlines.pong_due = deadlines.pong_due.or(Some(Instant::now() + timeout));
                }
                if let Err(reason) = write(&mut socket, Message::Ping(Default::default()), &deadlines).await {
                    return broken(reason, String::new());
                }
            }
            () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                let Some(schedule) = ctx.schedule.as_mut() else { continue };
                let seq = schedule.take();
                ctx.emit(ClientEventKind::Offered { seq });
                match ctx.outbox.due(seq, true) {
                    Due::Send => {
                        if let Err(reason) = send(ctx, &mut socket, seq, &deadlines).await {
                            return broken(reason, String::new());
                        }
                        ctx.emit(ClientEventKind::Sent { seq, resend: false });
                    }
                    Due::Queued => {}
                    Due::Dropped(why) => ctx.emit(ClientEventKind::Dropped { seq, why }),
                }
            }
        }
    }
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
