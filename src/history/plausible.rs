//! What `check-history` refuses before any checker reads a saved history: events that no run can
//! have written, and which the checkers (built for histories the simulator writes) are not
//! meant to survive. Each rule names the line at fault.
//!
//! - Time never goes back, and no event is after the run's `end_us`.
//! - Every offset lies within the entries the history appends: a run's logs hold only what some
//!   `appended` event put there, so no offset (of an entry, a poll, an acknowledgement, a
//!   commit, a high watermark) exceeds the number of entries appended in the whole file. This
//!   also bounds the checkers' per-offset tables by the size of the file.
//! - Every produced value has a producer `p1..` within the scenario limit and a sequence number
//!   within the record limit (the bounds scenario validation sets for live runs).

use super::{Event, EventKind};
use crate::protocol::{Payload, ProducedValue};
use crate::scenario::validate::limits::{MAX_CLIENTS, MAX_RECORDS_TOTAL};

/// Refuses the first implausible event, as `line N: why`; `lines[i]` is the file line of
/// `events[i]`.
pub fn check(end_us: u64, events: &[Event], lines: &[usize]) -> Result<(), String> {
    let appended: u64 = events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Appended { entries, .. } => entries.len() as u64,
            _ => 0,
        })
        .sum();
    let mut previous_us = 0;
    for (e, line) in events.iter().zip(lines) {
        let at = |why: String| format!("line {line}: {why}");
        if e.at_us < previous_us {
            return Err(at(format!(
                "at_us {} is before the previous event's {previous_us}: a history is in time order",
                e.at_us
            )));
        }
        if e.at_us > end_us {
            return Err(at(format!(
                "at_us {} is after the run's end (meta.end_us {end_us})",
                e.at_us
            )));
        }
        previous_us = e.at_us;
        if let Some(end) = offset_end(&e.kind) {
            if end > appended {
                return Err(at(format!(
                    "offset {end} is beyond every entry this history appends ({appended} in all)"
                )));
            }
        }
        for v in produced_values(&e.kind) {
            within_limits(v).map_err(at)?;
        }
    }
    Ok(())
}

fn within_limits(v: &ProducedValue) -> Result<(), String> {
    let max_seq = MAX_RECORDS_TOTAL as u64;
    if v.producer == 0 || v.producer as usize > MAX_CLIENTS {
        return Err(format!(
            "value {v}: producers are p1..p{MAX_CLIENTS}, not p{}",
            v.producer
        ));
    }
    if v.seq > max_seq {
        return Err(format!(
            "value {v}: a producer writes at most {max_seq} records, not seq {}",
            v.seq
        ));
    }
    Ok(())
}

/// The largest offset an event mentions, counting `base + len` for a run of values.
fn offset_end(kind: &EventKind) -> Option<u64> {
    let run = |base: &u64, len: usize| base.saturating_add(len as u64);
    let listed =
        |offsets: &[(crate::protocol::TopicPartition, u64)]| offsets.iter().map(|(_, o)| *o).max();
    match kind {
        EventKind::Appended {
            base_offset,
            entries,
            ..
        } => Some(run(base_offset, entries.len())),
        EventKind::Truncated { log_end_offset, .. } => Some(*log_end_offset),
        EventKind::LogStartMoved {
            log_start_offset, ..
        } => Some(*log_start_offset),
        EventKind::HighWatermark { high_watermark, .. } => Some(*high_watermark),
        EventKind::BecameLeader {
            epoch_start_offset, ..
        } => Some(*epoch_start_offset),
        EventKind::Acked {
            base_offset,
            values,
            ..
        }
        | EventKind::Processed {
            base_offset,
            values,
            ..
        } => Some(run(base_offset, values.len())),
        EventKind::Polled {
            base_offset,
            values,
            high_watermark,
            ..
        } => Some(run(base_offset, values.len()).max(*high_watermark)),
        EventKind::PositionReset { offset, .. } => Some(*offset),
        EventKind::OffsetFetched { offset, .. } => *offset,
        EventKind::CommitResult { offsets, .. }
        | EventKind::CommitApplied { offsets, .. }
        | EventKind::CommitFailed { offsets, .. } => listed(offsets),
        EventKind::OffsetsServed { offsets, .. } => offsets.iter().filter_map(|(_, o)| *o).max(),
        _ => None,
    }
}

/// Every produced value an event carries.
fn produced_values(kind: &EventKind) -> Vec<&ProducedValue> {
    match kind {
        EventKind::Appended { entries, .. } => entries
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::Data { value, .. } => Some(value),
                Payload::Coordinator { .. } => None,
            })
            .collect(),
        EventKind::Sent { values, .. }
        | EventKind::Acked { values, .. }
        | EventKind::SendFailed { values, .. }
        | EventKind::Polled { values, .. }
        | EventKind::Processed { values, .. } => values.iter().collect(),
        _ => Vec::new(),
    }
}
