//! The group coordinator core ([`crate::coordinator::GroupCoordinator`], the one `kafkasim script`
//! tests) as a broker hosts it: the adapter between the core's API and the broker's.
//!
//! * Types: the broker speaks the client protocol (`crate::protocol::group`), the core Kafka's
//!   request and response data (`crate::coordinator::api`). Consumers send JoinGroup v9 (so new
//!   dynamic members get MEMBER_ID_REQUIRED, KIP-394, and a replaced static leader may skip the
//!   assignment, KIP-814) and OffsetCommit v8 (an unknown group with a generation gets
//!   ILLEGAL_GENERATION). The client id, the base of a member id, is the group id.
//! * Records: each [`CoordinatorRecord`] is stored in `__consumer_offsets` as its
//!   `(key, value)` strings ([`CoordinatorRecord::to_key_value`]).
//! * History: the checkers follow a group through `GroupState` events. The core does not know
//!   the history, so after every step the adapter compares each group with what it last announced
//!   and announces the groups that changed (state, generation, members or leader); timers due
//!   before a request fire first, as their own step, so a request is judged against the view they
//!   left. An accepted OffsetCommit (its records handed to the host) is `CommitApplied`, an
//!   answered OffsetFetch `OffsetsServed`.

use super::groups::CoordinatorOutput;
use crate::coordinator::{self as core, api, CoordinatorConfig, CoordinatorRecord, RequestToken};
use crate::history::EventKind;
use crate::protocol::group::*;
use crate::protocol::message::Response;
use crate::protocol::{ErrorCode, Millis, TopicPartition};
use std::collections::BTreeMap;

/// A group as the history last heard of it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct GroupView {
    state: &'static str,
    generation: i32,
    /// Sorted.
    members: Vec<String>,
    leader: Option<String>,
}

impl GroupView {
    /// A group never announced: what a new group looks like (no event until it changes).
    fn fresh() -> Self {
        GroupView {
            state: "Empty",
            generation: 0,
            members: Vec::new(),
            leader: None,
        }
    }

    fn of(g: &core::ClassicGroup) -> Self {
        let mut members = g.member_ids();
        members.sort();
        GroupView {
            state: g.state.name(),
            generation: g.generation_id,
            members,
            leader: g.leader_id.clone(),
        }
    }

    fn event(&self, group: &str) -> EventKind {
        EventKind::GroupState {
            group: group.to_string(),
            state: self.state.to_string(),
            generation: self.generation,
            members: self.members.clone(),
            leader: self.leader.clone(),
        }
    }
}

/// Which groups a step of the core may have changed: comparing only those keeps a request's
/// cost independent of how many groups the coordinator holds.
#[derive(Clone, Copy)]
enum Touched<'a> {
    Nothing,
    One(&'a str),
    All,
}

/// The coordinator core of one `__consumer_offsets` partition, hosted by a broker.
pub struct HostedCoordinator {
    core: core::GroupCoordinator,
    announced: BTreeMap<String, GroupView>,
}

impl HostedCoordinator {
    /// A coordinator about to load its partition (the host replays the log, then activates it).
    pub fn new(config: CoordinatorConfig, now: Millis) -> Self {
        let mut core = core::GroupCoordinator::new(config, now);
        let out = core.begin_loading(now);
        debug_assert!(out.is_empty(), "a new coordinator has nothing to unload");
        HostedCoordinator {
            core,
            announced: BTreeMap::new(),
        }
    }

    /// Translates one output of the core, announcing the groups that changed.
    fn output(&mut self, out: core::CoordinatorOutput, touched: Touched) -> CoordinatorOutput {
        let mut result = CoordinatorOutput {
            appends: out
                .appends
                .iter()
                .map(|a| (a.id.0, a.records.iter().map(|r| r.to_key_value()).collect()))
                .collect(),
            responses: out
                .responses
                .into_iter()
                .map(|(t, r)| (t.0, to_response(r)))
                .collect(),
            events: Vec::new(),
        };
        self.announce_changes(&mut result.events, touched);
        result
    }

    fn announce_changes(&mut self, events: &mut Vec<EventKind>, touched: Touched) {
        let candidates: Vec<String> = match touched {
            Touched::Nothing => return,
            Touched::One(id) => vec![id.to_string()],
            Touched::All => self.core.group_ids().cloned().collect(),
        };
        for id in &candidates {
            let Some(group) = self.core.group(id) else {
                continue;
            };
            let view = GroupView::of(group);
            let unchanged = match self.announced.get(id) {
                Some(before) => *before == view,
                None => view == GroupView::fresh(),
            };
            if !unchanged {
                events.push(view.event(id));
                self.announced.insert(id.clone(), view);
            }
        }
        let removed: Vec<String> = match touched {
            Touched::One(_) => candidates,
            _ => self.announced.keys().cloned().collect(),
        }
        .into_iter()
        .filter(|id| self.announced.contains_key(id) && self.core.group(id).is_none())
        .collect();
        for id in removed {
            let last = self.announced.remove(&id).expect("listed");
            let dead = GroupView {
                state: "Dead",
                members: Vec::new(),
                leader: None,
                ..last
            };
            events.push(dead.event(&id));
        }
    }
}

/// What the broker drives (`groups::GroupHost`): load, requests, timers, append outcomes, unload.
impl HostedCoordinator {
    /// Applies one record of the partition while loading.
    pub fn replay(&mut self, key: &str, value: Option<&str>) {
        if let Some(record) = CoordinatorRecord::from_key_value(key, value) {
            self.core.replay(&record);
        }
    }

    /// Loading is over: the coordinator becomes active at `now` (schedules session timers).
    /// Every loaded group is announced, changed or not: a new coordinator speaks for it now.
    pub fn activate(&mut self, now: Millis) -> CoordinatorOutput {
        let out = self.core.complete_loading(now);
        let mut events = Vec::new();
        for id in self.core.group_ids() {
            let view = GroupView::of(self.core.group(id).expect("listed"));
            events.push(view.event(id));
            self.announced.insert(id.clone(), view);
        }
        let mut result = self.output(out, Touched::All);
        events.append(&mut result.events);
        result.events = events;
        result
    }

    pub fn handle(&mut self, now: Millis, token: u64, request: GroupRequest) -> CoordinatorOutput {
        let mut result = self.tick(now);
        let out = self
            .core
            .handle(now, RequestToken(token), to_request(&request));
        let applied = accepted_commit(&request, &out);
        // A request changes its own group only (due timers fired in the tick above).
        let mut step = self.output(out, Touched::One(request.group_id()));
        step.events.extend(applied);
        if let GroupRequest::OffsetFetch(r) = &request {
            step.events
                .extend(served_offsets(&r.group_id, token, &step));
        }
        result.extend(step);
        result
    }

    pub fn tick(&mut self, now: Millis) -> CoordinatorOutput {
        let due = self.core.next_deadline().is_some_and(|d| d <= now);
        let out = self.core.tick(now);
        self.output(out, if due { Touched::All } else { Touched::Nothing })
    }

    /// The outcome of appending batch `id`: `Ok` once it is in the log, or the append's error
    /// (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS).
    pub fn append_completed(
        &mut self,
        now: Millis,
        id: u64,
        result: Result<(), ErrorCode>,
    ) -> CoordinatorOutput {
        let out = self.core.append_completed(now, api::AppendId(id), result);
        self.output(out, Touched::All)
    }

    /// Leadership moved away: requests parked in the core are answered (NOT_COORDINATOR).
    pub fn unload(&mut self, now: Millis) -> CoordinatorOutput {
        let out = self.core.unload(now, core::PartitionStatus::NotCoordinator);
        // The groups leave with this coordinator; its successor announces them when it loads.
        self.announced.clear();
        self.output(out, Touched::Nothing)
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.core.next_deadline()
    }
}

/// `CommitApplied` for an OffsetCommit whose records the core handed out for appending.
fn accepted_commit(request: &GroupRequest, out: &core::CoordinatorOutput) -> Option<EventKind> {
    let GroupRequest::OffsetCommit(r) = request else {
        return None;
    };
    let offsets: Vec<(TopicPartition, u64)> = out
        .records()
        .filter_map(|record| match record {
            CoordinatorRecord::OffsetCommit(v) if v.group == r.group_id => Some((
                TopicPartition::new(v.topic.clone(), v.partition),
                v.offset.max(0) as u64,
            )),
            _ => None,
        })
        .collect();
    (!offsets.is_empty()).then(|| EventKind::CommitApplied {
        group: r.group_id.clone(),
        generation: r.generation_id,
        member_id: r.member_id.clone(),
        offsets,
    })
}

/// `OffsetsServed` for a successful OffsetFetch answer.
fn served_offsets(group: &str, token: u64, step: &CoordinatorOutput) -> Option<EventKind> {
    step.responses.iter().find_map(|(t, r)| match r {
        Response::OffsetFetch(f) if *t == token && f.error.is_ok() => {
            Some(EventKind::OffsetsServed {
                group: group.to_string(),
                offsets: f
                    .partitions
                    .iter()
                    .map(|p| (p.tp.clone(), p.offset))
                    .collect(),
            })
        }
        _ => None,
    })
}

/// Builds the coordinator config of partition `partition` from the broker's settings.
pub fn config(
    partition: u32,
    partitions: u32,
    member_id_seed: String,
    cfg: &super::BrokerConfig,
) -> CoordinatorConfig {
    let c = &cfg.cluster;
    CoordinatorConfig {
        group_min_session_timeout_ms: clamp_i32(c.group_min_session_timeout_ms),
        group_max_session_timeout_ms: clamp_i32(c.group_max_session_timeout_ms),
        group_initial_rebalance_delay_ms: c.group_initial_rebalance_delay_ms,
        group_max_size: c.group_max_size as usize,
        offset_metadata_max_bytes: c.offset_metadata_max_bytes as usize,
        // The simulation's switch is the blind commit of S14: an evicted member's commit too.
        commit_ignores_generation: cfg.switches.commit_ignores_generation,
        commit_ignores_member: cfg.switches.commit_ignores_generation,
        forget_generation_on_load: cfg.switches.coordinator_forgets_generation,
        // KafkaApis answers UNKNOWN_TOPIC_OR_PARTITION for commits outside the metadata.
        cluster_topics: Some(
            cfg.topics
                .iter()
                .map(|(name, t)| (name.clone(), t.partitions))
                .collect(),
        ),
        offsets_partition: Some((partition, partitions)),
        member_id_seed,
        ..CoordinatorConfig::default()
    }
}

fn clamp_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn to_request(request: &GroupRequest) -> api::GroupRequest {
    match request.clone() {
        GroupRequest::JoinGroup(r) => api::GroupRequest::JoinGroup(api::JoinGroupRequest {
            client_id: r.group_id.clone(),
            group_id: r.group_id,
            session_timeout_ms: clamp_i32(r.session_timeout_ms),
            rebalance_timeout_ms: clamp_i32(r.rebalance_timeout_ms),
            member_id: r.member_id,
            group_instance_id: r.group_instance_id,
            protocol_type: r.protocol_type,
            protocols: r
                .protocols
                .into_iter()
                .map(|(name, metadata)| api::JoinGroupProtocol { name, metadata })
                .collect(),
            reason: Some(r.reason).filter(|s| !s.is_empty()),
            client_host: String::new(),
            require_known_member_id: true,
            support_skipping_assignment: true,
        }),
        GroupRequest::SyncGroup(r) => api::GroupRequest::SyncGroup(api::SyncGroupRequest {
            group_id: r.group_id,
            generation_id: r.generation_id,
            member_id: r.member_id,
            group_instance_id: r.group_instance_id,
            protocol_type: None,
            protocol_name: None,
            assignments: r.assignments,
        }),
        GroupRequest::Heartbeat(r) => api::GroupRequest::Heartbeat(api::HeartbeatRequest {
            group_id: r.group_id,
            generation_id: r.generation_id,
            member_id: r.member_id,
            group_instance_id: r.group_instance_id,
        }),
        GroupRequest::LeaveGroup(r) => api::GroupRequest::LeaveGroup(api::LeaveGroupRequest {
            group_id: r.group_id,
            members: r
                .members
                .into_iter()
                .map(|(member_id, group_instance_id)| api::MemberIdentity {
                    member_id,
                    group_instance_id,
                    reason: Some(r.reason.clone()).filter(|s| !s.is_empty()),
                })
                .collect(),
        }),
        GroupRequest::OffsetCommit(r) => {
            api::GroupRequest::OffsetCommit(api::OffsetCommitRequest {
                group_id: r.group_id,
                generation_id: r.generation_id,
                member_id: r.member_id,
                group_instance_id: r.group_instance_id,
                api_version: 8,
                partitions: r
                    .offsets
                    .into_iter()
                    .map(
                        |(tp, offset, leader_epoch, metadata)| api::OffsetCommitPartition {
                            tp,
                            offset: offset as i64,
                            leader_epoch,
                            metadata: Some(metadata),
                        },
                    )
                    .collect(),
            })
        }
        GroupRequest::OffsetFetch(r) => api::GroupRequest::OffsetFetch(api::OffsetFetchRequest {
            group_id: r.group_id,
            partitions: r.partitions,
            require_stable: false,
        }),
    }
}

fn to_response(response: api::GroupResponse) -> Response {
    match response {
        api::GroupResponse::JoinGroup(r) => Response::JoinGroup(JoinGroupResponse {
            error: r.error,
            generation_id: r.generation_id,
            protocol_name: r.protocol_name,
            leader: r.leader,
            member_id: r.member_id,
            members: r
                .members
                .into_iter()
                .map(|m| JoinGroupMember {
                    member_id: m.member_id,
                    group_instance_id: m.group_instance_id,
                    metadata: m.metadata,
                })
                .collect(),
            skip_assignment: r.skip_assignment,
        }),
        api::GroupResponse::SyncGroup(r) => Response::SyncGroup(SyncGroupResponse {
            error: r.error,
            assignment: r.assignment,
        }),
        api::GroupResponse::Heartbeat(r) => {
            Response::Heartbeat(HeartbeatResponse { error: r.error })
        }
        api::GroupResponse::LeaveGroup(r) => Response::LeaveGroup(LeaveGroupResponse {
            error: r.error,
            members: r
                .members
                .into_iter()
                .map(|m| (m.member_id, m.error))
                .collect(),
        }),
        api::GroupResponse::OffsetCommit(r) => Response::OffsetCommit(OffsetCommitResponse {
            partitions: r.partitions,
        }),
        api::GroupResponse::OffsetFetch(r) => Response::OffsetFetch(OffsetFetchResponse {
            error: r.error,
            partitions: r
                .partitions
                .into_iter()
                .map(|p| FetchedOffset {
                    tp: p.tp,
                    offset: u64::try_from(p.offset).ok(),
                    leader_epoch: p.leader_epoch,
                    metadata: p.metadata,
                    error: p.error,
                })
                .collect(),
        }),
        api::GroupResponse::DescribeGroups(_) | api::GroupResponse::DeleteGroups(_) => {
            unreachable!("brokers send their coordinator no DescribeGroups or DeleteGroups")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::BrokerConfig;

    fn broker_config() -> BrokerConfig {
        let topic: crate::config::TopicConfig =
            toml::from_str("name = \"orders\"\npartitions = 2\nreplication_factor = 3")
                .expect("topic");
        BrokerConfig {
            cluster: toml::from_str("brokers = 3").expect("cluster"),
            topics: BTreeMap::from([("orders".to_string(), topic)]),
            switches: Default::default(),
        }
    }

    fn commit_errors(c: &mut HostedCoordinator, token: u64, tp: TopicPartition) -> Vec<ErrorCode> {
        let request = GroupRequest::OffsetCommit(OffsetCommitRequest {
            group_id: "g".into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
            offsets: vec![(tp, 5, None, String::new())],
        });
        let mut out = c.handle(token, token, request);
        // An accepted commit is answered once its records are appended.
        for (id, _) in std::mem::take(&mut out.appends) {
            out.extend(c.append_completed(token, id, Ok(())));
        }
        out.responses
            .into_iter()
            .flat_map(|(_, r)| match r {
                Response::OffsetCommit(r) => r.partitions.into_iter().map(|p| p.1).collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The hosted coordinator knows the cluster's topics: a commit outside them is answered
    /// UNKNOWN_TOPIC_OR_PARTITION, as KafkaApis does before the coordinator sees it.
    #[test]
    fn a_commit_outside_the_clusters_topics_is_unknown_topic_or_partition() {
        let cfg = broker_config();
        let mut c = HostedCoordinator::new(config(0, 1, "b1e0".into(), &cfg), 0);
        c.activate(0);
        let unknown = vec![ErrorCode::UnknownTopicOrPartition];
        assert_eq!(
            commit_errors(&mut c, 1, TopicPartition::new("orders", 1)),
            vec![ErrorCode::None]
        );
        assert_eq!(
            commit_errors(&mut c, 2, TopicPartition::new("orders", 2)),
            unknown
        );
        assert_eq!(
            commit_errors(&mut c, 3, TopicPartition::new("nope", 0)),
            unknown
        );
    }
}
