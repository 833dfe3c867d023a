//! Ghost state: what the checkers know about the cluster, rebuilt from the history alone
//! (never read from a node). Each replica's log, high watermark and role; the controller's
//! committed partition states; which nodes run; the true high watermark (Vanlightly's
//! `inv_true_hwm`); the acknowledged acks=all writes; client progress.

use crate::config::CrashMode;
use crate::history::{Event, EventKind};
use crate::protocol::message::{Acks, PartitionState};
use crate::protocol::{BrokerId, LeaderEpoch, NodeId, Payload, ProducedValue, TopicPartition};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One log entry as the checkers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GhostEntry {
    pub epoch: LeaderEpoch,
    pub value: ProducedValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GhostRole {
    Unknown,
    Leader {
        epoch: LeaderEpoch,
        epoch_start: u64,
    },
    Follower {
        epoch: LeaderEpoch,
    },
}

#[derive(Clone, Debug)]
pub struct GhostReplica {
    pub log_start: u64,
    pub entries: VecDeque<GhostEntry>,
    pub high_watermark: u64,
    pub role: GhostRole,
}

impl Default for GhostReplica {
    fn default() -> Self {
        GhostReplica {
            log_start: 0,
            entries: VecDeque::new(),
            high_watermark: 0,
            role: GhostRole::Unknown,
        }
    }
}

impl GhostReplica {
    pub fn log_end(&self) -> u64 {
        self.log_start + self.entries.len() as u64
    }

    pub fn entry(&self, offset: u64) -> Option<GhostEntry> {
        let i = offset.checked_sub(self.log_start)?;
        self.entries.get(i as usize).copied()
    }
}

/// The checkers' shared picture of the run.
#[derive(Debug, Default)]
pub struct Ghost {
    pub replicas: BTreeMap<TopicPartition, BTreeMap<BrokerId, GhostReplica>>,
    pub controller: BTreeMap<TopicPartition, PartitionState>,
    pub down: BTreeSet<NodeId>,
    /// Brokers restarted after a power loss, per partition, until the controller re-admits them
    /// to that partition's ISR (Vanlightly's "unclean exclusion").
    pub unclean: BTreeSet<(TopicPartition, BrokerId)>,
    /// Brokers that lost power and whose next process has not registered with the controller
    /// yet. Until it does, the controller still acts on what the old process told it (a
    /// heartbeat still on the wire can unfence it and an ELR election can name it), and the new
    /// process cannot act on that: Kafka's `BrokerLifecycleManager` registers first, which makes
    /// the controller fence it and drop it from the ELR (KIP-966), and the broker publishes
    /// metadata only once caught up past its registration. An ISR that names such a broker ends
    /// no unclean exclusion.
    pub unregistered_after_power_loss: BTreeSet<BrokerId>,
    pub true_high_watermark: BTreeMap<TopicPartition, u64>,
    /// acks=all acknowledged writes: offset → value.
    pub acked: BTreeMap<TopicPartition, BTreeMap<u64, ProducedValue>>,
    /// Batches sent and not yet resolved, per producer.
    pub outstanding: BTreeMap<u32, i64>,
    /// Next offset each reader will read, per partition.
    pub reader_position: BTreeMap<(u32, TopicPartition), u64>,
    pub groups: super::group_ghost::GroupGhost,
    pub stats: Stats,
}

/// Counters reported with every run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub produced: u64,
    pub acked: u64,
    pub consumed: u64,
    pub committed: u64,
    pub rebalances: u64,
}

/// The value a payload carries, for comparisons.
pub fn value_of(p: &Payload) -> ProducedValue {
    p.value()
}

impl Ghost {
    pub fn replica(&self, tp: &TopicPartition, b: BrokerId) -> Option<&GhostReplica> {
        self.replicas.get(tp)?.get(&b)
    }

    /// The lowest log start among the partition's replicas. Below it no replica holds anything
    /// or can serve it again (log starts only move forward), so checkers may forget it.
    pub fn lowest_log_start(&self, tp: &TopicPartition) -> u64 {
        self.replicas
            .get(tp)
            .and_then(|r| r.values().map(|x| x.log_start).min())
            .unwrap_or(0)
    }

    fn replica_mut(&mut self, tp: &TopicPartition, b: BrokerId) -> &mut GhostReplica {
        self.replicas
            .entry(tp.clone())
            .or_default()
            .entry(b)
            .or_default()
    }

    pub fn is_running(&self, node: NodeId) -> bool {
        !self.down.contains(&node)
    }

    /// Whether `node` is the true coordinator of `group`: the true leader of the group's
    /// `__consumer_offsets` partition or, while the controller names no leader for it, the
    /// replica still leading it at the newest epoch (a fenced leader that has not heard yet: it
    /// is the only one deciding for the group, and a later leader that loads the group announces
    /// its own view). A leader the controller has named again, at a newer epoch it has not heard
    /// of yet, still decides too: what it appends meanwhile stays, because the new epoch starts
    /// at its own log end (Kafka's `Partition.makeLeader` keeps the whole log of a re-elected
    /// leader), and it keeps the group it has loaded.
    pub fn is_true_coordinator(&self, group: &str, node: NodeId) -> bool {
        let n = self
            .controller
            .keys()
            .filter(|tp| tp.topic() == crate::protocol::CONSUMER_OFFSETS)
            .count() as u32;
        if n == 0 {
            return false;
        }
        let tp = TopicPartition::new(
            crate::protocol::CONSUMER_OFFSETS,
            crate::protocol::offsets_partition_for(group, n),
        );
        let NodeId::Broker(b) = node else {
            return false;
        };
        let Some(named) = self.controller.get(&tp) else {
            return false;
        };
        let re_elected = named.leader == Some(b)
            && self.is_running(node)
            && self.replica(&tp, b).is_some_and(
                |r| matches!(r.role, GhostRole::Leader { epoch, .. } if epoch < named.leader_epoch),
            );
        self.true_leader(&tp) == Some(b)
            || re_elected
            || (named.leader.is_none() && self.newest_acting_leader(&tp) == Some(b))
    }

    /// The running replica of `tp` that leads at the newest epoch, if exactly one does.
    fn newest_acting_leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        let leading: Vec<(LeaderEpoch, BrokerId)> = self
            .replicas
            .get(tp)?
            .iter()
            .filter(|(b, _)| self.is_running(NodeId::Broker(**b)))
            .filter_map(|(b, r)| match r.role {
                GhostRole::Leader { epoch, .. } => Some((epoch, *b)),
                _ => None,
            })
            .collect();
        let (newest, b) = *leading.iter().max()?;
        let alone = leading.iter().filter(|(e, _)| *e == newest).count() == 1;
        alone.then_some(b)
    }

    /// The true leader of `tp`: named by the controller and itself leading in that epoch.
    pub fn true_leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        let s = self.controller.get(tp)?;
        let l = s.leader?;
        match self.replica(tp, l)?.role {
            GhostRole::Leader { epoch, .. }
                if epoch == s.leader_epoch && self.is_running(NodeId::Broker(l)) =>
            {
                Some(l)
            }
            _ => None,
        }
    }

    /// Applies one event.
    pub fn apply(&mut self, ev: &Event) {
        let from_true_coordinator = match &ev.kind {
            EventKind::GroupState { group, .. } | EventKind::CommitApplied { group, .. } => {
                self.is_true_coordinator(group, ev.node)
            }
            _ => false,
        };
        self.groups.apply(ev, from_true_coordinator);
        match &ev.kind {
            EventKind::Processed { values, .. } => self.stats.consumed += values.len() as u64,
            EventKind::CommitApplied { offsets, .. } => {
                self.stats.committed += offsets.len() as u64
            }
            EventKind::GroupState { state, .. } if state == "CompletingRebalance" => {
                self.stats.rebalances += 1
            }
            _ => {}
        }
        let broker = match ev.node {
            NodeId::Broker(b) => Some(b),
            _ => None,
        };
        match (&ev.kind, broker) {
            (EventKind::Crashed { mode }, _) => self.on_crash(ev.node, *mode),
            (EventKind::Restarted, _) => {
                self.down.remove(&ev.node);
            }
            (EventKind::BrokerRegistered { broker, .. }, _) => {
                self.unregistered_after_power_loss.remove(broker);
            }
            (
                EventKind::Appended {
                    tp,
                    base_offset,
                    entries,
                },
                Some(b),
            ) => {
                let r = self.replica_mut(tp, b);
                // Appends continue the log; anything else means the log was reset under us.
                if *base_offset > r.log_end() {
                    r.entries.clear();
                    r.log_start = *base_offset;
                } else if *base_offset < r.log_end() {
                    r.entries
                        .truncate(base_offset.saturating_sub(r.log_start) as usize);
                }
                r.entries.extend(entries.iter().map(|e| GhostEntry {
                    epoch: e.epoch,
                    value: value_of(&e.payload),
                }));
            }
            (
                EventKind::Truncated {
                    tp, log_end_offset, ..
                },
                Some(b),
            ) => {
                let r = self.replica_mut(tp, b);
                let keep = log_end_offset.saturating_sub(r.log_start) as usize;
                r.entries.truncate(keep);
                r.high_watermark = r.high_watermark.min(r.log_end());
            }
            (
                EventKind::LogStartMoved {
                    tp,
                    log_start_offset,
                },
                Some(b),
            ) => {
                let r = self.replica_mut(tp, b);
                let drop = log_start_offset
                    .saturating_sub(r.log_start)
                    .min(r.entries.len() as u64) as usize;
                r.entries.drain(..drop);
                r.log_start = r.log_start.max(*log_start_offset);
                let lowest = self.lowest_log_start(tp);
                if let Some(acked) = self.acked.get_mut(tp) {
                    *acked = acked.split_off(&lowest);
                }
            }
            (EventKind::HighWatermark { tp, high_watermark }, Some(b)) => {
                self.replica_mut(tp, b).high_watermark = *high_watermark;
                self.update_true_hw(tp);
            }
            (
                EventKind::BecameLeader {
                    tp,
                    leader_epoch,
                    epoch_start_offset,
                    ..
                },
                Some(b),
            ) => {
                self.replica_mut(tp, b).role = GhostRole::Leader {
                    epoch: *leader_epoch,
                    epoch_start: *epoch_start_offset,
                };
                self.update_true_hw(tp);
            }
            (
                EventKind::BecameFollower {
                    tp, leader_epoch, ..
                },
                Some(b),
            ) => {
                self.replica_mut(tp, b).role = GhostRole::Follower {
                    epoch: *leader_epoch,
                };
            }
            (EventKind::PartitionChanged { state, .. }, _) => self.on_partition_change(state),
            _ => self.apply_client(ev),
        }
    }

    fn apply_client(&mut self, ev: &Event) {
        match (&ev.kind, ev.node) {
            (EventKind::Sent { values, .. }, NodeId::Producer(p)) => {
                *self.outstanding.entry(p).or_default() += 1;
                self.stats.produced += values.len() as u64;
            }
            (
                EventKind::Acked {
                    tp,
                    acks,
                    base_offset,
                    values,
                },
                NodeId::Producer(p),
            ) => {
                *self.outstanding.entry(p).or_default() -= 1;
                self.stats.acked += values.len() as u64;
                if *acks == Acks::All {
                    let acked = self.acked.entry(tp.clone()).or_default();
                    for (i, v) in values.iter().enumerate() {
                        acked.insert(base_offset + i as u64, *v);
                    }
                }
            }
            (EventKind::SendFailed { .. }, NodeId::Producer(p)) => {
                *self.outstanding.entry(p).or_default() -= 1;
            }
            (
                EventKind::Polled {
                    tp,
                    base_offset,
                    values,
                    ..
                },
                NodeId::Reader(r),
            ) => {
                self.stats.consumed += values.len() as u64;
                self.reader_position
                    .insert((r, tp.clone()), base_offset + values.len() as u64);
            }
            (EventKind::PositionReset { tp, offset, .. }, NodeId::Reader(r)) => {
                self.reader_position.insert((r, tp.clone()), *offset);
            }
            _ => {}
        }
    }

    fn on_crash(&mut self, node: NodeId, mode: CrashMode) {
        self.down.insert(node);
        let NodeId::Broker(b) = node else { return };
        for (tp, reps) in self.replicas.iter_mut() {
            if let Some(r) = reps.get_mut(&b) {
                r.role = GhostRole::Unknown;
                if mode == CrashMode::PowerLoss {
                    self.unclean.insert((tp.clone(), b));
                }
            }
        }
        if mode == CrashMode::PowerLoss {
            self.unregistered_after_power_loss.insert(b);
        }
    }

    fn on_partition_change(&mut self, state: &PartitionState) {
        let before: Vec<BrokerId> = self
            .controller
            .get(&state.tp)
            .map(|s| s.isr.clone())
            .unwrap_or_default();
        for b in state.isr.iter().filter(|b| !before.contains(b)) {
            if !self.unregistered_after_power_loss.contains(b) {
                self.unclean.remove(&(state.tp.clone(), *b));
            }
        }
        self.controller.insert(state.tp.clone(), state.clone());
        self.update_true_hw(&state.tp);
    }

    /// The true high watermark grows with the high watermark a true leader exposes once it has
    /// reached the start of its epoch (an "applied" HW, Vanlightly §6.4 / KIP-207).
    fn update_true_hw(&mut self, tp: &TopicPartition) {
        let Some(l) = self.true_leader(tp) else {
            return;
        };
        let r = self.replica(tp, l).expect("true leader has a replica");
        let GhostRole::Leader { epoch_start, .. } = r.role else {
            return;
        };
        if r.high_watermark >= epoch_start {
            let hw = r.high_watermark;
            let t = self.true_high_watermark.entry(tp.clone()).or_default();
            *t = (*t).max(hw);
        }
    }

    /// The applied high watermark of `tp`'s true leader, if it has one.
    pub fn applied_leader_hw(&self, tp: &TopicPartition) -> Option<(BrokerId, u64)> {
        let l = self.true_leader(tp)?;
        let r = self.replica(tp, l)?;
        match r.role {
            GhostRole::Leader { epoch_start, .. } if r.high_watermark >= epoch_start => {
                Some((l, r.high_watermark))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ghost;
    use crate::history::{Event, EventKind};
    use crate::protocol::message::PartitionState;
    use crate::protocol::{NodeId, TopicPartition, CONSUMER_OFFSETS};

    fn at(node: NodeId, kind: EventKind) -> Event {
        Event {
            at_us: 0,
            node,
            kind,
        }
    }

    /// The controller names `leader` for `__consumer_offsets-0` at `epoch`.
    fn named(leader: Option<u32>, epoch: i32) -> Event {
        let state = PartitionState {
            tp: TopicPartition::new(CONSUMER_OFFSETS, 0),
            replicas: vec![1, 2],
            leader,
            leader_epoch: epoch,
            isr: leader.into_iter().collect(),
            partition_epoch: epoch,
            elr: Vec::new(),
            last_known_elr: Vec::new(),
        };
        at(
            NodeId::Controller,
            EventKind::PartitionChanged {
                state,
                reason: String::new(),
                unclean_election: false,
            },
        )
    }

    fn leads(broker: u32, epoch: i32) -> Event {
        at(
            NodeId::Broker(broker),
            EventKind::BecameLeader {
                tp: TopicPartition::new(CONSUMER_OFFSETS, 0),
                leader_epoch: epoch,
                epoch_start_offset: 0,
                isr: vec![broker],
            },
        )
    }

    /// Seed 1000054 of group-static-crash: b1 leads the offsets partition at epoch 3; a paused
    /// controller fences every broker and names b1 again at epoch 5. Until b1 hears, it still
    /// applies commits, and they stay (the new epoch starts at its own log end), so it is the
    /// group's coordinator. b2, which the controller never named, is not.
    #[test]
    fn a_re_elected_leader_that_has_not_heard_still_coordinates() {
        let mut g = Ghost::default();
        for e in [named(Some(1), 3), leads(1, 3)] {
            g.apply(&e);
        }
        assert!(g.is_true_coordinator("g", NodeId::Broker(1)));
        g.apply(&named(None, 4));
        assert!(
            g.is_true_coordinator("g", NodeId::Broker(1)),
            "leaderless: b1 acts"
        );
        g.apply(&named(Some(1), 5));
        assert!(g.is_true_coordinator("g", NodeId::Broker(1)), "named again");
        assert!(!g.is_true_coordinator("g", NodeId::Broker(2)));
        g.apply(&named(Some(2), 6));
        assert!(
            !g.is_true_coordinator("g", NodeId::Broker(1)),
            "another broker named: b1's later appends are truncated"
        );
    }
}
