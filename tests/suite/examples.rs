//! Every example scenario validates, and maps to the values its story depends on: durations,
//! rates, targets, timelines and presets resolved to their parameters. The scale scenarios
//! (scenarios/scale/, run by benches/scale.sh, never by the tests) validate too and are as big
//! as they claim.

use std::path::Path;
use std::time::Duration;

use wschaos::Scenario;
use wschaos::scenario::strategy::Backoff;
use wschaos::scenario::*;
use wschaos::units::Rate;

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// The scale scenarios' names, sorted.
fn scale_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/scale");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn every_example_starts_with_the_schema_line_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    let expected = [
        "aws-backoff-200.yaml",
        "aws-backoff.yaml",
        "blackhole.yaml",
        "flaky.yaml",
        "latency-spike.yaml",
        "outage-10min.yaml",
        "pong-loss.yaml",
        "server-restart-herd.yaml",
        "signed-handshake.yaml",
        "slow-handshake.yaml",
        "wss-pong-loss.yaml",
        "wss.yaml",
    ];
    assert_eq!(names, expected);
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("# yaml-language-server: $schema=scenario.schema.json"),
            "{name}"
        );
        let scenario = load(name);
        assert!(scenario.description.as_ref().is_some_and(|d| d.len() > 80), "{name} needs a story");
        assert_eq!(format!("{}.yaml", scenario.name), *name);
    }
}

#[test]
fn flaky_maps_every_section() {
    let s = load("flaky.yaml");
    assert_eq!((s.seed, s.duration, s.quiet_period, s.engine), (42, secs(60), secs(15), Engine::Live));
    let heartbeat = s.server.heartbeat.unwrap();
    assert_eq!((heartbeat.ping_every, heartbeat.timeout), (secs(10), secs(5)));
    assert_eq!(s.server.handshake_latency.base, Duration::from_millis(2));
    assert_eq!(s.server.handshake_latency.jitter, Duration::from_millis(1));
    assert_eq!(s.server.accept_rate, Some(Rate { per_second: 500.0 }));
    assert_eq!(s.clients.count, 20);
    assert_eq!(s.clients.start_spread, secs(1));
    assert_eq!(s.clients.workload, Some(Workload { rate: Rate { per_second: 20.0 }, size_bytes: 64 }));
    assert_eq!(s.clients.delivery, Delivery::AtLeastOnce);
    assert_eq!(s.clients.permanent_close_codes, [CodeRange { first: 1008, last: 1008 }]);

    assert_eq!(s.strategies.len(), 1);
    let only = &s.strategies[0];
    assert_eq!(only.strategy.name, "aws-full-jitter");
    assert_eq!(
        only.strategy.backoff,
        Backoff::FullJitter { base: Duration::from_millis(5), cap: secs(2), floor: Duration::ZERO }
    );
    let settings = only.settings;
    assert_eq!(
        settings.heartbeat,
        Some(ClientHeartbeat { ping_every: secs(5), pong_timeout: Some(secs(3)) })
    );
    assert_eq!(settings.read_timeout, Some(secs(30)));
    assert_eq!(settings.connect_timeout, secs(5));
    assert_eq!(settings.max_attempts, None);
    assert_eq!(settings.backoff_reset, BackoffReset::AfterUptime(secs(5)));

    let kinds: Vec<&str> = s.faults.iter().map(|f| f.fault.name()).collect();
    assert_eq!(kinds, ["reset", "stall", "handshake_delay", "reset", "drop_frames"]);
    assert_eq!(s.faults[0].timeline, Timeline::Once { at: secs(5), lasts: None });
    assert_eq!(s.faults[0].target.clients, ClientSelector::Share(0.5));
    assert_eq!(s.faults[1].timeline, Timeline::Once { at: secs(15), lasts: Some(secs(10)) });
    assert_eq!(s.faults[1].fault, Fault::Stall { direction: Direction::Both });
    assert_eq!(s.faults[1].target, Target { clients: ClientSelector::All, links: Links::All });
    match &s.faults[4].timeline {
        Timeline::Every { period, from, until, times, lasts } => {
            assert_eq!((period.base, period.jitter), (secs(12), secs(1)));
            assert_eq!((*from, *until, *times, *lasts), (secs(40), secs(60), None, Some(secs(8))));
        }
        other => panic!("expected a repeating fault, got {other:?}"),
    }
    assert_eq!(
        s.faults[4].fault,
        Fault::DropFrames {
            kinds: vec![FrameKind::Pong],
            direction: Direction::Downstream,
            probability: 1.0
        }
    );
    let metrics: Vec<&str> = s.slo.iter().map(|r| r.metric.name).collect();
    assert_eq!(
        metrics,
        ["availability", "excess_after_heal", "messages_duplicated", "messages_lost", "recovery_time"]
    );
    assert_eq!(s.slo[4].thresholds[0].to_string(), "p(99) < 12s");
}

#[test]
fn herd_matrix_resolves_presets_with_the_files_overrides() {
    let s = load("server-restart-herd.yaml");
    assert_eq!(s.engine, Engine::Sim);
    assert_eq!(s.clients.count, 1000);
    let names: Vec<&str> = s.strategies.iter().map(|c| c.strategy.name.as_str()).collect();
    assert_eq!(
        names,
        ["fixed-5s", "phoenix", "socketio", "aws-full-jitter", "aws-decorrelated-jitter", "fixed-100ms"]
    );
    // fixed-5s gives up after 10 attempts on its own; the file's `max_attempts: unlimited` wins.
    assert_eq!(s.strategies[0].strategy.defaults.max_attempts, Some(10));
    assert_eq!(s.strategies[0].settings.max_attempts, None);
    assert_eq!(s.strategies[5].strategy.backoff, Backoff::Fixed { delay: Duration::from_millis(100) });
    assert_eq!(s.faults[1].fault, Fault::Refuse);
    assert_eq!(s.faults[1].timeline, Timeline::Once { at: secs(5), lasts: Some(secs(10)) });
}

#[test]
fn outage_keeps_each_presets_own_settings() {
    let s = load("outage-10min.yaml");
    assert_eq!(s.duration, secs(11 * 60));
    let signalr = s.strategies.iter().find(|c| c.strategy.name == "signalr").unwrap();
    assert_eq!(signalr.settings.max_attempts, Some(4));
    assert_eq!(signalr.settings.read_timeout, Some(secs(30)));
    let socketio = s.strategies.iter().find(|c| c.strategy.name == "socketio").unwrap();
    assert_eq!(socketio.settings.heartbeat, None);
    assert_eq!(socketio.settings.connect_timeout, secs(20));
    assert_eq!(s.clients.delivery, Delivery::Buffered);
    assert_eq!(s.faults[1].timeline, Timeline::Once { at: secs(30), lasts: Some(secs(600)) });
}

#[test]
fn the_other_examples_map_their_faults() {
    let blackhole = load("blackhole.yaml");
    assert_eq!(blackhole.faults[0].fault, Fault::Blackhole { direction: Direction::Both });
    assert_eq!(blackhole.faults[0].target.links, Links::Existing);

    let slow = load("slow-handshake.yaml");
    match &slow.faults[0].fault {
        Fault::HandshakeDelay { delay } => {
            assert_eq!((delay.base, delay.jitter), (secs(4), secs(1)))
        }
        other => panic!("expected handshake_delay, got {other:?}"),
    }
    assert_eq!(slow.clients.workload.unwrap().size_bytes, 128);

    let pong = load("pong-loss.yaml");
    assert_eq!(
        pong.faults[0].fault,
        Fault::DropFrames {
            kinds: vec![FrameKind::Pong],
            direction: Direction::Downstream,
            probability: 1.0
        }
    );
    assert!(pong.strategies[0].strategy.quirks.no_backoff_after_open);

    let spike = load("latency-spike.yaml");
    assert_eq!(
        spike.faults[0].fault,
        Fault::Latency {
            delay: Duration::from_millis(800),
            jitter: Duration::from_millis(200),
            spread: wschaos::units::Spread::Uniform,
            direction: Direction::Both
        }
    );
    assert_eq!(
        spike.faults[1].fault,
        Fault::Bandwidth { bytes_per_second: 4096.0, direction: Direction::Downstream }
    );
    assert_eq!(spike.clients.delivery, Delivery::ExactlyOnce);
}

#[test]
fn the_scale_scenarios_validate_on_the_sim_engine_with_the_schema_line() {
    assert_eq!(scale_names(), ["herd-100k.yaml", "hour-1k.yaml", "speed-1k.yaml"]);
    for name in scale_names() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/scale").join(&name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("# yaml-language-server: $schema=../scenario.schema.json"),
            "{name}"
        );
        let scenario = load(&format!("scale/{name}"));
        assert_eq!(scenario.engine, Engine::Sim, "{name}: too big for the live engine");
        assert_eq!(format!("{}.yaml", scenario.name), name);
        assert!(scenario.description.as_ref().is_some_and(|d| d.len() > 80), "{name} needs a story");
        assert_eq!(scenario.strategies.len(), 1, "{name}: one run, so its wall time is one strategy's");
    }
}

#[test]
fn the_herd_is_100k_clients_reset_then_refused_with_no_workload() {
    let s = load("scale/herd-100k.yaml");
    assert_eq!(s.clients.count, 100_000);
    assert_eq!(s.clients.workload, None);
    let kinds: Vec<&str> = s.faults.iter().map(|f| f.fault.name()).collect();
    assert_eq!(kinds, ["reset", "refuse"]);
    assert_eq!(s.faults[0].timeline, Timeline::Once { at: secs(10), lasts: None });
    assert_eq!(s.faults[1].timeline, Timeline::Once { at: secs(10), lasts: Some(secs(5)) });
    assert_eq!(s.strategies[0].settings.max_attempts, None, "nobody gives up, so everyone must return");
}

#[test]
fn the_long_run_is_an_hour_of_1000_clients_at_1_msg_per_second_with_faults() {
    let s = load("scale/hour-1k.yaml");
    assert_eq!((s.duration, s.clients.count), (secs(3600), 1000));
    assert_eq!(s.clients.workload, Some(Workload { rate: Rate { per_second: 1.0 }, size_bytes: 64 }));
    assert_eq!(s.clients.delivery, Delivery::AtLeastOnce);
    let kinds: Vec<&str> = s.faults.iter().map(|f| f.fault.name()).collect();
    assert_eq!(kinds, ["reset", "stall", "reset", "refuse", "drop_frames"]);
    let starts: Vec<Duration> = s
        .faults
        .iter()
        .map(|f| match f.timeline {
            Timeline::Once { at, .. } => at,
            ref other => panic!("expected one-off faults, got {other:?}"),
        })
        .collect();
    assert!(starts.iter().all(|at| *at > Duration::ZERO && *at < s.duration), "faults during the hour");
}

#[test]
fn the_speed_run_is_the_design_target_1000_clients_at_10_msg_per_second() {
    let s = load("scale/speed-1k.yaml");
    assert_eq!(s.clients.count, 1000);
    assert_eq!(s.clients.workload, Some(Workload { rate: Rate { per_second: 10.0 }, size_bytes: 64 }));
    assert_eq!(s.duration + s.quiet_period, secs(65));
}
