//! Unit tests of the backoff sampler: each kind's sequence for fixed seeds, the statistics of
//! the jittered kinds over 10,000 draws, every preset's documented sequence
//! (shared/research/reconnect.md §2.2) and the constructor's guard.

use super::*;
use crate::scenario::ClientSettings;
use crate::scenario::presets::{PRESET_NAMES, preset};
use crate::scenario::strategy::{Quirks, TableEnd, WSCHAOS_DEFAULTS, format_bounds};
use crate::seeds;

const fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn inline(backoff: Backoff) -> Strategy {
    Strategy {
        name: backoff.kind().to_string(),
        backoff,
        quirks: Quirks::default(),
        defaults: WSCHAOS_DEFAULTS,
        source: None,
    }
}

fn rng(seed: u64) -> ChaCha8Rng {
    seeds::derive(seed, &[seeds::CLIENT, 0])
}

fn sampler(strategy: &Strategy, seed: u64) -> BackoffState {
    BackoffState::new(strategy, rng(seed)).unwrap()
}

fn delays(state: &mut BackoffState, count: usize) -> Vec<Option<Duration>> {
    (0..count).map(|_| state.next_delay()).collect()
}

fn sequence(strategy: &Strategy, seed: u64, count: usize) -> Vec<Option<Duration>> {
    delays(&mut sampler(strategy, seed), count)
}

/// Asserts that the k-th delay lies within `delay_bounds(k)`. `max_attempts` is lifted: it is
/// the client's policy, which the sampler does not apply.
fn assert_within_bounds(strategy: &Strategy, delays: &[Option<Duration>]) {
    let unlimited =
        Strategy { defaults: ClientSettings { max_attempts: None, ..strategy.defaults }, ..strategy.clone() };
    for (delay, n) in delays.iter().zip(1..) {
        let bounds = unlimited.delay_bounds(n);
        let inside = match (bounds, delay) {
            (Some((low, high)), Some(delay)) => low <= *delay && *delay <= high,
            (None, None) => true,
            _ => false,
        };
        assert!(inside, "{} attempt {n}: {delay:?} outside {}", strategy.name, format_bounds(bounds));
    }
}

#[test]
fn exact_kinds_give_their_formula_and_take_nothing_from_the_generator() {
    let cases: [(Backoff, Vec<Option<Duration>>); 6] = [
        (Backoff::Immediate, vec![Some(Duration::ZERO); 3]),
        (Backoff::Fixed { delay: ms(250) }, vec![Some(ms(250)); 3]),
        (
            Backoff::Table { delays: vec![secs(1), secs(2)], then: TableEnd::Repeat(secs(3)) },
            vec![Some(secs(1)), Some(secs(2)), Some(secs(3)), Some(secs(3))],
        ),
        (
            Backoff::Table { delays: vec![secs(1), secs(2)], then: TableEnd::GiveUp },
            vec![Some(secs(1)), Some(secs(2)), None, None],
        ),
        (
            Backoff::Linear { step: secs(1), cap: ms(3500) },
            [1000, 2000, 3000, 3500, 3500].map(|d| Some(ms(d))).to_vec(),
        ),
        (
            Backoff::Exponential { base: ms(100), factor: 2.0, cap: secs(1) },
            [100, 200, 400, 800, 1000, 1000].map(|d| Some(ms(d))).to_vec(),
        ),
    ];
    for (backoff, expected) in cases {
        let strategy = inline(backoff);
        let mut state = sampler(&strategy, 1);
        assert_eq!(delays(&mut state, expected.len()), expected, "{}", strategy.name);
        assert!(state.rng == rng(1), "{} drew from the generator", strategy.name);
    }
}

/// One strategy per random kind, with a floor variant of full jitter and both jitter orders.
fn random_kinds() -> Vec<Strategy> {
    let (base, cap) = (ms(10), secs(1));
    [
        Backoff::ExponentialJitter {
            base: ms(100),
            factor: 2.0,
            cap,
            randomization: 0.25,
            jitter_before_cap: false,
        },
        Backoff::ExponentialJitter {
            base: ms(100),
            factor: 2.0,
            cap,
            randomization: 0.25,
            jitter_before_cap: true,
        },
        Backoff::FullJitter { base, cap, floor: Duration::ZERO },
        Backoff::FullJitter { base, cap, floor: ms(50) },
        Backoff::EqualJitter { base, cap },
        Backoff::DecorrelatedJitter { base, cap },
    ]
    .into_iter()
    .map(inline)
    .collect()
}

#[test]
fn random_kinds_repeat_per_seed_differ_across_seeds_and_stay_within_bounds() {
    for strategy in random_kinds() {
        let first = sequence(&strategy, 1, 12);
        assert_eq!(first, sequence(&strategy, 1, 12), "{}", strategy.name);
        assert_ne!(first, sequence(&strategy, 2, 12), "{}", strategy.name);
        for seed in 1..=20 {
            assert_within_bounds(&strategy, &sequence(&strategy, seed, 12));
        }
    }
}

#[test]
fn huge_attempt_numbers_saturate_at_the_cap() {
    for strategy in random_kinds() {
        let delay = draw(&strategy.backoff, u32::MAX, Some(secs(1)), None, &mut rng(1));
        let (low, high) = strategy.delay_bounds(u32::MAX).unwrap();
        assert!(delay.is_some_and(|d| low <= d && d <= high), "{}: {delay:?}", strategy.name);
    }
    let linear = Backoff::Linear { step: secs(1), cap: secs(7) };
    assert_eq!(draw(&linear, u32::MAX, None, None, &mut rng(1)), Some(secs(7)));
}

/// The mean of 10,000 draws before attempt `n`, in seconds.
fn mean_of_draws(backoff: &Backoff, n: u32) -> f64 {
    let mut rng = rng(7);
    let total: f64 = (0..10_000).map(|_| draw(backoff, n, None, None, &mut rng).unwrap().as_secs_f64()).sum();
    total / 10_000.0
}

#[test]
fn full_jitter_averages_half_the_window_and_equal_jitter_three_quarters() {
    let (base, cap) = (ms(10), secs(1));
    let full = Backoff::FullJitter { base, cap, floor: Duration::ZERO };
    let equal = Backoff::EqualJitter { base, cap };
    // t = min(cap, base · 2ⁿ): 20 ms, 80 ms, 320 ms, then the cap.
    for (n, t) in [(1, 0.02), (3, 0.08), (5, 0.32), (8, 1.0)] {
        let full_mean = mean_of_draws(&full, n);
        assert!((full_mean / (t / 2.0) - 1.0).abs() < 0.03, "full jitter n={n}: mean {full_mean}");
        let equal_mean = mean_of_draws(&equal, n);
        assert!((equal_mean / (t * 0.75) - 1.0).abs() < 0.02, "equal jitter n={n}: mean {equal_mean}");
    }
}

#[test]
fn decorrelated_jitter_stays_within_base_and_cap_and_spans_them() {
    let (base, cap) = (ms(10), ms(500));
    let mut state = sampler(&inline(Backoff::DecorrelatedJitter { base, cap }), 3);
    let mut previous = base;
    let draws: Vec<Duration> = (0..10_000)
        .map(|_| {
            let delay = state.next_delay().unwrap();
            assert!(base <= delay && delay <= cap, "{delay:?}");
            assert!(delay <= previous * 3, "{delay:?} after {previous:?}");
            previous = delay;
            delay
        })
        .collect();
    assert!(draws.contains(&cap), "never reached the cap");
    assert!(draws.iter().any(|d| *d < base * 2), "never came back near the base");
}

#[test]
fn exponential_jitter_spreads_plus_minus_r_around_the_value() {
    let backoff = Backoff::ExponentialJitter {
        base: secs(1),
        factor: 1.6,
        cap: secs(120),
        randomization: 0.2,
        jitter_before_cap: false,
    };
    let mut rng = rng(11);
    for (n, value) in [(1, 1.0), (4, 4.096), (20, 120.0)] {
        let draws: Vec<f64> =
            (0..10_000).map(|_| draw(&backoff, n, None, None, &mut rng).unwrap().as_secs_f64()).collect();
        let (min, max) = draws.iter().fold((f64::MAX, 0f64), |(lo, hi), d| (lo.min(*d), hi.max(*d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!(min >= value * 0.8 - 1e-9 && max <= value * 1.2 + 1e-9, "n={n}: {min}..{max}");
        assert!(min < value * 0.81 && max > value * 1.19, "n={n} does not span ±20%: {min}..{max}");
        assert!((mean / value - 1.0).abs() < 0.01, "n={n}: mean {mean}");
    }
}

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
        preset_delays("aws-exponential", 1, 10),
        exact(&[10, 20, 40, 80, 160, 320, 640, 1280, 2000, 2000])
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

#[test]
fn new_rejects_what_the_formulas_cannot_use() {
    let exponential = |factor: f64, base: Duration, cap: Duration| Backoff::Exponential { base, factor, cap };
    let jitter = |randomization: f64| Backoff::ExponentialJitter {
        base: secs(1),
        factor: 2.0,
        cap: secs(10),
        randomization,
        jitter_before_cap: false,
    };
    let cases: Vec<(Backoff, Quirks, &str)> = vec![
        (
            exponential(1.0, secs(1), secs(10)),
            Quirks::default(),
            "the factor must be a finite number above 1; got 1",
        ),
        (
            exponential(0.0, secs(1), secs(10)),
            Quirks::default(),
            "the factor must be a finite number above 1; got 0",
        ),
        (
            exponential(-2.0, secs(1), secs(10)),
            Quirks::default(),
            "the factor must be a finite number above 1; got -2",
        ),
        (
            exponential(f64::NAN, secs(1), secs(10)),
            Quirks::default(),
            "the factor must be a finite number above 1; got NaN",
        ),
        (
            exponential(f64::INFINITY, secs(1), secs(10)),
            Quirks::default(),
            "the factor must be a finite number above 1; got inf",
        ),
        (exponential(2.0, secs(2), secs(1)), Quirks::default(), "the cap 1s is below the base 2s"),
        (
            exponential(2.0, Duration::ZERO, secs(1)),
            Quirks::default(),
            "a base of 0s never grows; use kind immediate",
        ),
        (jitter(1.0), Quirks::default(), "randomization is a fraction in [0, 1); got 1"),
        (jitter(-0.1), Quirks::default(), "randomization is a fraction in [0, 1); got -0.1"),
        (jitter(f64::NAN), Quirks::default(), "randomization is a fraction in [0, 1); got NaN"),
        (
            Backoff::FullJitter { base: ms(10), cap: secs(1), floor: secs(2) },
            Quirks::default(),
            "the floor 2s is above the cap 1s",
        ),
        (
            Backoff::DecorrelatedJitter { base: secs(3), cap: secs(1) },
            Quirks::default(),
            "the cap 1s is below the base 3s",
        ),
        (
            Backoff::Linear { step: Duration::ZERO, cap: secs(1) },
            Quirks::default(),
            "a linear step of 0s never grows; use kind immediate",
        ),
        (
            Backoff::Table { delays: vec![], then: TableEnd::GiveUp },
            Quirks::default(),
            "the table is empty; list at least one delay",
        ),
        (
            Backoff::Fixed { delay: secs(1) },
            Quirks { first_delay: Some((secs(5), secs(1))), ..Quirks::default() },
            "the first_delay range 5s–1s is reversed",
        ),
        (
            exponential(2.0, secs(1), secs(10)),
            Quirks { base_drawn_once: Some((secs(5), secs(1))), ..Quirks::default() },
            "the base_drawn_once range 5s–1s is reversed",
        ),
        (
            Backoff::Fixed { delay: secs(1) },
            Quirks { base_drawn_once: Some((secs(1), secs(5))), ..Quirks::default() },
            "`base_drawn_once` needs a kind with a base, and fixed has none",
        ),
        (
            exponential(2.0, secs(1), secs(10)),
            Quirks { base_drawn_once: Some((secs(1), secs(20))), ..Quirks::default() },
            "the cap 10s is below the base 20s",
        ),
        (
            exponential(2.0, secs(1), secs(10)),
            Quirks { base_drawn_once: Some((Duration::ZERO, secs(2))), ..Quirks::default() },
            "a base of 0s never grows; use kind immediate",
        ),
    ];
    for (backoff, quirks, message) in cases {
        let strategy = Strategy { quirks, ..inline(backoff) };
        match BackoffState::new(&strategy, rng(1)) {
            Err(error) => assert_eq!(error.to_string(), message),
            Ok(_) => panic!("accepted {strategy:?}"),
        }
    }
    for name in PRESET_NAMES {
        assert!(BackoffState::new(&preset(name).unwrap(), rng(1)).is_ok(), "{name}");
    }
}
