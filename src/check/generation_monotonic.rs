//! **GenerationMonotonic** (G5, KAFKA-2720): a group's generation never goes back below a
//! generation that was *established* — one in which members received their assignments — across
//! coordinator failover and the group emptying too.
//!
//! Why "established": Kafka bumps the generation when the join phase completes but stores it only
//! with the leader's SyncGroup, and answers SyncGroup only once that record is replicated. A
//! coordinator that fails over in between loads the previous generation, which is Kafka's real and
//! harmless behaviour (nobody was assigned anything in the lost one). Going below a generation
//! that members were assigned in is the bug: a stale member could pass generation checks again.
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
