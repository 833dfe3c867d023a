//! `AbstractStickyAssignor.ConstrainedAssignmentBuilder`: the sticky assignment when every member
//! subscribes to the same topics.
//!
//! With `minQuota = floor(P / M)`, `maxQuota = ceil(P / M)` and `P % M` members due `maxQuota`:
//! 1. each member (in `HashMap` order) keeps its owned partitions, first reported first: all
//!    of them below `minQuota`; `maxQuota` while members due `maxQuota` remain; else
//!    `minQuota`. The rest are revoked;
//! 2. with racks, unassigned partitions go round robin to rack-matching unfilled members;
//! 3. the rest go round robin to members under `minQuota` (sorted by id), then one each to
//!    members at `minQuota` until `P % M` members reached `maxQuota`.
//!
//! A partition given to a new owner after being revoked (or claimed twice) is recorded as
//! transferring ownership, which the cooperative assignor withholds for one rebalance.

use super::java;
use super::sticky::{Claims, StickyContext, StickyOutcome};
use super::AssignError;
use crate::protocol::TopicPartition;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

struct Builder<'c, 'a> {
    ctx: &'c StickyContext<'a>,
    multiple_owners: &'c BTreeSet<TopicPartition>,
    revoked: BTreeSet<TopicPartition>,
    under_min_quota: Vec<usize>,
    exactly_min_quota: VecDeque<usize>,
    min_quota: usize,
    max_quota: usize,
    expected_over_min: usize,
    current_over_min: usize,
    assignment: BTreeMap<usize, Vec<TopicPartition>>,
    assigned: BTreeSet<TopicPartition>,
    transferring: BTreeMap<TopicPartition, usize>,
}

/// Builds the constrained sticky assignment.
pub(super) fn build(ctx: &StickyContext, claims: &Claims) -> Result<StickyOutcome, AssignError> {
    let members = claims.owned.len();
    let total = ctx.total_partitions();
    let mut b = Builder {
        ctx,
        multiple_owners: &claims.multiple_owners,
        revoked: BTreeSet::new(),
        under_min_quota: Vec::new(),
        exactly_min_quota: VecDeque::new(),
        min_quota: total / members,
        max_quota: total.div_ceil(members),
        expected_over_min: total % members,
        current_over_min: 0,
        assignment: claims.owned.iter().map(|(i, _)| (*i, Vec::new())).collect(),
        assigned: BTreeSet::new(),
        transferring: BTreeMap::new(),
    };
    b.assign_owned(claims);
    let mut unassigned = b.unassigned_partitions();
    let by_id =
        |a: &usize, c: &usize| java::compare_strings(&ctx.member(*a).id, &ctx.member(*c).id);
    b.under_min_quota.sort_by(by_id);
    b.exactly_min_quota.make_contiguous().sort_by(by_id);
    ctx.racks.sort_by_rack_consumers(&mut unassigned);
    b.assign_rack_aware_round_robin(&mut unassigned);
    b.assign_round_robin(&unassigned)?;
    b.verify_unfilled_members()?;
    Ok(StickyOutcome {
        assignment: b.assignment,
        transferring: Some(b.transferring),
    })
}

impl Builder<'_, '_> {
    /// Step 1: keep owned partitions up to the quotas, revoke the rest.
    fn assign_owned(&mut self, claims: &Claims) {
        for (consumer, owned) in &claims.owned {
            let consumer = *consumer;
            // Kafka keeps the first ones in the order the member reported them.
            let mut owned: Vec<TopicPartition> = owned
                .iter()
                .filter(|tp| !self.ctx.racks.racks_mismatch(consumer, tp))
                .filter(|tp| !self.multiple_owners.contains(*tp))
                .cloned()
                .collect();
            let keep = if owned.len() < self.min_quota {
                self.under_min_quota.push(consumer);
                owned.len()
            } else if owned.len() >= self.max_quota
                && self.current_over_min < self.expected_over_min
            {
                self.current_over_min += 1;
                if self.current_over_min == self.expected_over_min {
                    self.exactly_min_quota.clear();
                }
                self.max_quota
            } else {
                if self.current_over_min < self.expected_over_min {
                    self.exactly_min_quota.push_back(consumer);
                }
                self.min_quota
            };
            self.revoked.extend(owned.drain(keep..));
            self.assigned.extend(owned.iter().cloned());
            self.assignment
                .get_mut(&consumer)
                .expect("member")
                .extend(owned);
        }
    }

    /// All partitions, topics sorted by name, minus those kept in step 1.
    fn unassigned_partitions(&self) -> Vec<TopicPartition> {
        let mut topics: Vec<(&str, u32)> = self
            .ctx
            .partitions_per_topic
            .iter()
            .map(|(t, n)| (*t, *n))
            .collect();
        topics.sort_by(|a, b| java::compare_strings(a.0, b.0));
        topics
            .into_iter()
            .flat_map(|(t, n)| (0..n).map(move |p| TopicPartition::new(t, p)))
            .filter(|tp| !self.assigned.contains(tp))
            .collect()
    }

    /// Step 2: round robin within racks, up to `minQuota` (then `maxQuota`).
    fn assign_rack_aware_round_robin(&mut self, unassigned: &mut Vec<TopicPartition>) {
        if self.ctx.racks.consumer_racks.is_empty() {
            return;
        }
        let mut next_index = 0;
        let mut k = 0;
        while k < unassigned.len() {
            let tp = unassigned[k].clone();
            let mut consumer = None;
            if let Some(mut index) =
                self.ctx
                    .racks
                    .next_rack_consumer(&tp, &self.under_min_quota, next_index)
            {
                let c = self.under_min_quota[index];
                let count = self.assignment[&c].len() + 1;
                if count >= self.min_quota {
                    self.under_min_quota.remove(index);
                    if count < self.max_quota {
                        self.exactly_min_quota.push_back(c);
                    }
                } else {
                    index += 1;
                }
                next_index = if self.under_min_quota.is_empty() {
                    0
                } else {
                    index % self.under_min_quota.len()
                };
                consumer = Some(c);
            } else if !self.exactly_min_quota.is_empty() {
                let exactly: Vec<usize> = self.exactly_min_quota.iter().copied().collect();
                if let Some(first) = self.ctx.racks.next_rack_consumer(&tp, &exactly, 0) {
                    let c = exactly[first];
                    if self.assignment[&c].len() + 1 == self.max_quota {
                        self.exactly_min_quota.remove(first);
                    }
                    consumer = Some(c);
                }
            }
            match consumer {
                Some(c) => {
                    self.assign_new_partition(&tp, c);
                    unassigned.remove(k);
                }
                None => k += 1,
            }
        }
    }

    /// Step 3: round robin over members under `minQuota`, then one more to members at it.
    fn assign_round_robin(&mut self, unassigned: &[TopicPartition]) -> Result<(), AssignError> {
        // `next` plays Java's iterator over `under_min_quota`: the index it returns next.
        let mut next = 0;
        for tp in unassigned {
            let mut from_iterator = true;
            let consumer = if next < self.under_min_quota.len() {
                next += 1;
                self.under_min_quota[next - 1]
            } else if self.under_min_quota.is_empty() {
                from_iterator = false;
                self.exactly_min_quota.pop_front().ok_or_else(|| {
                    AssignError::new(
                        "Kafka's sticky assignor fails here: IllegalStateException: No more \
                         unfilled consumers to be assigned.",
                    )
                })?
            } else {
                next = 1;
                self.under_min_quota[0]
            };
            let count = self.assign_new_partition(tp, consumer);
            if count == self.min_quota && from_iterator {
                next -= 1;
                self.under_min_quota.remove(next);
                self.exactly_min_quota.push_back(consumer);
            } else if count == self.max_quota {
                self.current_over_min += 1;
            }
        }
        Ok(())
    }

    fn assign_new_partition(&mut self, tp: &TopicPartition, consumer: usize) -> usize {
        let list = self.assignment.get_mut(&consumer).expect("member");
        list.push(tp.clone());
        if self.revoked.contains(tp) || self.multiple_owners.contains(tp) {
            self.transferring.insert(tp.clone(), consumer);
        }
        list.len()
    }

    /// Kafka's final consistency check, which throws where the quotas were not met.
    fn verify_unfilled_members(&self) -> Result<(), AssignError> {
        if self.under_min_quota.is_empty() {
            return Ok(());
        }
        if self.current_over_min != self.expected_over_min {
            return Err(AssignError::new(
                "Kafka's sticky assignor fails here: IllegalStateException: We haven't reached the \
                 expected number of members with more than the minQuota partitions, but no more \
                 partitions to be assigned",
            ));
        }
        for &member in &self.under_min_quota {
            if self.assignment[&member].len() != self.min_quota {
                return Err(AssignError::new(format!(
                    "Kafka's sticky assignor fails here: IllegalStateException: Consumer: [{}] \
                     doesn't reach minQuota partitions, and no more partitions to be assigned",
                    self.ctx.member(member).id
                )));
            }
        }
        Ok(())
    }
}
