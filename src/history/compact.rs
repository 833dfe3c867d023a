//! The compact golden trace used by snapshots (`snapshots/*.snap`): every structural event
//! (faults, crashes, restarts, elections, leader and follower transitions, ISR changes, fencing,
//! truncations, log-start moves, reader seeks, failed sends), one line each in the history's text
//! form, followed by per-partition end state. Per-record events (append, hw, send, ack, poll) are
//! summarised in the end state instead of listed, so that a change of behaviour shows as a short
//! diff a reviewer can read without running anything.

use super::{Event, EventKind};
use crate::protocol::TopicPartition;
use std::collections::BTreeMap;
use std::fmt::Write;

fn is_structural(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Appended { .. }
            | EventKind::HighWatermark { .. }
            | EventKind::Sent { .. }
            | EventKind::Acked { .. }
            | EventKind::Polled { .. }
    )
}

/// The compact trace of a run's events.
pub fn compact_trace(events: &[Event]) -> String {
    let mut out = String::new();
    let mut end: BTreeMap<(TopicPartition, String), (u64, u64)> = BTreeMap::new();
    let mut acked: BTreeMap<TopicPartition, u64> = BTreeMap::new();
    let mut read: BTreeMap<TopicPartition, u64> = BTreeMap::new();
    for e in events {
        if is_structural(&e.kind) {
            let _ = writeln!(out, "{e}");
        }
        match &e.kind {
            EventKind::Appended {
                tp,
                base_offset,
                entries,
            } => {
                end.entry((tp.clone(), e.node.to_string())).or_default().0 =
                    base_offset + entries.len() as u64;
            }
            EventKind::Truncated {
                tp, log_end_offset, ..
            } => {
                end.entry((tp.clone(), e.node.to_string())).or_default().0 = *log_end_offset;
            }
            EventKind::HighWatermark { tp, high_watermark } => {
                end.entry((tp.clone(), e.node.to_string())).or_default().1 = *high_watermark;
            }
            EventKind::Acked { tp, values, .. } => {
                *acked.entry(tp.clone()).or_default() += values.len() as u64
            }
            EventKind::Polled { tp, values, .. } => {
                *read.entry(tp.clone()).or_default() += values.len() as u64
            }
            _ => {}
        }
    }
    let _ = writeln!(
        out,
        "-- end state (log end offset / high watermark per replica; records acked, read)"
    );
    let mut tps: Vec<&TopicPartition> = end.keys().map(|(tp, _)| tp).collect();
    tps.dedup();
    for tp in tps {
        let replicas: Vec<String> = end
            .iter()
            .filter(|((t, _), _)| t == tp)
            .map(|((_, b), (leo, hw))| format!("{b} {leo}/{hw}"))
            .collect();
        let _ = writeln!(
            out,
            "{tp}: {}; acked {}, read {}",
            replicas.join(", "),
            acked.get(tp).copied().unwrap_or(0),
            read.get(tp).copied().unwrap_or(0)
        );
    }
    out
}
