//! **Bounded duplicates** (G9): a record the group processes again lies at or above the offset
//! whose commit had been acknowledged when the member processing it was assigned its partition.
//!
//! What Kafka promises, and where: a member given a partition starts at the group's committed
//! offset (`ConsumerCoordinator.initWithCommittedOffsetsIfNeeded` → `refreshCommittedOffsets`),
//! and an acknowledged commit is never lost (`committed_offsets_durable`). So at-least-once
//! re-delivers what was processed but not yet committed, never what was committed before the
//! partition moved. A record processed again *below* that offset means the new owner started
//! from the wrong place (a stale or lost committed offset, a needless reset).
//!
//! Kafka promises no upper bound: an older-generation zombie keeps processing its old
//! assignment until its next `poll()` gives it away as lost (`ConsumerCoordinator.onJoinPrepare`)
//! while the partition's new owner processes the same records (`exclusive_ownership`), so
//! duplicates above the previous owner's position are allowed and only counted.
//!
//! Kept per (group, partition): the offsets processed so far (as ranges), and per member the
//! highest offset whose commit a member had seen acknowledged when the member was assigned the
//! partition. An applied commit that was never acknowledged may die with its coordinator; an
//! acknowledged one may not.

use super::ghost::Ghost;
use super::offsets::OffsetRanges;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::TopicPartition;
use std::collections::BTreeMap;

pub const NAME: &str = "bounded_duplicates";

#[derive(Default)]
pub struct BoundedDuplicates {
    processed: BTreeMap<(String, TopicPartition), OffsetRanges>,
    /// (group, member, partition) → the acknowledged committed offset when the member was
    /// assigned it.
    floor: BTreeMap<(String, String, TopicPartition), u64>,
    /// Offsets processed more than once, within the bound or not.
    pub duplicates: u64,
}

impl Invariant for BoundedDuplicates {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::Assigned {
                group,
                member_id,
                partitions,
                ..
            } => {
                for tp in partitions {
                    let committed = ghost
                        .groups
                        .acknowledged
                        .get(&(group.clone(), tp.clone()))
                        .copied()
                        .unwrap_or(0);
                    self.floor
                        .insert((group.clone(), member_id.clone(), tp.clone()), committed);
                }
            }
            EventKind::Processed {
                group,
                generation,
                member_id,
                tp,
                base_offset,
                values,
            } => {
                let end = base_offset + values.len() as u64;
                let floor = self
                    .floor
                    .get(&(group.clone(), member_id.clone(), tp.clone()))
                    .copied()
                    .unwrap_or(0);
                let seen = self
                    .processed
                    .entry((group.clone(), tp.clone()))
                    .or_default();
                let again: Vec<u64> = (*base_offset..end).filter(|o| seen.contains(*o)).collect();
                self.duplicates += again.len() as u64;
                if let Some(o) = again.iter().find(|o| **o < floor) {
                    report.safety_about(NAME, Subject::GroupRecords(group, tp),
                        format!(
                            "{group} {tp}: {member_id} (generation {generation}) processed offset {o} again, below offset {floor}, whose commit had been acknowledged when {member_id} was assigned {tp}"
                        ),
                    );
                }
                seen.insert(*base_offset, end);
            }
            _ => {}
        }
    }
}
