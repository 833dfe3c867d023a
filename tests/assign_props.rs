//! Properties every Kafka assignor keeps, on random groups: each subscribed partition of an
//! existing topic goes to exactly one member, and that member subscribes to its topic; with equal
//! subscriptions, roundrobin, sticky and uniform sizes differ by at most one.
//!
//! Owned partitions are drawn disjoint, from subscribed topics, in one generation: that is what a
//! group at rest reports, and it keeps out the sticky quirk (a previous-generation owner may get a
//! partition back without subscribing to it) and the cooperative withholding, tested exactly in
//! `tests/assign.rs`.

use kafkasim::assignor::{assign, AssignInput, Member, Strategy};
use kafkasim::protocol::TopicPartition;
use proptest::prelude::{
    any, prop, prop_assert, prop_assert_eq, proptest, ProptestConfig, TestCaseError,
};
use std::collections::{BTreeMap, BTreeSet};

const TOPICS: [&str; 4] = ["t0", "t1", "t2", "t3"];

/// A random group: partition counts, then per member a subscription mask and an owned mask.
fn group() -> impl proptest::strategy::Strategy<Value = (Vec<u32>, Vec<(u8, u64)>, bool)> {
    (
        prop::collection::vec(0u32..7, TOPICS.len()),
        prop::collection::vec((1u8..16, any::<u64>()), 1..7),
        any::<bool>(),
    )
}

fn build(counts: &[u32], members: &[(u8, u64)], equal: bool) -> AssignInput {
    let topics: BTreeMap<String, u32> = TOPICS
        .iter()
        .zip(counts)
        .map(|(t, &n)| (t.to_string(), n))
        .collect();
    let mut taken = BTreeSet::new();
    let members = members
        .iter()
        .enumerate()
        .map(|(i, &(mask, owned_mask))| {
            let mask = if equal { members[0].0 } else { mask };
            let subscriptions: Vec<&str> = TOPICS
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1 << k) != 0)
                .map(|(_, t)| *t)
                .collect();
            let mut member = Member::new(format!("member-{i}"), &subscriptions);
            let mut bit = 0;
            for t in &subscriptions {
                for p in 0..topics[*t] {
                    bit += 1;
                    let tp = TopicPartition::new(*t, p);
                    if owned_mask & (1 << (bit % 64)) != 0 && taken.insert(tp.clone()) {
                        member.owned.push(tp);
                    }
                }
            }
            member.generation = Some(3);
            member
        })
        .collect();
    AssignInput {
        topics,
        members,
        partition_racks: BTreeMap::new(),
    }
}

fn check(strategy: Strategy, input: &AssignInput, equal: bool) -> Result<(), TestCaseError> {
    let assignment = assign(strategy, input).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut owner: BTreeMap<&TopicPartition, &str> = BTreeMap::new();
    for (member, tps) in &assignment {
        let subscriber = input
            .members
            .iter()
            .find(|m| &m.id == member)
            .expect("known member");
        for tp in tps {
            prop_assert!(
                subscriber.subscriptions.iter().any(|t| **t == *tp.topic),
                "{member} got {tp} unsubscribed"
            );
            prop_assert!(owner.insert(tp, member).is_none(), "{tp} assigned twice");
        }
    }
    for (topic, &n) in &input.topics {
        if input
            .members
            .iter()
            .any(|m| m.subscriptions.contains(topic))
        {
            for p in 0..n {
                let tp = TopicPartition::new(topic.as_str(), p);
                prop_assert!(owner.contains_key(&tp), "{tp} not assigned by {strategy}");
            }
        }
    }
    prop_assert_eq!(assignment.len(), input.members.len());
    let balanced = matches!(
        strategy,
        Strategy::RoundRobin | Strategy::Sticky | Strategy::Uniform
    );
    if equal && balanced {
        let sizes: Vec<usize> = assignment.values().map(Vec::len).collect();
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        prop_assert!(max - min <= 1, "{strategy} unbalanced: {sizes:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_partition_once_to_a_subscriber((counts, members, equal) in group()) {
        let input = build(&counts, &members, equal);
        for strategy in [Strategy::Range, Strategy::RoundRobin, Strategy::Sticky, Strategy::Uniform, Strategy::ServerRange] {
            check(strategy, &input, equal)?;
        }
    }

    /// Cooperative-sticky may withhold a partition for one rebalance, but only one that moves away
    /// from a member that reported owning it; everything else is assigned once, to a subscriber.
    #[test]
    fn cooperative_withholds_only_moving_partitions((counts, members, equal) in group()) {
        let input = build(&counts, &members, equal);
        let eager = assign(Strategy::Sticky, &input).expect("sticky");
        let cooperative = assign(Strategy::CooperativeSticky, &input).expect("cooperative");
        for (member, tps) in &eager {
            for tp in tps {
                if !cooperative[member].contains(tp) {
                    let previous = input.members.iter().find(|m| m.owned.contains(tp));
                    prop_assert!(previous.is_some_and(|m| &m.id != member), "{tp} withheld from {member}");
                }
            }
            prop_assert!(cooperative[member].iter().all(|tp| tps.contains(tp)));
        }
    }
}
