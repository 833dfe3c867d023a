//! The clients' configuration (Kafka's `ProducerConfig` and `ConsumerConfig`): the scenario
//! file's `[[producer]]`, `[[reader]]` and `[[group]]` sections are these structs.

use serde::{Deserialize, Serialize};

/// Kafka's `acks`: "all" (or "-1"), "1", "0".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcksConfig {
    #[serde(rename = "all", alias = "-1")]
    All,
    #[serde(rename = "1")]
    Leader,
    #[serde(rename = "0")]
    None,
}

/// A producer client: p1, p2, ... in file order.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerConfig {
    pub topic: String,
    /// Records per simulated second.
    pub rate_per_s: f64,
    #[serde(default = "acks_all")]
    pub acks: AcksConfig,
    /// Number of distinct keys; 0 means keyless records (sticky partitioner, KIP-480).
    #[serde(default)]
    pub keys: u32,
    /// `linger.ms`. Kafka: 5 (since 4.0).
    #[serde(default = "five")]
    pub linger_ms: u64,
    /// `batch.size`, in records.
    #[serde(default = "batch_records")]
    pub batch_records: u32,
    /// `retries`: how many times a failed batch is sent again. Kafka: effectively unbounded,
    /// limited by `delivery.timeout.ms`.
    #[serde(default = "retries")]
    pub retries: u32,
    /// `retry.backoff.ms`. Kafka: 100.
    #[serde(default = "hundred")]
    pub retry_backoff_ms: u64,
    /// `request.timeout.ms`. Kafka: 30000.
    #[serde(default = "request_timeout")]
    pub request_timeout_ms: u64,
    /// `delivery.timeout.ms`: give up on a record this long after send. Kafka: 120000.
    #[serde(default = "delivery_timeout")]
    pub delivery_timeout_ms: u64,
    /// When the producer starts and stops sending (simulated ms). `stop_ms` defaults to the end of
    /// the scenario's duration.
    #[serde(default)]
    pub start_ms: u64,
    #[serde(default)]
    pub stop_ms: Option<u64>,
}

fn acks_all() -> AcksConfig {
    AcksConfig::All
}
fn five() -> u64 {
    5
}
fn batch_records() -> u32 {
    100
}
fn retries() -> u32 {
    1000
}
fn hundred() -> u64 {
    100
}
fn request_timeout() -> u64 {
    5000
}
fn delivery_timeout() -> u64 {
    30_000
}

/// Kafka's `auto.offset.reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetReset {
    Earliest,
    Latest,
    None,
}

/// An assign-mode reader (a consumer with `assign()`, no group): r1, r2, ... in file order.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderConfig {
    pub topic: String,
    /// Partitions to read; all of the topic's when absent.
    #[serde(default)]
    pub partitions: Option<Vec<u32>>,
    /// Where to start, and what to do on OFFSET_OUT_OF_RANGE (`auto.offset.reset`).
    #[serde(default = "earliest")]
    pub auto_offset_reset: OffsetReset,
    /// `fetch.max.wait.ms`. Kafka: 500.
    #[serde(default = "fetch_wait")]
    pub fetch_max_wait_ms: u64,
    /// `max.poll.records`. Kafka: 500.
    #[serde(default = "max_poll_records")]
    pub max_poll_records: u32,
    /// `request.timeout.ms`.
    #[serde(default = "request_timeout")]
    pub request_timeout_ms: u64,
}

fn earliest() -> OffsetReset {
    OffsetReset::Earliest
}
fn fetch_wait() -> u64 {
    500
}
fn max_poll_records() -> u32 {
    500
}

/// The client-side partition assignor of a classic group (`partition.assignment.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssignorName {
    #[serde(rename = "range")]
    Range,
    #[serde(rename = "roundrobin")]
    RoundRobin,
    #[serde(rename = "sticky")]
    Sticky,
    #[serde(rename = "cooperative-sticky")]
    CooperativeSticky,
}

impl AssignorName {
    /// Kafka's protocol name for the assignor.
    pub fn protocol_name(self) -> &'static str {
        match self {
            AssignorName::Range => "range",
            AssignorName::RoundRobin => "roundrobin",
            AssignorName::Sticky => "sticky",
            AssignorName::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// Cooperative assignors rebalance incrementally (KIP-429); the others eagerly.
    pub fn cooperative(self) -> bool {
        self == AssignorName::CooperativeSticky
    }
}

/// When a consumer commits relative to processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    /// Process, then `commitSync` the positions (at-least-once).
    AtLeastOnce,
    /// `enable.auto.commit`: positions are committed every `auto_commit_interval_ms` during
    /// poll and before a rebalance (at-least-once).
    Auto,
    /// `commitSync` the positions before processing the records (at-most-once).
    AtMostOnce,
}

/// A consumer group and its members (all classic protocol, `subscribe()`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// `group.id`.
    pub id: String,
    /// Topics every member subscribes to.
    pub topics: Vec<String>,
    /// How many consumers (c1.. numbered across groups in file order).
    pub consumers: u32,
    #[serde(default = "range")]
    pub assignor: AssignorName,
    /// Members get `group.instance.id = "{id}-{n}"` (KIP-345 static membership).
    #[serde(default)]
    pub static_members: bool,
    /// `session.timeout.ms`. Kafka: 45000.
    #[serde(default = "session_timeout")]
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms`. Kafka: 3000.
    #[serde(default = "heartbeat_interval")]
    pub heartbeat_interval_ms: u64,
    /// `max.poll.interval.ms` (also the rebalance timeout). Kafka: 300000.
    #[serde(default = "max_poll_interval")]
    pub max_poll_interval_ms: u64,
    #[serde(default = "at_least_once")]
    pub commit: CommitMode,
    /// `auto.commit.interval.ms`. Kafka: 5000.
    #[serde(default = "auto_commit_interval")]
    pub auto_commit_interval_ms: u64,
    #[serde(default = "earliest")]
    pub auto_offset_reset: OffsetReset,
    /// `max.poll.records`. Kafka: 500.
    #[serde(default = "max_poll_records")]
    pub max_poll_records: u32,
    /// Simulated processing time per record.
    #[serde(default = "processing")]
    pub processing_ms_per_record: f64,
    /// `fetch.max.wait.ms`. Kafka: 500.
    #[serde(default = "fetch_wait")]
    pub fetch_max_wait_ms: u64,
    /// `request.timeout.ms`.
    #[serde(default = "request_timeout")]
    pub request_timeout_ms: u64,
    /// When the consumers start (simulated ms).
    #[serde(default)]
    pub start_ms: u64,
}

impl GroupConfig {
    /// How long a member waits for its JoinGroup answer: Kafka's
    /// `AbstractCoordinator.sendJoinGroupRequest` allows `max(request.timeout.ms, rebalance
    /// timeout + JOIN_GROUP_TIMEOUT_LAPSE (5 s))`, the rebalance timeout being
    /// `max.poll.interval.ms`.
    pub fn join_group_timeout_ms(&self) -> u64 {
        const JOIN_GROUP_TIMEOUT_LAPSE_MS: u64 = 5000;
        self.request_timeout_ms.max(
            self.max_poll_interval_ms
                .saturating_add(JOIN_GROUP_TIMEOUT_LAPSE_MS),
        )
    }
}

fn range() -> AssignorName {
    AssignorName::Range
}
fn session_timeout() -> u64 {
    10_000
}
fn heartbeat_interval() -> u64 {
    3000
}
fn max_poll_interval() -> u64 {
    300_000
}
fn at_least_once() -> CommitMode {
    CommitMode::AtLeastOnce
}
fn auto_commit_interval() -> u64 {
    5000
}
fn processing() -> f64 {
    0.1
}
