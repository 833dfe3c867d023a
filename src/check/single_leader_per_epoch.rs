//! **SingleLeaderPerEpoch** (R13, `RaftEventSimulationTest.SingleLeader`): at most one broker
//! ever acts as leader of a partition in a given leader epoch.
//!
//! Catches: a controller that changes the leader without bumping the epoch, which lets two
//! brokers accept writes under the same epoch (and defeats KIP-101/320 fencing).

use super::ghost::Ghost;
use super::{Invariant, Reporter};
use crate::history::{Event, EventKind};
use crate::protocol::{BrokerId, LeaderEpoch, NodeId, TopicPartition};
use std::collections::BTreeMap;

pub const NAME: &str = "single_leader_per_epoch";

#[derive(Default)]
pub struct SingleLeaderPerEpoch {
    leaders: BTreeMap<(TopicPartition, LeaderEpoch), BrokerId>,
}

impl Invariant for SingleLeaderPerEpoch {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, _ghost: &Ghost, report: &mut Reporter) {
        let (
            NodeId::Broker(b),
            EventKind::BecameLeader {
                tp, leader_epoch, ..
            },
        ) = (event.node, &event.kind)
        else {
            return;
        };
        let first = *self.leaders.entry((tp.clone(), *leader_epoch)).or_insert(b);
        if first != b {
            report.safety(
                NAME,
                format!("{tp}: b{b} and b{first} both led epoch {leader_epoch}"),
            );
        }
    }
}
