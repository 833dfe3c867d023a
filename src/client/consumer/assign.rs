//! The group leader's assignment: calls the client-side assignor named by the group's
//! `partition.assignment.strategy` with each member's subscription.
//!
//! Until the full assignor library is merged, this uses Kafka's RangeAssignor rules for every
//! strategy (members sorted with static members first by instance id, then by member id; per
//! topic, the first `partitions % members` members get one extra).

use crate::protocol::group::Subscription;
use crate::protocol::TopicPartition;
use crate::scenario::AssignorName;
use std::collections::BTreeMap;

/// member id → partitions, for every member (idle members get an empty list).
pub fn assign(
    _strategy: AssignorName,
    topics: &BTreeMap<String, u32>,
    members: &[(String, Option<String>, Subscription)],
) -> BTreeMap<String, Vec<TopicPartition>> {
    let mut out: BTreeMap<String, Vec<TopicPartition>> =
        members.iter().map(|m| (m.0.clone(), Vec::new())).collect();
    for (topic, count) in topics {
        let mut subscribed: Vec<&(String, Option<String>, Subscription)> = members
            .iter()
            .filter(|m| m.2.topics.contains(topic))
            .collect();
        subscribed.sort_by(|a, b| match (&a.1, &b.1) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(&b.0),
        });
        let n = subscribed.len() as u32;
        if n == 0 {
            continue;
        }
        let (per, extra) = (count / n, count % n);
        let mut next = 0;
        for (i, m) in subscribed.iter().enumerate() {
            let take = per + u32::from((i as u32) < extra);
            let parts = out.get_mut(&m.0).expect("every member listed");
            parts.extend((next..next + take).map(|p| TopicPartition::new(topic.clone(), p)));
            next += take;
        }
    }
    out
}
