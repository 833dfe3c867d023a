//! The controller as a sans-IO core (KRaft's `QuorumController` collapsed to one node): broker
//! registration and sessions, leader election, ISR changes, and the metadata log brokers follow.
//!
//! Rules (Kafka's `ReplicationControlManager` / `PartitionChangeBuilder`):
//! * A broker that misses `broker.session.timeout.ms` of heartbeats, asks to shut down, or
//!   registers a new incarnation (it restarted) is fenced: it leaves every ISR (unless it is the
//!   last member, which stays so the partition can come back cleanly) and loses leadership.
//! * A leader is elected from the ISR, in replica-assignment order, among unfenced brokers (clean
//!   election). With `unclean.leader.election.enable`, when no ISR member is alive, any live
//!   replica may lead and the ISR becomes just it.
//! * Every leader change bumps the leader epoch; every change bumps the partition epoch.
//! * AlterPartition is accepted only from the current leader in the current leader epoch and
//!   partition epoch (else FENCED_LEADER_EPOCH / INVALID_UPDATE_VERSION), and may only add
//!   unfenced replicas (else INELIGIBLE_REPLICA).
//!
//! What survives a crash is the metadata log ([`ControllerDisk`]); a restarted controller replays
//! it and gives every broker a fresh session.

use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::*;
use crate::protocol::{BrokerId, ErrorCode, Millis, NodeId, TopicPartition};
use crate::scenario::{ProtocolSwitches, TopicConfig};
use std::collections::BTreeMap;

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
        Controller {
            cfg,
            log: Vec::new(),
            brokers: BTreeMap::new(),
            partitions: BTreeMap::new(),
            unclean,
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
        out.event(EventKind::PartitionChanged {
            state: state.clone(),
            reason: reason.to_string(),
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
            self.append(
                MetadataRecord::RegisterBroker {
                    broker: req.broker,
                    incarnation: req.incarnation,
                },
                out,
            );
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
        let affected: Vec<PartitionState> = self
            .partitions
            .values()
            .filter(|s| s.leader == Some(broker) || s.isr.contains(&broker))
            .cloned()
            .collect();
        for mut state in affected {
            if state.isr.len() > 1 {
                state.isr.retain(|b| *b != broker);
            }
            if state.leader == Some(broker) {
                self.elect(&mut state);
            }
            state.partition_epoch += 1;
            self.commit_partition(state, &format!("b{broker} fenced"), out);
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
            self.elect(&mut state);
            if state.leader.is_some() {
                state.partition_epoch += 1;
                self.commit_partition(state, &format!("b{broker} unfenced"), out);
            }
        }
    }

    fn is_live(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_some_and(|b| !b.fenced)
    }

    /// Picks a new leader for `state` (clean, else unclean if the topic allows it), bumping the
    /// leader epoch when the leader changes.
    fn elect(&self, state: &mut PartitionState) {
        let sw = &self.cfg.switches;
        let clean = state
            .replicas
            .iter()
            .copied()
            .find(|r| state.isr.contains(r) && self.is_live(*r));
        let unclean_allowed = self.unclean.get(state.tp.topic()).copied().unwrap_or(false);
        let any_live = || state.replicas.iter().copied().find(|r| self.is_live(*r));
        let new_leader = match clean {
            Some(l) => Some(l),
            None if sw.elect_outside_isr => any_live(),
            None if unclean_allowed => {
                let l = any_live();
                if let Some(l) = l {
                    state.isr = vec![l];
                }
                l
            }
            None => None,
        };
        if new_leader != state.leader {
            state.leader = new_leader;
            // Every leader change bumps the epoch (going offline included); the broken variant
            // keeps it when a new leader takes over.
            if new_leader.is_none() || !sw.no_epoch_bump {
                state.leader_epoch += 1;
            }
        }
    }

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
        if !req.new_isr.contains(&req.broker) {
            return error(ErrorCode::InvalidRequest);
        }
        let added_ineligible = req.new_isr.iter().any(|b| {
            !current.isr.contains(b) && (!self.is_live(*b) || !current.replicas.contains(b))
        });
        if added_ineligible {
            return error(ErrorCode::IneligibleReplica);
        }
        let mut state = current;
        state.isr = req.new_isr;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn controller(unclean: bool) -> (Controller, Effects) {
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
            switches: ProtocolSwitches::default(),
        };
        let mut out = Effects::default();
        let c = Controller::bootstrap(cfg, 0, &mut out);
        (c, out)
    }

    fn tp() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    fn heartbeat(
        c: &mut Controller,
        now: Millis,
        broker: BrokerId,
        incarnation: u64,
        out: &mut Effects,
    ) {
        let req = BrokerHeartbeatRequest {
            broker,
            incarnation,
            metadata_offset: c.log.len() as u64,
            want_shutdown: false,
        };
        c.handle_heartbeat(now, req, out);
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
    fn last_isr_member_stays_and_partition_goes_offline_without_unclean() {
        let (mut c, mut out) = controller(false);
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
            new_isr: isr,
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
