//! The few pieces every chart is drawn with: a plot area in integer SVG units, linear and log
//! scales, axes with ticks, paths, and escaping. Numbers are written with a fixed format, so the
//! same report gives the same bytes.

use std::fmt::Write;

/// Chart width and height in SVG units; the plot area leaves room for the axes.
pub const WIDTH: i64 = 1000;
/// See [`WIDTH`].
pub const HEIGHT: i64 = 300;
const LEFT: i64 = 70;
const RIGHT: i64 = 20;
const TOP: i64 = 20;
const BOTTOM: i64 = 40;

/// The Okabe–Ito palette, readable with the common colour-vision deficiencies.
pub const PALETTE: [&str; 8] =
    ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

/// A series colour by index.
pub fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// Text made safe for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A scale from data values to SVG units.
#[derive(Clone, Copy, Debug)]
pub enum Scale {
    /// Linear from `min` to `max`.
    Linear {
        /// The value at the start of the axis.
        min: f64,
        /// The value at its end.
        max: f64,
    },
    /// Base-10 logarithmic from `min` to `max` (both above 0).
    Log {
        /// The value at the start of the axis.
        min: f64,
        /// The value at its end.
        max: f64,
    },
}

impl Scale {
    /// Where `value` falls, from 0.0 (start) to 1.0 (end), clamped.
    pub fn fraction(self, value: f64) -> f64 {
        let f = match self {
            Scale::Linear { min, max } if max > min => (value - min) / (max - min),
            Scale::Log { min, max } if max > min && min > 0.0 => {
                (value.max(min).log10() - min.log10()) / (max.log10() - min.log10())
            }
            _ => 0.0,
        };
        f.clamp(0.0, 1.0)
    }

    /// Tick values: for a linear scale about five "nice" steps, for a log scale the powers of 10.
    pub fn ticks(self) -> Vec<f64> {
        match self {
            Scale::Linear { min, max } => {
                let step = nice_step((max - min) / 5.0);
                let mut ticks = Vec::new();
                let mut tick = (min / step).ceil() * step;
                while tick <= max + step * 1e-9 && ticks.len() < 20 {
                    ticks.push(tick);
                    tick += step;
                }
                ticks
            }
            Scale::Log { min, max } => {
                let (low, high) = (min.log10().floor() as i32, max.log10().ceil() as i32);
                // Over one or two decades the powers of ten alone are too few: add 2 and 5.
                let steps: &[f64] = if high - low <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
                (low..=high)
                    .flat_map(|p| steps.iter().map(move |m| m * 10f64.powi(p)))
                    .filter(|t| *t >= min * 0.999 && *t <= max * 1.001)
                    .collect()
            }
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|step| *step >= raw).unwrap_or(10.0 * power)
}

/// A plot area with its two scales.
#[derive(Clone, Copy, Debug)]
pub struct Plot {
    /// The horizontal scale.
    pub x: Scale,
    /// The vertical scale.
    pub y: Scale,
    /// The chart's height in SVG units ([`HEIGHT`] unless a chart needs more rows).
    pub height: i64,
}

impl Plot {
    /// A plot of the usual height.
    pub fn new(x: Scale, y: Scale) -> Plot {
        Plot { x, y, height: HEIGHT }
    }

    /// The SVG x of `value`.
    pub fn px(&self, value: f64) -> i64 {
        LEFT + (self.x.fraction(value) * (WIDTH - LEFT - RIGHT) as f64).round() as i64
    }

    /// The SVG y of `value` (up is larger).
    pub fn py(&self, value: f64) -> i64 {
        self.height - BOTTOM - (self.y.fraction(value) * (self.height - TOP - BOTTOM) as f64).round() as i64
    }

    /// The plot area's top and bottom SVG y.
    pub fn y_range(&self) -> (i64, i64) {
        (TOP, self.height - BOTTOM)
    }

    /// The axes, their ticks and labels, and the axis titles.
    pub fn axes(
        &self,
        out: &mut String,
        x_label: &str,
        y_label: &str,
        x_text: impl Fn(f64) -> String,
        y_text: impl Fn(f64) -> String,
    ) {
        let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, self.height - BOTTOM);
        let _ = write!(out, r#"<g class="axes"><path d="M{x0} {y0}V{y1}H{x1}"/>"#);
        for tick in self.x.ticks() {
            let x = self.px(tick);
            let _ = write!(
                out,
                r#"<path class="grid" d="M{x} {y0}V{y1}"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                y1 + 16,
                escape(&x_text(tick))
            );
        }
        for tick in self.y.ticks() {
            let y = self.py(tick);
            let _ = write!(
                out,
                r#"<path class="grid" d="M{x0} {y}H{x1}"/><text x="{}" y="{}" text-anchor="end">{}</text>"#,
                x0 - 6,
                y + 4,
                escape(&y_text(tick))
            );
        }
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{}" text-anchor="middle">{}</text><text class="label" x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">{}</text></g>"#,
            (x0 + x1) / 2,
            self.height - 4,
            escape(x_label),
            (y0 + y1) / 2,
            (y0 + y1) / 2,
            escape(y_label)
        );
    }

    /// A polyline through `points`, as path data (`M x y L x y …`), in integer units, without
    /// the points that change nothing (repeats, and the middle of straight horizontal or
    /// vertical runs): a flat stretch of 600 buckets costs two points.
    pub fn line(&self, points: impl IntoIterator<Item = (f64, f64)>) -> String {
        let mut kept: Vec<(i64, i64)> = Vec::new();
        for (x, y) in points {
            let point = (self.px(x), self.py(y));
            if kept.last() == Some(&point) {
                continue;
            }
            if let [.., a, b] = kept[..]
                && ((a.1 == b.1 && b.1 == point.1) || (a.0 == b.0 && b.0 == point.0))
            {
                kept.pop();
            }
            kept.push(point);
        }
        let mut d = String::new();
        for (i, (x, y)) in kept.into_iter().enumerate() {
            let _ = write!(d, "{}{x} {y}", if i == 0 { "M" } else { "L" });
        }
        d
    }
}

/// Opens a chart's `<svg>`, `height` units tall, with its accessible title.
pub fn open(out: &mut String, id: &str, title: &str, height: i64) {
    let _ = write!(
        out,
        r#"<svg id="{}" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(id),
        escape(title),
        escape(title)
    );
}

/// A seconds value for an axis: `0`, `250ms`, `2s`, `1.5s`, `90s`.
pub fn seconds_text(seconds: f64) -> String {
    if seconds == 0.0 {
        "0".to_string()
    } else if seconds < 1.0 {
        format!("{}ms", trim(seconds * 1000.0))
    } else {
        format!("{}s", trim(seconds))
    }
}

/// A number with at most three decimals and no trailing zeros.
pub fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_and_tick() {
        let linear = Scale::Linear { min: 0.0, max: 60.0 };
        assert_eq!(linear.fraction(30.0), 0.5);
        assert_eq!(linear.ticks(), [0.0, 20.0, 40.0, 60.0]);
        let log = Scale::Log { min: 0.001, max: 10.0 };
        assert_eq!(log.fraction(0.1), 0.5);
        assert_eq!(log.ticks(), [0.001, 0.01, 0.1, 1.0, 10.0]);
        let narrow = Scale::Log { min: 1.0, max: 100.0 };
        assert_eq!(narrow.ticks(), [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
        assert_eq!(nice_step(3.7), 5.0);
        assert_eq!(nice_step(0.013), 0.02);
    }

    #[test]
    fn lines_drop_the_points_that_change_nothing() {
        let plot = Plot::new(Scale::Linear { min: 0.0, max: 910.0 }, Scale::Linear { min: 0.0, max: 240.0 });
        let flat = plot.line((0..=10).map(|i| (i as f64 * 91.0, 120.0)));
        assert_eq!(flat, "M70 140L980 140");
        let step = plot.line([(0.0, 0.0), (91.0, 0.0), (91.0, 240.0), (182.0, 240.0), (182.0, 240.0)]);
        assert_eq!(step, "M70 260L161 260L161 20L252 20");
    }

    #[test]
    fn text_is_escaped_and_numbers_trimmed() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(seconds_text(0.25), "250ms");
        assert_eq!(seconds_text(2.0), "2s");
        assert_eq!(trim(1.50), "1.5");
    }
}
