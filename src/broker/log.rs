//! A partition's log on one broker: entries stamped with leader epochs, the log start and end
//! offsets, the leader-epoch cache (KIP-101) and what has been flushed to disk.
//!
//! Offsets are positions: the entry at offset `o` is `entries[o - log_start_offset]`. The log end
//! offset (LEO) is one past the last entry. Retention moves the log start offset forward.

use crate::protocol::{LeaderEpoch, LogEntry, NO_EPOCH};
use std::collections::VecDeque;

/// One partition log with its epoch cache.
#[derive(Clone, Debug, Default)]
pub struct PartitionLog {
    log_start_offset: u64,
    entries: VecDeque<LogEntry>,
    /// `(epoch, start offset)`, ascending in both: the leader-epoch-checkpoint file.
    epoch_cache: Vec<(LeaderEpoch, u64)>,
    /// Entries below this offset are on disk; a power loss keeps exactly these.
    flushed_offset: u64,
}

impl PartitionLog {
    /// An empty log whose next offset is `offset` (a follower restarting at its leader's start).
    pub fn starting_at(offset: u64) -> Self {
        PartitionLog {
            log_start_offset: offset,
            flushed_offset: offset,
            ..PartitionLog::default()
        }
    }

    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    /// One past the last entry.
    pub fn log_end_offset(&self) -> u64 {
        self.log_start_offset + self.entries.len() as u64
    }

    pub fn flushed_offset(&self) -> u64 {
        self.flushed_offset
    }

    pub fn entry(&self, offset: u64) -> Option<&LogEntry> {
        let i = offset.checked_sub(self.log_start_offset)?;
        self.entries.get(i as usize)
    }

    /// The epoch of the last entry, or of the latest cache entry when the log is empty
    /// (Kafka's `latestEpoch`).
    pub fn latest_epoch(&self) -> LeaderEpoch {
        self.epoch_cache.last().map(|e| e.0).unwrap_or(NO_EPOCH)
    }

    /// The epoch of the entry just below the log end offset (the follower's last fetched epoch).
    pub fn last_entry_epoch(&self) -> LeaderEpoch {
        self.entries
            .back()
            .map(|e| e.epoch)
            .unwrap_or_else(|| self.latest_epoch())
    }

    /// The start offset of `epoch` in the cache, if the epoch is known.
    pub fn epoch_start_offset(&self, epoch: LeaderEpoch) -> Option<u64> {
        self.epoch_cache.iter().find(|e| e.0 == epoch).map(|e| e.1)
    }

    pub fn epoch_cache(&self) -> &[(LeaderEpoch, u64)] {
        &self.epoch_cache
    }

    /// Records that `epoch` starts at the log end offset (a new leader, or the first fetched entry
    /// of a new epoch). Ignored when the epoch is not newer than the latest (Kafka's `assign`).
    pub fn assign_epoch(&mut self, epoch: LeaderEpoch) {
        if epoch > self.latest_epoch() {
            let start = self.log_end_offset();
            self.epoch_cache.retain(|e| e.1 < start);
            self.epoch_cache.push((epoch, start));
        }
    }

    /// Appends entries at the log end offset, updating the epoch cache for any new epoch.
    pub fn append(&mut self, entries: impl IntoIterator<Item = LogEntry>) {
        for e in entries {
            self.assign_epoch(e.epoch);
            self.entries.push_back(e);
        }
    }

    /// Removes every entry at or above `offset` and the epoch-cache entries that start there or
    /// later (Kafka's `truncateTo` + `truncateFromEnd`). At or past the log end no entry goes,
    /// but an epoch that starts at the log end still does: as in Kafka, a broker that led an
    /// epoch without appending to it must not keep that empty epoch, or it would ask the new
    /// leader about it forever.
    pub fn truncate_to(&mut self, offset: u64) {
        let offset = offset.max(self.log_start_offset);
        if offset >= self.log_end_offset() {
            let leo = self.log_end_offset();
            self.epoch_cache.retain(|e| e.1 < leo);
            return;
        }
        let keep = (offset - self.log_start_offset) as usize;
        self.entries.truncate(keep);
        self.epoch_cache.retain(|e| e.1 < offset);
        self.flushed_offset = self.flushed_offset.min(offset);
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor`: the largest epoch ≤ `requested` this log knows,
    /// and the end offset of that epoch (the start of the next epoch, or the LEO for the latest).
    /// `(NO_EPOCH, None)` when the requested epoch is undefined or newer than every known epoch.
    pub fn end_offset_for_epoch(&self, requested: LeaderEpoch) -> (LeaderEpoch, Option<u64>) {
        if requested == NO_EPOCH {
            return (NO_EPOCH, None);
        }
        if self.latest_epoch() == requested {
            return (requested, Some(self.log_end_offset()));
        }
        let Some(higher) = self.epoch_cache.iter().find(|e| e.0 > requested) else {
            return (NO_EPOCH, None);
        };
        match self.epoch_cache.iter().rev().find(|e| e.0 <= requested) {
            // The requested epoch is older than any known epoch.
            None => (requested, Some(higher.1)),
            Some(floor) => (floor.0, Some(higher.1)),
        }
    }

    /// Entries from `from` (inclusive) up to `upto` (exclusive), at most `max` of them.
    pub fn read(&self, from: u64, upto: u64, max: usize) -> Vec<LogEntry> {
        let upto = upto.min(self.log_end_offset());
        if from < self.log_start_offset || from >= upto {
            return Vec::new();
        }
        let start = (from - self.log_start_offset) as usize;
        let n = ((upto - from) as usize).min(max);
        self.entries.range(start..start + n).cloned().collect()
    }

    /// Marks everything appended so far as flushed to disk.
    pub fn flush(&mut self) {
        self.flushed_offset = self.log_end_offset();
    }

    /// A power loss: everything not flushed is gone.
    pub fn lose_unflushed(&mut self) {
        let flushed = self.flushed_offset;
        self.truncate_to(flushed);
    }

    /// Deletes entries below `offset` (retention). The log start never passes `limit` (the high
    /// watermark: Kafka only deletes segments below it). Returns true when the start moved.
    pub fn advance_log_start(&mut self, offset: u64, limit: u64) -> bool {
        let offset = offset.min(limit).min(self.log_end_offset());
        if offset <= self.log_start_offset {
            return false;
        }
        let n = (offset - self.log_start_offset) as usize;
        self.entries.drain(..n);
        self.log_start_offset = offset;
        self.flushed_offset = self.flushed_offset.max(offset);
        // Keep the epoch that covers the new start (Kafka's truncateFromStart).
        let covering = self
            .epoch_cache
            .iter()
            .rev()
            .find(|e| e.1 <= offset)
            .map(|e| e.0);
        self.epoch_cache
            .retain(|e| e.1 > offset || Some(e.0) == covering);
        if let Some(first) = self.epoch_cache.first_mut() {
            first.1 = first.1.max(offset);
        }
        true
    }

    /// The first offset whose entry was appended at or after `time_ms` (time-based retention).
    pub fn first_offset_at_or_after(&self, time_ms: u64) -> u64 {
        let idx = self.entries.partition_point(|e| e.append_time_ms < time_ms);
        self.log_start_offset + idx as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Payload, ProducedValue};

    fn entry(epoch: LeaderEpoch, seq: u64) -> LogEntry {
        LogEntry {
            epoch,
            append_time_ms: seq,
            payload: Payload::Data {
                value: ProducedValue { producer: 1, seq },
                key: None,
            },
        }
    }

    fn log_with_epochs(epochs: &[LeaderEpoch]) -> PartitionLog {
        let mut log = PartitionLog::default();
        log.append(epochs.iter().enumerate().map(|(i, e)| entry(*e, i as u64)));
        log
    }

    #[test]
    fn truncating_at_the_log_end_drops_an_empty_latest_epoch() {
        // A leader of epoch 3 that never appended, then a follower again: its OffsetsForLeaderEpoch
        // exchange truncates to its own log end, which must forget epoch 3 (else it keeps asking
        // the new leader about epoch 3 and never fetches).
        let mut log = log_with_epochs(&[1, 1]);
        log.assign_epoch(3);
        assert_eq!(log.epoch_cache(), &[(1, 0), (3, 2)]);
        log.truncate_to(7);
        assert_eq!(log.epoch_cache(), &[(1, 0)]);
        assert_eq!(log.log_end_offset(), 2);
        assert_eq!(log.latest_epoch(), 1);
    }

    #[test]
    fn end_offset_for_epoch_follows_kafka() {
        // epochs: 0 at 0, 2 at 2, 4 at 3; LEO 5
        let log = log_with_epochs(&[0, 0, 2, 4, 4]);
        assert_eq!(log.epoch_cache(), &[(0, 0), (2, 2), (4, 3)]);
        assert_eq!(log.end_offset_for_epoch(4), (4, Some(5)));
        assert_eq!(log.end_offset_for_epoch(3), (2, Some(3)));
        assert_eq!(log.end_offset_for_epoch(1), (0, Some(2)));
        assert_eq!(log.end_offset_for_epoch(5), (NO_EPOCH, None));
        assert_eq!(log.end_offset_for_epoch(NO_EPOCH), (NO_EPOCH, None));
        let later = log_with_epochs(&[3, 3]);
        assert_eq!(later.end_offset_for_epoch(1), (1, Some(0)));
    }

    #[test]
    fn truncation_drops_entries_and_epochs() {
        let mut log = log_with_epochs(&[0, 0, 2, 4, 4]);
        log.flush();
        log.truncate_to(3);
        assert_eq!(log.log_end_offset(), 3);
        assert_eq!(log.epoch_cache(), &[(0, 0), (2, 2)]);
        assert_eq!(log.flushed_offset(), 3);
        assert_eq!(log.latest_epoch(), 2);
    }

    #[test]
    fn power_loss_keeps_only_flushed() {
        let mut log = log_with_epochs(&[0, 0]);
        log.flush();
        log.append([entry(1, 2), entry(1, 3)]);
        log.lose_unflushed();
        assert_eq!(log.log_end_offset(), 2);
        assert_eq!(log.latest_epoch(), 0);
    }

    #[test]
    fn retention_moves_start_below_limit_only() {
        let mut log = log_with_epochs(&[0, 0, 1, 1, 1]);
        assert!(!log.advance_log_start(3, 0));
        assert!(log.advance_log_start(3, 4));
        assert_eq!(log.log_start_offset(), 3);
        assert_eq!(log.entry(3).unwrap().epoch, 1);
        assert!(log.entry(2).is_none());
        assert_eq!(log.epoch_cache(), &[(1, 3)]);
        assert_eq!(log.read(3, 5, 10).len(), 2);
        assert_eq!(log.first_offset_at_or_after(4), 4);
    }
}
