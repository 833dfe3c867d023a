//! A classic-protocol group coordinator for one `__consumer_offsets` partition, as a sans-IO core
//! behind [`super::groups::GroupCoordinator`]. Rules from Kafka's `GroupMetadataManager` /
//! `ClassicGroup` (see `shared/reference/kafka-group-coordinator.md`): the states and their
//! transitions, JoinGroup with MEMBER_ID_REQUIRED (v4+), the initial rebalance delay and its
//! extension for generation-0 groups, join completion when every member rejoined (or at the
//! rebalance timeout), SyncGroup parked until the leader's assignment, heartbeats with the
//! generation checked before the state, LeaveGroup, session expiry (parked members satisfy it,
//! brand-new ones get 300 s), the sync timeout, static membership replacement, OffsetCommit with
//! member and generation fencing (KAFKA-2555; the `commit_ignores_generation` switch undoes it),
//! OffsetFetch.

pub mod group;
mod handlers;

use super::groups::{CoordinatorOutput, GroupCoordinator, GroupRequest};
use crate::history::EventKind;
use crate::protocol::Millis;
use group::{Group, GroupRecord};
use std::collections::BTreeMap;

/// Kafka's hard-coded join timeout of a brand-new member (`NewMemberJoinTimeoutMs`).
pub const NEW_MEMBER_JOIN_TIMEOUT_MS: u64 = 300_000;

/// Broker-side group settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub min_session_timeout_ms: u64,
    pub max_session_timeout_ms: u64,
    pub initial_rebalance_delay_ms: u64,
    pub max_size: usize,
    pub offset_metadata_max_bytes: usize,
    /// KAFKA-2555 undone: accept commits from stale generations.
    pub commit_ignores_generation: bool,
    /// Broken variant: ignore the stored generation when loading.
    pub forgets_generation: bool,
    /// Makes member ids unique across coordinators: `{group}-{prefix}-{n}`.
    pub member_id_prefix: String,
}

pub struct ClassicCoordinator {
    cfg: Config,
    groups: BTreeMap<String, Group>,
    next_member: u64,
    active: bool,
}

impl ClassicCoordinator {
    pub fn new(cfg: Config) -> Self {
        ClassicCoordinator {
            cfg,
            groups: BTreeMap::new(),
            next_member: 0,
            active: false,
        }
    }

    fn new_member_id(&mut self, base: &str) -> String {
        self.next_member += 1;
        format!("{base}-{}-{}", self.cfg.member_id_prefix, self.next_member)
    }

    fn state_event(g: &Group) -> EventKind {
        EventKind::GroupState {
            group: g.id.clone(),
            state: g.state.name().to_string(),
            generation: g.generation,
            members: g.members.keys().cloned().collect(),
            leader: g.leader.clone(),
        }
    }

    fn group_record(g: &Group) -> (String, Option<String>) {
        let rec = GroupRecord {
            protocol_type: g.protocol_type.clone(),
            generation: g.generation,
            protocol: g.protocol.clone(),
            leader: g.leader.clone(),
            members: g.members.values().cloned().collect(),
        };
        (
            group::group_key(&g.id),
            Some(serde_json::to_string(&rec).expect("json")),
        )
    }
}

impl GroupCoordinator for ClassicCoordinator {
    fn replay(&mut self, key: &str, value: Option<&str>) {
        if let Some(id) = key.strip_prefix("group:") {
            let g = self
                .groups
                .entry(id.to_string())
                .or_insert_with(|| Group::new(id));
            match value.and_then(|v| serde_json::from_str::<GroupRecord>(v).ok()) {
                Some(rec) => {
                    g.generation = if self.cfg.forgets_generation {
                        0
                    } else {
                        rec.generation
                    };
                    g.protocol_type = rec.protocol_type;
                    g.protocol = rec.protocol;
                    g.leader = rec.leader;
                    g.members = rec
                        .members
                        .into_iter()
                        .map(|m| (m.member_id.clone(), m))
                        .collect();
                    g.state = if g.members.is_empty() {
                        group::State::Empty
                    } else {
                        group::State::Stable
                    };
                }
                None => g.state = group::State::Dead,
            }
        } else if let Some((id, tp)) = group::parse_offset_key(key) {
            let g = self
                .groups
                .entry(id.clone())
                .or_insert_with(|| Group::new(&id));
            match value.and_then(|v| serde_json::from_str(v).ok()) {
                Some(o) => {
                    g.offsets.insert(tp, o);
                }
                None => {
                    g.offsets.remove(&tp);
                }
            }
        }
    }

    fn activate(&mut self, now: Millis) -> CoordinatorOutput {
        self.active = true;
        let mut out = CoordinatorOutput::default();
        for g in self.groups.values_mut() {
            for m in g.members.values_mut() {
                m.session_deadline = now + m.session_timeout_ms;
            }
            out.events.push(Self::state_event(g));
        }
        out
    }

    fn handle(&mut self, now: Millis, token: u64, request: GroupRequest) -> CoordinatorOutput {
        let mut out = CoordinatorOutput::default();
        match request {
            GroupRequest::JoinGroup(r) => self.handle_join(now, token, r, &mut out),
            GroupRequest::SyncGroup(r) => self.handle_sync(now, token, r, &mut out),
            GroupRequest::Heartbeat(r) => self.handle_heartbeat(now, token, r, &mut out),
            GroupRequest::LeaveGroup(r) => self.handle_leave(now, token, r, &mut out),
            GroupRequest::OffsetCommit(r) => self.handle_commit(now, token, r, &mut out),
            GroupRequest::OffsetFetch(r) => self.handle_fetch(token, r, &mut out),
        }
        out
    }

    fn tick(&mut self, now: Millis) -> CoordinatorOutput {
        let mut out = CoordinatorOutput::default();
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            self.tick_group(now, &id, &mut out);
        }
        out
    }

    fn next_deadline(&self) -> Option<Millis> {
        if !self.active {
            return None;
        }
        self.groups
            .values()
            .filter_map(handlers::group_deadline)
            .min()
    }
}
