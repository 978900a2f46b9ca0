//! Strategy presets: what real reconnecting clients do by default, quirks included.
//!
//! Every number comes from the library source files (and version, where known) named in each
//! preset's doc comment and `source`, unless the comment says it is wschaos's own default
//! because the library sets none.

use std::time::Duration;

use super::model::{BackoffReset, ClientHeartbeat, ClientSettings};
use super::strategy::{Backoff, Quirks, Strategy, TableEnd, WSCHAOS_DEFAULTS};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

const fn heartbeat(ping_every: Duration, pong_timeout: Option<Duration>) -> Option<ClientHeartbeat> {
    Some(ClientHeartbeat { ping_every, pong_timeout })
}

/// The preset names, in the order `wschaos presets` lists them.
pub const PRESET_NAMES: &[&str] = &[
    "fixed-5s",
    "socketio",
    "signalr",
    "websockets-py",
    "reconnecting-websocket",
    "centrifuge",
    "phoenix",
    "grpc",
    "mqtt-js",
    "stubborn-io",
    "ezsockets",
    "aws-exponential",
    "aws-full-jitter",
    "aws-equal-jitter",
    "aws-decorrelated-jitter",
];

/// The preset called `name`, if there is one.
pub fn preset(name: &str) -> Option<Strategy> {
    let strategy = match name {
        "fixed-5s" => fixed_5s(),
        "socketio" => socketio(),
        "signalr" => signalr(),
        "websockets-py" => websockets_py(),
        "reconnecting-websocket" => reconnecting_websocket(),
        "centrifuge" => centrifuge(),
        "phoenix" => phoenix(),
        "grpc" => grpc(),
        "mqtt-js" => mqtt_js(),
        "stubborn-io" => stubborn_io(),
        "ezsockets" => ezsockets(),
        "aws-exponential" => aws(Backoff::Exponential { base: millis(10), factor: 2.0, cap: secs(2) }),
        "aws-full-jitter" => {
            aws(Backoff::FullJitter { base: millis(5), cap: secs(2), floor: Duration::ZERO })
        }
        "aws-equal-jitter" => aws(Backoff::EqualJitter { base: millis(5), cap: secs(2) }),
        "aws-decorrelated-jitter" => aws(Backoff::DecorrelatedJitter { base: millis(5), cap: secs(2) }),
        _ => return None,
    };
    Some(Strategy { name: name.to_string(), ..strategy })
}

/// Every preset, in listing order.
pub fn all_presets() -> Vec<Strategy> {
    PRESET_NAMES.iter().filter_map(|name| preset(name)).collect()
}

fn base(backoff: Backoff, defaults: ClientSettings, source: &'static str) -> Strategy {
    Strategy { name: String::new(), backoff, quirks: Quirks::default(), defaults, source: Some(source) }
}

/// The background article's loop ("WebSocket重连机制详解", sections 2 and 6–8): a fixed 5 s
/// sleep, at most 10 dials counted over the whole run (its loop counts successful dials too,
/// so the counter never resets), and a 10 s ping ticker that never checks for pongs. The 45 s
/// connect limit is gorilla/websocket's `DefaultDialer.HandshakeTimeout`, which the article uses.
fn fixed_5s() -> Strategy {
    base(
        Backoff::Fixed { delay: secs(5) },
        ClientSettings {
            heartbeat: heartbeat(secs(10), None),
            read_timeout: None,
            connect_timeout: secs(45),
            max_attempts: Some(10),
            backoff_reset: BackoffReset::Never,
        },
        "background article (gorilla/websocket loop): 5 s sleep, 10 attempts, 10 s ping ticker",
    )
}

/// socket.io-client v4 (`lib/contrib/backo2.ts`, `lib/manager.ts`): `reconnectionDelay` 1000,
/// `reconnectionDelayMax` 5000, `randomizationFactor` 0.5, applied before the cap so that every
/// delay from attempt 5 on is exactly 5 s; `timeout` 20000; the backoff resets on every close
/// and open. The client sends no pings: Engine.IO v4 declares the link dead when no server ping
/// arrived within `pingInterval + pingTimeout` = 25 s + 20 s (`engine.io-client/lib/socket.ts`).
fn socketio() -> Strategy {
    base(
        Backoff::ExponentialJitter {
            base: secs(1),
            factor: 2.0,
            cap: secs(5),
            randomization: 0.5,
            jitter_before_cap: true,
        },
        ClientSettings {
            heartbeat: None,
            read_timeout: Some(secs(45)),
            connect_timeout: secs(20),
            max_attempts: None,
            backoff_reset: BackoffReset::OnOpen,
        },
        "socket.io-client v4, lib/contrib/backo2.ts + lib/manager.ts; engine.io-client v4 lib/socket.ts",
    )
}

/// SignalR `withAutomaticReconnect()` (dotnet/aspnetcore `DefaultReconnectPolicy.ts`): retries
/// after 0, 2, 10 and 30 s, then stops. `keepAliveIntervalInMilliseconds` 15000 (one-way pings)
/// and `serverTimeoutInMilliseconds` 30000 (`HubConnection.ts`). SignalR sets no connect limit of
/// its own here, so the 10 s is wschaos's default.
fn signalr() -> Strategy {
    base(
        Backoff::Table { delays: vec![secs(0), secs(2), secs(10), secs(30)], then: TableEnd::GiveUp },
        ClientSettings {
            heartbeat: heartbeat(secs(15), None),
            read_timeout: Some(secs(30)),
            connect_timeout: WSCHAOS_DEFAULTS.connect_timeout,
            max_attempts: Some(4),
            backoff_reset: BackoffReset::OnOpen,
        },
        "SignalR JS/.NET, aspnetcore DefaultReconnectPolicy.ts + HubConnection.ts",
    )
}

/// Python `websockets` ≥ 13.1, `async for ws in connect()` (`src/websockets/client.py`
/// L360–386): a first delay drawn from U(0, 5 s), then 3.1 s × 1.618ᵏ capped at 90 s; the backoff
/// applies only to failed handshakes, so a close after a successful open reconnects at once.
/// `ping_interval` 20, `ping_timeout` 20, `open_timeout` 10 (`asyncio/client.py`).
fn websockets_py() -> Strategy {
    Strategy {
        quirks: Quirks {
            first_delay: Some((Duration::ZERO, secs(5))),
            no_backoff_after_open: true,
            ..Quirks::default()
        },
        ..base(
            Backoff::Exponential { base: millis(3100), factor: 1.618, cap: secs(90) },
            ClientSettings {
                heartbeat: heartbeat(secs(20), Some(secs(20))),
                read_timeout: None,
                connect_timeout: secs(10),
                max_attempts: None,
                backoff_reset: BackoffReset::OnOpen,
            },
            "Python websockets 13.1+, src/websockets/client.py L360-386, asyncio/client.py",
        )
    }
}

/// reconnecting-websocket (npm, pladaria; `reconnecting-websocket.ts` L39–46, 309–325):
/// `minReconnectionDelay = 1000 + random·4000` evaluated once per module load,
/// `reconnectionDelayGrowFactor` 1.3, `maxReconnectionDelay` 10000, `connectionTimeout` 4000,
/// and the retry counter resets only after `minUptime` = 5 s of uptime. No heartbeat.
fn reconnecting_websocket() -> Strategy {
    Strategy {
        quirks: Quirks { base_drawn_once: Some((secs(1), secs(5))), ..Quirks::default() },
        ..base(
            Backoff::Exponential { base: secs(1), factor: 1.3, cap: secs(10) },
            ClientSettings {
                heartbeat: None,
                read_timeout: None,
                connect_timeout: secs(4),
                max_attempts: None,
                backoff_reset: BackoffReset::AfterUptime(secs(5)),
            },
            "reconnecting-websocket (npm, last commit 2020-02), reconnecting-websocket.ts L39-46, 309-325",
        )
    }
}

/// centrifuge-js (`src/utils.ts` L30–36, `src/centrifuge.ts`): `min(max, min + U(0, min(max,
/// min·2^step)))` with `minReconnectDelay` 500 and `maxReconnectDelay` 20000, i.e. a 500 ms floor
/// plus AWS full jitter on base 250 ms. The server pings every 25 s and the client allows
/// `maxServerPingDelay` 10 s more, so silence of 35 s is fatal; `timeout` 5000. The backoff
/// resets on the protocol-level connect reply, modelled here as the first echo.
fn centrifuge() -> Strategy {
    base(
        Backoff::FullJitter { base: millis(250), cap: secs(20), floor: millis(500) },
        ClientSettings {
            heartbeat: None,
            read_timeout: Some(secs(35)),
            connect_timeout: secs(5),
            max_attempts: None,
            backoff_reset: BackoffReset::OnFirstEcho,
        },
        "centrifuge-js (snapshot 2026-08), src/utils.ts L30-36, src/centrifuge.ts",
    )
}

/// Phoenix JS (`assets/js/phoenix/socket.js`): `reconnectAfterMs` = [10, 50, 100, 150, 200,
/// 250, 500, 1000, 2000] ms, then 5000, no jitter; `heartbeatIntervalMs` 30000 with the reply
/// due before the next tick; `timeout` 10000; the timer resets on open.
fn phoenix() -> Strategy {
    base(
        Backoff::Table {
            delays: [10, 50, 100, 150, 200, 250, 500, 1000, 2000].map(millis).to_vec(),
            then: TableEnd::Repeat(secs(5)),
        },
        ClientSettings {
            heartbeat: heartbeat(secs(30), Some(secs(30))),
            read_timeout: None,
            connect_timeout: secs(10),
            max_attempts: None,
            backoff_reset: BackoffReset::OnOpen,
        },
        "Phoenix JS, assets/js/phoenix/socket.js",
    )
}

/// gRPC connection backoff (grpc/grpc `doc/connection-backoff.md`): 1 s, × 1.6, cap 120 s,
/// ± 20 % jitter on the capped value, minimum connect timeout 20 s. Keepalive is off by default.
fn grpc() -> Strategy {
    base(
        Backoff::ExponentialJitter {
            base: secs(1),
            factor: 1.6,
            cap: secs(120),
            randomization: 0.2,
            jitter_before_cap: false,
        },
        ClientSettings {
            heartbeat: None,
            read_timeout: None,
            connect_timeout: secs(20),
            max_attempts: None,
            backoff_reset: BackoffReset::OnOpen,
        },
        "gRPC, doc/connection-backoff.md",
    )
}

/// MQTT.js (`src/lib/client.ts` defaultConnectOptions): `reconnectPeriod` 1000 ms fixed,
/// `connectTimeout` 30000, `keepalive` 60 s, and a missing PINGRESP at the next keepalive tick
/// means the connection is dead.
fn mqtt_js() -> Strategy {
    base(
        Backoff::Fixed { delay: secs(1) },
        ClientSettings {
            heartbeat: heartbeat(secs(60), Some(secs(60))),
            read_timeout: None,
            connect_timeout: secs(30),
            max_attempts: None,
            backoff_reset: BackoffReset::OnOpen,
        },
        "MQTT.js, src/lib/client.ts defaultConnectOptions",
    )
}

/// stubborn-io 0.3.6 (`src/strategies.rs`, `src/config.rs`): `ExpBackoffStrategy::default()`,
/// min 4 s, factor 2, ± 5 % jitter, max 30 min, `exit_if_first_connect_fails = true`; the
/// iterator is rebuilt per disconnect. No heartbeat and no connect limit of its own.
fn stubborn_io() -> Strategy {
    Strategy {
        quirks: Quirks { give_up_if_first_connect_fails: true, ..Quirks::default() },
        ..base(
            Backoff::ExponentialJitter {
                base: secs(4),
                factor: 2.0,
                cap: secs(30 * 60),
                randomization: 0.05,
                jitter_before_cap: false,
            },
            ClientSettings {
                heartbeat: None,
                read_timeout: None,
                connect_timeout: WSCHAOS_DEFAULTS.connect_timeout,
                max_attempts: None,
                backoff_reset: BackoffReset::OnOpen,
            },
            "stubborn-io 0.3.6 (Rust), src/strategies.rs + src/config.rs",
        )
    }
}

/// ezsockets 0.7.2 (`src/client.rs` L79–105, `src/socket.rs` L46–47):
/// `DEFAULT_RECONNECT_INTERVAL` 5 s, unlimited attempts, heartbeat 5 s with a 10 s timeout.
fn ezsockets() -> Strategy {
    base(
        Backoff::Fixed { delay: secs(5) },
        ClientSettings {
            heartbeat: heartbeat(secs(5), Some(secs(10))),
            read_timeout: None,
            connect_timeout: WSCHAOS_DEFAULTS.connect_timeout,
            max_attempts: None,
            backoff_reset: BackoffReset::OnOpen,
        },
        "ezsockets 0.7.2 (Rust), src/client.rs L79-105, src/socket.rs L46-47",
    )
}

/// The four formulas of Marc Brooker's "Exponential Backoff And Jitter" (AWS Architecture Blog,
/// 2015), with the parameters of its simulator (`aws-samples/aws-arch-backoff-simulator`,
/// `src/backoff_simulator.py`): base 5 ms, cap 2000 ms. Its capped exponential is
/// `min(cap, base · 2ⁿ)`, whose first delay is 10 ms. Its client calls at once and backs off only
/// after a failed call (n counts failures), so after a break the first attempt is immediate and
/// the formula's attempt 1 comes after the first failure. The article says nothing about
/// heartbeats or timeouts, so those are wschaos's defaults.
fn aws(backoff: Backoff) -> Strategy {
    Strategy {
        quirks: Quirks { first_delay: Some((Duration::ZERO, Duration::ZERO)), ..Quirks::default() },
        ..base(
            backoff,
            WSCHAOS_DEFAULTS,
            "AWS Architecture Blog, Exponential Backoff And Jitter (2015); aws-arch-backoff-simulator base 5 ms, cap 2 s",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::strategy::format_bounds;

    fn sequence(name: &str, attempts: u32) -> Vec<String> {
        let strategy = preset(name).unwrap();
        (1..=attempts).map(|n| format_bounds(strategy.delay_bounds(n))).collect()
    }

    #[test]
    fn every_listed_name_resolves_and_cites_a_source() {
        for name in PRESET_NAMES {
            let strategy = preset(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(strategy.name, *name);
            assert!(strategy.source.is_some_and(|s| s.len() > 10), "{name} has no source");
        }
        assert!(preset("socket.io").is_none());
    }

    // The expected sequences below are worked out by hand from the defaults each preset's doc
    // comment quotes from its library, not read back from the formulas under test.

    #[test]
    fn signalr_waits_0_2_10_30_seconds_then_gives_up() {
        assert_eq!(sequence("signalr", 5), ["0s", "2s", "10s", "30s", "give up"]);
    }

    #[test]
    fn phoenix_steps_through_its_table_then_every_5_seconds() {
        assert_eq!(
            sequence("phoenix", 11),
            ["10ms", "50ms", "100ms", "150ms", "200ms", "250ms", "500ms", "1s", "2s", "5s", "5s"]
        );
    }

    #[test]
    fn websockets_py_is_random_first_then_golden_ratio_capped_at_90s() {
        assert_eq!(
            sequence("websockets-py", 11),
            [
                "0s–5s", "3.1s", "5.02s", "8.12s", "13.13s", "21.25s", "34.38s", "55.62s", "89.99s", "90s",
                "90s"
            ]
        );
        assert!(preset("websockets-py").unwrap().quirks.no_backoff_after_open);
    }

    #[test]
    fn socketio_jitter_collapses_at_the_cap() {
        assert_eq!(sequence("socketio", 6), ["500ms–1.5s", "1s–3s", "2s–5s", "4s–5s", "5s", "5s"]);
    }

    #[test]
    fn centrifuge_has_a_floor_under_full_jitter() {
        assert_eq!(
            sequence("centrifuge", 7),
            ["500ms–1s", "500ms–1.5s", "500ms–2.5s", "500ms–4.5s", "500ms–8.5s", "500ms–16.5s", "500ms–20s"]
        );
    }

    #[test]
    fn reconnecting_websocket_grows_by_1_3_from_a_base_drawn_once() {
        assert_eq!(sequence("reconnecting-websocket", 3), ["1s–5s", "1.3s–6.5s", "1.69s–8.45s"]);
        assert_eq!(sequence("reconnecting-websocket", 9)[8], "8.16s–10s");
        assert_eq!(
            preset("reconnecting-websocket").unwrap().defaults.backoff_reset,
            BackoffReset::AfterUptime(secs(5))
        );
    }

    #[test]
    fn grpc_jitters_after_the_cap() {
        let strategy = preset("grpc").unwrap();
        assert_eq!(format_bounds(strategy.delay_bounds(1)), "800ms–1.2s");
        assert_eq!(format_bounds(strategy.delay_bounds(2)), "1.28s–1.92s");
        assert_eq!(format_bounds(strategy.delay_bounds(12)), "96s–144s");
    }

    #[test]
    fn the_article_loop_stops_after_ten_attempts() {
        let strategy = preset("fixed-5s").unwrap();
        assert_eq!(format_bounds(strategy.delay_bounds(10)), "5s");
        assert_eq!(strategy.delay_bounds(11), None);
    }

    #[test]
    fn aws_formulas_use_the_simulator_parameters() {
        // The first attempt after a break is immediate; the formula starts after a failure.
        assert_eq!(sequence("aws-exponential", 4), ["0s", "10ms", "20ms", "40ms"]);
        assert_eq!(sequence("aws-full-jitter", 3), ["0s", "0s–10ms", "0s–20ms"]);
        assert_eq!(sequence("aws-equal-jitter", 3), ["0s", "5ms–10ms", "10ms–20ms"]);
        assert_eq!(sequence("aws-decorrelated-jitter", 3), ["0s", "5ms–15ms", "5ms–45ms"]);
        assert_eq!(sequence("aws-full-jitter", 13)[12], "0s–2s");
    }

    #[test]
    fn simple_library_presets() {
        assert_eq!(sequence("mqtt-js", 3), ["1s", "1s", "1s"]);
        assert_eq!(sequence("ezsockets", 2), ["5s", "5s"]);
        assert_eq!(sequence("stubborn-io", 2), ["3.8s–4.2s", "7.6s–8.4s"]);
        assert!(preset("stubborn-io").unwrap().quirks.give_up_if_first_connect_fails);
    }
}
