//! **GenerationMonotonic** (G5, KAFKA-2720): the generation the group's true coordinator is at
//! never goes below a generation that was *established*, one in which members received their
//! assignments, across coordinator failover and the group emptying too.
//!
//! What Kafka promises, and where: every completed join phase moves the generation up by one
//! (`GroupMetadataManager.completeClassicGroupJoin` → `ClassicGroup.initNextGeneration`, the move
//! to Empty included). The generation is stored with the leader's assignment in the group's
//! `GroupMetadataValue` record (`GroupMetadataManager.classicGroupSyncToClassicGroup`,
//! `GroupCoordinatorRecordHelpers.newGroupMetadataRecord`), and SyncGroup is answered only when
//! that record is committed in `__consumer_offsets` (`CoordinatorRuntime` holds the response in
//! its `DeferredEventQueue` until the `HighWatermarkListener` passes the record). A new
//! coordinator loads the group by replaying that record
//! (`GroupMetadataManager.replay(GroupMetadataKey, GroupMetadataValue)`).
//!
//! So Kafka does not promise that a bumped generation survives: a coordinator that fails over
//! between the join phase and the stored sync loads the generation before, which is harmless
//! (nobody was assigned anything in the lost one). It does promise that a generation members
//! were assigned in is never lost, so the group never goes back below it; going below would let
//! a stale member pass generation checks again.
//!
//! Catches: a coordinator that does not persist or reload the generation (generation ABA).

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use std::collections::BTreeMap;

pub const NAME: &str = "generation_monotonic";

#[derive(Default)]
pub struct GenerationMonotonic {
    established: BTreeMap<String, i32>,
}

impl Invariant for GenerationMonotonic {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::Assigned {
                group, generation, ..
            } => {
                let e = self.established.entry(group.clone()).or_insert(*generation);
                *e = (*e).max(*generation);
            }
            EventKind::GroupState {
                group, generation, ..
            } if ghost.is_true_coordinator(group, event.node) => {
                if let Some(e) = self.established.get(group).filter(|e| generation < *e) {
                    report.safety_about(NAME, Subject::Group(group), format!("{group}: coordinator {} is at generation {generation}, below established generation {e}", event.node));
                }
            }
            _ => {}
        }
    }
}
