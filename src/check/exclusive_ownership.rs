//! **ExclusiveOwnership** (G1, Vanlightly's `NoDoubleClientAssignment`, stated per generation for
//! the classic protocol): two running members that the group's true coordinator lists as current
//! members, and that are in the same generation, never both believe they own one partition.
//!
//! What Kafka promises, and where:
//! * In one generation the partitions are split, not shared: the leader's assignment is stored
//!   and handed out whole by `GroupMetadataManager.classicGroupSync`, and the assignors split
//!   partitions between members (`AbstractPartitionAssignor.assign`; the sticky assignors of
//!   KIP-341 let the newer generation's claim win where two members claim one partition).
//! * A member carries nothing it must not into the next generation: an eager member revokes
//!   everything before it sends JoinGroup (`ConsumerCoordinator.onJoinPrepare`); a cooperative
//!   one keeps what it owns, and no owned partition goes to another member in the same
//!   rebalance: it is revoked first (`ConsumerCoordinator.onJoinComplete`,
//!   `validateCooperativeAssignment`, KIP-429). So a member is in the generation it last joined
//!   or was assigned in, owning what it carried in or was assigned.
//! * Kafka does not promise more. A member that did not rejoin a rebalance keeps processing its
//!   older generation's partitions until its next `poll()` gives them away as lost
//!   (`ConsumerCoordinator.onJoinPrepare` after `AbstractCoordinator.resetGenerationOnLeaveGroup`),
//!   while the new generation's owner already has them. A dynamic such member is dropped when the
//!   join phase completes; a static one stays listed until its session expires
//!   (`GroupMetadataManager.completeClassicGroupJoin` removes only dynamic members that did not
//!   rejoin; `expireClassicGroupMemberHeartbeat`). That older-generation zombie may process; its
//!   commits must be fenced (`commit_fencing`).
//! * A crashed consumer process owns nothing from the moment it dies, whatever the coordinator
//!   still lists (a static member is kept until its session expires).
//!
//! Catches: an assignor that trusts stale owned partitions (KAFKA-7026/KIP-341), an eager member
//! that keeps its partitions while it rejoins, a cooperative rebalance that hands a partition
//! over before it was revoked, a coordinator that keeps two member ids for one static instance
//! in one generation.

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
        let mut owners: BTreeMap<(i32, &TopicPartition), Vec<&String>> = BTreeMap::new();
        for ((g, member), o) in &ghost.groups.owned {
            if g != group || !ghost.groups.is_current_member(g, member) {
                continue;
            }
            for tp in &o.partitions {
                owners.entry((o.generation, tp)).or_default().push(member);
            }
        }
        for ((generation, tp), members) in owners {
            if let [a, b, ..] = members.as_slice() {
                let key = (group.to_string(), tp.clone(), (*a).clone(), (*b).clone());
                if self.reported.insert(key) {
                    report.safety_about(
                        NAME,
                        Subject::Group(group),
                        format!("{group}: {a} and {b} both own {tp} in generation {generation} while both are members"),
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
            EventKind::Assigned { group, .. }
            | EventKind::MemberJoined { group, .. }
            | EventKind::GroupState { group, .. } => self.check(group, ghost, report),
            _ => {}
        }
    }
}
