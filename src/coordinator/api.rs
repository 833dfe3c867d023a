//! The requests a group coordinator answers and the responses it gives, with Kafka's field names
//! (`JoinGroupRequestData`, `SyncGroupResponseData`, ...), plus what one call into the core hands
//! back to its host: responses to send and record batches to append.
//!
//! Byte fields of the wire protocol (protocol metadata, assignments) are opaque strings here: the
//! coordinator never looks inside them, it only stores and forwards them.

use super::record::CoordinatorRecord;
use crate::protocol::{ErrorCode, TopicPartition};

/// The host's handle on one request, echoed with its response (a correlation id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestToken(pub u64);

/// Identifies one batch of records handed to the host for appending to `__consumer_offsets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppendId(pub u64);

/// One batch of records the host must append (and replicate) as a unit, then report with
/// [`GroupCoordinator::append_completed`](super::GroupCoordinator::append_completed). Responses that
/// depend on the batch (OffsetCommit, the SyncGroup of a completed rebalance, DeleteGroups, a static
/// member replacement) are held inside the core until then.
#[derive(Clone, Debug, PartialEq)]
pub struct Append {
    pub id: AppendId,
    pub records: Vec<CoordinatorRecord>,
}

/// What one call into the coordinator produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoordinatorOutput {
    /// Record batches to append, in order. Each must be reported back with `append_completed`.
    pub appends: Vec<Append>,
    /// Responses the host may send now (they do not wait for any append).
    pub responses: Vec<(RequestToken, GroupResponse)>,
}

impl CoordinatorOutput {
    /// Every record of every batch, in append order.
    pub fn records(&self) -> impl Iterator<Item = &CoordinatorRecord> {
        self.appends.iter().flat_map(|a| a.records.iter())
    }

    /// Appends `other` after `self`.
    pub fn extend(&mut self, other: CoordinatorOutput) {
        self.appends.extend(other.appends);
        self.responses.extend(other.responses);
    }

    pub fn is_empty(&self) -> bool {
        self.appends.is_empty() && self.responses.is_empty()
    }
}

/// A request to the group coordinator.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupRequest {
    JoinGroup(JoinGroupRequest),
    SyncGroup(SyncGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup(LeaveGroupRequest),
    OffsetCommit(OffsetCommitRequest),
    OffsetFetch(OffsetFetchRequest),
    DescribeGroups(DescribeGroupsRequest),
    DeleteGroups(DeleteGroupsRequest),
}

impl GroupRequest {
    /// Kafka's API name, for traces.
    pub fn api_name(&self) -> &'static str {
        match self {
            GroupRequest::JoinGroup(_) => "JoinGroup",
            GroupRequest::SyncGroup(_) => "SyncGroup",
            GroupRequest::Heartbeat(_) => "Heartbeat",
            GroupRequest::LeaveGroup(_) => "LeaveGroup",
            GroupRequest::OffsetCommit(_) => "OffsetCommit",
            GroupRequest::OffsetFetch(_) => "OffsetFetch",
            GroupRequest::DescribeGroups(_) => "DescribeGroups",
            GroupRequest::DeleteGroups(_) => "DeleteGroups",
        }
    }
}

/// A response from the group coordinator.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupResponse {
    JoinGroup(JoinGroupResponse),
    SyncGroup(SyncGroupResponse),
    Heartbeat(HeartbeatResponse),
    LeaveGroup(LeaveGroupResponse),
    OffsetCommit(OffsetCommitResponse),
    OffsetFetch(OffsetFetchResponse),
    DescribeGroups(DescribeGroupsResponse),
    DeleteGroups(DeleteGroupsResponse),
}

/// One protocol a member supports (`JoinGroupRequestProtocol`), most preferred first in the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupProtocol {
    pub name: String,
    pub metadata: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JoinGroupRequest {
    pub group_id: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    /// `""` (Kafka's `UNKNOWN_MEMBER_ID`) on a member's first join.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub protocol_type: String,
    pub protocols: Vec<JoinGroupProtocol>,
    pub reason: Option<String>,
    pub client_id: String,
    pub client_host: String,
    /// JoinGroup v4+: a new dynamic member first gets `MEMBER_ID_REQUIRED` (KIP-394).
    pub require_known_member_id: bool,
    /// JoinGroup v9+: a replaced static leader is told to skip the assignment (KIP-814).
    pub support_skipping_assignment: bool,
}

/// One member as the leader sees it in its JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupResponseMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JoinGroupResponse {
    pub error: ErrorCode,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub skip_assignment: bool,
    pub member_id: String,
    /// Non-empty only for the leader.
    pub members: Vec<JoinGroupResponseMember>,
}

impl JoinGroupResponse {
    /// An error response: Kafka's defaults (`generationId=-1`, `leader=""`, null protocol fields).
    pub fn error(error: ErrorCode, member_id: impl Into<String>) -> Self {
        JoinGroupResponse {
            error,
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.into(),
            members: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyncGroupRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// Checked against the group when present (SyncGroup v5+).
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// The leader's assignment, member id -> assignment; ignored from followers.
    pub assignments: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyncGroupResponse {
    pub error: ErrorCode,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: String,
}

impl SyncGroupResponse {
    pub fn error(error: ErrorCode) -> Self {
        SyncGroupResponse {
            error,
            protocol_type: None,
            protocol_name: None,
            assignment: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HeartbeatRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HeartbeatResponse {
    pub error: ErrorCode,
}

/// One leaving member (`LeaveGroupRequestData.MemberIdentity`, v3+ batch form).
#[derive(Clone, Debug, PartialEq)]
pub struct MemberIdentity {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LeaveGroupRequest {
    pub group_id: String,
    pub members: Vec<MemberIdentity>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LeaveMemberResponse {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub error: ErrorCode,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LeaveGroupResponse {
    pub error: ErrorCode,
    pub members: Vec<LeaveMemberResponse>,
}

/// One partition of an OffsetCommit.
#[derive(Clone, Debug, PartialEq)]
pub struct OffsetCommitPartition {
    pub tp: TopicPartition,
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    /// `None` is Kafka's null metadata (stored as `""`).
    pub metadata: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OffsetCommitRequest {
    pub group_id: String,
    /// The generation (classic) or member epoch; `-1` for a simple/admin commit.
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// OffsetCommit API version: from 9 an unknown group is `GROUP_ID_NOT_FOUND`, before it
    /// `ILLEGAL_GENERATION`.
    pub api_version: i16,
    pub partitions: Vec<OffsetCommitPartition>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OffsetCommitResponse {
    /// One entry per requested partition, in request order.
    pub partitions: Vec<(TopicPartition, ErrorCode)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OffsetFetchRequest {
    pub group_id: String,
    /// `None` fetches every committed offset of the group.
    pub partitions: Option<Vec<TopicPartition>>,
    pub require_stable: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OffsetFetchPartition {
    pub tp: TopicPartition,
    /// `-1` (Kafka's `INVALID_OFFSET`) when nothing is committed.
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub error: ErrorCode,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OffsetFetchResponse {
    pub error: ErrorCode,
    pub partitions: Vec<OffsetFetchPartition>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DescribeGroupsRequest {
    pub group_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DescribedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    /// The member's metadata for the selected protocol (only in `Stable`, as Kafka).
    pub metadata: String,
    /// Only in `Stable`, as Kafka.
    pub assignment: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DescribedGroup {
    pub group_id: String,
    pub error: ErrorCode,
    /// Kafka's state name: `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable`, `Dead`.
    pub state: String,
    pub protocol_type: String,
    /// The selected protocol (only in `Stable`, as Kafka).
    pub protocol_data: String,
    pub members: Vec<DescribedMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DescribeGroupsResponse {
    pub groups: Vec<DescribedGroup>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeleteGroupsRequest {
    pub group_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeleteGroupsResponse {
    pub results: Vec<(String, ErrorCode)>,
}
