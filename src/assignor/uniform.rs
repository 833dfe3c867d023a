//! The KIP-848 server-side `UniformAssignor` (`uniform`, the default of
//! `group.consumer.assignors`).
//!
//! The coordinator computes a target assignment from each member's subscription and its current
//! (target) assignment, given here as `owned`. Balance first, then stickiness:
//!
//! * homogeneous subscriptions (`UniformHomogeneousAssignmentBuilder`): with `P` partitions and
//!   `M` members, the first `P % M` members met get quota `P / M + 1`, the others `P / M`. Each
//!   member keeps owned partitions up to its quota; the excess and never-assigned partitions are
//!   dealt to the members still below quota, in the same order. "The first members met" is Java
//!   `HashMap` order over member ids, so we walk them in that order;
//! * heterogeneous subscriptions (`uniform_heterogeneous.rs`).
//!
//! Like Kafka's, this assignor rejects subscriptions to topics that do not exist and current
//! assignments that no target assignment could have: a partition beyond its topic's count, or
//! one partition owned by two members. At Kafka 1eb7644 it ignores racks.

use super::java;
use super::server_range::nonexistent_topic;
use super::sticky::reject_duplicate_subscriptions;
use super::uniform_heterogeneous;
use super::{AssignError, AssignInput, Assignment, Member};
use crate::protocol::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

/// Rejects input Kafka's uniform assignor throws on.
pub fn validate(input: &AssignInput) -> Result<(), AssignError> {
    reject_duplicate_subscriptions(input)?;
    if let Some(e) = nonexistent_topic(input) {
        return Err(e);
    }
    let mut owners: BTreeMap<&TopicPartition, &str> = BTreeMap::new();
    for member in &input.members {
        for tp in &member.owned {
            if let Some(&count) = input.topics.get(tp.topic()) {
                if tp.partition >= count && member.subscriptions.iter().any(|t| **t == *tp.topic) {
                    return Err(AssignError::new(format!(
                        "member `{}` is assigned {tp}, but topic `{}` has {count} partitions \
                         (Kafka's uniform assignor fails on such input)",
                        member.id, tp.topic
                    )));
                }
            }
            if let Some(other) = owners.insert(tp, &member.id) {
                return Err(AssignError::new(format!(
                    "members `{other}` and `{}` are both assigned {tp}; a target assignment \
                     never has two owners (Kafka's uniform assignor fails on such input)",
                    member.id
                )));
            }
        }
    }
    Ok(())
}

/// Runs the uniform assignor.
pub fn assign(input: &AssignInput) -> Result<Assignment, AssignError> {
    validate(input)?;
    if input.members.is_empty() {
        return Ok(Assignment::new());
    }
    let order = input.members_in_hash_order();
    let first: BTreeSet<&str> = subscription(&input.members[order[0]]);
    let homogeneous = input.members.iter().all(|m| subscription(m) == first);
    if homogeneous {
        Ok(assign_homogeneous(input, &order, &first))
    } else {
        uniform_heterogeneous::assign(input, &order)
    }
}

fn subscription(member: &Member) -> BTreeSet<&str> {
    member.subscriptions.iter().map(String::as_str).collect()
}

/// A member's current assignment by topic, each topic's partitions in the order Java iterates a
/// `HashSet<Integer>` built from them.
pub(crate) fn owned_by_topic(member: &Member) -> BTreeMap<&str, Vec<u32>> {
    let mut by_topic: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for tp in &member.owned {
        by_topic.entry(tp.topic()).or_default().push(tp.partition);
    }
    for partitions in by_topic.values_mut() {
        let hashes: Vec<i32> = partitions.iter().map(|&p| java::integer_hash(p)).collect();
        let capacity = java::collection_copy_capacity(partitions.len());
        let order = java::iteration_order(&hashes, capacity);
        *partitions = order.into_iter().map(|i| partitions[i]).collect();
    }
    by_topic
}

/// `UniformHomogeneousAssignmentBuilder.build`.
fn assign_homogeneous(input: &AssignInput, order: &[usize], topics: &BTreeSet<&str>) -> Assignment {
    let mut assignment = Assignment::new();
    if topics.is_empty() {
        return assignment;
    }
    let owned: BTreeSet<&TopicPartition> =
        input.members.iter().flat_map(|m| m.owned.iter()).collect();
    let mut unassigned: Vec<TopicPartition> = topics
        .iter()
        .flat_map(|&t| (0..input.topics[t]).map(move |p| TopicPartition::new(t, p)))
        .filter(|tp| !owned.contains(tp))
        .collect();
    let total: usize = topics.iter().map(|t| input.topics[*t] as usize).sum();
    let min_quota = total / order.len();
    let mut extra = total % order.len();

    let mut unfilled = Vec::new();
    for &i in order {
        let member = &input.members[i];
        let mut quota = min_quota;
        if extra > 0 {
            quota += 1;
            extra -= 1;
        }
        let kept = assignment.entry(member.id.clone()).or_default();
        for (topic, partitions) in owned_by_topic(member) {
            if !topics.contains(topic) {
                continue;
            }
            for p in partitions {
                if quota > 0 {
                    quota -= 1;
                    kept.push(TopicPartition::new(topic, p));
                } else {
                    unassigned.push(TopicPartition::new(topic, p));
                }
            }
        }
        if quota > 0 {
            unfilled.push((i, quota));
        }
    }
    let mut next = unassigned.into_iter();
    for (i, quota) in unfilled {
        let list = assignment.entry(input.members[i].id.clone()).or_default();
        list.extend(next.by_ref().take(quota));
    }
    // Quotas add up to the partition count, and validation ruled out owned partitions that
    // would not, so nothing is left over.
    debug_assert!(next.next().is_none(), "uniform left partitions unassigned");
    assignment
}
