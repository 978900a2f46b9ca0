//! The table `wschaos presets` prints: every preset's delays for attempts 1–8, heartbeat,
//! reset rule, give-up rule and source.

use super::model::{BackoffReset, ClientSettings};
use super::presets::all_presets;
use super::strategy::{Strategy, format_bounds};
use crate::units::format_duration;

/// How many attempts the table shows.
pub const ATTEMPTS_SHOWN: u32 = 8;

/// Heartbeat and read timeout in a few words.
pub fn heartbeat_text(settings: &ClientSettings) -> String {
    let mut parts = Vec::new();
    match settings.heartbeat {
        Some(h) => match h.pong_timeout {
            Some(pong) => parts.push(format!(
                "ping {}, pong within {}",
                format_duration(h.ping_every),
                format_duration(pong)
            )),
            None => parts.push(format!("ping {} (pongs unchecked)", format_duration(h.ping_every))),
        },
        None => parts.push("no client ping".to_string()),
    }
    if let Some(read) = settings.read_timeout {
        parts.push(format!("silence {} is fatal", format_duration(read)));
    }
    parts.join("; ")
}

/// The reset rule in a few words.
pub fn reset_text(reset: BackoffReset) -> String {
    match reset {
        BackoffReset::OnOpen => "on open".to_string(),
        BackoffReset::AfterUptime(uptime) => format!("after {} up", format_duration(uptime)),
        BackoffReset::OnFirstEcho => "on first echo".to_string(),
        BackoffReset::Never => "never".to_string(),
    }
}

/// The give-up rule in a few words.
pub fn give_up_text(strategy: &Strategy) -> String {
    let mut text = match strategy.defaults.max_attempts {
        Some(n) => format!("after {n} attempts"),
        None => "never".to_string(),
    };
    if strategy.quirks.give_up_if_first_connect_fails {
        text.push_str(", or if the first connect fails");
    }
    text
}

/// Renders the table as aligned text columns, one preset per row, then each formula.
pub fn render() -> String {
    let header = ["preset", "delays before attempts 1-8", "heartbeat", "reset", "give up", "source"];
    let presets = all_presets();
    let rows: Vec<[String; 6]> = presets
        .iter()
        .map(|strategy| {
            let delays: Vec<String> =
                (1..=ATTEMPTS_SHOWN).map(|n| format_bounds(strategy.delay_bounds(n))).collect();
            [
                strategy.name.clone(),
                delays.join(", "),
                heartbeat_text(&strategy.defaults),
                reset_text(strategy.defaults.backoff_reset),
                give_up_text(strategy),
                strategy.source.unwrap_or_default().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = String::new();
    out.push_str(&line(&header.map(String::from)));
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out.push_str("\nformulas (n = attempt number after a break):\n");
    for strategy in &presets {
        out.push_str(&format!("  {:<24} {}\n", strategy.name, strategy.describe()));
    }
    out
}
