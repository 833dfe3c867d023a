//! A group consumer (`KafkaConsumer.subscribe()`, classic protocol) as a sans-IO core.
//!
//! Two activities share it, as in Kafka's client: the **membership** (the heartbeat thread and
//! `ConsumerCoordinator`: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, eager or
//! cooperative rebalancing, see [`membership`]) and the **application loop** (poll, process,
//! commit, see [`app`]). `max.poll.interval.ms` links them: when the application takes longer
//! than that between polls, a dynamic member leaves the group, as Kafka's heartbeat thread does.
//!
//! Every decision that matters to the checkers is an event: joined, assigned, revoked,
//! processed, commit outcome, committed offset fetched.

pub mod app;
pub mod assign;
pub mod membership;

use super::metadata::ClientMetadata;
use super::network::{Arrival, ClientTimer, NetworkClient};
use crate::config::GroupConfig;
use crate::effects::Effects;
use crate::protocol::message::{Message, Request};
use crate::protocol::{BrokerId, Millis, NodeId, TopicPartition};

/// Pause after an error before retrying (`retry.backoff.ms`).
pub const RETRY_BACKOFF_MS: Millis = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    RequestTimeout(u64),
    Heartbeat,
    /// The application finished processing its batch.
    Processed,
    /// `max.poll.interval.ms` since the last poll.
    PollTimeout,
    AutoCommit,
    Wake,
}

impl ClientTimer for Timer {
    fn request_timeout(correlation_id: u64) -> Self {
        Timer::RequestTimeout(correlation_id)
    }
    fn wake() -> Self {
        Timer::Wake
    }
}

/// Requests in flight, by what their answer is for.
#[derive(Clone, Debug)]
pub enum Inflight {
    FindCoordinator,
    JoinGroup,
    SyncGroup,
    Heartbeat(SentGeneration),
    LeaveGroup,
    OffsetCommit {
        offsets: Vec<(TopicPartition, u64)>,
        generation: i32,
        purpose: app::CommitPurpose,
    },
    OffsetFetch(Vec<TopicPartition>),
    ListOffsets(TopicPartition),
    Fetch(Vec<TopicPartition>),
}

/// The generation and member id a request was sent with (Kafka's `sentGeneration`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentGeneration {
    pub generation: i32,
    pub member_id: String,
}

/// One consumer of a group.
pub struct Consumer {
    pub index: u32,
    pub cfg: GroupConfig,
    /// Broken variants (tests only): see `ProtocolSwitches`.
    pub keeps_partitions_on_rejoin: bool,
    pub commits_before_processing: bool,
    /// Broken (`consumer_ignores_committed_offset`): start every newly assigned partition where
    /// `auto_offset_reset` says, not at the group's committed offset.
    pub ignores_committed_offset: bool,
    pub trusts_stale_owned: bool,
    pub member: membership::Membership,
    pub app: app::App,
    pub coordinator: Option<BrokerId>,
    /// Requests in flight, metadata and timers.
    pub net: NetworkClient<Inflight, Timer>,
    /// A commit to send again once the coordinator is known.
    pub pending_commit_retry: Option<app::CommitPurpose>,
}

impl Consumer {
    /// Consumer `c{index}`, member number `member_no` (1-based) of its group.
    pub fn new(index: u32, member_no: u32, cfg: GroupConfig, brokers: u32) -> Self {
        let instance = cfg
            .static_members
            .then(|| format!("{}-{member_no}", cfg.id));
        let metadata = ClientMetadata::new(brokers, index as usize);
        let mut net = NetworkClient::new(metadata, cfg.request_timeout_ms);
        net.wake(cfg.start_ms);
        Consumer {
            index,
            member: membership::Membership::new(instance),
            app: app::App::default(),
            coordinator: None,
            net,
            pending_commit_retry: None,
            keeps_partitions_on_rejoin: false,
            commits_before_processing: false,
            ignores_committed_offset: false,
            trusts_stale_owned: false,
            cfg,
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.net.timers.next_deadline()
    }

    pub fn wake(&mut self, at: Millis) {
        self.net.wake(at);
    }

    /// `request.timeout.ms`, but for JoinGroup `max(request.timeout.ms, rebalance timeout +
    /// 5 s)`, as Kafka's `AbstractCoordinator.sendJoinGroupRequest` (`JOIN_GROUP_TIMEOUT_LAPSE`):
    /// the coordinator parks a JoinGroup until the rebalance completes, which may take the whole
    /// rebalance timeout (and `group.initial.rebalance.delay.ms` more than once for a new group).
    /// A coordinator whose process dies closes the connection and fails it at once
    /// ([`Message::ConnectionClosed`]); one lost on a cut link is retried only after this.
    fn request_timeout_ms(&self, kind: &Inflight) -> Millis {
        match kind {
            Inflight::JoinGroup => self.cfg.join_group_timeout_ms(),
            _ => self.cfg.request_timeout_ms,
        }
    }

    pub fn send_request(
        &mut self,
        now: Millis,
        to: NodeId,
        kind: Inflight,
        body: Request,
        out: &mut Effects,
    ) {
        let timeout = self.request_timeout_ms(&kind);
        self.net.send_within(now, timeout, to, kind, body, out);
    }

    pub fn for_each_inflight(&self, mut f: impl FnMut(&Inflight)) {
        self.net.kinds().for_each(&mut f);
    }

    /// Whether a request of this kind is in flight.
    pub fn has_inflight(&self, pred: impl Fn(&Inflight) -> bool) -> bool {
        self.net.kinds().any(pred)
    }

    pub fn tick(&mut self, now: Millis, out: &mut Effects) {
        while let Some(t) = self.net.timers.pop_due(now) {
            match t {
                Timer::Wake => self.net.woke(),
                Timer::RequestTimeout(corr) => self.on_timeout(now, corr, out),
                Timer::Heartbeat => self.heartbeat_due(now, out),
                Timer::Processed => self.processing_done(now, out),
                Timer::PollTimeout => self.poll_timeout(now, out),
                Timer::AutoCommit => self.auto_commit_due(now, out),
            }
        }
        self.step(now, out);
    }

    /// Moves whatever can move: metadata, coordinator, membership, then the application.
    fn step(&mut self, now: Millis, out: &mut Effects) {
        tracing::trace!(
            consumer = self.index,
            state = ?self.member.state,
            rejoin = self.member.rejoin_needed,
            coordinator = ?self.coordinator,
            app = ?self.app.stage_name(),
            retry = ?self.pending_commit_retry,
            app_state = %self.app.describe(),
            inflight = ?self.net.kinds().collect::<Vec<_>>(),
            "step"
        );
        if self.member.is_fatal() {
            return;
        }
        if now < self.cfg.start_ms {
            return;
        }
        self.refresh_metadata_if_needed(now, out);
        self.drive_membership(now, out);
        if self.coordinator.is_some() {
            if let Some(purpose) = self.pending_commit_retry.take() {
                self.retry_commit(now, purpose, out);
            }
        }
        self.drive_app(now, out);
    }

    fn refresh_metadata_if_needed(&mut self, now: Millis, out: &mut Effects) {
        let missing_topic = self
            .cfg
            .topics
            .iter()
            .any(|t| self.net.metadata.partition_count(t).is_none());
        if !(missing_topic || self.net.metadata.stale) {
            return;
        }
        let topics = self.cfg.topics.clone();
        self.net
            .refresh_metadata(now, RETRY_BACKOFF_MS, topics, out);
    }

    pub fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
        match self.net.receive(now, from, message) {
            Arrival::Response(kind, body) => {
                if !self.on_membership_response(now, &kind, &body, out) {
                    self.on_app_response(now, kind, body, out);
                }
            }
            Arrival::MetadataUpdated => {}
            // `from`'s process died: its requests in flight fail as timed-out ones do (Kafka's
            // `ConsumerNetworkClient` fails them with a `DisconnectException`, and the
            // coordinator's handlers mark the coordinator unknown, as on a timeout).
            Arrival::Closed(failed) => {
                for corr in failed {
                    self.on_timeout(now, corr, out);
                }
            }
            Arrival::Nothing => return,
        }
        self.step(now, out);
    }

    fn on_timeout(&mut self, now: Millis, corr: u64, out: &mut Effects) {
        let Some(kind) = self.net.expire(corr) else {
            return;
        };
        match kind {
            k @ (Inflight::FindCoordinator
            | Inflight::JoinGroup
            | Inflight::SyncGroup
            | Inflight::Heartbeat(_)
            | Inflight::LeaveGroup) => self.membership_timeout(now, k, out),
            k => self.app_timeout(now, k, out),
        }
    }

    /// The consumer closes cleanly (a `clean` crash): commit if committing synchronously, then
    /// leave the group (KIP-345: static members do not send LeaveGroup on close).
    pub fn close(&mut self, now: Millis, out: &mut Effects) {
        self.commit_on_close(now, out);
        self.leave_group(now, "the consumer is being closed", out);
    }

    /// A slow-poll fault: the next batch takes `extra_ms` longer to process.
    pub fn slow_next_poll(&mut self, extra_ms: u64) {
        self.app.extra_processing_ms += extra_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::membership::State;
    use super::*;
    use crate::history::EventKind;
    use crate::protocol::group::{
        FindCoordinatorResponse, GroupRequest, JoinGroupMember, JoinGroupResponse,
        SyncGroupResponse, NO_GENERATION,
    };
    use crate::protocol::message::{MetadataResponse, PartitionMetadata, Response};
    use crate::protocol::ErrorCode;

    fn consumer() -> Consumer {
        let cfg: GroupConfig =
            toml::from_str("id = \"g\"\ntopics = [\"t\"]\nconsumers = 1").expect("config");
        Consumer::new(1, 1, cfg, 3)
    }

    /// The correlation id of the one request `matches` picks among `out`'s sends.
    fn sent(out: &Effects, matches: impl Fn(&Request) -> bool) -> Option<u64> {
        out.sends.iter().find_map(|(_, m)| match m {
            Message::Request {
                correlation_id,
                body,
            } if matches(body) => Some(*correlation_id),
            _ => None,
        })
    }

    fn respond(c: &mut Consumer, now: Millis, correlation_id: u64, body: Response) -> Effects {
        let mut out = Effects::default();
        let msg = Message::Response {
            correlation_id,
            body,
        };
        c.handle(now, NodeId::Broker(1), msg, &mut out);
        out
    }

    fn found() -> Response {
        Response::FindCoordinator(FindCoordinatorResponse {
            error: ErrorCode::None,
            coordinator: Some(1),
        })
    }

    /// Starts `c` and answers its FindCoordinator with b1: the start's effects, and the
    /// correlation id of the JoinGroup that follows.
    fn start_joining(c: &mut Consumer) -> (Effects, u64) {
        let mut start = Effects::default();
        c.tick(0, &mut start);
        let find = sent(&start, |r| matches!(r, Request::FindCoordinator(_))).expect("find");
        let out = respond(c, 1, find, found());
        let join = sent(&out, |r| {
            matches!(r, Request::Group(GroupRequest::JoinGroup(_)))
        })
        .expect("join");
        (start, join)
    }

    /// A successful JoinGroup answer to member `m-1`, its leader, with `members` listed.
    fn joined(members: Vec<JoinGroupMember>) -> Response {
        Response::JoinGroup(JoinGroupResponse {
            error: ErrorCode::None,
            generation_id: 1,
            protocol_name: Some("range".into()),
            leader: "m-1".into(),
            member_id: "m-1".into(),
            members,
            skip_assignment: false,
        })
    }

    /// A JoinGroup answer that arrives after the coordinator was marked unknown must not leave
    /// the member waiting in SyncGroup it never sent (a group stuck in CompletingRebalance):
    /// like Kafka's `sendSyncGroupRequest` it fails, and the member finds the coordinator and
    /// joins again.
    #[test]
    fn join_answer_without_a_known_coordinator_rejoins() {
        let mut c = consumer();
        let (_, join) = start_joining(&mut c);
        assert_eq!(c.member.state, State::Joining);

        c.coordinator = None; // e.g. a commit answered NOT_COORDINATOR meanwhile
        let out = respond(&mut c, 2, join, joined(Vec::new()));
        assert_eq!(
            sent(&out, |r| matches!(
                r,
                Request::Group(GroupRequest::SyncGroup(_))
            )),
            None
        );
        assert_eq!(c.member.state, State::Unjoined);
        assert!(c.member.rejoin_needed);

        let find = sent(&out, |r| matches!(r, Request::FindCoordinator(_))).expect("find again");
        let out = respond(&mut c, 3, find, found());
        assert!(sent(&out, |r| matches!(
            r,
            Request::Group(GroupRequest::JoinGroup(_))
        ))
        .is_some());
        assert_eq!(c.member.member_id, "m-1");
    }

    /// Kafka's `sendJoinGroupRequest`: the coordinator parks a JoinGroup until the rebalance
    /// completes (for a new group, `group.initial.rebalance.delay.ms` once per member joining,
    /// about 6 s for two), so the member waits `max.poll.interval.ms` + 5 s, not
    /// `request.timeout.ms` (5 s). Timing out at 5 s sent a static member to a deposed
    /// coordinator, and back, fenced (group-static-restart swarm seed 2100050).
    #[test]
    fn a_join_group_waits_the_rebalance_timeout_and_five_seconds() {
        let mut c = consumer();
        let (_, join) = start_joining(&mut c);
        let deadline = 1 + 300_000 + 5_000;
        assert_eq!(c.cfg.join_group_timeout_ms(), 305_000);

        c.tick(1 + 5_000, &mut Effects::default());
        assert_eq!(
            c.member.state,
            State::Joining,
            "request.timeout.ms is not the limit"
        );
        c.tick(deadline - 1, &mut Effects::default());
        assert_eq!(c.member.state, State::Joining);

        c.tick(deadline, &mut Effects::default());
        assert_eq!(c.member.state, State::Unjoined);
        assert_eq!(c.coordinator, None, "the coordinator is marked unknown");
        let late = respond(&mut c, deadline + 1, join, joined(Vec::new()));
        assert_eq!(
            sent(&late, |r| matches!(
                r,
                Request::Group(GroupRequest::SyncGroup(_))
            )),
            None
        );
    }

    /// A coordinator whose process dies closes its connections: the parked JoinGroup fails at
    /// once, as Kafka's `NetworkClient` fails a disconnected connection's requests, and the
    /// member looks for the coordinator again. Requests to other brokers stay in flight.
    #[test]
    fn a_closed_connection_fails_the_requests_in_flight_to_that_broker_only() {
        let mut c = consumer();
        let (_, _join) = start_joining(&mut c);
        let before: Vec<String> = c.net.kinds().map(|k| format!("{k:?}")).collect();
        assert!(before.contains(&"JoinGroup".to_string()), "{before:?}");

        let mut out = Effects::default();
        c.handle(10, NodeId::Broker(2), Message::ConnectionClosed, &mut out);
        assert_eq!(c.member.state, State::Joining, "b2 is not the coordinator");

        let mut out = Effects::default();
        c.handle(11, NodeId::Broker(1), Message::ConnectionClosed, &mut out);
        assert_eq!(c.member.state, State::Unjoined);
        assert!(!c.has_inflight(|k| matches!(k, Inflight::JoinGroup)));
        assert_eq!(c.coordinator, None, "the coordinator is marked unknown");
        let mut out = Effects::default();
        c.tick(11 + 100, &mut out); // retry.backoff.ms
        assert!(
            sent(&out, |r| matches!(r, Request::FindCoordinator(_))).is_some(),
            "finds the coordinator again"
        );
    }

    /// Kafka's `assignmentSnapshot`: a leader that assigned while its metadata did not know a
    /// subscribed topic (so nobody got a partition) rejoins once the metadata shows the topic,
    /// or the group would stay assigned nothing for ever.
    #[test]
    fn the_leader_rejoins_when_the_metadata_it_assigned_with_changes() {
        let mut c = consumer();
        let (start, join) = start_joining(&mut c);
        let metadata = sent(&start, |r| matches!(r, Request::Metadata(_))).expect("metadata");
        let subscription = r#"{"topics":["t"],"owned":[],"generation":-1}"#;
        let member = JoinGroupMember {
            member_id: "m-1".into(),
            group_instance_id: None,
            metadata: subscription.into(),
        };
        let out = respond(&mut c, 2, join, joined(vec![member]));
        let sync = sent(&out, |r| {
            matches!(r, Request::Group(GroupRequest::SyncGroup(_)))
        })
        .expect("sync");
        let synced = SyncGroupResponse {
            error: ErrorCode::None,
            assignment: r#"{"partitions":[]}"#.into(),
        };
        respond(&mut c, 3, sync, Response::SyncGroup(synced));
        assert!(c.member.is_stable(), "assigned nothing, but stable");

        let tp = TopicPartition::new("t", 0);
        let known = MetadataResponse {
            brokers: vec![1],
            partitions: vec![PartitionMetadata {
                tp,
                error: ErrorCode::None,
                leader: Some(1),
                leader_epoch: 0,
                replicas: vec![1],
                isr: vec![1],
            }],
        };
        let out = respond(&mut c, 4, metadata, Response::Metadata(known));
        assert!(c.member.rejoin_needed);
        assert!(sent(&out, |r| matches!(
            r,
            Request::Group(GroupRequest::JoinGroup(_))
        ))
        .is_some());
    }

    /// Takes `c` through join and sync as the group's only member, assigned `t-0`.
    fn stable_owning_t0(c: &mut Consumer) {
        let (_, join) = start_joining(c);
        let out = respond(c, 2, join, joined(Vec::new()));
        let sync = sent(&out, |r| {
            matches!(r, Request::Group(GroupRequest::SyncGroup(_)))
        })
        .expect("sync");
        let synced = SyncGroupResponse {
            error: ErrorCode::None,
            assignment: r#"{"partitions":[{"topic":"t","partition":0}]}"#.into(),
        };
        respond(c, 3, sync, Response::SyncGroup(synced));
        assert!(c.member.is_stable());
        assert!(c.member.owned.contains(&TopicPartition::new("t", 0)));
    }

    fn revoked(out: &Effects) -> Vec<(i32, String, bool)> {
        out.events
            .iter()
            .filter_map(|e| match e {
                EventKind::Revoked {
                    generation,
                    member_id,
                    lost,
                    ..
                } => Some((*generation, member_id.clone(), *lost)),
                _ => None,
            })
            .collect()
    }

    /// `maybeLeaveGroup` at the poll timeout: LeaveGroup (dynamic members only), generation and
    /// member id reset, but the assignment stays until the next poll's `onJoinPrepare` gives it
    /// away as lost, naming the generation and member id it was assigned under.
    #[test]
    fn a_poll_timeout_loses_the_partitions_only_at_the_next_poll() {
        for static_member in [false, true] {
            let mut c = consumer();
            if static_member {
                c.member.instance_id = Some("g-1".into());
            }
            stable_owning_t0(&mut c);

            let mut out = Effects::default();
            c.poll_timeout(10, &mut out);
            let leave = sent(&out, |r| {
                matches!(r, Request::Group(GroupRequest::LeaveGroup(_)))
            });
            assert_eq!(leave.is_some(), !static_member, "static: {static_member}");
            assert!(
                revoked(&out).is_empty(),
                "nothing lost before the next poll"
            );
            assert_eq!(c.member.generation, NO_GENERATION);
            assert!(c.member.member_id.is_empty());
            assert!(c.member.owned.contains(&TopicPartition::new("t", 0)));

            let mut out = Effects::default();
            c.tick(11, &mut out); // the application is at a poll boundary
            assert_eq!(revoked(&out), vec![(1, "m-1".to_string(), true)]);
            assert!(c.member.owned.is_empty());
            assert!(sent(
                &out,
                |r| matches!(r, Request::Group(GroupRequest::JoinGroup(j)) if j.member_id.is_empty())
            )
            .is_some());
        }
    }

    /// Kafka's `HeartbeatResponseHandler` with `generationUnchanged`: a static member whose poll
    /// timed out resets and joins again; the UNKNOWN_MEMBER_ID answer to the heartbeat it sent
    /// in the old generation then arrives. It is stale and ignored: acting on it reset the
    /// joining member, which sent a second JoinGroup, and the coordinator fenced the first with
    /// FENCED_INSTANCE_ID, which stopped the consumer for good (group-static-crash swarm seed
    /// 1000148, a group left Empty).
    #[test]
    fn a_stale_heartbeat_error_does_not_reset_a_joining_member() {
        let mut c = consumer();
        c.member.instance_id = Some("g-1".into());
        stable_owning_t0(&mut c);
        let mut out = Effects::default();
        c.heartbeat_due(5, &mut out);
        let heartbeat = sent(&out, |r| {
            matches!(r, Request::Group(GroupRequest::Heartbeat(_)))
        })
        .expect("heartbeat");

        c.poll_timeout(10, &mut Effects::default());
        let mut out = Effects::default();
        c.tick(11, &mut out);
        assert!(sent(&out, |r| matches!(
            r,
            Request::Group(GroupRequest::JoinGroup(_))
        ))
        .is_some());
        assert_eq!(c.member.state, State::Joining);

        let stale = Response::Heartbeat(crate::protocol::group::HeartbeatResponse {
            error: ErrorCode::UnknownMemberId,
        });
        let out = respond(&mut c, 12, heartbeat, stale);
        assert_eq!(c.member.state, State::Joining, "still joining");
        assert_eq!(
            sent(&out, |r| matches!(
                r,
                Request::Group(GroupRequest::JoinGroup(_))
            )),
            None
        );
    }

    /// The same answer to a heartbeat of the member's current generation resets it, as Kafka's
    /// does: it rejoins without a member id.
    #[test]
    fn a_current_heartbeat_error_resets_the_member() {
        let mut c = consumer();
        stable_owning_t0(&mut c);
        let mut out = Effects::default();
        c.heartbeat_due(5, &mut out);
        let heartbeat = sent(&out, |r| {
            matches!(r, Request::Group(GroupRequest::Heartbeat(_)))
        })
        .expect("heartbeat");
        let current = Response::Heartbeat(crate::protocol::group::HeartbeatResponse {
            error: ErrorCode::UnknownMemberId,
        });
        let out = respond(&mut c, 6, heartbeat, current);
        assert_eq!(c.member.generation, NO_GENERATION);
        assert!(sent(
            &out,
            |r| matches!(r, Request::Group(GroupRequest::JoinGroup(j)) if j.member_id.is_empty())
        )
        .is_some());
    }
}
