//! The shared vocabulary of every role: node and partition ids, Kafka's error names, log records,
//! and the requests and responses that travel between nodes.
//!
//! Nothing here does anything; it only names things the way Kafka does, so that the role cores,
//! the simulator shell, the history and the checkers all speak one language.

pub mod error;
pub mod group;
pub mod message;
pub mod record;

pub use error::ErrorCode;
pub use record::{LogEntry, Payload, ProducedValue};

use serde::{Deserialize, Serialize};
use std::fmt;

/// A broker's id, as in `broker.id` / `node.id`. Brokers are named `b1`, `b2`, ... in scenarios.
pub type BrokerId = u32;

/// A leader epoch (KIP-101). `-1` means "no epoch", as Kafka's `RecordBatch.NO_PARTITION_LEADER_EPOCH`.
pub type LeaderEpoch = i32;

/// `RecordBatch.NO_PARTITION_LEADER_EPOCH` / `UNDEFINED_EPOCH`.
pub const NO_EPOCH: LeaderEpoch = -1;

/// `UNDEFINED_EPOCH_OFFSET` in Kafka's OffsetsForLeaderEpoch response.
pub const UNDEFINED_OFFSET: i64 = -1;

/// Simulated time in milliseconds since the start of the run.
pub type Millis = u64;

/// A topic partition, ordered by topic then partition (as Kafka's assignors sort them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: TopicName,
    pub partition: u32,
}

// Equality and order are the topic name's then the partition's, as derived; two partitions that
// share one name (clones of one `TopicName`) skip comparing the text. Partitions are the keys of
// most maps a broker searches per request, and comparing names was 8% of a run's instructions.
impl PartialEq for TopicPartition {
    fn eq(&self, other: &Self) -> bool {
        self.partition == other.partition
            && (std::sync::Arc::ptr_eq(&self.topic, &other.topic) || self.topic == other.topic)
    }
}

impl Eq for TopicPartition {}

/// The text and the partition, as derived (equal partitions have equal text).
impl std::hash::Hash for TopicPartition {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.topic.hash(state);
        self.partition.hash(state);
    }
}

impl PartialOrd for TopicPartition {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TopicPartition {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let topic = if std::sync::Arc::ptr_eq(&self.topic, &other.topic) {
            std::cmp::Ordering::Equal
        } else {
            self.topic.cmp(&other.topic)
        };
        topic.then(self.partition.cmp(&other.partition))
    }
}

/// A topic's name, shared: partitions are cloned into every request, response and event, and a
/// clone of a shared name is a reference count, not an allocation. It hashes, orders and
/// serializes exactly as the `String` it replaced, so traces are unchanged.
pub type TopicName = std::sync::Arc<str>;

/// The one shared [`TopicName`] of `name` on this thread (a run is one thread): every partition
/// built with [`TopicPartition::new`] shares its topic's name, so comparing two of them never
/// reads the text, and naming a partition allocates nothing. Only pointer identity depends on
/// it, never a result (equality and order are the text's).
pub fn topic_name(name: &str) -> TopicName {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    thread_local! {
        static NAMES: RefCell<BTreeMap<Box<str>, TopicName>> = const { RefCell::new(BTreeMap::new()) };
    }
    NAMES.with(|names| {
        if let Some(shared) = names.borrow().get(name) {
            return shared.clone();
        }
        let shared = TopicName::from(name);
        names.borrow_mut().insert(name.into(), shared.clone());
        shared
    })
}

impl TopicPartition {
    pub fn new(topic: impl AsRef<str>, partition: u32) -> Self {
        TopicPartition {
            topic: topic_name(topic.as_ref()),
            partition,
        }
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

impl fmt::Display for TopicPartition {
    /// Kafka prints a partition as `topic-partition`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Every node of a simulated cluster, named the way scenarios and traces name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeId {
    /// The (single) controller: `controller`.
    Controller,
    /// A broker: `b1`, `b2`, ...
    Broker(BrokerId),
    /// A producer client: `p1`, `p2`, ...
    Producer(u32),
    /// An assign-mode reader: `r1`, `r2`, ...
    Reader(u32),
    /// A group consumer: `c1`, `c2`, ...
    Consumer(u32),
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Controller => write!(f, "controller"),
            NodeId::Broker(i) => write!(f, "b{i}"),
            NodeId::Producer(i) => write!(f, "p{i}"),
            NodeId::Reader(i) => write!(f, "r{i}"),
            NodeId::Consumer(i) => write!(f, "c{i}"),
        }
    }
}

impl std::str::FromStr for NodeId {
    type Err = String;

    /// Parses `controller`, `b3`, `p1`, `r2`, `c10`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "controller" {
            return Ok(NodeId::Controller);
        }
        let bad = || format!("`{s}` is not a node name (expected controller, bN, pN, rN or cN)");
        let (kind, num) = s.split_at(s.char_indices().nth(1).map(|(i, _)| i).ok_or_else(bad)?);
        let n: u32 = num.parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        match kind {
            "b" => Ok(NodeId::Broker(n)),
            "p" => Ok(NodeId::Producer(n)),
            "r" => Ok(NodeId::Reader(n)),
            "c" => Ok(NodeId::Consumer(n)),
            _ => Err(bad()),
        }
    }
}

/// The internal topic that stores group metadata and committed offsets.
pub const CONSUMER_OFFSETS: &str = "__consumer_offsets";

/// Java's `String.hashCode` (UTF-16 code units, `h = 31 * h + c` in 32-bit arithmetic).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition of a group: `Utils.abs(groupId.hashCode()) % partitions`,
/// where Kafka's `Utils.abs` maps `Integer.MIN_VALUE` to 0. (A count of 0, refused by scenario
/// validation, is read as 1.)
pub fn offsets_partition_for(group: &str, partitions: u32) -> u32 {
    let h = java_string_hash(group);
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    (abs as u32) % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_java() {
        // Values of "x".hashCode() in Java.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("group"), 98629247);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(offsets_partition_for("polygenelubricants", 50), 0);
        assert_eq!(offsets_partition_for("group", 50), 98629247 % 50);
    }

    #[test]
    fn node_names_round_trip() {
        for n in [
            NodeId::Controller,
            NodeId::Broker(3),
            NodeId::Producer(1),
            NodeId::Reader(12),
        ] {
            assert_eq!(n.to_string().parse::<NodeId>().unwrap(), n);
        }
        assert!("b0".parse::<NodeId>().is_err());
        assert!("x1".parse::<NodeId>().is_err());
        assert!("".parse::<NodeId>().is_err());
    }
}
