//! `<strategy>.hgrm`: HdrHistogram's classic percentile distribution of one strategy's recovery
//! times, the text HdrHistogram's plotter and wrk2 read.
//!
//! The `hdrhistogram` crate (7.6) records and iterates but has no text output, so this file
//! writes it, following Java's `AbstractHistogram.outputPercentileDistribution` with 5 ticks per
//! half distance and an output scaling ratio of 1000 (values recorded in µs, printed in ms):
//! header `Value Percentile TotalCount 1/(1-Percentile)` and a blank line, rows
//! `%12.3f %2.12f %10d %14.2f`, a last row without the `1/(1-p)` column at percentile 1, and the
//! `#[Mean …]`, `#[Max …]`, `#[Buckets …]` footer.
//!
//! Rows are the crate's `iter_quantiles` steps, which differ from Java's in one place: Java also
//! prints the largest value at the next tick before the final `1.000000000000` row; the crate
//! goes straight to 1. Plotters read both. `Buckets` is the auto-resizing histogram's count,
//! which grows with the largest value recorded (Java's depends on its configured maximum).

use std::fmt::Write;

use hdrhistogram::Histogram;

use super::Format;
use crate::outcome::{RunReport, StrategyReport};

/// The HdrHistogram percentile-distribution format.
pub struct Hgrm;

impl Format for Hgrm {
    fn name(&self) -> &'static str {
        "hgrm"
    }

    fn per_strategy(&self) -> bool {
        true
    }

    fn file_name(&self, strategy: Option<&str>) -> String {
        format!("{}.hgrm", strategy.unwrap_or("recovery"))
    }

    fn render(&self, _report: &RunReport, strategy: Option<&StrategyReport>) -> String {
        render(strategy.map_or(&[], |s| s.recovery_time_us.as_slice()))
    }
}

/// Significant value digits of the histogram (HdrHistogram's usual 3: 0.1% value resolution).
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Recorded µs ÷ this = printed ms.
pub const SCALING_RATIO: f64 = 1000.0;
/// Percentile ticks per half distance to 100%, as in Java's and wrk2's output.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The distribution of `recovery_time_us` (microseconds). An empty slice gives the header, no
/// rows, and a zero footer: still a valid file.
pub fn render(recovery_time_us: &[u64]) -> String {
    // An auto-resizing histogram takes any u64, so recording cannot fail.
    let mut histogram = Histogram::<u64>::new(SIGNIFICANT_DIGITS).expect("3 significant digits is valid");
    for &value in recovery_time_us {
        histogram.record(value).expect("an auto-resizing histogram records any value");
    }
    distribution(&histogram)
}

/// HdrHistogram's percentile distribution text of any histogram (see the file header).
pub fn distribution(histogram: &Histogram<u64>) -> String {
    let digits = usize::from(histogram.sigfig());
    let mut out = String::new();
    // Infallible: writing to a String.
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !histogram.is_empty() {
        for step in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += step.count_since_last_iteration();
            let value = step.value_iterated_to() as f64 / SCALING_RATIO;
            let quantile = step.quantile_iterated_to();
            if quantile < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:>12.digits$} {quantile:>2.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - quantile)
                );
            } else {
                let _ = writeln!(out, "{value:>12.digits$} {quantile:>2.12} {total:>10}");
            }
        }
    }
    let (mean, deviation, max) = if histogram.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            histogram.mean() / SCALING_RATIO,
            histogram.stdev() / SCALING_RATIO,
            histogram.max() as f64 / SCALING_RATIO,
        )
    };
    let _ = writeln!(out, "#[Mean    = {mean:>12.digits$}, StdDeviation   = {deviation:>12.digits$}]");
    let _ = writeln!(out, "#[Max     = {max:>12.digits$}, Total count    = {:>12}]", histogram.len());
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        histogram.buckets(),
        sub_bucket_count(histogram.sigfig())
    );
    out
}

/// HdrHistogram's sub-bucket count for `sigfig` digits: the power of two that holds
/// 2 × 10^sigfig values at unit resolution (2048 for 3 digits). The crate keeps it private, so
/// it is recomputed here with Java's formula.
fn sub_bucket_count(sigfig: u8) -> u64 {
    let single_unit_resolution = 2 * 10u64.pow(u32::from(sigfig));
    single_unit_resolution.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The footer figure after `label =`.
    fn footer(text: &str, label: &str) -> String {
        let at = text.find(&format!("{label} ")).unwrap_or_else(|| panic!("{label} in {text}"));
        let rest = &text[at..];
        let rest = &rest[rest.find('=').unwrap() + 1..];
        rest[..rest.find([',', ']']).unwrap()].trim().to_string()
    }

    #[test]
    fn total_count_and_max_match_what_was_recorded() {
        let values: Vec<u64> = (1..=1000).map(|i| i * 1000).collect(); // 1 ms .. 1 s
        let text = render(&values);
        assert_eq!(footer(&text, "Total count"), "1000");
        // 1 s at 3 significant digits is 1.000 s ± 0.1%; printed in ms.
        let max: f64 = footer(&text, "Max").parse().unwrap();
        assert!((max - 1000.0).abs() <= 1.0, "{max}");
        let mean: f64 = footer(&text, "Mean").parse().unwrap();
        assert!((mean - 500.5).abs() <= 0.5, "{mean}");
        assert_eq!(footer(&text, "SubBuckets"), "2048");
    }

    #[test]
    fn rows_follow_the_classic_layout() {
        let text = render(&[450_000, 800_000, 1_200_000, 2_500_000]);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("       Value     Percentile TotalCount 1/(1-Percentile)"));
        assert_eq!(lines.next(), Some(""));
        assert_eq!(lines.next(), Some("     450.047 0.000000000000          1           1.00"));
        let rows: Vec<&str> = text.lines().skip(2).take_while(|l| !l.starts_with('#')).collect();
        let last = rows.last().unwrap();
        assert_eq!(*last, "    2500.607 1.000000000000          4");
        // Cumulative counts never fall and end at the total.
        let counts: Vec<u64> =
            rows.iter().map(|r| r.split_whitespace().nth(2).unwrap().parse().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        assert!(text.ends_with("SubBuckets     =         2048]\n"), "{text}");
    }

    #[test]
    fn an_empty_histogram_is_a_valid_header_only_file() {
        let text = render(&[]);
        assert_eq!(
            text,
            "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
             #[Mean    =        0.000, StdDeviation   =        0.000]\n\
             #[Max     =        0.000, Total count    =            0]\n\
             #[Buckets =            1, SubBuckets     =         2048]\n"
        );
    }
}
