//! What a partition log holds: entries stamped with the leader epoch of the leader that appended
//! them (KIP-101), carrying a payload.

use super::LeaderEpoch;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A value written by a producer. Every value in a run is unique (producer, sequence number), so
/// checkers can follow one record from its send to every replica and every reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProducedValue {
    /// The producer's index (`p3` is 3).
    pub producer: u32,
    /// The producer's own counter, from 0.
    pub seq: u64,
}

impl fmt::Display for ProducedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}:{}", self.producer, self.seq)
    }
}

/// The payload of one log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Payload {
    /// A record from a producer: its unique value and its key (`None` for keyless records).
    Data {
        value: ProducedValue,
        key: Option<u32>,
    },
    /// A record of the group coordinator in `__consumer_offsets`: its key (what compaction
    /// keeps the latest of) and its value, both as the coordinator serialized them; a `None`
    /// value is a tombstone. Shared (`Arc<str>`): every replica, fetch response and checker
    /// holds the leader's one copy.
    Coordinator {
        key: std::sync::Arc<str>,
        value: Option<std::sync::Arc<str>>,
    },
}

impl Payload {
    /// The value clients and checkers compare. Coordinator records get a stand-in value (producer
    /// `u32::MAX`, a hash of key and value) so that logs can be compared the same way.
    pub fn value(&self) -> ProducedValue {
        match self {
            Payload::Data { value, .. } => *value,
            Payload::Coordinator { key, value } => {
                use std::hash::{Hash, Hasher};
                let mut h = crate::fnv::Fnv64::default();
                (key, value).hash(&mut h);
                ProducedValue {
                    producer: u32::MAX,
                    seq: h.finish(),
                }
            }
        }
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Data { value, .. } => write!(f, "{value}"),
            Payload::Coordinator {
                key,
                value: Some(_),
            } => write!(f, "{key}"),
            Payload::Coordinator { key, value: None } => write!(f, "{key}=tombstone"),
        }
    }
}

/// One entry of a partition log. Its offset is its position (the log knows its base offset).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEntry {
    /// The leader epoch in which the entry was first appended (the batch's partition leader epoch).
    pub epoch: LeaderEpoch,
    /// Simulated time at which the leader appended it; drives time-based retention.
    pub append_time_ms: u64,
    pub payload: Payload,
}
