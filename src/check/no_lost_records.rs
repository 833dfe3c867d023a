//! **NoLostRecords** (G8, at-least-once; Jepsen's `lost-write` per group): at the end of the run,
//! for every partition of an at-least-once group, every offset from where the group started
//! (the lowest position any member started from, or the log start if retention moved it) up to
//! the offset the group's true coordinator last accepted was processed by some member.
//!
//! What Kafka promises, and where: the consumer commits what the application hands it; with
//! commits after processing (`KafkaConsumer.commitSync` once the batch is done) at-least-once
//! rests on three rules of Kafka's: a member given a partition starts at the group's committed
//! offset (`ConsumerCoordinator.initWithCommittedOffsetsIfNeeded` → `refreshCommittedOffsets`);
//! a member that is out of its generation cannot commit (`commit_fencing`,
//! `ClassicGroup.validateOffsetCommit`), so only the current owner moves the committed offset,
//! and only past what it processed; an accepted commit stays (`committed_offsets_durable`).
//!
//! Catches: committing before processing in at-least-once mode, a committed offset moved past
//! unprocessed records (zombie commits), a reset that skips committed-but-unprocessed records.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::Event;
use std::collections::BTreeSet;

pub const NAME: &str = "no_lost_records";

/// Checks the groups named at construction (the at-least-once ones).
pub struct NoLostRecords {
    pub groups: BTreeSet<String>,
}

impl Invariant for NoLostRecords {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, _event: &Event, _ghost: &Ghost, _report: &mut Reporter) {}

    fn at_end(&mut self, ghost: &Ghost, report: &mut Reporter) {
        for ((group, tp), committed) in &ghost.groups.applied {
            if !self.groups.contains(group) {
                continue;
            }
            let start = ghost
                .groups
                .first_position
                .get(&(group.clone(), tp.clone()))
                .copied()
                .unwrap_or(0);
            let log_start = ghost
                .replicas
                .get(tp)
                .and_then(|r| r.values().map(|x| x.log_start).max())
                .unwrap_or(0);
            let processed = ghost.groups.processed.get(&(group.clone(), tp.clone()));
            let missing: Vec<u64> = (start.max(log_start)..*committed)
                .filter(|o| processed.is_none_or(|p| !p.contains(*o)))
                .collect();
            if let Some(first) = missing.first() {
                report.safety_about(NAME, Subject::GroupRecords(group, tp),
                    format!("{group} {tp}: committed up to {committed}, but {} record(s) below it were never processed, first offset {first}", missing.len()),
                );
            }
        }
    }
}
