//! Ghost state of consumer groups, rebuilt from the history: what each group's coordinator says
//! (state, generation, members), what each running member believes it owns and in which
//! generation, what was processed, and the commits applied and acknowledged.
//!
//! The coordinator's word and a member's belief are kept apart, as in Kafka: a coordinator lists
//! a static member until its session expires (`GroupMetadataManager.completeClassicGroupJoin`
//! keeps static members that did not rejoin; `expireClassicGroupMemberHeartbeat` removes them),
//! and assigns it partitions it may never receive, while a member owns only what its own
//! SyncGroup answer gave it. A crashed consumer process owns nothing, whatever is listed.

use super::offsets::OffsetRanges;
use crate::history::{Event, EventKind};
use crate::protocol::{NodeId, TopicPartition};
use std::collections::{BTreeMap, BTreeSet};

/// The coordinator's latest word on a group.
#[derive(Clone, Debug, Default)]
pub struct CoordinatorView {
    pub state: String,
    pub generation: i32,
    pub members: BTreeSet<String>,
}

/// What one member believes it owns, as its own events say.
#[derive(Clone, Debug)]
pub struct Ownership {
    /// The consumer process the member id lives in.
    pub node: NodeId,
    /// The generation the member is in: the newest one it joined or was assigned in. A
    /// cooperative member carries what it owned into the generation it joins (KIP-429); an
    /// eager one joins owning nothing (`ConsumerCoordinator.onJoinPrepare` revoked it all).
    pub generation: i32,
    /// The partitions it believes it owns: its last assignment, less what it revoked since.
    pub partitions: BTreeSet<TopicPartition>,
}

#[derive(Debug, Default)]
pub struct GroupGhost {
    /// The view of each group's true coordinator (the true leader of its `__consumer_offsets`
    /// partition); a deposed coordinator that has not noticed yet does not count.
    pub coordinator: BTreeMap<String, CoordinatorView>,
    /// Every coordinator's own latest view, by (group, broker node name).
    pub views: BTreeMap<(String, String), CoordinatorView>,
    /// (group, member) → what the member believes it owns. A consumer process that crashed owns
    /// nothing from that moment: its entries are dropped, although a coordinator keeps a static
    /// member until its session expires.
    pub owned: BTreeMap<(String, String), Ownership>,
    /// (group, partition) → the offsets processed at least once.
    pub processed: BTreeMap<(String, TopicPartition), OffsetRanges>,
    /// (group, partition) → the latest offset the group's true coordinator accepted. A deposed
    /// coordinator that has not noticed yet may still accept a commit (a paused broker serving
    /// its queued requests), but its log is truncated when it learns, so that commit never
    /// counts.
    pub applied: BTreeMap<(String, TopicPartition), u64>,
    /// (group, partition) → the highest offset whose commit a member saw acknowledged.
    pub acknowledged: BTreeMap<(String, TopicPartition), u64>,
    /// (group, partition) → the lowest position any member started from.
    pub first_position: BTreeMap<(String, TopicPartition), u64>,
    pub rebalances: u64,
}

impl GroupGhost {
    /// Applies one event; `from_true_coordinator` says whether a coordinator event comes from
    /// the group's true coordinator.
    pub fn apply(&mut self, ev: &Event, from_true_coordinator: bool) {
        match &ev.kind {
            EventKind::GroupState {
                group,
                state,
                generation,
                members,
                ..
            } => {
                let view = CoordinatorView {
                    state: state.clone(),
                    generation: *generation,
                    members: members.iter().cloned().collect(),
                };
                self.views
                    .insert((group.clone(), ev.node.to_string()), view.clone());
                if from_true_coordinator {
                    if state == "CompletingRebalance" {
                        self.rebalances += 1;
                    }
                    self.coordinator.insert(group.clone(), view);
                }
            }
            EventKind::MemberJoined {
                group,
                generation,
                member_id,
                ..
            } => {
                let o = self
                    .owned
                    .entry((group.clone(), member_id.clone()))
                    .or_insert_with(|| Ownership {
                        node: ev.node,
                        generation: *generation,
                        partitions: BTreeSet::new(),
                    });
                o.generation = o.generation.max(*generation);
            }
            EventKind::Assigned {
                group,
                generation,
                member_id,
                partitions,
            } => {
                self.owned.insert(
                    (group.clone(), member_id.clone()),
                    Ownership {
                        node: ev.node,
                        generation: *generation,
                        partitions: partitions.iter().cloned().collect(),
                    },
                );
            }
            EventKind::Crashed { .. } => self.owned.retain(|_, o| o.node != ev.node),
            EventKind::Revoked {
                group,
                member_id,
                partitions,
                ..
            } => {
                if let Some(o) = self.owned.get_mut(&(group.clone(), member_id.clone())) {
                    for tp in partitions {
                        o.partitions.remove(tp);
                    }
                }
            }
            EventKind::Processed {
                group,
                tp,
                base_offset,
                values,
                ..
            } => {
                self.processed
                    .entry((group.clone(), tp.clone()))
                    .or_default()
                    .insert(*base_offset, base_offset + values.len() as u64);
            }
            EventKind::CommitApplied { group, offsets, .. } if from_true_coordinator => {
                for (tp, o) in offsets {
                    self.applied.insert((group.clone(), tp.clone()), *o);
                }
            }
            EventKind::CommitResult {
                group,
                offsets,
                error,
                ..
            } if error.is_ok() => {
                for (tp, o) in offsets {
                    let a = self
                        .acknowledged
                        .entry((group.clone(), tp.clone()))
                        .or_default();
                    *a = (*a).max(*o);
                }
            }
            EventKind::OffsetFetched {
                group,
                tp,
                offset: Some(o),
            } => self.note_start(group, tp, *o),
            EventKind::PositionReset { tp, offset, reason } => {
                // A group member's reset names its group first (`{group} auto.offset.reset`).
                if let Some(group) = reason.strip_suffix(" auto.offset.reset") {
                    self.note_start(group, tp, *offset);
                }
            }
            _ => {}
        }
    }

    fn note_start(&mut self, group: &str, tp: &TopicPartition, offset: u64) {
        let p = self
            .first_position
            .entry((group.to_string(), tp.clone()))
            .or_insert(offset);
        *p = (*p).min(offset);
    }

    /// Members the coordinator currently lists for `group`.
    pub fn is_current_member(&self, group: &str, member: &str) -> bool {
        self.coordinator
            .get(group)
            .is_some_and(|v| v.members.contains(member))
    }
}
