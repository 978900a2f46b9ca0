//! The cost of computing a reconnect delay: `BackoffState::next_delay` for each backoff kind and
//! each preset, resetting every 16 draws so attempt numbers stay in the range a client sees.
//!
//! Run with `cargo bench --bench backoff`; criterion reports the time per delay.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use wschaos::client::backoff::BackoffState;
use wschaos::scenario::presets::all_presets;
use wschaos::scenario::strategy::{Backoff, Quirks, Strategy, TableEnd, WSCHAOS_DEFAULTS};
use wschaos::seeds;

/// Draws between resets: past the cap of every formula below, as in a long outage.
const DRAWS_PER_EPISODE: u32 = 16;

/// One strategy per kind, with parameters like the presets' (Phoenix's table, gRPC's jitter).
fn kinds() -> Vec<Strategy> {
    let (base, cap) = (Duration::from_millis(100), Duration::from_secs(10));
    let phoenix = [10, 50, 100, 150, 200, 250, 500, 1000, 2000].map(Duration::from_millis);
    [
        Backoff::Immediate,
        Backoff::Fixed { delay: Duration::from_secs(5) },
        Backoff::Table { delays: phoenix.to_vec(), then: TableEnd::Repeat(Duration::from_secs(5)) },
        Backoff::Linear { step: Duration::from_secs(1), cap },
        Backoff::Exponential { base, factor: 2.0, cap },
        Backoff::ExponentialJitter {
            base: Duration::from_secs(1),
            factor: 1.6,
            cap: Duration::from_secs(120),
            randomization: 0.2,
            jitter_before_cap: false,
        },
        Backoff::FullJitter { base, cap, floor: Duration::ZERO },
        Backoff::EqualJitter { base, cap },
        Backoff::DecorrelatedJitter { base, cap },
    ]
    .into_iter()
    .map(|backoff| Strategy {
        name: backoff.kind().to_string(),
        backoff,
        quirks: Quirks::default(),
        defaults: WSCHAOS_DEFAULTS,
        source: None,
    })
    .collect()
}

/// Benchmarks `next_delay` for each strategy in a group of its own.
fn bench_group(c: &mut Criterion, group_name: &str, strategies: &[Strategy]) {
    let mut group = c.benchmark_group(group_name);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    for (index, strategy) in (0u64..).zip(strategies) {
        let rng = seeds::derive(1, &[seeds::CLIENT, index]);
        let mut state = BackoffState::new(strategy, rng).expect("benchmark strategies are valid");
        group.bench_function(&strategy.name, |b| {
            b.iter(|| {
                if state.attempt() == DRAWS_PER_EPISODE {
                    state.reset();
                }
                black_box(state.next_delay())
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_group(c, "next_delay_kind", &kinds());
    bench_group(c, "next_delay_preset", &all_presets());
}

criterion_group!(benches, bench);
criterion_main!(benches);
