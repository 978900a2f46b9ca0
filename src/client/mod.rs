//! The reference reconnecting client: an explicit state machine over any [`Transport`] stream,
//! with seeded backoff, heartbeats, reason-aware reconnect and the delivery modes of
//! docs/reference-client.md, driving an open-model workload and reporting every step as an event.
//!
//! `policy.rs` (when to retry), `delivery.rs` (what happens to each message) and `backoff.rs`
//! (the delays) are pure; `connection.rs` opens sockets; this file runs the states.

pub mod backoff;
mod config;
pub mod connection;
pub mod delivery;
pub mod events;
pub mod policy;
mod session;
pub mod signing;

use std::time::Duration;

use rand::RngExt;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

pub use config::ClientConfig;
pub use events::{ClientEvent, ClientEventKind, ClientSink, DropReason, GiveUp, Reason, State};

use self::backoff::BackoffState;
use self::connection::{Endpoint, Failure, Opened};
use self::delivery::{Due, Outbox};
use self::policy::{Next, Policy};
use self::session::Ended;
use self::signing::Signer;
use crate::net::Transport;
use crate::seeds;

/// Path part of a client's generator for its backoff draws, apart from its other draws.
const BACKOFF_DRAWS: u64 = 1;

/// A way to stop clients: send `true` and every client closes and returns.
pub fn stop_signal() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

/// Completes once the stop signal is `true` (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here so callers' futures stay `Send`.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The open-model workload: message k is due at `start + k/rate`, whatever happened before.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// When message 0 is due.
    start: Instant,
    /// Time between messages.
    interval: Duration,
    /// The next message.
    next: u64,
    /// Where intended send times are counted from (the start of the run).
    origin: Instant,
    /// Bytes per message.
    size: usize,
    /// No message is due at or after this.
    until: Option<Instant>,
}

impl Schedule {
    /// When message `seq` is due.
    fn due_at(&self, seq: u64) -> Instant {
        self.start + self.interval.saturating_mul(u32::try_from(seq).unwrap_or(u32::MAX))
    }

    /// When the next message is due.
    pub(crate) fn next_due(&self) -> Instant {
        self.due_at(self.next)
    }

    /// Message `seq`'s intended send time, from the start of the run.
    pub(crate) fn intended(&self, seq: u64) -> Duration {
        self.due_at(seq).saturating_duration_since(self.origin)
    }

    /// The next message's sequence number, advancing the schedule.
    pub(crate) fn take(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }
}

/// What the states share.
pub(crate) struct Context {
    pub(crate) config: ClientConfig,
    pub(crate) transport: Transport,
    pub(crate) sink: ClientSink,
    pub(crate) target: Endpoint,
    pub(crate) policy: Policy,
    pub(crate) outbox: Outbox,
    pub(crate) schedule: Option<Schedule>,
    pub(crate) stop: watch::Receiver<bool>,
    /// Signs each attempt's URL, with signed handshakes.
    pub(crate) signer: Option<Signer>,
    /// Where the run started: intended times count from here.
    pub(crate) origin: Instant,
}

impl Context {
    pub(crate) fn emit(&self, kind: ClientEventKind) {
        self.sink.emit(self.config.index, kind);
    }

    fn state(&self, state: State) {
        self.emit(ClientEventKind::State(state));
    }

    /// When the next message is due, if there is a workload and it has not ended.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let schedule = self.schedule.as_ref()?;
        let due = schedule.next_due();
        schedule.until.is_none_or(|until| due < until).then_some(due)
    }

    /// A message fell due while the connection is not open.
    fn due_offline(&mut self) {
        let Some(schedule) = &mut self.schedule else { return };
        let seq = schedule.take();
        self.emit(ClientEventKind::Offered { seq });
        if let Due::Dropped(why) = self.outbox.due(seq, false) {
            self.emit(ClientEventKind::Dropped { seq, why });
        }
    }

    /// Runs `work` while the connection is not open, handling messages as they fall due.
    /// `None` when the client was told to stop first.
    async fn offline<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(work);
        loop {
            let due = self.next_due();
            let mut stop = self.stop.clone();
            tokio::select! {
                biased;
                () = stopped(&mut stop) => return None,
                output = &mut work => return Some(output),
                () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => self.due_offline(),
            }
        }
    }
}

/// Runs one client until it gives up or `stop` turns true; returns its final state.
///
/// `origin` is the start of the run: the client waits its seeded start offset from there, and
/// its messages' intended send times count from there.
///
/// The states: Connecting → Open → Broken → Waiting → Connecting …, or Connecting (failed) →
/// Waiting; the policy may give up after a break or a failed attempt (GaveUp), and the stop
/// signal closes the client from any state (Closed). Each state is one step below.
pub async fn run(
    config: ClientConfig,
    transport: Transport,
    sink: ClientSink,
    stop: watch::Receiver<bool>,
    origin: Instant,
) -> State {
    let Some((mut ctx, start)) = prepare(config, transport, sink, stop, origin) else {
        return State::GaveUp;
    };
    ctx.emit(ClientEventKind::Started { session: ctx.target.session });
    let mut stop = ctx.stop.clone();
    tokio::select! {
        biased;
        () = stopped(&mut stop) => return closed(&ctx),
        () = sleep_until(start) => {}
    }
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let next = match connecting(&mut ctx, attempt).await {
            None => return closed(&ctx),
            Some(Ok(opened)) => match open(&mut ctx, attempt, opened).await {
                None => return closed(&ctx),
                Some(next) => next,
            },
            Some(Err(failure)) => attempt_failed(&mut ctx, attempt, failure),
        };
        match next {
            Next::GiveUp(why) => return gave_up(&ctx, why),
            Next::Retry { delay, floor } => {
                if !waiting(&mut ctx, delay, floor).await {
                    return closed(&ctx);
                }
            }
        }
    }
}

/// Setup: draws the client's session id and start offset, builds its backoff, policy,
/// schedule and outbox; returns its context and when it starts, or `None` for a backoff it
/// cannot use.
fn prepare(
    config: ClientConfig,
    transport: Transport,
    sink: ClientSink,
    stop: watch::Receiver<bool>,
    origin: Instant,
) -> Option<(Context, Instant)> {
    let mut rng = seeds::derive(config.seed, &[seeds::CLIENT, u64::from(config.index)]);
    let session: u64 = rng.random();
    let offset = if config.start_spread.is_zero() {
        Duration::ZERO
    } else {
        rng.random_range(Duration::ZERO..=config.start_spread)
    };
    let backoff_rng = seeds::derive(config.seed, &[seeds::CLIENT, u64::from(config.index), BACKOFF_DRAWS]);
    let backoff = match BackoffState::new(&config.strategy.strategy, backoff_rng) {
        Ok(backoff) => backoff,
        Err(error) => {
            // The scenario validator rejects such strategies; a library caller may not have.
            tracing::error!(?error, client = config.index, "invalid backoff");
            return None;
        }
    };
    let policy = Policy::new(
        config.strategy.settings,
        config.strategy.strategy.quirks,
        config.permanent_close_codes.clone(),
        config.normal_close,
        backoff,
    )
    .with_on_unauthorized(config.on_unauthorized);
    let reuse = config.strategy.strategy.quirks.reuse_signed_url;
    let signer = config.credentials.clone().map(|credentials| Signer::new(credentials, reuse));
    let start = origin + offset;
    let schedule = config.workload.map(|workload| Schedule {
        start,
        interval: workload.rate.interval(),
        next: 0,
        origin,
        size: usize::try_from(workload.size_bytes).unwrap_or(usize::MAX),
        until: config.workload_until.map(|until| origin + until),
    });
    let target = Endpoint {
        addr: config.addr,
        url: config.url.clone(),
        client: config.index,
        session,
        token: config.token.clone(),
        subprotocols: config.subprotocols.clone(),
        headers: config.headers.clone(),
        tls: config.tls.clone(),
    };
    let outbox = Outbox::new(config.delivery, config.outbox);
    let context = Context { config, transport, sink, target, policy, outbox, schedule, stop, signer, origin };
    Some((context, start))
}

/// Connecting: attempt `attempt` opens a connection, handling messages that fall due
/// meanwhile; `None` when the client was told to stop first.
async fn connecting(ctx: &mut Context, attempt: u64) -> Option<Result<Opened, Failure>> {
    ctx.state(State::Connecting);
    ctx.emit(ClientEventKind::Attempt { n: attempt });
    let (transport, mut target) = (ctx.transport.clone(), ctx.target.clone());
    if let Some(signer) = &mut ctx.signer {
        target.url = signer.url(&ctx.config.url, target.client, target.session);
    }
    let timeout = ctx.config.strategy.settings.connect_timeout;
    // The handshake and the open connection are boxed: a future is as large as its largest
    // state, so inline they would make every waiting client carry both (9 KiB rather than
    // 4 KiB per client task; README.md's Performance section budgets 64 KiB per client chain).
    ctx.offline(Box::pin(connection::open(&transport, &target, timeout))).await
}

/// Open, then Broken: runs the session on the connection attempt `attempt` opened until it
/// breaks, and returns what the policy says to do next; `None` when the client was told to
/// stop.
async fn open(ctx: &mut Context, attempt: u64, Opened { socket, tls }: Opened) -> Option<Next> {
    if let Some(took) = tls {
        ctx.emit(ClientEventKind::TlsEstablished { n: attempt, took });
    }
    let local = socket.get_ref().local_addr();
    ctx.emit(ClientEventKind::Opened { n: attempt, local });
    ctx.state(State::Open);
    if ctx.policy.on_open() {
        ctx.emit(ClientEventKind::BackoffReset);
    }
    match Box::pin(session::run(ctx, socket)).await {
        Ended::Stopped => None,
        Ended::Broken { reason, uptime, close_reason } => {
            ctx.state(State::Broken);
            ctx.emit(ClientEventKind::Detected(reason.clone()));
            Some(ctx.policy.after_break(&reason, uptime, &close_reason))
        }
    }
}

/// A failed attempt: reports it and returns what the policy says to do next.
fn attempt_failed(ctx: &mut Context, attempt: u64, Failure { reason, retry_after }: Failure) -> Next {
    ctx.emit(ClientEventKind::AttemptFailed { n: attempt, reason: reason.clone() });
    if ctx.policy.refreshes_after(&reason)
        && let Some(signer) = &mut ctx.signer
    {
        signer.refresh();
    }
    ctx.policy.after_failed_attempt(&reason, retry_after)
}

/// Waiting: the backoff `delay` (at least `floor`), handling messages that fall due meanwhile;
/// `false` when the client was told to stop first.
async fn waiting(ctx: &mut Context, delay: Duration, floor: Option<Duration>) -> bool {
    ctx.state(State::Waiting);
    ctx.emit(ClientEventKind::Waiting { delay, floor });
    ctx.offline(tokio::time::sleep(delay)).await.is_some()
}

/// GaveUp: reports why, and it is the final state.
fn gave_up(ctx: &Context, why: GiveUp) -> State {
    ctx.emit(ClientEventKind::GaveUp(why));
    ctx.state(State::GaveUp);
    State::GaveUp
}

/// Closed: the client was told to stop; it is the final state.
fn closed(ctx: &Context) -> State {
    ctx.state(State::Closed);
    State::Closed
}
