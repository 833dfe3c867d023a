//! `UniformHeterogeneousAssignmentBuilder`: the uniform assignment when subscriptions differ.
//!
//! Members are numbered in `HashMap` order. Owned partitions of subscribed topics are kept; the
//! unassigned partitions are dealt topic by topic (most partitions per subscriber first, then
//! fewest subscribers, then topic) to the least loaded subscribers, ties going to the lowest
//! member number. Then, up to 16 rounds over the topics with two or more subscribers, partitions
//! move from the most loaded subscribers (their highest partition first) to the least loaded,
//! until each topic's subscribers differ by at most one.

use super::uniform::owned_by_topic;
use super::{AssignError, AssignInput, Assignment};
use crate::protocol::TopicPartition;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// `MAX_ITERATION_COUNT` of the final balancing phase.
const MAX_ITERATION_COUNT: usize = 16;

struct Builder<'a> {
    input: &'a AssignInput,
    /// Member index (position in `HashMap` order) to index in `input.members`.
    members: Vec<usize>,
    topic_subscribers: BTreeMap<&'a str, Vec<usize>>,
    sizes: Vec<usize>,
    owners: BTreeMap<&'a str, Vec<Option<usize>>>,
    target: Vec<BTreeSet<TopicPartition>>,
}

/// Builds the heterogeneous uniform assignment for members walked in `order`.
pub(super) fn assign(input: &AssignInput, order: &[usize]) -> Result<Assignment, AssignError> {
    let mut b = Builder::new(input, order);
    b.keep_owned_partitions();
    let unassigned = b.unassigned_partitions();
    let mut balancer = Balancer::default();
    for topic in b.sort_topics(unassigned.keys().copied().collect()) {
        balancer.initialize(&b.topic_subscribers[topic], &b.sizes);
        for &p in &unassigned[topic] {
            let member = balancer.next_least_loaded(&b.sizes);
            b.assign_partition(topic, p, member);
        }
    }
    let movable: Vec<&str> = b
        .topic_subscribers
        .iter()
        .filter(|(_, s)| s.len() >= 2)
        .map(|(t, _)| *t)
        .collect();
    if !movable.is_empty() {
        b.balance_topics(movable)?;
    }
    Ok(b.members
        .iter()
        .zip(b.target)
        .map(|(&i, tps)| (input.members[i].id.clone(), tps.into_iter().collect()))
        .collect())
}

impl<'a> Builder<'a> {
    fn new(input: &'a AssignInput, order: &[usize]) -> Self {
        let mut topic_subscribers: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (k, &i) in order.iter().enumerate() {
            for topic in &input.members[i].subscriptions {
                topic_subscribers.entry(topic.as_str()).or_default().push(k);
            }
        }
        let owners = topic_subscribers
            .keys()
            .map(|&t| (t, vec![None; input.topics[t] as usize]))
            .collect();
        Builder {
            input,
            members: order.to_vec(),
            topic_subscribers,
            sizes: vec![0; order.len()],
            owners,
            target: vec![BTreeSet::new(); order.len()],
        }
    }

    /// `maybeRevokePartitions`: keep owned partitions of topics the member still subscribes to.
    fn keep_owned_partitions(&mut self) {
        for k in 0..self.members.len() {
            let member = &self.input.members[self.members[k]];
            for (topic, partitions) in owned_by_topic(member) {
                if !member.subscriptions.iter().any(|t| t == topic) {
                    continue;
                }
                let (topic, _) = self.owners.get_key_value(topic).expect("subscribed topic");
                let topic: &'a str = topic;
                for p in partitions {
                    self.add_partition(topic, p, k);
                }
            }
        }
    }

    /// Each subscribed topic's partitions with no owner, ascending.
    fn unassigned_partitions(&self) -> BTreeMap<&'a str, Vec<u32>> {
        self.owners
            .iter()
            .map(|(&t, owners)| {
                let free: Vec<u32> = (0..owners.len() as u32)
                    .filter(|&p| owners[p as usize].is_none())
                    .collect();
                (t, free)
            })
            .filter(|(_, free)| !free.is_empty())
            .collect()
    }

    /// Most partitions per subscriber first, then fewest subscribers, then by topic.
    fn sort_topics(&self, mut topics: Vec<&'a str>) -> Vec<&'a str> {
        topics.sort_by(|a, b| {
            let (pa, sa) = (
                self.input.topics[*a] as f64,
                self.topic_subscribers[a].len(),
            );
            let (pb, sb) = (
                self.input.topics[*b] as f64,
                self.topic_subscribers[b].len(),
            );
            (pb / sb as f64)
                .partial_cmp(&(pa / sa as f64))
                .unwrap_or(Ordering::Equal)
                .then(sa.cmp(&sb))
                .then_with(|| a.cmp(b))
        });
        topics
    }

    fn add_partition(&mut self, topic: &'a str, p: u32, k: usize) {
        self.owners.get_mut(topic).expect("topic")[p as usize] = Some(k);
        self.target[k].insert(TopicPartition::new(topic, p));
        self.sizes[k] += 1;
    }

    fn assign_partition(&mut self, topic: &'a str, p: u32, k: usize) {
        if let Some(old) = self.owners[topic][p as usize] {
            self.target[old].remove(&TopicPartition::new(topic, p));
            self.sizes[old] -= 1;
        }
        self.add_partition(topic, p, k);
    }

    /// `balanceTopics`: rounds over the topics until a full round moves nothing.
    fn balance_topics(&mut self, topics: Vec<&'a str>) -> Result<(), AssignError> {
        let sorted = self.sort_topics(topics);
        let mut last_rebalanced: Option<usize> = None;
        let mut balancer = Balancer::default();
        for _ in 0..MAX_ITERATION_COUNT {
            for (index, &topic) in sorted.iter().enumerate() {
                if last_rebalanced == Some(index) {
                    return Ok(());
                }
                let moved = self.balance_topic(topic, &mut balancer)?;
                if moved > 0 || last_rebalanced.is_none() {
                    last_rebalanced = Some(index);
                }
            }
        }
        Ok(())
    }

    /// `balanceTopic`: moves partitions of `topic` from its most to its least loaded subscribers.
    fn balance_topic(
        &mut self,
        topic: &'a str,
        balancer: &mut Balancer,
    ) -> Result<usize, AssignError> {
        if balancer.initialize(&self.topic_subscribers[topic], &self.sizes) <= 1 {
            return Ok(0);
        }
        let owners = &self.owners[topic];
        let mut partitions: Vec<u32> = (0..owners.len() as u32).collect();
        partitions.sort_by_key(|&p| (owners[p as usize].map_or(-1, |k| k as i64), p));
        let mut start: BTreeMap<Option<usize>, usize> = BTreeMap::new();
        let mut end: BTreeMap<Option<usize>, usize> = BTreeMap::new();
        for (i, &p) in partitions.iter().enumerate() {
            start.entry(owners[p as usize]).or_insert(i);
            end.insert(owners[p as usize], i + 1);
        }
        // Each pass moves a partition or ends; a topic has finitely many to move.
        let bound = (partitions.len() + 1) * (self.members.len() + 1) * 4;
        for moved in 0..bound {
            if balancer.is_balanced() {
                return Ok(moved);
            }
            let Some(most) = self.next_member_with_partitions(balancer, &start, &end) else {
                return Ok(moved);
            };
            let slot = end.get_mut(&Some(most)).expect("owner range");
            *slot -= 1;
            let p = partitions[*slot];
            let least = balancer.next_least_loaded(&self.sizes);
            if balancer.is_balanced() {
                return Ok(moved);
            }
            self.assign_partition(topic, p, least);
        }
        Err(AssignError::new(
            "uniform assignor: balancing did not terminate",
        ))
    }

    /// The next most loaded subscriber that still has partitions of this topic to give up.
    fn next_member_with_partitions(
        &self,
        balancer: &mut Balancer,
        start: &BTreeMap<Option<usize>, usize>,
        end: &BTreeMap<Option<usize>, usize>,
    ) -> Option<usize> {
        loop {
            let member = balancer.next_most_loaded(&self.sizes)?;
            let has = end
                .get(&Some(member))
                .is_some_and(|&e| e > start[&Some(member)]);
            if has {
                return Some(member);
            }
            balancer.exclude_most_loaded();
        }
    }
}

/// `MemberAssignmentBalancer`: two ranges over the subscribers sorted by (load, member number),
/// the least loaded growing rightwards and the most loaded leftwards.
#[derive(Default)]
struct Balancer {
    sorted: Vec<usize>,
    least_end: usize,
    least_count: i64,
    next_least: usize,
    most_start: usize,
    most_end: usize,
    most_count: i64,
    next_most: i64,
}

impl Balancer {
    /// Resets for `members`; returns the spread between the most and least loaded.
    fn initialize(&mut self, members: &[usize], sizes: &[usize]) -> i64 {
        self.sorted = members.to_vec();
        self.sorted.sort_by_key(|&m| (sizes[m], m));
        let first = sizes[self.sorted[0]] as i64;
        let last = sizes[*self.sorted.last().expect("subscribers")] as i64;
        self.least_end = 0;
        self.least_count = first - 1;
        self.next_least = 0;
        self.most_start = self.sorted.len();
        self.most_end = self.sorted.len();
        self.most_count = last + 1;
        self.next_most = self.sorted.len() as i64 - 1;
        last - first
    }

    fn size_at(&self, index: usize, sizes: &[usize]) -> i64 {
        sizes[self.sorted[index]] as i64
    }

    /// The member to receive the next partition.
    fn next_least_loaded(&mut self, sizes: &[usize]) -> usize {
        if self.next_least >= self.least_end {
            self.least_count += 1;
            while self.least_end < self.sorted.len()
                && self.size_at(self.least_end, sizes) == self.least_count
            {
                self.least_end += 1;
            }
            self.next_least = 0;
        }
        let member = self.sorted[self.next_least];
        self.next_least += 1;
        member
    }

    /// The member to give up the next partition, if any is left.
    fn next_most_loaded(&mut self, sizes: &[usize]) -> Option<usize> {
        if self.next_most < self.most_start as i64 {
            if self.most_end <= self.most_start && self.most_start > 0 {
                self.most_count = self.size_at(self.most_start - 1, sizes);
            } else {
                self.most_count -= 1;
            }
            while self.most_start > 0 && self.size_at(self.most_start - 1, sizes) == self.most_count
            {
                self.most_start -= 1;
            }
            self.next_most = self.most_end as i64 - 1;
        }
        if self.next_most < 0 {
            return None;
        }
        let member = self.sorted[self.next_most as usize];
        self.next_most -= 1;
        Some(member)
    }

    /// Drops the member last returned by `next_most_loaded` from the most loaded range.
    fn exclude_most_loaded(&mut self) {
        let index = (self.next_most + 1) as usize;
        self.sorted.swap(index, self.most_end - 1);
        self.most_end -= 1;
    }

    fn is_balanced(&self) -> bool {
        self.most_count - self.least_count <= 1
    }
}
