//! The coordinator's timer: Kafka's `CoordinatorTimer` made deterministic. Each task has a key;
//! scheduling a key again replaces its task (as `timer.schedule(key, ...)` does), cancelling removes
//! it. Due tasks are taken in deadline order, then in the order they were scheduled.

use crate::protocol::Millis;
use std::collections::BTreeMap;

/// What a timer is for; at most one task per key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKey {
    /// A member's session (or a pending member's, or a new member's join) deadline.
    Heartbeat { group: String, member: String },
    /// The end of a group's join phase (`DelayedJoin` / `InitialDelayedJoin`).
    Join { group: String },
    /// The end of a group's sync phase (`DelayedSync`).
    Sync { group: String },
    /// The periodic offset expiration run (`offsets.retention.check.interval.ms`).
    OffsetExpiration,
}

/// What to do when a timer fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerTask {
    ExpireHeartbeat {
        group: String,
        member: String,
    },
    /// Complete the join phase (`DelayedJoin`).
    CompleteJoin {
        group: String,
    },
    /// The initial rebalance delay, with the delay of this step and the time still allowed.
    InitialJoin {
        group: String,
        delay_ms: u64,
        remaining_ms: u64,
    },
    /// Members that have not synced by now are removed (`DelayedSync` of this generation).
    ExpireSync {
        group: String,
        generation_id: i32,
    },
    ExpireOffsets,
}

/// A deterministic keyed timer.
#[derive(Clone, Debug, Default)]
pub struct Timer {
    next_seq: u64,
    by_deadline: BTreeMap<(Millis, u64), (TimerKey, TimerTask)>,
    by_key: BTreeMap<TimerKey, (Millis, u64)>,
}

impl Timer {
    /// Schedules `task` under `key` at `deadline`, replacing the key's previous task.
    pub fn schedule(&mut self, key: TimerKey, deadline: Millis, task: TimerTask) {
        self.cancel(&key);
        let slot = (deadline, self.next_seq);
        self.next_seq += 1;
        self.by_key.insert(key.clone(), slot);
        self.by_deadline.insert(slot, (key, task));
    }

    pub fn cancel(&mut self, key: &TimerKey) {
        if let Some(slot) = self.by_key.remove(key) {
            self.by_deadline.remove(&slot);
        }
    }

    pub fn is_scheduled(&self, key: &TimerKey) -> bool {
        self.by_key.contains_key(key)
    }

    pub fn deadline(&self, key: &TimerKey) -> Option<Millis> {
        self.by_key.get(key).map(|(d, _)| *d)
    }

    /// The earliest deadline, if any task is scheduled.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.by_deadline.keys().next().map(|(d, _)| *d)
    }

    /// Removes and returns the first task due at or before `now`, with its deadline.
    pub fn pop_due(&mut self, now: Millis) -> Option<(Millis, TimerTask)> {
        let (&slot, _) = self.by_deadline.iter().next()?;
        if slot.0 > now {
            return None;
        }
        let (key, task) = self.by_deadline.remove(&slot)?;
        self.by_key.remove(&key);
        Some((slot.0, task))
    }

    /// Cancels every task of a group (its deletion or unloading).
    pub fn cancel_group(&mut self, group: &str) {
        let keys: Vec<TimerKey> = self
            .by_key
            .keys()
            .filter(|k| match k {
                TimerKey::Heartbeat { group: g, .. }
                | TimerKey::Join { group: g }
                | TimerKey::Sync { group: g } => g == group,
                TimerKey::OffsetExpiration => false,
            })
            .cloned()
            .collect();
        for k in keys {
            self.cancel(&k);
        }
    }

    pub fn clear(&mut self) {
        self.by_deadline.clear();
        self.by_key.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(m: &str) -> TimerKey {
        TimerKey::Heartbeat {
            group: "g".into(),
            member: m.into(),
        }
    }

    fn task(m: &str) -> TimerTask {
        TimerTask::ExpireHeartbeat {
            group: "g".into(),
            member: m.into(),
        }
    }

    #[test]
    fn fires_in_deadline_then_creation_order_and_rescheduling_replaces() {
        let mut t = Timer::default();
        t.schedule(hb("b"), 10, task("b"));
        t.schedule(hb("a"), 10, task("a"));
        t.schedule(hb("c"), 5, task("c"));
        t.schedule(hb("c"), 20, task("c"));
        assert_eq!(t.next_deadline(), Some(10));
        assert_eq!(t.pop_due(9), None);
        assert_eq!(t.pop_due(10), Some((10, task("b"))));
        assert_eq!(t.pop_due(10), Some((10, task("a"))));
        assert_eq!(t.pop_due(10), None);
        t.cancel(&hb("c"));
        assert_eq!(t.next_deadline(), None);
    }
}
