//! The KIP-848 server-side `RangeAssignor` (`range` in `group.consumer.assignors`; `server-range`
//! here).
//!
//! The same ranges as the client-side range assignor without racks: per topic, the subscribers
//! (static members first by instance id, then by member id) each take a contiguous range, the
//! first `partitions % subscribers` one extra. It is not sticky: owned partitions are ignored.
//! Unlike the client assignor, a subscription to a topic that does not exist is an error
//! (`PartitionAssignorException`).

use super::range::sorted_members;
use super::{AssignError, AssignInput, Assignment};
use crate::protocol::TopicPartition;

/// Rejects subscriptions to topics missing from the metadata, as Kafka's assignor throws.
pub fn validate(input: &AssignInput) -> Result<(), AssignError> {
    nonexistent_topic(input).map_or(Ok(()), Err)
}

/// Kafka's server assignors throw when a member subscribes to a topic without metadata.
pub(crate) fn nonexistent_topic(input: &AssignInput) -> Option<AssignError> {
    input.members.iter().find_map(|m| {
        m.subscriptions
            .iter()
            .find(|t| !input.topics.contains_key(*t))
            .map(|t| {
                AssignError::new(format!(
                    "member `{}` is subscribed to topic `{t}`, which does not exist \
                     (Kafka's server-side assignor throws PartitionAssignorException)",
                    m.id
                ))
            })
    })
}

/// Runs the server-side range assignor.
pub fn assign(input: &AssignInput) -> Result<Assignment, AssignError> {
    validate(input)?;
    let members = sorted_members(input, |_| true);
    let mut assignment = Assignment::new();
    for (topic, &partitions) in &input.topics {
        let subscribers: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| input.members[i].subscriptions.contains(topic))
            .collect();
        if subscribers.is_empty() {
            continue;
        }
        let n = subscribers.len() as u32;
        let (quota, mut extra) = (partitions / n, partitions % n);
        let mut start = 0;
        for &i in &subscribers {
            let size = quota + u32::from(extra > 0);
            extra = extra.saturating_sub(1);
            let list = assignment.entry(input.members[i].id.clone()).or_default();
            list.extend((start..start + size).map(|p| TopicPartition::new(topic.as_str(), p)));
            start += size;
        }
    }
    Ok(assignment)
}
