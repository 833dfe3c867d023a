//! Kafka's client-side `RoundRobinAssignor` (`roundrobin`).
//!
//! All partitions of all subscribed topics, sorted by topic then partition, are dealt one by one
//! to the members in a circle (static members first by `group.instance.id`, then by member id);
//! a member not subscribed to a partition's topic is skipped, and the circle moves on. Topics
//! without metadata are skipped.

use super::java;
use super::range::sorted_members;
use super::{AssignInput, Assignment};
use crate::protocol::TopicPartition;

/// Runs the round-robin assignor.
pub fn assign(input: &AssignInput) -> Assignment {
    let members = sorted_members(input, |_| true);
    let mut topics: Vec<&str> = input
        .members
        .iter()
        .flat_map(|m| m.subscriptions.iter().map(String::as_str))
        .filter(|t| input.topics.contains_key(*t))
        .collect();
    topics.sort_by(|a, b| java::compare_strings(a, b));
    topics.dedup();

    let mut assignment = Assignment::new();
    let mut next = 0;
    for topic in topics {
        for partition in 0..input.topics[topic] {
            // Some member subscribes to `topic`, so this walk ends within one circle.
            while !input.members[members[next]]
                .subscriptions
                .iter()
                .any(|t| t == topic)
            {
                next = (next + 1) % members.len();
            }
            let member = &input.members[members[next]];
            assignment
                .entry(member.id.clone())
                .or_default()
                .push(TopicPartition::new(topic, partition));
            next = (next + 1) % members.len();
        }
    }
    assignment
}
