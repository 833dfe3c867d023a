//! **StrongIsr** (R4, Gustafson's `StrongIsr`, Vanlightly's Leader Candidate Completeness).
//!
//! No running member of the controller's ISR has a log end offset below the partition's true
//! high watermark. A replica that restarted after a power loss is excluded until the controller
//! re-admits it to the ISR ("unclean exclusion"): its loss is the disk's, not the protocol's.
//!
//! Catches: truncation to the high watermark while in the ISR (KAFKA-1211), a leader that
//! advances the high watermark without its followers, a follower admitted before catching up.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::{BrokerId, NodeId, TopicPartition};
use std::collections::BTreeSet;

pub const NAME: &str = "strong_isr";

#[derive(Default)]
pub struct StrongIsr {
    /// (partition, broker) already reported and not yet recovered: report each lapse once.
    lapsed: BTreeSet<(TopicPartition, BrokerId)>,
}

impl StrongIsr {
    fn check(&mut self, tp: &TopicPartition, ghost: &Ghost, report: &mut Reporter) {
        let Some(state) = ghost.controller.get(tp) else {
            return;
        };
        let true_hw = ghost.true_high_watermark.get(tp).copied().unwrap_or(0);
        for b in &state.isr {
            let key = (tp.clone(), *b);
            let Some(r) = ghost.replica(tp, *b) else {
                continue;
            };
            let excused = !ghost.is_running(NodeId::Broker(*b)) || ghost.unclean.contains(&key);
            if excused || r.log_end() >= true_hw {
                self.lapsed.remove(&key);
                continue;
            }
            if self.lapsed.insert(key) {
                report.safety_about(NAME, Subject::Partition(tp),
                    format!("{tp}: b{b} is in the ISR {:?} with log end offset {} below the true high watermark {true_hw}", state.isr, r.log_end()),
                );
            }
        }
    }
}

impl Invariant for StrongIsr {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::HighWatermark { tp, .. }
            | EventKind::Truncated { tp, .. }
            | EventKind::BecameLeader { tp, .. } => self.check(tp, ghost, report),
            EventKind::PartitionChanged { state, .. } => self.check(&state.tp, ghost, report),
            EventKind::Restarted => {
                let tps: Vec<TopicPartition> = ghost.controller.keys().cloned().collect();
                for tp in tps {
                    self.check(&tp, ghost, report);
                }
            }
            _ => {}
        }
    }
}
