//! The consumer's group membership (Kafka's `AbstractCoordinator` + `ConsumerCoordinator`):
//! find the coordinator, join (MEMBER_ID_REQUIRED retry, the leader runs the assignor), sync,
//! heartbeat from the end of the join until the member leaves or fails, and react to each error
//! as Kafka's client does:
//!
//! * REBALANCE_IN_PROGRESS: rejoin (eager members revoke everything first; cooperative members
//!   keep what they own and revoke only what the new assignment moves, then rejoin once more).
//! * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID: the member lost its partitions (`onPartitionsLost`)
//!   and rejoins (without member id for UNKNOWN_MEMBER_ID).
//! * FENCED_INSTANCE_ID: fatal; the consumer stops (`FencedInstanceIdException`).
//! * A heartbeat's error counts only if the member is still in the generation the heartbeat was
//!   sent with (`generationUnchanged`), and REBALANCE_IN_PROGRESS only from a stable member.
//! * One JoinGroup at a time (`joinFuture`). It waits `request.timeout.ms`, not Kafka's
//!   `max(request.timeout.ms, rebalance timeout + 5 s)`: kafkasim has no disconnects that would
//!   fail it at once when its coordinator dies.
//! * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE / a timeout: rediscover the coordinator.
//!
//! A member heartbeats in COMPLETING_REBALANCE and STABLE only (`hasNotJoinedGroup` disables the
//! heartbeat thread while joining). When the application does not poll within
//! `max.poll.interval.ms`, a dynamic member leaves the group (a static one does not, KIP-345)
//! and either forgets its generation and member id.
//!
//! As in Kafka, a member whose generation is reset while it is stable keeps its assignment until
//! its next `poll()`, whose `onJoinPrepare` gives it away as lost; a `commitSync` before that
//! poll fails in the client with `CommitFailedException` (no request is sent).

use super::{Consumer, Inflight, SentGeneration, Timer, RETRY_BACKOFF_MS};
use crate::config::AssignorName;
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::group::*;
use crate::protocol::message::{Request, Response};
use crate::protocol::{ErrorCode, Millis, NodeId, TopicPartition};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not in the group; will join at the next poll.
    Unjoined,
    /// JoinGroup sent.
    Joining,
    /// SyncGroup sent.
    Syncing,
    Stable,
    /// Stopped for good (fenced static member, group full, inconsistent protocol).
    Fatal(ErrorCode),
}

#[derive(Clone, Debug)]
pub struct Membership {
    pub instance_id: Option<String>,
    pub member_id: String,
    pub generation: i32,
    pub state: State,
    /// Must (re)join at the next poll boundary.
    pub rejoin_needed: bool,
    pub owned: BTreeSet<TopicPartition>,
    /// The generation and member id `owned` was assigned under, kept when the generation is
    /// reset: Kafka's `resetStateAndGeneration` leaves the assignment alone, and the next
    /// `poll()` gives it away as lost in `onJoinPrepare`.
    pub lost_pending: Option<(i32, String)>,
    /// The eager `StickyAssignor`'s own memory of its last assignment and its generation, sent
    /// as subscription userData. Kafka keeps it across a lost generation (only the next
    /// assignment replaces it), so an evicted member claims partitions from an old generation.
    pub sticky_user_data: Option<(i32, Vec<TopicPartition>)>,
    /// The leader's `assignmentSnapshot`: the partition count of every topic the group
    /// subscribes to, as its metadata had them when it ran the assignor. When the metadata no
    /// longer matches (a topic appeared or grew), the leader rejoins so the group is assigned
    /// again (Kafka's `rejoinNeededOrPending`: "cached metadata has changed").
    pub assignment_snapshot: Option<BTreeMap<String, Option<u32>>>,
    pub backoff_until: Millis,
    heartbeat_timer: Option<crate::timer::TimerId>,
}

impl Membership {
    pub fn new(instance_id: Option<String>) -> Self {
        Membership {
            instance_id,
            member_id: String::new(),
            generation: NO_GENERATION,
            state: State::Unjoined,
            rejoin_needed: true,
            owned: BTreeSet::new(),
            lost_pending: None,
            sticky_user_data: None,
            assignment_snapshot: None,
            backoff_until: 0,
            heartbeat_timer: None,
        }
    }

    pub fn is_fatal(&self) -> bool {
        matches!(self.state, State::Fatal(_))
    }

    /// Part of a generation with an assignment, not about to rejoin.
    pub fn is_stable(&self) -> bool {
        self.state == State::Stable && !self.rejoin_needed
    }
}

impl Consumer {
    fn group(&self) -> String {
        self.cfg.id.clone()
    }

    /// Finds the coordinator, or joins when a rejoin is needed and the application is at a poll
    /// boundary (Kafka rejoins inside `poll()`).
    pub(super) fn drive_membership(&mut self, now: Millis, out: &mut Effects) {
        if now < self.member.backoff_until {
            self.wake(self.member.backoff_until);
            return;
        }
        if self.coordinator.is_none() {
            if !self.has_inflight(|k| matches!(k, Inflight::FindCoordinator)) {
                let broker = self.net.metadata.next_bootstrap();
                let req = FindCoordinatorRequest {
                    group_id: self.group(),
                };
                self.send_request(
                    now,
                    NodeId::Broker(broker),
                    Inflight::FindCoordinator,
                    Request::FindCoordinator(req),
                    out,
                );
            }
            return;
        }
        self.rejoin_if_metadata_changed();
        // Kafka's `joinFuture`: while a JoinGroup is in flight no other is sent, even if the
        // member was reset meanwhile; its answer is then ignored and the member joins again.
        let joining = matches!(self.member.state, State::Joining | State::Syncing)
            || self.has_inflight(|k| matches!(k, Inflight::JoinGroup));
        if self.member.rejoin_needed
            && !joining
            && self.app.at_poll_boundary()
            && self.ready_to_join(now, out)
        {
            self.send_join(now, out);
        }
    }

    /// The leader assigned with metadata that has changed since: rejoin.
    fn rejoin_if_metadata_changed(&mut self) {
        let Some(snapshot) = &self.member.assignment_snapshot else {
            return;
        };
        if self.member.state != State::Stable {
            return;
        }
        let changed = snapshot
            .iter()
            .any(|(topic, count)| self.net.metadata.partition_count(topic) != *count);
        if changed {
            tracing::debug!(?snapshot, "cached metadata has changed: rejoin");
            self.member.assignment_snapshot = None;
            self.member.rejoin_needed = true;
        }
    }

    /// `onJoinPrepare`: auto-commit before an eager rebalance; a member whose generation was
    /// reset gives everything away as lost; eager members revoke everything.
    fn ready_to_join(&mut self, now: Millis, out: &mut Effects) -> bool {
        if self
            .app
            .commit_before_rebalance_needed(&self.cfg, &self.member)
        {
            self.commit_positions(now, super::app::CommitPurpose::BeforeRebalance, out);
            return false;
        }
        if let Some((generation, member_id)) = self.member.lost_pending.take() {
            self.give_up_all(generation, member_id, true, out);
        }
        if !self.cfg.assignor.cooperative() && !self.keeps_partitions_on_rejoin {
            self.revoke_all(false, out);
        }
        true
    }

    fn send_join(&mut self, now: Millis, out: &mut Effects) {
        let Some(coordinator) = self.coordinator else {
            return;
        };
        let (generation, owned) = match (self.cfg.assignor, &self.member.sticky_user_data) {
            // KIP-429: cooperative members list what they still own.
            (a, _) if a.cooperative() => (
                self.member.generation,
                self.member.owned.iter().cloned().collect(),
            ),
            // StickyAssignor.subscriptionUserData: its last assignment, with that generation.
            (AssignorName::Sticky, Some((g, parts))) => (*g, parts.clone()),
            // Eager members revoked everything before joining.
            _ => (self.member.generation, Vec::new()),
        };
        let sub = Subscription {
            topics: self.cfg.topics.clone(),
            owned,
            generation,
        };
        let req = JoinGroupRequest {
            group_id: self.group(),
            member_id: self.member.member_id.clone(),
            group_instance_id: self.member.instance_id.clone(),
            session_timeout_ms: self.cfg.session_timeout_ms,
            rebalance_timeout_ms: self.cfg.max_poll_interval_ms,
            protocol_type: "consumer".into(),
            protocols: vec![(
                self.cfg.assignor.protocol_name().into(),
                serde_json::to_string(&sub).expect("json"),
            )],
            reason: "rebalance needed".into(),
        };
        self.member.state = State::Joining;
        self.stop_heartbeats();
        self.send_request(
            now,
            NodeId::Broker(coordinator),
            Inflight::JoinGroup,
            Request::Group(GroupRequest::JoinGroup(req)),
            out,
        );
    }

    /// Gives up partitions: `lost` when the member was fenced (no commit possible).
    pub(super) fn revoke(&mut self, partitions: &[TopicPartition], lost: bool, out: &mut Effects) {
        let (generation, member_id) = (self.member.generation, self.member.member_id.clone());
        self.give_up(partitions, generation, member_id, lost, out);
    }

    /// Gives up every owned partition, as assigned in the current generation.
    fn revoke_all(&mut self, lost: bool, out: &mut Effects) {
        let (generation, member_id) = (self.member.generation, self.member.member_id.clone());
        self.give_up_all(generation, member_id, lost, out);
    }

    /// Gives up every owned partition, as assigned in `generation` to `member_id`.
    fn give_up_all(&mut self, generation: i32, member_id: String, lost: bool, out: &mut Effects) {
        let all: Vec<TopicPartition> = self.member.owned.iter().cloned().collect();
        self.give_up(&all, generation, member_id, lost, out);
    }

    /// Gives up partitions assigned in `generation` to `member_id`.
    fn give_up(
        &mut self,
        partitions: &[TopicPartition],
        generation: i32,
        member_id: String,
        lost: bool,
        out: &mut Effects,
    ) {
        if partitions.is_empty() {
            return;
        }
        for tp in partitions {
            self.member.owned.remove(tp);
            self.app.forget(tp);
        }
        out.event(EventKind::Revoked {
            group: self.group(),
            generation,
            member_id,
            partitions: partitions.to_vec(),
            lost,
        });
    }

    /// The member is out of its generation (`resetStateAndGeneration`) and must rejoin.
    ///
    /// A stable member (reset by a heartbeat or commit error, or by `max.poll.interval.ms`)
    /// keeps its assignment until the next poll, whose `onJoinPrepare` gives it away as lost;
    /// until then a `commitSync` fails in the client (`CommitFailedException`). A member reset
    /// while joining has been through `onJoinPrepare` already and loses its partitions at once.
    pub(super) fn reset_generation(&mut self, forget_member_id: bool, out: &mut Effects) {
        if self.member.state != State::Stable {
            self.revoke_all(true, out);
        } else if !self.member.owned.is_empty() && self.member.lost_pending.is_none() {
            self.member.lost_pending =
                Some((self.member.generation, self.member.member_id.clone()));
        }
        self.member.generation = NO_GENERATION;
        if forget_member_id {
            self.member.member_id.clear();
        }
        self.member.state = State::Unjoined;
        self.member.rejoin_needed = true;
        self.stop_heartbeats();
    }

    fn coordinator_lost(&mut self, now: Millis) {
        self.coordinator = None;
        self.member.backoff_until = now + RETRY_BACKOFF_MS;
    }

    fn fatal(&mut self, error: ErrorCode, out: &mut Effects) {
        self.revoke_all(true, out);
        self.member.state = State::Fatal(error);
        self.stop_heartbeats();
        out.event(EventKind::MemberLeft {
            group: self.group(),
            member_id: self.member.member_id.clone(),
            reason: format!("fatal {error}"),
        });
    }

    /// Handles a membership response; returns false if `kind` is not a membership request.
    pub(super) fn on_membership_response(
        &mut self,
        now: Millis,
        kind: &Inflight,
        body: &Response,
        out: &mut Effects,
    ) -> bool {
        match (kind, body) {
            (Inflight::FindCoordinator, Response::FindCoordinator(r)) => {
                if r.error.is_ok() {
                    self.coordinator = r.coordinator;
                } else {
                    self.member.backoff_until = now + RETRY_BACKOFF_MS;
                }
            }
            (Inflight::JoinGroup, Response::JoinGroup(r)) => self.on_join(now, r.clone(), out),
            (Inflight::SyncGroup, Response::SyncGroup(r)) => self.on_sync(now, r.clone(), out),
            (Inflight::Heartbeat(sent), Response::Heartbeat(r)) => {
                self.on_heartbeat(now, sent, r.error, out)
            }
            (Inflight::LeaveGroup, Response::LeaveGroup(_)) => {}
            _ => return false,
        }
        true
    }

    pub(super) fn membership_timeout(&mut self, now: Millis, kind: Inflight, _out: &mut Effects) {
        // No answer: the coordinator may be gone. Kafka marks it unknown and rediscovers it.
        if matches!(kind, Inflight::JoinGroup | Inflight::SyncGroup) {
            self.member.state = State::Unjoined;
            self.member.rejoin_needed = true;
        }
        if !matches!(kind, Inflight::LeaveGroup) {
            self.coordinator_lost(now);
        }
    }

    fn on_join(&mut self, now: Millis, r: JoinGroupResponse, out: &mut Effects) {
        if self.member.state != State::Joining {
            return;
        }
        self.member.state = State::Unjoined;
        match r.error {
            ErrorCode::None => {}
            ErrorCode::MemberIdRequired => {
                self.member.member_id = r.member_id;
                return;
            }
            ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration => {
                return self.reset_generation(r.error == ErrorCode::UnknownMemberId, out)
            }
            ErrorCode::FencedInstanceId
            | ErrorCode::GroupMaxSizeReached
            | ErrorCode::InconsistentGroupProtocol => return self.fatal(r.error, out),
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                return self.coordinator_lost(now)
            }
            _ => {
                self.member.backoff_until = now + RETRY_BACKOFF_MS;
                return;
            }
        }
        self.member.member_id = r.member_id.clone();
        self.member.generation = r.generation_id;
        let leader = r.leader == r.member_id && !r.skip_assignment;
        out.event(EventKind::MemberJoined {
            group: self.group(),
            generation: r.generation_id,
            member_id: r.member_id.clone(),
            leader,
        });
        let assignments = if leader {
            self.run_assignor(&r)
        } else {
            // Only the leader watches the metadata for changes.
            self.member.assignment_snapshot = None;
            Vec::new()
        };
        let req = SyncGroupRequest {
            group_id: self.group(),
            generation_id: r.generation_id,
            member_id: r.member_id,
            group_instance_id: self.member.instance_id.clone(),
            assignments,
        };
        let Some(coordinator) = self.coordinator else {
            // The coordinator was marked unknown while the join was in flight: Kafka's
            // `sendSyncGroupRequest` fails with COORDINATOR_NOT_AVAILABLE and the member
            // rediscovers the coordinator and joins again.
            self.member.rejoin_needed = true;
            return;
        };
        self.member.state = State::Syncing;
        self.start_heartbeats(now);
        self.send_request(
            now,
            NodeId::Broker(coordinator),
            Inflight::SyncGroup,
            Request::Group(GroupRequest::SyncGroup(req)),
            out,
        );
    }

    fn run_assignor(&mut self, r: &JoinGroupResponse) -> Vec<(String, String)> {
        let members: Vec<(String, Option<String>, Subscription)> = r
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.clone(),
                    m.group_instance_id.clone(),
                    serde_json::from_str(&m.metadata).unwrap_or_default(),
                )
            })
            .collect();
        tracing::debug!(?members, "the leader runs the assignor");
        let snapshot: BTreeMap<String, Option<u32>> = members
            .iter()
            .flat_map(|m| m.2.topics.iter())
            .map(|t| (t.clone(), self.net.metadata.partition_count(t)))
            .collect();
        // The assignor sees the topics the metadata knows.
        let topics = snapshot
            .iter()
            .filter_map(|(t, n)| n.map(|n| (t.clone(), n)))
            .collect();
        self.member.assignment_snapshot = Some(snapshot);
        super::assign::assign(
            self.cfg.assignor,
            &topics,
            &members,
            self.trusts_stale_owned,
        )
        .into_iter()
        .map(|(m, parts)| {
            (
                m,
                serde_json::to_string(&Assignment { partitions: parts }).expect("json"),
            )
        })
        .collect()
    }

    fn on_sync(&mut self, now: Millis, r: SyncGroupResponse, out: &mut Effects) {
        if self.member.state != State::Syncing {
            return;
        }
        match r.error {
            ErrorCode::None => {}
            ErrorCode::RebalanceInProgress => {
                self.member.state = State::Unjoined;
                self.member.rejoin_needed = true;
                return;
            }
            ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration => {
                return self.reset_generation(r.error == ErrorCode::UnknownMemberId, out)
            }
            ErrorCode::FencedInstanceId => return self.fatal(r.error, out),
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                self.member.state = State::Unjoined;
                self.member.rejoin_needed = true;
                return self.coordinator_lost(now);
            }
            _ => {
                self.member.state = State::Unjoined;
                self.member.rejoin_needed = true;
                self.member.backoff_until = now + RETRY_BACKOFF_MS;
                return;
            }
        }
        let assigned: BTreeSet<TopicPartition> = serde_json::from_str::<Assignment>(&r.assignment)
            .map(|a| a.partitions.into_iter().collect())
            .unwrap_or_default();
        let revoked: Vec<TopicPartition> =
            self.member.owned.difference(&assigned).cloned().collect();
        self.revoke(&revoked, false, out);
        self.member.owned = assigned;
        self.member.sticky_user_data = Some((
            self.member.generation,
            self.member.owned.iter().cloned().collect(),
        ));
        self.member.state = State::Stable;
        // Cooperative: what moved away was revoked now; its new owner gets it next round.
        self.member.rejoin_needed = !revoked.is_empty() && self.cfg.assignor.cooperative();
        out.event(EventKind::Assigned {
            group: self.group(),
            generation: self.member.generation,
            member_id: self.member.member_id.clone(),
            partitions: self.member.owned.iter().cloned().collect(),
        });
        self.app.on_assigned(&self.member.owned);
    }

    fn start_heartbeats(&mut self, now: Millis) {
        self.stop_heartbeats();
        self.member.heartbeat_timer = Some(
            self.net
                .timers
                .schedule(now + self.cfg.heartbeat_interval_ms, Timer::Heartbeat),
        );
    }

    fn stop_heartbeats(&mut self) {
        if let Some(t) = self.member.heartbeat_timer.take() {
            self.net.timers.cancel(t);
        }
    }

    pub(super) fn heartbeat_due(&mut self, now: Millis, out: &mut Effects) {
        self.member.heartbeat_timer = None;
        if !matches!(self.member.state, State::Syncing | State::Stable) {
            return;
        }
        self.start_heartbeats(now);
        let (Some(coordinator), false) = (
            self.coordinator,
            self.has_inflight(|k| matches!(k, Inflight::Heartbeat(_))),
        ) else {
            return;
        };
        let req = HeartbeatRequest {
            group_id: self.group(),
            generation_id: self.member.generation,
            member_id: self.member.member_id.clone(),
            group_instance_id: self.member.instance_id.clone(),
        };
        let sent = SentGeneration {
            generation: req.generation_id,
            member_id: req.member_id.clone(),
        };
        self.send_request(
            now,
            NodeId::Broker(coordinator),
            Inflight::Heartbeat(sent),
            Request::Group(GroupRequest::Heartbeat(req)),
            out,
        );
    }

    /// Kafka's `HeartbeatResponseHandler`: REBALANCE_IN_PROGRESS asks for a rejoin only from a
    /// stable member (a member already rebalancing ignores it); ILLEGAL_GENERATION,
    /// UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID count only while the member is still in the
    /// generation the heartbeat was sent with (`generationUnchanged`): an answer to a heartbeat
    /// of a generation the member has already left or reset is stale and ignored. Acting on it
    /// would reset a member that is rejoining, and a static member would send a second
    /// JoinGroup that fences its own first one (FENCED_INSTANCE_ID, fatal).
    fn on_heartbeat(
        &mut self,
        now: Millis,
        sent: &SentGeneration,
        error: ErrorCode,
        out: &mut Effects,
    ) {
        let unchanged =
            sent.generation == self.member.generation && sent.member_id == self.member.member_id;
        match error {
            ErrorCode::None => {}
            ErrorCode::RebalanceInProgress if self.member.state == State::Stable => {
                self.member.rejoin_needed = true
            }
            ErrorCode::IllegalGeneration if unchanged => self.reset_generation(false, out),
            ErrorCode::UnknownMemberId if unchanged => self.reset_generation(true, out),
            ErrorCode::FencedInstanceId if unchanged => self.fatal(error, out),
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                self.coordinator_lost(now)
            }
            _ => {}
        }
    }

    /// `max.poll.interval.ms` passed without a poll (`maybeLeaveGroup`): a dynamic member sends
    /// LeaveGroup, a static one does not (KIP-345); either resets its generation and member id
    /// (`resetGenerationOnLeaveGroup`) and rejoins at its next poll.
    pub(super) fn poll_timeout(&mut self, now: Millis, out: &mut Effects) {
        if self.member.state == State::Unjoined || self.member.is_fatal() {
            return;
        }
        self.leave_group(now, "consumer poll timeout has expired", out);
        self.reset_generation(true, out);
    }

    /// Sends LeaveGroup (dynamic members only, KIP-345).
    pub(super) fn leave_group(&mut self, now: Millis, reason: &str, out: &mut Effects) {
        if self.member.instance_id.is_some() || self.member.member_id.is_empty() {
            return;
        }
        out.event(EventKind::MemberLeft {
            group: self.group(),
            member_id: self.member.member_id.clone(),
            reason: reason.into(),
        });
        if let Some(coordinator) = self.coordinator {
            let req = LeaveGroupRequest {
                group_id: self.group(),
                members: vec![(self.member.member_id.clone(), None)],
                reason: reason.into(),
            };
            self.send_request(
                now,
                NodeId::Broker(coordinator),
                Inflight::LeaveGroup,
                Request::Group(GroupRequest::LeaveGroup(req)),
                out,
            );
        }
    }
}
