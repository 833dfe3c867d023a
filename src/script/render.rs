//! Responses and group state as the JSON objects scripts compare against: the field names of the
//! contract (`error`, `member_id`, `generation_id`, `leader`, `members`, ...), errors by Kafka name.

use crate::coordinator::api::*;
use crate::coordinator::GroupCoordinator;
use serde_json::{json, Value};

/// The JSON form of a response.
pub fn response(r: &GroupResponse) -> Value {
    match r {
        GroupResponse::JoinGroup(r) => json!({
            "error": r.error.name(),
            "member_id": r.member_id,
            "generation_id": r.generation_id,
            "leader": r.leader,
            "protocol_type": r.protocol_type,
            "protocol_name": r.protocol_name,
            "skip_assignment": r.skip_assignment,
            "members": r.members.iter().map(|m| m.member_id.clone()).collect::<Vec<_>>(),
        }),
        GroupResponse::SyncGroup(r) => json!({
            "error": r.error.name(),
            "protocol_type": r.protocol_type,
            "protocol_name": r.protocol_name,
            "assignment": r.assignment,
        }),
        GroupResponse::Heartbeat(r) => json!({"error": r.error.name()}),
        GroupResponse::LeaveGroup(r) => json!({
            "error": r.error.name(),
            "members": r.members.iter().map(|m| json!({
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "error": m.error.name(),
            })).collect::<Vec<_>>(),
        }),
        GroupResponse::OffsetCommit(r) => {
            let first_error = r
                .partitions
                .iter()
                .map(|(_, e)| *e)
                .find(|e| !e.is_ok())
                .unwrap_or(crate::protocol::ErrorCode::None);
            json!({
                "error": first_error.name(),
                "partitions": r.partitions.iter()
                    .map(|(tp, e)| json!([tp.topic, tp.partition, e.name()]))
                    .collect::<Vec<_>>(),
            })
        }
        GroupResponse::OffsetFetch(r) => json!({
            "error": r.error.name(),
            "offsets": r.partitions.iter().map(|p| json!([
                p.tp.topic, p.tp.partition, p.offset, p.leader_epoch, p.metadata, p.error.name()
            ])).collect::<Vec<_>>(),
        }),
        GroupResponse::DescribeGroups(r) => describe(r),
        GroupResponse::DeleteGroups(r) => {
            let first = r.results.first().map(|(_, e)| e.name()).unwrap_or("NONE");
            json!({
                "error": first,
                "groups": r.results.iter().map(|(g, e)| json!([g, e.name()])).collect::<Vec<_>>(),
            })
        }
    }
}

/// DescribeGroups: the first group's fields at top level, every group under `groups`.
fn describe(r: &DescribeGroupsResponse) -> Value {
    let one = |g: &DescribedGroup| {
        json!({
            "group_id": g.group_id,
            "error": g.error.name(),
            "state": g.state,
            "protocol_type": g.protocol_type,
            "protocol": g.protocol_data,
            "members": g.members.iter().map(|m| m.member_id.clone()).collect::<Vec<_>>(),
            "assignments": g.members.iter()
                .map(|m| (m.member_id.clone(), Value::String(m.assignment.clone())))
                .collect::<serde_json::Map<_, _>>(),
        })
    };
    let mut top = r.groups.first().map(one).unwrap_or_else(|| json!({}));
    top["groups"] = Value::Array(r.groups.iter().map(one).collect());
    top
}

/// The `group` check's view of a group.
pub fn group(coordinator: &GroupCoordinator, group_id: &str) -> Value {
    match coordinator.group(group_id) {
        None => json!({
            "exists": false,
            "state": "Dead",
            "generation_id": null,
            "members": [],
            "leader": null,
            "pending_members": [],
            "protocol_type": null,
            "protocol_name": null,
        }),
        Some(g) => json!({
            "exists": true,
            "state": g.state.name(),
            "generation_id": g.generation_id,
            "members": g.member_ids(),
            "leader": g.leader_id,
            "pending_members": g.pending_join_members.iter().cloned().collect::<Vec<_>>(),
            "protocol_type": g.protocol_type,
            "protocol_name": g.protocol_name,
        }),
    }
}
