//! The swim lanes of report.html: a few clients' stories (open, trying, down, gone, a tick per
//! attempt) over the fault bands, one lane per chosen client.

use std::fmt::Write;

use super::charts::fault_bands;
use super::svg::{self, Plot, Scale, escape, seconds_text};
use crate::outcome::{Charts, RunReport, StrategyReport};

/// A few clients' stories as swim lanes over the fault bands.
pub fn lanes(out: &mut String, report: &RunReport, index: usize, strategy: &StrategyReport, charts: &Charts) {
    if charts.lanes.is_empty() {
        return;
    }
    let end = report.duration + report.quiet_period;
    let rows = charts.lanes.len() as f64;
    let y = Scale::Linear { min: 0.0, max: rows };
    let plot = Plot {
        height: 70 + charts.lanes.len() as i64 * 40,
        ..Plot::new(Scale::Linear { min: 0.0, max: end }, y)
    };
    let id = format!("lanes-{index}");
    svg::open(
        out,
        &id,
        &format!("{}: the stories of the slowest and of some ordinary clients", strategy.name),
        plot.height,
    );
    fault_bands(out, &plot, strategy, end);
    plot.axes(out, "run time", "", seconds_text, |_| String::new());
    for (row, lane) in charts.lanes.iter().enumerate() {
        let slot = rows - 1.0 - row as f64;
        let (top, bottom) = (plot.py(slot + 0.5), plot.py(slot + 0.05));
        let recovery =
            lane.recovery.map_or(String::new(), |r| format!(", longest recovery {}", seconds_text(r)));
        let _ =
            write!(out, r#"<g class="lane" data-client="{}" data-why="{}">"#, lane.client, escape(&lane.why));
        for span in &lane.spans {
            let (x0, x1) = (plot.px(span.from), plot.px(span.to));
            let _ = write!(
                out,
                r#"<rect class="span {}" x="{x0}" y="{top}" width="{}" height="{}"><title>client {} {}: {} to {}</title></rect>"#,
                escape(&span.state),
                (x1 - x0).max(1),
                bottom - top,
                lane.client,
                escape(&span.state),
                seconds_text(span.from),
                seconds_text(span.to)
            );
        }
        for attempt in &lane.attempts {
            let x = plot.px(*attempt);
            let _ = write!(out, r#"<path class="attempt" d="M{x} {}V{}"/>"#, bottom, bottom + 4);
        }
        let _ = write!(
            out,
            r#"<text class="lane-label" x="74" y="{}">client {} ({}{recovery})</text></g>"#,
            plot.py(slot + 0.62),
            lane.client,
            escape(&lane.why)
        );
    }
    out.push_str("</svg>");
}
