//! **CommittedOffsetsDurable** (G7): once a member saw its OffsetCommit acknowledged, every
//! later OffsetFetch of that partition answered by the group's coordinator, after any failover
//! of `__consumer_offsets`, serves an offset at least as high (committed offsets only move
//! forward here: no consumer seeks backwards, and a new owner starts at the committed offset).
//!
//! "The group's coordinator" is the true one ([`Ghost::is_true_coordinator`]). A deposed
//! coordinator that has not heard yet (a paused broker, on resume, works through the requests
//! that queued up before it reads the metadata that moved `__consumer_offsets`) answers from
//! the state it had: OffsetFetch carries no leader epoch of `__consumer_offsets` to fence it,
//! and `GroupCoordinatorService.fetchOffsets` reads the coordinator's own state at its last
//! committed offset. Kafka does the same. What a consumer that acts on such an answer does to
//! its records is judged where it shows: `no_lost_records` and the duplicate bounds.
//!
//! What Kafka promises, and where: `OffsetMetadataManager.commitOffset` turns a commit into
//! `OffsetCommitValue` records, and `CoordinatorRuntime` answers only once they are committed
//! in `__consumer_offsets` (the response waits in its `DeferredEventQueue` until the
//! `HighWatermarkListener` passes them), so every in-sync replica has them. The next coordinator
//! loads them by replaying (`OffsetMetadataManager.replay(..., OffsetCommitKey,
//! OffsetCommitValue)`) and serves them from `fetchOffsets`. Offsets of a group that has members
//! do not expire: `ClassicGroup.offsetExpirationCondition` starts the clock only when the group
//! is Empty, or for topics it no longer subscribes to (`OffsetMetadataManager.cleanupExpiredOffsets`).
//!
//! Catches: a coordinator that acknowledges commits before they are replicated, loading that
//! misses records (KAFKA-8069-style), offsets expired or compacted away while the group is active.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};

pub const NAME: &str = "committed_offsets_durable";

pub struct CommittedOffsetsDurable;

impl Invariant for CommittedOffsetsDurable {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        let EventKind::OffsetsServed { group, offsets } = &event.kind else {
            return;
        };
        if !ghost.is_true_coordinator(group, event.node) {
            return;
        }
        for (tp, served) in offsets {
            let Some(acked) = ghost.groups.acknowledged.get(&(group.clone(), tp.clone())) else {
                continue;
            };
            if served.is_none_or(|s| s < *acked) {
                let now = match served {
                    Some(s) => format!("offset {s}"),
                    None => "no committed offset".to_string(),
                };
                report.safety_about(
                    NAME,
                    Subject::GroupRecords(group, tp),
                    format!(
                        "{group} {tp}: offset {acked} was committed and acknowledged, but {} serves {now} now",
                        event.node
                    ),
                );
            }
        }
    }
}
