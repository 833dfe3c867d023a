//! Broker configuration the group coordinator obeys, with Kafka's defaults.

use std::collections::BTreeMap;

/// `group.*` / `offsets.*` broker settings plus the simulator's own switches.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordinatorConfig {
    /// `group.min.session.timeout.ms` (6000).
    pub group_min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms` (1800000).
    pub group_max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms` (3000).
    pub group_initial_rebalance_delay_ms: u64,
    /// `group.max.size` (Integer.MAX_VALUE).
    pub group_max_size: usize,
    /// The hard-coded timeout of a brand-new member's first parked JoinGroup (300000).
    pub new_member_join_timeout_ms: u64,
    /// `offset.metadata.max.bytes` (4096).
    pub offset_metadata_max_bytes: usize,
    /// `offsets.retention.minutes` (10080), as milliseconds.
    pub offsets_retention_ms: u64,
    /// `offsets.retention.check.interval.ms` (600000).
    pub offsets_retention_check_interval_ms: u64,
    /// Legacy switch (KAFKA-2555, off by default): when on, an OffsetCommit whose generation is
    /// stale is accepted instead of failing with `ILLEGAL_GENERATION`.
    pub commit_ignores_generation: bool,
    /// Broken variant, on top of `commit_ignores_generation` (the simulation's S14 zombie commit):
    /// the member id is not checked either, so a member the group evicted still commits.
    pub commit_ignores_member: bool,
    /// Topics that exist, with their partition counts; OffsetCommit to anything else gets
    /// `UNKNOWN_TOPIC_OR_PARTITION` (KafkaApis' check before the coordinator). `None`: all exist.
    pub cluster_topics: Option<BTreeMap<String, u32>>,
    /// Which `__consumer_offsets` partition this coordinator serves, as `(partition, partitions)`;
    /// groups hashing elsewhere get `NOT_COORDINATOR`. `None`: every group is ours.
    pub offsets_partition: Option<(u32, u32)>,
    /// The middle part of generated member ids, `<base>-<seed>-<n>` (Kafka uses a random UUID).
    /// A broker passes `b<broker>e<leader epoch>`, so two coordinator incarnations never issue the
    /// same id.
    pub member_id_seed: String,
    /// Broken variant (`coordinator_forgets_generation`): loading ignores the stored generation and
    /// starts every group at generation 0 (generation ABA, KAFKA-2720's concern).
    pub forget_generation_on_load: bool,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            group_min_session_timeout_ms: 6000,
            group_max_session_timeout_ms: 1_800_000,
            group_initial_rebalance_delay_ms: 3000,
            group_max_size: i32::MAX as usize,
            new_member_join_timeout_ms: 300_000,
            offset_metadata_max_bytes: 4096,
            offsets_retention_ms: 10080 * 60 * 1000,
            offsets_retention_check_interval_ms: 600_000,
            commit_ignores_generation: false,
            commit_ignores_member: false,
            cluster_topics: None,
            offsets_partition: None,
            member_id_seed: "0".to_string(),
            forget_generation_on_load: false,
        }
    }
}
