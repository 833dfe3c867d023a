//! **ReadBelowHighWatermark**: a reader never receives an offset at or above the high watermark
//! that the leader served with it (consumers read committed data only; Kafka's
//! `FetchIsolation.HIGH_WATERMARK`).
//!
//! Catches: a leader that serves consumers up to its log end offset, exposing records that a
//! failover may still erase.

use super::ghost::Ghost;
use super::{Invariant, Reporter};
use crate::history::{Event, EventKind};

pub const NAME: &str = "read_below_high_watermark";

pub struct ReadBelowHighWatermark;

impl Invariant for ReadBelowHighWatermark {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, _ghost: &Ghost, report: &mut Reporter) {
        if let EventKind::Polled {
            tp,
            base_offset,
            values,
            high_watermark,
        } = &event.kind
        {
            let end = base_offset + values.len() as u64;
            if end > *high_watermark {
                report.safety(
                    NAME,
                    format!("{tp}: {} read offsets [{base_offset}..{end}) but was served high watermark {high_watermark}", event.node),
                );
            }
        }
    }
}
