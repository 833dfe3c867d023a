//! **OneValuePerOffset** (Jepsen's `inconsistent-offsets`): across every acks=all acknowledgement
//! and every read, one offset of a partition is only ever seen with one value.
//!
//! Catches: divergent logs that clients can observe: a committed offset rewritten after an
//! unclean election or a lossy truncation.

use super::ghost::Ghost;
use super::offsets::OffsetTable;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::message::Acks;
use crate::protocol::{ProducedValue, TopicPartition};
use std::collections::BTreeMap;

pub const NAME: &str = "one_value_per_offset";

#[derive(Default)]
pub struct OneValuePerOffset {
    seen: BTreeMap<TopicPartition, OffsetTable<ProducedValue>>,
}

impl OneValuePerOffset {
    fn see(
        &mut self,
        tp: &TopicPartition,
        base: u64,
        values: &[ProducedValue],
        who: &str,
        report: &mut Reporter,
    ) {
        let seen = self.seen.entry(tp.clone()).or_default();
        for (i, v) in values.iter().enumerate() {
            let o = base + i as u64;
            match seen.get(o) {
                None => seen.set(o, *v),
                Some(first) if first != *v => {
                    report.safety_about(
                        NAME,
                        Subject::Partition(tp),
                        format!(
                            "{tp} offset {o}: {who} saw {v}, but {first} was seen there before"
                        ),
                    );
                    return;
                }
                Some(_) => {}
            }
        }
    }
}

impl Invariant for OneValuePerOffset {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::LogStartMoved { tp, .. } => {
                if let Some(seen) = self.seen.get_mut(tp) {
                    seen.forget_below(ghost.lowest_log_start(tp));
                }
            }
            EventKind::Acked {
                tp,
                acks: Acks::All,
                base_offset,
                values,
            } => self.see(
                tp,
                *base_offset,
                values,
                &format!("{} (ack)", event.node),
                report,
            ),
            EventKind::Polled {
                tp,
                base_offset,
                values,
                ..
            } => self.see(
                tp,
                *base_offset,
                values,
                &format!("{} (read)", event.node),
                report,
            ),
            _ => {}
        }
    }
}
