//! JoinGroup and the join phase of a rebalance (`GroupMetadataManager.classicGroupJoin*`,
//! `prepareRebalance`, `completeClassicGroupJoin`, the initial rebalance delay, session expiry).
//!
//! Rules (reference sections 2, 3.1, 4, 5): session timeout bounds; unknown group with a member id
//! is `UNKNOWN_MEMBER_ID`; `group.max.size` via `acceptJoiningMember`; `MEMBER_ID_REQUIRED` for new
//! dynamic members from JoinGroup v4 (the member is *pending* until it rejoins or its session
//! expires); the first member leads; a rejoining leader in Stable always rebalances; a follower with
//! unchanged metadata in Stable/CompletingRebalance is answered at once; static members are replaced
//! (old id fenced), without a rebalance in Stable when the selected protocol would not change. The
//! join phase ends when all members rejoined (not during the initial delay) or at the rebalance
//! timeout; dynamic members that did not rejoin are removed, static ones kept. The initial delay
//! `InitialDelayedJoin(D, max(RT - D, 0))` is extended by `min(D, remaining)` while new members keep
//! arriving.

use super::api::*;
use super::group::{ClassicGroup, ClassicGroupMember, ClassicGroupState::*};
use super::record::CoordinatorRecord;
use super::timer::{TimerKey, TimerTask};
use super::{heartbeat_key, AppendCallback, GroupCoordinator};
use crate::protocol::ErrorCode;

/// What a static member replacement in Stable needs once its record is (or is not) written.
#[derive(Clone, Debug)]
pub(super) struct StaticReplacement {
    group: String,
    token: RequestToken,
    instance_id: String,
    old_member_id: String,
    new_member_id: String,
    old_protocols: Vec<JoinGroupProtocol>,
    old_rebalance_timeout_ms: i32,
    old_session_timeout_ms: i32,
    leader_before: Option<String>,
    support_skipping_assignment: bool,
}

impl GroupCoordinator {
    pub(super) fn handle_join_group(&mut self, token: RequestToken, req: JoinGroupRequest) {
        let error = if req.group_id.is_empty() {
            Some(ErrorCode::InvalidGroupId)
        } else if req.session_timeout_ms < self.config.group_min_session_timeout_ms
            || req.session_timeout_ms > self.config.group_max_session_timeout_ms
        {
            Some(ErrorCode::InvalidSessionTimeout)
        } else {
            self.check_coordinator(&req.group_id).err()
        };
        if let Some(e) = error {
            let r = JoinGroupResponse::error(e, &req.member_id);
            return self.respond(token, GroupResponse::JoinGroup(r));
        }
        let group_id = req.group_id.clone();
        let is_new_group = !self.groups.contains_key(&group_id);
        if is_new_group {
            if !req.member_id.is_empty() {
                let r = JoinGroupResponse::error(ErrorCode::UnknownMemberId, &req.member_id);
                return self.respond(token, GroupResponse::JoinGroup(r));
            }
            let group = ClassicGroup::new(&group_id, self.now);
            self.groups.insert(group_id.clone(), group);
        }
        let appends_before = self.out.appends.len();
        if !self.accept_joining_member(&group_id, &req.member_id) {
            self.group_mut(&group_id).remove(&req.member_id);
            let r = JoinGroupResponse::error(ErrorCode::GroupMaxSizeReached, "");
            self.respond(token, GroupResponse::JoinGroup(r));
        } else if req.member_id.is_empty() {
            self.join_new_member(token, req);
        } else {
            self.join_existing_member(token, req);
        }
        if is_new_group && self.out.appends.len() == appends_before {
            // A new group is written at once, even before it has members.
            let value = self.groups[&group_id].to_record(&Default::default());
            let value = super::GroupMetadataValue {
                members: Vec::new(),
                ..value
            };
            self.append(
                vec![CoordinatorRecord::GroupMetadata(value)],
                AppendCallback::NewGroup {
                    group: group_id,
                    token,
                },
            );
        }
    }

    /// `acceptJoiningMember`: whether `group.max.size` lets this member (re)join.
    fn accept_joining_member(&self, group_id: &str, member_id: &str) -> bool {
        let g = &self.groups[group_id];
        let max = self.config.group_max_size;
        match g.state {
            Empty | Dead => true,
            PreparingRebalance => {
                g.member(member_id)
                    .is_some_and(|m| m.awaiting_join.is_some())
                    || g.num_awaiting_join() < max
            }
            CompletingRebalance | Stable => g.has_member(member_id) || g.num_members() < max,
        }
    }

    fn join_new_member(&mut self, token: RequestToken, req: JoinGroupRequest) {
        let g = &self.groups[&req.group_id];
        let error = if g.is(Dead) {
            Some(ErrorCode::CoordinatorNotAvailable)
        } else if !g.supports_protocols(&req.protocol_type, &req.protocols) {
            Some(ErrorCode::InconsistentGroupProtocol)
        } else {
            None
        };
        if let Some(e) = error {
            let r = JoinGroupResponse::error(e, "");
            return self.respond(token, GroupResponse::JoinGroup(r));
        }
        let base = req
            .group_instance_id
            .as_ref()
            .unwrap_or(&req.client_id)
            .clone();
        let new_member_id = self.generate_member_id(&base);
        if let Some(instance) = req.group_instance_id.clone() {
            let existing = g_static(&self.groups[&req.group_id], &instance);
            match existing {
                Some(old) => {
                    self.replace_static_member(token, req, &instance, &old, &new_member_id)
                }
                None => self.add_member_then_rebalance(token, req, new_member_id),
            }
        } else if req.require_known_member_id {
            // KIP-394: hand out the id; the member is pending until it rejoins with it.
            let group_id = req.group_id.clone();
            self.group_mut(&group_id)
                .pending_join_members
                .insert(new_member_id.clone());
            self.timer.schedule(
                heartbeat_key(&group_id, &new_member_id),
                self.now + req.session_timeout_ms.max(0) as u64,
                TimerTask::ExpireHeartbeat {
                    group: group_id,
                    member: new_member_id.clone(),
                },
            );
            let r = JoinGroupResponse::error(ErrorCode::MemberIdRequired, new_member_id);
            self.respond(token, GroupResponse::JoinGroup(r));
        } else {
            self.add_member_then_rebalance(token, req, new_member_id);
        }
    }

    fn join_existing_member(&mut self, token: RequestToken, req: JoinGroupRequest) {
        let group_id = req.group_id.clone();
        let member_id = req.member_id.clone();
        let g = &self.groups[&group_id];
        let error = if g.is(Dead) {
            Some(ErrorCode::CoordinatorNotAvailable)
        } else if !g.supports_protocols(&req.protocol_type, &req.protocols) {
            Some(ErrorCode::InconsistentGroupProtocol)
        } else if g.is_pending_member(&member_id) {
            // A pending member (never static) rejoining with its id becomes a full member.
            return self.add_member_then_rebalance(token, req, member_id);
        } else {
            g.validate_member(&member_id, req.group_instance_id.as_deref())
                .err()
        };
        if let Some(e) = error {
            let r = JoinGroupResponse::error(e, &member_id);
            return self.respond(token, GroupResponse::JoinGroup(r));
        }
        let member = g.member(&member_id).expect("validated member");
        let same_metadata = member.matches(&req.protocols);
        let is_leader = g.is_leader(&member_id);
        match g.state {
            PreparingRebalance => self.update_member_then_rebalance(token, &req),
            CompletingRebalance if same_metadata => {
                // A lost JoinGroup response: answer again with the current generation.
                let r = self.join_response(&group_id, &member_id, is_leader, false);
                self.respond(token, GroupResponse::JoinGroup(r));
            }
            Stable if !is_leader && same_metadata => {
                let r = self.join_response(&group_id, &member_id, false, false);
                self.respond(token, GroupResponse::JoinGroup(r));
            }
            CompletingRebalance | Stable => self.update_member_then_rebalance(token, &req),
            Empty | Dead => {
                let r = JoinGroupResponse::error(ErrorCode::UnknownMemberId, &member_id);
                self.respond(token, GroupResponse::JoinGroup(r));
            }
        }
    }

    /// A successful JoinGroup response for the current generation; the member list only if
    /// `with_members`.
    fn join_response(
        &self,
        group_id: &str,
        member_id: &str,
        with_members: bool,
        skip_assignment: bool,
    ) -> JoinGroupResponse {
        let g = &self.groups[group_id];
        JoinGroupResponse {
            error: ErrorCode::None,
            generation_id: g.generation_id,
            protocol_type: g.protocol_type.clone(),
            protocol_name: g.protocol_name.clone(),
            leader: g.leader_id.clone().unwrap_or_default(),
            skip_assignment,
            member_id: member_id.to_string(),
            members: if with_members {
                g.members_for_leader()
            } else {
                Vec::new()
            },
        }
    }

    fn add_member_then_rebalance(
        &mut self,
        token: RequestToken,
        req: JoinGroupRequest,
        member_id: String,
    ) {
        let group_id = req.group_id.clone();
        let g = self.group_mut(&group_id);
        if g.is(PreparingRebalance) && g.previous_state == Empty {
            g.new_member_added = true;
        }
        g.add(ClassicGroupMember {
            member_id: member_id.clone(),
            group_instance_id: req.group_instance_id,
            client_id: req.client_id,
            client_host: req.client_host,
            rebalance_timeout_ms: req.rebalance_timeout_ms,
            session_timeout_ms: req.session_timeout_ms,
            protocol_type: req.protocol_type,
            protocols: req.protocols,
            assignment: String::new(),
            awaiting_join: Some(token),
            awaiting_sync: None,
            is_new: true,
        });
        // A new member cannot heartbeat while parked: its join expires after a fixed timeout.
        let timeout = self.config.new_member_join_timeout_ms;
        self.reschedule_heartbeat(&group_id, &member_id, Some(timeout));
        self.maybe_prepare_rebalance_or_complete_join(&group_id);
    }

    /// `updateMember` + `maybePrepareRebalanceOrCompleteJoin`: the member parks a new JoinGroup.
    fn update_member_then_rebalance(&mut self, token: RequestToken, req: &JoinGroupRequest) {
        update_member(
            self.group_mut(&req.group_id),
            &req.member_id,
            req.protocols.clone(),
            req.rebalance_timeout_ms,
            req.session_timeout_ms,
            Some(token),
        );
        self.maybe_prepare_rebalance_or_complete_join(&req.group_id);
    }

    pub(super) fn maybe_prepare_rebalance_or_complete_join(&mut self, group_id: &str) {
        if self.groups[group_id].can_rebalance() {
            self.prepare_rebalance(group_id);
        } else {
            self.maybe_complete_join_phase(group_id);
        }
    }

    /// Starts a rebalance: parked syncs get `REBALANCE_IN_PROGRESS`; from Empty the initial delay
    /// is scheduled, otherwise the join phase ends now (all joined) or at the rebalance timeout.
    pub(super) fn prepare_rebalance(&mut self, group_id: &str) {
        if self.groups[group_id].is(CompletingRebalance) {
            self.reset_and_propagate_assignment_with_error(
                group_id,
                ErrorCode::RebalanceInProgress,
            );
        }
        self.group_mut(group_id).pending_sync_members.clear();
        self.timer.cancel(&sync_key(group_id));
        let initial = self.groups[group_id].is(Empty);
        if initial {
            let delay_ms = self.config.group_initial_rebalance_delay_ms;
            let remaining_ms = self.groups[group_id]
                .rebalance_timeout_ms()
                .saturating_sub(delay_ms);
            self.timer.schedule(
                join_key(group_id),
                self.now + delay_ms,
                TimerTask::InitialJoin {
                    group: group_id.to_string(),
                    delay_ms,
                    remaining_ms,
                },
            );
        }
        let now = self.now;
        self.group_mut(group_id)
            .transition_to(PreparingRebalance, now);
        if !initial {
            if self.groups[group_id].has_all_members_joined() {
                self.complete_join(group_id);
            } else {
                self.schedule_complete_join(group_id);
            }
        }
    }

    fn schedule_complete_join(&mut self, group_id: &str) {
        let deadline = self.now + self.groups[group_id].rebalance_timeout_ms();
        self.timer.schedule(
            join_key(group_id),
            deadline,
            TimerTask::CompleteJoin {
                group: group_id.to_string(),
            },
        );
    }

    /// Completes the join phase if every member rejoined, except during the initial delay.
    pub(super) fn maybe_complete_join_phase(&mut self, group_id: &str) {
        let g = &self.groups[group_id];
        if g.is(PreparingRebalance) && g.previous_state != Empty && g.has_all_members_joined() {
            self.complete_join(group_id);
        }
    }

    /// An `InitialDelayedJoin` expired: extend it if a new member arrived and time remains.
    pub(super) fn try_complete_initial_rebalance(
        &mut self,
        group_id: &str,
        delay_ms: u64,
        remaining_ms: u64,
    ) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if g.new_member_added && remaining_ms != 0 {
            g.new_member_added = false;
            let new_delay_ms = self
                .config
                .group_initial_rebalance_delay_ms
                .min(remaining_ms);
            let new_remaining_ms = remaining_ms.saturating_sub(delay_ms);
            self.timer.schedule(
                join_key(group_id),
                self.now + new_delay_ms,
                TimerTask::InitialJoin {
                    group: group_id.to_string(),
                    delay_ms: new_delay_ms,
                    remaining_ms: new_remaining_ms,
                },
            );
        } else {
            self.complete_join(group_id);
        }
    }

    /// `completeClassicGroupJoin`: drop dynamic members that did not rejoin, elect a leader among
    /// the rejoined, bump the generation and answer every parked JoinGroup.
    pub(super) fn complete_join(&mut self, group_id: &str) {
        self.timer.cancel(&join_key(group_id));
        let not_rejoined: Vec<String> = self.groups[group_id]
            .members()
            .iter()
            .filter(|m| m.awaiting_join.is_none() && !m.is_static())
            .map(|m| m.member_id.clone())
            .collect();
        for m in &not_rejoined {
            self.group_mut(group_id).remove(m);
            self.timer.cancel(&heartbeat_key(group_id, m));
        }
        let now = self.now;
        let g = self.group_mut(group_id);
        if !g.is(PreparingRebalance) {
            // Dead, or a stale timer: nothing to complete.
            return;
        }
        if !g.maybe_elect_new_joined_leader() && g.num_members() > 0 {
            // Only static members that did not rejoin are left: wait another rebalance timeout.
            return self.schedule_complete_join(group_id);
        }
        g.init_next_generation(now);
        if g.is(Empty) {
            let value = g.to_record(&Default::default());
            return self.append(
                vec![CoordinatorRecord::GroupMetadata(value)],
                AppendCallback::Nothing,
            );
        }
        for member_id in self.groups[group_id].member_ids() {
            let is_leader = self.groups[group_id].is_leader(&member_id);
            let response = self.join_response(group_id, &member_id, is_leader, false);
            let g = self.group_mut(group_id);
            let m = g.member_mut(&member_id).expect("member");
            let token = m.awaiting_join.take();
            m.is_new = false;
            g.pending_sync_members.insert(member_id.clone());
            if let Some(t) = token {
                self.respond(t, GroupResponse::JoinGroup(response));
            }
            self.reschedule_heartbeat(group_id, &member_id, None);
        }
        let g = &self.groups[group_id];
        let (deadline, generation_id) = (self.now + g.rebalance_timeout_ms(), g.generation_id);
        self.timer.schedule(
            sync_key(group_id),
            deadline,
            TimerTask::ExpireSync {
                group: group_id.to_string(),
                generation_id,
            },
        );
    }

    /// A session deadline passed: remove the member unless it is parked (and not new).
    pub(super) fn expire_heartbeat(&mut self, group_id: &str, member_id: &str) {
        let Some(g) = self.groups.get_mut(group_id) else {
            return;
        };
        if g.is(Dead) {
            return;
        }
        if g.is_pending_member(member_id) {
            g.remove(member_id);
            if g.is(PreparingRebalance) && g.has_all_members_joined() {
                self.complete_join(group_id);
            }
            return;
        }
        match g.member(member_id) {
            Some(m) if !m.has_satisfied_heartbeat() => {
                self.remove_member_and_rebalance(group_id, member_id)
            }
            _ => {}
        }
    }

    /// Removes a failed member (its parked JoinGroup gets `UNKNOWN_MEMBER_ID`) and rebalances.
    fn remove_member_and_rebalance(&mut self, group_id: &str, member_id: &str) {
        if let Some(removed) = self.group_mut(group_id).remove(member_id) {
            if let Some(t) = removed.awaiting_join {
                let r = JoinGroupResponse::error(ErrorCode::UnknownMemberId, "");
                self.respond(t, GroupResponse::JoinGroup(r));
            }
        }
        let g = &self.groups[group_id];
        if g.is(Stable) || g.is(CompletingRebalance) {
            self.maybe_prepare_rebalance_or_complete_join(group_id);
        } else if g.is(PreparingRebalance) && g.has_all_members_joined() {
            self.complete_join(group_id);
        }
    }

    /// A known static instance joined with an empty member id: fence the old id, take its place.
    fn replace_static_member(
        &mut self,
        token: RequestToken,
        req: JoinGroupRequest,
        instance_id: &str,
        old_member_id: &str,
        new_member_id: &str,
    ) {
        let group_id = req.group_id.clone();
        let leader_before = self.groups[&group_id].leader_id.clone();
        let old = self.group_mut(&group_id).replace_static_member(
            instance_id,
            old_member_id,
            new_member_id,
        );
        self.fence(&old);
        self.reschedule_heartbeat(&group_id, new_member_id, None);
        let replacement = StaticReplacement {
            group: group_id.clone(),
            token,
            instance_id: instance_id.to_string(),
            old_member_id: old_member_id.to_string(),
            new_member_id: new_member_id.to_string(),
            old_protocols: old.protocols.clone(),
            old_rebalance_timeout_ms: old.rebalance_timeout_ms,
            old_session_timeout_ms: old.session_timeout_ms,
            leader_before,
            support_skipping_assignment: req.support_skipping_assignment,
        };
        let g = self.group_mut(&group_id);
        update_member(
            g,
            new_member_id,
            req.protocols,
            req.rebalance_timeout_ms,
            req.session_timeout_ms,
            Some(token),
        );
        match g.state {
            Stable if g.protocol_name.as_deref() == Some(g.select_protocol().as_str()) => {
                // The selected protocol stays: persist the new id, no rebalance.
                let value = g.to_record(&g.current_assignment());
                self.append(
                    vec![CoordinatorRecord::GroupMetadata(value)],
                    AppendCallback::StaticReplace(replacement),
                );
            }
            Stable => self.maybe_prepare_rebalance_or_complete_join(&group_id),
            // The old id may already be in the leader's assignment: rebalance.
            CompletingRebalance => self.prepare_rebalance(&group_id),
            _ => self.maybe_complete_join_phase(&group_id),
        }
    }

    /// Answers the parked requests of a replaced static member id with `FENCED_INSTANCE_ID`.
    fn fence(&mut self, old: &ClassicGroupMember) {
        if let Some(t) = old.awaiting_join {
            let r = JoinGroupResponse::error(ErrorCode::FencedInstanceId, &old.member_id);
            self.respond(t, GroupResponse::JoinGroup(r));
        }
        if let Some(t) = old.awaiting_sync {
            let r = SyncGroupResponse::error(ErrorCode::FencedInstanceId);
            self.respond(t, GroupResponse::SyncGroup(r));
        }
    }

    /// The replacement's record was written (answer the joiner) or not (revert, answer the error).
    pub(super) fn on_static_replacement_stored(
        &mut self,
        r: StaticReplacement,
        result: Result<(), ErrorCode>,
    ) {
        let Some(g) = self.groups.get_mut(&r.group) else {
            return;
        };
        if !g.has_member(&r.new_member_id) {
            return;
        }
        match result {
            Ok(()) => {
                let is_leader = g.is_leader(&r.new_member_id);
                let token = g
                    .member_mut(&r.new_member_id)
                    .and_then(|m| m.awaiting_join.take());
                let mut response = if r.support_skipping_assignment {
                    self.join_response(&r.group, &r.new_member_id, is_leader, is_leader)
                } else {
                    let mut resp = self.join_response(&r.group, &r.new_member_id, false, false);
                    resp.leader = r.leader_before.clone().unwrap_or_default();
                    resp
                };
                response.member_id = r.new_member_id.clone();
                if let Some(t) = token {
                    self.respond(t, GroupResponse::JoinGroup(response));
                }
            }
            Err(e) => self.revert_static_replacement(r, e),
        }
    }

    fn revert_static_replacement(&mut self, r: StaticReplacement, error: ErrorCode) {
        let g = self.group_mut(&r.group);
        update_member(
            g,
            &r.new_member_id,
            r.old_protocols,
            r.old_rebalance_timeout_ms,
            r.old_session_timeout_ms,
            None,
        );
        let fenced = g.replace_static_member(&r.instance_id, &r.new_member_id, &r.old_member_id);
        self.fence(&fenced);
        self.reschedule_heartbeat(&r.group, &r.old_member_id, None);
        let g = &self.groups[&r.group];
        let response = JoinGroupResponse {
            error,
            generation_id: g.generation_id,
            protocol_type: g.protocol_type.clone(),
            protocol_name: g.protocol_name.clone(),
            leader: r.leader_before.unwrap_or_default(),
            skip_assignment: false,
            member_id: String::new(),
            members: Vec::new(),
        };
        self.respond(r.token, GroupResponse::JoinGroup(response));
    }

    /// Writing a brand-new group failed: Kafka reverts its creation, and a parked joiner gets the
    /// error.
    pub(super) fn on_new_group_failed(
        &mut self,
        group_id: &str,
        token: RequestToken,
        e: ErrorCode,
    ) {
        let Some(g) = self.groups.get(group_id) else {
            return;
        };
        let parked = g.members().iter().any(|m| m.awaiting_join == Some(token));
        if parked && g.num_members() == 1 {
            self.timer.cancel_group(group_id);
            self.groups.remove(group_id);
            let r = JoinGroupResponse::error(e, "");
            self.respond(token, GroupResponse::JoinGroup(r));
        }
    }
}

/// `ClassicGroup.updateMember`: new protocols and timeouts; `token` parks (or unparks) a JoinGroup.
fn update_member(
    g: &mut ClassicGroup,
    member_id: &str,
    protocols: Vec<JoinGroupProtocol>,
    rebalance_timeout_ms: i32,
    session_timeout_ms: i32,
    token: Option<RequestToken>,
) {
    if let Some(m) = g.member_mut(member_id) {
        m.protocols = protocols;
        m.rebalance_timeout_ms = rebalance_timeout_ms;
        m.session_timeout_ms = session_timeout_ms;
        m.awaiting_join = token;
    }
}

fn g_static(g: &ClassicGroup, instance: &str) -> Option<String> {
    g.static_member_id(instance).map(str::to_string)
}

pub(super) fn join_key(group: &str) -> TimerKey {
    TimerKey::Join {
        group: group.to_string(),
    }
}

pub(super) fn sync_key(group: &str) -> TimerKey {
    TimerKey::Sync {
        group: group.to_string(),
    }
}
