//! Requests and responses between nodes, one struct per Kafka API, with Kafka's field names.
//!
//! Simplifications against the wire protocol, chosen because they do not change the semantics the
//! simulator checks: a Produce request carries one partition; metadata is pushed by the controller
//! and pulled with the broker heartbeat (KRaft's `__cluster_metadata` fetch, collapsed into one
//! exchange); there are no byte sizes, only record counts.

use super::group::*;
use super::{BrokerId, ErrorCode, LeaderEpoch, LogEntry, Payload, TopicPartition};
use serde::{Deserialize, Serialize};

/// What travels on the simulated network. A request carries a correlation id that its response
/// echoes, as Kafka's request header does.
#[derive(Clone, Debug)]
pub enum Message {
    Request {
        correlation_id: u64,
        body: Request,
    },
    Response {
        correlation_id: u64,
        body: Response,
    },
    /// Not a Kafka API: the sender's process died and its kernel closed its TCP connections (the
    /// FIN a dead process's sockets send). The receiver fails every request it has in flight to
    /// the sender, as Kafka's `NetworkClient.handleDisconnections` fails the requests of a
    /// connection it finds closed (a `ClientResponse` with `disconnected` set).
    ConnectionClosed,
}

#[derive(Clone, Debug)]
pub enum Request {
    BrokerHeartbeat(BrokerHeartbeatRequest),
    AlterPartition(AlterPartitionRequest),
    /// One-way: the controller pushes new metadata records to a broker (no response).
    MetadataPush(MetadataPush),
    Metadata(MetadataRequest),
    Produce(ProduceRequest),
    Fetch(FetchRequest),
    ListOffsets(ListOffsetsRequest),
    OffsetsForLeaderEpoch(OffsetsForLeaderEpochRequest),
    FindCoordinator(FindCoordinatorRequest),
    /// JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch.
    Group(GroupRequest),
}

#[derive(Clone, Debug)]
pub enum Response {
    BrokerHeartbeat(BrokerHeartbeatResponse),
    AlterPartition(AlterPartitionResponse),
    Metadata(MetadataResponse),
    Produce(ProduceResponse),
    Fetch(FetchResponse),
    ListOffsets(ListOffsetsResponse),
    OffsetsForLeaderEpoch(OffsetsForLeaderEpochResponse),
    FindCoordinator(FindCoordinatorResponse),
    JoinGroup(JoinGroupResponse),
    SyncGroup(SyncGroupResponse),
    Heartbeat(HeartbeatResponse),
    LeaveGroup(LeaveGroupResponse),
    OffsetCommit(OffsetCommitResponse),
    OffsetFetch(OffsetFetchResponse),
}

impl Request {
    /// Kafka's API name, for traces.
    pub fn api_name(&self) -> &'static str {
        match self {
            Request::BrokerHeartbeat(_) => "BrokerHeartbeat",
            Request::AlterPartition(_) => "AlterPartition",
            Request::MetadataPush(_) => "MetadataPush",
            Request::Metadata(_) => "Metadata",
            Request::Produce(_) => "Produce",
            Request::Fetch(_) => "Fetch",
            Request::ListOffsets(_) => "ListOffsets",
            Request::OffsetsForLeaderEpoch(_) => "OffsetsForLeaderEpoch",
            Request::FindCoordinator(_) => "FindCoordinator",
            Request::Group(g) => g.api_name(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster metadata (KRaft records, simplified)

/// One record of the controller's metadata log. Brokers apply them in offset order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataRecord {
    /// A broker (re)registered with a new incarnation (KRaft's broker epoch).
    RegisterBroker { broker: BrokerId, incarnation: u64 },
    /// The broker missed its session or shut down: it may not lead or be in an ISR.
    FenceBroker { broker: BrokerId },
    /// The broker heartbeats again and may be elected.
    UnfenceBroker { broker: BrokerId },
    /// The full state of one partition after a change (KRaft's PartitionRecord/PartitionChangeRecord).
    Partition(PartitionState),
}

/// The controller's view of a partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    pub tp: TopicPartition,
    pub replicas: Vec<BrokerId>,
    pub leader: Option<BrokerId>,
    pub leader_epoch: LeaderEpoch,
    pub isr: Vec<BrokerId>,
    /// Bumped on every change, leader or ISR (KIP-497's partition epoch / ZK's zkVersion).
    pub partition_epoch: i32,
    /// KIP-966's eligible leader replicas: replicas that left the ISR while it was below
    /// `min.insync.replicas`, so they hold everything below the high watermark (which cannot
    /// move while the ISR is that small). Elected only when the ISR is empty. Replica order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elr: Vec<BrokerId>,
    /// KIP-966's LastKnownElr: the last leader, kept while the partition has none, elected only
    /// when the ISR and ELR are both empty and it is unfenced (KAFKA-19522).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_known_elr: Vec<BrokerId>,
}

/// Hashed field by field, the KIP-966 lists only when present: a partition that never needs
/// them hashes (and so traces) exactly as before they existed.
impl std::hash::Hash for PartitionState {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.tp.hash(h);
        self.replicas.hash(h);
        self.leader.hash(h);
        self.leader_epoch.hash(h);
        self.isr.hash(h);
        self.partition_epoch.hash(h);
        if !self.elr.is_empty() || !self.last_known_elr.is_empty() {
            self.elr.hash(h);
            self.last_known_elr.hash(h);
        }
    }
}

#[derive(Clone, Debug)]
pub struct BrokerHeartbeatRequest {
    pub broker: BrokerId,
    pub incarnation: u64,
    /// The next metadata offset the broker needs.
    pub metadata_offset: u64,
    /// Set by a broker in clean shutdown (KRaft's `wantShutDown`): move leadership away now.
    pub want_shutdown: bool,
    /// The incarnation this broker had when it last shut down cleanly (KIP-966's
    /// `PreviousBrokerEpoch`, from its clean-shutdown file); `None` after a crash.
    pub previous_incarnation: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct BrokerHeartbeatResponse {
    pub error: ErrorCode,
    /// Metadata records from the requested offset on (bounded batch).
    pub records: Vec<(u64, MetadataRecord)>,
}

#[derive(Clone, Debug)]
pub struct MetadataPush {
    pub records: Vec<(u64, MetadataRecord)>,
}

/// AlterPartition: the leader asks the controller to commit a new ISR for one partition.
#[derive(Clone, Debug)]
pub struct AlterPartitionRequest {
    pub broker: BrokerId,
    /// The leader's own broker epoch (Kafka's `BrokerEpoch`).
    pub incarnation: u64,
    pub tp: TopicPartition,
    pub leader_epoch: LeaderEpoch,
    pub partition_epoch: i32,
    /// KIP-903's `NewIsrWithEpochs`: each member with the broker epoch the leader last saw in
    /// its fetches.
    pub new_isr_with_epochs: Vec<BrokerState>,
}

impl AlterPartitionRequest {
    /// The broker ids of the proposed ISR, in order.
    pub fn new_isr(&self) -> Vec<BrokerId> {
        self.new_isr_with_epochs
            .iter()
            .map(|b| b.broker_id)
            .collect()
    }
}

/// One member of a proposed ISR (Kafka's `AlterPartitionRequestData.BrokerState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerState {
    pub broker_id: BrokerId,
    /// The member's broker epoch as the leader knows it from its fetches; `None` is Kafka's `-1`
    /// (not known, or a pre-KIP-903 request): the controller then checks liveness only.
    pub broker_epoch: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct AlterPartitionResponse {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    /// The partition's state after the request (present when `error` is `NONE`).
    pub state: Option<PartitionState>,
}

// ---------------------------------------------------------------------------------------------
// Client APIs

#[derive(Clone, Debug)]
pub struct MetadataRequest {
    pub topics: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PartitionMetadata {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    pub leader: Option<BrokerId>,
    pub leader_epoch: LeaderEpoch,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
}

#[derive(Clone, Debug)]
pub struct MetadataResponse {
    /// Brokers the answering broker believes are alive (unfenced).
    pub brokers: Vec<BrokerId>,
    pub partitions: Vec<PartitionMetadata>,
}

/// `acks`: 0 (no response), 1 (leader append), all / -1 (full ISR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Acks {
    None,
    Leader,
    All,
}

#[derive(Clone, Debug)]
pub struct ProduceRequest {
    pub tp: TopicPartition,
    pub acks: Acks,
    pub timeout_ms: u64,
    pub entries: Vec<Payload>,
}

#[derive(Clone, Debug)]
pub struct ProduceResponse {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    /// Offset of the first entry, when appended.
    pub base_offset: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct FetchPartition {
    pub tp: TopicPartition,
    pub fetch_offset: u64,
    /// The fetcher's idea of the leader epoch (KIP-320); `-1` skips the check.
    pub current_leader_epoch: LeaderEpoch,
    /// Epoch of the last entry the follower holds (KIP-595 divergence check); `-1` when unknown.
    pub last_fetched_epoch: LeaderEpoch,
}

/// Who sends a follower fetch (Kafka's `FetchRequest.ReplicaState`, KIP-903).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaState {
    pub replica_id: BrokerId,
    /// The follower's broker epoch: the incarnation it registered with the controller.
    pub replica_epoch: u64,
}

#[derive(Clone, Debug)]
pub struct FetchRequest {
    /// `Some` for a follower's fetch, `None` for a consumer's.
    pub replica_state: Option<ReplicaState>,
    pub max_wait_ms: u64,
    pub max_records: u32,
    pub partitions: Vec<FetchPartition>,
}

#[derive(Clone, Debug)]
pub struct FetchPartitionResponse {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    pub high_watermark: u64,
    pub log_start_offset: u64,
    /// The leader epoch of the leader that answered.
    pub leader_epoch: LeaderEpoch,
    /// Offset of the first entry in `entries`.
    pub base_offset: u64,
    pub entries: Vec<LogEntry>,
}

#[derive(Clone, Debug)]
pub struct FetchResponse {
    pub partitions: Vec<FetchPartitionResponse>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
}

#[derive(Clone, Debug)]
pub struct ListOffsetsRequest {
    pub tp: TopicPartition,
    pub spec: OffsetSpec,
    pub current_leader_epoch: LeaderEpoch,
}

#[derive(Clone, Debug)]
pub struct ListOffsetsResponse {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    pub offset: u64,
    pub leader_epoch: LeaderEpoch,
}

#[derive(Clone, Debug)]
pub struct OffsetsForLeaderEpochRequest {
    pub replica_id: BrokerId,
    pub tp: TopicPartition,
    pub current_leader_epoch: LeaderEpoch,
    /// The epoch whose end offset the follower asks for (its latest epoch).
    pub leader_epoch: LeaderEpoch,
}

#[derive(Clone, Debug)]
pub struct OffsetsForLeaderEpochResponse {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    /// The largest epoch ≤ the requested one that the leader knows (`-1` in the pre-KIP-279 answer).
    pub leader_epoch: LeaderEpoch,
    /// The end offset of that epoch (`-1` when unknown).
    pub end_offset: i64,
}
