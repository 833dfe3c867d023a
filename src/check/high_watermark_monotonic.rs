//! **HighWatermarkMonotonic** (R12, `RaftEventSimulationTest.MonotonicHighWatermark`): the high
//! watermark exposed by true leaders never goes backwards. A leader's high watermark counts once
//! it has reached the start of its own epoch (before that Kafka itself does not expose it:
//! KIP-207 answers ListOffsets with OFFSET_NOT_AVAILABLE).
//!
//! Catches: a leader that recomputes its high watermark and lets it fall, a new leader that lacks
//! committed records.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::TopicPartition;
use std::collections::BTreeMap;

pub const NAME: &str = "high_watermark_monotonic";

#[derive(Default)]
pub struct HighWatermarkMonotonic {
    max_seen: BTreeMap<TopicPartition, u64>,
}

impl Invariant for HighWatermarkMonotonic {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        let tp = match &event.kind {
            EventKind::HighWatermark { tp, .. } | EventKind::BecameLeader { tp, .. } => tp,
            EventKind::PartitionChanged { state, .. } => &state.tp,
            _ => return,
        };
        let Some((leader, hw)) = ghost.applied_leader_hw(tp) else {
            return;
        };
        let max = self.max_seen.entry(tp.clone()).or_insert(hw);
        if hw < *max {
            report.safety_about(
                NAME,
                Subject::Partition(tp),
                format!(
                    "{tp}: leader b{leader} exposes high watermark {hw} after {max} was exposed"
                ),
            );
        }
        *max = (*max).max(hw);
    }
}
