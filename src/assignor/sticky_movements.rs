//! `AbstractStickyAssignor.PartitionMovements`: the partition moves made while balancing, so a
//! move can be undone rather than repeated.
//!
//! When the general builder moves a partition of topic T from member X to member Y while some
//! other partition of T was moved earlier from Y to X, Kafka moves that earlier partition back
//! instead (stickiness). Which one it picks is the first of a Java `HashSet` of partitions, so we
//! keep that set's iteration order.

use super::java::{self, JavaHashSet};
use crate::protocol::TopicPartition;
use std::collections::BTreeMap;

/// A move from `.0` to `.1` (member indices).
type ConsumerPair = (usize, usize);

#[derive(Default)]
pub(super) struct PartitionMovements {
    by_partition: BTreeMap<TopicPartition, ConsumerPair>,
    by_topic: BTreeMap<String, BTreeMap<ConsumerPair, JavaHashSet<TopicPartition>>>,
}

impl PartitionMovements {
    fn remove_record(&mut self, tp: &TopicPartition) -> ConsumerPair {
        let pair = self.by_partition.remove(tp).expect("recorded move");
        let for_topic = self.by_topic.get_mut(tp.topic()).expect("topic moves");
        let set = for_topic.get_mut(&pair).expect("pair moves");
        set.remove(tp);
        if set.is_empty() {
            for_topic.remove(&pair);
        }
        if for_topic.is_empty() {
            self.by_topic.remove(tp.topic());
        }
        pair
    }

    fn add_record(&mut self, tp: &TopicPartition, pair: ConsumerPair) {
        self.by_partition.insert(tp.clone(), pair);
        self.by_topic
            .entry(tp.topic.to_string())
            .or_default()
            .entry(pair)
            .or_default()
            .insert(
                tp.clone(),
                java::topic_partition_hash(&tp.topic, tp.partition),
            );
    }

    /// Records `tp` moving from `old` to `new`, folding it into an earlier move of `tp`.
    pub fn move_partition(&mut self, tp: &TopicPartition, old: usize, new: usize) {
        if self.by_partition.contains_key(tp) {
            let (src, _dst) = self.remove_record(tp);
            if src != new {
                self.add_record(tp, (src, new));
            }
        } else {
            self.add_record(tp, (old, new));
        }
    }

    /// The partition to move from `old` to `new` in place of `tp`: one of the same topic moved
    /// earlier from `new` to `old`, if any, else `tp` itself.
    pub fn partition_to_be_moved(
        &self,
        tp: &TopicPartition,
        old: usize,
        new: usize,
    ) -> TopicPartition {
        let Some(for_topic) = self.by_topic.get(tp.topic()) else {
            return tp.clone();
        };
        let old = self.by_partition.get(tp).map_or(old, |pair| pair.0);
        match for_topic.get(&(new, old)).and_then(|set| set.first()) {
            Some(earlier) => earlier.clone(),
            None => tp.clone(),
        }
    }
}
