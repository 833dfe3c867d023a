//! Kafka's configuration, by role: what each core is configured with. The scenario file's
//! sections are these structs (the `scenario` module composes them into a file and validates
//! them), but the cores take them from here and never import the scenario: a core is the
//! broker, controller or client Kafka ships, configured as Kafka configures it, whoever builds
//! it (the simulator's shell, a unit test, a user's own harness).
//!
//! Every field has Kafka's name (units last) and Kafka's default where Kafka has one; the
//! defaults that differ from Kafka's are shorter timeouts, chosen so that a few simulated
//! minutes show several failovers.

pub mod broker;
pub mod client;

/// The largest sizes a scenario (and a history read back) may ask for: absurd sizes are
/// refused up front, before anything is allocated.
pub mod limits {
    pub const MAX_BROKERS: u32 = 64;
    pub const MAX_TOPICS: usize = 1000;
    pub const MAX_PARTITIONS_PER_TOPIC: u32 = 10_000;
    pub const MAX_REPLICAS_TOTAL: u64 = 100_000;
    pub const MAX_CLIENTS: usize = 1000;
    pub const MAX_CONSUMERS_TOTAL: u64 = 1000;
    pub const MAX_FAULTS: usize = 10_000;
    pub const MAX_DURATION_MS: u64 = 24 * 3600 * 1000;
    pub const MAX_RATE_PER_S: f64 = 100_000.0;
    pub const MAX_RECORDS_TOTAL: f64 = 50_000_000.0;
    pub const MAX_LATENCY_MS: u64 = 60_000;
    pub const MAX_EVENTS: u64 = 1_000_000_000;
    pub const MAX_TIMEOUT_MS: u64 = 24 * 3600 * 1000;
    /// Records one fetch or poll may return (`max.poll.records`, the follower's fetch size).
    pub const MAX_RECORDS_PER_FETCH: u32 = 1_000_000;
}

pub use broker::{ClusterConfig, CrashMode, ProtocolSwitches, TopicConfig};
pub use client::{
    AcksConfig, AssignorName, CommitMode, GroupConfig, OffsetReset, ProducerConfig, ReaderConfig,
};
