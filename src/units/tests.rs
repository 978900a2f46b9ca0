//! Tests of the unit parsers and formatters: every unit parses, bad values say what is wrong,
//! and formatting round-trips.

use super::*;

#[test]
fn seconds_read_like_a_person_writes_them() {
    let cases = [
        (0.0, "0s"),
        (0.00085, "850µs"),
        (0.45, "450ms"),
        (0.0125, "12.5ms"),
        (1.234, "1.23s"),
        (95.1, "95.1s"),
        (f64::NAN, "n/a"),
    ];
    for (seconds, text) in cases {
        assert_eq!(format_seconds(seconds), text, "{seconds}");
    }
}

#[test]
fn durations_parse_with_every_unit() {
    let cases = [
        ("250ms", Duration::from_millis(250)),
        ("5s", Duration::from_secs(5)),
        ("2m", Duration::from_secs(120)),
        ("1h", Duration::from_secs(3600)),
        ("1.5s", Duration::from_millis(1500)),
        ("0s", Duration::ZERO),
        ("20us", Duration::from_micros(20)),
        (" 3 s ", Duration::from_secs(3)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_duration(text), Ok(expected), "{text}");
    }
}

#[test]
fn bad_durations_say_what_is_wrong() {
    let cases = [
        ("5", "has no unit"),
        ("-5s", "cannot be negative (got `-5s`)"),
        ("5sec", "did you mean `s`"),
        ("2ms ~ 1ms", "`10s ± 3s`"),
        ("100ms ± 20ms", "has a spread"),
        ("fast", "starting with a number"),
        ("1.2.3s", "not a number"),
        ("200h", "longest duration"),
    ];
    for (text, phrase) in cases {
        let error = parse_duration(text).unwrap_err();
        assert!(error.contains(phrase), "{text}: {error}");
    }
}

#[test]
fn jittered_durations_keep_base_and_spread() {
    let jittered = parse_jittered("10s ± 3s").unwrap();
    assert_eq!((jittered.min(), jittered.max()), (Duration::from_secs(7), Duration::from_secs(13)));
    assert_eq!(parse_jittered("2ms +- 1ms").unwrap().jitter, Duration::from_millis(1));
    assert_eq!(parse_jittered("4s").unwrap().jitter, Duration::ZERO);
    assert!(parse_jittered("1s ± 2s").unwrap_err().contains("negative draws"));
}

#[test]
fn rates_sizes_and_shares() {
    assert_eq!(parse_rate("20/s").unwrap().per_second, 20.0);
    assert_eq!(parse_rate("1200/m").unwrap().per_second, 20.0);
    assert_eq!(parse_rate("20/s").unwrap().interval(), Duration::from_millis(50));
    assert!(parse_rate("0/s").unwrap_err().contains("above zero"));
    assert!(parse_rate("20/sec").unwrap_err().contains("did you mean `s`"));
    assert!(parse_rate("20").unwrap_err().contains("like `20/s`"));
    assert_eq!(parse_size("64B"), Ok(64));
    assert_eq!(parse_size("16KiB"), Ok(16 * 1024));
    assert_eq!(parse_size("1MiB"), Ok(1 << 20));
    assert!(parse_size("16kib").unwrap_err().contains("did you mean `KiB`"));
    assert!(parse_size("1.5B").unwrap_err().contains("whole number"));
    assert_eq!(parse_byte_rate("10KiB/s"), Ok(10240.0));
    assert_eq!(parse_share("50%"), Ok(0.5));
    assert!(parse_share("150%").unwrap_err().contains("cannot exceed 100%"));
    assert!(parse_share("0.5").unwrap_err().contains("percentage"));
}

#[test]
fn formatting_round_trips() {
    for text in ["250ms", "1.5s", "2m", "1h", "90s", "3.1s", "0s", "20µs"] {
        assert_eq!(format_duration(parse_duration(text).unwrap()), text);
    }
    assert_eq!(format_size(16 * 1024), "16KiB");
    assert_eq!(format_size(100), "100B");
}
