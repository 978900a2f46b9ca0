//! Strategy entries (presets, bare kinds, inline maps) and the matrix they make; the client
//! settings resolved for each entry come from `settings`.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Checker;
use super::settings::{overrides, resolve};
use crate::scenario::defaults;
use crate::scenario::error::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::presets::{PRESET_NAMES, preset};
use crate::scenario::spec::*;
use crate::scenario::strategy::{Backoff, KINDS, Quirks, Strategy, TableEnd, WSCHAOS_DEFAULTS};
use crate::suggest::did_you_mean;
use crate::units::{self, format_duration};

/// The strategy matrix: the file's `strategies` list, or its one `clients.strategy`, or the
/// default, each with its client settings resolved.
pub(super) fn strategies(
    check: &mut Checker,
    spec: &ScenarioSpec,
    server: &ServerConfig,
    clients: &ClientsConfig,
) -> Vec<ClientStrategy> {
    if super::program::is_program(spec) {
        // The client program's matrix is its commands (`program`); the reference client does
        // not run, and its settings beside `command` are errors reported there.
        let strategy = preset(defaults::STRATEGY).expect("the default strategy is a preset");
        return vec![ClientStrategy { settings: strategy.defaults, strategy }];
    }
    let resolved: Vec<Strategy> = match (&spec.strategies, &spec.clients.strategy) {
        (Some(_), Some(_)) => {
            check.report(
                Diagnostic::at("strategies", "both `strategies` and `clients.strategy` are set; the matrix would ignore `clients.strategy`")
                    .help("move the strategy into the `strategies` list")
                    .on_key(),
            );
            Vec::new()
        }
        (Some(list), None) => {
            if list.is_empty() {
                check.error(
                    "strategies",
                    "the strategy matrix is empty; list at least one strategy or remove `strategies`",
                );
            }
            // Entries with a `command` belong to a client program (`program` reports them).
            let is_command =
                |s: &WordOr<InlineStrategySpec>| matches!(s, WordOr::Map(map) if map.command.is_some());
            let resolved: Vec<(usize, Strategy)> = list
                .iter()
                .enumerate()
                .filter(|(_, s)| !is_command(s))
                .filter_map(|(i, s)| strategy(check, &format!("strategies[{i}]"), s).map(|s| (i, s)))
                .collect();
            let mut seen = BTreeSet::new();
            for (i, s) in &resolved {
                if !seen.insert(s.name.clone()) {
                    check.report(
                        Diagnostic::at(
                            format!("strategies[{i}]"),
                            format!("the matrix names `{}` twice", s.name),
                        )
                        .help("give inline strategies distinct `name`s"),
                    );
                }
            }
            resolved.into_iter().map(|(_, s)| s).collect()
        }
        (None, Some(s)) => strategy(check, "clients.strategy", s).into_iter().collect(),
        (None, None) => preset(defaults::STRATEGY).into_iter().collect(),
    };
    // The `clients:` values are read once, whether or not any strategy loaded.
    let overrides = overrides(check, &spec.clients);
    resolved
        .into_iter()
        .map(|strategy| {
            let settings = resolve(check, &overrides, &strategy, server, clients);
            ClientStrategy { strategy, settings }
        })
        .collect()
}

/// One strategy entry: a preset, a bare kind, or an inline map.
fn strategy(check: &mut Checker, path: &str, spec: &WordOr<InlineStrategySpec>) -> Option<Strategy> {
    match spec {
        WordOr::Word(word) => {
            if let Some(strategy) = preset(word) {
                return Some(strategy);
            }
            if word == "immediate" {
                return Some(inline(Backoff::Immediate, word));
            }
            let hint = if KINDS.contains(&word.as_str()) {
                Some(format!("the kind `{word}` needs parameters: write `{{ kind: {word}, … }}`"))
            } else {
                did_you_mean(word, PRESET_NAMES.iter().chain(KINDS).copied())
            };
            check.report(
                Diagnostic::at(
                    path,
                    format!("unknown strategy `{word}`; the presets are {}", PRESET_NAMES.join(", ")),
                )
                .maybe_help(hint),
            );
            None
        }
        WordOr::Map(map) => inline_strategy(check, path, map).map(|mut strategy| {
            strategy.quirks.reuse_signed_url = map.reuse_signed_url.unwrap_or(false);
            strategy
        }),
    }
}

/// An inline strategy: `backoff` under `name`, with no quirks and wschaos's default settings.
fn inline(backoff: Backoff, name: &str) -> Strategy {
    Strategy {
        name: name.to_string(),
        backoff,
        quirks: Quirks::default(),
        defaults: WSCHAOS_DEFAULTS,
        source: None,
    }
}

/// An inline strategy map: a known kind, only the parameters it takes, its formula and its name.
fn inline_strategy(check: &mut Checker, path: &str, spec: &InlineStrategySpec) -> Option<Strategy> {
    let Some(kind) = &spec.kind else {
        check.report(
            Diagnostic::at(path, "missing field `kind`")
                .help("an inline strategy names its formula: `kind: full_jitter`, `kind: fixed`, …"),
        );
        return None;
    };
    let kind = known_kind(check, path, kind)?;
    let ok = only_its_parameters(check, path, spec, kind);
    let backoff = match kind {
        "immediate" => Some(Backoff::Immediate),
        "fixed" => required(check, path, kind, "delay", &spec.delay).map(|delay| Backoff::Fixed { delay }),
        "table" => table(check, path, spec),
        "linear" => linear(check, path, spec),
        // A missing cap ends the entry here, before its name is checked.
        _ => Some(exponential(check, path, spec, kind)?),
    };
    let name = inline_name(check, path, spec, kind);
    backoff.filter(|_| ok).map(|backoff| inline(backoff, &name))
}

/// The entry's `kind`, if it is one of [`KINDS`].
fn known_kind<'a>(check: &mut Checker, path: &str, kind: &'a str) -> Option<&'a str> {
    if KINDS.contains(&kind) {
        return Some(kind);
    }
    check.report(
        Diagnostic::at(
            format!("{path}.kind"),
            format!("unknown strategy kind `{kind}`; expected one of {}", KINDS.join(", ")),
        )
        .maybe_help(did_you_mean(kind, KINDS.iter().copied())),
    );
    None
}

/// Reports every parameter set that `kind` does not take; true when there is none.
fn only_its_parameters(check: &mut Checker, path: &str, spec: &InlineStrategySpec, kind: &str) -> bool {
    // Which parameters each kind takes; anything else set is a mistake, not silently ignored.
    let takes: &[&str] = match kind {
        "immediate" => &[],
        "fixed" => &["delay"],
        "table" => &["delays", "then"],
        "linear" => &["step", "cap"],
        "exponential" => &["base", "factor", "cap"],
        "exponential_jitter" => &["base", "factor", "cap", "randomization"],
        _ => &["base", "cap"],
    };
    let given = [
        ("delay", spec.delay.is_some()),
        ("delays", spec.delays.is_some()),
        ("then", spec.then.is_some()),
        ("step", spec.step.is_some()),
        ("base", spec.base.is_some()),
        ("factor", spec.factor.is_some()),
        ("cap", spec.cap.is_some()),
        ("randomization", spec.randomization.is_some()),
    ];
    let mut ok = true;
    for (param, set) in given {
        if set && !takes.contains(&param) {
            let accepted = if takes.is_empty() { "none".to_string() } else { takes.join(", ") };
            check.report(
                Diagnostic::at(
                    format!("{path}.{param}"),
                    format!("`{param}` does not apply to kind {kind}; it takes: {accepted}"),
                )
                .on_key(),
            );
            ok = false;
        }
    }
    ok
}

/// A duration parameter that `kind` needs, reported missing when the entry leaves it out.
fn required(
    check: &mut Checker,
    path: &str,
    kind: &str,
    param: &str,
    value: &Option<DurationText>,
) -> Option<Duration> {
    match value {
        Some(text) => check.duration(&format!("{path}.{param}"), text),
        None => {
            check.error(path, format!("kind {kind} needs `{param}`"));
            None
        }
    }
}

/// The `linear` formula: a step above 0s and a cap.
fn linear(check: &mut Checker, path: &str, spec: &InlineStrategySpec) -> Option<Backoff> {
    let step = required(check, path, "linear", "step", &spec.step);
    let cap = required(check, path, "linear", "cap", &spec.cap);
    match (step, cap) {
        (Some(step), Some(cap)) if !step.is_zero() => Some(Backoff::Linear { step, cap }),
        (Some(_), Some(_)) => {
            check.error(format!("{path}.step"), "a linear step of 0s never grows; use kind immediate");
            None
        }
        _ => None,
    }
}

/// The exponential and AWS jitter formulas: a base above 0s, a cap not below it, and for the
/// `exponential*` kinds a factor and a randomization in range. `None` only when the cap is
/// missing or unreadable; other bad values are reported and the formula is still built.
fn exponential(check: &mut Checker, path: &str, spec: &InlineStrategySpec, kind: &str) -> Option<Backoff> {
    let base = required(check, path, kind, "base", &spec.base).unwrap_or_default();
    let cap = required(check, path, kind, "cap", &spec.cap);
    if base.is_zero() && spec.base.is_some() {
        check.error(format!("{path}.base"), "a base of 0s never grows; use kind immediate");
    }
    let factor = spec.factor.unwrap_or(2.0);
    if kind.starts_with("exponential") && !(factor > 1.0 && factor <= 100.0) {
        check.error(
            format!("{path}.factor"),
            format!("the factor must be above 1 (and at most 100); got {factor}"),
        );
    }
    let randomization = spec.randomization.unwrap_or(0.5);
    if !(0.0..1.0).contains(&randomization) {
        check.error(
            format!("{path}.randomization"),
            format!("randomization is a fraction in [0, 1); got {randomization}"),
        );
    }
    let cap = cap?;
    if cap < base {
        check.error(
            format!("{path}.cap"),
            format!("the cap {} is below the base {}", format_duration(cap), format_duration(base)),
        );
    }
    Some(match kind {
        "exponential" => Backoff::Exponential { base, factor, cap },
        "exponential_jitter" => {
            Backoff::ExponentialJitter { base, factor, cap, randomization, jitter_before_cap: false }
        }
        "full_jitter" => Backoff::FullJitter { base, cap, floor: Duration::ZERO },
        "equal_jitter" => Backoff::EqualJitter { base, cap },
        _ => Backoff::DecorrelatedJitter { base, cap },
    })
}

/// The entry's name (its kind by default), reported when empty or a preset's.
fn inline_name(check: &mut Checker, path: &str, spec: &InlineStrategySpec, kind: &str) -> String {
    let name = spec.name.clone().unwrap_or_else(|| kind.to_string());
    if name.is_empty() {
        check.error(format!("{path}.name"), "the name is empty");
    }
    if PRESET_NAMES.contains(&name.as_str()) {
        check.error(
            format!("{path}.name"),
            format!("`{name}` is a preset's name; pick another so reports are not confused"),
        );
    }
    name
}

/// The `table` formula: its delays, all readable, and what follows them.
fn table(check: &mut Checker, path: &str, spec: &InlineStrategySpec) -> Option<Backoff> {
    let Some(list) = &spec.delays else {
        check.error(path, "kind table needs `delays`");
        return None;
    };
    if list.is_empty() {
        check.error(format!("{path}.delays"), "the table is empty; list at least one delay");
        return None;
    }
    let delays: Vec<Duration> = list
        .iter()
        .enumerate()
        .filter_map(|(i, text)| check.duration(&format!("{path}.delays[{i}]"), text))
        .collect();
    let then = match spec.then.as_deref() {
        None => TableEnd::Repeat(*delays.last()?),
        Some("give_up") => TableEnd::GiveUp,
        Some(text) => TableEnd::Repeat(check.parse(&format!("{path}.then"), text, |t| {
            units::parse_duration(t).map_err(|e| {
                let hint = did_you_mean(t, ["give_up"]).map(|h| format!(" ({h})")).unwrap_or_default();
                format!("expected a delay to repeat or `give_up`{hint}: {e}")
            })
        })?),
    };
    (delays.len() == list.len()).then_some(Backoff::Table { delays, then })
}
