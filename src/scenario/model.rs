//! The scenario file format: a cluster, a workload and timed faults, as typed data.
//!
//! Every field has Kafka's name (units last) and Kafka's default where Kafka has one; the defaults
//! that differ from Kafka's are shorter timeouts, chosen so that a few simulated minutes show
//! several failovers. `deny_unknown_fields` everywhere: a misspelt field is an error, not a silent
//! default.

use serde::{Deserialize, Serialize};

/// A whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in reports and snapshot names.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The seed used when `--seed` is not given.
    #[serde(default)]
    pub seed: u64,
    /// How long the workload and the faults run. After it, every fault heals and the cluster must
    /// converge within [`Scenario::liveness_bound_ms`].
    pub duration_ms: u64,
    pub cluster: ClusterConfig,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicConfig>,
    #[serde(default, rename = "producer")]
    pub producers: Vec<ProducerConfig>,
    #[serde(default, rename = "reader")]
    pub readers: Vec<ReaderConfig>,
    /// Consumer groups; their consumers are c1, c2, ... in file order of groups.
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupConfig>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub liveness: LivenessConfig,
    #[serde(default)]
    pub limits: Limits,
    /// Legacy or deliberately broken protocol behaviour, all off by default.
    #[serde(default)]
    pub protocol: ProtocolSwitches,
    /// Bounds for `--swarm`, where the seed draws the whole fault schedule.
    #[serde(default)]
    pub swarm: SwarmConfig,
}

/// The bounds within which `--swarm` draws a fault profile from the seed (swarm testing: each
/// seed also switches whole fault kinds on or off, so that rare combinations get their turn).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwarmConfig {
    /// Fault kinds the seed may use (`heal` and `restart` come with the others as needed).
    pub kinds: Vec<FaultKind>,
    /// Crash modes the seed may use.
    pub crash_modes: Vec<CrashMode>,
    /// At most this many faults (each crash brings its own restart).
    pub max_faults: u32,
    /// Longest a crashed node stays down, a partition lasts, a pause or slowness lasts.
    pub max_fault_duration_ms: u64,
    /// Shortest gap between two faults: small gaps give back-to-back leader changes.
    pub min_gap_ms: u64,
    /// Whether the controller may be crashed, paused or partitioned too.
    pub include_controller: bool,
    /// At most this many `power_loss` crashes per run. Kafka relies on replication, not fsync:
    /// once `min.insync.replicas` replicas lose their unflushed tails, acknowledged writes can
    /// really be lost (Vanlightly's `DataLossShutdownLimit`). Default: the smallest
    /// `min_insync_replicas` of the scenario's topics, minus one.
    pub max_power_losses: Option<u32>,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        SwarmConfig {
            kinds: vec![
                FaultKind::Crash,
                FaultKind::Partition,
                FaultKind::Pause,
                FaultKind::Slow,
                FaultKind::Drop,
                FaultKind::Delay,
            ],
            crash_modes: vec![CrashMode::Clean, CrashMode::Process, CrashMode::PowerLoss],
            max_faults: 12,
            max_fault_duration_ms: 10_000,
            min_gap_ms: 50,
            include_controller: true,
            max_power_losses: None,
        }
    }
}

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

/// The network every message crosses.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// One-way latency, drawn uniformly from [min, max] for each message.
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    /// Probability that any message is lost (like a dropped connection: the sender times out).
    pub loss: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency_min_ms: 1,
            latency_max_ms: 5,
            loss: 0.0,
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

impl Scenario {
    /// How long after the faults heal the cluster has to converge: `liveness.bound_ms`, plus,
    /// when there are consumer groups, the longest JoinGroup timeout among them
    /// ([`GroupConfig::join_group_timeout_ms`]). A JoinGroup lost on a cut link just before the
    /// heal is retried only when it times out, so Kafka itself may take that long to converge:
    /// demanding less would report Kafka's own timeouts as liveness violations.
    pub fn liveness_bound_ms(&self) -> u64 {
        let join = self
            .groups
            .iter()
            .map(GroupConfig::join_group_timeout_ms)
            .max();
        self.liveness.bound_ms.saturating_add(join.unwrap_or(0))
    }
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

/// The kinds of timed fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    #[default]
    /// Stop a node (`node`, `mode`).
    Crash,
    /// Start a crashed node again (`node`).
    Restart,
    /// Split the network (`groups`, or one-way `from` → `to`) for `duration_ms` or until `heal`.
    Partition,
    /// End every network partition.
    Heal,
    /// Freeze a node like a long GC pause (`node`, `duration_ms`): it neither runs nor answers;
    /// messages to it wait.
    Pause,
    /// Make a node slow (`node`, `extra_latency_ms`, `duration_ms`): every message to or from it is
    /// delayed.
    Slow,
    /// Lose messages on the links `from` → `to` with `probability`, for `duration_ms`.
    Drop,
    /// Delay messages on the links `from` → `to` by `extra_latency_ms`, for `duration_ms`.
    Delay,
    /// A consumer's next poll takes `duration_ms` longer to process (a slow batch, possibly
    /// beyond `max.poll.interval.ms`).
    SlowPoll,
}

/// One timed fault as written in the file. Which fields are required depends on `kind`; the loader
/// checks them and builds a [`crate::scenario::Fault`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub at_ms: u64,
    pub kind: FaultKind,
    /// A node name (`b2`, `controller`, `p1`), or `leader:TOPIC/PARTITION` for whichever broker the
    /// controller names leader of that partition when the fault fires.
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub mode: Option<CrashMode>,
    /// Partition: the sides of a symmetric split. Nodes not listed stay with the first group.
    #[serde(default)]
    pub groups: Option<Vec<Vec<String>>>,
    /// One-way partition, drop and delay: the sending and receiving nodes.
    #[serde(default)]
    pub from: Option<Vec<String>>,
    #[serde(default)]
    pub to: Option<Vec<String>>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub extra_latency_ms: Option<u64>,
}

/// The convergence demanded once the faults heal (TigerBeetle's liveness mode).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LivenessConfig {
    /// After `duration_ms`, every fault heals and crashed nodes restart; the cluster must then
    /// converge within this bound (with consumer groups, plus their longest JoinGroup timeout:
    /// [`Scenario::liveness_bound_ms`]) or the run reports a liveness violation (exit 3).
    pub bound_ms: u64,
    /// Turn the liveness phase off (the run ends at `duration_ms`).
    pub check: bool,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        LivenessConfig {
            bound_ms: 60_000,
            check: true,
        }
    }
}

/// Bounds on one run, so that every run ends.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The run stops (with a liveness violation) after this many history events.
    pub max_events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 20_000_000,
        }
    }
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
