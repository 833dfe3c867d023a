//! The leader's side of a broker: Produce, serving Fetch (long-polled), ListOffsets,
//! OffsetsForLeaderEpoch, advancing the high watermark, and ISR changes through AlterPartition.

use super::{Broker, Inflight, Timer};
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::*;
use crate::protocol::{
    BrokerId, ErrorCode, LogEntry, Millis, NodeId, TopicPartition, NO_EPOCH, UNDEFINED_OFFSET,
};
use crate::timer::TimerId;
use std::collections::BTreeMap;

/// An acks=all produce waiting for the high watermark (Kafka's `DelayedProduce`).
#[derive(Clone, Debug)]
pub struct ParkedProduce {
    from: NodeId,
    correlation_id: u64,
    tp: TopicPartition,
    base_offset: u64,
    required_offset: u64,
    timer: TimerId,
}

/// A fetch waiting for data (Kafka's `DelayedFetch`).
#[derive(Clone, Debug)]
pub struct ParkedFetch {
    from: NodeId,
    correlation_id: u64,
    request: FetchRequest,
    timer: TimerId,
}

/// Requests the leader holds until something happens or their time runs out.
#[derive(Clone, Debug, Default)]
pub struct LeaderParking {
    next_id: u64,
    produces: BTreeMap<u64, ParkedProduce>,
    fetches: BTreeMap<u64, ParkedFetch>,
}

impl LeaderParking {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Answers every parked produce of `tp` with NOT_LEADER_OR_FOLLOWER (leadership moved).
    pub fn fail_produces_for(&mut self, tp: &TopicPartition, out: &mut Effects) {
        let ids: Vec<u64> = self
            .produces
            .iter()
            .filter(|(_, p)| &p.tp == tp)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let p = self.produces.remove(&id).expect("id just listed");
            respond_produce(out, &p, ErrorCode::NotLeaderOrFollower, None);
        }
    }
}

fn respond_produce(
    out: &mut Effects,
    p: &ParkedProduce,
    error: ErrorCode,
    base_offset: Option<u64>,
) {
    let body = Response::Produce(ProduceResponse {
        tp: p.tp.clone(),
        error,
        base_offset,
    });
    out.send(
        p.from,
        Message::Response {
            correlation_id: p.correlation_id,
            body,
        },
    );
}

impl Broker {
    /// Kafka's `appendRecordsToLeader`. Returns the response now, or `None` when parked (acks=all)
    /// or when no response is due (acks=0).
    pub(super) fn handle_produce(
        &mut self,
        now: Millis,
        from: NodeId,
        corr: u64,
        req: ProduceRequest,
        out: &mut Effects,
    ) -> Option<ProduceResponse> {
        let fail = |error| {
            Some(ProduceResponse {
                tp: req.tp.clone(),
                error,
                base_offset: None,
            })
        };
        let Some(topic) = self.cfg.topic(&req.tp.topic).cloned() else {
            return fail(ErrorCode::UnknownTopicOrPartition);
        };
        let Some(r) = self.replicas.get_mut(&req.tp) else {
            return fail(ErrorCode::NotLeaderOrFollower);
        };
        let Some(leader) = r.leader_state() else {
            return fail(ErrorCode::NotLeaderOrFollower);
        };
        if req.acks == Acks::All && (leader.isr.len() as u32) < topic.min_insync_replicas {
            return fail(ErrorCode::NotEnoughReplicas);
        }
        let base_offset = r.log.log_end_offset();
        let epoch = r.leader_epoch;
        let entries: Vec<LogEntry> = req
            .entries
            .into_iter()
            .map(|payload| LogEntry {
                epoch,
                append_time_ms: now,
                payload,
            })
            .collect();
        let required_offset = base_offset + entries.len() as u64;
        r.log.append(entries.iter().cloned());
        out.event(EventKind::Appended {
            tp: req.tp.clone(),
            base_offset,
            entries,
        });
        self.on_leader_append(now, &req.tp, out);
        match req.acks {
            Acks::None => None,
            Acks::Leader => Some(ProduceResponse {
                tp: req.tp,
                error: ErrorCode::None,
                base_offset: Some(base_offset),
            }),
            Acks::All => {
                let id = self.leader.next_id();
                let timer = self
                    .timers
                    .schedule(now + req.timeout_ms, Timer::ParkedProduce(id));
                let parked = ParkedProduce {
                    from,
                    correlation_id: corr,
                    tp: req.tp.clone(),
                    base_offset,
                    required_offset,
                    timer,
                };
                self.leader.produces.insert(id, parked);
                self.complete_parked_produces(&req.tp, out);
                None
            }
        }
    }

    /// After an append: wake fetches waiting for data, maybe move the high watermark.
    pub(super) fn on_leader_append(&mut self, now: Millis, tp: &TopicPartition, out: &mut Effects) {
        self.maybe_advance_hw(now, tp, out);
        self.wake_parked_fetches(now, tp, out);
    }

    pub(super) fn expire_parked_produce(&mut self, id: u64, out: &mut Effects) {
        if let Some(p) = self.leader.produces.remove(&id) {
            respond_produce(out, &p, ErrorCode::RequestTimedOut, None);
        }
    }

    /// Answers parked produces of `tp` whose records are now below the high watermark (Kafka's
    /// `checkEnoughReplicasReachOffset`).
    fn complete_parked_produces(&mut self, tp: &TopicPartition, out: &mut Effects) {
        let Some(r) = self.replicas.get(tp) else {
            return;
        };
        let hw = r.high_watermark;
        let isr_len = r.leader_state().map(|l| l.isr.len() as u32).unwrap_or(0);
        let min_isr = self
            .cfg
            .topic(&tp.topic)
            .map(|t| t.min_insync_replicas)
            .unwrap_or(1);
        let done: Vec<u64> = self
            .leader
            .produces
            .iter()
            .filter(|(_, p)| &p.tp == tp && p.required_offset <= hw)
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            let p = self.leader.produces.remove(&id).expect("id just listed");
            self.timers.cancel(p.timer);
            if isr_len >= min_isr {
                respond_produce(out, &p, ErrorCode::None, Some(p.base_offset));
            } else {
                respond_produce(out, &p, ErrorCode::NotEnoughReplicasAfterAppend, None);
            }
        }
    }

    /// Kafka's `maybeIncrementLeaderHW`.
    pub(super) fn maybe_advance_hw(
        &mut self,
        _now: Millis,
        tp: &TopicPartition,
        out: &mut Effects,
    ) {
        let min_isr = self
            .cfg
            .topic(&tp.topic)
            .map(|t| t.min_insync_replicas)
            .unwrap_or(1);
        let sw = &self.cfg.switches;
        let Some(r) = self.replicas.get_mut(tp) else {
            return;
        };
        if !r.is_leader() {
            return;
        }
        let candidate = r.candidate_high_watermark(min_isr, sw);
        let moves = if sw.hw_counts_lagging_replicas {
            candidate != r.high_watermark
        } else {
            candidate > r.high_watermark
        };
        if !moves {
            return;
        }
        r.high_watermark = candidate;
        out.event(EventKind::HighWatermark {
            tp: tp.clone(),
            high_watermark: candidate,
        });
        self.complete_parked_produces(tp, out);
        self.wake_parked_fetches(_now, tp, out);
        if tp.topic() == crate::protocol::CONSUMER_OFFSETS {
            self.release_held(tp.partition, out);
        }
    }

    /// Serves a Fetch from a follower or a consumer; parks it when there is nothing to return yet.
    pub(super) fn handle_fetch(
        &mut self,
        now: Millis,
        from: NodeId,
        corr: u64,
        req: FetchRequest,
        out: &mut Effects,
    ) {
        let mut stale = Vec::new();
        if let Some(follower) = req.replica_state {
            for p in &req.partitions {
                if !self.note_follower_fetch(now, follower, p, out) {
                    stale.push(p.tp.clone());
                }
            }
        }
        let mut resp = self.read_fetch(&req);
        for p in resp.partitions.iter_mut().filter(|p| stale.contains(&p.tp)) {
            p.error = ErrorCode::NotLeaderOrFollower;
            p.entries.clear();
        }
        let has_data = resp
            .partitions
            .iter()
            .any(|p| !p.entries.is_empty() || !p.error.is_ok());
        if has_data || req.max_wait_ms == 0 {
            out.send(
                from,
                Message::Response {
                    correlation_id: corr,
                    body: Response::Fetch(resp),
                },
            );
            return;
        }
        let id = self.leader.next_id();
        let timer = self
            .timers
            .schedule(now + req.max_wait_ms, Timer::ParkedFetch(id));
        self.leader.fetches.insert(
            id,
            ParkedFetch {
                from,
                correlation_id: corr,
                request: req,
                timer,
            },
        );
    }

    /// Updates the follower's progress, then maybe the high watermark and the ISR. Returns false
    /// when the fetch came from an incarnation older than the one the metadata registers
    /// (KIP-903, Kafka's `Replica.updateFetchStateOrThrow`): its progress is not recorded, and
    /// the partition is answered NOT_LEADER_OR_FOLLOWER.
    fn note_follower_fetch(
        &mut self,
        now: Millis,
        follower: ReplicaState,
        p: &FetchPartition,
        out: &mut Effects,
    ) -> bool {
        let check_epoch = !self.cfg.switches.isr_ignores_broker_epoch;
        let registered = self.metadata.broker_epochs.get(&follower.replica_id);
        if check_epoch && registered.is_some_and(|e| *e > follower.replica_epoch) {
            return false;
        }
        let Some(r) = self.replicas.get_mut(&p.tp) else {
            return true;
        };
        if !r.is_leader()
            || p.current_leader_epoch != r.leader_epoch
            || p.fetch_offset > r.log.log_end_offset()
        {
            return true;
        }
        let id = follower.replica_id;
        r.record_follower_fetch(now, id, p.fetch_offset, Some(follower.replica_epoch));
        let tp = p.tp.clone();
        self.maybe_expand_isr(now, &tp, id, out);
        self.maybe_advance_hw(now, &tp, out);
        true
    }

    /// Reads what a fetch may see right now.
    fn read_fetch(&self, req: &FetchRequest) -> FetchResponse {
        let partitions = req
            .partitions
            .iter()
            .map(|p| self.read_partition(req, p))
            .collect();
        FetchResponse { partitions }
    }

    fn read_partition(&self, req: &FetchRequest, p: &FetchPartition) -> FetchPartitionResponse {
        let (mut resp, window) = self.fetch_window(req, p);
        if let (Some((from, upto)), Some(r)) = (window, self.replicas.get(&p.tp)) {
            resp.entries = r.log.read(from, upto, req.max_records as usize);
        }
        resp
    }

    /// Whether a fetch of `p` would return records now, without reading them.
    fn has_records(&self, req: &FetchRequest, p: &FetchPartition) -> bool {
        let Some((from, upto)) = self.fetch_window(req, p).1 else {
            return false;
        };
        let end = self
            .replicas
            .get(&p.tp)
            .map_or(0, |r| r.log.log_end_offset());
        req.max_records > 0 && from < upto.min(end)
    }

    /// The response to a fetch of `p` without its records, and the offsets `[from, upto)` it may
    /// read when it may read at all.
    fn fetch_window(
        &self,
        req: &FetchRequest,
        p: &FetchPartition,
    ) -> (FetchPartitionResponse, Option<(u64, u64)>) {
        let mut resp = FetchPartitionResponse {
            tp: p.tp.clone(),
            error: ErrorCode::None,
            high_watermark: 0,
            log_start_offset: 0,
            leader_epoch: NO_EPOCH,
            base_offset: p.fetch_offset,
            entries: Vec::new(),
        };
        let Some(r) = self.replicas.get(&p.tp).filter(|r| r.is_leader()) else {
            resp.error = ErrorCode::NotLeaderOrFollower;
            return (resp, None);
        };
        resp.high_watermark = r.high_watermark;
        resp.log_start_offset = r.log.log_start_offset();
        resp.leader_epoch = r.leader_epoch;
        resp.error = r.check_current_leader_epoch(p.current_leader_epoch);
        if !resp.error.is_ok() {
            return (resp, None);
        }
        // Kafka: out of range below the log start or beyond the log end; between the high
        // watermark and the log end a consumer simply gets nothing yet.
        if p.fetch_offset < r.log.log_start_offset() || p.fetch_offset > r.log.log_end_offset() {
            resp.error = ErrorCode::OffsetOutOfRange;
            return (resp, None);
        }
        let visible =
            if req.replica_state.is_some() || self.cfg.switches.fetch_beyond_high_watermark {
                r.log.log_end_offset()
            } else {
                r.high_watermark
            };
        (resp, Some((p.fetch_offset, visible)))
    }

    /// Completes parked fetches on `tp` that now have something to return.
    fn wake_parked_fetches(&mut self, now: Millis, tp: &TopicPartition, out: &mut Effects) {
        let ready: Vec<u64> = self
            .leader
            .fetches
            .iter()
            .filter(|(_, f)| f.request.partitions.iter().any(|p| &p.tp == tp))
            .filter(|(_, f)| {
                f.request
                    .partitions
                    .iter()
                    .any(|p| self.has_records(&f.request, p))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            self.complete_parked_fetch(now, id, out);
        }
    }

    pub(super) fn complete_parked_fetch(&mut self, _now: Millis, id: u64, out: &mut Effects) {
        let Some(f) = self.leader.fetches.remove(&id) else {
            return;
        };
        self.timers.cancel(f.timer);
        let resp = self.read_fetch(&f.request);
        out.send(
            f.from,
            Message::Response {
                correlation_id: f.correlation_id,
                body: Response::Fetch(resp),
            },
        );
    }

    /// Kafka's `ListOffsets`: earliest is the log start; latest is the high watermark, refused
    /// with OFFSET_NOT_AVAILABLE while a new leader's HW is below its epoch start (KIP-207).
    pub(super) fn handle_list_offsets(&self, req: &ListOffsetsRequest) -> ListOffsetsResponse {
        let mut resp = ListOffsetsResponse {
            tp: req.tp.clone(),
            error: ErrorCode::None,
            offset: 0,
            leader_epoch: NO_EPOCH,
        };
        let Some(r) = self.replicas.get(&req.tp) else {
            resp.error = ErrorCode::NotLeaderOrFollower;
            return resp;
        };
        let Some(l) = r.leader_state() else {
            resp.error = ErrorCode::NotLeaderOrFollower;
            return resp;
        };
        resp.error = r.check_current_leader_epoch(req.current_leader_epoch);
        if !resp.error.is_ok() {
            return resp;
        }
        resp.leader_epoch = r.leader_epoch;
        match req.spec {
            OffsetSpec::Earliest => resp.offset = r.log.log_start_offset(),
            OffsetSpec::Latest if r.high_watermark < l.epoch_start_offset => {
                resp.error = ErrorCode::OffsetNotAvailable
            }
            OffsetSpec::Latest => resp.offset = r.high_watermark,
        }
        resp
    }

    /// Kafka's OffsetsForLeaderEpoch on the leader: the largest epoch ≤ the requested one and its
    /// end offset (KIP-279), or under `kip101_epoch_lookup` the bare end offset (KIP-101).
    pub(super) fn handle_offsets_for_leader_epoch(
        &self,
        req: &OffsetsForLeaderEpochRequest,
    ) -> OffsetsForLeaderEpochResponse {
        let mut resp = OffsetsForLeaderEpochResponse {
            tp: req.tp.clone(),
            error: ErrorCode::None,
            leader_epoch: NO_EPOCH,
            end_offset: UNDEFINED_OFFSET,
        };
        let Some(r) = self.replicas.get(&req.tp).filter(|r| r.is_leader()) else {
            resp.error = ErrorCode::NotLeaderOrFollower;
            return resp;
        };
        resp.error = r.check_current_leader_epoch(req.current_leader_epoch);
        if !resp.error.is_ok() {
            return resp;
        }
        let (epoch, end) = r.log.end_offset_for_epoch(req.leader_epoch);
        resp.end_offset = end.map(|o| o as i64).unwrap_or(UNDEFINED_OFFSET);
        resp.leader_epoch = if self.cfg.switches.kip101_epoch_lookup {
            NO_EPOCH
        } else {
            epoch
        };
        resp
    }

    /// Kafka's ISR expiration task: ask the controller to drop followers that stopped catching up.
    pub(super) fn maybe_shrink_isr(&mut self, now: Millis, out: &mut Effects) {
        let lag = self.cfg.cluster.replica_lag_time_max_ms;
        let shrinks: Vec<(TopicPartition, Vec<BrokerId>)> = self
            .replicas
            .values()
            .filter(|r| r.leader_state().is_some_and(|l| l.pending.is_none()))
            .filter_map(|r| {
                let lagging = r.out_of_sync_followers(now, lag);
                let l = r.leader_state()?;
                (!lagging.is_empty()).then(|| {
                    (
                        r.tp.clone(),
                        l.isr
                            .iter()
                            .filter(|b| !lagging.contains(b))
                            .copied()
                            .collect(),
                    )
                })
            })
            .collect();
        for (tp, new_isr) in shrinks {
            self.send_alter_partition(now, &tp, new_isr, out);
        }
    }

    /// Kafka's `maybeExpandIsr`: a caught-up follower joins the ISR if it is eligible
    /// (`canAddReplicaToIsr`: unfenced and, under KIP-903, fetching as the incarnation the
    /// metadata registers).
    fn maybe_expand_isr(
        &mut self,
        now: Millis,
        tp: &TopicPartition,
        follower: BrokerId,
        out: &mut Effects,
    ) {
        let Some(r) = self.replicas.get(tp) else {
            return;
        };
        let Some(l) = r.leader_state() else { return };
        if l.pending.is_some() || !r.follower_may_join_isr(follower) {
            return;
        }
        let fetched_epoch = l.followers.get(&follower).and_then(|p| p.broker_epoch);
        let check_epoch = !self.cfg.switches.isr_ignores_broker_epoch;
        if !self
            .metadata
            .is_replica_isr_eligible(follower, fetched_epoch, check_epoch)
        {
            return;
        }
        let mut new_isr = l.isr.clone();
        new_isr.push(follower);
        self.send_alter_partition(now, tp, new_isr, out);
    }

    /// Proposes `new_isr`, each member with the broker epoch of its latest fetch (Kafka's
    /// `prepareIsrExpand` / `prepareIsrShrink` with `addBrokerEpochToIsr`).
    pub(super) fn send_alter_partition(
        &mut self,
        now: Millis,
        tp: &TopicPartition,
        new_isr: Vec<BrokerId>,
        out: &mut Effects,
    ) {
        let Some(l) = self.replicas.get(tp).and_then(|r| r.leader_state()) else {
            return;
        };
        let with_epochs = new_isr
            .iter()
            .map(|b| BrokerState {
                broker_id: *b,
                broker_epoch: self.broker_epoch_to_send(*b, l),
            })
            .collect();
        self.send_alter_partition_with_epochs(now, tp, with_epochs, out);
    }

    /// Kafka's `addBrokerEpochToIsr` for one member: the leader's own epoch, else the one the
    /// member's latest fetch carried (`-1`, here `None`, while it has not fetched in this leader
    /// epoch: the controller bumps the partition epoch if it restarts meanwhile). Pre-KIP-903
    /// requests carry none.
    fn broker_epoch_to_send(
        &self,
        broker: BrokerId,
        l: &super::replica::LeaderState,
    ) -> Option<u64> {
        if self.cfg.switches.isr_ignores_broker_epoch {
            None
        } else if broker == self.id {
            Some(self.incarnation)
        } else {
            l.followers.get(&broker).and_then(|p| p.broker_epoch)
        }
    }

    /// Sends AlterPartition for exactly `new_isr_with_epochs` (a retry sends what it sent before)
    /// and marks it pending.
    pub(super) fn send_alter_partition_with_epochs(
        &mut self,
        now: Millis,
        tp: &TopicPartition,
        new_isr_with_epochs: Vec<BrokerState>,
        out: &mut Effects,
    ) {
        let Some(r) = self.replicas.get(tp) else {
            return;
        };
        let Some(l) = r.leader_state() else { return };
        let req = AlterPartitionRequest {
            broker: self.id,
            incarnation: self.incarnation,
            tp: tp.clone(),
            leader_epoch: r.leader_epoch,
            partition_epoch: l.partition_epoch,
            new_isr_with_epochs: new_isr_with_epochs.clone(),
        };
        let corr = self.send_request(
            now,
            NodeId::Controller,
            Inflight::AlterPartition(tp.clone()),
            Request::AlterPartition(req),
            out,
        );
        if let Some(l) = self.replicas.get_mut(tp).and_then(|r| r.leader_state_mut()) {
            l.pending = Some(super::replica::PendingIsr {
                new_isr_with_epochs,
                correlation_id: corr,
            });
        }
    }

    /// Kafka's `handleAlterPartitionUpdate`: only the answer to the request in flight ends the
    /// pending state; a late answer to an older request (superseded when metadata moved the
    /// partition on) must not drop a newer pending expansion, or the high watermark would be
    /// computed without a follower the controller has just admitted.
    pub(super) fn on_alter_partition_response(
        &mut self,
        now: Millis,
        tp: TopicPartition,
        corr: u64,
        resp: AlterPartitionResponse,
        out: &mut Effects,
    ) {
        let Some(r) = self.replicas.get_mut(&tp) else {
            return;
        };
        let epoch = r.leader_epoch;
        let Some(l) = r.leader_state_mut() else {
            return;
        };
        // Kafka's `handleAlterPartitionError`: INVALID_UPDATE_VERSION and a fenced or unknown
        // leader epoch mean the partition moved on, possibly by an earlier try of this very
        // change, so the pending ISR stays until the controller's metadata says what happened
        // (it will: a newer partition state exists). Any other answer settles it; in particular
        // INELIGIBLE_REPLICA (a member fenced, shutting down, or of another incarnation, KIP-903)
        // says the partition epoch is current and nothing was applied, so the leader goes back
        // to the committed ISR, and the high watermark stops waiting for the rejected follower.
        let moved_on = matches!(
            resp.error,
            ErrorCode::InvalidUpdateVersion
                | ErrorCode::FencedLeaderEpoch
                | ErrorCode::UnknownLeaderEpoch
        );
        let answered = !moved_on;
        if answered && l.pending.as_ref().is_some_and(|p| p.correlation_id == corr) {
            l.pending = None;
        }
        match resp.state {
            Some(state)
                if resp.error.is_ok()
                    && state.leader_epoch == epoch
                    && state.partition_epoch > l.partition_epoch =>
            {
                l.partition_epoch = state.partition_epoch;
                if l.isr != state.isr {
                    l.isr = state.isr.clone();
                    out.event(EventKind::LeaderIsr {
                        tp: tp.clone(),
                        leader_epoch: epoch,
                        isr: state.isr,
                    });
                }
            }
            // NONE with an older partition epoch: the metadata push got here first.
            _ if resp.error.is_ok() => {}
            _ => {
                tracing::debug!(broker = self.id, %tp, error = %resp.error, "AlterPartition rejected")
            }
        }
        self.maybe_advance_hw(now, &tp, out);
    }
}
