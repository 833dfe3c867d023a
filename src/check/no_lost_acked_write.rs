//! **NoLostAckedWrite** (R5, Leader Completeness; R6 at the end).
//!
//! Every write acknowledged with acks=all, at offset `o` with value `v`, is held at `o` with value
//! `v` by every true leader of its partition from then on (checked when a leader takes over, and
//! when the acknowledgement arrives), and at the end by some replica (R6).
//!
//! Catches: truncation to the high watermark before an election (KAFKA-1211, KIP-101 scenario 1),
//! divergent truncation (KAFKA-6361), unclean leader election, acks from a shrunk ISR (S10).
//! Offsets below a replica's log start (deleted by retention) are not held and not required.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};
use crate::protocol::{LeaderEpoch, TopicPartition};
use std::collections::BTreeMap;

pub const NAME: &str = "no_lost_acked_write";

#[derive(Default)]
pub struct NoLostAckedWrite {
    /// The true leader (and epoch) last verified per partition.
    verified: BTreeMap<TopicPartition, (u32, LeaderEpoch)>,
}

impl NoLostAckedWrite {
    fn verify_leader(&mut self, tp: &TopicPartition, ghost: &Ghost, report: &mut Reporter) {
        let Some(l) = ghost.true_leader(tp) else {
            return;
        };
        let epoch = ghost.controller[tp].leader_epoch;
        if self.verified.get(tp) == Some(&(l, epoch)) {
            return;
        }
        self.verified.insert(tp.clone(), (l, epoch));
        let Some(acked) = ghost.acked.get(tp) else {
            return;
        };
        let r = ghost.replica(tp, l).expect("true leader has a replica");
        let missing: Vec<_> = acked
            .iter()
            .filter(|(o, v)| **o >= r.log_start && r.entry(**o).map(|e| e.value) != Some(**v))
            .collect();
        if let Some((o, v)) = missing.first() {
            report.safety_about(NAME, Subject::Partition(tp),
                format!(
                    "{tp}: b{l} leads epoch {epoch} without {} acknowledged write(s), first {v} at offset {o} (its log: {})",
                    missing.len(),
                    describe(r.entry(**o).map(|e| e.value.to_string()))
                ),
            );
        }
    }
}

fn describe(entry: Option<String>) -> String {
    entry
        .map(|e| format!("{e} there"))
        .unwrap_or_else(|| "nothing there".into())
}

impl Invariant for NoLostAckedWrite {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        match &event.kind {
            EventKind::BecameLeader { tp, .. }
            | EventKind::PartitionChanged {
                state: crate::protocol::message::PartitionState { tp, .. },
                ..
            } => self.verify_leader(tp, ghost, report),
            EventKind::Acked {
                tp,
                base_offset,
                values,
                acks: crate::protocol::message::Acks::All,
            } => {
                let Some(l) = ghost.true_leader(tp) else {
                    return;
                };
                let r = ghost.replica(tp, l).expect("true leader has a replica");
                for (i, v) in values.iter().enumerate() {
                    let o = base_offset + i as u64;
                    if o >= r.log_start && r.entry(o).map(|e| e.value) != Some(*v) {
                        report.safety_about(
                            NAME,
                            Subject::Partition(tp),
                            format!(
                                "{tp}: {v} acknowledged at offset {o} but leader b{l} has {}",
                                describe(r.entry(o).map(|e| e.value.to_string()))
                            ),
                        );
                        return;
                    }
                }
            }
            _ => {}
        }
    }

    fn at_end(&mut self, ghost: &Ghost, report: &mut Reporter) {
        for (tp, acked) in &ghost.acked {
            let Some(reps) = ghost.replicas.get(tp) else {
                continue;
            };
            let lost: Vec<_> = acked
                .iter()
                .filter(|(o, v)| {
                    reps.values()
                        .all(|r| **o >= r.log_start && r.entry(**o).map(|e| e.value) != Some(**v))
                })
                .collect();
            if let Some((o, v)) = lost.first() {
                report.safety_about(NAME, Subject::Partition(tp), format!("{tp}: {} acknowledged write(s) exist on no replica at the end, first {v} at offset {o}", lost.len()));
            }
        }
    }
}
