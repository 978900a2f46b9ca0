//! `report.html`: one self-contained page per run, for people who would rather look than read.
//! No script, no font or style from elsewhere: the charts are inline SVG drawn here from the
//! report model alone, so the page works offline, prints, and is the same bytes for the same
//! report (the same seed on the sim engine gives the same page). Its size does not grow with the
//! clients: the charts come from bounded aggregates (`Charts`: at most 600 time buckets, 200
//! CDF points, 10 lanes).
//!
//! The page: the verdict, the strategies side by side (ranked, the best of each column
//! marked), the recovery-time CDF, where the recovery time goes, then per strategy its timeline
//! (fault bands, clients' states, attempts per second), message latency over time and a few
//! clients' swim lanes; the SLO table and the repro lines last. It is well-formed XML as well
//! as HTML, so tests read it with an XML parser.

mod charts;
mod lanes;
pub mod svg;
pub mod swarm;
#[cfg(test)]
mod tests;

use std::fmt::Write;

use super::markdown::figure_text;
use super::side_by_side::{self, COLUMNS};
use super::{Format, repro_line, verdict_word};
use crate::outcome::{RunReport, StrategyReport, Verdict};
use crate::units::format_seconds;
use svg::escape;

/// The HTML page format.
pub struct Html;

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn file_name(&self, _strategy: Option<&str>) -> String {
        "report.html".to_string()
    }

    fn render(&self, report: &RunReport, _strategy: Option<&StrategyReport>) -> String {
        render(report)
    }
}

/// The page.
pub fn render(report: &RunReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let verdict = verdict_word(report.verdict);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>{verdict} · {} · wschaos</title><style>{}</style></head><body>",
        escape(&report.scenario),
        include_str!("style.css")
    );
    header(&mut out, report);
    strategies_table(&mut out, report);
    charts::recovery_cdf(&mut out, report);
    charts::breakdown(&mut out, report);
    for (index, strategy) in report.strategies.iter().enumerate() {
        let _ = write!(
            out,
            r#"<section class="strategy" id="strategy-{index}"><h2>{} · <span class="{}">{}</span></h2><p class="meta">{}</p>"#,
            escape(&strategy.name),
            verdict_class(strategy.verdict),
            verdict_word(strategy.verdict),
            escape(&strategy.description)
        );
        match &strategy.charts {
            Some(data) => {
                charts::timeline(&mut out, report, index, strategy, data);
                charts::latency(&mut out, report, index, strategy, data);
                lanes::lanes(&mut out, report, index, strategy, data);
            }
            None => out.push_str("<p class=\"empty\">This report has no chart data.</p>"),
        }
        out.push_str("</section>");
    }
    slo_table(&mut out, report);
    out.push_str(r#"<section id="repro"><h2>Repro</h2><pre>"#);
    for strategy in &report.strategies {
        let _ = writeln!(out, "{}", escape(&repro_line(report, &strategy.name)));
    }
    out.push_str("</pre></section></body></html>\n");
    out
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "verdict-pass",
        Verdict::Fail => "verdict-fail",
        Verdict::Inconclusive => "verdict-inconclusive",
        Verdict::Interrupted => "verdict-interrupted",
    }
}

fn header(out: &mut String, report: &RunReport) {
    let _ = write!(
        out,
        r#"<header><h1><span class="{}">{}</span> · {}</h1><p class="meta">engine {} · seed {} · {} clients · {} of faults + {} quiet · <code>{}</code> · wschaos {}</p>"#,
        verdict_class(report.verdict),
        verdict_word(report.verdict),
        escape(&report.scenario),
        escape(&report.engine),
        report.seed,
        report.clients,
        format_seconds(report.duration),
        format_seconds(report.quiet_period),
        escape(&report.file),
        escape(&report.wschaos_version)
    );
    if let Some(description) = &report.description {
        let _ = write!(out, "<p>{}</p>", escape(description.trim()));
    }
    out.push_str("</header>");
}

/// The strategies side by side, ranked; the best figure of each column marked.
fn strategies_table(out: &mut String, report: &RunReport) {
    let table = side_by_side::table(report);
    let (metric, aggregate) = &table.ranked_by;
    let _ = write!(
        out,
        r#"<section id="side-by-side"><h2>Strategies side by side</h2><p>Ranked by {} {} ({}); the best of each column is in bold.</p><table id="ranking"><tr><th>rank</th><th>strategy</th><th>verdict</th>"#,
        escape(metric),
        escape(aggregate),
        table.because
    );
    for (name, _) in COLUMNS {
        let _ = write!(out, "<th>{name}</th>");
    }
    out.push_str("</tr>");
    for (rank, row) in table.rows.iter().enumerate() {
        let _ = write!(
            out,
            r#"<tr class="strategy-row" data-strategy="{}"><td>{}</td><td>{}</td><td class="{}">{}</td>"#,
            escape(&row.name),
            rank + 1,
            escape(&row.name),
            verdict_class(row.verdict),
            verdict_word(row.verdict)
        );
        for (figure, best) in row.figures.iter().zip(row.best) {
            let class = if best { r#" class="best""# } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(&figure_text(*figure)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></section>");
}

fn slo_table(out: &mut String, report: &RunReport) {
    out.push_str(r#"<section id="slo"><h2>SLOs</h2>"#);
    if report.strategies.iter().all(|s| s.slo.is_empty()) {
        out.push_str("<p class=\"empty\">The scenario sets no SLO.</p></section>");
        return;
    }
    out.push_str(
        "<table><tr><th>strategy</th><th>metric</th><th>threshold</th><th>measured</th><th>result</th></tr>",
    );
    for strategy in &report.strategies {
        for slo in &strategy.slo {
            let (class, result) = match (strategy.interrupted_at, slo.passed) {
                (Some(_), _) => ("", "not judged"),
                (None, true) => ("verdict-pass", "pass"),
                (None, false) => ("fail", "FAIL"),
            };
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class="{class}">{result}</td></tr>"#,
                escape(&strategy.name),
                escape(&slo.metric),
                escape(&slo.threshold),
                escape(&slo.measured_text)
            );
        }
    }
    out.push_str("</table></section>");
}
