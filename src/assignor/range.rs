//! Kafka's client-side `RangeAssignor` (`range`), including KIP-881 rack awareness.
//!
//! Per topic, the subscribed members are sorted (static members first by `group.instance.id`,
//! then the rest by member id) and each takes a contiguous range of partitions; the first
//! `partitions % members` take one extra. With racks (KIP-881), when both member racks and
//! partition replica racks are known and some partition is not on every rack, a first pass hands
//! out only rack-matching partitions within the same per-member quotas, co-partitioning topics
//! that have the same subscribers and partition count; a second pass is the plain range.
//! Topics without metadata, or with no partitions, are skipped.

use super::java;
use super::{AssignInput, Assignment, Member};
use crate::protocol::TopicPartition;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// `AbstractPartitionAssignor.MemberInfo.compareTo`: static members first, by instance id, then
/// dynamic members by member id.
pub(crate) fn compare_members(a: &Member, b: &Member) -> Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => java::compare_strings(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java::compare_strings(&a.id, &b.id),
    }
}

/// Member indices as Kafka sorts `MemberInfo`s that it collected in `HashMap` order (the sort is
/// stable, so two members with one instance id keep that order).
pub(crate) fn sorted_members(input: &AssignInput, keep: impl Fn(&Member) -> bool) -> Vec<usize> {
    let mut order: Vec<usize> = input
        .members_in_hash_order()
        .into_iter()
        .filter(|&i| keep(&input.members[i]))
        .collect();
    order.sort_by(|&a, &b| compare_members(&input.members[a], &input.members[b]));
    order
}

/// The non-empty rack of a member, as Kafka reads `client.rack` (empty means none).
pub(crate) fn member_rack(member: &Member) -> Option<&str> {
    member.rack.as_deref().filter(|r| !r.is_empty())
}

/// `AbstractPartitionAssignor.useRackAwareAssignment`: racks on both sides, overlapping, and
/// some partition missing from some rack.
pub(crate) fn use_rack_aware(
    consumer_racks: &BTreeSet<&str>,
    partition_racks: &BTreeSet<&str>,
    racks_per_partition: &[BTreeSet<&str>],
) -> bool {
    if consumer_racks.is_empty() || consumer_racks.is_disjoint(partition_racks) {
        return false;
    }
    !racks_per_partition
        .iter()
        .all(|racks| racks == partition_racks)
}

/// The assignment state of one topic (`RangeAssignor.TopicAssignmentState`).
struct TopicState<'a> {
    topic: &'a str,
    /// Subscribed members in assignment order, with their racks.
    consumers: Vec<(&'a str, Option<&'a str>)>,
    /// Racks of each partition's replicas; empty when no subscriber has a rack.
    partition_racks: Vec<BTreeSet<&'a str>>,
    needs_rack_aware: bool,
    unassigned: BTreeSet<u32>,
    assigned_count: BTreeMap<&'a str, u32>,
    per_consumer: u32,
    remaining_with_extra: u32,
}

impl<'a> TopicState<'a> {
    fn new(input: &'a AssignInput, topic: &'a str, partitions: u32, members: &[usize]) -> Self {
        let consumers: Vec<(&str, Option<&str>)> = members
            .iter()
            .map(|&i| (input.members[i].id.as_str(), member_rack(&input.members[i])))
            .collect();
        let n = consumers.len() as u32;
        let consumer_racks: BTreeSet<&str> = consumers.iter().filter_map(|c| c.1).collect();
        let partition_racks: Vec<BTreeSet<&str>> = if consumer_racks.is_empty() {
            Vec::new()
        } else {
            (0..partitions)
                .map(|p| {
                    input
                        .replica_racks(topic, p)
                        .iter()
                        .map(String::as_str)
                        .collect()
                })
                .collect()
        };
        let all_partition_racks: BTreeSet<&str> =
            partition_racks.iter().flatten().copied().collect();
        TopicState {
            topic,
            needs_rack_aware: use_rack_aware(
                &consumer_racks,
                &all_partition_racks,
                &partition_racks,
            ),
            assigned_count: consumers.iter().map(|c| (c.0, 0)).collect(),
            consumers,
            partition_racks,
            unassigned: (0..partitions).collect(),
            per_consumer: partitions.checked_div(n).unwrap_or(0),
            remaining_with_extra: partitions.checked_rem(n).unwrap_or(0),
        }
    }

    fn racks_match(&self, consumer: &str, partition: u32) -> bool {
        let rack = self
            .consumers
            .iter()
            .find(|c| c.0 == consumer)
            .and_then(|c| c.1);
        match rack {
            None => true,
            Some(rack) => self
                .partition_racks
                .get(partition as usize)
                .is_some_and(|racks| racks.contains(rack)),
        }
    }

    fn max_assignable(&self, consumer: &str) -> u32 {
        let cap = self.per_consumer + u32::from(self.remaining_with_extra > 0);
        cap.saturating_sub(self.assigned_count[consumer])
    }

    fn on_assigned(&mut self, consumer: &'a str, partitions: &[u32]) {
        let count = self.assigned_count.get_mut(consumer).expect("subscriber");
        *count += partitions.len() as u32;
        if *count > self.per_consumer {
            self.remaining_with_extra -= 1;
        }
        for p in partitions {
            self.unassigned.remove(p);
        }
    }
}

/// Runs the range assignor.
pub fn assign(input: &AssignInput) -> Assignment {
    let members = sorted_members(input, |_| true);
    let mut states: Vec<TopicState> = input
        .topics
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(topic, &n)| {
            let subscribers: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| input.members[i].subscriptions.contains(topic))
                .collect();
            TopicState::new(input, topic, n, &subscribers)
        })
        .collect();
    let mut assignment = Assignment::new();
    if states.iter().any(|s| s.needs_rack_aware) {
        assign_with_rack_matching(&mut states, &mut assignment);
    }
    for state in &mut states {
        assign_ranges(state, |_, _, _| true, &mut assignment);
    }
    assignment
}

/// Hands each consumer, in order, up to its quota of the still unassigned partitions it may take.
fn assign_ranges<'a>(
    state: &mut TopicState<'a>,
    may_assign: impl Fn(&TopicState, &str, u32) -> bool,
    assignment: &mut Assignment,
) {
    let consumers: Vec<&'a str> = state.consumers.iter().map(|c| c.0).collect();
    for consumer in consumers {
        if state.unassigned.is_empty() {
            break;
        }
        let take: Vec<u32> = state
            .unassigned
            .iter()
            .copied()
            .filter(|&p| may_assign(state, consumer, p))
            .take(state.max_assignable(consumer) as usize)
            .collect();
        if !take.is_empty() {
            give(state, consumer, &take, assignment);
        }
    }
}

fn give<'a>(
    state: &mut TopicState<'a>,
    consumer: &'a str,
    partitions: &[u32],
    out: &mut Assignment,
) {
    let list = out.entry(consumer.to_string()).or_default();
    list.extend(
        partitions
            .iter()
            .map(|&p| TopicPartition::new(state.topic, p)),
    );
    state.on_assigned(consumer, partitions);
}

/// The rack-matching pass: topics are grouped by subscribers, then by partition count (the
/// count of known partition racks, which is 0 where no subscriber has a rack). A group of two or
/// more topics is co-partitioned; a lone topic gets a rack-matching range pass if it needs one.
fn assign_with_rack_matching<'a>(states: &mut [TopicState<'a>], assignment: &mut Assignment) {
    type Subscribers<'s> = Vec<(&'s str, Option<&'s str>)>;
    let mut groups: BTreeMap<(Subscribers<'a>, usize), Vec<usize>> = BTreeMap::new();
    for (i, state) in states.iter().enumerate() {
        let mut key_consumers = state.consumers.clone();
        key_consumers.sort();
        groups
            .entry((key_consumers, state.partition_racks.len()))
            .or_default()
            .push(i);
    }
    for ((_, num_partitions), indices) in groups {
        if indices.len() > 1 {
            assign_co_partitioned(states, &indices, num_partitions as u32, assignment);
        } else {
            let state = &mut states[indices[0]];
            if state.needs_rack_aware {
                assign_ranges(state, |s, c, p| s.racks_match(c, p), assignment);
            }
        }
    }
}

/// Partition `p` of every topic in the group goes to the first remaining consumer whose rack
/// matches partition `p` of all of them and that still has room in all of them.
fn assign_co_partitioned<'a>(
    states: &mut [TopicState<'a>],
    indices: &[usize],
    num_partitions: u32,
    assignment: &mut Assignment,
) {
    let mut remaining: Vec<&'a str> = states[indices[0]].consumers.iter().map(|c| c.0).collect();
    for p in 0..num_partitions {
        let found = remaining.iter().copied().find(|&c| {
            indices
                .iter()
                .all(|&t| states[t].racks_match(c, p) && states[t].max_assignable(c) > 0)
        });
        let Some(consumer) = found else { continue };
        for &t in indices {
            give(&mut states[t], consumer, &[p], assignment);
        }
        if indices
            .iter()
            .all(|&t| states[t].max_assignable(consumer) == 0)
        {
            remaining.retain(|&c| c != consumer);
            if remaining.is_empty() {
                break;
            }
        }
    }
}
