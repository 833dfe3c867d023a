//! **GenerationMonotonic** (G5): a group's generation at its coordinator never goes backwards,
//! across coordinator failover and the group emptying too (KAFKA-2720).
//!
//! Catches: a coordinator that does not persist or reload the generation, so that a stale member
//! could pass generation checks again (generation ABA).

use super::ghost::Ghost;
use super::{Invariant, Reporter};
use crate::history::{Event, EventKind};
use std::collections::BTreeMap;

pub const NAME: &str = "generation_monotonic";

#[derive(Default)]
pub struct GenerationMonotonic {
    max: BTreeMap<String, i32>,
}

impl Invariant for GenerationMonotonic {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, _ghost: &Ghost, report: &mut Reporter) {
        let EventKind::GroupState {
            group, generation, ..
        } = &event.kind
        else {
            return;
        };
        let max = self.max.entry(group.clone()).or_insert(*generation);
        if *generation < *max {
            report.safety(
                NAME,
                format!(
                    "{group}: generation went from {max} back to {generation} at {}",
                    event.node
                ),
            );
        }
        *max = (*max).max(*generation);
    }
}
