//! **LogMatching** below the high watermark (R7, Vanlightly's `LogMatchingProperty`, here
//! `HwPrefixAgreement`).
//!
//! For every pair of replicas of a partition, the logs are identical (same epoch, same value at
//! every offset) below the smaller of their high watermarks. Checked incrementally: whenever a
//! replica's high watermark rises, each newly covered offset must match the entry first committed
//! there by any replica.
//!
//! Catches: a follower that does not truncate a divergent suffix (KAFKA-6361), unclean election.

use super::ghost::{Ghost, GhostEntry};
use super::offsets::OffsetTable;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::{BrokerId, NodeId, TopicPartition};
use std::collections::BTreeMap;

pub const NAME: &str = "log_matching";

#[derive(Default)]
pub struct LogMatching {
    /// The committed entry at each offset, by partition: first come, first kept.
    committed: BTreeMap<TopicPartition, OffsetTable<GhostEntry>>,
    /// Up to where each replica's log was compared.
    checked: BTreeMap<(TopicPartition, BrokerId), u64>,
}

impl Invariant for LogMatching {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        let NodeId::Broker(b) = event.node else {
            return;
        };
        match &event.kind {
            EventKind::Truncated {
                tp, log_end_offset, ..
            } => {
                let c = self.checked.entry((tp.clone(), b)).or_default();
                *c = (*c).min(*log_end_offset);
            }
            EventKind::LogStartMoved { tp, .. } => {
                if let Some(committed) = self.committed.get_mut(tp) {
                    committed.forget_below(ghost.lowest_log_start(tp));
                }
            }
            EventKind::HighWatermark { tp, high_watermark } => {
                let Some(r) = ghost.replica(tp, b) else {
                    return;
                };
                let from = self
                    .checked
                    .get(&(tp.clone(), b))
                    .copied()
                    .unwrap_or(0)
                    .max(r.log_start);
                let committed = self.committed.entry(tp.clone()).or_default();
                for o in from..*high_watermark {
                    let Some(mine) = r.entry(o) else { continue };
                    match committed.get(o) {
                        None => committed.set(o, mine),
                        Some(first) if first != mine => {
                            report.safety_about(NAME, Subject::Partition(tp),
                                format!(
                                    "{tp} offset {o}: b{b} has {} (epoch {}) below its high watermark {high_watermark}, but {} (epoch {}) was committed there",
                                    mine.value, mine.epoch, first.value, first.epoch
                                ),
                            );
                            break;
                        }
                        Some(_) => {}
                    }
                }
                self.checked.insert((tp.clone(), b), *high_watermark);
            }
            _ => {}
        }
    }
}
