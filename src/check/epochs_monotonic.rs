//! **EpochsMonotonic** (R13, `RaftEventSimulationTest.MonotonicEpoch`): the leader epoch the
//! controller commits for a partition never decreases, and neither does the epoch each broker
//! acts in (as leader or follower), across restarts too (the epoch is persisted).
//!
//! Catches: a broker that accepts stale metadata (an older LeaderAndIsr / partition record), so
//! that a deposed leader could lead again.

use super::ghost::Ghost;
use super::{Invariant, Reporter};
use crate::history::{Event, EventKind};
use crate::protocol::{LeaderEpoch, NodeId, TopicPartition};
use std::collections::BTreeMap;

pub const NAME: &str = "epochs_monotonic";

#[derive(Default)]
pub struct EpochsMonotonic {
    latest: BTreeMap<(NodeId, TopicPartition), LeaderEpoch>,
}

impl EpochsMonotonic {
    fn see(
        &mut self,
        node: NodeId,
        tp: &TopicPartition,
        epoch: LeaderEpoch,
        report: &mut Reporter,
    ) {
        let last = self.latest.entry((node, tp.clone())).or_insert(epoch);
        if epoch < *last {
            report.safety(
                NAME,
                format!("{tp}: {node} went from leader epoch {last} back to {epoch}"),
            );
        }
        *last = (*last).max(epoch);
    }
}

impl Invariant for EpochsMonotonic {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, _ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::PartitionChanged { state, .. } => {
                self.see(event.node, &state.tp, state.leader_epoch, report)
            }
            EventKind::BecameLeader {
                tp, leader_epoch, ..
            }
            | EventKind::BecameFollower {
                tp, leader_epoch, ..
            } => self.see(event.node, tp, *leader_epoch, report),
            _ => {}
        }
    }
}
