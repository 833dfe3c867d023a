//! The group APIs between consumers and the group coordinator (classic protocol), with Kafka's
//! field names: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
//! OffsetFetch. Protocol metadata and assignments are opaque strings to the coordinator, as the
//! bytes are in Kafka; the consumer encodes its subscription and assignments as JSON.

use super::message::Response;
use super::{ErrorCode, TopicPartition};
use serde::{Deserialize, Serialize};

/// `-1`: no generation (simple commits, a member that has not joined).
pub const NO_GENERATION: i32 = -1;

#[derive(Clone, Debug)]
pub struct FindCoordinatorRequest {
    pub group_id: String,
}

#[derive(Clone, Debug)]
pub struct FindCoordinatorResponse {
    pub error: ErrorCode,
    pub coordinator: Option<super::BrokerId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupRequest {
    pub group_id: String,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    pub protocol_type: String,
    /// (assignor name, subscription metadata), most preferred first.
    pub protocols: Vec<(String, String)>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupResponse {
    pub error: ErrorCode,
    pub generation_id: i32,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// Filled for the leader only.
    pub members: Vec<JoinGroupMember>,
    pub skip_assignment: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// The leader's assignment per member id (empty from followers).
    pub assignments: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupResponse {
    pub error: ErrorCode,
    pub assignment: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatResponse {
    pub error: ErrorCode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupRequest {
    pub group_id: String,
    /// (member id, group instance id)
    pub members: Vec<(String, Option<String>)>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupResponse {
    pub error: ErrorCode,
    pub members: Vec<(String, ErrorCode)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// (partition, offset, leader epoch, metadata)
    pub offsets: Vec<(TopicPartition, u64, Option<i32>, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitResponse {
    pub partitions: Vec<(TopicPartition, ErrorCode)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchRequest {
    pub group_id: String,
    /// `None`: every committed offset of the group.
    pub partitions: Option<Vec<TopicPartition>>,
}

/// A committed offset as fetched: `None` when nothing is committed (Kafka's -1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedOffset {
    pub tp: TopicPartition,
    pub offset: Option<u64>,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub error: ErrorCode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchResponse {
    pub error: ErrorCode,
    pub partitions: Vec<FetchedOffset>,
}

/// The consumer protocol's subscription (`ConsumerProtocolSubscription`), carried as JSON in the
/// JoinGroup metadata: topics, owned partitions and the generation they were owned in (the
/// cooperative-sticky assignor's userData).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub topics: Vec<String>,
    pub owned: Vec<TopicPartition>,
    pub generation: i32,
}

/// The consumer protocol's assignment, carried as JSON in SyncGroup.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub partitions: Vec<TopicPartition>,
}

/// A group API request of the classic protocol, as a consumer sends it and a coordinator takes
/// it (one variant of [`Request`](super::message::Request), so that the broker hands it on whole).
#[derive(Clone, Debug)]
pub enum GroupRequest {
    JoinGroup(JoinGroupRequest),
    SyncGroup(SyncGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup(LeaveGroupRequest),
    OffsetCommit(OffsetCommitRequest),
    OffsetFetch(OffsetFetchRequest),
}

impl GroupRequest {
    pub fn group_id(&self) -> &str {
        match self {
            GroupRequest::JoinGroup(r) => &r.group_id,
            GroupRequest::SyncGroup(r) => &r.group_id,
            GroupRequest::Heartbeat(r) => &r.group_id,
            GroupRequest::LeaveGroup(r) => &r.group_id,
            GroupRequest::OffsetCommit(r) => &r.group_id,
            GroupRequest::OffsetFetch(r) => &r.group_id,
        }
    }

    /// The response Kafka gives this request with `error` and nothing else.
    pub fn error_response(&self, error: ErrorCode) -> Response {
        match self {
            GroupRequest::JoinGroup(r) => Response::JoinGroup(JoinGroupResponse {
                error,
                generation_id: NO_GENERATION,
                protocol_name: None,
                leader: String::new(),
                member_id: r.member_id.clone(),
                members: Vec::new(),
                skip_assignment: false,
            }),
            GroupRequest::SyncGroup(_) => Response::SyncGroup(SyncGroupResponse {
                error,
                assignment: String::new(),
            }),
            GroupRequest::Heartbeat(_) => Response::Heartbeat(HeartbeatResponse { error }),
            GroupRequest::LeaveGroup(_) => Response::LeaveGroup(LeaveGroupResponse {
                error,
                members: Vec::new(),
            }),
            GroupRequest::OffsetCommit(r) => Response::OffsetCommit(OffsetCommitResponse {
                partitions: r.offsets.iter().map(|o| (o.0.clone(), error)).collect(),
            }),
            GroupRequest::OffsetFetch(_) => Response::OffsetFetch(OffsetFetchResponse {
                error,
                partitions: Vec::new(),
            }),
        }
    }

    /// Kafka's API name, for traces.
    pub fn api_name(&self) -> &'static str {
        match self {
            GroupRequest::JoinGroup(_) => "JoinGroup",
            GroupRequest::SyncGroup(_) => "SyncGroup",
            GroupRequest::Heartbeat(_) => "Heartbeat",
            GroupRequest::LeaveGroup(_) => "LeaveGroup",
            GroupRequest::OffsetCommit(_) => "OffsetCommit",
            GroupRequest::OffsetFetch(_) => "OffsetFetch",
        }
    }

    /// Kafka's answer while the coordinator loads (`validateGroupStatus`).
    pub fn loading_response(&self) -> Response {
        match self {
            GroupRequest::SyncGroup(_) => self.error_response(ErrorCode::RebalanceInProgress),
            GroupRequest::Heartbeat(_) => self.error_response(ErrorCode::None),
            _ => self.error_response(ErrorCode::CoordinatorLoadInProgress),
        }
    }
}
