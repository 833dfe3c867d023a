//! The group leader's assignment: calls the client-side assignor named by the group's
//! `partition.assignment.strategy` with each member's subscription.
//!
//! Until the full assignor library is merged, this uses Kafka's RangeAssignor rules for every
//! strategy (members sorted with static members first by instance id, then by member id; per
//! topic, the first `partitions % members` members get one extra).

use crate::config::AssignorName;
use crate::protocol::group::Subscription;
use crate::protocol::TopicPartition;
use std::collections::BTreeMap;

/// member id → partitions, for every member (idle members get an empty list), computed by the
/// group's client-side assignor from [`crate::assignor`] exactly as Kafka's would
/// (cooperative-sticky withholds partitions still owned elsewhere, KIP-429).
/// `trust_stale_owned` is the KAFKA-7026 broken variant. Input the assignor rejects (Kafka's
/// leader would throw) falls back to range rules, with a warning.
pub fn assign(
    strategy: AssignorName,
    topics: &BTreeMap<String, u32>,
    members: &[(String, Option<String>, Subscription)],
    trust_stale_owned: bool,
) -> BTreeMap<String, Vec<TopicPartition>> {
    let input = crate::assignor::AssignInput {
        topics: topics.clone(),
        members: members
            .iter()
            .map(|(id, instance, sub)| crate::assignor::Member {
                id: id.clone(),
                subscriptions: sub.topics.clone(),
                owned: sub
                    .owned
                    .iter()
                    .filter(|tp| topics.get(tp.topic()).is_some_and(|n| tp.partition < *n))
                    .cloned()
                    .collect(),
                generation: (sub.generation >= 0).then_some(sub.generation),
                group_instance_id: instance.clone(),
                rack: None,
            })
            .collect(),
        partition_racks: BTreeMap::new(),
    };
    let kafka = match strategy {
        AssignorName::Range => crate::assignor::Strategy::Range,
        AssignorName::RoundRobin => crate::assignor::Strategy::RoundRobin,
        AssignorName::Sticky => crate::assignor::Strategy::Sticky,
        AssignorName::CooperativeSticky => crate::assignor::Strategy::CooperativeSticky,
    };
    let options = crate::assignor::AssignOptions { trust_stale_owned };
    match crate::assignor::assign_with(kafka, &input, &options) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e.message, "assignor rejected its input; using range rules");
            range_fallback(strategy, topics, members)
        }
    }
}

/// Kafka's RangeAssignor rules (static members first by instance id, then by member id), with
/// cooperative withholding for a cooperative strategy.
fn range_fallback(
    strategy: AssignorName,
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
    if strategy.cooperative() {
        withhold_transfers(&mut out, members);
    }
    out
}

/// Current owners by the members' claims: the claim with the highest generation wins; two claims
/// in the same generation make the partition owned by neither.
fn owners(members: &[(String, Option<String>, Subscription)]) -> BTreeMap<TopicPartition, String> {
    let mut best: BTreeMap<TopicPartition, (i32, Option<String>)> = BTreeMap::new();
    for (id, _, sub) in members {
        for tp in &sub.owned {
            match best.get(tp) {
                Some((g, _)) if *g > sub.generation => {}
                Some((g, _)) if *g == sub.generation => {
                    best.insert(tp.clone(), (*g, None));
                }
                _ => {
                    best.insert(tp.clone(), (sub.generation, Some(id.clone())));
                }
            }
        }
    }
    best.into_iter()
        .filter_map(|(tp, (_, o))| o.map(|o| (tp, o)))
        .collect()
}

fn withhold_transfers(
    out: &mut BTreeMap<String, Vec<TopicPartition>>,
    members: &[(String, Option<String>, Subscription)],
) {
    let owners = owners(members);
    for (member, parts) in out.iter_mut() {
        parts.retain(|tp| owners.get(tp).is_none_or(|o| o == member));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(owned: &[u32], generation: i32) -> Subscription {
        Subscription {
            topics: vec!["t".into()],
            owned: owned.iter().map(|p| TopicPartition::new("t", *p)).collect(),
            generation,
        }
    }

    #[test]
    fn range_splits_and_cooperative_withholds_moving_partitions() {
        let topics: BTreeMap<String, u32> = [("t".to_string(), 4)].into();
        let members = vec![
            ("a".to_string(), None, sub(&[0, 1, 2, 3], 1)),
            ("b".to_string(), None, sub(&[], -1)),
        ];
        let eager = assign(AssignorName::Range, &topics, &members, false);
        assert_eq!(eager["a"].len(), 2);
        assert_eq!(eager["b"].len(), 2);
        let coop = assign(AssignorName::CooperativeSticky, &topics, &members, false);
        assert_eq!(coop["a"].len(), 2, "a keeps what it is assigned");
        assert!(
            coop["b"].is_empty(),
            "b waits until a revoked its partitions"
        );
    }

    #[test]
    fn same_generation_double_claims_are_owned_by_neither() {
        let members = vec![
            ("a".to_string(), None, sub(&[0], 3)),
            ("b".to_string(), None, sub(&[0], 3)),
            ("c".to_string(), None, sub(&[0], 2)),
        ];
        assert!(owners(&members).is_empty());
        let members = vec![
            ("a".to_string(), None, sub(&[0], 3)),
            ("c".to_string(), None, sub(&[0], 2)),
        ];
        assert_eq!(
            owners(&members)
                .get(&TopicPartition::new("t", 0))
                .map(String::as_str),
            Some("a")
        );
    }
}
