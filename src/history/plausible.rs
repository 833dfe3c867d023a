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
use crate::config::limits::{MAX_CLIENTS, MAX_RECORDS_TOTAL};
use crate::protocol::{Payload, ProducedValue};

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

#[cfg(test)]
mod tests {
    use crate::history::json::from_jsonl;

    const META: &str = r#"{"meta":{"scenario":"s.toml","seed":1,"liveness_check":false,"liveness_bound_ms":1000,"producers":[1],"readers":[],"end_us":5000,"budget_exhausted":false}}"#;

    fn appended(at_us: u64, base: u64, seq: u64) -> String {
        format!(
            r#"{{"at_us":{at_us},"node":"b1","event":{{"type":"appended","tp":{{"topic":"t","partition":0}},"base_offset":{base},"entries":[{{"epoch":0,"append_time_ms":1,"payload":{{"Data":{{"value":{{"producer":1,"seq":{seq}}},"key":null}}}}}}]}}}}"#
        )
    }

    fn high_watermark(at_us: u64, hw: u64) -> String {
        format!(
            r#"{{"at_us":{at_us},"node":"b1","event":{{"type":"high_watermark","tp":{{"topic":"t","partition":0}},"high_watermark":{hw}}}}}"#
        )
    }

    fn parse(lines: &[String]) -> Result<usize, String> {
        let text = format!("{META}\n{}\n", lines.join("\n"));
        from_jsonl(&text).map(|(_, events)| events.len())
    }

    #[test]
    fn a_history_a_run_can_write_is_taken() {
        let ok = [
            appended(10, 0, 0),
            appended(20, 1, 1),
            high_watermark(20, 2),
        ];
        assert_eq!(parse(&ok), Ok(3));
    }

    #[test]
    fn time_going_back_is_refused_at_its_line() {
        let e = parse(&[appended(20, 0, 0), high_watermark(10, 1)]).unwrap_err();
        assert!(e.starts_with("line 3: at_us 10 is before"), "{e}");
        let e = parse(&[appended(6000, 0, 0)]).unwrap_err();
        assert!(
            e.starts_with("line 2: at_us 6000 is after the run's end"),
            "{e}"
        );
    }

    #[test]
    fn offsets_beyond_what_the_history_appends_are_refused() {
        let e = parse(&[appended(10, 0, 0), high_watermark(20, 2)]).unwrap_err();
        assert!(e.starts_with("line 3: offset 2 is beyond"), "{e}");
        let e = parse(&[appended(10, u64::MAX, 0)]).unwrap_err();
        assert!(e.starts_with("line 2: offset"), "{e}");
    }

    #[test]
    fn values_outside_the_scenario_limits_are_refused() {
        let zero = appended(10, 0, 0).replace(r#""producer":1"#, r#""producer":0"#);
        let e = parse(&[zero]).unwrap_err();
        assert!(e.contains("producers are p1..p1000, not p0"), "{e}");
        let e = parse(&[appended(10, 0, 1 << 50)]).unwrap_err();
        assert!(e.contains("at most 50000000 records"), "{e}");
    }
}
