//! The charts of report.html, each an inline SVG with its numbers beside it (a table, or a
//! `<title>` tooltip), drawn from the report model alone. Every series carries its raw values
//! in `data-*` attributes, which the tests (and anyone scripting the page) read back.

use std::fmt::Write;

use super::svg::{self, Plot, Scale, colour, escape, seconds_text, trim};
use crate::outcome::{Charts, RunReport, StrategyReport};

/// The recovery-time CDF, one curve per strategy, on a log time axis; and its percentiles.
pub fn recovery_cdf(out: &mut String, report: &RunReport) {
    let curves: Vec<(usize, &StrategyReport, &Vec<[f64; 2]>)> = report
        .strategies
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.charts.as_ref().map(|c| (i, s, &c.recovery_cdf)))
        .filter(|(_, _, cdf)| !cdf.is_empty())
        .collect();
    out.push_str(r#"<section id="recovery"><h2>Recovery time</h2>"#);
    if curves.is_empty() {
        out.push_str("<p class=\"empty\">No client recovered from a break in this run.</p></section>");
        return;
    }
    let values = curves.iter().flat_map(|(_, _, cdf)| cdf.iter().map(|p| p[0]));
    let (low, high) = values.fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let min = 10f64.powf(low.max(1e-4).log10().floor());
    let max = 10f64.powf(high.max(min * 10.0).log10().ceil());
    let plot = Plot::new(Scale::Log { min, max }, Scale::Linear { min: 0.0, max: 1.0 });
    svg::open(out, "recovery-cdf", "Recovery time CDF, one curve per strategy, log time axis", svg::HEIGHT);
    plot.axes(out, "recovery time (log scale)", "share of recoveries", seconds_text, |f| {
        format!("{}%", trim(f * 100.0))
    });
    for (index, strategy, cdf) in &curves {
        let points: Vec<String> = cdf.iter().map(|p| format!("{}:{}", trim(p[0]), trim(p[1]))).collect();
        let _ = write!(
            out,
            r#"<path class="cdf series" data-strategy="{}" data-points="{}" stroke="{}" d="{}"><title>{}</title></path>"#,
            escape(&strategy.name),
            points.join(" "),
            colour(*index),
            plot.line(steps(cdf)),
            escape(&strategy.name)
        );
    }
    legend(out, curves.iter().map(|(i, s, _)| (*i, s.name.as_str())));
    out.push_str("</svg><table class=\"numbers\"><tr><th>strategy</th><th>recoveries</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>");
    for (_, strategy, _) in &curves {
        let stats = strategy
            .metrics
            .get("recovery_time")
            .filter(|s| s.count > 0)
            .or(strategy.metrics.get("observed_recovery_time"));
        if let Some(s) = stats {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&strategy.name),
                s.count,
                seconds_text(s.p50),
                seconds_text(s.p90),
                seconds_text(s.p99),
                seconds_text(s.max)
            );
        }
    }
    out.push_str("</table></section>");
}

/// A CDF drawn as steps: each point holds until the next value.
fn steps(cdf: &[[f64; 2]]) -> Vec<(f64, f64)> {
    let mut points = vec![(cdf[0][0], 0.0)];
    for (i, p) in cdf.iter().enumerate() {
        if i > 0 {
            points.push((p[0], cdf[i - 1][1]));
        }
        points.push((p[0], p[1]));
    }
    points
}

/// The legend: a swatch and a name per series, in the top left of the plot.
fn legend<'a>(out: &mut String, series: impl Iterator<Item = (usize, &'a str)>) {
    let series: Vec<(usize, &str)> = series.collect();
    let _ = write!(
        out,
        r#"<rect class="legend-box" x="792" y="16" width="200" height="{}"/>"#,
        series.len() as i64 * 18 + 6
    );
    for (row, (index, name)) in series.into_iter().enumerate() {
        let y = 30 + row as i64 * 18;
        let _ = write!(
            out,
            r#"<g class="legend"><rect x="800" y="{}" width="12" height="12" fill="{}"/><text x="818" y="{}">{}</text></g>"#,
            y - 10,
            colour(index),
            y,
            escape(name)
        );
    }
}

/// Where each incident's time goes: detect, reconnect and resync, p50 and p99, stacked bars per
/// strategy.
pub fn breakdown(out: &mut String, report: &RunReport) {
    const PARTS: [(&str, &str); 3] =
        [("detect_time", "detect"), ("reconnect_time", "reconnect"), ("resync_time", "resync")];
    out.push_str(r#"<section id="breakdown"><h2>Where the recovery time goes</h2>"#);
    let rows: Vec<(&StrategyReport, [[f64; 3]; 2])> = report
        .strategies
        .iter()
        .map(|s| {
            let part = |metric: &str, pick: fn(&crate::outcome::Stats) -> f64| {
                s.metrics.get(metric).filter(|m| m.count > 0).map_or(0.0, pick)
            };
            let p50 = PARTS.map(|(metric, _)| part(metric, |m| m.p50));
            let p99 = PARTS.map(|(metric, _)| part(metric, |m| m.p99));
            (s, [p50, p99])
        })
        .filter(|(_, parts)| parts.iter().flatten().any(|v| *v > 0.0))
        .collect();
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No incident in this run.</p></section>");
        return;
    }
    let total =
        rows.iter().flat_map(|(_, p)| p.iter().map(|row| row.iter().sum::<f64>())).fold(0f64, f64::max);
    // Room on the right of the longest bar for its label.
    let x = Scale::Linear { min: 0.0, max: total.max(1e-3) * 1.7 };
    let y = Scale::Linear { min: 0.0, max: (rows.len() * 2) as f64 };
    let plot = Plot { height: 70 + rows.len() as i64 * 2 * 22, ..Plot::new(x, y) };
    svg::open(
        out,
        "breakdown-chart",
        "Detect, reconnect and resync time per strategy, p50 and p99, stacked",
        plot.height,
    );
    plot.axes(out, "seconds", "", seconds_text, |_| String::new());
    for (row, (strategy, parts)) in rows.iter().enumerate() {
        for (which, (label, values)) in [("p50", parts[0]), ("p99", parts[1])].into_iter().enumerate() {
            // The first strategy on top.
            let slot = (rows.len() * 2 - 1 - (row * 2 + which)) as f64;
            let (top, bottom) = (plot.py(slot + 0.85), plot.py(slot + 0.15));
            let mut start = 0.0;
            for ((_, part), value) in PARTS.iter().zip(values) {
                let (x0, x1) = (plot.px(start), plot.px(start + value));
                let _ = write!(
                    out,
                    r#"<rect class="bar" data-strategy="{}" data-quantile="{label}" data-part="{part}" data-seconds="{}" x="{x0}" y="{top}" width="{}" height="{}" fill="{}"><title>{} {label} {part}: {}</title></rect>"#,
                    escape(&strategy.name),
                    trim(value),
                    (x1 - x0).max(0),
                    bottom - top,
                    colour(PARTS.iter().position(|(_, p)| p == part).unwrap_or(0)),
                    escape(&strategy.name),
                    seconds_text(value)
                );
                start += value;
            }
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" class="bar-label">{} {label}</text>"#,
                plot.px(start) + 6,
                (top + bottom) / 2 + 4,
                escape(&strategy.name)
            );
        }
    }
    legend(out, PARTS.iter().enumerate().map(|(i, (_, name))| (i, *name)));
    // On wss://, the TLS handshakes' share of the reconnect (a part of it, not a fourth part).
    fn tls(strategy: &StrategyReport) -> Option<&crate::outcome::Stats> {
        strategy.metrics.get("tls_time").filter(|m| m.count > 0)
    }
    let any_tls = rows.iter().any(|(strategy, _)| tls(strategy).is_some());
    out.push_str("</svg><table class=\"numbers\"><tr><th>strategy</th><th></th><th>detect</th><th>reconnect</th><th>resync</th>");
    if any_tls {
        out.push_str("<th>of the reconnect, TLS</th>");
    }
    out.push_str("</tr>");
    for (strategy, parts) in &rows {
        for (label, values) in [("p50", parts[0]), ("p99", parts[1])] {
            let _ = write!(out, "<tr><td>{}</td><td>{label}</td>", escape(&strategy.name));
            for value in values {
                let _ = write!(out, "<td>{}</td>", seconds_text(value));
            }
            if any_tls {
                let value = tls(strategy).map(|m| if label == "p50" { m.p50 } else { m.p99 });
                let _ = write!(out, "<td>{}</td>", value.map_or("n/a".to_string(), seconds_text));
            }
            out.push_str("</tr>");
        }
    }
    out.push_str("</table></section>");
}

/// One strategy's timeline: the faults as labelled bands, the clients open, connecting and
/// waiting (stacked), and the connection attempts per second.
pub fn timeline(
    out: &mut String,
    report: &RunReport,
    index: usize,
    strategy: &StrategyReport,
    charts: &Charts,
) {
    let end = report.duration + report.quiet_period;
    let clients = (report.clients as f64).max(1.0);
    let plot = Plot::new(Scale::Linear { min: 0.0, max: end }, Scale::Linear { min: 0.0, max: clients });
    let id = format!("timeline-{index}");
    svg::open(
        out,
        &id,
        &format!("{}: faults, clients' states and attempts over time", strategy.name),
        svg::HEIGHT,
    );
    plot.axes(out, "run time", "clients", seconds_text, trim);
    let width = charts.bucket;
    let series: [(&str, &Vec<u32>, usize); 3] =
        [("open", &charts.open, 2), ("connecting", &charts.connecting, 1), ("waiting", &charts.waiting, 3)];
    let mut below = vec![0u32; charts.open.len()];
    for (name, values, colour_index) in series {
        let top: Vec<u32> = below.iter().zip(values.iter()).map(|(b, v)| b + v).collect();
        let mut points: Vec<(f64, f64)> =
            top.iter().enumerate().map(|(i, v)| ((i + 1) as f64 * width, *v as f64)).collect();
        points.insert(0, (0.0, top.first().copied().unwrap_or(0) as f64));
        let mut back: Vec<(f64, f64)> =
            below.iter().enumerate().map(|(i, v)| ((i + 1) as f64 * width, *v as f64)).rev().collect();
        back.push((0.0, below.first().copied().unwrap_or(0) as f64));
        let mut d = plot.line(points.into_iter().chain(back));
        d.push('Z');
        let _ = write!(
            out,
            r#"<path class="state" data-state="{name}" data-values="{}" fill="{}" d="{d}"><title>clients {name}</title></path>"#,
            join(values),
            colour(colour_index)
        );
        below = top;
    }
    let peak = charts.attempts.iter().copied().max().unwrap_or(0);
    if peak > 0 {
        let rate: Vec<f64> = charts.attempts.iter().map(|a| *a as f64 / width).collect();
        let rate_max = rate.iter().copied().fold(0f64, f64::max);
        let attempts_plot = Plot::new(plot.x, Scale::Linear { min: 0.0, max: rate_max.max(1.0) });
        let d = attempts_plot.line(rate.iter().enumerate().map(|(i, r)| ((i as f64 + 0.5) * width, *r)));
        let _ = write!(
            out,
            r#"<path class="attempts series" data-values="{}" d="{d}"><title>attempts per second at the server, peak {}</title></path><text class="axis-note" x="990" y="16" text-anchor="end">attempts/s: 0 to {}</text>"#,
            join(&charts.attempts),
            trim(rate_max),
            trim(rate_max)
        );
    }
    // Over the areas, translucent, so the states show through and the labels stay readable.
    fault_bands(out, &plot, strategy, end);
    legend(out, [(2, "open"), (1, "connecting"), (3, "waiting")].into_iter());
    out.push_str("</svg>");
    numbers(out, charts, end);
}

/// The fault occurrences as shaded, labelled bands.
pub(super) fn fault_bands(out: &mut String, plot: &Plot, strategy: &StrategyReport, end: f64) {
    let (top, bottom) = plot.y_range();
    for fault in &strategy.faults {
        let to = fault.ended.unwrap_or(if is_instant(&fault.name) { fault.started } else { end });
        let (x0, x1) = (plot.px(fault.started), plot.px(to));
        let _ = write!(
            out,
            r#"<g class="fault" data-name="{}" data-from="{}" data-to="{}" data-hits="{}"><rect x="{x0}" y="{top}" width="{}" height="{}"/><text x="{}" y="{}">{}</text><title>faults[{}]#{} {}: {} to {}, {} hits</title></g>"#,
            escape(&fault.name),
            trim(fault.started),
            trim(to),
            fault.hits,
            (x1 - x0).max(2),
            bottom - top,
            x0 + 3,
            top + 12,
            escape(&fault.name),
            fault.plan,
            fault.occurrence,
            escape(&fault.name),
            seconds_text(fault.started),
            seconds_text(to),
            fault.hits
        );
    }
}

/// Faults that act once, at their start.
fn is_instant(name: &str) -> bool {
    matches!(name, "reset" | "close")
}

/// The timeline's numbers, at most 60 rows, in a table that opens on demand.
fn numbers(out: &mut String, charts: &Charts, end: f64) {
    let buckets = charts.open.len();
    let every = buckets.div_ceil(60).max(1);
    let _ = write!(
        out,
        "<details><summary>numbers (every {})</summary><table class=\"numbers\"><tr><th>time</th><th>open</th><th>connecting</th><th>waiting</th><th>gone</th><th>attempts/s</th></tr>",
        seconds_text(charts.bucket * every as f64)
    );
    for i in (0..buckets).step_by(every) {
        let t = ((i + 1) as f64 * charts.bucket).min(end);
        let attempts: u64 = charts.attempts[i..(i + every).min(buckets)].iter().sum();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            seconds_text(t),
            charts.open[i],
            charts.connecting[i],
            charts.waiting[i],
            charts.gone.get(i).copied().unwrap_or(0),
            trim(attempts as f64 / (charts.bucket * every as f64))
        );
    }
    out.push_str("</table></details>");
}

fn join<T: std::fmt::Display>(values: &[T]) -> String {
    values.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

/// Message latency percentiles over time, when the run had messages.
pub fn latency(
    out: &mut String,
    report: &RunReport,
    index: usize,
    strategy: &StrategyReport,
    charts: &Charts,
) {
    let points: Vec<(usize, [f64; 4])> =
        charts.latency.iter().enumerate().filter_map(|(i, l)| l.map(|l| (i, l))).collect();
    if points.is_empty() {
        return;
    }
    let end = report.duration + report.quiet_period;
    let max = points.iter().map(|(_, l)| l[3]).fold(0f64, f64::max).max(1e-3);
    let plot =
        Plot::new(Scale::Linear { min: 0.0, max: end }, Scale::Log { min: (max / 1e4).max(1e-5), max });
    let id = format!("latency-{index}");
    svg::open(out, &id, &format!("{}: message latency percentiles over time", strategy.name), svg::HEIGHT);
    fault_bands(out, &plot, strategy, end);
    plot.axes(out, "run time", "latency (log scale)", seconds_text, seconds_text);
    for (which, name) in ["p50", "p90", "p99", "max"].iter().enumerate() {
        // A line per run of buckets with echoes: no echo in a bucket is a gap, not a slope.
        let mut d = String::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        for (k, (i, l)) in points.iter().enumerate() {
            run.push(((*i as f64 + 0.5) * charts.bucket, l[which]));
            let next_adjacent = points.get(k + 1).is_some_and(|(j, _)| *j == i + 1);
            if !next_adjacent {
                d.push_str(&plot.line(std::mem::take(&mut run)));
            }
        }
        let values: Vec<String> = points.iter().map(|(i, l)| format!("{i}:{}", trim(l[which]))).collect();
        let _ = write!(
            out,
            r#"<path class="latency series" data-quantile="{name}" data-points="{}" stroke="{}" d="{d}"><title>{name} latency</title></path>"#,
            values.join(" "),
            colour(which)
        );
    }
    legend(out, ["p50", "p90", "p99", "max"].into_iter().enumerate());
    out.push_str("</svg>");
}
