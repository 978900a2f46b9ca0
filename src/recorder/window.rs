//! The recorder's reorder window: events come in arrival order, the derivations want them in
//! time order (a stable sort: equal times keep their arrival order). The window holds the last
//! [`WINDOW_EVENTS`] events sorted and lets the earliest go as later ones arrive, so the
//! derivations can run as the run goes instead of over every event kept to the end.
//!
//! The sim engine delivers events in time order (its one thread runs the recorder's task
//! before the clock may move), so there nothing ever waits to be reordered. On the live
//! engine a thread may stamp an event and send it a moment after another thread's later
//! event: the window absorbs that. An event more than [`WINDOW_EVENTS`] places late (behind
//! one already let go) is let go at once and counted as late.

use std::collections::VecDeque;

use tokio::time::Instant;

use super::Recorded;

/// How many events the window holds: 64 Ki events (4.5 MiB) absorb far more disorder than a
/// live run produces, and every hand-written test script fits whole.
pub(crate) const WINDOW_EVENTS: usize = 64 * 1024;

/// Sorted recent events.
#[derive(Debug)]
pub(crate) struct ReorderWindow {
    events: VecDeque<Recorded>,
    capacity: usize,
    /// The time of the last event let go.
    released: Option<Instant>,
    /// Events that arrived behind one already let go.
    late: u64,
}

impl ReorderWindow {
    /// A window of [`WINDOW_EVENTS`].
    pub fn new() -> ReorderWindow {
        ReorderWindow::with_capacity(WINDOW_EVENTS)
    }

    fn with_capacity(capacity: usize) -> ReorderWindow {
        ReorderWindow { events: VecDeque::with_capacity(capacity), capacity, released: None, late: 0 }
    }

    /// Takes `event`; returns the event it pushes out (the earliest), if the window is full,
    /// or `event` itself if it came too late to be reordered.
    pub fn push(&mut self, event: Recorded) -> Option<Recorded> {
        let at = event.at();
        if self.released.is_some_and(|released| at < released) {
            self.late += 1;
            return Some(event);
        }
        // A full window lets its earliest go first, so it never grows past its capacity; an
        // event earlier than everything held is then the earliest itself.
        let due = if self.events.len() < self.capacity {
            None
        } else if self.events.front().is_some_and(|first| at < first.at()) {
            self.released = Some(at);
            return Some(event);
        } else {
            self.pop()
        };
        match self.events.back() {
            Some(last) if last.at() > at => {
                // After every event with the same time: equal times keep arrival order.
                let index = self.events.partition_point(|held| held.at() <= at);
                self.events.insert(index, event);
            }
            _ => self.events.push_back(event),
        }
        due
    }

    /// Lets the earliest event go.
    pub fn pop(&mut self) -> Option<Recorded> {
        let event = self.events.pop_front()?;
        self.released = Some(event.at());
        Some(event)
    }

    /// Events that came too late to be put in order.
    pub fn late(&self) -> u64 {
        self.late
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::client::{ClientEvent, ClientEventKind};

    fn event(origin: Instant, t: u64, n: u64) -> Recorded {
        let at = origin + Duration::from_secs(t);
        Recorded::Client(ClientEvent { at, client: 0, kind: ClientEventKind::Attempt { n } })
    }

    fn drain(window: &mut ReorderWindow, out: &mut Vec<u64>) {
        while let Some(event) = window.pop() {
            out.push(label(&event));
        }
    }

    fn label(event: &Recorded) -> u64 {
        match event {
            Recorded::Client(ClientEvent { kind: ClientEventKind::Attempt { n }, .. }) => *n,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn events_come_out_stably_sorted_by_time() {
        let origin = Instant::now();
        // (time, label): labels 1 and 3 share a time and must keep their arrival order.
        let arrivals = [(5, 1), (2, 2), (5, 3), (1, 4), (9, 5), (2, 6)];
        let mut window = ReorderWindow::with_capacity(16);
        let mut out = Vec::new();
        for (t, n) in arrivals {
            assert!(window.push(event(origin, t, n)).is_none(), "the window is not full");
        }
        drain(&mut window, &mut out);
        assert_eq!(out, [4, 2, 6, 1, 3, 5]);
        assert_eq!(window.late(), 0);
    }

    #[test]
    fn a_full_window_lets_the_earliest_go_and_counts_what_comes_too_late() {
        let origin = Instant::now();
        let mut window = ReorderWindow::with_capacity(2);
        let mut out = Vec::new();
        for (t, n) in [(3, 1), (1, 2), (2, 3), (4, 4)] {
            out.extend(window.push(event(origin, t, n)).as_ref().map(label));
        }
        assert_eq!(out, [2, 3], "each push past capacity lets the earliest go");
        // Time 2 has been let go: an event at 1 can no longer be put before it.
        out.extend(window.push(event(origin, 1, 5)).as_ref().map(label));
        assert_eq!(window.late(), 1);
        // An event at the time last let go is not late: it sorts after it anyway.
        out.extend(window.push(event(origin, 2, 6)).as_ref().map(label));
        drain(&mut window, &mut out);
        assert_eq!(out, [2, 3, 5, 6, 1, 4]);
        assert_eq!(window.late(), 1);
    }
}
