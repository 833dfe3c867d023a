//! `AbstractStickyAssignor.GeneralAssignmentBuilder`: the sticky assignment when subscriptions
//! differ.
//!
//! 1. Keep every owned partition whose topic the owner still subscribes to (and, rack-aware,
//!    whose replicas are on its rack); dropping any other means a revocation is required.
//! 2. Assign the rest, topics with the fewest potential members first, each partition to the
//!    least loaded subscribed member (rack-matching ones first when rack-aware).
//! 3. Move partitions from members with two or more partitions above a potential owner, back to
//!    the previous-generation owner where that helps (without re-checking its subscription: a
//!    Kafka quirk kept here), until balanced; undo it all if balance did not improve.
//!
//! Members are kept ordered by (assignment size, member id), like Kafka's `TreeSet`.

use super::java;
use super::sticky::{remove_first, Claims, StickyContext, StickyOutcome, DEFAULT_GENERATION};
use super::sticky_movements::PartitionMovements;
use super::AssignError;
use crate::protocol::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

/// Kafka throws (`NullPointerException` and the like) where its maps lack an entry.
fn kafka_fails(what: &str) -> AssignError {
    AssignError::new(format!(
        "Kafka's sticky assignor fails on this input ({what})"
    ))
}

struct Builder<'c, 'a> {
    ctx: &'c StickyContext<'a>,
    /// Subscribed members of each topic.
    topic_consumers: BTreeMap<&'a str, Vec<usize>>,
    /// Existing subscribed topics of each member.
    consumer_topics: BTreeMap<usize, Vec<&'a str>>,
    current: BTreeMap<usize, Vec<TopicPartition>>,
    partition_consumer: BTreeMap<TopicPartition, usize>,
    sorted_all_partitions: Vec<TopicPartition>,
    /// `(assignment size, rank of member id)` for members taking part in balancing.
    sorted_members: BTreeSet<(usize, usize)>,
    /// Member index by rank of its id in Java string order, and back.
    by_rank: Vec<usize>,
    rank: BTreeMap<usize, usize>,
    revocation_required: bool,
    movements: PartitionMovements,
}

/// The previous-generation owner of a partition, and that generation.
type PrevAssignment = BTreeMap<TopicPartition, (usize, i32)>;

/// Builds the general sticky assignment.
pub(super) fn build(ctx: &StickyContext, claims: &Claims) -> Result<StickyOutcome, AssignError> {
    let mut b = Builder::new(ctx, claims);
    let prev = previous_assignment(ctx, claims.max_generation);
    let assigned = b.assign_owned_partitions();
    let mut unassigned: Vec<TopicPartition> = b
        .sorted_all_partitions
        .iter()
        .filter(|tp| !assigned.contains(*tp))
        .cloned()
        .collect();
    let keys: Vec<usize> = b.current.keys().copied().collect();
    for c in keys {
        b.sorted_members.insert(b.key(c));
    }
    b.balance(&prev, &mut unassigned)?;
    Ok(StickyOutcome {
        assignment: b.current,
        transferring: None,
    })
}

/// `prepopulateCurrentAssignments`: for each partition, the owner claiming it with the highest
/// generation below the group's maximum (the first such claim on a tie).
fn previous_assignment(ctx: &StickyContext, max_generation: i32) -> PrevAssignment {
    let mut prev = PrevAssignment::new();
    for &i in &ctx.order {
        let member = ctx.member(i);
        let generation = match member.generation {
            Some(g) if g < max_generation => g,
            None if max_generation > DEFAULT_GENERATION => DEFAULT_GENERATION,
            _ => continue,
        };
        for tp in &member.owned {
            let newer = prev.get(tp).is_none_or(|&(_, g)| generation > g);
            if newer {
                prev.insert(tp.clone(), (i, generation));
            }
        }
    }
    prev
}

impl<'c, 'a> Builder<'c, 'a> {
    fn new(ctx: &'c StickyContext<'a>, claims: &Claims) -> Self {
        let mut topic_consumers: BTreeMap<&'a str, Vec<usize>> = ctx
            .partitions_per_topic
            .keys()
            .map(|t| (*t, Vec::new()))
            .collect();
        let mut consumer_topics = BTreeMap::new();
        for &i in &ctx.order {
            let topics: Vec<&'a str> = ctx.input.members[i]
                .subscriptions
                .iter()
                .map(String::as_str)
                .filter(|t| ctx.partitions_per_topic.contains_key(t))
                .collect();
            for t in &topics {
                topic_consumers.get_mut(t).expect("topic").push(i);
            }
            consumer_topics.insert(i, topics);
        }
        let current: BTreeMap<usize, Vec<TopicPartition>> = claims.owned.iter().cloned().collect();
        let mut partition_consumer = BTreeMap::new();
        for (c, tps) in &claims.owned {
            for tp in tps {
                partition_consumer.insert(tp.clone(), *c);
            }
        }
        let mut topics: Vec<&str> = topic_consumers.keys().copied().collect();
        topics.sort_by(|a, b| {
            topic_consumers[a]
                .len()
                .cmp(&topic_consumers[b].len())
                .then_with(|| java::compare_strings(a, b))
        });
        let sorted_all_partitions = topics
            .iter()
            .flat_map(|t| (0..ctx.partitions_per_topic[t]).map(move |p| TopicPartition::new(*t, p)))
            .collect();
        let mut by_rank: Vec<usize> = (0..ctx.input.members.len()).collect();
        by_rank.sort_by(|a, b| java::compare_strings(&ctx.member(*a).id, &ctx.member(*b).id));
        let rank = by_rank.iter().enumerate().map(|(r, i)| (*i, r)).collect();
        Builder {
            ctx,
            topic_consumers,
            consumer_topics,
            current,
            partition_consumer,
            sorted_all_partitions,
            sorted_members: BTreeSet::new(),
            by_rank,
            rank,
            revocation_required: false,
            movements: PartitionMovements::default(),
        }
    }

    fn key(&self, consumer: usize) -> (usize, usize) {
        (self.current[&consumer].len(), self.rank[&consumer])
    }

    fn size(&self, consumer: usize) -> Result<usize, AssignError> {
        self.current
            .get(&consumer)
            .map(Vec::len)
            .ok_or_else(|| kafka_fails("a member taking part in balancing has no assignment entry"))
    }

    fn members_ascending(&self) -> Vec<usize> {
        self.sorted_members
            .iter()
            .map(|&(_, r)| self.by_rank[r])
            .collect()
    }

    fn subscribes(&self, consumer: usize, topic: &str) -> bool {
        self.consumer_topics[&consumer].contains(&topic)
    }

    /// Step 1: keeps owned partitions of subscribed topics on matching racks.
    fn assign_owned_partitions(&mut self) -> BTreeSet<TopicPartition> {
        let mut assigned = BTreeSet::new();
        let consumers: Vec<usize> = self.current.keys().copied().collect();
        for c in consumers {
            let owned = std::mem::take(self.current.get_mut(&c).expect("member"));
            let mut kept = Vec::new();
            for tp in owned {
                if !self.subscribes(c, &tp.topic) || self.ctx.racks.racks_mismatch(c, &tp) {
                    self.revocation_required = true;
                } else {
                    assigned.insert(tp.clone());
                    kept.push(tp);
                }
            }
            self.current.insert(c, kept);
        }
        assigned
    }

    /// Steps 2 and 3.
    fn balance(
        &mut self,
        prev: &PrevAssignment,
        unassigned: &mut Vec<TopicPartition>,
    ) -> Result<(), AssignError> {
        let last = self.sorted_members.last().map(|&(_, r)| self.by_rank[r]);
        let initializing = last.is_some_and(|c| self.current[&c].is_empty());
        if !self.ctx.racks.consumer_racks.is_empty() {
            let mut rack_pass = unassigned.clone();
            rack_pass.retain(|tp| !self.maybe_assign_partition(tp, true));
            self.maybe_assign(&rack_pass);
        } else {
            self.maybe_assign(unassigned);
        }
        let fixed_topics: Vec<&str> = self
            .topic_consumers
            .iter()
            .filter(|(_, consumers)| consumers.len() < 2)
            .map(|(t, _)| *t)
            .collect();
        self.sorted_all_partitions
            .retain(|tp| !fixed_topics.contains(&tp.topic()));
        unassigned.retain(|tp| !fixed_topics.contains(&tp.topic()));
        let mut fixed_assignments = Vec::new();
        let consumers: Vec<usize> = self.consumer_topics.keys().copied().collect();
        for c in consumers {
            if !self.can_consumer_participate(c) {
                self.sorted_members.remove(&self.key(c));
                fixed_assignments.push((c, self.current.remove(&c).expect("member")));
            }
        }
        let pre_balance = self.current.clone();
        let pre_balance_owners = self.partition_consumer.clone();
        if !self.revocation_required {
            self.perform_reassignments(unassigned, prev)?;
        }
        let all = self.sorted_all_partitions.clone();
        let performed = self.perform_reassignments(&all, prev)?;
        if !initializing && performed && balance_score(&self.current) >= balance_score(&pre_balance)
        {
            self.current = pre_balance;
            self.partition_consumer = pre_balance_owners;
        }
        self.current.extend(fixed_assignments);
        Ok(())
    }

    fn maybe_assign(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.maybe_assign_partition(tp, false);
        }
    }

    /// Gives `tp` to the least loaded member subscribed to its topic (on its rack if `rack`).
    fn maybe_assign_partition(&mut self, tp: &TopicPartition, rack: bool) -> bool {
        let found = self.members_ascending().into_iter().find(|&c| {
            self.subscribes(c, &tp.topic) && !(rack && self.ctx.racks.racks_mismatch(c, tp))
        });
        let Some(c) = found else { return false };
        self.sorted_members.remove(&self.key(c));
        self.current.get_mut(&c).expect("member").push(tp.clone());
        self.partition_consumer.insert(tp.clone(), c);
        self.sorted_members.insert(self.key(c));
        true
    }

    fn max_assignment_size(&self, consumer: usize) -> usize {
        let topics = &self.consumer_topics[&consumer];
        if topics.len() == self.ctx.partitions_per_topic.len() {
            return self.ctx.total_partitions();
        }
        topics
            .iter()
            .map(|t| self.ctx.partitions_per_topic[t] as usize)
            .sum()
    }

    fn can_consumer_participate(&self, consumer: usize) -> bool {
        let partitions = &self.current[&consumer];
        partitions.len() < self.max_assignment_size(consumer)
            || partitions
                .iter()
                .any(|tp| self.topic_consumers[tp.topic()].len() >= 2)
    }

    /// `isBalanced`: sizes within one, or no member could take a partition from a member with
    /// two or more above it.
    fn is_balanced(&self) -> Result<bool, AssignError> {
        let members = self.members_ascending();
        let (Some(&first), Some(&last)) = (members.first(), members.last()) else {
            return Err(kafka_fails("no member is left to balance"));
        };
        if self.current[&first].len() + 1 >= self.current[&last].len() {
            return Ok(true);
        }
        let mut owners = BTreeMap::new();
        for (c, tps) in &self.current {
            for tp in tps {
                owners.insert(tp, *c);
            }
        }
        for c in members {
            let count = self.current[&c].len();
            if count == self.max_assignment_size(c) {
                continue;
            }
            for topic in &self.consumer_topics[&c] {
                for p in 0..self.ctx.partitions_per_topic[topic] {
                    let tp = TopicPartition::new(*topic, p);
                    if self.current[&c].contains(&tp) {
                        continue;
                    }
                    let other = *owners
                        .get(&tp)
                        .ok_or_else(|| kafka_fails("a partition has no owner"))?;
                    if count + 1 < self.size(other)? {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    /// Moves partitions until balanced; true if any moved.
    fn perform_reassignments(
        &mut self,
        partitions: &[TopicPartition],
        prev: &PrevAssignment,
    ) -> Result<bool, AssignError> {
        let mut performed = false;
        loop {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced()? {
                    break;
                }
                if self.reassign_one(tp, prev)? {
                    performed = true;
                    modified = true;
                }
            }
            if !modified {
                return Ok(performed);
            }
        }
    }

    /// One step of `performReassignments` for `tp`: back to its previous owner if that one has
    /// two fewer, else to the least loaded subscriber if some subscriber (on its rack first) has
    /// two fewer.
    fn reassign_one(
        &mut self,
        tp: &TopicPartition,
        prev: &PrevAssignment,
    ) -> Result<bool, AssignError> {
        let consumer = *self
            .partition_consumer
            .get(tp)
            .ok_or_else(|| kafka_fails("a partition to balance has no owner"))?;
        let size = self.size(consumer)?;
        if let Some(&(prev_owner, _)) = prev.get(tp) {
            if size > self.size(prev_owner)? + 1 {
                self.reassign_partition_to(tp, prev_owner);
                return Ok(true);
            }
        }
        let racks = &self.ctx.racks;
        let partition_racks = racks.partition_racks.get(tp);
        let rack_match = |c: usize| {
            let rack = racks.consumer_racks.get(&c);
            rack.is_some_and(|r| partition_racks.is_some_and(|pr| !pr.is_empty() && pr.contains(r)))
        };
        let candidates = self.topic_consumers[tp.topic()].clone();
        if rack_match(consumer) {
            for &other in candidates.iter().filter(|&&o| rack_match(o)) {
                if size > self.size(other)? + 1 {
                    self.reassign_partition(tp);
                    return Ok(true);
                }
            }
        }
        for &other in &candidates {
            if size > self.size(other)? + 1 {
                self.reassign_partition(tp);
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn reassign_partition(&mut self, tp: &TopicPartition) {
        let new = self
            .members_ascending()
            .into_iter()
            .find(|&c| self.subscribes(c, &tp.topic))
            .expect("a subscriber takes part in balancing");
        self.reassign_partition_to(tp, new);
    }

    fn reassign_partition_to(&mut self, tp: &TopicPartition, new: usize) {
        let consumer = self.partition_consumer[tp];
        let moved = self.movements.partition_to_be_moved(tp, consumer, new);
        self.process_partition_movement(&moved, new);
    }

    fn process_partition_movement(&mut self, tp: &TopicPartition, new: usize) {
        let old = self.partition_consumer[tp];
        self.sorted_members.remove(&self.key(old));
        self.sorted_members.remove(&self.key(new));
        self.movements.move_partition(tp, old, new);
        remove_first(self.current.get_mut(&old).expect("member"), tp);
        self.current.get_mut(&new).expect("member").push(tp.clone());
        self.partition_consumer.insert(tp.clone(), new);
        self.sorted_members.insert(self.key(new));
        self.sorted_members.insert(self.key(old));
    }
}

/// The sum of size differences over all pairs of members; 0 is perfectly balanced.
fn balance_score(assignment: &BTreeMap<usize, Vec<TopicPartition>>) -> usize {
    let sizes: Vec<usize> = assignment.values().map(Vec::len).collect();
    let mut score = 0;
    for (i, a) in sizes.iter().enumerate() {
        for b in &sizes[i + 1..] {
            score += a.abs_diff(*b);
        }
    }
    score
}
