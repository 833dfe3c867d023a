//! DescribeGroups and DeleteGroups (`GroupMetadataManager.describeGroups`, `validateDeleteGroup`,
//! `OffsetMetadataManager.deleteAllOffsets`).
//!
//! Rules (reference section 3.7): only an Empty group may be deleted (`NON_EMPTY_GROUP` otherwise,
//! `GROUP_ID_NOT_FOUND` if unknown); deletion writes a tombstone per committed offset and one for
//! the group. DescribeGroups of an unknown group answers state `Dead`; member metadata, assignments
//! and the protocol are given only in Stable.

use super::api::*;
use super::group::ClassicGroupState::*;
use super::record::CoordinatorRecord;
use super::{AppendCallback, GroupCoordinator};
use crate::protocol::ErrorCode;

impl GroupCoordinator {
    pub(super) fn handle_describe_groups(
        &mut self,
        token: RequestToken,
        req: DescribeGroupsRequest,
    ) {
        let groups = req.group_ids.iter().map(|id| self.describe(id)).collect();
        let r = DescribeGroupsResponse { groups };
        self.respond(token, GroupResponse::DescribeGroups(r));
    }

    fn describe(&self, group_id: &str) -> DescribedGroup {
        let mut d = DescribedGroup {
            group_id: group_id.to_string(),
            error: ErrorCode::None,
            state: Dead.name().to_string(),
            protocol_type: String::new(),
            protocol_data: String::new(),
            members: Vec::new(),
        };
        if let Err(e) = self.check_coordinator(group_id) {
            d.error = e;
            d.state = String::new();
            return d;
        }
        let Some(g) = self.groups.get(group_id) else {
            return d;
        };
        let stable = g.is(Stable);
        let protocol = g.protocol_name.clone().unwrap_or_default();
        d.state = g.state.name().to_string();
        d.protocol_type = g.protocol_type.clone().unwrap_or_default();
        d.protocol_data = if stable {
            protocol.clone()
        } else {
            String::new()
        };
        d.members = g
            .members()
            .iter()
            .map(|m| DescribedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata(&protocol)
                } else {
                    String::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    String::new()
                },
            })
            .collect();
        d
    }

    pub(super) fn handle_delete_groups(&mut self, token: RequestToken, req: DeleteGroupsRequest) {
        let mut results = Vec::new();
        let mut records = Vec::new();
        for id in &req.group_ids {
            let error = match self.check_coordinator(id) {
                Err(e) => e,
                Ok(()) => match self.groups.get(id) {
                    None => ErrorCode::GroupIdNotFound,
                    Some(g) if g.is(Dead) => ErrorCode::GroupIdNotFound,
                    Some(g) if !g.is(Empty) => ErrorCode::NonEmptyGroup,
                    Some(_) => {
                        records.extend(self.group_tombstones(id));
                        ErrorCode::None
                    }
                },
            };
            results.push((id.clone(), error));
        }
        let response = DeleteGroupsResponse { results };
        if records.is_empty() {
            return self.respond(token, GroupResponse::DeleteGroups(response));
        }
        // Deletion takes effect as the tombstones are written (Kafka replays them at once).
        for r in &records {
            self.replay(r);
        }
        self.append(records, AppendCallback::DeleteGroups { token, response });
    }

    /// A tombstone for every committed offset of the group, then one for the group.
    fn group_tombstones(&self, group_id: &str) -> Vec<CoordinatorRecord> {
        let mut records: Vec<CoordinatorRecord> = self
            .offsets
            .of_group(group_id)
            .map(|(tp, _)| CoordinatorRecord::OffsetCommitTombstone {
                group: group_id.to_string(),
                topic: tp.topic.to_string(),
                partition: tp.partition,
            })
            .collect();
        records.push(CoordinatorRecord::GroupMetadataTombstone {
            group: group_id.to_string(),
        });
        records
    }
}
