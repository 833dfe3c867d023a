//! One partition replica on one broker: its log, high watermark, and role.
//!
//! Leader rules (Kafka's `Partition.scala`):
//! * The high watermark is the minimum log end offset over the leader and every member of the
//!   *maximal* ISR (committed ISR plus a pending expansion, KIP-497), counting only followers that
//!   have fetched in the current leader epoch; it never moves back, and (KIP-966 strict min ISR)
//!   it does not move while the committed ISR is smaller than `min.insync.replicas`.
//! * A follower is caught up when it fetched the leader's log end offset; it leaves the ISR after
//!   `replica.lag.time.max.ms` without catching up (`lastCaughtUpTimeMs`).
//! * A follower joins the ISR when its log end offset reaches the high watermark and the start of
//!   the leader's epoch (so it holds everything the leader committed in earlier epochs).
//!
//! Follower rules: on becoming follower it truncates by the leader-epoch protocol (KIP-101 with
//! KIP-279's epoch in the answer), never to its high watermark, then fetches. Its high watermark is
//! `min(leader's high watermark, own log end offset)`.

use super::log::PartitionLog;
use crate::config::ProtocolSwitches;
use crate::protocol::message::BrokerState;
use crate::protocol::{BrokerId, ErrorCode, LeaderEpoch, Millis, TopicPartition, NO_EPOCH};
use std::collections::BTreeMap;

/// What the leader knows of one follower (Kafka's `Replica` state).
#[derive(Clone, Debug, Default)]
pub struct FollowerProgress {
    /// The follower's log end offset, known only after it fetched in this leader epoch.
    pub log_end_offset: Option<u64>,
    pub last_caught_up_ms: Millis,
    /// Time and leader LEO of the previous fetch (for Kafka's two-step caught-up rule).
    pub last_fetch_ms: Millis,
    pub last_fetch_leader_leo: u64,
    /// The broker epoch of the follower's latest fetch in this leader epoch (KIP-903's
    /// `ReplicaState.brokerEpoch`): which incarnation of the broker this progress belongs to.
    pub broker_epoch: Option<u64>,
}

/// An AlterPartition request in flight (Kafka's `PendingExpandIsr` / `PendingShrinkIsr`). A
/// retry sends exactly this ISR again, broker epochs included (Kafka's `sentLeaderAndIsr`).
#[derive(Clone, Debug)]
pub struct PendingIsr {
    pub new_isr_with_epochs: Vec<BrokerState>,
    pub correlation_id: u64,
}

impl PendingIsr {
    pub fn contains(&self, broker: BrokerId) -> bool {
        self.new_isr_with_epochs
            .iter()
            .any(|b| b.broker_id == broker)
    }
}

#[derive(Clone, Debug)]
pub struct LeaderState {
    /// The ISR the controller committed.
    pub isr: Vec<BrokerId>,
    pub replicas: Vec<BrokerId>,
    pub partition_epoch: i32,
    pub epoch_start_offset: u64,
    pub followers: BTreeMap<BrokerId, FollowerProgress>,
    pub pending: Option<PendingIsr>,
}

impl LeaderState {
    /// The ISR used for the high watermark: committed ISR plus a pending expansion.
    pub fn maximal_isr(&self) -> Vec<BrokerId> {
        let mut isr = self.isr.clone();
        if let Some(p) = &self.pending {
            for b in &p.new_isr_with_epochs {
                if !isr.contains(&b.broker_id) {
                    isr.push(b.broker_id);
                }
            }
        }
        isr
    }
}

/// Where a follower is in the leader-epoch protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowerPhase {
    /// Must ask the leader for the end offset of its latest epoch before fetching.
    Truncating {
        in_flight: bool,
    },
    Fetching,
}

#[derive(Clone, Debug)]
pub struct FollowerState {
    pub leader: Option<BrokerId>,
    pub phase: FollowerPhase,
    /// A failed fetch or lookup pauses this partition until then (`replica.fetch.backoff.ms`).
    pub backoff_until: Millis,
}

#[derive(Clone, Debug)]
pub enum Role {
    /// No metadata yet (just started): neither leads nor fetches.
    Unknown,
    Leader(LeaderState),
    Follower(FollowerState),
}

/// The replica of one partition on one broker.
#[derive(Clone, Debug)]
pub struct Replica {
    pub tp: TopicPartition,
    pub log: PartitionLog,
    pub high_watermark: u64,
    /// The last high watermark written to `replication-offset-checkpoint`.
    pub hw_checkpoint: u64,
    /// The latest leader epoch this broker has seen for the partition.
    pub leader_epoch: LeaderEpoch,
    pub role: Role,
}

/// What the leader should do after its state moved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HwChange {
    pub old: u64,
    pub new: u64,
}

impl Replica {
    pub fn new(tp: TopicPartition) -> Self {
        Replica {
            tp,
            log: PartitionLog::default(),
            high_watermark: 0,
            hw_checkpoint: 0,
            leader_epoch: NO_EPOCH,
            role: Role::Unknown,
        }
    }

    /// Kafka's `Partition.checkCurrentLeaderEpoch`, the one fencing check of every request that
    /// names the leader epoch it believes in (Fetch, ListOffsets, OffsetsForLeaderEpoch; KIP-320):
    /// an older epoch is FENCED_LEADER_EPOCH (the sender is behind), a newer one
    /// UNKNOWN_LEADER_EPOCH (this replica is behind), `NO_EPOCH` skips the check.
    pub fn check_current_leader_epoch(&self, current: LeaderEpoch) -> ErrorCode {
        if current == NO_EPOCH {
            ErrorCode::None
        } else if current < self.leader_epoch {
            ErrorCode::FencedLeaderEpoch
        } else if current > self.leader_epoch {
            ErrorCode::UnknownLeaderEpoch
        } else {
            ErrorCode::None
        }
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    pub fn leader_state(&self) -> Option<&LeaderState> {
        match &self.role {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    pub fn leader_state_mut(&mut self) -> Option<&mut LeaderState> {
        match &mut self.role {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    pub fn follower_state_mut(&mut self) -> Option<&mut FollowerState> {
        match &mut self.role {
            Role::Follower(f) => Some(f),
            _ => None,
        }
    }

    /// Becomes leader in `epoch` with the controller's ISR (Kafka's `makeLeader`): the epoch
    /// starts at the log end offset, and no follower's position is known until it fetches.
    pub fn make_leader(
        &mut self,
        now: Millis,
        epoch: LeaderEpoch,
        isr: Vec<BrokerId>,
        replicas: Vec<BrokerId>,
        partition_epoch: i32,
        me: BrokerId,
    ) {
        self.leader_epoch = epoch;
        self.log.assign_epoch(epoch);
        let followers = replicas
            .iter()
            .filter(|r| **r != me)
            .map(|r| {
                let caught_up = if isr.contains(r) { now } else { 0 };
                (
                    *r,
                    FollowerProgress {
                        last_caught_up_ms: caught_up,
                        ..FollowerProgress::default()
                    },
                )
            })
            .collect();
        let epoch_start_offset = self
            .log
            .epoch_start_offset(epoch)
            .unwrap_or(self.log.log_end_offset());
        self.role = Role::Leader(LeaderState {
            isr,
            replicas,
            partition_epoch,
            epoch_start_offset,
            followers,
            pending: None,
        });
    }

    /// Becomes follower of `leader` in `epoch` (Kafka's `makeFollower`), starting with the
    /// truncation phase unless told to skip it.
    pub fn make_follower(
        &mut self,
        epoch: LeaderEpoch,
        leader: Option<BrokerId>,
        phase: FollowerPhase,
    ) {
        self.leader_epoch = epoch;
        self.role = Role::Follower(FollowerState {
            leader,
            phase,
            backoff_until: 0,
        });
    }

    /// Records a fetch at `fetch_offset` by incarnation `broker_epoch` of `follower` (Kafka's
    /// `Replica.updateFetchStateOrThrow`, without the stale-epoch check, which needs the
    /// metadata image and is the broker's).
    pub fn record_follower_fetch(
        &mut self,
        now: Millis,
        follower: BrokerId,
        fetch_offset: u64,
        broker_epoch: Option<u64>,
    ) {
        let leo = self.log.log_end_offset();
        let Some(leader) = self.leader_state_mut() else {
            return;
        };
        let Some(p) = leader.followers.get_mut(&follower) else {
            return;
        };
        if fetch_offset >= leo {
            p.last_caught_up_ms = now;
        } else if fetch_offset >= p.last_fetch_leader_leo {
            p.last_caught_up_ms = p.last_caught_up_ms.max(p.last_fetch_ms);
        }
        p.log_end_offset = Some(fetch_offset);
        p.last_fetch_ms = now;
        p.last_fetch_leader_leo = leo;
        p.broker_epoch = broker_epoch;
    }

    /// The high watermark the leader may expose now, per the rules in the module doc (and the
    /// broken variants the switches ask for).
    pub fn candidate_high_watermark(&self, min_isr: u32, sw: &ProtocolSwitches) -> u64 {
        let Some(leader) = self.leader_state() else {
            return self.high_watermark;
        };
        let leo = self.log.log_end_offset();
        if sw.hw_ignores_followers {
            return leo;
        }
        if !sw.hw_ignores_min_isr && (leader.isr.len() as u32) < min_isr {
            return self.high_watermark;
        }
        if sw.hw_counts_lagging_replicas {
            return leader
                .followers
                .values()
                .filter_map(|p| p.log_end_offset)
                .fold(leo, u64::min);
        }
        leader
            .maximal_isr()
            .iter()
            .filter_map(|b| leader.followers.get(b))
            .map(|p| p.log_end_offset.unwrap_or(0))
            .fold(leo, u64::min)
    }

    /// Followers in the ISR that have not caught up for longer than `lag_max_ms`.
    pub fn out_of_sync_followers(&self, now: Millis, lag_max_ms: u64) -> Vec<BrokerId> {
        let Some(leader) = self.leader_state() else {
            return Vec::new();
        };
        leader
            .isr
            .iter()
            .filter(|b| {
                leader
                    .followers
                    .get(b)
                    .is_some_and(|p| now.saturating_sub(p.last_caught_up_ms) > lag_max_ms)
            })
            .copied()
            .collect()
    }

    /// Whether `follower`, not in the ISR, may join it (Kafka's `isFollowerInSync`).
    pub fn follower_may_join_isr(&self, follower: BrokerId) -> bool {
        let Some(leader) = self.leader_state() else {
            return false;
        };
        if leader.maximal_isr().contains(&follower) {
            return false;
        }
        let Some(leo) = leader
            .followers
            .get(&follower)
            .and_then(|p| p.log_end_offset)
        else {
            return false;
        };
        leo >= self.high_watermark && leo >= leader.epoch_start_offset
    }

    /// Truncates the log to `offset` and keeps the high watermark at or below it. Returns true
    /// when the log end offset moved.
    pub fn truncate_to(&mut self, offset: u64) -> bool {
        let before = self.log.log_end_offset();
        self.log.truncate_to(offset);
        self.high_watermark = self.high_watermark.min(self.log.log_end_offset());
        self.log.log_end_offset() != before
    }

    /// The truncation offset after an OffsetsForLeaderEpoch answer (Kafka's
    /// `AbstractFetcherThread.getOffsetTruncationState`). Returns `(offset, complete)`; when not
    /// complete the follower asks again with its new latest epoch (KIP-279).
    pub fn truncation_offset(
        &self,
        leader_epoch: LeaderEpoch,
        leader_end_offset: i64,
        kip101: bool,
    ) -> (u64, bool) {
        let leo = self.log.log_end_offset();
        if leader_end_offset < 0 {
            // The leader knows no such epoch: Kafka falls back to the high watermark.
            return (self.high_watermark.min(leo), true);
        }
        let leader_end = leader_end_offset as u64;
        if kip101 || leader_epoch == NO_EPOCH {
            return (leader_end.min(leo), true);
        }
        match self.log.end_offset_for_epoch(leader_epoch) {
            (_, None) => (leader_end.min(leo), true),
            (epoch, Some(end)) if epoch != leader_epoch => (end.min(leo), false),
            (_, Some(end)) => (end.min(leader_end).min(leo), true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{LogEntry, Payload, ProducedValue};

    fn entries(epochs: &[LeaderEpoch]) -> Vec<LogEntry> {
        epochs
            .iter()
            .enumerate()
            .map(|(i, e)| LogEntry {
                epoch: *e,
                append_time_ms: 0,
                payload: Payload::Data {
                    value: ProducedValue {
                        producer: 1,
                        seq: i as u64,
                    },
                    key: None,
                },
            })
            .collect()
    }

    fn sw(hw_ignores_min_isr: bool, hw_ignores_followers: bool) -> ProtocolSwitches {
        ProtocolSwitches {
            hw_ignores_min_isr,
            hw_ignores_followers,
            ..ProtocolSwitches::default()
        }
    }

    fn leader(isr: Vec<BrokerId>) -> Replica {
        let mut r = Replica::new(TopicPartition::new("t", 0));
        r.make_leader(0, 1, isr, vec![1, 2, 3], 0, 1);
        r
    }

    #[test]
    fn hw_is_min_over_isr_and_waits_for_unknown_followers() {
        let mut r = leader(vec![1, 2, 3]);
        r.log.append(entries(&[1, 1, 1, 1]));
        assert_eq!(
            r.candidate_high_watermark(1, &sw(false, false)),
            0,
            "followers not fetched yet"
        );
        r.record_follower_fetch(10, 2, 4, Some(0));
        r.record_follower_fetch(10, 3, 2, Some(0));
        assert_eq!(r.candidate_high_watermark(1, &sw(false, false)), 2);
        assert_eq!(
            r.candidate_high_watermark(1, &sw(false, true)),
            4,
            "broken variant ignores followers"
        );
    }

    #[test]
    fn strict_min_isr_holds_the_hw() {
        let mut r = leader(vec![1]);
        r.log.append(entries(&[1, 1]));
        assert_eq!(r.candidate_high_watermark(2, &sw(false, false)), 0);
        assert_eq!(
            r.candidate_high_watermark(2, &sw(true, false)),
            2,
            "pre-KIP-966 advances anyway"
        );
    }

    #[test]
    fn lagging_follower_leaves_and_caught_up_follower_joins() {
        let mut r = leader(vec![1, 2]);
        r.log.append(entries(&[1, 1]));
        r.record_follower_fetch(100, 2, 0, Some(0));
        assert_eq!(
            r.out_of_sync_followers(100 + 5000, 10_000),
            Vec::<BrokerId>::new()
        );
        assert_eq!(r.out_of_sync_followers(100 + 10_001, 10_000), vec![2]);
        r.record_follower_fetch(200, 3, 2, Some(0));
        assert!(r.follower_may_join_isr(3));
        assert!(!r.follower_may_join_isr(2), "already in the ISR");
    }

    #[test]
    fn kip279_truncation_walks_back_through_unknown_epochs() {
        // S3: follower B has [e0? no: e1 at 0]; leader A answers for epoch 1 with (0, 1).
        let mut b = Replica::new(TopicPartition::new("t", 0));
        b.log.append(entries(&[1]));
        // Leader knows epochs 0 and 2 only: largest ≤ 1 is 0, ending at 1.
        assert_eq!(
            b.truncation_offset(0, 1, false),
            (0, true),
            "B's epoch-0 end is 0"
        );
        assert_eq!(
            b.truncation_offset(NO_EPOCH, 1, true),
            (1, true),
            "KIP-101 keeps the divergent m1"
        );
        let mut c = Replica::new(TopicPartition::new("t", 0));
        c.log.append(entries(&[0, 0, 3, 3]));
        assert_eq!(
            c.truncation_offset(2, 5, false),
            (2, false),
            "ask again from epoch 0's end"
        );
        assert_eq!(c.truncation_offset(3, 3, false), (3, true));
        assert_eq!(
            c.truncation_offset(3, -1, false),
            (0, true),
            "undefined → high watermark"
        );
    }
}
