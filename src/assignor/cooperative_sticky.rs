//! Kafka's `CooperativeStickyAssignor` (`cooperative-sticky`): the sticky assignment, minus every
//! partition that moves from one owner to another.
//!
//! Under the cooperative protocol (KIP-429) a member keeps consuming the partitions it retains
//! through a rebalance, so a partition may only be given to its new owner once the old owner has
//! revoked it. The first rebalance therefore withholds such partitions (assigning them to nobody);
//! the old owner revokes them and rejoins, and the follow-up rebalance hands them over. With the
//! constrained builder the moved partitions are those it revoked over quota (or found claimed
//! twice); with the general builder they are the partitions some member reported owning and
//! another member now receives.

use super::sticky::{self, by_member_id};
use super::{AssignError, AssignInput, AssignOptions, Assignment};
use crate::protocol::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

/// Runs the cooperative sticky assignor.
pub fn assign(input: &AssignInput, options: &AssignOptions) -> Result<Assignment, AssignError> {
    let outcome = sticky::run(input, options)?;
    let mut assignment = outcome.assignment;
    let transferring = match outcome.transferring {
        Some(transferring) => transferring,
        None => partitions_transferring_ownership(input, &assignment),
    };
    for (tp, consumer) in &transferring {
        if let Some(list) = assignment.get_mut(consumer) {
            sticky::remove_first(list, tp);
        }
    }
    Ok(by_member_id(input, assignment))
}

/// `computePartitionsTransferringOwnership`: partitions newly assigned to one member that another
/// member reported owning and no longer gets.
fn partitions_transferring_ownership(
    input: &AssignInput,
    assignment: &BTreeMap<usize, Vec<TopicPartition>>,
) -> BTreeMap<TopicPartition, usize> {
    let mut added = BTreeMap::new();
    let mut revoked = BTreeSet::new();
    for i in input.members_in_hash_order() {
        let Some(assigned) = assignment.get(&i) else {
            continue;
        };
        let owned = &input.members[i].owned;
        for tp in assigned.iter().filter(|tp| !owned.contains(tp)) {
            added.insert(tp.clone(), i);
        }
        revoked.extend(owned.iter().filter(|tp| !assigned.contains(tp)).cloned());
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}
