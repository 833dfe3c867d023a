//! The controller as a sans-IO core (KRaft's `QuorumController` collapsed to one node): broker
//! registration and sessions, leader election, ISR changes, and the metadata log brokers follow.
//!
//! Rules (Kafka's `ReplicationControlManager` / `PartitionChangeBuilder`):
//! * A broker that misses `broker.session.timeout.ms` of heartbeats, asks to shut down, or
//!   registers a new incarnation (it restarted) is fenced: it leaves every ISR, the last member
//!   included, and loses leadership.
//! * KIP-966 (eligible leader replicas): a replica that leaves the ISR while the ISR is below
//!   `min.insync.replicas` joins the partition's ELR; the high watermark cannot move while the ISR
//!   is that small, so ELR members hold everything below it. ELR empties when the ISR is back at
//!   min.insync.replicas. A broker that restarts without a clean shutdown (its heartbeat carries
//!   no previous incarnation) leaves every ISR and ELR: its unflushed records may be gone.
//! * A leader is elected from the ISR, in replica-assignment order, among unfenced brokers (clean
//!   election); when the ISR is empty, from the ELR (it becomes the ISR); when both are empty,
//!   the last known leader if it is unfenced (KAFKA-19522). With
//!   `unclean.leader.election.enable`, when none of these is alive, any live replica may lead and
//!   the ISR becomes just it. With the `no_elr` switch (pre-KIP-966) the last ISR member stays in
//!   the ISR when fenced so the partition can come back, and no restart is called unclean.
//! * Every leader change bumps the leader epoch; every change bumps the partition epoch.
//! * AlterPartition is accepted only from the current leader in the current leader epoch and
//!   partition epoch (else FENCED_LEADER_EPOCH / INVALID_UPDATE_VERSION), and every member of the
//!   new ISR must be registered, unfenced and (KIP-903, Kafka 3.5) of the broker epoch the
//!   leader saw in its fetches, else INELIGIBLE_REPLICA: an AlterPartition sent before a
//!   follower restarted cannot admit the new incarnation, which may have lost its log. With the
//!   `isr_ignores_broker_epoch` switch the leader names no epochs (KAFKA-14139).
//!
//! What survives a crash is the metadata log ([`ControllerDisk`]); a restarted controller replays
//! it and gives every broker a fresh session.

use crate::config::{ProtocolSwitches, TopicConfig};
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::*;
use crate::protocol::{BrokerId, ErrorCode, Millis, NodeId, TopicPartition};
use std::collections::BTreeMap;

/// How a leader was chosen: from the ISR or ELR (clean), or not (unclean: the last known leader
/// or `unclean.leader.election.enable`), which may lose acknowledged records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Election {
    Clean,
    Unclean,
}

/// Heartbeat responses carry at most this many metadata records.
const MAX_RECORDS_PER_RESPONSE: usize = 1000;

/// What the controller keeps across a crash: its metadata log.
#[derive(Clone, Debug, Default)]
pub struct ControllerDisk {
    pub log: Vec<MetadataRecord>,
}

#[derive(Clone, Debug)]
struct BrokerRegistration {
    incarnation: u64,
    last_heartbeat_ms: Millis,
    fenced: bool,
    /// The metadata offset of this broker's latest registration: it is unfenced only once its
    /// heartbeats show it has caught up to here.
    registered_at_offset: u64,
}

/// Static inputs: the brokers, topics and protocol switches of the scenario.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    pub brokers: u32,
    pub broker_session_timeout_ms: u64,
    pub topics: Vec<TopicConfig>,
    pub switches: ProtocolSwitches,
}

pub struct Controller {
    cfg: ControllerConfig,
    log: Vec<MetadataRecord>,
    brokers: BTreeMap<BrokerId, BrokerRegistration>,
    partitions: BTreeMap<TopicPartition, PartitionState>,
    unclean: BTreeMap<String, bool>,
    min_isr: BTreeMap<String, u32>,
}

/// Kafka's default replica placement without racks: partition p of a topic starts at broker
/// `(p + start) % n` and continues round the ring.
pub fn assign_replicas(partition: u32, replication_factor: u32, brokers: u32) -> Vec<BrokerId> {
    (0..replication_factor)
        .map(|i| (partition + i) % brokers + 1)
        .collect()
}

impl Controller {
    /// A new cluster: every broker registered, every partition led by its first replica with the
    /// full replica set as ISR, in epoch 0.
    pub fn bootstrap(cfg: ControllerConfig, now: Millis, out: &mut Effects) -> Self {
        let mut c = Controller::empty(cfg);
        for b in 1..=c.cfg.brokers {
            c.append(
                MetadataRecord::RegisterBroker {
                    broker: b,
                    incarnation: 0,
                },
                out,
            );
        }
        let topics = c.cfg.topics.clone();
        for t in &topics {
            for p in 0..t.partitions {
                let replicas = assign_replicas(p, t.replication_factor, c.cfg.brokers);
                let state = PartitionState {
                    tp: TopicPartition::new(t.name.clone(), p),
                    leader: replicas.first().copied(),
                    leader_epoch: 0,
                    isr: replicas.clone(),
                    replicas,
                    partition_epoch: 0,
                    elr: Vec::new(),
                    last_known_elr: Vec::new(),
                };
                c.commit_partition(state, "create", out);
            }
        }
        c.fresh_sessions(now);
        c
    }

    /// A controller restarted from its disk: replays the metadata log.
    pub fn recover(
        cfg: ControllerConfig,
        disk: ControllerDisk,
        now: Millis,
        out: &mut Effects,
    ) -> Self {
        let mut c = Controller::empty(cfg);
        for record in disk.log {
            c.replay(&record);
            c.log.push(record);
        }
        c.fresh_sessions(now);
        if c.cfg.switches.controller_resets_epochs {
            let states: Vec<PartitionState> = c.partitions.values().cloned().collect();
            for mut s in states {
                s.leader_epoch = 0;
                s.partition_epoch = 0;
                c.commit_partition(s, "epochs reset on restart", out);
            }
        }
        c
    }

    fn empty(cfg: ControllerConfig) -> Self {
        let unclean = cfg
            .topics
            .iter()
            .map(|t| (t.name.clone(), t.unclean_leader_election))
            .collect();
        let min_isr = cfg
            .topics
            .iter()
            .map(|t| (t.name.clone(), t.min_insync_replicas))
            .collect();
        Controller {
            cfg,
            log: Vec::new(),
            brokers: BTreeMap::new(),
            partitions: BTreeMap::new(),
            unclean,
            min_isr,
        }
    }

    fn fresh_sessions(&mut self, now: Millis) {
        self.brokers
            .values_mut()
            .for_each(|b| b.last_heartbeat_ms = now);
    }

    pub fn disk(&self) -> ControllerDisk {
        ControllerDisk {
            log: self.log.clone(),
        }
    }

    pub fn partition(&self, tp: &TopicPartition) -> Option<&PartitionState> {
        self.partitions.get(tp)
    }

    /// Applies one record to the in-memory state (used live and on recovery).
    fn replay(&mut self, record: &MetadataRecord) {
        let offset = self.log.len() as u64;
        match record {
            MetadataRecord::RegisterBroker {
                broker,
                incarnation,
            } => {
                let reg = BrokerRegistration {
                    incarnation: *incarnation,
                    last_heartbeat_ms: 0,
                    fenced: *incarnation > 0,
                    registered_at_offset: offset,
                };
                self.brokers.insert(*broker, reg);
            }
            MetadataRecord::FenceBroker { broker } => {
                if let Some(b) = self.brokers.get_mut(broker) {
                    b.fenced = true;
                }
            }
            MetadataRecord::UnfenceBroker { broker } => {
                if let Some(b) = self.brokers.get_mut(broker) {
                    b.fenced = false;
                }
            }
            MetadataRecord::Partition(state) => {
                self.partitions.insert(state.tp.clone(), state.clone());
            }
        }
    }

    /// Appends a record to the metadata log, applies it, and pushes it to every broker.
    fn append(&mut self, record: MetadataRecord, out: &mut Effects) {
        self.replay(&record);
        let offset = self.log.len() as u64;
        self.log.push(record.clone());
        for b in 1..=self.cfg.brokers {
            let push = MetadataPush {
                records: vec![(offset, record.clone())],
            };
            out.send(
                NodeId::Broker(b),
                Message::Request {
                    correlation_id: 0,
                    body: Request::MetadataPush(push),
                },
            );
        }
    }

    fn commit_partition(&mut self, state: PartitionState, reason: &str, out: &mut Effects) {
        self.commit_partition_after(state, reason, Election::Clean, out)
    }

    /// Commits a partition state that `election` produced: an unclean one is said in the event,
    /// as Kafka logs it ("using an unclean election") and marks the leader RECOVERING.
    fn commit_partition_after(
        &mut self,
        state: PartitionState,
        reason: &str,
        election: Election,
        out: &mut Effects,
    ) {
        out.event(EventKind::PartitionChanged {
            state: state.clone(),
            reason: reason.to_string(),
            unclean_election: election == Election::Unclean,
        });
        self.append(MetadataRecord::Partition(state), out);
    }

    /// The next time `tick` must run (a broker session expiring).
    pub fn next_deadline(&self) -> Option<Millis> {
        self.brokers
            .values()
            .filter(|b| !b.fenced)
            .map(|b| b.last_heartbeat_ms + self.cfg.broker_session_timeout_ms + 1)
            .min()
    }

    /// Fences brokers whose session expired.
    pub fn tick(&mut self, now: Millis, out: &mut Effects) {
        let expired: Vec<BrokerId> = self
            .brokers
            .iter()
            .filter(|(_, b)| {
                !b.fenced && now > b.last_heartbeat_ms + self.cfg.broker_session_timeout_ms
            })
            .map(|(id, _)| *id)
            .collect();
        for b in expired {
            self.fence(b, "session expired", out);
        }
    }

    pub fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
        let Message::Request {
            correlation_id,
            body,
        } = message
        else {
            return;
        };
        let response = match body {
            Request::BrokerHeartbeat(req) => {
                Response::BrokerHeartbeat(self.handle_heartbeat(now, req, out))
            }
            Request::AlterPartition(req) => {
                Response::AlterPartition(self.handle_alter_partition(req, out))
            }
            other => {
                tracing::debug!(
                    api = other.api_name(),
                    "controller ignores a request it does not serve"
                );
                return;
            }
        };
        out.send(
            from,
            Message::Response {
                correlation_id,
                body: response,
            },
        );
    }

    fn handle_heartbeat(
        &mut self,
        now: Millis,
        req: BrokerHeartbeatRequest,
        out: &mut Effects,
    ) -> BrokerHeartbeatResponse {
        let Some(reg) = self.brokers.get(&req.broker).cloned() else {
            return BrokerHeartbeatResponse {
                error: ErrorCode::InvalidRequest,
                records: Vec::new(),
            };
        };
        if req.incarnation < reg.incarnation {
            return BrokerHeartbeatResponse {
                error: ErrorCode::StaleBrokerEpoch,
                records: Vec::new(),
            };
        }
        if req.incarnation > reg.incarnation {
            // The broker restarted: fence what the old incarnation held, then register the new one.
            if !reg.fenced {
                self.fence(req.broker, "re-registered after restart", out);
            }
            let clean = req.previous_incarnation == Some(reg.incarnation);
            if self.elr_enabled() && !clean {
                self.unclean_shutdown(req.broker, out);
            }
            self.append(
                MetadataRecord::RegisterBroker {
                    broker: req.broker,
                    incarnation: req.incarnation,
                },
                out,
            );
            out.event(EventKind::BrokerRegistered {
                broker: req.broker,
                incarnation: req.incarnation,
            });
        }
        let reg = self.brokers.get_mut(&req.broker).expect("registered above");
        reg.last_heartbeat_ms = now;
        if req.want_shutdown && !reg.fenced {
            self.fence(req.broker, "controlled shutdown", out);
        } else if !req.want_shutdown && reg.fenced && req.metadata_offset > reg.registered_at_offset
        {
            self.unfence(req.broker, out);
        }
        let from = (req.metadata_offset as usize).min(self.log.len());
        let to = (from + MAX_RECORDS_PER_RESPONSE).min(self.log.len());
        let records = (from..to)
            .map(|i| (i as u64, self.log[i].clone()))
            .collect();
        BrokerHeartbeatResponse {
            error: ErrorCode::None,
            records,
        }
    }

    fn fence(&mut self, broker: BrokerId, reason: &str, out: &mut Effects) {
        out.event(EventKind::BrokerFenced {
            broker,
            reason: reason.to_string(),
        });
        self.append(MetadataRecord::FenceBroker { broker }, out);
        self.leave_partitions(broker, false, "fenced", out);
    }

    /// Takes `broker` out of every partition it leads or is in the ISR of (and, `unclean`, the
    /// ELR of), and commits each partition that changed, saying `why`.
    fn leave_partitions(&mut self, broker: BrokerId, unclean: bool, why: &str, out: &mut Effects) {
        let affected: Vec<PartitionState> = self
            .partitions
            .values()
            .filter(|s| {
                s.leader == Some(broker)
                    || s.isr.contains(&broker)
                    || (unclean && s.elr.contains(&broker))
            })
            .cloned()
            .collect();
        for mut state in affected {
            let before = state.clone();
            let election = self.remove_from_isr(&mut state, broker, unclean.then_some(broker));
            // The pre-KIP-966 controller commits a new partition epoch on every fence, even
            // when the last ISR member stays.
            if state == before && (unclean || self.elr_enabled()) {
                continue;
            }
            state.partition_epoch += 1;
            self.commit_partition_after(state, &format!("b{broker} {why}"), election, out);
        }
    }

    fn elr_enabled(&self) -> bool {
        !self.cfg.switches.no_elr
    }

    /// KIP-966's unclean-shutdown handling (`handleBrokerUncleanShutdown`): a broker that comes
    /// back without having shut down cleanly may have lost records it acknowledged, so it leaves
    /// every ISR and ELR it is in and cannot be elected from them.
    fn unclean_shutdown(&mut self, broker: BrokerId, out: &mut Effects) {
        self.leave_partitions(broker, true, "unclean shutdown", out);
    }

    /// Takes `broker` out of a partition's ISR (with KIP-966's eligibility rules, or without ELR
    /// the old rule that the last member stays), elects a new leader if it led, and keeps the
    /// last known leader. `unclean` names a broker back from an unclean shutdown: not eligible.
    fn remove_from_isr(
        &self,
        state: &mut PartitionState,
        broker: BrokerId,
        unclean: Option<BrokerId>,
    ) -> Election {
        let before = state.clone();
        let isr: Vec<BrokerId> = state.isr.iter().copied().filter(|b| *b != broker).collect();
        if self.elr_enabled() {
            self.change_isr(state, isr, unclean);
        } else if state.isr.len() > 1 {
            state.isr = isr;
        }
        let election = if state.leader == Some(broker) {
            self.elect(state)
        } else {
            Election::Clean
        };
        self.note_last_known_leader(&before, state);
        election
    }

    /// Kafka's `PartitionChangeBuilder` ISR step with KIP-966: at or above
    /// `min.insync.replicas` the ELR empties; below it, every replica leaving the ISR joins the
    /// ELR, except one that shut down uncleanly.
    fn change_isr(&self, s: &mut PartitionState, isr: Vec<BrokerId>, unclean: Option<BrokerId>) {
        let min_isr = self.min_isr.get(s.tp.topic()).copied().unwrap_or(1);
        if isr.len() as u32 >= min_isr {
            s.elr.clear();
            s.last_known_elr.clear();
        } else {
            s.elr = s
                .replicas
                .iter()
                .copied()
                .filter(|r| s.elr.contains(r) || s.isr.contains(r))
                .filter(|r| !isr.contains(r) && Some(*r) != unclean)
                .collect();
        }
        s.isr = isr;
    }

    /// Kafka's `maybeUpdateLastKnownLeader`: remember the leader when the ISR first empties;
    /// forget it once the partition has a leader again.
    fn note_last_known_leader(&self, before: &PartitionState, s: &mut PartitionState) {
        if !self.elr_enabled() {
            return;
        }
        if s.isr.is_empty() {
            if let Some(l) = before.leader {
                if s.last_known_elr != [l] {
                    s.last_known_elr = vec![l];
                }
            }
        } else if s.leader.is_some() {
            s.last_known_elr.clear();
        }
    }

    fn unfence(&mut self, broker: BrokerId, out: &mut Effects) {
        out.event(EventKind::BrokerUnfenced { broker });
        self.append(MetadataRecord::UnfenceBroker { broker }, out);
        let offline: Vec<PartitionState> = self
            .partitions
            .values()
            .filter(|s| s.leader.is_none() && s.replicas.contains(&broker))
            .cloned()
            .collect();
        for mut state in offline {
            let before = state.clone();
            let election = self.elect(&mut state);
            self.note_last_known_leader(&before, &mut state);
            if state.leader.is_some() {
                state.partition_epoch += 1;
                self.commit_partition_after(state, &format!("b{broker} unfenced"), election, out);
            }
        }
    }

    fn is_live(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_some_and(|b| !b.fenced)
    }

    /// Picks a new leader for `state` (clean, else unclean if the topic allows it), bumping the
    /// leader epoch when the leader changes, and says which kind of election it was. Kafka's
    /// `PartitionChangeBuilder.electAnyLeader`: a replica of the ISR, else (ISR empty) of the ELR,
    /// else the last known leader, else with `unclean.leader.election.enable` any live replica.
    /// The last two are unclean elections (`ElectionResult.unclean`: "This can result in data
    /// loss!"): the ISR becomes just the new leader, whatever it holds.
    fn elect(&self, state: &mut PartitionState) -> Election {
        let sw = &self.cfg.switches;
        let clean = state
            .replicas
            .iter()
            .copied()
            .find(|r| state.isr.contains(r) && self.is_live(*r));
        let elr = self.elr_enabled() && state.isr.is_empty();
        let eligible = state
            .replicas
            .iter()
            .copied()
            .find(|r| elr && state.elr.contains(r) && self.is_live(*r));
        let last_known = match state.last_known_elr[..] {
            [l] if elr && state.elr.is_empty() && self.is_live(l) => Some(l),
            _ => None,
        };
        let unclean_allowed = self.unclean.get(state.tp.topic()).copied().unwrap_or(false);
        let any_live = || state.replicas.iter().copied().find(|r| self.is_live(*r));
        let (new_leader, election) = match (clean, eligible, last_known) {
            (Some(l), _, _) => (Some(l), Election::Clean),
            (None, Some(l), _) => {
                // An eligible replica becomes the whole ISR.
                state.isr = vec![l];
                state.elr.retain(|r| *r != l);
                (Some(l), Election::Clean)
            }
            (None, None, Some(l)) => {
                // KIP-966's balanced recovery: with ISR and ELR empty, the last known leader
                // becomes the whole ISR, whatever an unclean shutdown left in its log.
                state.isr = vec![l];
                (Some(l), Election::Unclean)
            }
            _ if sw.elect_outside_isr => (any_live(), Election::Clean),
            _ if unclean_allowed => {
                let l = any_live();
                if let Some(l) = l {
                    state.isr = vec![l];
                    state.elr.clear();
                    state.last_known_elr.clear();
                }
                (l, Election::Unclean)
            }
            _ => (None, Election::Clean),
        };
        if new_leader != state.leader {
            state.leader = new_leader;
            // Every leader change bumps the epoch (going offline included); the broken variant
            // keeps it when a new leader takes over.
            if new_leader.is_none() || !sw.no_epoch_bump {
                state.leader_epoch += 1;
            }
        }
        if new_leader.is_some() {
            election
        } else {
            Election::Clean
        }
    }

    /// Kafka's `ReplicationControlManager.ineligibleReplicasForIsr`: every member of a proposed
    /// ISR must be registered and unfenced (kafkasim fences a broker in controlled shutdown at
    /// once, so "shutting down" is "fenced" here), and, when the leader names a broker epoch
    /// (KIP-903), that must be the epoch the broker is registered with now: a follower that
    /// restarted since the leader saw it fetch may have lost what it fetched. Each ineligible
    /// member is returned with the reason Kafka logs.
    fn ineligible_replicas_for_isr(&self, isr: &[BrokerState]) -> Vec<(BrokerId, &'static str)> {
        isr.iter()
            .filter_map(|b| {
                let why = match self.brokers.get(&b.broker_id) {
                    None => "not registered",
                    Some(reg) if reg.fenced => "fenced",
                    Some(reg) if b.broker_epoch.is_some_and(|e| e != reg.incarnation) => {
                        "broker epoch mismatch"
                    }
                    Some(_) => return None,
                };
                Some((b.broker_id, why))
            })
            .collect()
    }

    /// AlterPartition (Kafka's `alterPartition`): the epochs fence stale leaders and stale
    /// proposals; then, as `validateAlterPartitionData` does, the ISR must be replicas, hold the
    /// leader, and name only eligible brokers.
    fn handle_alter_partition(
        &mut self,
        req: AlterPartitionRequest,
        out: &mut Effects,
    ) -> AlterPartitionResponse {
        let error = |error| AlterPartitionResponse {
            tp: req.tp.clone(),
            error,
            state: None,
        };
        let Some(current) = self.partitions.get(&req.tp).cloned() else {
            return error(ErrorCode::UnknownTopicOrPartition);
        };
        if self
            .brokers
            .get(&req.broker)
            .is_none_or(|b| b.incarnation != req.incarnation)
        {
            return error(ErrorCode::StaleBrokerEpoch);
        }
        if current.leader != Some(req.broker) || req.leader_epoch < current.leader_epoch {
            return error(ErrorCode::FencedLeaderEpoch);
        }
        if req.leader_epoch > current.leader_epoch {
            return error(ErrorCode::UnknownLeaderEpoch);
        }
        if req.partition_epoch != current.partition_epoch {
            return error(ErrorCode::InvalidUpdateVersion);
        }
        let new_isr = req.new_isr();
        if !valid_isr(&current.replicas, &new_isr) || !new_isr.contains(&req.broker) {
            return error(ErrorCode::InvalidRequest);
        }
        let ineligible = self.ineligible_replicas_for_isr(&req.new_isr_with_epochs);
        if !ineligible.is_empty() {
            tracing::debug!(tp = %req.tp, ?ineligible, "AlterPartition names ineligible replicas");
            return error(ErrorCode::IneligibleReplica);
        }
        let mut state = current;
        if self.elr_enabled() {
            let before = state.clone();
            self.change_isr(&mut state, new_isr, None);
            self.note_last_known_leader(&before, &mut state);
        } else {
            state.isr = new_isr;
        }
        state.partition_epoch += 1;
        self.commit_partition(
            state.clone(),
            &format!("AlterPartition from b{}", req.broker),
            out,
        );
        AlterPartitionResponse {
            tp: req.tp,
            error: ErrorCode::None,
            state: Some(state),
        }
    }
}

/// Kafka's `Replicas.validateIsr`: every member is a replica, none twice.
fn valid_isr(replicas: &[BrokerId], isr: &[BrokerId]) -> bool {
    isr.iter().all(|b| replicas.contains(b))
        && isr.iter().enumerate().all(|(i, b)| !isr[..i].contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller(unclean: bool) -> (Controller, Effects) {
        controller_with(unclean, ProtocolSwitches::default())
    }

    fn controller_with(unclean: bool, switches: ProtocolSwitches) -> (Controller, Effects) {
        let cfg = ControllerConfig {
            brokers: 3,
            broker_session_timeout_ms: 3000,
            topics: vec![TopicConfig {
                name: "t".into(),
                partitions: 1,
                replication_factor: 3,
                min_insync_replicas: 2,
                unclean_leader_election: unclean,
                retention_ms: None,
                retention_records: None,
            }],
            switches,
        };
        let mut out = Effects::default();
        let c = Controller::bootstrap(cfg, 0, &mut out);
        (c, out)
    }

    fn tp() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    /// A proposed ISR whose members are all of incarnation 0.
    fn isr_of(brokers: &[BrokerId]) -> Vec<BrokerState> {
        brokers
            .iter()
            .map(|b| BrokerState {
                broker_id: *b,
                broker_epoch: Some(0),
            })
            .collect()
    }

    fn heartbeat(
        c: &mut Controller,
        now: Millis,
        broker: BrokerId,
        incarnation: u64,
        out: &mut Effects,
    ) {
        restart_heartbeat(c, now, broker, incarnation, None, out);
    }

    /// A heartbeat carrying the incarnation of the broker's last clean shutdown, if any.
    fn restart_heartbeat(
        c: &mut Controller,
        now: Millis,
        broker: BrokerId,
        incarnation: u64,
        previous_incarnation: Option<u64>,
        out: &mut Effects,
    ) {
        let req = BrokerHeartbeatRequest {
            broker,
            incarnation,
            metadata_offset: c.log.len() as u64,
            want_shutdown: false,
            previous_incarnation,
        };
        c.handle_heartbeat(now, req, out);
    }

    fn state(
        c: &Controller,
    ) -> (
        Option<BrokerId>,
        Vec<BrokerId>,
        Vec<BrokerId>,
        Vec<BrokerId>,
    ) {
        let s = c.partition(&tp()).unwrap();
        (
            s.leader,
            s.isr.clone(),
            s.elr.clone(),
            s.last_known_elr.clone(),
        )
    }

    #[test]
    fn kip966_fenced_followers_become_eligible_and_an_unclean_restart_is_not_elected() {
        let (mut c, mut out) = controller(false);
        c.fence(2, "test", &mut out);
        // ISR {1,3} is still at min.insync.replicas: b2 is not eligible.
        assert_eq!(state(&c), (Some(1), vec![1, 3], vec![], vec![]));
        c.fence(3, "test", &mut out);
        assert_eq!(state(&c), (Some(1), vec![1], vec![3], vec![]));
        // The last ISR member is fenced too: the ISR empties, b1 remembered as last leader.
        c.fence(1, "test", &mut out);
        assert_eq!(state(&c), (None, vec![], vec![1, 3], vec![1]));
        // b1 lost power and re-registers with no clean-shutdown record: out of the ELR.
        restart_heartbeat(&mut c, 10, 1, 1, None, &mut out);
        restart_heartbeat(&mut c, 20, 1, 1, None, &mut out);
        assert_eq!(state(&c), (None, vec![], vec![3], vec![1]));
        // b3 was only fenced (a network cut): back, it is elected and is the whole ISR.
        restart_heartbeat(&mut c, 30, 3, 0, None, &mut out);
        assert_eq!(state(&c), (Some(3), vec![3], vec![], vec![]));
    }

    #[test]
    fn kip966_clean_restart_keeps_eligibility_and_last_known_leader_needs_an_empty_elr() {
        let (mut c, mut out) = controller(false);
        c.fence(2, "test", &mut out);
        c.fence(3, "test", &mut out);
        c.fence(1, "test", &mut out);
        // b3 shut down cleanly in incarnation 0: it stays eligible and leads when back.
        restart_heartbeat(&mut c, 10, 3, 1, Some(0), &mut out);
        assert_eq!(state(&c).2, vec![1, 3]);
        restart_heartbeat(&mut c, 20, 3, 1, Some(0), &mut out);
        assert_eq!(state(&c), (Some(3), vec![3], vec![1], vec![]));

        // Both eligible replicas restart uncleanly: only the last known leader is left, and it is
        // elected once unfenced (KAFKA-19522), as Kafka does.
        let (mut c, mut out) = controller(false);
        c.fence(2, "test", &mut out);
        c.fence(3, "test", &mut out);
        c.fence(1, "test", &mut out);
        restart_heartbeat(&mut c, 10, 3, 1, None, &mut out);
        restart_heartbeat(&mut c, 10, 1, 1, None, &mut out);
        assert_eq!(state(&c), (None, vec![], vec![], vec![1]));
        restart_heartbeat(&mut c, 20, 1, 1, None, &mut out);
        assert_eq!(state(&c), (Some(1), vec![1], vec![], vec![]));
    }

    /// The elections (of partition `t-0`) in `out` since it was last drained: leader and
    /// whether the controller called it unclean.
    fn elections(out: &mut Effects) -> Vec<(Option<BrokerId>, bool)> {
        std::mem::take(&mut out.events)
            .into_iter()
            .filter_map(|e| match e {
                EventKind::PartitionChanged {
                    state,
                    unclean_election,
                    ..
                } if state.leader.is_some() => Some((state.leader, unclean_election)),
                _ => None,
            })
            .collect()
    }

    /// A controller whose three brokers were fenced in the order b2, b3, b1 (b1 led).
    fn all_fenced(unclean: bool) -> (Controller, Effects) {
        let (mut c, mut out) = controller(unclean);
        for b in [2, 3, 1] {
            c.fence(b, "test", &mut out);
        }
        (c, out)
    }

    #[test]
    fn elections_outside_isr_and_elr_are_called_unclean() {
        // From the ELR: clean (ELR members hold everything below the high watermark).
        let (mut c, mut out) = all_fenced(false);
        out.events.clear();
        heartbeat(&mut c, 10, 3, 0, &mut out);
        assert_eq!(elections(&mut out), vec![(Some(3), false)]);

        // The last known leader after its unclean restart: Kafka's balanced recovery elects it
        // as an unclean election (`ElectionResult(lastKnownElr[0], true)`).
        let (mut c, mut out) = all_fenced(false);
        restart_heartbeat(&mut c, 10, 3, 1, None, &mut out);
        restart_heartbeat(&mut c, 10, 1, 1, None, &mut out);
        out.events.clear();
        restart_heartbeat(&mut c, 20, 1, 1, None, &mut out);
        assert_eq!(elections(&mut out), vec![(Some(1), true)]);

        // unclean.leader.election.enable, with the ELR and the last known leader gone: b2,
        // only fenced and never in the ELR, is elected uncleanly.
        let (mut c, mut out) = all_fenced(true);
        restart_heartbeat(&mut c, 10, 3, 1, None, &mut out);
        restart_heartbeat(&mut c, 10, 1, 1, None, &mut out);
        out.events.clear();
        heartbeat(&mut c, 20, 2, 0, &mut out);
        let e = elections(&mut out);
        assert!(e.contains(&(Some(2), true)), "{e:?}");
    }

    #[test]
    fn kip966_isr_back_at_min_isr_empties_the_elr() {
        let (mut c, mut out) = controller(false);
        c.fence(2, "test", &mut out);
        c.fence(3, "test", &mut out);
        assert_eq!(state(&c).2, vec![3]);
        heartbeat(&mut c, 10, 3, 0, &mut out);
        let pe = c.partition(&tp()).unwrap().partition_epoch;
        let req = AlterPartitionRequest {
            broker: 1,
            incarnation: 0,
            tp: tp(),
            leader_epoch: 0,
            partition_epoch: pe,
            new_isr_with_epochs: isr_of(&[1, 3]),
        };
        assert_eq!(
            c.handle_alter_partition(req, &mut out).error,
            ErrorCode::None
        );
        assert_eq!(state(&c), (Some(1), vec![1, 3], vec![], vec![]));
    }

    /// An AlterPartition from b1 (leader epoch 0) proposing `isr` at the current partition epoch.
    fn alter(c: &mut Controller, isr: Vec<BrokerState>, out: &mut Effects) -> ErrorCode {
        let req = AlterPartitionRequest {
            broker: 1,
            incarnation: 0,
            tp: tp(),
            leader_epoch: 0,
            partition_epoch: c.partition(&tp()).unwrap().partition_epoch,
            new_isr_with_epochs: isr,
        };
        c.handle_alter_partition(req, out).error
    }

    fn with_b3(b3: Option<u64>) -> Vec<BrokerState> {
        let mut isr = isr_of(&[1, 2]);
        isr.push(BrokerState {
            broker_id: 3,
            broker_epoch: b3,
        });
        isr
    }

    /// b3 left the ISR, lost power and registered again as incarnation 1 (unfenced).
    fn b3_restarted() -> (Controller, Effects) {
        let (mut c, mut out) = controller(false);
        c.fence(3, "test", &mut out);
        restart_heartbeat(&mut c, 10, 3, 1, None, &mut out);
        restart_heartbeat(&mut c, 20, 3, 1, None, &mut out);
        assert!(c.is_live(3));
        (c, out)
    }

    #[test]
    fn kip903_a_stale_broker_epoch_is_ineligible_and_the_current_one_is_admitted() {
        let (mut c, mut out) = b3_restarted();
        let pe = c.partition(&tp()).unwrap().partition_epoch;
        // The leader saw incarnation 0 catch up; incarnation 1 may have lost what it fetched.
        assert_eq!(
            alter(&mut c, with_b3(Some(0)), &mut out),
            ErrorCode::IneligibleReplica
        );
        let s = c.partition(&tp()).unwrap();
        assert_eq!((s.isr.clone(), s.partition_epoch), (vec![1, 2], pe));
        assert_eq!(
            c.ineligible_replicas_for_isr(&with_b3(Some(0))),
            vec![(3, "broker epoch mismatch")]
        );
        assert_eq!(alter(&mut c, with_b3(Some(1)), &mut out), ErrorCode::None);
        assert_eq!(c.partition(&tp()).unwrap().isr, vec![1, 2, 3]);
    }

    #[test]
    fn before_kip903_a_request_without_epochs_is_checked_for_liveness_only() {
        // A pre-KIP-903 leader names no epochs (Kafka's -1): the stale proposal is admitted.
        let (mut c, mut out) = b3_restarted();
        assert_eq!(alter(&mut c, with_b3(None), &mut out), ErrorCode::None);
        assert_eq!(c.partition(&tp()).unwrap().isr, vec![1, 2, 3]);
    }

    #[test]
    fn kip903_fenced_shutting_down_and_unregistered_brokers_are_ineligible() {
        let (mut c, mut out) = controller(false);
        c.fence(3, "test", &mut out);
        assert_eq!(
            alter(&mut c, with_b3(Some(0)), &mut out),
            ErrorCode::IneligibleReplica
        );
        // b2 asks for a controlled shutdown: it is fenced at once and leaves the ISR.
        let req = BrokerHeartbeatRequest {
            broker: 2,
            incarnation: 0,
            metadata_offset: c.log.len() as u64,
            want_shutdown: true,
            previous_incarnation: None,
        };
        c.handle_heartbeat(30, req, &mut out);
        assert_eq!(c.partition(&tp()).unwrap().isr, vec![1]);
        assert_eq!(
            alter(&mut c, isr_of(&[1, 2]), &mut out),
            ErrorCode::IneligibleReplica
        );
        assert_eq!(
            c.ineligible_replicas_for_isr(&isr_of(&[1, 2, 3, 9])),
            vec![(2, "fenced"), (3, "fenced"), (9, "not registered")]
        );
        // A member that is no replica, or twice in the list, is an invalid request.
        assert_eq!(
            alter(&mut c, isr_of(&[1, 9]), &mut out),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            alter(&mut c, isr_of(&[1, 1]), &mut out),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn session_expiry_fences_the_leader_and_elects_from_isr() {
        let (mut c, mut out) = controller(false);
        assert_eq!(c.partition(&tp()).unwrap().leader, Some(1));
        heartbeat(&mut c, 2000, 2, 0, &mut out);
        heartbeat(&mut c, 2000, 3, 0, &mut out);
        c.tick(3001, &mut out);
        let s = c.partition(&tp()).unwrap();
        assert_eq!(
            (s.leader, s.leader_epoch, s.isr.clone()),
            (Some(2), 1, vec![2, 3])
        );
    }

    #[test]
    fn before_kip966_last_isr_member_stays_and_partition_goes_offline_without_unclean() {
        let switches = ProtocolSwitches {
            no_elr: true,
            ..Default::default()
        };
        let (mut c, mut out) = controller_with(false, switches);
        c.fence(2, "test", &mut out);
        c.fence(3, "test", &mut out);
        c.fence(1, "test", &mut out);
        let s = c.partition(&tp()).unwrap().clone();
        assert_eq!((s.leader, s.isr.clone()), (None, vec![1]));
        // b2 comes back: not in the ISR, so no clean election.
        heartbeat(&mut c, 10, 2, 1, &mut out);
        heartbeat(&mut c, 20, 2, 1, &mut out);
        assert_eq!(c.partition(&tp()).unwrap().leader, None);
    }

    #[test]
    fn unclean_election_picks_a_live_replica_outside_the_isr() {
        let (mut c, mut out) = controller(true);
        c.fence(2, "test", &mut out);
        c.fence(3, "test", &mut out);
        c.fence(1, "test", &mut out);
        heartbeat(&mut c, 10, 2, 1, &mut out);
        heartbeat(&mut c, 20, 2, 1, &mut out);
        let s = c.partition(&tp()).unwrap();
        assert_eq!((s.leader, s.isr.clone()), (Some(2), vec![2]));
    }

    #[test]
    fn alter_partition_is_fenced_by_epochs() {
        let (mut c, mut out) = controller(false);
        let req = |leader_epoch, partition_epoch, isr: Vec<BrokerId>| AlterPartitionRequest {
            broker: 1,
            incarnation: 0,
            tp: tp(),
            leader_epoch,
            partition_epoch,
            new_isr_with_epochs: isr_of(&isr),
        };
        assert_eq!(
            c.handle_alter_partition(req(0, 0, vec![1, 2]), &mut out)
                .error,
            ErrorCode::None
        );
        assert_eq!(
            c.handle_alter_partition(req(0, 0, vec![1]), &mut out).error,
            ErrorCode::InvalidUpdateVersion
        );
        // b3 is out of the ISR now, so fencing it changes no partition: the epoch stays 1.
        c.fence(3, "test", &mut out);
        assert_eq!(
            c.handle_alter_partition(req(0, 1, vec![1, 2, 3]), &mut out)
                .error,
            ErrorCode::IneligibleReplica
        );
        c.fence(1, "test", &mut out);
        assert_eq!(
            c.handle_alter_partition(req(0, 2, vec![1]), &mut out).error,
            ErrorCode::FencedLeaderEpoch
        );
    }

    #[test]
    fn recovery_replays_the_log() {
        let (mut c, mut out) = controller(false);
        c.fence(1, "test", &mut out);
        let r = Controller::recover(c.cfg.clone(), c.disk(), 500, &mut out);
        assert_eq!(r.partition(&tp()), c.partition(&tp()));
        assert!(r.brokers[&1].fenced);
    }
}
