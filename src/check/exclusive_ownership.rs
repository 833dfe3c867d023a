//! **ExclusiveOwnership** (G1, Vanlightly's `NoDoubleClientAssignment`, strengthened for the
//! classic protocol): no two members that the coordinator counts as current members of a group
//! believe they own the same partition at the same time. A member believes it owns what its last
//! SyncGroup assigned it, until it revokes or loses it. Zombies (members the coordinator removed)
//! are excluded: they can no longer commit.
//!
//! Catches: an assignor that trusts stale owned partitions (KAFKA-7026/KIP-341), a cooperative
//! rebalance that hands a partition over before it was revoked, a coordinator that keeps two
//! member ids for one static instance.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "exclusive_ownership";

#[derive(Default)]
pub struct ExclusiveOwnership {
    reported: BTreeSet<(String, TopicPartition, String, String)>,
}

impl ExclusiveOwnership {
    fn check(&mut self, group: &str, ghost: &Ghost, report: &mut Reporter) {
        let mut owners: BTreeMap<&TopicPartition, Vec<&String>> = BTreeMap::new();
        for ((g, member), (_, parts)) in &ghost.groups.owned {
            if g != group || !ghost.groups.is_current_member(g, member) {
                continue;
            }
            for tp in parts {
                owners.entry(tp).or_default().push(member);
            }
        }
        for (tp, members) in owners {
            if let [a, b, ..] = members.as_slice() {
                let key = (group.to_string(), tp.clone(), (*a).clone(), (*b).clone());
                if self.reported.insert(key) {
                    report.safety_about(
                        NAME,
                        Subject::Group(group),
                        format!("{group}: {a} and {b} both own {tp} while both are members"),
                    );
                }
            }
        }
    }
}

impl Invariant for ExclusiveOwnership {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::Assigned { group, .. } | EventKind::GroupState { group, .. } => {
                self.check(group, ghost, report)
            }
            _ => {}
        }
    }
}
