//! A deterministic timer queue for the role cores: timers fire in deadline order, ties in the
//! order they were scheduled. Time is always an argument; the queue never reads a clock.

use crate::protocol::Millis;
use std::collections::BTreeMap;

/// A handle to cancel a scheduled timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(Millis, u64);

/// Timers carrying a payload `T`.
#[derive(Clone, Debug)]
pub struct TimerQueue<T> {
    timers: BTreeMap<TimerId, T>,
    next_seq: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            timers: BTreeMap::new(),
            next_seq: 0,
        }
    }
}

impl<T> TimerQueue<T> {
    pub fn schedule(&mut self, at: Millis, payload: T) -> TimerId {
        let id = TimerId(at, self.next_seq);
        self.next_seq += 1;
        self.timers.insert(id, payload);
        id
    }

    /// Cancels a timer; returns its payload if it had not fired yet.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        self.timers.remove(&id)
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.keys().next().map(|id| id.0)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Millis) -> Option<T> {
        let first = *self.timers.keys().next()?;
        (first.0 <= now).then(|| self.timers.remove(&first).expect("key just seen"))
    }

    pub fn len(&self) -> usize {
        self.timers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    pub fn clear(&mut self) {
        self.timers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_then_schedule_order() {
        let mut q = TimerQueue::default();
        q.schedule(10, "b");
        let c = q.schedule(5, "c");
        q.schedule(10, "d");
        q.schedule(5, "a");
        assert_eq!(q.cancel(c), Some("c"));
        assert_eq!(q.next_deadline(), Some(5));
        assert_eq!(q.pop_due(4), None);
        let fired: Vec<_> = std::iter::from_fn(|| q.pop_due(10)).collect();
        assert_eq!(fired, ["a", "b", "d"]);
        assert!(q.is_empty());
    }
}
