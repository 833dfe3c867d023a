//! **ReaderPollsContiguous** (Jepsen's `poll-skip` and `nonmonotonic-poll`, assign mode): an
//! assign-mode reader's successive polls of a partition continue exactly where the previous one
//! ended, unless it explicitly moved its position (a reset). In subscribe mode these are allowed
//! per process (rebalances move partitions), so groups are checked per partition across owners
//! instead (no_lost_records).
//!
//! Catches: a fetch path that skips or repeats offsets.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::{NodeId, TopicPartition};
use std::collections::BTreeMap;

pub const NAME: &str = "reader_polls_contiguous";

#[derive(Default)]
pub struct ReaderPollsContiguous {
    next: BTreeMap<(u32, TopicPartition), u64>,
}

impl Invariant for ReaderPollsContiguous {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, _ghost: &Ghost, report: &mut Reporter) {
        let NodeId::Reader(r) = event.node else {
            return;
        };
        match &event.kind {
            EventKind::PositionReset { tp, offset, .. } => {
                self.next.insert((r, tp.clone()), *offset);
            }
            EventKind::Polled {
                tp,
                base_offset,
                values,
                ..
            } => {
                let key = (r, tp.clone());
                if let Some(expected) = self.next.get(&key) {
                    if base_offset > expected {
                        report.safety_about(
                            NAME,
                            Subject::Partition(tp),
                            format!("poll-skip: r{r} {tp} jumped from {expected} to {base_offset}"),
                        );
                    } else if base_offset < expected {
                        report.safety_about(NAME, Subject::Partition(tp), format!("nonmonotonic-poll: r{r} {tp} went back from {expected} to {base_offset}"));
                    }
                }
                self.next.insert(key, base_offset + values.len() as u64);
            }
            _ => {}
        }
    }
}
