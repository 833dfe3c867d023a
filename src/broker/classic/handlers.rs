//! The request handlers and timers of [`super::ClassicCoordinator`], one function per API.

use super::group::{CommittedOffset, Group, Member, State};
use super::{ClassicCoordinator, NEW_MEMBER_JOIN_TIMEOUT_MS};
use crate::broker::groups::CoordinatorOutput;
use crate::history::EventKind;
use crate::protocol::group::*;
use crate::protocol::message::Response;
use crate::protocol::{ErrorCode, Millis};

fn join_error(member_id: &str, error: ErrorCode) -> Response {
    Response::JoinGroup(JoinGroupResponse {
        error,
        generation_id: NO_GENERATION,
        protocol_name: None,
        leader: String::new(),
        member_id: member_id.to_string(),
        members: Vec::new(),
        skip_assignment: false,
    })
}

fn sync_response(error: ErrorCode, assignment: String) -> Response {
    Response::SyncGroup(SyncGroupResponse { error, assignment })
}

fn heartbeat(error: ErrorCode) -> Response {
    Response::Heartbeat(HeartbeatResponse { error })
}

/// The earliest timer of a group: join/sync phase ends, pending members and sessions expiring.
pub fn group_deadline(g: &Group) -> Option<Millis> {
    let sessions = g
        .members
        .values()
        .filter(|m| m.is_new || (m.awaiting_join.is_none() && m.awaiting_sync.is_none()));
    [
        g.join_deadline,
        g.sync_deadline,
        g.pending.values().min().copied(),
        sessions.map(|m| m.session_deadline).min(),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// Member validation shared by Sync, Heartbeat, Commit, Leave (`validateMember`).
fn validate_member(g: &Group, member_id: &str, instance: &Option<String>) -> Result<(), ErrorCode> {
    if let Some(i) = instance {
        match g.member_of_instance(i) {
            Some(m) if m != member_id => return Err(ErrorCode::FencedInstanceId),
            None if !g.members.contains_key(member_id) => return Err(ErrorCode::UnknownMemberId),
            _ => {}
        }
    }
    if g.members.contains_key(member_id) {
        Ok(())
    } else {
        Err(ErrorCode::UnknownMemberId)
    }
}

impl ClassicCoordinator {
    pub(super) fn handle_join(
        &mut self,
        now: Millis,
        token: u64,
        r: JoinGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let reply = |out: &mut CoordinatorOutput, e| {
            out.responses.push((token, join_error(&r.member_id, e)))
        };
        if r.group_id.is_empty() {
            return reply(out, ErrorCode::InvalidGroupId);
        }
        if r.session_timeout_ms < self.cfg.min_session_timeout_ms
            || r.session_timeout_ms > self.cfg.max_session_timeout_ms
        {
            return reply(out, ErrorCode::InvalidSessionTimeout);
        }
        if !self.groups.contains_key(&r.group_id) && !r.member_id.is_empty() {
            return reply(out, ErrorCode::UnknownMemberId);
        }
        let g = self
            .groups
            .entry(r.group_id.clone())
            .or_insert_with(|| Group::new(&r.group_id));
        if g.state == State::Dead {
            return reply(out, ErrorCode::CoordinatorNotAvailable);
        }
        let consistent = if g.state == State::Empty {
            !r.protocol_type.is_empty() && !r.protocols.is_empty()
        } else {
            g.protocol_type.as_deref() == Some(r.protocol_type.as_str()) && g.supports(&r.protocols)
        };
        if !consistent {
            return reply(out, ErrorCode::InconsistentGroupProtocol);
        }
        let full = g.members.len() >= self.cfg.max_size && !g.members.contains_key(&r.member_id);
        if full {
            return reply(out, ErrorCode::GroupMaxSizeReached);
        }
        if r.member_id.is_empty() {
            self.join_new_member(now, token, r, out);
        } else {
            self.join_known_member(now, token, r, out);
        }
    }

    fn join_new_member(
        &mut self,
        now: Millis,
        token: u64,
        r: JoinGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let base = r
            .group_instance_id
            .clone()
            .unwrap_or_else(|| r.group_id.clone());
        let member_id = self.new_member_id(&base);
        let g = self.groups.get_mut(&r.group_id).expect("created");
        if let Some(instance) = &r.group_instance_id {
            if let Some(old) = g.member_of_instance(instance) {
                return self.replace_static_member(now, token, old, member_id, r, out);
            }
            return self.add_member_and_rebalance(now, token, member_id, r, out);
        }
        // JoinGroup v4+: a dynamic member must come back with the id it is given.
        g.pending
            .insert(member_id.clone(), now + r.session_timeout_ms);
        out.responses
            .push((token, join_error(&member_id, ErrorCode::MemberIdRequired)));
    }

    fn join_known_member(
        &mut self,
        now: Millis,
        token: u64,
        r: JoinGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let g = self.groups.get_mut(&r.group_id).expect("exists");
        if g.pending.remove(&r.member_id).is_some() {
            return self.add_member_and_rebalance(now, token, r.member_id.clone(), r, out);
        }
        if let Err(e) = validate_member(g, &r.member_id, &r.group_instance_id) {
            return out.responses.push((token, join_error(&r.member_id, e)));
        }
        let member = g.members.get_mut(&r.member_id).expect("validated");
        let changed = member.protocols != r.protocols;
        member.protocols = r.protocols.clone();
        member.session_timeout_ms = r.session_timeout_ms;
        member.rebalance_timeout_ms = r.rebalance_timeout_ms;
        let is_leader = g.leader.as_deref() == Some(r.member_id.as_str());
        match g.state {
            State::PreparingRebalance => {
                member.awaiting_join = Some(token);
                self.maybe_complete_join(now, &r.group_id, out);
            }
            State::CompletingRebalance | State::Stable
                if !(changed || g.state == State::Stable && is_leader) =>
            {
                let resp = join_response(g, &r.member_id, false);
                out.responses.push((token, resp));
            }
            State::CompletingRebalance | State::Stable => {
                member.awaiting_join = Some(token);
                self.prepare_rebalance(now, &r.group_id, out);
            }
            State::Empty | State::Dead => out
                .responses
                .push((token, join_error(&r.member_id, ErrorCode::UnknownMemberId))),
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        now: Millis,
        token: u64,
        member_id: String,
        r: JoinGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let g = self.groups.get_mut(&r.group_id).expect("exists");
        if g.members.is_empty() {
            g.protocol_type = Some(r.protocol_type.clone());
        }
        if g.leader.is_none() {
            g.leader = Some(member_id.clone());
        }
        let member = Member {
            member_id: member_id.clone(),
            instance_id: r.group_instance_id.clone(),
            session_timeout_ms: r.session_timeout_ms,
            rebalance_timeout_ms: r.rebalance_timeout_ms,
            protocols: r.protocols.clone(),
            assignment: String::new(),
            awaiting_join: Some(token),
            awaiting_sync: None,
            session_deadline: now + NEW_MEMBER_JOIN_TIMEOUT_MS,
            is_new: true,
        };
        g.members.insert(member_id, member);
        if g.state == State::PreparingRebalance && g.generation == 0 {
            g.new_member_added = true;
        }
        if g.state == State::PreparingRebalance {
            self.maybe_complete_join(now, &r.group_id, out);
        } else {
            self.prepare_rebalance(now, &r.group_id, out);
        }
    }

    /// KIP-345: a static member rejoining with an unknown member id replaces its old id, which is
    /// fenced at once; in Stable with an unchanged protocol there is no rebalance.
    fn replace_static_member(
        &mut self,
        now: Millis,
        token: u64,
        old: String,
        new: String,
        r: JoinGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let g = self.groups.get_mut(&r.group_id).expect("exists");
        let mut m = g.members.remove(&old).expect("mapped");
        if let Some(t) = m.awaiting_join.take() {
            out.responses
                .push((t, join_error(&old, ErrorCode::FencedInstanceId)));
        }
        if let Some(t) = m.awaiting_sync.take() {
            out.responses
                .push((t, sync_response(ErrorCode::FencedInstanceId, String::new())));
        }
        let protocol_kept = g
            .protocol
            .as_ref()
            .is_some_and(|p| r.protocols.iter().any(|x| &x.0 == p));
        m.member_id = new.clone();
        m.protocols = r.protocols.clone();
        m.session_timeout_ms = r.session_timeout_ms;
        m.rebalance_timeout_ms = r.rebalance_timeout_ms;
        m.session_deadline = now + r.session_timeout_ms;
        if g.leader.as_deref() == Some(old.as_str()) {
            g.leader = Some(new.clone());
        }
        g.members.insert(new.clone(), m);
        match g.state {
            State::Stable if protocol_kept => {
                let resp = join_response(g, &new, true);
                out.records.push(Self::group_record(g));
                out.responses.push((token, resp));
                out.events.push(Self::state_event(g));
            }
            State::PreparingRebalance => {
                g.members.get_mut(&new).expect("inserted").awaiting_join = Some(token);
                self.maybe_complete_join(now, &r.group_id, out);
            }
            _ => {
                g.members.get_mut(&new).expect("inserted").awaiting_join = Some(token);
                self.prepare_rebalance(now, &r.group_id, out);
            }
        }
    }

    /// Starts a rebalance: parked syncs learn it; an Empty group waits the initial delay.
    pub(super) fn prepare_rebalance(
        &mut self,
        now: Millis,
        group: &str,
        out: &mut CoordinatorOutput,
    ) {
        let delay = self.cfg.initial_rebalance_delay_ms;
        let g = self.groups.get_mut(group).expect("exists");
        if g.state == State::CompletingRebalance {
            for m in g.members.values_mut() {
                if let Some(t) = m.awaiting_sync.take() {
                    out.responses.push((
                        t,
                        sync_response(ErrorCode::RebalanceInProgress, String::new()),
                    ));
                }
            }
        }
        g.sync_deadline = None;
        let rt = g.rebalance_timeout_ms();
        if g.state == State::Empty {
            g.initial_delay = Some((delay, rt.saturating_sub(delay)));
            g.join_deadline = Some(now + delay);
        } else {
            g.initial_delay = None;
            g.join_deadline = Some(now + rt);
        }
        g.state = State::PreparingRebalance;
        out.events.push(Self::state_event(g));
        self.maybe_complete_join(now, group, out);
    }

    /// Completes the join phase early when everyone rejoined (never during the initial delay).
    fn maybe_complete_join(&mut self, now: Millis, group: &str, out: &mut CoordinatorOutput) {
        let g = self.groups.get(group).expect("exists");
        if g.state == State::PreparingRebalance && g.initial_delay.is_none() && g.all_joined() {
            self.complete_join(now, group, out);
        }
    }

    /// The join phase ends: drop dynamic members that did not rejoin, bump the generation, pick
    /// the protocol and leader, answer every parked JoinGroup.
    pub(super) fn complete_join(&mut self, now: Millis, group: &str, out: &mut CoordinatorOutput) {
        let g = self.groups.get_mut(group).expect("exists");
        g.join_deadline = None;
        g.initial_delay = None;
        g.new_member_added = false;
        let gone: Vec<String> = g
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.instance_id.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for id in gone {
            g.members.remove(&id);
        }
        if !g.members.values().any(|m| m.awaiting_join.is_some()) && !g.members.is_empty() {
            // Only static members that did not rejoin remain: wait another round.
            g.join_deadline = Some(now + g.rebalance_timeout_ms());
            return;
        }
        g.generation += 1;
        if g.members.is_empty() {
            g.state = State::Empty;
            g.leader = None;
            g.protocol = None;
            out.records.push(Self::group_record(g));
            out.events.push(Self::state_event(g));
            return;
        }
        g.protocol = g.select_protocol();
        if g.leader
            .as_ref()
            .is_none_or(|l| g.members.get(l).is_none_or(|m| m.awaiting_join.is_none()))
        {
            g.leader = g
                .members
                .values()
                .find(|m| m.awaiting_join.is_some())
                .map(|m| m.member_id.clone());
        }
        g.state = State::CompletingRebalance;
        g.sync_deadline = Some(now + g.rebalance_timeout_ms());
        let ids: Vec<String> = g.members.keys().cloned().collect();
        for id in ids {
            let resp = join_response(g, &id, false);
            let m = g.members.get_mut(&id).expect("listed");
            m.is_new = false;
            m.session_deadline = now + m.session_timeout_ms;
            if let Some(t) = m.awaiting_join.take() {
                out.responses.push((t, resp));
            }
        }
        out.events.push(Self::state_event(g));
    }

    pub(super) fn handle_sync(
        &mut self,
        now: Millis,
        token: u64,
        r: SyncGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let reply = |out: &mut CoordinatorOutput, e| {
            out.responses.push((token, sync_response(e, String::new())))
        };
        let Some(g) = self.groups.get_mut(&r.group_id) else {
            return reply(out, ErrorCode::UnknownMemberId);
        };
        if g.state == State::Dead {
            return reply(out, ErrorCode::CoordinatorNotAvailable);
        }
        if let Err(e) = validate_member(g, &r.member_id, &r.group_instance_id) {
            return reply(out, e);
        }
        if r.generation_id != g.generation {
            return reply(out, ErrorCode::IllegalGeneration);
        }
        match g.state {
            State::Empty | State::Dead => reply(out, ErrorCode::UnknownMemberId),
            State::PreparingRebalance => reply(out, ErrorCode::RebalanceInProgress),
            State::Stable => {
                let m = g.members.get_mut(&r.member_id).expect("validated");
                m.session_deadline = now + m.session_timeout_ms;
                out.responses
                    .push((token, sync_response(ErrorCode::None, m.assignment.clone())));
            }
            State::CompletingRebalance => {
                g.members
                    .get_mut(&r.member_id)
                    .expect("validated")
                    .awaiting_sync = Some(token);
                if g.leader.as_deref() == Some(r.member_id.as_str()) {
                    for m in g.members.values_mut() {
                        m.assignment = r
                            .assignments
                            .iter()
                            .find(|a| a.0 == m.member_id)
                            .map(|a| a.1.clone())
                            .unwrap_or_default();
                    }
                    g.state = State::Stable;
                    g.sync_deadline = None;
                    out.records.push(Self::group_record(g));
                    for m in g.members.values_mut() {
                        if let Some(t) = m.awaiting_sync.take() {
                            m.session_deadline = now + m.session_timeout_ms;
                            out.responses
                                .push((t, sync_response(ErrorCode::None, m.assignment.clone())));
                        }
                    }
                    out.events.push(Self::state_event(g));
                }
            }
        }
    }

    pub(super) fn handle_heartbeat(
        &mut self,
        now: Millis,
        token: u64,
        r: HeartbeatRequest,
        out: &mut CoordinatorOutput,
    ) {
        let Some(g) = self.groups.get_mut(&r.group_id) else {
            return out
                .responses
                .push((token, heartbeat(ErrorCode::UnknownMemberId)));
        };
        if g.state == State::Dead {
            return out
                .responses
                .push((token, heartbeat(ErrorCode::CoordinatorNotAvailable)));
        }
        if let Err(e) = validate_member(g, &r.member_id, &r.group_instance_id) {
            return out.responses.push((token, heartbeat(e)));
        }
        if r.generation_id != g.generation {
            return out
                .responses
                .push((token, heartbeat(ErrorCode::IllegalGeneration)));
        }
        let error = match g.state {
            State::Empty | State::Dead => {
                return out
                    .responses
                    .push((token, heartbeat(ErrorCode::UnknownMemberId)))
            }
            State::PreparingRebalance => ErrorCode::RebalanceInProgress,
            State::CompletingRebalance | State::Stable => ErrorCode::None,
        };
        let m = g.members.get_mut(&r.member_id).expect("validated");
        m.session_deadline = now + m.session_timeout_ms;
        out.responses.push((token, heartbeat(error)));
    }

    pub(super) fn handle_leave(
        &mut self,
        now: Millis,
        token: u64,
        r: LeaveGroupRequest,
        out: &mut CoordinatorOutput,
    ) {
        let Some(g) = self.groups.get_mut(&r.group_id) else {
            let resp = LeaveGroupResponse {
                error: ErrorCode::UnknownMemberId,
                members: Vec::new(),
            };
            return out.responses.push((token, Response::LeaveGroup(resp)));
        };
        let mut results = Vec::new();
        let mut remove = Vec::new();
        for (member_id, instance) in &r.members {
            let target = match (member_id.is_empty(), instance) {
                (true, Some(i)) => g.member_of_instance(i).ok_or(ErrorCode::UnknownMemberId),
                _ if g.pending.remove(member_id).is_some() => {
                    results.push((member_id.clone(), ErrorCode::None));
                    continue;
                }
                _ => validate_member(g, member_id, instance).map(|_| member_id.clone()),
            };
            match target {
                Ok(id) => {
                    results.push((member_id.clone(), ErrorCode::None));
                    remove.push(id);
                }
                Err(e) => results.push((member_id.clone(), e)),
            }
        }
        out.responses.push((
            token,
            Response::LeaveGroup(LeaveGroupResponse {
                error: ErrorCode::None,
                members: results,
            }),
        ));
        for id in remove {
            self.remove_member(now, &r.group_id, &id, out);
        }
        self.maybe_complete_join(now, &r.group_id, out);
    }

    /// Removes a member (left or expired): its parked JoinGroup fails, the group rebalances.
    pub(super) fn remove_member(
        &mut self,
        now: Millis,
        group: &str,
        member_id: &str,
        out: &mut CoordinatorOutput,
    ) {
        let g = self.groups.get_mut(group).expect("exists");
        let Some(m) = g.members.remove(member_id) else {
            return;
        };
        if let Some(t) = m.awaiting_join {
            out.responses
                .push((t, join_error(member_id, ErrorCode::UnknownMemberId)));
        }
        if g.leader.as_deref() == Some(member_id) {
            g.leader = g.members.keys().next().cloned();
        }
        match g.state {
            State::Stable | State::CompletingRebalance => self.prepare_rebalance(now, group, out),
            State::PreparingRebalance if g.members.is_empty() => {
                self.complete_join(now, group, out)
            }
            State::PreparingRebalance => self.maybe_complete_join(now, group, out),
            _ => {}
        }
    }

    pub(super) fn handle_commit(
        &mut self,
        now: Millis,
        token: u64,
        r: OffsetCommitRequest,
        out: &mut CoordinatorOutput,
    ) {
        let error = self.validate_commit(now, &r);
        if error != ErrorCode::None {
            let partitions = r.offsets.iter().map(|o| (o.0.clone(), error)).collect();
            return out.responses.push((
                token,
                Response::OffsetCommit(OffsetCommitResponse { partitions }),
            ));
        }
        let max = self.cfg.offset_metadata_max_bytes;
        let g = self
            .groups
            .entry(r.group_id.clone())
            .or_insert_with(|| Group::new(&r.group_id));
        let mut partitions = Vec::new();
        let mut applied = Vec::new();
        for (tp, offset, leader_epoch, metadata) in &r.offsets {
            if metadata.len() > max {
                partitions.push((tp.clone(), ErrorCode::OffsetMetadataTooLarge));
                continue;
            }
            let value = CommittedOffset {
                offset: *offset,
                leader_epoch: *leader_epoch,
                metadata: metadata.clone(),
                commit_timestamp: now,
            };
            out.records.push((
                super::group::offset_key(&r.group_id, tp),
                Some(serde_json::to_string(&value).expect("json")),
            ));
            g.offsets.insert(tp.clone(), value);
            partitions.push((tp.clone(), ErrorCode::None));
            applied.push((tp.clone(), *offset));
        }
        if let Some(m) = g.members.get_mut(&r.member_id) {
            m.session_deadline = now + m.session_timeout_ms;
        }
        if !applied.is_empty() {
            out.events.push(EventKind::CommitApplied {
                group: r.group_id.clone(),
                generation: r.generation_id,
                member_id: r.member_id.clone(),
                offsets: applied,
            });
        }
        out.responses.push((
            token,
            Response::OffsetCommit(OffsetCommitResponse { partitions }),
        ));
    }

    /// Kafka's `validateOffsetCommit` for classic groups.
    fn validate_commit(&self, _now: Millis, r: &OffsetCommitRequest) -> ErrorCode {
        let Some(g) = self.groups.get(&r.group_id) else {
            return if r.generation_id < 0 {
                ErrorCode::None
            } else {
                ErrorCode::IllegalGeneration
            };
        };
        if g.state == State::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        if r.generation_id < 0 && g.state == State::Empty {
            return ErrorCode::None;
        }
        if r.generation_id < 0 && r.member_id.is_empty() && r.group_instance_id.is_none() {
            return ErrorCode::UnknownMemberId;
        }
        if self.cfg.commit_ignores_generation {
            // KAFKA-2555 undone: the coordinator blindly commits whatever arrives.
            return ErrorCode::None;
        }
        if let Err(e) = validate_member(g, &r.member_id, &r.group_instance_id) {
            return e;
        }
        if r.generation_id != g.generation {
            return ErrorCode::IllegalGeneration;
        }
        if g.state == State::CompletingRebalance {
            return ErrorCode::RebalanceInProgress;
        }
        ErrorCode::None
    }

    pub(super) fn handle_fetch(
        &mut self,
        token: u64,
        r: OffsetFetchRequest,
        out: &mut CoordinatorOutput,
    ) {
        let g = self.groups.get(&r.group_id);
        let wanted: Vec<crate::protocol::TopicPartition> = match &r.partitions {
            Some(p) => p.clone(),
            None => g
                .map(|g| g.offsets.keys().cloned().collect())
                .unwrap_or_default(),
        };
        let partitions: Vec<FetchedOffset> = wanted
            .into_iter()
            .map(|tp| {
                let o = g.and_then(|g| g.offsets.get(&tp));
                FetchedOffset {
                    offset: o.map(|o| o.offset),
                    leader_epoch: o.and_then(|o| o.leader_epoch),
                    metadata: o.map(|o| o.metadata.clone()).unwrap_or_default(),
                    error: ErrorCode::None,
                    tp,
                }
            })
            .collect::<Vec<_>>();
        let served = partitions
            .iter()
            .map(|p| (p.tp.clone(), p.offset))
            .collect();
        out.events.push(EventKind::OffsetsServed {
            group: r.group_id.clone(),
            offsets: served,
        });
        out.responses.push((
            token,
            Response::OffsetFetch(OffsetFetchResponse {
                error: ErrorCode::None,
                partitions,
            }),
        ));
    }

    /// Fires the group's due timers, in a fixed order.
    pub(super) fn tick_group(&mut self, now: Millis, group: &str, out: &mut CoordinatorOutput) {
        let g = self.groups.get_mut(group).expect("exists");
        g.pending.retain(|_, expiry| *expiry > now);
        if g.join_deadline.is_some_and(|d| d <= now) {
            self.join_deadline_reached(now, group, out);
        }
        let g = self.groups.get_mut(group).expect("exists");
        if g.sync_deadline.is_some_and(|d| d <= now) {
            g.sync_deadline = None;
            let unsynced: Vec<String> = g
                .members
                .values()
                .filter(|m| m.awaiting_sync.is_none())
                .map(|m| m.member_id.clone())
                .collect();
            for id in unsynced {
                self.remove_member(now, group, &id, out);
            }
        }
        let g = self.groups.get(group).expect("exists");
        let expired: Vec<String> = g
            .members
            .values()
            .filter(|m| {
                (m.is_new || (m.awaiting_join.is_none() && m.awaiting_sync.is_none()))
                    && m.session_deadline <= now
            })
            .map(|m| m.member_id.clone())
            .collect();
        for id in expired {
            self.remove_member(now, group, &id, out);
        }
        self.maybe_complete_join(now, group, out);
    }

    /// The initial delayed join extends itself while new members keep arriving (generation 0
    /// only), up to the rebalance timeout; any other join phase completes at its deadline.
    fn join_deadline_reached(&mut self, now: Millis, group: &str, out: &mut CoordinatorOutput) {
        let g = self.groups.get_mut(group).expect("exists");
        if let Some((delay, remaining)) = g.initial_delay {
            if g.new_member_added && remaining != 0 {
                let next = delay.min(remaining);
                g.new_member_added = false;
                g.initial_delay = Some((next, remaining.saturating_sub(delay)));
                g.join_deadline = Some(now + next);
                return;
            }
        }
        self.complete_join(now, group, out);
    }
}

/// The JoinGroup answer for `member_id` in the group's current generation (the leader gets the
/// member list; a replaced static leader gets it with `skip_assignment`).
fn join_response(g: &Group, member_id: &str, skip_assignment: bool) -> Response {
    let protocol = g.protocol.clone().unwrap_or_default();
    let leader = g.leader.clone().unwrap_or_default();
    let members = if leader == member_id {
        g.members
            .values()
            .map(|m| JoinGroupMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.instance_id.clone(),
                metadata: m.metadata_for(&protocol),
            })
            .collect()
    } else {
        Vec::new()
    };
    Response::JoinGroup(JoinGroupResponse {
        error: ErrorCode::None,
        generation_id: g.generation,
        protocol_name: g.protocol.clone(),
        leader,
        member_id: member_id.to_string(),
        members,
        skip_assignment,
    })
}
