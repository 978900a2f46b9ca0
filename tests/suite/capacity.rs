//! The echo server's capacity rules end to end, each one on both engines: the same herd of
//! raw upgrades against the sim network on paused time (exact) and against loopback TCP
//! (127.0.0.1, port 0), whose outcomes must match and whose times agree within the sim-versus-
//! live tolerance of docs/simulation.md (50 ms or 5 %, whichever is larger).

use std::time::Duration;

use tokio::time::Instant;
use tokio_tungstenite::client_async_with_config;
use tokio_tungstenite::tungstenite::Error as WsError;
use wschaos::net::Transport;
use wschaos::scenario::{Capacity, Overload, ServerConfig, Shed};
use wschaos::units::Jittered;
use wschaos::wire::websocket_config;

use crate::server::start;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn fixed(millis: u64) -> Jittered {
    Jittered { base: ms(millis), jitter: Duration::ZERO }
}

/// What one upgrade got: `Ok` or the HTTP status, and when (from the herd's start).
type Outcome = (Result<(), u16>, Duration);

/// Connects `clients` at once (in order) to a server with `capacity`, waits for every upgrade
/// and returns the outcomes sorted (live schedules tasks in any order, so who gets which
/// place may differ, but not the set of places) and the server's turned-away counts.
async fn herd(
    transport: Transport,
    capacity: Capacity,
    clients: usize,
) -> (Vec<Outcome>, Vec<(String, u64)>) {
    let server = start(transport.clone(), ServerConfig { capacity, ..ServerConfig::default() }).await;
    let started = Instant::now();
    let mut upgrades = Vec::new();
    for _ in 0..clients {
        let stream = transport.connect(server.addr).await.unwrap();
        let url = format!("ws://{}/", server.addr);
        upgrades.push(tokio::spawn(async move {
            let outcome = match client_async_with_config(url, stream, Some(websocket_config())).await {
                Ok((ws, _)) => {
                    drop(ws);
                    Ok(())
                }
                Err(WsError::Http(response)) => Err(response.status().as_u16()),
                Err(error) => panic!("the upgrade failed: {error}"),
            };
            (outcome, started.elapsed())
        }));
    }
    let mut outcomes = Vec::new();
    for upgrade in upgrades {
        outcomes.push(upgrade.await.unwrap());
    }
    outcomes.sort_by_key(|(outcome, at)| (*at, outcome.is_err()));
    let stats = server.stop().await;
    (outcomes, stats.turned_away.into_iter().collect())
}

/// The herd on sim must give `expected` exactly; on live the same outcomes, each time within
/// the tolerance.
async fn on_both(
    capacity: Capacity,
    clients: usize,
    expected: &[(Result<(), u16>, u64)],
    turned: &[(&str, u64)],
) {
    let expected: Vec<Outcome> = expected.iter().map(|&(outcome, at)| (outcome, ms(at))).collect();
    let turned: Vec<(String, u64)> = turned.iter().map(|&(why, n)| (why.to_string(), n)).collect();
    let sim = std::thread::spawn({
        let capacity = capacity.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(herd(Transport::sim(), capacity, clients))
        }
    })
    .join()
    .unwrap();
    assert_eq!(sim, (expected.clone(), turned.clone()), "sim");
    let (mut live, live_turned) = herd(Transport::Live, capacity, clients).await;
    assert_eq!(live_turned, turned, "live counts");
    // On live, upgrades that arrive together finish microseconds apart in any order, and which
    // of overlapping upgrades wins is the scheduler's choice: compare the outcomes as a set,
    // each with its time.
    let mut expected = expected;
    let by_outcome = |a: &Outcome, b: &Outcome| (a.0.is_err(), a.0, a.1).cmp(&(b.0.is_err(), b.0, b.1));
    live.sort_by(by_outcome);
    expected.sort_by(by_outcome);
    for ((outcome, at), (want, want_at)) in live.iter().zip(&expected) {
        assert_eq!(outcome, want, "live outcomes: {live:?}");
        let tolerance = ms(50).max(want_at.mul_f64(0.05));
        assert!(at.abs_diff(*want_at) <= tolerance, "live {at:?} against sim {want_at:?}: {live:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_drops_the_connection_until_its_syn_retransmit() {
    // One slot, 100 ms per upgrade, room for two waiting: the fourth of a burst is dropped and
    // comes back 1 s later (Linux's initial SYN RTO), served at 1.1 s.
    let capacity =
        Capacity { backlog: Some(2), concurrent: Some(1), service_time: fixed(100), ..Capacity::default() };
    on_both(
        capacity,
        4,
        &[(Ok(()), 100), (Ok(()), 200), (Ok(()), 300), (Ok(()), 1100)],
        &[("backlog_full", 1)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_handshakes_queue_so_latency_grows_with_load() {
    let capacity = Capacity { concurrent: Some(2), service_time: fixed(100), ..Capacity::default() };
    let expected = [(Ok(()), 100), (Ok(()), 100), (Ok(()), 200), (Ok(()), 200), (Ok(()), 300)];
    on_both(capacity, 5, &expected, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_shedding_depth_upgrades_are_answered_503_at_once() {
    let overload =
        Overload { above: 1, answer: Shed::Status { code: 503, retry_after: Some(Duration::from_secs(2)) } };
    let capacity = Capacity {
        backlog: Some(3),
        concurrent: Some(1),
        service_time: fixed(100),
        overload: Some(overload),
        ..Capacity::default()
    };
    // The first is served, the second waits (depth 1), the third and fourth are shed.
    let expected = [(Err(503), 0), (Err(503), 0), (Ok(()), 100), (Ok(()), 200)];
    on_both(capacity, 4, &expected, &[("shed_503", 2)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_contention_only_the_first_overlapping_upgrade_wins() {
    let capacity = Capacity { service_time: fixed(100), contention: true, ..Capacity::default() };
    // Three upgrades in service together: the first to commit wins, the others lose at 100 ms.
    let expected = [(Ok(()), 100), (Err(503), 100), (Err(503), 100)];
    on_both(capacity, 3, &expected, &[("contention_lost", 2)]).await;
}
