//! Kafka's `AbstractStickyAssignor`, shared by `StickyAssignor` (`sticky`, eager) and
//! `CooperativeStickyAssignor` (`cooperative-sticky`).
//!
//! Goals, in order: balance (member sizes differ by at most one where subscriptions allow), then
//! stickiness (keep what members owned). Each member reports the partitions it owned and the
//! generation they date from (KIP-341). Competing claims are resolved first: the higher
//! generation wins; two claims from one generation are both dropped (neither member keeps it).
//! A stale claim nobody contests is kept. Then one of two builders runs:
//!
//! * all members subscribe to the same topics: the constrained builder
//!   (`sticky_constrained.rs`), which keeps owned partitions up to the quotas and deals the rest
//!   round robin;
//! * otherwise the general builder (`sticky_general.rs`), which keeps every valid owned
//!   partition, assigns the rest to the least loaded members and then moves partitions until
//!   balanced. It may hand a partition back to its previous-generation owner even if that member
//!   no longer subscribes to the topic: a Kafka quirk reproduced on purpose.
//!
//! With member racks and partition racks (KIP-881), owned partitions on another rack are given up
//! and rack-matching members are preferred, as long as balance allows.

use super::range::{member_rack, use_rack_aware};
use super::{sticky_constrained, sticky_general};
use super::{AssignError, AssignInput, AssignOptions, Assignment, Member};
use crate::protocol::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

/// `AbstractStickyAssignor.DEFAULT_GENERATION`: a member that reported no generation.
pub(crate) const DEFAULT_GENERATION: i32 = -1;

/// Rejects owned partitions beyond a subscribed topic's partition count: Kafka's sticky
/// assignors then fail (`IllegalStateException: No more unfilled consumers to be assigned`) or
/// assign garbage, so no answer of ours would be Kafka's.
pub fn validate(input: &AssignInput) -> Result<(), AssignError> {
    reject_duplicate_subscriptions(input)?;
    let topics = subscribed_topics(input);
    for member in &input.members {
        for tp in &member.owned {
            if let Some(&count) = topics.get(tp.topic()) {
                if tp.partition >= count {
                    return Err(AssignError::new(format!(
                        "member `{}` claims {tp}, but topic `{}` has {count} partitions \
                         (Kafka's sticky assignor fails on such input)",
                        member.id, tp.topic
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A consumer's subscription is a set; a topic listed twice is not something Kafka sends.
pub(crate) fn reject_duplicate_subscriptions(input: &AssignInput) -> Result<(), AssignError> {
    for member in &input.members {
        let mut seen = BTreeSet::new();
        if let Some(t) = member.subscriptions.iter().find(|t| !seen.insert(*t)) {
            return Err(AssignError::new(format!(
                "member `{}` subscribes to topic `{t}` twice",
                member.id
            )));
        }
    }
    Ok(())
}

/// `partitionsPerTopic`: subscribed topics that exist and have partitions.
pub(crate) fn subscribed_topics(input: &AssignInput) -> BTreeMap<&str, u32> {
    input
        .members
        .iter()
        .flat_map(|m| m.subscriptions.iter())
        .filter_map(|t| input.topics.get_key_value(t.as_str()))
        .filter(|(_, &n)| n > 0)
        .map(|(t, &n)| (t.as_str(), n))
        .collect()
}

/// What the sticky builders hand back: the assignment, and for the constrained builder the
/// partitions it moved away from a previous owner (`partitionsTransferringOwnership`).
pub(crate) struct StickyOutcome {
    pub assignment: BTreeMap<usize, Vec<TopicPartition>>,
    pub transferring: Option<BTreeMap<TopicPartition, usize>>,
}

/// Everything both builders read.
pub(crate) struct StickyContext<'a> {
    pub input: &'a AssignInput,
    /// Member indices in `subscriptions` (`HashMap`) iteration order.
    pub order: Vec<usize>,
    pub partitions_per_topic: BTreeMap<&'a str, u32>,
    pub racks: RackInfo<'a>,
}

impl StickyContext<'_> {
    pub fn member(&self, i: usize) -> &Member {
        &self.input.members[i]
    }

    pub fn total_partitions(&self) -> usize {
        self.partitions_per_topic
            .values()
            .map(|&n| n as usize)
            .sum()
    }
}

/// The claims after resolving competing ones (`allSubscriptionsEqual`).
pub(crate) struct Claims {
    /// Each member's still valid owned partitions, in `order`.
    pub owned: Vec<(usize, Vec<TopicPartition>)>,
    /// Partitions claimed by two members of one generation.
    pub multiple_owners: BTreeSet<TopicPartition>,
    pub all_subscriptions_equal: bool,
    pub max_generation: i32,
}

/// Runs the shared sticky logic; the eager sticky assignor returns its assignment as is.
pub(crate) fn run(
    input: &AssignInput,
    options: &AssignOptions,
) -> Result<StickyOutcome, AssignError> {
    let partitions_per_topic = subscribed_topics(input);
    let ctx = StickyContext {
        input,
        order: input.members_in_hash_order(),
        racks: RackInfo::new(input, &partitions_per_topic),
        partitions_per_topic,
    };
    if input.members.is_empty() {
        return Ok(StickyOutcome {
            assignment: BTreeMap::new(),
            transferring: Some(BTreeMap::new()),
        });
    }
    let claims = resolve_claims(&ctx, options);
    // Before KAFKA-9987 (Kafka 2.7) every input went through the general builder; the legacy
    // KAFKA-7026 variant runs it too (the constrained builder throws on double claims).
    if claims.all_subscriptions_equal && !options.trust_stale_owned {
        sticky_constrained::build(&ctx, &claims)
    } else {
        sticky_general::build(&ctx, &claims)
    }
}

/// Runs the eager sticky assignor.
pub fn assign(input: &AssignInput, options: &AssignOptions) -> Result<Assignment, AssignError> {
    let outcome = run(input, options)?;
    Ok(by_member_id(input, outcome.assignment))
}

pub(crate) fn by_member_id(
    input: &AssignInput,
    raw: BTreeMap<usize, Vec<TopicPartition>>,
) -> Assignment {
    raw.into_iter()
        .map(|(i, tps)| (input.members[i].id.clone(), tps))
        .collect()
}

/// Reads every member's claims in `order`, dropping those Kafka overrides: a claim beaten by a
/// higher generation, and both claims of one generation. Also decides whether all subscriptions
/// are equal, which Kafka tests against the first non-empty subscription it meets.
fn resolve_claims(ctx: &StickyContext, options: &AssignOptions) -> Claims {
    let mut claims = Claims {
        owned: Vec::new(),
        multiple_owners: BTreeSet::new(),
        all_subscriptions_equal: true,
        max_generation: DEFAULT_GENERATION,
    };
    let mut first_topics: BTreeSet<&str> = BTreeSet::new();
    let mut previous_owner: BTreeMap<&TopicPartition, usize> = BTreeMap::new();
    for &i in &ctx.order {
        let member = ctx.member(i);
        let topics: BTreeSet<&str> = member.subscriptions.iter().map(String::as_str).collect();
        if first_topics.is_empty() {
            first_topics = topics;
        } else if topics != first_topics {
            claims.all_subscriptions_equal = false;
        }
        let generation = member.generation.unwrap_or(DEFAULT_GENERATION);
        claims.max_generation = claims.max_generation.max(generation);
        let slot = claims.owned.len();
        claims.owned.push((i, Vec::new()));
        for tp in &member.owned {
            if !ctx.partitions_per_topic.contains_key(tp.topic()) {
                continue;
            }
            let Some(&other) = previous_owner.get(tp) else {
                claims.owned[slot].1.push(tp.clone());
                previous_owner.insert(tp, i);
                continue;
            };
            let other_generation = ctx.member(other).generation.unwrap_or(DEFAULT_GENERATION);
            let other_slot = claims
                .owned
                .iter()
                .position(|(m, _)| *m == other)
                .expect("seen");
            if generation == other_generation {
                claims.multiple_owners.insert(tp.clone());
                remove_first(&mut claims.owned[other_slot].1, tp);
                previous_owner.insert(tp, i);
            } else if options.trust_stale_owned {
                // KAFKA-7026: both claims stand.
                claims.owned[slot].1.push(tp.clone());
                if generation > other_generation {
                    previous_owner.insert(tp, i);
                }
            } else if generation > other_generation {
                claims.owned[slot].1.push(tp.clone());
                remove_first(&mut claims.owned[other_slot].1, tp);
                previous_owner.insert(tp, i);
            }
        }
    }
    claims
}

/// `List.remove(Object)`: drops the first equal element, if any.
pub(crate) fn remove_first(list: &mut Vec<TopicPartition>, tp: &TopicPartition) {
    if let Some(pos) = list.iter().position(|x| x == tp) {
        list.remove(pos);
    }
}

/// `AbstractStickyAssignor.RackInfo`: member racks and partition racks, kept only when
/// rack-aware assignment applies.
pub(crate) struct RackInfo<'a> {
    /// Rack of each member with one (empty unless rack-aware).
    pub consumer_racks: BTreeMap<usize, &'a str>,
    /// Replica racks of each partition (empty unless rack-aware).
    pub partition_racks: BTreeMap<TopicPartition, BTreeSet<&'a str>>,
    /// How many members share a rack with some replica of each partition. Kafka fills this
    /// whenever some member has a rack, even when rack-aware assignment is off.
    num_consumers_by_partition: BTreeMap<TopicPartition, usize>,
}

impl<'a> RackInfo<'a> {
    fn new(input: &'a AssignInput, partitions_per_topic: &BTreeMap<&str, u32>) -> Self {
        let mut consumers_by_rack: BTreeMap<&str, usize> = BTreeMap::new();
        for member in &input.members {
            if let Some(rack) = member_rack(member) {
                *consumers_by_rack.entry(rack).or_default() += 1;
            }
        }
        let mut partition_racks = BTreeMap::new();
        if !consumers_by_rack.is_empty() {
            for (&topic, &n) in partitions_per_topic {
                for p in 0..n {
                    let racks: BTreeSet<&str> = input
                        .replica_racks(topic, p)
                        .iter()
                        .map(String::as_str)
                        .collect();
                    partition_racks.insert(TopicPartition::new(topic, p), racks);
                }
            }
        }
        let num_consumers_by_partition = partition_racks
            .iter()
            .map(|(tp, racks)| {
                let n = racks
                    .iter()
                    .map(|r| consumers_by_rack.get(r).copied().unwrap_or(0))
                    .sum();
                (tp.clone(), n)
            })
            .collect();
        let all_consumer_racks: BTreeSet<&str> = consumers_by_rack.keys().copied().collect();
        let all_partition_racks: BTreeSet<&str> =
            partition_racks.values().flatten().copied().collect();
        let per_partition: Vec<BTreeSet<&str>> = partition_racks.values().cloned().collect();
        if use_rack_aware(&all_consumer_racks, &all_partition_racks, &per_partition) {
            let consumer_racks = input
                .members
                .iter()
                .enumerate()
                .filter_map(|(i, m)| member_rack(m).map(|r| (i, r)))
                .collect();
            RackInfo {
                consumer_racks,
                partition_racks,
                num_consumers_by_partition,
            }
        } else {
            RackInfo {
                consumer_racks: BTreeMap::new(),
                partition_racks: BTreeMap::new(),
                num_consumers_by_partition,
            }
        }
    }

    /// True when the member has a rack and no replica of `tp` is on it.
    pub fn racks_mismatch(&self, consumer: usize, tp: &TopicPartition) -> bool {
        match self.consumer_racks.get(&consumer) {
            None => false,
            Some(rack) => !self
                .partition_racks
                .get(tp)
                .is_some_and(|r| r.contains(rack)),
        }
    }

    /// Partitions with the fewest rack-matching members first (a stable sort).
    pub fn sort_by_rack_consumers(&self, partitions: &mut [TopicPartition]) {
        if !self.num_consumers_by_partition.is_empty() {
            partitions.sort_by_key(|tp| {
                self.num_consumers_by_partition
                    .get(tp)
                    .copied()
                    .unwrap_or(0)
            });
        }
    }

    /// The first index from `first` (circularly) in `consumers` of a member on a rack of `tp`.
    pub fn next_rack_consumer(
        &self,
        tp: &TopicPartition,
        consumers: &[usize],
        first: usize,
    ) -> Option<usize> {
        let racks = self.partition_racks.get(tp).filter(|r| !r.is_empty())?;
        (0..consumers.len())
            .map(|k| (first + k) % consumers.len())
            .find(|&idx| {
                self.consumer_racks
                    .get(&consumers[idx])
                    .is_some_and(|r| racks.contains(r))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assign_with, Strategy};
    use super::*;

    /// KIP-341's example: A drops out after generation 1 owning `t-0`; B owns `t-0` in
    /// generation 2; A returns still claiming `t-0`, next to a new member C.
    fn kip_341_rejoin() -> AssignInput {
        let mut a = Member::new("A", &["t"]);
        a.owned = vec![TopicPartition::new("t", 0)];
        a.generation = Some(1);
        let mut b = Member::new("B", &["t"]);
        b.owned = vec![TopicPartition::new("t", 0)];
        b.generation = Some(2);
        AssignInput {
            topics: [("t".to_string(), 3)].into(),
            members: vec![a, b, Member::new("C", &["t"])],
            partition_racks: BTreeMap::new(),
        }
    }

    fn tps(partitions: &[u32]) -> Vec<TopicPartition> {
        partitions
            .iter()
            .map(|&p| TopicPartition::new("t", p))
            .collect()
    }

    #[test]
    fn stale_claim_loses_to_the_newer_generation() {
        for strategy in [Strategy::Sticky, Strategy::CooperativeSticky] {
            let out = assign_with(strategy, &kip_341_rejoin(), &AssignOptions::default()).unwrap();
            assert_eq!(out["B"], tps(&[0]), "{strategy}");
            assert_eq!(out["A"].len() + out["C"].len(), 2, "{strategy}: {out:?}");
            assert!(
                !out["A"].contains(&TopicPartition::new("t", 0)),
                "{strategy}"
            );
        }
    }

    #[test]
    fn trusting_stale_owned_assigns_one_partition_twice() {
        let options = AssignOptions {
            trust_stale_owned: true,
        };
        for strategy in [Strategy::Sticky, Strategy::CooperativeSticky] {
            let out = assign_with(strategy, &kip_341_rejoin(), &options).unwrap();
            let p0 = TopicPartition::new("t", 0);
            assert!(out["A"].contains(&p0), "{strategy}: {out:?}");
            assert!(out["B"].contains(&p0), "{strategy}: {out:?}");
            let all: BTreeSet<&TopicPartition> = out.values().flatten().collect();
            assert_eq!(
                all.len(),
                3,
                "{strategy}: every partition assigned: {out:?}"
            );
        }
    }
}
