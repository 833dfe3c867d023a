//! The history of a run: every event in order, folded into a hash as it arrives, kept in full
//! only when asked (replay, snapshots), and shown to observers (the checkers) one by one.
//!
//! The trace hash is 64-bit FNV-1a over the derived `Hash` of each event. Derived hashing writes
//! integers in native byte order and lengths as `usize`, so the hash is the same on every 64-bit
//! little-endian machine (x86-64, aarch64) for the same Rust version of the event types.

pub mod compact;
pub mod event;
pub mod json;
pub mod plausible;
pub mod wall;

pub use event::{Event, EventKind, TruncateReason};

use crate::fnv::Fnv64;
use std::hash::{Hash, Hasher};

/// Something that watches every event as it is recorded (a checker, a convergence probe).
pub trait Observer: Send {
    fn observe(&mut self, event: &Event);
}

/// The recorded history of one run.
pub struct History {
    hasher: Fnv64,
    count: u64,
    kept: Option<Vec<Event>>,
    observers: Vec<Box<dyn Observer>>,
    /// Wall time spent in observers, when measured (`bench`); never part of the trace.
    observer_wall_ns: Option<u64>,
}

impl History {
    /// A history that keeps every event when `keep` is true (replay, snapshots), else only the
    /// hash and the count.
    pub fn new(keep: bool) -> Self {
        History {
            hasher: Fnv64::default(),
            count: 0,
            kept: keep.then(Vec::new),
            observers: Vec::new(),
            observer_wall_ns: None,
        }
    }

    pub fn add_observer(&mut self, observer: Box<dyn Observer>) {
        self.observers.push(observer);
    }

    /// Records one event: hash it, show it to every observer, keep it if asked.
    pub fn record(&mut self, event: Event) {
        event.hash(&mut self.hasher);
        self.count += 1;
        let started = self.observer_wall_ns.map(|_| wall::monotonic_ns());
        for o in &mut self.observers {
            o.observe(&event);
        }
        if let (Some(t), Some(total)) = (started, self.observer_wall_ns.as_mut()) {
            *total += wall::monotonic_ns().saturating_sub(t);
        }
        if let Some(kept) = &mut self.kept {
            kept.push(event);
        }
    }

    /// Start timing the observers with the wall clock (for `bench` only).
    pub fn measure_observers(&mut self) {
        self.observer_wall_ns = Some(0);
    }

    pub fn observer_wall_ns(&self) -> Option<u64> {
        self.observer_wall_ns
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The trace hash so far, as 16 hex digits.
    pub fn trace_hash(&self) -> String {
        format!("{:016x}", self.hasher.finish())
    }

    /// The kept events (empty unless created with `keep`).
    pub fn events(&self) -> &[Event] {
        self.kept.as_deref().unwrap_or(&[])
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        self.kept.take().unwrap_or_default()
    }

    pub fn take_observers(&mut self) -> Vec<Box<dyn Observer>> {
        std::mem::take(&mut self.observers)
    }

    pub fn observers_mut(&mut self) -> &mut [Box<dyn Observer>] {
        &mut self.observers
    }
}

/// The first position where two histories differ, with both events as text (`-` past an end).
pub fn first_difference(a: &[Event], b: &[Event]) -> Option<(usize, String, String)> {
    let show = |e: Option<&Event>| e.map(|e| e.to_string()).unwrap_or_else(|| "-".into());
    (0..a.len().max(b.len()))
        .find(|i| a.get(*i) != b.get(*i))
        .map(|i| (i, show(a.get(i)), show(b.get(i))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::NodeId;

    fn ev(at_us: u64, what: &str) -> Event {
        Event {
            at_us,
            node: NodeId::Controller,
            kind: EventKind::Fault { what: what.into() },
        }
    }

    #[test]
    fn hash_depends_on_order_and_content() {
        let run = |evs: &[Event]| {
            let mut h = History::new(false);
            evs.iter().cloned().for_each(|e| h.record(e));
            h.trace_hash()
        };
        let a = ev(1, "x");
        let b = ev(2, "y");
        assert_eq!(run(&[a.clone(), b.clone()]), run(&[a.clone(), b.clone()]));
        assert_ne!(run(&[a.clone(), b.clone()]), run(&[b, a.clone()]));
        assert_ne!(run(&[a]), run(&[ev(1, "z")]));
    }

    #[test]
    fn first_difference_names_the_event() {
        let a = vec![ev(1, "x"), ev(2, "y")];
        let b = vec![ev(1, "x"), ev(2, "z")];
        assert_eq!(first_difference(&a, &a), None);
        let (i, x, y) = first_difference(&a, &b).unwrap();
        assert_eq!(
            (i, x.contains("fault y"), y.contains("fault z")),
            (1, true, true)
        );
        assert_eq!(first_difference(&a, &a[..1]).map(|d| d.0), Some(1));
    }

    #[test]
    fn fnv_matches_reference_vector() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        let mut h = Fnv64::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
