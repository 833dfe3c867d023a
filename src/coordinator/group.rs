//! A classic group and its members: Kafka's `ClassicGroup` / `ClassicGroupMember` /
//! `ClassicGroupState` (group-coordinator module), the bookkeeping under the handlers.
//!
//! Rules kept here: the state machine's valid previous states, protocol support and selection by
//! votes, member validation (`FENCED_INSTANCE_ID` / `UNKNOWN_MEMBER_ID`), static member replacement,
//! leader election among rejoined members, the generation bump, and OffsetCommit validation.
//!
//! Kafka keeps members in a `HashMap`, so "the next leader" and the order of the leader's member list
//! are implementation-defined; here members keep insertion order (a replaced static member moves to
//! the end, as a re-insertion would), and protocol-vote ties go to the candidate voted for first.

use super::api::{JoinGroupProtocol, JoinGroupResponseMember, RequestToken};
use super::record::{GroupMetadataValue, MemberMetadataValue};
use crate::protocol::{ErrorCode, Millis};
use std::collections::{BTreeMap, BTreeSet};

/// Kafka's `ClassicGroupState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClassicGroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl ClassicGroupState {
    /// Kafka's name, as DescribeGroups prints it.
    pub fn name(self) -> &'static str {
        match self {
            ClassicGroupState::Empty => "Empty",
            ClassicGroupState::PreparingRebalance => "PreparingRebalance",
            ClassicGroupState::CompletingRebalance => "CompletingRebalance",
            ClassicGroupState::Stable => "Stable",
            ClassicGroupState::Dead => "Dead",
        }
    }

    /// `validPreviousStates` of the target state.
    fn valid_previous(self, from: ClassicGroupState) -> bool {
        use ClassicGroupState::*;
        match self {
            PreparingRebalance => matches!(from, Stable | CompletingRebalance | Empty),
            CompletingRebalance => from == PreparingRebalance,
            Stable => from == CompletingRebalance,
            Empty => from == PreparingRebalance,
            Dead => true,
        }
    }
}

/// One member of a classic group.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassicGroupMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<JoinGroupProtocol>,
    pub assignment: String,
    /// The member's parked JoinGroup, if any.
    pub awaiting_join: Option<RequestToken>,
    /// The member's parked SyncGroup, if any.
    pub awaiting_sync: Option<RequestToken>,
    /// Added and not yet through a completed join phase: its parked join may expire.
    pub is_new: bool,
}

impl ClassicGroupMember {
    pub fn is_static(&self) -> bool {
        self.group_instance_id.is_some()
    }

    /// Same protocols, in the same order, with the same metadata (`ClassicGroupMember.matches`).
    pub fn matches(&self, protocols: &[JoinGroupProtocol]) -> bool {
        self.protocols == protocols
    }

    /// The member's metadata for `protocol`.
    pub fn metadata(&self, protocol: &str) -> String {
        self.protocols
            .iter()
            .find(|p| p.name == protocol)
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }

    /// A parked member "satisfies" its heartbeat, except a brand-new one whose first join may
    /// expire (`hasSatisfiedHeartbeat`).
    pub fn has_satisfied_heartbeat(&self) -> bool {
        !self.is_new && (self.awaiting_join.is_some() || self.awaiting_sync.is_some())
    }

    /// The member's first protocol among `candidates` (`vote`).
    fn vote(&self, candidates: &BTreeSet<String>) -> Option<&str> {
        self.protocols
            .iter()
            .map(|p| p.name.as_str())
            .find(|n| candidates.contains(*n))
    }
}

/// A classic group (`ClassicGroup`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassicGroup {
    pub group_id: String,
    pub state: ClassicGroupState,
    pub previous_state: ClassicGroupState,
    /// When the group entered its current state.
    pub state_timestamp_ms: Option<i64>,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader_id: Option<String>,
    /// Members in insertion order.
    members: Vec<ClassicGroupMember>,
    /// group.instance.id -> member id.
    static_members: BTreeMap<String, String>,
    /// Members that got `MEMBER_ID_REQUIRED` and have not rejoined yet.
    pub pending_join_members: BTreeSet<String>,
    /// Members that have not sent SyncGroup in the current generation.
    pub pending_sync_members: BTreeSet<String>,
    /// A new member joined during the initial rebalance delay (extends it).
    pub new_member_added: bool,
}

impl ClassicGroup {
    /// A new Empty group at generation 0.
    pub fn new(group_id: &str, now: Millis) -> Self {
        ClassicGroup {
            group_id: group_id.to_string(),
            state: ClassicGroupState::Empty,
            previous_state: ClassicGroupState::Empty,
            state_timestamp_ms: Some(now as i64),
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: Vec::new(),
            static_members: BTreeMap::new(),
            pending_join_members: BTreeSet::new(),
            pending_sync_members: BTreeSet::new(),
            new_member_added: false,
        }
    }

    pub fn is(&self, state: ClassicGroupState) -> bool {
        self.state == state
    }

    /// Moves to `target`; the transition must be one of Kafka's.
    pub fn transition_to(&mut self, target: ClassicGroupState, now: Millis) {
        assert!(
            target.valid_previous(self.state),
            "group {}: invalid transition {:?} -> {:?}",
            self.group_id,
            self.state,
            target
        );
        self.previous_state = self.state;
        self.state = target;
        self.state_timestamp_ms = Some(now as i64);
    }

    pub fn can_rebalance(&self) -> bool {
        ClassicGroupState::PreparingRebalance.valid_previous(self.state)
    }

    pub fn members(&self) -> &[ClassicGroupMember] {
        &self.members
    }

    pub fn num_members(&self) -> usize {
        self.members.len()
    }

    pub fn member(&self, member_id: &str) -> Option<&ClassicGroupMember> {
        self.members.iter().find(|m| m.member_id == member_id)
    }

    pub fn member_mut(&mut self, member_id: &str) -> Option<&mut ClassicGroupMember> {
        self.members.iter_mut().find(|m| m.member_id == member_id)
    }

    pub fn has_member(&self, member_id: &str) -> bool {
        self.member(member_id).is_some()
    }

    pub fn member_ids(&self) -> Vec<String> {
        self.members.iter().map(|m| m.member_id.clone()).collect()
    }

    pub fn static_member_id(&self, instance_id: &str) -> Option<&str> {
        self.static_members.get(instance_id).map(String::as_str)
    }

    pub fn is_leader(&self, member_id: &str) -> bool {
        self.leader_id.as_deref() == Some(member_id)
    }

    pub fn is_pending_member(&self, member_id: &str) -> bool {
        self.pending_join_members.contains(member_id)
    }

    pub fn num_awaiting_join(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.awaiting_join.is_some())
            .count()
    }

    /// Every member has rejoined and no `MEMBER_ID_REQUIRED` member is outstanding.
    pub fn has_all_members_joined(&self) -> bool {
        self.members.len() == self.num_awaiting_join() && self.pending_join_members.is_empty()
    }

    pub fn has_received_sync_from_all(&self) -> bool {
        self.pending_sync_members.is_empty()
    }

    /// The group's rebalance timeout: the largest of its members'.
    pub fn rebalance_timeout_ms(&self) -> u64 {
        self.members
            .iter()
            .map(|m| m.rebalance_timeout_ms.max(0) as u64)
            .max()
            .unwrap_or(0)
    }

    /// Adds a member; the first member fixes the protocol type and becomes leader.
    pub fn add(&mut self, member: ClassicGroupMember) {
        if let Some(instance) = &member.group_instance_id {
            self.static_members
                .insert(instance.clone(), member.member_id.clone());
        }
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        self.pending_join_members.remove(&member.member_id);
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        self.members.push(member);
    }

    /// Removes a member or pending member; a removed leader is replaced by the first member left.
    /// Parked requests of the removed member are returned to the caller unanswered.
    pub fn remove(&mut self, member_id: &str) -> Option<ClassicGroupMember> {
        let removed = self
            .members
            .iter()
            .position(|m| m.member_id == member_id)
            .map(|i| self.members.remove(i));
        if let Some(instance) = removed.as_ref().and_then(|m| m.group_instance_id.as_ref()) {
            self.static_members.remove(instance);
        }
        if self.is_leader(member_id) {
            self.leader_id = self.members.first().map(|m| m.member_id.clone());
        }
        self.pending_join_members.remove(member_id);
        self.pending_sync_members.remove(member_id);
        removed
    }

    /// Replaces the static member `old` by a fresh member id `new` that keeps its assignment, its
    /// leadership and its settings. Returns the old member (its parked requests must be fenced).
    pub fn replace_static_member(
        &mut self,
        instance_id: &str,
        old: &str,
        new: &str,
    ) -> ClassicGroupMember {
        let i = self
            .members
            .iter()
            .position(|m| m.member_id == old)
            .expect("replaced static member exists");
        let removed = self.members.remove(i);
        let mut fresh = removed.clone();
        fresh.member_id = new.to_string();
        fresh.awaiting_join = None;
        fresh.awaiting_sync = None;
        self.members.push(fresh);
        if self.is_leader(old) {
            self.leader_id = Some(new.to_string());
        }
        self.static_members
            .insert(instance_id.to_string(), new.to_string());
        removed
    }

    /// Protocols supported by every member.
    fn candidate_protocols(&self) -> BTreeSet<String> {
        let Some(first) = self.members.first() else {
            return BTreeSet::new();
        };
        first
            .protocols
            .iter()
            .map(|p| p.name.clone())
            .filter(|name| {
                self.members
                    .iter()
                    .all(|m| m.protocols.iter().any(|p| &p.name == name))
            })
            .collect()
    }

    /// Whether a member with this protocol type and these protocols may join (`supportsProtocols`:
    /// one of its protocols is supported by every member, which holds vacuously when a
    /// rebalancing group has lost all its members).
    pub fn supports_protocols(&self, protocol_type: &str, protocols: &[JoinGroupProtocol]) -> bool {
        if self.is(ClassicGroupState::Empty) {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        let supported_by_all = |name: &str| {
            self.members
                .iter()
                .all(|m| m.protocols.iter().any(|p| p.name == name))
        };
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|p| supported_by_all(&p.name))
    }

    /// Each member votes for its most preferred protocol supported by all; most votes wins.
    pub fn select_protocol(&self) -> String {
        let candidates = self.candidate_protocols();
        let mut votes: Vec<(String, usize)> = Vec::new();
        for vote in self.members.iter().filter_map(|m| m.vote(&candidates)) {
            match votes.iter_mut().find(|(n, _)| n == vote) {
                Some((_, count)) => *count += 1,
                None => votes.push((vote.to_string(), 1)),
            }
        }
        let mut best: Option<(String, usize)> = None;
        for (name, count) in votes {
            if best.as_ref().is_none_or(|(_, c)| count > *c) {
                best = Some((name, count));
            }
        }
        best.map(|(n, _)| n).unwrap_or_default()
    }

    /// Keeps the leader if it rejoined, else picks the first rejoined member. False when no member
    /// rejoined (or there is no leader at all).
    pub fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader_id.clone() else {
            return false;
        };
        if self
            .member(&leader)
            .is_some_and(|m| m.awaiting_join.is_some())
        {
            return true;
        }
        match self.members.iter().find(|m| m.awaiting_join.is_some()) {
            Some(m) => {
                self.leader_id = Some(m.member_id.clone());
                true
            }
            None => false,
        }
    }

    /// Bumps the generation; with members, selects the protocol and moves to CompletingRebalance,
    /// otherwise to Empty.
    pub fn init_next_generation(&mut self, now: Millis) {
        self.generation_id += 1;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.transition_to(ClassicGroupState::Empty, now);
        } else {
            self.protocol_name = Some(self.select_protocol());
            self.transition_to(ClassicGroupState::CompletingRebalance, now);
        }
        self.pending_sync_members.clear();
    }

    /// `validateMember`: a known instance id must map to this member id.
    pub fn validate_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<(), ErrorCode> {
        match group_instance_id {
            Some(instance) => match self.static_member_id(instance) {
                None => Err(ErrorCode::UnknownMemberId),
                Some(existing) if existing != member_id => Err(ErrorCode::FencedInstanceId),
                Some(_) => Ok(()),
            },
            None if !self.has_member(member_id) => Err(ErrorCode::UnknownMemberId),
            None => Ok(()),
        }
    }

    /// `validateOffsetCommit` for a classic group. With `ignore_generation` (KAFKA-2555's legacy
    /// behaviour) a stale generation is not an error; with `ignore_member` neither is an unknown
    /// member.
    pub fn validate_offset_commit(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
        ignore_generation: bool,
        ignore_member: bool,
    ) -> Result<(), ErrorCode> {
        use ClassicGroupState::*;
        if self.is(Dead) {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        if generation_id < 0 && self.is(Empty) {
            return Ok(());
        }
        if generation_id >= 0 || !member_id.is_empty() || group_instance_id.is_some() {
            if !ignore_member {
                self.validate_member(member_id, group_instance_id)?;
            }
            if generation_id != self.generation_id && !ignore_generation {
                return Err(ErrorCode::IllegalGeneration);
            }
        } else if !self.is(Empty) {
            return Err(ErrorCode::UnknownMemberId);
        }
        if self.is(CompletingRebalance) {
            return Err(ErrorCode::RebalanceInProgress);
        }
        Ok(())
    }

    /// The leader's member list: every member with its metadata for the selected protocol.
    pub fn members_for_leader(&self) -> Vec<JoinGroupResponseMember> {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        self.members
            .iter()
            .map(|m| JoinGroupResponseMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(&protocol),
            })
            .collect()
    }

    /// The group as a `GroupMetadataValue`, with `assignment` (member id -> assignment).
    pub fn to_record(&self, assignment: &BTreeMap<String, String>) -> GroupMetadataValue {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        GroupMetadataValue {
            group: self.group_id.clone(),
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation_id,
            protocol: self.protocol_name.clone(),
            leader: self.leader_id.clone(),
            current_state_timestamp_ms: self.state_timestamp_ms.unwrap_or(-1),
            members: self
                .members
                .iter()
                .map(|m| MemberMetadataValue {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: m.metadata(&protocol),
                    assignment: assignment.get(&m.member_id).cloned().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// The current assignment of every member.
    pub fn current_assignment(&self) -> BTreeMap<String, String> {
        self.members
            .iter()
            .map(|m| (m.member_id.clone(), m.assignment.clone()))
            .collect()
    }

    /// Rebuilds a group from its stored metadata (`replay(GroupMetadataKey, GroupMetadataValue)`):
    /// Stable with members, Empty without.
    pub fn from_record(value: &GroupMetadataValue) -> Self {
        let protocol = value.protocol.clone().unwrap_or_default();
        let state = if value.members.is_empty() {
            ClassicGroupState::Empty
        } else {
            ClassicGroupState::Stable
        };
        let mut group = ClassicGroup::new(&value.group, 0);
        group.state = state;
        group.previous_state = state;
        group.state_timestamp_ms =
            (value.current_state_timestamp_ms >= 0).then_some(value.current_state_timestamp_ms);
        group.generation_id = value.generation;
        group.protocol_name = value.protocol.clone();
        for m in &value.members {
            let rebalance_timeout_ms = if m.rebalance_timeout_ms == -1 {
                m.session_timeout_ms
            } else {
                m.rebalance_timeout_ms
            };
            group.add(ClassicGroupMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                rebalance_timeout_ms,
                session_timeout_ms: m.session_timeout_ms,
                protocol_type: value.protocol_type.clone(),
                protocols: vec![JoinGroupProtocol {
                    name: protocol.clone(),
                    metadata: m.subscription.clone(),
                }],
                assignment: m.assignment.clone(),
                awaiting_join: None,
                awaiting_sync: None,
                is_new: false,
            });
        }
        group.leader_id = value.leader.clone();
        group.protocol_type =
            (!value.protocol_type.is_empty()).then(|| value.protocol_type.clone());
        group
    }
}
