//! A Kafka broker as a sans-IO core: partition replicas, request handling, follower fetching,
//! heartbeats to the controller. Driven by [`Broker::handle`] (a message arrived),
//! [`Broker::tick`] (time passed) and [`Broker::crash`]/[`Broker::recover`]; it answers through
//! [`Effects`]. It never reads a clock or draws a random number.
//!
//! What survives a crash is [`BrokerDisk`]: the logs, the epoch caches, the high-watermark
//! checkpoint and the broker's incarnation. Everything else is rebuilt from the controller's
//! metadata after a restart, as a real broker does.

pub mod follower;
pub mod groups;
pub mod hosted;
pub mod leader;
pub mod log;
pub mod metadata;
pub mod replica;
#[cfg(test)]
mod tests;

use crate::config::{ClusterConfig, CrashMode, ProtocolSwitches, TopicConfig};
use crate::effects::Effects;
use crate::history::{EventKind, TruncateReason};
use crate::protocol::message::*;
use crate::protocol::{BrokerId, Millis, NodeId, TopicPartition};
use crate::request::InFlightRequests;
use crate::timer::TimerQueue;
use follower::EpochLookup;
use metadata::MetadataImage;
use replica::Replica;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What every broker of a cluster shares: cluster settings, topics, protocol switches.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    pub cluster: ClusterConfig,
    pub topics: BTreeMap<String, TopicConfig>,
    pub switches: ProtocolSwitches,
}

impl BrokerConfig {
    pub fn topic(&self, name: &str) -> Option<&TopicConfig> {
        self.topics.get(name)
    }
}

/// What a broker keeps on disk across a crash.
#[derive(Clone, Debug, Default)]
pub struct BrokerDisk {
    pub incarnation: u64,
    pub replicas: BTreeMap<TopicPartition, Replica>,
    /// Kafka's `.kafka_cleanshutdown` file: the incarnation that shut down cleanly, written
    /// only by a clean shutdown. A killed process and a power loss leave none (KIP-966).
    pub clean_shutdown: Option<u64>,
}

/// The broker's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Timer {
    Heartbeat,
    IsrCheck,
    Flush,
    HwCheckpoint,
    Retention,
    RequestTimeout(u64),
    ParkedProduce(u64),
    ParkedFetch(u64),
    /// Nothing to do but run `tick` (a follower backoff ended).
    Wake,
    /// A hosted group coordinator finished loading its partition.
    CoordinatorLoaded(u32),
}

/// An outbound request awaiting its response.
#[derive(Clone, Debug)]
enum Inflight {
    Heartbeat,
    AlterPartition(TopicPartition),
    Fetch(BrokerId),
    /// A follower's lookup, with the leader and leader epoch it was sent under: an answer (or a
    /// timeout) for an earlier leadership is stale and ignored.
    OffsetsForLeaderEpoch(EpochLookup),
}

/// A Kafka broker.
pub struct Broker {
    pub id: BrokerId,
    cfg: Arc<BrokerConfig>,
    incarnation: u64,
    /// The incarnation of a clean shutdown just before this start, told to the controller.
    previous_incarnation: Option<u64>,
    replicas: BTreeMap<TopicPartition, Replica>,
    metadata: MetadataImage,
    timers: TimerQueue<Timer>,
    inflight: InFlightRequests<Inflight>,
    leader: leader::LeaderParking,
    fetchers: follower::Fetchers,
    shutting_down: bool,
    wake_scheduled_at: Option<Millis>,
    groups: groups::GroupHost,
    /// Hosts the group coordinators of the `__consumer_offsets` partitions it leads.
    hosts_coordinators: bool,
}

impl Broker {
    /// Starts a broker from its disk (empty on first start); emits its registration heartbeat.
    pub fn recover(
        id: BrokerId,
        cfg: Arc<BrokerConfig>,
        disk: BrokerDisk,
        now: Millis,
        out: &mut Effects,
    ) -> Self {
        let mut replicas = disk.replicas;
        for r in replicas.values_mut() {
            let hw = r.hw_checkpoint.min(r.log.log_end_offset());
            if cfg.switches.truncate_to_high_watermark && r.truncate_to(hw) {
                // Pre-KIP-101: a restarting replica cuts its log back to the checkpointed HW.
                out.event(EventKind::Truncated {
                    tp: r.tp.clone(),
                    log_end_offset: r.log.log_end_offset(),
                    reason: TruncateReason::HighWatermark,
                });
            }
            if r.high_watermark != hw {
                r.high_watermark = hw;
                out.event(EventKind::HighWatermark {
                    tp: r.tp.clone(),
                    high_watermark: hw,
                });
            }
        }
        let mut broker = Broker {
            id,
            cfg,
            incarnation: disk.incarnation,
            previous_incarnation: disk.clean_shutdown,
            replicas,
            metadata: MetadataImage::default(),
            timers: TimerQueue::default(),
            inflight: InFlightRequests::default(),
            leader: leader::LeaderParking::default(),
            fetchers: follower::Fetchers::default(),
            shutting_down: false,
            wake_scheduled_at: None,
            groups: groups::GroupHost::default(),
            hosts_coordinators: false,
        };
        broker.start_periodic_timers(now);
        broker.send_heartbeat(now, out);
        broker
    }

    /// A new broker whose replicas exist but are empty, for the partitions assigned to it.
    pub fn fresh_disk(partitions: impl IntoIterator<Item = TopicPartition>) -> BrokerDisk {
        BrokerDisk {
            incarnation: 0,
            replicas: partitions
                .into_iter()
                .map(|tp| (tp.clone(), Replica::new(tp)))
                .collect(),
            clean_shutdown: None,
        }
    }

    fn start_periodic_timers(&mut self, now: Millis) {
        let c = &self.cfg.cluster;
        self.timers
            .schedule(now + c.broker_heartbeat_interval_ms, Timer::Heartbeat);
        self.timers.schedule(
            now + (c.replica_lag_time_max_ms / 2).max(1),
            Timer::IsrCheck,
        );
        self.timers
            .schedule(now + c.flush_interval_ms, Timer::Flush);
        self.timers
            .schedule(now + c.hw_checkpoint_interval_ms, Timer::HwCheckpoint);
        self.timers
            .schedule(now + c.retention_check_interval_ms, Timer::Retention);
    }

    /// Stops the broker: returns what its disk holds afterwards, per the crash mode, and reports
    /// what a power loss destroyed.
    pub fn crash(self, mode: CrashMode, out: &mut Effects) -> BrokerDisk {
        let mut replicas = self.replicas;
        for r in replicas.values_mut() {
            match mode {
                CrashMode::Clean => {
                    r.log.flush();
                    r.hw_checkpoint = r.high_watermark;
                }
                CrashMode::Process => {}
                CrashMode::PowerLoss => {
                    let before = r.log.log_end_offset();
                    r.log.lose_unflushed();
                    if r.log.log_end_offset() != before {
                        out.event(EventKind::Truncated {
                            tp: r.tp.clone(),
                            log_end_offset: r.log.log_end_offset(),
                            reason: TruncateReason::PowerLoss,
                        });
                    }
                }
            }
            r.hw_checkpoint = r.hw_checkpoint.min(r.log.log_end_offset());
            r.role = replica::Role::Unknown;
        }
        BrokerDisk {
            incarnation: self.incarnation + 1,
            replicas,
            clean_shutdown: (mode == CrashMode::Clean).then_some(self.incarnation),
        }
    }

    /// Begins a clean shutdown: tell the controller to move leadership away (KRaft's
    /// `wantShutDown` heartbeat). The shell stops the node shortly after.
    pub fn begin_shutdown(&mut self, now: Millis, out: &mut Effects) {
        self.shutting_down = true;
        self.send_heartbeat(now, out);
    }

    /// Lets this broker host group coordinators (brokers in unit tests host none).
    pub fn with_coordinators(mut self) -> Self {
        self.hosts_coordinators = true;
        self
    }

    /// The earliest time at which [`Broker::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        [self.timers.next_deadline(), self.groups.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires every timer due at `now`.
    pub fn tick(&mut self, now: Millis, out: &mut Effects) {
        while let Some(timer) = self.timers.pop_due(now) {
            self.fire(now, timer, out);
        }
        self.tick_coordinators(now, out);
        self.send_follower_requests(now, out);
    }

    fn fire(&mut self, now: Millis, timer: Timer, out: &mut Effects) {
        let c = self.cfg.cluster.clone();
        match timer {
            Timer::Heartbeat => {
                self.send_heartbeat(now, out);
                self.timers
                    .schedule(now + c.broker_heartbeat_interval_ms, Timer::Heartbeat);
            }
            Timer::IsrCheck => {
                self.maybe_shrink_isr(now, out);
                self.timers.schedule(
                    now + (c.replica_lag_time_max_ms / 2).max(1),
                    Timer::IsrCheck,
                );
            }
            Timer::Flush => {
                self.replicas.values_mut().for_each(|r| r.log.flush());
                self.timers
                    .schedule(now + c.flush_interval_ms, Timer::Flush);
            }
            Timer::HwCheckpoint => {
                self.replicas
                    .values_mut()
                    .for_each(|r| r.hw_checkpoint = r.high_watermark);
                self.timers
                    .schedule(now + c.hw_checkpoint_interval_ms, Timer::HwCheckpoint);
            }
            Timer::Retention => {
                self.apply_retention(now, out);
                self.timers
                    .schedule(now + c.retention_check_interval_ms, Timer::Retention);
            }
            Timer::RequestTimeout(corr) => self.on_request_timeout(now, corr, out),
            Timer::ParkedProduce(id) => self.expire_parked_produce(id, out),
            Timer::ParkedFetch(id) => self.complete_parked_fetch(now, id, out),
            Timer::Wake => self.wake_scheduled_at = None,
            Timer::CoordinatorLoaded(p) => self.coordinator_loaded(now, p, out),
        }
    }

    /// Handles one message from `from`.
    pub fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
        match message {
            Message::Request {
                correlation_id,
                body,
            } => self.handle_request(now, from, correlation_id, body, out),
            Message::Response {
                correlation_id,
                body,
            } => {
                if let Some(kind) = self.inflight.complete(&mut self.timers, correlation_id) {
                    self.handle_response(now, correlation_id, kind, body, out);
                }
            }
            // `from`'s process died: a fetch or an epoch lookup to it fails as a timed-out one
            // does and backs off (Kafka's replica fetcher on a disconnect). Requests to the
            // controller wait for their timeout: Kafka's `NodeToControllerChannelManager` puts a
            // request whose connection closed back in its queue and sends it again once it is
            // connected, and resending here at once would only bounce off a dead controller.
            Message::ConnectionClosed if from != NodeId::Controller => {
                for corr in self.inflight.disconnected(&mut self.timers, from) {
                    self.on_request_timeout(now, corr, out);
                }
            }
            Message::ConnectionClosed => {}
        }
        self.send_follower_requests(now, out);
    }

    fn handle_request(
        &mut self,
        now: Millis,
        from: NodeId,
        corr: u64,
        body: Request,
        out: &mut Effects,
    ) {
        let reply = |out: &mut Effects, body: Response| {
            out.send(
                from,
                Message::Response {
                    correlation_id: corr,
                    body,
                },
            );
        };
        match body {
            Request::MetadataPush(push) => self.apply_metadata(now, &push.records, out),
            Request::Metadata(req) => reply(out, Response::Metadata(self.metadata_response(&req))),
            Request::Produce(req) => {
                if let Some(resp) = self.handle_produce(now, from, corr, req, out) {
                    reply(out, Response::Produce(resp));
                }
            }
            Request::Fetch(req) => self.handle_fetch(now, from, corr, req, out),
            Request::ListOffsets(req) => {
                reply(out, Response::ListOffsets(self.handle_list_offsets(&req)))
            }
            Request::OffsetsForLeaderEpoch(req) => reply(
                out,
                Response::OffsetsForLeaderEpoch(self.handle_offsets_for_leader_epoch(&req)),
            ),
            Request::FindCoordinator(req) => reply(
                out,
                Response::FindCoordinator(self.handle_find_coordinator(&req)),
            ),
            Request::Group(r) => self.handle_group_request(now, from, corr, r, out),
            Request::BrokerHeartbeat(_) | Request::AlterPartition(_) => {
                tracing::debug!(
                    broker = self.id,
                    "ignoring a controller request sent to a broker"
                );
            }
        }
    }

    fn handle_response(
        &mut self,
        now: Millis,
        corr: u64,
        kind: Inflight,
        body: Response,
        out: &mut Effects,
    ) {
        match (kind, body) {
            (Inflight::Heartbeat, Response::BrokerHeartbeat(resp)) => {
                self.apply_metadata(now, &resp.records, out)
            }
            (Inflight::AlterPartition(tp), Response::AlterPartition(resp)) => {
                self.on_alter_partition_response(now, tp, corr, resp, out)
            }
            (Inflight::Fetch(leader), Response::Fetch(resp)) => {
                self.on_fetch_response(now, leader, resp, out)
            }
            (Inflight::OffsetsForLeaderEpoch(lookup), Response::OffsetsForLeaderEpoch(resp)) => {
                self.on_offsets_for_leader_epoch_response(now, lookup, resp, out)
            }
            (kind, body) => tracing::warn!(?kind, ?body, "response does not match its request"),
        }
    }

    /// Sends a request and remembers it until its response or its timeout.
    fn send_request(
        &mut self,
        now: Millis,
        to: NodeId,
        kind: Inflight,
        body: Request,
        out: &mut Effects,
    ) -> u64 {
        self.inflight.send(
            &mut self.timers,
            now + self.cfg.cluster.request_timeout_ms,
            Timer::RequestTimeout,
            to,
            kind,
            body,
            out,
        )
    }

    fn on_request_timeout(&mut self, now: Millis, corr: u64, out: &mut Effects) {
        let Some(kind) = self.inflight.expire(corr) else {
            return;
        };
        tracing::debug!(broker = self.id, ?kind, "request timed out");
        match kind {
            Inflight::Heartbeat => {}
            Inflight::AlterPartition(tp) => {
                // Kafka's AlterPartitionManager sends again until it hears back, and the pending
                // ISR stays meanwhile: the controller may already have committed it, so the high
                // watermark must keep counting the follower being admitted.
                // The retry sends the same ISR with the same broker epochs (Kafka's
                // `sentLeaderAndIsr`), not the epochs of fetches since.
                let retry = self
                    .replicas
                    .get(&tp)
                    .and_then(|r| r.leader_state())
                    .and_then(|l| l.pending.as_ref())
                    .filter(|p| p.correlation_id == corr)
                    .map(|p| p.new_isr_with_epochs.clone());
                if let Some(new_isr) = retry {
                    self.send_alter_partition_with_epochs(now, &tp, new_isr, out);
                }
            }
            Inflight::Fetch(leader) => {
                self.fetchers
                    .failed(now, leader, self.cfg.cluster.replica_fetch_backoff_ms)
            }
            Inflight::OffsetsForLeaderEpoch(lookup) => {
                let backoff = now + self.cfg.cluster.replica_fetch_backoff_ms;
                if let Some(f) = self.current_lookup(&lookup) {
                    f.phase = replica::FollowerPhase::Truncating { in_flight: false };
                    f.backoff_until = backoff;
                }
            }
        }
    }

    fn send_heartbeat(&mut self, now: Millis, out: &mut Effects) {
        let req = BrokerHeartbeatRequest {
            broker: self.id,
            incarnation: self.incarnation,
            metadata_offset: self.metadata.next_offset,
            want_shutdown: self.shutting_down,
            previous_incarnation: self.previous_incarnation,
        };
        self.send_request(
            now,
            NodeId::Controller,
            Inflight::Heartbeat,
            Request::BrokerHeartbeat(req),
            out,
        );
    }

    /// Applies metadata records and acts on every partition whose state changed.
    fn apply_metadata(
        &mut self,
        now: Millis,
        records: &[(u64, MetadataRecord)],
        out: &mut Effects,
    ) {
        // A restarted broker replays the whole log: act once per partition, on its latest state.
        let mut latest: BTreeMap<TopicPartition, PartitionState> = BTreeMap::new();
        for state in self.metadata.apply(records) {
            latest.insert(state.tp.clone(), state);
        }
        for state in latest.into_values() {
            self.on_partition_state(now, state, out);
        }
    }

    /// Kafka's `applyDelta`: become leader or follower when the leader epoch moved on, or take
    /// the controller's ISR when only it changed.
    fn on_partition_state(&mut self, now: Millis, state: PartitionState, out: &mut Effects) {
        let me = self.id;
        if !state.replicas.contains(&me) {
            return;
        }
        let switches = self.cfg.switches.clone();
        let Some(r) = self.replicas.get_mut(&state.tp) else {
            return;
        };
        if state.leader_epoch < r.leader_epoch {
            // KIP-320 fencing: metadata older than what this replica already saw is stale.
            return;
        }
        let newer_epoch = state.leader_epoch != r.leader_epoch;
        let tp = state.tp.clone();
        if state.leader == Some(me) {
            if newer_epoch || !r.is_leader() {
                r.make_leader(
                    now,
                    state.leader_epoch,
                    state.isr.clone(),
                    state.replicas.clone(),
                    state.partition_epoch,
                    me,
                );
                let start = r.leader_state().map(|l| l.epoch_start_offset).unwrap_or(0);
                out.event(EventKind::BecameLeader {
                    tp: tp.clone(),
                    leader_epoch: state.leader_epoch,
                    epoch_start_offset: start,
                    isr: state.isr.clone(),
                });
                self.maybe_advance_hw(now, &tp, out);
                if tp.topic() == crate::protocol::CONSUMER_OFFSETS {
                    self.unhost_coordinator(now, tp.partition, out);
                    self.host_coordinator(now, tp.partition);
                }
            } else if let Some(l) = r.leader_state_mut() {
                if state.partition_epoch > l.partition_epoch {
                    l.partition_epoch = state.partition_epoch;
                    l.pending = None;
                    if l.isr != state.isr {
                        l.isr = state.isr.clone();
                        out.event(EventKind::LeaderIsr {
                            tp: tp.clone(),
                            leader_epoch: state.leader_epoch,
                            isr: state.isr,
                        });
                    }
                    self.maybe_advance_hw(now, &tp, out);
                }
            }
        } else if newer_epoch || r.is_leader() || matches!(r.role, replica::Role::Unknown) {
            self.leader.fail_produces_for(&tp, out);
            self.become_follower(state.leader_epoch, state.leader, &tp, &switches, out);
            if tp.topic() == crate::protocol::CONSUMER_OFFSETS {
                self.unhost_coordinator(now, tp.partition, out);
            }
        }
    }

    fn become_follower(
        &mut self,
        epoch: crate::protocol::LeaderEpoch,
        leader: Option<BrokerId>,
        tp: &TopicPartition,
        switches: &ProtocolSwitches,
        out: &mut Effects,
    ) {
        let Some(r) = self.replicas.get_mut(tp) else {
            return;
        };
        let phase = if switches.truncate_to_high_watermark {
            // Pre-KIP-101 (KAFKA-1211): cut back to the local high watermark, then fetch.
            if r.truncate_to(r.high_watermark) {
                out.event(EventKind::Truncated {
                    tp: tp.clone(),
                    log_end_offset: r.log.log_end_offset(),
                    reason: TruncateReason::HighWatermark,
                });
            }
            replica::FollowerPhase::Fetching
        } else if switches.skip_follower_truncation {
            replica::FollowerPhase::Fetching
        } else {
            replica::FollowerPhase::Truncating { in_flight: false }
        };
        r.make_follower(epoch, leader, phase);
        out.event(EventKind::BecameFollower {
            tp: tp.clone(),
            leader_epoch: epoch,
            leader,
        });
    }

    fn knows_whole_topic(&self, topic: &str) -> bool {
        let want = self
            .cfg
            .topic(topic)
            .map(|t| t.partitions)
            .unwrap_or(u32::MAX);
        let have = self
            .metadata
            .partitions
            .range(TopicPartition::new(topic, 0)..)
            .take_while(|(tp, _)| tp.topic() == topic)
            .count();
        have as u32 >= want
    }

    fn metadata_response(&self, req: &MetadataRequest) -> MetadataResponse {
        let partitions = self
            .metadata
            .partitions
            .values()
            .filter(|s| req.topics.is_empty() || req.topics.iter().any(|t| **t == *s.tp.topic))
            // A topic is answered whole or not at all: while this broker's metadata image
            // misses some of its partitions, it is not listed and the client asks again.
            .filter(|s| self.knows_whole_topic(&s.tp.topic))
            .map(|s| PartitionMetadata {
                tp: s.tp.clone(),
                error: if s.leader.is_some() {
                    crate::protocol::ErrorCode::None
                } else {
                    crate::protocol::ErrorCode::LeaderNotAvailable
                },
                leader: s.leader,
                leader_epoch: s.leader_epoch,
                replicas: s.replicas.clone(),
                isr: s.isr.clone(),
            })
            .collect();
        let brokers = (1..=self.cfg.cluster.brokers)
            .filter(|b| !self.metadata.fenced.contains(b))
            .collect();
        MetadataResponse {
            brokers,
            partitions,
        }
    }

    fn apply_retention(&mut self, now: Millis, out: &mut Effects) {
        for r in self.replicas.values_mut() {
            let Some(topic) = self.cfg.topics.get(r.tp.topic()) else {
                continue;
            };
            let mut target = r.log.log_start_offset();
            if let Some(ms) = topic.retention_ms {
                target = target.max(r.log.first_offset_at_or_after(now.saturating_sub(ms)));
            }
            if let Some(max) = topic.retention_records {
                target = target.max(r.log.log_end_offset().saturating_sub(max));
            }
            if r.log.advance_log_start(target, r.high_watermark) {
                out.event(EventKind::LogStartMoved {
                    tp: r.tp.clone(),
                    log_start_offset: r.log.log_start_offset(),
                });
            }
        }
    }

    /// Read-only view of a replica, for tests and the shell's fault targeting.
    pub fn replica(&self, tp: &TopicPartition) -> Option<&Replica> {
        self.replicas.get(tp)
    }
}
