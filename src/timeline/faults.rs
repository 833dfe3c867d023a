//! Turns the fault injector's one-line notes (`EventKind::Fault`) and the nodes' crash/restart
//! events into windows on the time axis. The strings come from `src/sim/faults.rs`; pairing them
//! here keeps the simulator free of any drawing concern.

use crate::history::{Event, EventKind};
use crate::protocol::NodeId;
use std::collections::BTreeMap;

/// What a window is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    Crash,
    Partition,
    /// Pause, slow node, slow poll: a node is there but late.
    Slow,
    /// Dropped or delayed messages.
    Network,
    /// An instant note (nothing to pair): `crash c3: already down`, the liveness phase, ...
    Note,
}

impl FaultKind {
    pub fn css(self) -> &'static str {
        match self {
            FaultKind::Crash => "f-crash",
            FaultKind::Partition => "f-part",
            FaultKind::Slow => "f-slow",
            FaultKind::Network => "f-net",
            FaultKind::Note => "f-note",
        }
    }
}

/// One fault on the time axis: `[start_us, end_us)`; a note has `start_us == end_us`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    pub start_us: u64,
    pub end_us: u64,
    pub kind: FaultKind,
    pub label: String,
    /// Whether the run ended (or the liveness phase healed it) before the fault's own end.
    pub open_ended: bool,
}

/// Pairs begins with ends while the events are folded in order.
#[derive(Default)]
pub struct FaultPairer {
    pub windows: Vec<FaultWindow>,
    /// Crashed node -> index of its open window.
    crashed: BTreeMap<NodeId, usize>,
    /// Open network partitions, oldest first.
    partitions: Vec<usize>,
    /// When the liveness phase began, if it did.
    pub liveness_us: Option<u64>,
}

/// `... for 300ms` at the end of a note: the fault's own duration.
fn trailing_duration_ms(what: &str) -> Option<u64> {
    let rest = what.rsplit_once(" for ")?.1;
    rest.strip_suffix("ms")?.parse().ok()
}

/// `slow poll c1: next batch takes 5000ms longer`.
fn slow_poll_ms(what: &str) -> Option<u64> {
    let rest = what.strip_prefix("slow poll ")?.split_once(" takes ")?.1;
    rest.strip_suffix("ms longer")?.parse().ok()
}

impl FaultPairer {
    fn open(&mut self, at_us: u64, end_us: u64, kind: FaultKind, label: String) -> usize {
        self.windows.push(FaultWindow {
            start_us: at_us,
            end_us,
            kind,
            label,
            open_ended: false,
        });
        self.windows.len() - 1
    }

    /// Folds one event in (events that are not about faults are ignored).
    pub fn observe(&mut self, e: &Event) {
        match &e.kind {
            EventKind::Crashed { mode } => {
                let label = format!("crash {} ({mode:?})", e.node);
                let i = self.open(e.at_us, u64::MAX, FaultKind::Crash, label);
                self.crashed.insert(e.node, i);
            }
            EventKind::Restarted => {
                if let Some(i) = self.crashed.remove(&e.node) {
                    self.windows[i].end_us = e.at_us;
                }
            }
            EventKind::Fault { what } => self.note(e.at_us, what),
            _ => {}
        }
    }

    fn note(&mut self, at: u64, what: &str) {
        if what.starts_with("crash ") && !what.contains(": ") {
            return; // The node's own Crashed event opens the window.
        }
        if let Some(ms) = slow_poll_ms(what) {
            self.open(at, at + ms * 1000, FaultKind::Slow, what.to_string());
        } else if what == "partition heals" {
            if !self.partitions.is_empty() {
                let i = self.partitions.remove(0);
                self.windows[i].end_us = at;
            }
        } else if what == "heal all partitions" {
            for i in std::mem::take(&mut self.partitions) {
                self.windows[i].end_us = at;
            }
        } else if what.starts_with("partition ") {
            let i = self.open(at, u64::MAX, FaultKind::Partition, what.to_string());
            self.partitions.push(i);
        } else if let Some(ms) = trailing_duration_ms(what) {
            let kind = if what.starts_with("pause ") || what.starts_with("slow ") {
                FaultKind::Slow
            } else {
                FaultKind::Network
            };
            self.open(at, at + ms * 1000, kind, what.to_string());
        } else if what.starts_with("liveness phase") {
            self.liveness_us = Some(at);
            self.open(at, at, FaultKind::Note, what.to_string());
        } else if !what.starts_with("resume ") && !what.starts_with("slow ") {
            self.open(at, at, FaultKind::Note, what.to_string());
        }
    }

    /// Closes what is still open at the liveness phase (every fault heals there) or at `end_us`.
    pub fn finish(mut self, end_us: u64) -> Vec<FaultWindow> {
        let stop = self.liveness_us.unwrap_or(end_us).min(end_us);
        for w in &mut self.windows {
            if w.kind != FaultKind::Note && w.end_us > stop && w.start_us <= stop {
                w.open_ended = w.end_us == u64::MAX;
                w.end_us = if w.kind == FaultKind::Crash && w.end_us != u64::MAX {
                    w.end_us
                } else {
                    stop
                };
            }
            w.end_us = w.end_us.min(end_us).max(w.start_us);
        }
        self.windows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::CrashMode;

    fn ev(at_us: u64, node: NodeId, kind: EventKind) -> Event {
        Event { at_us, node, kind }
    }

    fn note(at_us: u64, what: &str) -> Event {
        let what = what.to_string();
        ev(at_us, NodeId::Controller, EventKind::Fault { what })
    }

    #[test]
    fn crashes_pair_with_restarts_and_partitions_with_heals() {
        let mut p = FaultPairer::default();
        let c3 = NodeId::Consumer(3);
        p.observe(&note(100, "crash c3 (Process)"));
        let mode = CrashMode::Process;
        p.observe(&ev(100, c3, EventKind::Crashed { mode }));
        p.observe(&note(200, "partition [b1] | [b2,b3]"));
        p.observe(&ev(300, c3, EventKind::Restarted));
        p.observe(&note(400, "partition heals"));
        p.observe(&note(500, "pause c1 for 2ms"));
        p.observe(&note(600, "slow poll c2: next batch takes 1ms longer"));
        p.observe(&note(3000, "resume c1"));
        let w = p.finish(10_000);
        let spans: Vec<(u64, u64, FaultKind)> =
            w.iter().map(|w| (w.start_us, w.end_us, w.kind)).collect();
        assert_eq!(
            spans,
            vec![
                (100, 300, FaultKind::Crash),
                (200, 400, FaultKind::Partition),
                (500, 2500, FaultKind::Slow),
                (600, 1600, FaultKind::Slow),
            ]
        );
        assert_eq!(w[0].label, "crash c3 (Process)");
    }

    #[test]
    fn the_liveness_phase_closes_what_is_still_open() {
        let mut p = FaultPairer::default();
        let mode = CrashMode::Clean;
        p.observe(&ev(100, NodeId::Broker(2), EventKind::Crashed { mode }));
        p.observe(&note(150, "partition [b1] | [b2,b3]"));
        p.observe(&note(5000, "liveness phase: every fault heals"));
        p.observe(&ev(5001, NodeId::Broker(2), EventKind::Restarted));
        let w = p.finish(9000);
        assert_eq!((w[0].start_us, w[0].end_us), (100, 5001));
        assert_eq!((w[1].start_us, w[1].end_us), (150, 5000));
        assert!(w[1].open_ended);
        assert_eq!(w[2].kind, FaultKind::Note);
    }
}
