//! Unit tests of the backoff sampler: each kind's sequence for fixed seeds, the statistics of
//! the jittered kinds over 10,000 draws and the constructor's guard; `presets.rs` has every
//! preset's documented sequence. The helpers here serve both.

mod presets;

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

/// Exponential backoff with these parameters.
fn exponential(factor: f64, base: Duration, cap: Duration) -> Backoff {
    Backoff::Exponential { base, factor, cap }
}

/// Asserts that the constructor refuses `backoff` under `quirks`, saying `message`.
fn assert_rejected(backoff: Backoff, quirks: Quirks, message: &str) {
    let strategy = Strategy { quirks, ..inline(backoff) };
    match BackoffState::new(&strategy, rng(1)) {
        Err(error) => assert_eq!(error.to_string(), message),
        Ok(_) => panic!("accepted {strategy:?}"),
    }
}

#[test]
fn new_rejects_what_the_formulas_cannot_use() {
    let jitter = |randomization: f64| Backoff::ExponentialJitter {
        base: secs(1),
        factor: 2.0,
        cap: secs(10),
        randomization,
        jitter_before_cap: false,
    };
    let cases: Vec<(Backoff, &str)> = vec![
        (exponential(1.0, secs(1), secs(10)), "the factor must be a finite number above 1; got 1"),
        (exponential(0.0, secs(1), secs(10)), "the factor must be a finite number above 1; got 0"),
        (exponential(-2.0, secs(1), secs(10)), "the factor must be a finite number above 1; got -2"),
        (exponential(f64::NAN, secs(1), secs(10)), "the factor must be a finite number above 1; got NaN"),
        (
            exponential(f64::INFINITY, secs(1), secs(10)),
            "the factor must be a finite number above 1; got inf",
        ),
        (exponential(2.0, secs(2), secs(1)), "the cap 1s is below the base 2s"),
        (exponential(2.0, Duration::ZERO, secs(1)), "a base of 0s never grows; use kind immediate"),
        (jitter(1.0), "randomization is a fraction in [0, 1); got 1"),
        (jitter(-0.1), "randomization is a fraction in [0, 1); got -0.1"),
        (jitter(f64::NAN), "randomization is a fraction in [0, 1); got NaN"),
        (
            Backoff::FullJitter { base: ms(10), cap: secs(1), floor: secs(2) },
            "the floor 2s is above the cap 1s",
        ),
        (Backoff::DecorrelatedJitter { base: secs(3), cap: secs(1) }, "the cap 1s is below the base 3s"),
        (
            Backoff::Linear { step: Duration::ZERO, cap: secs(1) },
            "a linear step of 0s never grows; use kind immediate",
        ),
        (
            Backoff::Table { delays: vec![], then: TableEnd::GiveUp },
            "the table is empty; list at least one delay",
        ),
    ];
    for (backoff, message) in cases {
        assert_rejected(backoff, Quirks::default(), message);
    }
}

#[test]
fn new_rejects_quirks_the_formulas_cannot_use() {
    let cases: Vec<(Backoff, Quirks, &str)> = vec![
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
        assert_rejected(backoff, quirks, message);
    }
}

#[test]
fn new_accepts_every_preset() {
    for name in PRESET_NAMES {
        assert!(BackoffState::new(&preset(name).unwrap(), rng(1)).is_ok(), "{name}");
    }
}
