//! SyncGroup, Heartbeat and LeaveGroup, and the sync phase of a rebalance
//! (`GroupMetadataManager.classicGroupSync*`, `classicGroupHeartbeat*`, `classicGroupLeave*`,
//! `expirePendingSync`, `propagateAssignment`).
//!
//! Rules (reference sections 3.2-3.4): member validation comes before the generation check, which
//! comes before the state; SyncGroup parks in CompletingRebalance until the leader's assignment is
//! stored, then every parked sync gets its own assignment and the group is Stable; a follower that
//! syncs later gets it at once. Members that have not synced by the rebalance timeout are removed
//! and the group rebalances. Heartbeat: Empty `UNKNOWN_MEMBER_ID`, PreparingRebalance
//! `REBALANCE_IN_PROGRESS`, otherwise `NONE`, resetting the session deadline except when Empty.
//! LeaveGroup (v3+ batch): by member id, or by instance id alone (admin removal); an unknown group
//! fails as a whole with `UNKNOWN_MEMBER_ID` (new coordinator).

use super::api::*;
use super::group::ClassicGroupState::*;
use super::join::sync_key;
use super::record::CoordinatorRecord;
use super::{heartbeat_key, AppendCallback, GroupCoordinator};
use crate::protocol::ErrorCode;
use std::collections::BTreeMap;

impl GroupCoordinator {
    pub(super) fn handle_sync_group(&mut self, token: RequestToken, req: SyncGroupRequest) {
        let error = if req.group_id.is_empty() {
            Some(ErrorCode::InvalidGroupId)
        } else {
            match self.check_coordinator(&req.group_id) {
                // The group is still loading: let the member rejoin.
                Err(ErrorCode::CoordinatorLoadInProgress) => Some(ErrorCode::RebalanceInProgress),
                Err(e) => Some(e),
                Ok(()) => self.validate_sync(&req).err(),
            }
        };
        if let Some(e) = error {
            return self.respond(token, GroupResponse::SyncGroup(SyncGroupResponse::error(e)));
        }
        let group_id = req.group_id.clone();
        match self.groups[&group_id].state {
            PreparingRebalance => {
                let r = SyncGroupResponse::error(ErrorCode::RebalanceInProgress);
                self.respond(token, GroupResponse::SyncGroup(r));
            }
            CompletingRebalance => self.park_sync(token, req),
            Stable => {
                self.remove_pending_sync_member(&group_id, &req.member_id);
                let g = &self.groups[&group_id];
                let r = SyncGroupResponse {
                    error: ErrorCode::None,
                    protocol_type: g.protocol_type.clone(),
                    protocol_name: g.protocol_name.clone(),
                    assignment: g.member(&req.member_id).expect("member").assignment.clone(),
                };
                self.respond(token, GroupResponse::SyncGroup(r));
            }
            Empty | Dead => unreachable!("validated SyncGroup to a group without members"),
        }
    }

    /// `validateSyncGroup`, after the group lookup (unknown or Empty group: `UNKNOWN_MEMBER_ID`).
    fn validate_sync(&self, req: &SyncGroupRequest) -> Result<(), ErrorCode> {
        let g = match self.groups.get(&req.group_id) {
            Some(g) if g.num_members() > 0 => g,
            _ => return Err(ErrorCode::UnknownMemberId),
        };
        if g.is(Dead) {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        g.validate_member(&req.member_id, req.group_instance_id.as_deref())?;
        if req.generation_id != g.generation_id {
            return Err(ErrorCode::IllegalGeneration);
        }
        let inconsistent =
            |given: &Option<String>, ours: &Option<String>| given.is_some() && given != ours;
        if inconsistent(&req.protocol_type, &g.protocol_type)
            || inconsistent(&req.protocol_name, &g.protocol_name)
        {
            return Err(ErrorCode::InconsistentGroupProtocol);
        }
        Ok(())
    }

    /// CompletingRebalance: park the sync; the leader's sync stores the assignment.
    fn park_sync(&mut self, token: RequestToken, req: SyncGroupRequest) {
        let group_id = req.group_id.clone();
        let g = self.group_mut(&group_id);
        g.member_mut(&req.member_id).expect("member").awaiting_sync = Some(token);
        self.remove_pending_sync_member(&group_id, &req.member_id);
        let g = &self.groups[&group_id];
        if !g.is_leader(&req.member_id) {
            return;
        }
        // Members missing from the leader's assignment get an empty one.
        let given: BTreeMap<String, String> = req.assignments.into_iter().collect();
        let assignment: BTreeMap<String, String> = g
            .member_ids()
            .into_iter()
            .map(|m| {
                let a = given.get(&m).cloned().unwrap_or_default();
                (m, a)
            })
            .collect();
        let value = g.to_record(&assignment);
        self.append(
            vec![CoordinatorRecord::GroupMetadata(value)],
            AppendCallback::LeaderSync {
                group: group_id,
                generation_id: req.generation_id,
                assignment,
            },
        );
    }

    /// The leader's assignment was stored (or not). Ignored if the group moved on meanwhile.
    pub(super) fn on_leader_sync_stored(
        &mut self,
        group_id: &str,
        generation_id: i32,
        result: Result<BTreeMap<String, String>, ErrorCode>,
    ) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if !g.is(CompletingRebalance) || g.generation_id != generation_id {
            return;
        }
        match result {
            Ok(assignment) => {
                for id in g.member_ids() {
                    let a = assignment.get(&id).cloned().unwrap_or_default();
                    g.member_mut(&id).expect("member").assignment = a;
                }
                self.propagate_assignment(group_id, ErrorCode::None);
                let now = self.now;
                self.group_mut(group_id).transition_to(Stable, now);
            }
            Err(e) => {
                self.reset_and_propagate_assignment_with_error(group_id, e);
                self.maybe_prepare_rebalance_or_complete_join(group_id);
            }
        }
    }

    /// Clears every assignment and answers parked syncs with `error`.
    pub(super) fn reset_and_propagate_assignment_with_error(
        &mut self,
        group_id: &str,
        error: ErrorCode,
    ) {
        let g = self.group_mut(group_id);
        assert!(
            g.is(CompletingRebalance),
            "assignment reset outside CompletingRebalance"
        );
        for id in g.member_ids() {
            g.member_mut(&id).expect("member").assignment.clear();
        }
        self.propagate_assignment(group_id, error);
    }

    /// Answers every parked SyncGroup with the member's assignment (or `error`) and resets the
    /// session deadline of each member answered.
    fn propagate_assignment(&mut self, group_id: &str, error: ErrorCode) {
        for id in self.groups[group_id].member_ids() {
            let g = self.group_mut(group_id);
            let (protocol_type, protocol_name) = if error.is_ok() {
                (g.protocol_type.clone(), g.protocol_name.clone())
            } else {
                (None, None)
            };
            let m = g.member_mut(&id).expect("member");
            let Some(token) = m.awaiting_sync.take() else {
                continue;
            };
            let r = SyncGroupResponse {
                error,
                protocol_type,
                protocol_name,
                assignment: m.assignment.clone(),
            };
            self.respond(token, GroupResponse::SyncGroup(r));
            self.reschedule_heartbeat(group_id, &id, None);
        }
    }

    fn remove_pending_sync_member(&mut self, group_id: &str, member_id: &str) {
        let g = self.group_mut(group_id);
        g.pending_sync_members.remove(member_id);
        let cancel = match g.state {
            Dead | Empty | PreparingRebalance => true,
            CompletingRebalance | Stable => g.has_received_sync_from_all(),
        };
        if cancel {
            self.timer.cancel(&sync_key(group_id));
        }
    }

    /// `DelayedSync` expired: members that have not synced are removed and the group rebalances.
    pub(super) fn expire_sync(&mut self, group_id: &str, generation_id: i32) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if g.generation_id != generation_id
            || !(g.is(CompletingRebalance) || g.is(Stable))
            || g.has_received_sync_from_all()
        {
            return;
        }
        let missing: Vec<String> = g.pending_sync_members.iter().cloned().collect();
        for m in &missing {
            g.remove(m);
            self.timer.cancel(&heartbeat_key(group_id, m));
        }
        self.prepare_rebalance(group_id);
    }

    pub(super) fn handle_heartbeat(&mut self, token: RequestToken, req: HeartbeatRequest) {
        let error = match self.heartbeat(&req) {
            Ok(e) => e,
            // The group is still loading: blindly accept.
            Err(ErrorCode::CoordinatorLoadInProgress) => ErrorCode::None,
            Err(e) => e,
        };
        self.respond(token, GroupResponse::Heartbeat(HeartbeatResponse { error }));
    }

    fn heartbeat(&mut self, req: &HeartbeatRequest) -> Result<ErrorCode, ErrorCode> {
        if req.group_id.is_empty() {
            return Err(ErrorCode::InvalidGroupId);
        }
        self.check_coordinator(&req.group_id)?;
        let g = self
            .groups
            .get(&req.group_id)
            .ok_or(ErrorCode::UnknownMemberId)?;
        if g.is(Dead) {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        g.validate_member(&req.member_id, req.group_instance_id.as_deref())?;
        if req.generation_id != g.generation_id {
            return Err(ErrorCode::IllegalGeneration);
        }
        let error = match g.state {
            Empty => return Ok(ErrorCode::UnknownMemberId),
            PreparingRebalance => ErrorCode::RebalanceInProgress,
            _ => ErrorCode::None,
        };
        self.reschedule_heartbeat(&req.group_id, &req.member_id, None);
        Ok(error)
    }

    pub(super) fn handle_leave_group(&mut self, token: RequestToken, req: LeaveGroupRequest) {
        let error = if req.group_id.is_empty() {
            Some(ErrorCode::InvalidGroupId)
        } else {
            match self.check_coordinator(&req.group_id) {
                Err(e) => Some(e),
                Ok(()) => match self.groups.get(&req.group_id) {
                    None => Some(ErrorCode::UnknownMemberId),
                    Some(g) if g.is(Dead) => Some(ErrorCode::CoordinatorNotAvailable),
                    Some(_) => None,
                },
            }
        };
        if let Some(error) = error {
            let r = LeaveGroupResponse {
                error,
                members: Vec::new(),
            };
            return self.respond(token, GroupResponse::LeaveGroup(r));
        }
        let members: Vec<LeaveMemberResponse> = req
            .members
            .iter()
            .map(|m| LeaveMemberResponse {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                error: self.leave_one(&req.group_id, m),
            })
            .collect();
        if members.iter().any(|m| m.error.is_ok()) {
            match self.groups[&req.group_id].state {
                Stable | CompletingRebalance => {
                    self.maybe_prepare_rebalance_or_complete_join(&req.group_id)
                }
                PreparingRebalance => self.maybe_complete_join_phase(&req.group_id),
                Empty | Dead => {}
            }
        }
        let r = LeaveGroupResponse {
            error: ErrorCode::None,
            members,
        };
        self.respond(token, GroupResponse::LeaveGroup(r));
    }

    /// Removes one leaving member; returns its per-member error.
    fn leave_one(&mut self, group_id: &str, who: &MemberIdentity) -> ErrorCode {
        let g = &self.groups[group_id];
        let target = if who.member_id.is_empty() {
            // Admin removal by instance id.
            match who
                .group_instance_id
                .as_deref()
                .and_then(|i| g.static_member_id(i))
            {
                Some(id) => id.to_string(),
                None => return ErrorCode::UnknownMemberId,
            }
        } else if g.is_pending_member(&who.member_id) {
            self.group_mut(group_id).remove(&who.member_id);
            self.timer.cancel(&heartbeat_key(group_id, &who.member_id));
            return ErrorCode::None;
        } else {
            if let Err(e) = g.validate_member(&who.member_id, who.group_instance_id.as_deref()) {
                return e;
            }
            who.member_id.clone()
        };
        self.timer.cancel(&heartbeat_key(group_id, &target));
        if let Some(removed) = self.group_mut(group_id).remove(&target) {
            if let Some(t) = removed.awaiting_join {
                let r = JoinGroupResponse::error(ErrorCode::UnknownMemberId, "");
                self.respond(t, GroupResponse::JoinGroup(r));
            }
        }
        ErrorCode::None
    }
}
