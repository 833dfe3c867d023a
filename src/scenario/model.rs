//! The scenario file format: a cluster, a workload and timed faults, as typed data.
//!
//! Every field has Kafka's name (units last) and Kafka's default where Kafka has one; the defaults
//! that differ from Kafka's are shorter timeouts, chosen so that a few simulated minutes show
//! several failovers. `deny_unknown_fields` everywhere: a misspelt field is an error, not a silent
//! default.

use serde::{Deserialize, Serialize};

pub use crate::config::{
    AcksConfig, AssignorName, ClusterConfig, CommitMode, CrashMode, GroupConfig, OffsetReset,
    ProducerConfig, ProtocolSwitches, ReaderConfig, TopicConfig,
};

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
