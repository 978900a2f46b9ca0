//! Ranges: reading them, what a draw can give, and that draws are seeded and in range.

use std::collections::BTreeSet;

use super::*;
use crate::seeds;

const COUNT: Kind = Kind::Integer { max: u32::MAX as u64 };

/// Every kind with a range of it.
const RANGES: [(Kind, &str); 8] = [
    (Kind::Duration, "5s..20s"),
    (Kind::Duration, "1.5ms..2ms"),
    (COUNT, "10..50"),
    (Kind::Number, "0.1..0.5"),
    (Kind::Rate, "10/s..3000/m"),
    (Kind::ByteRate, "1KiB/s..4KiB/s"),
    (Kind::Share, "10%..40%"),
    (Kind::Size, "64B..16KiB"),
];

fn draws(range: &Range, seed: u64, n: usize) -> Vec<String> {
    let mut rng = seeds::derive(seed, &[seeds::SWARM, 0]);
    (0..n).map(|_| range.draw(&mut rng)).collect()
}

#[test]
fn every_draw_lies_in_its_range_and_reads_as_its_kind() {
    for (kind, text) in RANGES {
        let range = Range::parse(kind, text).unwrap();
        for drawn in draws(&range, 7, 500) {
            let value =
                kind.parse(&drawn).unwrap_or_else(|e| panic!("{text}: {drawn} does not read back: {e}"));
            assert!(
                (range.low.value..=range.high.value).contains(&value),
                "{text}: {drawn} ({value}) is outside {}..{}",
                range.low.value,
                range.high.value
            );
        }
    }
}

#[test]
fn the_same_seed_draws_the_same_values_and_other_seeds_differ() {
    for (kind, text) in RANGES {
        let range = Range::parse(kind, text).unwrap();
        assert_eq!(draws(&range, 3, 20), draws(&range, 3, 20), "{text}");
        assert_ne!(draws(&range, 3, 20), draws(&range, 4, 20), "{text}");
    }
}

#[test]
fn integer_ranges_include_both_ends_and_every_value_between() {
    let range = Range::parse(COUNT, "1..4").unwrap();
    assert_eq!(range.values(), 4);
    let seen: BTreeSet<String> = draws(&range, 1, 200).into_iter().collect();
    assert_eq!(seen, ["1", "2", "3", "4"].map(String::from).into_iter().collect());
}

#[test]
fn ends_are_drawn_as_written_and_the_grid_fills_the_middle() {
    // 5 s to 20 s in whole milliseconds: 14,999 points between the ends, plus the ends.
    assert_eq!(Range::parse(Kind::Duration, "5s..20s").unwrap().values(), 15_001);
    // An end in microseconds makes the grid microseconds.
    assert_eq!(Range::parse(Kind::Duration, "1.5ms..2ms").unwrap().values(), 501);
    // 30 percentage points need two decimals for 1,000 points: 0.01 % steps.
    assert_eq!(Range::parse(Kind::Share, "10%..40%").unwrap().values(), 3_001);
    assert_eq!(Range::parse(Kind::Number, "0.1..0.5").unwrap().values(), 4_001);
    // One value: the end itself, and no draw from the generator.
    let single = Range::parse(Kind::Duration, "2s..2s").unwrap();
    assert_eq!(single.values(), 1);
    assert_eq!(draws(&single, 9, 3), ["2s", "2s", "2s"]);
    let ends: BTreeSet<String> =
        draws(&Range::parse(Kind::Rate, "1/s..1.000001/s").unwrap(), 2, 100).into_iter().collect();
    assert_eq!(ends, ["1.000001/s", "1/s"].map(String::from).into_iter().collect(), "nothing between");
}

#[test]
fn grid_values_are_written_exactly() {
    assert_eq!(exact_duration(7_000_000_000), "7s");
    assert_eq!(exact_duration(7_345_000_000), "7345ms");
    assert_eq!(exact_duration(12_000), "12µs");
    assert_eq!(exact_duration(1_001), "1001ns");
    assert_eq!(Kind::Share.format(23.47, 2), "23.47%");
    assert_eq!(Kind::Rate.format(12.5, 2), "12.5/s");
    assert_eq!(Kind::Size.format(1500.0, 0), "1500B");
}

#[test]
fn bad_ranges_say_what_is_wrong() {
    let cases = [
        (Kind::Duration, "5s", "is not a range; write `LOW..HIGH`"),
        (Kind::Duration, "5s..", "is not a range"),
        (Kind::Duration, "1s..2s..3s", "is not a range"),
        (Kind::Duration, "5x..10s", "the low end is not a duration"),
        (Kind::Duration, "5s..10", "the high end is not a duration: `10` has no unit"),
        (Kind::Duration, "20s..5s", "backwards: 20s is more than 5s; write `5s..20s`"),
        (COUNT, "1.5..3", "`1.5` is not a whole number"),
        (Kind::Integer { max: 65_535 }, "1..70000", "more than this field holds (65535)"),
        (Kind::Share, "10..40%", "the low end is not a share"),
        (Kind::Rate, "10/s..5/s", "backwards"),
        (Kind::Number, "-1..1", "negative"),
        (Kind::Number, "1e300..1e308", "the high end 1e308 is too large to draw from"),
        (Kind::Rate, "1/s..1e20/s", "too large"),
    ];
    for (kind, text, phrase) in cases {
        let error = Range::parse(kind, text).unwrap_err();
        assert!(error.contains(phrase), "{text}: {error}");
    }
}
