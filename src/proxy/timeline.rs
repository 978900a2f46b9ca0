//! The fault timeline: when each fault occurrence starts and ends, computed once from the
//! scenario and the seed, and a player that carries it out against a [`Control`].
//!
//! The schedule is a pure function, so it can be printed, tested and compared; the player only
//! sleeps until each step. A fault with no `for` lasts until the heal at the end of `duration`;
//! at the heal every fault still active ends.

use std::time::Duration;

use tokio::time::Instant;

use super::Control;
use crate::fault::FaultId;
use crate::scenario::{FaultPlan, Timeline};
use crate::seeds;

/// One step of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineStep {
    /// When, from the start of the run.
    pub at: Duration,
    /// Which occurrence.
    pub fault: FaultId,
    /// Start or end.
    pub action: Action,
}

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The occurrence ends. Ordered before `Start` so that at equal times a repeating fault's
    /// previous occurrence ends before the next one starts.
    End,
    /// The occurrence starts.
    Start,
}

/// Every start and end of every fault in `plans`, sorted by time, for a run whose faults play
/// for `duration`. Repeating faults draw their periods from `seed`.
pub fn schedule(plans: &[FaultPlan], duration: Duration, seed: u64) -> Vec<TimelineStep> {
    let mut steps = Vec::new();
    for (index, plan) in plans.iter().enumerate() {
        let instant = plan.fault.kind().is_instant();
        let mut add = |occurrence: u64, start: Duration, lasts: Option<Duration>| {
            let fault = FaultId { plan: index as u64, occurrence };
            steps.push(TimelineStep { at: start, fault, action: Action::Start });
            if !instant {
                let end = lasts.map_or(duration, |lasts| (start + lasts).min(duration));
                steps.push(TimelineStep { at: end, fault, action: Action::End });
            }
        };
        match plan.timeline {
            Timeline::Once { at, lasts } => add(0, at, lasts),
            Timeline::Every { period, from, until, times, lasts } => {
                let mut rng = seeds::derive(seed, &[seeds::TIMELINE, index as u64]);
                let mut start = from;
                let mut occurrence = 0;
                while start <= until
                    && start < duration
                    && times.is_none_or(|times| occurrence < u64::from(times))
                {
                    add(occurrence, start, lasts);
                    occurrence += 1;
                    start += period.draw(&mut rng);
                }
            }
        }
    }
    steps.sort_by_key(|step| (step.at, step.action, step.fault));
    steps
}

/// Plays `steps` (a [`schedule`] of `plans`) against `control`, with times counted from
/// `start`; heals everything at `duration` and returns.
pub async fn play(
    plans: &[FaultPlan],
    steps: &[TimelineStep],
    control: &Control,
    start: Instant,
    duration: Duration,
) {
    for step in steps.iter().filter(|step| step.at < duration) {
        tokio::time::sleep_until(start + step.at).await;
        match step.action {
            Action::Start => {
                if let Some(plan) = usize::try_from(step.fault.plan).ok().and_then(|index| plans.get(index)) {
                    control.start(step.fault, &plan.fault, &plan.target);
                }
            }
            Action::End => control.stop(step.fault),
        }
    }
    tokio::time::sleep_until(start + duration).await;
    control.heal();
}
