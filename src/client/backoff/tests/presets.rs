//! Unit tests of the backoff presets: every preset's documented sequence (worked out by hand
//! from the library defaults its doc comment in src/scenario/presets.rs quotes), its bounds,
//! and its restart on reset.

use super::*;

fn preset_delays(name: &str, seed: u64, count: usize) -> Vec<Option<Duration>> {
    sequence(&preset(name).unwrap(), seed, count)
}

/// Asserts `delays` match `expected_seconds` to the microsecond (the formulas use floats).
fn assert_close(name: &str, delays: &[Option<Duration>], expected_seconds: &[f64]) {
    assert_eq!(delays.len(), expected_seconds.len());
    for (delay, expected) in delays.iter().zip(expected_seconds) {
        let seconds = delay.unwrap_or_else(|| panic!("{name} gave up")).as_secs_f64();
        assert!((seconds - expected).abs() < 1e-6, "{name}: {seconds} s, expected {expected} s");
    }
}

#[test]
fn signalr_phoenix_and_the_fixed_presets_follow_their_tables() {
    let exact = |list: &[u64]| list.iter().map(|d| Some(ms(*d))).collect::<Vec<_>>();
    let mut signalr = exact(&[0, 2000, 10_000, 30_000]);
    signalr.extend([None, None]);
    assert_eq!(preset_delays("signalr", 1, 6), signalr);
    assert_eq!(
        preset_delays("phoenix", 1, 11),
        exact(&[10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000, 5000])
    );
    // The article's loop stops after 10 attempts, but that is the client's policy.
    assert_eq!(preset_delays("fixed-5s", 1, 20), vec![Some(secs(5)); 20]);
    assert_eq!(preset_delays("mqtt-js", 1, 3), vec![Some(secs(1)); 3]);
    assert_eq!(preset_delays("ezsockets", 1, 3), vec![Some(secs(5)); 3]);
    assert_eq!(
        preset_delays("aws-exponential", 1, 11),
        exact(&[0, 10, 20, 40, 80, 160, 320, 640, 1280, 2000, 2000])
    );
}

#[test]
fn websockets_py_draws_its_first_delay_then_follows_the_golden_ratio_to_90s() {
    let firsts: Vec<Duration> = (1..=10)
        .map(|seed| {
            let delays = preset_delays("websockets-py", seed, 12);
            let expected: Vec<f64> = (0..11).map(|k| (3.1 * 1.618f64.powi(k)).min(90.0)).collect();
            assert_close("websockets-py", &delays[1..], &expected);
            delays[0].unwrap()
        })
        .collect();
    assert!(firsts.iter().all(|d| *d <= secs(5)), "{firsts:?}");
    assert!(firsts.windows(2).any(|pair| pair[0] != pair[1]), "the first delay is not drawn");
}

#[test]
fn socketio_collapses_to_exactly_5s_at_the_cap() {
    let runs: Vec<Vec<Option<Duration>>> = (1..=50).map(|seed| preset_delays("socketio", seed, 10)).collect();
    for delays in &runs {
        assert!(delays[4..].iter().all(|d| *d == Some(secs(5))), "{delays:?}");
    }
    // Attempts 3 and 4 straddle the cap (2–6 s and 4–12 s before it): some draws land on it.
    for attempt in [2, 3] {
        let at_cap = runs.iter().filter(|delays| delays[attempt] == Some(secs(5))).count();
        assert!(0 < at_cap && at_cap < runs.len(), "attempt {}: {at_cap} of 50 at the cap", attempt + 1);
    }
}

#[test]
fn grpc_keeps_its_spread_after_the_cap() {
    let delays: Vec<Duration> = preset_delays("grpc", 1, 30)[11..].iter().map(|d| d.unwrap()).collect();
    assert!(delays.iter().all(|d| secs(96) <= *d && *d <= secs(144)), "{delays:?}");
    assert!(delays.windows(2).all(|pair| pair[0] != pair[1]), "{delays:?}");
}

#[test]
fn centrifuge_never_goes_below_its_500ms_floor() {
    let mut state = sampler(&preset("centrifuge").unwrap(), 5);
    for _ in 0..500 {
        for delay in delays(&mut state, 10) {
            assert!(delay.is_some_and(|d| ms(500) <= d && d <= secs(20)), "{delay:?}");
        }
        state.reset();
    }
}

#[test]
fn reconnecting_websocket_draws_its_base_once_and_keeps_it_across_resets() {
    let strategy = preset("reconnecting-websocket").unwrap();
    let mut state = sampler(&strategy, 1);
    let first = delays(&mut state, 12);
    let base = first[0].unwrap();
    assert!(secs(1) <= base && base <= secs(5), "{base:?}");
    let expected: Vec<f64> = (0..12).map(|k| (base.as_secs_f64() * 1.3f64.powi(k)).min(10.0)).collect();
    assert_close("reconnecting-websocket", &first, &expected);
    state.reset();
    assert_eq!(delays(&mut state, 12), first);
    assert_ne!(preset_delays("reconnecting-websocket", 2, 1)[0], Some(base));
}

#[test]
fn every_preset_stays_within_its_bounds_and_restarts_on_reset() {
    for name in PRESET_NAMES {
        let strategy = preset(name).unwrap();
        for seed in 1..=5 {
            let mut state = sampler(&strategy, seed);
            let before = delays(&mut state, 30);
            assert_eq!(state.attempt(), 30);
            assert_within_bounds(&strategy, &before);
            state.reset();
            assert_eq!(state.attempt(), 0);
            // Back to attempt 1: decorrelated jitter's previous delay included.
            let after = delays(&mut state, 30);
            assert_within_bounds(&strategy, &after);
            let exact = (1..=30).all(|n| strategy.backoff.bounds(n, None).is_none_or(|(l, h)| l == h))
                && strategy.quirks == Quirks::default();
            if exact {
                assert_eq!(before, after, "{name}");
            }
        }
    }
}
