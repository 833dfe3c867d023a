//! The broker's and the controller's configuration (Kafka's `KafkaConfig` and the per-topic
//! `LogConfig`), and the legacy or broken protocol switches. The scenario file's `[cluster]`,
//! `[[topic]]` and `[protocol]` sections are these structs.

use serde::{Deserialize, Serialize};

/// Brokers and the replication settings shared by all of them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Number of brokers, named b1..bN.
    pub brokers: u32,
    /// `broker.session.timeout.ms` (KRaft): the controller fences a broker that has not
    /// heartbeated for this long. Kafka: 9000.
    pub broker_session_timeout_ms: u64,
    /// `broker.heartbeat.interval.ms`. Kafka: 2000.
    pub broker_heartbeat_interval_ms: u64,
    /// `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR. Kafka: 30000.
    pub replica_lag_time_max_ms: u64,
    /// `replica.fetch.wait.max.ms`: how long a leader may park a follower's fetch. Kafka: 500.
    pub replica_fetch_wait_max_ms: u64,
    /// `replica.fetch.backoff.ms`: pause after a failed follower fetch. Kafka: 1000.
    pub replica_fetch_backoff_ms: u64,
    /// Records per follower fetch response.
    pub replica_fetch_max_records: u32,
    /// How often the page cache is flushed to disk; a `power_loss` crash loses what was not.
    pub flush_interval_ms: u64,
    /// `replica.high.watermark.checkpoint.interval.ms`. Kafka: 5000.
    pub hw_checkpoint_interval_ms: u64,
    /// `log.retention.check.interval.ms`. Kafka: 300000.
    pub retention_check_interval_ms: u64,
    /// Timeout of inter-broker and broker-controller requests (`replica.socket.timeout.ms`, ...).
    pub request_timeout_ms: u64,
    /// `offsets.topic.num.partitions`. Kafka: 50.
    pub offsets_topic_num_partitions: u32,
    /// `offsets.topic.replication.factor` (capped at the number of brokers). Kafka: 3.
    pub offsets_topic_replication_factor: u32,
    /// `group.initial.rebalance.delay.ms`. Kafka: 3000.
    pub group_initial_rebalance_delay_ms: u64,
    /// `group.min.session.timeout.ms`. Kafka: 6000.
    pub group_min_session_timeout_ms: u64,
    /// `group.max.session.timeout.ms`. Kafka: 1800000.
    pub group_max_session_timeout_ms: u64,
    /// `group.max.size`. Kafka: unbounded.
    pub group_max_size: u32,
    /// `offset.metadata.max.bytes`. Kafka: 4096.
    pub offset_metadata_max_bytes: u32,
    /// How long a new coordinator loads its partition before it serves (plus 1 ms per 100
    /// records); it answers COORDINATOR_LOAD_IN_PROGRESS meanwhile.
    pub coordinator_load_base_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            brokers: 3,
            broker_session_timeout_ms: 3000,
            broker_heartbeat_interval_ms: 500,
            replica_lag_time_max_ms: 10_000,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_backoff_ms: 1000,
            replica_fetch_max_records: 500,
            flush_interval_ms: 1000,
            hw_checkpoint_interval_ms: 5000,
            retention_check_interval_ms: 5000,
            request_timeout_ms: 5000,
            offsets_topic_num_partitions: 50,
            offsets_topic_replication_factor: 3,
            coordinator_load_base_ms: 20,
            group_initial_rebalance_delay_ms: 3000,
            group_min_session_timeout_ms: 6000,
            group_max_session_timeout_ms: 1_800_000,
            group_max_size: u32::MAX,
            offset_metadata_max_bytes: 4096,
        }
    }
}

/// A topic and its per-topic configs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u32,
    /// `min.insync.replicas`. Kafka: 1.
    #[serde(default = "one")]
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable`. Kafka: false.
    #[serde(default)]
    pub unclean_leader_election: bool,
    /// `retention.ms`: delete records older than this. `None` keeps them forever.
    #[serde(default)]
    pub retention_ms: Option<u64>,
    /// Size-based retention, in records per partition (`retention.bytes` counted in records).
    #[serde(default)]
    pub retention_records: Option<u64>,
}

fn one() -> u32 {
    1
}

/// How a crashed node goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashMode {
    /// Clean shutdown: flush, checkpoint, tell the controller (controlled shutdown).
    Clean,
    /// The process dies; the OS keeps everything written (page cache survives).
    Process,
    /// The machine loses power: whatever was not flushed to disk is gone.
    PowerLoss,
}

/// Switches that bring back old or deliberately broken protocol behaviour, to show the checkers
/// fire. Each names the KIP or JIRA it undoes. All false by default.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolSwitches {
    /// Pre-KIP-101: truncate to the local high watermark on restart or on becoming follower
    /// (KAFKA-1211).
    pub truncate_to_high_watermark: bool,
    /// KIP-101 without KIP-279: OffsetsForLeaderEpoch answers without the epoch (KAFKA-6361).
    pub kip101_epoch_lookup: bool,
    /// Pre-KIP-966: the high watermark advances even when the ISR is below min.insync.replicas.
    pub hw_ignores_min_isr: bool,
    /// Pre-KIP-966 (Kafka before 4.1's eligible leader replicas): the controller keeps the last
    /// ISR member in the ISR when it is fenced and elects it again after it restarts, even after
    /// an unclean shutdown (a power loss) cut its log short. No ELR, no clean-shutdown check.
    pub no_elr: bool,
    /// Pre-KIP-903 (Kafka before 3.5, KAFKA-14139): ISR changes ignore broker epochs. The leader
    /// neither fences fetches from a broker's previous incarnation nor checks the epoch before
    /// proposing a follower, and AlterPartition carries broker ids only, so the controller checks
    /// only that each member is registered and unfenced: an AlterPartition sent before a
    /// follower lost power and restarted with a short log still admits it to the ISR.
    pub isr_ignores_broker_epoch: bool,
    /// Broken: a follower never truncates when it starts following.
    pub skip_follower_truncation: bool,
    /// Broken: the leader advances the high watermark to its own log end offset (ignores followers).
    pub hw_ignores_followers: bool,
    /// Broken: the leader computes its high watermark over every replica that fetches, in the ISR
    /// or not, and lets it fall when a lagging replica drags it down.
    pub hw_counts_lagging_replicas: bool,
    /// Broken: the controller elects any live replica without putting it in the ISR.
    pub elect_outside_isr: bool,
    /// Broken: the controller reuses the leader epoch when the leader changes.
    pub no_epoch_bump: bool,
    /// Broken: a restarted controller recreates every partition at leader epoch 0 instead of
    /// replaying the epochs from its metadata log (generation/epoch reset, cf. KAFKA-2720).
    pub controller_resets_epochs: bool,
    /// Pre-KAFKA-2555: the group coordinator "blindly commits the offsets": it checks neither
    /// the generation nor the member id, so a member evicted by a rebalance still commits.
    pub commit_ignores_generation: bool,
    /// KAFKA-7026 (before KIP-341): the sticky assignors trust owned partitions from any
    /// generation.
    pub assignor_trusts_stale_owned: bool,
    /// Broken: a loaded coordinator ignores the stored generation and restarts at 0.
    pub coordinator_forgets_generation: bool,
    /// Broken: the coordinator answers an OffsetCommit before its records are replicated.
    pub commit_acks_before_replication: bool,
    /// Broken: an eager consumer keeps its partitions while it rejoins (no revoke first).
    pub eager_keeps_partitions_on_rejoin: bool,
    /// Broken: an at-least-once consumer commits its positions before processing the records.
    pub consumer_commits_before_processing: bool,
    /// Broken: a consumer ignores the group's committed offset for a newly assigned partition
    /// and starts where `auto_offset_reset` says, re-processing what the group had committed.
    pub consumer_ignores_committed_offset: bool,
    /// Broken: an assign-mode reader moves one offset too far after each poll.
    pub reader_skips_after_poll: bool,
    /// Broken: a leader serves consumers records up to its log end offset, not its high watermark.
    pub fetch_beyond_high_watermark: bool,
}
